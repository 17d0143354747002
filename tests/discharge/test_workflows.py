"""The discharge workflow: the plan's completeness per type, the enrollment ended,
its seat freed for the head of the waitlist, follow-ups, amendments, step up/down."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from discharge.models import AftercareReferral, Amendment, DischargePlan, FollowUp
from discharge.workflows import (
    discharge_client,
    finalise_plan,
    missing_for,
    record_follow_up,
    start_discharge_plan,
    step_to,
)
from intake.models import WaitlistEntry
from programs.availability import ready_to_offer
from programs.models import Appointment, Enrollment, PlanStatus, TreatmentPlan
from programs.plans import sign_plan
from tests.factories import (
    EnrollmentFactory,
    ProgramFactory,
    StaffFactory,
    TrackFactory,
    TreatmentPlanFactory,
    WaitlistEntryFactory,
    with_content,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def complete_plan(enrollment: Enrollment, **fields: Any) -> DischargePlan:
    """A plan ready for a completed discharge: reason, the client's agreement, the
    date, a referral, a relapse plan."""
    staff = StaffFactory()
    plan = start_discharge_plan(enrollment=enrollment, by=staff)
    values = {
        "intended_reason": "Met the discharge criteria.",
        "client_agreed_on": TODAY(),
        "planned_on": TODAY(),
        "warning_signs": "Sleeping past noon; skipping meals.",
        "coping_strategies": "Morning walk; call my sister.",
        **fields,
    }
    for name, value in values.items():
        setattr(plan, name, value)
    plan.save()
    AftercareReferral.objects.create(
        plan=plan,
        kind="outpatient_therapy",
        organisation="Riverside Counselling",
        phone="555-0100",
    )
    return plan


def discharge(enrollment: Enrollment, kind: str = "completed", **kw: Any) -> Any:
    return discharge_client(
        enrollment=enrollment,
        by=kw.pop("by", StaffFactory()),
        on=kw.pop("on", TODAY()),
        discharge_type=kind,
        reason=kw.pop("reason", "Finished the program."),
    )


# ---- completeness per type ----


def test_a_planned_discharge_needs_a_plan() -> None:
    enrollment = EnrollmentFactory()
    with pytest.raises(ValidationError, match="start one first"):
        discharge(enrollment)
    enrollment.refresh_from_db()
    assert enrollment.status == "active"


@pytest.mark.parametrize("kind", ["completed", "stepped_down"])
def test_completed_and_stepped_down_need_a_referral(kind: str) -> None:
    enrollment = EnrollmentFactory()
    plan = complete_plan(enrollment)
    plan.referrals.all().delete()
    assert "Add at least one aftercare referral." in missing_for(plan, kind)
    with pytest.raises(ValidationError):
        discharge(enrollment, kind)


def test_a_transfer_needs_no_referral_but_the_rest_of_the_plan() -> None:
    enrollment = EnrollmentFactory()
    plan = complete_plan(enrollment, warning_signs="")
    plan.referrals.all().delete()
    missing = missing_for(plan, "transferred")
    assert missing == [
        "Complete the relapse and crisis plan: warning signs and coping."
    ]


def test_medication_continuity_is_needed_when_a_psychiatrist_is_on_the_case() -> None:
    enrollment = EnrollmentFactory(psychiatrist=StaffFactory())
    plan = complete_plan(enrollment)
    assert any("medication continuity" in item for item in missing_for(plan))
    plan.current_medications = "Sertraline 100 mg each morning"
    plan.continuing_prescriber = "Dr Okafor, Riverside Clinic"
    plan.supply_until = TODAY() + datetime.timedelta(days=30)
    plan.save()
    assert missing_for(plan) == []


@pytest.mark.parametrize(
    "kind", ["against_advice", "stepped_up", "administrative", "lost_contact"]
)
def test_an_unplanned_discharge_needs_only_type_date_and_reason(kind: str) -> None:
    enrollment = EnrollmentFactory()
    plan = discharge(enrollment, kind, on=TODAY() - datetime.timedelta(days=2))
    enrollment.refresh_from_db()
    assert enrollment.status == "discharged"
    assert enrollment.discharge_type == kind
    assert plan.status == "draft"
    # DOMAIN.md section 5: the discharge summary is due within 15 days.
    assert plan.summary_due_on == TODAY() + datetime.timedelta(days=13)


def test_the_overdue_summary_list() -> None:
    late = discharge(
        EnrollmentFactory(admitted_on=TODAY() - datetime.timedelta(60)),
        "lost_contact",
        on=TODAY() - datetime.timedelta(days=16),
    )
    discharge(EnrollmentFactory(), "administrative", on=TODAY())
    assert list(DischargePlan.objects.summary_overdue(TODAY())) == [late]


@pytest.mark.parametrize("kind", ["against_advice", "lost_contact"])
def test_without_the_client_outreach_replaces_their_agreement(kind: str) -> None:
    enrollment = EnrollmentFactory()
    plan = discharge(enrollment, kind)
    assert "Record the attempts made to reach the client." in missing_for(plan)
    assert "Record when the plan was reviewed with the client." not in missing_for(plan)


def test_a_reason_is_always_recorded() -> None:
    with pytest.raises(ValidationError) as error:
        discharge(EnrollmentFactory(), "administrative", reason="  ")
    assert "reason" in error.value.message_dict


@pytest.mark.parametrize("days", [1, -30])
def test_the_discharge_date_is_between_admission_and_today(days: int) -> None:
    enrollment = EnrollmentFactory(admitted_on=TODAY() - datetime.timedelta(days=7))
    with pytest.raises(ValidationError) as error:
        discharge(enrollment, "administrative", on=TODAY() + datetime.timedelta(days))
    assert "on" in error.value.message_dict


# ---- what the discharge does ----


def test_a_completed_discharge_end_to_end() -> None:
    """Plan -> discharge -> the seat is free and the waitlist's head is surfaced."""
    track = TrackFactory(capacity=1)
    enrollment = EnrollmentFactory(track=track)
    waiting = WaitlistEntryFactory(level_of_care="iop", preferred_schedule="either")
    assert all(entry != waiting for _, entry in ready_to_offer())
    booked = Appointment.objects.create(
        enrollment=enrollment,
        service="individual_therapy",
        starts_at=timezone.now() + datetime.timedelta(days=3),
    )
    plan = complete_plan(enrollment)
    by = StaffFactory()

    plan = discharge(enrollment, by=by)

    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.discharged_on) == ("discharged", TODAY())
    assert enrollment.discharge_reason == "Finished the program."
    assert plan.status == "finalised"
    assert plan.discharged_by == by
    assert plan.discharged_at is not None
    booked.refresh_from_db()
    assert booked.attendance == "cancelled"
    assert (track, waiting) in [
        (ready_track, entry) for ready_track, entry in ready_to_offer()
    ]
    assert sorted(plan.follow_ups.values_list("days_after", "due_on")) == [
        (7, TODAY() + datetime.timedelta(days=7)),
        (30, TODAY() + datetime.timedelta(days=30)),
    ]


def test_the_clients_own_open_waitlist_entries_close() -> None:
    enrollment = EnrollmentFactory()
    entry = WaitlistEntryFactory(client=enrollment.client)
    discharge(enrollment, "administrative")
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.REMOVED


@override_settings(DISCHARGE_FOLLOW_UP_DAYS=[3, 14, 60])
def test_follow_up_days_are_a_setting() -> None:
    plan = discharge(EnrollmentFactory(), "administrative")
    assert sorted(plan.follow_ups.values_list("days_after", flat=True)) == [3, 14, 60]


def test_attending_the_first_appointment_updates_the_referral() -> None:
    enrollment = EnrollmentFactory(admitted_on=TODAY() - datetime.timedelta(days=40))
    complete_plan(enrollment)
    plan = discharge(enrollment, on=TODAY() - datetime.timedelta(days=8))
    referral = plan.referrals.get()
    referral.status = "scheduled"
    referral.first_appointment_at = timezone.now() - datetime.timedelta(days=2)
    referral.save()
    week = plan.follow_ups.get(days_after=7)
    assert list(FollowUp.objects.overdue(TODAY())) == [week]

    record_follow_up(follow_up=week, outcome="attended", on=TODAY(), note="Went")

    referral.refresh_from_db()
    assert referral.status == "attended"
    assert list(FollowUp.objects.overdue(TODAY())) == []


def test_a_follow_up_outcome_needs_its_date() -> None:
    plan = discharge(EnrollmentFactory(), "administrative")
    follow_up = plan.follow_ups.first()
    assert follow_up is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUp.objects.filter(pk=follow_up.pk).update(outcome="reached")


# ---- read-only afterwards; amendments ----


def test_after_discharge_the_enrollment_and_the_plan_are_read_only() -> None:
    enrollment = EnrollmentFactory()
    complete_plan(enrollment)
    plan = discharge(enrollment)
    enrollment.refresh_from_db()
    enrollment.discharged_on = TODAY() - datetime.timedelta(days=1)
    with pytest.raises(ValidationError):
        enrollment.save()
    plan.warning_signs = "Rewritten"
    with pytest.raises(ValidationError):
        plan.save()
    with pytest.raises(ValidationError):
        AftercareReferral.objects.create(plan=plan, kind="other", organisation="Late")
    with pytest.raises(ValidationError):
        discharge(enrollment, "administrative")


def test_a_referrals_progress_is_still_recorded_after_finalising() -> None:
    enrollment = EnrollmentFactory()
    complete_plan(enrollment)
    plan = discharge(enrollment)
    referral = plan.referrals.get()
    referral.status = "scheduled"
    referral.first_appointment_at = timezone.now() + datetime.timedelta(days=5)
    referral.save()
    referral.organisation = "Somewhere else"
    with pytest.raises(ValidationError):
        referral.save()


def test_a_correction_is_an_amendment_appended_never_an_edit() -> None:
    enrollment = EnrollmentFactory()
    complete_plan(enrollment)
    plan = discharge(enrollment)
    amendment = Amendment.objects.create(
        plan=plan,
        written_by=StaffFactory(),
        what="Discharge date",
        correction="Last attended on the 20th, not the 21st.",
        why="Attendance was corrected after discharge.",
    )
    amendment.why = "Changed my mind"
    with pytest.raises(ValidationError):
        amendment.save()
    assert list(plan.amendments.all()) == [amendment]


def test_a_returning_client_gets_a_new_enrollment_the_old_stays() -> None:
    enrollment = EnrollmentFactory()
    discharge(enrollment, "lost_contact")
    again = EnrollmentFactory(client=enrollment.client)
    enrollment.refresh_from_db()
    assert enrollment.status == "discharged"
    assert again.status == "active"


def test_finalising_twice_is_refused() -> None:
    plan = complete_plan(EnrollmentFactory())
    finalise_plan(plan=plan, by=StaffFactory())
    with pytest.raises(ValidationError):
        finalise_plan(plan=plan, by=StaffFactory())


# ---- step down / step up ----


def php_and_iop() -> tuple[Any, Any]:
    php = TrackFactory(program=ProgramFactory(name="Adult PHP", level_of_care="php"))
    iop = TrackFactory(program=ProgramFactory(name="Adult IOP", level_of_care="iop"))
    return php, iop


def test_step_down_discharges_admits_and_carries_the_plan_forward() -> None:
    php, iop = php_and_iop()
    enrollment = EnrollmentFactory(track=php)
    plan = with_content(TreatmentPlanFactory(enrollment=enrollment), problems=2)
    sign_plan(plan=plan, by=plan.created_by)
    complete_plan(enrollment)
    DischargePlan.objects.filter(enrollment=enrollment).get().referrals.all().delete()

    new = step_to(
        enrollment=enrollment,
        track=iop,
        by=StaffFactory(),
        on=TODAY(),
        reason="Ready for fewer hours.",
    )

    enrollment.refresh_from_db()
    assert enrollment.discharge_type == "stepped_down"
    assert new.track == iop
    assert new.status == "active"
    carried = TreatmentPlan.objects.get(enrollment=new)
    assert (carried.version, carried.status) == (1, PlanStatus.DRAFT)
    assert carried.problems.count() == 2
    # The receiving program is recorded as the aftercare referral.
    assert enrollment.discharge_plan.referrals.get().organisation.startswith(
        "Adult IOP"
    )


def test_step_up_into_a_full_track_changes_nothing() -> None:
    """One transaction: when the PHP track is full, the IOP episode is not ended."""
    php, iop = php_and_iop()
    php.capacity = 1
    php.save()
    EnrollmentFactory(track=php)
    enrollment = EnrollmentFactory(track=iop)
    with pytest.raises(ValidationError):
        step_to(
            enrollment=enrollment,
            track=php,
            by=StaffFactory(),
            on=TODAY(),
            reason="Needs daily structure.",
        )
    enrollment.refresh_from_db()
    assert enrollment.status == "active"
    assert not DischargePlan.objects.filter(enrollment=enrollment).exists()


def test_stepping_within_the_same_level_is_a_track_change_not_a_step() -> None:
    php, iop = php_and_iop()
    other_iop = TrackFactory(program=iop.program, schedule="day")
    with pytest.raises(ValidationError):
        step_to(
            enrollment=EnrollmentFactory(track=iop),
            track=other_iop,
            by=StaffFactory(),
            on=TODAY(),
            reason="x",
        )


def test_a_follow_up_belongs_to_someone_on_the_care_team() -> None:
    """Anyone else could not open it (caseload access)."""
    plan = discharge(EnrollmentFactory(primary_therapist=StaffFactory()), "other")
    follow_up = plan.follow_ups.first()
    assert follow_up is not None
    assert follow_up.owner == plan.enrollment.primary_therapist
    follow_up.owner = StaffFactory()
    with pytest.raises(ValidationError) as error:
        follow_up.full_clean()
    assert "owner" in error.value.message_dict
    psychiatrist = StaffFactory()
    Enrollment.objects.filter(pk=plan.enrollment_id).update(psychiatrist=psychiatrist)
    follow_up = FollowUp.objects.get(pk=follow_up.pk)
    follow_up.owner = psychiatrist
    follow_up.full_clean()
