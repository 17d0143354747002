"""Clinical records at scale: treatment plans (signed, acknowledged, reviewed on time
or late), PHQ-9 and GAD-7 at admission, weekly and at discharge, and discharge plans
with aftercare referrals and follow-ups, as the services would have left them.

Scores come from ``programs.instruments`` (never computed here); a signed plan is
written as a draft with its content and then signed in one UPDATE, the only way the
database's triggers allow (programs migration 0008).
"""

from __future__ import annotations

import datetime
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from discharge.models import (
    CRISIS_LINES_DEFAULT,
    NEEDS_REFERRAL,
    PLANNED_TYPES,
    SUMMARY_DUE_DAYS,
    WITHOUT_THE_CLIENT,
    AftercareReferral,
    DischargePlan,
    FollowUp,
)
from intake.models import PresentingConcern
from iopclinic.demo import (
    AFTERCARE,
    BASELINE_RANGE,
    DISCHARGE_CRITERIA,
    DISCHARGE_MIX,
    FOLLOW_UP_NOTE,
    PLAN_TEMPLATES,
    REVIEW_NOTES,
    STRENGTHS,
)
from programs.instruments import INSTRUMENTS, Instrument
from programs.models import (
    Assessment,
    ObjectiveReview,
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    PlanReview,
    TreatmentPlan,
)

from .loading import copy_rows
from .simulation import World, local

DAY = datetime.timedelta(days=1)
MINUTE = datetime.timedelta(minutes=1)
REVIEW_SUMMARY = "Reviewed with the client in individual session."
# Positive item 9 answers still waiting for a clinician: a handful, as on a real day.
AWAITING_FOLLOW_UP = 3

PLAN_COLUMNS = [
    "id", "enrollment", "version", "status", "strengths", "client_hopes",
    "discharge_criteria", "acknowledgement", "declined_reason", "created_by",
    "created_at", "updated_by", "updated_at", "row_version",
]  # fmt: skip
ASSESSMENT_COLUMNS = [
    "id", "enrollment", "instrument", "administered_on", "answers", "total_score",
    "severity", "safety_flag", "administered_by", "safety_followup_note",
    "safety_followup_by", "safety_followup_at", "created_at",
]  # fmt: skip
DISCHARGE_PLAN_COLUMNS = [
    "id", "enrollment", "status", "planned_on", "intended_type", "intended_reason",
    "course_summary", "current_medications", "continuing_prescriber",
    "next_medication_appointment", "supply_until", "warning_signs",
    "coping_strategies", "people_to_call", "crisis_lines", "client_agreed_on",
    "outreach_attempts", "prepared_by", "reviewed_by", "created_at", "finalised_by",
    "finalised_at", "discharged_by", "discharged_at", "summary_due_on",
]  # fmt: skip
REFERRAL_COLUMNS = [
    "id", "plan", "kind", "organisation", "contact_name", "phone", "address",
    "days_and_hours", "first_appointment_at", "status", "referred_on", "status_on",
]  # fmt: skip
FOLLOW_UP_COLUMNS = [
    "id", "plan", "days_after", "due_on", "owner", "outcome", "done_on", "note",
    "referral",
]  # fmt: skip
Row = tuple[Any, ...]


@dataclass
class PlanSchedule:
    """One enrollment's plan: when signed and acknowledged, and each review."""

    draft: bool
    signed_on: datetime.date | None = None
    acknowledgement: str = ""
    acknowledged_on: datetime.date | None = None
    reviews: list[datetime.date] = field(default_factory=list)


def schedule_plans(rng: random.Random, world: World) -> dict[int, PlanSchedule]:
    """Each enrollment's plan timeline, and the day its next plan work is due
    (``Enrollment.plan_due_on``, DOMAIN.md section 3); none in the first 3 days."""
    today = world.today
    plans = {}
    for e in world.episodes:
        initial_due = e.admitted_on + e.track.initial_plan_due_days * DAY
        e.plan_due_on = initial_due
        end = min(e.discharged_on or today, today)
        days_in = (end - e.admitted_on).days
        if e.admitted_on > today or days_in < 3:
            continue
        is_open = e.discharged_on is None
        if days_in < 6 or (is_open and rng.random() < 0.1):
            plans[e.id] = PlanSchedule(draft=True)
            continue
        signed_on = e.admitted_on + rng.randint(3, min(6, days_in)) * DAY
        plan = PlanSchedule(draft=False, signed_on=signed_on)
        roll = rng.random()
        if roll < 0.85:
            plan.acknowledgement = "in_person" if roll < 0.8 else "declined"
            plan.acknowledged_on = min(signed_on + DAY, end)
        due = signed_on + e.track.plan_review_every_days * DAY
        while due <= end:
            reviewed = due if rng.random() < 0.8 else due + rng.randint(1, 8) * DAY
            if reviewed > end:
                break
            plan.reviews.append(reviewed)
            due = reviewed + e.track.plan_review_every_days * DAY
        e.plan_due_on = due
        plans[e.id] = plan
    return plans


def write_plans(
    rng: random.Random, world: World, schedule: dict[int, PlanSchedule]
) -> dict[str, int]:
    """Plans as drafts with their problems, goals, objectives and interventions;
    then the signed ones signed (and acknowledged) in one UPDATE; then reviews."""
    tz, now = world.tz, world.now
    concern_ids = dict(PresentingConcern.objects.values_list("code", "pk"))
    codes = sorted(PLAN_TEMPLATES)
    plans: list[Row] = []
    problems: list[Row] = []
    goals: list[Row] = []
    objectives: list[Row] = []
    interventions: list[Row] = []
    signings: list[Row] = []
    reviews: list[Row] = []
    objective_reviews: list[Row] = []
    objectives_of: dict[int, list[int]] = {}
    by_id = {e.id: e for e in world.episodes}
    for plan_id, (episode_id, plan) in enumerate(sorted(schedule.items()), start=1):
        e = by_id[episode_id]
        created = min(local(e.admitted_on + DAY, 16, tz), now - MINUTE)
        unwritten = plan.draft and rng.random() < 0.5
        criteria = "" if unwritten else rng.choice(DISCHARGE_CRITERIA)
        plans.append((plan_id, e.id, 1, "draft", rng.choice(STRENGTHS),
                      "To feel steady enough to go back to daily life.", criteria,
                      "", "", e.therapist_id, created, e.therapist_id, created,
                      1))  # fmt: skip
        for code in rng.sample(codes, k=rng.choice([1, 2])):
            statement, goal_words, objective_texts = PLAN_TEMPLATES[code][0]
            problem_id, goal_id = len(problems) + 1, len(goals) + 1
            problems.append((problem_id, plan_id, statement, concern_ids.get(code)))
            goals.append((goal_id, plan_id, problem_id, rng.choice(goal_words)))
            for text in rng.sample(objective_texts, k=min(2, len(objective_texts))):
                objective_id = len(objectives) + 1
                objectives.append((objective_id, plan_id, goal_id, text,
                                   e.admitted_on + rng.choice([21, 28, 35]) * DAY,
                                   "in_progress"))  # fmt: skip
                objectives_of.setdefault(plan_id, []).append(objective_id)
                interventions.append((len(interventions) + 1, plan_id, objective_id,
                                      rng.choice(["group_therapy", "psychoeducation"]),
                                      rng.choice(["3x/week", "daily", "2x/week"]),
                                      e.therapist_id))  # fmt: skip
            if code == "depression" and e.psychiatrist_id:
                interventions.append((len(interventions) + 1, plan_id, objective_id,
                                      "medication_management", "every 2 weeks",
                                      e.psychiatrist_id))  # fmt: skip
        if plan.draft:
            continue
        assert plan.signed_on is not None
        signed_at = min(local(plan.signed_on, 15.5, tz), now - MINUTE)
        status = "acknowledged" if plan.acknowledgement else "signed"
        signings.append((plan_id, status, e.therapist_id, signed_at,
                         plan.acknowledgement, plan.acknowledged_on,
                         "Wants to read it with family first."
                         if plan.acknowledgement == "declined" else "",
                         signed_at))  # fmt: skip
        for reviewed_on in plan.reviews:
            review_id = len(reviews) + 1
            recorded = min(local(reviewed_on, 17, tz), now - MINUTE)
            reviews.append((review_id, plan_id, reviewed_on, e.therapist_id,
                            "continue", REVIEW_SUMMARY, recorded))  # fmt: skip
            for objective_id in objectives_of.get(plan_id, []):
                objective_reviews.append((len(objective_reviews) + 1, review_id,
                                          objective_id,
                                          rng.choice(["improving", "in_progress",
                                                      "achieved"]),
                                          rng.choice(REVIEW_NOTES)))  # fmt: skip
    counts = {
        "treatment plans": copy_rows(TreatmentPlan, PLAN_COLUMNS, plans),
        "plan problems": copy_rows(
            PlanProblem, ["id", "plan", "statement", "concern"], problems
        ),
        "plan goals": copy_rows(
            PlanGoal, ["id", "plan", "problem", "client_words"], goals
        ),
        "plan objectives": copy_rows(
            PlanObjective,
            ["id", "plan", "goal", "statement", "target_date", "status"],
            objectives,
        ),
        "plan interventions": copy_rows(
            PlanIntervention,
            ["id", "plan", "objective", "service", "frequency", "responsible"],
            interventions,
        ),
    }
    sign(signings)
    counts["plan reviews"] = copy_rows(
        PlanReview,
        ["id", "plan", "reviewed_on", "reviewer", "decision", "summary", "recorded_at"],
        reviews,
    )
    counts["objective reviews"] = copy_rows(
        ObjectiveReview,
        ["id", "review", "objective", "status", "progress_note"],
        objective_reviews,
    )
    return counts


def sign(signings: list[tuple[Any, ...]]) -> None:
    """Sign (and acknowledge) the drafts in one statement: the draft -> signed step
    the trigger allows; their content was written while they were drafts."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE scale_signing (id bigint, status varchar(12), "
            "signed_by_id integer, signed_at timestamptz, acknowledgement "
            "varchar(12), acknowledged_on date, declined_reason text, "
            "updated_at timestamptz) ON COMMIT DROP"
        )
    connection.ensure_connection()
    with (
        connection.connection.cursor() as cursor,
        cursor.copy("COPY scale_signing FROM STDIN") as copy,
    ):
        for row in signings:
            copy.write_row(row)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE programs_treatmentplan p SET status = s.status, "
            "signed_by_id = s.signed_by_id, signed_at = s.signed_at, "
            "acknowledgement = s.acknowledgement, acknowledged_on = "
            "s.acknowledged_on, declined_reason = s.declined_reason, updated_by_id = "
            "s.signed_by_id, updated_at = s.updated_at FROM scale_signing s "
            "WHERE p.id = s.id"
        )


def answers_for(rng: random.Random, instrument: Instrument, total: int) -> list[int]:
    """Item answers adding up to ``total`` (capped at what the items allow), the
    safety item (PHQ-9 item 9) left at 0."""
    items = [n for n in range(instrument.item_count) if n + 1 != instrument.safety_item]
    top = instrument.highest_answer
    total = max(0, min(total, top * len(items)))
    answers = [0] * instrument.item_count
    base, extra = divmod(total, len(items))
    for n in items:
        answers[n] = base
    for n in rng.sample(items, extra):
        answers[n] += 1
    # Uneven, as real answers are: move a few points from one item to another.
    for _ in range(3):
        give, take = rng.sample(items, 2)
        if answers[give] > 0 and answers[take] < top:
            answers[give] -= 1
            answers[take] += 1
    return answers


class Answers:
    """Item answers per instrument and total, drawn from a few varied patterns per
    total, each scored once by the instrument itself (total, band, safety flag)."""

    VARIANTS = 12

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.patterns: dict[tuple[str, int], list[tuple[int, ...]]] = {}
        self.scores: dict[tuple[str, tuple[int, ...]], tuple[str, int, str, bool]] = {}

    def draw(self, code: str, total: int) -> tuple[int, ...]:
        key = (code, total)
        if key not in self.patterns:
            self.patterns[key] = [
                tuple(answers_for(self.rng, INSTRUMENTS[code], total))
                for _ in range(self.VARIANTS)
            ]
        return self.rng.choice(self.patterns[key])

    def scored(self, code: str, answers: tuple[int, ...]) -> tuple[str, int, str, bool]:
        """(answers as JSON, total, severity, safety flag)."""
        key = (code, answers)
        if key not in self.scores:
            instrument = INSTRUMENTS[code]
            total = instrument.total(list(answers))
            self.scores[key] = (
                json.dumps(list(answers)),
                total,
                instrument.band(total),
                instrument.safety_flag(list(answers)),
            )
        return self.scores[key]


def positive(instrument: Instrument, answers: tuple[int, ...]) -> tuple[int, ...]:
    """The same answers with the safety item at 1 ("Several days")."""
    assert instrument.safety_item is not None
    changed = list(answers)
    changed[instrument.safety_item - 1] = 1
    return tuple(changed)


def write_assessments(rng: random.Random, world: World) -> int:
    """PHQ-9 and GAD-7 at admission, weekly and at discharge for everyone admitted;
    three in four improve. About 2% of PHQ-9s answer item 9 above 0, each followed
    up the same day; the newest PHQ-9s of AWAITING_FOLLOW_UP enrollments in
    treatment answer it too and wait for their follow-up."""
    tz, now, today = world.tz, world.now, world.today
    pool = Answers(rng)
    rows: list[list[Any]] = []
    latest_open: dict[int, list[Any]] = {}
    for e in world.episodes:
        if e.admitted_on > today:
            continue
        end = min(e.discharged_on or today, today)
        weeks = (end - e.admitted_on).days // 7
        days = [e.admitted_on + 7 * n * DAY for n in range(weeks + 1)]
        if e.discharged_on and days[-1] != e.discharged_on:
            days.append(e.discharged_on)
        improves = rng.random() < 0.75
        for code, (low, high) in BASELINE_RANGE.items():
            instrument = INSTRUMENTS[code]
            baseline = rng.randint(low, high)
            target = (
                round(baseline * rng.uniform(0.2, 0.6))
                if improves
                else baseline + rng.randint(-2, 3)
            )
            for day in days:
                progress = min((day - e.admitted_on).days / 42, 1)
                total = round(baseline + (target - baseline) * progress)
                answers = pool.draw(code, max(0, total + rng.randint(-1, 1)))
                row: list[Any] = [e.id, code, day, answers, e.therapist_id]
                row += ["", None, None]  # the item 9 follow-up: note, by, at
                if instrument.safety_item and e.discharged_on is None:
                    latest_open[e.id] = row
                if instrument.safety_item and progress < 0.4 and rng.random() < 0.03:
                    row[3] = positive(instrument, answers)
                    row[5:8] = [
                        FOLLOW_UP_NOTE,
                        e.therapist_id,
                        min(local(day, 15, tz), now - MINUTE),
                    ]
                rows.append(row)
    newest = sorted(latest_open.values(), key=lambda row: (row[2], row[0]))
    for row in newest[-AWAITING_FOLLOW_UP:]:
        row[3] = positive(INSTRUMENTS[row[1]], row[3])
        row[5:8] = ["", None, None]
    rows.sort(key=lambda row: (row[2], row[0], row[1]))

    def assessment_rows() -> Iterator[tuple[Any, ...]]:
        given_at: dict[datetime.date, datetime.datetime] = {}
        for n, row in enumerate(rows, start=1):
            enrollment, code, day, answers, by, note, note_by, note_at = row
            if day not in given_at:
                given_at[day] = min(local(day, 14, tz), now - MINUTE)
            text, total, severity, flag = pool.scored(code, answers)
            yield (
                n, enrollment, code, day, text, total, severity, flag, by, note,
                note_by, note_at, given_at[day],
            )  # fmt: skip

    return copy_rows(Assessment, ASSESSMENT_COLUMNS, assessment_rows())


def write_discharge_plans(rng: random.Random, world: World) -> dict[str, int]:
    """A plan for every discharge (finalised before a planned one; for an unplanned
    one within 15 days, one in seven late, the newest still due), a few drafts for
    discharges planned this week, referrals, and the 7- and 30-day follow-ups."""
    tz, now, today = world.tz, world.now, world.today
    plans: list[Row] = []
    referrals: list[list[Any]] = []
    follow_ups: list[Row] = []

    def at(day: datetime.date, hour: float) -> datetime.datetime:
        return min(local(day, hour, tz), now - MINUTE)

    candidates = [e for e in world.episodes if e.discharged_on is not None]
    upcoming = [
        e for e in world.episodes
        if e.status == "active" and e.admitted_on <= today - 14 * DAY
        and rng.random() < 0.05
    ]  # fmt: skip
    for e in sorted(candidates + upcoming, key=lambda e: e.id):
        plan_id = len(plans) + 1
        kind = e.discharge_type or "completed"
        day = e.discharged_on or today + rng.randint(1, 7) * DAY
        planned = kind in PLANNED_TYPES
        finalised_at = discharged_at = summary_due = None
        if e.discharged_on is None:
            created = at(today - rng.randint(1, 10) * DAY, 14)
        elif planned:
            created = at(e.admitted_on + (day - e.admitted_on) / 2, 14)
            finalised_at = at(day, 13)
        else:
            created = at(day, 16)
            summary_due = day + SUMMARY_DUE_DAYS * DAY
            late = rng.random() < 1 / 7
            written = day + (rng.randint(16, 25) if late else rng.randint(1, 14)) * DAY
            if written < today:
                finalised_at = at(written, 12)
        if e.discharged_on is not None:
            discharged_at = at(day, 16)
        without_client = kind in WITHOUT_THE_CLIENT
        medication = e.psychiatrist_id is not None
        plans.append((
            plan_id, e.id, "finalised" if finalised_at else "draft",
            day if planned else None, kind, DISCHARGE_MIX[kind][1],
            "Attended most groups; uses two coping skills daily.",
            "Sertraline 100 mg each morning" if medication else "",
            "Dr. Lee Okafor, Harbor Psychiatry Associates" if medication else "",
            None, day + 30 * DAY if medication else None,
            rng.choice(["Sleeping past noon; skipping meals.",
                        "Not answering friends' texts."]),
            "Morning walk; breathing exercise; call my sister.",
            "Sister (Jo): 555-0123", CRISIS_LINES_DEFAULT,
            None if without_client else max(e.admitted_on, day - 2 * DAY),
            f"{day:%Y-%m-%d} phone, no answer; letter sent with crisis numbers."
            if without_client else "",
            e.therapist_id, None, created,
            e.therapist_id if finalised_at else None, finalised_at,
            e.therapist_id if discharged_at else None, discharged_at, summary_due,
        ))  # fmt: skip
        wants = kind in NEEDS_REFERRAL or rng.random() < 0.3
        first: tuple[int, datetime.datetime] | None = None
        for code, organisation, contact, phone in (
            rng.sample(AFTERCARE, k=rng.choice([1, 2])) if wants else []
        ):
            status = rng.choice(["referred", "scheduled", "confirmed"])
            appointment = (
                None
                if status == "referred"
                else local(day + rng.randint(4, 10) * DAY, 10, tz)
            )
            referral_id = len(referrals) + 1
            referrals.append([
                referral_id, plan_id, code, organisation, contact, phone,
                "12 Harbor Street, Suite 4", "Mon-Fri 9:00-17:00", appointment, status,
                max(e.admitted_on, day - 5 * DAY), max(e.admitted_on, day - 2 * DAY),
            ])  # fmt: skip
            if appointment and (first is None or appointment < first[1]):
                first = (referral_id, appointment)
        if e.discharged_on is None:
            continue
        for days_after in (7, 30):
            due = day + days_after * DAY
            outcome, done_on, note = "pending", None, ""
            overdue_recently = today - 30 * DAY <= due < today
            if due < today and not (overdue_recently and rng.random() < 0.12):
                attended_before = first is not None and first[1].date() < due
                outcome = rng.choices(
                    ["reached", "attended", "not_reached"],
                    [45, 35 if attended_before else 0, 20],
                )[0]
                done_on = due
                note = "No answer." if outcome == "not_reached" else "Phone check-in."
                if outcome == "attended":
                    assert first is not None
                    referral = referrals[first[0] - 1]
                    referral[9], referral[11] = "attended", due
            follow_ups.append((
                len(follow_ups) + 1, plan_id, days_after, due, e.therapist_id,
                outcome, done_on, note, first[0] if first else None,
            ))  # fmt: skip
    return {
        "discharge plans": copy_rows(DischargePlan, DISCHARGE_PLAN_COLUMNS, plans),
        "aftercare referrals": copy_rows(
            AftercareReferral, REFERRAL_COLUMNS, referrals
        ),
        "follow-ups": copy_rows(FollowUp, FOLLOW_UP_COLUMNS, follow_ups),
    }
