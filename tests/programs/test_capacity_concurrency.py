"""Racing for the last seat on PostgreSQL: the track's row lock lets exactly one win.

Each round starts 8 threads, each on its own connection, at a barrier; all of them
ask for the one open seat of a fresh track at once. Twenty rounds per scenario, so a
race that is lost only now and then still shows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from intake.models import WaitlistEntry
from programs.models import Enrollment, Placement, SeatOffer, Track
from programs.workflows import admit_client, change_track, make_offer
from tests.factories import (
    EnrollmentFactory,
    ProgramFactory,
    TrackFactory,
    WaitlistEntryFactory,
)

THREADS = 8
ROUNDS = 20


def race(calls: list[Callable[[], Any]]) -> tuple[list[Any], list[BaseException]]:
    """Run each call in its own thread, all released together; results and errors."""
    assert len(calls) == THREADS
    barrier = threading.Barrier(THREADS, timeout=30)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            result = call()
        except BaseException as error:  # reported by the caller
            with lock:
                errors.append(error)
        else:
            with lock:
                results.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results, errors


def assert_only_full_refusals(errors: list[BaseException]) -> None:
    assert len(errors) == THREADS - 1, errors
    for error in errors:
        assert isinstance(error, ValidationError), repr(error)
        assert "full" in error.messages[0], error.messages


def track_with_one_open_seat(program: Any) -> Track:
    """Two seats, one of them already taken by an active enrollment."""
    track = TrackFactory(program=program, capacity=2)
    EnrollmentFactory(track=track)
    assert track.open_seats() == 1
    return track


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_admissions_fill_the_last_seat_exactly_once(
    coordinator: Any,
) -> None:
    """8 coordinators admit 8 people to one open seat at once: 1 admitted, 7 full."""
    program = ProgramFactory()
    for _ in range(ROUNDS):
        track = track_with_one_open_seat(program)
        entries = [WaitlistEntryFactory() for _ in range(THREADS)]

        results, errors = race(
            [
                partial(admit_client, track=track, entry=entry, by=coordinator)
                for entry in entries
            ]
        )

        assert_only_full_refusals(errors)
        [enrollment] = results
        assert Enrollment.objects.filter(track=track).count() == 2
        assert track.open_seats() == 0
        assert Placement.objects.filter(to_track=track).count() == 1
        admitted = WaitlistEntry.objects.filter(pk__in=[e.pk for e in entries])
        assert admitted.filter(status="admitted").get().client == enrollment.client
        assert admitted.filter(status="waiting").count() == THREADS - 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_offers_hold_the_last_seat_exactly_once(coordinator: Any) -> None:
    """8 coordinators offer one open seat to 8 people at once: one open offer."""
    program = ProgramFactory()
    for _ in range(ROUNDS):
        track = track_with_one_open_seat(program)
        entries = [WaitlistEntryFactory() for _ in range(THREADS)]

        results, errors = race(
            [
                partial(make_offer, entry=entry, track=track, by=coordinator)
                for entry in entries
            ]
        )

        assert_only_full_refusals(errors)
        [offer] = results
        assert list(SeatOffer.objects.open().filter(track=track)) == [offer]
        assert SeatOffer.objects.filter(track=track).count() == 1
        assert track.open_seats() == 0
        statuses = WaitlistEntry.objects.filter(pk__in=[e.pk for e in entries])
        assert statuses.filter(status="offered").count() == 1
        assert statuses.filter(status="waiting").count() == THREADS - 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_track_changes_take_the_last_seat_exactly_once(
    coordinator: Any,
) -> None:
    """8 clients move to a track with one open seat at once: one moves, 7 stay put."""
    program = ProgramFactory()
    today = timezone.localdate()
    for _ in range(ROUNDS):
        source = TrackFactory(program=program, capacity=THREADS)
        target = track_with_one_open_seat(program)
        enrollments = [EnrollmentFactory(track=source) for _ in range(THREADS)]

        results, errors = race(
            [
                partial(
                    change_track,
                    enrollment=enrollment,
                    to_track=target,
                    by=coordinator,
                    on=today,
                    reason="Evening suits them better",
                )
                for enrollment in enrollments
            ]
        )

        assert_only_full_refusals(errors)
        [placement] = results
        assert Enrollment.objects.filter(track=target).count() == 2
        assert Enrollment.objects.filter(track=source).count() == THREADS - 1
        assert Placement.objects.filter(to_track=target).get() == placement
        assert target.open_seats() == 0
        assert source.open_seats() == 1
