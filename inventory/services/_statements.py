"""The hot paths as single PostgreSQL statements: a reserve, and a batch of expiries.

Both keep the rules of the ORM paths in `reservations.py` (which serve on SQLite):
guarded conditional updates, rows locked in product_id order, the ledger written in
the same transaction with after-values from `RETURNING`. The SQL is built once, from
the models' own table and column names; every value is a bound parameter.

A reserve
---------
The ORM path of `reservations.py` sends six statements for a one-line reserve
(read the order's lines, the guarded update, the clock, the reservation insert,
the read-back for the ledger, the ledger insert) and Django compiles each of them
on every call. Under a flash sale that work, not the row lock, is the limit. Here
the same rules run as one statement with data-modifying CTEs:

- `taken`: the guarded conditional `UPDATE ... WHERE available_stock >= quantity`,
  one per line, applied only when the order has none of these lines yet (a repeat
  or a conflict goes to the ORM path, which explains it);
- `held` and `logged`: the reservation and the ledger entry of every taken line,
  the entry's after-values from `RETURNING`, so nothing is read twice;
- the final `SELECT` answers per line: taken or not, and for a line not taken the
  available stock and whether an overdue hold of that product stands in the way.

One line needs no transaction: the statement applies whole or not at all. Several
lines are locked in product_id order first (`FOR UPDATE` under `ORDER BY`, the
lock order of every other service) and run in a transaction that is rolled back
unless every line was taken: all or nothing.

Settling an order (release or deduct)
-------------------------------------
When every line of the order (or the one line asked for) is an active hold, and for
a payment none is overdue, one statement locks the lines (in product_id order),
ends them, moves their units on each product's row (locked in product_id order) and
writes their ledger entries. Anything else (no line, an ended or overdue line) is
left to the ORM path, which has the rules for it: the statement changes nothing then.

A batch of expiries
-------------------
One statement locks a batch of overdue active holds (`SKIP LOCKED`, in product_id
order), marks them expired, returns their units to each product's row (locked in
product_id order) and writes an `expire` entry per hold, whose before/after values
are worked back from the row's new counters with a window sum over the entries of
the same product that follow it.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import cache

from django.db import connection, transaction

from inventory.db import fetch_all
from inventory.models import Inventory, InventoryLog, Reservation
from inventory.services._ledger import SYSTEM_ACTOR, announce, counter_assignments_sql

_INVENTORY = Inventory._meta.db_table
_RESERVATION = Reservation._meta.db_table
_LOG = InventoryLog._meta.db_table
_RESERVATION_FIELDS = Reservation._meta.concrete_fields
_LOG_FIELDS = InventoryLog._meta.concrete_fields


@dataclass(frozen=True)
class LineOutcome:
    product_id: int
    quantity: int
    # The line's guarded update found too little stock (or no product).
    short: bool
    # The new hold and its ledger entry, when the reserve went through.
    reservation: Reservation | None
    log_entry: InventoryLog | None
    # Available stock as the statement found it (before its own change); None: no such product.
    available: int | None
    # Only looked up for a short line.
    has_overdue_holds: bool
    # The order has this line already: nothing was taken, the ORM path explains it.
    has_reservation_already: bool


class _NotEveryLineTaken(Exception):
    """Rolls back a multi-line reserve that left a line short."""


@cache
def _sql(*, lock_first: bool) -> str:
    # Several rows are locked in product_id order before any is changed: the
    # UPDATE's own join would lock them in whatever order its plan visits them.
    lock = (
        f"""
        locked AS MATERIALIZED (
            SELECT product_id FROM {_INVENTORY}
            WHERE product_id = ANY(%(product_ids)s::bigint[]) ORDER BY product_id FOR UPDATE
        ),"""  # noqa: S608 (names from the models, values bound as parameters)
        if lock_first
        else ""
    )
    locked_only = "AND inv.product_id IN (SELECT product_id FROM locked)" if lock_first else ""
    return f"""
    WITH line AS (
        SELECT product_id, quantity, position
        FROM unnest(%(product_ids)s::bigint[], %(quantities)s::bigint[]) WITH ORDINALITY
            AS given(product_id, quantity, position)
    ),
    known AS (
        SELECT product_id FROM {_RESERVATION}
        WHERE order_id = %(order_id)s AND product_id = ANY(%(product_ids)s::bigint[])
    ),{lock}
    taken AS (
        UPDATE {_INVENTORY} AS inv
        SET {counter_assignments_sql("-line.quantity", "line.quantity")}
        FROM line
        WHERE inv.product_id = line.product_id
            AND inv.available_stock >= line.quantity
            AND NOT EXISTS (SELECT 1 FROM known)
            {locked_only}
        RETURNING inv.product_id, inv.available_stock, inv.reserved_stock, line.quantity
    ),
    held AS (
        INSERT INTO {_RESERVATION}
            (product_id, order_id, quantity, status, reacquired, expires_at, created_at, updated_at)
        SELECT product_id, %(order_id)s, quantity, 'active', false,
            statement_timestamp() + %(ttl)s, statement_timestamp(), statement_timestamp()
        FROM taken
        RETURNING {_columns(_RESERVATION_FIELDS)}
    ),
    logged AS (
        INSERT INTO {_LOG} (product_id, operation, quantity, available_before, available_after,
            reserved_before, reserved_after, order_id, actor, reason, reference)
        SELECT product_id, %(operation)s, quantity, available_stock + quantity, available_stock,
            reserved_stock - quantity, reserved_stock, %(order_id)s, %(actor)s, '', ''
        FROM taken
        RETURNING {_columns(_LOG_FIELDS)}
    )
    SELECT line.product_id, line.quantity,
        inv.available_stock,
        CASE WHEN held.id IS NULL AND inv.product_id IS NOT NULL THEN EXISTS (
            SELECT 1 FROM {_RESERVATION} AS overdue
            WHERE overdue.product_id = line.product_id AND overdue.status = 'active'
                AND overdue.expires_at <= statement_timestamp()
        ) ELSE false END,
        line.product_id IN (SELECT product_id FROM known),
        {_columns(_RESERVATION_FIELDS, "held")},
        {_columns(_LOG_FIELDS, "logged")}
    FROM line
    LEFT JOIN {_INVENTORY} AS inv ON inv.product_id = line.product_id
    LEFT JOIN held ON held.product_id = line.product_id
    LEFT JOIN logged ON logged.product_id = line.product_id
    ORDER BY line.position
    """  # noqa: S608 (names from the models, values bound as parameters)


def _columns(fields, table: str = "") -> str:
    prefix = f"{table}." if table else ""
    return ", ".join(prefix + field.column for field in fields)


def _unheld_sql(ended: str, to_available: str) -> str:
    """The `locked` and `moved` CTEs that take ended holds out of reserved stock.

    `ended` is a CTE of (product_id, quantity), one row per product; each product's
    row is locked in product_id order, then loses `quantity` of reserved stock and
    gains `to_available` (an SQL factor, 0 or 1) times it in available stock. The
    units are held, so there is no guard in the WHERE: were reserved stock ever below
    its holds, the check constraint on it would fail the whole statement, which
    then changes nothing.
    """
    return f"""locked AS MATERIALIZED (
        SELECT product_id FROM {_INVENTORY}
        WHERE product_id IN (SELECT product_id FROM {ended}) ORDER BY product_id FOR UPDATE
    ),
    moved AS (
        UPDATE {_INVENTORY} AS inv
        SET {counter_assignments_sql(f"{to_available} * {ended}.quantity", f"-{ended}.quantity")}
        FROM {ended}
        WHERE inv.product_id = {ended}.product_id
            AND inv.product_id IN (SELECT product_id FROM locked)
        RETURNING inv.product_id, inv.available_stock, inv.reserved_stock, {ended}.quantity
    )"""  # noqa: S608 (names from the models)


@cache
def _settle_sql(*, one_product: bool) -> str:
    of_product = "AND product_id = %(product_id)s" if one_product else ""
    return f"""
    WITH line AS MATERIALIZED (
        SELECT id, product_id, quantity, status, expires_at FROM {_RESERVATION}
        WHERE order_id = %(order_id)s {of_product}
        ORDER BY product_id
        FOR UPDATE
    ),
    settled AS (
        SELECT count(*) > 0 AND bool_and(
            status = 'active' AND NOT (%(refuse_overdue)s AND expires_at <= statement_timestamp())
        ) AS ok
        FROM line
    ),
    ended AS (
        UPDATE {_RESERVATION} AS hold SET status = %(new_status)s, updated_at = statement_timestamp()
        FROM line WHERE hold.id = line.id AND (SELECT ok FROM settled)
        RETURNING {_columns(_RESERVATION_FIELDS, "hold")}
    ),
    {_unheld_sql("ended", "%(to_available)s")},
    logged AS (
        INSERT INTO {_LOG} (product_id, operation, quantity, available_before, available_after,
            reserved_before, reserved_after, order_id, actor, reason, reference)
        SELECT product_id, %(operation)s, quantity,
            available_stock - %(to_available)s * quantity, available_stock,
            reserved_stock + quantity, reserved_stock,
            %(order_id)s, %(actor)s, '', ''
        FROM moved
        ORDER BY product_id
        RETURNING {_columns(_LOG_FIELDS)}
    )
    SELECT {_columns(_RESERVATION_FIELDS, "ended")},
        {_columns(_LOG_FIELDS, "logged")}
    FROM ended JOIN logged ON logged.product_id = ended.product_id
    ORDER BY ended.product_id
    """  # noqa: S608 (names from the models, values bound as parameters)


def settle_in_one_statement(
    *,
    order_id: str,
    product_id: int | None,
    new_status: str,
    operation: str,
    to_available: bool,
    refuse_overdue: bool,
    actor: str,
) -> list[Reservation] | None:
    """End an order's active holds as `new_status`, their units going back to available
    stock (`to_available`) or leaving the shop; the ended reservations, in product order.

    None, and nothing changed, unless every line is an active hold (and, with
    `refuse_overdue`, none is past `expires_at`).
    """
    params = {
        "order_id": order_id,
        "product_id": product_id,
        "new_status": new_status,
        "operation": operation,
        "to_available": int(to_available),
        "refuse_overdue": refuse_overdue,
        "actor": actor,
    }
    rows = fetch_all(_settle_sql(one_product=product_id is not None), params)
    if not rows:
        return None
    held = slice(0, len(_RESERVATION_FIELDS))
    logged = slice(len(_RESERVATION_FIELDS), None)
    announce([InventoryLog.from_db(connection.alias, None, row[logged]) for row in rows])
    return [Reservation.from_db(connection.alias, None, row[held]) for row in rows]


@cache
def _expire_sql(*, filtered: bool) -> str:
    of_products = "AND product_id = ANY(%(product_ids)s::bigint[])" if filtered else ""
    return f"""
    WITH batch AS MATERIALIZED (
        SELECT id, product_id, order_id, quantity FROM {_RESERVATION}
        WHERE status = 'active' AND expires_at <= statement_timestamp() {of_products}
        ORDER BY product_id, id
        LIMIT %(batch_size)s
        FOR UPDATE SKIP LOCKED
    ),
    ended AS (
        UPDATE {_RESERVATION} AS hold SET status = 'expired', updated_at = statement_timestamp()
        FROM batch WHERE hold.id = batch.id
        RETURNING hold.id
    ),
    per_product AS (
        SELECT product_id, sum(quantity) AS quantity FROM batch GROUP BY product_id
    ),
    {_unheld_sql("per_product", "1")},
    entry AS (
        SELECT batch.id, batch.product_id, batch.order_id, batch.quantity,
            moved.available_stock, moved.reserved_stock,
            -- units of this product's holds that come after this one in the batch
            COALESCE(sum(batch.quantity) OVER (
                PARTITION BY batch.product_id ORDER BY batch.id
                ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
            ), 0) AS later
        FROM batch JOIN moved ON moved.product_id = batch.product_id
    ),
    logged AS (
        INSERT INTO {_LOG} (product_id, operation, quantity, available_before, available_after,
            reserved_before, reserved_after, order_id, actor, reason, reference)
        SELECT product_id, %(operation)s, quantity,
            available_stock - later - quantity, available_stock - later,
            reserved_stock + later + quantity, reserved_stock + later,
            order_id, %(actor)s, '', ''
        FROM entry
        ORDER BY product_id, id
        RETURNING {_columns(_LOG_FIELDS)}
    )
    SELECT (SELECT count(*) FROM batch), {_columns(_LOG_FIELDS, "logged")}
    FROM (SELECT 1) AS one
    LEFT JOIN logged ON true
    ORDER BY logged.id
    """  # noqa: S608 (names from the models, values bound as parameters)


def reserve_in_one_statement(
    *, order_id: str, lines: Sequence[tuple[int, int]], actor: str, ttl: timedelta
) -> list[LineOutcome]:
    """Run the reserve statement for (product_id, quantity) lines; one outcome per line.

    Either every line is taken, or none is and the outcomes say why.
    """
    params = {
        "product_ids": [product_id for product_id, _ in lines],
        "quantities": [quantity for _, quantity in lines],
        "order_id": order_id,
        "actor": actor,
        "ttl": ttl,
        "operation": InventoryLog.Operation.RESERVE,
    }
    if len(lines) == 1 and not connection.in_atomic_block:
        return _execute(params, lock_first=False)
    try:
        # A savepoint inside a caller's transaction, so a failed statement spoils nothing of it.
        with transaction.atomic():
            outcomes = _execute(params, lock_first=len(lines) > 1)
            if any(outcome.short for outcome in outcomes):
                raise _NotEveryLineTaken
    except _NotEveryLineTaken:
        # Rolled back: no line holds anything.
        return [replace(outcome, reservation=None, log_entry=None) for outcome in outcomes]
    return outcomes


def _execute(params: dict, *, lock_first: bool) -> list[LineOutcome]:
    return [_outcome(row) for row in fetch_all(_sql(lock_first=lock_first), params)]


def _outcome(row: tuple) -> LineOutcome:
    product_id, quantity, available, has_overdue, known = row[:5]
    held = row[5 : 5 + len(_RESERVATION_FIELDS)]
    logged = row[5 + len(_RESERVATION_FIELDS) :]
    taken = held[0] is not None
    return LineOutcome(
        product_id=product_id,
        quantity=quantity,
        short=not taken and not known,
        reservation=Reservation.from_db(connection.alias, None, held) if taken else None,
        log_entry=InventoryLog.from_db(connection.alias, None, logged) if taken else None,
        available=available,
        has_overdue_holds=has_overdue,
        has_reservation_already=known,
    )


def expire_batch_in_one_statement(*, product_ids: Sequence[int] | None, batch_size: int) -> int:
    """Expire up to `batch_size` overdue holds (of `product_ids` only, if given); how many.

    One statement: it applies whole or not at all.
    """
    params = {
        "product_ids": list(product_ids or ()),
        "batch_size": batch_size,
        "operation": InventoryLog.Operation.EXPIRE,
        "actor": SYSTEM_ACTOR,
    }
    rows = fetch_all(_expire_sql(filtered=product_ids is not None), params)
    announce([InventoryLog.from_db(connection.alias, None, row[1:]) for row in rows if row[1] is not None])
    return rows[0][0]
