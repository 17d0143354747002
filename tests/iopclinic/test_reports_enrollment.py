"""The enrollment report against a hand-built fixture whose answers are worked out
below (DOMAIN.md section 6), its "<5" rule on the page and in the CSV, its
permission and its query bound."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
from django.urls import reverse

from iopclinic import roles
from iopclinic.models import AccessEvent
from iopclinic.reports.enrollment import EnrollmentReport, stays
from programs.models import HoldPeriod, Placement
from tests.factories import EnrollmentFactory, ProgramFactory, TrackFactory

from .reports_helpers import (
    MAX_DATA_QUERIES,
    build,
    chart,
    data_queries,
    figure,
    filters,
    page_queries,
    table,
)

pytestmark = pytest.mark.django_db

D = datetime.date
JAN_1, FEB_28 = D(2026, 1, 1), D(2026, 2, 28)  # 59 days
TODAY = D(2026, 3, 10)


def discharged(track: Any, admitted: D, out: D, kind: str) -> Any:
    return EnrollmentFactory(
        track=track,
        admitted_on=admitted,
        status="discharged",
        discharged_on=out,
        discharge_type=kind,
        discharge_reason="Fixture.",
    )


@pytest.fixture
def clinic() -> dict[str, Any]:
    """Adult IOP with a day track (10 seats) and an evening track (8 seats).

    A  day      admitted and discharged 5 Jan (completed)       1 day,  LOS 1
    B  day      10 Dec - 1 Jan, discharged on the period's first day (stepped
                down)                                              1 day,  LOS 23
    C  day      admitted 1 Nov 2025, still active: the whole period   59 days
    D  evening  10 Jan - 9 Feb, on hold 20-30 Jan (the seat is held;
                left against advice)                              31 days, LOS 31
    E  day 15-31 Jan, then evening from 1 Feb, still active: 17 + 28 days
    F  day      scheduled for 20 Mar: not in any figure
    G  evening  10-20 Feb (completed)                            11 days, LOS 11

    Day: 1 + 1 + 59 + 17 = 78 client-days; evening: 31 + 28 + 11 = 70.
    """
    program = ProgramFactory(name="Adult IOP")
    day = TrackFactory(program=program, name="Day", schedule="day", capacity=10)
    evening = TrackFactory(program=program, name="Evening", capacity=8)
    a = discharged(day, D(2026, 1, 5), D(2026, 1, 5), "completed")
    b = discharged(day, D(2025, 12, 10), JAN_1, "stepped_down")
    c = EnrollmentFactory(track=day, admitted_on=D(2025, 11, 1))
    d = discharged(evening, D(2026, 1, 10), D(2026, 2, 9), "against_advice")
    HoldPeriod.objects.create(
        enrollment=d,
        starts_on=D(2026, 1, 20),
        keep_seat_until=D(2026, 1, 30),
        ended_on=D(2026, 1, 30),
        reason="Short hospital stay",
    )
    e = EnrollmentFactory(track=evening, admitted_on=D(2026, 1, 15))
    Placement.objects.create(enrollment=e, to_track=day, on=D(2026, 1, 15))
    Placement.objects.create(
        enrollment=e, from_track=day, to_track=evening, on=D(2026, 2, 1)
    )
    f = EnrollmentFactory(track=day, admitted_on=D(2026, 3, 20), status="scheduled")
    g = discharged(evening, D(2026, 2, 10), D(2026, 2, 20), "completed")
    return locals()


def raw(**kwargs: Any) -> Any:
    """The report before the "<5" rule: the fixture is small on purpose."""
    scope = filters(kwargs.pop("start", JAN_1), kwargs.pop("end", FEB_28), **kwargs)
    return EnrollmentReport().build(scope)


def by_track(result: Any) -> dict[str, list[float | None]]:
    for section in result.sections:
        for item in section.tables:
            if item.title == "Census and occupancy by track":
                return {
                    row.label: [cell.value for cell in row.cells] for row in item.rows
                }
    raise LookupError


def test_census_today_adc_and_occupancy_by_track(clinic: dict[str, Any]) -> None:
    result = raw(today=TODAY)
    rows = by_track(result)
    assert rows["Adult IOP: Day"] == pytest.approx([1, 78 / 59, 10, 78 / 59 / 10])
    assert rows["Adult IOP: Evening"] == pytest.approx([1, 70 / 59, 8, 70 / 59 / 8])
    assert rows["Total"] == pytest.approx([2, 148 / 59, 18, 148 / 59 / 18])
    assert figure(result, "Census today (10 Mar 2026)").value == 2
    assert figure(result, "Average daily census").value == pytest.approx(148 / 59)
    assert figure(result, "Occupancy").value == pytest.approx(148 / 59 / 18)


def test_a_track_change_counts_once_in_the_new_track_on_its_day(
    clinic: dict[str, Any],
) -> None:
    """On 1 Feb E moved from day to evening: day has only C, evening has D and E."""
    rows = by_track(raw(start=D(2026, 2, 1), end=D(2026, 2, 1), today=TODAY))
    assert rows["Adult IOP: Day"][1] == 1
    assert rows["Adult IOP: Evening"][1] == 2
    assert rows["Total"][1] == 3


def test_discharge_day_and_admission_day_both_count(clinic: dict[str, Any]) -> None:
    """On 1 Jan B (discharged that day) and C are in; on 5 Jan C and A (admitted and
    discharged that day)."""
    assert by_track(raw(start=JAN_1, end=JAN_1))["Total"][1] == 2
    assert by_track(raw(start=D(2026, 1, 5), end=D(2026, 1, 5)))["Total"][1] == 2


def test_a_hold_keeps_the_client_in_the_census(clinic: dict[str, Any]) -> None:
    rows = by_track(raw(start=D(2026, 1, 25), end=D(2026, 1, 25)))
    assert rows["Adult IOP: Evening"][1] == 1  # D, on hold


def test_a_scheduled_admission_is_not_counted(clinic: dict[str, Any]) -> None:
    """F is scheduled for 20 Mar: not in today's census even on that day."""
    result = raw(start=D(2026, 3, 1), end=D(2026, 3, 31), today=D(2026, 3, 25))
    assert figure(result, "Census today (25 Mar 2026)").value == 2  # C and E
    assert figure(result, "Admissions").value == 0


def test_average_daily_census_by_month(clinic: dict[str, Any]) -> None:
    """Jan: day 1 + 1 + 31 + 17 = 50, evening 22 (D); Feb: day 28, evening 9 + 28 +
    11 = 48."""
    result = raw(today=TODAY)
    for section in result.sections:
        for item in section.charts:
            if item.title == "Average daily census by month":
                lines = {s.label: [c.value for c in s.cells] for s in item.series}
    assert lines["All tracks in scope"] == pytest.approx([72 / 31, 76 / 28])
    assert lines["Day"] == pytest.approx([50 / 31, 28 / 28])
    assert lines["Evening"] == pytest.approx([22 / 31, 48 / 28])


def test_admissions_and_discharges_per_month(clinic: dict[str, Any]) -> None:
    """Admissions: A, D, E in Jan; G in Feb. Discharges: B (1 Jan), A in Jan; D, G in
    Feb. E's move to the evening track is neither."""
    result = raw(today=TODAY)
    assert figure(result, "Admissions").value == 4
    assert figure(result, "Discharges").value == 4
    for section in result.sections:
        for item in section.tables:
            if item.title == "Admissions and discharges per month":
                months = {r.label: [c.value for c in r.cells] for r in item.rows}
    assert months == {"Jan 2026": [3, 2], "Feb 2026": [1, 2], "Total": [4, 4]}


def test_length_of_stay_mean_and_median(clinic: dict[str, Any]) -> None:
    """LOS of A, B, D, G: 1, 23, 31, 11 days; mean 16.5, median 17."""
    result = raw(today=TODAY)
    assert figure(result, "Length of stay, mean (days)").value == 16.5
    assert figure(result, "Length of stay, median (days)").value == 17


def test_discharge_mix_and_rates(clinic: dict[str, Any]) -> None:
    """Completed A and G, stepped down B, against advice D."""
    result = raw(today=TODAY)
    assert figure(result, "Completion rate").value == 0.5
    assert figure(result, "Positive outcomes (completed + stepped down)").value == 0.75
    assert figure(result, "Left against clinical advice").value == 0.25
    for section in result.sections:
        for item in section.tables:
            if item.title == "Discharges by type":
                mix = {r.label: r.cells[0].value for r in item.rows}
    assert mix["Completed program"] == 2
    assert mix["Stepped down to a lower level of care"] == 1
    assert mix["Left against clinical advice"] == 1
    assert mix["Lost contact"] == 0
    assert mix["All discharges"] == 4


def test_one_track_counts_admissions_where_they_started(
    clinic: dict[str, Any],
) -> None:
    """Evening: D and G admitted and discharged there; E was admitted to day."""
    result = raw(track=clinic["evening"], today=TODAY)
    assert figure(result, "Admissions").value == 2
    assert figure(result, "Discharges").value == 2
    assert figure(result, "Average daily census").value == pytest.approx(70 / 59)
    assert figure(result, "Census today (10 Mar 2026)").value == 1
    assert list(by_track(result)) == ["Adult IOP: Evening", "Total"]


def test_another_program_is_left_out(clinic: dict[str, Any]) -> None:
    php = TrackFactory(program=ProgramFactory(name="Adult PHP", level_of_care="php"))
    EnrollmentFactory(track=php, admitted_on=D(2026, 1, 1))
    result = raw(program=clinic["program"], today=TODAY)
    assert figure(result, "Average daily census").value == pytest.approx(148 / 59)
    assert figure(result, "Census today (10 Mar 2026)").value == 2


def test_stays_split_at_each_track_change() -> None:
    day1, day5, day9 = D(2026, 1, 1), D(2026, 1, 5), D(2026, 1, 9)
    split = stays(7, 3, day1, day9, [(day5, 1, 2), (day5, 2, 3)])
    assert [(s.track_id, s.first, s.last) for s in split] == [
        (1, day1, D(2026, 1, 4)),
        (3, day5, day9),
    ]
    # A change on the admission day: only the new track.
    assert [s.track_id for s in stays(7, 2, day1, None, [(day1, 1, 2)])] == [2]


# --- Privacy, page, export, permission, queries ------------------------------------


def test_small_numbers_are_hidden_on_the_page_and_in_the_csv(
    client: Any, make_staff: Any, clinic: dict[str, Any]
) -> None:
    client.force_login(make_staff(roles.PROGRAM_MANAGER))
    query = "start=2026-01-01&end=2026-02-28"
    page = client.get(f"{reverse('admin:reports_enrollment')}?{query}")
    assert page.status_code == 200
    content = page.content.decode()
    assert "&lt;5" in content
    assert "Census on day d: clients with an enrollment active on d" in content
    assert "16.5" not in content  # LOS mean over 4 discharges
    export = client.get(f"{reverse('admin:reports_enrollment_export')}?{query}")
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert ["Discharges", "<5", "Admissions / discharges in a period: by admission "
            "date / by discharge date. An admission counts in the track it started "
            "in, a discharge in the track it ended in; a track change is neither."] in rows  # fmt: skip  # noqa: E501
    # 0 describes nobody; a share of 4 discharges is over fewer than 5 people.
    assert ["Lost contact", "0", "<5"] in rows
    los = next(row for row in rows if row[:1] == ["Length of stay, mean (days)"])
    assert los[1] == "<5"
    event = AccessEvent.objects.get(action="export")
    assert event.page == "enrollment 2026-01-01..2026-02-28"


def test_with_enough_people_the_numbers_show(make_staff: Any) -> None:
    track = TrackFactory(capacity=20)
    for n in range(6):
        discharged(track, D(2026, 1, 1 + n), D(2026, 1, 10 + n), "completed")
    scope = filters(JAN_1, D(2026, 1, 31), today=TODAY)
    result = build(EnrollmentReport, scope)
    assert figure(result, "Discharges").display == "6"
    assert figure(result, "Completion rate").display == "100.0%"
    assert figure(result, "Length of stay, mean (days)").display == "10.0"
    assert table(result, "Discharges by type")["Completed program"] == {
        "Discharges": "6",
        "Share": "100.0%",
    }
    assert chart(result, "Admissions and discharges per month") == {
        "Admissions": ["6"],
        "Discharges": ["6"],
    }


@pytest.mark.parametrize(
    ("role", "status"),
    [(roles.PROGRAM_MANAGER, 200), (None, 200)]
    + [
        (role, 403)
        for role in (roles.INTAKE_COORDINATOR, roles.THERAPIST, roles.PSYCHIATRIST)
    ],
)
def test_only_program_managers_and_superusers_see_the_report(
    client: Any, make_staff: Any, role: str | None, status: int
) -> None:
    client.force_login(make_staff(role, superuser=role is None))
    assert client.get(reverse("admin:reports_enrollment")).status_code == status
    export = client.get(reverse("admin:reports_enrollment_export"))
    assert export.status_code == status


def test_the_data_takes_at_most_three_queries_whatever_the_rows() -> None:
    track = TrackFactory()
    other = TrackFactory(program=track.program, name="Other")

    def enrol(count: int) -> int:
        for n in range(count):
            e = discharged(track, D(2026, 1, 1 + n), D(2026, 2, 1 + n), "completed")
            Placement.objects.create(enrollment=e, to_track=other, on=e.admitted_on)
        return data_queries(EnrollmentReport, filters(JAN_1, FEB_28, today=TODAY))

    with_2 = enrol(2)
    with_20 = enrol(18)
    assert with_2 == with_20 <= MAX_DATA_QUERIES


def test_the_page_queries_do_not_grow_with_rows(client: Any, make_staff: Any) -> None:
    client.force_login(make_staff(roles.PROGRAM_MANAGER))
    track = TrackFactory()
    url = f"{reverse('admin:reports_enrollment')}?start=2026-01-01&end=2026-02-28"

    for n in range(2):
        discharged(track, D(2026, 1, 1 + n), D(2026, 2, 1 + n), "completed")
    page_queries(client, url)  # warm caches
    with_2 = page_queries(client, url)
    for n in range(2, 20):
        discharged(track, D(2026, 1, 1 + n), D(2026, 2, 1 + n), "completed")
    assert page_queries(client, url) == with_2


def test_a_small_track_cannot_be_worked_out_from_the_total() -> None:
    """Day has 3 clients, evening 10, all January: day's census (3) is hidden, and so
    is evening's, since 13 - 10 would give it back; occupancy goes with them."""
    program = ProgramFactory(name="Adult IOP")
    day = TrackFactory(program=program, name="Day", schedule="day", capacity=10)
    evening = TrackFactory(program=program, name="Evening", capacity=12)
    for track, count in ((day, 3), (evening, 10)):
        for _ in range(count):
            EnrollmentFactory(track=track, admitted_on=D(2025, 12, 1))
    result = build(EnrollmentReport, filters(JAN_1, D(2026, 1, 31), today=TODAY))
    census = table(result, "Census and occupancy by track")
    assert census["Adult IOP: Day"] == {
        "Census today": "<5",
        "Average daily census": "<5",
        "Seats": "10",
        "Occupancy": "<5",
    }
    assert census["Adult IOP: Evening"]["Average daily census"] == "<5"
    assert census["Adult IOP: Evening"]["Occupancy"] == "<5"
    assert census["Total"]["Average daily census"] == "13.0"
    assert table(result, "Average daily census by month")["Jan 2026"] == {
        "Adult IOP: Day": "<5",
        "Adult IOP: Evening": "<5",
        "All tracks": "13.0",
    }
    assert chart(result, "Average daily census by month")["Day"] == ["<5"]
