from typing import Any

from django.core.management.base import BaseCommand

from iopclinic.reports.rollups import refresh_rollups


class Command(BaseCommand):
    help = (
        "Rebuild the rollup tables the attendance report reads (run nightly); "
        "safe to repeat."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for table, rows in refresh_rollups().items():
            self.stdout.write(f"{table}: {rows} rows")
