"""The audit report: the access events, read-only, for the privacy officer; and the
user admin with two-factor status and its reset.

Filters by date range, user, client, action, outcome and emergency access; sortable
columns; a CSV export of the filtered rows, itself an access event. Built for millions
of events: estimated counts, no date hierarchy, every filter on an indexed column.
"""

from __future__ import annotations

import csv
import datetime
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from intake.models import Client
from intake.pagination import EstimatedCountPaginator

from . import signin
from .models import AccessEvent, search_hash
from .reports.views import _safe
from .sites import AuditWriteFailed, audit_unavailable, client_ip, write_event

# A CSV bigger than this is not a review, it is a copy of the audit trail.
EXPORT_LIMIT = 50_000


class DateRangeForm(forms.Form):
    since = forms.DateField(label="From", required=False)
    until = forms.DateField(label="To (inclusive)", required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise forms.ValidationError("The range ends before it starts.")
        return cleaned


def _start_of(day: datetime.date) -> datetime.datetime:
    """Midnight in the clinic's timezone, as an aware datetime."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class DateRangeFilter(admin.ListFilter):
    """From / to dates in the clinic's timezone, with the usual ranges one click
    away; the range reads the (client|user, occurred_at) indexes."""

    title = "date range"
    template = "admin/iopclinic/date_range_filter.html"
    parameters = ("since", "until")

    def __init__(
        self,
        request: HttpRequest,
        params: dict[str, Any],
        model: Any,
        model_admin: Any,
    ) -> None:
        super().__init__(request, params, model, model_admin)
        for name in self.parameters:
            if name in params:
                value = params.pop(name)
                self.used_parameters[name] = (
                    value[-1] if isinstance(value, list) else value
                )
        self.form = DateRangeForm(self.used_parameters or None)
        self.other_params = [
            (key, value)
            for key, values in request.GET.lists()
            if key not in (*self.parameters, "p")
            for value in values
        ]

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str | None]:
        return list(self.parameters)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        if not self.used_parameters:
            return queryset
        if not self.form.is_valid():
            # The admin answers with its "?e=1" error page, not a 500.
            raise IncorrectLookupParameters(self.form.errors.as_text())
        since, until = self.form.cleaned_data["since"], self.form.cleaned_data["until"]
        if since:
            queryset = queryset.filter(occurred_at__gte=_start_of(since))
        if until:
            queryset = queryset.filter(
                occurred_at__lt=_start_of(until + datetime.timedelta(days=1))
            )
        return queryset

    def presets(self) -> list[tuple[str, str]]:
        today = timezone.localdate()
        first = today.replace(day=1)
        last_month_end = first - datetime.timedelta(days=1)
        ranges = [
            ("Today", today, today),
            ("Past 7 days", today - datetime.timedelta(days=6), today),
            ("This month", first, today),
            ("Last month", last_month_end.replace(day=1), last_month_end),
            ("Past 12 months", today - datetime.timedelta(days=365), today),
        ]
        return [
            (
                label,
                "?"
                + urlencode(
                    [*self.other_params, ("since", start), ("until", end)], doseq=True
                ),
            )
            for label, start, end in ranges
        ]

    def choices(self, changelist: Any) -> Any:
        yield {
            "form": self.form,
            "other_params": self.other_params,
            "presets": self.presets(),
            "clear": changelist.get_query_string(remove=list(self.parameters)),
        }


class ClientFilter(admin.SimpleListFilter):
    """One client's events (reached from the client column or by searching the MRN);
    never a list of every client."""

    title = "client"
    parameter_name = "client"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, str]]:
        value = self.value()
        if not value or not value.isdigit():
            return []
        client = Client.objects.filter(pk=value).first()
        return [(value, str(client))] if client else []

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        if self.value():
            return queryset.filter(client=self.value())
        return queryset


class EmergencyFilter(admin.SimpleListFilter):
    title = "emergency access"
    parameter_name = "emergency_access"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, str]]:
        choices: list[tuple[Any, str]] = [("any", "Seen under emergency access")]
        value = self.value()
        if value and value.isdigit():
            choices.append((value, f"Under emergency access #{value}"))
        return choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        value = self.value()
        if value == "any":
            return queryset.filter(emergency_access__isnull=False)
        if value:
            return queryset.filter(emergency_access=value)
        return queryset


class AppFilter(admin.SimpleListFilter):
    """The part of the clinic a record belongs to, from the app registry: the stock
    filter would read every event for a DISTINCT (0.4 s at 2 million events)."""

    title = "part of the clinic"
    parameter_name = "app_label"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, str]]:
        return [
            *(
                (config.label, str(config.verbose_name))
                for config in apps.get_app_configs()
                if config.models_module is not None
            ),
            ("reports", "Reports"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        if self.value():
            return queryset.filter(app_label=self.value())
        return queryset


@admin.register(AccessEvent)
class AccessEventAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included: the audit trail is written by
    the site, never by hand."""

    list_display = [
        "occurred_at",
        "user",
        "action",
        "record",
        "client_link",
        "outcome",
        "emergency",
        "ip_address",
        "page",
    ]
    list_filter = [
        DateRangeFilter,
        "user",
        ClientFilter,
        "action",
        "outcome",
        EmergencyFilter,
        AppFilter,
    ]
    list_select_related = ["user", "client"]
    search_help_text = (
        "An MRN, a username, or a term someone searched for (matched by its hash; "
        "search terms are never stored)."
    )
    # Enables the search box; get_search_results decides what a term matches.
    search_fields = ["=object_id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 100
    change_list_template = "admin/iopclinic/accessevent/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        export = path(
            "export.csv",
            self.admin_site.admin_view(self.export_view),
            name="iopclinic_accessevent_export",
        )
        return [export, *super().get_urls()]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        # Ids first, then one OR over indexed columns of this table: an OR across
        # joined tables would read every event.
        clients = list(
            Client.objects.filter(mrn__in={term, term.upper()}).values_list(
                "pk", flat=True
            )
        )
        users = list(
            get_user_model().objects.filter(username=term).values_list("pk", flat=True)
        )
        match = Q(search_hash=search_hash(term))
        if clients:
            match |= Q(client__in=clients)
        if users:
            match |= Q(user__in=users)
        return queryset.filter(match), False

    @admin.display(description="record", ordering="model_name")
    def record(self, obj: AccessEvent) -> str:
        if not obj.model_name:
            return ""
        label = f"{obj.app_label}.{obj.model_name}"
        return f"{label} #{obj.object_id}" if obj.object_id else label

    @admin.display(description="client", ordering="client__mrn")
    def client_link(self, obj: AccessEvent) -> str:
        if obj.client is None:
            return ""
        query = urlencode({"client": obj.client_id})
        return format_html('<a href="?{}">{}</a>', query, obj.client)

    @admin.display(description="emergency", ordering="emergency_access")
    def emergency(self, obj: AccessEvent) -> str:
        if obj.emergency_access_id is None:
            return ""
        query = urlencode({"emergency_access": obj.emergency_access_id})
        return format_html(
            '<a href="?{}">emergency access #{}</a>', query, obj.emergency_access_id
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The filtered, sorted list as CSV; the export is an access event itself,
        written before the file is handed over."""
        event: dict[str, Any] = {
            "user": request.user,
            "action": AccessEvent.Action.EXPORT,
            "app_label": "iopclinic",
            "model_name": "accessevent",
            "page": "iopclinic_accessevent_export",
            "ip_address": client_ip(request),
            "search_term": request.GET.get("q", ""),
        }
        if not self.has_view_permission(request):
            AccessEvent.record(**event, outcome=AccessEvent.Outcome.REFUSED)
            raise PermissionDenied("The audit report is for the privacy officer.")
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(
                reverse("admin:iopclinic_accessevent_changelist") + "?e=1"
            )
        rows = list(changelist.get_queryset(request)[: EXPORT_LIMIT + 1])
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
        response["Content-Disposition"] = (
            f'attachment; filename="access-events-{stamp}.csv"'
        )
        writer = csv.writer(response)
        writer.writerow(
            [
                "when",
                "user",
                "action",
                "record",
                "client MRN",
                "outcome",
                "emergency access",
                "IP address",
                "page",
                "detail",
            ]
        )
        for row in rows[:EXPORT_LIMIT]:
            writer.writerow(
                _safe(str(value))
                for value in [
                    timezone.localtime(row.occurred_at).isoformat(),
                    row.user.get_username() if row.user else "",
                    row.get_action_display(),
                    self.record(row),
                    row.client.mrn if row.client else "",
                    row.get_outcome_display(),
                    row.emergency_access_id or "",
                    row.ip_address or "",
                    row.page,
                    row.detail,
                ]
            )
        if len(rows) > EXPORT_LIMIT:
            writer.writerow([f"Stopped at {EXPORT_LIMIT} rows: narrow the filters."])
        filters = [
            f"{key}={value}"
            for key, value in request.GET.items()
            if key not in ("q", "p", "o")
        ]
        event["detail"] = f"{min(len(rows), EXPORT_LIMIT)} rows; {' '.join(filters)}"
        try:
            write_event(event, AccessEvent.Outcome.COMPLETED)
        except AuditWriteFailed:
            return audit_unavailable(request)
        return response


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
