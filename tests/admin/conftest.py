import importlib
import itertools

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from inventory import services

GROUPS_MIGRATION = "0003_warehouse_groups"
_product_ids = itertools.count(500_000)


@pytest.fixture(scope="session")
def create_warehouse_groups(django_db_setup, django_db_blocker):
    """The group migration's own function, run on the models as they were at that migration."""
    with django_db_blocker.unblock():
        state_apps = MigrationLoader(connection).project_state(("inventory", GROUPS_MIGRATION)).apps
    migration = importlib.import_module(f"inventory.migrations.{GROUPS_MIGRATION}")
    return lambda: migration.create_groups(state_apps, None)


@pytest.fixture
def warehouse_groups(db, create_warehouse_groups):
    # A transactional test elsewhere in the run (or in an earlier run of a reused
    # test database) flushes every table, groups included; put them back.
    create_warehouse_groups()


def _user(username: str, *, groups=(), superuser: bool = False) -> User:
    user = User.objects.create_user(username, password="pw", is_staff=True, is_superuser=superuser)
    user.groups.add(*(Group.objects.get(name=name) for name in groups))
    return user


@pytest.fixture
def manager(warehouse_groups) -> User:
    return _user("manager", groups=["Warehouse managers"])


@pytest.fixture
def staff(warehouse_groups) -> User:
    return _user("staffer", groups=["Warehouse staff"])


@pytest.fixture
def viewer(db) -> User:
    """Staff who may look at the inventory but change nothing."""
    user = _user("viewer")
    user.user_permissions.add(Permission.objects.get(codename="view_inventory"))
    return user


@pytest.fixture
def superuser(db) -> User:
    return _user("root", superuser=True)


@pytest.fixture
def client_for(client):
    def login(user: User):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def item(db):
    """Make an inventory record through the service, with a fresh product id."""

    def make(available_stock: int = 20, low_stock_threshold: int = 5):
        return services.create_inventory(
            product_id=next(_product_ids),
            available_stock=available_stock,
            low_stock_threshold=low_stock_threshold,
            actor="setup",
        )

    return make
