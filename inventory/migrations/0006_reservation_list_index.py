"""Indexes in the order of the reservations list (newest first), whole and by each filter.

The list sorted the whole table on every page. `reservation_order_list_idx` takes
the place of `reservation_order_idx`: it serves the same order_id lookups and hands
an order's lines out newest first. The foreign key's own index on product_id is
dropped: the product list index and the unique (product, order_id) both lead with it.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0005_apiclient_from_orders_integration"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="reservation",
            index=models.Index(fields=["-created_at", "-id"], name="reservation_list_idx"),
        ),
        migrations.AddIndex(
            model_name="reservation",
            index=models.Index(fields=["order_id", "-created_at", "-id"], name="reservation_order_list_idx"),
        ),
        migrations.RemoveIndex(model_name="reservation", name="reservation_order_idx"),
        migrations.AddIndex(
            model_name="reservation",
            index=models.Index(fields=["product", "-created_at", "-id"], name="reservation_product_list_idx"),
        ),
        migrations.AddIndex(
            model_name="reservation",
            index=models.Index(fields=["status", "-created_at", "-id"], name="reservation_status_list_idx"),
        ),
        # The foreign key's own index on product_id alone: every lookup by product is
        # served by the two indexes that begin with it (the one above and the unique one).
        migrations.AlterField(
            model_name="reservation",
            name="product",
            field=models.ForeignKey(
                db_column="product_id",
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reservations",
                to="inventory.inventory",
                to_field="product_id",
            ),
        ),
    ]
