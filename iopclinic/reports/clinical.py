"""Clinical quality (DOMAIN.md sections 3 to 6): PHQ-9 outcomes of the episodes that
ended in the period, treatment-plan reviews done on time, aftercare appointments
confirmed at discharge, and the 7-day follow-up after discharge.

The query functions return plain numbers and are pure reads: each is one SQL query,
whatever the number of enrollments, and returns rows already counted. Baseline and
latest are found in SQL (window functions over each episode's PHQ-9 series); the
change flags are ``programs.outcomes``' own functions, applied once per distinct
(baseline, latest) pair with its count, so the report and the enrollment page can
never disagree. Where a count is over another aggregate or a window, ``fold`` wraps
the ORM's query in one plain outer SELECT. No query asks anything once per episode:
correlated subqueries over a year of discharges cost PostgreSQL's planner enough to
switch on JIT compilation, which alone took longer than the whole report.

Definitions (stated on the page under each figure):

- **Discharges in the period**: enrollments whose discharge date is in the period;
  each is one episode of care (a client's baseline resets with each enrollment).
- **Outcomes** (PHQ-9; DOMAIN.md section 4): baseline = the episode's first score,
  latest = its last. *Share with 2+ scores* = discharges with two or more PHQ-9
  scores / discharges. Among those with 2+ scores: *response* = latest at least 50%
  below the baseline, over those with a baseline above 0 (nothing to halve from 0);
  *remission* = latest below 5; *reliable improvement* = a drop of 6 or more;
  *mean change* = the mean of latest - baseline (negative is better).
- **Plans reviewed on time** (DOMAIN.md section 3): signing a plan (its date in the
  clinic's time zone) and each review of it start the review clock; a review falls
  due the program's review interval (``plan_review_every_days``) later. The due
  review is done by the next event of the episode: the next review, or the signing of
  a newer version (which supersedes the plan, as the overdue list counts it too). It
  is *on time* when that event is on or before the due date. Counted: due dates in
  the period, before today, while the episode was open (a review falling due on or
  after the discharge date is not counted: the discharge summary takes its place).
- **Confirmed aftercare**: discharges whose discharge plan has at least one aftercare
  referral with its appointment confirmed (or already attended) / discharges;
  also for completed and stepped-down discharges, which need a referral.
- **7-day follow-up reached**: among discharges with a 7-day follow-up that is done
  or past its due date, the share whose outcome is "reached" or "attended"; one not
  yet due (and not yet done) is left out until it is.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import (
    Count,
    DateField,
    F,
    FilteredRelation,
    Func,
    Q,
    QuerySet,
    RowRange,
    Value,
    Window,
)
from django.db.models.functions import (
    Coalesce,
    FirstValue,
    LastValue,
    RowNumber,
    TruncDate,
)
from django.utils import timezone

from discharge.models import (
    NEEDS_REFERRAL,
    FollowUpOutcome,
    ReferralStatus,
)
from programs.instruments import PHQ9
from programs.models import Enrollment, PlanReview, TreatmentPlan
from programs.outcomes import is_reliable_improvement, is_remission, is_response
from programs.plans import REVIEW_EVERY_DAYS

from . import register
from .base import (
    Cell,
    Chart,
    ChartSeries,
    Figure,
    Filters,
    Report,
    ReportResult,
    Row,
    Section,
    Table,
    months_between,
)
from .funnel import rate

FOLLOW_UP_DAYS = 7


def discharges(
    start: datetime.date,
    end: datetime.date,
    *,
    track_ids: Sequence[int] | None = None,
) -> QuerySet[Enrollment]:
    """Enrollments discharged in the period (in the given tracks)."""
    episodes = Enrollment.objects.filter(
        status=Enrollment.Status.DISCHARGED,
        discharged_on__gte=start,
        discharged_on__lte=end,
    )
    if track_ids is not None:
        episodes = episodes.filter(track__in=track_ids)
    return episodes


# --- Outcomes -----------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeFigures:
    """PHQ-9 change over the episodes discharged in the period."""

    discharges: int
    with_two_scores: int
    response_base: int  # with 2+ scores and a baseline above 0
    responders: int
    remissions: int
    reliable_improvements: int
    total_change: int

    @property
    def share_with_two_scores(self) -> float | None:
        return rate(self.with_two_scores, self.discharges)

    @property
    def response_rate(self) -> float | None:
        return rate(self.responders, self.response_base)

    @property
    def remission_rate(self) -> float | None:
        return rate(self.remissions, self.with_two_scores)

    @property
    def reliable_improvement_rate(self) -> float | None:
        return rate(self.reliable_improvements, self.with_two_scores)

    @property
    def mean_change(self) -> float | None:
        return rate(self.total_change, self.with_two_scores)


def fold(
    rows: QuerySet[Any],
    select: str,
    *,
    window: str = "",
    where: str = "",
    group_by: str = "",
    params: Sequence[Any] = (),
) -> list[tuple[Any, ...]]:
    """``SELECT {select} FROM ({rows}) ...``: an aggregate over an aggregate or over
    window functions, which the ORM cannot say, in one statement. The inner query is
    the ORM's (so each database gets its own SQL for dates and time zones); the outer
    one is plain SQL both PostgreSQL and SQLite run. ``window`` adds a column
    computed over the inner rows first (``LEAD(...) OVER (...) AS name``);
    ``params`` follow the inner query's, for ``where``."""
    inner, inner_params = rows.query.sql_with_params()
    if window:
        inner = f"SELECT inner_rows.*, {window} FROM ({inner}) inner_rows"
    sql = f"SELECT {select} FROM ({inner}) folded"
    if where:
        sql += f" WHERE {where}"
    if group_by:
        sql += f" GROUP BY {group_by}"
    with connections[rows.db].cursor() as cursor:
        cursor.execute(sql, (*inner_params, *params))
        return cursor.fetchall()


def phq9_outcomes(
    start: datetime.date,
    end: datetime.date,
    *,
    track_ids: Sequence[int] | None = None,
) -> OutcomeFigures:
    """Outcome figures of the episodes discharged in the period (one query).

    Each episode's PHQ-9 series is read once, in order, through window functions
    (how many scores, the first, the last); the outer query counts the episodes by
    (2+ scores, baseline, latest), at most 2 x 28 x 28 rows whatever their number.
    """
    episode = F("id")
    oldest_first = F("phq9__administered_on").asc()
    rows = (
        discharges(start, end, track_ids=track_ids)
        .annotate(
            phq9=FilteredRelation(
                "assessments", condition=Q(assessments__instrument=PHQ9.code)
            )
        )
        .annotate(
            scores=Window(Count("phq9__id"), partition_by=episode),
            # The series' order: the date given is unique within a series.
            baseline=Window(
                FirstValue("phq9__total_score"),
                partition_by=episode,
                order_by=oldest_first,
            ),
            latest=Window(
                LastValue("phq9__total_score"),
                partition_by=episode,
                order_by=oldest_first,
                frame=RowRange(start=None, end=None),
            ),
            row=Window(RowNumber(), partition_by=episode, order_by=oldest_first),
        )
        .order_by()
        .values("scores", "baseline", "latest", "row")
    )
    counted = fold(
        rows,
        "CASE WHEN scores >= 2 THEN 1 ELSE 0 END, baseline, latest, COUNT(*)",
        where="row = 1",
        group_by="1, 2, 3",
    )
    total = with_two = response_base = responders = 0
    remissions = improvements = change = 0
    for two, baseline, latest, n in counted:
        total += n
        if not two:
            continue
        with_two += n
        change += (latest - baseline) * n
        response = is_response(baseline, latest)
        if response is not None:
            response_base += n
            responders += n if response else 0
        remissions += n if is_remission(PHQ9, latest) else 0
        improvements += n if is_reliable_improvement(PHQ9, baseline, latest) else 0
    return OutcomeFigures(
        discharges=total,
        with_two_scores=with_two,
        response_base=response_base,
        responders=responders,
        remissions=remissions,
        reliable_improvements=improvements,
        total_change=change,
    )


# --- Aftercare and the 7-day follow-up ----------------------------------------------


@dataclass(frozen=True)
class DischargeFigures:
    """Aftercare and follow-up of the episodes discharged in the period."""

    discharges: int
    with_confirmed_aftercare: int
    needing_referral: int  # completed or stepped down
    needing_referral_confirmed: int
    follow_ups_counted: int
    follow_ups_reached: int
    follow_ups_not_yet_due: int

    @property
    def confirmed_aftercare_rate(self) -> float | None:
        return rate(self.with_confirmed_aftercare, self.discharges)

    @property
    def needing_referral_confirmed_rate(self) -> float | None:
        return rate(self.needing_referral_confirmed, self.needing_referral)

    @property
    def follow_up_reached_rate(self) -> float | None:
        return rate(self.follow_ups_reached, self.follow_ups_counted)


def discharge_figures(
    start: datetime.date,
    end: datetime.date,
    *,
    track_ids: Sequence[int] | None = None,
    today: datetime.date | None = None,
) -> DischargeFigures:
    """Confirmed aftercare and the 7-day follow-up, over discharges (one query)."""
    today = today or timezone.localdate()
    pending = FollowUpOutcome.PENDING
    needs_referral = Q(discharge_type__in=NEEDS_REFERRAL)
    confirmed = Q(
        discharge_plan__referrals__status__in=[
            ReferralStatus.CONFIRMED,
            ReferralStatus.ATTENDED,
        ]
    )
    # Joined rather than asked per episode: a discharge plan has any number of
    # referrals and at most one 7-day follow-up, so each count is of distinct
    # episodes.
    episodes = discharges(start, end, track_ids=track_ids).annotate(
        seven=FilteredRelation(
            "discharge_plan__follow_ups",
            condition=Q(discharge_plan__follow_ups__days_after=FOLLOW_UP_DAYS),
        )
    )

    def episodes_where(condition: Q | None = None) -> Count:
        return Count("id", distinct=True, filter=condition)

    figures = episodes.aggregate(
        discharges=episodes_where(),
        with_confirmed_aftercare=episodes_where(confirmed),
        needing_referral=episodes_where(needs_referral),
        needing_referral_confirmed=episodes_where(confirmed & needs_referral),
        follow_ups_counted=episodes_where(
            Q(seven__isnull=False)
            & (~Q(seven__outcome=pending) | Q(seven__due_on__lt=today))
        ),
        follow_ups_reached=episodes_where(
            Q(seven__outcome__in=[FollowUpOutcome.REACHED, FollowUpOutcome.ATTENDED])
        ),
        follow_ups_not_yet_due=episodes_where(
            Q(seven__outcome=pending, seven__due_on__gte=today)
        ),
    )
    return DischargeFigures(**figures)


# --- Plans reviewed on time ---------------------------------------------------------


class PlusDays(Func):
    """A date plus a whole number of days (negative goes back), as a date."""

    arity = 2
    output_field = DateField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="(%(expressions)s)",
            arg_joiner=" + ",
            **extra,
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="date(%(expressions)s || ' days')",
            arg_joiner=", ",
            **extra,
        )


@dataclass(frozen=True)
class ReviewMonth:
    """Plan reviews that fell due in one month, and how many were done on time."""

    month: datetime.date
    due: int
    on_time: int

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.on_time, self.due)


@dataclass(frozen=True)
class ReviewFigures:
    months: tuple[ReviewMonth, ...]

    @property
    def due(self) -> int:
        return sum(month.due for month in self.months)

    @property
    def on_time(self) -> int:
        return sum(month.on_time for month in self.months)

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.on_time, self.due)


def plan_reviews(
    start: datetime.date,
    end: datetime.date,
    *,
    track_ids: Sequence[int] | None = None,
    today: datetime.date | None = None,
) -> ReviewFigures:
    """Plan reviews due in the period and done on time, by month (one query).

    The clock events (signings and reviews) of the episodes a review can fall due
    in are one union; ``LEAD`` finds each event's next one in the episode, and the
    outer query counts the due dates in the period and those met by then.
    """
    today = today or timezone.localdate()
    last = min(end, today - datetime.timedelta(days=1))
    months = months_between(start, end)
    if last < start:
        return ReviewFigures(tuple(ReviewMonth(month, 0, 0) for month in months))

    def events(
        queryset: QuerySet[Any], episode: str, version: str, kind: int, on: Any
    ) -> QuerySet[Any]:
        """The clock events of the episodes a review can fall due in (not
        discharged by the period's start: a review due on or after the discharge
        date is not counted), each with its due date and the episode's discharge
        date; the same columns on both sides."""
        scope = Q(**{f"{episode}__discharged_on__isnull": True}) | Q(
            **{f"{episode}__discharged_on__gt": start}
        )
        if track_ids is not None:
            scope &= Q(**{f"{episode}__track__in": track_ids})
        days = Coalesce(
            F(f"{episode}__track__program__plan_review_every_days"),
            Value(REVIEW_EVERY_DAYS),
        )
        return (
            queryset.filter(scope)
            .annotate(
                episode_id=F(f"{episode}_id"),
                plan_version=F(version),
                kind=Value(kind),
                event_on=on,
                event_id=F("id"),
            )
            .annotate(
                due_on=PlusDays(F("event_on"), days),
                left_on=F(f"{episode}__discharged_on"),
            )
            .order_by()
            .values_list(
                "episode_id",
                "plan_version",
                "kind",
                "event_on",
                "event_id",
                "due_on",
                "left_on",
            )
        )

    # A plan's signing comes before its reviews; a newer version's after them.
    signings = events(
        TreatmentPlan.objects.filter(signed_at__isnull=False),
        "enrollment",
        "version",
        0,
        TruncDate("signed_at"),
    )
    reviews = events(
        PlanReview.objects.all(),
        "plan__enrollment",
        "plan__version",
        1,
        F("reviewed_on"),
    )
    counted = fold(
        signings.union(reviews, all=True).order_by(),
        "due_on, COUNT(*), SUM(CASE WHEN next_on <= due_on THEN 1 ELSE 0 END)",
        window=(
            "LEAD(event_on) OVER (PARTITION BY episode_id "
            "ORDER BY plan_version, kind, event_on, event_id) AS next_on"
        ),
        where="due_on >= %s AND due_on <= %s AND (left_on IS NULL OR due_on < left_on)",
        group_by="due_on",
        params=(start, last),
    )
    due: dict[datetime.date, int] = dict.fromkeys(months, 0)
    on_time: dict[datetime.date, int] = dict.fromkeys(months, 0)
    for due_on, n_due, n_on_time in counted:
        month = as_date(due_on).replace(day=1)
        due[month] += n_due
        on_time[month] += n_on_time
    return ReviewFigures(
        tuple(ReviewMonth(month, due[month], on_time[month]) for month in months)
    )


def as_date(value: datetime.date | str) -> datetime.date:
    """A date from raw SQL: SQLite returns a date computed in SQL as text."""
    if isinstance(value, str):
        return datetime.date.fromisoformat(value)
    return value


# --- The report ---------------------------------------------------------------------

DISCHARGES = (
    "Discharges in the period: episodes of care (enrollments) whose discharge date is "
    "in the period; a client's baseline resets with each episode."
)
TWO_SCORES = (
    "Share with 2+ PHQ-9 scores = discharges with two or more PHQ-9 scores / "
    "discharges (DOMAIN.md section 6)."
)
BASELINE = (
    "Baseline = the episode's first PHQ-9 score, latest = its last (by date given); "
    "only episodes with 2+ scores have a change."
)
RESPONSE = (
    "Response = latest at least 50% below the baseline (exactly half counts), over "
    "discharges with 2+ PHQ-9 scores and a baseline above 0 (nothing to halve from 0)."
)
REMISSION = "Remission = latest PHQ-9 below 5, over discharges with 2+ PHQ-9 scores."
RELIABLE = (
    "Reliable improvement = a drop of 6 or more on PHQ-9 (latest - baseline <= -6), "
    "over discharges with 2+ PHQ-9 scores."
)
MEAN_CHANGE = (
    "Mean change = the mean of latest - baseline over discharges with 2+ PHQ-9 "
    "scores; below 0 is improvement."
)
REVIEWS = (
    "Plans reviewed on time = reviews due in the period done by their due date / "
    "reviews due in the period (DOMAIN.md sections 3 and 6). Signing a plan and each "
    "review of it start the clock: a review falls due the program's review interval "
    "later (IOP 30 days, PHP 14 unless the program says otherwise), from the signing "
    "date in the clinic's time zone or the review date. It is done by the next review, "
    "or by signing a newer version of the plan (which replaces it, as the overdue list "
    "counts it), and on time when that is on or before the due date (the due date "
    "itself counts). Counted by due date, up to yesterday; a review falling due on or "
    "after the discharge date is not counted (the discharge summary takes its place)."
)
AFTERCARE = (
    "Confirmed aftercare = discharges whose discharge plan has at least one aftercare "
    "referral with its first appointment confirmed (or already attended), as recorded "
    "now / discharges in the period. Completed and stepped-down discharges need a "
    "referral; other types often have none."
)
FOLLOW_UP = (
    "7-day follow-up reached = discharges whose 7-day follow-up outcome is “reached "
    "the client” or “attended the first aftercare appointment” / discharges in the "
    "period with a 7-day follow-up that is done or past its due date. One not yet "
    "due and not yet done is left out until it is."
)


@register
class ClinicalQuality(Report):
    slug = "clinical-quality"
    title = "Clinical quality"
    description = (
        "PHQ-9 outcomes of the episodes that ended, treatment plans reviewed on time, "
        "confirmed aftercare at discharge and the 7-day follow-up."
    )
    order = 40

    def build(self, filters: Filters) -> ReportResult:
        """Three queries: outcomes, plan reviews, aftercare and follow-up."""
        track_ids = filters.track_ids if filters.is_narrowed else None
        period = (filters.start, filters.end)
        outcomes = phq9_outcomes(*period, track_ids=track_ids)
        reviews = plan_reviews(*period, track_ids=track_ids, today=filters.today)
        after = discharge_figures(*period, track_ids=track_ids, today=filters.today)
        discharged = Cell.count(outcomes.discharges)
        return ReportResult(
            [
                outcomes_section(outcomes, discharged),
                reviews_section(reviews),
                aftercare_section(after, discharged),
            ]
        )


def outcomes_section(figures: OutcomeFigures, discharged: Cell) -> Section:
    with_two = Cell.count(figures.with_two_scores)
    return Section(
        "Outcomes (PHQ-9)",
        figures=[
            Figure("Discharges in the period", discharged, DISCHARGES),
            Figure("With 2+ PHQ-9 scores", with_two, TWO_SCORES),
            Figure(
                "Share with 2+ PHQ-9 scores",
                Cell.rate(
                    figures.with_two_scores,
                    figures.discharges,
                    follows=[with_two, discharged],
                ),
                TWO_SCORES,
            ),
            Figure(
                "Response",
                Cell.rate(figures.responders, figures.response_base),
                f"{RESPONSE} {BASELINE}",
            ),
            Figure(
                "Remission",
                Cell.rate(figures.remissions, figures.with_two_scores),
                f"{REMISSION} {BASELINE}",
            ),
            Figure(
                "Reliable improvement",
                Cell.rate(figures.reliable_improvements, figures.with_two_scores),
                f"{RELIABLE} {BASELINE}",
            ),
            Figure(
                "Mean change in PHQ-9",
                Cell.number(figures.mean_change, people=figures.with_two_scores),
                f"{MEAN_CHANGE} {BASELINE}",
            ),
        ],
        note=DISCHARGES,
    )


def reviews_section(figures: ReviewFigures) -> Section:
    rows, dues, done = [], [], []
    for month in figures.months:
        due, on_time = Cell.count(month.due), Cell.count(month.on_time)
        dues.append(due)
        done.append(on_time)
        share = Cell.rate(month.on_time, month.due, follows=[due, on_time])
        rows.append(Row(f"{month.month:%b %Y}", [due, on_time, share]))
    due, on_time = Cell.count(figures.due), Cell.count(figures.on_time)
    share = Cell.rate(figures.on_time, figures.due, follows=[due, on_time])
    rows.append(Row("Total", [due, on_time, share]))
    return Section(
        "Treatment plans reviewed on time",
        figures=[
            Figure("Plan reviews due", due, REVIEWS),
            Figure("Reviewed on time", share, REVIEWS),
        ],
        charts=[
            Chart(
                "Plan reviews due and done on time, by month due",
                "bar",
                [month.month for month in figures.months],
                [ChartSeries("Due", dues), ChartSeries("Done on time", done)],
                definition=REVIEWS,
            )
        ],
        tables=[
            Table(
                "Plan reviews by month due",
                "Month due",
                ["Due", "Done on time", "On time"],
                rows,
                total_row=True,
                definition=REVIEWS,
            )
        ],
    )


def aftercare_section(figures: DischargeFigures, discharged: Cell) -> Section:
    confirmed = Cell.count(figures.with_confirmed_aftercare)
    needing = Cell.count(figures.needing_referral)
    needing_confirmed = Cell.count(figures.needing_referral_confirmed)
    counted = Cell.count(figures.follow_ups_counted)
    reached = Cell.count(figures.follow_ups_reached)
    share_confirmed = Cell.rate(
        figures.with_confirmed_aftercare,
        figures.discharges,
        follows=[confirmed, discharged],
    )
    share_reached = Cell.rate(
        figures.follow_ups_reached,
        figures.follow_ups_counted,
        follows=[reached, counted],
    )
    return Section(
        "Aftercare and follow-up after discharge",
        figures=[
            Figure(
                "With a confirmed aftercare appointment", share_confirmed, AFTERCARE
            ),
            Figure("7-day follow-up reached", share_reached, FOLLOW_UP),
        ],
        tables=[
            Table(
                "Confirmed aftercare appointment at discharge",
                "Discharges",
                ["Discharges", "With a confirmed appointment", "Share"],
                [
                    Row("All discharges", [discharged, confirmed, share_confirmed]),
                    Row(
                        "Completed or stepped down",
                        [
                            needing,
                            needing_confirmed,
                            Cell.rate(
                                figures.needing_referral_confirmed,
                                figures.needing_referral,
                                follows=[needing, needing_confirmed],
                            ),
                        ],
                    ),
                ],
                definition=AFTERCARE,
            ),
            Table(
                "7-day follow-up after discharge",
                "Discharges",
                ["Done or past due", "Reached", "Share", "Not yet due"],
                [
                    Row(
                        "7-day follow-up",
                        [
                            counted,
                            reached,
                            share_reached,
                            Cell.count(figures.follow_ups_not_yet_due),
                        ],
                    )
                ],
                definition=FOLLOW_UP,
            ),
        ],
    )
