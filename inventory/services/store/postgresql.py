"""The PostgreSQL store: the hot paths as single statements, the rest inherited from the ORM store.

The statements live in `sql/*.sql`. They are composed once per process: table and
column names from the models' `_meta`; the counters' SET list and guard compiled
from the very expressions the ORM store uses (`counters.py`), so the low-stock
timestamp and the guard are written once; the stock rows a line may take compiled
from `allocation.stock_rows`; every INSERT's column list from the model; statuses
and every other value bound as parameters. Rows come back by column name and are
decoded into model instances by field, never by position.

Each statement applies whole or not at all, so a single-line reserve needs no
transaction; several lines run in a savepoint that is rolled back unless every line
was taken. The statements are prepared once per connection (inventory/db.py).
"""

import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import cache
from pathlib import Path

from django.db import connection, models, transaction
from django.db.models import CharField, Q
from django.db.models.expressions import RawSQL
from django.db.models.sql import Query, UpdateQuery

from inventory import db
from inventory.exceptions import PoolNotFound
from inventory.models import Inventory, InventoryLog, Pool, Quota, Reservation, StockRow
from inventory.models.ledger import SYSTEM_ACTOR
from inventory.services import allocation
from inventory.services.store import counters
from inventory.services.store.ledger import announce, entry_of
from inventory.services.store.orm import EXPIRY, OrmStore, _NotEveryLineTaken, hold_movement
from inventory.services.store.types import Counters, Deltas, Draw, Ending, LineOutcome, RowKey

_SQL_DIR = Path(__file__).with_name("sql")
_LEVELS = StockRow._meta.db_table
Status = Reservation.Status


class PostgreSQLStore(OrmStore):
    name = "postgresql"

    def take(
        self,
        *,
        order_id: str,
        lines: Sequence[tuple[int, int]],
        actor: str,
        ttl: timedelta,
        client_id: int | None,
        routing: allocation.Routing = allocation.EVERYWHERE,
        draws: Mapping[int, Draw] | None = None,
        backorders: frozenset[int] = frozenset(),
    ) -> list[LineOutcome]:
        if draws or backorders:
            # A draw on a quota locks the quota after the stock rows, a line that may sell ahead
            # of stock the pre-sales after those: the planned path.
            return super().take(
                order_id=order_id,
                lines=lines,
                actor=actor,
                ttl=ttl,
                client_id=client_id,
                routing=routing,
                draws=draws,
                backorders=backorders,
            )
        owned = client_id is not None
        params = {
            "client_id": client_id,
            "product_ids": [product_id for product_id, _ in lines],
            "quantities": [quantity for _, quantity in lines],
            "order_id": order_id,
            "actor": actor,
            "ttl": ttl,
            "operation": InventoryLog.Operation.RESERVE,
            "pool": routing.pool,
        }
        if len(lines) == 1 and not connection.in_atomic_block:
            rows = db.fetch_rows(_reserve_sql(lock_first=False, owned=owned), params)
            if rows[0]["busy"] and not rows[0]["known"]:
                # The level held the line but no row took it (a hot level's rows that hold it
                # were locked, or the level changed while the statement waited): once more,
                # with a fresh snapshot, waiting for a row.
                rows = db.fetch_rows(_reserve_sql(lock_first=False, owned=owned, wait=True), params)
        else:
            try:
                # A savepoint inside a caller's transaction, so a failed statement spoils nothing of it.
                with transaction.atomic():
                    rows = db.fetch_rows(_reserve_sql(lock_first=len(lines) > 1, owned=owned), params)
                    if not all(row["held__id"] is not None or row["known"] for row in rows):
                        raise _NotEveryLineTaken
            except _NotEveryLineTaken:
                pass
        if not rows[0]["pool_found"]:
            raise PoolNotFound(routing.pool)
        known = any(row["known"] for row in rows)
        if not known and not any(_is_short(row) for row in rows) and any(_for_the_plan(row) for row in rows):
            # A product has several levels in the pool, or no row of a hot level held a line
            # whole when tried: the planned path locks the rows and chooses.
            return super().take(
                order_id=order_id, lines=lines, actor=actor, ttl=ttl, client_id=client_id, routing=routing
            )
        taken = not any(_is_short(row) for row in rows)
        if taken:
            announce([_reserved_entry(row, actor) for row in rows if row["held__id"] is not None])
        return [_line_outcome(row, taken=taken and row["held__id"] is not None) for row in rows]

    def settle(
        self, *, order_id: str, product_id: int | None, ending: Ending, actor: str, client_id: int | None
    ) -> list[Reservation] | None:
        params = {
            "client_id": client_id,
            "order_id": order_id,
            "product_id": product_id,
            "new_status": ending.status,
            "operation": ending.operation,
            "to_available": int(ending.to_available),
            "refuse_overdue": ending.refuse_overdue,
            "actor": actor,
        }
        rows = db.fetch_rows(_settle_sql(one_product=product_id is not None, owned=client_id is not None), params)
        if not rows:
            return None
        announce([db.instance_from_row(InventoryLog, "logged", row) for row in rows])
        return [db.instance_from_row(Reservation, "ended", row) for row in rows]

    def expire_batch(self, *, product_ids: Sequence[int] | None, batch_size: int) -> tuple[int, set[int]]:
        params = {
            "product_ids": list(product_ids or ()),
            "batch_size": batch_size,
            "operation": EXPIRY.operation,
            "actor": SYSTEM_ACTOR,
        }
        rows = db.fetch_rows(_expire_sql(filtered=product_ids is not None), params)
        entries = [db.instance_from_row(InventoryLog, "logged", row) for row in rows if row["logged__id"] is not None]
        announce(entries, batch_job=True)
        return rows[0]["batch_count"], {entry.product_id for entry in entries}

    def move_many(self, deltas: Mapping[RowKey, Deltas]) -> dict[RowKey, Counters]:
        if not deltas:
            return {}
        keys = sorted(deltas)
        params = {
            "product_ids": [product_id for product_id, _, _ in keys],
            "warehouse_ids": [warehouse_id for _, warehouse_id, _ in keys],
            "buckets": [bucket for _, _, bucket in keys],
            "available_deltas": [deltas[key][0] for key in keys],
            "reserved_deltas": [deltas[key][1] for key in keys],
        }
        rows = db.fetch_rows(_move_many_sql(), params)
        return {
            (row["product_id"], row["warehouse_id"], row["bucket"]): (row["available_stock"], row["reserved_stock"])
            for row in rows
        }


# What the reserve statement returns of each ledger entry it wrote: the hold has the rest.
_RESERVED_ENTRY_COLUMNS = (
    "id AS logged__id, product_id AS logged__product_id, available_after AS logged__available_after, "
    "reserved_after AS logged__reserved_after, created_at AS logged__created_at"
)


def _reserved_entry(row: dict, actor: str) -> InventoryLog:
    """The `reserve` entry the statement wrote for the hold of `row`, for its JSON log line."""
    movement = hold_movement(
        db.instance_from_row(Reservation, "held", row),
        InventoryLog.Operation.RESERVE,
        available_delta=-row["held__quantity"],
        reserved_delta=row["held__quantity"],
    )
    entry = entry_of(movement, actor=actor, after=(row["logged__available_after"], row["logged__reserved_after"]))
    entry.id, entry.created_at = row["logged__id"], row["logged__created_at"]
    return entry


def _for_the_plan(row: dict) -> bool:
    return row["needs_plan"] or row["busy"]


def _is_short(row: dict) -> bool:
    """Not taken, and not for the service (a known line) or the planned path to decide."""
    return row["held__id"] is None and not row["known"] and not _for_the_plan(row)


def _line_outcome(row: dict, *, taken: bool) -> LineOutcome:
    return LineOutcome(
        product_id=row["line_product_id"],
        quantity=row["line_quantity"],
        short=_is_short(row),
        reservations=(db.instance_from_row(Reservation, "held", row),) if taken else (),
        available=(row["available"] or 0) if row["product_found"] else None,
        has_overdue_holds=row["has_overdue_holds"],
        has_reservation_already=row["known"],
    )


# --- Composing the statements ---------------------------------------------------


@cache
def _reserve_sql(*, lock_first: bool, owned: bool, wait: bool = False) -> str:
    taken = {
        "available_delta": counters.sql_term("-target.quantity"),
        # Taken into reserved stock: it only adds, so the guard need not look at it.
        "reserved_delta": counters.sql_term("target.quantity", lowers=False),
    }
    candidates = allocation.stock_rows(
        counters.sql_term("SELECT product_id FROM line"), RawSQL("%(pool)s", (), output_field=CharField())
    ).values("id", "product_id", "warehouse_id", free_stock=allocation.FREE_STOCK)
    return _statement(
        "reserve.sql",
        # For an in-process caller, any client's line: the service then adds the lines for the owner.
        of_another_client="AND client_id IS DISTINCT FROM %(client_id)s" if owned else "AND client_id IS NOT NULL",
        candidates=_unqualified(_compiled(*candidates.query.sql_with_params())),
        lock_first="true" if lock_first else "false",
        # A try never waits; the wait is the UPDATE's, for one row, with no other row locked
        # (a try's row whose recheck failed stays locked to the end of its statement).
        bucket="" if wait else "FOR UPDATE SKIP LOCKED",
        take_changes=_set_list(counters.changes(**taken)),
        take_guard=_where(counters.guard(**taken)),
        hold_insert=_insert_select(
            Reservation,
            "taken",
            returning_as="held",
            product="product_id",
            warehouse="warehouse_id",
            bucket="bucket",
            client="%(client_id)s",
            order_id="%(order_id)s",
            quantity="quantity",
            status=_literal(Status.ACTIVE),
            reacquired="false",
            quota="NULL",
            expires_at="statement_timestamp() + %(ttl)s",
            created_at="statement_timestamp()",
            updated_at="statement_timestamp()",
        ),
        log_insert=_log_insert(
            "taken",
            available_delta="-quantity",
            reserved_delta="quantity",
            order_id="%(order_id)s",
            # The rest of each entry is the hold's and the parameters' (`_reserved_entry`).
            returning=_RESERVED_ENTRY_COLUMNS,
        ),
    )


def _unheld_sql(ended: str, to_available: str) -> str:
    moved = {
        "available_delta": counters.sql_term(f"{to_available} * {ended}.quantity"),
        "reserved_delta": counters.sql_term(f"-{ended}.quantity"),
    }
    return _statement("unheld.sql", ended=ended, unhold_changes=_set_list(counters.changes(**moved)))


@cache
def _settle_sql(*, one_product: bool, owned: bool) -> str:
    return _statement(
        "settle.sql",
        of_product="AND product_id = %(product_id)s" if one_product else "",
        of_client="AND client_id = %(client_id)s" if owned else "",
        ended_columns=_columns(Reservation, "hold"),
        unheld=_unheld_sql("ended", "%(to_available)s"),
        log_insert=_log_insert(
            "moved",
            available_delta="%(to_available)s * quantity",
            reserved_delta="-quantity",
            order_id="%(order_id)s",
            order_by="product_id, warehouse_id, bucket",
        ),
        ended_fields=db.prefixed_columns(Reservation, "ended"),
        logged_fields=db.prefixed_columns(InventoryLog, "logged"),
    )


@cache
def _expire_sql(*, filtered: bool) -> str:
    return _statement(
        "expire.sql",
        of_products="AND product_id = ANY(%(product_ids)s::bigint[])" if filtered else "",
        unheld=_unheld_sql("per_row", "1"),
        log_insert=_log_insert(
            "entry",
            available_after="available_stock - later",
            reserved_after="reserved_stock + later",
            available_delta="quantity",
            reserved_delta="-quantity",
            order_id="order_id",
            order_by="product_id, warehouse_id, bucket, id",
        ),
        logged_fields=db.prefixed_columns(InventoryLog, "logged"),
    )


@cache
def _move_many_sql() -> str:
    change = {
        "available_delta": counters.sql_term("change.available_delta"),
        "reserved_delta": counters.sql_term("change.reserved_delta"),
    }
    return _statement(
        "move_many.sql", many_changes=_set_list(counters.changes(**change)), many_guard=_where(counters.guard(**change))
    )


def _statement(name: str, **parts: str) -> str:
    """An .sql file with its names and fragments filled in, its comments dropped and its white
    space folded (shorter to send, and one line in the database's logs)."""
    text = (_SQL_DIR / name).read_text()
    body = " ".join(line.strip() for line in text.splitlines() if not line.strip().startswith("--"))
    names = {
        "inventory": Inventory._meta.db_table,
        "levels": _LEVELS,
        "pool": Pool._meta.db_table,
        "reservation": Reservation._meta.db_table,
        "quota": Quota._meta.db_table,
        "lock_order": ", ".join("inv." + StockRow._meta.get_field(field).column for field in allocation.LOCK_ORDER),
        # Statuses a partial index is defined on are literals, from the model's choices: a
        # generic plan matches `status = 'active'` to `WHERE status = 'active'` indexes,
        # never `status = $5` (bound, the overdue checks and the expiry scanned every hold).
        "active": _literal(Status.ACTIVE),
        "expired": _literal(Status.EXPIRED),
    }
    return " ".join(body.format(**names, **parts).split())


def _literal(status: str) -> str:
    if not status.isidentifier():
        raise ValueError(f"Not a plain status: {status!r}")
    return f"'{status}'"


def _log_insert(
    source: str,
    *,
    available_delta: str,
    reserved_delta: str,
    order_id: str,
    available_after: str = "available_stock",
    reserved_after: str = "reserved_stock",
    order_by: str = "",
    returning: str = "",
) -> str:
    """The INSERT of one ledger entry per row of `source` (product_id, warehouse_id, bucket, quantity
    and the stock row's new counters); the before-values are the after-values less the entry's own deltas."""
    return _insert_select(
        InventoryLog,
        source,
        order_by=order_by,
        returning=returning,
        product="product_id",
        warehouse="warehouse_id",
        bucket="bucket",
        operation="%(operation)s",
        quantity="quantity",
        available_before=f"({available_after}) - ({available_delta})",
        available_after=available_after,
        reserved_before=f"({reserved_after}) - ({reserved_delta})",
        reserved_after=reserved_after,
        order_id=order_id,
        actor="%(actor)s",
        reason="''",
        reference="''",
        quota="NULL",
        backorder="NULL",
    )


def _insert_select(
    model: type[models.Model],
    source: str,
    *,
    order_by: str = "",
    returning_as: str = "",
    returning: str = "",
    **values: str,
) -> str:
    """`INSERT INTO <model> (<columns>) SELECT <values> FROM <source> RETURNING <every column>`.

    `values` names every concrete field but the key and those the database fills in.
    With `returning_as`, each column comes back as `<returning_as>__<column>`, the names
    `db.instance_from_row` reads, so that the final SELECT takes them as `<cte>.*`;
    `returning` gives the RETURNING list instead.
    """
    fields = [field for field in model._meta.concrete_fields if field.name in values]
    missing = [
        field.name
        for field in model._meta.concrete_fields
        if field.name not in values and not field.primary_key and not field.has_db_default()
    ]
    unknown = set(values) - {field.name for field in fields}
    if missing or unknown:
        raise ValueError(f"An insert into {model.__name__} must name {missing} and not {sorted(unknown)}.")
    order = f" ORDER BY {order_by}" if order_by else ""
    columns = ", ".join(field.column for field in fields)
    terms = ", ".join(values[field.name] for field in fields)
    # Names from the model; the values are the statement's own terms and parameters.
    if not returning:
        returning = db.prefixed_columns(model, returning_as, qualified=False) if returning_as else _columns(model)
    return f"INSERT INTO {model._meta.db_table} ({columns}) SELECT {terms} FROM {source}{order} RETURNING {returning}"  # noqa: S608


def _columns(model: type[models.Model], table: str = "") -> str:
    prefix = f"{table}." if table else ""
    return ", ".join(prefix + field.column for field in model._meta.concrete_fields)


def _set_list(changes: dict) -> str:
    """The SET list the ORM would write for `QuerySet.update(**changes)`, as SQL of the target table."""
    query = UpdateQuery(StockRow)
    query.add_update_values(changes)
    sql, params = query.get_compiler(connection=connection).as_sql()
    prefix = f'UPDATE "{_LEVELS}" SET '  # noqa: S608 (the model's table name)
    if not sql.startswith(prefix):
        raise ValueError(f"Unexpected UPDATE from the ORM: {sql[:80]}")
    return _of_target(_compiled(sql.removeprefix(prefix), params))


def _where(condition: Q) -> str:
    """The WHERE condition the ORM would write for `filter(condition)`, as SQL of the target table."""
    query = Query(StockRow)
    where = query.build_where(condition)
    compiler = query.get_compiler(connection=connection)
    return _of_target(_compiled(*where.as_sql(compiler, connection)))


def _of_target(sql: str) -> str:
    """ORM SQL about the levels table, written of the statements' `UPDATE ... AS inv`."""
    return sql.replace(f"{_LEVELS}.", "inv.")


def _unqualified(sql: str) -> str:
    """Compiled ORM SQL of one table without its table name before each column (`id AS id` as `id`):
    shorter."""
    sql = sql.replace(f"{_LEVELS}.", "")
    return re.sub(r"\b(\w+) AS \1\b", r"\1", sql)


def _compiled(sql: str, params: Sequence) -> str:
    """Compiled ORM SQL with its parameters written in: the ORM's constants are ints (`version + 1`).

    Only `%s` placeholders are the ORM's; `%(name)s` in an SQL term is the statement's own.
    """
    # The ORM quotes every name; ours need no quotes, and the statement is shorter without them.
    pieces = sql.replace('"', "").split("%s")
    if len(pieces) != len(params) + 1 or not all(isinstance(p, int) for p in params):
        raise ValueError(f"Cannot write these parameters into SQL: {params!r}")
    written = pieces[0]
    for param, piece in zip(params, pieces[1:], strict=True):
        written += (str(param).lower() if isinstance(param, bool) else str(int(param))) + piece
    return written
