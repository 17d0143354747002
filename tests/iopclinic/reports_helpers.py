"""Helpers for the report tests: run a report as the page does, count its queries."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from iopclinic.reports import Cell, Filters, Report, ReportResult
from iopclinic.reports.base import load_tracks
from iopclinic.reports.views import run

MAX_DATA_QUERIES = 3


def filters(
    start: datetime.date,
    end: datetime.date,
    *,
    program: Any = None,
    track: Any = None,
    today: datetime.date | None = None,
) -> Filters:
    """Filters as the form makes them (tracks in scope with their capacity)."""
    program_id = getattr(program, "pk", program)
    track_id = getattr(track, "pk", track)
    tracks = tuple(
        t
        for t in load_tracks()
        if (program_id is None or t.program_id == program_id)
        and (track_id is None or t.id == track_id)
    )
    if track_id is not None and program_id is None:
        program_id = tracks[0].program_id
    return Filters(
        start, end, program_id, track_id, tracks, today or timezone.localdate()
    )


def build(report: type[Report], scope: Filters) -> ReportResult:
    """The report with the "<5" rule applied, as the page and the CSV show it."""
    return run(report, scope)


def data_queries(report: type[Report], scope: Filters) -> int:
    """How many queries the report's data takes (the page's lookups aside)."""
    with CaptureQueriesContext(connection) as queries:
        report().build(scope)
    return len(queries)


def figure(result: ReportResult, label: str) -> Cell:
    """The cell of the figure with this label, in whatever section it is."""
    for section in result.sections:
        for item in section.figures:
            if item.label == label:
                return item.cell
    raise LookupError(label)


def table(result: ReportResult, title: str) -> dict[str, dict[str, str]]:
    """A table as {row label: {column: display}}."""
    for section in result.sections:
        for item in section.tables:
            if item.title == title:
                return {
                    row.label: {
                        column: cell.display
                        for column, cell in zip(item.columns, row.cells, strict=True)
                    }
                    for row in item.rows
                }
    raise LookupError(title)


def chart(result: ReportResult, title: str) -> dict[str, list[str]]:
    """A chart's numbers as {series label: [display per month]}."""
    for section in result.sections:
        for item in section.charts:
            if item.title == title:
                return {
                    line.label: [cell.display for cell in line.cells]
                    for line in item.series
                }
    raise LookupError(title)


def page_queries(client: Any, url: str) -> int:
    """How many queries a report page takes in all (session, user, lookups, data)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)
