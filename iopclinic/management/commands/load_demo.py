"""Demo logins (one per role) and generated demo records, for the local demo only."""

import random
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from discharge.models import DischargePlan
from intake.models import Client, Inquiry, WaitlistEntry
from iopclinic import demo, roles
from iopclinic.reports.rollups import refresh_rollups
from programs.models import Assessment, Enrollment, GroupSession, TreatmentPlan

DEMO_PASSWORD = "demo-clinic-2026"

# username -> (full name, role; None for the superuser)
DEMO_USERS: dict[str, tuple[str, str | None]] = {
    "admin": ("Avery Admin", None),
    "intake": ("Imani Intake", roles.INTAKE_COORDINATOR),
    "therapist": ("Theo Therapist", roles.THERAPIST),
    "therapist2": ("Tess Therapist", roles.THERAPIST),
    "psychiatrist": ("Priya Psychiatrist", roles.PSYCHIATRIST),
    "manager": ("Morgan Manager", roles.PROGRAM_MANAGER),
    "privacy": ("Pat Privacy", roles.PRIVACY_OFFICER),
}


class Command(BaseCommand):
    help = "Create the demo logins and demo records (DEBUG only; safe to repeat)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026, help="Random seed.")
        parser.add_argument(
            "--clients", type=int, default=40, help="Clients from earlier years."
        )
        parser.add_argument(
            "--inquiries", type=int, default=300, help="Inquiries over 4 months."
        )

    def handle(
        self, *args: Any, seed: int, clients: int, inquiries: int, **options: Any
    ) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "Demo logins and data are only created with DEBUG on: they must never "
                "reach a database that holds real client records."
            )
        roles.sync_roles()
        rng = random.Random(seed)
        with transaction.atomic():
            self.create_users()
            if Client.objects.exists():
                self.stdout.write("Demo records already loaded; logins refreshed.")
            else:
                User = get_user_model()
                coordinator = User.objects.get(username="intake")
                therapist = User.objects.get(username="therapist")
                tracks = demo.create_programs(facilitator=therapist)
                returning = demo.create_returning_clients(rng, clients)
                to_admit = demo.create_inquiries(
                    rng,
                    inquiries,
                    coordinator=coordinator,
                    clinician=therapist,
                    returning=returning,
                )
                demo.seat_clients(
                    rng,
                    to_admit,
                    tracks,
                    coordinator=coordinator,
                    therapist=therapist,
                    psychiatrist=User.objects.get(username="psychiatrist"),
                )
                demo.run_sessions(rng, by=therapist)
                therapists = [therapist, User.objects.get(username="therapist2")]
                demo.share_caseload(therapists)
                demo.write_treatment_plans(
                    rng,
                    therapists=therapists,
                    psychiatrist=User.objects.get(username="psychiatrist"),
                )
                demo.record_outcomes(rng, by=therapist)
                demo.plan_upcoming_discharges(rng, by=therapist)
                demo.create_audit_history(
                    rng,
                    therapists=therapists,
                    manager=User.objects.get(username="manager"),
                    privacy=User.objects.get(username="privacy"),
                )
                # The attendance report reads rollups, rebuilt nightly in production.
                refresh_rollups()
                self.stdout.write(
                    f"Demo records created: {Client.objects.count()} clients, "
                    f"{Inquiry.objects.count()} inquiries, "
                    f"{Enrollment.objects.open().count()} in treatment, "
                    f"{GroupSession.objects.count()} group sessions, "
                    f"{TreatmentPlan.objects.count()} treatment plans, "
                    f"{Assessment.objects.count()} PHQ-9 / GAD-7 scores, "
                    f"{DischargePlan.objects.count()} discharge plans, "
                    f"{WaitlistEntry.objects.waiting().count()} waiting for a seat."
                )
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
