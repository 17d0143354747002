"""The discharge admin: discharge plans with their referrals, follow-ups and
amendments, and the enrollment page's "Discharge" and "Step to another level of
care" (added by re-registering the programs admin's enrollment page, so programs
never imports discharge). The rules live in ``discharge.workflows`` and the models.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from intake.admin.filters import StaffListFilter
from intake.admin.widgets import staff_select
from intake.models import Consent
from programs.admin.caseload import CaseloadAdmin, in_caseload
from programs.admin.core import EnrollmentAdmin, staff_choices
from programs.admin.measures import outcome_panel
from programs.admin.plans import add_errors
from programs.availability import ready_to_offer
from programs.models import DischargeType, Enrollment, ObjectiveStatus, Track
from programs.models.plans import latest_reviewed_status
from programs.pagination import EstimatedCountPaginator

from . import printing, workflows
from .models import (
    AftercareReferral,
    Amendment,
    DischargePlan,
    FollowUp,
)


def page_records(request: HttpRequest, model: Any) -> QuerySet[Any]:
    """The record whose change page this request is for (none on an add page), for
    limiting a form's choices to what belongs to it."""
    match = request.resolver_match
    object_id = str(match.kwargs.get("object_id", "")) if match else ""
    if not object_id.isdigit():
        return model.objects.none()
    return model.objects.filter(pk=object_id)


class ReferralInline(admin.StackedInline):  # type: ignore[type-arg]
    """Editable while the plan is a draft; afterwards only the referral's progress
    (status, its date, the first appointment) is recorded."""

    model = AftercareReferral
    extra = 0
    fields = [
        ("kind", "organisation"),
        ("contact_name", "phone"),
        "address",
        "days_and_hours",
        ("first_appointment_at", "status", "status_on"),
        ("referred_on", "consent"),
    ]
    PROGRESS = ["first_appointment_at", "status", "status_on"]

    def plan_editable(self, request: HttpRequest, obj: Any) -> bool:
        return request.user.has_perm("discharge.change_dischargeplan") and (
            obj is None or not obj.is_finalised
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.is_finalised:
            return [
                name
                for row in self.fields
                for name in (row if isinstance(row, tuple) else (row,))
                if name not in self.PROGRESS
            ]
        return []

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("discharge.view_dischargeplan")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.plan_editable(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("discharge.change_dischargeplan")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.plan_editable(request, obj)

    def get_extra(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> int:
        return 1 if self.plan_editable(request, obj) and obj is not None else 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[AftercareReferral]:
        # The consent is shown on each row once the plan is finalised.
        return super().get_queryset(request).select_related("consent")

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        consent = formset.form.base_fields.get("consent")
        if consent is not None:
            # Read once for every row's select, not once per row.
            consent.choices = list(consent.choices)  # type: ignore[attr-defined]
        return formset

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name == "consent":
            # Only this client's consents (the plan is the page's object).
            client = page_records(request, DischargePlan).values("enrollment__client")
            kwargs["queryset"] = Consent.objects.filter(client__in=client)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AmendmentInline(admin.StackedInline):  # type: ignore[type-arg]
    """Corrections after the plan is finalised or the client discharged: added,
    never edited or removed."""

    model = Amendment
    extra = 0
    fields = ["what", "correction", "why", "written_by", "written_at"]
    readonly_fields = ["written_by", "written_at"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("discharge.view_dischargeplan")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (
            obj is not None
            and (obj.is_finalised or obj.discharged_at is not None)
            and request.user.has_perm("discharge.change_dischargeplan")
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_extra(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> int:
        return 1 if self.has_add_permission(request, obj) else 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Amendment]:
        return super().get_queryset(request).select_related("written_by")


class FollowUpInline(admin.TabularInline):  # type: ignore[type-arg]
    model = FollowUp
    extra = 0
    fields = ["days_after", "due_on", "owner", "outcome", "done_on", "note"]
    readonly_fields = ["days_after", "due_on", "owner", "outcome", "done_on", "note"]
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[FollowUp]:
        return super().get_queryset(request).select_related("owner")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("discharge.view_followup")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DueFilter(admin.SimpleListFilter):
    title = "due"
    parameter_name = "due"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("this_week", "Discharges planned in the next 7 days"),
            ("summary_overdue", "Discharge summary overdue (15 days)"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        today = timezone.localdate()
        if self.value() == "this_week":
            return queryset.planned_between(  # type: ignore[attr-defined]
                today, today + datetime.timedelta(days=7)
            )
        if self.value() == "summary_overdue":
            return queryset.summary_overdue(today)  # type: ignore[attr-defined]
        return queryset


# The plan's own fields, in the order of the paper form.
PLAN_FIELDS = [
    "planned_on",
    "intended_type",
    "intended_reason",
    "client_agreed_on",
    "outreach_attempts",
    "course_summary",
    "current_medications",
    "continuing_prescriber",
    "next_medication_appointment",
    "supply_until",
    "warning_signs",
    "coping_strategies",
    "people_to_call",
    "crisis_lines",
    "reviewed_by",
]


class DischargePlanForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = DischargePlan
        fields = ["enrollment", *PLAN_FIELDS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        enrollment = cleaned.get("enrollment")
        if (
            not self.instance.pk
            and enrollment
            and DischargePlan.objects.filter(enrollment=enrollment).exists()
        ):
            self.add_error(
                "enrollment", "This enrollment already has a discharge plan."
            )
        return cleaned


@admin.register(DischargePlan)
class DischargePlanAdmin(CaseloadAdmin):
    form = DischargePlanForm
    list_display = [
        "client",
        "intended_type",
        "planned_on",
        "status",
        "discharged_on",
        "summary_due_on",
        "therapist",
    ]
    list_filter = [
        DueFilter,
        "status",
        "intended_type",
        ("enrollment__primary_therapist", StaffListFilter),
        "enrollment__track__program",
    ]
    search_fields = [
        "=enrollment__client__mrn",
        "enrollment__client__last_name",
        "enrollment__client__first_name",
    ]
    list_select_related = ["enrollment__client", "enrollment__primary_therapist"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    autocomplete_fields = ["enrollment"]
    inlines = [ReferralInline, FollowUpInline, AmendmentInline]
    actions = None
    CONTENT = PLAN_FIELDS
    RECORD = [
        "status",
        "prepared_by",
        "finalised",
        "discharge",
        "treatment_progress",
        "outcomes",
    ]
    fieldsets = [
        (None, {"fields": ["enrollment", *RECORD[:4]]}),
        (
            "The discharge",
            {
                "fields": [
                    ("planned_on", "intended_type"),
                    "intended_reason",
                    "client_agreed_on",
                    "outreach_attempts",
                ]
            },
        ),
        (
            "Course of treatment and gains made",
            {"fields": ["treatment_progress", "outcomes", "course_summary"]},
        ),
        (
            "Medication continuity",
            {
                "fields": [
                    "current_medications",
                    "continuing_prescriber",
                    ("next_medication_appointment", "supply_until"),
                ]
            },
        ),
        (
            "Relapse and crisis plan",
            {
                "fields": [
                    "warning_signs",
                    "coping_strategies",
                    "people_to_call",
                    "crisis_lines",
                ]
            },
        ),
        (None, {"fields": ["reviewed_by"]}),
    ]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # kept, superusers included: a correction is an amendment

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [(None, {"fields": ["enrollment"]})]
        return self.fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        if obj.is_finalised:
            return ["enrollment", *self.RECORD, *self.CONTENT]
        return ["enrollment", *self.RECORD]

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> Any:
        return super().get_inline_instances(request, obj) if obj else []

    def get_queryset(self, request: HttpRequest) -> QuerySet[DischargePlan]:
        return (
            super()
            .get_queryset(request)
            .select_related(
                "enrollment__client",
                "enrollment__track__program",
                "enrollment__primary_therapist",
                "prepared_by",
                "finalised_by",
                "discharged_by",
            )
        )

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name == "enrollment":
            kwargs["queryset"] = in_caseload(
                Enrollment.objects.open(), request.user, ""
            )
        if db_field.name == "reviewed_by":
            kwargs.update(staff_select(request, staff_choices()))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        # From the enrollment page's "Start the discharge plan" (?enrollment=<id>).
        # Anything but an id is left out: the widget would look it up (a 500).
        enrollment = request.GET.get("enrollment", "")
        return {"enrollment": enrollment} if enrollment.isdecimal() else {}

    def save_model(
        self, request: HttpRequest, obj: DischargePlan, form: Any, change: bool
    ) -> None:
        if not change:
            # Starting a plan is the service's job; the admin then opens it.
            started = workflows.start_discharge_plan(
                enrollment=obj.enrollment, by=request.user
            )
            obj.pk, obj.prepared_by = started.pk, started.prepared_by
            obj.created_at, obj.status = started.created_at, started.status
            obj._state.adding = False
            return
        if obj.is_finalised:
            return  # nothing of the plan itself changes: amendments and progress do
        obj.save()

    def response_post_save_add(
        self, request: HttpRequest, obj: DischargePlan
    ) -> HttpResponseRedirect:
        # A started plan is filled in on its own page, not found again in the list.
        return HttpResponseRedirect(
            reverse("admin:discharge_dischargeplan_change", args=[obj.pk])
        )

    def save_formset(
        self, request: HttpRequest, form: Any, formset: Any, change: bool
    ) -> None:
        if formset.model is Amendment:
            for amendment in formset.save(commit=False):
                amendment.written_by = request.user
                amendment.written_at = timezone.now()
                amendment.save()
            return
        super().save_formset(request, form, formset, change)

    # ---- columns and read-only fields ----

    @admin.display(description="client", ordering="enrollment__client__last_name")
    def client(self, plan: DischargePlan) -> Any:
        return plan.enrollment.client

    @admin.display(description="therapist")
    def therapist(self, plan: DischargePlan) -> Any:
        return plan.enrollment.primary_therapist or "-"

    @admin.display(description="discharged", ordering="enrollment__discharged_on")
    def discharged_on(self, plan: DischargePlan) -> Any:
        return plan.enrollment.discharged_on or "-"

    @admin.display(description="finalised")
    def finalised(self, plan: DischargePlan) -> str:
        if plan.finalised_at is None:
            return "not yet"
        when = timezone.localtime(plan.finalised_at)
        return f"{plan.finalised_by} on {when:%Y-%m-%d %H:%M}"

    @admin.display(description="discharge")
    def discharge(self, plan: DischargePlan) -> str:
        enrollment = plan.enrollment
        if enrollment.discharged_on is None:
            return "still in treatment"
        return (
            f"{enrollment.get_discharge_type_display()} on {enrollment.discharged_on}"
            f", recorded by {plan.discharged_by}: {enrollment.discharge_reason}"
        )

    @admin.display(description="treatment plan: problems and objectives")
    def treatment_progress(self, plan: DischargePlan) -> str:
        """Pulled from the plan in force (or the latest version), never retyped."""
        treatment_plan = plan.enrollment.treatment_plans.current()
        if treatment_plan is None:
            return "No treatment plan."
        objectives = list(treatment_plan.objectives.select_related("goal__problem"))
        reviewed = latest_reviewed_status(objectives)
        return format_html(
            '<table class="timeline"><thead><tr><th scope="col">Problem</th>'
            '<th scope="col">Objective</th><th scope="col">Status</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        row.goal.problem.statement,
                        row.statement,
                        ObjectiveStatus(reviewed.get(row.pk, row.status)).label,
                    )
                    for row in objectives
                ),
            ),
        )

    @admin.display(description="outcome measures: admission and latest")
    def outcomes(self, plan: DischargePlan) -> str:
        """PHQ-9 and GAD-7 baseline against latest, with the DOMAIN.md section 4
        flags (response, remission, reliable improvement, recovery)."""
        return outcome_panel(plan.enrollment)

    # ---- finalise, print ----

    def get_urls(self) -> list[Any]:
        def view(route: str, name: str, function: Any) -> Any:
            return path(
                route,
                self.admin_site.admin_view(function),
                name=f"discharge_dischargeplan_{name}",
            )

        return [
            view("<path:object_id>/finalise/", "finalise", self.finalise_view),
            # The referral route first: <path:> would swallow "27/referral/31".
            view(
                "<path:object_id>/referral/<int:referral_id>/print/",
                "referral_copy",
                self.print_view,
            ),
            view("<path:object_id>/print/", "client_copy", self.print_view),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        plan = self.get_object(request, object_id)
        if plan is not None:
            extra_context = {
                **(extra_context or {}),
                "can_finalise": not plan.is_finalised
                and request.user.has_perm("discharge.change_dischargeplan"),
                "referrals": list(plan.referrals.all()),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def plan_for(self, request: HttpRequest, object_id: str, permission: str) -> Any:
        plan = self.get_object(request, object_id)
        if plan is None:
            raise Http404("No such discharge plan in your caseload.")
        if not request.user.has_perm(permission):
            raise PermissionDenied
        return plan

    def finalise_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        plan = self.plan_for(request, object_id, "discharge.change_dischargeplan")
        back = reverse("admin:discharge_dischargeplan_change", args=[plan.pk])
        if plan.is_finalised:
            # Not a second "Finalise" button on an old link: it would only fail.
            self.message_user(
                request,
                "This discharge plan is already finalised: a correction is an "
                "amendment.",
                messages.WARNING,
            )
            return HttpResponseRedirect(back)
        if request.method == "POST":
            try:
                workflows.finalise_plan(plan=plan, by=request.user)
            except ValidationError as error:
                for message in error.messages:
                    self.message_user(request, message, messages.ERROR)
            else:
                self.message_user(
                    request, "The discharge plan is finalised.", messages.SUCCESS
                )
            return HttpResponseRedirect(back)
        return TemplateResponse(
            request,
            "admin/discharge/dischargeplan/finalise.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": plan,
                "plan": plan,
                "title": "Finalise the discharge plan",
                "missing": workflows.missing_for(plan),
            },
        )

    def print_view(
        self, request: HttpRequest, object_id: str, referral_id: int | None = None
    ) -> HttpResponse:
        plan = self.plan_for(request, object_id, "discharge.view_dischargeplan")
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": plan,
            "plan": plan,
        }
        if referral_id is None:
            context.update(printing.client_copy(plan), title="The client's copy")
            template = "client_copy.html"
        else:
            referral = plan.referrals.filter(pk=referral_id).first()
            if referral is None:
                raise Http404("No such referral on this plan.")
            context.update(
                printing.referral_copy(plan, referral),
                referral=referral,
                title=f"Referral copy: {referral.organisation}",
            )
            template = "referral_copy.html"
        return TemplateResponse(
            request, f"admin/discharge/dischargeplan/{template}", context
        )


@admin.register(FollowUp)
class FollowUpAdmin(CaseloadAdmin):
    """Post-discharge check-ins: the owner records the outcome; attending the first
    aftercare appointment moves its referral to "attended"."""

    enrollment_path = "plan__enrollment"
    list_display = ["due_on", "client", "days_after", "owner", "outcome", "done_on"]
    list_filter = ["outcome", ("owner", StaffListFilter)]
    search_fields = [
        "=plan__enrollment__client__mrn",
        "plan__enrollment__client__last_name",
    ]
    list_select_related = ["plan__enrollment__client", "owner"]
    show_full_result_count = False
    # Two a discharge: over 100,000 rows after ten years.
    paginator = EstimatedCountPaginator
    fields = [
        "plan",
        "days_after",
        "due_on",
        "owner",
        "referral",
        "outcome",
        "done_on",
        "note",
    ]
    readonly_fields = ["plan", "days_after", "due_on"]

    def get_list_filter(self, request: HttpRequest) -> Any:
        return [OverdueFilter, *self.list_filter]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # scheduled by the discharge

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a missed check-in stays on record

    def get_queryset(self, request: HttpRequest) -> QuerySet[FollowUp]:
        return (
            super()
            .get_queryset(request)
            .select_related("plan__enrollment__client", "owner", "referral")
        )

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name == "owner":
            # The client's care team: anyone else could not open the follow-up.
            follow_up = (
                page_records(request, FollowUp)
                .select_related("plan__enrollment")
                .first()
            )
            owners = follow_up.possible_owners() if follow_up else set()
            kwargs.update(staff_select(request, staff_choices().filter(pk__in=owners)))
        if db_field.name == "referral":
            # Only the referrals of this follow-up's own plan.
            plan = page_records(request, FollowUp).values("plan")
            kwargs["queryset"] = AftercareReferral.objects.filter(plan__in=plan)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(
        self, request: HttpRequest, obj: FollowUp, form: Any, change: bool
    ) -> None:
        obj.save()
        workflows.follow_up_done(obj)

    @admin.display(description="client")
    def client(self, follow_up: FollowUp) -> Any:
        return follow_up.plan.enrollment.client


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Overdue")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        if self.value() == "yes":
            return queryset.overdue(timezone.localdate())  # type: ignore[attr-defined]
        return queryset


# ---- the enrollment page: discharge, step to another level of care ----


class DischargeForm(forms.Form):
    discharge_type = forms.ChoiceField(choices=DischargeType.choices)
    on = forms.DateField(
        label="last day in the program",
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class StepForm(forms.Form):
    track = forms.ModelChoiceField(queryset=Track.objects.none(), empty_label=None)
    on = forms.DateField(
        label="moves on",
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, enrollment: Enrollment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        level = enrollment.track.program.level_of_care
        self.fields["track"].queryset = (  # type: ignore[attr-defined]
            Track.objects.active()  # type: ignore[attr-defined]
            .exclude(program__level_of_care=level)
            .select_related("program")
        )


class EnrollmentWithDischargeAdmin(EnrollmentAdmin):
    """Programs' enrollment page, plus its discharge plan, "Discharge…" and "Step to
    another level of care…"."""

    change_form_template = "admin/discharge/enrollment_change_form.html"

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<path:object_id>/discharge/",
                self.admin_site.admin_view(self.discharge_view),
                name="programs_enrollment_discharge",
            ),
            path(
                "<path:object_id>/step/",
                self.admin_site.admin_view(self.step_view),
                name="programs_enrollment_step",
            ),
            *super().get_urls(),
        ]

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
            context.update(
                discharge_plan=DischargePlan.objects.filter(enrollment=obj).first(),
                may_discharge=obj.status != Enrollment.Status.DISCHARGED
                and request.user.has_perm("discharge.change_dischargeplan"),
                may_plan_discharge=request.user.has_perm("discharge.add_dischargeplan"),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def enrollment_for(self, request: HttpRequest, object_id: str) -> Enrollment:
        enrollment = self.get_object(request, object_id)
        if enrollment is None:
            raise Http404("No such enrollment in your caseload.")
        if not request.user.has_perm("discharge.change_dischargeplan"):
            raise PermissionDenied
        return enrollment

    def page(
        self, request: HttpRequest, enrollment: Enrollment, **context: Any
    ) -> TemplateResponse:
        return TemplateResponse(
            request,
            "admin/discharge/discharge_form.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": enrollment,
                "enrollment": enrollment,
                **context,
            },
        )

    def discharge_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        enrollment = self.enrollment_for(request, object_id)
        plan = DischargePlan.objects.filter(enrollment=enrollment).first()
        initial = (
            {"discharge_type": plan.intended_type, "reason": plan.intended_reason}
            if plan
            else {}
        )
        form = DischargeForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                plan = workflows.discharge_client(
                    enrollment=enrollment,
                    by=request.user,
                    on=form.cleaned_data["on"],
                    discharge_type=form.cleaned_data["discharge_type"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                self.message_user(
                    request,
                    f"{enrollment.client} is discharged. "
                    f"{next_to_offer(request, enrollment)}",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:discharge_dischargeplan_change", args=[plan.pk])
                )
        return self.page(
            request,
            enrollment,
            title=f"Discharge {enrollment.client}",
            form=form,
            plan=plan,
            missing=workflows.missing_for(plan) if plan else [],
            submit="Discharge",
        )

    def step_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        enrollment = self.enrollment_for(request, object_id)
        form = StepForm(request.POST or None, enrollment=enrollment)
        if request.method == "POST" and form.is_valid():
            try:
                new = workflows.step_to(
                    enrollment=enrollment,
                    by=request.user,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                self.message_user(
                    request,
                    f"{enrollment.client} moved to {new.track}; the treatment plan "
                    "is carried forward as the new episode's first draft. "
                    f"{next_to_offer(request, enrollment)}",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:programs_enrollment_change", args=[new.pk])
                )
        return self.page(
            request,
            enrollment,
            title=f"Step {enrollment.client} to another level of care",
            form=form,
            submit="Move",
        )


def next_to_offer(request: HttpRequest, enrollment: Enrollment) -> str:
    """The freed seat, and (for those who work the waitlist) who is next for it: the
    same as the coordinators' "Ready to offer" on the index."""
    for track, entry in ready_to_offer():
        if track.pk == enrollment.track_id:
            if request.user.has_perm("intake.view_waitlistentry"):
                return (
                    f"A seat is open in {track}: next to offer it to is "
                    f"{entry.client.display_name}."
                )
            return (
                f"A seat is open in {track}; the intake coordinators see who is next."
            )
    return ""


admin.site.unregister(Enrollment)
admin.site.register(Enrollment, EnrollmentWithDischargeAdmin)
