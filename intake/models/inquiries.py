"""Inquiries: each contact from someone asking for care, status and safety screen."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.expressions import Combinable
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .clients import Client
from .common import (
    LevelOfCare,
    Schedule,
    phone_digits,
    phone_validator,
    validate_date_of_birth,
)

YES_NO = [(True, "Yes"), (False, "No")]


class PresentingConcern(models.Model):
    """One of the conditions IOPs commonly treat (DOMAIN.md section 2); seeded."""

    code = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class RiskLevel(models.IntegerChoices):
    """Ordered so that sorting by level descending puts the highest risk first."""

    NONE = 0, "None"
    LOW = 1, "Low"
    MODERATE = 2, "Moderate"
    HIGH = 3, "High"


class InquiryStatus(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    SCREENING = "screening", "Screening"
    ELIGIBLE = "eligible", "Eligible"
    WAITLISTED = "waitlisted", "Waitlisted"
    SCHEDULED = "scheduled", "Scheduled"
    ADMITTED = "admitted", "Admitted"
    CLOSED = "closed", "Closed"


FINAL_STATUSES = (InquiryStatus.ADMITTED, InquiryStatus.CLOSED)

# A coordinator's worklist: open high-risk callers first, then every other open
# inquiry by follow-up date, then the newest; admitted and closed ones last. The rank
# is a column the database computes, so the order is served by an index.
WORKLIST_RANK = Case(
    When(Q(risk_level=3) & ~Q(status__in=FINAL_STATUSES), then=Value(0)),
    When(~Q(status__in=FINAL_STATUSES), then=Value(1)),
    default=Value(2),
)
WORKLIST_ORDER: list[str | Combinable] = [
    "worklist_rank",
    F("next_follow_up").asc(nulls_last=True),
    "-received_at",
    "-id",
]


class InquiryQuerySet(models.QuerySet["Inquiry"]):
    def open(self) -> InquiryQuerySet:
        return self.exclude(status__in=Inquiry.FINAL_STATUSES)

    def high_risk(self) -> InquiryQuerySet:
        return self.filter(risk_level=RiskLevel.HIGH)

    def awaiting_clinical_review(self) -> InquiryQuerySet:
        """High-risk and still open, with no clinician's decision recorded yet."""
        return self.open().high_risk().filter(risk_override_note="")

    def follow_up_due(self) -> InquiryQuerySet:
        """Open inquiries whose follow-up date is today or already past."""
        return self.open().filter(next_follow_up__lte=timezone.localdate())


class Inquiry(models.Model):
    """One contact from a prospective client or someone calling for them.

    No referral is ever needed: "how did you hear of us" is optional everywhere
    (DOMAIN.md section 2).
    """

    # The lookup from this row to its client, for the access audit (iopclinic).
    audit_client_path = "client"

    class Channel(models.TextChoices):
        PHONE = "phone", "Phone"
        WALK_IN = "walk_in", "Walk-in"
        WEB_FORM = "web_form", "Web form"
        EMAIL = "email", "Email"
        OTHER = "other", "Other"

    class Caller(models.TextChoices):
        SELF = "self", "The person themself"
        FAMILY = "family", "Family member"
        FRIEND = "friend", "Friend"
        CLINICIAN = "clinician", "Clinician"
        OTHER = "other", "Someone else"

    class ContactMethod(models.TextChoices):
        PHONE = "phone", "Phone call"
        TEXT = "text", "Text message"
        EMAIL = "email", "Email"

    class Source(models.TextChoices):
        SELF = "self", "Found us themself"
        FAMILY_FRIEND = "family_friend", "Family or friend"
        CLINICIAN = "clinician", "Clinician"
        HOSPITAL = "hospital", "Hospital"
        SCHOOL = "school", "School"
        EMPLOYER = "employer", "Employer"
        INSURER = "insurer", "Insurer"
        WEB = "web", "Web search or website"
        OTHER = "other", "Other"

    class RequestedLevel(models.TextChoices):
        IOP = LevelOfCare.IOP.value, LevelOfCare.IOP.label
        PHP = LevelOfCare.PHP.value, LevelOfCare.PHP.label
        NOT_SURE = "not_sure", "Not sure yet"

    Status = InquiryStatus

    class ClosedReason(models.TextChoices):
        REFERRED_ELSEWHERE = "referred_elsewhere", "Referred elsewhere"
        DECLINED = "declined", "Declined"
        UNREACHABLE = "unreachable", "Unreachable"
        DUPLICATE = "duplicate", "Duplicate"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class CrisisResponse(models.TextChoices):
        CALLED_911 = "called_911", "Stayed on the line and called 911"
        HANDOFF_988 = "handoff_988", "Warm hand-off to 988 Suicide & Crisis Lifeline"
        SENT_TO_ED = "sent_to_ed", "Sent to the emergency department"
        MOBILE_CRISIS = "mobile_crisis", "Mobile crisis team called"
        SAFETY_PLAN = "safety_plan", "Safety plan made with a clinician"
        OTHER = "other", "Other (describe in the note)"

    # DOMAIN.md section 2: the pipeline and its exits.
    TRANSITIONS: dict[str, set[str]] = {
        Status.NEW: {Status.CONTACTED, Status.CLOSED},
        Status.CONTACTED: {Status.SCREENING, Status.CLOSED},
        Status.SCREENING: {Status.ELIGIBLE, Status.CLOSED},
        Status.ELIGIBLE: {Status.WAITLISTED, Status.SCHEDULED, Status.CLOSED},
        Status.WAITLISTED: {Status.SCHEDULED, Status.ADMITTED, Status.CLOSED},
        Status.SCHEDULED: {Status.ADMITTED, Status.CLOSED},
        Status.ADMITTED: set(),
        Status.CLOSED: set(),
    }
    FINAL_STATUSES = FINAL_STATUSES
    NEEDS_CLIENT = (Status.WAITLISTED, Status.SCHEDULED, Status.ADMITTED)
    SCREEN_QUESTIONS = [
        "cssrs_wish_dead",
        "cssrs_suicidal_thoughts",
        "cssrs_method",
        "cssrs_intent",
        "cssrs_plan",
        "cssrs_behaviour",
        "cssrs_behaviour_past_3_months",
        "intent_to_harm_others",
        "medical_emergency",
    ]

    # The call
    received_at = models.DateTimeField(default=timezone.now)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="inquiries_received",
        editable=False,
        null=True,
    )
    channel = models.CharField(
        max_length=20, choices=Channel.choices, default=Channel.PHONE
    )
    caller = models.CharField(
        "who is calling",
        max_length=20,
        choices=Caller.choices,
        default=Caller.SELF,
    )
    caller_name = models.CharField(
        max_length=200, blank=True, help_text="Only when someone calls for the person."
    )
    caller_phone = models.CharField(
        max_length=32, blank=True, validators=[phone_validator]
    )

    # The person asking for care
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=32, blank=True, validators=[phone_validator])
    phone_digits = models.CharField(max_length=20, blank=True, editable=False)
    email = models.EmailField(blank=True)
    preferred_contact = models.CharField(
        "preferred way to reach them",
        max_length=10,
        choices=ContactMethod.choices,
        default=ContactMethod.PHONE,
    )
    date_of_birth = models.DateField(
        null=True,
        blank=True,
        validators=[validate_date_of_birth],
        help_text="Optional on the first call.",
    )
    heard_about_us = models.CharField(
        "how did they hear of us?",
        max_length=20,
        choices=Source.choices,
        blank=True,
        help_text="Optional. No referral is needed: anyone may call for themself.",
    )

    # What they need
    concerns = models.ManyToManyField(
        PresentingConcern,
        blank=True,
        related_name="inquiries",
        verbose_name="presenting concerns",
    )
    concerns_detail = models.TextField(
        "in their words", blank=True, help_text="What is going on, as they put it."
    )
    requested_level = models.CharField(
        "level of care asked for",
        max_length=10,
        choices=RequestedLevel.choices,
        default=RequestedLevel.NOT_SURE,
    )
    requested_schedule = models.CharField(
        "schedule that works for them",
        max_length=10,
        choices=Schedule.choices,
        default=Schedule.EITHER,
    )
    payer = models.CharField(
        max_length=200, blank=True, help_text="Insurance plan or 'self-pay'."
    )
    member_id = models.CharField("member ID", max_length=100, blank=True)

    # Follow-up and ownership
    notes = models.TextField(blank=True)
    next_follow_up = models.DateField(
        "next follow-up", null=True, blank=True, help_text="When to call them back."
    )
    assigned_coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="inquiries_assigned",
        null=True,
        blank=True,
    )
    client = models.ForeignKey(
        Client,
        on_delete=models.PROTECT,
        related_name="inquiries",
        null=True,
        blank=True,
        help_text="The client record, once one is created or linked.",
    )

    # Status
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.NEW, editable=False
    )
    closed_reason = models.CharField(
        max_length=20, choices=ClosedReason.choices, blank=True
    )
    referred_to = models.CharField(
        "referred to",
        max_length=300,
        blank=True,
        help_text="Where they were sent, when they need another level of care.",
    )

    # Safety screen: the C-SSRS screener, past month (DOMAIN.md section 2)
    cssrs_wish_dead = models.BooleanField(
        "1. Have you wished you were dead or wished you could go to sleep and not "
        "wake up?",
        null=True,
        blank=True,
        choices=YES_NO,
    )
    cssrs_suicidal_thoughts = models.BooleanField(
        "2. Have you actually had any thoughts of killing yourself?",
        null=True,
        blank=True,
        choices=YES_NO,
    )
    cssrs_method = models.BooleanField(
        "3. Have you been thinking about how you might do this?",
        null=True,
        blank=True,
        choices=YES_NO,
        help_text="Ask 3 to 5 only if 2 is yes.",
    )
    cssrs_intent = models.BooleanField(
        "4. Have you had these thoughts and had some intention of acting on them?",
        null=True,
        blank=True,
        choices=YES_NO,
    )
    cssrs_plan = models.BooleanField(
        "5. Have you started to work out or worked out the details of how to kill "
        "yourself? Do you intend to carry out this plan?",
        null=True,
        blank=True,
        choices=YES_NO,
    )
    cssrs_behaviour = models.BooleanField(
        "6. Have you ever done anything, started to do anything, or prepared to do "
        "anything to end your life?",
        null=True,
        blank=True,
        choices=YES_NO,
    )
    cssrs_behaviour_past_3_months = models.BooleanField(
        "6a. If yes: was this within the past 3 months?",
        null=True,
        blank=True,
        choices=YES_NO,
    )
    intent_to_harm_others = models.BooleanField(
        "Do they intend to harm someone else?", null=True, blank=True, choices=YES_NO
    )
    medical_emergency = models.BooleanField(
        "Is there a medical emergency right now?", null=True, blank=True, choices=YES_NO
    )
    worklist_rank = models.GeneratedField(
        expression=WORKLIST_RANK,
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
        verbose_name="worklist rank",
    )
    risk_level = models.PositiveSmallIntegerField(
        choices=RiskLevel.choices,
        null=True,
        blank=True,
        editable=False,
        help_text="Computed from the answers; empty until the screen is done.",
    )
    screened_at = models.DateTimeField(null=True, blank=True, editable=False)
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
    )
    crisis_response = models.CharField(
        "what was done",
        max_length=20,
        choices=CrisisResponse.choices,
        blank=True,
    )
    crisis_response_note = models.TextField("crisis note", blank=True)
    crisis_response_at = models.DateTimeField(
        "done at", null=True, blank=True, editable=False
    )
    crisis_response_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
    )
    risk_override_note = models.TextField(
        "clinician's override note",
        blank=True,
        help_text=(
            "A clinician's reason why this person may wait for a seat despite the "
            "high-risk screen."
        ),
    )
    risk_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
    )
    risk_override_at = models.DateTimeField(null=True, blank=True, editable=False)

    history = HistoricalRecords(m2m_fields=[concerns])
    objects = InquiryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "inquiries"
        ordering = WORKLIST_ORDER
        indexes = [
            # PostgreSQL's ascending order already puts NULLs last, as the list does.
            models.Index(
                fields=["worklist_rank", "next_follow_up", "-received_at", "-id"],
                name="inquiry_worklist_idx",
            ),
            models.Index(
                fields=["status", "next_follow_up"], name="inquiry_status_follow_idx"
            ),
            models.Index(
                fields=["assigned_coordinator", "status"], name="inquiry_assigned_idx"
            ),
            models.Index(fields=["received_at", "id"], name="inquiry_received_idx"),
            models.Index(fields=["phone_digits"], name="inquiry_phone_digits_idx"),
            models.Index(fields=["last_name", "first_name"], name="inquiry_name_idx"),
            # The open inquiries are a few hundred among 100,000+: the worklist
            # counts (open high-risk, follow-ups due, mine) read only them.
            models.Index(
                fields=["risk_level", "next_follow_up"],
                condition=~Q(status__in=FINAL_STATUSES),
                name="inquiry_open_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="closed") | ~Q(closed_reason=""),
                name="inquiry_closed_needs_reason",
            ),
            models.CheckConstraint(
                condition=~Q(closed_reason="referred_elsewhere") | ~Q(referred_to=""),
                name="inquiry_referral_names_where",
            ),
            models.CheckConstraint(
                condition=Q(status__in=InquiryStatus.values),
                name="inquiry_status_known",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["waitlisted", "scheduled", "admitted"])
                | Q(client__isnull=False),
                name="inquiry_pipeline_needs_client",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.first_name} {self.last_name}".strip()
            + f" ({self.get_status_display()})"
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        adding = self._state.adding
        self.phone_digits = phone_digits(self.phone)
        self.risk_level = self.assess_risk()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {
                *kwargs["update_fields"],
                "phone_digits",
                "risk_level",
            }
        super().save(*args, **kwargs)
        if adding:
            self.status_changes.create(
                from_status="", to_status=self.status, changed_by=self.received_by
            )

    @property
    def is_open(self) -> bool:
        return self.status not in self.FINAL_STATUSES

    @property
    def is_high_risk(self) -> bool:
        return self.risk_level == RiskLevel.HIGH

    @property
    def is_screened(self) -> bool:
        return self.risk_level is not None

    @property
    def needs_crisis_response(self) -> bool:
        return self.is_high_risk and not self.crisis_response

    @property
    def may_wait_for_a_seat(self) -> bool:
        """High risk goes to crisis care, not a waitlist, unless a clinician says so."""
        return not self.is_high_risk or bool(self.risk_override_note)

    def assess_risk(self) -> RiskLevel | None:
        """The risk level from the screen's answers (DOMAIN.md s. 2); None if unasked.

        High: intent (4) or plan (5), suicidal behaviour in the past 3 months, intent to
        harm others, or a medical emergency. Moderate: method (3) or older behaviour.
        Low: the wish to be dead (1) or thoughts (2) only.
        """
        answers = [getattr(self, name) for name in self.SCREEN_QUESTIONS]
        if all(answer is None for answer in answers):
            return None
        if (
            self.cssrs_intent
            or self.cssrs_plan
            or (self.cssrs_behaviour and self.cssrs_behaviour_past_3_months)
            or self.intent_to_harm_others
            or self.medical_emergency
        ):
            return RiskLevel.HIGH
        if self.cssrs_method or self.cssrs_behaviour:
            return RiskLevel.MODERATE
        if self.cssrs_wish_dead or self.cssrs_suicidal_thoughts:
            return RiskLevel.LOW
        return RiskLevel.NONE

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.received_at and self.received_at > timezone.now():
            errors["received_at"] = (
                "The inquiry cannot have been received in the future."
            )
        if self.caller != self.Caller.SELF and not self.caller_name:
            errors["caller_name"] = "Who called? Give the caller's name."
        if not (self.phone or self.email):
            errors["phone"] = "Give a phone number or an email so they can be reached."
        if self.cssrs_suicidal_thoughts is False:
            for name in ("cssrs_method", "cssrs_intent", "cssrs_plan"):
                if getattr(self, name):
                    errors[name] = (
                        "Questions 3 to 5 are asked only when question 2 is yes."
                    )
        if self.cssrs_behaviour_past_3_months is not None and not self.cssrs_behaviour:
            errors["cssrs_behaviour_past_3_months"] = (
                "Ask 6a only when question 6 is yes."
            )
        if (
            self.closed_reason == self.ClosedReason.REFERRED_ELSEWHERE
            and not self.referred_to
        ):
            errors["referred_to"] = "Say where they were referred."
        if errors:
            raise ValidationError(errors)

    def allowed_moves(self) -> list[str]:
        return [s for s in self.Status.values if s in self.TRANSITIONS[self.status]]

    def move_problem(self, target: str) -> str | None:
        """Why this inquiry cannot move to ``target`` now, or None if it can."""
        label = self.Status(target).label
        if target not in self.TRANSITIONS[self.status]:
            return (
                f"An inquiry that is {self.get_status_display().lower()} cannot "
                f"move to {label.lower()}."
            )
        if target == self.Status.CLOSED:
            if not self.closed_reason:
                return "Closing needs a reason: choose one under 'Close the inquiry'."
            if self.closed_reason == self.ClosedReason.REFERRED_ELSEWHERE and not (
                self.referred_to
            ):
                return "Say where they were referred before closing."
            return None
        if self.needs_crisis_response:
            return (
                "The screen shows high risk: record what was done for the crisis first."
            )
        if target == self.Status.ELIGIBLE and not self.is_screened:
            return "Complete the safety screen before marking them eligible."
        if target in self.NEEDS_CLIENT and self.client_id is None:
            return f"Create or link the client record before moving to {label.lower()}."
        if target == self.Status.WAITLISTED and not self.may_wait_for_a_seat:
            return (
                "High risk: route to crisis care. Waitlisting needs a clinician's "
                "override note."
            )
        return None

    @transaction.atomic
    def move_to(self, target: str, *, by: Any, note: str = "") -> InquiryStatusChange:
        """Move to ``target`` and record it on the timeline; ValidationError if illegal.

        The row is locked so two coordinators moving the same inquiry are serialised and
        the timeline's "from" is always the status that was really left.
        """
        current = Inquiry.objects.select_for_update().only("status").get(pk=self.pk)
        self.status = current.status
        problem = self.move_problem(target)
        if problem:
            raise ValidationError(problem)
        self.status = target
        self.save(update_fields=["status", "closed_reason", "referred_to"])
        return self.status_changes.create(
            from_status=current.status, to_status=target, changed_by=by, note=note
        )


class InquiryStatusChange(models.Model):
    """One step on an inquiry's timeline: from, to, when, who, and a note."""

    inquiry = models.ForeignKey(
        Inquiry, on_delete=models.PROTECT, related_name="status_changes"
    )
    from_status = models.CharField(
        max_length=20, choices=Inquiry.Status.choices, blank=True
    )
    to_status = models.CharField(max_length=20, choices=Inquiry.Status.choices)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
    )
    note = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [
            models.Index(fields=["inquiry", "changed_at"], name="inquiry_timeline_idx")
        ]

    def __str__(self) -> str:
        return f"{self.from_status or 'start'} -> {self.to_status}"


class HighRiskInquiry(Inquiry):
    """High-risk inquiries as a clinician reviews them (a proxy: same rows, own rights).

    Clinicians who do not work the intake queue see only these, to record whether the
    person may wait for a seat despite the screen (DOMAIN.md section 2).
    """

    class Meta:
        proxy = True
        verbose_name = "high-risk inquiry for clinical review"
        verbose_name_plural = "high-risk inquiries for clinical review"
