"""The warehouse and pool services check every argument themselves, behind the API and the admin."""

import logging
import math

import pytest

from inventory import services
from inventory.exceptions import CodeInUse, InvalidInput, PoolNotFound, WarehouseNotFound
from inventory.models import Pool, Warehouse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "fields",
    [
        {"code": "Sh-1"},
        {"code": ["sh-1"]},
        {"code": "sh-1", "priority": True},
        {"code": "sh-1", "priority": 2.0},
        {"code": "sh-1", "priority": 10**6 + 1},
        {"code": "sh-1", "accepts_orders": 1},
        {"code": "sh-1", "latitude": 1.0},
        {"code": "sh-1", "latitude": None, "longitude": 2.0},
        {"code": "sh-1", "latitude": "1", "longitude": 2.0},
        {"code": "sh-1", "latitude": True, "longitude": 2.0},
        {"code": "sh-1", "latitude": math.nan, "longitude": 2.0},
        {"code": "sh-1", "latitude": 1.0, "longitude": math.inf},
        {"code": "sh-1", "latitude": 10**400, "longitude": 0},
        {"code": "sh-1", "name": "tab\there"},
        {"code": "sh-1", "name": None},
        {"code": "sh-1", "region": "r" * 65},
    ],
)
def test_create_warehouse_refuses_what_the_api_would_have_refused(fields):
    with pytest.raises(InvalidInput):
        services.create_warehouse(actor="tester", **fields)
    assert list(Warehouse.objects.values_list("code", flat=True)) == ["default"]


def test_create_warehouse_stores_the_coordinates_as_floats_and_an_existing_code_is_code_in_use():
    created = services.create_warehouse(code="sh-1", latitude=31, longitude=-121, actor="tester")

    assert (created.latitude, created.longitude) == (31.0, -121.0)
    assert created.created_at is not None
    with pytest.raises(CodeInUse):
        services.create_warehouse(code="sh-1", actor="tester")


@pytest.mark.parametrize(
    "changes",
    [
        {"code": "sh-2"},
        {"latitude": 1.0},
        {"longitude": None},
        {"priority": False},
        {"created_at": None},
        {"id": 9},
    ],
)
def test_update_warehouse_refuses_a_bad_change_and_changes_nothing(changes):
    services.create_warehouse(code="sh-1", latitude=1.0, longitude=2.0, priority=5, actor="tester")

    with pytest.raises(InvalidInput):
        services.update_warehouse("sh-1", actor="tester", **changes)

    stored = Warehouse.objects.get(code="sh-1")
    assert (stored.latitude, stored.longitude, stored.priority) == (1.0, 2.0, 5)


def test_update_warehouse_of_an_unknown_code_is_warehouse_not_found():
    with pytest.raises(WarehouseNotFound):
        services.update_warehouse("nope", actor="tester", priority=1)


def test_delete_warehouse_keeps_default_and_any_warehouse_that_held_stock():
    services.create_warehouse(code="sh-1", actor="tester")
    services.create_inventory(product_id=77, warehouse="sh-1", actor="tester")

    for code in ("default", "sh-1"):
        with pytest.raises(InvalidInput):
            services.delete_warehouse(code, actor="tester")
    with pytest.raises(WarehouseNotFound):
        services.delete_warehouse("nope", actor="tester")
    assert Warehouse.objects.count() == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"warehouses": "default"},
        {"warehouses": ["default", "default"]},
        {"warehouses": ["DEFAULT"]},
        {"warehouses": ["nope"]},
        {"warehouses": ["w"] * 201},
        {"strategy": "fastest"},
        {"name": "\x00"},
    ],
)
def test_create_pool_refuses_bad_members_and_creates_nothing(fields):
    with pytest.raises(InvalidInput) as refused:
        services.create_pool(code="east", actor="tester", **fields)

    assert set(refused.value.details) <= {"warehouses", "strategy", "name"}
    assert not Pool.objects.filter(code="east").exists()


def test_an_unknown_member_is_named_in_the_details():
    with pytest.raises(InvalidInput) as refused:
        services.create_pool(code="east", warehouses=["zz", "default", "aa"], actor="tester")

    assert refused.value.details == {"warehouses": ["aa", "zz"]}


def test_the_pool_all_is_never_created_changed_or_deleted():
    with pytest.raises(CodeInUse):
        services.create_pool(code="all", actor="tester")
    with pytest.raises(InvalidInput):
        services.update_pool("all", actor="tester")
    with pytest.raises(InvalidInput):
        services.delete_pool("all", actor="tester")
    assert Pool.objects.get(code="all").every_warehouse


def test_update_and_delete_pool():
    services.create_warehouse(code="sh-1", actor="tester")
    services.create_pool(code="east", warehouses=["default"], actor="tester")

    changed = services.update_pool("east", warehouses=["sh-1"], strategy="most_stock", actor="tester")
    assert (changed.strategy, list(changed.warehouses.values_list("code", flat=True))) == ("most_stock", ["sh-1"])
    services.delete_pool("east", actor="tester")
    with pytest.raises(PoolNotFound):
        services.update_pool("east", name="x", actor="tester")
    with pytest.raises(PoolNotFound):
        services.delete_pool("east", actor="tester")


def test_each_change_is_logged_with_its_actor_once_committed(caplog, django_capture_on_commit_callbacks):
    caplog.set_level(logging.INFO, logger="inventory.locations")

    with django_capture_on_commit_callbacks(execute=True):
        services.create_warehouse(code="sh-1", priority=3, actor="clerk")
        services.update_warehouse("sh-1", accepts_orders=False, actor="manager")

    lines = [(record.getMessage(), record.code, record.actor) for record in caplog.records]
    assert lines == [("warehouse_created", "sh-1", "clerk"), ("warehouse_changed", "sh-1", "manager")]
    assert caplog.records[1].fields == {"accepts_orders": False}
