"""Treatment plans (DOMAIN.md section 3): versioned, signed by the therapist,
acknowledged by the client, never edited once signed, and reviewed on time.

A plan's content is structured the way the paper form is: problems -> goals (in the
client's own words) -> measurable objectives -> interventions. Every part row carries
its plan as well as its parent, so the admin can show each level as one flat inline
of the plan and one query reads a whole level.

The services that move a plan through its life (sign, acknowledge, revise, review)
are in ``programs.plans``; the rules that must hold whoever calls ``save()`` are here.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, Q, When
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .catalog import Service
from .enrollment import Enrollment


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed, awaiting the client's acknowledgement"
    ACKNOWLEDGED = "acknowledged", "Signed and acknowledged by the client"
    SUPERSEDED = "superseded", "Superseded by a newer version"


# The plan in force: signed, whether or not the client has acknowledged it yet.
IN_FORCE = [PlanStatus.SIGNED, PlanStatus.ACKNOWLEDGED]


class Acknowledgement(models.TextChoices):
    IN_PERSON = "in_person", "Signed by the client in person"
    DECLINED = "declined", "Client declined to sign"


class ObjectiveStatus(models.TextChoices):
    """DOMAIN.md section 3: objective and goal statuses."""

    PROPOSED = "proposed", "Proposed"
    IN_PROGRESS = "in_progress", "In progress"
    IMPROVING = "improving", "Improving"
    ACHIEVED = "achieved", "Achieved"
    NOT_ACHIEVED = "not_achieved", "Not achieved"
    DISCONTINUED = "discontinued", "Discontinued"
    REVISED = "revised", "Revised"


class SignedPlanError(ValidationError):
    """Raised by any attempt to change the content of a plan that is not a draft."""

    def __init__(self) -> None:
        super().__init__(
            "A signed treatment plan is never edited. Use “Revise” to start the "
            "next version.",
            code="signed_plan",
        )


class StalePlanError(ValidationError):
    """Raised when a draft changed since the editor loaded it (a lost update)."""

    def __init__(self, plan: TreatmentPlan) -> None:
        when = timezone.localtime(plan.updated_at) if plan.updated_at else None
        who = plan.updated_by or "someone else"
        stamp = f" at {when:%Y-%m-%d %H:%M}" if when else ""
        super().__init__(
            f"This plan was changed by {who}{stamp} after you opened it. Reload the "
            "page to see those changes; yours have not been saved.",
            code="stale_plan",
        )


class TreatmentPlanQuerySet(models.QuerySet["TreatmentPlan"]):
    def in_force(self) -> TreatmentPlanQuerySet:
        return self.filter(status__in=IN_FORCE)

    def drafts(self) -> TreatmentPlanQuerySet:
        return self.filter(status=PlanStatus.DRAFT)

    def not_superseded(self) -> TreatmentPlanQuerySet:
        return self.exclude(status=PlanStatus.SUPERSEDED)

    def current(self) -> TreatmentPlan | None:
        """The plan in force, or else the latest version (a draft when none has
        been signed yet): what a discharge summarises and a step carries forward."""
        in_force_first = Case(When(status__in=IN_FORCE, then=0), default=1)
        return self.order_by(in_force_first, "-version").first()


class TreatmentPlan(models.Model):
    """One version of an enrollment's treatment plan."""

    # The lookup from this row to its client, for the access audit (iopclinic).
    audit_client_path = "enrollment__client"

    Status = PlanStatus

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="treatment_plans"
    )
    version = models.PositiveSmallIntegerField(editable=False)
    status = models.CharField(
        max_length=12,
        choices=PlanStatus.choices,
        default=PlanStatus.DRAFT,
        editable=False,
    )
    strengths = models.TextField(
        blank=True, help_text="What the client brings: supports, skills, interests."
    )
    client_hopes = models.TextField(
        "what the client wants from treatment",
        blank=True,
        help_text="In the client's own words.",
    )
    discharge_criteria = models.TextField(
        blank=True,
        help_text="What will show the client is ready to leave the program. "
        "Required before signing.",
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
    )
    signed_at = models.DateTimeField(null=True, blank=True, editable=False)
    acknowledgement = models.CharField(
        "client's acknowledgement",
        max_length=12,
        choices=Acknowledgement.choices,
        blank=True,
        editable=False,
    )
    acknowledged_on = models.DateField(null=True, blank=True, editable=False)
    declined_reason = models.TextField(blank=True, editable=False)
    superseded_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
    )
    updated_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Bumped by every save of a draft; a save that read an older value is refused
    # (two staff editing one draft must not silently overwrite each other).
    row_version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords(excluded_fields=["row_version"])
    objects = TreatmentPlanQuerySet.as_manager()

    # What may still change on a signed plan: the client's acknowledgement and the
    # supersession. Everything else is the signed document.
    MAY_CHANGE_AFTER_SIGNING = frozenset(
        {
            "status",
            "acknowledgement",
            "acknowledged_on",
            "declined_reason",
            "superseded_at",
        }
    )

    class Meta:
        ordering = ["enrollment_id", "-version"]
        permissions = [("sign_treatmentplan", "Can sign a treatment plan")]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "version"],
                name="one_plan_per_version",
                violation_error_message="This enrollment already has that version.",
            ),
            models.UniqueConstraint(
                fields=["enrollment"],
                condition=Q(status="draft"),
                name="one_draft_plan_per_enrollment",
                violation_error_message=(
                    "This enrollment already has a draft plan: finish that one."
                ),
            ),
            models.UniqueConstraint(
                fields=["enrollment"],
                condition=Q(status__in=["signed", "acknowledged"]),
                name="one_plan_in_force_per_enrollment",
                violation_error_message=(
                    "This enrollment already has a signed plan in force."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status="draft")
                | (
                    Q(signed_by__isnull=False)
                    & Q(signed_at__isnull=False)
                    & ~Q(discharge_criteria="")
                ),
                name="plan_signed_with_discharge_criteria",
                violation_error_message=(
                    "A signed plan names who signed it, when, and its discharge "
                    "criteria."
                ),
            ),
            models.CheckConstraint(
                condition=Q(acknowledgement="")
                | (~Q(status="draft") & Q(acknowledged_on__isnull=False)),
                name="plan_acknowledged_after_signing",
                violation_error_message=(
                    "The client acknowledges a signed plan, on a date."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(acknowledgement="declined") | ~Q(declined_reason=""),
                name="plan_declined_with_reason",
                violation_error_message="Say why the client declined to sign.",
            ),
            models.CheckConstraint(
                condition=~Q(status="acknowledged") | ~Q(acknowledgement=""),
                name="plan_acknowledged_status_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"Treatment plan v{self.version} ({self.get_status_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding:
            super().save(*args, **kwargs)
            return
        with transaction.atomic():
            stored = (
                TreatmentPlan.objects.select_for_update()
                .filter(pk=self.pk)
                .values_list("status", "row_version")
                .get()
            )
            stored_status, stored_version = stored
            if stored_status != PlanStatus.DRAFT:
                update_fields = kwargs.get("update_fields")
                if update_fields is None or not set(update_fields) <= set(
                    self.MAY_CHANGE_AFTER_SIGNING
                ):
                    raise SignedPlanError()
            elif stored_version != self.row_version:
                stale = TreatmentPlan.objects.select_related("updated_by").get(
                    pk=self.pk
                )
                raise StalePlanError(stale)
            else:
                self.row_version = stored_version + 1
                if kwargs.get("update_fields") is not None:
                    kwargs["update_fields"] = {*kwargs["update_fields"], "row_version"}
            super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValidationError("Treatment plans are kept; a draft can be revised.")

    @property
    def is_draft(self) -> bool:
        return self.status == PlanStatus.DRAFT


class PlanPart(models.Model):
    """A row of a plan's content: editable only while its plan is a draft."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT)
    # The parent row's field name (None for problems, whose parent is the plan).
    parent_field: str | None = None

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.refuse_unless_draft()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self.refuse_unless_draft()
        return super().delete(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        parent = getattr(self, self.parent_field, None) if self.parent_field else None
        if parent is not None and self.plan_id and parent.plan_id != self.plan_id:
            raise ValidationError(
                {self.parent_field: "Choose one from this plan."}  # type: ignore[dict-item]
            )

    def refuse_unless_draft(self) -> None:
        status = (
            TreatmentPlan.objects.filter(pk=self.plan_id)
            .values_list("status", flat=True)
            .first()
        )
        if status != PlanStatus.DRAFT:
            raise SignedPlanError()


class PlanProblem(PlanPart):
    statement = models.TextField(help_text="The problem as the clinician assesses it.")
    concern = models.ForeignKey(
        "intake.PresentingConcern",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name="presenting concern",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["plan_id", "id"]
        verbose_name = "problem"
        default_related_name = "problems"

    def __str__(self) -> str:
        return f"Problem: {self.statement[:60]}"


class PlanGoal(PlanPart):
    problem = models.ForeignKey(PlanProblem, on_delete=models.PROTECT)
    client_words = models.TextField(
        "goal, in the client's words", help_text="e.g. “I want to sleep again.”"
    )
    parent_field = "problem"

    history = HistoricalRecords()

    class Meta:
        ordering = ["plan_id", "problem_id", "id"]
        verbose_name = "goal"
        default_related_name = "goals"

    def __str__(self) -> str:
        return f"Goal: {self.client_words[:60]}"


class PlanObjective(PlanPart):
    goal = models.ForeignKey(PlanGoal, on_delete=models.PROTECT)
    statement = models.TextField(
        "measurable objective",
        help_text="What, how much, by when: e.g. “PHQ-9 below 10 for two weeks”.",
    )
    target_date = models.DateField()
    status = models.CharField(
        max_length=14, choices=ObjectiveStatus.choices, default=ObjectiveStatus.PROPOSED
    )
    parent_field = "goal"

    history = HistoricalRecords()

    class Meta:
        ordering = ["plan_id", "goal_id", "id"]
        verbose_name = "objective"
        default_related_name = "objectives"

    def __str__(self) -> str:
        return f"Objective: {self.statement[:60]}"


class PlanIntervention(PlanPart):
    objective = models.ForeignKey(PlanObjective, on_delete=models.PROTECT)
    service = models.CharField(max_length=24, choices=Service.choices)
    frequency = models.CharField(
        max_length=40, help_text="How often, e.g. “3x/week” or “daily”."
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="responsible staff member",
    )
    parent_field = "objective"

    history = HistoricalRecords()

    class Meta:
        ordering = ["plan_id", "objective_id", "id"]
        verbose_name = "intervention"
        default_related_name = "interventions"

    def __str__(self) -> str:
        return f"{self.get_service_display()} {self.frequency}"


class ReviewDecision(models.TextChoices):
    CONTINUE = "continue", "Continue the plan"
    REVISE = "revise", "Revise the plan (start the next version)"


class PlanReview(models.Model):
    """A periodic review of a signed plan: progress on each objective, and whether
    the plan continues or is revised. It resets the review clock."""

    # The lookup from this row to its client, for the access audit (iopclinic).
    audit_client_path = "plan__enrollment__client"

    plan = models.ForeignKey(
        TreatmentPlan, on_delete=models.PROTECT, related_name="reviews"
    )
    reviewed_on = models.DateField()
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=10, choices=ReviewDecision.choices)
    summary = models.TextField(blank=True)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-reviewed_on", "-id"]
        indexes = [
            models.Index(fields=["plan", "reviewed_on"], name="planreview_plan_idx"),
            # The list's order (the admin appends -pk).
            models.Index(fields=["reviewed_on", "id"], name="planreview_order_idx"),
        ]

    def __str__(self) -> str:
        return f"Review of {self.reviewed_on:%Y-%m-%d}"

    def clean(self) -> None:
        super().clean()
        if self.reviewed_on and self.reviewed_on > timezone.localdate():
            raise ValidationError({"reviewed_on": "A review cannot be in the future."})


class ObjectiveReview(models.Model):
    """One objective's status and progress, as of a review."""

    review = models.ForeignKey(
        PlanReview, on_delete=models.PROTECT, related_name="objective_reviews"
    )
    objective = models.ForeignKey(
        PlanObjective, on_delete=models.PROTECT, related_name="reviews"
    )
    status = models.CharField(max_length=14, choices=ObjectiveStatus.choices)
    progress_note = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["review_id", "objective_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "objective"],
                name="one_status_per_objective_per_review",
            )
        ]

    def __str__(self) -> str:
        return self.get_status_display()


def latest_reviewed_status(objectives: list[PlanObjective]) -> dict[int, str]:
    """objective id -> its status at its latest review (one query)."""
    latest: dict[int, str] = {}
    rows = (
        ObjectiveReview.objects.filter(objective__in=objectives)
        .order_by("objective", "review__reviewed_on", "review_id")
        .values_list("objective_id", "status")
    )
    for objective_id, status in rows:
        latest[objective_id] = status  # later rows win
    return latest
