"""The benchmark databases and their data, made with set-based SQL.

This is test-data generation, not application code: rows are inserted straight
into a benchmark database with `INSERT ... SELECT generate_series`, and every
stock level gets the log entries that explain its counters (a `create` entry,
then one entry per movement), so `manage.py verify_ledger` passes on the result.

The counters live in inventory_stocklevel, one row per product per warehouse (a
product's row in inventory_inventory holds its names only); log entries and
reservations name their level's warehouse. Warehouses are named by code, as the
API names them; `default` is the one a fresh install has.
"""

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
ACTOR = "bench-data"
DEFAULT_WAREHOUSE = "default"
# inventory/services/sold_out.py's KEY_PREFIX (not imported: this module runs outside Django).
SOLD_OUT_KEY_PREFIX = "inventory:sold-out:"
INSERT_LOG_ENTRIES = """INSERT INTO inventory_inventorylog
    (product_id, warehouse_id, operation, quantity, available_before, available_after, reserved_before,
     reserved_after, order_id, actor, reason, reference, created_at)"""
# The level of a product in the warehouse %(warehouse)s (a code).
WAREHOUSE_ID = "(SELECT id FROM inventory_warehouse WHERE code = %(warehouse)s)"


def database_url(name: str) -> str:
    return f"{PG_SERVER}/{name}"


def django_env(database: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of every Django process of the benchmark (server, commands)."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="benchmarks.settings",
        DJANGO_SECRET_KEY="benchmark-only-secret-key",
        DATABASE_URL=database_url(database),
        REDIS_URL=redis_url,
        # The shop front is throttled per address; every benchmark client shares 127.0.0.1.
        INVENTORY_PUBLIC_THROTTLE="100000000/minute",
        # The Procfile's commands (gunicorn) from this interpreter's virtual environment.
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        **extra,
    )
    env.pop("DJANGO_DEBUG", None)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    """Run a management command in its own process; its stdout."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def recreate_database(name: str, env: dict[str, str]) -> None:
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    manage(env, "migrate", "--no-input", "-v", "0")


def is_migrated(env: dict[str, str]) -> bool:
    """Whether the database of `env` has every migration applied (`migrate --check`)."""
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--check", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0


def database_exists(name: str) -> bool:
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def connect(name: str) -> psycopg.Connection:
    return psycopg.connect(database_url(name), autocommit=True)


@dataclass(frozen=True)
class ProductRange:
    """Products `first`..`first + count - 1`."""

    first: int
    count: int

    @property
    def last(self) -> int:
        return self.first + self.count - 1


@dataclass(frozen=True)
class Site:
    """A warehouse of the benchmark's network."""

    code: str
    region: str
    latitude: float
    longitude: float


# Three warehouses about 1,000-2,000 km apart, and the pool that routes to the nearest.
SITES = (
    Site("bench-east", "east", 31.23, 121.47),
    Site("bench-north", "north", 39.90, 116.40),
    Site("bench-south", "south", 23.13, 113.26),
)
NEAREST_POOL = "bench-near"
_CREATE_NETWORK = """
from inventory import services
for site in {sites!r}:
    services.create_warehouse(actor={actor!r}, **site)
codes = [site["code"] for site in {sites!r}]
services.create_pool(code={pool!r}, warehouses=codes, strategy="nearest", actor={actor!r})
"""


def create_network(env: dict[str, str], sites: Sequence[Site] = SITES, pool: str = NEAREST_POOL) -> None:
    """The warehouses and their `nearest` pool, through the services (in a manage.py shell of the database)."""
    code = _CREATE_NETWORK.format(sites=[asdict(site) for site in sites], pool=pool, actor=ACTOR)
    manage(env, "shell", "--no-imports", "-c", code)


def make_hot(env: dict[str, str], product_id: int, buckets: int) -> None:
    """Spread the product's level in `default` over `buckets` rows, through the service (its ledger entries)."""
    code = (
        "from inventory import services\n"
        f"services.make_hot(product_id={int(product_id)}, buckets={int(buckets)}, actor={ACTOR!r})"
    )
    manage(env, "shell", "--no-imports", "-c", code)


def create_quota(env: dict[str, str], product_id: int, code: str, units: int, tier: str) -> None:
    """A quota of `units` of the product in `default` for the customer tier, open for a day, through the service."""
    code_text = (
        "from datetime import timedelta\n"
        "from django.utils import timezone\n"
        "from inventory import services\n"
        "now = timezone.now()\n"
        f"services.create_quota(code={code!r}, product_id={int(product_id)}, quantity={int(units)}, tier={tier!r}, "
        f"starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(days=1), actor={ACTOR!r})"
    )
    manage(env, "shell", "--no-imports", "-c", code_text)


def clear_sold_out_flags(redis_url: str) -> None:
    """Drop the sold-out gate's keys from the benchmark's Redis database: they name products by id, and
    each benchmark database has its own products of the same ids."""
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{SOLD_OUT_KEY_PREFIX}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def warehouse_ids(db: psycopg.Connection, codes: Sequence[str]) -> list[int]:
    """The ids of the warehouses with these codes, in the same order; each must exist."""
    found = dict(db.execute("SELECT code, id FROM inventory_warehouse WHERE code = ANY(%s)", [list(codes)]).fetchall())
    missing = [code for code in codes if code not in found]
    if missing:
        raise RuntimeError(f"No warehouse {', '.join(missing)} in the benchmark database.")
    return [found[code] for code in codes]


def create_products(
    db: psycopg.Connection,
    products: ProductRange,
    *,
    stock_sql: str,
    threshold: int = 10,
    warehouses: Sequence[str] = (DEFAULT_WAREHOUSE,),
) -> None:
    """Products with a level in each of `warehouses` and each level's `create` entry.

    `stock_sql` is an expression of `g`, the product id, and `w`, the warehouse's
    position in `warehouses` (0, 1, ...): the level's available stock.
    """
    bounds = {
        "first": products.first,
        "last": products.last,
        "threshold": threshold,
        "actor": ACTOR,
        "warehouse_ids": warehouse_ids(db, warehouses),
    }
    levels = f"""
        generate_series(%(first)s::bigint, %(last)s::bigint) g
        CROSS JOIN unnest(%(warehouse_ids)s::bigint[]) WITH ORDINALITY AS wh(id, n),
        LATERAL (SELECT (wh.n - 1)::int AS w) pos, LATERAL (SELECT {stock_sql} AS s) stock"""
    with db.transaction():
        db.execute(
            """
            INSERT INTO inventory_inventory (product_id, created_at)
            SELECT g, now() FROM generate_series(%(first)s::bigint, %(last)s::bigint) g
            """,
            bounds,
        )
        db.execute(
            f"""
            INSERT INTO inventory_stocklevel
                (product_id, warehouse_id, available_stock, reserved_stock, in_transit, low_stock_threshold,
                 low_stock_since, version, created_at, updated_at)
            SELECT g, wh.id, s, 0, 0, %(threshold)s, CASE WHEN s <= %(threshold)s THEN now() END, 1, now(), now()
            FROM {levels}
            """,
            bounds,
        )
        db.execute(
            f"""
            {INSERT_LOG_ENTRIES}
            SELECT g, wh.id, 'create', s, 0, s, 0, 0, '', %(actor)s, 'benchmark data', '', now()
            FROM {levels}
            ORDER BY g, wh.n
            """,
            bounds,
        )


def create_product(db: psycopg.Connection, product_id: int, stock: int) -> None:
    create_products(db, ProductRange(product_id, 1), stock_sql=str(int(stock)))


def add_restock_history(db: psycopg.Connection, product_id: int, entries: int) -> None:
    """`entries` restocks of one unit each on a product created with no stock (in `default`)."""
    params = {"product": product_id, "entries": entries, "actor": ACTOR, "warehouse": DEFAULT_WAREHOUSE}
    with db.transaction():
        db.execute(
            f"""
            {INSERT_LOG_ENTRIES}
            SELECT %(product)s, {WAREHOUSE_ID}, 'restock', 1, k - 1, k, 0, 0, '', %(actor)s, 'benchmark data', '',
                   now() - make_interval(secs => %(entries)s - k)
            FROM generate_series(1, %(entries)s) k ORDER BY k
            """,
            params,
        )
        db.execute(
            "UPDATE inventory_stocklevel SET available_stock = available_stock + %(entries)s, low_stock_since = NULL,"
            f" version = version + %(entries)s WHERE product_id = %(product)s AND warehouse_id = {WAREHOUSE_ID}",
            params,
        )


def add_overdue_holds(db: psycopg.Connection, products: ProductRange, holds_per_product: int) -> None:
    """Active reservations of one unit each in `default`, already past `expires_at`, with their `reserve` entries.

    Each product must have been created with at least `holds_per_product` units available there.
    """
    params = {
        "first": products.first,
        "last": products.last,
        "holds": holds_per_product,
        "actor": ACTOR,
        "warehouse": DEFAULT_WAREHOUSE,
    }
    series = "generate_series(%(first)s::bigint, %(last)s::bigint) g CROSS JOIN generate_series(1, %(holds)s) j"
    with db.transaction():
        db.execute(
            f"""
            INSERT INTO inventory_reservation
                (product_id, warehouse_id, order_id, quantity, status, reacquired, expires_at, created_at,
                 updated_at)
            SELECT g, {WAREHOUSE_ID}, 'overdue-' || g || '-' || j, 1, 'active', false,
                   now() - interval '1 minute', now() - interval '31 minutes', now() - interval '31 minutes'
            FROM {series}
            """,
            params,
        )
        db.execute(
            f"""
            {INSERT_LOG_ENTRIES}
            SELECT g, i.warehouse_id, 'reserve', 1, i.available_stock - j + 1, i.available_stock - j, j - 1, j,
                   'overdue-' || g || '-' || j, %(actor)s, '', '', now() - interval '31 minutes'
            FROM {series} JOIN inventory_stocklevel i ON i.product_id = g AND i.warehouse_id = {WAREHOUSE_ID}
            ORDER BY g, j
            """,
            params,
        )
        db.execute(
            f"""
            UPDATE inventory_stocklevel
            SET available_stock = available_stock - %(holds)s, reserved_stock = reserved_stock + %(holds)s,
                version = version + %(holds)s
            WHERE product_id BETWEEN %(first)s AND %(last)s AND warehouse_id = {WAREHOUSE_ID}
            """,
            params,
        )


def analyze(db: psycopg.Connection) -> None:
    db.execute("ANALYZE inventory_inventory, inventory_stocklevel, inventory_inventorylog, inventory_reservation")


def api_token(env: dict[str, str], name: str, role: str) -> str:
    return manage(env, "create_api_client", name, "--role", role).strip()


def verify_ledger(env: dict[str, str], product_id: int | None = None) -> tuple[bool, str]:
    """`manage.py verify_ledger` (for one product, or all): whether it passed, and what it said."""
    args = [sys.executable, "manage.py", "verify_ledger"]
    if product_id is not None:
        args += ["--product", str(product_id)]
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    return done.returncode == 0, (done.stdout + done.stderr).strip()
