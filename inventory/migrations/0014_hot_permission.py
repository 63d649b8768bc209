"""The permission to make a level hot (issue 15), given to "Warehouse managers" (0003, 0012),
and the partial index of hot levels' rows."""

import importlib

from django.db import migrations, models

_groups = importlib.import_module("inventory.migrations.0012_warehouse_group_permissions")

MANAGERS = {"Warehouse managers": [("make_hot_inventory", "inventory")]}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("inventory")
    app_config.models_module = True
    _groups.create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    for name, permissions in MANAGERS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*_groups._permissions(apps, permissions))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=MANAGERS):
        group.permissions.remove(*_groups._permissions(apps, MANAGERS[group.name]))


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
