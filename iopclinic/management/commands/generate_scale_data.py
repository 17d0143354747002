"""Fill an empty PostgreSQL database with a ten-year, multi-site dataset for the
benchmarks (``make bench``); never a database that holds real records."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from intake.models import Client, Inquiry
from iopclinic import scale
from iopclinic.scale.world import SUPERUSER
from programs.models import Program

# After this many days a reused dataset's "today" (sessions, open episodes) is stale.
STALE_DAYS = 30


class Command(BaseCommand):
    help = (
        "Generate a multi-site clinic's ten years of records (PostgreSQL only, empty "
        "database only): ~50,000 clients, ~60,000 enrollments, ~5M attendance rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--clients", type=int, default=50_000, help="Clients (default 50000)."
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=scale.DEFAULT_SEED,
            help="Random seed: the same seed on the same day makes the same data.",
        )
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="If a generated dataset is already there, keep it and exit quietly.",
        )
        parser.add_argument(
            "--i-know-this-is-not-production",
            action="store_true",
            dest="not_production",
            help="Allow running with DEBUG off (the benchmark database).",
        )

    def handle(
        self,
        *args: Any,
        clients: int,
        seed: int,
        reuse: bool,
        not_production: bool,
        **options: Any,
    ) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "generate_scale_data loads with PostgreSQL's COPY and needs the "
                "PostgreSQL schema (triggers, trigram indexes); this database is "
                f"{connection.vendor}. Point DATABASE_URL at an empty PostgreSQL "
                "database."
            )
        if not (settings.DEBUG or not_production):
            raise CommandError(
                "Invented records are only generated with DEBUG on, or with "
                "--i-know-this-is-not-production for a benchmark database: they must "
                "never reach a database that holds real client records."
            )
        if clients < 100:
            raise CommandError("Give --clients 100 or more.")
        marker = get_user_model().objects.filter(username=SUPERUSER).first()
        generated = marker is not None
        if Client.objects.exists() or Inquiry.objects.exists():
            if reuse and marker is not None:
                made = timezone.localdate(marker.date_joined)
                self.stdout.write(
                    f"Generated dataset already there ({Client.objects.count():,} "
                    f"clients, made {made:%Y-%m-%d}): reused."
                )
                if (timezone.localdate() - made).days > STALE_DAYS:
                    self.stdout.write(
                        "Its dates are relative to the day it was made: drop the "
                        "database to generate a current one."
                    )
                return
            raise CommandError(
                "This database already holds clients or inquiries"
                + ("" if generated else " that this command did not generate")
                + ": generate_scale_data only fills an empty database."
            )
        if Program.objects.exists() or generated:
            raise CommandError(
                "This database already has programs or generated staff: "
                "generate_scale_data only fills an empty database."
            )
        self.stdout.write(f"Generating {clients:,} clients (seed {seed}):")
        phases = scale.generate(clients=clients, seed=seed, out=self.stdout)
        self.stdout.write("Rows:")
        for name, count in phases.counts.items():
            self.stdout.write(f"  {name:<28} {count:>12,}")
        self.stdout.write(f"Done in {phases.total:.0f} s.")
