"""A signed treatment plan is never edited (DOMAIN.md section 3), by any path.

The models refuse it on save(); on PostgreSQL the database refuses it too, so a
queryset .update(), a bulk write or raw SQL cannot change a signed plan's content or
its rows: on a plan that is not a draft only the acknowledgement and supersession
columns may change, and its problems, goals, objectives and interventions may not be
added, changed or removed. SQLite (the demo) relies on the models alone.
"""

from django.db import migrations

PARTS = [
    "programs_planproblem",
    "programs_plangoal",
    "programs_planobjective",
    "programs_planintervention",
]

CREATE = """
CREATE OR REPLACE FUNCTION programs_signed_plan_unchanged() RETURNS trigger AS $$
BEGIN
    IF OLD.status <> 'draft' AND (
        NEW.enrollment_id IS DISTINCT FROM OLD.enrollment_id
        OR NEW.version IS DISTINCT FROM OLD.version
        OR NEW.strengths IS DISTINCT FROM OLD.strengths
        OR NEW.client_hopes IS DISTINCT FROM OLD.client_hopes
        OR NEW.discharge_criteria IS DISTINCT FROM OLD.discharge_criteria
        OR NEW.signed_by_id IS DISTINCT FROM OLD.signed_by_id
        OR NEW.signed_at IS DISTINCT FROM OLD.signed_at
        OR NEW.status = 'draft'
    ) THEN
        RAISE EXCEPTION 'treatment plan % is signed and cannot be edited', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER programs_signed_plan_unchanged
    BEFORE UPDATE ON programs_treatmentplan
    FOR EACH ROW EXECUTE FUNCTION programs_signed_plan_unchanged();

CREATE OR REPLACE FUNCTION programs_plan_part_in_draft() RETURNS trigger AS $$
DECLARE
    plan_ids integer[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        plan_ids := ARRAY[NEW.plan_id];
    ELSIF TG_OP = 'DELETE' THEN
        plan_ids := ARRAY[OLD.plan_id];
    ELSE
        plan_ids := ARRAY[OLD.plan_id, NEW.plan_id];
    END IF;
    IF EXISTS (
        SELECT 1 FROM programs_treatmentplan
        WHERE id = ANY(plan_ids) AND status <> 'draft'
    ) THEN
        RAISE EXCEPTION 'the rows of a signed treatment plan cannot be changed'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE, params=None)  # its % are plpgsql, not params
    for table in PARTS:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_in_draft BEFORE INSERT OR UPDATE OR DELETE "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION programs_plan_part_in_draft()"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in PARTS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_in_draft ON {table}")
    schema_editor.execute(
        "DROP TRIGGER IF EXISTS programs_signed_plan_unchanged "
        "ON programs_treatmentplan"
    )
    schema_editor.execute("DROP FUNCTION IF EXISTS programs_plan_part_in_draft()")
    schema_editor.execute("DROP FUNCTION IF EXISTS programs_signed_plan_unchanged()")


class Migration(migrations.Migration):
    dependencies = [("programs", "0007_treatment_plans")]

    operations = [migrations.RunPython(create, drop)]
