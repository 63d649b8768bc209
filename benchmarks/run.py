"""Run the benchmark of issues 7, 14 and 15 and print its tables (benchmarks/RESULTS.md explains them).

    python -m benchmarks.run            # the short version (`make bench`, a few minutes)
    python -m benchmarks.run --full     # every scenario at full size, 3 rounds (`make bench-full`)
    python -m benchmarks.run --skip-back-office --scenarios flash,routed   # some of them (a smoke run)
    python -m benchmarks.run --skip-back-office --scenarios everyday --profile   # and py-spy the workers

Everything runs on this machine: gunicorn on 127.0.0.1 (the Procfile's `web` line)
against the PostgreSQL databases inventory_bench_run, inventory_bench_pgbench and
inventory_bench_bo_ROWS (dropped and made again, except that the back-office one is
kept while it has the wanted size) and Redis database 7 (the sold-out gate's). The
sold-out scenario starts a second server with the gate off (INVENTORY_SOLD_OUT_GATE=false)
for its own measurement. The figures of every round go to var/bench/results-*.json.
"""

import argparse
import dataclasses
import itertools
import json
import os
import platform
import shlex
import socket
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks import data, pgbench, report, scenarios
from benchmarks.profiling import profile_reserves
from benchmarks.server import LOG_DIR, busy_share, machine_cpu, procfile_web_command, running_server

RUN_DB, PGBENCH_DB = "inventory_bench_run", "inventory_bench_pgbench"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
EVERYDAY_PRODUCTS = data.ProductRange(1, 10_000)
PGBENCH_PRODUCT, SOLD_OUT_PRODUCT, ROUTED_PRODUCT, HOT_PGBENCH_PRODUCT = 1, 2, 3, 4
# Issue 15: a hot product has its stock over HOT_BUCKETS rows; pgbench's has enough for any run.
HOT_BUCKETS, HOT_PGBENCH_STOCK = 16, 10**8
# The one-statement reserve replayed by pgbench (pgbench.hot_scripts), and the product of each.
HOT_PGBENCH_RUNS = {"one_row": PGBENCH_PRODUCT, "hot": HOT_PGBENCH_PRODUCT, "hot_statement": HOT_PGBENCH_PRODUCT}
FIRST_FLASH_PRODUCT = 900_000_000
HOLDS_PER_PRODUCT = 10
# The routed scenario's products in round n: ROUTED_PRODUCTS products from ROUTED_FIRST_PRODUCT * (n + 1).
ROUTED_FIRST_PRODUCT, ROUTED_PRODUCTS = 10_000_000, 10_000
# What a round runs besides the baselines, in this order.
CAMPAIGN_QUOTA_SHARE = 0.5
SCENARIOS = ("flash", "sold_out", "everyday", "batch", "expiry", "routed")


@dataclass(frozen=True)
class Sizes:
    rounds: int
    duration_s: int  # each fixed-length measurement
    flash_stock: int
    sold_out_attempts: int
    expiry_holds: int
    back_office_rows: int
    log_entries: int


SHORT = Sizes(
    rounds=1,
    duration_s=5,
    flash_stock=2_000,
    sold_out_attempts=4_000,
    expiry_holds=20_000,
    back_office_rows=100_000,
    log_entries=20_000,
)
FULL = Sizes(
    rounds=3,
    duration_s=10,
    flash_stock=10_000,
    sold_out_attempts=20_000,
    expiry_holds=100_000,
    back_office_rows=1_000_000,
    log_entries=100_000,
)
CLIENT_COUNTS = (16, 64)
# A round starts once the machine's CPU is at most QUIET_BUSY busy, or after QUIET_WAIT_S.
QUIET_BUSY, QUIET_WAIT_S = 0.15, 180.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def machine() -> dict:
    with data.connect("postgres") as db:
        settings = dict(
            db.execute(
                "SELECT name, setting || COALESCE(' ' || unit, '') FROM pg_settings WHERE name = ANY(%s)",
                [list(report.PG_SETTINGS)],
            ).fetchall()
        )
        version = db.execute("SHOW server_version").fetchone()[0]
    memory_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "postgresql": version,
        "pg_settings": settings,
        "gunicorn": shlex.join(procfile_web_command(0)),
    }


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def load_average() -> float:
    return os.getloadavg()[0]


def cpu_busy(over_s: float = 2.0) -> float:
    """The share of the machine's CPU time that was busy over the next `over_s` seconds."""
    before = machine_cpu()
    time.sleep(over_s)
    return busy_share(before, machine_cpu())


def wait_until_quiet() -> float:
    """Wait (at most QUIET_WAIT_S) until the rest of the machine leaves the CPU nearly idle: other
    people's test suites share the 2 CPUs. The busy share last seen."""
    deadline = time.monotonic() + QUIET_WAIT_S
    busy = cpu_busy()
    while busy > QUIET_BUSY and time.monotonic() < deadline:
        busy = cpu_busy()
    if busy > QUIET_BUSY:
        _say(f"the machine is still {busy:.0%} busy; measuring anyway")
    return busy


def prepare_pgbench() -> tuple[dict[str, str], dict[str, list[str]]]:
    """The pgbench database (its own: the replayed log rows are literals), the scripts (the captured
    SQL of a reserve on one row; the one-statement reserve on one row and on a hot product,
    pgbench.hot_scripts), and the statements of a reserve that succeeds, of one that finds the
    product sold out, of one routed to the nearest of three warehouses, and of a hot product's
    reserve with a free bucket and without."""
    env = data.django_env(PGBENCH_DB, REDIS_URL, LOG_LEVEL="WARNING")
    data.recreate_database(PGBENCH_DB, env)
    data.create_network(env)
    with data.connect(PGBENCH_DB) as db:
        data.create_product(db, PGBENCH_PRODUCT, 10**15)
        data.create_product(db, SOLD_OUT_PRODUCT, 0)
        data.create_product(db, HOT_PGBENCH_PRODUCT, HOT_PGBENCH_STOCK)
        data.create_products(
            db, data.ProductRange(ROUTED_PRODUCT, 1), stock_sql="100", warehouses=[site.code for site in data.SITES]
        )
    data.make_hot(env, HOT_PGBENCH_PRODUCT, HOT_BUCKETS)
    token = data.api_token(env, "bench-orders", "internal")
    order_id, statements = pgbench.capture_reserve_sql(env, PGBENCH_PRODUCT, token)
    hot = pgbench.capture_reserve_sql(env, HOT_PGBENCH_PRODUCT, token)
    with data.connect(PGBENCH_DB) as db:
        no_free_bucket = pgbench.capture_fallback_sql(env, db, HOT_PGBENCH_PRODUCT, token)
    # The first finds the product sold out in the database and flags it in Redis; the second is refused by the gate.
    sold_out, gated = (
        pgbench.captured_sql(
            env, "POST", scenarios.RESERVE, {"order_id": order, "product_id": SOLD_OUT_PRODUCT, "quantity": 1}, token
        )
        for order in ("sold-out", "sold-out-gated")
    )
    routed_body = {
        "order_id": "routed",
        "product_id": ROUTED_PRODUCT,
        "quantity": 1,
        "pool": data.NEAREST_POOL,
        "ship_to": {"region": data.SITES[0].region},
    }
    routed = pgbench.captured_sql(env, "POST", scenarios.RESERVE, routed_body, token)
    scripts = {
        "captured": pgbench.pgbench_script(order_id, statements),
        **pgbench.hot_scripts((order_id, statements), hot, no_free_bucket),
    }
    return scripts, {
        "reserve": statements,
        "sold_out": sold_out["statements"],
        "sold_out, flagged in Redis": gated["statements"],
        "routed": routed["statements"],
        f"hot ({HOT_BUCKETS} buckets)": hot[1],
        "hot, no free bucket": no_free_bucket[1],
    }


def prepare_run_database(env: dict[str, str]) -> tuple[str, str]:
    data.recreate_database(RUN_DB, env)
    data.clear_sold_out_flags(REDIS_URL)
    data.create_network(env)
    with data.connect(RUN_DB) as db:
        data.create_products(db, EVERYDAY_PRODUCTS, stock_sql="1000000")
        data.analyze(db)
    return data.api_token(env, "bench-orders", "internal"), data.api_token(env, "bench-staff", "staff")


def one_round(ctx: scenarios.Context, sizes: Sizes, scripts: dict[str, str], number: int, chosen: tuple) -> dict:
    result: dict = {"round": number, "busy_before": wait_until_quiet(), "load_before": load_average()}
    scenarios.warm_up(ctx, clients=max(CLIENT_COUNTS))
    result["bare"] = {c: scenarios.bare(ctx, clients=c, duration_s=sizes.duration_s) for c in CLIENT_COUNTS}
    result["pgbench"] = {
        c: pgbench.run_pgbench(PGBENCH_DB, scripts["captured"], clients=c, duration_s=sizes.duration_s)
        for c in CLIENT_COUNTS
    }
    result["pgbench_hot"] = {
        name: pgbench.run_reserving(
            PGBENCH_DB, scripts[name], product, clients=max(CLIENT_COUNTS), duration_s=sizes.duration_s
        )
        for name, product in HOT_PGBENCH_RUNS.items()
        if name in scripts
    }
    _say(f"round {number}: baselines done")
    if "flash" in chosen:
        result["flash"] = scenarios.flash_sale(ctx, stock=sizes.flash_stock, extra_attempts=sizes.sold_out_attempts)
        result["flash_hot"] = scenarios.flash_sale(
            ctx, stock=sizes.flash_stock, extra_attempts=sizes.sold_out_attempts, buckets=HOT_BUCKETS
        )
        # Half the stock a quota of the tier every other buyer orders as (issue 16).
        result["flash_campaign"] = scenarios.flash_sale(
            ctx, stock=sizes.flash_stock, extra_attempts=sizes.sold_out_attempts, quota_share=CAMPAIGN_QUOTA_SHARE
        )
        _say(f"round {number}: flash sales done")
    if "sold_out" in chosen:
        result["sold_out"] = sold_out_with_and_without_gate(
            ctx, clients=max(CLIENT_COUNTS), duration_s=sizes.duration_s
        )
        _say(f"round {number}: sold-out answers done")
    if "everyday" in chosen:
        result["everyday"] = {
            c: scenarios.everyday(ctx, EVERYDAY_PRODUCTS, clients=c, duration_s=sizes.duration_s, seed=number)
            for c in CLIENT_COUNTS
        }
        _say(f"round {number}: everyday done")
    if "batch" in chosen:
        result["batch"] = scenarios.batch_check(ctx, EVERYDAY_PRODUCTS, clients=16, duration_s=sizes.duration_s)
        _say(f"round {number}: batch done")
    if "expiry" in chosen:
        holds = data.ProductRange(100_000 * (number + 1), sizes.expiry_holds // HOLDS_PER_PRODUCT)
        result["expiry"] = scenarios.expiry(
            ctx, holds, holds_per_product=HOLDS_PER_PRODUCT, baseline_s=sizes.duration_s
        )
        _say(f"round {number}: expiry done")
    if "routed" in chosen:
        products = data.ProductRange(ROUTED_FIRST_PRODUCT * (number + 1), ROUTED_PRODUCTS)
        result["routed"] = scenarios.routed(
            ctx, products, clients=max(CLIENT_COUNTS), duration_s=sizes.duration_s, seed=number
        )
        _say(f"round {number}: routed done")
    result["load_after"] = load_average()
    return result


def sold_out_with_and_without_gate(ctx: scenarios.Context, *, clients: int, duration_s: int) -> dict:
    """Reserves of a sold-out product: on the run's server (the gate on, Redis configured), then on a
    server of the same database started with INVENTORY_SOLD_OUT_GATE=false."""
    figures = {"gate": scenarios.reserve_steadily(ctx, stock=0, clients=clients, duration_s=duration_s)}
    port = free_port()
    with running_server({**ctx.env, "INVENTORY_SOLD_OUT_GATE": "false"}, port, "run-no-gate") as server:
        no_gate = dataclasses.replace(ctx, base_url=f"http://127.0.0.1:{port}", server_pid=server.pid)
        scenarios.warm_up(no_gate, clients=clients)
        figures["no_gate"] = scenarios.reserve_steadily(no_gate, stock=0, clients=clients, duration_s=duration_s)
    return figures


def back_office_database(sizes: Sizes) -> str:
    """One per size, so that the short run does not replace the full run's million rows."""
    return f"inventory_bench_bo_{sizes.back_office_rows}"


def prepare_back_office(sizes: Sizes, env: dict[str, str]) -> int:
    """`back_office_rows` items (1% low) and one with `log_entries` log entries; kept while it has that size
    and every migration."""
    log_product = sizes.back_office_rows + 1
    database = back_office_database(sizes)
    # A database made before the latest migration (the counters' move to inventory_stocklevel, say) is made again.
    if data.database_exists(database) and data.is_migrated(env):
        with data.connect(database) as db:
            rows = db.execute("SELECT COUNT(*) FROM inventory_inventory").fetchone()[0]
            entries = db.execute(
                "SELECT COUNT(*) FROM inventory_inventorylog WHERE product_id = %s", [log_product]
            ).fetchone()[0]
        if (rows, entries) == (sizes.back_office_rows + 1, sizes.log_entries + 1):
            return log_product
    _say(f"making the back-office database ({sizes.back_office_rows:,} items)")
    data.recreate_database(database, env)
    with data.connect(database) as db:
        data.create_products(
            db, data.ProductRange(1, sizes.back_office_rows), stock_sql="mod(g * 7919, 1000)", threshold=10
        )
        data.create_product(db, log_product, 0)
        data.add_restock_history(db, log_product, sizes.log_entries)
        db.execute("VACUUM ANALYZE")
    return log_product


def back_office(sizes: Sizes) -> list[dict]:
    database = back_office_database(sizes)
    env = data.django_env(database, REDIS_URL)
    log_product = prepare_back_office(sizes, env)
    internal, staff = data.api_token(env, "bench-orders", "internal"), data.api_token(env, "bench-staff", "staff")
    port = free_port()
    rounds = []
    with running_server(env, port, "back-office") as server, data.connect(database) as db:
        ctx = scenarios.Context(f"http://127.0.0.1:{port}", env, db, internal, iter(()), server.pid, staff_token=staff)
        scenarios.warm_up(ctx, clients=max(CLIENT_COUNTS))
        for _ in range(sizes.rounds):
            rounds.append(
                scenarios.back_office_pages(
                    ctx, rows=sizes.back_office_rows, log_product=log_product, clients=4, duration_s=sizes.duration_s
                )
            )
    return rounds


def selling(sizes: Sizes, *, profile: bool, chosen: tuple = SCENARIOS) -> dict:
    """The chosen scenarios (default all but the back office) and the baselines, round after round on
    one server; then the whole ledger is checked."""
    results: dict = {}
    scripts, results["statements"] = prepare_pgbench()
    results["pgbench_scripts"] = scripts
    env = data.django_env(RUN_DB, REDIS_URL)
    internal, staff = prepare_run_database(env)
    port = free_port()
    product_ids = itertools.count(FIRST_FLASH_PRODUCT)
    results["rounds"] = []
    with running_server(env, port, "run") as server, data.connect(RUN_DB) as db:
        ctx = scenarios.Context(
            f"http://127.0.0.1:{port}", env, db, internal, product_ids, server.pid, staff_token=staff
        )
        for number in range(1, sizes.rounds + 1):
            results["rounds"].append(one_round(ctx, sizes, scripts, number, chosen))
        if profile:
            results["profile"] = profile_reserves(ctx, server.pid, duration_s=sizes.duration_s, mix=EVERYDAY_PRODUCTS)
            _say("profile done")
    results["ledger_ok"], ledger_says = data.verify_ledger(env)
    results["ledger_says"] = ledger_says[:1000]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="full sizes and 3 rounds (else the short version)")
    parser.add_argument("--rounds", type=int, help="override the number of rounds")
    parser.add_argument("--profile", action="store_true", help="py-spy the workers during one more flash sale")
    parser.add_argument(
        "--scenarios",
        type=_scenario_list,
        default=SCENARIOS,
        help=f"comma-separated, of {','.join(SCENARIOS)} (default all); the baselines always run",
    )
    parts = parser.add_mutually_exclusive_group()
    parts.add_argument("--skip-back-office", action="store_true", help="no back-office pages (scenario 5)")
    parts.add_argument("--back-office-only", action="store_true", help="scenario 5 only")
    args = parser.parse_args()
    sizes = FULL if args.full else SHORT
    if args.rounds:
        sizes = Sizes(**{**asdict(sizes), "rounds": args.rounds})
    started = time.time()
    results: dict = {"mode": "full" if args.full else "short", "sizes": asdict(sizes), "machine": machine()}
    if not args.back_office_only:
        results.update(selling(sizes, profile=args.profile, chosen=args.scenarios))
    if not args.skip_back_office:
        results["back_office"] = back_office(sizes)
    results["elapsed_s"] = time.time() - started
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    out = LOG_DIR / f"results-{results['mode']}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=1, default=str))
    rendered = report.render(results)
    out.with_suffix(".md").write_text(rendered + "\n")
    print(rendered)
    print(f"\nFigures of every round: {out}")
    if not report.safe(results):
        sys.exit(1)


def _scenario_list(text: str) -> tuple[str, ...]:
    chosen = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = sorted(set(chosen) - set(SCENARIOS))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose among {', '.join(SCENARIOS)} (not {', '.join(unknown) or 'none'})")
    return chosen


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
