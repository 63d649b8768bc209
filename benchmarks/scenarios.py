"""The five scenarios of issue 7, the routed one of issue 14 and the bare-endpoint baseline, each
against a running server.

Every function takes a Context (where the server is, the tokens, a connection to
its database) and returns a plain dict of figures for benchmarks/report.py.
"""

import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from benchmarks import data
from benchmarks.capture_sql import captured_sql
from benchmarks.loadgen import Answer, Recorder, Session, Step, run, status_label
from benchmarks.server import LOG_DIR, cpu_seconds, cpu_used

RESERVE = "/api/v1/inventory/reserve"
SOLD_OUT = "409 insufficient_stock"
NEVER_SOLD_OUT = 10**9


@dataclass
class Context:
    base_url: str
    env: dict[str, str]
    db: psycopg.Connection
    internal_token: str
    # Product ids of new products are handed out from here, so that runs never share one.
    product_ids: Iterator[int]
    server_pid: int
    staff_token: str = ""

    def headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Token {token}"}

    def new_product_id(self) -> int:
        return next(self.product_ids)

    def cpu_seconds(self) -> dict:
        """The CPU used so far by the server and by its database's PostgreSQL backends."""
        return cpu_seconds(self.server_pid, self.env["DATABASE_URL"].rsplit("/", 1)[1])

    def load(self, **run_options) -> dict:
        """One load run's figures, with the CPU the server and PostgreSQL spent per request."""
        before = self.cpu_seconds()
        report = run(self.base_url, **run_options)
        return {**report.summary(), **cpu_per_request(before, self.cpu_seconds(), report.requests)}


def cpu_per_request(before: dict, after: dict, requests: int) -> dict:
    """CPU milliseconds per request: steadier than rates on a shared machine (PostgreSQL's counts only the
    server's own database)."""
    if not requests:
        return {}
    return {f"{name}_cpu_ms": 1000 * cpu_used(before[name], after[name]) / requests for name in after}


def bare(ctx: Context, *, clients: int, duration_s: float) -> dict:
    """The framework's ceiling: /bench/bare with a reserve's body, the same authentication and server."""

    async def step(session: Session, client: int, n: int) -> None:
        await session.request(
            "POST", "/bench/bare", json={"order_id": f"b-{client}-{n}", "product_id": 1, "quantity": 1}
        )

    figures = ctx.load(clients=clients, step=step, headers=ctx.headers(ctx.internal_token), duration_s=duration_s)
    return {"clients": clients, **figures}


def warm_up(ctx: Context, *, clients: int) -> None:
    """Open every worker thread's database connection before anything is measured."""
    bare(ctx, clients=clients, duration_s=2)


def _flash_label(answer: Answer) -> str:
    if answer.status_code == 201:
        return "reserved"
    return status_label(answer)


def _reserving(product_id: int, prefix: str, tier_of: Callable[[int], str] | None = None) -> Step:
    """A client step reserving one unit of the product under a new order id (with the
    customer tier `tier_of(client)`, where it names one)."""

    async def step(session: Session, client: int, n: int) -> None:
        body = {"order_id": f"{prefix}-{product_id}-{client}-{n}", "product_id": product_id, "quantity": 1}
        tier = tier_of(client) if tier_of else ""
        if tier:
            body["customer_tier"] = tier
        await session.request("POST", RESERVE, json=body, label=_flash_label)

    return step


def reserve_steadily(ctx: Context, *, stock: int, clients: int, duration_s: float) -> dict:
    """`clients` reserving one product for a fixed time: in stock throughout (NEVER_SOLD_OUT), or sold out (0)."""
    product_id = ctx.new_product_id()
    data.create_product(ctx.db, product_id, stock)
    step = _reserving(product_id, "steady")
    return ctx.load(clients=clients, step=step, headers=ctx.headers(ctx.internal_token), duration_s=duration_s)


def flash_sale(
    ctx: Context, *, stock: int, extra_attempts: int, clients: int = 64, buckets: int = 1, quota_share: float = 0
) -> dict:
    """One product, `stock` units (spread over `buckets` rows), `clients` reserving one unit each until
    sold out, then `extra_attempts` more.

    A campaign (`quota_share` > 0): that share of the stock is a quota of the tier `gold`, and
    every other client orders as a gold customer (its reserves draw on the quota first).
    """
    product_id = ctx.new_product_id()
    data.create_product(ctx.db, product_id, stock)
    if buckets > 1:
        data.make_hot(ctx.env, product_id, buckets)
    quota_units = int(stock * quota_share)
    if quota_units:
        data.create_quota(ctx.env, product_id, f"bench-{product_id}", quota_units, CAMPAIGN_TIER)
    members = (lambda client: CAMPAIGN_TIER if client % 2 else "") if quota_units else None
    step = _reserving(product_id, "flash", members)

    # CPU is read at the start, at the first sold-out answer and at the end: the cost of each phase.
    cpu = [ctx.cpu_seconds()]

    def sold_out_enough(recorder: Recorder) -> bool:
        if len(cpu) == 1 and recorder.count(SOLD_OUT):
            cpu.append(ctx.cpu_seconds())
        return recorder.count(SOLD_OUT) >= extra_attempts

    report = run(
        ctx.base_url, clients=clients, step=step, headers=ctx.headers(ctx.internal_token), until=sold_out_enough
    )
    cpu.append(ctx.cpu_seconds())
    phases = {}
    if len(cpu) == 3:
        phases = {
            "selling": cpu_per_request(cpu[0], cpu[1], report.recorder.count("reserved")),
            "sold_out": cpu_per_request(cpu[1], cpu[2], report.recorder.count(SOLD_OUT)),
        }
    return {
        "product_id": product_id,
        "stock": stock,
        "buckets": buckets,
        **report.summary(),
        "cpu_by_phase": phases,
        **_sale_check(ctx, product_id, stock, report),
        **(_campaign_check(ctx, product_id, quota_units) if quota_units else {}),
    }


CAMPAIGN_TIER = "gold"


def _campaign_check(ctx: Context, product_id: int, quota_units: int) -> dict:
    """The quota's figures after the sale: what members drew of it and what it still sets aside."""
    drawn, allotted = ctx.db.execute(
        "SELECT drawn, allotted FROM inventory_quota WHERE product_id = %s", [product_id]
    ).fetchone()
    return {"quota_units": quota_units, "quota_drawn": drawn, "quota_left": allotted}


def _sale_check(ctx: Context, product_id: int, stock: int, report) -> dict:
    """Oversold units (what the reservations hold beyond the stock there was), units that no row holds any
    more (the rows' available and reserved summed, against the stock), and verify_ledger's verdict."""
    held, holds = ctx.db.execute(
        "SELECT COALESCE(SUM(quantity), 0), COUNT(*) FROM inventory_reservation WHERE product_id = %s", [product_id]
    ).fetchone()
    available, reserved = ctx.db.execute(
        "SELECT SUM(available_stock), SUM(reserved_stock) FROM inventory_stocklevel WHERE product_id = %s",
        [product_id],
    ).fetchone()
    ledger_ok, ledger_says = data.verify_ledger(ctx.env, product_id)
    labels = report.recorder.labels
    return {
        "oversold": max(0, held - stock),
        "units_not_adding_up": stock - int(available + reserved),
        "rows": ctx.db.execute(
            "SELECT COUNT(*) FROM inventory_stocklevel WHERE product_id = %s", [product_id]
        ).fetchone()[0],
        "reserved_answers": report.recorder.count("reserved"),
        "reservations_in_db": holds,
        "available_after": available,
        "reserved_after": reserved,
        "version_conflicts": sum(s.count for label, s in labels.items() if "version_conflict" in label),
        "ledger_ok": ledger_ok,
        "ledger_says": ledger_says[:500],
    }


def everyday(ctx: Context, products: data.ProductRange, *, clients: int, duration_s: float, seed: int) -> dict:
    """The order mix on many products: reserve, then pay 70% / cancel 20% / let expire 10%."""
    tag = f"{seed}-{clients}"

    async def step(session: Session, client: int, n: int) -> None:
        rng = random.Random(f"{tag}-{client}-{n}")
        order_id = f"day-{tag}-{client}-{n}"
        body = {"order_id": order_id, "product_id": rng.randint(products.first, products.last), "quantity": 1}
        reserved = await session.request("POST", RESERVE, json=body, prefix="reserve ")
        if reserved.status_code != 201:
            return
        outcome = rng.random()
        if outcome < 0.7:
            await session.request("POST", "/api/v1/inventory/deduct", json={"order_id": order_id}, prefix="deduct ")
        elif outcome < 0.9:
            await session.request("POST", "/api/v1/inventory/release", json={"order_id": order_id}, prefix="release ")

    figures = ctx.load(clients=clients, step=step, headers=ctx.headers(ctx.internal_token), duration_s=duration_s)
    return {"clients": clients, **figures}


# The routed scenario's stock: 0 to 5 units per level (about 7.5 a product), so that the nearest
# warehouse is often short and a line goes farther or is split, and popular products sell out.
ROUTED_STOCK_SQL = "mod(g * 7919 + w * 7907, 6)"
ROUTED_MAX_QUANTITY = 3
# Destinations lie up to this many degrees (latitude and longitude) from their region's warehouse.
DESTINATION_SPREAD_DEGREES = 4.0


def routed(ctx: Context, products: data.ProductRange, *, clients: int, duration_s: float, seed: int) -> dict:
    """Reserves of 1-3 units through the `nearest` pool of three warehouses, to random regions.

    `products` get a level in each of data.SITES (ROUTED_STOCK_SQL). The product of
    each reserve is drawn with a skew (the first products far more often), so some
    sell out under contention. Then the database is asked whether any level gave more
    than it had.
    """
    data.create_products(
        ctx.db, products, stock_sql=ROUTED_STOCK_SQL, warehouses=[site.code for site in data.SITES], threshold=1
    )
    data.analyze(ctx.db)
    tag = f"{seed}-{clients}"
    answered = {"parts": 0, "split": 0, "units": 0}

    def label(answer: Answer) -> str:
        if answer.status_code != 201:
            return status_label(answer)
        parts = answer.json()["reservations"]
        answered["parts"] += len(parts)
        answered["split"] += len(parts) > 1
        answered["units"] += sum(part["quantity"] for part in parts)
        return "reserved"

    async def step(session: Session, client: int, n: int) -> None:
        rng = random.Random(f"routed-{tag}-{client}-{n}")
        site = rng.choice(data.SITES)
        spread = DESTINATION_SPREAD_DEGREES
        body = {
            "order_id": f"near-{tag}-{client}-{n}",
            "product_id": products.first + int(products.count * rng.random() ** 2),
            "quantity": rng.randint(1, ROUTED_MAX_QUANTITY),
            "pool": data.NEAREST_POOL,
            "ship_to": {
                "region": site.region,
                "latitude": round(site.latitude + rng.uniform(-spread, spread), 4),
                "longitude": round(site.longitude + rng.uniform(-spread, spread), 4),
            },
        }
        await session.request("POST", RESERVE, json=body, label=label)

    figures = ctx.load(clients=clients, step=step, headers=ctx.headers(ctx.internal_token), duration_s=duration_s)
    return {
        "clients": clients,
        "products": products.count,
        "warehouses": len(data.SITES),
        **figures,
        "answered": answered,
        **_routed_check(ctx, products),
    }


def _routed_check(ctx: Context, products: data.ProductRange) -> dict:
    """From the database: units held beyond what each level was created with (oversold), the holds,
    and levels whose units no longer add up to what they were created with."""
    bounds = {"first": products.first, "last": products.last}
    oversold, held, holds, by_warehouse, levels_off = ctx.db.execute(
        """
        WITH created AS (
            SELECT product_id, warehouse_id, quantity AS units FROM inventory_inventorylog
            WHERE product_id BETWEEN %(first)s AND %(last)s AND operation = 'create'
        ), held AS (
            SELECT product_id, warehouse_id, SUM(quantity) AS units, COUNT(*) AS holds FROM inventory_reservation
            WHERE product_id BETWEEN %(first)s AND %(last)s AND status IN ('active', 'confirmed')
            GROUP BY product_id, warehouse_id
        ), per_warehouse AS (
            SELECT w.code, SUM(held.units) AS units FROM held JOIN inventory_warehouse w ON w.id = held.warehouse_id
            GROUP BY w.code
        )
        SELECT
            (SELECT COALESCE(SUM(GREATEST(held.units - COALESCE(created.units, 0), 0)), 0)
             FROM held LEFT JOIN created USING (product_id, warehouse_id)),
            (SELECT COALESCE(SUM(units), 0) FROM held),
            (SELECT COALESCE(SUM(holds), 0) FROM held),
            (SELECT COALESCE(jsonb_object_agg(code, units), '{}') FROM per_warehouse),
            (SELECT COUNT(*) FROM inventory_stocklevel level JOIN created USING (product_id, warehouse_id)
             LEFT JOIN held USING (product_id, warehouse_id)
             WHERE level.available_stock + level.reserved_stock <> created.units
                OR level.reserved_stock <> COALESCE(held.units, 0))
        """,
        bounds,
    ).fetchone()
    return {
        "oversold": oversold,
        "units_held_in_db": held,
        "reservations_in_db": holds,
        "units_by_warehouse": {code: int(units) for code, units in by_warehouse.items()},
        "levels_not_adding_up": levels_off,
    }


BATCH_SIZE = 200


def batch_check(ctx: Context, products: data.ProductRange, *, clients: int, duration_s: float) -> dict:
    """The public batch check of 200 items beside the single check, at the same concurrency."""

    async def batch(session: Session, client: int, n: int) -> None:
        rng = random.Random(f"batch-{client}-{n}")
        ids = rng.sample(range(products.first, products.last + 1), BATCH_SIZE)
        items = [{"product_id": product_id, "quantity": 1} for product_id in ids]
        await session.request("POST", "/api/v1/inventory/check/batch", json={"items": items})

    async def single(session: Session, client: int, n: int) -> None:
        product_id = random.Random(f"single-{client}-{n}").randint(products.first, products.last)
        await session.request("GET", f"/api/v1/inventory/check/{product_id}")

    batch_figures = ctx.load(clients=clients, step=batch, duration_s=duration_s)
    single_figures = ctx.load(clients=clients, step=single, duration_s=duration_s)
    body = {"items": [{"product_id": products.first + i, "quantity": 1} for i in range(BATCH_SIZE)]}
    captured = captured_sql(ctx.env, "POST", "/api/v1/inventory/check/batch", body, "")
    return {
        "clients": clients,
        "batch": batch_figures,
        "single": single_figures,
        "batch_queries": len(captured["statements"]),
    }


def expiry(
    ctx: Context,
    holds: data.ProductRange,
    *,
    holds_per_product: int,
    baseline_s: float,
    clients: int = 64,
    max_duration_s: float = 300,
) -> dict:
    """`cleanup_reservations` expiring overdue holds while a flash sale (that never sells out) runs beside it;
    first the same sale for `baseline_s` without it (the reserve p99 to compare with)."""
    data.create_products(ctx.db, holds, stock_sql=str(holds_per_product))
    data.add_overdue_holds(ctx.db, holds, holds_per_product)
    data.analyze(ctx.db)
    product_id = ctx.new_product_id()
    data.create_product(ctx.db, product_id, NEVER_SOLD_OUT)
    baseline = ctx.load(
        clients=clients,
        step=_reserving(product_id, "exp-before"),
        headers=ctx.headers(ctx.internal_token),
        duration_s=baseline_s,
    )
    step = _reserving(product_id, "exp")

    LOG_DIR.mkdir(parents=True, exist_ok=True)
    output = LOG_DIR / "cleanup_reservations.log"
    finished_at: list[float] = []

    def cleanup_done(_recorder: Recorder) -> bool:
        if cleanup.poll() is None:
            return False
        finished_at.append(time.perf_counter())
        return True

    # Its output (the progress, and a JSON line per batch or per hold) goes to a file: a full pipe would stall it.
    with output.open("w") as log:
        started = time.perf_counter()
        cleanup = subprocess.Popen(
            [sys.executable, "manage.py", "cleanup_reservations"], cwd=data.ROOT, env=ctx.env, stdout=log, stderr=log
        )
        try:
            figures = ctx.load(
                clients=clients,
                step=step,
                headers=ctx.headers(ctx.internal_token),
                until=cleanup_done,
                max_duration_s=max_duration_s,
            )
        finally:
            if cleanup.poll() is None:
                cleanup.kill()
            cleanup.wait()
    left = ctx.db.execute(
        "SELECT COUNT(*) FROM inventory_reservation WHERE product_id BETWEEN %s AND %s AND status = 'active'",
        [holds.first, holds.last],
    ).fetchone()[0]
    return {
        "holds": holds.count * holds_per_product,
        "cleanup_s": (finished_at[0] if finished_at else time.perf_counter()) - started,
        "cleanup_status": cleanup.returncode,
        "cleanup_said": _last_line(output),
        "holds_left_active": left,
        "reserves": figures,
        "reserves_without_expiry": baseline,
    }


def _last_line(path: Path) -> str:
    lines = path.read_text().strip().splitlines()
    return lines[-1][-300:] if lines else ""


def back_office_pages(ctx: Context, *, rows: int, log_product: int, clients: int, duration_s: float) -> dict:
    """The staff list page, the low-stock list and one product's log, at `clients` concurrent staff callers."""
    pages = {
        "list": lambda rng: f"/api/v1/inventory?page={rng.randint(1, 200)}",
        "low-stock": lambda rng: f"/api/v1/inventory/low-stock?page={rng.randint(1, 20)}",
        "log": lambda rng: f"/api/v1/inventory/logs/{log_product}?page={rng.randint(1, 200)}",
    }
    results = {}
    for name, url_of in pages.items():

        async def step(session: Session, client: int, n: int, url_of=url_of, name=name) -> None:
            await session.request("GET", url_of(random.Random(f"{name}-{client}-{n}")))

        figures = ctx.load(clients=clients, step=step, headers=ctx.headers(ctx.staff_token), duration_s=duration_s)
        results[name] = {**figures, "explain": explain_page(ctx, url_of(random.Random(0)))}
    return {"rows": rows, "clients": clients, "pages": results}


def explain_page(ctx: Context, path: str) -> list[str]:
    """EXPLAIN (ANALYZE) of every SELECT of the inventory tables that a page issues, captured from Django.

    (The others are the token lookup and the staff user's permissions.)
    """
    statements = captured_sql(ctx.env, "GET", path, None, ctx.staff_token)["statements"]
    plans = []
    for sql in statements:
        if sql.lstrip().upper().startswith("SELECT") and '"inventory_inventory' in sql:
            rows = ctx.db.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql).fetchall()
            plans.append(sql + "\n" + "\n".join(row[0] for row in rows))
    return plans
