"""The clinical quality report: every figure against a hand-built clinic whose
answers are worked out in the docstrings (DOMAIN.md sections 3 to 6)."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from discharge.models import AftercareReferral, DischargePlan, FollowUp
from iopclinic import roles
from iopclinic.reports.clinical import (
    DISCHARGES,
    ClinicalQuality,
    PlusDays,
    ReviewMonth,
    discharge_figures,
    phq9_outcomes,
    plan_reviews,
)
from programs.models import Enrollment, Program, Track, TreatmentPlan
from programs.plans import record_review, revise_plan, sign_plan
from tests.factories import (
    AssessmentFactory,
    EnrollmentFactory,
    ProgramFactory,
    StaffFactory,
    TrackFactory,
    TreatmentPlanFactory,
    with_content,
)
from tests.iopclinic.reports_explain import scanned_whole
from tests.iopclinic.reports_helpers import (
    build,
    chart,
    data_queries,
    figure,
    filters,
    table,
)

pytestmark = pytest.mark.django_db

D = datetime.date
START, END = D(2025, 1, 1), D(2025, 3, 31)
JAN, FEB, MAR = D(2025, 1, 1), D(2025, 2, 1), D(2025, 3, 1)


def local(day: datetime.date, hour: int = 12, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(
        day, datetime.time(hour, minute), tzinfo=timezone.get_current_timezone()
    )


def discharged(
    on: datetime.date, discharge_type: str = "completed", **fields: Any
) -> Enrollment:
    """An episode admitted 40 days before ``on`` and discharged that day."""
    return EnrollmentFactory(
        admitted_on=on - datetime.timedelta(days=40),
        status="discharged",
        discharged_on=on,
        discharge_type=discharge_type,
        **fields,
    )


def phq9(enrollment: Enrollment, *totals: int, instrument: str = "phq9") -> None:
    """Scores a week apart from admission, recorded latest first (the series'
    order comes from the date given, not from the order of entry)."""
    days = [
        enrollment.admitted_on + datetime.timedelta(weeks=n) for n in range(len(totals))
    ]
    for day, total in reversed(list(zip(days, totals, strict=True))):
        AssessmentFactory(
            enrollment=enrollment,
            instrument=instrument,
            administered_on=day,
            total=total,
        )


# --- Outcomes -----------------------------------------------------------------------


@pytest.fixture
def outcomes(db: None) -> None:
    """Eight discharges in the period:

    | | PHQ-9 | 2+ | response | remission | reliable | change |
    |---|---|---|---|---|---|---|
    | E1 | 20, 8 | yes | yes | no | yes | -12 |
    | E2 | 10, 5, 4 | yes | yes | yes | yes | -6 |
    | E3 | 15 | no | | | | |
    | E4 | 0, 0 | yes | n/a (baseline 0) | yes | no | 0 |
    | E5 | 12, 7 (and GAD-7 15, 3) | yes | no | no | no | -5 |
    | E6 | none | no | | | | |
    | E7 | 9, 12 | yes | no | no | no | +3 |
    | E8 | 10, 5 (exactly half) | yes | yes | no | no | -5 |

    Out of the period: one discharged in April, one still in treatment.
    2+ scores 6 of 8; response 3 of 5; remission 2 of 6; reliable 2 of 6; mean
    change -25 / 6.
    """
    for totals in ([20, 8], [10, 5, 4], [15], [0, 0], [12, 7], [], [9, 12], [10, 5]):
        episode = discharged(D(2025, 2, 10))
        phq9(episode, *totals)
        if totals == [12, 7]:
            phq9(episode, 15, 3, instrument="gad7")
    phq9(discharged(D(2025, 4, 1)), 20, 2)
    phq9(EnrollmentFactory(admitted_on=D(2025, 1, 1)), 20, 2)


def test_outcome_figures(outcomes: None) -> None:
    figures = phq9_outcomes(START, END)
    assert (figures.discharges, figures.with_two_scores) == (8, 6)
    assert figures.share_with_two_scores == pytest.approx(6 / 8)
    assert (figures.responders, figures.response_base) == (3, 5)
    assert figures.response_rate == pytest.approx(3 / 5)
    assert figures.remission_rate == pytest.approx(2 / 6)
    assert figures.reliable_improvement_rate == pytest.approx(2 / 6)
    assert figures.mean_change == pytest.approx(-25 / 6)


def test_one_score_is_not_in_the_response_denominator(db: None) -> None:
    """A single PHQ-9 counts among the discharges, in no change figure."""
    phq9(discharged(D(2025, 2, 1)), 20)
    figures = phq9_outcomes(START, END)
    assert (figures.discharges, figures.with_two_scores) == (1, 0)
    assert (figures.response_base, figures.response_rate) == (0, None)
    assert figures.mean_change is None


def test_outcomes_of_the_chosen_tracks(outcomes: None) -> None:
    php = TrackFactory(program=ProgramFactory(name="Adult PHP", level_of_care="php"))
    phq9(discharged(D(2025, 3, 1), track=php), 18, 4)
    figures = phq9_outcomes(START, END, track_ids=[php.pk])
    assert (figures.discharges, figures.responders, figures.remissions) == (1, 1, 1)
    assert phq9_outcomes(START, END).discharges == 9


@pytest.mark.parametrize("count", [2, 20])
def test_outcomes_in_one_query(django_assert_num_queries: Any, count: int) -> None:
    for n in range(count):
        phq9(discharged(D(2025, 2, 1 + n % 28)), 20, 20 - n % 15)
    with django_assert_num_queries(1):
        assert phq9_outcomes(START, END).with_two_scores == count


# --- Aftercare and the 7-day follow-up ----------------------------------------------


def discharge_plan(
    episode: Enrollment,
    *,
    referrals: tuple[str, ...] = (),
    follow_up: str | None = None,
    **follow_up_fields: Any,
) -> DischargePlan:
    """The episode's discharge plan with referrals in these statuses and, unless
    ``follow_up`` is None, its 7-day follow-up with that outcome."""
    staff = StaffFactory()
    plan = DischargePlan.objects.create(enrollment=episode, prepared_by=staff)
    for status in referrals:
        AftercareReferral.objects.create(
            plan=plan,
            kind="outpatient_therapy",
            organisation="Riverside Counselling",
            status=status,
            first_appointment_at=(
                None if status in ("referred", "declined") else local(D(2025, 4, 1))
            ),
            referred_on=D(2025, 1, 1),
            status_on=D(2025, 1, 1),
        )
    assert episode.discharged_on is not None
    if follow_up is not None:
        due = episode.discharged_on + datetime.timedelta(days=7)
        FollowUp.objects.create(
            plan=plan,
            days_after=7,
            due_on=due,
            owner=staff,
            outcome=follow_up,
            done_on=None if follow_up == "pending" else due,
            **follow_up_fields,
        )
    return plan


TODAY = D(2025, 4, 5)


@pytest.fixture
def discharges(db: None) -> None:
    """Seven discharges in the period (today 5 April):

    | | type | referrals | 7-day follow-up |
    |---|---|---|---|
    | P1 | completed | confirmed | reached |
    | P2 | stepped down | referred, attended | attended |
    | P3 | completed | scheduled | not reached |
    | P4 | against advice | none | pending, due 8 March: overdue |
    | P5 | lost contact | declined | pending, due 6 April: not yet due |
    | P6 | completed | confirmed | pending, due today: not yet due; 30-day reached |
    | P7 | transferred | none | none |

    Confirmed aftercare 3 of 7 (P1, P2, P6); of completed or stepped down 3 of 4.
    Follow-ups counted 4 (P1-P4), reached 2 (P1, P2); 2 not yet due (P5, P6).
    Outside: one discharged in December with a confirmed referral and a reached
    follow-up.
    """
    discharge_plan(
        discharged(D(2025, 1, 10)), referrals=("confirmed",), follow_up="reached"
    )
    discharge_plan(
        discharged(D(2025, 1, 20), "stepped_down"),
        referrals=("referred", "attended"),
        follow_up="attended",
    )
    discharge_plan(
        discharged(D(2025, 2, 10)), referrals=("scheduled",), follow_up="not_reached"
    )
    discharge_plan(discharged(D(2025, 3, 1), "against_advice"), follow_up="pending")
    discharge_plan(
        discharged(D(2025, 3, 30), "lost_contact"),
        referrals=("declined",),
        follow_up="pending",
    )
    p6 = discharge_plan(
        discharged(D(2025, 3, 29)), referrals=("confirmed",), follow_up="pending"
    )
    FollowUp.objects.create(
        plan=p6,
        days_after=30,
        due_on=D(2025, 4, 28),
        owner=p6.prepared_by,
        outcome="reached",
        done_on=D(2025, 4, 3),
    )
    discharge_plan(discharged(D(2025, 3, 15), "transferred"))
    discharge_plan(
        discharged(D(2024, 12, 20)), referrals=("confirmed",), follow_up="reached"
    )


def test_confirmed_aftercare_and_follow_up(discharges: None) -> None:
    figures = discharge_figures(START, END, today=TODAY)
    assert (figures.discharges, figures.with_confirmed_aftercare) == (7, 3)
    assert figures.confirmed_aftercare_rate == pytest.approx(3 / 7)
    assert (figures.needing_referral, figures.needing_referral_confirmed) == (4, 3)
    assert (figures.follow_ups_counted, figures.follow_ups_reached) == (4, 2)
    assert figures.follow_up_reached_rate == pytest.approx(2 / 4)
    assert figures.follow_ups_not_yet_due == 2


def test_a_follow_up_counts_once_done_or_past_due(discharges: None) -> None:
    """On 7 April P5 (due 6 April) is overdue and P6 (due 5 April) too."""
    figures = discharge_figures(START, END, today=D(2025, 4, 7))
    assert (figures.follow_ups_counted, figures.follow_ups_not_yet_due) == (6, 0)
    assert figures.follow_ups_reached == 2


@pytest.mark.parametrize("count", [2, 20])
def test_discharge_figures_in_one_query(
    django_assert_num_queries: Any, count: int
) -> None:
    for n in range(count):
        discharge_plan(
            discharged(D(2025, 2, 1 + n % 28)),
            referrals=("confirmed",),
            follow_up="reached",
        )
    with django_assert_num_queries(1):
        figures = discharge_figures(START, END, today=TODAY)
    assert (figures.with_confirmed_aftercare, figures.follow_ups_reached) == (
        count,
        count,
    )


# --- Plans reviewed on time ---------------------------------------------------------


def test_plus_days_on_this_database(db: None) -> None:
    """The date arithmetic the review clock needs, forwards and back."""
    from django.db.models import Value
    from django.db.models.fields import DateField, IntegerField

    program = ProgramFactory()
    row = (
        Program.objects.filter(pk=program.pk)
        .annotate(
            later=PlusDays(
                Value(D(2025, 1, 30), DateField()), Value(30, IntegerField())
            ),
            earlier=PlusDays(
                Value(D(2025, 3, 1), DateField()), Value(-1, IntegerField())
            ),
        )
        .values_list("later", "earlier")
        .get()
    )
    assert row == (D(2025, 3, 1), D(2025, 2, 28))


def signed(
    enrollment: Enrollment, at: datetime.datetime, *, version: int = 1
) -> TreatmentPlan:
    """A plan signed at ``at``, the way ``sign_plan`` signs one entered from paper."""
    if version == 1:
        draft = with_content(TreatmentPlanFactory(enrollment=enrollment))
    else:
        in_force = enrollment.treatment_plans.in_force().get()
        draft = revise_plan(plan=in_force, by=in_force.created_by)
    return sign_plan(plan=draft, by=draft.created_by, signed_at=at)


def reviewed(plan: TreatmentPlan, on: datetime.date, decision: str = "continue") -> Any:
    review, _ = record_review(
        plan=plan,
        by=plan.created_by,
        reviewed_on=on,
        decision=decision,
        objectives={row.pk: ("in_progress", "") for row in plan.objectives.all()},
    )
    return review


@pytest.fixture
def reviews(db: None) -> dict[str, Enrollment]:
    """Period January-March, today 5 April; IOP reviews every 30 days, PHP 14.

    A (IOP): signed 10 Dec -> due 9 Jan, reviewed 9 Jan (on the due date: on time)
    -> due 8 Feb, reviewed 20 Feb (late) -> due 22 March, not reviewed (late).
    B (PHP): v1 signed 5 Jan -> due 19 Jan; v2 signed 15 Jan (a revision before the
    due date: on time) -> due 29 Jan, reviewed 29 Jan (on time) -> due 12 Feb, the
    day B is discharged: not counted.
    C (IOP): signed 10 March -> due 9 April: after the period.
    D (IOP): signed 29 Jan at 23:30 clinic time (30 Jan in UTC) -> due 28 Feb (not
    1 March), not reviewed (late).
    E (IOP): a draft never signed: nothing due.

    January 3 due, 3 on time; February 2 due, 0; March 1 due, 0: 3 of 6 on time.
    """
    iop = TrackFactory(program=ProgramFactory(name="Adult IOP", level_of_care="iop"))
    php = TrackFactory(program=ProgramFactory(name="Adult PHP", level_of_care="php"))
    episodes = {
        "A": EnrollmentFactory(track=iop, admitted_on=D(2024, 12, 1)),
        "B": EnrollmentFactory(track=php, admitted_on=D(2025, 1, 1)),
        "C": EnrollmentFactory(track=iop, admitted_on=D(2025, 3, 1)),
        "D": EnrollmentFactory(track=iop, admitted_on=D(2025, 1, 25)),
        "E": EnrollmentFactory(track=iop, admitted_on=D(2025, 1, 25)),
    }
    a = signed(episodes["A"], local(D(2024, 12, 10)))
    reviewed(a, D(2025, 1, 9))
    reviewed(a, D(2025, 2, 20))
    signed(episodes["B"], local(D(2025, 1, 5)))
    b2 = signed(episodes["B"], local(D(2025, 1, 15)), version=2)
    reviewed(b2, D(2025, 1, 29))
    Enrollment.objects.filter(pk=episodes["B"].pk).update(
        status="discharged", discharged_on=D(2025, 2, 12), discharge_type="completed"
    )
    signed(episodes["C"], local(D(2025, 3, 10)))
    signed(episodes["D"], local(D(2025, 1, 29), 23, 30))
    with_content(TreatmentPlanFactory(enrollment=episodes["E"]))
    return episodes


def test_plans_reviewed_on_time_by_month(reviews: Any) -> None:
    figures = plan_reviews(START, END, today=D(2025, 4, 5))
    assert figures.months == (
        ReviewMonth(JAN, due=3, on_time=3),
        ReviewMonth(FEB, due=2, on_time=0),
        ReviewMonth(MAR, due=1, on_time=0),
    )
    assert (figures.due, figures.on_time) == (6, 3)
    assert figures.on_time_rate == pytest.approx(0.5)


def test_a_review_not_yet_due_is_not_counted(reviews: Any) -> None:
    """On 22 March, A's review due that day is not yet late: not counted."""
    figures = plan_reviews(START, END, today=D(2025, 3, 22))
    assert figures.months[2] == ReviewMonth(MAR, due=0, on_time=0)


def test_reviews_of_the_chosen_tracks(reviews: Any) -> None:
    """B's PHP track: its two January reviews, both on time."""
    track_ids = [reviews["B"].track_id]
    figures = plan_reviews(START, END, today=D(2025, 4, 5), track_ids=track_ids)
    assert (figures.due, figures.on_time) == (2, 2)


def test_a_review_recorded_late_still_meets_a_later_clock(db: None) -> None:
    """Reviewed on 20 Feb when due 8 Feb: late for that due date; the next one
    (22 March) is counted from the late review."""
    episode = EnrollmentFactory(admitted_on=D(2024, 12, 1))
    plan = signed(episode, local(D(2025, 1, 9)))
    reviewed(plan, D(2025, 2, 20))
    reviewed(plan, D(2025, 3, 22))
    figures = plan_reviews(START, END, today=D(2025, 4, 5))
    assert figures.months[1:] == (
        ReviewMonth(FEB, due=1, on_time=0),
        ReviewMonth(MAR, due=1, on_time=1),
    )


@pytest.mark.parametrize("count", [2, 20])
def test_plan_reviews_in_one_query(django_assert_num_queries: Any, count: int) -> None:
    track = TrackFactory()
    for _ in range(count):
        episode = EnrollmentFactory(track=track, admitted_on=D(2024, 12, 1))
        reviewed(signed(episode, local(D(2025, 1, 1))), D(2025, 1, 30))
    with django_assert_num_queries(1):
        figures = plan_reviews(START, END, today=D(2025, 4, 5))
    assert (figures.due, figures.on_time) == (2 * count, count)


# --- The report page ----------------------------------------------------------------


@pytest.fixture
def manager(make_staff: Any) -> Any:
    return make_staff(roles.PROGRAM_MANAGER)


def test_report_outcome_figures_with_definitions(outcomes: None) -> None:
    """Eight discharges, six with 2+ scores: the counts and rates over 5 or more
    show; the response rate (3 of 5) shows; nothing is about fewer than 5."""
    result = build(ClinicalQuality, filters(START, END))
    assert figure(result, "Discharges in the period").display == "8"
    assert figure(result, "With 2+ PHQ-9 scores").display == "6"
    assert figure(result, "Share with 2+ PHQ-9 scores").display == "75.0%"
    assert figure(result, "Response").display == "60.0%"
    assert figure(result, "Remission").display == "33.3%"
    assert figure(result, "Reliable improvement").display == "33.3%"
    assert figure(result, "Mean change in PHQ-9").display == "-4.2"
    definitions = " ".join(
        item.definition for section in result.sections for item in section.figures
    )
    for words in (
        "Share with 2+ PHQ-9 scores = discharges with two or more",
        "Response = latest at least 50% below the baseline",
        "Remission = latest PHQ-9 below 5",
        "Reliable improvement = a drop of 6 or more",
        "Plans reviewed on time = reviews due in the period done by their due date",
        "7-day follow-up reached = discharges whose 7-day follow-up",
        "Confirmed aftercare = discharges whose discharge plan has at least one",
    ):
        assert words in definitions


def test_report_hides_figures_about_fewer_than_five(discharges: None) -> None:
    """Seven discharges: confirmed aftercare 3 (hidden, and its share with it);
    the 7-day follow-ups counted are 4 (hidden) so their share is too. The
    completed or stepped down are 4: hidden."""
    result = build(ClinicalQuality, filters(START, END))
    aftercare = table(result, "Confirmed aftercare appointment at discharge")
    assert aftercare["All discharges"] == {
        "Discharges": "7",
        "With a confirmed appointment": "<5",
        "Share": "<5",
    }
    assert aftercare["Completed or stepped down"]["Discharges"] == "<5"
    assert figure(result, "With a confirmed aftercare appointment").display == "<5"
    assert figure(result, "7-day follow-up reached").display == "<5"
    assert figure(result, "Response").display == "–"  # no scores at all


def test_report_plan_reviews_by_month(reviews: Any) -> None:
    """Six due: shown; 3 on time is hidden and the share with it; each month's
    counts are under 5 too."""
    result = build(ClinicalQuality, filters(START, END))
    by_month = table(result, "Plan reviews by month due")
    assert by_month["Total"] == {"Due": "6", "Done on time": "<5", "On time": "<5"}
    assert by_month["Jan 2025"]["Due"] == "<5"
    assert figure(result, "Plan reviews due").display == "6"
    assert chart(result, "Plan reviews due and done on time, by month due") == {
        "Due": ["<5", "<5", "<5"],
        "Done on time": ["<5", "0", "0"],
    }


def test_report_with_enough_reviews_shows_the_share(db: None) -> None:
    """Ten plans signed 5 to 14 December fall due 4 to 13 January; six reviewed on
    3 January, four on 31 January: 6 of 10 on time in January."""
    for n in range(10):
        episode = EnrollmentFactory(admitted_on=D(2024, 11, 1))
        plan = signed(episode, local(D(2024, 12, 5 + n)))
        reviewed(plan, D(2025, 1, 3) if n < 6 else D(2025, 1, 31))
    result = build(ClinicalQuality, filters(JAN, D(2025, 1, 31)))
    assert table(result, "Plan reviews by month due")["Jan 2025"] == {
        "Due": "10",
        "Done on time": "6",
        "On time": "60.0%",
    }
    assert figure(result, "Reviewed on time").display == "60.0%"


@pytest.mark.parametrize("count", [2, 20])
def test_report_data_in_three_queries(count: int, db: None) -> None:
    track = TrackFactory()
    for n in range(count):
        episode = discharged(D(2025, 2, 1 + n % 28), track=track)
        phq9(episode, 20, 8)
        discharge_plan(episode, referrals=("confirmed",), follow_up="reached")
        active = EnrollmentFactory(track=track, admitted_on=D(2024, 12, 1))
        reviewed(signed(active, local(D(2025, 1, 1))), D(2025, 1, 30))
    assert data_queries(ClinicalQuality, filters(START, END)) == 3
    assert data_queries(ClinicalQuality, filters(START, END, track=track)) == 3


def test_the_page_and_its_export(client: Any, manager: Any, outcomes: None) -> None:
    client.force_login(manager)
    query = "start=2025-01-01&end=2025-03-31"
    page = client.get(f"{reverse('admin:reports_clinical_quality')}?{query}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Response = latest at least 50% below the baseline" in text
    assert "<svg" in text
    export = client.get(f"{reverse('admin:reports_clinical_quality_export')}?{query}")
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert ["Discharges in the period", "8", DISCHARGES] in rows
    assert ["Jan 2025", "0", "0", "–"] in rows


@pytest.mark.postgres
def test_no_query_needs_a_sequential_scan_of_enrollments_or_clients(
    outcomes: None, discharges: None, reviews: Any
) -> None:
    """With sequential scans priced out, PostgreSQL still finds an index for every
    read of enrollments and clients: none is scanned whole, whatever the clinic's
    size (EXPLAIN of each of the report's queries)."""
    assert scanned_whole(ClinicalQuality, filters(START, END)) == set()
    track = Track.objects.filter(program__name="Adult PHP").get()
    assert scanned_whole(ClinicalQuality, filters(START, END, track=track)) == set()
