from typing import Any

from django.core.management.base import BaseCommand

from programs.workflows import expire_stale_offers


class Command(BaseCommand):
    help = "Expire seat offers past their expiry and free their seats (safe to repeat)."

    def handle(self, *args: Any, **options: Any) -> None:
        count = expire_stale_offers()
        self.stdout.write(f"{count} offer(s) expired.")
