-- Release or pay an order whose lines (or the one line asked for) are all active
-- holds, a payment's none overdue (PostgreSQLStore.settle): one statement that locks
-- the lines in (product, warehouse, bucket) order, ends them, moves their units and writes their entries.
-- Anything else is left to the ORM path's rules: the statement changes nothing then.
WITH line AS MATERIALIZED (
    SELECT id, product_id, warehouse_id, bucket, quantity, status, expires_at FROM {reservation}
    WHERE order_id = %(order_id)s {of_product} {of_client}
    ORDER BY product_id, warehouse_id, bucket
    FOR UPDATE
),
settled AS (
    SELECT count(*) > 0 AND bool_and(
        status = {active} AND NOT (%(refuse_overdue)s AND expires_at <= statement_timestamp())
    ) AS ok
    FROM line
),
ended AS (
    UPDATE {reservation} AS hold SET status = %(new_status)s, updated_at = statement_timestamp()
    FROM line WHERE hold.id = line.id AND (SELECT ok FROM settled)
    RETURNING {ended_columns}
),
{unheld},
logged AS (
    {log_insert}
)
SELECT {ended_fields}, {logged_fields}
FROM ended JOIN logged ON logged.product_id = ended.product_id AND logged.warehouse_id = ended.warehouse_id
    AND logged.bucket = ended.bucket
ORDER BY ended.product_id, ended.warehouse_id, ended.bucket
