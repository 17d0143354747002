from typing import Any

from django.core.management.base import BaseCommand

from iopclinic.roles import sync_roles


class Command(BaseCommand):
    help = (
        "Create or update the staff roles (groups) and their permissions; "
        "safe to repeat."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for role, count in sync_roles().items():
            self.stdout.write(f"{role}: {count} permissions")
