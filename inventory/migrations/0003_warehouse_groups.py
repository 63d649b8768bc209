"""The two back-office groups, with their permissions.

"Warehouse staff" see everything and restock; "Warehouse managers" may also add
items, adjust stock, change thresholds and release reservations. Nobody gets a
delete permission or a change permission on the log: the admin refuses those to
everyone anyway.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = {
    "Warehouse staff": [
        ("view_inventory", "inventory"),
        ("restock_inventory", "inventory"),
        ("view_inventorylog", "inventorylog"),
        ("view_reservation", "reservation"),
    ],
    "Warehouse managers": [
        ("view_inventory", "inventory"),
        ("add_inventory", "inventory"),
        ("change_inventory", "inventory"),
        ("restock_inventory", "inventory"),
        ("adjust_inventory", "inventory"),
        ("change_threshold_inventory", "inventory"),
        ("view_inventorylog", "inventorylog"),
        ("view_reservation", "reservation"),
        ("change_reservation", "reservation"),
    ],
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after the last migration (post_migrate);
    # create them now so that a fresh database can be given the groups.
    app_config = apps.get_app_config("inventory")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, permissions in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        # By natural key (codename, app label, model): ids differ between databases.
        group.permissions.add(
            *(
                Permission.objects.get(
                    codename=codename, content_type__app_label="inventory", content_type__model=model
                )
                for codename, model in permissions
            )
        )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0002_inventorylog_append_only"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
