"""Count sheets (issue 17): stock-takes and cycle counts, line by line, and a product's unit value.

The database keeps a posted or cancelled sheet as it is: its status is final, a sheet is
posted only when every line is counted, and the lines of a sheet that is not open take no
insert or change (triggers on PostgreSQL and SQLite; SQLite loses them if a later migration
rebuilds either table, as the log's are restored in 0015 and 0017). Both back-office groups
may count; "Warehouse managers" may approve variances and post.
"""

import importlib

import django.db.models.deletion
import django.db.models.functions.datetime
from django.db import migrations, models

_append_only = importlib.import_module("inventory.migrations.0002_inventorylog_append_only")
_groups = importlib.import_module("inventory.migrations.0012_warehouse_group_permissions")

GROUPS = {
    "Warehouse staff": [("view_countsheet", "countsheet"), ("count_countsheet", "countsheet")],
    "Warehouse managers": [
        ("view_countsheet", "countsheet"),
        ("count_countsheet", "countsheet"),
        ("approve_countsheet", "countsheet"),
    ],
}

POSTGRESQL_FORWARD = """
CREATE FUNCTION inventory_countsheet_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'open' AND NEW.status IS DISTINCT FROM OLD.status THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation',
            MESSAGE = 'count sheet ' || OLD.id || ' is ' || OLD.status || ': its status is final';
    END IF;
    IF NEW.status = 'posted' AND OLD.status = 'open' AND EXISTS (
        SELECT 1 FROM inventory_countline WHERE sheet_id = NEW.id AND counted IS NULL
    ) THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation',
            MESSAGE = 'count sheet ' || NEW.id || ' has lines not counted: it cannot be posted';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER inventory_countsheet_final
    BEFORE UPDATE ON inventory_countsheet
    FOR EACH ROW EXECUTE FUNCTION inventory_countsheet_final();
CREATE FUNCTION inventory_countline_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM inventory_countsheet WHERE id = NEW.sheet_id AND status <> 'open') THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation',
            MESSAGE = 'count sheet ' || NEW.sheet_id || ' is not open: its lines are final';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER inventory_countline_frozen
    BEFORE INSERT OR UPDATE ON inventory_countline
    FOR EACH ROW EXECUTE FUNCTION inventory_countline_frozen();
"""
POSTGRESQL_BACKWARD = """
DROP TRIGGER IF EXISTS inventory_countline_frozen ON inventory_countline;
DROP FUNCTION IF EXISTS inventory_countline_frozen();
DROP TRIGGER IF EXISTS inventory_countsheet_final ON inventory_countsheet;
DROP FUNCTION IF EXISTS inventory_countsheet_final();
"""
_LINE_OF_ENDED_SHEET = "EXISTS (SELECT 1 FROM inventory_countsheet WHERE id = NEW.sheet_id AND status <> 'open')"
SQLITE_FORWARD = [
    """
    CREATE TRIGGER inventory_countsheet_final BEFORE UPDATE OF status ON inventory_countsheet
    WHEN OLD.status <> 'open' AND NEW.status <> OLD.status
    BEGIN SELECT RAISE(ABORT, 'a posted or cancelled count sheet is final'); END;
    """,
    """
    CREATE TRIGGER inventory_countsheet_counted BEFORE UPDATE OF status ON inventory_countsheet
    WHEN NEW.status = 'posted' AND OLD.status = 'open'
        AND EXISTS (SELECT 1 FROM inventory_countline WHERE sheet_id = NEW.id AND counted IS NULL)
    BEGIN SELECT RAISE(ABORT, 'a count sheet with lines not counted cannot be posted'); END;
    """,
    *(
        f"""
        CREATE TRIGGER inventory_countline_frozen_{operation.lower()} BEFORE {operation} ON inventory_countline
        WHEN {_LINE_OF_ENDED_SHEET}
        BEGIN SELECT RAISE(ABORT, 'the lines of a count sheet that is not open are final'); END;
        """
        for operation in ("INSERT", "UPDATE")
    ),
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "inventory_countsheet_final",
        "inventory_countsheet_counted",
        "inventory_countline_frozen_insert",
        "inventory_countline_frozen_update",
    )
]


def forward(apps, schema_editor):
    _append_only._run(schema_editor, POSTGRESQL_FORWARD, SQLITE_FORWARD)


def backward(apps, schema_editor):
    _append_only._run(schema_editor, POSTGRESQL_BACKWARD, SQLITE_BACKWARD)


grant, revoke = _groups.granting(GROUPS)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0017_presales"),
    ]

    operations = [
        migrations.CreateModel(
            name="CountLine",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("counted", models.BigIntegerField(blank=True, null=True)),
                ("expected", models.BigIntegerField(blank=True, null=True)),
                ("ledger_position", models.BigIntegerField(blank=True, null=True)),
                ("counted_by", models.CharField(blank=True, default="", max_length=150)),
                ("counted_at", models.DateTimeField(blank=True, null=True)),
                ("approved_by", models.CharField(blank=True, default="", max_length=150)),
                ("approved_at", models.DateTimeField(blank=True, null=True)),
                ("unit_value", models.DecimalField(blank=True, decimal_places=4, max_digits=14, null=True)),
            ],
            options={
                "verbose_name": "count line",
                "verbose_name_plural": "count lines",
                "ordering": ["sheet_id", "product_id"],
                "default_permissions": (),
            },
        ),
        migrations.CreateModel(
            name="CountSheet",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[("full", "Full stock-take"), ("list", "Chosen products"), ("cycle", "Cycle count")],
                        max_length=16,
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[("open", "Open"), ("posted", "Posted"), ("cancelled", "Cancelled")],
                        default="open",
                        max_length=16,
                    ),
                ),
                ("blind", models.BooleanField(default=True)),
                ("tolerance_units", models.BigIntegerField(blank=True, null=True)),
                ("tolerance_percent", models.DecimalField(blank=True, decimal_places=2, max_digits=5, null=True)),
                ("note", models.CharField(blank=True, default="", max_length=1000)),
                ("actor", models.CharField(max_length=150)),
                ("ended_by", models.CharField(blank=True, default="", max_length=150)),
                ("ended_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ("updated_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
            ],
            options={
                "verbose_name": "count sheet",
                "verbose_name_plural": "count sheets",
                "ordering": ["-id"],
                "permissions": [
                    ("count_countsheet", "Can open count sheets and record counts"),
                    ("approve_countsheet", "Can approve count variances and post count sheets"),
                ],
            },
        ),
        migrations.AddField(
            model_name="inventory",
            name="unit_value",
            field=models.DecimalField(blank=True, decimal_places=4, max_digits=14, null=True),
        ),
        migrations.AddConstraint(
            model_name="inventory",
            constraint=models.CheckConstraint(
                condition=models.Q(("unit_value__gte", 0)), name="inventory_unit_value_non_negative"
            ),
        ),
        migrations.AddField(
            model_name="countline",
            name="adjustment",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="count_line",
                to="inventory.inventorylog",
            ),
        ),
        migrations.AddField(
            model_name="countline",
            name="product",
            field=models.ForeignKey(
                db_column="product_id",
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="count_lines",
                to="inventory.inventory",
                to_field="product_id",
            ),
        ),
        migrations.AddField(
            model_name="countsheet",
            name="warehouse",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="count_sheets", to="inventory.warehouse"
            ),
        ),
        migrations.AddField(
            model_name="countline",
            name="sheet",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="lines", to="inventory.countsheet"
            ),
        ),
        migrations.AddIndex(
            model_name="countsheet",
            index=models.Index(fields=["warehouse", "status", "-id"], name="countsheet_warehouse_idx"),
        ),
        migrations.AddConstraint(
            model_name="countsheet",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind__in", ["full", "list", "cycle"])), name="countsheet_kind_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="countsheet",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["open", "posted", "cancelled"])), name="countsheet_status_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="countsheet",
            constraint=models.CheckConstraint(
                condition=models.Q(("tolerance_units__gte", 0), ("tolerance_units__lte", 1000000000)),
                name="countsheet_tolerance_units_in_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="countsheet",
            constraint=models.CheckConstraint(
                condition=models.Q(("tolerance_percent__gte", 0), ("tolerance_percent__lte", 100)),
                name="countsheet_tolerance_percent_in_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="countsheet",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("ended_at__isnull", True), ("ended_by", ""), ("status", "open")),
                    models.Q(
                        models.Q(("status", "open"), _negated=True),
                        ("ended_at__isnull", False),
                        models.Q(("ended_by", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="countsheet_ended_when_not_open",
            ),
        ),
        migrations.AddIndex(
            model_name="countline",
            index=models.Index(fields=["product", "counted_at"], name="countline_product_counted_idx"),
        ),
        migrations.AddConstraint(
            model_name="countline",
            constraint=models.UniqueConstraint(fields=("sheet", "product"), name="countline_unique_product"),
        ),
        migrations.AddConstraint(
            model_name="countline",
            constraint=models.CheckConstraint(
                condition=models.Q(("counted__gte", 0), ("counted__lte", 1000000000)), name="countline_counted_in_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="countline",
            constraint=models.CheckConstraint(
                condition=models.Q(("expected__gte", 0)), name="countline_expected_non_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="countline",
            constraint=models.CheckConstraint(
                condition=models.Q(("ledger_position__gte", 0)), name="countline_position_non_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="countline",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("counted__isnull", False),
                        ("counted_at__isnull", False),
                        ("expected__isnull", False),
                        ("ledger_position__isnull", False),
                        models.Q(("counted_by", ""), _negated=True),
                    ),
                    models.Q(
                        ("counted__isnull", True),
                        ("counted_at__isnull", True),
                        ("counted_by", ""),
                        ("expected__isnull", True),
                        ("ledger_position__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="countline_counted_together",
            ),
        ),
        migrations.AddConstraint(
            model_name="countline",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("approved_at__isnull", True), ("approved_by", "")),
                    models.Q(
                        ("approved_at__isnull", False),
                        ("counted__isnull", False),
                        models.Q(("approved_by", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="countline_approved_when_counted",
            ),
        ),
        migrations.AddConstraint(
            model_name="countline",
            constraint=models.CheckConstraint(
                condition=models.Q(("adjustment__isnull", True), ("counted__isnull", False), _connector="OR"),
                name="countline_posted_when_counted",
            ),
        ),
        migrations.RunPython(forward, backward),
        migrations.RunPython(grant, revoke),
    ]
