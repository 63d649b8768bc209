-- The `locked` and `moved` CTEs that take ended holds out of reserved stock (a fragment
-- of settle.sql and expire.sql). `{ended}` has one row per stock row (product_id,
-- warehouse_id, bucket, quantity); each row is locked in lock order, then loses `quantity` of
-- reserved stock and gains `to_available` (0 or 1) times it in available stock. The
-- units are held, so the only guard is the check constraint on reserved stock: were
-- it ever below its holds, the whole statement would fail and change nothing.
locked AS MATERIALIZED (
    SELECT inv.id FROM {levels} AS inv JOIN {ended}
        ON inv.product_id = {ended}.product_id AND inv.warehouse_id = {ended}.warehouse_id
            AND inv.bucket = {ended}.bucket
    ORDER BY {lock_order} FOR UPDATE OF inv
),
moved AS (
    UPDATE {levels} AS inv SET {unhold_changes}
    FROM {ended}
    WHERE inv.product_id = {ended}.product_id AND inv.warehouse_id = {ended}.warehouse_id
        AND inv.bucket = {ended}.bucket AND inv.id IN (SELECT id FROM locked)
    RETURNING inv.product_id, inv.warehouse_id, inv.bucket, inv.available_stock, inv.reserved_stock,
        {ended}.quantity
)
