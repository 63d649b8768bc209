"""Pre-sale and backorders (issue 16): units of a level sold ahead of stock, and the orders'
backorders that arrivals fill in batches. The log gains the `backorder_fill` operation and
the backorder an entry filled; SQLite's append-only triggers of the log, lost when it
rebuilds the table for the new CHECK, are restored (also when migrating back). Both
back-office groups see pre-sales; "Warehouse managers" may manage them (as 0015 gives the
quota permissions).
"""

import importlib

import django.db.models.deletion
import django.db.models.functions.datetime
from django.db import migrations, models

_quotas = importlib.import_module("inventory.migrations.0015_quotas")
_groups = _quotas._hot._groups

GROUPS = {
    "Warehouse staff": [("view_presale", "presale")],
    "Warehouse managers": [("view_presale", "presale"), ("manage_presale", "presale")],
}


grant, revoke = _groups.granting(GROUPS)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0016_purchasing"),
    ]

    operations = [
        # Migrating back, the log's table is rebuilt once more (SQLite): its triggers come back last.
        migrations.RunPython(migrations.RunPython.noop, _quotas.restore_sqlite_log_triggers),
        migrations.CreateModel(
            name="Backorder",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("order_id", models.CharField(max_length=64)),
                ("quantity", models.BigIntegerField()),
                ("filled", models.BigIntegerField(default=0)),
                (
                    "status",
                    models.CharField(
                        choices=[("open", "Open"), ("filled", "Filled"), ("cancelled", "Cancelled")],
                        default="open",
                        max_length=16,
                    ),
                ),
                ("created_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ("updated_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
            ],
            options={
                "verbose_name": "backorder",
                "verbose_name_plural": "backorders",
                "ordering": ["-id"],
            },
        ),
        migrations.CreateModel(
            name="PreSale",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.CharField(max_length=32, unique=True)),
                ("limit", models.BigIntegerField()),
                ("sold", models.BigIntegerField(default=0)),
                (
                    "status",
                    models.CharField(
                        choices=[("active", "Active"), ("ended", "Ended")], default="active", max_length=16
                    ),
                ),
                ("starts_at", models.DateTimeField()),
                ("ends_at", models.DateTimeField()),
                ("actor", models.CharField(max_length=150)),
                ("created_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ("updated_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
            ],
            options={
                "verbose_name": "pre-sale",
                "verbose_name_plural": "pre-sales",
                "ordering": ["-id"],
                "permissions": [("manage_presale", "Can create, change and end pre-sales")],
            },
        ),
        migrations.RemoveConstraint(
            model_name="inventorylog",
            name="inventorylog_operation_valid",
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
                    ("rebalance", "Rebalance"),
                    ("quota_set", "Quota set aside"),
                    ("quota_return", "Quota returned"),
                    ("quota_change", "Quota changed"),
                    ("backorder_fill", "Backorder filled"),
                ],
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="backorder",
            name="client",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="backorders",
                to="inventory.apiclient",
            ),
        ),
        migrations.AddField(
            model_name="backorder",
            name="product",
            field=models.ForeignKey(
                db_column="product_id",
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="backorders",
                to="inventory.inventory",
                to_field="product_id",
            ),
        ),
        migrations.AddField(
            model_name="backorder",
            name="warehouse",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="backorders", to="inventory.warehouse"
            ),
        ),
        migrations.AddField(
            model_name="inventorylog",
            name="backorder",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="fills",
                to="inventory.backorder",
            ),
        ),
        migrations.AddIndex(
            model_name="inventorylog",
            index=models.Index(
                condition=models.Q(("backorder__isnull", False)),
                fields=["backorder"],
                name="inventorylog_backorder_idx",
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
                            "rebalance",
                            "quota_set",
                            "quota_return",
                            "quota_change",
                            "backorder_fill",
                        ],
                    )
                ),
                name="inventorylog_operation_valid",
            ),
        ),
        migrations.AddField(
            model_name="presale",
            name="product",
            field=models.ForeignKey(
                db_column="product_id",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="presales",
                to="inventory.inventory",
                to_field="product_id",
            ),
        ),
        migrations.AddField(
            model_name="presale",
            name="purchase_order",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="presales",
                to="inventory.purchaseorder",
            ),
        ),
        migrations.AddField(
            model_name="presale",
            name="warehouse",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="presales", to="inventory.warehouse"
            ),
        ),
        migrations.AddField(
            model_name="backorder",
            name="presale",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="backorders", to="inventory.presale"
            ),
        ),
        migrations.AddIndex(
            model_name="presale",
            index=models.Index(
                condition=models.Q(("status", "active")), fields=["product", "id"], name="presale_active_product_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="presale",
            constraint=models.CheckConstraint(
                condition=models.Q(("code__regex", "^[a-z0-9-]{1,32}$")), name="presale_code_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="presale",
            constraint=models.CheckConstraint(
                condition=models.Q(("limit__gt", 0), ("limit__lte", 1000000000)), name="presale_limit_in_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="presale",
            constraint=models.CheckConstraint(
                condition=models.Q(("sold__gte", 0), ("sold__lte", models.F("limit"))), name="presale_sold_within_limit"
            ),
        ),
        migrations.AddConstraint(
            model_name="presale",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["active", "ended"])), name="presale_status_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="presale",
            constraint=models.CheckConstraint(
                condition=models.Q(("ends_at__gt", models.F("starts_at"))), name="presale_ends_after_start"
            ),
        ),
        migrations.AddIndex(
            model_name="backorder",
            index=models.Index(
                condition=models.Q(("status", "open")),
                fields=["product", "warehouse", "id"],
                name="backorder_open_level_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="backorder",
            index=models.Index(fields=["order_id"], name="backorder_order_idx"),
        ),
        migrations.AddConstraint(
            model_name="backorder",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "cancelled"), _negated=True),
                fields=("order_id", "product", "warehouse"),
                name="backorder_unique_live_line",
            ),
        ),
        migrations.AddConstraint(
            model_name="backorder",
            constraint=models.CheckConstraint(
                condition=models.Q(("quantity__gt", 0), ("quantity__lte", 1000000000)),
                name="backorder_quantity_in_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="backorder",
            constraint=models.CheckConstraint(
                condition=models.Q(("filled__gte", 0), ("filled__lte", models.F("quantity"))),
                name="backorder_filled_within_quantity",
            ),
        ),
        migrations.AddConstraint(
            model_name="backorder",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["open", "filled", "cancelled"])), name="backorder_status_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="backorder",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("filled", models.F("quantity")), ("status", "filled")),
                    models.Q(models.Q(("status", "filled"), _negated=True), ("filled__lt", models.F("quantity"))),
                    _connector="OR",
                ),
                name="backorder_filled_when_complete",
            ),
        ),
        migrations.RunPython(_quotas.restore_sqlite_log_triggers, migrations.RunPython.noop),
        migrations.RunPython(grant, revoke),
    ]
