"""On PostgreSQL, every report's data queries can be served by indexes: no
sequential scan of attendance, enrollments or clients (checked with the planner told
to avoid one, so a missing index shows on a small test database too)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from iopclinic.reports import REPORTS
from tests.factories import EnrollmentFactory, TrackFactory

from .reports_helpers import filters

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

BIG_TABLES = ("programs_attendance", "programs_enrollment", "intake_client")


def plans(report: Any, scope: Any) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        report().build(scope)
    result = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in queries.captured_queries:
            cursor.execute(f"EXPLAIN {query['sql']}")
            result.append("\n".join(row[0] for row in cursor.fetchall()))
    return result


@pytest.mark.parametrize("report", REPORTS, ids=lambda report: report.slug)
def test_no_report_scans_a_big_table(report: Any) -> None:
    track = TrackFactory()
    EnrollmentFactory(track=track, admitted_on=datetime.date(2026, 1, 5))
    for scope in (
        filters(datetime.date(2025, 11, 1), datetime.date(2026, 10, 31)),
        filters(datetime.date(2026, 3, 1), datetime.date(2026, 3, 31), track=track),
    ):
        for plan in plans(report, scope):
            for table in BIG_TABLES:
                assert f"Seq Scan on {table}" not in plan, plan
