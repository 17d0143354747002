"""Bulk loading into PostgreSQL: COPY, and the indexes and foreign keys of the big
tables set aside during a load and rebuilt from their own definitions afterwards.

Rebuilding an index once is several times faster than updating it row by row, and
re-adding a foreign key checks every row in one join instead of one lookup per row
(queued until commit, as Django's foreign keys are deferred). The rebuilt schema is
exactly the one the migrations made: each definition is read back from the catalog.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.management.color import no_style
from django.db import connection
from django.db.models import Model

# Rows handed to COPY per write in the text fast path.
CHUNK_ROWS = 50_000


def table(model: type[Model]) -> str:
    return model._meta.db_table


def columns(model: type[Model], names: Sequence[str]) -> list[str]:
    """The database columns of ``names`` (model field names, ``client`` for a foreign
    key), so the column lists follow the models rather than being typed again."""
    fields = [model._meta.get_field(name) for name in names]
    return [connection.ops.quote_name(f.column) for f in fields]  # type: ignore[union-attr, arg-type]


def copy_rows(
    model: type[Model], names: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """COPY ``rows`` (tuples in the order of ``names``) into the model's table."""
    sql = f"COPY {table(model)} ({', '.join(columns(model, names))}) FROM STDIN"
    count = 0
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def copy_text(model: type[Model], names: Sequence[str], lines: Iterable[str]) -> int:
    """COPY pre-formatted text lines (tab-separated, newline-terminated, nothing to
    escape): the fast path for millions of rows of numbers and codes."""
    sql = f"COPY {table(model)} ({', '.join(columns(model, names))}) FROM STDIN"
    count = 0
    chunk: list[str] = []
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
        for line in lines:
            chunk.append(line)
            if len(chunk) >= CHUNK_ROWS:
                copy.write("".join(chunk))
                count += len(chunk)
                chunk.clear()
        if chunk:
            copy.write("".join(chunk))
            count += len(chunk)
    return count


@dataclass
class SetAside:
    """The secondary indexes, unique constraints and foreign keys of some tables,
    dropped for a load and re-created from their saved definitions."""

    tables: list[str]
    indexes: list[str] = field(default_factory=list)  # CREATE INDEX statements
    constraints: list[tuple[str, str, str]] = field(default_factory=list)

    def drop(self) -> None:
        with connection.cursor() as cursor:
            for name in self.tables:
                cursor.execute(
                    "SELECT conname, pg_get_constraintdef(oid), contype FROM "
                    "pg_constraint WHERE conrelid = %s::regclass AND contype IN "
                    "('f', 'u') ORDER BY contype DESC, conname",
                    [name],
                )
                saved = [(name, conname, sql) for conname, sql, _ in cursor.fetchall()]
                for _, conname, _ in saved:
                    cursor.execute(f'ALTER TABLE {name} DROP CONSTRAINT "{conname}"')
                self.constraints += saved
                # What is left besides the primary key: plain, partial, expression
                # and trigram indexes, each with its full definition.
                cursor.execute(
                    "SELECT i.indexrelid::regclass::text, "
                    "pg_get_indexdef(i.indexrelid) FROM pg_index i "
                    "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
                    "ORDER BY 1",
                    [name],
                )
                for index, definition in cursor.fetchall():
                    self.indexes.append(definition)
                    cursor.execute(f"DROP INDEX {index}")

    def restore(self) -> None:
        """Unique constraints first, then indexes, then foreign keys (checked)."""
        with connection.cursor() as cursor:
            ordered = sorted(self.constraints, key=lambda c: "FOREIGN" in c[2])
            for name, conname, definition in ordered:
                if "FOREIGN" in definition:
                    continue
                cursor.execute(
                    f'ALTER TABLE {name} ADD CONSTRAINT "{conname}" {definition}'
                )
            for definition in self.indexes:
                cursor.execute(definition)
            for name, conname, definition in ordered:
                if "FOREIGN" not in definition:
                    continue
                cursor.execute(
                    f'ALTER TABLE {name} ADD CONSTRAINT "{conname}" {definition}'
                )


def reset_sequences(models: Iterable[type[Model]]) -> None:
    """Point each table's id sequence past the ids the load gave explicitly."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(models))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
