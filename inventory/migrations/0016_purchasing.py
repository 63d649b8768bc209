"""Purchase orders (issue 16): goods ordered from suppliers for a warehouse, their lines and
the receipts of them in parts. Both back-office groups see purchase orders; "Warehouse
managers" may also place them and receive, close or cancel them (as 0012 and 0014 give
the transfer and hot-level permissions). As before, nobody gets a delete permission.
"""

import importlib

import django.db.models.deletion
import django.db.models.functions.datetime
from django.db import migrations, models

_groups = importlib.import_module("inventory.migrations.0012_warehouse_group_permissions")

STAFF = [("view_purchaseorder", "purchaseorder"), ("view_receipt", "receipt")]
GROUPS = {
    "Warehouse staff": STAFF,
    "Warehouse managers": [
        *STAFF,
        ("add_purchaseorder", "purchaseorder"),
        ("receive_purchaseorder", "purchaseorder"),
    ],
}


grant, revoke = _groups.granting(GROUPS)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0015_quotas"),
    ]

    operations = [
        migrations.CreateModel(
            name="PurchaseOrder",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("supplier", models.CharField(max_length=200)),
                ("supplier_reference", models.CharField(blank=True, default="", max_length=255)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "Open"),
                            ("partially_received", "Partially received"),
                            ("received", "Received"),
                            ("closed", "Closed"),
                            ("cancelled", "Cancelled"),
                        ],
                        default="open",
                        max_length=24,
                    ),
                ),
                ("note", models.CharField(blank=True, default="", max_length=1000)),
                ("actor", models.CharField(max_length=150)),
                ("ended_by", models.CharField(blank=True, default="", max_length=150)),
                ("end_reason", models.CharField(blank=True, default="", max_length=1000)),
                ("created_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ("updated_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                (
                    "warehouse",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="purchase_orders",
                        to="inventory.warehouse",
                    ),
                ),
            ],
            options={
                "verbose_name": "purchase order",
                "verbose_name_plural": "purchase orders",
                "ordering": ["-id"],
                "permissions": [("receive_purchaseorder", "Can receive, close and cancel purchase orders")],
            },
        ),
        migrations.CreateModel(
            name="PurchaseOrderLine",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("quantity", models.BigIntegerField()),
                ("received", models.BigIntegerField(default=0)),
                ("expected_date", models.DateField()),
                (
                    "order",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="lines", to="inventory.purchaseorder"
                    ),
                ),
                (
                    "product",
                    models.ForeignKey(
                        db_column="product_id",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="inventory.inventory",
                        to_field="product_id",
                    ),
                ),
            ],
            options={
                "verbose_name": "purchase order line",
                "verbose_name_plural": "purchase order lines",
                "ordering": ["order_id", "product_id"],
            },
        ),
        migrations.CreateModel(
            name="Receipt",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("reference", models.CharField(blank=True, default="", max_length=255)),
                ("actor", models.CharField(max_length=150)),
                ("created_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                (
                    "order",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="receipts",
                        to="inventory.purchaseorder",
                    ),
                ),
            ],
            options={
                "verbose_name": "receipt",
                "verbose_name_plural": "receipts",
                "ordering": ["order_id", "id"],
                "default_permissions": ("view",),
            },
        ),
        migrations.CreateModel(
            name="ReceiptLine",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("quantity", models.BigIntegerField()),
                (
                    "line",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="receipt_lines",
                        to="inventory.purchaseorderline",
                    ),
                ),
                (
                    "receipt",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="lines", to="inventory.receipt"
                    ),
                ),
            ],
            options={
                "verbose_name": "receipt line",
                "verbose_name_plural": "receipt lines",
                "ordering": ["receipt_id", "line_id"],
                "default_permissions": (),
            },
        ),
        migrations.AddIndex(
            model_name="purchaseorder",
            index=models.Index(fields=["status", "-id"], name="purchaseorder_status_idx"),
        ),
        migrations.AddIndex(
            model_name="purchaseorder",
            index=models.Index(fields=["warehouse", "-id"], name="purchaseorder_warehouse_idx"),
        ),
        migrations.AddConstraint(
            model_name="purchaseorder",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["open", "partially_received", "received", "closed", "cancelled"])),
                name="purchaseorder_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="purchaseorder",
            constraint=models.CheckConstraint(
                condition=models.Q(("supplier", ""), _negated=True), name="purchaseorder_supplier_named"
            ),
        ),
        migrations.AddConstraint(
            model_name="purchaseorder",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status__in", ("closed", "cancelled")),
                    models.Q(("end_reason", ""), ("ended_by", "")),
                    _connector="OR",
                ),
                name="purchaseorder_ended_by_only_when_ended",
            ),
        ),
        migrations.AddIndex(
            model_name="purchaseorderline",
            index=models.Index(
                condition=models.Q(("received__lt", models.F("quantity"))),
                fields=["product", "expected_date", "order"],
                name="purchaseorderline_due_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="purchaseorderline",
            constraint=models.UniqueConstraint(fields=("order", "product"), name="purchaseorderline_unique_product"),
        ),
        migrations.AddConstraint(
            model_name="purchaseorderline",
            constraint=models.CheckConstraint(
                condition=models.Q(("quantity__gt", 0), ("quantity__lte", 1000000000)),
                name="purchaseorderline_quantity_in_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="purchaseorderline",
            constraint=models.CheckConstraint(
                condition=models.Q(("received__gte", 0), ("received__lte", 1000000000)),
                name="purchaseorderline_received_in_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="receiptline",
            constraint=models.UniqueConstraint(fields=("receipt", "line"), name="receiptline_unique_line"),
        ),
        migrations.AddConstraint(
            model_name="receiptline",
            constraint=models.CheckConstraint(
                condition=models.Q(("quantity__gt", 0), ("quantity__lte", 1000000000)),
                name="receiptline_quantity_in_range",
            ),
        ),
        migrations.RunPython(grant, revoke),
    ]
