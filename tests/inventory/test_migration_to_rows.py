"""Migration 0013 turns every level into its own row 0 and reads levels through a view."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from inventory import services
from inventory.models import Inventory, InventoryLog, Reservation, StockLevel, StockRow
from inventory.selectors import ledger_discrepancies
from tests.inventory.test_services_reserve import reserve

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the schema of 0012 filled by the services"),
]
BEFORE = [("inventory", "0012_warehouse_group_permissions")]

# Issue 14's traffic on 0012's schema: products 1..20 in `default`, an order each, every third paid.
HOME = "(SELECT id FROM inventory_warehouse WHERE code = 'default') AS home"
TRAFFIC_OF_0012 = f"""
INSERT INTO inventory_warehouse (id, code, name, region, priority, accepts_orders, created_at)
VALUES (1, 'default', 'Default warehouse', '', 0, true, now()) ON CONFLICT DO NOTHING;
INSERT INTO inventory_pool (code, name, strategy, every_warehouse, created_at)
VALUES ('all', 'Every warehouse', 'priority', true, now()) ON CONFLICT DO NOTHING;
INSERT INTO inventory_inventory (product_id, sku, name, created_at)
SELECT p, '', '', now() FROM generate_series(1, 20) AS p;
INSERT INTO inventory_stocklevel (product_id, warehouse_id, available_stock, reserved_stock, in_transit,
    low_stock_threshold, version, created_at, updated_at)
SELECT p, home.id, 10 + p - 2, CASE WHEN p % 3 = 0 THEN 0 ELSE 2 END, 0, 10, 3, now(), now()
FROM generate_series(1, 20) AS p, {HOME};
INSERT INTO inventory_inventorylog (product_id, warehouse_id, operation, quantity, available_before,
    available_after, reserved_before, reserved_after, order_id, actor, reason, reference, created_at)
SELECT p, home.id, 'create', 10 + p, 0, 10 + p, 0, 0, '', 'migration-test', '', '', now()
FROM generate_series(1, 20) AS p, {HOME}
UNION ALL
SELECT p, home.id, 'reserve', 2, 10 + p, 10 + p - 2, 0, 2, 'O-' || p, 'order-app', '', '', now()
FROM generate_series(1, 20) AS p, {HOME}
UNION ALL
SELECT p, home.id, 'deduct', 2, 10 + p - 2, 10 + p - 2, 2, 0, 'O-' || p, 'order-app', '', '', now()
FROM generate_series(1, 20) AS p, {HOME} WHERE p % 3 = 0;
INSERT INTO inventory_reservation (product_id, warehouse_id, order_id, quantity, status, reacquired, expires_at,
    created_at, updated_at)
SELECT p, home.id, 'O-' || p, 2, CASE WHEN p % 3 = 0 THEN 'confirmed' ELSE 'active' END, false,
    now() + interval '30 minutes', now(), now()
FROM generate_series(1, 20) AS p, {HOME};
"""


def test_levels_become_their_own_rows_and_nothing_moves():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    with connection.cursor() as cursor:
        cursor.execute(TRAFFIC_OF_0012)
        cursor.execute("SELECT product_id, available_stock, reserved_stock, version FROM inventory_stocklevel")
        before = sorted(cursor.fetchall())

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert sorted(StockLevel.objects.values_list("product_id", "available_stock", "reserved_stock", "version")) == (
        before
    )
    assert set(StockRow.objects.values_list("bucket", "buckets")) == {(0, 1)}
    assert set(InventoryLog.objects.values_list("bucket", flat=True)) == {0}
    assert set(Reservation.objects.values_list("bucket", flat=True)) == {0}
    assert list(ledger_discrepancies()) == []
    # And the migrated install runs: a level made hot and sold from, the ledger still clean.
    services.make_hot(product_id=1, buckets=4, actor="test")
    reserve("AFTER-1", (1, 3))
    assert Inventory.objects.get(product_id=1).available_stock == 6
    assert list(ledger_discrepancies()) == []
