-- Reserve the lines of one order (PostgreSQLStore.take): one statement.
-- Names in braces come from the models' _meta, values are bound parameters.
-- Nothing is taken when the order has any of these lines already (`known`), or is
-- another API client's (`foreign_order`): the service decides a repeat or a conflict.
WITH line AS (
    SELECT product_id, quantity, position
    FROM unnest(%(product_ids)s::bigint[], %(quantities)s::bigint[]) WITH ORDINALITY
        AS given(product_id, quantity, position)
),
known AS (
    SELECT product_id FROM {reservation}
    WHERE order_id = %(order_id)s AND product_id = ANY(%(product_ids)s::bigint[])
),
foreign_order AS (
    SELECT 1 FROM {reservation} WHERE order_id = %(order_id)s {of_another_client} LIMIT 1
),
-- The rows the lines may take in the pool (services/allocation.py, compiled), as this
-- statement's snapshot has them, with their free stock (what no quota set aside):
-- nothing is locked here.
candidate AS MATERIALIZED (
    {candidates}
),
-- Per product, its levels and rows in the pool. This statement takes a line whose
-- product has one level there (an install with one warehouse always); when any has
-- several, it takes nothing and the planned path (the ORM store's take) chooses.
level AS (
    SELECT product_id, count(DISTINCT warehouse_id) AS levels, count(*) AS rows, min(id) AS own_id,
        min(warehouse_id) AS warehouse_id, sum(free_stock)::bigint AS available
    FROM candidate GROUP BY product_id
),
-- With several lines, the rows of one-row levels are locked in lock order before any
-- bucket of a hot level is tried: a try never waits, so the transaction never waits
-- while it holds a bucket (the UPDATE's join would lock in its plan's order).
locked AS MATERIALIZED (
    SELECT inv.id FROM {levels} AS inv
    WHERE {lock_first} AND inv.id IN (SELECT own_id FROM level WHERE rows = 1)
    ORDER BY {lock_order} FOR UPDATE
),
-- The row each line takes: a one-row level's own row (the UPDATE waits for it), or a
-- row of a hot level that holds the line whole ({bucket}): on the first try one that
-- no one else has locked, in random order so that buyers spread over the buckets
-- (none free: NULL); on the second try of a one-line order one at random, which the
-- UPDATE waits for like a one-row level's. The one-time filter on `locked` runs first.
target AS (
    SELECT line.product_id, line.quantity, CASE WHEN level.rows = 1 THEN level.own_id ELSE (
        SELECT bucket.id FROM {levels} AS bucket
        WHERE bucket.product_id = line.product_id AND bucket.warehouse_id = level.warehouse_id
            AND bucket.available_stock - bucket.allotted_stock >= line.quantity
        ORDER BY random() LIMIT 1 {bucket}
    ) END AS id
    FROM line JOIN level ON level.product_id = line.product_id
    WHERE level.levels = 1 AND (SELECT count(*) FROM locked) >= 0
),
taken AS (
    UPDATE {levels} AS inv SET {take_changes}
    FROM target
    WHERE inv.id = target.id
        AND {take_guard}
        AND NOT EXISTS (SELECT 1 FROM level WHERE levels > 1)
        AND NOT EXISTS (SELECT 1 FROM known)
        AND NOT EXISTS (SELECT 1 FROM foreign_order)
    RETURNING inv.product_id, inv.warehouse_id, inv.bucket, inv.available_stock, inv.reserved_stock, target.quantity
),
held AS (
    {hold_insert}
),
logged AS (
    {log_insert}
)
SELECT line.product_id AS line_product_id,
    line.quantity AS line_quantity,
    p.product_id IS NOT NULL AS product_found,
    -- the free units in the pool, as the snapshot has them (none: NULL)
    level.available,
    -- overdue holds, or quotas past their end, keep units back (a CASE, not AND: the
    -- generic plan then reads the partial indexes of active holds and quotas)
    CASE WHEN held.held__id IS NULL AND p.product_id IS NOT NULL THEN EXISTS (
        SELECT 1 FROM {reservation} AS overdue
        WHERE overdue.product_id = line.product_id AND overdue.status = {active}
            AND overdue.expires_at <= statement_timestamp()
    ) OR EXISTS (
        SELECT 1 FROM {quota} AS due
        WHERE due.product_id = line.product_id AND due.status = {active}
            AND due.ends_at <= statement_timestamp() AND due.allotted > 0
    ) ELSE false END AS has_overdue_holds,
    line.product_id IN (SELECT product_id FROM known) OR EXISTS (SELECT 1 FROM foreign_order) AS known,
    -- the planned path decides (a product has several levels in the pool), or another
    -- try: the level held the line in the snapshot but its row did not when locked (a hot
    -- level's free rows held it only in parts; units taken meanwhile; or the level spread
    -- over rows this snapshot predates, while the statement waited for its row 0)
    EXISTS (SELECT 1 FROM level WHERE levels > 1) AS needs_plan,
    held.held__id IS NULL AND level.levels = 1 AND level.available >= line.quantity AS busy,
    EXISTS (SELECT 1 FROM {pool} WHERE code = %(pool)s) AS pool_found,
    held.*,
    logged.*
FROM line
LEFT JOIN {inventory} AS p ON p.product_id = line.product_id
LEFT JOIN level ON level.product_id = line.product_id
LEFT JOIN held ON held.held__product_id = line.product_id
LEFT JOIN logged ON logged.logged__product_id = line.product_id
ORDER BY line.position
