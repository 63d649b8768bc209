-- The `locked` and `moved` CTEs that take ended holds out of reserved stock (a fragment
-- of settle.sql and expire.sql). `{ended}` has one row per product (product_id,
-- quantity); each product's row is locked in lock order, then loses `quantity` of
-- reserved stock and gains `to_available` (0 or 1) times it in available stock. The
-- units are held, so the only guard is the check constraint on reserved stock: were
-- it ever below its holds, the whole statement would fail and change nothing.
locked AS MATERIALIZED (
    SELECT id FROM {inventory}
    WHERE product_id IN (SELECT product_id FROM {ended}) ORDER BY {lock_order} FOR UPDATE
),
moved AS (
    UPDATE {inventory} AS inv SET {unhold_changes}
    FROM {ended}
    WHERE inv.product_id = {ended}.product_id
        AND inv.id IN (SELECT id FROM locked)
    RETURNING inv.product_id, inv.available_stock, inv.reserved_stock, {ended}.quantity
)
