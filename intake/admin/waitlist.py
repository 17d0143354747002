from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from ..models import WaitlistEntry
from .widgets import AutocompleteMixin


class QueueFilter(admin.SimpleListFilter):
    """Who is in the queue; by default those waiting or offered a seat."""

    title = "queue"
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("waiting", "Waiting"),
            ("open", "Waiting or offered a seat"),
            ("all", "Everyone, including admitted and removed"),
        ]

    def value(self) -> str:
        # Offered people stay in view: the coordinator admits them from here.
        return super().value() or "open"

    def choices(self, changelist: Any) -> Any:
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string(
                    {self.parameter_name: lookup}
                ),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "waiting":
            return queryset.waiting()  # type: ignore[attr-defined]
        if self.value() == "open":
            return queryset.open()  # type: ignore[attr-defined]
        return queryset


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(AutocompleteMixin, SimpleHistoryAdmin):
    list_display = [
        "position",
        "client",
        "level_of_care",
        "priority",
        "preferred_schedule",
        "added_on",
        "days_waiting",
        "status",
    ]
    list_display_links = ["client"]
    list_filter = [QueueFilter, "level_of_care", "priority", "preferred_schedule"]
    search_fields = ["client__mrn", "client__last_name", "client__first_name"]
    list_select_related = ["client"]
    show_full_result_count = False
    fields = [
        "client",
        "inquiry",
        "level_of_care",
        "preferred_schedule",
        "priority",
        "added_on",
        "status",
        "removed_reason",
        "removed_note",
        "removed_on",
    ]
    readonly_fields = ["status", "removed_reason", "removed_note", "removed_on"]
    autocomplete_fields = ["client", "inquiry"]
    radio_fields = {
        "level_of_care": admin.HORIZONTAL,
        "preferred_schedule": admin.HORIZONTAL,
        "priority": admin.HORIZONTAL,
    }
    actions = [
        "make_urgent",
        "make_routine",
        "remove_no_longer_wants_care",
        "remove_placed_elsewhere",
        "remove_unreachable",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WaitlistEntry]:
        return super().get_queryset(request).with_position()  # type: ignore[attr-defined]

    def get_ordering(self, request: HttpRequest) -> list[str]:
        return ["level_of_care", "priority", "added_on", "id"]

    @admin.display(description="place in line", ordering="priority")
    def position(self, entry: WaitlistEntry) -> int | str:
        return getattr(entry, "position", None) or "-"

    @admin.display(description="days waiting")
    def days_waiting(self, entry: WaitlistEntry) -> int:
        return entry.days_waiting

    def save_model(
        self, request: HttpRequest, obj: WaitlistEntry, form: Any, change: bool
    ) -> None:
        if not change:
            obj.added_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    def _set_priority(
        self, request: HttpRequest, queryset: QuerySet[WaitlistEntry], priority: int
    ) -> None:
        count = 0
        for entry in queryset.open().exclude(priority=priority):  # type: ignore[attr-defined]
            entry.priority = priority
            entry.save(update_fields=["priority"])
            count += 1
        self.message_user(
            request, f"{count} entry(ies) reprioritised.", messages.SUCCESS
        )

    @admin.action(permissions=["change"], description="Make urgent")
    def make_urgent(
        self, request: HttpRequest, queryset: QuerySet[WaitlistEntry]
    ) -> None:
        self._set_priority(request, queryset, WaitlistEntry.Priority.URGENT)

    @admin.action(permissions=["change"], description="Make routine")
    def make_routine(
        self, request: HttpRequest, queryset: QuerySet[WaitlistEntry]
    ) -> None:
        self._set_priority(request, queryset, WaitlistEntry.Priority.ROUTINE)

    def _remove(
        self, request: HttpRequest, queryset: QuerySet[WaitlistEntry], reason: str
    ) -> None:
        removed = 0
        for entry in queryset:
            try:
                entry.remove(reason=reason, by=request.user)
            except ValidationError as error:
                self.message_user(
                    request, f"{entry.client}: {error.messages[0]}", messages.WARNING
                )
            else:
                removed += 1
        self.message_user(
            request, f"{removed} removed from the waitlist.", messages.SUCCESS
        )

    @admin.action(permissions=["change"], description="Remove: no longer wants care")
    def remove_no_longer_wants_care(
        self, request: HttpRequest, queryset: QuerySet[WaitlistEntry]
    ) -> None:
        self._remove(
            request, queryset, WaitlistEntry.RemovedReason.NO_LONGER_WANTS_CARE
        )

    @admin.action(permissions=["change"], description="Remove: placed elsewhere")
    def remove_placed_elsewhere(
        self, request: HttpRequest, queryset: QuerySet[WaitlistEntry]
    ) -> None:
        self._remove(request, queryset, WaitlistEntry.RemovedReason.PLACED_ELSEWHERE)

    @admin.action(permissions=["change"], description="Remove: unreachable")
    def remove_unreachable(
        self, request: HttpRequest, queryset: QuerySet[WaitlistEntry]
    ) -> None:
        self._remove(request, queryset, WaitlistEntry.RemovedReason.UNREACHABLE)
