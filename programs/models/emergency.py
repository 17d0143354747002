"""Emergency access ("break the glass"): a clinician sees a client outside their
caseload for a few hours, with a reason, and a privacy officer reviews it afterwards."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone
from simple_history.models import HistoricalRecords

# HIPAA "emergency access procedure": long enough for a crisis shift, never a standing
# way around the caseload rule.
MAX_DURATION = datetime.timedelta(hours=4)
MIN_REASON_LENGTH = 20


class EmergencyAccessQuerySet(models.QuerySet["EmergencyAccess"]):
    def active(self, at: datetime.datetime | None = None) -> EmergencyAccessQuerySet:
        """Grants in force at ``at`` (now): started, not expired, not ended early."""
        at = at or timezone.now()
        return self.filter(started_at__lte=at, expires_at__gt=at).filter(
            Q(ended_at__isnull=True) | Q(ended_at__gt=at)
        )

    def unreviewed(self) -> EmergencyAccessQuerySet:
        return self.filter(reviewed_at__isnull=True)


class EmergencyAccess(models.Model):
    """One clinician's time-limited access to one client outside their caseload."""

    MAX_DURATION = MAX_DURATION

    # The lookup from this row to the client it is about (the access audit reads it).
    audit_client_path = "client"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="emergency_accesses",
        editable=False,
        verbose_name="requested by",
    )
    client = models.ForeignKey(
        "intake.Client",
        on_delete=models.PROTECT,
        related_name="emergency_accesses",
        editable=False,
    )
    reason = models.TextField(
        help_text="Why this client's record is needed now, outside your caseload "
        "(e.g. crisis cover for the primary therapist). The privacy officer reads it."
    )
    started_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(
        editable=False, help_text="At most 4 hours after the start."
    )
    ended_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Ended early by the requester."
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
    )
    reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    review_note = models.TextField(
        blank=True,
        help_text="The privacy officer's finding: was the access justified by the "
        "reason and by what was looked at?",
    )

    history = HistoricalRecords()
    objects = EmergencyAccessQuerySet.as_manager()

    class Meta:
        verbose_name = "emergency access"
        verbose_name_plural = "emergency accesses"
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["user", "expires_at"], name="emergency_user_idx"),
            models.Index(
                fields=["reviewed_at", "started_at"], name="emergency_review_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("started_at"))
                & Q(expires_at__lte=F("started_at") + MAX_DURATION),
                name="emergency_at_most_4_hours",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="emergency_ends_after_start",
            ),
            models.CheckConstraint(
                condition=GreaterThanOrEqual(Length("reason"), MIN_REASON_LENGTH),
                name="emergency_reason_given",
            ),
            models.CheckConstraint(
                condition=Q(reviewed_at__isnull=True)
                | (Q(reviewed_by__isnull=False) & ~Q(review_note="")),
                name="emergency_review_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"Emergency access #{self.pk} from {self.started_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if len(" ".join(self.reason.split())) < MIN_REASON_LENGTH:
            errors["reason"] = (
                f"Give the reason in at least {MIN_REASON_LENGTH} characters: the "
                "privacy officer reviews every emergency access."
            )
        if self.started_at and self.expires_at:
            if self.expires_at <= self.started_at:
                errors["expires_at"] = "The access must end after it starts."
            elif self.expires_at - self.started_at > MAX_DURATION:
                errors["expires_at"] = "Emergency access lasts at most 4 hours."
        if self.reviewed_at and not self.review_note.strip():
            errors["review_note"] = "Write the finding of the review."
        if errors:
            raise ValidationError(errors)

    def is_active(self, at: datetime.datetime | None = None) -> bool:
        at = at or timezone.now()
        return self.started_at <= at < self.expires_at and (
            self.ended_at is None or self.ended_at > at
        )

    @property
    def is_reviewed(self) -> bool:
        return self.reviewed_at is not None
