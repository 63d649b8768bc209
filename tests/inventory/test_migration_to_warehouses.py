"""Migration 0011 moves an existing install's stock, log and holds onto the warehouse `default`."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from inventory.models import Inventory, InventoryLog, Reservation, StockLevel, Warehouse
from inventory.selectors import ledger_discrepancies

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the old schema filled in SQL"),
]
BEFORE = [("inventory", "0010_staff_preference")]

# Products 1..40 as traffic leaves them: created with 20 + p units, an order each holding
# p % 5 + 1 of them, every third order paid. The ledger replays (checked below in SQL,
# on the old schema, the way verify_ledger did).
OLD_TRAFFIC = """
INSERT INTO inventory_inventory (product_id, available_stock, reserved_stock, low_stock_threshold, version,
    created_at, updated_at)
SELECT p, 20 + p - (p % 5 + 1), CASE WHEN p % 3 = 0 THEN 0 ELSE p % 5 + 1 END, 10, 3, now(), now()
FROM generate_series(1, 40) AS p;
INSERT INTO inventory_inventorylog (product_id, operation, quantity, available_before, available_after,
    reserved_before, reserved_after, order_id, actor, reason, reference, created_at)
SELECT p, 'create', 20 + p, 0, 20 + p, 0, 0, '', 'migration-test', '', '', now() FROM generate_series(1, 40) AS p
UNION ALL
SELECT p, 'reserve', p % 5 + 1, 20 + p, 20 + p - (p % 5 + 1), 0, p % 5 + 1, 'O-' || p, 'order-app', '', '', now()
FROM generate_series(1, 40) AS p
UNION ALL
SELECT p, 'deduct', p % 5 + 1, 20 + p - (p % 5 + 1), 20 + p - (p % 5 + 1), p % 5 + 1, 0, 'O-' || p, 'order-app',
    '', '', now()
FROM generate_series(1, 40) AS p WHERE p % 3 = 0;
INSERT INTO inventory_reservation (product_id, order_id, quantity, status, reacquired, expires_at, created_at,
    updated_at)
SELECT p, 'O-' || p, p % 5 + 1, CASE WHEN p % 3 = 0 THEN 'confirmed' ELSE 'active' END, false,
    now() + interval '30 minutes', now(), now()
FROM generate_series(1, 40) AS p;
"""
# The old verify_ledger in SQL: the last entry of each product ends at its counters.
OLD_LEDGER_MISMATCHES = """
SELECT count(*) FROM inventory_inventory i
JOIN LATERAL (SELECT available_after, reserved_after FROM inventory_inventorylog l
              WHERE l.product_id = i.product_id ORDER BY id DESC LIMIT 1) last ON true
WHERE (last.available_after, last.reserved_after) <> (i.available_stock, i.reserved_stock)
"""


def test_stock_log_and_holds_move_onto_default_with_nothing_lost():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    with connection.cursor() as cursor:
        cursor.execute(OLD_TRAFFIC)
        cursor.execute(OLD_LEDGER_MISMATCHES)
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT product_id, available_stock, reserved_stock, version FROM inventory_inventory")
        before = sorted(cursor.fetchall())

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    default = Warehouse.objects.get(code="default")
    assert sorted(StockLevel.objects.values_list("product_id", "available_stock", "reserved_stock", "version")) == (
        before
    )
    assert set(StockLevel.objects.values_list("warehouse_id", flat=True)) == {default.pk}
    assert set(InventoryLog.objects.values_list("warehouse_id", flat=True)) == {default.pk}
    assert set(Reservation.objects.values_list("warehouse_id", flat=True)) == {default.pk}
    assert InventoryLog.objects.count() == 40 + 40 + 13
    assert [(p.product_id, p.available_stock, p.reserved_stock) for p in Inventory.objects.order_by("product_id")] == [
        row[:3] for row in before
    ]
    assert list(ledger_discrepancies()) == []
