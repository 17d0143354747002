from typing import Any

from django.contrib import admin
from django.http import HttpRequest

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
