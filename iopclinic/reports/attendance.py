"""The attendance report: attendance and no-show rates by track and month, hours
compliance, and sessions by service type (DOMAIN.md section 6).

It reads the rollups (iopclinic/reports/rollups.py), one query each, because
attendance has millions of rows; the page says when they were last refreshed.
A rollup counts people by track and month; where a cell spans several of them (a
whole period, every track) the largest group stands for its number of people: never
more people than there are, so the "<5" rule errs on the side of hiding.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Max, Q, QuerySet, Sum

from programs.models import GroupSession

from ..models import AttendanceRollup, ClientWeekRollup, SessionRollup
from . import register
from .base import (
    Cell,
    Chart,
    ChartSeries,
    Figure,
    Filters,
    Report,
    ReportResult,
    Row,
    Section,
    Table,
    first_of_month,
)

WHOLE_MONTHS = (
    "Attendance and sessions are counted by whole month: a period that starts or "
    "ends inside a month includes that whole month."
)
ATTENDANCE = (
    "Attendance rate = attended / scheduled sessions. Attended: present, late or left "
    "early. Scheduled: a client's group sessions on the roll, except sessions the "
    "program cancelled; an excused absence is scheduled and not attended. Sessions "
    "whose roll has not been taken are left out; individual appointments are not "
    "group sessions."
)
NO_SHOW = "No-show rate = unexcused absences / scheduled sessions."
COMPLIANCE = (
    "Hours compliance = share of enrolled client-weeks meeting the program minimum. "
    "A client-week is a whole week (Monday to Sunday) inside the period in which the "
    "client was in treatment: admitted on or before the Monday, not discharged "
    "before the Sunday, no day of it on hold. It meets the minimum when the hours "
    "attended (group sessions and individual appointments) reach the program's "
    "weekly minimum hours and the days attended its minimum days. By month: the "
    "Monday's month; by track: the track on the Monday."
)
SESSIONS = (
    "Group sessions by service type: held = not cancelled, up to the last refresh; "
    "cancelled = cancelled by the program."
)

Key = tuple[int, datetime.date]  # (track id, month)


def _people(groups: Iterable[int]) -> int:
    """The people behind several groups: at least as many as the largest."""
    return max(groups, default=0)


@register
class AttendanceReport(Report):
    slug = "attendance"
    title = "Attendance"
    description = (
        "Attendance and no-show rates by track and month, hours compliance, and "
        "sessions by service type."
    )
    order = 20

    def build(self, filters: Filters) -> ReportResult:
        months = filters.months()
        first, last = first_of_month(filters.start), filters.end

        def scoped(queryset: QuerySet[Any]) -> QuerySet[Any]:
            if filters.is_narrowed:
                queryset = queryset.filter(track_id__in=filters.track_ids)
            return queryset.order_by()

        attendance = {
            (row["track_id"], row["month"]): row
            for row in scoped(
                AttendanceRollup.objects.filter(month__gte=first, month__lte=last)
            )
            .values("track_id", "month")
            .annotate(
                scheduled_sum=Sum("scheduled"),
                attended_sum=Sum("attended"),
                unexcused_sum=Sum("unexcused"),
                people=Count("enrollment_id", distinct=True),
            )
        }
        weeks = {
            (row["track_id"], row["month"]): row
            for row in scoped(
                ClientWeekRollup.objects.filter(
                    # The month bounds let the (month, track) index serve the query.
                    month__gte=first,
                    month__lte=last,
                    week__gte=filters.start,
                    week__lte=filters.end - datetime.timedelta(days=6),
                )
            )
            .values("track_id", "month")
            .annotate(
                weeks=Count("id"),
                meeting=Count("id", filter=Q(meets_minimum=True)),
                people=Count("enrollment_id", distinct=True),
                people_meeting=Count(
                    "enrollment_id", distinct=True, filter=Q(meets_minimum=True)
                ),
            )
        }
        sessions = list(
            scoped(SessionRollup.objects.filter(month__gte=first, month__lte=last))
            .values("service", "month")
            .annotate(
                held_sum=Sum("held"),
                cancelled_sum=Sum("cancelled"),
                as_of=Max("refreshed_at"),
            )
        )
        return ReportResult(
            [
                self.rates(filters, months, attendance),
                self.compliance(filters, months, weeks),
                self.sessions(months, sessions),
            ],
            as_of=max((row["as_of"] for row in sessions), default=None),
            from_rollup=True,
        )

    def rates(
        self,
        filters: Filters,
        months: list[datetime.date],
        attendance: dict[Key, dict[str, Any]],
    ) -> Section:
        def rate(keys: list[Key], field: str) -> Cell:
            rows = [attendance[key] for key in keys if key in attendance]
            return Cell.rate(
                sum(row[field] for row in rows),
                sum(row["scheduled_sum"] for row in rows),
                people=_people(row["people"] for row in rows),
            )

        track_ids = [track.id for track in filters.tracks]
        every = [(t, m) for t in track_ids for m in months]

        def table(title: str, field: str, definition: str) -> Table:
            rows = [
                Row(
                    f"{month:%b %Y}",
                    [rate([(t, month)], field) for t in track_ids]
                    + [rate([(t, month) for t in track_ids], field)],
                )
                for month in months
            ]
            rows.append(
                Row(
                    "Whole period",
                    [rate([(t, m) for m in months], field) for t in track_ids]
                    + [rate(every, field)],
                )
            )
            return Table(
                title,
                "Month",
                [f"{t.program_name}: {t.name}" for t in filters.tracks]
                + ["All tracks"],
                rows,
                definition=definition,
            )

        attended = table(
            "Attendance rate by track and month", "attended_sum", ATTENDANCE
        )
        no_show = table("No-show rate by track and month", "unexcused_sum", NO_SHOW)
        return Section(
            "Attendance",
            note=WHOLE_MONTHS,
            figures=[
                Figure("Attendance rate", attended.rows[-1].cells[-1], ATTENDANCE),
                Figure("No-show rate", no_show.rows[-1].cells[-1], NO_SHOW),
            ],
            charts=[
                Chart(
                    "Attendance and no-show rates by month",
                    "line",
                    months,
                    [
                        ChartSeries(
                            "Attendance rate", [r.cells[-1] for r in attended.rows[:-1]]
                        ),
                        ChartSeries(
                            "No-show rate", [r.cells[-1] for r in no_show.rows[:-1]]
                        ),
                    ],
                    unit="%",
                    definition=f"{ATTENDANCE} {NO_SHOW}",
                )
            ],
            tables=[attended, no_show],
        )

    def compliance(
        self,
        filters: Filters,
        months: list[datetime.date],
        weeks: dict[Key, dict[str, Any]],
    ) -> Section:
        def cells(keys: list[Key]) -> tuple[Cell, Cell, Cell]:
            rows = [weeks[key] for key in keys if key in weeks]
            total = Cell(
                sum(row["weeks"] for row in rows),
                people=_people(row["people"] for row in rows),
            )
            meeting = Cell(
                sum(row["meeting"] for row in rows),
                people=_people(row["people_meeting"] for row in rows),
            )
            share = Cell.rate(
                meeting.value or 0,
                total.value or 0,
                people=total.people,
                follows=[meeting, total],
            )
            return total, meeting, share

        track_ids = [track.id for track in filters.tracks]
        rows = [
            Row(f"{t.program_name}: {t.name}", list(cells([(t.id, m) for m in months])))
            for t in filters.tracks
        ]
        rows.append(
            Row("All tracks", list(cells([(t, m) for t in track_ids for m in months])))
        )
        monthly = [cells([(t, m) for t in track_ids])[2] for m in months]
        series = [ChartSeries("All tracks in scope", monthly)]
        if 1 < len(filters.tracks) <= 4:
            series += [
                ChartSeries(t.name, [cells([(t.id, m)])[2] for m in months])
                for t in filters.tracks
            ]
        return Section(
            "Hours compliance",
            figures=[
                Figure(
                    "Client-weeks meeting the program minimum",
                    rows[-1].cells[2],
                    COMPLIANCE,
                )
            ],
            charts=[
                Chart(
                    "Client-weeks meeting the program minimum, by month",
                    "line",
                    months,
                    series,
                    unit="%",
                    definition=COMPLIANCE,
                )
            ],
            tables=[
                Table(
                    "Hours compliance by track",
                    "Track",
                    ["Client-weeks", "Meeting the minimum", "Share meeting it"],
                    rows,
                    total_row=True,
                    definition=COMPLIANCE,
                )
            ],
        )

    def sessions(
        self, months: list[datetime.date], sessions: list[dict[str, Any]]
    ) -> Section:
        held: dict[tuple[str, datetime.date], int] = defaultdict(int)
        cancelled: dict[str, int] = defaultdict(int)
        for row in sessions:
            held[row["service"], row["month"]] += row["held_sum"]
            cancelled[row["service"]] += row["cancelled_sum"]
        services = GroupSession._meta.get_field("service").choices or []
        rows = [
            Row(
                str(label),
                [
                    Cell.count(sum(held[value, m] for m in months), about_people=False),
                    Cell.count(cancelled[value], about_people=False),
                ],
            )
            for value, label in services
        ]
        rows.append(
            Row(
                "All services",
                [
                    Cell.count(sum(held.values()), about_people=False),
                    Cell.count(sum(cancelled.values()), about_people=False),
                ],
            )
        )
        return Section(
            "Sessions by service type",
            charts=[
                Chart(
                    "Group sessions held per month, by service",
                    "bar",
                    months,
                    [
                        ChartSeries(
                            str(label),
                            [
                                Cell.count(held[value, m], about_people=False)
                                for m in months
                            ],
                        )
                        for value, label in services
                    ],
                    definition=SESSIONS,
                )
            ],
            tables=[
                Table(
                    "Group sessions by service type",
                    "Service",
                    ["Held", "Cancelled"],
                    rows,
                    total_row=True,
                    definition=SESSIONS,
                )
            ],
        )
