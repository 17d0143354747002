"""Programs admin: programs and tracks with their open seats, enrollments, seat
offers, and the waitlist's "offer a seat" and "admit" actions (added to intake's
waitlist page by re-registering it, so intake never imports programs)."""

from __future__ import annotations

import datetime
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from intake.admin.clients import ClientAdmin, ConsentAdmin
from intake.admin.waitlist import WaitlistEntryAdmin
from intake.admin.widgets import staff_select
from intake.models import Client, Consent, WaitlistEntry

from .. import compliance
from ..models import (
    Appointment,
    Attendance,
    EmergencyAccess,
    Enrollment,
    GroupSession,
    HoldPeriod,
    Placement,
    Program,
    ScheduleBlock,
    SeatOffer,
    Track,
)
from ..pagination import EstimatedCountPaginator
from ..workflows import (
    admit_client,
    change_track,
    decline_offer,
    end_hold,
    generate_sessions,
    make_offer,
    put_on_hold,
    take_attendance,
)
from .caseload import CaseloadAdmin, RowScopedAdmin
from .measures import outcome_panel, record_links, safety_alerts


@admin.register(Program)
class ProgramAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "level_of_care",
        "minimum_hours_per_week",
        "minimum_days_per_week",
        "active",
    ]
    list_filter = ["level_of_care", "active"]
    search_fields = ["name"]


class ScheduleBlockInline(admin.TabularInline):
    model = ScheduleBlock
    fields = ["weekday", "start", "duration_minutes", "service", "facilitator"]
    extra = 0
    can_delete = False


@admin.register(Track)
class TrackAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "program",
        "schedule",
        "capacity",
        "seats_held_display",
        "open_seats_display",
        "active",
    ]
    list_filter = ["program", "schedule", "active"]
    search_fields = ["name", "program__name"]
    list_select_related = ["program"]
    inlines = [ScheduleBlockInline]
    actions = ["generate_two_weeks"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Track]:
        return super().get_queryset(request).with_seats()  # type: ignore[attr-defined]

    @admin.action(permissions=["change"], description="Generate sessions: next 14 days")
    def generate_two_weeks(
        self, request: HttpRequest, queryset: QuerySet[Track]
    ) -> None:
        today = timezone.localdate()
        created = generate_sessions(
            start=today, end=today + datetime.timedelta(days=13), tracks=queryset
        )
        self.message_user(request, f"{created} session(s) created.", messages.SUCCESS)

    @admin.display(description="seats held", ordering="held_count")
    def seats_held_display(self, track: Track) -> int:
        return track.held_count  # type: ignore[attr-defined, no-any-return]

    @admin.display(description="open seats", ordering="open_count")
    def open_seats_display(self, track: Track) -> int:
        return track.open_count  # type: ignore[attr-defined, no-any-return]


class PlacementInline(admin.TabularInline):
    model = Placement
    fields = ("on", "from_track", "to_track", "reason", "placed_by", "recorded_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "placement history"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Placement]:
        # Each row shows both tracks and who placed the client: one query in all.
        return (
            super()
            .get_queryset(request)
            .select_related("from_track", "to_track", "placed_by")
        )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class HoldInline(admin.TabularInline):
    model = HoldPeriod
    fields = ("starts_on", "keep_seat_until", "reason", "ended_on", "placed_by")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "holds"

    def get_queryset(self, request: HttpRequest) -> QuerySet[HoldPeriod]:
        return super().get_queryset(request).select_related("placed_by")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class FlagFilter(admin.SimpleListFilter):
    """The attendance flags therapists and managers act on (programs/compliance.py)."""

    title = "attendance flag"
    parameter_name = "flag"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("below_minimum", "Below the weekly minimum last week"),
            ("unexcused", "2+ unexcused absences in 14 days"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "below_minimum":
            this_monday = compliance.monday_of(timezone.localdate())
            last_monday = this_monday - datetime.timedelta(weeks=1)
            return queryset.filter(
                pk__in=compliance.below_minimum(queryset, last_monday)
            )
        if self.value() == "unexcused":
            return queryset.filter(pk__in=compliance.frequent_unexcused(queryset))
        return queryset


def staff_choices() -> QuerySet[Any]:
    return get_user_model().objects.filter(is_active=True, is_staff=True)


class PlanDueFilter(admin.SimpleListFilter):
    """The overdue / due-soon lists of treatment-plan work (DOMAIN.md section 3);
    with the therapist filter, one therapist's list."""

    title = "treatment plan due"
    parameter_name = "plan_due"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("overdue", "Overdue"), ("soon", "Due in the next 7 days")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.plan_overdue(today)  # type: ignore[attr-defined]
        if self.value() == "soon":
            return queryset.plan_due_soon(today)  # type: ignore[attr-defined]
        return queryset


@admin.register(Enrollment)
class EnrollmentAdmin(CaseloadAdmin):
    list_display = [
        "client",
        "track",
        "status",
        "admitted_on",
        "expected_end",
        "primary_therapist",
        "plan_due_on",
    ]
    list_filter = [FlagFilter, PlanDueFilter, "status", "track", "primary_therapist"]
    search_fields = ["=client__mrn", "client__last_name", "client__first_name"]
    list_select_related = ["client", "track", "primary_therapist"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fields = [
        "client",
        "track",
        "status",
        "admitted_on",
        "expected_end",
        "primary_therapist",
        "co_therapists",
        "psychiatrist",
        "discharged_on",
        "discharge_type",
        "treatment_plan",
        "attendance_summary",
        "outcome_measures",
    ]
    readonly_fields = [
        "treatment_plan",
        "client",
        "track",
        "status",
        "admitted_on",
        "discharged_on",
        "discharge_type",
        "attendance_summary",
        "outcome_measures",
    ]
    inlines = [PlacementInline, HoldInline]
    actions = ["move_to_another_track", "put_on_hold", "end_hold"]
    enrollment_path = ""  # the rows are the enrollments

    def get_queryset(self, request: HttpRequest) -> QuerySet[Enrollment]:
        # The change page shows the client, the clinicians and the track's program
        # (the weekly minimum under the attendance): read with the enrollment.
        return (
            super()
            .get_queryset(request)
            .select_related(
                "client", "track__program", "primary_therapist", "psychiatrist"
            )
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Only admission creates an enrollment (the waitlist's "Admit" action).
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A discharged episode is read-only (DOMAIN.md section 5): corrections are
        # amendments on its discharge plan.
        if obj is not None and obj.status == Enrollment.Status.DISCHARGED:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description="treatment plan")
    def treatment_plan(self, enrollment: Enrollment) -> str:
        """The plan in force and any draft, with when the next plan work is due."""
        if enrollment.pk is None:
            return "-"
        plans = list(enrollment.treatment_plans.not_superseded())
        due = ""
        if enrollment.plan_due_on and enrollment.status != Enrollment.Status.DISCHARGED:
            late = " (overdue)" if enrollment.plan_due_on < timezone.localdate() else ""
            due = f"Next plan work due {enrollment.plan_due_on:%Y-%m-%d}{late}. "
        if not plans:
            start = reverse("admin:programs_treatmentplan_add")
            return format_html(
                '{}No plan yet. <a href="{}?enrollment={}">Start the plan</a>',
                due,
                start,
                enrollment.pk,
            )
        return format_html(
            "{}{}",
            due,
            format_html_join(
                "; ",
                '<a href="{}">Version {}: {}</a>',
                (
                    (
                        reverse("admin:programs_treatmentplan_change", args=[plan.pk]),
                        plan.version,
                        plan.get_status_display(),
                    )
                    for plan in plans
                ),
            ),
        )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_fields(request, obj)
        if not request.user.has_perm("programs.view_assessment"):
            # Coordinators see enrollments, not clinical scores.
            return [name for name in fields if name != "outcome_measures"]
        return fields

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        if obj is not None:
            context["safety_alerts"] = safety_alerts(request, enrollment=obj)
            if request.user.has_perm("programs.add_assessment"):
                context["record_links"] = record_links(obj.pk)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="attendance, last 4 weeks")
    def attendance_summary(self, enrollment: Enrollment) -> str:
        if enrollment.pk is None:
            return "-"
        rows = compliance.attendance_summary(enrollment)
        return format_html(
            '<table class="timeline"><thead><tr><th>Week of</th><th>Hours</th>'
            "<th>Days</th><th>Minimum</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} h / {} days{}</td></tr>",
                (
                    (
                        row.monday,
                        row.hours,
                        row.days,
                        row.minimum_hours,
                        row.minimum_days,
                        "" if row.meets_minimum else " (below)",
                    )
                    for row in rows
                ),
            ),
        )

    @admin.display(description="outcome measures")
    def outcome_measures(self, enrollment: Enrollment) -> str:
        if enrollment.pk is None:
            return "-"
        return outcome_panel(enrollment)

    @admin.action(permissions=["change"], description="Put on hold…")
    def put_on_hold(
        self, request: HttpRequest, queryset: QuerySet[Enrollment]
    ) -> HttpResponse | None:
        """A dated pause that keeps the seat, e.g. for a short hospital stay."""
        form = HoldForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for enrollment in queryset.select_related("client"):
                try:
                    put_on_hold(
                        enrollment=enrollment,
                        by=request.user,
                        starts_on=form.cleaned_data["starts_on"],
                        reason=form.cleaned_data["reason"],
                        keep_seat_days=form.cleaned_data["keep_seat_days"],
                    )
                except ValidationError as error:
                    message = f"{enrollment.client}: {error.messages[0]}"
                    self.message_user(request, message, messages.ERROR)
                else:
                    message = f"{enrollment.client} is on hold; the seat is kept."
                    self.message_user(request, message, messages.SUCCESS)
            return None
        return action_page(
            self,
            request,
            "hold.html",
            title="Put on hold",
            form=form,
            enrollments=queryset.select_related("client", "track"),
            action="put_on_hold",
        )

    @admin.action(
        permissions=["change"], description="End hold: back to treatment today"
    )
    def end_hold(self, request: HttpRequest, queryset: QuerySet[Enrollment]) -> None:
        for enrollment in queryset.select_related("client"):
            try:
                end_hold(
                    enrollment=enrollment, by=request.user, on=timezone.localdate()
                )
            except ValidationError as error:
                message = f"{enrollment.client}: {error.messages[0]}"
                self.message_user(request, message, messages.WARNING)
            else:
                message = f"{enrollment.client} is back in treatment."
                self.message_user(request, message, messages.SUCCESS)

    @admin.action(permissions=["change"], description="Change track…")
    def move_to_another_track(
        self, request: HttpRequest, queryset: QuerySet[Enrollment]
    ) -> HttpResponse | None:
        """Day <-> evening within the program, one enrollment at a time."""
        if queryset.count() != 1:
            self.message_user(
                request, "Choose one enrollment to move.", messages.WARNING
            )
            return None
        enrollment = queryset.select_related("track", "client").get()
        form = ChangeTrackForm(
            request.POST if "apply" in request.POST else None, enrollment=enrollment
        )
        if form.is_valid():
            try:
                change_track(
                    enrollment=enrollment,
                    to_track=form.cleaned_data["track"],
                    by=request.user,
                    on=form.cleaned_data["on"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                form.add_error("track", error)
            else:
                self.message_user(
                    request,
                    f"{enrollment.client} moved to {form.cleaned_data['track']}.",
                    messages.SUCCESS,
                )
                return None
        return action_page(
            self,
            request,
            "change_track.html",
            title="Change track",
            form=form,
            enrollment=enrollment,
        )

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name in ("primary_therapist", "psychiatrist"):
            kwargs.update(staff_select(request, staff_choices()))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name == "co_therapists":
            kwargs.update(staff_select(request, staff_choices(), multiple=True))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(SeatOffer)
class SeatOfferAdmin(SimpleHistoryAdmin):
    list_display = ["waitlist_entry", "track", "offered_at", "expires_at", "outcome"]
    list_filter = ["outcome", "track"]
    search_fields = [
        "waitlist_entry__client__last_name",
        "=waitlist_entry__client__mrn",
    ]
    list_select_related = ["waitlist_entry__client", "track"]
    readonly_fields = [
        "waitlist_entry",
        "track",
        "offered_by",
        "offered_at",
        "expires_at",
        "outcome",
        "outcome_at",
    ]
    actions = ["accept_and_admit", "decline"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # offers are made from the waitlist

    @admin.action(permissions=["change"], description="Accepted: admit today")
    def accept_and_admit(
        self, request: HttpRequest, queryset: QuerySet[SeatOffer]
    ) -> None:
        for offer in queryset.select_related("track", "waitlist_entry__client"):
            try:
                admit_client(track=offer.track, offer=offer, by=request.user)
            except ValidationError as error:
                self.message_user(
                    request, f"{offer}: {error.messages[0]}", messages.ERROR
                )
            else:
                self.message_user(
                    request,
                    f"{offer.waitlist_entry.client} admitted.",
                    messages.SUCCESS,
                )

    @admin.action(permissions=["change"], description="Declined: back to the waitlist")
    def decline(self, request: HttpRequest, queryset: QuerySet[SeatOffer]) -> None:
        for offer in queryset:
            try:
                decline_offer(offer=offer)
            except ValidationError as error:
                self.message_user(
                    request, f"{offer}: {error.messages[0]}", messages.WARNING
                )
        self.message_user(request, "Done.", messages.SUCCESS)


def action_page(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    template: str,
    **context: Any,
) -> TemplateResponse:
    """The page an admin action shows when it needs more (a track, a date, a reason);
    its form posts the action and the selection back with ``apply``."""
    return TemplateResponse(
        request,
        f"admin/programs/{template}",
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            **context,
        },
    )


def track_with_seats(track: Any) -> str:
    return f"{track} ({track.open_count} open of {track.capacity})"


class ChooseTrackForm(forms.Form):
    track = forms.ModelChoiceField(queryset=Track.objects.none(), empty_label=None)
    admitted_on = forms.DateField(
        required=False, help_text="For an admission: the first day (default today)."
    )

    def __init__(self, *args: Any, level_of_care: str | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tracks = Track.objects.active().with_seats().select_related("program")  # type: ignore[attr-defined]
        if level_of_care:
            tracks = tracks.filter(program__level_of_care=level_of_care)
        field = cast(forms.ModelChoiceField, self.fields["track"])
        field.queryset = tracks
        field.label_from_instance = track_with_seats  # type: ignore[method-assign,assignment]


class HoldForm(forms.Form):
    starts_on = forms.DateField(label="From", initial=timezone.localdate)
    reason = forms.CharField(max_length=300, help_text="For example: inpatient stay.")
    keep_seat_days = forms.IntegerField(
        label="Keep the seat for (days)",
        min_value=1,
        max_value=60,
        initial=lambda: settings.HOLD_SEAT_DAYS,
    )


class ChangeTrackForm(forms.Form):
    track = forms.ModelChoiceField(queryset=Track.objects.none(), empty_label=None)
    on = forms.DateField(label="From", initial=timezone.localdate)
    reason = forms.CharField(
        max_length=300, help_text="For example: started a day job."
    )

    def __init__(self, *args: Any, enrollment: Enrollment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["track"])
        field.queryset = (
            Track.objects.active()  # type: ignore[attr-defined]
            .with_seats()
            .filter(program_id=enrollment.track.program_id)
            .exclude(pk=enrollment.track_id)
        )
        field.label_from_instance = track_with_seats  # type: ignore[method-assign,assignment]


class WaitlistWithSeatsAdmin(WaitlistEntryAdmin):
    """Intake's waitlist, plus offering seats and admitting (programs' part of it)."""

    actions = [*WaitlistEntryAdmin.actions, "offer_seat", "admit"]

    def _choose_track(
        self,
        request: HttpRequest,
        queryset: QuerySet[WaitlistEntry],
        action: str,
        title: str,
    ) -> tuple[ChooseTrackForm | None, HttpResponse | None]:
        levels = set(queryset.values_list("level_of_care", flat=True))
        level = levels.pop() if len(levels) == 1 else None
        if "apply" in request.POST:
            form = ChooseTrackForm(request.POST, level_of_care=level)
            if form.is_valid():
                return form, None
        else:
            form = ChooseTrackForm(level_of_care=level)
        page = action_page(
            self,
            request,
            "choose_track.html",
            title=title,
            form=form,
            people=[
                f"{entry.client}: {entry.get_level_of_care_display()}, "
                f"{entry.get_preferred_schedule_display().lower()}"
                for entry in queryset.select_related("client")
            ],
            selected=[entry.pk for entry in queryset],
            back_url=reverse("admin:intake_waitlistentry_changelist"),
            action=action,
        )
        return None, page

    @admin.action(permissions=["change"], description="Offer a seat…")
    def offer_seat(
        self, request: HttpRequest, queryset: QuerySet[WaitlistEntry]
    ) -> HttpResponse | None:
        form, page = self._choose_track(request, queryset, "offer_seat", "Offer a seat")
        if page is not None:
            return page
        assert form is not None
        for entry in queryset.select_related("client"):
            try:
                offer = make_offer(
                    entry=entry, track=form.cleaned_data["track"], by=request.user
                )
            except ValidationError as error:
                self.message_user(
                    request, f"{entry.client}: {error.messages[0]}", messages.ERROR
                )
            else:
                expires = timezone.localtime(offer.expires_at)
                self.message_user(
                    request,
                    f"Seat in {offer.track} offered to {entry.client}, held until "
                    f"{expires:%Y-%m-%d %H:%M}.",
                    messages.SUCCESS,
                )
        return None

    @admin.action(permissions=["change"], description="Admit…")
    def admit(
        self, request: HttpRequest, queryset: QuerySet[WaitlistEntry]
    ) -> HttpResponse | None:
        form, page = self._choose_track(
            request, queryset, "admit", "Admit into a track"
        )
        if page is not None:
            return page
        assert form is not None
        admitted_on: datetime.date | None = form.cleaned_data["admitted_on"]
        for entry in queryset.select_related("client"):
            open_offer = (
                SeatOffer.objects.open()
                .filter(waitlist_entry=entry, track=form.cleaned_data["track"])
                .first()
            )
            try:
                admit_client(
                    track=form.cleaned_data["track"],
                    by=request.user,
                    admitted_on=admitted_on,
                    offer=open_offer,
                    entry=None if open_offer else entry,
                )
            except ValidationError as error:
                self.message_user(
                    request, f"{entry.client}: {error.messages[0]}", messages.ERROR
                )
            else:
                self.message_user(
                    request, f"{entry.client} admitted.", messages.SUCCESS
                )
        return None


admin.site.unregister(WaitlistEntry)
admin.site.register(WaitlistEntry, WaitlistWithSeatsAdmin)


class EnrollmentInline(admin.TabularInline):
    model = Enrollment
    fields = ("track", "status", "admitted_on", "discharged_on", "primary_therapist")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "episodes of care"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Enrollment]:
        # Each row's name (its change link) names the client and the track.
        queryset = (
            super()
            .get_queryset(request)
            .select_related("client", "track", "primary_therapist")
        )
        return queryset.visible_to(request.user)  # type: ignore[attr-defined]


def clients_visible_to(
    request: HttpRequest, queryset: QuerySet[Any], field: str
) -> Any:
    """All of them with the clinic-wide permission; else only the caseload's clients
    and those the user holds emergency access to now (even before any enrollment)."""
    if request.user.has_perm("programs.view_every_enrollment"):
        return queryset
    caseload = Enrollment.objects.visible_to(request.user).values("client_id")
    granted = (
        EmergencyAccess.objects.active()
        .filter(user=request.user.pk)
        .values("client_id")
    )
    return queryset.filter(
        Q(**{f"{field}__in": caseload}) | Q(**{f"{field}__in": granted})
    )


class ClientWithCaseloadAdmin(RowScopedAdmin, ClientAdmin):
    """Intake's client page, limited to a clinician's caseload, with the episodes,
    and admission straight from the client (a returning or eligible client)."""

    inlines = [*ClientAdmin.inlines, EnrollmentInline]
    actions = [*ClientAdmin.actions, "admit"]
    change_form_template = "admin/programs/client_change_form.html"

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        if obj is not None:
            context["safety_alerts"] = safety_alerts(request, enrollment__client=obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.action(permissions=["admit"], description="Admit…")
    def admit(
        self, request: HttpRequest, queryset: QuerySet[Client]
    ) -> HttpResponse | None:
        """Admit into a chosen track; their open waitlist entry for that level, if
        any, is marked admitted with it."""
        form = ChooseTrackForm(
            request.POST if "apply" in request.POST else None, level_of_care=None
        )
        if form.is_valid():
            track = form.cleaned_data["track"]
            for person in queryset:
                entry = (
                    WaitlistEntry.objects.open()
                    .filter(client=person, level_of_care=track.program.level_of_care)
                    .first()
                )
                try:
                    admit_client(
                        track=track,
                        by=request.user,
                        admitted_on=form.cleaned_data["admitted_on"],
                        entry=entry,
                        client=None if entry else person,
                    )
                except ValidationError as error:
                    message = f"{person}: {error.messages[0]}"
                    self.message_user(request, message, messages.ERROR)
                else:
                    self.message_user(request, f"{person} admitted.", messages.SUCCESS)
            return None
        return action_page(
            self,
            request,
            "choose_track.html",
            title="Admit into a track",
            form=form,
            people=[str(person) for person in queryset],
            selected=[person.pk for person in queryset],
            back_url=reverse("admin:intake_client_changelist"),
            action="admit",
        )

    def has_admit_permission(self, request: HttpRequest) -> bool:
        """Admitting takes a seat: the same right as working the seat offers."""
        return request.user.has_perm("programs.change_seatoffer")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Client]:
        return clients_visible_to(request, super().get_queryset(request), "pk")


class ConsentWithCaseloadAdmin(RowScopedAdmin, ConsentAdmin):
    """Intake's consents, limited to the clients a clinician may see."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Consent]:
        return clients_visible_to(request, super().get_queryset(request), "client")


admin.site.unregister(Client)
admin.site.register(Client, ClientWithCaseloadAdmin)
admin.site.unregister(Consent)
admin.site.register(Consent, ConsentWithCaseloadAdmin)


class RollFilter(admin.SimpleListFilter):
    title = "roll"
    parameter_name = "roll"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("not_taken", "Not taken yet (past sessions)"), ("taken", "Taken")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "not_taken":
            return queryset.roll_not_taken()  # type: ignore[attr-defined]
        if self.value() == "taken":
            return queryset.filter(roll_taken_at__isnull=False)
        return queryset


class MarkForm(forms.Form):
    """One line of the roll: a person on the roster and how they attended."""

    enrollment = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(choices=Attendance.Status.choices)
    minutes = forms.IntegerField(
        required=False, min_value=0, widget=forms.NumberInput(attrs={"size": 4})
    )


MarkFormSet = forms.formset_factory(MarkForm, extra=0)


@admin.register(GroupSession)
class GroupSessionAdmin(RowScopedAdmin):
    list_display = [
        "starts_at",
        "track",
        "service",
        "facilitator",
        "topic",
        "cancelled",
        "roll_taken_at",
    ]
    list_filter = [RollFilter, "track", "service", "cancelled"]
    # And the track's name: see get_search_results.
    search_fields = ["topic"]
    list_select_related = ["track", "facilitator"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fields = [
        "track",
        "service",
        "starts_at",
        "duration_minutes",
        "facilitator",
        "topic",
        "cancelled",
        "roll_taken_at",
        "roll_taken_by",
    ]
    readonly_fields = ["roll_taken_at", "roll_taken_by"]
    actions = ["cancel_sessions"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[GroupSession]:
        queryset = super().get_queryset(request)
        return queryset.visible_to(request.user)  # type: ignore[attr-defined]

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name == "facilitator":
            kwargs.update(staff_select(request, staff_choices()))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[GroupSession], search_term: str
    ) -> tuple[QuerySet[GroupSession], bool]:
        """Topics (a trigram index on PostgreSQL), or the sessions of the tracks
        whose name matches: the few tracks are looked up first, so the search reads
        the session index by track instead of joining every session to its track."""
        results, may_have_duplicates = super().get_search_results(
            request, queryset, search_term
        )
        term = search_term.strip()
        if term:
            tracks = list(
                Track.objects.filter(name__icontains=term).values_list("pk", flat=True)
            )
            results |= queryset.filter(track__in=tracks)
        return results, may_have_duplicates

    def get_urls(self) -> list[Any]:
        from django.urls import path

        return [
            path(
                "<path:object_id>/attendance/",
                self.admin_site.admin_view(self.attendance_view),
                name="programs_groupsession_attendance",
            ),
            *super().get_urls(),
        ]

    @admin.action(permissions=["change"], description="Cancel the selected sessions")
    def cancel_sessions(
        self, request: HttpRequest, queryset: QuerySet[GroupSession]
    ) -> None:
        count = queryset.filter(cancelled=False).update(cancelled=True)
        self.message_user(request, f"{count} session(s) cancelled.", messages.SUCCESS)

    def attendance_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The whole roll of one session on one screen, saved at once."""
        session = self.get_object(request, object_id)
        if session is None or not self.has_change_permission(request, session):
            raise PermissionDenied
        roster = list(session.roster())
        marked = {row.enrollment_id: row for row in session.attendance.all()}
        initial = [
            {
                "enrollment": enrollment.pk,
                "status": marked[enrollment.pk].status
                if enrollment.pk in marked
                else Attendance.Status.PRESENT,
                "minutes": marked[enrollment.pk].minutes_attended
                if enrollment.pk in marked
                else None,
            }
            for enrollment in roster
        ]
        formset = MarkFormSet(request.POST or None, initial=initial)
        if request.method == "POST" and len(formset.forms) != len(roster):
            # The roster changed since the page was opened (or the POST was altered):
            # show the current roster again rather than guess who is who.
            self.message_user(
                request,
                "The roster changed: check the marks and save again.",
                messages.ERROR,
            )
            formset = MarkFormSet(initial=initial)
        elif request.method == "POST" and formset.is_valid():
            marks = {
                form.cleaned_data["enrollment"]: (
                    form.cleaned_data["status"],
                    form.cleaned_data["minutes"],
                )
                for form in formset.forms
            }
            try:
                count = take_attendance(session=session, by=request.user, marks=marks)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(
                    request, f"Roll saved: {count} marked.", messages.SUCCESS
                )
                return HttpResponseRedirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Attendance: {session}",
            "opts": self.opts,
            "session": session,
            "original": session,
            "rows": list(zip(roster, formset.forms, strict=True)),
            "formset": formset,
        }
        return TemplateResponse(request, "admin/programs/attendance.html", context)


@admin.register(Appointment)
class AppointmentAdmin(RowScopedAdmin):
    """Individual therapy and medication management, one client each."""

    list_display = ["starts_at", "enrollment", "service", "clinician", "attendance"]
    list_filter = ["service", "attendance", "clinician"]
    search_fields = ["=enrollment__client__mrn", "enrollment__client__last_name"]
    list_select_related = ["enrollment__client", "enrollment__track", "clinician"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fields = [
        "enrollment",
        "service",
        "starts_at",
        "duration_minutes",
        "clinician",
        "attendance",
        "minutes_attended",
    ]
    autocomplete_fields = ["enrollment"]
    radio_fields = {"service": admin.HORIZONTAL}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Appointment]:
        queryset = super().get_queryset(request)
        return queryset.visible_to(request.user)  # type: ignore[attr-defined]

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name == "clinician":
            kwargs.update(staff_select(request, staff_choices()))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
