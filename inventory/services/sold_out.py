"""The sold-out gate: refuse a reserve of a sold-out product before it reaches the database.

In a flash sale most reserves come after the last unit has gone. Each would queue on
the product's stock rows only to be told `insufficient_stock`; the gate answers them
from one Redis read instead. Redis is an optimisation, never a dependency of
correctness: when it is not configured, down or slow, every reserve goes through the
database as it always did, and the worst a lost or late write can do is refuse a
product for at most `INVENTORY_SOLD_OUT_TTL` seconds after stock came back.

The rule:

- A product's gate version is the sum of the versions of its stock rows (the
  default manager's `version`). Every change of stock bumps some row's version, and a
  row that goes (a hot bucket dropped) carries its version into row 0, so it only grows.
- `observe(product_ids)`, called inside a transaction that changed their stock,
  registers `transaction.on_commit`. After the commit it reads (`read_states`), in one
  fresh statement, each product's summed available stock and version, the earliest
  `expires_at` of its active holds and the database's now. A product is sold out iff
  its available stock is 0 and none of its active holds is overdue (a reserve would
  expire an overdue hold and could then succeed).
- It then writes (`publish`) each state to `inventory:sold-out:<product_id>` as
  `<version>:<1 sold out | 0 not>` with a compare-and-set script: a state is written
  only when its version is strictly greater than the stored one, or nothing is stored.
  A flag lives min(`INVENTORY_SOLD_OUT_TTL`, the time until the product's earliest
  active hold expires) rounded down to the ms, at least 1 ms; a clear lives
  `INVENTORY_SOLD_OUT_CLEAR_TTL` (never less than a flag). Both are counted from just
  before the read: a state whose time ran out before it reached Redis is not written.
- `refuses(product_ids)` is True only when every product's stored state is a flag.

Why a late flag never hides stock: a read after a commit sees everything any earlier
read saw, plus that commit. So the clear that follows a commit adding stock carries a
greater version than any sold-out state read without that stock: written after it,
such a flag loses the compare-and-set; written before it, the clear replaces it. The
clear outlives every flag read before it (a flag is written only within its TTL of its
read, the clear lives at least as long). A write lost to a Redis failure is bounded
by the flag's TTL.

The client is made on first use from `settings.REDIS_URL`, one connection pool per
process, and made again when that setting changes (a test points the gate at another
Redis by overriding it); `reset()` closes it. After a Redis error the gate leaves
Redis alone for `RETRY_AFTER_FAILURE` seconds, so that a slow Redis costs one request
a timeout now and then rather than every request, and warns at most once per
`WARNING_INTERVAL`.
"""

import logging
import math
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import Case, Min, OuterRef, Subquery, When
from django.db.models.functions import Now
from redis.backoff import NoBackoff
from redis.commands.core import Script
from redis.retry import Retry

from inventory import db, metrics
from inventory.models import Inventory, Reservation, StockRow

logger = logging.getLogger(__name__)

KEY_PREFIX = "inventory:sold-out:"
# A reserve waits this long for Redis at most, then goes to the database.
CONNECT_TIMEOUT = 0.05  # seconds
READ_TIMEOUT = 0.05  # seconds
RETRY_AFTER_FAILURE = 1.0  # seconds
WARNING_INTERVAL = 60.0  # seconds

# KEYS[i] is a product's key; ARGV[3i-2], ARGV[3i-1], ARGV[3i] its version, flag (1 sold
# out, 0 not) and time to live in ms. Atomic in Redis: no other write comes between
# the GET and the SET. The keys of one call may lie in any slot: one Redis, not a Cluster.
_COMPARE_AND_SET = """
local written = 0
for i, key in ipairs(KEYS) do
  local version = tonumber(ARGV[3 * i - 2])
  local stored = redis.call('GET', key)
  if not stored or (tonumber(string.match(stored, '^%d+')) or -1) < version then
    redis.call('SET', key, ARGV[3 * i - 2] .. ':' .. ARGV[3 * i - 1], 'PX', ARGV[3 * i])
    written = written + 1
  end
end
return written
"""
_FLAGGED = b":1"


# `read_states` on PostgreSQL: one hand-written statement, prepared once per connection
# (inventory/db.py). Read through the ORM (`Inventory.objects`, whose figures are seven
# correlated subqueries) it cost 3 ms of CPU to build, after every release.
_STATES_SQL = f"""
SELECT product.product_id, COALESCE(figures.available, 0), COALESCE(figures.version, 0),
    CASE WHEN COALESCE(figures.available, 0) = 0 THEN (
        SELECT min(hold.expires_at) FROM {Reservation._meta.db_table} AS hold
        WHERE hold.product_id = product.product_id AND hold.status = '{Reservation.Status.ACTIVE}'
    ) END,
    statement_timestamp()
FROM {Inventory._meta.db_table} AS product
LEFT JOIN LATERAL (
    SELECT sum(stock.available_stock)::bigint AS available, sum(stock.version)::bigint AS version
    FROM {StockRow._meta.db_table} AS stock WHERE stock.product_id = product.product_id
) AS figures ON true
WHERE product.product_id = ANY(%(product_ids)s::bigint[])
"""  # noqa: S608 (the models' table names and a status)


@dataclass(frozen=True)
class State:
    """What one post-commit read found of a product, ready to be published."""

    product_id: int
    version: int
    sold_out: bool
    # How long Redis may keep this state, counted from `read_at` (time.monotonic() just
    # before the read).
    ttl_ms: int
    read_at: float


def observe(product_ids: Iterable[int]) -> None:
    """After the current transaction commits, read the products' states and publish them.

    Call it inside the transaction that changed their stock (outside one, it runs at
    once). Nothing happens when the gate is off or there is no Redis; an error in the
    read or the write is logged and never reaches the caller, whose change is committed.
    """
    ids = sorted(set(product_ids))
    if ids and _enabled():
        transaction.on_commit(partial(_read_and_publish, ids), robust=True)


def refuses(product_ids: Collection[int]) -> bool:
    """Whether a reserve of these products can be answered `insufficient_stock` at once:
    True only when every one of them is flagged sold out. False when the gate is off,
    there is no Redis, or Redis fails (the database decides)."""
    if not product_ids:
        return False
    connection = _redis()
    if connection is None:
        return False
    try:
        stored = connection.client.mget([_key(product_id) for product_id in product_ids])
    except redis.RedisError as error:
        connection.failed(error)
        metrics.gate_lookup("error")
        return False
    refused = all(value is not None and value.endswith(_FLAGGED) for value in stored)
    metrics.gate_lookup("hit" if refused else "miss")
    return refused


def read_states(product_ids: Collection[int]) -> list[State]:
    """The gate's state of each product that exists, read in one statement.

    The earliest active hold is looked up only for products with no available stock,
    the only ones it matters for.
    """
    read_at = time.monotonic()
    rows = _state_rows(product_ids)
    flag_ms, clear_ms = _ttls_ms()
    states = []
    for product_id, available, version, earliest_hold_expiry, now in rows:
        overdue_hold = earliest_hold_expiry is not None and earliest_hold_expiry <= now
        sold_out = available == 0 and not overdue_hold
        ttl_ms = clear_ms
        if sold_out:
            ttl_ms = flag_ms
            if earliest_hold_expiry is not None:
                until_hold_expires = (earliest_hold_expiry - now) // timedelta(milliseconds=1)
                ttl_ms = max(1, min(flag_ms, until_hold_expires))
        states.append(State(product_id, version, sold_out, ttl_ms, read_at))
    return states


def _state_rows(product_ids: Collection[int]) -> Iterable[tuple]:
    """(product_id, available, version, earliest active hold's expiry or None, the database's now) of each."""
    if db.postgresql_statements():
        return db.fetch_all(_STATES_SQL, {"product_ids": list(product_ids)})
    earliest_hold = Subquery(
        Reservation.objects.filter(product_id=OuterRef("product_id"), status=Reservation.Status.ACTIVE)
        .order_by()
        .values("product_id")
        .annotate(earliest=Min("expires_at"))
        .values("earliest")
    )
    return (
        Inventory.objects.filter(product_id__in=product_ids)
        .annotate(earliest_hold=Case(When(available_stock=0, then=earliest_hold)), now=Now())
        .values_list("product_id", "available_stock", "version", "earliest_hold", "now")
    )


def publish(states: Sequence[State]) -> None:
    """Write the states to Redis, each only if it is newer than the stored one."""
    if not states:
        return
    connection = _redis()
    if connection is None:
        return
    now = time.monotonic()
    keys, args = [], []
    for state in states:
        ttl_ms = state.ttl_ms - math.ceil((now - state.read_at) * 1000)
        if ttl_ms >= 1:
            keys.append(_key(state.product_id))
            args += [state.version, int(state.sold_out), ttl_ms]
    if not keys:
        return
    try:
        connection.compare_and_set(keys=keys, args=args)
    except redis.RedisError as error:
        connection.failed(error)


def reset() -> None:
    """Close the gate's Redis client; the next call makes a new one from the settings."""
    global _current
    current, _current = _current, None
    if current is not None:
        current.client.close()


def _read_and_publish(product_ids: list[int]) -> None:
    publish(read_states(product_ids))


def _key(product_id: int) -> str:
    return f"{KEY_PREFIX}{product_id}"


def _enabled() -> bool:
    return bool(getattr(settings, "INVENTORY_SOLD_OUT_GATE", True) and settings.REDIS_URL)


def _ttls_ms() -> tuple[int, int]:
    """How long a flag and a clear live, in ms. A clear outlives any flag read before it."""
    flag_ms = int(getattr(settings, "INVENTORY_SOLD_OUT_TTL", 5) * 1000)
    clear_ms = int(getattr(settings, "INVENTORY_SOLD_OUT_CLEAR_TTL", 60) * 1000)
    return flag_ms, max(flag_ms, clear_ms)


@dataclass
class _Redis:
    """The gate's client of one Redis URL, and when that Redis last failed."""

    url: str
    client: redis.Redis
    compare_and_set: Script
    down_until: float = 0.0
    warned_at: float = -math.inf

    @classmethod
    def connect(cls, url: str) -> "_Redis":
        # No retries: within a reserve, the database is the retry.
        client = redis.Redis.from_url(
            url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=READ_TIMEOUT, retry=Retry(NoBackoff(), 0)
        )
        return cls(url, client, client.register_script(_COMPARE_AND_SET))

    def failed(self, error: redis.RedisError) -> None:
        now = time.monotonic()
        self.down_until = now + RETRY_AFTER_FAILURE
        if now - self.warned_at >= WARNING_INTERVAL:
            self.warned_at = now
            logger.warning("Sold-out gate: Redis failed (%s); reserves go to the database.", error)


_current: _Redis | None = None


def _redis() -> _Redis | None:
    """The gate's Redis; None when the gate is off, there is no Redis, or it failed a moment ago."""
    global _current
    if not _enabled():
        return None
    current = _current
    if current is None or current.url != settings.REDIS_URL:
        # Two threads may both get here; one client is kept, the other is closed by the collector.
        current = _current = _Redis.connect(settings.REDIS_URL)
    if time.monotonic() < current.down_until:
        return None
    return current
