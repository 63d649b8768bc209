import importlib
import itertools

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from inventory import services

GROUPS_MIGRATION = "0003_warehouse_groups"
# The migrations that give the groups more permissions, and the function of each that does.
GROUP_GRANTS = (
    ("0012_warehouse_group_permissions", "grant_permissions"),  # stock per warehouse
    ("0014_hot_permission", "grant"),
    ("0015_quotas", "grant"),
    ("0016_purchasing", "grant"),
    ("0017_presales", "grant"),
    ("0018_counts", "grant"),
    ("0019_planning", "grant"),
)
_product_ids = itertools.count(500_000)


@pytest.fixture(scope="session")
def create_warehouse_groups(django_db_setup, django_db_blocker):
    """The group migrations' own functions, each run on the models as they were at its migration."""
    with django_db_blocker.unblock():
        loader = MigrationLoader(connection)
        groups_apps = loader.project_state(("inventory", GROUPS_MIGRATION)).apps
        grants = [
            (
                importlib.import_module(f"inventory.migrations.{name}"),
                function,
                loader.project_state(("inventory", name)).apps,
            )
            for name, function in GROUP_GRANTS
        ]
    groups = importlib.import_module(f"inventory.migrations.{GROUPS_MIGRATION}")

    def create() -> None:
        groups.create_groups(groups_apps, None)
        for migration, function, apps in grants:
            getattr(migration, function)(apps, None)

    return create


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


@pytest.fixture
def warehouse(db):
    """Make a warehouse through the service; `default` exists on every install."""

    def make(code: str, priority: int = 10):
        return services.create_warehouse(code=code, priority=priority, actor="setup")

    return make


@pytest.fixture
def chinese_warehouse(warehouse_groups):
    """Products and people as the shop's team names them: nothing in the data is English."""
    manager = User.objects.create_user("张经理", password="pw", is_staff=True)
    manager.groups.add(Group.objects.get(name="Warehouse managers"))
    for product_id, sku, name, available in (
        (710_001, "7100-01", "数据线", 1_234_567),
        (710_002, "7100-02", "纸箱", 0),
    ):
        services.create_inventory(
            product_id=product_id, sku=sku, name=name, available_stock=available, low_stock_threshold=10, actor="张经理"
        )
    services.restock(product_id=710_001, quantity=3, actor="张经理", reason="到货", reference="2041")
    services.reserve_stock(order_id="8001", lines=[services.ReservationLine(710_001, 2)], actor="商城")
    return manager
