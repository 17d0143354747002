"""Seating people: offers, admission and track changes, each under the track's row lock.

Every step that can take a seat locks the track row first (``select_for_update``), so on
PostgreSQL concurrent coordinators are served one at a time and a track never holds more
people than it has seats.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from intake.models import Client, Inquiry, WaitlistEntry

from .models import (
    Attendance,
    Enrollment,
    GroupSession,
    HoldPeriod,
    Placement,
    ScheduleBlock,
    SeatOffer,
    Track,
)
from .models.enrollment import MAX_DAYS_AHEAD
from .models.sessions import GROUP_SERVICES


def _lock_track_with_a_seat(track: Track, *, freeing: int = 0) -> Track:
    """Lock the track row, then refuse unless it is active and has a seat.

    ``freeing`` counts seats the caller already holds in this track and is about to turn
    into something else (an accepted offer becoming an enrollment).
    """
    locked = (
        Track.objects.select_related("program").select_for_update().get(pk=track.pk)
    )
    if not (locked.active and locked.program.active):
        raise ValidationError(f"{locked} is not active: choose another track.")
    if locked.open_seats() + freeing < 1:
        raise ValidationError(
            f"{locked} is full ({locked.capacity} seats all held). Offer another track "
            "or keep them on the waitlist."
        )
    return locked


@transaction.atomic
def make_offer(*, entry: WaitlistEntry, track: Track, by: Any) -> SeatOffer:
    """Offer a seat in ``track`` to a waiting entry; the seat is held until answered."""
    entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.status != WaitlistEntry.Status.WAITING:
        raise ValidationError("Only someone still waiting can be offered a seat.")
    locked = _lock_track_with_a_seat(track)
    if locked.program.level_of_care != entry.level_of_care:
        raise ValidationError(
            f"{locked} is {locked.program.get_level_of_care_display()}; they are "
            f"waiting for {entry.get_level_of_care_display()}."
        )
    now = timezone.now()
    offer = SeatOffer.objects.create(
        waitlist_entry=entry,
        track=locked,
        offered_by=by,
        offered_at=now,
        expires_at=now + datetime.timedelta(days=settings.SEAT_OFFER_DAYS),
    )
    entry.status = WaitlistEntry.Status.OFFERED
    entry.save(update_fields=["status"])
    return offer


def _close_offer(offer: SeatOffer, outcome: str) -> None:
    """Record the answer; a declined or expired offer puts the entry back in line."""
    offer.outcome = outcome
    offer.outcome_at = timezone.now()
    offer.save(update_fields=["outcome", "outcome_at"])
    if outcome != SeatOffer.Outcome.ACCEPTED:
        # Back to waiting: the place in line comes from priority and the date added,
        # so the person is back in their old place.
        WaitlistEntry.objects.filter(
            pk=offer.waitlist_entry_id, status=WaitlistEntry.Status.OFFERED
        ).update(status=WaitlistEntry.Status.WAITING)


@transaction.atomic
def decline_offer(*, offer: SeatOffer) -> None:
    offer = SeatOffer.objects.select_for_update().get(pk=offer.pk)
    if not offer.is_open:
        raise ValidationError("This offer was already answered.")
    _close_offer(offer, SeatOffer.Outcome.DECLINED)


@transaction.atomic
def expire_stale_offers() -> int:
    """Expire every open offer past its expiry; safe to run as often as you like."""
    stale = list(SeatOffer.objects.stale().select_for_update(skip_locked=True))
    for offer in stale:
        _close_offer(offer, SeatOffer.Outcome.EXPIRED)
    return len(stale)


@transaction.atomic
def admit_client(
    *,
    track: Track,
    by: Any,
    admitted_on: datetime.date | None = None,
    offer: SeatOffer | None = None,
    entry: WaitlistEntry | None = None,
    client: Client | None = None,
    primary_therapist: Any = None,
) -> Enrollment:
    """Admit into ``track``: from an accepted offer, a waitlist entry, or a client.

    Creates the enrollment (scheduled when dated in the future), its first placement,
    and marks the offer accepted, the waitlist entry admitted and the client's open
    inquiries admitted. Nothing else creates an enrollment.
    """
    today = timezone.localdate()
    admitted_on = admitted_on or today
    if admitted_on > today + datetime.timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationError(
            f"Admission more than {MAX_DAYS_AHEAD} days ahead: check the date."
        )
    freeing = 0
    if offer is not None:
        offer = SeatOffer.objects.select_for_update().get(pk=offer.pk)
        if not offer.is_open or offer.track_id != track.pk:
            raise ValidationError("This offer is not open for this track.")
        entry = offer.waitlist_entry
        freeing = 1  # the offer's own seat becomes the enrollment's
    other_offer: SeatOffer | None = None
    if entry is not None:
        entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if not entry.is_open:
            raise ValidationError("This waitlist entry is no longer open.")
        client = entry.client
        if offer is None:
            # Admitted by their entry while holding an open offer: answer that offer
            # too, so it never holds a second seat (accepted when it is for this
            # track, declined when they take a seat in another).
            held = (
                SeatOffer.objects.open()
                .select_for_update()
                .filter(waitlist_entry=entry)
                .first()
            )
            if held is not None and held.track_id == track.pk:
                offer, freeing = held, 1
            else:
                other_offer = held
    if client is None:
        raise ValidationError("Choose who is being admitted.")
    locked = _lock_track_with_a_seat(track, freeing=freeing)
    if Enrollment.objects.open().filter(client=client).exists():
        raise ValidationError(
            f"{client} already has an enrollment that is not discharged."
        )

    enrollment = Enrollment.objects.create(
        client=client,
        track=locked,
        admitted_on=admitted_on,
        status=(
            Enrollment.Status.SCHEDULED
            if admitted_on > today
            else Enrollment.Status.ACTIVE
        ),
        expected_end=admitted_on
        + datetime.timedelta(weeks=locked.program.typical_length_weeks or 6),
        primary_therapist=primary_therapist,
        waitlist_entry=entry,
        # DOMAIN.md section 3: the initial treatment plan is due N days after admission.
        plan_due_on=admitted_on
        + datetime.timedelta(days=locked.program.initial_plan_due_days or 7),
    )
    Placement.objects.create(
        enrollment=enrollment,
        to_track=locked,
        on=admitted_on,
        reason="Admission",
        placed_by=by,
    )
    if offer is not None:
        _close_offer(offer, SeatOffer.Outcome.ACCEPTED)
    if entry is not None:
        entry.status = WaitlistEntry.Status.ADMITTED
        entry.save(update_fields=["status"])
    if other_offer is not None:
        _close_offer(other_offer, SeatOffer.Outcome.DECLINED)
    for inquiry in Inquiry.objects.filter(client=client).open():
        if Inquiry.Status.ADMITTED in inquiry.allowed_moves():
            inquiry.move_to(
                Inquiry.Status.ADMITTED, by=by, note=f"Admitted to {locked}."
            )
    return enrollment


@transaction.atomic
def change_track(
    *, enrollment: Enrollment, to_track: Track, by: Any, on: datetime.date, reason: str
) -> Placement:
    """Move an open enrollment to another track of its program (day <-> evening)."""
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if not enrollment.holds_a_seat:
        raise ValidationError("Only an open enrollment can change track.")
    if to_track.pk == enrollment.track_id:
        raise ValidationError("They are already in that track.")
    if to_track.program_id != enrollment.track.program_id:
        raise ValidationError(
            "A change of level of care is a discharge (stepped up or down) and a new "
            "admission, not a track change."
        )
    if not reason:
        raise ValidationError("Give the reason for the track change.")
    locked = _lock_track_with_a_seat(to_track)
    placement = Placement.objects.create(
        enrollment=enrollment,
        from_track=enrollment.track,
        to_track=locked,
        on=on,
        reason=reason,
        placed_by=by,
    )
    enrollment.track = locked
    enrollment.save(update_fields=["track"])
    return placement


@transaction.atomic
def put_on_hold(
    *,
    enrollment: Enrollment,
    by: Any,
    starts_on: datetime.date,
    reason: str,
    keep_seat_days: int | None = None,
) -> HoldPeriod:
    """Pause an active enrollment; it keeps its seat (``HOLD_SEAT_DAYS`` by default)."""
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if enrollment.status != Enrollment.Status.ACTIVE:
        raise ValidationError("Only an active enrollment can be put on hold.")
    if not reason:
        raise ValidationError("Give the reason for the hold (e.g. a hospital stay).")
    if starts_on < enrollment.admitted_on:
        raise ValidationError("A hold cannot start before the admission.")
    days = settings.HOLD_SEAT_DAYS if keep_seat_days is None else keep_seat_days
    hold = HoldPeriod.objects.create(
        enrollment=enrollment,
        starts_on=starts_on,
        keep_seat_until=starts_on + datetime.timedelta(days=days),
        reason=reason,
        placed_by=by,
    )
    enrollment.status = Enrollment.Status.ON_HOLD
    enrollment.save(update_fields=["status"])
    return hold


@transaction.atomic
def end_hold(*, enrollment: Enrollment, by: Any, on: datetime.date) -> HoldPeriod:
    """Back to active treatment; the hold stays on record with its end date."""
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    hold = HoldPeriod.objects.current().filter(enrollment=enrollment).first()
    if enrollment.status != Enrollment.Status.ON_HOLD or hold is None:
        raise ValidationError("This enrollment is not on hold.")
    if on < hold.starts_on:
        raise ValidationError("A hold cannot end before it started.")
    hold.ended_on, hold.ended_by = on, by
    hold.save(update_fields=["ended_on", "ended_by"])
    enrollment.status = Enrollment.Status.ACTIVE
    enrollment.save(update_fields=["status"])
    return hold


def generate_sessions(
    *, start: datetime.date, end: datetime.date, tracks: Any = None
) -> int:
    """Create the group sessions of each active track's weekly blocks from ``start``
    to ``end`` inclusive; safe to repeat (existing and cancelled sessions stay as
    they are). Individual therapy and medication management are appointments, not
    sessions."""
    if end < start:
        raise ValidationError("The end of the range is before its start.")
    if (end - start).days > 366:
        raise ValidationError("Generate at most a year of sessions at a time.")
    group_services = [service.value for service in GROUP_SERVICES]
    blocks = ScheduleBlock.objects.filter(
        track__in=tracks if tracks is not None else Track.objects.active(),
        service__in=group_services,
    ).select_related("track")
    by_weekday: dict[int, list[ScheduleBlock]] = {}
    for block in blocks:
        by_weekday.setdefault(block.weekday, []).append(block)
    created = 0
    day = start
    while day <= end:
        for block in by_weekday.get(day.weekday(), []):
            _, made = GroupSession.objects.get_or_create(
                block=block,
                starts_at=block.starts_on(day),
                defaults={
                    "track": block.track,
                    "service": block.service,
                    "duration_minutes": block.duration_minutes,
                    "facilitator": block.facilitator,
                },
            )
            created += made
        day += datetime.timedelta(days=1)
    return created


@transaction.atomic
def take_attendance(
    *, session: GroupSession, by: Any, marks: dict[int, tuple[str, int | None]]
) -> int:
    """Record the roll for a session in one go: enrollment id -> (status, minutes).

    Only people on the session's roster can be marked; marking again replaces the
    earlier mark. Returns how many rows were written.
    """
    session = GroupSession.objects.select_for_update().get(pk=session.pk)
    if session.cancelled:
        raise ValidationError("This session was cancelled: there is no roll to take.")
    if session.starts_at > timezone.now():
        raise ValidationError("The roll is taken once the session has started.")
    roster = {enrollment.pk: enrollment for enrollment in session.roster()}
    strangers = set(marks) - set(roster)
    if strangers:
        raise ValidationError(
            "Only people enrolled in the track that day can be marked."
        )
    for enrollment_id, (status, minutes) in marks.items():
        if minutes is not None and minutes > session.duration_minutes:
            raise ValidationError(
                "Minutes attended cannot exceed the session's length."
            )
        row = Attendance.objects.filter(
            session=session, enrollment_id=enrollment_id
        ).first()
        row = row or Attendance(session=session, enrollment=roster[enrollment_id])
        row.status, row.minutes_attended = status, minutes
        row.save()
    session.roll_taken_at, session.roll_taken_by = timezone.now(), by
    session.save(update_fields=["roll_taken_at", "roll_taken_by"])
    return len(marks)
