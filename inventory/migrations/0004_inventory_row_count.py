"""An exact count of the inventory rows, kept by PostgreSQL triggers (see InventoryRowCount).

Statement-level triggers with transition tables: one upsert per INSERT or DELETE
statement, however many rows it touches. Upserts, not plain updates, because
Django's test flush truncates the counter table together with the inventory
table: the TRUNCATE trigger, which fires after both, writes the row again.
"""

from django.db import migrations, models

POSTGRESQL_FORWARD = """
CREATE FUNCTION inventory_count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO inventory_inventoryrowcount (id, row_count) VALUES (1, 0)
            ON CONFLICT (id) DO UPDATE SET row_count = 0;
    ELSE
        INSERT INTO inventory_inventoryrowcount (id, row_count)
            SELECT 1, CASE TG_OP WHEN 'INSERT' THEN count(*) ELSE -count(*) END FROM changed_rows
            ON CONFLICT (id) DO UPDATE
                SET row_count = inventory_inventoryrowcount.row_count + excluded.row_count;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER inventory_count_inserted_rows
    AFTER INSERT ON inventory_inventory REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inventory_count_rows();
CREATE TRIGGER inventory_count_deleted_rows
    AFTER DELETE ON inventory_inventory REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inventory_count_rows();
CREATE TRIGGER inventory_count_truncated_rows
    AFTER TRUNCATE ON inventory_inventory
    FOR EACH STATEMENT EXECUTE FUNCTION inventory_count_rows();
-- CREATE TRIGGER holds a lock that keeps out writers of inventory_inventory until
-- the migration commits, so no row is missed between this count and the triggers.
INSERT INTO inventory_inventoryrowcount (id, row_count) SELECT 1, count(*) FROM inventory_inventory;
"""
POSTGRESQL_BACKWARD = """
DROP TRIGGER IF EXISTS inventory_count_inserted_rows ON inventory_inventory;
DROP TRIGGER IF EXISTS inventory_count_deleted_rows ON inventory_inventory;
DROP TRIGGER IF EXISTS inventory_count_truncated_rows ON inventory_inventory;
DROP FUNCTION IF EXISTS inventory_count_rows();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0003_warehouse_groups")]

    operations = [
        migrations.CreateModel(
            name="InventoryRowCount",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("row_count", models.BigIntegerField()),
            ],
            options={
                "default_permissions": (),
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("id", 1)), name="inventoryrowcount_one_row")
                ],
            },
        ),
        migrations.RunPython(forward, backward),
    ]
