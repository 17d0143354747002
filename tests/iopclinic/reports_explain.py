"""What PostgreSQL could do at scale with a report's queries, asked on a test
database (EXPLAIN)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from iopclinic.reports import Filters, Report

INDEX_READS = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _leading_column(cursor: Any, index: str) -> tuple[str, str]:
    """(table, first column) of an index."""
    cursor.execute(
        "SELECT t.relname, a.attname FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_class t ON t.oid = i.indrelid "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
        "WHERE c.relname = %s",
        [index],
    )
    return cursor.fetchone()


def scanned_whole(
    report: type[Report],
    scope: Filters,
    tables: tuple[str, ...] = ("programs_enrollment", "intake_client"),
) -> set[str]:
    """The ``tables`` the report's queries read whole even when sequential scans
    are priced out (``enable_seqscan = off``): a sequential scan, or an index walked
    without a condition on its first column. On a test database's few rows the
    planner reads everything whole, so only this setting shows what it could do at
    scale."""
    with CaptureQueriesContext(connection) as queries:
        report().build(scope)
    scanned: set[str] = set()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in queries.captured_queries:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {query['sql']}")
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            for node in _nodes(plan[0]["Plan"]):
                if node["Node Type"] == "Seq Scan":
                    table = node["Relation Name"]
                elif node["Node Type"] in INDEX_READS:
                    table, column = _leading_column(cursor, node["Index Name"])
                    if column in node.get("Index Cond", ""):
                        continue
                else:
                    continue
                if table in tables:
                    scanned.add(table)
    return scanned
