"""Quotas (issue 16): units of a level set aside for a campaign or a customer tier.

The rows gain `allotted_stock` (the set-aside part of their available stock), the ledger
an entry's quota and its change of that figure, a hold the quota it drew on. The view of
levels is dropped before the rows' table changes (SQLite rebuilds the table, which a view
over it would not survive) and made again with the new column; SQLite's append-only
triggers of the log, lost with its rebuild, are restored. Both back-office groups see quotas; "Warehouse managers" may manage them.
"""

import importlib

import django.db.models.deletion
import django.db.models.expressions
import django.db.models.functions.datetime
from django.db import migrations, models

_append_only = importlib.import_module("inventory.migrations.0002_inventorylog_append_only")
_buckets = importlib.import_module("inventory.migrations.0013_hot_buckets")
_hot = importlib.import_module("inventory.migrations.0014_hot_permission")

CREATE_LEVEL_VIEW = _buckets.CREATE_LEVEL_VIEW.replace(
    "own.in_transit, own.low_stock_threshold,", "own.in_transit, own.allotted_stock, own.low_stock_threshold,"
)
MANAGERS = {
    "Warehouse staff": [("view_quota", "quota")],
    "Warehouse managers": [("view_quota", "quota"), ("manage_quota", "quota")],
}


def restore_sqlite_log_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in _append_only.SQLITE_FORWARD:
            schema_editor.execute(statement)


grant, revoke = _hot._groups.granting(MANAGERS)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0014_hot_permission"),
    ]

    operations = [
        migrations.RunSQL(_buckets.DROP_LEVEL_VIEW, _buckets.CREATE_LEVEL_VIEW),
        migrations.CreateModel(
            name="Quota",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.CharField(max_length=32, unique=True)),
                ("name", models.CharField(blank=True, default="", max_length=200)),
                ("tier", models.CharField(blank=True, default="", max_length=32)),
                ("priority", models.IntegerField(default=100)),
                ("overflow", models.BooleanField(default=True)),
                ("quantity", models.BigIntegerField()),
                ("allotted", models.BigIntegerField()),
                ("drawn", models.BigIntegerField(default=0)),
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
                "verbose_name": "quota",
                "verbose_name_plural": "quotas",
                "ordering": ["-id"],
                "permissions": [("manage_quota", "Can create, change and end quotas")],
            },
        ),
        migrations.RemoveConstraint(
            model_name="inventorylog",
            name="inventorylog_operation_valid",
        ),
        migrations.RemoveConstraint(
            model_name="stockrow",
            name="stocklevel_bucket_carries_stock_only",
        ),
        migrations.AddField(
            model_name="inventorylog",
            name="allotted_change",
            field=models.BigIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="reservation",
            name="quota_units",
            field=models.BigIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="stockrow",
            name="allotted_stock",
            field=models.BigIntegerField(db_default=0, default=0),
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
                ],
                max_length=16,
            ),
        ),
        migrations.AddConstraint(
            model_name="stockrow",
            constraint=models.CheckConstraint(
                condition=models.Q(("allotted_stock__gte", 0), ("allotted_stock__lte", models.F("available_stock"))),
                name="stocklevel_allotted_within_available",
            ),
        ),
        migrations.AddConstraint(
            model_name="stockrow",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("bucket", 0),
                    models.Q(("allotted_stock", 0), ("buckets", 1), ("in_transit", 0), ("low_stock_threshold", 0)),
                    _connector="OR",
                ),
                name="stocklevel_bucket_carries_stock_only",
            ),
        ),
        migrations.AddField(
            model_name="quota",
            name="product",
            field=models.ForeignKey(
                db_column="product_id",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="quotas",
                to="inventory.inventory",
                to_field="product_id",
            ),
        ),
        migrations.AddField(
            model_name="quota",
            name="warehouse",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="quotas", to="inventory.warehouse"
            ),
        ),
        migrations.AddField(
            model_name="inventorylog",
            name="quota",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="log_entries",
                to="inventory.quota",
            ),
        ),
        migrations.AddField(
            model_name="reservation",
            name="quota",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reservations",
                to="inventory.quota",
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
                        ],
                    )
                ),
                name="inventorylog_operation_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="reservation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("quota__isnull", True), ("quota_units", 0)),
                    models.Q(
                        ("quota__isnull", False), ("quota_units__gt", 0), ("quota_units__lte", models.F("quantity"))
                    ),
                    _connector="OR",
                ),
                name="reservation_quota_units_in_range",
            ),
        ),
        migrations.AddIndex(
            model_name="quota",
            index=models.Index(
                condition=models.Q(("status", "active")),
                fields=["product", "tier", "priority"],
                name="quota_active_tier_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="quota",
            index=models.Index(
                condition=models.Q(("status", "active")), fields=["ends_at"], name="quota_active_end_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="quota",
            constraint=models.CheckConstraint(
                condition=models.Q(("code__regex", "^[a-z0-9-]{1,32}$")), name="quota_code_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="quota",
            constraint=models.CheckConstraint(
                condition=models.Q(("tier", ""), ("tier__regex", "^[a-z0-9-]{1,32}$"), _connector="OR"),
                name="quota_tier_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="quota",
            constraint=models.CheckConstraint(
                condition=models.Q(("priority__gte", 0), ("priority__lte", 1000)), name="quota_priority_in_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="quota",
            constraint=models.CheckConstraint(
                condition=models.Q(("quantity__gt", 0), ("quantity__lte", 1000000000)), name="quota_quantity_in_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="quota",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("allotted__gte", 0),
                    ("drawn__gte", 0),
                    (
                        "quantity__gte",
                        django.db.models.expressions.CombinedExpression(models.F("allotted"), "+", models.F("drawn")),
                    ),
                ),
                name="quota_units_within_quantity",
            ),
        ),
        migrations.AddConstraint(
            model_name="quota",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["active", "ended"])), name="quota_status_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="quota",
            constraint=models.CheckConstraint(
                condition=models.Q(("status", "active"), ("allotted", 0), _connector="OR"),
                name="quota_ended_holds_nothing",
            ),
        ),
        migrations.AddConstraint(
            model_name="quota",
            constraint=models.CheckConstraint(
                condition=models.Q(("ends_at__gt", models.F("starts_at"))), name="quota_ends_after_start"
            ),
        ),
        migrations.AddField(
            model_name="stocklevel",
            name="allotted_stock",
            field=models.BigIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.RunSQL(CREATE_LEVEL_VIEW, _buckets.DROP_LEVEL_VIEW),
        migrations.RunPython(restore_sqlite_log_triggers, migrations.RunPython.noop),
        migrations.RunPython(grant, revoke),
    ]
