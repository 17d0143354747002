"""The discharge admin as clinicians use it: the plan from the enrollment page to the
discharge, bad input shown on the form, read-only afterwards, stepping down, the
follow-ups, caseload isolation on every route, and bounded queries."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from discharge.models import AftercareReferral, Amendment, DischargePlan, FollowUp
from discharge.workflows import discharge_client, finalise_plan, start_discharge_plan
from iopclinic import roles
from programs.models import Enrollment, PlanStatus, TreatmentPlan
from programs.plans import sign_plan
from tests.admin_forms import form_data
from tests.discharge.test_workflows import complete_plan, php_and_iop
from tests.factories import (
    ConsentFactory,
    EnrollmentFactory,
    StaffFactory,
    TrackFactory,
    TreatmentPlanFactory,
    WaitlistEntryFactory,
    with_content,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def days_ago(days: int) -> datetime.date:
    return TODAY() - datetime.timedelta(days=days)


def messages_of(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def plan_url(name: str, plan: DischargePlan, *args: Any) -> str:
    return reverse(f"admin:discharge_dischargeplan_{name}", args=[plan.pk, *args])


def enrollment_url(name: str, enrollment: Enrollment) -> str:
    return reverse(f"admin:programs_enrollment_{name}", args=[enrollment.pk])


def start_url(enrollment: Enrollment) -> str:
    return f"{reverse('admin:discharge_dischargeplan_add')}?enrollment={enrollment.pk}"


def todays_work(client: Any) -> list[str]:
    return [
        item.label for item in client.get(reverse("admin:index")).context["todays_work"]
    ]


def inline_for(response: Any, model: type) -> Any:
    """The change page's inline of ``model``."""
    [inline] = [
        inline
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is model
    ]
    return inline


def inline_errors(response: Any, model: type) -> list[str]:
    """Every error message of the inline formset for ``model`` on a change page."""
    formset = inline_for(response, model).formset
    found = list(formset.non_form_errors())
    for errors in formset.errors:
        for messages in errors.values():
            found.extend(messages)
    return found


def discharge_post(**fields: Any) -> dict[str, str]:
    return {
        "discharge_type": "administrative",
        "on": TODAY().isoformat(),
        "reason": "Missed two weeks without contact.",
        **fields,
    }


@pytest.fixture
def therapist(make_staff: Any) -> Any:
    return make_staff(roles.THERAPIST)


@pytest.fixture
def manager(make_staff: Any) -> Any:
    return make_staff(roles.PROGRAM_MANAGER)


def discharged(enrollment: Enrollment, *, on: datetime.date | None = None) -> Any:
    """A completed discharge through the workflow: the plan finalised."""
    complete_plan(enrollment)
    return discharge_client(
        enrollment=enrollment,
        by=StaffFactory(),
        on=on or TODAY(),
        discharge_type="completed",
        reason="Met the discharge criteria.",
    )


# ---- 1. End to end, as the primary therapist ----


def test_a_planned_discharge_end_to_end(
    client: Any, therapist: Any, coordinator: Any
) -> None:
    """Start the plan from the enrollment page, fill it in with a referral, finalise
    it, discharge: the enrollment ends, follow-ups are booked, and the freed seat is
    on the coordinators' index with the next person on the waitlist."""
    track = TrackFactory(capacity=1)
    enrollment = EnrollmentFactory(track=track, primary_therapist=therapist)
    waiting = WaitlistEntryFactory(level_of_care=track.program.level_of_care)
    client.force_login(coordinator)
    assert not [label for label in todays_work(client) if str(track) in label]
    client.force_login(therapist)

    page = client.get(enrollment_url("change", enrollment))
    assert page.status_code == 200
    assert start_url(enrollment) in page.content.decode()
    assert enrollment_url("discharge", enrollment) in page.content.decode()

    # Start: the add page has the enrollment chosen; saving opens the new plan.
    add = client.get(start_url(enrollment))
    assert add.status_code == 200
    response = client.post(start_url(enrollment), form_data(add))
    plan = DischargePlan.objects.get(enrollment=enrollment)
    assert response.status_code == 302
    assert response.url == plan_url("change", plan)
    assert (plan.status, plan.prepared_by) == ("draft", therapist)

    # Incomplete: the finalise page says what is missing and offers no button.
    finalise = client.get(plan_url("finalise", plan))
    assert finalise.status_code == 200
    assert finalise.context["missing"] == [
        "Record the reason for the discharge.",
        "Record when the plan was reviewed with the client.",
        "Give the planned discharge date.",
        "Add at least one aftercare referral.",
        "Complete the relapse and crisis plan: warning signs and coping.",
    ]
    assert "Finalise the plan" not in finalise.content.decode()

    # Fill it in on its page, one referral through the inline.
    change = client.get(plan_url("change", plan))
    response = client.post(
        plan_url("change", plan),
        form_data(
            change,
            planned_on=TODAY().isoformat(),
            intended_type="completed",
            intended_reason="Met the discharge criteria.",
            client_agreed_on=TODAY().isoformat(),
            warning_signs="Sleeping past noon; skipping meals.",
            coping_strategies="Morning walk; call my sister.",
            **{
                "referrals-0-kind": "outpatient_therapy",
                "referrals-0-organisation": "Riverside Counselling",
                "referrals-0-phone": "555-0100",
            },
        ),
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.warning_signs == "Sleeping past noon; skipping meals."
    [referral] = plan.referrals.all()
    assert (referral.organisation, referral.status) == (
        "Riverside Counselling",
        "referred",
    )

    # Complete: finalising is one POST.
    assert client.get(plan_url("finalise", plan)).context["missing"] == []
    response = client.post(plan_url("finalise", plan))
    assert response.status_code == 302
    assert response.url == plan_url("change", plan)
    assert ("success", "The discharge plan is finalised.") in messages_of(response)
    plan.refresh_from_db()
    assert (plan.status, plan.finalised_by) == ("finalised", therapist)

    # Discharge from the enrollment's "Discharge…" page.
    page = client.get(enrollment_url("discharge", enrollment))
    assert page.status_code == 200
    assert page.context["form"].initial["discharge_type"] == "completed"
    response = client.post(
        enrollment_url("discharge", enrollment),
        {
            "discharge_type": "completed",
            "on": TODAY().isoformat(),
            "reason": "Met the discharge criteria.",
        },
    )
    assert response.status_code == 302
    assert response.url == plan_url("change", plan)
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.DISCHARGED
    assert (
        enrollment.discharge_type,
        enrollment.discharged_on,
        enrollment.discharge_reason,
    ) == ("completed", TODAY(), "Met the discharge criteria.")
    plan.refresh_from_db()
    assert plan.discharged_by == therapist
    assert sorted(plan.follow_ups.values_list("days_after", "due_on", "owner")) == [
        (7, TODAY() + datetime.timedelta(days=7), therapist.pk),
        (30, TODAY() + datetime.timedelta(days=30), therapist.pk),
    ]
    [(level, text)] = messages_of(response)
    assert level == "success"
    assert text.startswith(f"{enrollment.client} is discharged.")
    assert f"A seat is open in {track}" in text
    page = client.get(enrollment_url("change", enrollment)).content.decode()
    assert enrollment_url("discharge", enrollment) not in page
    assert plan_url("change", plan) in page

    # The coordinator's index names the seat and who is next for it.
    client.force_login(coordinator)
    ready = [label for label in todays_work(client) if str(track) in label]
    assert ready == [
        f"Ready to offer: a seat in {track}, next is {waiting.client.display_name} "
        f"({waiting.get_priority_display()})"
    ]


# ---- 2. Unplanned discharge ----


def test_an_unplanned_discharge_needs_no_plan_and_its_summary_falls_due(
    client: Any, therapist: Any
) -> None:
    """Lost contact, no plan: the discharge starts a draft plan whose summary is due
    in 15 days; 16 days on it is on the "summary overdue" list."""
    today = EnrollmentFactory(primary_therapist=therapist)
    earlier = EnrollmentFactory(primary_therapist=therapist, admitted_on=days_ago(60))
    client.force_login(therapist)

    response = client.post(
        enrollment_url("discharge", today),
        discharge_post(discharge_type="lost_contact", reason="No reply in 3 weeks."),
    )

    plan = DischargePlan.objects.get(enrollment=today)
    assert response.status_code == 302
    assert response.url == plan_url("change", plan)
    assert (plan.status, plan.intended_type) == ("draft", "lost_contact")
    assert plan.summary_due_on == TODAY() + datetime.timedelta(days=15)
    today.refresh_from_db()
    assert (today.status, today.discharge_type) == ("discharged", "lost_contact")

    client.post(
        enrollment_url("discharge", earlier),
        discharge_post(discharge_type="lost_contact", on=days_ago(16).isoformat()),
    )
    overdue = client.get(
        reverse("admin:discharge_dischargeplan_changelist") + "?due=summary_overdue"
    )
    assert overdue.status_code == 200
    assert list(overdue.context["cl"].result_list) == [
        DischargePlan.objects.get(enrollment=earlier)
    ]


def test_an_unplanned_discharge_of_a_started_plan_asks_for_what_that_type_needs(
    client: Any, therapist: Any
) -> None:
    """Planning had begun (a draft, intended "completed") when contact was lost: the
    summary due in 15 days needs the outreach attempts, not the client's agreement,
    a planned date or a referral; the discharge's reason is already recorded."""
    enrollment = EnrollmentFactory(primary_therapist=therapist)
    plan = start_discharge_plan(enrollment=enrollment, by=therapist)
    client.force_login(therapist)

    client.post(
        enrollment_url("discharge", enrollment),
        discharge_post(discharge_type="lost_contact", reason="No reply in 3 weeks."),
    )

    plan.refresh_from_db()
    assert plan.summary_due_on == TODAY() + datetime.timedelta(days=15)
    assert (plan.intended_type, plan.intended_reason) == (
        "lost_contact",
        "No reply in 3 weeks.",
    )
    assert client.get(plan_url("finalise", plan)).context["missing"] == [
        "Record the attempts made to reach the client."
    ]


# ---- 3. Bad input is shown on the form, never a 500 ----


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"on": -1}, "on", "Record a discharge on or after its day."),
        ({"on": 30}, "on", "The discharge is before the admission."),
        ({"reason": ""}, "reason", "This field is required."),
        ({"reason": "   "}, "reason", "This field is required."),
        ({"discharge_type": "expelled"}, "discharge_type", "Select a valid choice."),
        (
            {"discharge_type": "completed"},
            "__all__",
            "A planned discharge needs its discharge plan: start one first.",
        ),
    ],
    ids=["future", "before-admission", "no-reason", "blank-reason", "type", "no-plan"],
)
def test_a_bad_discharge_is_refused_on_the_form(
    client: Any, therapist: Any, fields: dict[str, Any], field: str, message: str
) -> None:
    """200 with the message on the form; the enrollment and the plans unchanged.
    (``on`` is given in days ago.)"""
    enrollment = EnrollmentFactory(primary_therapist=therapist, admitted_on=days_ago(7))
    if "on" in fields:
        fields = {**fields, "on": days_ago(int(fields["on"])).isoformat()}
    client.force_login(therapist)

    response = client.post(
        enrollment_url("discharge", enrollment), discharge_post(**fields)
    )

    assert response.status_code == 200
    assert any(
        text.startswith(message) for text in response.context["form"].errors[field]
    )
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.discharged_on) == ("active", None)
    assert not DischargePlan.objects.exists()
    assert not FollowUp.objects.exists()


def test_a_planned_discharge_with_an_incomplete_plan_lists_what_is_missing(
    client: Any, therapist: Any
) -> None:
    """Stepped down with a draft plan: the form lists what the plan still needs and
    nothing is ended, finalised or changed on the plan."""
    enrollment = EnrollmentFactory(primary_therapist=therapist)
    plan = start_discharge_plan(enrollment=enrollment, by=therapist)
    client.force_login(therapist)

    response = client.post(
        enrollment_url("discharge", enrollment),
        discharge_post(discharge_type="stepped_down"),
    )

    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert "Add at least one aftercare referral." in errors
    assert "Record when the plan was reviewed with the client." in errors
    enrollment.refresh_from_db()
    assert enrollment.status == "active"
    plan.refresh_from_db()
    assert (plan.status, plan.intended_type, plan.discharged_at) == (
        "draft",
        "completed",
        None,
    )


def test_stepping_to_a_track_of_the_same_level_is_a_form_error(
    client: Any, therapist: Any
) -> None:
    """IOP to another IOP track is a track change, not a step: only PHP is offered
    and a crafted choice is a form error."""
    php, iop = php_and_iop()
    other_iop = TrackFactory(program=iop.program, schedule="day")
    enrollment = EnrollmentFactory(track=iop, primary_therapist=therapist)
    client.force_login(therapist)

    response = client.post(
        enrollment_url("step", enrollment),
        {"track": other_iop.pk, "on": TODAY().isoformat(), "reason": "Days suit."},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["track"]
    assert list(response.context["form"].fields["track"].queryset) == [php]
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.track) == ("active", iop)
    assert not DischargePlan.objects.exists()


def test_a_second_plan_for_the_same_enrollment_is_a_form_error(
    client: Any, therapist: Any
) -> None:
    """One plan per enrollment: starting another is an error on the form."""
    enrollment = EnrollmentFactory(primary_therapist=therapist)
    start_discharge_plan(enrollment=enrollment, by=therapist)
    client.force_login(therapist)

    response = client.post(start_url(enrollment), {"enrollment": enrollment.pk})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["enrollment"]
    assert DischargePlan.objects.count() == 1


def test_a_scheduled_referral_needs_its_appointment(
    client: Any, therapist: Any
) -> None:
    """The database constraint's message is the inline row's error."""
    enrollment = EnrollmentFactory(primary_therapist=therapist)
    plan = start_discharge_plan(enrollment=enrollment, by=therapist)
    client.force_login(therapist)
    change = client.get(plan_url("change", plan))

    response = client.post(
        plan_url("change", plan),
        form_data(
            change,
            **{
                "referrals-0-kind": "psychiatry",
                "referrals-0-organisation": "Harbor Psychiatry",
                "referrals-0-status": "scheduled",
            },
        ),
    )

    assert response.status_code == 200
    assert inline_errors(response, AftercareReferral) == [
        "Give the first appointment's date and time once it is scheduled."
    ]
    assert not AftercareReferral.objects.exists()


def test_another_clients_consent_is_not_a_choice_for_a_referral(
    client: Any, therapist: Any
) -> None:
    """A referral shares under this client's consent only (42 CFR Part 2): another
    client's is not offered, and a crafted id is a form error."""
    enrollment = EnrollmentFactory(primary_therapist=therapist)
    plan = start_discharge_plan(enrollment=enrollment, by=therapist)
    own = ConsentFactory(client=enrollment.client)
    other = ConsentFactory()
    client.force_login(therapist)
    change = client.get(plan_url("change", plan))
    consent = inline_for(change, AftercareReferral).formset.forms[0].fields["consent"]
    assert [value for value, _ in consent.choices if value] == [own.pk]

    response = client.post(
        plan_url("change", plan),
        form_data(
            change,
            **{
                "referrals-0-kind": "primary_care",
                "referrals-0-organisation": "Riverside Primary Care",
                "referrals-0-consent": str(other.pk),
            },
        ),
    )

    assert response.status_code == 200
    assert inline_errors(response, AftercareReferral) == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert not AftercareReferral.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "discharge/dischargeplan/{bad}/change/",
        "discharge/dischargeplan/{bad}/finalise/",
        "discharge/dischargeplan/{bad}/print/",
        "discharge/followup/{bad}/change/",
        "programs/enrollment/{bad}/discharge/",
        "programs/enrollment/{bad}/step/",
        "discharge/dischargeplan/add/?enrollment={bad}",
        "discharge/dischargeplan/{bad}/history/",
        "discharge/dischargeplan/{plan}/history/{bad}/",
        "discharge/followup/{bad}/history/",
    ],
)
@pytest.mark.parametrize("garbage", ["abc", "1.5"])
def test_a_malformed_id_in_a_link_is_never_a_500(
    client: Any, therapist: Any, path: str, garbage: str
) -> None:
    """A mistyped or truncated link: not found, the index, or a blank add page."""
    plan = start_discharge_plan(
        enrollment=EnrollmentFactory(primary_therapist=therapist), by=therapist
    )
    client.force_login(therapist)
    client.raise_request_exception = False
    response = client.get("/admin/" + path.format(bad=garbage, plan=plan.pk))

    assert response.status_code in (200, 302, 404)
    if response.status_code == 302:
        assert response.url == reverse("admin:index")


# ---- 4. Read-only after discharge, on every path ----


EDITABLE = re.compile(
    r"<(textarea|select)\b|<input\b(?![^>]*type=\"(hidden|submit)\")[^>]*>"
)


@pytest.mark.parametrize("who", ["coordinator", "superuser"])
def test_a_discharged_enrollment_is_read_only(
    client: Any, request: pytest.FixtureRequest, who: str, make_staff: Any
) -> None:
    """No editable input on its page; a crafted POST is 403 and changes nothing."""
    enrollment = EnrollmentFactory(primary_therapist=make_staff(roles.THERAPIST))
    discharged(enrollment)
    enrollment.refresh_from_db()
    client.force_login(request.getfixturevalue(who))

    active = EnrollmentFactory()
    editable = client.get(enrollment_url("change", active)).content.decode()
    assert EDITABLE.search(editable.split('id="content-main"', 1)[1])

    page = client.get(enrollment_url("change", enrollment))

    assert page.status_code == 200
    assert not page.context["adminform"].form.fields
    assert not page.context["has_change_permission"]
    main = page.content.decode().split('id="content-main"', 1)[1]
    assert not EDITABLE.search(main)

    response = client.post(
        enrollment_url("change", enrollment),
        {
            "expected_end": (TODAY() + datetime.timedelta(days=90)).isoformat(),
            "primary_therapist": "",
            "psychiatrist": "",
        },
    )

    assert response.status_code == 403
    before = (enrollment.expected_end, enrollment.primary_therapist_id)
    enrollment.refresh_from_db()
    assert (enrollment.expected_end, enrollment.primary_therapist_id) == before


def test_a_finalised_plan_is_read_only_through_its_page(
    client: Any, therapist: Any
) -> None:
    """Its fields are shown, not editable; a crafted POST of a field and of a new
    referral row changes nothing."""
    enrollment = EnrollmentFactory(primary_therapist=therapist)
    plan = complete_plan(enrollment)
    finalise_plan(plan=plan, by=therapist)
    client.force_login(therapist)

    page = client.get(plan_url("change", plan))

    assert page.status_code == 200
    assert not set(page.context["adminform"].form.fields) & {
        "warning_signs",
        "intended_reason",
        "planned_on",
    }
    assert "Sleeping past noon; skipping meals." in page.content.decode()

    response = client.post(
        plan_url("change", plan),
        form_data(
            page,
            warning_signs="Rewritten after the fact",
            **{
                "referrals-TOTAL_FORMS": "2",
                "referrals-1-kind": "other",
                "referrals-1-organisation": "Added late",
                "referrals-1-referred_on": TODAY().isoformat(),
                "referrals-1-status_on": TODAY().isoformat(),
                "referrals-1-status": "referred",
                "referrals-1-plan": str(plan.pk),
            },
        ),
    )

    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.warning_signs == "Sleeping past noon; skipping meals."
    assert [r.organisation for r in plan.referrals.all()] == ["Riverside Counselling"]


def test_a_finalised_plans_finalise_link_goes_back_to_the_plan(
    client: Any, therapist: Any
) -> None:
    """An old "Finalise" link shows no second button; a POST changes nothing."""
    enrollment = EnrollmentFactory(primary_therapist=therapist)
    plan = finalise_plan(plan=complete_plan(enrollment), by=StaffFactory())
    client.force_login(therapist)

    for method in (client.get, client.post):
        response = method(plan_url("finalise", plan))

        assert response.status_code == 302
        assert response.url == plan_url("change", plan)
        (level, text) = messages_of(response)[-1]
        assert level == "warning"
        assert text.startswith("This discharge plan is already finalised")
    refreshed = DischargePlan.objects.get(pk=plan.pk)
    assert (refreshed.finalised_by, refreshed.finalised_at) == (
        plan.finalised_by,
        plan.finalised_at,
    )


def test_a_referrals_progress_is_still_recorded_on_a_finalised_plan(
    client: Any, therapist: Any
) -> None:
    """Its status, date and first appointment stay editable; the rest does not."""
    enrollment = EnrollmentFactory(primary_therapist=therapist)
    plan = discharged(enrollment)
    referral = plan.referrals.get()
    client.force_login(therapist)
    page = client.get(plan_url("change", plan))
    fields = inline_for(page, AftercareReferral).formset.forms[0].fields
    assert set(fields) >= {"status", "status_on", "first_appointment_at"}
    assert not set(fields) & {"organisation", "phone", "kind", "consent"}
    appointment = timezone.localtime() + datetime.timedelta(days=5)

    response = client.post(
        plan_url("change", plan),
        form_data(
            page,
            **{
                "referrals-0-status": "scheduled",
                "referrals-0-first_appointment_at_0": appointment.date().isoformat(),
                "referrals-0-first_appointment_at_1": "10:30",
                "referrals-0-organisation": "Somewhere else",
            },
        ),
    )

    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.organisation) == (
        "scheduled",
        "Riverside Counselling",
    )
    assert (
        timezone.localtime(referral.first_appointment_at).strftime("%Y-%m-%d %H:%M")
        == f"{appointment.date().isoformat()} 10:30"
    )


def test_the_discharge_page_of_a_discharged_enrollment_changes_nothing(
    client: Any, therapist: Any
) -> None:
    """Discharging again (an old link) is refused and the recorded discharge stays."""
    enrollment = EnrollmentFactory(primary_therapist=therapist)
    discharged(enrollment)
    enrollment.refresh_from_db()
    client.force_login(therapist)

    response = client.post(
        enrollment_url("discharge", enrollment),
        discharge_post(on=days_ago(1).isoformat()),
    )

    assert response.status_code in (200, 403)
    if response.status_code == 200:
        assert response.context["form"].non_field_errors() == [
            "This client has already been discharged."
        ]
    before = (
        enrollment.discharged_on,
        enrollment.discharge_type,
        enrollment.discharge_reason,
    )
    enrollment.refresh_from_db()
    assert (
        enrollment.discharged_on,
        enrollment.discharge_type,
        enrollment.discharge_reason,
    ) == before
    assert FollowUp.objects.count() == 2


def test_a_correction_is_an_amendment_added_then_kept_as_written(
    client: Any, therapist: Any
) -> None:
    """On the finalised plan an amendment is added (by the user who writes it) and
    from then on shown read-only: no change, no delete."""
    enrollment = EnrollmentFactory(primary_therapist=therapist)
    plan = discharged(enrollment)
    client.force_login(therapist)
    page = client.get(plan_url("change", plan))

    response = client.post(
        plan_url("change", plan),
        form_data(
            page,
            **{
                "amendments-0-what": "Discharge date",
                "amendments-0-correction": "Last attended on the 20th.",
                "amendments-0-why": "Attendance was corrected after discharge.",
            },
        ),
    )

    assert response.status_code == 302
    [amendment] = Amendment.objects.all()
    assert (amendment.plan, amendment.written_by) == (plan, therapist)

    page = client.get(plan_url("change", plan))
    inline = inline_for(page, Amendment)
    assert not inline.has_change_permission
    assert not inline.has_delete_permission

    response = client.post(
        plan_url("change", plan),
        form_data(
            page,
            **{
                "amendments-0-why": "Changed my mind",
                "amendments-0-correction": "Something else",
                "amendments-0-DELETE": "on",
            },
        ),
    )

    assert response.status_code == 302
    [kept] = Amendment.objects.all()
    assert (kept.pk, kept.why, kept.correction) == (
        amendment.pk,
        "Attendance was corrected after discharge.",
        "Last attended on the 20th.",
    )


# ---- 5. Step down ----


def step_down_setup(therapist: Any) -> tuple[Enrollment, Any]:
    """A PHP enrollment with a signed treatment plan and a complete discharge plan;
    and an IOP track."""
    php, iop = php_and_iop()
    enrollment = EnrollmentFactory(track=php, primary_therapist=therapist)
    treatment_plan = with_content(TreatmentPlanFactory(enrollment=enrollment), 2)
    sign_plan(plan=treatment_plan, by=treatment_plan.created_by)
    complete_plan(enrollment)
    return enrollment, iop


def test_step_down_from_php_to_iop_in_one_post(client: Any, therapist: Any) -> None:
    """The PHP episode ends as stepped down, the IOP one begins with the same
    therapist, and the treatment plan is carried forward as its first draft."""
    enrollment, iop = step_down_setup(therapist)
    client.force_login(therapist)

    response = client.post(
        enrollment_url("step", enrollment),
        {
            "track": iop.pk,
            "on": TODAY().isoformat(),
            "reason": "Ready for fewer hours.",
        },
    )

    new = Enrollment.objects.get(client=enrollment.client, track=iop)
    assert response.status_code == 302
    assert response.url == enrollment_url("change", new)
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.discharge_type) == (
        "discharged",
        "stepped_down",
    )
    assert (new.status, new.primary_therapist) == ("active", therapist)
    carried = TreatmentPlan.objects.get(enrollment=new)
    assert (carried.version, carried.status) == (1, PlanStatus.DRAFT)
    assert carried.problems.count() == 2
    assert enrollment.discharge_plan.status == "finalised"
    [(level, text)] = messages_of(response)
    assert level == "success"
    assert f"moved to {iop}" in text


def test_stepping_into_a_full_track_changes_nothing(
    client: Any, therapist: Any
) -> None:
    """One transaction: the full IOP track is the form's message, and the PHP
    episode, its plan and its follow-ups are as they were."""
    enrollment, iop = step_down_setup(therapist)
    iop.capacity = 1
    iop.save()
    EnrollmentFactory(track=iop)
    client.force_login(therapist)

    response = client.post(
        enrollment_url("step", enrollment),
        {
            "track": iop.pk,
            "on": TODAY().isoformat(),
            "reason": "Ready for fewer hours.",
        },
    )

    assert response.status_code == 200
    [error] = response.context["form"].non_field_errors()
    assert error.startswith(f"{iop} is full")
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.track.program.level_of_care) == (
        "active",
        "php",
    )
    assert not Enrollment.objects.filter(client=enrollment.client, track=iop).exists()
    plan = enrollment.discharge_plan
    assert (plan.status, plan.discharged_at) == ("draft", None)
    assert not FollowUp.objects.exists()


def test_a_step_up_leaves_a_summary_for_a_step_up(client: Any, therapist: Any) -> None:
    """IOP to PHP without a plan: the episode's summary, due in 15 days, is about a
    step up and asks only what a step up needs."""
    php, iop = php_and_iop()
    enrollment = EnrollmentFactory(track=iop, primary_therapist=therapist)
    client.force_login(therapist)

    response = client.post(
        enrollment_url("step", enrollment),
        {"track": php.pk, "on": TODAY().isoformat(), "reason": "Needs daily care."},
    )

    assert response.status_code == 302
    plan = DischargePlan.objects.get(enrollment=enrollment)
    assert (plan.status, plan.summary_due_on) == (
        "draft",
        TODAY() + datetime.timedelta(days=15),
    )
    assert plan.intended_type == "stepped_up"
    assert client.get(plan_url("finalise", plan)).context["missing"] == [
        "Record when the plan was reviewed with the client."
    ]


# ---- 6. Follow-ups ----


def follow_up_of(therapist: Any, *, days: int = 7) -> FollowUp:
    """The 7-day check-in of a client discharged 8 days ago."""
    enrollment = EnrollmentFactory(
        primary_therapist=therapist, admitted_on=days_ago(40)
    )
    plan = discharged(enrollment, on=days_ago(8))
    return plan.follow_ups.get(days_after=days)


def test_recording_attended_moves_the_referral_to_attended(
    client: Any, therapist: Any
) -> None:
    """The check-in's owner records that the client attended the first aftercare
    appointment: the referral becomes "attended" on that date."""
    follow_up = follow_up_of(therapist)
    referral = follow_up.plan.referrals.get()
    referral.status = "scheduled"
    referral.first_appointment_at = timezone.now() - datetime.timedelta(days=2)
    referral.save()
    client.force_login(therapist)
    url = reverse("admin:discharge_followup_change", args=[follow_up.pk])
    page = client.get(url)
    assert page.status_code == 200

    response = client.post(
        url,
        form_data(
            page,
            outcome="attended",
            done_on=TODAY().isoformat(),
            referral=str(referral.pk),
            note="Went; liked the counsellor.",
        ),
    )

    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert (follow_up.outcome, follow_up.done_on) == ("attended", TODAY())
    referral.refresh_from_db()
    assert (referral.status, referral.status_on) == ("attended", TODAY())


@pytest.mark.parametrize("choose_referral", [True, False])
def test_attended_without_an_appointment_is_a_form_error(
    client: Any, therapist: Any, choose_referral: bool
) -> None:
    """ "Attended" needs a referral with a first appointment: a form error, nothing
    recorded."""
    follow_up = follow_up_of(therapist)
    referral = follow_up.plan.referrals.get()
    client.force_login(therapist)
    url = reverse("admin:discharge_followup_change", args=[follow_up.pk])
    page = client.get(url)

    response = client.post(
        url,
        form_data(
            page,
            outcome="attended",
            done_on=TODAY().isoformat(),
            referral=str(referral.pk) if choose_referral else "",
        ),
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["outcome"] == [
        "Attended means a first aftercare appointment: record its date on the "
        "referral first."
    ]
    follow_up.refresh_from_db()
    assert follow_up.outcome == "pending"
    referral.refresh_from_db()
    assert referral.status == "referred"


def test_an_attended_check_in_before_the_referral_is_a_form_error(
    client: Any, therapist: Any
) -> None:
    """The referral was made today; a check-in dated 3 days ago cannot have found
    the client at its appointment: a form error, never a 500."""
    follow_up = follow_up_of(therapist)
    referral = follow_up.plan.referrals.get()
    assert referral.referred_on == TODAY()
    referral.status = "scheduled"
    referral.first_appointment_at = timezone.now() - datetime.timedelta(days=4)
    referral.save()
    client.force_login(therapist)
    client.raise_request_exception = False
    url = reverse("admin:discharge_followup_change", args=[follow_up.pk])
    page = client.get(url)

    response = client.post(
        url,
        form_data(
            page,
            outcome="attended",
            done_on=days_ago(3).isoformat(),
            referral=str(referral.pk),
        ),
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    follow_up.refresh_from_db()
    assert follow_up.outcome == "pending"


def test_the_overdue_filter_lists_only_pending_past_due_follow_ups(
    client: Any, therapist: Any
) -> None:
    """Past due and not yet done: not the done one, not the one still to come."""
    overdue = follow_up_of(therapist)
    done = follow_up_of(therapist)
    FollowUp.objects.filter(pk=done.pk).update(outcome="reached", done_on=TODAY())
    client.force_login(therapist)

    response = client.get(
        reverse("admin:discharge_followup_changelist") + "?overdue=yes"
    )

    assert response.status_code == 200
    # The 30-day check-ins are not due yet; the done one is not overdue.
    assert list(response.context["cl"].result_list) == [overdue]


# ---- 7. Caseload isolation ----


@pytest.fixture
def colleagues_records(make_staff: Any) -> dict[str, Any]:
    """A colleague's active enrollment with a draft plan and a referral, and their
    discharged one with its follow-ups."""
    colleague = make_staff(roles.THERAPIST)
    active = EnrollmentFactory(primary_therapist=colleague)
    plan = complete_plan(active)
    ended = EnrollmentFactory(primary_therapist=colleague)
    follow_up = discharged(ended).follow_ups.get(days_after=7)
    return {
        "enrollment": active,
        "plan": plan,
        "referral": plan.referrals.get(),
        "history": plan.history.latest().history_id,
        "follow_up": follow_up,
        "follow_up_history": follow_up.history.latest().history_id,
    }


def records_owner(records: dict[str, Any]) -> Any:
    return records["enrollment"].primary_therapist


PLAN_ROUTES: dict[str, Callable[[dict[str, Any]], str]] = {
    "change": lambda r: plan_url("change", r["plan"]),
    "history": lambda r: plan_url("history", r["plan"]),
    "history-version": lambda r: plan_url("simple_history", r["plan"], r["history"]),
    "delete": lambda r: plan_url("delete", r["plan"]),
    "finalise": lambda r: plan_url("finalise", r["plan"]),
    "client-copy": lambda r: plan_url("client_copy", r["plan"]),
    "referral-copy": lambda r: plan_url("referral_copy", r["plan"], r["referral"].pk),
    "discharge": lambda r: enrollment_url("discharge", r["enrollment"]),
    "step": lambda r: enrollment_url("step", r["enrollment"]),
}
FOLLOW_UP_ROUTES: dict[str, Callable[[dict[str, Any]], str]] = {
    "follow-up-change": lambda r: reverse(
        "admin:discharge_followup_change", args=[r["follow_up"].pk]
    ),
    "follow-up-history": lambda r: reverse(
        "admin:discharge_followup_history", args=[r["follow_up"].pk]
    ),
    "follow-up-version": lambda r: reverse(
        "admin:discharge_followup_simple_history",
        args=[r["follow_up"].pk, r["follow_up_history"]],
    ),
    "follow-up-delete": lambda r: reverse(
        "admin:discharge_followup_delete", args=[r["follow_up"].pk]
    ),
}
ROUTES = {**PLAN_ROUTES, **FOLLOW_UP_ROUTES}


def assert_refused(response: Any, *shown: str) -> None:
    """404, 403 or a redirect to the index: never the record."""
    assert response.status_code in (302, 403, 404), response.status_code
    if response.status_code == 302:
        assert response.url == reverse("admin:index")
    for text in shown:
        assert text not in response.content.decode()


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_therapist_cannot_reach_a_colleagues_discharge_records(
    client: Any,
    therapist: Any,
    colleagues_records: dict[str, Any],
    route: str,
    method: str,
) -> None:
    """Not on the enrollment: every route is refused, and a POST changes nothing."""
    records = colleagues_records
    EnrollmentFactory(primary_therapist=therapist)  # a caseload of their own
    client.force_login(therapist)
    url = ROUTES[route](records)

    response = getattr(client, method)(
        url,
        {
            "warning_signs": "Overwritten",
            "outcome": "reached",
            "done_on": TODAY().isoformat(),
            "discharge_type": "administrative",
            "on": TODAY().isoformat(),
            "reason": "Not mine to discharge.",
            "track": str(records["enrollment"].track_id),
            "post": "yes",
        }
        if method == "post"
        else {},
    )

    assert_refused(response, str(records["enrollment"].client), "Sleeping past noon")
    plan = DischargePlan.objects.get(pk=records["plan"].pk)
    assert (plan.status, plan.warning_signs) == (
        "draft",
        "Sleeping past noon; skipping meals.",
    )
    records["enrollment"].refresh_from_db()
    assert records["enrollment"].status == "active"
    follow_up = FollowUp.objects.get(pk=records["follow_up"].pk)
    assert follow_up.outcome == "pending"


def test_a_therapist_cannot_start_a_plan_for_a_colleagues_enrollment(
    client: Any, therapist: Any, colleagues_records: dict[str, Any]
) -> None:
    """The add page's enrollment is chosen from the caseload: a colleague's id in
    the link names no one and a crafted POST starts nothing."""
    enrollment = EnrollmentFactory(primary_therapist=records_owner(colleagues_records))
    client.force_login(therapist)

    page = client.get(start_url(enrollment))
    response = client.post(start_url(enrollment), {"enrollment": enrollment.pk})

    assert str(enrollment.client) not in page.content.decode()
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["enrollment"]
    assert not DischargePlan.objects.filter(enrollment=enrollment).exists()


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_the_colleagues_own_routes_open(
    client: Any, superuser: Any, colleagues_records: dict[str, Any], route: str
) -> None:
    """The control for the test above: each URL is a real page for the therapist on
    the enrollment; delete is refused to everyone, a superuser included (kept)."""
    records = colleagues_records
    deleting = route.endswith("delete")
    client.force_login(superuser if deleting else records_owner(records))

    response = client.get(ROUTES[route](records))

    assert response.status_code == (403 if deleting else 200)


@pytest.mark.parametrize(
    "model", ["dischargeplan", "followup"], ids=["plans", "follow-ups"]
)
def test_a_colleagues_records_are_not_listed(
    client: Any, therapist: Any, colleagues_records: dict[str, Any], model: str
) -> None:
    """The lists hold the therapist's caseload only."""
    own = EnrollmentFactory(primary_therapist=therapist)
    mine = discharged(own)
    client.force_login(therapist)

    response = client.get(reverse(f"admin:discharge_{model}_changelist"))

    assert response.status_code == 200
    listed = set(response.context["cl"].result_list)
    if model == "dischargeplan":
        assert listed == {mine}
    else:
        assert listed == set(mine.follow_ups.all())
    assert str(colleagues_records["enrollment"].client) not in response.content.decode()


def test_the_program_manager_views_plans_but_changes_nothing(
    client: Any, manager: Any, colleagues_records: dict[str, Any]
) -> None:
    """Every plan to view; a POST to the plan, its finalising, the discharge or a
    follow-up is 403 and changes nothing."""
    records = colleagues_records
    plan, enrollment = records["plan"], records["enrollment"]
    client.force_login(manager)

    page = client.get(plan_url("change", plan))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert "Sleeping past noon; skipping meals." in page.content.decode()

    assert (
        client.post(plan_url("change", plan), {"warning_signs": "x"}).status_code == 403
    )
    assert client.post(plan_url("finalise", plan)).status_code == 403
    assert client.get(enrollment_url("discharge", enrollment)).status_code == 403
    assert (
        client.post(
            enrollment_url("discharge", enrollment), discharge_post()
        ).status_code
        == 403
    )
    follow_up = reverse(
        "admin:discharge_followup_change", args=[records["follow_up"].pk]
    )
    assert client.get(follow_up).status_code == 200
    assert (
        client.post(
            follow_up, {"outcome": "reached", "done_on": TODAY().isoformat()}
        ).status_code
        == 403
    )
    plan.refresh_from_db()
    assert (plan.status, plan.warning_signs) == (
        "draft",
        "Sleeping past noon; skipping meals.",
    )
    enrollment.refresh_from_db()
    assert enrollment.status == "active"
    assert FollowUp.objects.get(pk=records["follow_up"].pk).outcome == "pending"


@pytest.mark.parametrize(
    "route", sorted([*PLAN_ROUTES, "changelist", "add", *FOLLOW_UP_ROUTES])
)
def test_the_intake_coordinator_is_refused_the_discharge_pages(
    client: Any, coordinator: Any, colleagues_records: dict[str, Any], route: str
) -> None:
    """Coordinators see every enrollment but no discharge plan: 403."""
    client.force_login(coordinator)
    if route == "changelist":
        url = reverse("admin:discharge_dischargeplan_changelist")
    elif route == "add":
        url = start_url(colleagues_records["enrollment"])
    else:
        url = ROUTES[route](colleagues_records)

    response = client.get(url)

    assert response.status_code == 403


# ---- 8. Query counts ----


def queries_for(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("finalised", [False, True], ids=["draft", "finalised"])
def test_the_plan_page_runs_as_many_queries_for_20_referrals_as_for_2(
    client: Any, therapist: Any, finalised: bool
) -> None:
    """Each referral row (with its consent) and each amendment adds no query."""
    enrollment = EnrollmentFactory(primary_therapist=therapist)
    plan = complete_plan(enrollment)
    consent = ConsentFactory(client=enrollment.client)

    def add(count: int) -> None:
        # Rows are added as to a draft, then the plan is put back as it was.
        status = DischargePlan.objects.values_list("status", flat=True).get(pk=plan.pk)
        DischargePlan.objects.filter(pk=plan.pk).update(status="draft")
        for n in range(count):
            AftercareReferral.objects.create(
                plan=plan, kind="other", organisation=f"Provider {n}", consent=consent
            )
            Amendment.objects.create(
                plan=plan,
                written_by=therapist,
                what=f"Item {n}",
                correction="-",
                why="-",
            )
        DischargePlan.objects.filter(pk=plan.pk).update(status=status)

    add(1)
    if finalised:
        finalise_plan(plan=plan, by=therapist)
    client.force_login(therapist)
    url = plan_url("change", plan)
    queries_for(client, url)  # warm per-process caches
    with_2 = queries_for(client, url)

    add(18)

    assert plan.referrals.count() == 20
    assert DischargePlan.objects.get(pk=plan.pk).is_finalised is finalised
    assert queries_for(client, url) == with_2


@pytest.mark.parametrize("page", ["client_copy", "finalise", "discharge", "step"])
def test_the_discharge_pages_run_as_many_queries_for_20_referrals_as_for_2(
    client: Any, therapist: Any, page: str
) -> None:
    """The client's copy, the finalise page and the enrollment's discharge and step
    pages: each referral adds no query."""
    enrollment = EnrollmentFactory(primary_therapist=therapist)
    plan = complete_plan(enrollment)
    url = {
        "client_copy": reverse(
            "admin:discharge_dischargeplan_client_copy", args=[plan.pk]
        ),
        "finalise": reverse("admin:discharge_dischargeplan_finalise", args=[plan.pk]),
        "discharge": enrollment_url("discharge", enrollment),
        "step": enrollment_url("step", enrollment),
    }[page]

    def add(count: int) -> None:
        for n in range(count):
            AftercareReferral.objects.create(
                plan=plan, kind="support_group", organisation=f"Group {n}"
            )

    add(1)
    client.force_login(therapist)
    queries_for(client, url)  # warm per-process caches
    with_2 = queries_for(client, url)
    add(18)
    assert queries_for(client, url) == with_2
