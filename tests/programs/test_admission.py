"""Seating people: admission, seat offers and their answers, expiry, track changes."""

from __future__ import annotations

import datetime
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from intake.models import Inquiry, WaitlistEntry
from programs.models import Enrollment, Placement, Program, SeatOffer, Track
from programs.workflows import (
    admit_client,
    change_track,
    decline_offer,
    make_offer,
)
from tests.factories import (
    ClientFactory,
    EnrollmentFactory,
    InquiryFactory,
    ProgramFactory,
    SeatOfferFactory,
    TrackFactory,
    WaitlistEntryFactory,
)


def today() -> datetime.date:
    return timezone.localdate()


def in_days(days: int) -> datetime.date:
    return today() + datetime.timedelta(days=days)


def waiting_entry(**fields: Any) -> WaitlistEntry:
    """A waiting IOP entry whose client came in through a waitlisted inquiry."""
    client = ClientFactory()
    inquiry = InquiryFactory(client=client, status=Inquiry.Status.WAITLISTED)
    return WaitlistEntryFactory(client=client, inquiry=inquiry, **fields)


def position_of(entry: WaitlistEntry) -> int | None:
    row = WaitlistEntry.objects.with_position().get(pk=entry.pk)
    return row.position  # type: ignore[attr-defined, no-any-return]


@pytest.fixture
def track() -> Track:
    return TrackFactory(capacity=3)


# Admission


@pytest.mark.django_db
def test_admitting_a_waitlist_entry_opens_an_active_enrollment_today(
    track: Track, coordinator: Any
) -> None:
    """From the waitlist: entry admitted, enrollment active today, first placement."""
    entry = waiting_entry()

    enrollment = admit_client(track=track, entry=entry, by=coordinator)

    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.ADMITTED
    assert enrollment.client == entry.client
    assert enrollment.track == track
    assert enrollment.waitlist_entry == entry
    assert enrollment.status == Enrollment.Status.ACTIVE
    assert enrollment.admitted_on == today()
    assert enrollment.expected_end == today() + datetime.timedelta(weeks=6)
    placement = Placement.objects.get(enrollment=enrollment)
    assert placement.reason == "Admission"
    assert placement.from_track is None
    assert placement.to_track == track
    assert placement.on == today()
    assert placement.placed_by == coordinator
    assert track.open_seats() == 2


@pytest.mark.django_db
def test_admission_moves_the_waitlisted_inquiry_to_admitted_on_its_timeline(
    track: Track, coordinator: Any
) -> None:
    """The client's waitlisted inquiry becomes admitted, with a note on its timeline."""
    entry = waiting_entry()
    assert entry.inquiry is not None

    admit_client(track=track, entry=entry, by=coordinator)

    inquiry = Inquiry.objects.get(pk=entry.inquiry.pk)
    assert inquiry.status == Inquiry.Status.ADMITTED
    step = inquiry.status_changes.order_by("changed_at", "id").last()
    assert step is not None
    assert step.from_status == Inquiry.Status.WAITLISTED
    assert step.to_status == Inquiry.Status.ADMITTED
    assert step.changed_by == coordinator
    assert step.note == f"Admitted to {track}."


@pytest.mark.django_db
def test_admitting_from_an_open_offer_uses_the_offers_own_seat(
    coordinator: Any,
) -> None:
    """A track full only because of the offer still admits the person offered."""
    track = TrackFactory(capacity=2)
    EnrollmentFactory(track=track)
    entry = waiting_entry()
    offer = make_offer(entry=entry, track=track, by=coordinator)
    assert track.open_seats() == 0

    enrollment = admit_client(track=track, offer=offer, by=coordinator)

    offer.refresh_from_db()
    entry.refresh_from_db()
    assert offer.outcome == SeatOffer.Outcome.ACCEPTED
    assert offer.outcome_at is not None
    assert entry.status == WaitlistEntry.Status.ADMITTED
    assert enrollment.client == entry.client
    assert enrollment.waitlist_entry == entry
    assert track.open_seats() == 0
    assert track.seats_held() == 2


@pytest.mark.django_db
def test_an_answered_offer_cannot_admit(track: Track, coordinator: Any) -> None:
    """An offer already declined is not a way into the track."""
    offer = make_offer(entry=waiting_entry(), track=track, by=coordinator)
    decline_offer(offer=offer)

    with pytest.raises(ValidationError, match="not open for this track"):
        admit_client(track=track, offer=offer, by=coordinator)
    assert not Enrollment.objects.exists()


@pytest.mark.django_db
def test_a_future_admission_is_scheduled_and_holds_its_seat(
    track: Track, coordinator: Any
) -> None:
    """Admitted for a later date: status scheduled, and the seat is held already."""
    enrollment = admit_client(
        track=track, entry=waiting_entry(), by=coordinator, admitted_on=in_days(14)
    )

    assert enrollment.status == Enrollment.Status.SCHEDULED
    assert enrollment.admitted_on == in_days(14)
    assert enrollment.expected_end == in_days(14) + datetime.timedelta(weeks=6)
    assert track.seats_held() == 1
    assert track.open_seats() == 2


@pytest.mark.django_db
def test_a_full_track_refuses_admission(coordinator: Any) -> None:
    """Every seat held: admission is refused with "is full" and nothing changes."""
    track = TrackFactory(capacity=1)
    EnrollmentFactory(track=track)
    entry = waiting_entry()

    with pytest.raises(ValidationError, match="is full") as error:
        admit_client(track=track, entry=entry, by=coordinator)

    assert "1 seats all held" in error.value.messages[0]
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.WAITING
    assert not Enrollment.objects.filter(client=entry.client).exists()
    assert not Placement.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("closed", ["track", "program"])
def test_an_inactive_track_refuses_admission(coordinator: Any, closed: str) -> None:
    """A closed track, or a track of a closed program, admits no one."""
    track = TrackFactory()
    if closed == "track":
        Track.objects.filter(pk=track.pk).update(active=False)
    else:
        Program.objects.filter(pk=track.program.pk).update(active=False)
    entry = waiting_entry()

    with pytest.raises(ValidationError, match="is not active"):
        admit_client(track=track, entry=entry, by=coordinator)
    assert not Enrollment.objects.exists()


@pytest.mark.django_db
def test_a_client_with_an_open_enrollment_cannot_be_admitted_again(
    track: Track, coordinator: Any
) -> None:
    """One open episode per client: a second admission is refused, clearly."""
    entry = waiting_entry()
    EnrollmentFactory(client=entry.client, track=TrackFactory(program=track.program))

    with pytest.raises(
        ValidationError, match="already has an enrollment that is not discharged"
    ):
        admit_client(track=track, entry=entry, by=coordinator)
    assert Enrollment.objects.filter(client=entry.client).count() == 1
    assert track.open_seats() == 3


@pytest.mark.django_db
def test_a_discharged_client_can_be_admitted_again(
    track: Track, coordinator: Any
) -> None:
    """A discharged episode does not stand in the way of a new admission."""
    entry = waiting_entry()
    EnrollmentFactory(
        client=entry.client,
        track=track,
        status="discharged",
        admitted_on=in_days(-60),
        discharged_on=in_days(-10),
        discharge_type="completed",
    )

    enrollment = admit_client(track=track, entry=entry, by=coordinator)

    assert enrollment.status == Enrollment.Status.ACTIVE
    assert Enrollment.objects.filter(client=entry.client).count() == 2


@pytest.mark.django_db
def test_an_admission_more_than_90_days_ahead_is_refused(
    track: Track, coordinator: Any
) -> None:
    """A date past 90 days is almost surely a typo; 90 days itself is accepted."""
    with pytest.raises(ValidationError, match="more than 90 days ahead"):
        admit_client(
            track=track, entry=waiting_entry(), by=coordinator, admitted_on=in_days(91)
        )
    assert not Enrollment.objects.exists()

    enrollment = admit_client(
        track=track, entry=waiting_entry(), by=coordinator, admitted_on=in_days(90)
    )
    assert enrollment.status == Enrollment.Status.SCHEDULED


@pytest.mark.django_db
def test_the_database_refuses_a_second_open_enrollment() -> None:
    """The one_open_enrollment_per_client constraint holds even without the workflow."""
    first = EnrollmentFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        EnrollmentFactory(client=first.client, track=first.track)
    assert Enrollment.objects.filter(client=first.client).count() == 1


@pytest.mark.django_db
def test_enrollment_clean_reports_a_second_open_enrollment() -> None:
    """Enrollment.clean() names the client field when they are already enrolled."""
    first = EnrollmentFactory()
    second = Enrollment(client=first.client, track=first.track, admitted_on=today())

    with pytest.raises(ValidationError) as error:
        second.clean()

    assert error.value.message_dict == {
        "client": ["This client already has an enrollment that is not discharged."]
    }
    first.clean()  # its own row is not counted against it


# Offers


@pytest.mark.django_db
def test_an_offer_holds_the_seat_until_answered(
    track: Track, coordinator: Any, settings: Any
) -> None:
    """Making an offer takes one open seat and marks the entry offered, with expiry."""
    entry = waiting_entry()
    before = track.open_seats()

    offer = make_offer(entry=entry, track=track, by=coordinator)

    entry.refresh_from_db()
    assert track.open_seats() == before - 1
    assert entry.status == WaitlistEntry.Status.OFFERED
    assert offer.is_open
    assert offer.offered_by == coordinator
    assert offer.expires_at - offer.offered_at == datetime.timedelta(
        days=settings.SEAT_OFFER_DAYS
    )


@pytest.mark.django_db
def test_an_offer_into_a_full_track_is_refused(coordinator: Any) -> None:
    """The last seat already offered: a second offer is refused with "is full"."""
    track = TrackFactory(capacity=1)
    make_offer(entry=waiting_entry(), track=track, by=coordinator)
    second = waiting_entry()

    with pytest.raises(ValidationError, match="is full"):
        make_offer(entry=second, track=track, by=coordinator)
    second.refresh_from_db()
    assert second.status == WaitlistEntry.Status.WAITING
    assert SeatOffer.objects.open().count() == 1


@pytest.mark.django_db
def test_an_offer_must_match_the_level_of_care(coordinator: Any) -> None:
    """Someone waiting for IOP is not offered a PHP seat."""
    php_track = TrackFactory(
        program=ProgramFactory(name="Adult PHP", level_of_care="php")
    )
    entry = waiting_entry(level_of_care="iop")

    with pytest.raises(ValidationError, match="waiting for IOP") as error:
        make_offer(entry=entry, track=php_track, by=coordinator)

    assert "is PHP (partial hospitalization)" in error.value.messages[0]
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.WAITING
    assert not SeatOffer.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["offered", "admitted"])
def test_only_a_waiting_entry_can_be_offered_a_seat(
    track: Track, coordinator: Any, status: str
) -> None:
    """An entry already offered or admitted gets no (further) offer."""
    entry = waiting_entry(status=status)

    with pytest.raises(ValidationError, match="Only someone still waiting"):
        make_offer(entry=entry, track=track, by=coordinator)
    assert not SeatOffer.objects.exists()


@pytest.mark.django_db
def test_only_a_waiting_entry_can_be_offered_not_a_removed_one(
    track: Track, coordinator: Any
) -> None:
    """An entry taken off the waitlist is not offered a seat."""
    entry = waiting_entry()
    entry.remove(reason=WaitlistEntry.RemovedReason.UNREACHABLE, by=coordinator)

    with pytest.raises(ValidationError, match="Only someone still waiting"):
        make_offer(entry=entry, track=track, by=coordinator)
    assert not SeatOffer.objects.exists()


@pytest.mark.django_db
def test_a_declined_offer_frees_the_seat_and_restores_the_place_in_line(
    track: Track, coordinator: Any
) -> None:
    """Declining puts the entry back to waiting in its old place and frees the seat."""
    first = waiting_entry(added_on=in_days(-30))
    middle = waiting_entry(added_on=in_days(-20))
    last = waiting_entry(added_on=in_days(-10))
    assert [position_of(e) for e in (first, middle, last)] == [1, 2, 3]

    offer = make_offer(entry=middle, track=track, by=coordinator)
    assert position_of(middle) is None
    assert position_of(last) == 2
    assert track.open_seats() == 2

    decline_offer(offer=offer)

    offer.refresh_from_db()
    middle.refresh_from_db()
    assert offer.outcome == SeatOffer.Outcome.DECLINED
    assert offer.outcome_at is not None
    assert middle.status == WaitlistEntry.Status.WAITING
    assert [position_of(e) for e in (first, middle, last)] == [1, 2, 3]
    assert track.open_seats() == 3


@pytest.mark.django_db
def test_an_offer_cannot_be_declined_twice(track: Track, coordinator: Any) -> None:
    """A second answer to the same offer is refused."""
    offer = make_offer(entry=waiting_entry(), track=track, by=coordinator)
    decline_offer(offer=offer)

    with pytest.raises(ValidationError, match="already answered"):
        decline_offer(offer=offer)


def make_stale(offer: SeatOffer) -> None:
    now = timezone.now()
    SeatOffer.objects.filter(pk=offer.pk).update(
        offered_at=now - datetime.timedelta(days=4),
        expires_at=now - datetime.timedelta(minutes=1),
    )


@pytest.mark.django_db
def test_expire_offers_expires_only_stale_offers_and_frees_their_seats(
    track: Track, coordinator: Any
) -> None:
    """The command expires offers past expiry, frees seats, and is safe to repeat."""
    stale = make_offer(entry=waiting_entry(), track=track, by=coordinator)
    fresh = make_offer(entry=waiting_entry(), track=track, by=coordinator)
    make_stale(stale)
    assert track.open_seats() == 1

    out = StringIO()
    call_command("expire_offers", stdout=out)

    assert out.getvalue().strip() == "1 offer(s) expired."
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.outcome == SeatOffer.Outcome.EXPIRED
    assert stale.outcome_at is not None
    assert stale.waitlist_entry.status == WaitlistEntry.Status.WAITING
    assert fresh.is_open
    assert fresh.waitlist_entry.status == WaitlistEntry.Status.OFFERED
    assert track.open_seats() == 2

    again = StringIO()
    call_command("expire_offers", stdout=again)
    assert again.getvalue().strip() == "0 offer(s) expired."
    assert track.open_seats() == 2


@pytest.mark.django_db
def test_expire_offers_leaves_answered_offers_alone(coordinator: Any) -> None:
    """An accepted offer past its expiry date stays accepted."""
    offer = SeatOfferFactory(outcome="accepted", outcome_at=timezone.now())
    make_stale(offer)

    call_command("expire_offers", stdout=StringIO())

    offer.refresh_from_db()
    assert offer.outcome == SeatOffer.Outcome.ACCEPTED


# Track changes


@pytest.fixture
def evening_enrollment(track: Track, coordinator: Any) -> Enrollment:
    return admit_client(track=track, entry=waiting_entry(), by=coordinator)


@pytest.mark.django_db
def test_a_track_change_records_a_placement_and_keeps_the_episode(
    track: Track, evening_enrollment: Enrollment, make_staff: Any
) -> None:
    """Day <-> evening in one program: same enrollment, a placement with the details."""
    day = TrackFactory(program=track.program, schedule="day", name="Day", capacity=2)
    therapist = make_staff()

    placement = change_track(
        enrollment=evening_enrollment,
        to_track=day,
        by=therapist,
        on=in_days(3),
        reason="Started a day job",
    )

    assert placement.from_track == track
    assert placement.to_track == day
    assert placement.on == in_days(3)
    assert placement.reason == "Started a day job"
    assert placement.placed_by == therapist
    assert Enrollment.objects.filter(client=evening_enrollment.client).count() == 1
    evening_enrollment.refresh_from_db()
    assert evening_enrollment.track == day
    reasons = list(evening_enrollment.placements.values_list("reason", flat=True))
    assert reasons == ["Admission", "Started a day job"]
    assert track.open_seats() == 3
    assert day.open_seats() == 1


@pytest.mark.django_db
def test_a_track_in_another_program_is_a_discharge_not_a_track_change(
    track: Track, evening_enrollment: Enrollment, coordinator: Any
) -> None:
    """Moving to another program's track is refused, pointing to discharge."""
    php = TrackFactory(program=ProgramFactory(name="Adult PHP", level_of_care="php"))

    with pytest.raises(ValidationError, match="discharge"):
        change_track(
            enrollment=evening_enrollment,
            to_track=php,
            by=coordinator,
            on=today(),
            reason="Needs more support",
        )
    evening_enrollment.refresh_from_db()
    assert evening_enrollment.track == track
    assert evening_enrollment.placements.count() == 1


@pytest.mark.django_db
def test_a_full_target_track_refuses_a_track_change(
    track: Track, evening_enrollment: Enrollment, coordinator: Any
) -> None:
    """No open seat in the target track: refused with "is full"."""
    day = TrackFactory(program=track.program, schedule="day", capacity=1)
    make_offer(entry=waiting_entry(), track=day, by=coordinator)

    with pytest.raises(ValidationError, match="is full"):
        change_track(
            enrollment=evening_enrollment,
            to_track=day,
            by=coordinator,
            on=today(),
            reason="Started a day job",
        )
    evening_enrollment.refresh_from_db()
    assert evening_enrollment.track == track
    assert evening_enrollment.placements.count() == 1


@pytest.mark.django_db
def test_a_track_change_needs_a_reason(
    track: Track, evening_enrollment: Enrollment, coordinator: Any
) -> None:
    """An empty reason is refused; the enrollment stays where it is."""
    day = TrackFactory(program=track.program, schedule="day")

    with pytest.raises(ValidationError, match="reason"):
        change_track(
            enrollment=evening_enrollment,
            to_track=day,
            by=coordinator,
            on=today(),
            reason="",
        )
    evening_enrollment.refresh_from_db()
    assert evening_enrollment.track == track
    assert evening_enrollment.placements.count() == 1


@pytest.mark.django_db
def test_admitting_an_offered_entry_into_the_offered_track_uses_the_offer(
    coordinator: Any,
) -> None:
    """Admitted by entry into their offer's track: the offer's seat, offer accepted."""
    track = TrackFactory(capacity=1)
    entry = waiting_entry()
    offer = make_offer(entry=entry, track=track, by=coordinator)

    admit_client(track=track, entry=entry, by=coordinator)

    offer.refresh_from_db()
    assert offer.outcome == SeatOffer.Outcome.ACCEPTED
    assert track.seats_held() == 1
    assert track.open_seats() == 0


@pytest.mark.django_db
def test_admitting_an_offered_entry_elsewhere_frees_the_offered_seat(
    coordinator: Any,
) -> None:
    """Admitted into another track: the offer they did not take stops holding a seat."""
    offered = TrackFactory(capacity=1)
    taken = TrackFactory(program=offered.program, capacity=1)
    entry = waiting_entry()
    offer = make_offer(entry=entry, track=offered, by=coordinator)

    admit_client(track=taken, entry=entry, by=coordinator)

    offer.refresh_from_db()
    entry.refresh_from_db()
    assert offer.outcome == SeatOffer.Outcome.DECLINED
    assert entry.status == WaitlistEntry.Status.ADMITTED
    assert offered.open_seats() == 1
    assert taken.open_seats() == 0
