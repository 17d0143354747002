"""Time the admin pages and reports on the scale dataset, tuned and naive (the
benchmark half of ``make bench``; ``generate_scale_data`` makes the data)."""

import json
import os
import time
import warnings
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import override_settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from iopclinic.benchmark.measure import (
    big_tables,
    cpu_check,
    measure,
    naive_configuration,
)
from iopclinic.benchmark.pages import admin_pages, pick_records, report_pages
from iopclinic.benchmark.report import Run, key, render
from iopclinic.scale.world import MANAGER, SUPERUSER

DEFAULT_OUTPUT = Path(settings.BASE_DIR) / "bench" / "results.md"


class Command(BaseCommand):
    help = (
        "Time the heaviest admin pages and the reports on a generate_scale_data "
        "database, tuned and naive, and write bench/results.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
        parser.add_argument(
            "--queries-only",
            metavar="JSON",
            type=Path,
            help="Only count each page's queries (one request) and write them here "
            "(for the demo-sized dataset).",
        )
        parser.add_argument(
            "--compare",
            metavar="JSON",
            type=Path,
            help="Query counts from a --queries-only run, shown beside these.",
        )
        parser.add_argument(
            "--no-naive", action="store_true", help="Skip the naive configuration."
        )

    def handle(
        self,
        *args: Any,
        output: Path,
        queries_only: Path | None,
        compare: Path | None,
        no_naive: bool,
        **options: Any,
    ) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("run_bench measures a PostgreSQL database.")
        User = get_user_model()
        users = {
            role: User.objects.filter(username=username).first()
            for role, username in (("superuser", SUPERUSER), ("manager", MANAGER))
        }
        if None in users.values():
            raise CommandError(
                "No generated dataset here: run generate_scale_data first."
            )
        # Measure the database as autovacuum keeps it in production. A migration that
        # rewrote a table (a new column, say) leaves it without statistics until
        # autovacuum comes round, and the planner would guess. Every request of every
        # run updates the bench's session row, and with autovacuum off (this project's
        # CI server turns it off) dead versions pile up in django_session: 10,500
        # after four runs, and that run was slower on every page.
        # VACUUM cannot run inside a transaction (a test's): there, ANALYZE alone.
        with connection.cursor() as cursor:
            cursor.execute(
                "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            )
        started = time.perf_counter()
        load_before = os.getloadavg()
        records = pick_records()
        pages = admin_pages(records)
        reports, note = report_pages(records)
        pages += reports
        watched = big_tables()
        clients = {}
        # As the tests do: the in-process client asks for "testserver", and static
        # files are served from the apps rather than collectstatic's hashed copies.
        plain_static = {
            **settings.STORAGES,
            "staticfiles": {
                "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
            },
        }
        warnings.filterwarnings("ignore", "No directory at", UserWarning)
        with override_settings(ALLOWED_HOSTS=["testserver"], STORAGES=plain_static):
            for role, user in users.items():
                clients[role] = signed_in(user)
            if queries_only:
                counts = {}
                for page in pages:
                    result = measure(clients[page.user], page, watched=watched,
                                     explain=False, runs=1)  # fmt: skip
                    self.require_page(result)
                    counts[key(result)] = result.queries
                queries_only.parent.mkdir(parents=True, exist_ok=True)
                queries_only.write_text(json.dumps(counts, indent=1) + "\n")
                self.stdout.write(f"Query counts of {len(counts)} pages written.")
                return
            run = Run(tuned=[], notes=[note] if note else [], cpu_check_ms=cpu_check())
            self.stdout.write(f"Tuned: {len(pages)} pages")
            for page in pages:
                result = measure(clients[page.user], page, watched=watched)
                self.require_page(result)
                run.tuned.append(result)
                self.progress(result)
            if not no_naive:
                self.stdout.write("Naive:")
                with naive_configuration() as dropped:
                    run.dropped_indexes = dropped
                    for page in pages:
                        result = measure(
                            clients[page.user], page, watched=watched, explain=False
                        )
                        run.naive[key(result)] = result
                        self.progress(result)
        if compare and compare.exists():
            run.demo_queries = json.loads(compare.read_text())
        run.load_before, run.load_after = load_before, os.getloadavg()
        run.cpu_check_ms += cpu_check()
        run.seconds = time.perf_counter() - started
        text = render(run)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
        self.stdout.write("")
        self.stdout.write(text)
        self.stdout.write(f"Written to {output}.")

    def require_page(self, result: Any) -> None:
        """An error page or a redirect measures nothing: stop and say which."""
        if result.status != 200:
            raise CommandError(
                f"{key(result)} ({result.page.url}) answered {result.status}."
            )

    def progress(self, result: Any) -> None:
        flags = sorted(result.seq_scans | result.whole_counts)
        self.stdout.write(
            f"  {key(result):<58} {result.ms:8.1f} ms {result.queries:4} q"
            + (f"  flags: {', '.join(flags)}" if flags else "")
        )
        self.stdout.flush()


def signed_in(user: Any) -> Client:
    """A test client signed in as production signs in: the password, then the second
    factor (a confirmed authenticator of the bench's own), so every page is measured
    through the two-factor middleware."""
    client = Client()
    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="make bench", defaults={"confirmed": True}
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
