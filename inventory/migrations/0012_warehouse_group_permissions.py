"""The two back-office groups of 0003, with the permissions of stock per warehouse (0011).

"Warehouse staff" see warehouses, pools, transfers and stock levels; "Warehouse
managers" may also send and receive (or cancel) transfers and add and change
warehouses and pools. As in 0003, nobody gets a delete permission.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

STAFF = [
    ("view_warehouse", "warehouse"),
    ("view_pool", "pool"),
    ("view_transfer", "transfer"),
    ("view_stocklevel", "stocklevel"),
]
GROUPS = {
    "Warehouse staff": STAFF,
    "Warehouse managers": [
        *STAFF,
        ("add_transfer", "transfer"),
        ("receive_transfer", "transfer"),
        ("add_warehouse", "warehouse"),
        ("change_warehouse", "warehouse"),
        ("add_pool", "pool"),
        ("change_pool", "pool"),
    ],
}


def _permissions(apps, permissions):
    # By natural key (codename, app label, model): ids differ between databases.
    Permission = apps.get_model("auth", "Permission")
    return [
        Permission.objects.get(codename=codename, content_type__app_label="inventory", content_type__model=model)
        for codename, model in permissions
    ]


def granting(groups: dict) -> tuple:
    """The RunPython pair that gives each group of `groups` its permissions and takes them back
    (this migration's, and those of later ones that add permissions)."""

    def grant(apps, schema_editor):
        # Permissions are normally created after the last migration (post_migrate); create
        # them now, as 0003 does, so that a fresh database can give them to the groups.
        app_config = apps.get_app_config("inventory")
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
        Group = apps.get_model("auth", "Group")
        for name, permissions in groups.items():
            group, _ = Group.objects.get_or_create(name=name)
            group.permissions.add(*_permissions(apps, permissions))

    def revoke(apps, schema_editor):
        Group = apps.get_model("auth", "Group")
        for group in Group.objects.filter(name__in=groups):
            group.permissions.remove(*_permissions(apps, groups[group.name]))

    return grant, revoke


grant_permissions, revoke_permissions = granting(GROUPS)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0011_warehouses"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_permissions, revoke_permissions)]
