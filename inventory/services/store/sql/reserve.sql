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
-- The levels the lines may take in the pool (services/allocation.py, compiled). Several
-- are locked in lock order before any is changed: the UPDATE's join would lock them in
-- whatever order its plan visits them.
candidate AS {materialized} (
    {candidates}{for_update}
),
-- This statement takes a line whose product has one level in the pool (an install with
-- one warehouse always); when any line has several, it takes nothing and the planned
-- path (the ORM store's take) chooses among them.
one_each AS (
    SELECT count(*) = count(DISTINCT product_id) AS ok FROM candidate
),
taken AS (
    UPDATE {levels} AS inv SET {take_changes}
    FROM line JOIN candidate ON candidate.product_id = line.product_id
    WHERE inv.id = candidate.id
        AND {take_guard}
        AND (SELECT ok FROM one_each)
        AND NOT EXISTS (SELECT 1 FROM known)
        AND NOT EXISTS (SELECT 1 FROM foreign_order)
    RETURNING inv.product_id, inv.warehouse_id, inv.available_stock, inv.reserved_stock, line.quantity
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
    -- the units in the pool (none: NULL)
    (SELECT sum(available_stock) FROM candidate WHERE candidate.product_id = line.product_id) AS available,
    -- a CASE, not AND: the generic plan then reads the partial index of active holds
    CASE WHEN held.held__id IS NULL AND p.product_id IS NOT NULL THEN EXISTS (
        SELECT 1 FROM {reservation} AS overdue
        WHERE overdue.product_id = line.product_id AND overdue.status = {active}
            AND overdue.expires_at <= statement_timestamp()
    ) ELSE false END AS has_overdue_holds,
    line.product_id IN (SELECT product_id FROM known) OR EXISTS (SELECT 1 FROM foreign_order) AS known,
    NOT (SELECT ok FROM one_each) AS needs_plan,
    EXISTS (SELECT 1 FROM {pool} WHERE code = %(pool)s) AS pool_found,
    held.*,
    logged.*
FROM line
LEFT JOIN {inventory} AS p ON p.product_id = line.product_id
LEFT JOIN held ON held.held__product_id = line.product_id
LEFT JOIN logged ON logged.logged__product_id = line.product_id
ORDER BY line.position
