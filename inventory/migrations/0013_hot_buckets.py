"""Hot levels (issue 15): a level's stock spread over several rows.

The table of levels becomes the table of stock rows (`StockRow`, the same
`inventory_stocklevel`): every existing row is its level's row 0, so nothing moves.
Each row gets its `bucket` and row 0 the level's `buckets`; holds and log entries
name the row they are on (0 for everything before). A level as the contract shows
it is now the view `inventory_level`, its rows summed (`StockLevel`), which the
read side queries as it queried the table before.

The log's new column comes with a catalogue default (no row of the append-only log
is updated). On SQLite, Django rebuilds the log's table to add it, which drops the
append-only triggers: they are made again.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

_append_only = importlib.import_module("inventory.migrations.0002_inventorylog_append_only")

# Row 0 of each level with its rows summed. `low_stock_since` is row 0's while the
# level is low (row 0 is then low too, its share being at most the level's).
CREATE_LEVEL_VIEW = """
CREATE VIEW inventory_level AS
SELECT own.id, own.product_id, own.warehouse_id, own.buckets,
    summed.available_stock, summed.reserved_stock,
    summed.available_stock + summed.reserved_stock AS total_stock,
    own.in_transit, own.low_stock_threshold,
    CASE WHEN summed.available_stock <= own.low_stock_threshold THEN own.low_stock_since END AS low_stock_since,
    summed.version, own.created_at, summed.updated_at
FROM inventory_stocklevel AS own
JOIN (
    SELECT product_id, warehouse_id, CAST(SUM(available_stock) AS BIGINT) AS available_stock,
        CAST(SUM(reserved_stock) AS BIGINT) AS reserved_stock, CAST(SUM(version) AS BIGINT) AS version,
        MAX(updated_at) AS updated_at
    FROM inventory_stocklevel
    GROUP BY product_id, warehouse_id
) AS summed ON summed.product_id = own.product_id AND summed.warehouse_id = own.warehouse_id
WHERE own.bucket = 0
"""
DROP_LEVEL_VIEW = "DROP VIEW IF EXISTS inventory_level"

OPERATIONS = [
    "create",
    "reserve",
    "release",
    "deduct",
    "expire",
    "restock",
    "adjust",
    "threshold",
    "transfer_out",
    "transfer_in",
    "transfer_return",
]


def restore_sqlite_log_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in _append_only.SQLITE_FORWARD:
            schema_editor.execute(statement)


def level_permission_to_the_view(apps, schema_editor):
    """`view_stocklevel` (the groups have it) belongs to the level again, not to the renamed rows."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    rows = ContentType.objects.filter(app_label="inventory", model="stockrow").first()
    if rows is None:  # a fresh database: the content types come after the migrations
        return
    level, _ = ContentType.objects.get_or_create(app_label="inventory", model="stocklevel")
    Permission.objects.filter(content_type=rows, codename="view_stocklevel").update(content_type=level)


def operation_choices(*extra: str) -> list[tuple[str, str]]:
    return [(value, value.replace("_", " ").capitalize()) for value in (*OPERATIONS, *extra)]


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("inventory", "0012_warehouse_group_permissions"),
    ]

    operations = [
        migrations.AlterModelTable(name="stocklevel", table="inventory_stocklevel"),
        migrations.RenameModel(old_name="StockLevel", new_name="StockRow"),
        migrations.RunPython(level_permission_to_the_view, migrations.RunPython.noop),
        migrations.AlterModelOptions(
            name="stockrow",
            options={
                "default_permissions": (),
                "ordering": ["product_id", "warehouse_id", "bucket"],
                "verbose_name": "stock row",
                "verbose_name_plural": "stock rows",
            },
        ),
        migrations.AlterField(
            model_name="stockrow",
            name="product",
            field=models.ForeignKey(
                db_column="product_id",
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="stock_rows",
                to="inventory.inventory",
                to_field="product_id",
            ),
        ),
        migrations.AlterField(
            model_name="stockrow",
            name="warehouse",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="stock_rows", to="inventory.warehouse"
            ),
        ),
        migrations.AddField(
            model_name="stockrow",
            name="bucket",
            field=models.PositiveSmallIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="stockrow",
            name="buckets",
            field=models.PositiveSmallIntegerField(db_default=1, default=1),
        ),
        migrations.RemoveConstraint(model_name="stockrow", name="stocklevel_unique_product_warehouse"),
        migrations.AddConstraint(
            model_name="stockrow",
            constraint=models.UniqueConstraint(
                fields=("product", "warehouse", "bucket"), name="stocklevel_unique_product_warehouse_bucket"
            ),
        ),
        migrations.AddConstraint(
            model_name="stockrow",
            constraint=models.CheckConstraint(
                condition=models.Q(bucket__lt=64, buckets__gte=1, buckets__lte=64),
                name="stocklevel_buckets_in_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="stockrow",
            constraint=models.CheckConstraint(
                condition=models.Q(bucket=0) | models.Q(buckets=1, in_transit=0, low_stock_threshold=0),
                name="stocklevel_bucket_carries_stock_only",
            ),
        ),
        migrations.AddField(
            model_name="reservation",
            name="bucket",
            field=models.PositiveSmallIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="inventorylog",
            name="bucket",
            field=models.PositiveSmallIntegerField(db_default=0, default=0),
        ),
        migrations.RemoveConstraint(model_name="inventorylog", name="inventorylog_operation_valid"),
        migrations.AlterField(
            model_name="inventorylog",
            name="operation",
            field=models.CharField(choices=operation_choices("rebalance"), max_length=16),
        ),
        migrations.AddConstraint(
            model_name="inventorylog",
            constraint=models.CheckConstraint(
                condition=models.Q(operation__in=[*OPERATIONS, "rebalance"]), name="inventorylog_operation_valid"
            ),
        ),
        migrations.RunSQL(CREATE_LEVEL_VIEW, DROP_LEVEL_VIEW),
        migrations.CreateModel(
            name="StockLevel",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("buckets", models.PositiveSmallIntegerField()),
                ("available_stock", models.BigIntegerField()),
                ("reserved_stock", models.BigIntegerField()),
                ("total_stock", models.BigIntegerField()),
                ("in_transit", models.BigIntegerField()),
                ("low_stock_threshold", models.BigIntegerField()),
                ("low_stock_since", models.DateTimeField(null=True)),
                ("version", models.BigIntegerField()),
                ("created_at", models.DateTimeField()),
                ("updated_at", models.DateTimeField()),
                (
                    "product",
                    models.ForeignKey(
                        db_column="product_id",
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="levels",
                        to="inventory.inventory",
                        to_field="product_id",
                    ),
                ),
                (
                    "warehouse",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="levels",
                        to="inventory.warehouse",
                    ),
                ),
            ],
            options={
                "verbose_name": "stock level",
                "verbose_name_plural": "stock levels",
                "db_table": "inventory_level",
                "ordering": ["product_id", "warehouse__priority", "warehouse__code"],
                "default_permissions": ("view",),
                "managed": False,
            },
        ),
        migrations.RunPython(restore_sqlite_log_triggers, migrations.RunPython.noop),
    ]
