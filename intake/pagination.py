"""A paginator for the admin lists of tables that grow to tens of thousands of rows
and beyond."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    """On PostgreSQL, an unfiltered list of a large table takes the planner's row
    estimate (``pg_class.reltuples``, kept current by autovacuum's ANALYZE) instead of
    a ``COUNT(*)`` that reads the whole table (shared/NOTES.md); a filtered list, or a
    smaller table, counts exactly.

    One query either way: the exact count sits in the ELSE branch of a CASE on the
    estimate, which PostgreSQL runs only when the estimate is small; so a list runs
    as many queries on the demo as on ten years of records."""

    # Below this many rows an exact count is cheap and exactness matters more; above
    # it the count reads every row (a sequential scan) for a figure nobody checks.
    estimate_above = 20_000

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        queryset = self.object_list
        if not isinstance(queryset, QuerySet) or queryset.query.where:
            return super().count
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return super().count
        rows, params = queryset.order_by().values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT CASE WHEN reltuples > %s THEN reltuples::bigint "
                f"ELSE (SELECT COUNT(*) FROM ({rows}) AS listed) END "
                "FROM pg_class WHERE oid = %s::regclass",
                [self.estimate_above, *params, queryset.model._meta.db_table],
            )
            row = cursor.fetchone()
        return int(row[0]) if row else super().count
