"""Hours and days attended per ISO week against the program's minimum (DOMAIN.md
sections 1 and 6), and the flags therapists and managers act on."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count
from django.utils import timezone

from .models import Appointment, Attendance, Enrollment

ATTENDED = [
    Attendance.Status.PRESENT,
    Attendance.Status.LATE,
    Attendance.Status.LEFT_EARLY,
]
UNEXCUSED_WINDOW_DAYS = 14
UNEXCUSED_FLAG_AT = 2


@dataclass(frozen=True)
class WeekRow:
    monday: datetime.date
    hours: float
    days: int
    minimum_hours: int
    minimum_days: int

    @property
    def meets_minimum(self) -> bool:
        return self.hours >= self.minimum_hours and self.days >= self.minimum_days


def monday_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _week_start(monday: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(
        monday, datetime.time(), tzinfo=timezone.get_default_timezone()
    )


def weekly_totals(
    enrollment_ids: Any, monday: datetime.date
) -> dict[int, tuple[int, int]]:
    """enrollment id -> (minutes, days attended) in the week from ``monday``, group
    sessions and individual appointments together (a day counts once)."""
    return totals_by_week(enrollment_ids, monday, weeks=1)[monday]


def totals_by_week(
    enrollment_ids: Any, first_monday: datetime.date, weeks: int
) -> dict[datetime.date, dict[int, tuple[int, int]]]:
    """``weekly_totals`` for ``weeks`` weeks from ``first_monday``, in two queries
    whatever the number of weeks: Monday -> enrollment id -> (minutes, days)."""
    start = _week_start(first_monday)
    end = start + datetime.timedelta(weeks=weeks)
    sessions = Attendance.objects.filter(
        enrollment_id__in=enrollment_ids,
        status__in=ATTENDED,
        session__starts_at__gte=start,
        session__starts_at__lt=end,
    ).values_list("enrollment_id", "session__starts_at", "minutes_attended")
    appointments = Appointment.objects.filter(
        enrollment_id__in=enrollment_ids,
        attendance__in=ATTENDED,
        starts_at__gte=start,
        starts_at__lt=end,
    ).values_list("enrollment_id", "starts_at", "minutes_attended")
    minutes: dict[tuple[datetime.date, int], int] = defaultdict(int)
    days: dict[tuple[datetime.date, int], set[datetime.date]] = defaultdict(set)
    for enrollment_id, starts_at, attended in [*sessions, *appointments]:
        day = timezone.localdate(starts_at)
        key = (monday_of(day), enrollment_id)
        minutes[key] += attended or 0
        days[key].add(day)
    totals: dict[datetime.date, dict[int, tuple[int, int]]] = {
        first_monday + datetime.timedelta(weeks=n): {} for n in range(weeks)
    }
    for (monday, enrollment_id), total in minutes.items():
        totals[monday][enrollment_id] = (total, len(days[(monday, enrollment_id)]))
    return totals


def below_minimum(enrollments: Any, monday: datetime.date) -> list[int]:
    """Active enrollments, in treatment the whole week, below their program's minimum
    hours or days that week."""
    candidates = list(
        enrollments.filter(
            status=Enrollment.Status.ACTIVE, admitted_on__lte=monday
        ).values_list(
            "pk",
            "track__program__minimum_hours_per_week",
            "track__program__minimum_days_per_week",
        )
    )
    totals = weekly_totals([pk for pk, _, _ in candidates], monday)
    flagged = []
    for pk, minimum_hours, minimum_days in candidates:
        minutes, days = totals.get(pk, (0, 0))
        if minutes < minimum_hours * 60 or days < minimum_days:
            flagged.append(pk)
    return flagged


def frequent_unexcused(
    enrollments: Any, today: datetime.date | None = None
) -> list[int]:
    """Open enrollments with 2 or more unexcused absences in the last 14 days.

    Counted from the window's sessions (a few thousand rows on the session index),
    then matched to the open enrollments, rather than read from every attendance
    row of every open enrollment."""
    today = today or timezone.localdate()
    since = _week_start(today - datetime.timedelta(days=UNEXCUSED_WINDOW_DAYS))
    absent_twice = (
        Attendance.objects.filter(
            status=Attendance.Status.UNEXCUSED, session__starts_at__gte=since
        )
        .order_by()
        .values("enrollment_id")
        .annotate(unexcused=Count("id"))
        .filter(unexcused__gte=UNEXCUSED_FLAG_AT)
        .values("enrollment_id")
    )
    return list(
        enrollments.open()
        .filter(pk__in=absent_twice)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def attendance_summary(enrollment: Enrollment, weeks: int = 4) -> list[WeekRow]:
    """The last ``weeks`` ISO weeks (this one first) against the program minimum;
    weeks wholly before the admission are left out. Two queries."""
    program = enrollment.track.program
    this_monday = monday_of(timezone.localdate())
    mondays = [
        monday
        for monday in (
            this_monday - datetime.timedelta(weeks=offset) for offset in range(weeks)
        )
        if monday + datetime.timedelta(days=6) >= enrollment.admitted_on
    ]
    if not mondays:
        return []
    totals = totals_by_week([enrollment.pk], mondays[-1], weeks=len(mondays))
    return [
        WeekRow(
            monday=monday,
            hours=round(minutes / 60, 1),
            days=days,
            minimum_hours=program.minimum_hours_per_week or 0,
            minimum_days=program.minimum_days_per_week or 0,
        )
        for monday in mondays
        for minutes, days in [totals[monday].get(enrollment.pk, (0, 0))]
    ]
