"""Dated group sessions of a track, and who attended them."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .catalog import ScheduleBlock, Service, Track
from .enrollment import Enrollment, EnrollmentStatus

GROUP_SERVICES = [
    Service.GROUP_THERAPY,
    Service.PSYCHOEDUCATION,
    Service.THERAPEUTIC_ACTIVITY,
]


class GroupSessionQuerySet(models.QuerySet["GroupSession"]):
    def roll_not_taken(self) -> GroupSessionQuerySet:
        """Past sessions, not cancelled, whose attendance nobody recorded yet; they are
        left out of attendance rates until it is."""
        return self.filter(
            starts_at__lt=timezone.now(), cancelled=False, roll_taken_at__isnull=True
        )

    def visible_to(self, user: Any) -> GroupSessionQuerySet:
        """Everything with the clinic-wide permission, else the sessions they lead."""
        if user.has_perm("programs.view_every_enrollment"):
            return self
        return self.filter(facilitator=user.pk)


class GroupSession(models.Model):
    """One dated occurrence of a group service in a track."""

    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="sessions")
    block = models.ForeignKey(
        ScheduleBlock,
        on_delete=models.PROTECT,
        related_name="sessions",
        null=True,
        blank=True,
        editable=False,
        help_text="The weekly block it was generated from.",
    )
    service = models.CharField(
        max_length=30, choices=[(s.value, s.label) for s in GROUP_SERVICES]
    )
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(15), MaxValueValidator(480)]
    )
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="facilitated_sessions",
        null=True,
        blank=True,
    )
    topic = models.CharField(max_length=200, blank=True)
    cancelled = models.BooleanField(
        default=False, help_text="Cancelled sessions stay on record, marked cancelled."
    )
    roll_taken_at = models.DateTimeField(null=True, blank=True, editable=False)
    roll_taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
    )

    history = HistoricalRecords()
    objects = GroupSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(fields=["track", "starts_at"], name="session_track_start_idx"),
            models.Index(
                fields=["facilitator", "starts_at"], name="session_facilitator_idx"
            ),
            models.Index(fields=["starts_at", "id"], name="session_start_idx"),
            # Sessions whose roll is still to take: a few hundred, read by the
            # "roll not taken" filter among half a million sessions.
            models.Index(
                fields=["starts_at"],
                condition=Q(cancelled=False, roll_taken_at__isnull=True),
                name="session_roll_due_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["block", "starts_at"], name="one_session_per_block_and_time"
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=15) & Q(duration_minutes__lte=480),
                name="session_duration_sensible",
                violation_error_message="A session lasts 15 minutes to 8 hours.",
            ),
        ]

    def __str__(self) -> str:
        when = timezone.localtime(self.starts_at)
        return f"{self.get_service_display()}, {self.track}, {when:%Y-%m-%d %H:%M}"

    @property
    def day(self) -> datetime.date:
        return timezone.localdate(self.starts_at)

    def roster(self) -> models.QuerySet[Enrollment]:
        """Everyone enrolled in the track on the session's day (on hold included)."""
        return (
            Enrollment.objects.filter(track=self.track, admitted_on__lte=self.day)
            .exclude(status=EnrollmentStatus.SCHEDULED)
            .filter(Q(discharged_on__isnull=True) | Q(discharged_on__gte=self.day))
            .select_related("client")
            .order_by("client__last_name", "client__first_name", "id")
        )


class Attendance(models.Model):
    """Whether one enrollment attended one session, and for how long."""

    # The lookup from this row to its client, for the access audit (iopclinic).
    audit_client_path = "enrollment__client"

    class Status(models.TextChoices):
        PRESENT = "present", "Present"
        LATE = "late", "Late"
        LEFT_EARLY = "left_early", "Left early"
        EXCUSED = "excused", "Excused absence"
        UNEXCUSED = "unexcused", "Unexcused absence"
        CANCELLED = "cancelled", "Cancelled by the program"

    ABSENT = (Status.EXCUSED, Status.UNEXCUSED, Status.CANCELLED)

    session = models.ForeignKey(
        GroupSession, on_delete=models.PROTECT, related_name="attendance"
    )
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="attendance"
    )
    status = models.CharField(max_length=12, choices=Status.choices)
    minutes_attended = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Empty: the whole session when present, none when absent.",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "attendance"
        ordering = ["session", "enrollment"]
        indexes = [
            models.Index(
                fields=["enrollment", "session"], name="attendance_enrollment_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "enrollment"], name="one_attendance_per_session"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()}: {self.session}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.minutes_attended is None:
            absent = self.status in self.ABSENT
            self.minutes_attended = 0 if absent else self.session.duration_minutes
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        if self.session_id and self.enrollment_id:
            day = self.session.day
            if day < self.enrollment.admitted_on or (
                self.enrollment.discharged_on and day > self.enrollment.discharged_on
            ):
                raise ValidationError(
                    "Attendance is recorded only for sessions during the enrollment."
                )


APPOINTMENT_SERVICES = [Service.INDIVIDUAL_THERAPY, Service.MEDICATION_MANAGEMENT]


class AppointmentQuerySet(models.QuerySet["Appointment"]):
    def visible_to(self, user: Any) -> AppointmentQuerySet:
        """All with the clinic-wide permission; else their caseload's or their own."""
        if user.has_perm("programs.view_every_enrollment"):
            return self
        caseload = Enrollment.objects.visible_to(user).values("pk")
        return self.filter(Q(enrollment__in=caseload) | Q(clinician=user.pk))


class Appointment(models.Model):
    """Individual therapy or medication management for one client: not a group session,
    with the same attendance statuses."""

    # The lookup from this row to its client, for the access audit (iopclinic).
    audit_client_path = "enrollment__client"

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="appointments"
    )
    service = models.CharField(
        max_length=30, choices=[(s.value, s.label) for s in APPOINTMENT_SERVICES]
    )
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(
        default=50, validators=[MinValueValidator(10), MaxValueValidator(240)]
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="appointments",
        null=True,
        blank=True,
    )
    attendance = models.CharField(
        max_length=12,
        choices=Attendance.Status.choices,
        blank=True,
        help_text="Empty until the appointment has happened.",
    )
    minutes_attended = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Empty: the whole appointment when attended, none when absent.",
    )

    history = HistoricalRecords()
    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(fields=["starts_at", "id"], name="appointment_start_idx"),
            models.Index(
                fields=["enrollment", "starts_at"], name="appointment_enroll_idx"
            ),
            models.Index(
                fields=["clinician", "starts_at"], name="appointment_clin_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=10) & Q(duration_minutes__lte=240),
                name="appointment_duration_sensible",
                violation_error_message="An appointment lasts 10 minutes to 4 hours.",
            ),
        ]

    def __str__(self) -> str:
        when = timezone.localtime(self.starts_at)
        return f"{self.get_service_display()}, {when:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.attendance and self.minutes_attended is None:
            absent = self.attendance in Attendance.ABSENT
            self.minutes_attended = 0 if absent else self.duration_minutes
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        if self.attendance and self.starts_at and self.starts_at > timezone.now():
            raise ValidationError(
                {"attendance": "Record attendance once the appointment has happened."}
            )
        if self.enrollment_id and self.starts_at:
            day = timezone.localdate(self.starts_at)
            enrollment = self.enrollment
            if day < enrollment.admitted_on or (
                enrollment.discharged_on and day > enrollment.discharged_on
            ):
                raise ValidationError(
                    {"starts_at": "The appointment must fall within the enrollment."}
                )
        if (
            self.minutes_attended is not None
            and self.duration_minutes
            and self.minutes_attended > self.duration_minutes
        ):
            raise ValidationError(
                {"minutes_attended": "More minutes than the appointment lasts."}
            )
