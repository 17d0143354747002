"""Trigram indexes for the admin's search on PostgreSQL (shared/NOTES.md).

The admin's icontains search becomes UPPER(col::text) LIKE UPPER('%x%'); only a GIN index
on UPPER(col) with gin_trgm_ops serves it. SQLite (the demo) has no pg_trgm: skipped there.
"""

from django.db import migrations

INDEXED = {
    "intake_client": ["first_name", "last_name", "preferred_name", "mrn", "phone"],
    "intake_inquiry": ["first_name", "last_name", "phone", "email"],
}


def index_name(table, column):
    return f"{table}_{column}_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, columns in INDEXED.items():
        for column in columns:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {index_name(table, column)} ON {table} "
                f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, columns in INDEXED.items():
        for column in columns:
            schema_editor.execute(f"DROP INDEX IF EXISTS {index_name(table, column)}")


class Migration(migrations.Migration):
    dependencies = [("intake", "0003_seed_presenting_concerns")]

    operations = [migrations.RunPython(create, drop)]
