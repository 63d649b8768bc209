"""The database's own limit: pgbench replaying exactly the SQL of one reserve, on one row or on a hot product.

The statements come from benchmarks.capture_sql (the whole request, the
token lookup included); only the order id changes between transactions, as it
does between real reserves. The product's stock is large enough never to run out.

A hot product's replay (`hot_scripts`) is the one-statement reserve, and when that
finds no free bucket, the statements the planned path sent when it was captured
with every bucket locked (`capture_fallback_sql`): the same locks and writes, so every
transaction reserves one unit. Its ledger entries carry the captured before/after
figures, so the pgbench database's ledger is not meant to verify.
"""

import subprocess
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
from hdrh.histogram import HdrHistogram

from benchmarks.capture_sql import captured_sql
from benchmarks.data import database_url
from benchmarks.server import busy_share, machine_cpu

CAPTURE_ORDER_PREFIX = "pgbench-capture-"
# A fresh order id per transaction. An expression, not a literal: with -M prepared the
# :variables are sent as parameters, as the application sends its values.
REPLAY_ORDER_ID = "('pgb-' || :client_id || '-' || :n)"
SCRIPT_HEADER = "\\set n random(1, 1000000000000000)\n"
STOCK_ROWS = "inventory_stocklevel"
# How long capture_fallback_sql keeps a hot product's rows locked: longer than the capture's start-up.
FALLBACK_LOCK_S = 4.0
# pgbench waits this long for enough free connections (besides SPARE_CONNECTIONS for anyone else).
CONNECTION_WAIT_S, SPARE_CONNECTIONS = 300.0, 4


def capture_reserve_sql(env: dict[str, str], product_id: int, token: str) -> tuple[str, list[str]]:
    """The order id of a captured reserve of one unit, and its statements."""
    order_id = CAPTURE_ORDER_PREFIX + uuid.uuid4().hex
    body = {"order_id": order_id, "product_id": product_id, "quantity": 1}
    captured = captured_sql(env, "POST", "/api/v1/inventory/reserve", body, token)
    if captured["status"] != 201:
        raise RuntimeError(f"The reserve to capture answered {captured['status']}")
    return order_id, captured["statements"]


def pgbench_script(order_id: str, statements: list[str]) -> str:
    """The captured statements (BEGIN and COMMIT among them), one per line as pgbench reads them."""
    return SCRIPT_HEADER + "".join(f"{replay_line(sql, order_id)};\n" for sql in statements)


def replay_line(sql: str, order_id: str) -> str:
    """A captured statement on one line, with the captured order id replaced by a fresh one per transaction."""
    return " ".join(sql.split()).replace(f"'{order_id}'", REPLAY_ORDER_ID)


def reserve_statement(statements: list[str]) -> str:
    """The one-statement reserve among a reserve's captured statements (the token lookup comes before it)."""
    return next(sql for sql in statements if sql.lstrip().upper().startswith("WITH"))


def capture_fallback_sql(env: dict[str, str], db: psycopg.Connection, product_id: int, token: str) -> tuple:
    """The order id and statements of a reserve of a hot product that finds every bucket locked.

    `db` locks every row of the product for FALLBACK_LOCK_S while the reserve is captured: what it
    sent is what a reserve sends when no bucket is free. That is the one statement, if it waits for
    a bucket when none is free; else that statement and then the planned path (the ORM store's take,
    which waits for every row).
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        with db.transaction():
            db.execute(f"SELECT id FROM {STOCK_ROWS} WHERE product_id = %s FOR UPDATE", [product_id])
            capture = pool.submit(capture_reserve_sql, env, product_id, token)
            time.sleep(FALLBACK_LOCK_S)
            waited = not capture.done()
        order_id, statements = capture.result()
    if not waited:
        raise RuntimeError("The reserve to capture did not wait for the locked buckets.")
    return order_id, statements


def hot_scripts(one_row: tuple[str, list[str]], hot: tuple[str, list[str]], fallback: tuple[str, list[str]]) -> dict:
    """pgbench scripts of the one-statement reserve (no token lookup), each transaction a reserve of one unit.

    - `one_row`: the statement on a product of one row;
    - `hot`: the same statement on a hot product; when the captured reserve with no free bucket
      (`fallback`, from capture_fallback_sql) went on to the planned path, an attempt that took
      nothing (`needs_plan`) goes on with those statements, so that every transaction reserves
      one unit, as every HTTP reserve does;
    - `hot_statement` (only then): the statement alone, an attempt that takes nothing counted by
      pgbench as a transaction (the reserves are counted in the database, `run_reserving`).
    """
    one_row_sql = replay_line(reserve_statement(one_row[1]), one_row[0])
    hot_sql = replay_line(reserve_statement(hot[1]), hot[0])
    scripts = {"one_row": f"{SCRIPT_HEADER}{one_row_sql};\n", "hot": f"{SCRIPT_HEADER}{hot_sql};\n"}
    fallback_order, fallback_statements = fallback
    planned = fallback_statements[fallback_statements.index(reserve_statement(fallback_statements)) + 1 :]
    if planned:
        planned_lines = "".join(f"{replay_line(sql, fallback_order)};\n" for sql in planned)
        scripts["hot_statement"] = scripts["hot"]
        scripts["hot"] = f"{SCRIPT_HEADER}{hot_sql} \\gset first_\n\\if :first_needs_plan\n{planned_lines}\\endif\n"
    return scripts


def reservations(db: psycopg.Connection, product_id: int) -> int:
    return db.execute("SELECT COUNT(*) FROM inventory_reservation WHERE product_id = %s", [product_id]).fetchone()[0]


def run_reserving(database: str, script: str, product_id: int, *, clients: int, duration_s: int) -> dict:
    """run_pgbench, and the reserves of `product_id` it made (from the database): their rate and share."""
    with psycopg.connect(database_url(database), autocommit=True) as db:
        before = reservations(db, product_id)
        figures = run_pgbench(database, script, clients=clients, duration_s=duration_s)
        made = reservations(db, product_id) - before
    share = made / figures["transactions"] if figures["transactions"] else 0.0
    return {**figures, "reserves": made, "reserves_per_s": figures["per_s"] * share, "reserving_share": share}


def run_pgbench(database: str, script: str, *, clients: int, duration_s: int) -> dict:
    """Transactions per second and latency percentiles (from pgbench's per-transaction log)."""
    wait_for_connections(clients)
    with tempfile.TemporaryDirectory(prefix="bench-pgbench-") as workdir:
        script_path = Path(workdir) / "reserve.sql"
        script_path.write_text(script)
        command = [
            "pgbench",
            # Prepared, as the application's own statements are (config/db.py).
            *("-h", "127.0.0.1", "-U", "postgres", "-n", "-M", "prepared"),
            *("-f", str(script_path)),
            *("-c", str(clients), "-j", str(min(clients, 2)), "-T", str(duration_s)),
            *("-l", "--log-prefix", str(Path(workdir) / "tx"), database),
        ]
        cpu_before = machine_cpu()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        busy = busy_share(cpu_before, machine_cpu())
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed:\n{done.stdout}\n{done.stderr}")
        histogram, failed = _latencies(Path(workdir).glob("tx*"))
    tps = _tps(done.stdout)
    return {
        "clients": clients,
        "per_s": tps,
        "p50_ms": histogram.get_value_at_percentile(50) / 1000,
        "p99_ms": histogram.get_value_at_percentile(99) / 1000,
        "transactions": histogram.get_total_count(),
        "failed": failed,
        # pgbench, PostgreSQL and anything else on the machine: near 100 %, the run was CPU-bound.
        "machine_cpu_busy": busy,
    }


def wait_for_connections(clients: int, *, timeout_s: float = CONNECTION_WAIT_S) -> None:
    """Wait until PostgreSQL has room for `clients` more connections: the server is shared (test suites
    open connections of their own), and pgbench fails outright when one of its clients cannot connect."""
    deadline = time.monotonic() + timeout_s
    while True:
        with psycopg.connect(database_url("postgres"), autocommit=True) as db:
            free = db.execute(
                "SELECT current_setting('max_connections')::int"
                " - current_setting('superuser_reserved_connections')::int"
                " - (SELECT COUNT(*) FROM pg_stat_activity WHERE backend_type = 'client backend')"
            ).fetchone()[0]
        if free >= clients + SPARE_CONNECTIONS:
            return
        if time.monotonic() >= deadline:
            raise RuntimeError(f"PostgreSQL has room for {free} more connections, pgbench needs {clients}.")
        time.sleep(2)


def _tps(output: str) -> float:
    for line in output.splitlines():
        if line.startswith("tps =") and "without initial connection time" in line:
            return float(line.split()[2])
    raise RuntimeError(f"No tps in pgbench's output:\n{output}")


def _latencies(log_files) -> tuple[HdrHistogram, int]:
    """pgbench -l lines: client_id transaction_no latency_us script_no epoch epoch_us (latency 'failed' on error)."""
    histogram = HdrHistogram(1, 120_000_000, 3)
    failed = 0
    for log_file in log_files:
        for line in log_file.read_text().splitlines():
            latency = line.split()[2]
            if latency.isdigit():
                histogram.record_value(max(1, int(latency)))
            else:
                failed += 1
    return histogram, failed
