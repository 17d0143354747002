from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


class ClinicAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the clinic's branded site as the default site.

    Apps keep registering on ``django.contrib.admin.site`` and never import iopclinic.
    """

    default = False
    default_site = "iopclinic.sites.ClinicAdminSite"


class IopclinicConfig(AppConfig):
    default = True
    name = "iopclinic"
    verbose_name = "Staff & access"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the project's system checks)
        from .roles import sync_roles_after_migrate
        from .signals import connect

        connect()

        post_migrate.connect(sync_roles_after_migrate, sender=self)
