"""Episodes of care: enrollments in a track, their placements, and seat offers."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .catalog import Track
from .emergency import EmergencyAccess

# How far ahead an admission may be scheduled; further is almost surely a typo.
MAX_DAYS_AHEAD = 90


class EnrollmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    DISCHARGED = "discharged", "Discharged"


SEAT_HOLDING = [
    EnrollmentStatus.SCHEDULED,
    EnrollmentStatus.ACTIVE,
    EnrollmentStatus.ON_HOLD,
]


class DischargeType(models.TextChoices):
    """DOMAIN.md section 5."""

    COMPLETED = "completed", "Completed program"
    STEPPED_DOWN = "stepped_down", "Stepped down to a lower level of care"
    STEPPED_UP = "stepped_up", "Stepped up / hospitalized"
    TRANSFERRED = "transferred", "Transferred elsewhere"
    AGAINST_ADVICE = "against_advice", "Left against clinical advice"
    ADMINISTRATIVE = "administrative", "Administrative"
    LOST_CONTACT = "lost_contact", "Lost contact"
    OTHER = "other", "Other"


class EnrollmentQuerySet(models.QuerySet["Enrollment"]):
    def holding_a_seat(self) -> EnrollmentQuerySet:
        """Scheduled, active or on hold: each holds a seat in its track."""
        return self.filter(status__in=SEAT_HOLDING)

    def open(self) -> EnrollmentQuerySet:
        return self.exclude(status=EnrollmentStatus.DISCHARGED)

    def plan_overdue(self, today: datetime.date) -> EnrollmentQuerySet:
        """Open episodes whose initial plan or plan review is past due."""
        return self.open().filter(plan_due_on__lt=today)

    def plan_due_soon(self, today: datetime.date, days: int = 7) -> EnrollmentQuerySet:
        """Open episodes whose plan work falls due today or in the next ``days``."""
        return self.open().filter(
            plan_due_on__gte=today,
            plan_due_on__lte=today + datetime.timedelta(days=days),
        )

    def visible_to(self, user: Any) -> EnrollmentQuerySet:
        """The enrollments a user may see: all of them with the clinic-wide
        permission (coordinators, managers), otherwise only their own caseload: those
        where they are the primary therapist, a co-therapist or the psychiatrist, and
        those of a client they hold emergency access to (EmergencyAccess) right now."""
        if user.has_perm("programs.view_every_enrollment"):
            return self
        granted = EmergencyAccess.objects.active().filter(user=user.pk)
        mine = (
            Q(primary_therapist=user.pk)
            | Q(psychiatrist=user.pk)
            | Q(
                pk__in=Enrollment.co_therapists.through.objects.filter(
                    user_id=user.pk
                ).values("enrollment_id")
            )
            | Q(client__in=granted.values("client_id"))
        )
        return self.filter(mine)


class Enrollment(models.Model):
    """One episode of care of a client in a track (changing track keeps the episode)."""

    # The lookup from this row to its client, for the access audit (iopclinic).
    audit_client_path = "client"

    Status = EnrollmentStatus

    client = models.ForeignKey(
        "intake.Client", on_delete=models.PROTECT, related_name="enrollments"
    )
    track = models.ForeignKey(
        Track, on_delete=models.PROTECT, related_name="enrollments"
    )
    status = models.CharField(
        max_length=12,
        choices=EnrollmentStatus.choices,
        default=EnrollmentStatus.SCHEDULED,
        editable=False,
    )
    admitted_on = models.DateField(editable=False)
    expected_end = models.DateField(null=True, blank=True)
    primary_therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="primary_enrollments",
        null=True,
        blank=True,
    )
    co_therapists = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="co_therapist_enrollments", blank=True
    )
    psychiatrist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="psychiatrist_enrollments",
        null=True,
        blank=True,
    )
    waitlist_entry = models.ForeignKey(
        "intake.WaitlistEntry",
        on_delete=models.PROTECT,
        related_name="enrollments",
        null=True,
        blank=True,
        editable=False,
    )
    # How the episode ended: the one record of it, filled by the discharge workflow.
    discharged_on = models.DateField(null=True, blank=True, editable=False)
    discharge_type = models.CharField(
        max_length=20, choices=DischargeType.choices, blank=True, editable=False
    )
    discharge_reason = models.TextField(blank=True, editable=False)
    # When the next treatment-plan work is due: the initial plan, then each review
    # (DOMAIN.md section 3). Kept by programs.plans, so the due lists are one query.
    plan_due_on = models.DateField(null=True, blank=True, editable=False)

    history = HistoricalRecords(m2m_fields=[co_therapists])
    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        ordering = ["-admitted_on", "-id"]
        permissions = [
            ("view_every_enrollment", "Can see every enrollment, not only a caseload"),
        ]
        indexes = [
            models.Index(
                fields=["track", "status"], name="enrollment_track_status_idx"
            ),
            models.Index(fields=["admitted_on", "id"], name="enrollment_admitted_idx"),
            # Episodes overlapping a period (the enrollment report): discharged in or
            # after it, or not yet discharged (NULL), admitted before its end.
            models.Index(
                fields=["discharged_on", "admitted_on"],
                name="enrollment_discharged_idx",
            ),
            models.Index(
                fields=["primary_therapist", "status"], name="enrollment_therapist_idx"
            ),
            models.Index(fields=["plan_due_on", "id"], name="enrollment_plan_due_idx"),
            # The list filtered by status, in its order (and its count).
            models.Index(
                fields=["status", "admitted_on", "id"], name="enrollment_status_idx"
            ),
            # The open episodes are about a thousand among the ten years': the plan
            # due lists and the attendance flags read only them.
            models.Index(
                fields=["plan_due_on"],
                condition=~Q(status="discharged"),
                name="enrollment_open_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=~Q(status="discharged"),
                name="one_open_enrollment_per_client",
                violation_error_message=(
                    "This client already has an enrollment that is not discharged."
                ),
            ),
            models.CheckConstraint(
                condition=Q(expected_end__isnull=True)
                | Q(expected_end__gt=F("admitted_on")),
                name="enrollment_ends_after_admission",
            ),
            models.CheckConstraint(
                condition=~Q(status="discharged")
                | (Q(discharged_on__isnull=False) & ~Q(discharge_type="")),
                name="enrollment_discharge_recorded",
            ),
            models.CheckConstraint(
                condition=Q(discharged_on__isnull=True)
                | Q(discharged_on__gte=F("admitted_on")),
                name="enrollment_discharged_after_admission",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} in {self.track} from {self.admitted_on:%Y-%m-%d}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # DOMAIN.md section 5: after discharge the episode's dates and type are
        # read-only; a correction is an amendment on the discharge plan.
        if (
            not self._state.adding
            and Enrollment.objects.filter(
                pk=self.pk, status=EnrollmentStatus.DISCHARGED
            ).exists()
        ):
            raise ValidationError(
                "A discharged enrollment is not changed: add an amendment to its "
                "discharge plan."
            )
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if (
            self.admitted_on
            and self.expected_end
            and self.expected_end <= self.admitted_on
        ):
            errors["expected_end"] = (
                "The expected end must be after the admission date."
            )
        if (
            self.client_id
            and self.status != EnrollmentStatus.DISCHARGED
            and Enrollment.objects.open()
            .filter(client_id=self.client_id)
            .exclude(pk=self.pk)
            .exists()
        ):
            errors["client"] = (
                "This client already has an enrollment that is not discharged."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def holds_a_seat(self) -> bool:
        return self.status in SEAT_HOLDING

    def care_team(self) -> set[int]:
        """Ids of the staff whose caseload holds this enrollment: the other side of
        ``EnrollmentQuerySet.visible_to`` (primary therapist, co-therapists,
        psychiatrist)."""
        team = {self.primary_therapist_id, self.psychiatrist_id}
        team.update(self.co_therapists.values_list("pk", flat=True))
        return {pk for pk in team if pk is not None}


class Placement(models.Model):
    """Append-only: each move of an enrollment into a track (admission, change)."""

    # The lookup from this row to its client, for the access audit (iopclinic).
    audit_client_path = "enrollment__client"

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="placements"
    )
    from_track = models.ForeignKey(
        Track, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    to_track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="+")
    on = models.DateField()
    reason = models.CharField(max_length=300, blank=True)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_track or 'admission'} -> {self.to_track} on {self.on}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError(
                "Placements are append-only: a placement is never changed."
            )
        super().save(*args, **kwargs)


class SeatOfferQuerySet(models.QuerySet["SeatOffer"]):
    def open(self) -> SeatOfferQuerySet:
        """Not yet answered: such an offer holds its seat until it is expired."""
        return self.filter(outcome="")

    def stale(self) -> SeatOfferQuerySet:
        return self.open().filter(expires_at__lte=timezone.now())


class SeatOffer(models.Model):
    """A seat offered to someone on the waitlist; it holds the seat until answered."""

    # The lookup from this row to its client, for the access audit (iopclinic).
    audit_client_path = "waitlist_entry__client"

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"

    waitlist_entry = models.ForeignKey(
        "intake.WaitlistEntry", on_delete=models.PROTECT, related_name="seat_offers"
    )
    track = models.ForeignKey(
        Track, on_delete=models.PROTECT, related_name="seat_offers"
    )
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    offered_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()
    objects = SeatOfferQuerySet.as_manager()

    class Meta:
        ordering = ["-offered_at", "-id"]
        indexes = [
            models.Index(fields=["track", "outcome"], name="offer_track_outcome_idx"),
            models.Index(fields=["offered_at", "id"], name="offer_offered_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["waitlist_entry"],
                condition=Q(outcome=""),
                name="one_open_offer_per_entry",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("offered_at")), name="offer_expires_later"
            ),
        ]

    def __str__(self) -> str:
        return f"Seat in {self.track} offered {self.offered_at:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.outcome == ""


class HoldPeriodQuerySet(models.QuerySet["HoldPeriod"]):
    def current(self) -> HoldPeriodQuerySet:
        return self.filter(ended_on__isnull=True)

    def past_seat_limit(self) -> HoldPeriodQuerySet:
        """Current holds whose seat-keeping days are over: discharge or extend them."""
        return self.current().filter(keep_seat_until__lt=timezone.localdate())


class HoldPeriod(models.Model):
    """A dated pause in treatment (e.g. a short hospital stay) that keeps the seat."""

    # The lookup from this row to its client, for the access audit (iopclinic).
    audit_client_path = "enrollment__client"

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="holds"
    )
    starts_on = models.DateField()
    keep_seat_until = models.DateField(
        help_text="The seat is kept until this day; after it the hold is flagged."
    )
    reason = models.CharField(max_length=300)
    ended_on = models.DateField(null=True, blank=True)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )

    history = HistoricalRecords()
    objects = HoldPeriodQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment"],
                condition=Q(ended_on__isnull=True),
                name="one_current_hold_per_enrollment",
            ),
            models.CheckConstraint(
                condition=Q(keep_seat_until__gte=F("starts_on")),
                name="hold_keeps_seat_after_start",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("starts_on")),
                name="hold_ends_after_start",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="hold_has_reason"),
        ]

    def __str__(self) -> str:
        return f"On hold from {self.starts_on:%Y-%m-%d}: {self.reason}"
