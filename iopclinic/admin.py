from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import signin
from .models import AccessEvent


@admin.register(AccessEvent)
class AccessEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is written by the site, never by hand."""

    list_display = [
        "occurred_at",
        "user",
        "action",
        "app_label",
        "model_name",
        "object_id",
    ]
    list_filter = ["action", "outcome", "app_label"]
    search_fields = ["user__username", "object_id"]
    list_select_related = ["user"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Device admins would show authenticator secrets and recovery codes: superusers reset a
# user's devices from the user list instead (ClinicUserAdmin).
for _device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device_model):
        admin.site.unregister(_device_model)


class ClinicUserAdmin(UserAdmin):
    """Django's user admin, with two-factor status and a superuser-only reset."""

    list_display = [
        "username",
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
        "two_factor",
    ]
    actions = ["reset_two_factor"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                has_totp=Exists(
                    TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
                )
            )
        )

    @admin.display(boolean=True, description="Two-factor set up")
    def two_factor(self, obj: Any) -> bool:
        return bool(getattr(obj, "has_totp", False))

    @admin.action(
        description="Reset two-factor sign-in (they set it up again at next sign-in)",
        permissions=["reset_two_factor"],
    )
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        users = list(queryset)
        for user in users:
            signin.reset_two_factor(request.user, user)
        self.message_user(
            request,
            f"Two-factor sign-in reset for {len(users)} user(s); their sessions ended.",
            messages.SUCCESS,
        )

    def has_reset_two_factor_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, ClinicUserAdmin)
