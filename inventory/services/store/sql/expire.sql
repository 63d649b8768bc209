-- One batch of expiries (PostgreSQLStore.expire_batch): lock up to batch_size overdue
-- active holds (SKIP LOCKED, in product order), mark them expired, return their units
-- and write an `expire` entry per hold, whose before/after values are worked back from
-- the row's new counters with a window sum over the holds of the same row after it.
WITH batch AS MATERIALIZED (
    SELECT id, product_id, warehouse_id, bucket, order_id, quantity FROM {reservation}
    WHERE status = {active} AND expires_at <= statement_timestamp() {of_products}
    ORDER BY product_id, id
    LIMIT %(batch_size)s
    FOR UPDATE SKIP LOCKED
),
ended AS (
    UPDATE {reservation} AS hold SET status = {expired}, updated_at = statement_timestamp()
    FROM batch WHERE hold.id = batch.id
    RETURNING hold.id
),
per_row AS (
    SELECT product_id, warehouse_id, bucket, sum(quantity) AS quantity FROM batch
    GROUP BY product_id, warehouse_id, bucket
),
{unheld},
entry AS (
    SELECT batch.id, batch.product_id, batch.warehouse_id, batch.bucket, batch.order_id, batch.quantity,
        moved.available_stock, moved.reserved_stock,
        -- units of this row's holds that come after this one in the batch
        COALESCE(sum(batch.quantity) OVER (
            PARTITION BY batch.product_id, batch.warehouse_id, batch.bucket ORDER BY batch.id
            ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
        ), 0) AS later
    FROM batch JOIN moved ON moved.product_id = batch.product_id AND moved.warehouse_id = batch.warehouse_id
        AND moved.bucket = batch.bucket
),
logged AS (
    {log_insert}
)
SELECT (SELECT count(*) FROM batch) AS batch_count, {logged_fields}
FROM (SELECT 1) AS one
LEFT JOIN logged ON true
ORDER BY logged.id
