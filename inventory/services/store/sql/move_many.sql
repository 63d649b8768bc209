-- Guarded updates of many stock rows in one statement (PostgreSQLStore.move_many):
-- each row changes only if neither counter would go below zero. The rows are
-- locked in lock order first; the UPDATE's join would lock them in its plan's order.
WITH change AS (
    SELECT * FROM unnest(
        %(product_ids)s::bigint[], %(warehouse_ids)s::bigint[], %(buckets)s::smallint[],
        %(available_deltas)s::bigint[], %(reserved_deltas)s::bigint[]
    ) AS given(product_id, warehouse_id, bucket, available_delta, reserved_delta)
),
locked AS MATERIALIZED (
    SELECT inv.id FROM {levels} AS inv JOIN change
        ON inv.product_id = change.product_id AND inv.warehouse_id = change.warehouse_id
            AND inv.bucket = change.bucket
    ORDER BY {lock_order} FOR UPDATE OF inv
)
UPDATE {levels} AS inv SET {many_changes}
FROM change
WHERE inv.product_id = change.product_id AND inv.warehouse_id = change.warehouse_id
    AND inv.bucket = change.bucket AND inv.id IN (SELECT id FROM locked)
    AND {many_guard}
RETURNING inv.product_id, inv.warehouse_id, inv.bucket, inv.available_stock, inv.reserved_stock
