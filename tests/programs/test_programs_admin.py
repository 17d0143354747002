"""The programs admin: caseloads, open seats, the waitlist's seat actions, offers."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from intake.models import WaitlistEntry
from iopclinic import roles
from programs.models import Enrollment, SeatOffer, Track
from programs.workflows import make_offer
from tests.factories import (
    EnrollmentFactory,
    TrackFactory,
    WaitlistEntryFactory,
)

WAITLIST = "admin:intake_waitlistentry_changelist"


def messages_of(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def therapist(make_staff: Any) -> Any:
    return make_staff(roles.THERAPIST)


@pytest.fixture
def caseload(therapist: Any, make_staff: Any) -> dict[str, Enrollment]:
    """The therapist's three ways into a caseload, and a colleague's enrollment."""
    colleague = make_staff(roles.THERAPIST)
    primary = EnrollmentFactory(primary_therapist=therapist)
    co_therapy = EnrollmentFactory(primary_therapist=colleague)
    co_therapy.co_therapists.add(therapist)
    psychiatry = EnrollmentFactory(psychiatrist=therapist)
    others = EnrollmentFactory(primary_therapist=colleague)
    return {
        "primary": primary,
        "co_therapy": co_therapy,
        "psychiatry": psychiatry,
        "others": others,
    }


# Caseloads


@pytest.mark.django_db
def test_a_therapist_lists_only_their_own_caseload(
    client: Any, therapist: Any, caseload: dict[str, Enrollment]
) -> None:
    """Primary, co-therapist or psychiatrist: those enrollments, and no others."""
    client.force_login(therapist)

    response = client.get(reverse("admin:programs_enrollment_changelist"))

    assert response.status_code == 200
    listed = set(response.context["cl"].result_list)
    assert listed == {
        caseload["primary"],
        caseload["co_therapy"],
        caseload["psychiatry"],
    }


@pytest.mark.django_db
def test_a_therapist_cannot_open_a_colleagues_enrollment(
    client: Any, therapist: Any, caseload: dict[str, Enrollment]
) -> None:
    """Another therapist's enrollment is not reachable by its URL (never a 200)."""
    client.force_login(therapist)

    response = client.get(
        reverse("admin:programs_enrollment_change", args=[caseload["others"].pk])
    )

    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert response.url == reverse("admin:index")
    own = client.get(
        reverse("admin:programs_enrollment_change", args=[caseload["primary"].pk])
    )
    assert own.status_code == 200


@pytest.mark.django_db
def test_a_coordinator_sees_every_enrollment(
    client: Any, coordinator: Any, caseload: dict[str, Enrollment]
) -> None:
    """With the clinic-wide permission every enrollment is listed."""
    client.force_login(coordinator)

    response = client.get(reverse("admin:programs_enrollment_changelist"))

    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == set(caseload.values())


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["superuser", "coordinator", "therapist"])
def test_no_one_adds_an_enrollment_by_hand(
    client: Any, request: pytest.FixtureRequest, who: str
) -> None:
    """Only admission creates enrollments: the add page is 403, even for a superuser."""
    client.force_login(request.getfixturevalue(who))

    response = client.get(reverse("admin:programs_enrollment_add"))

    assert response.status_code == 403


# Tracks


@pytest.mark.django_db
def test_the_track_list_shows_open_seats(client: Any, coordinator: Any) -> None:
    """Each track row carries its held and open seats, computed for the list."""
    track = TrackFactory(capacity=5)
    EnrollmentFactory(track=track)
    make_offer(entry=WaitlistEntryFactory(), track=track, by=coordinator)
    client.force_login(coordinator)

    response = client.get(reverse("admin:programs_track_changelist"))

    assert response.status_code == 200
    [row] = response.context["cl"].result_list
    assert row == track
    assert row.held_count == 2
    assert row.open_count == 3


# The waitlist's seat actions


def choose_track_page(client: Any, action: str, entry: WaitlistEntry) -> Any:
    return client.post(
        reverse(WAITLIST), {"action": action, "_selected_action": [str(entry.pk)]}
    )


def apply_action(
    client: Any, action: str, entry: WaitlistEntry, *, url: str = "", **fields: Any
) -> Any:
    return client.post(
        url or reverse(WAITLIST),
        {
            "action": action,
            "_selected_action": [str(entry.pk)],
            "apply": "1",
            **fields,
        },
    )


@pytest.mark.django_db
def test_offer_seat_first_asks_which_track(client: Any, coordinator: Any) -> None:
    """The "Offer a seat" action shows the track chooser before doing anything."""
    track = TrackFactory(capacity=4)
    entry = WaitlistEntryFactory()
    client.force_login(coordinator)

    response = choose_track_page(client, "offer_seat", entry)

    assert response.status_code == 200
    assert "admin/programs/choose_track.html" in [t.name for t in response.templates]
    choices = response.context["form"].fields["track"].queryset
    assert list(choices) == [track]
    assert f"{track} (4 open of 4)" in response.content.decode()
    assert not SeatOffer.objects.exists()


@pytest.mark.django_db
def test_offer_seat_with_a_track_makes_the_offer(client: Any, coordinator: Any) -> None:
    """Choosing the track and applying offers the seat and holds it."""
    track = TrackFactory(capacity=4)
    entry = WaitlistEntryFactory()
    client.force_login(coordinator)

    response = apply_action(client, "offer_seat", entry, track=str(track.pk))

    assert response.status_code == 302
    offer = SeatOffer.objects.get()
    assert offer.waitlist_entry == entry
    assert offer.track == track
    assert offer.offered_by == coordinator
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.OFFERED
    assert track.open_seats() == 3
    [(level, text)] = messages_of(response)
    assert level == "success"
    assert text.startswith(f"Seat in {track} offered to {entry.client}")


@pytest.mark.django_db
def test_the_admit_action_admits_on_the_chosen_date(
    client: Any, coordinator: Any
) -> None:
    """ "Admit" with a track and a date opens the enrollment from the entry."""
    track = TrackFactory(capacity=4)
    entry = WaitlistEntryFactory()
    start = timezone.localdate() + datetime.timedelta(days=5)
    client.force_login(coordinator)

    response = apply_action(
        client, "admit", entry, track=str(track.pk), admitted_on=start.isoformat()
    )

    assert response.status_code == 302
    enrollment = Enrollment.objects.get()
    assert enrollment.client == entry.client
    assert enrollment.track == track
    assert enrollment.admitted_on == start
    assert enrollment.status == Enrollment.Status.SCHEDULED
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.ADMITTED
    assert ("success", f"{entry.client} admitted.") in messages_of(response)


@pytest.mark.django_db
def test_the_admit_action_accepts_the_entrys_open_offer(
    client: Any, coordinator: Any
) -> None:
    """Admitting someone offered a seat in that track uses and accepts the offer."""
    track = TrackFactory(capacity=1)
    entry = WaitlistEntryFactory()
    offer = make_offer(entry=entry, track=track, by=coordinator)
    client.force_login(coordinator)

    response = apply_action(
        client,
        "admit",
        entry,
        url=reverse(WAITLIST) + "?queue=open",
        track=str(track.pk),
    )

    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.outcome == SeatOffer.Outcome.ACCEPTED
    enrollment = Enrollment.objects.get()
    assert enrollment.client == entry.client
    assert enrollment.admitted_on == timezone.localdate()
    assert track.open_seats() == 0


@pytest.mark.django_db
def test_admitting_into_a_full_track_is_an_error_message_not_a_500(
    client: Any, coordinator: Any
) -> None:
    """A full track: the page says so and no enrollment is made."""
    track = TrackFactory(capacity=1)
    EnrollmentFactory(track=track)
    entry = WaitlistEntryFactory()
    client.force_login(coordinator)

    response = apply_action(client, "admit", entry, track=str(track.pk))

    assert response.status_code == 302
    assert not Enrollment.objects.filter(client=entry.client).exists()
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.WAITING
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert text.startswith(f"{entry.client}: {track} is full")


@pytest.mark.django_db
def test_offering_a_full_track_is_an_error_message_not_a_500(
    client: Any, coordinator: Any
) -> None:
    """A full track: the offer is refused with a message and no offer is made."""
    track = TrackFactory(capacity=1)
    EnrollmentFactory(track=track)
    entry = WaitlistEntryFactory()
    client.force_login(coordinator)

    response = apply_action(client, "offer_seat", entry, track=str(track.pk))

    assert response.status_code == 302
    assert not SeatOffer.objects.exists()
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "is full" in text


@pytest.mark.django_db
def test_the_seat_offer_decline_action_puts_them_back_in_line(
    client: Any, coordinator: Any
) -> None:
    """The seat offer list's "Declined" action frees the seat and re-queues them."""
    track = TrackFactory(capacity=1)
    entry = WaitlistEntryFactory()
    offer = make_offer(entry=entry, track=track, by=coordinator)
    client.force_login(coordinator)

    response = client.post(
        reverse("admin:programs_seatoffer_changelist"),
        {"action": "decline", "_selected_action": [str(offer.pk)]},
    )

    assert response.status_code == 302
    offer.refresh_from_db()
    entry.refresh_from_db()
    assert offer.outcome == SeatOffer.Outcome.DECLINED
    assert entry.status == WaitlistEntry.Status.WAITING
    assert Track.objects.with_seats().get(pk=track.pk).open_count == 1  # type: ignore[attr-defined]
    assert ("success", "Done.") in messages_of(response)
