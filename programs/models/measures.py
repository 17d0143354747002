"""Outcome measures: a questionnaire (PHQ-9, GAD-7) given to a client during an
enrollment, scored by the server from the item answers (DOMAIN.md section 4)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from ..instruments import INSTRUMENTS, SEVERITIES, Instrument
from .enrollment import Enrollment

INSTRUMENT_CHOICES = [(code, item.short_name) for code, item in INSTRUMENTS.items()]
WITH_SAFETY_ITEM = [code for code, item in INSTRUMENTS.items() if item.safety_item]


class AssessmentQuerySet(models.QuerySet["Assessment"]):
    def for_instrument(self, code: str) -> AssessmentQuerySet:
        return self.filter(instrument=code)

    def needing_safety_followup(self) -> AssessmentQuerySet:
        """A positive safety item (PHQ-9 item 9) that no clinician has followed up."""
        return self.filter(awaiting_safety_followup=True)

    def visible_to(self, user: Any) -> AssessmentQuerySet:
        """Those of the enrollments the user may see (Enrollment.objects.visible_to)."""
        if user.has_perm("programs.view_every_enrollment"):
            return self
        return self.filter(
            enrollment__in=Enrollment.objects.visible_to(user).values("pk")
        )

    def in_order(self) -> AssessmentQuerySet:
        """Oldest first: the order of a series, whose first score is the baseline."""
        return self.order_by("administered_on", "id")


def _total_in_range(code: str, instrument: Instrument) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=~Q(instrument=code)
        | Q(total_score__gte=0, total_score__lte=instrument.max_total),
        name=f"assessment_{code}_total_in_range",
        violation_error_message=(
            f"A {instrument.short_name} total is 0 to {instrument.max_total}."
        ),
    )


class Assessment(models.Model):
    """One questionnaire given to a client on a day, during an enrollment."""

    # The lookup from this row to its client, for the access audit (iopclinic).
    audit_client_path = "enrollment__client"

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="assessments"
    )
    instrument = models.CharField(max_length=10, choices=INSTRUMENT_CHOICES)
    administered_on = models.DateField(
        "date given", help_text="The day the client answered the questionnaire."
    )
    # One answer per item, in the questionnaire's order, each 0-3. Shown on the form as
    # one question per item; validated against the instrument in clean().
    answers = models.JSONField(default=list, editable=False)
    total_score = models.PositiveSmallIntegerField("total", editable=False)
    severity = models.CharField(
        max_length=20, choices=list(SEVERITIES.items()), editable=False
    )
    safety_flag = models.BooleanField(
        "item 9 positive",
        default=False,
        editable=False,
        help_text="PHQ-9 item 9 (thoughts of being better off dead or of self-harm) "
        "answered above 0: needs a clinician's follow-up whatever the total.",
    )
    administered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    safety_followup_note = models.TextField(
        "item 9 follow-up",
        blank=True,
        help_text="Only for a positive item 9: what was done (risk assessment, safety "
        "plan, crisis referral) and the outcome.",
    )
    safety_followup_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="follow-up recorded by",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
    )
    safety_followup_at = models.DateTimeField(
        "follow-up recorded at", null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The follow-up queue as a column of its own, kept by the database. Filtering on the
    # two columns above, PostgreSQL multiplies their frequencies (1 % flagged, 99 %
    # without a follow-up) and expects thousands of rows where there are a handful,
    # then scans every enrollment to join them (make bench); this column's own
    # statistics know how rare "true" is.
    awaiting_safety_followup = models.GeneratedField(
        expression=models.ExpressionWrapper(
            Q(safety_flag=True, safety_followup_at__isnull=True),
            output_field=models.BooleanField(),
        ),
        output_field=models.BooleanField(),
        db_persist=True,
    )

    history = HistoricalRecords(excluded_fields=["awaiting_safety_followup"])
    objects = AssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["-administered_on", "-id"]
        indexes = [
            # The list's order (the admin appends -pk).
            models.Index(fields=["administered_on", "id"], name="assessment_given_idx"),
            # The list filtered by questionnaire and severity, in its order.
            models.Index(
                fields=["instrument", "severity", "administered_on", "id"],
                name="assessment_severity_idx",
            ),
            # The follow-up queue stays small: index only its rows.
            models.Index(
                fields=["enrollment"],
                condition=Q(awaiting_safety_followup=True),
                name="assessment_awaiting_idx",
            ),
        ]
        constraints = [
            # Also the index of an enrollment's series (enrollment, instrument, date):
            # the date is unique within a series, so it orders it on its own.
            models.UniqueConstraint(
                fields=["enrollment", "instrument", "administered_on"],
                name="one_score_per_instrument_per_day",
                violation_error_message=(
                    "This enrollment already has this questionnaire on that day."
                ),
            ),
            models.CheckConstraint(
                condition=Q(instrument__in=list(INSTRUMENTS)),
                name="assessment_known_instrument",
                violation_error_message="Unknown questionnaire.",
            ),
            *(_total_in_range(code, item) for code, item in INSTRUMENTS.items()),
            models.CheckConstraint(
                condition=Q(safety_flag=False) | Q(instrument__in=WITH_SAFETY_ITEM),
                name="assessment_flag_needs_safety_item",
                violation_error_message="This questionnaire has no safety item.",
            ),
            models.CheckConstraint(
                condition=Q(
                    safety_followup_note="",
                    safety_followup_by__isnull=True,
                    safety_followup_at__isnull=True,
                )
                | (
                    ~Q(safety_followup_note="")
                    & Q(
                        safety_followup_by__isnull=False,
                        safety_followup_at__isnull=False,
                    )
                ),
                name="assessment_followup_signed",
                violation_error_message=(
                    "An item 9 follow-up is recorded with who wrote it and when."
                ),
            ),
            models.CheckConstraint(
                condition=Q(safety_followup_note="") | Q(safety_flag=True),
                name="assessment_followup_only_when_flagged",
                violation_error_message=(
                    "Only a positive item 9 has a follow-up note."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()} of {self.administered_on}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Never trust a stored total: it is always the answers' (DOMAIN.md section 4).
        self.score()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "answers" in update_fields:
            kwargs["update_fields"] = {
                *update_fields,
                "total_score",
                "severity",
                "safety_flag",
            }
        super().save(*args, **kwargs)

    @property
    def definition(self) -> Instrument:
        return INSTRUMENTS[self.instrument]

    @property
    def needs_safety_followup(self) -> bool:
        return self.safety_flag and self.safety_followup_at is None

    @property
    def safety_answer(self) -> str:
        """The safety item's answer in words ("Several days"); "" without one."""
        item = self.definition.safety_item
        if item is None or len(self.answers) < item:
            return ""
        return self.definition.answers[self.answers[item - 1]]

    def score(self) -> None:
        """Total, severity band and safety flag from the answers (validated first)."""
        definition = self.definition
        self.total_score = definition.total(self.answers)
        self.severity = definition.band(self.total_score)
        self.safety_flag = definition.safety_flag(self.answers)

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list[str]] = {}
        if self.instrument not in INSTRUMENTS:
            raise ValidationError("Choose a questionnaire: PHQ-9 or GAD-7.")
        if self.administered_on:
            errors.update(self._date_errors())
        # The answers are one form field per item: their errors go on top of the form.
        try:
            self.score()
        except ValidationError as error:
            errors.setdefault(NON_FIELD_ERRORS, []).extend(error.messages)
        else:
            if self.safety_followup_note and not self.safety_flag:
                item = self.definition.safety_item
                errors.setdefault(NON_FIELD_ERRORS, []).append(
                    f"Item {item} is answered 'Not at all': there is nothing to "
                    "follow up, so no follow-up note."
                    if item
                    else f"The {self.definition.short_name} has no safety item to "
                    "follow up."
                )
        if errors:
            raise ValidationError(errors)

    def _date_errors(self) -> dict[str, list[str]]:
        if self.administered_on > timezone.localdate():
            return {"administered_on": ["The date given cannot be in the future."]}
        if self.enrollment_id is None:
            return {}
        enrollment = self.enrollment
        if self.administered_on < enrollment.admitted_on or (
            enrollment.discharged_on and self.administered_on > enrollment.discharged_on
        ):
            return {
                "administered_on": [
                    "The date given must fall within the enrollment (from admission "
                    "on, and not after discharge)."
                ]
            }
        same_day = (
            Assessment.objects.filter(
                enrollment_id=self.enrollment_id,
                instrument=self.instrument,
                administered_on=self.administered_on,
            )
            .exclude(pk=self.pk)
            .exists()
        )
        if same_day:
            return {
                "administered_on": [
                    f"This client already has a {self.get_instrument_display()} on "
                    "that day."
                ]
            }
        return {}

    def stamp_safety_followup(self, *, by: Any) -> None:
        """Sign a newly written follow-up note with who wrote it and when."""
        self.safety_followup_by = by
        self.safety_followup_at = timezone.now()

    def record_safety_followup(self, *, note: str, by: Any) -> None:
        """Record what a clinician did about a positive safety item, signed and
        dated; it takes the assessment off the follow-up list."""
        if not self.safety_flag:
            raise ValidationError(
                "The safety item is answered 'Not at all': there is nothing to follow "
                "up."
            )
        if self.safety_followup_at is not None:
            raise ValidationError("The follow-up is already recorded.")
        if not note.strip():
            raise ValidationError("Write what was done.")
        self.safety_followup_note = note.strip()
        self.stamp_safety_followup(by=by)
        self.save(
            update_fields=[
                "safety_followup_note",
                "safety_followup_by",
                "safety_followup_at",
            ]
        )
