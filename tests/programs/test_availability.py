"""Availability from the data: the admin panel and the public /availability.json."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from iopclinic import roles
from programs.availability import public_availability, track_availability
from tests.factories import (
    ClientFactory,
    EnrollmentFactory,
    ProgramFactory,
    TrackFactory,
    WaitlistEntryFactory,
)

pytestmark = pytest.mark.django_db


def by_name() -> dict[str, Any]:
    return {row.track.name: row for row in track_availability()}


def test_open_seats_and_nobody_waiting_means_no_waiting_period() -> None:
    """Seats open and no one in line: 'open', waiting period 0."""
    track = TrackFactory(name="IOP evening", schedule="evening", capacity=10)
    EnrollmentFactory.create_batch(3, track=track)
    row = by_name()["IOP evening"]
    assert (row.capacity, row.held, row.open_seats, row.waiting) == (10, 3, 7, 0)
    assert row.seats_label == "open"
    assert row.waiting_period_days == 0


def test_a_full_track_reports_the_median_recent_wait() -> None:
    """Full with people waiting: 'full', and the median of recent waits in days."""
    track = TrackFactory(name="IOP day", schedule="day", capacity=2)
    today = timezone.localdate()
    for days_waited in (4, 10, 30):
        entry = WaitlistEntryFactory(
            added_on=today - datetime.timedelta(days=40), status="admitted"
        )
        EnrollmentFactory(
            track=track,
            client=entry.client,
            waitlist_entry=entry,
            status="discharged",
            admitted_on=entry.added_on + datetime.timedelta(days=days_waited),
            discharged_on=today,
            discharge_type="completed",
        )
    EnrollmentFactory.create_batch(2, track=track)
    WaitlistEntryFactory(preferred_schedule="day")
    WaitlistEntryFactory(preferred_schedule="either")
    WaitlistEntryFactory(preferred_schedule="evening")  # not waiting for this track

    row = by_name()["IOP day"]
    assert (row.open_seats, row.waiting) == (0, 2)
    assert row.seats_label == "full"
    assert row.waiting_period_days == 10


def test_few_open_seats_are_limited_never_a_count() -> None:
    TrackFactory(name="Small", capacity=6)
    EnrollmentFactory.create_batch(3, track=TrackFactory(name="Busy", capacity=6))
    assert by_name()["Busy"].seats_label == "limited"
    tracks = [t for p in public_availability()["programs"] for t in p["tracks"]]
    assert {t["seats"] for t in tracks} <= {"open", "limited", "full"}


def test_public_endpoint_needs_no_login_and_holds_no_client_data(client: Any) -> None:
    """Anyone may read it; it names programs and schedules, never a person."""
    program = ProgramFactory(name="Adult IOP")
    TrackFactory(program=program, name="IOP evening", schedule="evening", capacity=10)
    TrackFactory(program=program, name="IOP day", schedule="day", capacity=1)
    person = ClientFactory(first_name="Zebedee", last_name="Quillfeather")
    EnrollmentFactory(client=person, track__program=program, track__name="IOP day 2")

    response = client.get("/availability.json")

    assert response.status_code == 200
    assert "max-age=60" in response["Cache-Control"]
    body = response.json()
    assert body["accepting_new_clients"] is True
    assert body["referral_required"] is False
    assert body["evening_hours_available"] is True
    [iop] = body["programs"]
    assert iop["program"] == "Adult IOP"
    evening = next(t for t in iop["tracks"] if t["schedule"] == "evening")
    assert evening == {
        "schedule": "evening",
        "seats": "open",
        "waiting_period_days": 0,
        "no_waiting_period": True,
    }
    text = response.content.decode()
    for private in ("Zebedee", "Quillfeather", person.mrn):
        assert private not in text


def test_evening_hours_are_not_advertised_when_the_evening_is_full(client: Any) -> None:
    track = TrackFactory(name="Evening", schedule="evening", capacity=1)
    EnrollmentFactory(track=track)
    assert client.get("/availability.json").json()["evening_hours_available"] is False


@pytest.mark.parametrize("role", [roles.THERAPIST, roles.PROGRAM_MANAGER])
def test_every_staff_member_sees_the_panel_on_the_index(
    client: Any, make_staff: Any, role: str
) -> None:
    TrackFactory(name="IOP evening", capacity=10)
    client.force_login(make_staff(role))
    page = client.get("/admin/")
    assert [row.track.name for row in page.context["availability"]] == ["IOP evening"]
    assert 'id="availability"' in page.content.decode()


def test_a_freed_seat_shows_the_head_of_the_matching_waitlist(
    client: Any, make_staff: Any
) -> None:
    """An open evening seat names the next person: evening-wanting first, then urgent
    before routine, then longest waiting; shown to coordinators on the index."""
    today = timezone.localdate()
    TrackFactory(name="IOP evening", schedule="evening", capacity=1)
    WaitlistEntryFactory(preferred_schedule="either", priority=1)
    WaitlistEntryFactory(
        preferred_schedule="evening", added_on=today - datetime.timedelta(days=3)
    )
    head = WaitlistEntryFactory(
        preferred_schedule="evening", added_on=today - datetime.timedelta(days=9)
    )
    WaitlistEntryFactory(preferred_schedule="day", priority=1)

    client.force_login(make_staff(roles.INTAKE_COORDINATOR))
    labels = [item.label for item in client.get("/admin/").context["todays_work"]]

    [ready] = [label for label in labels if label.startswith("Ready to offer")]
    assert "IOP evening" in ready
    assert head.client.display_name in ready


def test_no_seat_no_one_is_ready_to_offer(client: Any, make_staff: Any) -> None:
    track = TrackFactory(name="IOP evening", schedule="evening", capacity=1)
    EnrollmentFactory(track=track)
    WaitlistEntryFactory(preferred_schedule="evening")
    client.force_login(make_staff(roles.INTAKE_COORDINATOR))
    labels = [item.label for item in client.get("/admin/").context["todays_work"]]
    assert not [label for label in labels if label.startswith("Ready to offer")]
