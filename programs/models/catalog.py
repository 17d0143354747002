"""What the clinic runs: programs (IOP, PHP) and their day and evening tracks."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from simple_history.models import HistoricalRecords

from intake.models import LevelOfCare

# DOMAIN.md sections 1 and 3: weekly minimums, typical length and plan timings.
LEVEL_DEFAULTS: dict[str, dict[str, int]] = {
    LevelOfCare.IOP: {
        "minimum_hours_per_week": 9,
        "minimum_days_per_week": 3,
        "typical_length_weeks": 6,
        "initial_plan_due_days": 7,
        "plan_review_every_days": 30,
    },
    LevelOfCare.PHP: {
        "minimum_hours_per_week": 20,
        "minimum_days_per_week": 5,
        "typical_length_weeks": 3,
        "initial_plan_due_days": 7,
        "plan_review_every_days": 14,
    },
}


class Program(models.Model):
    """An IOP or a PHP, with the weekly minimums its payers and regulators set."""

    name = models.CharField(max_length=120, unique=True)
    level_of_care = models.CharField(max_length=10, choices=LevelOfCare.choices)
    minimum_hours_per_week = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Leave empty for the default: IOP 9 hours, PHP 20 hours.",
    )
    minimum_days_per_week = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(7)],
        help_text="Leave empty for the default: IOP 3, PHP 5.",
    )
    typical_length_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    initial_plan_due_days = models.PositiveSmallIntegerField(
        "initial treatment plan due (days after admission)", null=True, blank=True
    )
    plan_review_every_days = models.PositiveSmallIntegerField(
        "treatment plan review every (days)", null=True, blank=True
    )
    active = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(minimum_hours_per_week__isnull=False)
                & Q(minimum_days_per_week__isnull=False)
                & Q(minimum_days_per_week__lte=7),
                name="program_minimums_set",
                violation_error_message="Give the weekly minimums (at most 7 days).",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.fill_level_defaults()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        # Before the constraints are checked, so an empty minimum takes its default
        # instead of failing the "minimums set" constraint.
        super().clean()
        self.fill_level_defaults()

    def fill_level_defaults(self) -> None:
        """Empty minimums and timings take the DOMAIN.md default for the level."""
        for field, default in LEVEL_DEFAULTS.get(self.level_of_care, {}).items():
            if getattr(self, field) is None:
                setattr(self, field, default)


class TrackSchedule(models.TextChoices):
    DAY = "day", "Day track"
    EVENING = "evening", "Evening track"


class TrackQuerySet(models.QuerySet["Track"]):
    def active(self) -> TrackQuerySet:
        return self.filter(active=True, program__active=True)

    def with_seats(self) -> TrackQuerySet:
        """Annotate ``held_count`` and ``open_count`` (capacity minus held), in SQL."""
        from .enrollment import Enrollment, SeatOffer

        enrollments = (
            Enrollment.objects.holding_a_seat()
            .filter(track=OuterRef("pk"))
            .order_by()
            .values("track")
            .annotate(n=Count("id"))
            .values("n")
        )
        offers = (
            SeatOffer.objects.open()
            .filter(track=OuterRef("pk"))
            .order_by()
            .values("track")
            .annotate(n=Count("id"))
            .values("n")
        )
        held = Coalesce(Subquery(enrollments), Value(0)) + Coalesce(
            Subquery(offers), Value(0)
        )
        return self.annotate(held_count=held).annotate(
            open_count=models.ExpressionWrapper(
                models.F("capacity") - models.F("held_count"),
                output_field=IntegerField(),
            )
        )


class Track(models.Model):
    """A day or evening track of a program, with its seats and weekly schedule."""

    Schedule = TrackSchedule

    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="tracks"
    )
    schedule = models.CharField(max_length=10, choices=TrackSchedule.choices)
    name = models.CharField(max_length=120)
    location = models.CharField(max_length=200, blank=True)
    capacity = models.PositiveSmallIntegerField(
        "seats",
        validators=[MinValueValidator(1)],
        help_text="How many clients the track can hold at once.",
    )
    active = models.BooleanField(default=True)

    history = HistoricalRecords()
    objects = TrackQuerySet.as_manager()

    class Meta:
        ordering = ["program__name", "schedule", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "name"], name="track_name_unique"
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=1),
                name="track_has_seats",
                violation_error_message="A track needs at least one seat.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def seats_held(self) -> int:
        """Enrollments scheduled, active or on hold, plus open seat offers."""
        return (
            self.enrollments.holding_a_seat().count() + self.seat_offers.open().count()
        )

    def open_seats(self) -> int:
        return self.capacity - self.seats_held()


class Service(models.TextChoices):
    """The services of an IOP/PHP day (DOMAIN.md section 1)."""

    GROUP_THERAPY = "group_therapy", "Group therapy"
    INDIVIDUAL_THERAPY = "individual_therapy", "Individual therapy"
    PSYCHOEDUCATION = "psychoeducation", "Psychoeducation"
    MEDICATION_MANAGEMENT = "medication_management", "Medication management"
    THERAPEUTIC_ACTIVITY = "therapeutic_activity", "Therapeutic activity"


class ScheduleBlock(models.Model):
    """One weekly block of a track's schedule, in the clinic's time zone."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="blocks")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField(help_text="Local time at the clinic.")
    duration_minutes = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(15), MaxValueValidator(480)]
    )
    service = models.CharField(max_length=30, choices=Service.choices)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["track", "weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=15) & Q(duration_minutes__lte=480),
                name="block_duration_sensible",
                violation_error_message="A block lasts 15 minutes to 8 hours.",
            ),
        ]

    def __str__(self) -> str:
        service = self.get_service_display()
        return f"{self.get_weekday_display()} {self.start:%H:%M} {service}"

    def starts_on(self, day: datetime.date) -> datetime.datetime:
        """The block's start on a day, as an aware datetime in the clinic's zone."""
        return datetime.datetime.combine(
            day, self.start, tzinfo=timezone.get_default_timezone()
        )
