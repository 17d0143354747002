"""Baseline, latest, change and the DOMAIN.md section 4 flags, at their edges."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from programs.instruments import GAD7, PHQ9
from programs.outcomes import (
    ScorePoint,
    is_recovery,
    is_reliable_improvement,
    is_remission,
    is_response,
    outcome_summary,
    summarize,
)
from tests.factories import AssessmentFactory, EnrollmentFactory


def series(*totals: int) -> list[ScorePoint]:
    start = datetime.date(2026, 9, 1)
    return [
        ScorePoint(start + datetime.timedelta(weeks=n), total)
        for n, total in enumerate(totals)
    ]


@pytest.mark.parametrize(
    ("baseline", "latest", "response"),
    [
        (20, 10, True),  # exactly 50% lower: a response
        (20, 11, False),  # 45%
        (27, 14, False),  # 48.1%
        (27, 13, True),  # 51.9%
        (15, 7, True),  # 53%; an odd baseline has no exact half
        (15, 8, False),  # 46.7%
        (2, 1, True),
        (1, 0, True),
        (10, 12, False),  # worse
    ],
)
def test_response_is_at_least_50_percent_below_baseline(
    baseline: int, latest: int, response: bool
) -> None:
    assert is_response(baseline, latest) is response


def test_response_from_a_baseline_of_0_is_not_applicable() -> None:
    """Nothing to halve: neither a response nor a non-response."""
    assert is_response(0, 0) is None
    assert summarize(PHQ9, series(0, 0)).response is None


@pytest.mark.parametrize(("latest", "remission"), [(4, True), (5, False), (0, True)])
def test_phq9_remission_is_below_5(latest: int, remission: bool) -> None:
    assert is_remission(PHQ9, latest) is remission


def test_gad7_has_no_remission_cutoff() -> None:
    assert is_remission(GAD7, 0) is None
    assert summarize(GAD7, series(15, 2)).remission is None


@pytest.mark.parametrize(
    ("instrument", "baseline", "latest", "reliable"),
    [
        (PHQ9, 18, 12, True),  # drop of exactly 6
        (PHQ9, 18, 13, False),  # drop of 5
        (PHQ9, 18, 18, False),
        (GAD7, 12, 8, True),  # drop of exactly 4
        (GAD7, 12, 9, False),  # drop of 3
        (GAD7, 8, 14, False),  # worse
    ],
)
def test_reliable_improvement_is_a_drop_of_6_on_phq9_and_4_on_gad7(
    instrument: Any, baseline: int, latest: int, reliable: bool
) -> None:
    assert is_reliable_improvement(instrument, baseline, latest) is reliable


@pytest.mark.parametrize(
    ("instrument", "total", "case"),
    [(PHQ9, 9, False), (PHQ9, 10, True), (GAD7, 7, False), (GAD7, 8, True)],
)
def test_caseness_is_phq9_10_and_gad7_8_or_more(
    instrument: Any, total: int, case: bool
) -> None:
    assert instrument.is_case(total) is case


@pytest.mark.parametrize(
    ("instrument", "baseline", "latest", "recovery"),
    [
        (PHQ9, 10, 9, True),  # a case, then not
        (PHQ9, 14, 10, False),  # still a case
        (PHQ9, 9, 2, None),  # not a case at baseline: the question does not apply
        (GAD7, 8, 7, True),
        (GAD7, 7, 3, None),
        (GAD7, 9, 8, False),
    ],
)
def test_recovery_is_a_case_at_baseline_and_not_at_the_end(
    instrument: Any, baseline: int, latest: int, recovery: bool | None
) -> None:
    assert is_recovery(instrument, baseline, latest) is recovery


def test_a_full_series_reads_first_and_last() -> None:
    outcome = summarize(PHQ9, series(18, 15, 11, 8))
    assert (outcome.baseline, outcome.latest, outcome.change) == (18, 8, -10)
    assert outcome.response is True  # 8 is at least 50% below 18
    assert outcome.reliable_improvement is True
    assert outcome.remission is False
    assert (outcome.case_at_baseline, outcome.case_at_latest) == (True, False)
    assert outcome.recovery is True


def test_one_score_has_no_change_yet() -> None:
    """With a single score there is a baseline but nothing to compare it with."""
    outcome = summarize(PHQ9, series(16))
    assert (outcome.baseline, outcome.latest) == (16, 16)
    assert not outcome.has_change
    assert outcome.change is None
    assert outcome.response is None
    assert outcome.remission is None
    assert outcome.reliable_improvement is None
    assert outcome.recovery is None
    assert outcome.case_at_baseline is True


def test_no_scores_at_all() -> None:
    outcome = summarize(GAD7, [])
    assert outcome.baseline is None and outcome.scores == ()


@pytest.mark.django_db
def test_the_summary_orders_by_date_then_id_per_instrument() -> None:
    enrollment = EnrollmentFactory(
        admitted_on=timezone.localdate() - datetime.timedelta(days=30)
    )
    day = enrollment.admitted_on
    # Recorded out of order: the baseline is the earliest date, not the first row.
    AssessmentFactory(
        enrollment=enrollment,
        administered_on=day + datetime.timedelta(days=14),
        total=9,
    )
    AssessmentFactory(enrollment=enrollment, administered_on=day, total=20)
    AssessmentFactory(
        enrollment=enrollment,
        administered_on=day + datetime.timedelta(days=7),
        total=14,
    )
    AssessmentFactory(
        enrollment=enrollment, instrument="gad7", administered_on=day, total=11
    )

    outcomes = outcome_summary(enrollment)

    phq9, gad7 = outcomes["phq9"], outcomes["gad7"]
    assert [point.total for point in phq9.scores] == [20, 14, 9]
    assert (phq9.baseline, phq9.latest, phq9.change) == (20, 9, -11)
    assert phq9.response is True  # 9 * 2 = 18 <= 20
    assert phq9.recovery is True
    assert gad7.baseline == 11 and not gad7.has_change


@pytest.mark.django_db
def test_the_baseline_resets_with_a_new_enrollment(
    django_assert_num_queries: Any,
) -> None:
    """A returning client starts a new series: the old episode's scores are not its
    baseline (DOMAIN.md section 4)."""
    today = timezone.localdate()
    first = EnrollmentFactory(
        status="discharged",
        admitted_on=today - datetime.timedelta(days=200),
        discharged_on=today - datetime.timedelta(days=150),
        discharge_type="completed",
    )
    AssessmentFactory(enrollment=first, administered_on=first.admitted_on, total=22)
    AssessmentFactory(enrollment=first, administered_on=first.discharged_on, total=6)
    second = EnrollmentFactory(
        client=first.client, admitted_on=today - datetime.timedelta(days=14)
    )
    AssessmentFactory(enrollment=second, administered_on=second.admitted_on, total=15)
    AssessmentFactory(enrollment=second, administered_on=today, total=12)

    with django_assert_num_queries(1):
        outcome = outcome_summary(second)["phq9"]

    assert (outcome.baseline, outcome.latest, outcome.change) == (15, 12, -3)
    assert outcome_summary(first)["phq9"].baseline == 22
