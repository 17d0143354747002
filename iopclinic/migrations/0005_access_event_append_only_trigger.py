"""On PostgreSQL, the access event table refuses UPDATE and DELETE (HIPAA audit
controls: an audit trail nobody can rewrite, not even through SQL). SQLite, the demo's
database, relies on the model and its queryset, which refuse the same."""

from django.db import migrations

CREATE = [
    """
CREATE OR REPLACE FUNCTION iopclinic_accessevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'iopclinic_accessevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
""",
    """
CREATE TRIGGER iopclinic_accessevent_append_only
    BEFORE UPDATE OR DELETE ON iopclinic_accessevent
    FOR EACH ROW EXECUTE FUNCTION iopclinic_accessevent_append_only()
""",
]

DROP = [
    "DROP TRIGGER IF EXISTS iopclinic_accessevent_append_only ON iopclinic_accessevent",
    "DROP FUNCTION IF EXISTS iopclinic_accessevent_append_only()",
]


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("iopclinic", "0004_access_event_client_ip_search")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
