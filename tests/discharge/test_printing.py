"""The printed discharge plan: the client's own complete copy, and referral copies
that carry substance-use treatment information only under a current consent naming
that provider, with the 42 CFR Part 2 redisclosure notice (DOMAIN.md sections 5
and 7). Every print is an access event."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from discharge import printing
from discharge.models import AftercareReferral, Amendment, DischargePlan
from discharge.workflows import discharge_client, finalise_plan, start_discharge_plan
from intake.models import Consent, PresentingConcern
from iopclinic import roles
from iopclinic.models import AccessEvent
from programs.models import (
    ObjectiveReview,
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    PlanReview,
    TreatmentPlan,
)
from programs.plans import sign_plan
from tests.factories import (
    ConsentFactory,
    EnrollmentFactory,
    StaffFactory,
    TreatmentPlanFactory,
    with_content,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
ORGANISATION = "Riverside Counselling"
# What the plan says about substance use: none of it may reach a provider without
# a consent naming them.
SUBSTANCE_USE = [
    "Drinks to fall asleep since the layoff",
    "I want to stay sober at weekends",
    "Two mutual-help meetings a week",
    "Secondary substance use, in recovery",
]
MENTAL_HEALTH = "Low mood 0"
INTERNAL = [
    "Staff only: met criteria, payer review pending",
    "Staff only: three calls unanswered",
    "Staff only: typo in the first version",
]


def add_substance_use_problem(plan: TreatmentPlan) -> PlanObjective:
    concern, _ = PresentingConcern.objects.get_or_create(
        code=printing.SUBSTANCE_USE_CONCERN,
        defaults={"name": "Secondary substance use, in recovery"},
    )
    problem = PlanProblem.objects.create(
        plan=plan, statement=SUBSTANCE_USE[0], concern=concern
    )
    goal = PlanGoal.objects.create(
        plan=plan, problem=problem, client_words=SUBSTANCE_USE[1]
    )
    objective = PlanObjective.objects.create(
        plan=plan,
        goal=goal,
        statement=SUBSTANCE_USE[2],
        target_date=TODAY() + datetime.timedelta(days=30),
    )
    PlanIntervention.objects.create(
        plan=plan,
        objective=objective,
        service="individual_therapy",
        frequency="weekly",
        responsible=plan.created_by,
    )
    return objective


def make_plan(
    therapist: Any = None,
    *,
    problems: int = 1,
    signed: bool = True,
    substance_use: bool = True,
) -> DischargePlan:
    """A signed treatment plan with a mental-health and a substance-use problem, and
    a discharge plan with one scheduled referral and a relapse plan."""
    therapist = therapist or StaffFactory()
    enrollment = EnrollmentFactory(primary_therapist=therapist)
    treatment = with_content(
        TreatmentPlanFactory(enrollment=enrollment, created_by=therapist),
        problems=problems,
    )
    if substance_use:
        add_substance_use_problem(treatment)
    if signed:
        sign_plan(plan=treatment, by=therapist)
    plan = start_discharge_plan(enrollment=enrollment, by=therapist)
    for name, value in {
        "planned_on": TODAY() + datetime.timedelta(days=3),
        "intended_reason": INTERNAL[0],
        "outreach_attempts": INTERNAL[1],
        "client_agreed_on": TODAY(),
        "course_summary": "Sleeping through most nights; back at work part time.",
        "current_medications": "Sertraline 100 mg, morning\nMelatonin 3 mg, night",
        "continuing_prescriber": "Dr Avery, Riverside Primary Care",
        "supply_until": TODAY() + datetime.timedelta(days=30),
        "warning_signs": "Sleeping past noon\nSkipping meals",
        "coping_strategies": "Morning walk",
        "people_to_call": "Sam (sister) 555-0142",
    }.items():
        setattr(plan, name, value)
    plan.save()
    AftercareReferral.objects.create(
        plan=plan,
        kind=AftercareReferral.Kind.OUTPATIENT_THERAPY,
        organisation=ORGANISATION,
        contact_name="Jordan Lee",
        phone="555-0100",
        address="12 Mill Road\nSpringfield",
        days_and_hours="Mon-Thu 9-5",
        first_appointment_at=timezone.now() + datetime.timedelta(days=5),
        status=AftercareReferral.Status.SCHEDULED,
    )
    return plan


def referral_of(plan: DischargePlan) -> AftercareReferral:
    return plan.referrals.get()


def with_consent(plan: DischargePlan, **fields: Any) -> AftercareReferral:
    referral = referral_of(plan)
    values = {
        "client": plan.enrollment.client,
        "recipient": ORGANISATION,
        "shares_substance_use": True,
        **fields,
    }
    referral.consent = ConsentFactory(**values)
    referral.save()
    return referral


def text_of(context: dict[str, Any]) -> str:
    """Everything a context would print, flattened to one string."""
    return repr(context)


@pytest.fixture
def therapist(make_staff: Callable[..., Any]) -> Any:
    return make_staff(roles.THERAPIST)


# ---- the client's copy ----


def test_the_clients_copy_has_appointments_medicines_and_crisis_plan() -> None:
    """The client leaves with where to go next, their medicines and what to do if
    things get hard again."""
    plan = make_plan()
    copy = printing.client_copy(plan)
    program = plan.enrollment.track.program.name
    assert copy["heading"] == f"Your plan after {program}"
    assert copy["client_name"] == plan.enrollment.client.display_name
    [appointment] = copy["appointments"]
    assert appointment.organisation == ORGANISATION
    assert appointment.phone == "555-0100"
    assert appointment.address == ["12 Mill Road", "Springfield"]
    assert appointment.first_appointment_at is not None
    assert appointment.status == "Booked"
    assert copy["medications"] == [
        "Sertraline 100 mg, morning",
        "Melatonin 3 mg, night",
    ]
    assert copy["prescriber"] == "Dr Avery, Riverside Primary Care"
    assert copy["warning_signs"] == ["Sleeping past noon", "Skipping meals"]
    assert copy["people_to_call"] == ["Sam (sister) 555-0142"]
    assert any("988" in line for line in copy["crisis_lines"])


def test_the_crisis_lines_are_always_printed() -> None:
    """An emptied crisis-lines field still prints 988 and 911."""
    plan = make_plan()
    DischargePlan.objects.filter(pk=plan.pk).update(crisis_lines="  ")
    lines = printing.client_copy(plan)["crisis_lines"]
    assert any("988" in line for line in lines)
    assert any("911" in line for line in lines)


def test_the_clients_copy_is_their_complete_record() -> None:
    """Their goals in their own words, substance use included: it is their record."""
    plan = make_plan()
    goals = [goal.in_their_words for goal in printing.client_copy(plan)["goals"]]
    assert goals == ["I want to feel like me 0", SUBSTANCE_USE[1]]


def test_the_clients_copy_says_how_far_each_goal_got() -> None:
    """An objective's progress is its status at its latest review, in plain words."""
    plan = make_plan()
    treatment = plan.enrollment.treatment_plans.get()
    objective = treatment.objectives.get(statement=SUBSTANCE_USE[2])
    for days_ago, status in [(10, "in_progress"), (2, "achieved")]:
        review = PlanReview.objects.create(
            plan=treatment,
            reviewed_on=TODAY() - datetime.timedelta(days=days_ago),
            reviewer=treatment.created_by,
            decision="continue",
        )
        ObjectiveReview.objects.create(
            review=review, objective=objective, status=status
        )
    goals = printing.client_copy(plan)["goals"]
    assert [step.status for goal in goals for step in goal.steps] == [
        "Not started yet",
        "Done",
    ]


def test_the_clients_copy_leaves_out_what_is_internal() -> None:
    """No staff reasons, outreach notes or why an amendment was made; the
    correction itself is theirs."""
    plan = make_plan()
    discharge_client(
        enrollment=plan.enrollment,
        by=plan.prepared_by,
        on=TODAY(),
        discharge_type="completed",
        reason=INTERNAL[0],
    )
    Amendment.objects.create(
        plan=plan,
        written_by=plan.prepared_by,
        what="Second prescriber",
        correction="Dr Avery continues the prescription.",
        why=INTERNAL[2],
    )
    copy = printing.client_copy(plan)
    printed = text_of(copy)
    for note in INTERNAL:
        assert note not in printed
    assert [row.what for row in copy["corrections"]] == ["Second prescriber"]
    assert copy["discharged_on"] == TODAY()


def test_the_clients_copy_without_a_signed_treatment_plan() -> None:
    """A short stay with no signed plan still prints its appointments and crisis
    lines."""
    plan = make_plan(signed=False)
    copy = printing.client_copy(plan)
    assert copy["goals"] == []
    assert copy["appointments"]


def test_the_clients_copy_takes_a_fixed_number_of_queries(
    django_assert_max_num_queries: Any,
) -> None:
    """However many problems, referrals and corrections: the same queries."""
    plan = make_plan(problems=6)
    for n in range(4):
        AftercareReferral.objects.create(
            plan=plan, kind="support_group", organisation=f"Group {n}"
        )
    with django_assert_max_num_queries(8):
        printing.client_copy(plan)


# ---- referral copies ----


def test_a_referral_copy_without_consent_leaves_out_substance_use() -> None:
    """No consent: the mental-health picture for continuing care (HIPAA treatment
    purposes), nothing about substance use, and a plain sentence saying so."""
    plan = make_plan()
    copy = printing.referral_copy(plan, referral_of(plan))
    printed = text_of(copy)
    assert copy["shares_substance_use"] is False
    for detail in SUBSTANCE_USE:
        assert detail not in printed
    assert MENTAL_HEALTH in printed
    assert copy["not_included"] == printing.NOT_INCLUDED
    assert printing.REDISCLOSURE_NOTICE not in printed
    assert copy["why_not_shared"] == "No consent is linked to this referral."


def test_the_not_included_sentence_does_not_depend_on_the_plan() -> None:
    """Without a consent the sentence is printed even when there is nothing to
    leave out: its presence must not reveal substance-use treatment."""
    plan = make_plan(substance_use=False)
    copy = printing.referral_copy(plan, referral_of(plan))
    assert copy["not_included"] == printing.NOT_INCLUDED
    assert copy["substance_use_left_out"] is False


def test_a_referral_copy_under_consent_includes_substance_use_and_the_notice() -> None:
    """A current consent that allows substance-use information and names this
    provider (case and spacing aside): included, with the notice and the consent's
    scope (42 CFR 2.32)."""
    plan = make_plan()
    referral = with_consent(plan, recipient="  riverside   COUNSELLING ")
    copy = printing.referral_copy(plan, referral)
    printed = text_of(copy)
    assert copy["shares_substance_use"] is True
    for detail in SUBSTANCE_USE:
        assert detail in printed
    assert copy["redisclosure_notice"] == printing.REDISCLOSURE_NOTICE
    assert copy["not_included"] == ""
    scope = copy["consent_scope"]
    assert scope.purpose == "Coordination of care"
    assert any("42 CFR Part 2" in what for what in scope.shares)


def test_the_notice_is_the_2024_part_2_statement() -> None:
    """42 CFR 2.32(a)(1) as amended in 2024: proceedings against the patient, and
    the consent a general authorization cannot replace."""
    notice = printing.REDISCLOSURE_NOTICE
    assert notice.startswith("This record which has been disclosed to you")
    assert "42 CFR 2.12(c)(5)" in notice
    assert "45 CFR part 164, subparts A and E" in notice
    assert notice.endswith("(see 42 CFR 2.31).")


def revoked(consent: Consent) -> None:
    staff: Any = StaffFactory()
    consent.revoke(by=staff, on=TODAY() - datetime.timedelta(days=1))


@pytest.mark.parametrize(
    ("fields", "after", "why"),
    [
        ({"expires_on": TODAY() - datetime.timedelta(days=1)}, None, "not in force"),
        ({}, revoked, "not in force"),
        ({"signed_on": TODAY() + datetime.timedelta(days=1)}, None, "not in force"),
        ({"recipient": "Lakeside Clinic"}, None, "names “Lakeside Clinic”"),
        ({"shares_substance_use": False}, None, "does not allow"),
    ],
    ids=["expired", "revoked", "not-yet-signed", "wrong-recipient", "mental-health"],
)
def test_a_consent_that_does_not_count(
    fields: dict[str, Any], after: Callable[[Consent], None] | None, why: str
) -> None:
    """Expired, revoked, not yet signed, naming someone else, or for mental-health
    information only: substance use stays out."""
    plan = make_plan()
    referral = with_consent(plan, **fields)
    if after is not None:
        after(referral.consent)  # type: ignore[arg-type]
    copy = printing.referral_copy(plan, referral)
    printed = text_of(copy)
    assert copy["shares_substance_use"] is False
    assert SUBSTANCE_USE[0] not in printed
    assert copy["not_included"] == printing.NOT_INCLUDED
    assert why in copy["why_not_shared"]


def test_another_clients_consent_does_not_count() -> None:
    """A consent linked by mistake to another client's referral never opens it."""
    plan = make_plan()
    referral = referral_of(plan)
    referral.consent = ConsentFactory(recipient=ORGANISATION, shares_substance_use=True)
    referral.save()
    copy = printing.referral_copy(plan, referral)
    assert copy["shares_substance_use"] is False
    assert copy["why_not_shared"] == "The linked consent is not this client's."


def test_the_consent_is_judged_on_the_day_of_printing() -> None:
    """``on``: a consent that expires tomorrow does not cover a copy dated after."""
    plan = make_plan()
    referral = with_consent(plan, expires_on=TODAY() + datetime.timedelta(days=1))
    assert printing.referral_copy(plan, referral)["shares_substance_use"] is True
    later = TODAY() + datetime.timedelta(days=2)
    assert printing.referral_copy(plan, referral, on=later)["shares_substance_use"] is (
        False
    )


def test_a_referral_of_another_plan_is_refused() -> None:
    plan, other = make_plan(), make_plan()
    with pytest.raises(ValueError):
        printing.referral_copy(plan, referral_of(other))


def test_a_referral_copy_takes_a_fixed_number_of_queries(
    django_assert_max_num_queries: Any,
) -> None:
    plan = make_plan(problems=6)
    referral = with_consent(plan)
    with django_assert_max_num_queries(9):
        printing.referral_copy(plan, referral)


# ---- through the admin, as the client's therapist ----


def test_the_therapist_prints_the_clients_copy(
    client: HttpClient, therapist: Any
) -> None:
    """The page shows the appointments, the medicines and the crisis lines, none
    of the staff notes, and the print is an access event."""
    plan = make_plan(therapist)
    finalise_plan(plan=plan, by=therapist)
    client.force_login(therapist)
    url = reverse("admin:discharge_dischargeplan_client_copy", args=[plan.pk])
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    for text in [
        "Your appointments",
        ORGANISATION,
        "555-0100",
        "Your medicines",
        "Sertraline 100 mg, morning",
        "If things get hard again",
        "People you can call",
        "Crisis lines",
        "988",
        'class="printable-plan',
        '<th scope="col">',
    ]:
        assert text in html, text
    for note in INTERNAL[:2]:
        assert note not in html
    assert AccessEvent.objects.filter(
        user=therapist,
        action=AccessEvent.Action.PRINT,
        app_label="discharge",
        model_name="dischargeplan",
        object_id=str(plan.pk),
        # The print names the client: "everything that touched this client".
        client=plan.enrollment.client_id,
        outcome=AccessEvent.Outcome.SHOWN,
    ).exists()


def test_the_therapist_prints_a_referral_copy_without_consent(
    client: HttpClient, therapist: Any
) -> None:
    plan = make_plan(therapist)
    client.force_login(therapist)
    url = reverse(
        "admin:discharge_dischargeplan_referral_copy",
        args=[plan.pk, referral_of(plan).pk],
    )
    html = client.get(url).content.decode()
    assert MENTAL_HEALTH in html
    for detail in SUBSTANCE_USE:
        assert detail not in html
    assert printing.NOT_INCLUDED in html
    assert "42 CFR part 2" not in html
    assert AccessEvent.objects.filter(
        user=therapist, action=AccessEvent.Action.PRINT, object_id=str(plan.pk)
    ).exists()


def test_the_therapist_prints_a_referral_copy_under_consent(
    client: HttpClient, therapist: Any
) -> None:
    plan = make_plan(therapist)
    referral = with_consent(plan)
    client.force_login(therapist)
    url = reverse(
        "admin:discharge_dischargeplan_referral_copy", args=[plan.pk, referral.pk]
    )
    html = client.get(url).content.decode()
    for detail in SUBSTANCE_USE:
        assert detail in html
    assert "This record which has been disclosed to you is protected" in html
    assert "(see 42 CFR 2.31)." in html
    assert printing.NOT_INCLUDED not in html


@pytest.mark.parametrize(
    "fields",
    [
        {"expires_on": TODAY() - datetime.timedelta(days=1)},
        {"recipient": "Lakeside Clinic"},
        {"shares_substance_use": False},
    ],
    ids=["expired", "wrong-recipient", "mental-health"],
)
def test_the_printed_referral_copy_ignores_a_consent_that_does_not_count(
    client: HttpClient, therapist: Any, fields: dict[str, Any]
) -> None:
    plan = make_plan(therapist)
    referral = with_consent(plan, **fields)
    client.force_login(therapist)
    url = reverse(
        "admin:discharge_dischargeplan_referral_copy", args=[plan.pk, referral.pk]
    )
    html = client.get(url).content.decode()
    assert SUBSTANCE_USE[0] not in html
    assert printing.NOT_INCLUDED in html


def test_a_revoked_consent_does_not_count_in_print(
    client: HttpClient, therapist: Any
) -> None:
    plan = make_plan(therapist)
    referral = with_consent(plan)
    revoked(referral.consent)  # type: ignore[arg-type]
    client.force_login(therapist)
    url = reverse(
        "admin:discharge_dischargeplan_referral_copy", args=[plan.pk, referral.pk]
    )
    html = client.get(url).content.decode()
    assert SUBSTANCE_USE[0] not in html
    assert printing.NOT_INCLUDED in html


def test_outside_the_caseload_nothing_is_printed(
    client: HttpClient, therapist: Any, make_staff: Callable[..., Any]
) -> None:
    """Another therapist's client: not found, nothing of the plan shown, and the
    refused attempt recorded."""
    plan = make_plan(therapist)
    other = make_staff(roles.THERAPIST)
    client.force_login(other)
    url = reverse("admin:discharge_dischargeplan_client_copy", args=[plan.pk])
    response = client.get(url)
    assert response.status_code == 404
    assert ORGANISATION not in response.content.decode()
    assert AccessEvent.objects.filter(
        user=other,
        action=AccessEvent.Action.PRINT,
        object_id=str(plan.pk),
        outcome=AccessEvent.Outcome.REFUSED,
    ).exists()


def test_a_referral_of_another_plan_is_not_found(
    client: HttpClient, therapist: Any
) -> None:
    plan, other = make_plan(therapist), make_plan(therapist)
    client.force_login(therapist)
    url = reverse(
        "admin:discharge_dischargeplan_referral_copy",
        args=[plan.pk, referral_of(other).pk],
    )
    assert client.get(url).status_code == 404
