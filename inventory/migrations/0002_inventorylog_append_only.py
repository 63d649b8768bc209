"""The database refuses UPDATE and DELETE on the inventory log, whoever asks.

The model and its queryset refuse them too; this is the backstop for raw SQL, a
shell session or a future bug.
"""

from django.db import migrations

POSTGRESQL_FORWARD = """
CREATE FUNCTION inventory_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'inventory_inventorylog is append-only: %% refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER inventory_log_append_only
    BEFORE UPDATE OR DELETE ON inventory_inventorylog
    FOR EACH ROW EXECUTE FUNCTION inventory_log_append_only();
"""
POSTGRESQL_BACKWARD = """
DROP TRIGGER IF EXISTS inventory_log_append_only ON inventory_inventorylog;
DROP FUNCTION IF EXISTS inventory_log_append_only();
"""
SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER inventory_log_no_{operation.lower()}
    BEFORE {operation} ON inventory_inventorylog
    BEGIN SELECT RAISE(ABORT, 'inventory_inventorylog is append-only'); END;
    """
    for operation in ("UPDATE", "DELETE")
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS inventory_log_no_update", "DROP TRIGGER IF EXISTS inventory_log_no_delete"]


def forward(apps, schema_editor):
    _run(schema_editor, POSTGRESQL_FORWARD, SQLITE_FORWARD)


def backward(apps, schema_editor):
    _run(schema_editor, POSTGRESQL_BACKWARD, SQLITE_BACKWARD)


def _run(schema_editor, postgresql_sql, sqlite_statements):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(postgresql_sql)
    elif vendor == "sqlite":
        for statement in sqlite_statements:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
