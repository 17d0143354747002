"""Demo logins (one per role) and generated demo records, for the local demo only."""

import datetime
import random
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from intake.models import Client
from iopclinic import roles

DEMO_PASSWORD = "demo-clinic-2026"

# username -> (full name, role; None for the superuser)
DEMO_USERS: dict[str, tuple[str, str | None]] = {
    "admin": ("Avery Admin", None),
    "intake": ("Imani Intake", roles.INTAKE_COORDINATOR),
    "therapist": ("Theo Therapist", roles.THERAPIST),
    "psychiatrist": ("Priya Psychiatrist", roles.PSYCHIATRIST),
    "manager": ("Morgan Manager", roles.PROGRAM_MANAGER),
}

# Invented names: the demo never holds a real person.
FIRST_NAMES = [
    "Alex", "Blake", "Casey", "Dana", "Eli", "Frankie", "Gray", "Harper", "Indy",
    "Jules", "Kai", "Lane", "Micah", "Noor", "Oakley", "Parker", "Quinn", "Rowan",
    "Sage", "Tatum",
]  # fmt: skip
LAST_NAMES = [
    "Abernathy", "Brightwater", "Castellan", "Delacroix", "Everhart", "Fairweather",
    "Goldfinch", "Hollowell", "Ironwood", "Juniper", "Kestrel", "Larkspur",
    "Merriweather", "Nightingale", "Oakhaven", "Pembrook", "Quill", "Ravensworth",
    "Silverbirch", "Thistle",
]  # fmt: skip


class Command(BaseCommand):
    help = "Create the demo logins and demo records (DEBUG only; safe to repeat)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026, help="Random seed.")
        parser.add_argument("--clients", type=int, default=60, help="Demo clients.")

    def handle(self, *args: Any, seed: int, clients: int, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "Demo logins and data are only created with DEBUG on: they must never "
                "reach a database that holds real client records."
            )
        roles.sync_roles()
        with transaction.atomic():
            self.create_users()
            created = self.create_clients(random.Random(seed), clients)
        self.stdout.write(f"Demo clients created: {created}")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, (_, role) in DEMO_USERS.items():
            self.stdout.write(f"  {username:<13} {role or 'Superuser'}")

    def create_users(self) -> None:
        User = get_user_model()
        for username, (full_name, role) in DEMO_USERS.items():
            first_name, last_name = full_name.split()
            user, _ = User.objects.update_or_create(
                username=username,
                defaults={
                    "first_name": first_name,
                    "last_name": last_name,
                    "email": f"{username}@demo.invalid",
                    "is_staff": True,
                    "is_superuser": role is None,
                    "is_active": True,
                },
            )
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            user.groups.set(Group.objects.filter(name=role) if role else [])

    def create_clients(self, rng: random.Random, count: int) -> int:
        if Client.objects.exists():
            return 0
        today = datetime.date.today()
        for _ in range(count):
            age_days = rng.randint(18 * 365, 75 * 365)
            Client.objects.create(
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                date_of_birth=today - datetime.timedelta(days=age_days),
                phone=f"555-01{rng.randint(0, 99):02d}",
                email="",
            )
        return count
