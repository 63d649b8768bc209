"""The database refuses impossible states even when the code is bypassed."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from inventory.models import InventoryLog
from tests.inventory.test_services_reserve import reserve

pytestmark = pytest.mark.django_db


def raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize(
    "assignment",
    [
        "available_stock = -1",
        "reserved_stock = -1",
        "low_stock_threshold = -1",
        "version = 0",
    ],
)
def test_raw_sql_cannot_store_a_negative_figure(make_item, assignment):
    item = make_item()

    with pytest.raises(IntegrityError):
        raw(f"UPDATE inventory_stocklevel SET {assignment} WHERE product_id = %s", [item.product_id])


def test_total_stock_is_generated_by_the_database(make_item):
    item = make_item(available_stock=10)
    reserve("A", (item.product_id, 3))
    item.refresh_from_db()

    assert item.total_stock == 10


def test_one_reservation_per_product_and_order(make_item):
    item = make_item()
    [reservation] = reserve("A", (item.product_id, 1)).reservations

    with pytest.raises(IntegrityError):
        raw(
            "INSERT INTO inventory_reservation (product_id, order_id, quantity, status, reacquired, expires_at) "
            "VALUES (%s, 'A', 1, 'active', false, now())",
            [item.product_id],
        )
    assert reservation.pk


@pytest.mark.parametrize(
    "sql", ["UPDATE inventory_inventorylog SET quantity = 0", "DELETE FROM inventory_inventorylog"]
)
def test_the_log_refuses_raw_updates_and_deletes(make_item, sql):
    make_item()

    with pytest.raises(DatabaseError, match="append-only"):
        raw(sql)


def test_the_log_model_refuses_changes(make_item):
    make_item()
    entry = InventoryLog.objects.first()

    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        InventoryLog.objects.update(reason="x")
    with pytest.raises(TypeError):
        InventoryLog.objects.all().delete()
