"""Programs and tracks: level defaults, seat counting and the catalog's constraints."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from programs.models import Enrollment, Program, SeatOffer, Track
from tests.factories import (
    EnrollmentFactory,
    ProgramFactory,
    SeatOfferFactory,
    TrackFactory,
)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("level", "hours", "days", "review"),
    [("iop", 9, 3, 30), ("php", 20, 5, 14)],
)
def test_a_new_program_gets_its_levels_defaults(
    level: str, hours: int, days: int, review: int
) -> None:
    """Left empty, the weekly minimums and plan review follow DOMAIN.md per level."""
    program = ProgramFactory(name=f"Adult {level}", level_of_care=level)

    program.refresh_from_db()
    assert program.minimum_hours_per_week == hours
    assert program.minimum_days_per_week == days
    assert program.plan_review_every_days == review
    assert program.initial_plan_due_days == 7


@pytest.mark.django_db
def test_explicit_program_settings_are_kept() -> None:
    """A value the clinic typed in is never replaced by the level's default."""
    program = Program.objects.create(
        name="Youth IOP",
        level_of_care="iop",
        minimum_hours_per_week=6,
        minimum_days_per_week=4,
        plan_review_every_days=14,
    )

    program.refresh_from_db()
    assert program.minimum_hours_per_week == 6
    assert program.minimum_days_per_week == 4
    assert program.plan_review_every_days == 14
    # Only the fields left empty are filled.
    assert program.typical_length_weeks == 6


def fill_track(track: Track) -> None:
    """Four seats held (scheduled, active, on hold, an open offer) and four not."""
    today = timezone.localdate()
    EnrollmentFactory(
        track=track, status="scheduled", admitted_on=today + datetime.timedelta(7)
    )
    EnrollmentFactory(track=track, status="active")
    EnrollmentFactory(track=track, status="on_hold")
    EnrollmentFactory(
        track=track,
        status="discharged",
        discharged_on=today,
        discharge_type="completed",
    )
    SeatOfferFactory(track=track)
    for outcome in ("accepted", "declined", "expired"):
        SeatOfferFactory(track=track, outcome=outcome, outcome_at=timezone.now())


@pytest.mark.django_db
def test_seats_held_counts_open_enrollments_and_open_offers_only() -> None:
    """Scheduled, active, on-hold enrollments and unanswered offers hold seats."""
    track = TrackFactory(capacity=10)
    fill_track(track)

    assert Enrollment.objects.filter(track=track).count() == 4
    assert SeatOffer.objects.filter(track=track).count() == 4
    assert track.seats_held() == 4
    assert track.open_seats() == 6


@pytest.mark.django_db
def test_an_empty_track_has_every_seat_open() -> None:
    """With nothing in it, a track's open seats are its capacity."""
    track = TrackFactory(capacity=7)

    assert track.seats_held() == 0
    assert track.open_seats() == 7


@pytest.mark.django_db
def test_with_seats_annotations_agree_with_the_methods() -> None:
    """held_count and open_count computed in SQL match each track's own counts."""
    busy = TrackFactory(capacity=10)
    fill_track(busy)
    quiet = TrackFactory(capacity=3, program=busy.program)
    EnrollmentFactory(track=quiet)
    empty = TrackFactory(capacity=5, program=busy.program)

    annotated = {track.pk: track for track in Track.objects.with_seats()}

    assert len(annotated) == 3
    for track in (busy, quiet, empty):
        row = annotated[track.pk]
        assert row.held_count == track.seats_held()  # type: ignore[attr-defined]
        assert row.open_count == track.open_seats()  # type: ignore[attr-defined]
    assert annotated[busy.pk].open_count == 6  # type: ignore[attr-defined]
    assert annotated[quiet.pk].open_count == 2  # type: ignore[attr-defined]
    assert annotated[empty.pk].held_count == 0  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_a_track_needs_at_least_one_seat() -> None:
    """The track_has_seats constraint refuses a track of capacity 0."""
    program = ProgramFactory()

    with pytest.raises(IntegrityError, match="track_has_seats"), transaction.atomic():
        Track.objects.create(
            program=program, schedule="day", name="Empty day track", capacity=0
        )
    assert not Track.objects.exists()


@pytest.mark.django_db
def test_a_program_with_a_track_cannot_be_deleted() -> None:
    """Deleting a program that has a track is refused, so its history is kept."""
    track = TrackFactory()

    with pytest.raises(ProtectedError):
        track.program.delete()
    assert Program.objects.filter(pk=track.program.pk).exists()
