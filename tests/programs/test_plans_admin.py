"""Treatment plans in the admin: written, signed, acknowledged, reviewed, revised and
printed by the clinicians of the episode; never edited once signed, never lost to a
colleague's save, never shown outside the caseload, never a 500 (DOMAIN.md s. 3)."""

from __future__ import annotations

import datetime
import threading
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from iopclinic import roles
from iopclinic.models import AccessEvent
from programs.models import (
    Enrollment,
    ObjectiveReview,
    ObjectiveStatus,
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    PlanReview,
    PlanStatus,
    TreatmentPlan,
)
from programs.models.plans import SignedPlanError
from programs.plans import acknowledge_plan, record_review, revise_plan, sign_plan
from tests.admin_forms import form_data
from tests.factories import EnrollmentFactory, TreatmentPlanFactory, with_content

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
DAY = datetime.timedelta(days=1)


def url(name: str, plan: TreatmentPlan | None = None) -> str:
    """An admin URL of the treatment plan admin ("change", "sign", "print"...)."""
    return reverse(
        f"admin:programs_treatmentplan_{name}", args=[plan.pk] if plan else []
    )


def messages_of(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def save_change_form(client: Any, plan: TreatmentPlan, **fields: Any) -> Any:
    """The plan's change page as loaded now, posted back with ``fields`` changed."""
    page = client.get(url("change", plan))
    assert page.status_code == 200
    return client.post(url("change", plan), form_data(page, **fields))


def draft_for(enrollment: Enrollment, problems: int = 1) -> TreatmentPlan:
    """A complete (signable) draft, version 1."""
    author = enrollment.primary_therapist
    plan = TreatmentPlanFactory(
        enrollment=enrollment, **({"created_by": author} if author else {})
    )
    return with_content(plan, problems=problems)


def signed_for(enrollment: Enrollment, problems: int = 1) -> TreatmentPlan:
    plan = draft_for(enrollment, problems)
    return sign_plan(plan=plan, by=enrollment.primary_therapist)


def review_data(
    page: Any,
    *,
    reviewed_on: datetime.date,
    decision: str = "continue",
    statuses: dict[int, str] | None = None,
) -> dict[str, Any]:
    """What the review page posts: the review and one row per objective."""
    progress = page.context["progress"]
    management = progress.management_form
    data: dict[str, Any] = {
        "reviewed_on": reviewed_on.isoformat(),
        "decision": decision,
        "summary": "Sleeping better; attends every group.",
        **{
            management.add_prefix(name): management[name].value()
            for name in management.fields
        },
    }
    for row in progress.forms:
        objective = row["objective"].value()
        data[row.add_prefix("objective")] = objective
        data[row.add_prefix("status")] = (statuses or {}).get(
            objective, row["status"].value()
        )
        data[row.add_prefix("progress_note")] = "Noted."
    return data


def content_of(plan: TreatmentPlan) -> dict[str, Any]:
    """The signed document as stored: its fields and every row of every level."""
    plan = TreatmentPlan.objects.get(pk=plan.pk)
    return {
        "plan": (plan.strengths, plan.client_hopes, plan.discharge_criteria),
        "row_version": plan.row_version,
        "problems": list(plan.problems.values_list("pk", "statement")),
        "goals": list(plan.goals.values_list("pk", "problem_id", "client_words")),
        "objectives": list(
            plan.objectives.values_list("pk", "goal_id", "statement", "status")
        ),
        "interventions": list(
            plan.interventions.values_list("pk", "objective_id", "frequency")
        ),
    }


@pytest.fixture
def therapist(make_staff: Any) -> Any:
    return make_staff(roles.THERAPIST)


@pytest.fixture
def enrollment(therapist: Any) -> Enrollment:
    return EnrollmentFactory(primary_therapist=therapist)


# The plan's life, through the admin


def test_starting_a_plan_opens_the_new_draft(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    """ "Start the plan" (the add page for an enrollment) makes version 1 as a draft,
    started by the therapist, and opens it for writing."""
    client.force_login(therapist)
    add = f"{url('add')}?enrollment={enrollment.pk}"
    page = client.get(add)
    assert page.status_code == 200

    response = client.post(add, form_data(page))

    plan = TreatmentPlan.objects.get(enrollment=enrollment)
    assert (plan.version, plan.status, plan.created_by) == (
        1,
        PlanStatus.DRAFT,
        therapist,
    )
    assert response.status_code == 302
    assert response.url == url("change", plan)


def test_a_therapist_writes_the_plan_level_by_level_and_signs_it(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    """Problem, then a goal for it, an objective for the goal and an intervention for
    the objective, each saved through its inline; the sign page lists what is
    missing until the plan is complete, then signs it as the therapist."""
    plan = TreatmentPlan.objects.create(
        enrollment=enrollment, version=1, created_by=therapist
    )
    client.force_login(therapist)

    missing = client.get(url("sign", plan))
    assert missing.status_code == 200
    assert missing.context["missing"] == [
        "Write the discharge criteria.",
        "Add at least one problem.",
    ]
    assert b'value="Sign the plan"' not in missing.content

    response = save_change_form(
        client,
        plan,
        strengths="Plays guitar; close to her brother.",
        discharge_criteria="PHQ-9 below 10 for two weeks.",
        **{"problems-0-statement": "Depressed mood most days"},
    )
    assert response.status_code == 302
    problem = PlanProblem.objects.get(plan=plan)
    assert problem.statement == "Depressed mood most days"
    assert client.get(url("sign", plan)).context["missing"] == [
        "Give every problem a goal (1 without)."
    ]

    response = save_change_form(
        client,
        plan,
        **{
            "goals-0-problem": problem.pk,
            "goals-0-client_words": "I want to enjoy things again.",
        },
    )
    assert response.status_code == 302
    goal = PlanGoal.objects.get(plan=plan)
    assert goal.problem == problem

    target = TODAY() + 30 * DAY
    response = save_change_form(
        client,
        plan,
        **{
            "objectives-0-goal": goal.pk,
            "objectives-0-statement": "PHQ-9 below 10",
            "objectives-0-target_date": target.isoformat(),
            "objectives-0-status": ObjectiveStatus.IN_PROGRESS,
        },
    )
    assert response.status_code == 302
    objective = PlanObjective.objects.get(plan=plan)
    assert (objective.goal, objective.target_date) == (goal, target)

    response = save_change_form(
        client,
        plan,
        **{
            "interventions-0-objective": objective.pk,
            "interventions-0-service": "group_therapy",
            "interventions-0-frequency": "3x/week",
            "interventions-0-responsible": therapist.pk,
        },
    )
    assert response.status_code == 302
    assert PlanIntervention.objects.get(plan=plan).objective == objective

    ready = client.get(url("sign", plan))
    assert ready.context["missing"] == []
    assert b'value="Sign the plan"' in ready.content

    response = client.post(url("sign", plan))

    assert response.status_code == 302
    assert response.url == url("change", plan)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SIGNED
    assert plan.signed_by == therapist
    assert plan.signed_at is not None
    assert ("success", "Version 1 signed and in force.") in messages_of(response)
    enrollment.refresh_from_db()
    assert enrollment.plan_due_on == TODAY() + 30 * DAY


def test_an_incomplete_draft_is_not_signed(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    """A POST to the sign page of an incomplete draft says what is missing and signs
    nothing."""
    plan = TreatmentPlanFactory(enrollment=enrollment, discharge_criteria="")
    client.force_login(therapist)

    response = client.post(url("sign", plan))

    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    assert plan.signed_at is None
    assert ("error", "Write the discharge criteria.") in messages_of(response)


def test_the_client_acknowledges_in_person(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    """Recording the client's signature makes the plan acknowledged, on that day."""
    plan = signed_for(enrollment)
    client.force_login(therapist)
    assert client.get(url("acknowledge", plan)).status_code == 200

    response = client.post(
        url("acknowledge", plan), {"how": "in_person", "on": TODAY().isoformat()}
    )

    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACKNOWLEDGED
    assert (plan.acknowledgement, plan.acknowledged_on) == ("in_person", TODAY())


def test_a_declined_acknowledgement_needs_the_reason(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    """ "Client declined to sign" without saying why is a field error; with the reason
    it is recorded."""
    plan = signed_for(enrollment)
    client.force_login(therapist)
    declined = {"how": "declined", "on": TODAY().isoformat()}

    response = client.post(
        url("acknowledge", plan), {**declined, "declined_reason": ""}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["declined_reason"] == [
        "Say why the client declined."
    ]
    plan.refresh_from_db()
    assert (plan.status, plan.acknowledgement) == (PlanStatus.SIGNED, "")

    response = client.post(
        url("acknowledge", plan),
        {**declined, "declined_reason": "Wants to read it at home first."},
    )

    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACKNOWLEDGED
    assert plan.acknowledgement == "declined"
    assert plan.declined_reason == "Wants to read it at home first."


def test_a_review_records_every_objective_and_moves_the_due_date(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    """A review a month after signing: each objective's status is kept, and the next
    review falls due a review period after it."""
    plan = sign_plan(
        plan=draft_for(enrollment, problems=2),
        by=therapist,
        signed_at=timezone.now() - 29 * DAY,
    )
    enrollment.refresh_from_db()
    assert enrollment.plan_due_on == TODAY() + DAY
    first, second = plan.objectives.order_by("pk")
    client.force_login(therapist)
    page = client.get(url("review", plan))
    assert page.status_code == 200

    response = client.post(
        url("review", plan),
        review_data(
            page,
            reviewed_on=TODAY(),
            statuses={
                first.pk: ObjectiveStatus.IMPROVING,
                second.pk: ObjectiveStatus.ACHIEVED,
            },
        ),
    )

    assert response.status_code == 302
    assert response.url == url("change", plan)
    review = PlanReview.objects.get(plan=plan)
    assert (review.reviewer, review.reviewed_on, review.decision) == (
        therapist,
        TODAY(),
        "continue",
    )
    assert dict(review.objective_reviews.values_list("objective", "status")) == {
        first.pk: ObjectiveStatus.IMPROVING,
        second.pk: ObjectiveStatus.ACHIEVED,
    }
    enrollment.refresh_from_db()
    assert enrollment.plan_due_on == TODAY() + 30 * DAY
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SIGNED


def test_a_review_deciding_to_revise_opens_the_new_draft(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    """ "Revise the plan" as the review's decision records the review and starts
    version 2 from the statuses just given."""
    plan = signed_for(enrollment)
    objective = plan.objectives.get()
    client.force_login(therapist)
    page = client.get(url("review", plan))

    response = client.post(
        url("review", plan),
        review_data(
            page,
            reviewed_on=TODAY(),
            decision="revise",
            statuses={objective.pk: ObjectiveStatus.DISCONTINUED},
        ),
    )

    v2 = TreatmentPlan.objects.get(enrollment=enrollment, version=2)
    assert response.status_code == 302
    assert response.url == url("change", v2)
    assert PlanReview.objects.get().decision == "revise"
    assert v2.objectives.get().status == ObjectiveStatus.DISCONTINUED


def test_revising_copies_the_plan_with_the_reviewed_statuses(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    """ "Revise" starts version 2 as a draft copy (each objective at its latest reviewed
    status); version 1 stays in force until version 2 is signed, which supersedes
    it."""
    v1 = signed_for(enrollment, problems=2)
    first, second = v1.objectives.order_by("pk")
    record_review(
        plan=v1,
        by=therapist,
        reviewed_on=TODAY(),
        decision="continue",
        objectives={
            first.pk: (ObjectiveStatus.ACHIEVED, ""),
            second.pk: (ObjectiveStatus.NOT_ACHIEVED, ""),
        },
    )
    client.force_login(therapist)
    assert client.get(url("revise", v1)).status_code == 200

    response = client.post(url("revise", v1))

    v2 = TreatmentPlan.objects.get(enrollment=enrollment, version=2)
    assert response.status_code == 302
    assert response.url == url("change", v2)
    assert v2.status == PlanStatus.DRAFT
    assert v2.created_by == therapist
    assert (v2.strengths, v2.client_hopes, v2.discharge_criteria) == (
        v1.strengths,
        v1.client_hopes,
        v1.discharge_criteria,
    )
    assert list(v2.problems.values_list("statement", flat=True)) == list(
        v1.problems.values_list("statement", flat=True)
    )
    assert list(v2.goals.values_list("client_words", flat=True)) == list(
        v1.goals.values_list("client_words", flat=True)
    )
    assert list(v2.objectives.values_list("statement", "status")) == [
        (first.statement, ObjectiveStatus.ACHIEVED),
        (second.statement, ObjectiveStatus.NOT_ACHIEVED),
    ]
    assert v2.interventions.count() == 2
    v1.refresh_from_db()
    assert v1.status == PlanStatus.SIGNED

    response = client.post(url("sign", v2))

    assert response.status_code == 302
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert v2.status == PlanStatus.SIGNED
    assert v1.status == PlanStatus.SUPERSEDED
    assert v1.superseded_at == v2.signed_at


def test_the_print_view_shows_the_whole_plan_and_is_audited(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    """The printable plan has every level's text, nested, and the print is logged."""
    plan = signed_for(enrollment, problems=2)
    client.force_login(therapist)

    response = client.get(url("print", plan))

    assert response.status_code == 200
    html = response.content.decode()
    position = 0
    for n in (0, 1):
        for text in (
            f"Problem {n + 1}: Low mood {n}",
            f"Goal {n + 1}.1, in the client's words: “I want to feel like me {n}”",
            f"Attend 3 groups a week and PHQ-9 below 10 ({n})",
            f"Group therapy, 3x/week ({therapist})",
        ):
            found = html.find(text, position)
            assert found > position, text
            position = found
    assert plan.discharge_criteria in html
    assert AccessEvent.objects.filter(
        user=therapist,
        action=AccessEvent.Action.PRINT,
        app_label="programs",
        model_name="treatmentplan",
        object_id=str(plan.pk),
        outcome=AccessEvent.Outcome.SHOWN,
    ).exists()


# A signed plan is never edited


def test_a_signed_plans_page_is_read_only(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    """No editable field, no empty row to add content, no delete box."""
    plan = signed_for(enrollment)
    client.force_login(therapist)

    response = client.get(url("change", plan))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Supportive sister; keeps a journal." in html
    assert "Low mood 0" in html
    assert 'name="strengths"' not in html
    assert 'name="discharge_criteria"' not in html
    assert "<textarea" not in html
    assert "<select" not in html
    assert "__prefix__" not in html
    assert 'name="_save"' not in html
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        assert (formset.extra, formset.can_delete) == (0, False)
        assert len(formset.forms) == 1


def test_a_crafted_post_to_a_signed_plan_changes_nothing(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    """The draft's form, edited and posted after the plan was signed, is refused
    (403) and neither the plan nor any of its rows changes."""
    plan = draft_for(enrollment)
    client.force_login(therapist)
    draft_page = client.get(url("change", plan))
    sign_plan(plan=plan, by=therapist)
    before = content_of(plan)

    response = client.post(
        url("change", plan),
        form_data(
            draft_page,
            loaded_version=before["row_version"],
            strengths="Edited after signing",
            discharge_criteria="Edited after signing",
            **{
                "problems-0-statement": "Edited after signing",
                "goals-0-client_words": "Edited after signing",
                "objectives-0-status": ObjectiveStatus.ACHIEVED,
                "interventions-0-frequency": "daily",
            },
        ),
    )

    assert response.status_code == 403
    assert content_of(plan) == before


def test_a_crafted_post_cannot_add_a_problem_to_a_signed_plan(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    """A new inline row posted to a signed plan is refused: it gets no new problem."""
    plan = draft_for(enrollment)
    client.force_login(therapist)
    data = form_data(client.get(url("change", plan)))
    sign_plan(plan=plan, by=therapist)
    before = content_of(plan)

    response = client.post(
        url("change", plan),
        {
            **data,
            "loaded_version": before["row_version"],
            "problems-TOTAL_FORMS": 3,
            "problems-2-statement": "Added after signing",
            "problems-2-plan": plan.pk,
            "problems-2-id": "",
        },
    )

    assert response.status_code == 403
    assert content_of(plan) == before


def test_the_drafts_form_cannot_reach_the_signed_versions_rows(
    client: Any, therapist: Any, episode: dict[str, TreatmentPlan]
) -> None:
    """On version 2's page, a row crafted to belong to version 1 (a new problem for
    it, or one of its problems by id) changes neither version."""
    v1, v2 = episode["in_force"], episode["draft"]
    before = content_of(v1)
    signed_problem = v1.problems.get()
    client.force_login(therapist)
    page = client.get(url("change", v2))
    draft_problem = v2.problems.get()

    added = client.post(
        url("change", v2),
        form_data(
            page,
            **{"problems-1-statement": "Added to v1", "problems-1-plan": v1.pk},
        ),
    )
    edited = client.post(
        url("change", v2),
        form_data(
            page,
            **{
                "problems-0-id": signed_problem.pk,
                "problems-0-statement": "Edited through v2",
            },
        ),
    )

    assert added.status_code == 200
    [problems] = [
        inline.formset
        for inline in added.context["inline_admin_formsets"]
        if inline.formset.prefix == "problems"
    ]
    assert problems.errors[1]["plan"] == [
        "The inline value did not match the parent instance."
    ]
    # Another plan's row id is not one of this formset's rows: Django drops it.
    assert edited.status_code in (200, 302)
    assert content_of(v1) == before
    draft_problem.refresh_from_db()
    assert draft_problem.statement == signed_problem.statement
    assert v2.problems.count() == 1


def test_the_model_refuses_any_edit_of_a_signed_plan(
    therapist: Any, enrollment: Enrollment
) -> None:
    """Whoever calls save() or delete(): a signed plan and its rows do not change."""
    plan = signed_for(enrollment)
    before = content_of(plan)
    problem = plan.problems.get()

    plan.strengths = "Edited after signing"
    with pytest.raises(SignedPlanError) as refused:
        plan.save()
    assert isinstance(refused.value, ValidationError)
    with pytest.raises(SignedPlanError):
        plan.save(update_fields=["strengths"])
    problem.statement = "Edited after signing"
    with pytest.raises(SignedPlanError):
        problem.save()
    with pytest.raises(SignedPlanError):
        PlanProblem(plan=plan, statement="Added after signing").save()
    with pytest.raises(SignedPlanError):
        plan.interventions.get().delete()
    with pytest.raises(SignedPlanError):
        problem.delete()
    with pytest.raises(ValidationError):
        plan.delete()
    assert content_of(plan) == before


def test_acknowledgement_and_supersession_still_change_a_signed_plan(
    therapist: Any, enrollment: Enrollment
) -> None:
    """The two things that may happen to a signed plan still happen."""
    v1 = signed_for(enrollment)
    content = content_of(v1)

    acknowledge_plan(plan=v1, how="in_person", on=TODAY())
    v2 = revise_plan(plan=v1, by=therapist)
    sign_plan(plan=v2, by=therapist)

    v1.refresh_from_db()
    assert v1.status == PlanStatus.SUPERSEDED
    assert v1.acknowledgement == "in_person"
    assert {**content_of(v1), "row_version": None} == {**content, "row_version": None}


def test_signing_a_signed_plan_again_changes_nothing(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    """A second POST to the sign page keeps the first signature and its time."""
    plan = signed_for(enrollment)
    signed_at = plan.signed_at
    client.force_login(therapist)
    page = client.get(url("sign", plan))
    assert b"Version 1 is already signed, by" in page.content
    assert b'value="Sign the plan"' not in page.content

    response = client.post(url("sign", plan))

    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.signed_at == signed_at
    assert ("error", "Only a draft can be signed.") in messages_of(response)


def test_a_superuser_cannot_edit_a_signed_plan_either(
    client: Any, superuser: Any, enrollment: Enrollment
) -> None:
    """The superuser's change POST is refused (403), its history-version POST changes
    nothing (never a 500), and deleting the plan is refused."""
    plan = draft_for(enrollment)
    client.force_login(superuser)
    draft_page = client.get(url("change", plan))
    sign_plan(plan=plan, by=enrollment.primary_therapist)
    before = content_of(plan)
    data = form_data(
        draft_page,
        loaded_version=before["row_version"],
        strengths="Edited after signing",
    )

    assert client.post(url("change", plan), data).status_code == 403
    version = reverse(
        "admin:programs_treatmentplan_simple_history",
        args=[plan.pk, plan.history.earliest().history_id],
    )
    assert client.post(version, data).status_code == 403
    assert client.get(url("delete", plan)).status_code == 403
    assert client.post(url("delete", plan), {"post": "yes"}).status_code == 403
    assert content_of(plan) == before


def test_a_history_version_page_is_only_read(
    client: Any, make_staff: Any, enrollment: Enrollment
) -> None:
    """A POST to a draft's version page (simple_history's "revert") by someone who
    may only read the plan changes nothing."""
    plan = draft_for(enrollment)
    TreatmentPlan.objects.filter(pk=plan.pk).update(strengths="Current text")
    manager = make_staff(roles.PROGRAM_MANAGER)
    client.force_login(manager)
    version = reverse(
        "admin:programs_treatmentplan_simple_history",
        args=[plan.pk, plan.history.earliest().history_id],
    )
    page = client.get(version)
    assert page.status_code == 200

    response = client.post(version, {"loaded_version": plan.row_version})

    assert response.status_code == 403
    plan.refresh_from_db()
    assert plan.strengths == "Current text"
    assert plan.updated_by is None


def test_a_reviews_version_page_is_only_read(
    client: Any, therapist: Any, episode: dict[str, TreatmentPlan]
) -> None:
    """Reviews are kept as written: their version page cannot be posted either."""
    review = PlanReview.objects.get()
    PlanReview.objects.filter(pk=review.pk).update(summary="As written")
    client.force_login(therapist)
    version = reverse(
        "admin:programs_planreview_simple_history",
        args=[review.pk, review.history.earliest().history_id],
    )
    assert client.get(version).status_code == 200

    assert client.post(version, {}).status_code == 403
    review.refresh_from_db()
    assert review.summary == "As written"


# Two editors of one draft


def test_a_stale_form_does_not_overwrite_a_colleagues_save(
    client: Any, make_staff: Any, therapist: Any, enrollment: Enrollment
) -> None:
    """A and B open the same draft; A saves; B's save of the page A's change made
    stale is refused with a "reload" message, and A's text stays."""
    colleague = make_staff(roles.THERAPIST)
    enrollment.co_therapists.add(colleague)
    plan = draft_for(enrollment)
    client.force_login(therapist)
    page_a = client.get(url("change", plan))
    other = Client()
    other.force_login(colleague)
    page_b = other.get(url("change", plan))

    saved = client.post(
        url("change", plan), form_data(page_a, strengths="A: walks the dog daily.")
    )
    assert saved.status_code == 302

    response = other.post(
        url("change", plan),
        form_data(
            page_b,
            strengths="B: likes to cook.",
            **{"problems-0-statement": "B's problem"},
        ),
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert f"This plan was changed by {therapist}" in html
    assert "Reload the page" in html
    plan.refresh_from_db()
    assert plan.strengths == "A: walks the dog daily."
    assert plan.updated_by == therapist
    assert plan.problems.get().statement == "Low mood 0"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_saves_of_one_draft_one_wins(make_staff: Any) -> None:
    """A and B post their forms at the same moment: one lands, the other is told to
    reload (never both, never a 500), whatever the timing."""
    therapist, colleague = make_staff(roles.THERAPIST), make_staff(roles.THERAPIST)
    enrollment = EnrollmentFactory(primary_therapist=therapist)
    enrollment.co_therapists.add(colleague)
    plan = draft_for(enrollment)
    editors = []
    for user in (therapist, colleague):
        editor = Client()
        editor.force_login(user)
        page = editor.get(url("change", plan))
        editors.append((editor, form_data(page, strengths=f"By {user}")))
    barrier = threading.Barrier(2)
    responses: dict[str, Any] = {}

    def save(editor: Client, data: dict[str, Any]) -> None:
        try:
            barrier.wait()
            responses[data["strengths"]] = editor.post(url("change", plan), data)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=pair) for pair in editors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = {text: response.status_code for text, response in responses.items()}
    assert sorted(statuses.values()) == [200, 302]
    [winner] = [text for text, status in statuses.items() if status == 302]
    [loser] = [text for text, status in statuses.items() if status == 200]
    assert "Reload the page" in responses[loser].content.decode()
    plan.refresh_from_db()
    assert plan.strengths == winner
    assert plan.row_version == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_starts_make_one_plan(make_staff: Any) -> None:
    """Two clinicians press "Start the plan" for one enrollment at once: one plan is
    started, the other is told the enrollment has one (never a 500)."""
    therapist, colleague = make_staff(roles.THERAPIST), make_staff(roles.THERAPIST)
    enrollment = EnrollmentFactory(primary_therapist=therapist)
    enrollment.co_therapists.add(colleague)
    add = f"{url('add')}?enrollment={enrollment.pk}"
    editors = []
    for user in (therapist, colleague):
        editor = Client()
        editor.force_login(user)
        editors.append((editor, form_data(editor.get(add))))
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def start(editor: Client, data: dict[str, Any]) -> None:
        try:
            barrier.wait()
            statuses.append(editor.post(add, data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=start, args=pair) for pair in editors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 302]
    assert TreatmentPlan.objects.filter(enrollment=enrollment).count() == 1


def test_a_form_without_the_loaded_version_is_refused(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    """A POST that does not say which version it edits cannot overwrite anything."""
    plan = draft_for(enrollment)
    client.force_login(therapist)
    page = client.get(url("change", plan))

    response = client.post(
        url("change", plan), form_data(page, loaded_version=None, strengths="X")
    )

    assert response.status_code == 200
    assert "Reload the page" in response.content.decode()
    plan.refresh_from_db()
    assert plan.strengths == "Supportive sister; keeps a journal."


# Only the episode's clinicians reach its plan


PLAN_ROUTES = [
    "change",
    "history",
    "version",
    "delete",
    "sign",
    "acknowledge",
    "review",
    "revise",
    "print",
]


def route(name: str, plan: TreatmentPlan) -> str:
    if name == "version":
        return reverse(
            "admin:programs_treatmentplan_simple_history",
            args=[plan.pk, plan.history.earliest().history_id],
        )
    return url(name, plan)


def refused(response: Any) -> bool:
    """403 or 404: never the page, nor the admin's "does not exist" redirect (which
    the audit would log as a completed change when posted)."""
    return response.status_code in (403, 404)


@pytest.fixture
def episode(therapist: Any, enrollment: Enrollment) -> dict[str, TreatmentPlan]:
    """Version 1 in force, reviewed, and version 2 in draft."""
    v1 = signed_for(enrollment)
    record_review(
        plan=v1,
        by=therapist,
        reviewed_on=TODAY(),
        decision="continue",
        summary="Sleeping better.",
        objectives={v1.objectives.get().pk: (ObjectiveStatus.IMPROVING, "")},
    )
    v2 = revise_plan(plan=v1, by=therapist)
    return {"in_force": v1, "draft": v2}


@pytest.mark.parametrize("name", PLAN_ROUTES)
def test_a_therapist_outside_the_episode_reaches_none_of_its_plan_pages(
    client: Any, make_staff: Any, episode: dict[str, TreatmentPlan], name: str
) -> None:
    """Every route of either version, read or posted, is refused, the audit says
    so, and nothing changes."""
    stranger = make_staff(roles.THERAPIST)
    client.force_login(stranger)
    before = {key: content_of(plan) for key, plan in episode.items()}

    for plan in episode.values():
        page = route(name, plan)
        assert refused(client.get(page)), (name, plan)
        posted = {
            "strengths": "Stranger",
            "how": "in_person",
            "on": TODAY().isoformat(),
            "post": "yes",
            "loaded_version": plan.row_version,
        }
        assert refused(client.post(page, posted)), (name, plan)

    assert {key: content_of(plan) for key, plan in episode.items()} == before
    # The plan pages' events (force_login's sign-in is an event of its own).
    audit = AccessEvent.objects.filter(user=stranger, app_label="programs")
    assert audit.count() == 4
    assert set(audit.values_list("outcome", flat=True)) == {AccessEvent.Outcome.REFUSED}
    plans = TreatmentPlan.objects.filter(enrollment=episode["draft"].enrollment)
    assert list(plans.values_list("version", "status", "acknowledgement")) == [
        (2, PlanStatus.DRAFT, ""),
        (1, PlanStatus.SIGNED, ""),
    ]
    assert PlanReview.objects.count() == 1


def test_a_therapist_outside_the_episode_does_not_find_its_plans(
    client: Any, make_staff: Any, episode: dict[str, TreatmentPlan]
) -> None:
    """Neither the plan list, the review list, a search by the client's name nor
    the enrollment picker shows another caseload's client."""
    enrollment = episode["draft"].enrollment
    last_name = enrollment.client.last_name
    own = EnrollmentFactory(primary_therapist=make_staff(roles.THERAPIST))
    own_plan = draft_for(own)
    stranger = own.primary_therapist
    client.force_login(stranger)

    plans = client.get(url("changelist"), {"q": last_name})
    assert plans.status_code == 200
    assert list(plans.context["cl"].result_list) == []
    plans = client.get(url("changelist"))
    assert list(plans.context["cl"].result_list) == [own_plan]
    reviews = client.get(reverse("admin:programs_planreview_changelist"))
    assert reviews.status_code == 200
    assert list(reviews.context["cl"].result_list) == []

    autocomplete = "/admin/autocomplete/"
    query = {
        "app_label": "programs",
        "model_name": "treatmentplan",
        "field_name": "enrollment",
        "term": last_name,
    }
    found = client.get(autocomplete, query)
    assert found.status_code == 200
    assert found.json()["results"] == []
    mine = client.get(autocomplete, {**query, "term": own.client.last_name})
    assert [row["id"] for row in mine.json()["results"]] == [str(own.pk)]
    client.force_login(enrollment.primary_therapist)
    theirs = client.get(autocomplete, query)
    assert [row["id"] for row in theirs.json()["results"]] == [str(enrollment.pk)]


@pytest.mark.parametrize("name", ["change", "history", "version", "delete"])
def test_a_therapist_outside_the_episode_reaches_none_of_its_reviews(
    client: Any, make_staff: Any, episode: dict[str, TreatmentPlan], name: str
) -> None:
    """The review of another caseload's plan is not shown on any of its routes."""
    review = PlanReview.objects.get()
    if name == "version":
        page = reverse(
            "admin:programs_planreview_simple_history",
            args=[review.pk, review.history.earliest().history_id],
        )
    else:
        page = reverse(f"admin:programs_planreview_{name}", args=[review.pk])
    client.force_login(episode["draft"].enrollment.primary_therapist)
    # The episode's therapist reads it (and, like every role, may not delete it).
    assert client.get(page).status_code == (403 if name == "delete" else 200)
    client.force_login(make_staff(roles.THERAPIST))

    assert refused(client.get(page))
    assert refused(client.post(page, {"post": "yes", "summary": "Stranger"}))
    review.refresh_from_db()
    assert review.summary == "Sleeping better."


@pytest.mark.parametrize("role", ["co_therapist", "psychiatrist"])
def test_the_episodes_other_clinicians_read_its_plan(
    client: Any, make_staff: Any, episode: dict[str, TreatmentPlan], role: str
) -> None:
    """The co-therapist and the psychiatrist of the episode open and print it; the
    therapists sign, the psychiatrist does not."""
    enrollment = episode["draft"].enrollment
    if role == "co_therapist":
        user = make_staff(roles.THERAPIST)
        enrollment.co_therapists.add(user)
    else:
        user = make_staff(roles.PSYCHIATRIST)
        Enrollment.objects.filter(pk=enrollment.pk).update(psychiatrist=user)
    client.force_login(user)

    for plan in episode.values():
        assert client.get(url("change", plan)).status_code == 200
        assert client.get(url("history", plan)).status_code == 200
        assert client.get(url("print", plan)).status_code == 200
    plans = client.get(url("changelist"))
    assert set(plans.context["cl"].result_list) == set(episode.values())
    signing = client.get(url("sign", episode["draft"])).status_code
    assert signing == (200 if role == "co_therapist" else 403)


def test_a_program_manager_reads_plans_but_changes_none(
    client: Any, make_staff: Any, episode: dict[str, TreatmentPlan]
) -> None:
    """Every plan in the clinic is readable (and printable) by the manager; a save,
    a signature, an acknowledgement, a review or a revision is refused."""
    client.force_login(make_staff(roles.PROGRAM_MANAGER))
    draft, in_force = episode["draft"], episode["in_force"]
    before = {key: content_of(plan) for key, plan in episode.items()}

    page = client.get(url("change", draft))
    assert page.status_code == 200
    assert 'name="strengths"' not in page.content.decode()
    assert client.get(url("print", in_force)).status_code == 200
    assert client.get(url("history", draft)).status_code == 200
    assert (
        client.get(reverse("admin:programs_planreview_changelist")).status_code == 200
    )

    assert (
        client.post(
            url("change", draft), form_data(page, strengths="Manager")
        ).status_code
        == 403
    )
    for name in ("sign", "acknowledge", "review", "revise"):
        for plan in (draft, in_force):
            assert client.get(url(name, plan)).status_code == 403, name
            assert client.post(url(name, plan), {}).status_code == 403, name
    assert client.get(url("add")).status_code == 403

    assert {key: content_of(plan) for key, plan in episode.items()} == before
    assert PlanReview.objects.count() == 1
    assert TreatmentPlan.objects.count() == 2


@pytest.mark.parametrize("name", [*PLAN_ROUTES, "changelist", "add"])
def test_an_intake_coordinator_reaches_no_plan_page(
    client: Any, coordinator: Any, episode: dict[str, TreatmentPlan], name: str
) -> None:
    """Intake sees every enrollment, but no treatment plan: 403 on every route."""
    client.force_login(coordinator)

    for plan in episode.values():
        page = url(name) if name in ("changelist", "add") else route(name, plan)
        assert client.get(page).status_code == 403
        assert client.post(page, {"strengths": "Intake"}).status_code == 403


# Bad input: a message on the page, never a 500


def test_a_review_dated_in_the_future_is_a_field_error(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    plan = signed_for(enrollment)
    client.force_login(therapist)
    page = client.get(url("review", plan))

    response = client.post(
        url("review", plan), review_data(page, reviewed_on=TODAY() + DAY)
    )

    assert response.status_code == 200
    assert response.context["form"].errors["reviewed_on"] == [
        "A review cannot be in the future."
    ]
    assert not PlanReview.objects.exists()


def test_a_review_before_the_signature_is_a_field_error(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    plan = signed_for(enrollment)
    client.force_login(therapist)
    page = client.get(url("review", plan))

    response = client.post(
        url("review", plan), review_data(page, reviewed_on=TODAY() - DAY)
    )

    assert response.status_code == 200
    assert response.context["form"].errors["reviewed_on"] == [
        "A review comes after the plan was signed."
    ]
    assert not PlanReview.objects.exists()


def test_a_review_that_does_not_match_the_plans_objectives_records_nothing(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    """Rows missing, an objective of another plan, a status not on the list: each
    is a message, and no review is written."""
    plan = signed_for(enrollment, problems=2)
    foreign = draft_for(EnrollmentFactory(primary_therapist=therapist))
    client.force_login(therapist)
    page = client.get(url("review", plan))
    data = review_data(page, reviewed_on=TODAY())

    one_row = client.post(url("review", plan), {**data, "form-TOTAL_FORMS": 1})
    assert one_row.status_code == 302
    assert ("error", "The plan changed: review it again.") in messages_of(one_row)

    crafted = {**data, "form-1-objective": foreign.objectives.get().pk}
    response = client.post(url("review", plan), crafted)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Give a status for every objective of the plan."
    ]

    response = client.post(url("review", plan), {**data, "form-0-status": "cured"})
    assert response.status_code == 200
    assert "cured is not one of the available choices" in response.content.decode()

    assert not PlanReview.objects.exists()
    assert not ObjectiveReview.objects.exists()


def test_reviewing_a_draft_is_a_message(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    plan = draft_for(enrollment)
    client.force_login(therapist)
    page = client.get(url("review", plan))

    response = client.post(url("review", plan), review_data(page, reviewed_on=TODAY()))

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Only the plan in force is reviewed."
    ]
    assert not PlanReview.objects.exists()


@pytest.mark.parametrize(
    ("on", "error"),
    [
        (-1, "The client acknowledges after the signature."),
        (1, "The acknowledgement cannot be in the future."),
    ],
)
def test_an_acknowledgement_outside_signature_to_today_is_a_field_error(
    client: Any, therapist: Any, enrollment: Enrollment, on: int, error: str
) -> None:
    plan = signed_for(enrollment)
    client.force_login(therapist)

    response = client.post(
        url("acknowledge", plan),
        {"how": "in_person", "on": (TODAY() + on * DAY).isoformat()},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["on"] == [error]
    plan.refresh_from_db()
    assert (plan.status, plan.acknowledgement) == (PlanStatus.SIGNED, "")


def test_acknowledging_a_draft_is_a_message(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    plan = draft_for(enrollment)
    client.force_login(therapist)

    response = client.post(
        url("acknowledge", plan), {"how": "in_person", "on": TODAY().isoformat()}
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Only a signed plan awaiting the client is acknowledged."
    ]
    plan.refresh_from_db()
    assert plan.acknowledgement == ""


def test_a_second_revision_is_a_message(
    client: Any, therapist: Any, episode: dict[str, TreatmentPlan]
) -> None:
    """While version 2 is in draft, "Revise" on version 1 says so and adds none."""
    client.force_login(therapist)

    response = client.post(url("revise", episode["in_force"]))

    assert response.status_code == 302
    assert ("error", "A revision is already in draft: open that one.") in messages_of(
        response
    )
    assert TreatmentPlan.objects.count() == 2


def test_a_goal_cannot_hang_from_another_plans_problem(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    """A crafted problem id of another client's plan is not a valid choice; nothing
    is saved."""
    plan = TreatmentPlanFactory(enrollment=enrollment, created_by=therapist)
    PlanProblem.objects.create(plan=plan, statement="Own problem")
    other = draft_for(EnrollmentFactory())
    client.force_login(therapist)

    response = save_change_form(
        client,
        plan,
        strengths="Changed with the goal",
        **{
            "goals-0-problem": other.problems.get().pk,
            "goals-0-client_words": "Crafted",
        },
    )

    assert response.status_code == 200
    [goal_errors] = [
        inline.formset.errors
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == "goals"
    ]
    assert "Select a valid choice" in str(goal_errors[0]["problem"])
    assert not PlanGoal.objects.filter(plan=plan).exists()
    assert other.goals.count() == 1
    plan.refresh_from_db()
    assert plan.strengths == "Supportive sister; keeps a journal."


def test_a_problem_with_goals_is_not_removed(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    """Ticking "delete" on a problem that still has a goal is an error on the page;
    the problem and its goal stay."""
    plan = draft_for(enrollment)
    client.force_login(therapist)
    before = content_of(plan)

    response = save_change_form(client, plan, **{"problems-0-DELETE": "on"})

    assert response.status_code == 200
    html = response.content.decode()
    assert (
        "Deleting problem Problem: Low mood 0 would require deleting the following "
        "protected related objects: goal Goal: I want to feel like me 0"
    ) in html
    assert content_of(plan) == before


def test_a_second_plan_for_an_enrollment_is_a_field_error(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    """ "Start the plan" again for an enrollment that has one says so."""
    draft_for(enrollment)
    client.force_login(therapist)
    add = f"{url('add')}?enrollment={enrollment.pk}"

    response = client.post(add, form_data(client.get(add)))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["enrollment"] == [
        "This enrollment already has a treatment plan: open it, or revise it."
    ]
    assert TreatmentPlan.objects.count() == 1


@pytest.mark.parametrize("enrollment_id", ["abc", "1.5", "²", "999999", ""])
def test_a_mangled_start_link_shows_an_empty_add_page(
    client: Any, therapist: Any, enrollment_id: str
) -> None:
    """An enrollment id that is not one (a cut link) is ignored, not a 500."""
    client.force_login(therapist)

    response = client.get(url("add"), {"enrollment": enrollment_id})

    assert response.status_code == 200
    assert response.context["adminform"].form["enrollment"].value() in (None, "999999")


def test_a_plan_is_started_only_in_ones_own_caseload(
    client: Any, therapist: Any
) -> None:
    """Another therapist's enrollment id on the add page is not a valid choice."""
    other = EnrollmentFactory()
    client.force_login(therapist)
    add = f"{url('add')}?enrollment={other.pk}"

    response = client.post(add, form_data(client.get(add)))

    assert response.status_code == 200
    assert "Select a valid choice" in str(
        response.context["adminform"].form.errors["enrollment"]
    )
    assert not TreatmentPlan.objects.exists()


def test_deleting_a_plan_is_refused_even_to_the_superuser(
    client: Any, superuser: Any, enrollment: Enrollment
) -> None:
    """Plans are kept: the delete page of a new, empty draft is a 403, not an error
    page from the model's refusal."""
    plan = TreatmentPlanFactory(enrollment=enrollment)
    client.force_login(superuser)

    assert client.get(url("delete", plan)).status_code == 403
    assert client.post(url("delete", plan), {"post": "yes"}).status_code == 403
    assert TreatmentPlan.objects.filter(pk=plan.pk).exists()


# Pages cost the same whatever the plan's size


def queries_for(client: Any, page: str) -> int:
    client.get(page)  # warm per-process caches (content types, permissions)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page)
    assert response.status_code == 200, page
    return len(queries)


@pytest.mark.parametrize(
    ("page", "signed"),
    [
        ("change", False),
        ("change", True),
        ("print", True),
        ("review", True),
        ("sign", False),
        ("acknowledge", True),
        ("revise", True),
    ],
)
def test_plan_pages_run_as_many_queries_for_20_problems_as_for_2(
    client: Any, make_staff: Any, page: str, signed: bool
) -> None:
    """Each problem brings a goal, an objective and an intervention: no page runs a
    query per row (nor per select of a row)."""
    counts = []
    for problems in (2, 20):
        therapist = make_staff(roles.THERAPIST)
        plan = draft_for(EnrollmentFactory(primary_therapist=therapist), problems)
        if signed:
            plan = sign_plan(plan=plan, by=therapist)
            objectives = plan.objectives.all()
            record_review(
                plan=plan,
                by=therapist,
                reviewed_on=TODAY(),
                decision="continue",
                objectives={
                    row.pk: (ObjectiveStatus.IMPROVING, "") for row in objectives
                },
            )
        client.force_login(therapist)
        counts.append(queries_for(client, url(page, plan)))

    assert counts[0] == counts[1]


def test_each_rows_select_shows_its_own_parent(
    client: Any, therapist: Any, enrollment: Enrollment
) -> None:
    """The choices read once per level still mark each row's own parent."""
    plan = draft_for(enrollment, problems=2)
    client.force_login(therapist)

    response = client.get(url("change", plan))

    html = response.content.decode()
    for index, goal in enumerate(plan.goals.order_by("pk")):
        select = html.split(f'name="goals-{index}-problem"')[1].split("</select>")[0]
        assert f'<option value="{goal.problem_id}" selected>' in select
        assert select.count("selected") == 1
        assert select.count("<option") == 3  # the blank and the plan's 2 problems


# Work that falls due


def test_an_overdue_plan_is_counted_and_listed_for_its_therapist(
    client: Any, therapist: Any
) -> None:
    """The index counts the therapist's overdue plan work, and the filters behind
    it list the overdue and the soon-due enrollments."""
    overdue = EnrollmentFactory(
        primary_therapist=therapist, plan_due_on=TODAY() - 2 * DAY
    )
    soon = EnrollmentFactory(primary_therapist=therapist, plan_due_on=TODAY() + 3 * DAY)
    EnrollmentFactory(primary_therapist=therapist, plan_due_on=TODAY() + 20 * DAY)
    EnrollmentFactory(plan_due_on=TODAY() - 2 * DAY)  # a colleague's
    plan = draft_for(overdue)
    client.force_login(therapist)

    index = client.get(reverse("admin:index"))

    assert index.status_code == 200
    work = {item.label: item for item in index.context["todays_work"]}
    late = work["Treatment plans or reviews overdue"]
    assert late.count == 1
    assert late.urgent
    assert work["Treatment plans or reviews due in the next 7 days"].count == 1
    enrollments = client.get(late.url)
    assert late.url == (
        reverse("admin:programs_enrollment_changelist") + "?plan_due=overdue"
    )
    assert list(enrollments.context["cl"].result_list) == [overdue]
    due_soon = client.get(
        reverse("admin:programs_enrollment_changelist"), {"plan_due": "soon"}
    )
    assert list(due_soon.context["cl"].result_list) == [soon]
    plans = client.get(url("changelist"), {"due": "overdue"})
    assert list(plans.context["cl"].result_list) == [plan]
