"""Snapshots (issue 18): each stock row's figures at the end of the days it changed (docs/snapshots.md)."""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0019_planning"),
    ]

    operations = [
        migrations.CreateModel(
            name="StockSnapshot",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("bucket", models.PositiveSmallIntegerField()),
                ("available", models.BigIntegerField()),
                ("reserved", models.BigIntegerField()),
                ("last_entry_id", models.BigIntegerField()),
                ("taken_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                (
                    "product",
                    models.ForeignKey(
                        db_column="product_id",
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="snapshots",
                        to="inventory.inventory",
                        to_field="product_id",
                    ),
                ),
                (
                    "warehouse",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="snapshots", to="inventory.warehouse"
                    ),
                ),
            ],
            options={
                "verbose_name": "stock snapshot",
                "verbose_name_plural": "stock snapshots",
                "ordering": ["product_id", "warehouse_id", "bucket", "-day"],
                "default_permissions": (),
                "indexes": [models.Index(fields=["day"], name="stocksnapshot_day_idx")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("product", "warehouse", "bucket", "day"), name="stocksnapshot_unique_row_day"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("available__gte", 0), ("last_entry_id__gt", 0), ("reserved__gte", 0)),
                        name="stocksnapshot_figures_non_negative",
                    ),
                ],
            },
        ),
    ]
