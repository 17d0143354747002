"""The waitlist: clients waiting for a seat in a track (DOMAIN.md section 2)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, Count, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .clients import Client
from .common import LevelOfCare, Schedule
from .inquiries import Inquiry


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    OFFERED = "offered", "Offered a seat"
    ADMITTED = "admitted", "Admitted"
    REMOVED = "removed", "Removed"


OPEN_STATUSES = [WaitlistStatus.WAITING, WaitlistStatus.OFFERED]
ALREADY_WAITING = (
    "This client already has an open waitlist entry for this level of care."
)


class WaitlistQuerySet(models.QuerySet["WaitlistEntry"]):
    def open(self) -> WaitlistQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def waiting(self) -> WaitlistQuerySet:
        return self.filter(status=WaitlistStatus.WAITING)

    def queue_order(self) -> WaitlistQuerySet:
        """Urgent before routine, then longest waiting (DOMAIN.md section 2)."""
        return self.order_by("level_of_care", "priority", "added_on", "id")

    def with_position(self) -> WaitlistQuerySet:
        """Annotate ``position``: 1 for the next person in line for that level of care.

        Counted against every waiting entry, whatever this queryset is filtered to, so a
        search shows each person's real place. Entries not waiting get no position.
        """
        same_level = WaitlistEntry.objects.filter(
            status=WaitlistStatus.WAITING, level_of_care=OuterRef("level_of_care")
        )
        ahead = (
            same_level.filter(
                Q(priority__lt=OuterRef("priority"))
                | Q(priority=OuterRef("priority"), added_on__lt=OuterRef("added_on"))
                | Q(
                    priority=OuterRef("priority"),
                    added_on=OuterRef("added_on"),
                    id__lt=OuterRef("id"),
                )
            )
            .order_by()
            .values("level_of_care")
            .annotate(count=Count("id"))
            .values("count")
        )
        return self.annotate(
            position=Case(
                When(
                    status=WaitlistStatus.WAITING,
                    then=Coalesce(Subquery(ahead), Value(0)) + 1,
                ),
                default=None,
                output_field=models.IntegerField(),
            )
        )


class WaitlistEntry(models.Model):
    """A client waiting for a seat at one level of care.

    Intake adds, reprioritises and removes entries; the programs app offers seats and
    admits, moving entries to offered and admitted (and back to waiting).
    """

    # The lookup from this row to its client, for the access audit (iopclinic).
    audit_client_path = "client"

    Status = WaitlistStatus

    class Priority(models.IntegerChoices):
        URGENT = 1, "Urgent"
        ROUTINE = 2, "Routine"

    class RemovedReason(models.TextChoices):
        NO_LONGER_WANTS_CARE = "no_longer_wants_care", "No longer wants care"
        PLACED_ELSEWHERE = "placed_elsewhere", "Placed elsewhere"
        UNREACHABLE = "unreachable", "Unreachable"
        OTHER = "other", "Other"

    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="waitlist_entries"
    )
    inquiry = models.ForeignKey(
        Inquiry,
        on_delete=models.PROTECT,
        related_name="waitlist_entries",
        null=True,
        blank=True,
        help_text="The inquiry that led here, if any.",
    )
    level_of_care = models.CharField(max_length=10, choices=LevelOfCare.choices)
    preferred_schedule = models.CharField(
        max_length=10, choices=Schedule.choices, default=Schedule.EITHER
    )
    priority = models.PositiveSmallIntegerField(
        choices=Priority.choices,
        default=Priority.ROUTINE,
        help_text="Urgent entries are offered a seat before routine ones.",
    )
    added_on = models.DateField(default=timezone.localdate)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        editable=False,
    )
    status = models.CharField(
        max_length=10,
        choices=WaitlistStatus.choices,
        default=WaitlistStatus.WAITING,
        editable=False,
    )
    removed_reason = models.CharField(
        max_length=30, choices=RemovedReason.choices, blank=True, editable=False
    )
    removed_note = models.TextField(blank=True, editable=False)
    removed_on = models.DateField(null=True, blank=True, editable=False)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
    )

    history = HistoricalRecords()
    objects = WaitlistQuerySet.as_manager()

    class Meta:
        verbose_name = "waitlist entry"
        verbose_name_plural = "waitlist"
        ordering = ["level_of_care", "priority", "added_on", "id"]
        indexes = [
            models.Index(
                fields=["status", "level_of_care", "priority", "added_on", "id"],
                name="waitlist_queue_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "level_of_care"],
                condition=Q(status__in=OPEN_STATUSES),
                name="one_open_waitlist_entry_per_level",
                violation_error_message=ALREADY_WAITING,
            ),
            models.CheckConstraint(
                condition=~Q(status="removed") | ~Q(removed_reason=""),
                name="waitlist_removal_needs_reason",
            ),
            models.CheckConstraint(
                condition=Q(status__in=WaitlistStatus.values),
                name="waitlist_status_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} waiting for {self.get_level_of_care_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def days_waiting(self) -> int:
        end = self.removed_on if self.removed_on else timezone.localdate()
        return (end - self.added_on).days

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        # The form does not include status, so the conditional unique constraint is not
        # checked by the form: check it here (shared/NOTES.md).
        if self.client_id and self.is_open:
            others = WaitlistEntry.objects.open().filter(
                client_id=self.client_id, level_of_care=self.level_of_care
            )
            if others.exclude(pk=self.pk).exists():
                errors["level_of_care"] = ALREADY_WAITING
        if self.added_on and self.added_on > timezone.localdate():
            errors["added_on"] = "The date added cannot be in the future."
        inquiry = self.screening_inquiry()
        if (
            self._state.adding
            and inquiry is not None
            and not inquiry.may_wait_for_a_seat
        ):
            errors["client"] = (
                "Their safety screen shows high risk: route them to crisis care. They "
                "can be waitlisted only after a clinician records an override note on "
                "the inquiry."
            )
        if errors:
            raise ValidationError(errors)

    def screening_inquiry(self) -> Inquiry | None:
        """The inquiry whose safety screen applies: this entry's, else the latest."""
        if self.inquiry_id:
            return self.inquiry
        if not self.client_id:
            return None
        return (
            Inquiry.objects.filter(client_id=self.client_id, risk_level__isnull=False)
            .order_by("-received_at", "-id")
            .first()
        )

    def remove(self, *, reason: str, by: Any, note: str = "") -> None:
        """Take the entry off the waitlist with a reason; it stays on record."""
        if not self.is_open:
            raise ValidationError("Only a waiting or offered entry can be removed.")
        self.status = WaitlistStatus.REMOVED
        self.removed_reason = reason
        self.removed_note = note
        self.removed_on = timezone.localdate()
        self.removed_by = by
        self.save(
            update_fields=[
                "status",
                "removed_reason",
                "removed_note",
                "removed_on",
                "removed_by",
            ]
        )
