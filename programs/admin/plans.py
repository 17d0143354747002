"""Treatment plans in the admin: the plan page reads top to bottom like the paper
form (problems, goals, objectives, interventions, each level one flat inline keyed
to its parent), a draft is edited, a signed plan is only read, printed, acknowledged,
reviewed and revised. The rules live in ``programs.plans`` and the models; this
module only wires pages to them.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from intake.admin.filters import StaffListFilter
from intake.admin.widgets import staff_select

from .. import plans
from ..models import (
    Enrollment,
    ObjectiveStatus,
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    PlanReview,
    PlanStatus,
    ReviewDecision,
    TreatmentPlan,
)
from ..models.plans import Acknowledgement, StalePlanError, latest_reviewed_status
from ..pagination import EstimatedCountPaginator
from .caseload import CaseloadAdmin, in_caseload
from .core import staff_choices


class PlanPartFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    """One level of the plan. Removing a row that still has rows under it is refused
    by Django's own check of protected rows, with a message naming them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shared_choices: dict[str, list[Any]] = {}

    def add_fields(self, form: Any, index: int | None) -> None:
        super().add_fields(form, index)
        # A row's select (this plan's problems, goals or objectives; staff; the
        # presenting concerns) lists the same choices in every row: read them once
        # per formset, not once per row (20 problems made ~100 queries). Validation
        # still looks the chosen id up in the field's queryset.
        for name, field in form.fields.items():
            if isinstance(field, forms.ModelChoiceField) and not field.widget.is_hidden:
                if name not in self.shared_choices:
                    self.shared_choices[name] = list(field.iterator(field))
                field.choices = self.shared_choices[name]


class PlanPartInline(admin.StackedInline):  # type: ignore[type-arg]
    """One level of the plan. Editable only on a draft, by whoever may change the
    plan; the rows carry no permissions of their own (they exist only in a plan)."""

    fk_name = "plan"
    formset = PlanPartFormSet
    parent_field: str | None = None
    classes = ["plan-level"]

    def editable(self, request: HttpRequest, obj: Any) -> bool:
        return (
            obj is not None
            and obj.is_draft
            and request.user.has_perm("programs.change_treatmentplan")
        )

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("programs.view_treatmentplan")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.editable(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.editable(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.editable(request, obj)

    def get_extra(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> int:
        return 1 if self.editable(request, obj) else 0

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        if self.parent_field and self.parent_field in formset.form.base_fields:
            # Only this plan's rows can be a parent (a crafted id from another plan,
            # or another client's, is "not one of the available choices").
            field = formset.form.base_fields[self.parent_field]
            field.queryset = field.queryset.filter(plan=obj)  # type: ignore[attr-defined]
        return formset


class ProblemInline(PlanPartInline):
    model = PlanProblem
    fields = ["statement", "concern"]
    verbose_name_plural = "1. Problems"

    def get_queryset(self, request: HttpRequest) -> QuerySet[PlanProblem]:
        return super().get_queryset(request).select_related("concern")


class GoalInline(PlanPartInline):
    model = PlanGoal
    fields = ["problem", "client_words"]
    parent_field = "problem"
    verbose_name_plural = "2. Goals (save the problems first)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[PlanGoal]:
        return super().get_queryset(request).select_related("problem")


class ObjectiveInline(PlanPartInline):
    model = PlanObjective
    fields = ["goal", "statement", "target_date", "status", "latest_review"]
    readonly_fields = ["latest_review"]
    parent_field = "goal"
    verbose_name_plural = "3. Objectives (save the goals first)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[PlanObjective]:
        return super().get_queryset(request).select_related("goal")

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        # Inline instances live for one request: read every objective's latest
        # reviewed status once here, not once per row.
        self.reviewed = (
            latest_reviewed_status(list(obj.objectives.all())) if obj else {}
        )
        return super().get_formset(request, obj, **kwargs)

    @admin.display(description="latest review")
    def latest_review(self, objective: PlanObjective) -> str:
        status = getattr(self, "reviewed", {}).get(objective.pk)
        return ObjectiveStatus(status).label if status else "not reviewed yet"


class InterventionInline(PlanPartInline):
    model = PlanIntervention
    fields = ["objective", "service", "frequency", "responsible"]
    parent_field = "objective"
    verbose_name_plural = "4. Interventions (save the objectives first)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[PlanIntervention]:
        return super().get_queryset(request).select_related("objective", "responsible")

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name == "responsible":
            kwargs.update(staff_select(request, staff_choices()))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class TreatmentPlanForm(forms.ModelForm):  # type: ignore[type-arg]
    """The plan's own fields, with the version the editor loaded: a save over a
    newer version is refused (lost-update guard), the row locked while checking."""

    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = TreatmentPlan
        fields = ["enrollment", "strengths", "client_hopes", "discharge_criteria"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["loaded_version"].initial = self.instance.row_version

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        enrollment = cleaned.get("enrollment")
        if not self.instance.pk and enrollment:
            # The enrollment row lock start_plan takes, taken here: of two clinicians
            # starting the plan at once, the second waits, then sees the first's plan
            # as a field error (start_plan refusing it in save_model is a 500).
            locked = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
            if locked.status == Enrollment.Status.DISCHARGED:
                self.add_error("enrollment", "This client has been discharged.")
            elif locked.treatment_plans.exists():
                self.add_error(
                    "enrollment",
                    "This enrollment already has a treatment plan: open it, or "
                    "revise it.",
                )
        if self.instance.pk:
            # The admin saves inside one transaction: this lock holds until the save
            # commits, so a second editor waits here, then sees the new version.
            current = (
                TreatmentPlan.objects.select_for_update(of=("self",))
                .select_related("updated_by")
                .get(pk=self.instance.pk)
            )
            if cleaned.get("loaded_version") != current.row_version:
                raise StalePlanError(current)
            self.instance.row_version = current.row_version
        return cleaned


class PlanRecordAdmin(CaseloadAdmin):
    """What the plan and review pages share: a row outside the user's caseload is
    refused on every route with a 403, which the admin site audits as refused (a 404
    raised would go unrecorded, and the stock "does not exist" redirect of a POST is
    logged as a completed change)."""

    def reachable(self, request: HttpRequest, object_id: str) -> Any:
        """The row, if this user's caseload holds it. One answer for a row outside
        the caseload and for no row at all, so ids tell nothing."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise PermissionDenied
        return obj

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        obj = self.reachable(request, object_id)
        extra_context = {**(extra_context or {}), **self.page_context(request, obj)}
        return super().change_view(request, object_id, form_url, extra_context)

    def page_context(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        return {}


class PlanDueFilter(admin.SimpleListFilter):
    title = "plan due"
    parameter_name = "due"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("overdue", "Overdue"), ("soon", "Due in the next 7 days")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        today = timezone.localdate()
        if self.value() == "overdue":
            due = Enrollment.objects.plan_overdue(today)
        elif self.value() == "soon":
            due = Enrollment.objects.plan_due_soon(today)
        else:
            return queryset
        return queryset.not_superseded().filter(  # type: ignore[attr-defined]
            enrollment__in=due.values("pk")
        )


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(PlanRecordAdmin):
    form = TreatmentPlanForm
    list_display = [
        "client",
        "version",
        "status",
        "signed_at",
        "due",
        "therapist",
    ]
    list_filter = [
        PlanDueFilter,
        "status",
        ("enrollment__primary_therapist", StaffListFilter),
        "enrollment__track__program",
    ]
    search_fields = [
        "=enrollment__client__mrn",
        "enrollment__client__last_name",
        "enrollment__client__first_name",
    ]
    list_select_related = [
        "enrollment__client",
        "enrollment__primary_therapist",
    ]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    autocomplete_fields = ["enrollment"]
    inlines = [ProblemInline, GoalInline, ObjectiveInline, InterventionInline]
    readonly_fields = [
        "version",
        "status",
        "signature",
        "client_acknowledgement",
        "due",
        "reviews",
    ]
    actions = None  # nothing to do to many plans at once; signing is one by one

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [(None, {"fields": ["enrollment", "loaded_version"]})]
        return [
            (
                None,
                {
                    "fields": [
                        ("version", "status"),
                        ("signature", "client_acknowledgement"),
                        "due",
                        "loaded_version",
                    ]
                },
            ),
            (
                "The client",
                {"fields": ["strengths", "client_hopes", "discharge_criteria"]},
            ),
            ("Reviews", {"fields": ["reviews"]}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return [*self.readonly_fields, "enrollment"]
        return self.readonly_fields

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> Any:
        # The content is written once the plan exists (its parents must be saved).
        return super().get_inline_instances(request, obj) if obj else []

    def get_queryset(self, request: HttpRequest) -> QuerySet[TreatmentPlan]:
        return (
            super()
            .get_queryset(request)
            .select_related(
                "enrollment__client",
                "enrollment__track__program",
                "enrollment__primary_therapist",
                "signed_by",
            )
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A signed plan is never edited: its page is read-only, and a POST to it is
        # refused (the admin answers 403 when this is False).
        if obj is not None and not obj.is_draft:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Plans are kept (TreatmentPlan.delete() refuses): offering the delete page,
        # even to a superuser, would end in an error page.
        return False

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name == "enrollment":
            # A plan is started only for an open episode in the user's caseload.
            kwargs["queryset"] = in_caseload(
                Enrollment.objects.open(), request.user, ""
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        # "Start the plan" links here with the enrollment's id; anything else in the
        # address is ignored (the enrollment widget would look it up as an id: a 500).
        enrollment = request.GET.get("enrollment", "")
        if enrollment.isascii() and enrollment.isdecimal():
            return {"enrollment": enrollment}
        return {}

    def save_model(
        self, request: HttpRequest, obj: TreatmentPlan, form: Any, change: bool
    ) -> None:
        if not change:
            # Starting a plan is the service's job (version 1, who started it); the
            # admin then opens the draft it made.
            started = plans.start_plan(enrollment=obj.enrollment, by=request.user)
            obj.pk, obj.version, obj.status = (
                started.pk,
                started.version,
                started.status,
            )
            return
        obj.updated_by = request.user  # type: ignore[assignment]
        obj.updated_at = timezone.now()
        obj.save()

    def response_post_save_add(
        self, request: HttpRequest, obj: TreatmentPlan
    ) -> HttpResponseRedirect:
        # Starting a plan is the first step of writing it: open the new draft, not
        # the list.
        return self.back_to(obj)

    # ---- columns and read-only fields ----

    @admin.display(description="client", ordering="enrollment__client__last_name")
    def client(self, plan: TreatmentPlan) -> Any:
        return plan.enrollment.client

    @admin.display(
        description="therapist", ordering="enrollment__primary_therapist__last_name"
    )
    def therapist(self, plan: TreatmentPlan) -> Any:
        return plan.enrollment.primary_therapist or "-"

    @admin.display(description="plan work due", ordering="enrollment__plan_due_on")
    def due(self, plan: TreatmentPlan) -> str:
        if plan.status == PlanStatus.SUPERSEDED or plan.enrollment.discharged_on:
            return "-"
        due_on = plan.enrollment.plan_due_on
        if due_on is None:
            return "-"
        what = "initial plan" if plan.status == PlanStatus.DRAFT else "review"
        if plan.status == PlanStatus.DRAFT and plan.version > 1:
            what = "review (revision in draft)"
        late = " (overdue)" if due_on < timezone.localdate() else ""
        return f"{what} by {due_on:%Y-%m-%d}{late}"

    @admin.display(description="signed")
    def signature(self, plan: TreatmentPlan) -> str:
        if plan.signed_at is None:
            return "not signed"
        return (
            f"{plan.signed_by} on {timezone.localtime(plan.signed_at):%Y-%m-%d %H:%M}"
        )

    @admin.display(description="client's acknowledgement")
    def client_acknowledgement(self, plan: TreatmentPlan) -> str:
        if not plan.acknowledgement:
            return "not yet" if plan.signed_at else "-"
        text = f"{plan.get_acknowledgement_display()} on {plan.acknowledged_on}"
        if plan.declined_reason:
            text += f": {plan.declined_reason}"
        return text

    @admin.display(description="reviews of this version")
    def reviews(self, plan: TreatmentPlan) -> str:
        rows = list(plan.reviews.select_related("reviewer"))
        if not rows:
            return "none yet"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">{}</a>: {} by {}</li>',
                (
                    (
                        reverse("admin:programs_planreview_change", args=[row.pk]),
                        row.reviewed_on,
                        row.get_decision_display(),
                        row.reviewer,
                    )
                    for row in rows
                ),
            ),
        )

    # ---- the plan's life: sign, acknowledge, review, revise, print ----

    def get_urls(self) -> list[Any]:
        def view(name: str, function: Any) -> Any:
            return path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(function),
                name=f"programs_treatmentplan_{name}",
            )

        return [
            view("sign", self.sign_view),
            view("acknowledge", self.acknowledge_view),
            view("review", self.review_view),
            view("revise", self.revise_view),
            view("print", self.print_view),
            *super().get_urls(),
        ]

    def page_context(self, request: HttpRequest, plan: TreatmentPlan) -> dict[str, Any]:
        if not self.has_view_permission(request, plan):
            return {}
        return self.next_steps(request, plan)

    def next_steps(self, request: HttpRequest, plan: TreatmentPlan) -> dict[str, Any]:
        """Which of the plan's buttons this user sees, given its state."""
        user = request.user
        in_force = plan.status in (PlanStatus.SIGNED, PlanStatus.ACKNOWLEDGED)
        draft = plan.enrollment.treatment_plans.drafts().exclude(pk=plan.pk).first()
        return {
            "can_sign": plan.is_draft and user.has_perm("programs.sign_treatmentplan"),
            "can_acknowledge": plan.status == PlanStatus.SIGNED
            and user.has_perm("programs.change_treatmentplan"),
            "can_review": in_force and user.has_perm("programs.add_planreview"),
            "can_revise": in_force
            and draft is None
            and user.has_perm("programs.add_treatmentplan"),
            "open_draft": draft,
        }

    def plan_for(self, request: HttpRequest, object_id: str, permission: str) -> Any:
        """The plan, if this user may reach it and holds ``permission`` (403
        otherwise)."""
        plan = self.reachable(request, object_id)
        if not request.user.has_perm(permission):
            raise PermissionDenied
        return plan

    def step_page(
        self, request: HttpRequest, plan: TreatmentPlan, template: str, **context: Any
    ) -> TemplateResponse:
        return TemplateResponse(
            request,
            f"admin/programs/treatmentplan/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": plan,
                "plan": plan,
                **context,
            },
        )

    def back_to(self, plan: TreatmentPlan) -> HttpResponseRedirect:
        return HttpResponseRedirect(
            reverse("admin:programs_treatmentplan_change", args=[plan.pk])
        )

    def sign_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        plan = self.plan_for(request, object_id, "programs.sign_treatmentplan")
        missing = plans.problems_before_signing(plan) if plan.is_draft else []
        if request.method == "POST":
            try:
                plans.sign_plan(plan=plan, by=request.user)
            except ValidationError as error:
                for message in error.messages:
                    self.message_user(request, message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Version {plan.version} signed and in force.",
                    messages.SUCCESS,
                )
            return self.back_to(plan)
        return self.step_page(
            request, plan, "sign.html", title="Sign the plan", missing=missing
        )

    def acknowledge_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        plan = self.plan_for(request, object_id, "programs.change_treatmentplan")
        form = AcknowledgementForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                plans.acknowledge_plan(
                    plan=plan,
                    how=form.cleaned_data["how"],
                    on=form.cleaned_data["on"],
                    declined_reason=form.cleaned_data["declined_reason"],
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                self.message_user(
                    request,
                    "The client's acknowledgement is recorded.",
                    messages.SUCCESS,
                )
                return self.back_to(plan)
        return self.step_page(
            request,
            plan,
            "acknowledge.html",
            title="Client's acknowledgement",
            form=form,
        )

    def revise_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        plan = self.plan_for(request, object_id, "programs.add_treatmentplan")
        if request.method != "POST":
            return self.step_page(request, plan, "revise.html", title="Revise the plan")
        try:
            draft = plans.revise_plan(plan=plan, by=request.user)
        except ValidationError as error:
            for message in error.messages:
                self.message_user(request, message, messages.ERROR)
            return self.back_to(plan)
        self.message_user(
            request,
            f"Version {draft.version} started as a draft; version {plan.version} "
            "stays in force until it is signed.",
            messages.SUCCESS,
        )
        return self.back_to(draft)

    def review_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        plan = self.plan_for(request, object_id, "programs.add_planreview")
        objectives = list(plan.objectives.select_related("goal"))
        reviewed = latest_reviewed_status(objectives)
        form = ReviewForm(request.POST or None)
        progress = ObjectiveProgressFormSet(
            request.POST or None,
            initial=[
                {"objective": row.pk, "status": reviewed.get(row.pk, row.status)}
                for row in objectives
            ],
        )
        if request.method == "POST" and len(progress.forms) != len(objectives):
            self.message_user(
                request, "The plan changed: review it again.", messages.ERROR
            )
            return self.back_to(plan)
        if request.method == "POST" and form.is_valid() and progress.is_valid():
            statuses = {
                row.cleaned_data["objective"]: (
                    row.cleaned_data["status"],
                    row.cleaned_data["progress_note"],
                )
                for row in progress.forms
            }
            try:
                review, draft = plans.record_review(
                    plan=plan,
                    by=request.user,
                    objectives=statuses,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                self.message_user(
                    request,
                    f"Review recorded; the next review is due by "
                    f"{review.plan.enrollment.plan_due_on:%Y-%m-%d}.",
                    messages.SUCCESS,
                )
                return self.back_to(draft or plan)
        return self.step_page(
            request,
            plan,
            "review.html",
            title="Review the plan",
            form=form,
            progress=progress,
            rows=list(zip(objectives, progress.forms, strict=True)),
        )

    def print_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        plan = self.plan_for(request, object_id, "programs.view_treatmentplan")
        problems = list(plan.problems.select_related("concern"))
        goals = list(plan.goals.all())
        objectives = list(plan.objectives.all())
        interventions = list(plan.interventions.select_related("responsible"))
        reviewed = latest_reviewed_status(objectives)
        for objective in objectives:
            objective.reviewed_status = ObjectiveStatus(  # type: ignore[attr-defined]
                reviewed.get(objective.pk, objective.status)
            ).label
            objective.planned = [  # type: ignore[attr-defined]
                row for row in interventions if row.objective_id == objective.pk
            ]
        for goal in goals:
            goal.planned = [  # type: ignore[attr-defined]
                row for row in objectives if row.goal_id == goal.pk
            ]
        for problem in problems:
            problem.planned = [  # type: ignore[attr-defined]
                row for row in goals if row.problem_id == problem.pk
            ]
        return self.step_page(
            request,
            plan,
            "print.html",
            title=f"Treatment plan, version {plan.version}",
            problems=problems,
            reviews=list(plan.reviews.select_related("reviewer")),
            today=timezone.localdate(),
        )


def add_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError, shown on the form it came from."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class AcknowledgementForm(forms.Form):
    how = forms.ChoiceField(
        choices=Acknowledgement.choices, widget=forms.RadioSelect, label="How"
    )
    on = forms.DateField(
        initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    declined_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Required when the client declined to sign.",
    )


class ReviewForm(forms.Form):
    reviewed_on = forms.DateField(
        initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    decision = forms.ChoiceField(
        choices=ReviewDecision.choices, widget=forms.RadioSelect
    )
    summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Progress overall, changes in risk, the client's view.",
    )

    def clean_reviewed_on(self) -> datetime.date:
        reviewed_on: datetime.date = self.cleaned_data["reviewed_on"]
        if reviewed_on > timezone.localdate():
            raise ValidationError("A review cannot be in the future.")
        return reviewed_on


class ObjectiveProgressForm(forms.Form):
    objective = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(choices=ObjectiveStatus.choices)
    progress_note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


ObjectiveProgressFormSet = forms.formset_factory(ObjectiveProgressForm, extra=0)


@admin.register(PlanReview)
class PlanReviewAdmin(PlanRecordAdmin):
    """Reviews are recorded from the plan's page ("Review the plan") and then kept
    as written: this list is for finding and reading them."""

    enrollment_path = "plan__enrollment"
    list_display = ["reviewed_on", "client", "plan", "decision", "reviewer"]
    list_filter = ["decision", ("reviewer", StaffListFilter)]
    search_fields = [
        "=plan__enrollment__client__mrn",
        "plan__enrollment__client__last_name",
    ]
    list_select_related = ["plan__enrollment__client", "reviewer"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fields = ["plan", "reviewed_on", "reviewer", "decision", "summary", "objectives"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="client")
    def client(self, review: PlanReview) -> Any:
        return review.plan.enrollment.client

    @admin.display(description="objectives")
    def objectives(self, review: PlanReview) -> str:
        rows = review.objective_reviews.select_related("objective")
        return format_html(
            '<table class="timeline"><tbody>{}</tbody></table>',
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        row.objective.statement,
                        row.get_status_display(),
                        row.progress_note,
                    )
                    for row in rows
                ),
            ),
        )
