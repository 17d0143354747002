"""Timing a page in-process: a warm-up request, then the median of RUNS requests,
the queries of the last one, the HTML size, and the plan of every SELECT the page ran
(EXPLAIN), flagging sequential scans of the big tables and whole-table counts.

The naive configuration is the same site with the tuning taken away: no
``list_select_related``, Django's own paginator (an exact ``COUNT(*)``), the full
result count shown, and no trigram indexes (dropped inside a transaction that is
rolled back, so the database is left as it was).
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import DatabaseError, connection, reset_queries, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from .pages import Page

RUNS = 9
# Named by the issue; tables over BIG_ROWS rows are watched too.
WATCHED = {
    "intake_client",
    "intake_inquiry",
    "programs_enrollment",
    "programs_attendance",
}
BIG_ROWS = 100_000
# A query touching only these is the request's own bookkeeping (session, user,
# permissions, the access audit), not the page's data.
OVERHEAD = {
    "django_session",
    "django_content_type",
    "auth_user",
    "auth_group",
    "auth_user_groups",
    "auth_permission",
    "auth_group_permissions",
    "auth_user_user_permissions",
    "iopclinic_accessevent",
}
TABLE = re.compile(r'(?:FROM|JOIN|INTO|UPDATE)\s+"(\w+)"')
WHOLE_COUNT = re.compile(r'^SELECT COUNT\(\*\) AS "__count" FROM "(\w+)"\s*$')


@dataclass
class Result:
    page: Page
    ms: float
    queries: int
    data_queries: int
    html_bytes: int
    status: int
    runs: list[float] = field(default_factory=list)
    seq_scans: set[str] = field(default_factory=set)
    whole_counts: set[str] = field(default_factory=set)

    @property
    def meets_goal(self) -> bool | None:
        goal = self.page.goal_ms
        return None if goal is None else self.ms < goal


# The CPU check: fixed pure-Python work, timed a few times. The pages are mostly Python
# (templates, forms), so their times move with it; on a shared host it tells a slow
# moment from a slow page (issue 7: one host varied 1.7x from one second to the next).
CPU_CHECK_LOOPS = 2_000_000
CPU_CHECK_RUNS = 5


def cpu_check() -> list[float]:
    """Milliseconds of CPU_CHECK_LOOPS additions, CPU_CHECK_RUNS times."""
    times = []
    for _ in range(CPU_CHECK_RUNS):
        began = time.perf_counter()
        total = 0
        for number in range(CPU_CHECK_LOOPS):
            total += number
        times.append((time.perf_counter() - began) * 1000)
    return times


def big_tables() -> set[str]:
    """The tables named by the issue, and every table over BIG_ROWS rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples > %s "
            "AND relnamespace = 'public'::regnamespace",
            [BIG_ROWS],
        )
        return WATCHED | {name for (name,) in cursor.fetchall()}


def is_data_query(sql: str) -> bool:
    tables = set(TABLE.findall(sql))
    return bool(tables - OVERHEAD) or not tables


def measure(
    client: Client,
    page: Page,
    *,
    watched: set[str],
    explain: bool = True,
    runs: int = RUNS,
) -> Result:
    """Warm up once, then ``runs`` timed requests; EXPLAIN the warm-up's queries.

    The capture stops Django from emptying the connection's query log at each
    request, and the log holds 9,000 queries: it is emptied before each request, and
    each request's queries copied as soon as it ends."""
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(page.url, secure=True)
    warm_up = [query["sql"] for query in captured]
    times: list[float] = []
    sqls = warm_up
    for _ in range(runs):
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = client.get(page.url, secure=True)
            times.append((time.perf_counter() - began) * 1000)
        sqls = [query["sql"] for query in captured]
    result = Result(
        page=page,
        ms=statistics.median(times) if times else 0.0,
        queries=len(sqls),
        data_queries=sum(is_data_query(sql) for sql in sqls),
        html_bytes=len(response.content),
        status=response.status_code,
        runs=times,
    )
    if explain:
        for sql in warm_up:
            scanned, counted = check_plan(sql, watched)
            result.seq_scans |= scanned
            result.whole_counts |= counted
    return result


def check_plan(sql: str, watched: set[str]) -> tuple[set[str], set[str]]:
    """Watched tables the query read with a sequential scan, and tables it counted
    whole (``SELECT COUNT(*)`` without a condition). EXPLAIN ANALYZE, so a branch
    the query never ran (the paginator's exact count, past its threshold) is not
    flagged."""
    if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
        return set(), set()
    counted = set(WHOLE_COUNT.findall(sql.strip())) & watched
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0]
    except DatabaseError:
        return set(), counted
    plan = plan[0]["Plan"] if isinstance(plan, list) else plan
    return {
        node["Relation Name"]
        for node in walk(plan)
        if node.get("Node Type") == "Seq Scan"
        and node.get("Relation Name") in watched
        and node.get("Actual Loops", 1) > 0
    }, counted


def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from walk(child)


NAIVE_SETTINGS = {
    "list_select_related": False,
    "paginator": Paginator,
    "show_full_result_count": True,
}


@contextmanager
def naive_configuration() -> Iterator[list[str]]:
    """Every ModelAdmin without its tuning and the database without its trigram
    indexes, for as long as the block runs; all of it undone afterwards (the
    dropped indexes by rolling the transaction back). Yields the dropped indexes."""
    missing = object()
    saved = []
    for model_admin in admin.site._registry.values():
        for name, value in NAIVE_SETTINGS.items():
            saved.append((model_admin, name, model_admin.__dict__.get(name, missing)))
            setattr(model_admin, name, value)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' "
                    "AND indexdef LIKE '%%gin_trgm_ops%%' ORDER BY 1"
                )
                dropped = [name for (name,) in cursor.fetchall()]
                for name in dropped:
                    cursor.execute(f'DROP INDEX "{name}"')
            yield dropped
            transaction.set_rollback(True)
    finally:
        for model_admin, name, value in saved:
            if value is missing:
                delattr(model_admin, name)
            else:
                setattr(model_admin, name, value)
