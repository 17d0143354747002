"""Group sessions from the weekly schedule, and the roll taken on one screen."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from iopclinic import roles
from programs.models import Attendance, GroupSession, ScheduleBlock
from programs.workflows import generate_sessions, take_attendance
from tests.factories import EnrollmentFactory, TrackFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)


def weekly_track(**fields: Any) -> Any:
    track = TrackFactory(**fields)
    for service in ("group_therapy", "psychoeducation", "individual_therapy"):
        ScheduleBlock.objects.create(
            track=track,
            weekday=0,
            start=datetime.time(9 + ScheduleBlock.objects.count()),
            service=service,
        )
    return track


def past_session(track: Any, *, days_ago: int = 1, minutes: int = 60) -> GroupSession:
    return GroupSession.objects.create(
        track=track,
        service="group_therapy",
        starts_at=timezone.now() - datetime.timedelta(days=days_ago),
        duration_minutes=minutes,
    )


def test_generation_follows_the_weekly_blocks_and_is_repeatable() -> None:
    """Two Mondays give 2 x 2 group sessions (individual therapy is an appointment);
    running again creates nothing, and a cancelled session stays cancelled."""
    track = weekly_track()
    end = MONDAY + datetime.timedelta(days=7)
    assert generate_sessions(start=MONDAY, end=end) == 4
    first = GroupSession.objects.order_by("starts_at").first()
    assert first is not None
    assert timezone.localtime(first.starts_at).hour == 9
    first.cancelled = True
    first.save()

    assert generate_sessions(start=MONDAY, end=end) == 0
    first.refresh_from_db()
    assert first.cancelled
    assert GroupSession.objects.filter(track=track).count() == 4


def test_the_command_generates_from_a_date(capsys: Any) -> None:
    weekly_track()
    call_command("generate_sessions", "--from", MONDAY.isoformat(), "--days", "7")
    assert "2 session(s) created" in capsys.readouterr().out


def test_the_roster_is_who_was_enrolled_that_day() -> None:
    track = TrackFactory()
    session = past_session(track, days_ago=3)
    day = session.day
    present = EnrollmentFactory(track=track, admitted_on=day)
    EnrollmentFactory(track=track, admitted_on=day + datetime.timedelta(days=1))
    EnrollmentFactory(
        track=track,
        status="discharged",
        admitted_on=day - datetime.timedelta(days=20),
        discharged_on=day - datetime.timedelta(days=1),
        discharge_type="completed",
    )
    EnrollmentFactory(admitted_on=day)  # another track
    assert list(session.roster()) == [present]


def test_taking_the_roll_defaults_minutes_from_the_status(coordinator: Any) -> None:
    track = TrackFactory()
    session = past_session(track, minutes=90)
    here, late, away = EnrollmentFactory.create_batch(
        3, track=track, admitted_on=session.day
    )

    take_attendance(
        session=session,
        by=coordinator,
        marks={
            here.pk: ("present", None),
            late.pk: ("late", 60),
            away.pk: ("unexcused", None),
        },
    )

    minutes = {a.enrollment_id: a.minutes_attended for a in Attendance.objects.all()}
    assert minutes == {here.pk: 90, late.pk: 60, away.pk: 0}
    session.refresh_from_db()
    assert session.roll_taken_by == coordinator
    assert not GroupSession.objects.roll_not_taken().filter(pk=session.pk).exists()


def test_the_roll_refuses_strangers_future_and_cancelled_sessions(
    coordinator: Any,
) -> None:
    track = TrackFactory()
    session = past_session(track)
    stranger = EnrollmentFactory()
    with pytest.raises(ValidationError, match="Only people enrolled"):
        take_attendance(
            session=session, by=coordinator, marks={stranger.pk: ("present", None)}
        )
    future = past_session(track, days_ago=-2)
    with pytest.raises(ValidationError, match="once the session has started"):
        take_attendance(session=future, by=coordinator, marks={})
    session.cancelled = True
    session.save()
    with pytest.raises(ValidationError, match="cancelled"):
        take_attendance(session=session, by=coordinator, marks={})


def test_a_facilitator_takes_the_roll_on_one_screen(
    client: Any, make_staff: Any
) -> None:
    """The therapist leading the group sees the roster and saves every mark at once;
    another therapist's session is not theirs to open."""
    therapist = make_staff(roles.THERAPIST)
    track = TrackFactory()
    session = past_session(track)
    session.facilitator = therapist
    session.save()
    first, second = EnrollmentFactory.create_batch(
        2, track=track, admitted_on=session.day
    )
    others = past_session(track, days_ago=2)
    client.force_login(therapist)
    url = reverse("admin:programs_groupsession_attendance", args=[session.pk])

    page = client.get(url)
    assert page.status_code == 200
    assert len(page.context["rows"]) == 2
    saved = client.post(
        url,
        {
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "2",
            "form-0-enrollment": first.pk,
            "form-0-status": "present",
            "form-0-minutes": "",
            "form-1-enrollment": second.pk,
            "form-1-status": "excused",
            "form-1-minutes": "",
        },
    )

    assert saved.status_code == 302
    assert dict(Attendance.objects.values_list("enrollment_id", "status")) == {
        first.pk: "present",
        second.pk: "excused",
    }
    other_url = reverse("admin:programs_groupsession_attendance", args=[others.pk])
    assert client.get(other_url).status_code == 403
    listed = client.get(reverse("admin:programs_groupsession_changelist"))
    assert [s.pk for s in listed.context["cl"].result_list] == [session.pk]
