"""Discharge planning (DOMAIN.md section 5): the plan a client leaves with, its
aftercare referrals, the post-discharge follow-ups, and amendments after the fact.

A plan is started any time during treatment and finalised before a planned discharge
(or within 15 days after an unplanned one). Once finalised it is never edited: a
correction is an ``Amendment`` appended to it. The workflow that ends an enrollment
is ``discharge.workflows.discharge_client``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from programs.models import DischargeType, Enrollment

# DOMAIN.md section 5: planned discharges need a complete plan before the day;
# unplanned ones need only type, date and reason, and a summary within 15 days.
PLANNED_TYPES = frozenset(
    {DischargeType.COMPLETED, DischargeType.STEPPED_DOWN, DischargeType.TRANSFERRED}
)
# Needing at least one aftercare referral before finalising.
NEEDS_REFERRAL = frozenset({DischargeType.COMPLETED, DischargeType.STEPPED_DOWN})
# Recorded without the client present: outreach attempts replace their agreement.
WITHOUT_THE_CLIENT = frozenset(
    {DischargeType.AGAINST_ADVICE, DischargeType.LOST_CONTACT}
)
SUMMARY_DUE_DAYS = 15

CRISIS_LINES_DEFAULT = (
    "988 Suicide & Crisis Lifeline: call or text 988, or chat at 988lifeline.org "
    "(24/7).\nIn an emergency: call 911 or go to the nearest emergency department."
)


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    FINALISED = "finalised", "Finalised"


class DischargePlanQuerySet(models.QuerySet["DischargePlan"]):
    def drafts(self) -> DischargePlanQuerySet:
        return self.filter(status=PlanStatus.DRAFT)

    def summary_overdue(self, today: Any) -> DischargePlanQuerySet:
        """Discharged, summary not finalised, past its due date (15 days)."""
        return self.drafts().filter(summary_due_on__lt=today)

    def planned_between(self, start: Any, end: Any) -> DischargePlanQuerySet:
        return self.drafts().filter(
            enrollment__discharged_on__isnull=True,
            planned_on__gte=start,
            planned_on__lte=end,
        )


class DischargePlan(models.Model):
    """The transition plan of one enrollment; given to the client at discharge."""

    # The lookup from this row to its client, for the access audit (iopclinic).
    audit_client_path = "enrollment__client"

    Status = PlanStatus

    enrollment = models.OneToOneField(
        Enrollment, on_delete=models.PROTECT, related_name="discharge_plan"
    )
    status = models.CharField(
        max_length=10,
        choices=PlanStatus.choices,
        default=PlanStatus.DRAFT,
        editable=False,
    )
    planned_on = models.DateField("planned discharge date", null=True, blank=True)
    intended_type = models.CharField(
        "intended discharge type",
        max_length=20,
        choices=DischargeType.choices,
        default=DischargeType.COMPLETED,
        help_text="The enrollment's discharge type is set by the discharge itself.",
    )
    intended_reason = models.TextField("reason", blank=True)
    course_summary = models.TextField(
        "course of treatment and gains made",
        blank=True,
        help_text="The problems and objectives are shown from the treatment plan; add "
        "what they do not say.",
    )
    # Medication continuity.
    current_medications = models.TextField(
        blank=True, help_text="Name, dose and how taken, one per line."
    )
    continuing_prescriber = models.CharField(
        "prescriber who continues them", max_length=200, blank=True
    )
    next_medication_appointment = models.DateTimeField(null=True, blank=True)
    supply_until = models.DateField(
        "medication supply lasts until", null=True, blank=True
    )
    # Relapse and crisis plan, in the client's copy.
    warning_signs = models.TextField(blank=True)
    coping_strategies = models.TextField("coping strategies that worked", blank=True)
    people_to_call = models.TextField(
        blank=True, help_text="Name and phone, one per line."
    )
    crisis_lines = models.TextField(default=CRISIS_LINES_DEFAULT)
    # The client's part: their agreement, or (left against advice, lost contact) the
    # attempts made to reach them.
    client_agreed_on = models.DateField(
        "reviewed with and agreed by the client on", null=True, blank=True
    )
    outreach_attempts = models.TextField(
        blank=True,
        help_text="When the client could not take part: each attempt to reach them.",
    )
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
    )
    finalised_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Who ended the enrollment, and when (the workflow fills these).
    discharged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
    )
    discharged_at = models.DateTimeField(null=True, blank=True, editable=False)
    summary_due_on = models.DateField(
        "discharge summary due", null=True, blank=True, editable=False
    )

    history = HistoricalRecords()
    objects = DischargePlanQuerySet.as_manager()

    # What may still change once finalised: the discharge's own record.
    MAY_CHANGE_AFTER_FINALISING = frozenset(
        {"discharged_by", "discharged_at", "summary_due_on"}
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["status", "planned_on"], name="dischargeplan_planned_idx"
            ),
            models.Index(
                fields=["status", "summary_due_on"], name="dischargeplan_summary_idx"
            ),
            # The list's order (the admin appends -pk).
            models.Index(fields=["created_at", "id"], name="dischargeplan_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft")
                | (Q(finalised_by__isnull=False) & Q(finalised_at__isnull=False)),
                name="dischargeplan_finalised_by_someone",
            ),
            models.CheckConstraint(
                condition=Q(discharged_at__isnull=True)
                | Q(discharged_by__isnull=False),
                name="dischargeplan_discharged_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"Discharge plan ({self.get_status_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            with transaction.atomic():
                stored = (
                    DischargePlan.objects.select_for_update()
                    .filter(pk=self.pk)
                    .values_list("status", flat=True)
                    .get()
                )
                update_fields = kwargs.get("update_fields")
                if stored == PlanStatus.FINALISED and (
                    update_fields is None
                    or not set(update_fields) <= self.MAY_CHANGE_AFTER_FINALISING
                ):
                    raise FinalisedPlanError()
                super().save(*args, **kwargs)
                return
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValidationError("Discharge plans are kept.")

    @property
    def is_finalised(self) -> bool:
        return self.status == PlanStatus.FINALISED


class FinalisedPlanError(ValidationError):
    def __init__(self) -> None:
        super().__init__(
            "A finalised discharge plan is never edited: add an amendment instead.",
            code="finalised",
        )


class ReferralKind(models.TextChoices):
    OUTPATIENT_THERAPY = "outpatient_therapy", "Outpatient therapy"
    PSYCHIATRY = "psychiatry", "Psychiatry / medication management"
    SUPPORT_GROUP = "support_group", "Support group"
    PRIMARY_CARE = "primary_care", "Primary care"
    OTHER = "other", "Other"


class ReferralStatus(models.TextChoices):
    REFERRED = "referred", "Referred"
    SCHEDULED = "scheduled", "Appointment scheduled"
    CONFIRMED = "confirmed", "Appointment confirmed"
    ATTENDED = "attended", "Attended"
    DECLINED = "declined", "Declined"


class AftercareReferral(models.Model):
    """One aftercare provider the client is referred to (DOMAIN.md section 5)."""

    Kind = ReferralKind
    Status = ReferralStatus

    plan = models.ForeignKey(
        DischargePlan, on_delete=models.PROTECT, related_name="referrals"
    )
    kind = models.CharField(max_length=20, choices=ReferralKind.choices)
    organisation = models.CharField(max_length=200)
    contact_name = models.CharField(max_length=120, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True)
    days_and_hours = models.CharField(max_length=200, blank=True)
    first_appointment_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.REFERRED
    )
    consent = models.ForeignKey(
        "intake.Consent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The client's consent to share with this provider. Substance-use "
        "information goes into the referral copy only under a current consent that "
        "allows it (42 CFR Part 2).",
    )
    referred_on = models.DateField(default=timezone.localdate)
    status_on = models.DateField(
        "status since",
        default=timezone.localdate,
        help_text="When the status last changed.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["plan_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["scheduled", "confirmed", "attended"])
                | Q(first_appointment_at__isnull=False),
                name="referral_appointment_when_scheduled",
                violation_error_message=(
                    "Give the first appointment's date and time once it is scheduled."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status_on__gte=models.F("referred_on")),
                name="referral_status_after_referral",
                violation_error_message="The status date is on or after the referral.",
            ),
        ]

    # After the plan is finalised, only the referral's progress is still recorded.
    PROGRESS_FIELDS = frozenset({"status", "status_on", "first_appointment_at"})

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.organisation}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        finalised = DischargePlan.objects.filter(
            pk=self.plan_id, status=PlanStatus.FINALISED
        ).exists()
        if finalised:
            if self._state.adding:
                raise FinalisedPlanError()
            stored = AftercareReferral.objects.get(pk=self.pk)
            changed = {
                field.attname
                for field in self._meta.concrete_fields
                if getattr(stored, field.attname) != getattr(self, field.attname)
            }
            if changed - self.PROGRESS_FIELDS:
                raise FinalisedPlanError()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.plan.is_finalised:
            raise FinalisedPlanError()
        return super().delete(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        if (
            self.consent is not None
            and self.plan_id
            and self.consent.client_id != self.plan.enrollment.client_id
        ):
            raise ValidationError({"consent": "Choose one of this client's consents."})


class Amendment(models.Model):
    """A correction to a finalised plan or to how the enrollment ended: appended,
    never an edit (DOMAIN.md section 5)."""

    plan = models.ForeignKey(
        DischargePlan, on_delete=models.PROTECT, related_name="amendments"
    )
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField(default=timezone.now)
    what = models.CharField(
        "what is corrected", max_length=200, help_text="e.g. “Discharge date”."
    )
    correction = models.TextField(help_text="The correct information.")
    why = models.TextField()

    history = HistoricalRecords()

    class Meta:
        ordering = ["plan_id", "written_at", "id"]

    def __str__(self) -> str:
        return f"Amendment: {self.what}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValidationError("An amendment is kept as written; add another.")
        super().save(*args, **kwargs)


class FollowUpOutcome(models.TextChoices):
    PENDING = "pending", "Not yet done"
    REACHED = "reached", "Reached the client"
    ATTENDED = "attended", "Client attended the first aftercare appointment"
    NOT_REACHED = "not_reached", "Could not reach the client"


class FollowUpQuerySet(models.QuerySet["FollowUp"]):
    def pending(self) -> FollowUpQuerySet:
        return self.filter(outcome=FollowUpOutcome.PENDING)

    def overdue(self, today: Any) -> FollowUpQuerySet:
        return self.pending().filter(due_on__lt=today)


class FollowUp(models.Model):
    """A post-discharge check-in (7 and 30 days by default), with its owner."""

    # The lookup from this row to its client, for the access audit (iopclinic).
    audit_client_path = "plan__enrollment__client"

    Outcome = FollowUpOutcome

    plan = models.ForeignKey(
        DischargePlan, on_delete=models.PROTECT, related_name="follow_ups"
    )
    days_after = models.PositiveSmallIntegerField(editable=False)
    due_on = models.DateField(editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(
        max_length=12, choices=FollowUpOutcome.choices, default=FollowUpOutcome.PENDING
    )
    done_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    referral = models.ForeignKey(
        AftercareReferral,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_ups",
        help_text="The aftercare appointment this check-in was about, if any.",
    )

    history = HistoricalRecords()
    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["outcome", "due_on"], name="followup_due_idx"),
            # The list's order (the admin appends pk).
            models.Index(fields=["due_on", "id"], name="followup_order_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "days_after"], name="one_follow_up_per_day_mark"
            ),
            models.CheckConstraint(
                condition=Q(outcome="pending") | Q(done_on__isnull=False),
                name="follow_up_done_on_a_date",
                violation_error_message="Give the date the follow-up was done.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.days_after}-day follow-up"

    def possible_owners(self) -> set[int]:
        """Who may own the check-in: the client's care team, or whoever recorded
        the discharge (anyone else could not open it)."""
        owners = self.plan.enrollment.care_team()
        if self.plan.discharged_by_id:
            owners.add(self.plan.discharged_by_id)
        return owners

    def clean(self) -> None:
        super().clean()
        if self.outcome != FollowUpOutcome.PENDING and self.done_on is None:
            raise ValidationError({"done_on": "Give the date the follow-up was done."})
        if self.done_on and self.done_on > timezone.localdate():
            raise ValidationError({"done_on": "This date is in the future."})
        if (
            self.plan_id
            and self.owner_id
            and self.owner_id not in self.possible_owners()
        ):
            # Anyone else could not open the follow-up (caseload access).
            raise ValidationError(
                {"owner": "Choose someone on this client's care team."}
            )
        referral = self.referral if self.referral_id else None
        if referral is not None and self.plan_id and referral.plan_id != self.plan_id:
            raise ValidationError({"referral": "Choose a referral of this plan."})
        if (
            self.outcome == FollowUpOutcome.ATTENDED
            and referral is not None
            and self.done_on
            and self.done_on < referral.referred_on
        ):
            raise ValidationError(
                {"done_on": "The check-in is on or after the referral was made."}
            )
        if self.outcome == FollowUpOutcome.ATTENDED and (
            referral is None or referral.first_appointment_at is None
        ):
            raise ValidationError(
                {
                    "outcome": "Attended means a first aftercare appointment: record "
                    "its date on the referral first."
                }
            )
