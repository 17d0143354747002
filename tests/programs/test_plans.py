"""Treatment plans: signing, versioning, immutability and due dates (DOMAIN.md s. 3)."""

from __future__ import annotations

import datetime
import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone

from programs.models import (
    Enrollment,
    ObjectiveReview,
    PlanGoal,
    PlanObjective,
    PlanProblem,
    PlanStatus,
    TreatmentPlan,
)
from programs.models.plans import SignedPlanError, StalePlanError
from programs.plans import (
    acknowledge_plan,
    problems_before_signing,
    record_review,
    revise_plan,
    sign_plan,
    start_plan,
)
from programs.workflows import admit_client
from tests.factories import (
    ClientFactory,
    EnrollmentFactory,
    ProgramFactory,
    StaffFactory,
    TrackFactory,
    TreatmentPlanFactory,
    with_content,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def signed_plan(*, problems: int = 1, days_ago: int = 0, **fields: Any) -> Any:
    plan = with_content(TreatmentPlanFactory(**fields), problems=problems)
    signed_at = timezone.now() - datetime.timedelta(days=days_ago)
    return sign_plan(plan=plan, by=plan.created_by, signed_at=signed_at)


def review_all(plan: TreatmentPlan, status: str, **fields: Any) -> Any:
    fields.setdefault("reviewed_on", TODAY())
    fields.setdefault("decision", "continue")
    return record_review(
        plan=plan,
        by=plan.created_by,
        objectives={row.pk: (status, "note") for row in plan.objectives.all()},
        **fields,
    )


# ---- due dates ----


@pytest.mark.parametrize(("level", "review_days"), [("iop", 30), ("php", 14)])
def test_initial_plan_due_seven_days_after_admission_then_review_by_level(
    level: str, review_days: int
) -> None:
    """DOMAIN.md section 3 defaults: initial plan 7 days after admission, review
    every 30 days (IOP) or 14 days (PHP) after signing."""
    track = TrackFactory(program=ProgramFactory(level_of_care=level))
    staff = StaffFactory()
    admitted = TODAY() - datetime.timedelta(days=3)
    enrollment = admit_client(
        track=track, by=staff, client=ClientFactory(), admitted_on=admitted
    )
    assert enrollment.plan_due_on == admitted + datetime.timedelta(days=7)

    plan = with_content(start_plan(enrollment=enrollment, by=staff))
    plan.discharge_criteria = "Back at work part-time."
    plan.save()
    sign_plan(plan=plan, by=staff)
    enrollment.refresh_from_db()
    assert enrollment.plan_due_on == TODAY() + datetime.timedelta(days=review_days)


def test_program_days_override_the_defaults() -> None:
    program = ProgramFactory(initial_plan_due_days=3, plan_review_every_days=10)
    enrollment = admit_client(
        track=TrackFactory(program=program), by=StaffFactory(), client=ClientFactory()
    )
    assert enrollment.plan_due_on == TODAY() + datetime.timedelta(days=3)
    plan = signed_plan(enrollment=enrollment)
    plan.enrollment.refresh_from_db()
    assert plan.enrollment.plan_due_on == TODAY() + datetime.timedelta(days=10)


def test_a_review_resets_the_clock_from_its_date() -> None:
    plan = signed_plan(days_ago=20)
    reviewed_on = TODAY() - datetime.timedelta(days=1)
    review_all(plan, "improving", reviewed_on=reviewed_on)
    plan.enrollment.refresh_from_db()
    assert plan.enrollment.plan_due_on == reviewed_on + datetime.timedelta(days=30)


def test_overdue_and_due_soon_lists() -> None:
    today = TODAY()
    late = EnrollmentFactory(plan_due_on=today - datetime.timedelta(days=1))
    soon = EnrollmentFactory(plan_due_on=today + datetime.timedelta(days=7))
    later = EnrollmentFactory(plan_due_on=today + datetime.timedelta(days=8))
    EnrollmentFactory(
        plan_due_on=today - datetime.timedelta(days=5),
        status="discharged",
        discharged_on=today,
        discharge_type="completed",
    )
    assert list(Enrollment.objects.plan_overdue(today)) == [late]
    due_soon = set(Enrollment.objects.plan_due_soon(today))
    assert soon in due_soon
    assert later not in due_soon


# ---- signing ----


def test_a_draft_without_discharge_criteria_or_structure_cannot_be_signed() -> None:
    plan = TreatmentPlanFactory(discharge_criteria="")
    problem = PlanProblem.objects.create(plan=plan, statement="Panic attacks")
    PlanGoal.objects.create(plan=plan, problem=problem, client_words="Ride the bus")
    missing = problems_before_signing(plan)
    assert "Write the discharge criteria." in missing
    assert any("every goal an objective" in item for item in missing)
    with pytest.raises(ValidationError):
        sign_plan(plan=plan, by=plan.created_by)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT


def test_the_database_refuses_a_signed_plan_without_discharge_criteria() -> None:
    plan = TreatmentPlanFactory(discharge_criteria="")
    with pytest.raises(IntegrityError), transaction.atomic():
        TreatmentPlan.objects.filter(pk=plan.pk).update(
            status="signed", signed_by=plan.created_by, signed_at=timezone.now()
        )


def test_signing_records_who_and_when_and_puts_the_plan_in_force() -> None:
    plan = signed_plan()
    assert plan.status == PlanStatus.SIGNED
    assert plan.signed_by == plan.created_by
    assert plan.signed_at is not None
    assert list(plan.enrollment.treatment_plans.in_force()) == [plan]


# ---- a signed plan is never edited ----


def test_a_signed_plan_refuses_any_content_change() -> None:
    plan = signed_plan()
    plan.strengths = "Rewritten after signing"
    with pytest.raises(SignedPlanError):
        plan.save()
    with pytest.raises(SignedPlanError):
        plan.save(update_fields=["strengths"])
    plan.refresh_from_db()
    assert plan.strengths != "Rewritten after signing"


def test_a_signed_plans_rows_refuse_change_addition_and_deletion() -> None:
    plan = signed_plan()
    problem = plan.problems.get()
    problem.statement = "Changed"
    with pytest.raises(SignedPlanError):
        problem.save()
    with pytest.raises(SignedPlanError):
        PlanProblem.objects.create(plan=plan, statement="Added later")
    objective = plan.objectives.get()
    with pytest.raises(SignedPlanError):
        objective.delete()
    assert plan.problems.get().statement != "Changed"
    assert plan.objectives.count() == 1


def test_a_signed_plan_cannot_be_signed_again_or_deleted() -> None:
    plan = signed_plan()
    signed_at = plan.signed_at
    with pytest.raises(ValidationError):
        sign_plan(plan=plan, by=StaffFactory())
    with pytest.raises(ValidationError):
        plan.delete()
    plan.refresh_from_db()
    assert plan.signed_at == signed_at


# ---- the client's acknowledgement ----


def test_acknowledged_in_person() -> None:
    plan = acknowledge_plan(plan=signed_plan(), how="in_person", on=TODAY())
    assert plan.status == PlanStatus.ACKNOWLEDGED
    assert plan.acknowledged_on == TODAY()


def test_declining_to_sign_needs_a_reason() -> None:
    plan = signed_plan()
    with pytest.raises(ValidationError) as error:
        acknowledge_plan(plan=plan, how="declined", on=TODAY())
    assert "declined_reason" in error.value.message_dict
    plan = acknowledge_plan(
        plan=plan, how="declined", on=TODAY(), declined_reason="Wants to read it first"
    )
    assert plan.declined_reason == "Wants to read it first"


def test_a_draft_is_not_acknowledged_nor_in_the_future() -> None:
    with pytest.raises(ValidationError):
        acknowledge_plan(
            plan=with_content(TreatmentPlanFactory()), how="in_person", on=TODAY()
        )
    with pytest.raises(ValidationError):
        acknowledge_plan(
            plan=signed_plan(),
            how="in_person",
            on=TODAY() + datetime.timedelta(days=1),
        )


# ---- reviews and revisions ----


def test_a_review_needs_every_objective() -> None:
    plan = with_content(TreatmentPlanFactory(), problems=2)
    plan = sign_plan(plan=plan, by=plan.created_by)
    first = plan.objectives.first()
    assert first is not None
    with pytest.raises(ValidationError):
        record_review(
            plan=plan,
            by=plan.created_by,
            reviewed_on=TODAY(),
            decision="continue",
            objectives={first.pk: ("improving", "")},
        )
    assert not plan.reviews.exists()


def test_a_plan_entered_from_paper_keeps_its_signature_date() -> None:
    plan = signed_plan(days_ago=10)
    assert timezone.localdate(plan.signed_at) == TODAY() - datetime.timedelta(10)
    plan.enrollment.refresh_from_db()
    assert plan.enrollment.plan_due_on == TODAY() + datetime.timedelta(days=20)
    with pytest.raises(ValidationError):
        sign_plan(
            plan=with_content(TreatmentPlanFactory()),
            by=plan.created_by,
            signed_at=timezone.now() + datetime.timedelta(hours=1),
        )


def test_a_review_comes_after_the_signature() -> None:
    plan = signed_plan(days_ago=3)
    with pytest.raises(ValidationError) as error:
        review_all(plan, "improving", reviewed_on=TODAY() - datetime.timedelta(4))
    assert "reviewed_on" in error.value.message_dict


def test_a_review_cannot_be_in_the_future() -> None:
    with pytest.raises(ValidationError):
        review_all(
            signed_plan(), "improving", reviewed_on=TODAY() + datetime.timedelta(1)
        )


def test_revise_copies_content_with_latest_reviewed_status() -> None:
    plan = signed_plan(problems=2, days_ago=20)
    review_all(plan, "in_progress", reviewed_on=TODAY() - datetime.timedelta(days=2))
    review_all(plan, "improving")

    draft = revise_plan(plan=plan, by=plan.created_by)

    assert draft.version == 2
    assert draft.status == PlanStatus.DRAFT
    assert draft.discharge_criteria == plan.discharge_criteria
    assert draft.problems.count() == 2
    assert [row.status for row in draft.objectives.all()] == ["improving"] * 2
    assert {row.statement for row in draft.objectives.all()} == {
        row.statement for row in plan.objectives.all()
    }
    # Every copied row has its goal in the draft, not in the signed version.
    assert set(
        PlanObjective.objects.filter(plan=draft).values_list("goal__plan", flat=True)
    ) == {draft.pk}
    assert draft.interventions.count() == 2
    # The copy is in the history like any other change.
    assert draft.problems.first().history.count() == 1  # type: ignore[union-attr]
    # The signed version is untouched and stays in force until v2 is signed.
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SIGNED


def test_signing_the_revision_supersedes_the_old_version() -> None:
    plan = acknowledge_plan(plan=signed_plan(), how="in_person", on=TODAY())
    draft = revise_plan(plan=plan, by=plan.created_by)
    sign_plan(plan=draft, by=draft.created_by)
    plan.refresh_from_db()
    draft.refresh_from_db()
    assert plan.status == PlanStatus.SUPERSEDED
    assert plan.superseded_at is not None
    assert plan.acknowledgement == "in_person"  # the record of it is kept
    assert draft.status == PlanStatus.SIGNED
    assert list(plan.enrollment.treatment_plans.in_force()) == [draft]


def test_one_draft_at_a_time() -> None:
    plan = signed_plan()
    revise_plan(plan=plan, by=plan.created_by)
    with pytest.raises(ValidationError):
        revise_plan(plan=plan, by=plan.created_by)
    with pytest.raises(IntegrityError), transaction.atomic():
        TreatmentPlan.objects.create(
            enrollment=plan.enrollment, version=3, created_by=plan.created_by
        )


def test_a_review_deciding_to_revise_starts_the_next_draft() -> None:
    plan = signed_plan()
    review, draft = review_all(plan, "not_achieved", decision="revise")
    assert draft is not None
    assert draft.version == 2
    assert ObjectiveReview.objects.filter(review=review).count() == 1


def test_start_plan_refuses_a_second_plan() -> None:
    plan = TreatmentPlanFactory()
    with pytest.raises(ValidationError):
        start_plan(enrollment=plan.enrollment, by=plan.created_by)


# ---- parts belong to their plan ----


def test_a_goal_under_another_plans_problem_is_refused() -> None:
    mine = TreatmentPlanFactory()
    other = with_content(TreatmentPlanFactory())
    goal = PlanGoal(plan=mine, problem=other.problems.get(), client_words="x")
    with pytest.raises(ValidationError) as error:
        goal.full_clean()
    assert "problem" in error.value.message_dict


# ---- lost update ----


def test_a_stale_save_of_a_draft_is_refused() -> None:
    plan = TreatmentPlanFactory()
    mine = TreatmentPlan.objects.get(pk=plan.pk)
    theirs = TreatmentPlan.objects.get(pk=plan.pk)
    theirs.strengths = "Theirs"
    theirs.save()
    mine.strengths = "Mine"
    with pytest.raises(StalePlanError):
        mine.save()
    plan.refresh_from_db()
    assert plan.strengths == "Theirs"
    assert plan.row_version == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_saves_of_one_draft_one_wins() -> None:
    """Both read version 1 and save at once: exactly one save lands, the other is
    refused, whatever the timing (the row lock serialises them)."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    plan = TreatmentPlanFactory()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def edit(text: str) -> None:
        try:
            copy = TreatmentPlan.objects.get(pk=plan.pk)
            copy.strengths = text
            barrier.wait()
            copy.save()
            outcomes.append("saved")
        except StalePlanError:
            outcomes.append("refused")
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=edit, args=(t,)) for t in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "saved"]
    plan.refresh_from_db()
    assert plan.row_version == 2


@pytest.mark.postgres
@pytest.mark.parametrize(
    "change",
    [
        {"strengths": "Rewritten by a bulk update"},
        {"discharge_criteria": "Changed"},
        {"signed_at": None, "status": "draft", "signed_by": None},
    ],
)
def test_the_database_refuses_bulk_changes_to_a_signed_plan(
    change: dict[str, Any],
) -> None:
    """A queryset update skips save(): on PostgreSQL a trigger refuses it."""
    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    plan = signed_plan()
    with pytest.raises(IntegrityError), transaction.atomic():
        TreatmentPlan.objects.filter(pk=plan.pk).update(**change)
    with pytest.raises(IntegrityError), transaction.atomic():
        plan.objectives.update(statement="Rewritten")
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanProblem.objects.bulk_create([PlanProblem(plan=plan, statement="Added")])
    # What may change on a signed plan still can.
    TreatmentPlan.objects.filter(pk=plan.pk).update(
        acknowledgement="in_person", acknowledged_on=TODAY(), status="acknowledged"
    )
