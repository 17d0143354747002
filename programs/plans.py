"""The life of a treatment plan: start, sign, acknowledge, review, revise.

DOMAIN.md section 3: the initial plan is due a number of days after admission and a
review every so many days after signing (both per program); a signed plan is never
edited, a change is a new version that supersedes it. Each function runs in one
transaction and locks the enrollment row first, so two staff acting on the same
episode at once are serialised (versions never collide, one plan in force).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from .models import Enrollment
from .models.plans import (
    Acknowledgement,
    ObjectiveReview,
    ObjectiveStatus,
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    PlanReview,
    PlanStatus,
    ReviewDecision,
    TreatmentPlan,
    latest_reviewed_status,
)

# DOMAIN.md section 3 defaults, used when a program leaves its own empty.
INITIAL_PLAN_DUE_DAYS = 7
REVIEW_EVERY_DAYS = 30


def initial_plan_due(enrollment: Enrollment) -> datetime.date:
    days = enrollment.track.program.initial_plan_due_days or INITIAL_PLAN_DUE_DAYS
    return enrollment.admitted_on + datetime.timedelta(days=days)


def next_review_due(enrollment: Enrollment, after: datetime.date) -> datetime.date:
    days = enrollment.track.program.plan_review_every_days or REVIEW_EVERY_DAYS
    return after + datetime.timedelta(days=days)


def _lock(enrollment: Enrollment) -> Enrollment:
    return (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("track__program")
        .get(pk=enrollment.pk)
    )


@transaction.atomic
def start_plan(*, enrollment: Enrollment, by: Any) -> TreatmentPlan:
    """Version 1 of the enrollment's plan, as a draft."""
    enrollment = _lock(enrollment)
    if enrollment.status == Enrollment.Status.DISCHARGED:
        raise ValidationError("This client has been discharged.")
    if enrollment.treatment_plans.exists():
        raise ValidationError(
            "This enrollment already has a treatment plan: open it, or revise it."
        )
    return TreatmentPlan.objects.create(enrollment=enrollment, version=1, created_by=by)


def problems_before_signing(plan: TreatmentPlan) -> list[str]:
    """What stops a draft from being signed, in words a clinician can act on."""
    problems: list[str] = []
    if not plan.discharge_criteria.strip():
        problems.append("Write the discharge criteria.")
    rows: dict[str, list[Any]] = {
        "problem": list(plan.problems.all()),
        "goal": list(plan.goals.all()),
        "objective": list(plan.objectives.all()),
        "intervention": list(plan.interventions.all()),
    }
    if not rows["problem"]:
        problems.append("Add at least one problem.")
    parents_with_children = {
        "problem": {goal.problem_id for goal in rows["goal"]},
        "goal": {objective.goal_id for objective in rows["objective"]},
        "objective": {row.objective_id for row in rows["intervention"]},
    }
    needs = {
        "problem": "a goal",
        "goal": "an objective",
        "objective": "an intervention",
    }
    for level, child in needs.items():
        bare = [
            row for row in rows[level] if row.pk not in parents_with_children[level]
        ]
        if bare:
            problems.append(f"Give every {level} {child} ({len(bare)} without).")
    return problems


@transaction.atomic
def sign_plan(
    *, plan: TreatmentPlan, by: Any, signed_at: datetime.datetime | None = None
) -> TreatmentPlan:
    """The therapist signs a draft: it comes into force, supersedes the version
    before it, and the next review falls due. ``signed_at`` is for entering a plan
    signed on paper earlier (and the demo); staff in the admin sign as of now."""
    enrollment = _lock(plan.enrollment)
    plan = TreatmentPlan.objects.get(pk=plan.pk)
    if not plan.is_draft:
        raise ValidationError("Only a draft can be signed.")
    problems = problems_before_signing(plan)
    if problems:
        raise ValidationError(problems)
    now = timezone.now()
    signed_at = signed_at or now
    if signed_at > now:
        raise ValidationError("A plan cannot be signed in the future.")
    for previous in enrollment.treatment_plans.in_force():
        previous.status = PlanStatus.SUPERSEDED
        previous.superseded_at = now
        previous.save(update_fields=["status", "superseded_at"])
    plan.status = PlanStatus.SIGNED
    plan.signed_by = by
    plan.signed_at = signed_at
    plan.updated_by = by
    plan.updated_at = now
    plan.save()
    enrollment.plan_due_on = next_review_due(enrollment, timezone.localdate(signed_at))
    enrollment.save(update_fields=["plan_due_on"])
    return plan


@transaction.atomic
def acknowledge_plan(
    *,
    plan: TreatmentPlan,
    how: str,
    on: datetime.date,
    declined_reason: str = "",
) -> TreatmentPlan:
    """Record the client's acknowledgement of the signed plan (or that they
    declined to sign, and why)."""
    _lock(plan.enrollment)
    plan = TreatmentPlan.objects.get(pk=plan.pk)
    if plan.status != PlanStatus.SIGNED:
        raise ValidationError("Only a signed plan awaiting the client is acknowledged.")
    if on > timezone.localdate():
        raise ValidationError({"on": "The acknowledgement cannot be in the future."})
    if plan.signed_at and on < timezone.localdate(plan.signed_at):
        raise ValidationError({"on": "The client acknowledges after the signature."})
    if how == Acknowledgement.DECLINED and not declined_reason.strip():
        raise ValidationError({"declined_reason": "Say why the client declined."})
    plan.acknowledgement = how
    plan.acknowledged_on = on
    plan.declined_reason = (
        declined_reason.strip() if how == Acknowledgement.DECLINED else ""
    )
    plan.status = PlanStatus.ACKNOWLEDGED
    plan.save(
        update_fields=[
            "acknowledgement",
            "acknowledged_on",
            "declined_reason",
            "status",
        ]
    )
    return plan


@transaction.atomic
def revise_plan(*, plan: TreatmentPlan, by: Any) -> TreatmentPlan:
    """The next version, as a draft copying the plan in force, with each objective's
    latest reviewed status. The plan in force stays in force until it is signed."""
    enrollment = _lock(plan.enrollment)
    plan = TreatmentPlan.objects.get(pk=plan.pk)
    if plan.status not in (PlanStatus.SIGNED, PlanStatus.ACKNOWLEDGED):
        raise ValidationError("Only the plan in force can be revised.")
    if enrollment.treatment_plans.drafts().exists():
        raise ValidationError("A revision is already in draft: open that one.")
    if enrollment.status == Enrollment.Status.DISCHARGED:
        raise ValidationError("This client has been discharged.")
    latest = enrollment.treatment_plans.aggregate(Max("version"))["version__max"]
    draft = TreatmentPlan.objects.create(
        enrollment=enrollment,
        version=latest + 1,
        strengths=plan.strengths,
        client_hopes=plan.client_hopes,
        discharge_criteria=plan.discharge_criteria,
        created_by=by,
    )
    copy_content(plan, into=draft, by=by)
    return draft


def copy_content(source: TreatmentPlan, *, into: TreatmentPlan, by: Any) -> None:
    """Problems, goals, objectives (with their latest reviewed status) and
    interventions of ``source``, copied into the draft ``into``: a fixed number of
    queries whatever the plan's size. Bulk inserts skip the per-row draft check,
    which holds anyway: ``into`` was just created as a draft."""
    objectives = list(source.objectives.all())
    reviewed = latest_reviewed_status(objectives)
    problems = {}
    for problem in source.problems.all():
        problems[problem.pk] = PlanProblem(
            plan=into, statement=problem.statement, concern_id=problem.concern_id
        )
    bulk_create_with_history(list(problems.values()), PlanProblem, default_user=by)
    goals = {}
    for goal in source.goals.all():
        goals[goal.pk] = PlanGoal(
            plan=into, problem=problems[goal.problem_id], client_words=goal.client_words
        )
    bulk_create_with_history(list(goals.values()), PlanGoal, default_user=by)
    copies = {}
    for objective in objectives:
        copies[objective.pk] = PlanObjective(
            plan=into,
            goal=goals[objective.goal_id],
            statement=objective.statement,
            target_date=objective.target_date,
            status=reviewed.get(objective.pk, objective.status),
        )
    bulk_create_with_history(list(copies.values()), PlanObjective, default_user=by)
    interventions = [
        PlanIntervention(
            plan=into,
            objective=copies[row.objective_id],
            service=row.service,
            frequency=row.frequency,
            responsible_id=row.responsible_id,
        )
        for row in source.interventions.all()
    ]
    bulk_create_with_history(interventions, PlanIntervention, default_user=by)


@transaction.atomic
def record_review(
    *,
    plan: TreatmentPlan,
    by: Any,
    reviewed_on: datetime.date,
    decision: str,
    summary: str = "",
    objectives: Mapping[int, tuple[str, str]],
) -> tuple[PlanReview, TreatmentPlan | None]:
    """A review of the plan in force: every objective's status and progress note.
    It resets the review clock; deciding to revise also starts the next draft.
    Returns the review and the new draft (None when the plan continues)."""
    enrollment = _lock(plan.enrollment)
    plan = TreatmentPlan.objects.get(pk=plan.pk)
    if plan.status not in (PlanStatus.SIGNED, PlanStatus.ACKNOWLEDGED):
        raise ValidationError("Only the plan in force is reviewed.")
    plan_objectives = set(plan.objectives.values_list("pk", flat=True))
    if set(objectives) != plan_objectives:
        raise ValidationError("Give a status for every objective of the plan.")
    if any(status not in ObjectiveStatus.values for status, _ in objectives.values()):
        raise ValidationError("Choose a status from the list for every objective.")
    review = PlanReview(
        plan=plan,
        reviewed_on=reviewed_on,
        reviewer=by,
        decision=decision,
        summary=summary,
    )
    review.full_clean()
    if plan.signed_at and reviewed_on < timezone.localdate(plan.signed_at):
        raise ValidationError(
            {"reviewed_on": "A review comes after the plan was signed."}
        )
    review.save()
    for objective_id, (status, note) in objectives.items():
        ObjectiveReview.objects.create(
            review=review, objective_id=objective_id, status=status, progress_note=note
        )
    enrollment.plan_due_on = next_review_due(enrollment, reviewed_on)
    enrollment.save(update_fields=["plan_due_on"])
    draft = None
    if decision == ReviewDecision.REVISE:
        draft = revise_plan(plan=plan, by=by)
    return review, draft
