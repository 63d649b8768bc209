"""Stock per warehouse (issue 14): warehouses, pools, stock levels, transfers.

A fresh install and an existing one alike end with the warehouse `default` (id 1)
and the pool `all`; every product's figures move onto its level in `default`, and
every existing log entry and reservation is `default`'s, so that nothing is lost and
the ledger still replays (`verify_ledger` before and after). The log's new column is
added with a default, which PostgreSQL stores in the catalogue without rewriting (or
updating: the log is append-only) a single row. On SQLite, Django rebuilds the log's
table to add the column, which drops its append-only triggers: they are made again.
"""

import importlib

import django.db.models.deletion
import django.db.models.expressions
import django.db.models.functions.datetime
import django.db.models.manager
from django.db import migrations, models

_append_only = importlib.import_module("inventory.migrations.0002_inventorylog_append_only")

DEFAULT_WAREHOUSE_ID = 1

COPY_STOCK_TO_LEVELS = """
INSERT INTO inventory_stocklevel (product_id, warehouse_id, available_stock, reserved_stock, in_transit,
    low_stock_threshold, low_stock_since, version, created_at, updated_at)
SELECT product_id, 1, available_stock, reserved_stock, 0, low_stock_threshold, low_stock_since, version,
    created_at, updated_at
FROM inventory_inventory
"""


def create_default_locations(apps, schema_editor):
    Warehouse = apps.get_model("inventory", "Warehouse")
    Pool = apps.get_model("inventory", "Pool")
    Warehouse.objects.create(id=DEFAULT_WAREHOUSE_ID, code="default", name="Default warehouse", priority=0)
    Pool.objects.create(code="all", name="Every warehouse", strategy="priority", every_warehouse=True)
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('inventory_warehouse', 'id'), "
                "(SELECT max(id) FROM inventory_warehouse))"
            )


def restore_sqlite_log_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in _append_only.SQLITE_FORWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0010_staff_preference"),
    ]

    operations = [
        migrations.CreateModel(
            name="Warehouse",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.CharField(max_length=32, unique=True)),
                ("name", models.CharField(blank=True, default="", max_length=200)),
                ("region", models.CharField(blank=True, default="", max_length=64)),
                ("latitude", models.FloatField(blank=True, null=True)),
                ("longitude", models.FloatField(blank=True, null=True)),
                ("priority", models.IntegerField(default=0)),
                ("accepts_orders", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
            ],
            options={
                "verbose_name": "warehouse",
                "verbose_name_plural": "warehouses",
                "ordering": ["priority", "code"],
            },
        ),
        migrations.CreateModel(
            name="Pool",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.CharField(max_length=32, unique=True)),
                ("name", models.CharField(blank=True, default="", max_length=200)),
                (
                    "strategy",
                    models.CharField(
                        choices=[
                            ("priority", "Warehouse priority"),
                            ("most_stock", "Most stock first"),
                            ("nearest", "Nearest to the destination"),
                        ],
                        default="priority",
                        max_length=16,
                    ),
                ),
                ("every_warehouse", models.BooleanField(default=False, editable=False)),
                ("created_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
            ],
            options={
                "verbose_name": "pool",
                "verbose_name_plural": "pools",
                "ordering": ["code"],
            },
        ),
        migrations.CreateModel(
            name="StockLevel",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("available_stock", models.BigIntegerField(default=0)),
                ("reserved_stock", models.BigIntegerField(default=0)),
                (
                    "total_stock",
                    models.GeneratedField(
                        db_persist=True,
                        expression=django.db.models.expressions.CombinedExpression(
                            models.F("available_stock"), "+", models.F("reserved_stock")
                        ),
                        output_field=models.BigIntegerField(),
                    ),
                ),
                ("in_transit", models.BigIntegerField(default=0)),
                ("low_stock_threshold", models.BigIntegerField(default=10)),
                ("low_stock_since", models.DateTimeField(blank=True, null=True)),
                ("version", models.BigIntegerField(default=1)),
                ("created_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ("updated_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
            ],
            options={
                "verbose_name": "stock level",
                "verbose_name_plural": "stock levels",
                "ordering": ["product_id", "warehouse__priority", "warehouse__code"],
                "default_permissions": ("view",),
            },
        ),
        migrations.CreateModel(
            name="Transfer",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("in_transit", "In transit"),
                            ("partially_received", "Partially received"),
                            ("received", "Received"),
                            ("cancelled", "Cancelled"),
                        ],
                        default="in_transit",
                        max_length=24,
                    ),
                ),
                ("reference", models.CharField(blank=True, default="", max_length=255)),
                ("actor", models.CharField(max_length=150)),
                ("created_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ("updated_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
            ],
            options={
                "verbose_name": "transfer",
                "verbose_name_plural": "transfers",
                "ordering": ["-id"],
                "permissions": [("receive_transfer", "Can receive and cancel transfers")],
            },
        ),
        migrations.CreateModel(
            name="TransferLine",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("quantity", models.BigIntegerField()),
                ("received", models.BigIntegerField(default=0)),
            ],
            options={
                "verbose_name": "transfer line",
                "verbose_name_plural": "transfer lines",
                "ordering": ["transfer_id", "product_id"],
            },
        ),
        migrations.AddField(
            model_name="stocklevel",
            name="product",
            field=models.ForeignKey(
                db_column="product_id",
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="levels",
                to="inventory.inventory",
                to_field="product_id",
            ),
        ),
        migrations.AddField(
            model_name="transferline",
            name="product",
            field=models.ForeignKey(
                db_column="product_id",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="inventory.inventory",
                to_field="product_id",
            ),
        ),
        migrations.AddField(
            model_name="transferline",
            name="transfer",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="lines", to="inventory.transfer"
            ),
        ),
        migrations.AddConstraint(
            model_name="warehouse",
            constraint=models.CheckConstraint(
                condition=models.Q(("code__regex", "^[a-z0-9-]{1,32}$")), name="warehouse_code_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="warehouse",
            constraint=models.CheckConstraint(
                condition=models.Q(("priority__gte", -1000000), ("priority__lte", 1000000)),
                name="warehouse_priority_in_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="warehouse",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("latitude__isnull", True), ("longitude__isnull", True)),
                    models.Q(
                        ("latitude__gte", -90), ("latitude__lte", 90), ("longitude__gte", -180), ("longitude__lte", 180)
                    ),
                    _connector="OR",
                ),
                name="warehouse_coordinates_valid",
            ),
        ),
        migrations.AddField(
            model_name="transfer",
            name="destination",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="transfers_in", to="inventory.warehouse"
            ),
        ),
        migrations.AddField(
            model_name="transfer",
            name="source",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="transfers_out", to="inventory.warehouse"
            ),
        ),
        migrations.AddField(
            model_name="stocklevel",
            name="warehouse",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="levels", to="inventory.warehouse"
            ),
        ),
        migrations.AddField(
            model_name="pool",
            name="warehouses",
            field=models.ManyToManyField(blank=True, related_name="pools", to="inventory.warehouse"),
        ),
        migrations.AddIndex(
            model_name="transferline",
            index=models.Index(fields=["product", "transfer"], name="transferline_product_idx"),
        ),
        migrations.AddConstraint(
            model_name="transferline",
            constraint=models.UniqueConstraint(fields=("transfer", "product"), name="transferline_unique_product"),
        ),
        migrations.AddConstraint(
            model_name="transferline",
            constraint=models.CheckConstraint(
                condition=models.Q(("quantity__gt", 0), ("quantity__lte", 1000000000)),
                name="transferline_quantity_in_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="transferline",
            constraint=models.CheckConstraint(
                condition=models.Q(("received__gte", 0), ("received__lte", models.F("quantity"))),
                name="transferline_received_in_range",
            ),
        ),
        migrations.AddIndex(
            model_name="transfer",
            index=models.Index(fields=["status", "-id"], name="transfer_status_idx"),
        ),
        migrations.AddConstraint(
            model_name="transfer",
            constraint=models.CheckConstraint(
                condition=models.Q(("source", models.F("destination")), _negated=True),
                name="transfer_between_two_warehouses",
            ),
        ),
        migrations.AddConstraint(
            model_name="transfer",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["in_transit", "partially_received", "received", "cancelled"])),
                name="transfer_status_valid",
            ),
        ),
        migrations.AddIndex(
            model_name="stocklevel",
            index=models.Index(fields=["warehouse", "product"], name="stocklevel_warehouse_idx"),
        ),
        migrations.AddIndex(
            model_name="stocklevel",
            index=models.Index(
                models.F("available_stock"),
                models.F("product_id"),
                condition=models.Q(("available_stock__lte", models.F("low_stock_threshold"))),
                name="stocklevel_low_stock_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="stocklevel",
            constraint=models.UniqueConstraint(
                fields=("product", "warehouse"), name="stocklevel_unique_product_warehouse"
            ),
        ),
        migrations.AddConstraint(
            model_name="stocklevel",
            constraint=models.CheckConstraint(
                condition=models.Q(("available_stock__gte", 0)), name="stocklevel_available_non_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="stocklevel",
            constraint=models.CheckConstraint(
                condition=models.Q(("reserved_stock__gte", 0)), name="stocklevel_reserved_non_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="stocklevel",
            constraint=models.CheckConstraint(
                condition=models.Q(("in_transit__gte", 0)), name="stocklevel_in_transit_non_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="stocklevel",
            constraint=models.CheckConstraint(
                condition=models.Q(("low_stock_threshold__gte", 0)), name="stocklevel_threshold_non_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="stocklevel",
            constraint=models.CheckConstraint(
                condition=models.Q(("version__gte", 1)), name="stocklevel_version_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="pool",
            constraint=models.CheckConstraint(
                condition=models.Q(("code__regex", "^[a-z0-9-]{1,32}$")), name="pool_code_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="pool",
            constraint=models.CheckConstraint(
                condition=models.Q(("strategy__in", ["priority", "most_stock", "nearest"])), name="pool_strategy_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="pool",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("code", "all"), ("every_warehouse", True)),
                    models.Q(models.Q(("code", "all"), _negated=True), ("every_warehouse", False)),
                    _connector="OR",
                ),
                name="pool_every_warehouse_is_all",
            ),
        ),
        migrations.RunPython(create_default_locations, migrations.RunPython.noop),
        migrations.RunSQL(COPY_STOCK_TO_LEVELS, "DELETE FROM inventory_stocklevel"),
        migrations.AddField(
            model_name="inventorylog",
            name="warehouse",
            field=models.ForeignKey(
                default=1,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="log_entries",
                to="inventory.warehouse",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="reservation",
            name="warehouse",
            field=models.ForeignKey(
                default=1,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reservations",
                to="inventory.warehouse",
            ),
            preserve_default=False,
        ),
        migrations.AlterModelOptions(
            name="inventory",
            options={
                "base_manager_name": "products",
                "default_manager_name": "objects",
                "ordering": ["product_id"],
                "permissions": [
                    ("restock_inventory", "Can restock inventory"),
                    ("adjust_inventory", "Can adjust inventory (stock-take corrections)"),
                    ("change_threshold_inventory", "Can change the low-stock threshold"),
                ],
                "verbose_name": "inventory item",
                "verbose_name_plural": "inventory",
            },
        ),
        migrations.AlterModelManagers(
            name="inventory",
            managers=[
                ("products", django.db.models.manager.Manager()),
                ("objects", django.db.models.manager.Manager()),
            ],
        ),
        migrations.RemoveConstraint(
            model_name="inventory",
            name="inventory_available_non_negative",
        ),
        migrations.RemoveConstraint(
            model_name="inventory",
            name="inventory_reserved_non_negative",
        ),
        migrations.RemoveConstraint(
            model_name="inventory",
            name="inventory_threshold_non_negative",
        ),
        migrations.RemoveConstraint(
            model_name="inventory",
            name="inventory_version_positive",
        ),
        migrations.RemoveConstraint(
            model_name="inventorylog",
            name="inventorylog_operation_valid",
        ),
        migrations.RemoveConstraint(
            model_name="reservation",
            name="reservation_unique_product_order",
        ),
        migrations.RemoveIndex(
            model_name="inventory",
            name="inventory_available_idx",
        ),
        migrations.RemoveIndex(
            model_name="inventory",
            name="inventory_updated_idx",
        ),
        migrations.RemoveIndex(
            model_name="inventory",
            name="inventory_low_stock_idx",
        ),
        migrations.RemoveField(
            model_name="inventory",
            name="total_stock",
        ),
        migrations.RemoveField(
            model_name="inventory",
            name="available_stock",
        ),
        migrations.RemoveField(
            model_name="inventory",
            name="low_stock_since",
        ),
        migrations.RemoveField(
            model_name="inventory",
            name="low_stock_threshold",
        ),
        migrations.RemoveField(
            model_name="inventory",
            name="reserved_stock",
        ),
        migrations.RemoveField(
            model_name="inventory",
            name="updated_at",
        ),
        migrations.RemoveField(
            model_name="inventory",
            name="version",
        ),
        migrations.AlterField(
            model_name="inventorylog",
            name="operation",
            field=models.CharField(
                choices=[
                    ("create", "Create"),
                    ("reserve", "Reserve"),
                    ("release", "Release"),
                    ("deduct", "Deduct"),
                    ("expire", "Expire"),
                    ("restock", "Restock"),
                    ("adjust", "Adjust"),
                    ("threshold", "Threshold"),
                    ("transfer_out", "Transfer out"),
                    ("transfer_in", "Transfer in"),
                    ("transfer_return", "Transfer return"),
                ],
                max_length=16,
            ),
        ),
        migrations.AddConstraint(
            model_name="inventorylog",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "operation__in",
                        [
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
                        ],
                    )
                ),
                name="inventorylog_operation_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="reservation",
            constraint=models.UniqueConstraint(
                fields=("product", "order_id", "warehouse"), name="reservation_unique_product_order_warehouse"
            ),
        ),
        # Last: every change of the log's table above rebuilds it on SQLite.
        migrations.RunPython(restore_sqlite_log_triggers, migrations.RunPython.noop),
    ]
