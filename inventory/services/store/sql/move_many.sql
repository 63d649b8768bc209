-- Guarded updates of many products' rows in one statement (PostgreSQLStore.move_many):
-- each row changes only if neither counter would go below zero. The rows are locked in
-- lock order first; the UPDATE's join would lock them in its plan's order.
WITH change AS (
    SELECT * FROM unnest(%(product_ids)s::bigint[], %(available_deltas)s::bigint[], %(reserved_deltas)s::bigint[])
        AS given(product_id, available_delta, reserved_delta)
),
locked AS MATERIALIZED (
    SELECT id FROM {inventory} WHERE product_id = ANY(%(product_ids)s::bigint[]) ORDER BY {lock_order} FOR UPDATE
)
UPDATE {inventory} AS inv SET {many_changes}
FROM change
WHERE inv.product_id = change.product_id
    AND inv.id IN (SELECT id FROM locked)
    AND {many_guard}
RETURNING inv.product_id, inv.available_stock, inv.reserved_stock
