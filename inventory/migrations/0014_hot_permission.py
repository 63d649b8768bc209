"""The permission to make a level hot (issue 15), given to "Warehouse managers" (0003, 0012),
and the partial index of hot levels' rows."""

import importlib

from django.db import migrations, models

_groups = importlib.import_module("inventory.migrations.0012_warehouse_group_permissions")

MANAGERS = {"Warehouse managers": [("make_hot_inventory", "inventory")]}


grant, revoke = _groups.granting(MANAGERS)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0013_hot_buckets")]

    operations = [
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
                    ("make_hot_inventory", "Can spread a level over hot rows (flash sales)"),
                ],
                "verbose_name": "inventory item",
                "verbose_name_plural": "inventory",
            },
        ),
        migrations.AddIndex(
            model_name="stockrow",
            index=models.Index(
                condition=models.Q(("bucket__gt", 0), ("buckets__gt", 1), _connector="OR"),
                fields=["product"],
                name="stocklevel_hot_idx",
            ),
        ),
        migrations.RunPython(grant, revoke),
    ]
