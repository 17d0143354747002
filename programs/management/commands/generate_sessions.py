import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from programs.workflows import generate_sessions


class Command(BaseCommand):
    help = (
        "Create group sessions from each active track's weekly schedule (repeatable)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", type=datetime.date.fromisoformat)
        parser.add_argument("--days", type=int, default=14, help="How many days ahead.")

    def handle(
        self, *args: Any, start: datetime.date | None, days: int, **options: Any
    ) -> None:
        start = start or timezone.localdate()
        end = start + datetime.timedelta(days=days - 1)
        created = generate_sessions(start=start, end=end)
        self.stdout.write(f"{created} session(s) created from {start} to {end}.")
