"""The attendance report and its rollups against a hand-built fixture whose answers
are worked out below (DOMAIN.md section 6), its "data as of", its permission and its
query bound."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from iopclinic import roles
from iopclinic.models import AttendanceRollup, ClientWeekRollup
from iopclinic.reports.attendance import AttendanceReport
from iopclinic.reports.rollups import refresh_rollups
from programs.models import Appointment, Attendance, GroupSession, HoldPeriod, Placement
from tests.factories import EnrollmentFactory, ProgramFactory, TrackFactory

from .reports_helpers import MAX_DATA_QUERIES, build, data_queries, figure, filters

pytestmark = pytest.mark.django_db

D = datetime.date
JAN_1, JAN_31 = D(2026, 1, 1), D(2026, 1, 31)


def at(day: D, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def session(track: Any, day: D, service: str = "group_therapy", **kw: Any) -> Any:
    hour = 18 if track.schedule == "evening" else 10
    return GroupSession.objects.create(
        track=track,
        service=service,
        starts_at=at(day, hour),
        duration_minutes=180,
        **kw,
    )


def roll(group: Any, **statuses: str | tuple[str, int]) -> None:
    """statuses: enrollment name -> status, or (status, minutes attended)."""
    for name, status in statuses.items():
        minutes = None
        if isinstance(status, tuple):
            status, minutes = status
        Attendance.objects.create(
            session=group,
            enrollment=CLINIC[name],
            status=status,
            minutes_attended=minutes,
        )


CLINIC: dict[str, Any] = {}


@pytest.fixture
def clinic() -> dict[str, Any]:
    """Adult IOP (9 h over 3 days a week), January 2026; whole weeks in it start
    Mon 5, 12 and 19 Jan.

    P  day, admitted 1 Dec: weeks 5, 12, 19
    Q  day, admitted Wed 7 Jan: weeks 12, 19
    R  evening, admitted 1 Dec, on hold 12-14 Jan: weeks 5, 19
    S  day, admitted 15 Dec, to evening on Mon 19 Jan: weeks 5, 12 (day), 19
       (evening)

    Day sessions (3 h): 6 Jan P present, S late (150 min); 8 Jan (psychoeducation)
    P present, S unexcused; 9 Jan (activity) P present, S excused; 13 Jan P, Q, S
    present; 14 Jan cancelled by the program; 15 Jan P left early (90 min), Q
    unexcused, S "cancelled by the program"; 20 Jan P, Q present.
    Evening: 6 Jan R present; 20 Jan R unexcused, S present; 3 Feb R present.
    Individual appointments of P: Sat 10 Jan 50 min; 13 Jan 60 min (a day with a
    group session: the day counts once).

    Rates, January: day 13 scheduled, 10 attended, 2 unexcused (3 people); evening
    3, 2, 1 (2 people); all 16, 12, 3.
    Weeks: P 5 Jan 590 min over 4 days (meets); P 12 Jan 330 min over 2 days; all
    others below: 10 client-weeks, 1 meeting; day 7 (1 meeting), evening 3.
    """
    CLINIC.clear()
    program = ProgramFactory(name="Adult IOP")
    day = TrackFactory(program=program, name="Day", schedule="day", capacity=10)
    evening = TrackFactory(program=program, name="Evening", capacity=8)
    CLINIC.update(program=program, day=day, evening=evening)
    CLINIC["P"] = EnrollmentFactory(track=day, admitted_on=D(2025, 12, 1))
    CLINIC["Q"] = EnrollmentFactory(track=day, admitted_on=D(2026, 1, 7))
    CLINIC["R"] = EnrollmentFactory(track=evening, admitted_on=D(2025, 12, 1))
    HoldPeriod.objects.create(
        enrollment=CLINIC["R"],
        starts_on=D(2026, 1, 12),
        keep_seat_until=D(2026, 1, 14),
        ended_on=D(2026, 1, 14),
        reason="Short hospital stay",
    )
    CLINIC["S"] = EnrollmentFactory(track=evening, admitted_on=D(2025, 12, 15))
    Placement.objects.create(enrollment=CLINIC["S"], to_track=day, on=D(2025, 12, 15))
    Placement.objects.create(
        enrollment=CLINIC["S"], from_track=day, to_track=evening, on=D(2026, 1, 19)
    )
    roll(session(day, D(2026, 1, 6)), P="present", S=("late", 150))
    roll(session(day, D(2026, 1, 8), "psychoeducation"), P="present", S="unexcused")
    roll(session(day, D(2026, 1, 9), "therapeutic_activity"), P="present", S="excused")
    roll(session(day, D(2026, 1, 13)), P="present", Q="present", S="present")
    session(day, D(2026, 1, 14), cancelled=True)
    roll(
        session(day, D(2026, 1, 15)),
        P=("left_early", 90),
        Q="unexcused",
        S="cancelled",
    )
    roll(session(day, D(2026, 1, 20)), P="present", Q="present")
    roll(session(evening, D(2026, 1, 6)), R="present")
    roll(session(evening, D(2026, 1, 20)), R="unexcused", S="present")
    roll(session(evening, D(2026, 2, 3)), R="present")
    for day_, minutes in ((D(2026, 1, 10), 50), (D(2026, 1, 13), 60)):
        Appointment.objects.create(
            enrollment=CLINIC["P"],
            service="individual_therapy",
            starts_at=at(day_, 15),
            duration_minutes=minutes,
            attendance="present",
        )
    refresh_rollups()
    return CLINIC


def raw(**kwargs: Any) -> Any:
    scope = filters(kwargs.pop("start", JAN_1), kwargs.pop("end", JAN_31), **kwargs)
    return AttendanceReport().build(scope)


def values(result: Any, title: str) -> dict[str, list[Any]]:
    for section in result.sections:
        for item in section.tables:
            if item.title == title:
                return {row.label: [c.value for c in row.cells] for row in item.rows}
    raise LookupError(title)


def test_attendance_and_no_show_rates_by_track_and_month(clinic: Any) -> None:
    result = raw()
    assert values(result, "Attendance rate by track and month") == {
        "Jan 2026": pytest.approx([10 / 13, 2 / 3, 12 / 16]),
        "Whole period": pytest.approx([10 / 13, 2 / 3, 12 / 16]),
    }
    assert values(result, "No-show rate by track and month")["Jan 2026"] == (
        pytest.approx([2 / 13, 1 / 3, 3 / 16])
    )
    assert figure(result, "Attendance rate").value == 0.75
    assert figure(result, "No-show rate").value == 3 / 16


def test_hours_compliance_by_track(clinic: Any) -> None:
    rows = values(raw(), "Hours compliance by track")
    assert rows["Adult IOP: Day"] == pytest.approx([7, 1, 1 / 7])
    assert rows["Adult IOP: Evening"] == pytest.approx([3, 0, 0])
    assert rows["All tracks"] == pytest.approx([10, 1, 0.1])


def test_client_weeks_follow_the_rules(clinic: Any) -> None:
    """Whole weeks only, none with a day on hold, in the track of the Monday; an
    appointment on a day with a group session adds its minutes but not a day."""
    weeks = {
        (w.enrollment_id, w.week): (w.track_id, w.minutes, w.days, w.meets_minimum)
        for w in ClientWeekRollup.objects.filter(week__lte=D(2026, 1, 19))
    }
    p, q, r, s = (clinic[n].pk for n in "PQRS")
    day, evening = clinic["day"].pk, clinic["evening"].pk
    assert weeks[p, D(2026, 1, 5)] == (day, 590, 4, True)
    assert weeks[p, D(2026, 1, 12)] == (day, 330, 2, False)
    assert (q, D(2026, 1, 5)) not in weeks  # admitted on the Wednesday
    assert (r, D(2026, 1, 12)) not in weeks  # on hold
    assert weeks[r, D(2026, 1, 19)] == (evening, 0, 0, False)
    assert weeks[s, D(2026, 1, 12)][0] == day
    assert weeks[s, D(2026, 1, 19)][0] == evening  # moved on that Monday


def test_sessions_by_service_type(clinic: Any) -> None:
    rows = values(raw(), "Group sessions by service type")
    assert rows["Group therapy"] == [6, 1]
    assert rows["Psychoeducation"] == [1, 0]
    assert rows["Therapeutic activity"] == [1, 0]
    assert rows["All services"] == [8, 1]


def test_one_track(clinic: Any) -> None:
    result = raw(track=clinic["evening"])
    assert figure(result, "Attendance rate").value == pytest.approx(2 / 3)
    assert values(result, "Hours compliance by track")["All tracks"] == [3, 0, 0]
    assert values(result, "Group sessions by service type")["All services"] == [2, 0]


def test_a_session_cancelled_by_the_program_is_not_scheduled(clinic: Any) -> None:
    rollup = AttendanceRollup.objects.get(
        enrollment_id=clinic["S"].pk, track_id=clinic["day"].pk
    )
    # S: 6 Jan late, 8 unexcused, 9 excused, 13 present; 15 Jan cancelled for them.
    assert (rollup.scheduled, rollup.attended, rollup.unexcused, rollup.excused) == (
        4,
        2,
        1,
        1,
    )


def test_the_page_says_when_the_rollups_were_built(
    client: Any, make_staff: Any, clinic: Any
) -> None:
    client.force_login(make_staff(roles.PROGRAM_MANAGER))
    page = client.get(
        f"{reverse('admin:reports_attendance')}?start=2026-01-01&end=2026-01-31"
    ).content.decode()
    assert "Data as of" in page
    assert "refresh_report_rollups" in page
    assert "&lt;5" in page  # 3 and 2 people per track
    assert "Attendance rate = attended / scheduled sessions" in page


def test_before_any_refresh_the_page_says_so(client: Any, make_staff: Any) -> None:
    client.force_login(make_staff(roles.PROGRAM_MANAGER))
    page = client.get(reverse("admin:reports_attendance")).content.decode()
    assert "No rollup for this period yet" in page


def test_the_refresh_command(capsys: Any, clinic: Any) -> None:
    call_command("refresh_report_rollups")
    out = capsys.readouterr().out
    assert (
        "iopclinic.attendancerollup: 6 rows" in out
    )  # P, Q, S day; R, S evening; R Feb


def test_with_enough_people_the_rates_show(make_staff: Any) -> None:
    track = TrackFactory()
    group = session(track, D(2026, 1, 6))
    for n in range(6):
        enrollment = EnrollmentFactory(track=track, admitted_on=D(2025, 12, 1))
        Attendance.objects.create(
            session=group,
            enrollment=enrollment,
            status="present" if n else "unexcused",
        )
    refresh_rollups()
    result = build(AttendanceReport, filters(JAN_1, JAN_31))
    assert figure(result, "Attendance rate").display == "83.3%"
    assert figure(result, "No-show rate").display == "16.7%"


def test_the_data_takes_at_most_three_queries_whatever_the_rows() -> None:
    track = TrackFactory()

    def enrol(count: int) -> int:
        for n in range(count):
            enrollment = EnrollmentFactory(track=track, admitted_on=D(2025, 12, 1))
            group = session(track, D(2026, 1, 1 + n))
            Attendance.objects.create(
                session=group, enrollment=enrollment, status="present"
            )
        refresh_rollups()
        return data_queries(AttendanceReport, filters(JAN_1, JAN_31))

    with_2 = enrol(2)
    assert with_2 == enrol(18) <= MAX_DATA_QUERIES
    narrowed = filters(JAN_1, JAN_31, track=track)
    assert data_queries(AttendanceReport, narrowed) <= MAX_DATA_QUERIES
