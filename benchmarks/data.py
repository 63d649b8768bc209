"""The benchmark databases and their data, made with set-based SQL.

This is test-data generation, not application code: rows are inserted straight
into a benchmark database with `INSERT ... SELECT generate_series`, and every
product gets the log entries that explain its counters (a `create` entry, then
one entry per movement), so `manage.py verify_ledger` passes on the result.
"""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
ACTOR = "bench-data"
INSERT_LOG_ENTRIES = """INSERT INTO inventory_inventorylog
    (product_id, operation, quantity, available_before, available_after, reserved_before, reserved_after,
     order_id, actor, reason, reference, created_at)"""


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


def create_products(db: psycopg.Connection, products: ProductRange, *, stock_sql: str, threshold: int = 10) -> None:
    """Inventory rows with their `create` entries; `stock_sql` is an expression of `g`, the product id."""
    bounds = {"first": products.first, "last": products.last, "threshold": threshold, "actor": ACTOR}
    with db.transaction():
        db.execute(
            f"""
            INSERT INTO inventory_inventory
                (product_id, available_stock, reserved_stock, low_stock_threshold, low_stock_since, version,
                 created_at, updated_at)
            SELECT g, s, 0, %(threshold)s, CASE WHEN s <= %(threshold)s THEN now() END, 1, now(), now()
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) g, LATERAL (SELECT {stock_sql} AS s) stock
            """,
            bounds,
        )
        db.execute(
            f"""
            {INSERT_LOG_ENTRIES}
            SELECT g, 'create', s, 0, s, 0, 0, '', %(actor)s, 'benchmark data', '', now()
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) g, LATERAL (SELECT {stock_sql} AS s) stock
            ORDER BY g
            """,
            bounds,
        )


def create_product(db: psycopg.Connection, product_id: int, stock: int) -> None:
    create_products(db, ProductRange(product_id, 1), stock_sql=str(int(stock)))


def add_restock_history(db: psycopg.Connection, product_id: int, entries: int) -> None:
    """`entries` restocks of one unit each on a product created with no stock."""
    with db.transaction():
        db.execute(
            f"""
            {INSERT_LOG_ENTRIES}
            SELECT %(product)s, 'restock', 1, k - 1, k, 0, 0, '', %(actor)s, 'benchmark data', '',
                   now() - make_interval(secs => %(entries)s - k)
            FROM generate_series(1, %(entries)s) k ORDER BY k
            """,
            {"product": product_id, "entries": entries, "actor": ACTOR},
        )
        db.execute(
            "UPDATE inventory_inventory SET available_stock = available_stock + %(entries)s, low_stock_since = NULL,"
            " version = version + %(entries)s WHERE product_id = %(product)s",
            {"product": product_id, "entries": entries},
        )


def add_overdue_holds(db: psycopg.Connection, products: ProductRange, holds_per_product: int) -> None:
    """Active reservations of one unit each, already past `expires_at`, with their `reserve` entries.

    Each product must have been created with at least `holds_per_product` units available.
    """
    params = {"first": products.first, "last": products.last, "holds": holds_per_product, "actor": ACTOR}
    series = "generate_series(%(first)s::bigint, %(last)s::bigint) g CROSS JOIN generate_series(1, %(holds)s) j"
    with db.transaction():
        db.execute(
            f"""
            INSERT INTO inventory_reservation
                (product_id, order_id, quantity, status, reacquired, expires_at, created_at, updated_at)
            SELECT g, 'overdue-' || g || '-' || j, 1, 'active', false, now() - interval '1 minute',
                   now() - interval '31 minutes', now() - interval '31 minutes'
            FROM {series}
            """,
            params,
        )
        db.execute(
            f"""
            {INSERT_LOG_ENTRIES}
            SELECT g, 'reserve', 1, i.available_stock - j + 1, i.available_stock - j, j - 1, j,
                   'overdue-' || g || '-' || j, %(actor)s, '', '', now() - interval '31 minutes'
            FROM {series} JOIN inventory_inventory i ON i.product_id = g
            ORDER BY g, j
            """,
            params,
        )
        db.execute(
            """
            UPDATE inventory_inventory
            SET available_stock = available_stock - %(holds)s, reserved_stock = reserved_stock + %(holds)s,
                version = version + %(holds)s
            WHERE product_id BETWEEN %(first)s AND %(last)s
            """,
            params,
        )


def analyze(db: psycopg.Connection) -> None:
    db.execute("ANALYZE inventory_inventory, inventory_inventorylog, inventory_reservation")


def api_token(env: dict[str, str], name: str, role: str) -> str:
    return manage(env, "create_api_client", name, "--role", role).strip()


def verify_ledger(env: dict[str, str], product_id: int | None = None) -> tuple[bool, str]:
    """`manage.py verify_ledger` (for one product, or all): whether it passed, and what it said."""
    args = [sys.executable, "manage.py", "verify_ledger"]
    if product_id is not None:
        args += ["--product", str(product_id)]
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    return done.returncode == 0, (done.stdout + done.stderr).strip()
