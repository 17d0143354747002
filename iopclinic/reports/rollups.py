"""The rollup tables the attendance report reads, rebuilt whole by
``manage.py refresh_report_rollups`` (nightly).

Attendance has millions of rows: aggregating a year of it on every page view would
miss the 300 ms goal, so a refresh does it once. The page shows when the rollups were
built ("data as of").
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, DateField, Q
from django.db.models.functions import Coalesce, TruncDate, TruncMonth, TruncWeek
from django.utils import timezone

from programs.compliance import ATTENDED
from programs.models import (
    Appointment,
    Attendance,
    Enrollment,
    GroupSession,
    HoldPeriod,
    Placement,
)

from ..models import AttendanceRollup, ClientWeekRollup, SessionRollup
from .enrollment import FOREVER, stays

BATCH = 5000
WEEK = datetime.timedelta(days=7)
Status = Attendance.Status


def _batched(rows: Iterable[Any]) -> Iterator[list[Any]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _month(expression: str) -> TruncMonth:
    return TruncMonth(expression, output_field=DateField())


def attendance_rows(now: datetime.datetime) -> Iterator[AttendanceRollup]:
    """Per enrollment, track and month: sessions on the roll and how they went.
    Sessions the program cancelled, and rows marked cancelled by the program, are
    not scheduled sessions."""
    grouped = (
        Attendance.objects.filter(session__cancelled=False)
        .annotate(month=_month("session__starts_at"))
        .values("enrollment_id", "session__track_id", "month")
        .annotate(
            scheduled=Count("id", filter=~Q(status=Status.CANCELLED)),
            attended=Count("id", filter=Q(status__in=ATTENDED)),
            unexcused=Count("id", filter=Q(status=Status.UNEXCUSED)),
            excused=Count("id", filter=Q(status=Status.EXCUSED)),
        )
        .order_by()
    )
    for row in grouped.iterator(chunk_size=BATCH):
        yield AttendanceRollup(
            enrollment_id=row["enrollment_id"],
            track_id=row["session__track_id"],
            month=row["month"],
            scheduled=row["scheduled"],
            attended=row["attended"],
            unexcused=row["unexcused"],
            excused=row["excused"],
            refreshed_at=now,
        )


def session_rows(now: datetime.datetime) -> Iterator[SessionRollup]:
    """Per track, month and service: group sessions held and cancelled, up to now."""
    grouped = (
        GroupSession.objects.filter(starts_at__lt=now)
        .annotate(month=_month("starts_at"))
        .values("track_id", "month", "service")
        .annotate(
            held=Count("id", filter=Q(cancelled=False)),
            cancelled_count=Count("id", filter=Q(cancelled=True)),
        )
        .order_by()
    )
    for row in grouped:
        yield SessionRollup(
            track_id=row["track_id"],
            month=row["month"],
            service=row["service"],
            held=row["held"],
            cancelled=row["cancelled_count"],
            refreshed_at=now,
        )


def weekly_attendance() -> dict[tuple[int, datetime.date], tuple[int, int]]:
    """(enrollment id, Monday) -> (minutes attended, days with a service attended),
    group sessions and individual appointments together (a day counts once), as in
    programs/compliance.py."""
    sessions = (
        Attendance.objects.filter(status__in=ATTENDED, session__cancelled=False)
        .annotate(
            week=TruncWeek("session__starts_at", output_field=DateField()),
            day=TruncDate("session__starts_at"),
            minutes=Coalesce("minutes_attended", 0),
        )
        .values("enrollment_id", "week", "day", "minutes")
        .order_by()
    )
    appointments = (
        Appointment.objects.filter(attendance__in=ATTENDED)
        .annotate(
            week=TruncWeek("starts_at", output_field=DateField()),
            day=TruncDate("starts_at"),
            minutes=Coalesce("minutes_attended", 0),
        )
        .values("enrollment_id", "week", "day", "minutes")
        .order_by()
    )
    sessions_sql, sessions_params = sessions.query.sql_with_params()
    appointments_sql, appointments_params = appointments.query.sql_with_params()
    # The ORM has no aggregate over a UNION; the inner queries are the ORM's own SQL
    # for this database, the outer one is plain SQL.
    sql = (
        "SELECT enrollment_id, week, SUM(minutes), COUNT(DISTINCT day) FROM "
        f"({sessions_sql} UNION ALL {appointments_sql}) AS attended "
        "GROUP BY enrollment_id, week"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*sessions_params, *appointments_params))
        return {
            (enrollment_id, _as_date(week)): (int(minutes), int(days))
            for enrollment_id, week, minutes, days in cursor.fetchall()
        }


def _as_date(value: Any) -> datetime.date:
    """SQLite returns the truncated week as text."""
    if isinstance(value, str):
        return datetime.date.fromisoformat(value[:10])
    if isinstance(value, datetime.datetime):
        return value.date()
    return value


def client_week_rows(
    now: datetime.datetime,
) -> Iterator[ClientWeekRollup]:
    """Every whole ISO week an enrollment was in treatment (admitted on or before
    the Monday, not discharged before the Sunday, no day of it on hold, over before
    today), with what was attended against the program's weekly minimum."""
    today = timezone.localdate(now)
    attended = weekly_attendance()
    changes: dict[int, list[tuple[datetime.date, int, int]]] = defaultdict(list)
    for enrollment_id, on, from_track, to_track in (
        Placement.objects.filter(from_track__isnull=False)
        .order_by("on", "recorded_at", "id")
        .values_list("enrollment_id", "on", "from_track_id", "to_track_id")
    ):
        changes[enrollment_id].append((on, from_track, to_track))
    holds: dict[int, list[tuple[datetime.date, datetime.date]]] = defaultdict(list)
    for enrollment_id, starts_on, ended_on in HoldPeriod.objects.values_list(
        "enrollment_id", "starts_on", "ended_on"
    ):
        holds[enrollment_id].append((starts_on, ended_on or FOREVER))
    enrollments = (
        Enrollment.objects.exclude(status=Enrollment.Status.SCHEDULED)
        .order_by()
        .values_list(
            "pk",
            "client_id",
            "track_id",
            "admitted_on",
            "discharged_on",
            "track__program__minimum_hours_per_week",
            "track__program__minimum_days_per_week",
        )
    )
    for (
        pk,
        client_id,
        track_id,
        admitted_on,
        discharged_on,
        hours,
        days,
    ) in enrollments.iterator(chunk_size=BATCH):
        its_stays = stays(
            client_id, track_id, admitted_on, discharged_on, changes.get(pk, ())
        )
        last_day = min(discharged_on or FOREVER, today - datetime.timedelta(days=1))
        monday = admitted_on + datetime.timedelta(days=-admitted_on.weekday() % 7)
        while monday + datetime.timedelta(days=6) <= last_day:
            sunday = monday + datetime.timedelta(days=6)
            if not any(
                start <= sunday and end >= monday for start, end in holds.get(pk, ())
            ):
                minutes, days_attended = attended.get((pk, monday), (0, 0))
                yield ClientWeekRollup(
                    enrollment_id=pk,
                    track_id=next(
                        s.track_id for s in its_stays if s.first <= monday <= s.last
                    ),
                    week=monday,
                    month=monday.replace(day=1),
                    minutes=minutes,
                    days=days_attended,
                    meets_minimum=minutes >= (hours or 0) * 60
                    and days_attended >= (days or 0),
                    refreshed_at=now,
                )
            monday += WEEK


@transaction.atomic
def refresh_rollups(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Rebuild every report rollup from the records; returns rows written per table.
    One transaction: a report never reads a half-built rollup."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    for model, rows in (
        (AttendanceRollup, attendance_rows(now)),
        (SessionRollup, session_rows(now)),
        (ClientWeekRollup, client_week_rows(now)),
    ):
        model.objects.all().delete()
        written = 0
        for batch in _batched(rows):
            model.objects.bulk_create(batch)
            written += len(batch)
        counts[model._meta.label_lower] = written
    return counts
