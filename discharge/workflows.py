"""Ending an episode of care: the one way an enrollment ends (DOMAIN.md section 5).

``discharge_client`` checks the discharge plan for the discharge's type, ends the
enrollment, frees its seat (the admin index then shows coordinators the next person
to offer it to, ``programs.availability.ready_to_offer``), cancels what was booked
after the last day, closes the client's open waitlist entries, and schedules the
post-discharge follow-ups. ``step_to`` moves a client between levels of care (PHP <->
IOP) in one transaction. Each runs in one transaction and locks the enrollment row.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from intake.models import WaitlistEntry
from programs.models import (
    Appointment,
    Attendance,
    DischargeType,
    Enrollment,
    HoldPeriod,
    SeatOffer,
    Track,
    TreatmentPlan,
)
from programs.plans import copy_content
from programs.workflows import admit_client, decline_offer

from .models import (
    NEEDS_REFERRAL,
    PLANNED_TYPES,
    SUMMARY_DUE_DAYS,
    WITHOUT_THE_CLIENT,
    AftercareReferral,
    DischargePlan,
    FollowUp,
    PlanStatus,
    ReferralKind,
    ReferralStatus,
)


def _lock(enrollment: Enrollment) -> Enrollment:
    return (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("client", "track__program")
        .get(pk=enrollment.pk)
    )


@transaction.atomic
def start_discharge_plan(*, enrollment: Enrollment, by: Any) -> DischargePlan:
    """Discharge planning begins early: a draft plan, any time during treatment."""
    enrollment = _lock(enrollment)
    if DischargePlan.objects.filter(enrollment=enrollment).exists():
        raise ValidationError("This enrollment already has a discharge plan.")
    if enrollment.status == Enrollment.Status.DISCHARGED:
        raise ValidationError("This client has been discharged.")
    return DischargePlan.objects.create(enrollment=enrollment, prepared_by=by)


def missing_for(plan: DischargePlan, discharge_type: str | None = None) -> list[str]:
    """What the plan still needs before it can be finalised for ``discharge_type``
    (its intended type by default), in words a clinician can act on."""
    kind = discharge_type or plan.intended_type
    missing: list[str] = []
    if not plan.intended_reason.strip():
        missing.append("Record the reason for the discharge.")
    if kind in WITHOUT_THE_CLIENT:
        if not plan.outreach_attempts.strip():
            missing.append("Record the attempts made to reach the client.")
    elif plan.client_agreed_on is None:
        missing.append("Record when the plan was reviewed with the client.")
    if kind not in PLANNED_TYPES:
        return missing
    if plan.planned_on is None:
        missing.append("Give the planned discharge date.")
    if kind in NEEDS_REFERRAL and not plan.referrals.exists():
        missing.append("Add at least one aftercare referral.")
    if plan.enrollment.psychiatrist_id and not (
        plan.current_medications.strip()
        and plan.continuing_prescriber.strip()
        and (plan.next_medication_appointment or plan.supply_until)
    ):
        missing.append(
            "Complete medication continuity: current medications, the prescriber who "
            "continues them, and the next appointment or how long the supply lasts."
        )
    if not (plan.warning_signs.strip() and plan.coping_strategies.strip()):
        missing.append(
            "Complete the relapse and crisis plan: warning signs and coping."
        )
    return missing


@transaction.atomic
def finalise_plan(*, plan: DischargePlan, by: Any) -> DischargePlan:
    """The plan is complete for its type: from now on it is read-only."""
    _lock(plan.enrollment)
    plan = DischargePlan.objects.select_related("enrollment").get(pk=plan.pk)
    if plan.is_finalised:
        raise ValidationError("This discharge plan is already finalised.")
    missing = missing_for(plan)
    if missing:
        raise ValidationError(missing)
    plan.status = PlanStatus.FINALISED
    plan.finalised_by = by
    plan.finalised_at = timezone.now()
    plan.save()
    return plan


@transaction.atomic
def discharge_client(
    *,
    enrollment: Enrollment,
    by: Any,
    on: datetime.date,
    discharge_type: str,
    reason: str,
) -> DischargePlan:
    """End the enrollment on ``on`` (its last day in the program).

    A planned discharge (completed, stepped down, transferred) needs the discharge
    plan complete for its type, and finalises it. An unplanned one needs only the
    type, date and reason; its discharge summary (the plan) is then due within 15
    days. Returns the discharge plan.
    """
    enrollment = _lock(enrollment)
    if enrollment.status == Enrollment.Status.DISCHARGED:
        raise ValidationError("This client has already been discharged.")
    if discharge_type not in DischargeType.values:
        raise ValidationError({"discharge_type": "Choose a discharge type."})
    if not reason.strip():
        raise ValidationError({"reason": "A reason is always recorded."})
    today = timezone.localdate()
    if on > today:
        raise ValidationError({"on": "Record a discharge on or after its day."})
    if on < enrollment.admitted_on:
        raise ValidationError({"on": "The discharge is before the admission."})

    plan = DischargePlan.objects.filter(enrollment=enrollment).first()
    if discharge_type in PLANNED_TYPES:
        if plan is None:
            raise ValidationError(
                "A planned discharge needs its discharge plan: start one first."
            )
        if not plan.is_finalised:
            missing = missing_for(plan, discharge_type)
            if missing:
                raise ValidationError(missing)
            plan.intended_type = discharge_type
            plan.save()
            plan = finalise_plan(plan=plan, by=by)
    elif plan is None:
        plan = DischargePlan.objects.create(
            enrollment=enrollment,
            prepared_by=by,
            intended_type=discharge_type,
            intended_reason=reason,
        )
    elif not plan.is_finalised:
        # The summary still to write is checked against how the episode really
        # ended, not the type planned for it.
        plan.intended_type = discharge_type
        plan.intended_reason = plan.intended_reason.strip() or reason
        plan.save(update_fields=["intended_type", "intended_reason"])

    enrollment.status = Enrollment.Status.DISCHARGED
    enrollment.discharged_on = on
    enrollment.discharge_type = discharge_type
    enrollment.discharge_reason = reason.strip()
    enrollment.save(
        update_fields=["status", "discharged_on", "discharge_type", "discharge_reason"]
    )
    HoldPeriod.objects.current().filter(enrollment=enrollment).update(
        ended_on=on, ended_by=by
    )
    _cancel_after(enrollment, on)
    _close_waitlist_entries(enrollment, by)

    plan.discharged_by = by
    plan.discharged_at = timezone.now()
    fields = ["discharged_by", "discharged_at"]
    if not plan.is_finalised:
        plan.summary_due_on = on + datetime.timedelta(days=SUMMARY_DUE_DAYS)
        fields.append("summary_due_on")
    plan.save(update_fields=fields)
    _schedule_follow_ups(plan, on, owner=enrollment.primary_therapist or by)
    return plan


def _cancel_after(enrollment: Enrollment, last_day: datetime.date) -> None:
    """Nothing booked after the last day stays booked: appointments not yet held and
    any attendance marked ahead are cancelled (kept on record, never deleted)."""
    cancelled = Attendance.Status.CANCELLED
    Appointment.objects.filter(
        enrollment=enrollment, starts_at__date__gt=last_day, attendance=""
    ).update(attendance=cancelled)
    Attendance.objects.filter(
        enrollment=enrollment, session__starts_at__date__gt=last_day
    ).update(status=cancelled, minutes_attended=0)


def _close_waitlist_entries(enrollment: Enrollment, by: Any) -> None:
    for offer in SeatOffer.objects.open().filter(
        waitlist_entry__client=enrollment.client
    ):
        decline_offer(offer=offer)
    for entry in WaitlistEntry.objects.filter(client=enrollment.client).open():
        entry.remove(
            reason=WaitlistEntry.RemovedReason.OTHER,
            by=by,
            note=f"Discharged from {enrollment.track}.",
        )


def _schedule_follow_ups(
    plan: DischargePlan, discharged_on: datetime.date, *, owner: Any
) -> None:
    """Check-ins after discharge: DISCHARGE_FOLLOW_UP_DAYS, by default 7 and 30."""
    first = first_appointment(plan)
    for days in settings.DISCHARGE_FOLLOW_UP_DAYS:
        FollowUp.objects.get_or_create(
            plan=plan,
            days_after=days,
            defaults={
                "due_on": discharged_on + datetime.timedelta(days=days),
                "owner": owner,
                "referral": first,
            },
        )


def first_appointment(plan: DischargePlan) -> AftercareReferral | None:
    """The referral with the earliest first appointment: what a check-in asks about."""
    return (
        plan.referrals.filter(first_appointment_at__isnull=False)
        .order_by("first_appointment_at", "id")
        .first()
    )


@transaction.atomic
def record_follow_up(
    *, follow_up: FollowUp, outcome: str, on: datetime.date, note: str = ""
) -> FollowUp:
    """The check-in's outcome, on the day it was done."""
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    follow_up.outcome = outcome
    follow_up.done_on = on
    follow_up.note = note
    if follow_up.referral is None:
        # The first appointment may have been booked after the discharge.
        follow_up.referral = first_appointment(follow_up.plan)
    follow_up.full_clean()
    follow_up.save()
    follow_up_done(follow_up)
    return follow_up


def follow_up_done(follow_up: FollowUp) -> None:
    """Attending the first aftercare appointment moves its referral to "attended"."""
    referral = follow_up.referral
    if (
        follow_up.outcome == FollowUp.Outcome.ATTENDED
        and referral is not None
        and referral.status != ReferralStatus.ATTENDED
    ):
        referral.status = ReferralStatus.ATTENDED
        referral.status_on = follow_up.done_on or timezone.localdate()
        referral.save()


@transaction.atomic
def step_to(
    *,
    enrollment: Enrollment,
    track: Track,
    by: Any,
    on: datetime.date,
    reason: str,
) -> Enrollment:
    """Move to another level of care (PHP -> IOP is a step down, IOP -> PHP a step
    up) as one transaction: discharge from this episode and admit into ``track``
    (under its capacity lock), carrying the treatment plan forward as the new
    episode's first draft. Returns the new enrollment."""
    enrollment = _lock(enrollment)
    here = enrollment.track.program.level_of_care
    there = track.program.level_of_care
    if here == there:
        raise ValidationError(
            {
                "track": "Choose a track at another level of care (a track change "
                "within the program keeps the episode)."
            }
        )
    stepping_down = here == "php"
    discharge_type = (
        DischargeType.STEPPED_DOWN if stepping_down else DischargeType.STEPPED_UP
    )
    plan = DischargePlan.objects.filter(enrollment=enrollment).first()
    if plan is None:
        plan = start_discharge_plan(enrollment=enrollment, by=by)
    if stepping_down and not plan.is_finalised and not plan.referrals.exists():
        # The receiving program is the aftercare: record it as the referral.
        AftercareReferral.objects.create(
            plan=plan,
            kind=ReferralKind.OUTPATIENT_THERAPY,
            organisation=f"{track.program} ({track})",
            status=ReferralStatus.SCHEDULED,
            first_appointment_at=timezone.make_aware(
                datetime.datetime.combine(on, datetime.time(9, 0))
            ),
            referred_on=min(on, timezone.localdate()),
            status_on=min(on, timezone.localdate()),
        )
    if not plan.intended_reason.strip() and not plan.is_finalised:
        plan.intended_reason = reason
        plan.save()
    discharge_client(
        enrollment=enrollment,
        by=by,
        on=on,
        discharge_type=discharge_type,
        reason=reason,
    )
    new = admit_client(
        track=track,
        by=by,
        client=enrollment.client,
        admitted_on=on,
        primary_therapist=enrollment.primary_therapist,
    )
    current = enrollment.treatment_plans.current()
    if current is not None:
        draft = TreatmentPlan.objects.create(
            enrollment=new,
            version=1,
            strengths=current.strengths,
            client_hopes=current.client_hopes,
            discharge_criteria=current.discharge_criteria,
            created_by=by,
        )
        copy_content(current, into=draft, by=by)
    return new
