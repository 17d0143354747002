"""Scoring of PHQ-9 and GAD-7 from the item answers against the published tables
(DOMAIN.md section 4), the item 9 safety flag, and the rules the model and the database
enforce."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from programs.instruments import GAD7, INSTRUMENTS, PHQ9
from programs.models import Assessment
from tests.factories import (
    AssessmentFactory,
    EnrollmentFactory,
    StaffFactory,
    answers_for,
)

# (total, band) at both sides of every boundary, and the ends of the scale.
PHQ9_TABLE = [
    (0, "minimal"),
    (4, "minimal"),
    (5, "mild"),
    (9, "mild"),
    (10, "moderate"),
    (14, "moderate"),
    (15, "moderately_severe"),
    (19, "moderately_severe"),
    (20, "severe"),
    (27, "severe"),
]
GAD7_TABLE = [
    (0, "minimal"),
    (4, "minimal"),
    (5, "mild"),
    (9, "mild"),
    (10, "moderate"),
    (14, "moderate"),
    (15, "severe"),
    (21, "severe"),
]


@pytest.mark.parametrize(("total", "band"), PHQ9_TABLE)
def test_phq9_bands_follow_kroenke_2001(total: int, band: str) -> None:
    assert PHQ9.band(total) == band


@pytest.mark.parametrize(("total", "band"), GAD7_TABLE)
def test_gad7_bands_follow_spitzer_2006(total: int, band: str) -> None:
    assert GAD7.band(total) == band


@pytest.mark.parametrize("total", [-1, 28])
def test_a_total_off_the_scale_has_no_band(total: int) -> None:
    with pytest.raises(ValueError, match="0 to 27"):
        PHQ9.band(total)


def test_the_instruments_are_defined_as_published() -> None:
    assert (PHQ9.item_count, PHQ9.max_total, PHQ9.safety_item) == (9, 27, 9)
    assert (GAD7.item_count, GAD7.max_total, GAD7.safety_item) == (7, 21, None)
    assert PHQ9.items[8].startswith("Thoughts that you would be better off dead")
    assert PHQ9.answers == (
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    )
    assert set(INSTRUMENTS) == {"phq9", "gad7"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "total", "band"),
    [("phq9", total, band) for total, band in PHQ9_TABLE]
    + [("gad7", total, band) for total, band in GAD7_TABLE],
)
def test_the_stored_total_and_band_come_from_the_answers(
    code: str, total: int, band: str
) -> None:
    """Saved from the answers alone: the total and band are the server's."""
    item9 = 3 if total == 27 else 0
    assessment = AssessmentFactory(instrument=code, total=total, item9=item9)
    assessment.refresh_from_db()
    assert sum(assessment.answers) == total
    assert (assessment.total_score, assessment.severity) == (total, band)


@pytest.mark.django_db
def test_a_typed_total_is_overwritten_by_the_answers() -> None:
    assessment = AssessmentFactory(total=7)
    assessment.total_score = 25
    assessment.severity = "severe"
    assessment.save()
    assessment.refresh_from_db()
    assert (assessment.total_score, assessment.severity) == (7, "mild")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("answers", "flagged"),
    [
        ([0, 0, 0, 0, 0, 0, 0, 0, 1], True),  # total 1, still flagged
        ([3, 3, 3, 3, 3, 3, 3, 3, 0], False),  # total 24, item 9 none
        ([0, 0, 0, 0, 0, 0, 0, 0, 3], True),
        ([1, 1, 1, 1, 1, 1, 1, 1, 2], True),
    ],
)
def test_phq9_item_9_above_0_is_flagged_whatever_the_total(
    answers: list[int], flagged: bool
) -> None:
    assessment = AssessmentFactory(answers=answers)
    assert assessment.safety_flag is flagged
    assert Assessment.objects.needing_safety_followup().exists() is flagged


@pytest.mark.django_db
def test_gad7_has_no_safety_flag() -> None:
    assessment = AssessmentFactory(instrument="gad7", answers=[3] * 7)
    assert assessment.total_score == 21
    assert not assessment.safety_flag


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ([1] * 8, "has 9 items: each needs an answer (8 given)"),
        ([1] * 10, "has 9 items: each needs an answer (10 given)"),
        ([1] * 8 + [4], "item 9: 4 is not an answer"),
        ([-1] + [1] * 8, "item 1: -1 is not an answer"),
        (["2"] + [1] * 8, "item 1: the answer must be a whole number"),
        ([1.5] + [1] * 8, "item 1: the answer must be a whole number"),
        ([True] + [1] * 8, "item 1: the answer must be a whole number"),
        ([None] * 9, "item 1: the answer must be a whole number"),
        ("111111111", "must be a list of 9 numbers"),
        ({"1": 1}, "must be a list of 9 numbers"),
    ],
)
def test_bad_answers_are_refused_with_a_clear_message(
    answers: Any, message: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        PHQ9.validate(answers)
    assert any(message in text for text in raised.value.messages), raised.value


@pytest.mark.django_db
def test_full_clean_refuses_bad_answers_and_a_future_date() -> None:
    enrollment = EnrollmentFactory()
    assessment = Assessment(
        enrollment=enrollment,
        instrument="phq9",
        administered_on=timezone.localdate() + datetime.timedelta(days=1),
        administered_by=StaffFactory(),
        answers=[1] * 8 + [4],
    )
    with pytest.raises(ValidationError) as raised:
        assessment.full_clean()
    errors = raised.value.message_dict
    assert errors["administered_on"] == ["The date given cannot be in the future."]
    assert any("4 is not an answer" in text for text in errors["__all__"])


@pytest.mark.django_db
def test_the_date_must_fall_within_the_enrollment() -> None:
    enrollment = EnrollmentFactory()
    before = Assessment(
        enrollment=enrollment,
        instrument="gad7",
        administered_on=enrollment.admitted_on - datetime.timedelta(days=1),
        administered_by=StaffFactory(),
        answers=answers_for("gad7", 9),
    )
    with pytest.raises(ValidationError, match="within the enrollment"):
        before.full_clean()


@pytest.mark.django_db
def test_one_score_per_questionnaire_per_day() -> None:
    """A second PHQ-9 on the same day is almost surely a double entry: refused in
    clean() (the form does not hold the instrument) and by the database."""
    first = AssessmentFactory()
    again = Assessment(
        enrollment=first.enrollment,
        instrument="phq9",
        administered_on=first.administered_on,
        administered_by=first.administered_by,
        answers=answers_for("phq9", 3),
    )
    with pytest.raises(ValidationError, match="already has a PHQ-9 on that day"):
        again.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        again.save()


@pytest.mark.django_db
def test_the_database_refuses_inconsistent_rows() -> None:
    """Totals out of range, a flag on GAD-7, an unsigned or unneeded follow-up."""
    assessment = AssessmentFactory(total=12)
    table = Assessment.objects.filter(pk=assessment.pk)
    for change in (
        {"total_score": 28},
        {"instrument": "gad7", "total_score": 22},
        {"instrument": "gad7", "safety_flag": True},
        {"instrument": "bdi"},
        {"safety_followup_note": "Called them."},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            table.update(**change)
    followup = {
        "safety_followup_note": "Called them.",
        "safety_followup_by": assessment.administered_by,
        "safety_followup_at": timezone.now(),
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        table.update(**followup)  # item 9 not positive


@pytest.mark.django_db
def test_recording_the_follow_up_signs_it_and_clears_the_queue() -> None:
    clinician = StaffFactory()
    assessment = AssessmentFactory(total=6, item9=1)
    assert assessment.needs_safety_followup

    assessment.record_safety_followup(
        note="  Risk assessment: passive thoughts, no plan. Safety plan reviewed. ",
        by=clinician,
    )

    assessment.refresh_from_db()
    assert assessment.safety_followup_note.startswith("Risk assessment")
    assert assessment.safety_followup_by == clinician
    assert assessment.safety_followup_at is not None
    assert not Assessment.objects.needing_safety_followup().exists()
    assert assessment.history.count() == 2
    with pytest.raises(ValidationError, match="already recorded"):
        assessment.record_safety_followup(note="Again", by=clinician)


@pytest.mark.django_db
def test_no_follow_up_without_a_positive_item_9() -> None:
    assessment = AssessmentFactory(total=6)
    with pytest.raises(ValidationError, match="nothing to follow up"):
        assessment.record_safety_followup(note="Called.", by=StaffFactory())
    assessment.safety_followup_note = "Called."
    with pytest.raises(ValidationError, match="nothing to follow up"):
        assessment.full_clean()
