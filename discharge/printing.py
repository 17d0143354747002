"""The discharge plan on paper (DOMAIN.md sections 5 and 7): the client's own copy,
and one referral copy for each aftercare provider.

Each function builds a template context from a fixed number of queries, whatever
the size of the plan. The context holds only what is printed: the templates never
reach back into the models, so nothing internal (the staff's reason for the
discharge, outreach attempts, why an amendment was made) can slip onto the page.

The client's copy is their own record and is complete, substance-use treatment
included. A referral copy holds substance-use treatment information only under a
current consent that allows it and names that provider (42 CFR Part 2), and then
carries the redisclosure notice and the consent's scope (42 CFR 2.32).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from intake.models import Consent
from programs.models import (
    Enrollment,
    ObjectiveStatus,
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    TreatmentPlan,
)
from programs.models.plans import latest_reviewed_status

from .models import (
    CRISIS_LINES_DEFAULT,
    AftercareReferral,
    DischargePlan,
    ReferralStatus,
)

# The presenting concern that marks a treatment-plan problem as substance-use
# treatment (seeded by intake/migrations/0003_seed_presenting_concerns.py).
SUBSTANCE_USE_CONCERN = "substance-use-in-recovery"

# 42 CFR 2.32(a)(1), "Statement 1", as amended by the 2024 final rule (89 FR 12472,
# 16 Feb 2024): every disclosure made with the patient's written consent carries it.
REDISCLOSURE_NOTICE = (
    "This record which has been disclosed to you is protected by Federal "
    "confidentiality rules (42 CFR part 2). These rules prohibit you from using or "
    "disclosing this record, or testimony that describes the information contained "
    "in this record, in any civil, criminal, administrative, or legislative "
    "proceedings by any Federal, State, or local authority, against the patient, "
    "unless authorized by the consent of the patient, except as provided at 42 CFR "
    "2.12(c)(5) or as authorized by a court in accordance with 42 CFR 2.64 or 2.65. "
    "In addition, the Federal rules prohibit you from making any other use or "
    "disclosure of this record unless at least one of the following applies: "
    "(A) Further use or disclosure is expressly permitted by the written consent of "
    "the individual whose information is being disclosed in this record or as "
    "otherwise permitted by 42 CFR part 2. (B) You are a covered entity or business "
    "associate and have received the record for treatment, payment, or health care "
    "operations, or (C) You have received the record from a covered entity or "
    "business associate as permitted by 45 CFR part 164, subparts A and E. A general "
    "authorization for the release of medical or other information is NOT sufficient "
    "to meet the required elements of written consent to further use or redisclose "
    "the record (see 42 CFR 2.31)."
)

# Printed on every referral copy made without such a consent, whether or not the
# plan has anything to leave out: a sentence shown only when something was left
# out would itself disclose substance-use treatment.
NOT_INCLUDED = (
    "Substance-use treatment information is not included: no current consent to "
    "share it with this provider."
)

# Objective statuses as the client reads them.
PROGRESS_IN_PLAIN_WORDS = {
    ObjectiveStatus.PROPOSED: "Not started yet",
    ObjectiveStatus.IN_PROGRESS: "Working on it",
    ObjectiveStatus.IMPROVING: "Getting better",
    ObjectiveStatus.ACHIEVED: "Done",
    ObjectiveStatus.NOT_ACHIEVED: "Not reached yet",
    ObjectiveStatus.DISCONTINUED: "Stopped",
    ObjectiveStatus.REVISED: "Changed to a new step",
}

# Referral statuses as the client reads them.
APPOINTMENT_IN_PLAIN_WORDS = {
    ReferralStatus.REFERRED: "Referral sent: they will call you, or call them to book",
    ReferralStatus.SCHEDULED: "Booked",
    ReferralStatus.CONFIRMED: "Booked and confirmed",
    ReferralStatus.ATTENDED: "You went",
    ReferralStatus.DECLINED: "Not going ahead",
}


@dataclass(frozen=True)
class Appointment:
    """One aftercare provider, as the client's copy lists it."""

    kind: str
    organisation: str
    contact_name: str
    phone: str
    address: list[str]
    days_and_hours: str
    first_appointment_at: datetime.datetime | None
    status: str


@dataclass(frozen=True)
class Step:
    """An objective and how far it got."""

    statement: str
    target_date: datetime.date
    status: str
    services: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Goal:
    """A goal in the client's own words, with its steps."""

    in_their_words: str
    steps: list[Step]


@dataclass(frozen=True)
class Problem:
    """A treatment-plan problem with its goals (referral copies)."""

    statement: str
    concern: str
    goals: list[Goal]


@dataclass(frozen=True)
class Correction:
    """An amendment as the client sees it: what was corrected, not why."""

    what: str
    correction: str
    on: datetime.date


@dataclass(frozen=True)
class ConsentScope:
    """The consent a substance-use disclosure is made under, explained (42 CFR
    2.32(b): a copy of the consent or a clear explanation of its scope)."""

    recipient: str
    purpose: str
    shares: list[str]
    signed_on: datetime.date
    expires: str


def client_copy(plan: DischargePlan) -> dict[str, Any]:
    """The client's own copy of their discharge plan, in plain language."""
    plan = _load(plan)
    enrollment = plan.enrollment
    program = enrollment.track.program.name
    problems, _ = _treatment(enrollment, plain=True, with_services=False)
    referrals = plan.referrals.order_by(
        F("first_appointment_at").asc(nulls_last=True), "id"
    )
    return {
        "title": f"Your plan after {program}",
        "heading": f"Your plan after {program}",
        "client_name": enrollment.client.display_name,
        "program": program,
        "admitted_on": enrollment.admitted_on,
        "discharged_on": enrollment.discharged_on,
        "planned_on": plan.planned_on,
        "appointments": [
            Appointment(
                kind=referral.get_kind_display(),
                organisation=referral.organisation,
                contact_name=referral.contact_name,
                phone=referral.phone,
                address=_lines(referral.address),
                days_and_hours=referral.days_and_hours,
                first_appointment_at=_local(referral.first_appointment_at),
                status=APPOINTMENT_IN_PLAIN_WORDS[ReferralStatus(referral.status)],
            )
            for referral in referrals
        ],
        "goals": [goal for problem in problems for goal in problem.goals],
        "course_summary": plan.course_summary.strip(),
        **_medication(plan),
        **_crisis_plan(plan),
        "corrections": [
            Correction(
                what=row.what,
                correction=row.correction,
                on=timezone.localdate(row.written_at),
            )
            for row in plan.amendments.only("what", "correction", "written_at")
        ],
        "printed_on": timezone.localdate(),
    }


def referral_copy(
    plan: DischargePlan,
    referral: AftercareReferral,
    on: datetime.date | None = None,
) -> dict[str, Any]:
    """What one aftercare provider needs; substance-use treatment information only
    under a current consent that allows it and names this provider."""
    if referral.plan_id != plan.pk:
        raise ValueError("The referral is not one of this plan's.")
    on = on or timezone.localdate()
    plan = _load(plan)
    enrollment = plan.enrollment
    client = enrollment.client
    consent, why_not = consent_for_substance_use(referral, client_id=client.pk, on=on)
    problems, substance_use_left_out = _treatment(
        enrollment, plain=False, with_services=True, substance_use=consent is not None
    )
    program = enrollment.track.program
    return {
        "title": f"Referral to {referral.organisation}",
        "heading": f"Referral to {referral.organisation}",
        "clinic": settings.CLINIC_NAME,
        "client_legal_name": f"{client.first_name} {client.last_name}",
        "client_preferred_name": client.preferred_name,
        "client_pronouns": client.pronouns,
        "client_date_of_birth": client.date_of_birth,
        "program": program.name,
        "level_of_care": program.get_level_of_care_display(),
        "admitted_on": enrollment.admitted_on,
        "discharged_on": enrollment.discharged_on,
        "planned_on": plan.planned_on,
        "organisation": referral.organisation,
        "contact_name": referral.contact_name,
        "referred_for": referral.get_kind_display(),
        "referred_on": referral.referred_on,
        "first_appointment_at": _local(referral.first_appointment_at),
        "problems": problems,
        "course_summary": plan.course_summary.strip(),
        **_medication(plan),
        **_crisis_plan(plan),
        "shares_substance_use": consent is not None,
        "redisclosure_notice": REDISCLOSURE_NOTICE if consent is not None else "",
        "consent_scope": _scope(consent) if consent is not None else None,
        "not_included": "" if consent is not None else NOT_INCLUDED,
        # For staff, never printed: why it is left out, and whether it was.
        "why_not_shared": why_not,
        "substance_use_left_out": substance_use_left_out,
        "printed_on": timezone.localdate(),
    }


def consent_for_substance_use(
    referral: AftercareReferral, *, client_id: int, on: datetime.date
) -> tuple[Consent | None, str]:
    """The referral's consent if it lets substance-use treatment information go to
    this provider on ``on``; otherwise None and, for staff, why not."""
    if referral.consent_id is None:
        return None, "No consent is linked to this referral."
    consent = Consent.objects.filter(pk=referral.consent_id).first()
    if consent is None or consent.client_id != client_id:
        return None, "The linked consent is not this client's."
    if not Consent.objects.current(on).filter(pk=consent.pk).exists():
        return None, (
            f"The linked consent is not in force on {on:%Y-%m-%d} (not yet signed, "
            "expired or revoked)."
        )
    if not consent.shares_substance_use:
        return None, "The linked consent does not allow substance-use information."
    if _same_name(consent.recipient) != _same_name(referral.organisation):
        return None, (
            f"The linked consent names “{consent.recipient}”, not "
            f"“{referral.organisation}”."
        )
    return consent, ""


# ---- helpers ----


def _load(plan: DischargePlan) -> DischargePlan:
    """The plan as stored, with its client and program (one query)."""
    return DischargePlan.objects.select_related(
        "enrollment__client", "enrollment__track__program"
    ).get(pk=plan.pk)


def _treatment(
    enrollment: Enrollment,
    *,
    plain: bool,
    with_services: bool,
    substance_use: bool = True,
) -> tuple[list[Problem], bool]:
    """The treatment plan in force (or the latest signed version) as problems ->
    goals -> steps, with each objective's status at its latest review; problems
    about substance use left out unless ``substance_use``. Returns the problems and
    whether any were left out."""
    treatment_plan = (
        TreatmentPlan.objects.filter(enrollment=enrollment)
        .exclude(status=TreatmentPlan.Status.DRAFT)
        .order_by("-version")
        .first()
    )
    if treatment_plan is None:
        return [], False
    problems = list(
        PlanProblem.objects.filter(plan=treatment_plan).select_related("concern")
    )
    left_out = (
        set()
        if substance_use
        else {problem.pk for problem in problems if _is_substance_use(problem)}
    )
    problems = [problem for problem in problems if problem.pk not in left_out]
    goals = [
        goal
        for goal in PlanGoal.objects.filter(plan=treatment_plan)
        if goal.problem_id not in left_out
    ]
    kept_goals = {goal.pk for goal in goals}
    objectives = [
        objective
        for objective in PlanObjective.objects.filter(plan=treatment_plan)
        if objective.goal_id in kept_goals
    ]
    reviewed = latest_reviewed_status(objectives)
    services: dict[int, list[str]] = {}
    if with_services and objectives:
        for row in PlanIntervention.objects.filter(plan=treatment_plan):
            services.setdefault(row.objective_id, []).append(
                f"{row.get_service_display()}, {row.frequency}"
            )
    steps: dict[int, list[Step]] = {}
    for objective in objectives:
        status = ObjectiveStatus(reviewed.get(objective.pk, objective.status))
        steps.setdefault(objective.goal_id, []).append(
            Step(
                statement=objective.statement,
                target_date=objective.target_date,
                status=PROGRESS_IN_PLAIN_WORDS[status] if plain else status.label,
                services=services.get(objective.pk, []),
            )
        )
    goals_of: dict[int, list[Goal]] = {}
    for goal in goals:
        goals_of.setdefault(goal.problem_id, []).append(
            Goal(in_their_words=goal.client_words, steps=steps.get(goal.pk, []))
        )
    return [
        Problem(
            statement=problem.statement,
            concern=str(problem.concern) if problem.concern else "",
            goals=goals_of.get(problem.pk, []),
        )
        for problem in problems
    ], bool(left_out)


def _is_substance_use(problem: PlanProblem) -> bool:
    return problem.concern is not None and problem.concern.code == SUBSTANCE_USE_CONCERN


def _medication(plan: DischargePlan) -> dict[str, Any]:
    return {
        "medications": _lines(plan.current_medications),
        "prescriber": plan.continuing_prescriber.strip(),
        "next_medication_appointment": _local(plan.next_medication_appointment),
        "supply_until": plan.supply_until,
    }


def _crisis_plan(plan: DischargePlan) -> dict[str, Any]:
    return {
        "warning_signs": _lines(plan.warning_signs),
        "coping_strategies": _lines(plan.coping_strategies),
        "people_to_call": _lines(plan.people_to_call),
        # Always printed: an emptied field falls back to 988 and 911.
        "crisis_lines": _lines(plan.crisis_lines) or _lines(CRISIS_LINES_DEFAULT),
    }


def _scope(consent: Consent) -> ConsentScope:
    shares = []
    if consent.shares_mental_health:
        shares.append("general mental-health information")
    if consent.shares_substance_use:
        shares.append("substance-use treatment information (42 CFR Part 2)")
    if consent.expires_on is not None:
        expires = f"{consent.expires_on:%Y-%m-%d}"
        if consent.expires_on_event:
            expires += f", or {consent.expires_on_event}"
    else:
        expires = consent.expires_on_event
    return ConsentScope(
        recipient=consent.recipient,
        purpose=consent.purpose,
        shares=shares,
        signed_on=consent.signed_on,
        expires=expires,
    )


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _local(moment: datetime.datetime | None) -> datetime.datetime | None:
    return timezone.localtime(moment) if moment is not None else None


def _same_name(name: str) -> str:
    """A name compared without regard to case or spacing."""
    return " ".join(name.split()).casefold()
