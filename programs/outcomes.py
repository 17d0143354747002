"""Change in outcome scores over an enrollment: baseline, latest, and the DOMAIN.md
section 4 flags (response, remission, reliable improvement, caseness, recovery).

The definitions are pure functions over numbers, so a report over thousands of
enrollments uses the very same ones as the enrollment page; ``outcome_summary`` reads
one enrollment's scores in one query.

A flag is True or False when it can be decided, and None when it does not apply: with
one score there is no change yet ("needs 2+ scores"); remission exists only where the
instrument defines it (PHQ-9); response is undefined from a baseline of 0 (nothing to
halve); recovery is asked only of a client who was a case at baseline.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from .instruments import INSTRUMENTS, Instrument
from .models import Enrollment


def is_response(baseline: int, latest: int) -> bool | None:
    """Latest at least 50% below the baseline (exactly half counts); None from a
    baseline of 0."""
    if baseline == 0:
        return None
    return 2 * latest <= baseline  # integers: no rounding at exactly 50%


def is_remission(instrument: Instrument, latest: int) -> bool | None:
    """Latest below the instrument's remission cut-off (PHQ-9: below 5); None where
    the instrument defines no remission."""
    if instrument.remission_below is None:
        return None
    return latest < instrument.remission_below


def is_reliable_improvement(instrument: Instrument, baseline: int, latest: int) -> bool:
    """A drop of at least the instrument's reliable change (PHQ-9 6, GAD-7 4)."""
    return baseline - latest >= instrument.reliable_change


def is_recovery(instrument: Instrument, baseline: int, latest: int) -> bool | None:
    """A case at baseline and not a case at the latest score; None when the client
    was not a case at baseline."""
    if not instrument.is_case(baseline):
        return None
    return not instrument.is_case(latest)


@dataclass(frozen=True)
class ScorePoint:
    administered_on: datetime.date
    total: int


@dataclass(frozen=True)
class Outcome:
    """One instrument's series in one enrollment, and what it shows."""

    instrument: Instrument
    scores: tuple[ScorePoint, ...]
    baseline: int | None
    latest: int | None
    change: int | None
    response: bool | None
    remission: bool | None
    reliable_improvement: bool | None
    case_at_baseline: bool | None
    case_at_latest: bool | None
    recovery: bool | None

    @property
    def has_change(self) -> bool:
        """Two or more scores: change and the change flags can be read."""
        return len(self.scores) >= 2


def summarize(instrument: Instrument, scores: Sequence[ScorePoint]) -> Outcome:
    """The outcome of a series of scores, oldest first (baseline = the first)."""
    if not scores:
        return Outcome(instrument, (), *[None] * 9)
    baseline, latest = scores[0].total, scores[-1].total
    case_at_baseline = instrument.is_case(baseline)
    if len(scores) < 2:
        return Outcome(
            instrument,
            tuple(scores),
            baseline=baseline,
            latest=latest,
            change=None,
            response=None,
            remission=None,
            reliable_improvement=None,
            case_at_baseline=case_at_baseline,
            case_at_latest=case_at_baseline,
            recovery=None,
        )
    return Outcome(
        instrument,
        tuple(scores),
        baseline=baseline,
        latest=latest,
        change=latest - baseline,
        response=is_response(baseline, latest),
        remission=is_remission(instrument, latest),
        reliable_improvement=is_reliable_improvement(instrument, baseline, latest),
        case_at_baseline=case_at_baseline,
        case_at_latest=instrument.is_case(latest),
        recovery=is_recovery(instrument, baseline, latest),
    )


def outcome_summary(enrollment: Enrollment) -> dict[str, Outcome]:
    """Each instrument's outcome in this enrollment (empty series included), keyed
    by instrument code; one query. The baseline resets with each enrollment."""
    series: dict[str, list[ScorePoint]] = {code: [] for code in INSTRUMENTS}
    rows = enrollment.assessments.in_order().values_list(  # type: ignore[attr-defined]
        "instrument", "administered_on", "total_score"
    )
    for code, administered_on, total in rows:
        series.setdefault(code, []).append(ScorePoint(administered_on, total))
    return {
        code: summarize(INSTRUMENTS[code], points)
        for code, points in series.items()
        if code in INSTRUMENTS
    }
