from __future__ import annotations

import datetime
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from ..forms import InquiryForm
from ..models import Client, HighRiskInquiry, Inquiry, RiskLevel, WaitlistEntry
from ..pagination import EstimatedCountPaginator
from ..workflows import add_to_waitlist, create_client_from_inquiry, link_client
from .search import with_phone_matches
from .widgets import AutocompleteMixin, staff_select

SCREEN_FIELDS = Inquiry.SCREEN_QUESTIONS
CRISIS_FIELDS = ["crisis_response", "crisis_response_note"]


class AssignedFilter(admin.SimpleListFilter):
    title = "assigned to"
    parameter_name = "assigned"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("me", "Me"), ("nobody", "Nobody yet")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "me":
            return queryset.filter(assigned_coordinator=request.user.pk)
        if self.value() == "nobody":
            return queryset.filter(assigned_coordinator__isnull=True)
        return queryset


class OpenFilter(admin.SimpleListFilter):
    title = "open or closed"
    parameter_name = "open"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Open"), ("no", "Admitted or closed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.exclude(status__in=Inquiry.FINAL_STATUSES)
        if self.value() == "no":
            return queryset.filter(status__in=Inquiry.FINAL_STATUSES)
        return queryset


class FollowUpFilter(admin.SimpleListFilter):
    title = "follow-up"
    parameter_name = "follow_up"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("due", "Due today or overdue"),
            ("week", "Due in the next 7 days"),
            ("none", "None set"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        today = timezone.localdate()
        open_ones = queryset.exclude(status__in=Inquiry.FINAL_STATUSES)
        if self.value() == "due":
            return open_ones.filter(next_follow_up__lte=today)
        if self.value() == "week":
            return open_ones.filter(
                next_follow_up__gt=today,
                next_follow_up__lte=today + datetime.timedelta(days=7),
            )
        if self.value() == "none":
            return open_ones.filter(next_follow_up__isnull=True)
        return queryset


def risk_badge(level: int | None) -> str:
    if level is None:
        return format_html(
            '<span class="risk risk-unscreened">{}</span>', "not screened"
        )
    label = RiskLevel(level).label
    return format_html('<span class="risk risk-{}">{}</span>', label.lower(), label)


@admin.register(Inquiry)
class InquiryAdmin(AutocompleteMixin, SimpleHistoryAdmin):
    list_display = [
        "person",
        "risk",
        "status",
        "next_follow_up",
        "phone",
        "received_at",
        "channel",
        "assigned_coordinator",
    ]
    list_filter = [
        OpenFilter,
        AssignedFilter,
        FollowUpFilter,
        "status",
        "risk_level",
        "channel",
        "heard_about_us",
        "concerns",
        "requested_level",
        "requested_schedule",
    ]
    search_fields = [
        "first_name",
        "last_name",
        "phone",
        "email",
    ]
    list_select_related = ["assigned_coordinator"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    form = InquiryForm
    fieldsets = [
        (
            "The call",
            {
                "fields": [
                    "received_at",
                    "channel",
                    "caller",
                    "caller_name",
                    "caller_phone",
                ]
            },
        ),
        (
            "The person",
            {
                "fields": [
                    ("first_name", "last_name"),
                    "date_of_birth",
                    ("phone", "email"),
                    "preferred_contact",
                ]
            },
        ),
        (
            "Safety screen (C-SSRS screener, past month)",
            {
                "fields": [*SCREEN_FIELDS, "risk", "screened"],
                "description": (
                    "Ask every caller. Questions 3 to 5 only if question 2 is yes; "
                    "6a only if 6 is yes. The risk level is computed from the answers."
                ),
            },
        ),
        (
            "Crisis response",
            {
                "fields": [*CRISIS_FIELDS, "crisis_recorded"],
                "description": (
                    "Required when the screen shows high risk: what was done, now."
                ),
            },
        ),
        ("Clinician's override", {"fields": ["risk_override"]}),
        (
            "What they need",
            {
                "fields": [
                    "concerns",
                    "concerns_detail",
                    "requested_level",
                    "requested_schedule",
                    "heard_about_us",
                    ("payer", "member_id"),
                ]
            },
        ),
        (
            "Follow-up",
            {"fields": ["next_follow_up", "assigned_coordinator", "notes"]},
        ),
        ("Client record", {"fields": ["client", "possible_duplicates"]}),
        (
            "Status",
            {
                "fields": [
                    "status",
                    "move_to",
                    "status_note",
                    "closed_reason",
                    "referred_to",
                    "timeline",
                ]
            },
        ),
    ]
    readonly_fields = [
        "risk",
        "screened",
        "crisis_recorded",
        "risk_override",
        "possible_duplicates",
        "status",
        "timeline",
    ]
    autocomplete_fields = ["client"]
    radio_fields = {
        **dict.fromkeys(SCREEN_FIELDS, admin.HORIZONTAL),
        "channel": admin.HORIZONTAL,
        "caller": admin.HORIZONTAL,
        "preferred_contact": admin.HORIZONTAL,
        "requested_level": admin.HORIZONTAL,
        "requested_schedule": admin.HORIZONTAL,
    }
    actions = [
        "assign_to_me",
        "mark_contacted",
        "start_screening",
        "mark_eligible",
        "create_client_records",
        "waitlist_routine",
        "waitlist_urgent",
        "close_unreachable",
        "close_withdrawn",
        "close_declined",
        "close_duplicate",
    ]

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/client-record/",
                self.admin_site.admin_view(self.client_record_view),
                name="intake_inquiry_client_record",
            ),
            *super().get_urls(),
        ]

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name == "assigned_coordinator":
            # Staff who work inquiries; a short list, so a plain select. Members of a
            # role that may change inquiries are read by id (a subquery), not by a
            # DISTINCT over every column of the joined rows.
            User = get_user_model()
            workers = User.objects.filter(
                groups__permissions__codename="change_inquiry"
            ).values("pk")
            coordinators = (
                User.objects.filter(is_active=True, is_staff=True)
                .filter(Q(is_superuser=True) | Q(pk__in=workers))
                .order_by("first_name", "last_name", "username")
            )
            kwargs.update(staff_select(request, coordinators))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Inquiry], search_term: str
    ) -> tuple[QuerySet[Inquiry], bool]:
        results, may_have_duplicates = super().get_search_results(
            request, queryset, search_term
        )
        results = with_phone_matches(queryset, results, search_term)
        mrn = search_term.strip()
        if mrn.isdigit():
            # A medical record number finds the client's inquiries. The client is
            # looked up first: an id list ORed with the name searches stays on
            # indexes, where a subquery inside the OR reads every inquiry.
            clients = list(Client.objects.filter(mrn=mrn).values_list("pk", flat=True))
            results |= queryset.filter(client_id__in=clients)
        return results, may_have_duplicates

    def formfield_for_choice_field(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name in SCREEN_FIELDS:
            # An unanswered screen question was not asked; "None" would read as "no".
            kwargs["choices"] = [("", "Not asked"), *db_field.choices]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    # Display helpers

    @admin.display(description="name", ordering="last_name")
    def person(self, inquiry: Inquiry) -> str:
        return f"{inquiry.first_name} {inquiry.last_name}".strip()

    @admin.display(description="risk", ordering="risk_level")
    def risk(self, inquiry: Inquiry) -> str:
        return risk_badge(inquiry.risk_level)

    @admin.display(description="screened")
    def screened(self, inquiry: Inquiry) -> str:
        if inquiry.screened_at is None:
            return "not yet"
        when = timezone.localtime(inquiry.screened_at)
        return f"{when:%Y-%m-%d %H:%M} by {inquiry.screened_by}"

    @admin.display(description="recorded")
    def crisis_recorded(self, inquiry: Inquiry) -> str:
        if inquiry.crisis_response_at is None:
            return "-"
        when = timezone.localtime(inquiry.crisis_response_at)
        return f"{when:%Y-%m-%d %H:%M} by {inquiry.crisis_response_by}"

    @admin.display(description="override")
    def risk_override(self, inquiry: Inquiry) -> str:
        if not inquiry.risk_override_note:
            if inquiry.is_high_risk:
                return "None yet: a clinician reviews high risk before waitlisting."
            return "-"
        when = (
            timezone.localtime(inquiry.risk_override_at)
            if inquiry.risk_override_at
            else ""
        )
        return format_html(
            "{}<br><small>{} {:%Y-%m-%d %H:%M}</small>",
            inquiry.risk_override_note,
            inquiry.risk_override_by,
            when,
        )

    @admin.display(description="possible existing clients")
    def possible_duplicates(self, inquiry: Inquiry) -> str:
        if inquiry.client_id:
            return "-"
        matches = Client.objects.possible_duplicates(
            first_name=inquiry.first_name,
            last_name=inquiry.last_name,
            date_of_birth=inquiry.date_of_birth,
            phone=inquiry.phone,
        )[:5]
        if not matches:
            return "None found (by name and date of birth, or by phone)."
        return format_html_join(
            "",
            '<div><a href="{}">{} {}</a>, MRN {}, born {}</div>',
            (
                (
                    reverse("admin:intake_client_change", args=[m.pk]),
                    m.first_name,
                    m.last_name,
                    m.mrn,
                    m.date_of_birth,
                )
                for m in matches
            ),
        )

    @admin.display(description="timeline")
    def timeline(self, inquiry: Inquiry) -> str:
        if inquiry.pk is None:
            return "-"
        steps = inquiry.status_changes.select_related("changed_by")
        return format_html(
            '<table class="timeline"><tbody>{}</tbody></table>',
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        f"{timezone.localtime(step.changed_at):%Y-%m-%d %H:%M}",
                        f"{step.get_from_status_display() or 'start'} -> "
                        f"{step.get_to_status_display()}",
                        step.changed_by or "system",
                        step.note,
                    )
                    for step in steps
                ),
            ),
        )

    # Saving

    def save_model(
        self, request: HttpRequest, obj: Inquiry, form: InquiryForm, change: bool
    ) -> None:
        now = timezone.now()
        if not change:
            obj.received_by = request.user  # type: ignore[assignment]
        if any(name in form.changed_data for name in SCREEN_FIELDS):
            obj.screened_by, obj.screened_at = request.user, now  # type: ignore[assignment]
        if any(name in form.changed_data for name in CRISIS_FIELDS):
            obj.crisis_response_by = request.user  # type: ignore[assignment]
            obj.crisis_response_at = now
        super().save_model(request, obj, form, change)
        if form.cleaned_data.get("move_to"):
            # Checked under a row lock by the form; this only records it.
            obj.move_to(
                form.cleaned_data["move_to"],
                by=request.user,
                note=form.cleaned_data.get("status_note", ""),
            )

    # Actions: each moves every selected inquiry for which the move is legal.

    def _move_selected(
        self,
        request: HttpRequest,
        queryset: QuerySet[Inquiry],
        target: str,
        **fields: str,
    ) -> None:
        moved, refused = 0, []
        for inquiry in queryset:
            for name, value in fields.items():
                setattr(inquiry, name, value)
            try:
                inquiry.move_to(target, by=request.user)
            except ValidationError as error:
                refused.append(
                    f"{inquiry.first_name} {inquiry.last_name}: {error.messages[0]}"
                )
            else:
                moved += 1
        label = Inquiry.Status(target).label.lower()
        if moved:
            self.message_user(
                request, f"{moved} inquiry(ies) moved to {label}.", messages.SUCCESS
            )
        for reason in refused:
            self.message_user(request, f"Not moved. {reason}", messages.WARNING)

    @admin.action(permissions=["change"], description="Assign to me")
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Inquiry]) -> None:
        for inquiry in queryset.exclude(assigned_coordinator=request.user.pk):
            inquiry.assigned_coordinator = request.user  # type: ignore[assignment]
            inquiry.save(update_fields=["assigned_coordinator"])
        self.message_user(request, "Assigned to you.", messages.SUCCESS)

    @admin.action(permissions=["change"], description="Mark contacted")
    def mark_contacted(self, request: HttpRequest, queryset: QuerySet[Inquiry]) -> None:
        self._move_selected(request, queryset, Inquiry.Status.CONTACTED)

    @admin.action(permissions=["change"], description="Start screening")
    def start_screening(
        self, request: HttpRequest, queryset: QuerySet[Inquiry]
    ) -> None:
        self._move_selected(request, queryset, Inquiry.Status.SCREENING)

    @admin.action(permissions=["change"], description="Mark eligible")
    def mark_eligible(self, request: HttpRequest, queryset: QuerySet[Inquiry]) -> None:
        self._move_selected(request, queryset, Inquiry.Status.ELIGIBLE)

    @admin.action(
        permissions=["change"], description="Create client records (no duplicates)"
    )
    def create_client_records(
        self, request: HttpRequest, queryset: QuerySet[Inquiry]
    ) -> None:
        """Create each selected inquiry's client record from its own fields; an inquiry
        that may match an existing client is left for the coordinator to decide."""
        if not self.admin_site._registry[Client].has_add_permission(request):
            raise PermissionDenied
        created, left = 0, []
        for inquiry in queryset.filter(client__isnull=True):
            matches = Client.objects.possible_duplicates(
                first_name=inquiry.first_name,
                last_name=inquiry.last_name,
                date_of_birth=inquiry.date_of_birth,
                phone=inquiry.phone,
            )
            name = f"{inquiry.first_name} {inquiry.last_name}"
            if matches.exists():
                left.append(
                    f"{name}: may already be a client; open it to link or create."
                )
                continue
            try:
                create_client_from_inquiry(inquiry=inquiry, by=request.user)
            except ValidationError as error:
                left.append(f"{name}: {error.messages[0]}")
            else:
                created += 1
        if created:
            self.message_user(
                request, f"{created} client record(s) created.", messages.SUCCESS
            )
        for reason in left:
            self.message_user(request, f"No record created. {reason}", messages.WARNING)

    def _waitlist_selected(
        self, request: HttpRequest, queryset: QuerySet[Inquiry], priority: int
    ) -> None:
        added, refused = 0, []
        for inquiry in queryset:
            try:
                add_to_waitlist(inquiry=inquiry, by=request.user, priority=priority)
            except ValidationError as error:
                refused.append(
                    f"{inquiry.first_name} {inquiry.last_name}: {error.messages[0]}"
                )
            else:
                added += 1
        if added:
            self.message_user(
                request, f"{added} added to the waitlist.", messages.SUCCESS
            )
        for reason in refused:
            self.message_user(request, f"Not waitlisted. {reason}", messages.WARNING)

    @admin.action(permissions=["change"], description="Add to the waitlist (routine)")
    def waitlist_routine(
        self, request: HttpRequest, queryset: QuerySet[Inquiry]
    ) -> None:
        self._waitlist_selected(request, queryset, WaitlistEntry.Priority.ROUTINE)

    @admin.action(permissions=["change"], description="Add to the waitlist (urgent)")
    def waitlist_urgent(
        self, request: HttpRequest, queryset: QuerySet[Inquiry]
    ) -> None:
        self._waitlist_selected(request, queryset, WaitlistEntry.Priority.URGENT)

    @admin.action(permissions=["change"], description="Close: unreachable")
    def close_unreachable(
        self, request: HttpRequest, queryset: QuerySet[Inquiry]
    ) -> None:
        self._move_selected(
            request, queryset, Inquiry.Status.CLOSED, closed_reason="unreachable"
        )

    @admin.action(permissions=["change"], description="Close: withdrawn")
    def close_withdrawn(
        self, request: HttpRequest, queryset: QuerySet[Inquiry]
    ) -> None:
        self._move_selected(
            request, queryset, Inquiry.Status.CLOSED, closed_reason="withdrawn"
        )

    @admin.action(permissions=["change"], description="Close: declined")
    def close_declined(self, request: HttpRequest, queryset: QuerySet[Inquiry]) -> None:
        self._move_selected(
            request, queryset, Inquiry.Status.CLOSED, closed_reason="declined"
        )

    @admin.action(permissions=["change"], description="Close: duplicate")
    def close_duplicate(
        self, request: HttpRequest, queryset: QuerySet[Inquiry]
    ) -> None:
        self._move_selected(
            request, queryset, Inquiry.Status.CLOSED, closed_reason="duplicate"
        )

    # The client record: create from the inquiry, or link an existing one.

    def client_record_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        # get_object answers None for an id that cannot be one ("abc" was a 500).
        inquiry = self.get_object(request, unquote(object_id))
        if inquiry is None:
            raise Http404("No such inquiry.")
        client_admin = self.admin_site._registry[Client]
        if not (
            self.has_change_permission(request, inquiry)
            and client_admin.has_add_permission(request)
        ):
            raise PermissionDenied
        change_url = reverse("admin:intake_inquiry_change", args=[inquiry.pk])
        if inquiry.client_id:
            self.message_user(request, "This inquiry already has a client record.")
            return HttpResponseRedirect(change_url)
        matches = list(
            Client.objects.possible_duplicates(
                first_name=inquiry.first_name,
                last_name=inquiry.last_name,
                date_of_birth=inquiry.date_of_birth,
                phone=inquiry.phone,
            )[:10]
        )
        if request.method == "POST":
            try:
                if "link" in request.POST:
                    chosen = next(
                        (m for m in matches if str(m.pk) == request.POST["link"]), None
                    )
                    if chosen is None:
                        raise ValidationError("Choose one of the listed records.")
                    link_client(inquiry=inquiry, client=chosen, by=request.user)
                    self.message_user(
                        request, f"Linked to client {chosen.mrn}.", messages.SUCCESS
                    )
                else:
                    client = create_client_from_inquiry(
                        inquiry=inquiry, by=request.user
                    )
                    self.message_user(
                        request,
                        f"Client record {client.mrn} created.",
                        messages.SUCCESS,
                    )
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": "Create or link the client record",
            "opts": self.opts,
            "inquiry": inquiry,
            "original": inquiry,
            "matches": matches,
            "change_url": change_url,
        }
        return TemplateResponse(
            request, "admin/intake/inquiry/client_record.html", context
        )


HIGH_RISK_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "received_at",
    *SCREEN_FIELDS,
    "crisis_response",
    "crisis_response_note",
    "concerns_detail",
    "risk_override_note",
)


@admin.register(HighRiskInquiry)
class HighRiskInquiryAdmin(admin.ModelAdmin):
    """The clinician's review queue: see the screen, record whether they may wait."""

    list_display = ["person", "received_at", "crisis_response", "reviewed", "status"]
    list_filter = ["status"]
    search_fields = ["first_name", "last_name"]
    show_full_result_count = False
    fields = HIGH_RISK_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[HighRiskInquiry]:
        return super().get_queryset(request).filter(risk_level=RiskLevel.HIGH)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [name for name in HIGH_RISK_FIELDS if name != "risk_override_note"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="name")
    def person(self, inquiry: Inquiry) -> str:
        return f"{inquiry.first_name} {inquiry.last_name}".strip()

    @admin.display(description="override recorded", boolean=True)
    def reviewed(self, inquiry: Inquiry) -> bool:
        return bool(inquiry.risk_override_note)

    def save_model(
        self, request: HttpRequest, obj: HighRiskInquiry, form: Any, change: bool
    ) -> None:
        if "risk_override_note" in form.changed_data:
            obj.risk_override_by = request.user  # type: ignore[assignment]
            obj.risk_override_at = timezone.now()
        super().save_model(request, obj, form, change)
