"""Generated demo records: invented people, reproducible from a seed, for DEBUG only.

Records are made through the same model methods and workflows staff use, so the demo's
timelines, histories and waitlist look like real work.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from discharge.models import (
    NEEDS_REFERRAL,
    PLANNED_TYPES,
    WITHOUT_THE_CLIENT,
    AftercareReferral,
)
from discharge.workflows import (
    discharge_client,
    finalise_plan,
    record_follow_up,
    start_discharge_plan,
)
from intake.models import (
    Client,
    Consent,
    Inquiry,
    PresentingConcern,
    Schedule,
    WaitlistEntry,
)
from intake.workflows import add_to_waitlist, create_client_from_inquiry, link_client
from programs import plans
from programs.instruments import INSTRUMENTS, Instrument
from programs.models import (
    Assessment,
    Attendance,
    EmergencyAccess,
    Enrollment,
    GroupSession,
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    Program,
    ScheduleBlock,
    Service,
    Track,
    TreatmentPlan,
)
from programs.workflows import admit_client, generate_sessions, take_attendance

from .models import AccessEvent, search_hash

FIRST_NAMES = [
    "Alex", "Blake", "Casey", "Dana", "Eli", "Frankie", "Gray", "Harper", "Indy",
    "Jules", "Kai", "Lane", "Micah", "Noor", "Oakley", "Parker", "Quinn", "Rowan",
    "Sage", "Tatum", "Uma", "Vesper", "Wren", "Xan", "Yael", "Zuri",
]  # fmt: skip
LAST_NAMES = [
    "Abernathy", "Brightwater", "Castellan", "Delacroix", "Everhart", "Fairweather",
    "Goldfinch", "Hollowell", "Ironwood", "Juniper", "Kestrel", "Larkspur",
    "Merriweather", "Nightingale", "Oakhaven", "Pembrook", "Quill", "Ravensworth",
    "Silverbirch", "Thistle", "Underhill", "Valemont", "Whitlock", "Yarrow",
]  # fmt: skip
PAYERS = ["Blue Harbor Health", "Evergreen Medicaid", "Summit Care PPO", "self-pay"]
REFERRED_TO = [
    "Riverside Hospital inpatient unit",
    "Lakeside residential program",
    "Community outpatient therapy (lower level of care)",
]

# Where the demo's inquiries end up (share of all inquiries), DOMAIN.md section 2.
FINAL_STATUS_WEIGHTS = {
    "new": 10,
    "contacted": 10,
    "screening": 8,
    "eligible": 8,
    "waitlisted": 12,
    "scheduled": 6,
    "admitted": 26,
    "closed": 20,
}
PIPELINE = ["new", "contacted", "screening", "eligible"]
IOP_DAY = [Service.GROUP_THERAPY, Service.PSYCHOEDUCATION, Service.THERAPEUTIC_ACTIVITY]
PHP_DAY = [
    Service.GROUP_THERAPY,
    Service.PSYCHOEDUCATION,
    Service.INDIVIDUAL_THERAPY,
    Service.THERAPEUTIC_ACTIVITY,
    Service.GROUP_THERAPY,
]


@dataclass
class Person:
    first_name: str
    last_name: str
    date_of_birth: datetime.date
    phone: str


def invent_person(rng: random.Random) -> Person:
    today = timezone.localdate()
    return Person(
        first_name=rng.choice(FIRST_NAMES),
        last_name=rng.choice(LAST_NAMES),
        date_of_birth=today - datetime.timedelta(days=rng.randint(18 * 365, 70 * 365)),
        phone=f"(555) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}",
    )


def create_returning_clients(rng: random.Random, count: int) -> list[Client]:
    """Clients from earlier years, some of whom call again (returning or duplicate)."""
    clients = []
    for _ in range(count):
        person = invent_person(rng)
        client = Client.objects.create(
            first_name=person.first_name,
            last_name=person.last_name,
            date_of_birth=person.date_of_birth,
            phone=person.phone,
            payer=rng.choice(PAYERS),
            primary_language=rng.choice(["English"] * 8 + ["Spanish", "Vietnamese"]),
        )
        if rng.random() < 0.5:
            Consent.objects.create(
                client=client,
                recipient="Dr. Morgan Vale, primary care",
                purpose="Coordination of care",
                signed_on=timezone.localdate() - datetime.timedelta(days=400),
                expires_on=timezone.localdate()
                + datetime.timedelta(days=rng.choice([-30, 200])),
            )
        clients.append(client)
    return clients


def screen(rng: random.Random, inquiry: Inquiry) -> None:
    """Answer the safety screen: mostly no risk, a few high (DOMAIN.md section 2)."""
    roll = rng.random()
    answers = dict.fromkeys(Inquiry.SCREEN_QUESTIONS[:6], False)
    answers["intent_to_harm_others"] = False
    answers["medical_emergency"] = False
    if roll < 0.07:  # high: intent
        answers.update(cssrs_wish_dead=True, cssrs_suicidal_thoughts=True)
        answers.update(cssrs_method=True, cssrs_intent=True)
    elif roll < 0.17:  # moderate: method, no intent
        answers.update(cssrs_wish_dead=True, cssrs_suicidal_thoughts=True)
        answers["cssrs_method"] = True
    elif roll < 0.35:  # low: passive wish only
        answers["cssrs_wish_dead"] = True
    for name, value in answers.items():
        setattr(inquiry, name, value)
    inquiry.screened_at = inquiry.received_at + datetime.timedelta(hours=2)


def create_inquiries(
    rng: random.Random,
    count: int,
    *,
    coordinator: Any,
    clinician: Any,
    returning: list[Client],
) -> list[WaitlistEntry]:
    concerns = list(PresentingConcern.objects.all())
    statuses = list(FINAL_STATUS_WEIGHTS)
    weights = list(FINAL_STATUS_WEIGHTS.values())
    now = timezone.now()
    to_admit: list[WaitlistEntry] = []
    for _ in range(count):
        final = rng.choices(statuses, weights)[0]
        returning_client = rng.choice(returning) if rng.random() < 0.08 else None
        person = (
            Person(
                returning_client.first_name,
                returning_client.last_name,
                returning_client.date_of_birth,
                returning_client.phone,
            )
            if returning_client
            else invent_person(rng)
        )
        received_at = now - datetime.timedelta(
            days=rng.randint(0, 120), minutes=rng.randint(0, 600)
        )
        caller = rng.choices(list(Inquiry.Caller.values), [70, 15, 5, 8, 2])[0]
        inquiry = Inquiry(
            received_at=received_at,
            received_by=coordinator,
            channel=rng.choices(list(Inquiry.Channel.values), [60, 10, 20, 8, 2])[0],
            caller=caller,
            caller_name=""
            if caller == "self"
            else f"{rng.choice(FIRST_NAMES)} (caller)",
            first_name=person.first_name,
            last_name=person.last_name,
            phone=person.phone,
            date_of_birth=person.date_of_birth if rng.random() < 0.85 else None,
            heard_about_us=rng.choice(["", "", *Inquiry.Source.values]),
            requested_level=rng.choices(["iop", "php", "not_sure"], [60, 20, 20])[0],
            # The evening track is new: fewer callers ask for it yet.
            requested_schedule=rng.choices(Schedule.values, [55, 15, 30])[0],
            payer=rng.choice(PAYERS),
            assigned_coordinator=coordinator if rng.random() < 0.7 else None,
            # Open inquiries are followed up around now: a few overdue, most soon.
            next_follow_up=timezone.localdate()
            + datetime.timedelta(days=rng.randint(-3, 10))
            if final in PIPELINE
            else None,
        )
        if final not in ("new", "contacted"):
            screen(rng, inquiry)
            inquiry.screened_by = coordinator
        inquiry.save()
        inquiry.concerns.set(
            rng.sample(concerns, min(len(concerns), rng.randint(1, 3)))
        )
        entry = walk(rng, inquiry, final, coordinator=coordinator, clinician=clinician,
                     returning_client=returning_client)  # fmt: skip
        if entry is not None:
            to_admit.append(entry)
    return to_admit


def walk(
    rng: random.Random,
    inquiry: Inquiry,
    final: str,
    *,
    coordinator: Any,
    clinician: Any,
    returning_client: Client | None,
) -> WaitlistEntry | None:
    """Move the inquiry along the pipeline to ``final``, as a coordinator would; an
    inquiry meant for admission comes back as its waitlist entry."""
    if inquiry.is_high_risk:
        inquiry.crisis_response = rng.choice(
            ["handoff_988", "sent_to_ed", "called_911"]
        )
        inquiry.crisis_response_by = coordinator
        inquiry.crisis_response_at = inquiry.received_at + datetime.timedelta(
            minutes=20
        )
        if rng.random() < 0.5:
            inquiry.risk_override_note = (
                "Seen by the crisis team; safety plan in place. May wait for a seat."
            )
            inquiry.risk_override_by = clinician
            inquiry.risk_override_at = inquiry.crisis_response_at
        inquiry.save()
    if final == "closed":
        # Closed at any stage of the pipeline.
        reach = PIPELINE[1 : rng.randint(1, len(PIPELINE))]
    elif final in PIPELINE:
        reach = PIPELINE[1 : PIPELINE.index(final) + 1]
    else:
        reach = PIPELINE[1:]
    try:
        for status in reach:
            inquiry.move_to(status, by=coordinator)
        if final == "closed":
            close(rng, inquiry, coordinator)
        if final in PIPELINE or final == "closed":
            return None
        give_client_record(inquiry, coordinator=coordinator, returning=returning_client)
        if final != "scheduled" or rng.random() < 0.5:
            put_on_waitlist(rng, inquiry, coordinator=coordinator)
        if final == "scheduled":
            inquiry.move_to("scheduled", by=coordinator)
        if final == "admitted":
            # Seated later, in date order, as seats free up (seat_clients).
            return inquiry.waitlist_entries.filter(status="waiting").first()
    except ValidationError:
        # A high-risk caller without a clinician's override stays where the rules stop
        # them, as in real life; so does a returning client already on the waitlist.
        if rng.random() < 0.5:
            close(rng, inquiry, coordinator)
    return None


def create_programs(*, facilitator: Any = None) -> dict[tuple[str, str], Track]:
    """Adult IOP (day and evening tracks) and Adult PHP (day), with weekly schedules."""
    iop = Program.objects.create(name="Adult IOP", level_of_care="iop")
    php = Program.objects.create(name="Adult PHP", level_of_care="php")
    tracks = {
        ("iop", "day"): Track.objects.create(
            program=iop, schedule="day", name="IOP day track", capacity=12,
            location="Building A, group room 1",
        ),
        ("iop", "evening"): Track.objects.create(
            program=iop, schedule="evening", name="IOP evening track", capacity=10,
            location="Building A, group room 2",
        ),
        ("php", "day"): Track.objects.create(
            program=php, schedule="day", name="PHP day track", capacity=8,
            location="Building B",
        ),
    }  # fmt: skip
    # (weekdays, first start, services in order), each service one hour.
    weekly = {
        ("iop", "day"): ([0, 2, 3], datetime.time(9), IOP_DAY),
        ("iop", "evening"): ([0, 1, 3], datetime.time(17, 30), IOP_DAY),
        ("php", "day"): ([0, 1, 2, 3, 4], datetime.time(9), PHP_DAY),
    }
    for key, (weekdays, first, services) in weekly.items():
        for weekday in weekdays:
            for hour, service in enumerate(services):
                start = (datetime.datetime.combine(datetime.date.today(), first)
                         + datetime.timedelta(hours=hour)).time()  # fmt: skip
                ScheduleBlock.objects.create(
                    track=tracks[key],
                    weekday=weekday,
                    start=start,
                    service=service,
                    facilitator=facilitator,
                )
    return tracks


def seat_clients(
    rng: random.Random,
    entries: list[WaitlistEntry],
    tracks: dict[tuple[str, str], Track],
    *,
    coordinator: Any,
    therapist: Any,
    psychiatrist: Any,
) -> None:
    """Admit waitlisted people in date order as seats free, discharging those whose
    stay has ended; then fill the IOP day track so it is full with a waitlist, and
    keep seats open in the evening track."""
    today = timezone.localdate()
    ends: dict[int, datetime.date] = {}
    discharged: list[int] = []

    def discharge_ended(before: datetime.date) -> None:
        for enrollment_id, end in list(ends.items()):
            if end < before:
                discharge_for_demo(
                    rng, enrollment_id, end, by=therapist, nth=len(discharged)
                )
                discharged.append(enrollment_id)
                del ends[enrollment_id]

    def admit(entry: WaitlistEntry, on: datetime.date) -> None:
        track = choose_track(entry)
        if track is None:
            return  # they keep waiting
        try:
            enrollment = admit_client(
                track=track,
                entry=entry,
                by=coordinator,
                admitted_on=on,
                primary_therapist=therapist,
            )
        except ValidationError:
            return  # full: they keep waiting
        if entry.level_of_care == "php":
            Enrollment.objects.filter(pk=enrollment.pk).update(
                psychiatrist=psychiatrist
            )
        weeks = track.program.typical_length_weeks or 6
        ends[enrollment.pk] = on + datetime.timedelta(
            days=rng.randint(weeks * 5, weeks * 9)
        )

    def choose_track(entry: WaitlistEntry) -> Track | None:
        if entry.level_of_care == "php":
            return tracks[("php", "day")]
        day, evening = tracks[("iop", "day")], tracks[("iop", "evening")]
        # Two evening seats stay free: the demo's "new evening hours", ready to offer.
        evening_free = evening.open_seats() > 2
        if entry.preferred_schedule == "evening":
            return evening if evening_free else None
        if day.open_seats() > 0:
            return day
        return (
            evening if entry.preferred_schedule == "either" and evening_free else None
        )

    for entry in sorted(entries, key=lambda e: (e.added_on, e.pk)):
        on = min(entry.added_on + datetime.timedelta(days=rng.randint(3, 20)), today)
        discharge_ended(on)
        admit(entry, on)
    discharge_ended(today)
    # Today: seat whoever still waits where a seat is open (the evening track keeps
    # its reserve), so only the full day track has a waitlist.
    for entry in WaitlistEntry.objects.waiting().order_by("priority", "added_on", "id"):
        admit(entry, today)


def give_client_record(
    inquiry: Inquiry, *, coordinator: Any, returning: Client | None
) -> None:
    if returning:
        link_client(inquiry=inquiry, client=returning, by=coordinator)
        return
    if inquiry.date_of_birth is None:
        inquiry.date_of_birth = datetime.date(1990, 1, 1)
        inquiry.save(update_fields=["date_of_birth"])
    create_client_from_inquiry(inquiry=inquiry, by=coordinator)


def put_on_waitlist(rng: random.Random, inquiry: Inquiry, *, coordinator: Any) -> None:
    inquiry.refresh_from_db()
    if inquiry.requested_level == "not_sure":
        inquiry.requested_level = "iop"
        inquiry.save(update_fields=["requested_level"])
    urgent = inquiry.is_high_risk or rng.random() < 0.2
    priority = (
        WaitlistEntry.Priority.URGENT if urgent else WaitlistEntry.Priority.ROUTINE
    )
    entry = add_to_waitlist(inquiry=inquiry, by=coordinator, priority=priority)
    # Spread the dates so "days waiting" and the queue order look like a real list.
    added_on = inquiry.received_at.date() + datetime.timedelta(days=rng.randint(1, 5))
    WaitlistEntry.objects.filter(pk=entry.pk).update(
        added_on=min(added_on, timezone.localdate())
    )
    inquiry.refresh_from_db()


def close(rng: random.Random, inquiry: Inquiry, coordinator: Any) -> None:
    inquiry.refresh_from_db()
    if not inquiry.is_open:
        return
    reason = rng.choice(list(Inquiry.ClosedReason.values))
    inquiry.closed_reason = reason
    if reason == Inquiry.ClosedReason.REFERRED_ELSEWHERE:
        inquiry.referred_to = rng.choice(REFERRED_TO)
    inquiry.move_to("closed", by=coordinator, note="Closed during demo set-up.")


def run_sessions(rng: random.Random, *, by: Any, weeks_back: int = 8) -> None:
    """Sessions from a few weeks back to next week; the roll taken for past ones, except
    the last two, left for the facilitator ("roll not taken"), and today's."""
    today = timezone.localdate()
    generate_sessions(
        start=today - datetime.timedelta(weeks=weeks_back),
        end=today + datetime.timedelta(days=7),
    )
    past = list(GroupSession.objects.roll_not_taken().order_by("starts_at"))
    statuses = list(Attendance.Status.values)
    for session in past[:-2]:
        if timezone.localdate(session.starts_at) == today:
            continue
        marks: dict[int, tuple[str, int | None]] = {
            enrollment.pk: (rng.choices(statuses, [80, 5, 3, 5, 7, 0])[0], None)
            for enrollment in session.roster()
        }
        take_attendance(session=session, by=by, marks=marks)


# Problem -> goal -> objective templates, varied per client so that demo plans do not
# read like the copied boilerplate auditors flag (DOMAIN.md section 3).
PLAN_TEMPLATES: dict[str, list[tuple[str, list[str], list[str]]]] = {
    "depression": [
        (
            "Depressed mood most days, withdrawn from friends and work.",
            [
                "I want to get out of bed and want to do things again.",
                "I want to feel like myself.",
                "I want to go back to work without dreading it.",
            ],
            [
                "Plan and complete 3 pleasant activities a week (activity log)",
                "PHQ-9 below 10 on two consecutive weekly scores",
                "Attend at least 3 group days a week for 4 weeks",
            ],
        )
    ],
    "anxiety": [
        (
            "Panic attacks several times a week; avoids buses and shops.",
            [
                "I want to take the bus to my sister's.",
                "I want to stop feeling scared all the time.",
                "I want to shop on my own again.",
            ],
            [
                "Use paced breathing in 4 of 5 rated panic episodes (diary)",
                "GAD-7 below 10 on two consecutive weekly scores",
                "Complete 5 steps of the exposure ladder",
            ],
        )
    ],
    "substance-use-in-recovery": [
        (
            "Drinking to cope with stress; two lapses in the last month.",
            [
                "I want to stay sober for my kids.",
                "I want to handle stress without drinking.",
            ],
            [
                "Name 3 triggers and a coping plan for each by week 2",
                "Attend 2 community support meetings a week",
            ],
        )
    ],
    "crisis-grief-loss": [
        (
            "Intense grief after a loss; sleep and appetite disrupted.",
            [
                "I want to remember her without falling apart.",
                "I want to sleep through the night.",
            ],
            [
                "Sleep 6+ hours on 5 of 7 nights (sleep diary)",
                "Complete the grief-processing workbook, modules 1-4",
            ],
        )
    ],
}
STRENGTHS = [
    "Close to a sibling who drives them to program; enjoys drawing.",
    "Motivated to return to work; good insight; keeps a journal.",
    "Supportive partner; previous good response to therapy.",
    "Stable housing; volunteers at an animal shelter; sense of humour.",
]
DISCHARGE_CRITERIA = [
    "PHQ-9 below 10 for two weeks; a written relapse-prevention plan; an outpatient "
    "therapist appointment booked.",
    "Using coping skills without daily staff support; safety plan reviewed; "
    "aftercare with a psychiatrist in place.",
    "Attending work or school part-time; GAD-7 below 10; support group identified.",
]


def write_plan_content(
    rng: random.Random, plan: Any, *, therapist: Any, psychiatrist: Any
) -> None:
    """One or two problems, each with a goal, objectives and interventions."""
    codes = rng.sample(sorted(PLAN_TEMPLATES), k=rng.choice([1, 2]))
    concerns = {c.code: c for c in PresentingConcern.objects.filter(code__in=codes)}
    for code in codes:
        statement, goals, objectives = PLAN_TEMPLATES[code][0]
        problem = PlanProblem.objects.create(
            plan=plan, statement=statement, concern=concerns.get(code)
        )
        goal = PlanGoal.objects.create(
            plan=plan, problem=problem, client_words=rng.choice(goals)
        )
        for text in rng.sample(objectives, k=min(2, len(objectives))):
            objective = PlanObjective.objects.create(
                plan=plan,
                goal=goal,
                statement=text,
                target_date=plan.enrollment.admitted_on
                + datetime.timedelta(days=rng.choice([21, 28, 35])),
                status="in_progress",
            )
            PlanIntervention.objects.create(
                plan=plan,
                objective=objective,
                service=rng.choice(["group_therapy", "psychoeducation"]),
                frequency=rng.choice(["3x/week", "daily", "2x/week"]),
                responsible=therapist,
            )
        if code == "depression" and plan.enrollment.psychiatrist_id:
            PlanIntervention.objects.create(
                plan=plan,
                objective=objective,
                service="medication_management",
                frequency="every 2 weeks",
                responsible=psychiatrist,
            )


def share_caseload(therapists: list[Any]) -> None:
    """Every third client in treatment goes to the second therapist, so the demo
    shows two caseloads that cannot see each other's clinical records."""
    open_enrollments = Enrollment.objects.open().order_by("admitted_on", "id")
    second = [e.pk for n, e in enumerate(open_enrollments) if n % 3 == 1]
    Enrollment.objects.filter(pk__in=second).update(primary_therapist=therapists[1])


def write_treatment_plans(
    rng: random.Random, *, therapists: list[Any], psychiatrist: Any
) -> None:
    """Plans in every state for the open enrollments (DOMAIN.md section 3): none
    yet (just admitted), drafts (some past the 7-day deadline), signed awaiting the
    client, acknowledged or declined, reviewed, revised (v2 in force or in draft),
    and some with a review overdue. Signing and reviews go through the services;
    only their dates are moved back to when they would have happened."""
    today = timezone.localdate()
    open_enrollments = Enrollment.objects.open().select_related(
        "track__program", "primary_therapist"
    )
    due_for_review = 0
    for n, enrollment in enumerate(open_enrollments.order_by("admitted_on", "id")):
        therapist = enrollment.primary_therapist or therapists[0]
        days_in = (today - enrollment.admitted_on).days
        if days_in < 3:
            continue  # just admitted: the initial plan is not due yet
        plan = plans.start_plan(enrollment=enrollment, by=therapist)
        plan.strengths = rng.choice(STRENGTHS)
        plan.client_hopes = "To feel steady enough to go back to daily life."
        write_plan_content(rng, plan, therapist=therapist, psychiatrist=psychiatrist)
        if n % 7 == 3 or days_in < 6:
            plan.save()  # a draft, written but not yet signed
            continue
        plan.discharge_criteria = rng.choice(DISCHARGE_CRITERIA)
        plan.save()
        signed_on = enrollment.admitted_on + datetime.timedelta(days=rng.randint(3, 6))
        plans.sign_plan(plan=plan, by=therapist, signed_at=afternoon_of(signed_on))
        if n % 5 != 1:
            how = "declined" if n % 11 == 0 else "in_person"
            plans.acknowledge_plan(
                plan=plan,
                how=how,
                on=min(signed_on + datetime.timedelta(days=1), today),
                declined_reason="Wants to read it with family first."
                if how == "declined"
                else "",
            )
        review_every = enrollment.track.program.plan_review_every_days or 30
        first_review = signed_on + datetime.timedelta(days=review_every)
        if first_review > today:
            continue
        # Those due a review, in turn: revised and re-signed (v1 superseded),
        # revised with v2 still in draft, review missed (overdue), reviewed.
        outcome = ["revised", "revising", "missed", "reviewed"][due_for_review % 4]
        due_for_review += 1
        if outcome == "missed":
            continue
        plan = TreatmentPlan.objects.get(pk=plan.pk)
        _, draft = plans.record_review(
            plan=plan,
            by=therapist,
            reviewed_on=first_review,
            decision="continue" if outcome == "reviewed" else "revise",
            summary="Reviewed with the client in individual session.",
            objectives={
                objective.pk: (
                    rng.choice(["improving", "in_progress", "achieved"]),
                    rng.choice(REVIEW_NOTES),
                )
                for objective in plan.objectives.all()
            },
        )
        if draft is not None and outcome == "revised":
            plans.sign_plan(
                plan=draft, by=therapist, signed_at=afternoon_of(first_review)
            )


REVIEW_NOTES = [
    "Uses the skill most days; says it helps.",
    "Some progress; missed two groups this week.",
    "Target met at the last two weekly scores.",
]


def afternoon_of(day: datetime.date) -> datetime.datetime:
    """Mid-afternoon of ``day``, or now if that is still to come today."""
    afternoon = datetime.datetime.combine(day, datetime.time(15, 30))
    return min(timezone.make_aware(afternoon), timezone.now())


# Baseline totals the demo draws from: IOP clients mostly start in the clinical range.
BASELINE_RANGE = {"phq9": (10, 22), "gad7": (8, 17)}
FOLLOW_UP_NOTE = (
    "Seen the same day: passive thoughts, no plan or intent. Safety plan reviewed, "
    "988 given; family aware."
)


def spread(rng: random.Random, instrument: Instrument, total: int) -> list[int]:
    """Item answers adding up to ``total``, the safety item (PHQ-9 item 9) left at 0."""
    answers = [0] * instrument.item_count
    others = [
        n for n in range(instrument.item_count) if n + 1 != instrument.safety_item
    ]
    total = min(total, instrument.highest_answer * len(others))
    for _ in range(total):
        index = rng.choice(
            [n for n in others if answers[n] < instrument.highest_answer]
        )
        answers[index] += 1
    return answers


def record_outcomes(rng: random.Random, *, by: Any) -> None:
    """PHQ-9 and GAD-7 at admission, weekly and at discharge (DOMAIN.md section 4)
    for everyone admitted: three in four improve over about six weeks, the rest do
    not. Two item 9 answers were followed up; exactly one, in an active enrollment,
    waits for it."""
    today = timezone.localdate()
    rows: list[Assessment] = []
    for enrollment in Enrollment.objects.exclude(status="scheduled").order_by("id"):
        end = min(enrollment.discharged_on or today, today)
        weeks = (end - enrollment.admitted_on).days // 7
        days = [
            enrollment.admitted_on + datetime.timedelta(weeks=n)
            for n in range(weeks + 1)
        ]
        if enrollment.discharged_on and days[-1] != enrollment.discharged_on:
            days.append(enrollment.discharged_on)  # and at discharge
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
                progress = min((day - enrollment.admitted_on).days / 42, 1)
                total = round(baseline + (target - baseline) * progress)
                total = max(0, total + rng.randint(-1, 1))
                rows.append(
                    Assessment(
                        enrollment=enrollment,
                        instrument=code,
                        administered_on=day,
                        administered_by=by,
                        answers=spread(rng, instrument, total),
                    )
                )
    phq9 = [row for row in rows if row.instrument == "phq9"]
    if not phq9:
        return
    # The one waiting: the latest PHQ-9 of the active enrollment with the longest
    # series, so its page shows a chart as well as the banner.
    active = [row for row in phq9 if row.enrollment.status == "active"] or phq9
    counts = Counter(row.enrollment.pk for row in active)
    waiting = max(
        active,
        key=lambda row: (counts[row.enrollment.pk], row.administered_on),
    )
    item9 = INSTRUMENTS["phq9"].safety_item or 0
    waiting.answers[item9 - 1] = 1
    earlier = [row for row in phq9 if row.enrollment.pk != waiting.enrollment.pk]
    for row in rng.sample(earlier, min(2, len(earlier))):
        row.answers[item9 - 1] = 1
        row.safety_followup_note = FOLLOW_UP_NOTE
        row.safety_followup_by = by
        row.safety_followup_at = min(
            timezone.now(),
            timezone.make_aware(
                datetime.datetime.combine(row.administered_on, datetime.time(15))
            ),
        )
    for row in rows:
        row.score()  # the model's scoring, as every save does
    bulk_create_with_history(rows, Assessment, batch_size=500, default_user=by)


# How demo episodes end (DOMAIN.md section 5 types), and the reason recorded.
DISCHARGE_MIX = {
    "completed": (50, "Met the discharge criteria in the treatment plan."),
    "stepped_down": (12, "Stable enough for a lower level of care."),
    "transferred": (5, "Moved out of the area; care continues near the new home."),
    "against_advice": (10, "Chose to stop attending before the plan was complete."),
    "stepped_up": (6, "Worsening symptoms; admitted to an inpatient unit."),
    "administrative": (6, "Repeated unexcused absences after two warnings."),
    "lost_contact": (8, "Stopped attending; not reachable by phone or letter."),
    "other": (3, "Insurance authorisation ended."),
}
AFTERCARE = [
    ("outpatient_therapy", "Riverside Counselling", "Dana Cho", "555-0141"),
    ("psychiatry", "Harbor Psychiatry Associates", "Dr. Lee Okafor", "555-0177"),
    ("support_group", "Thursday Evening DBSA Group", "Front desk", "555-0102"),
    ("primary_care", "Eastside Family Medicine", "Dr. Ana Ruiz", "555-0190"),
]


def discharge_for_demo(
    rng: random.Random, enrollment_id: int, on: datetime.date, *, by: Any, nth: int
) -> None:
    """End a demo episode through the discharge workflow: planned ones with a full
    plan and referrals, unplanned ones with their summary written later (or, for
    a few recent ones, not yet), and the follow-ups done, missed or still due."""
    enrollment = Enrollment.objects.select_related("client", "track__program").get(
        pk=enrollment_id
    )
    kinds = list(DISCHARGE_MIX)
    # Every type once first, then in their usual proportions.
    kind = (
        kinds[nth]
        if nth < len(kinds)
        else (rng.choices(kinds, [DISCHARGE_MIX[k][0] for k in kinds])[0])
    )
    reason = DISCHARGE_MIX[kind][1]
    if kind in PLANNED_TYPES:
        plan = start_discharge_plan(enrollment=enrollment, by=by)
        fill_discharge_plan(rng, plan, kind=kind, reason=reason, on=on)
    plan = discharge_client(
        enrollment=enrollment, by=by, on=on, discharge_type=kind, reason=reason
    )
    today = timezone.localdate()
    # Most summaries were written within the 15 days; every seventh is late.
    if not plan.is_finalised and (today - on).days > 12 and nth % 7 != 3:
        fill_discharge_plan(rng, plan, kind=kind, reason=reason, on=on)
        finalise_plan(plan=plan, by=by)
    for follow_up in plan.follow_ups.filter(due_on__lt=today):
        if rng.random() < 0.12:
            continue  # missed: on the overdue list
        outcome = rng.choices(
            ["reached", "attended", "not_reached"],
            [45, 35 if follow_up.referral_id else 0, 20],
        )[0]
        record_follow_up(
            follow_up=follow_up,
            outcome=outcome,
            on=follow_up.due_on,
            note="Phone check-in." if outcome != "not_reached" else "No answer.",
        )


def fill_discharge_plan(
    rng: random.Random, plan: Any, *, kind: str, reason: str, on: datetime.date
) -> None:
    admitted = plan.enrollment.admitted_on
    plan.intended_type = kind
    plan.intended_reason = reason
    plan.planned_on = on
    if kind in WITHOUT_THE_CLIENT:
        plan.outreach_attempts = (
            f"{on:%Y-%m-%d} phone, no answer; {on:%Y-%m-%d} letter sent to home "
            "address with crisis numbers."
        )
    else:
        plan.client_agreed_on = max(admitted, on - datetime.timedelta(days=2))
    plan.course_summary = "Attended most groups; uses two coping skills daily."
    plan.warning_signs = rng.choice(
        ["Sleeping past noon; skipping meals.", "Not answering friends' texts."]
    )
    plan.coping_strategies = "Morning walk; breathing exercise; call my sister."
    plan.people_to_call = "Sister (Jo): 555-0123\nSponsor (Sam): 555-0166"
    if plan.enrollment.psychiatrist_id:
        plan.current_medications = "Sertraline 100 mg each morning"
        plan.continuing_prescriber = "Dr. Lee Okafor, Harbor Psychiatry Associates"
        plan.supply_until = on + datetime.timedelta(days=30)
    plan.save()
    if kind not in NEEDS_REFERRAL and rng.random() < 0.5:
        return
    for kind_code, organisation, contact, phone in rng.sample(AFTERCARE, k=2):
        appointment = timezone.make_aware(
            datetime.datetime.combine(
                on + datetime.timedelta(days=rng.randint(4, 10)), datetime.time(10)
            )
        )
        status = rng.choice(["referred", "scheduled", "confirmed"])
        AftercareReferral.objects.create(
            plan=plan,
            kind=kind_code,
            organisation=organisation,
            contact_name=contact,
            phone=phone,
            address="12 Harbor Street, Suite 4",
            days_and_hours="Mon-Fri 9:00-17:00",
            first_appointment_at=None if status == "referred" else appointment,
            status=status,
            referred_on=max(admitted, on - datetime.timedelta(days=5)),
            status_on=max(admitted, on - datetime.timedelta(days=2)),
        )


def plan_upcoming_discharges(rng: random.Random, *, by: Any) -> None:
    """Two clients in treatment with a discharge planned this week: one plan ready
    to finalise, one still missing its referral."""
    today = timezone.localdate()
    candidates = (
        Enrollment.objects.open()
        .filter(admitted_on__lte=today - datetime.timedelta(days=14))
        .order_by("admitted_on", "id")[:2]
    )
    for n, enrollment in enumerate(candidates):
        plan = start_discharge_plan(enrollment=enrollment, by=by)
        fill_discharge_plan(
            rng,
            plan,
            kind="completed",
            reason=DISCHARGE_MIX["completed"][1],
            on=today + datetime.timedelta(days=3 + n),
        )
        if n == 1:
            plan.referrals.all().delete()


def create_audit_history(
    rng: random.Random, *, therapists: list[Any], manager: Any, privacy: Any
) -> None:
    """Two months of looks at client records, a few searches, and one emergency
    access by the second therapist (unreviewed), so the privacy officer's report and
    review list have something to show."""
    now = timezone.now()
    events = []
    enrollments = list(Enrollment.objects.select_related("client").order_by("id")[:40])
    for enrollment in enrollments:
        for _ in range(rng.randint(1, 4)):
            who = enrollment.primary_therapist or rng.choice([*therapists, manager])
            events += [
                AccessEvent(
                    occurred_at=now
                    - datetime.timedelta(
                        days=rng.randint(0, 60), minutes=rng.randint(0, 600)
                    ),
                    user=who,
                    action=AccessEvent.Action.VIEW,
                    app_label=app_label,
                    model_name=model_name,
                    object_id=str(pk),
                    client_id=enrollment.client_id,
                    page=f"{app_label}_{model_name}_change",
                    outcome=AccessEvent.Outcome.SHOWN,
                    ip_address=f"10.20.0.{rng.randint(2, 60)}",
                )
                for app_label, model_name, pk in [
                    ("intake", "client", enrollment.client_id),
                    ("programs", "enrollment", enrollment.pk),
                ]
            ]
    # A search on the client list (the term is kept only as its keyed hash), and the
    # privacy officer's own look at the audit report.
    events += [
        AccessEvent(
            occurred_at=now - datetime.timedelta(days=1),
            user=user,
            action=AccessEvent.Action.LIST,
            app_label=app_label,
            model_name=model_name,
            page=f"{app_label}_{model_name}_changelist",
            outcome=AccessEvent.Outcome.SHOWN,
            ip_address="10.20.0.9",
            search_hash=search_hash(term),
        )
        for user, app_label, model_name, term in [
            (manager, "intake", "client", "Garcia"),
            (privacy, "iopclinic", "accessevent", ""),
        ]
    ]
    AccessEvent.objects.bulk_create(events)

    # Crisis cover three days ago: the second therapist opens a client of the first.
    second = therapists[1]
    outside = (
        Enrollment.objects.open()
        .exclude(pk__in=Enrollment.objects.visible_to(second).values("pk"))
        .select_related("client")
        .first()
    )
    if outside is None:
        return
    started = now - datetime.timedelta(days=3, hours=2)
    grant = EmergencyAccess.objects.create(
        user=second,
        client=outside.client,
        reason="Crisis cover: the primary therapist is away and the client called "
        "the clinic in distress; I need the safety plan and medication list.",
        started_at=started,
        expires_at=started + EmergencyAccess.MAX_DURATION,
    )
    AccessEvent.objects.bulk_create(
        AccessEvent(
            occurred_at=started + datetime.timedelta(minutes=minutes),
            user=second,
            action=AccessEvent.Action.VIEW,
            app_label=app_label,
            model_name=model_name,
            object_id=str(pk),
            client_id=outside.client_id,
            page=f"{app_label}_{model_name}_change",
            outcome=AccessEvent.Outcome.SHOWN,
            ip_address="10.20.0.17",
            emergency_access=grant,
        )
        for minutes, app_label, model_name, pk in [
            (2, "intake", "client", outside.client_id),
            (5, "programs", "enrollment", outside.pk),
        ]
    )
