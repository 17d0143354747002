"""A paginator for the admin lists of tables that grow to millions of rows."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    """On PostgreSQL, an unfiltered list of a very large table takes the planner's row
    estimate (``pg_class.reltuples``) instead of a ``COUNT(*)`` that reads the whole
    table (shared/NOTES.md); a filtered list, or a smaller table, counts exactly."""

    # Below this many rows an exact count is cheap enough and exactness matters more.
    estimate_above = 100_000

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and not queryset.query.where:
            connection = connections[queryset.db]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT reltuples::bigint FROM pg_class "
                        "WHERE oid = %s::regclass",
                        [queryset.model._meta.db_table],
                    )
                    row = cursor.fetchone()
                if row and row[0] > self.estimate_above:
                    return int(row[0])
        return super().count
