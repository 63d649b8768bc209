"""The database's own limit: pgbench replaying exactly the SQL of one reserve on one hot row.

The statements come from benchmarks.capture_sql (the whole request, the
token lookup included); only the order id changes between transactions, as it
does between real reserves. The product's stock is large enough never to run out.
"""

import subprocess
import tempfile
import uuid
from pathlib import Path

from hdrh.histogram import HdrHistogram

from benchmarks.capture_sql import captured_sql

CAPTURE_ORDER_PREFIX = "pgbench-capture-"
# A fresh order id per transaction. An expression, not a literal: with -M prepared the
# :variables are sent as parameters, as the application sends its values.
REPLAY_ORDER_ID = "('pgb-' || :client_id || '-' || :n)"
SCRIPT_HEADER = "\\set n random(1, 1000000000000000)\n"


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
    lines = [" ".join(sql.split()).replace(f"'{order_id}'", REPLAY_ORDER_ID) for sql in statements]
    return SCRIPT_HEADER + "".join(f"{line};\n" for line in lines)


# What the reserve of one line could send instead: the guarded update of the level, the hold and its log
# entry in one statement (its own transaction), so the row lock is held for no round trip to Python at all,
# and no pool is looked up (the level is named). Not the application's SQL: the database's limit for the
# single-statement design (RESULTS.md).
ONE_STATEMENT_RESERVE = """
WITH moved AS (
  UPDATE inventory_stocklevel SET version = version + 1, updated_at = STATEMENT_TIMESTAMP(),
    available_stock = available_stock - 1, reserved_stock = reserved_stock + 1,
    low_stock_since = CASE WHEN available_stock - 1 <= low_stock_threshold
      THEN COALESCE(low_stock_since, STATEMENT_TIMESTAMP()) END
  WHERE product_id = {product_id} AND warehouse_id = {warehouse_id} AND available_stock >= 1
  RETURNING product_id, warehouse_id, available_stock, reserved_stock
), held AS (
  INSERT INTO inventory_reservation
    (product_id, warehouse_id, order_id, quantity, status, reacquired, expires_at, created_at, updated_at)
  SELECT product_id, warehouse_id, {order_id}, 1, 'active', false, STATEMENT_TIMESTAMP() + interval '1800 seconds',
    STATEMENT_TIMESTAMP(), STATEMENT_TIMESTAMP() FROM moved
  RETURNING id
)
INSERT INTO inventory_inventorylog
  (product_id, warehouse_id, operation, quantity, available_before, available_after, reserved_before,
   reserved_after, order_id, actor, reason, reference, created_at)
SELECT product_id, warehouse_id, 'reserve', 1, available_stock + 1, available_stock, reserved_stock - 1,
  reserved_stock, {order_id}, 'bench-orders', '', '', STATEMENT_TIMESTAMP() FROM moved
"""


def one_statement_script(statements: list[str], product_id: int, warehouse_id: int) -> str:
    """The captured token lookup, then the reserve as ONE_STATEMENT_RESERVE on the product's level in the warehouse."""
    token_lookup = " ".join(statements[0].split())
    reserve = ONE_STATEMENT_RESERVE.format(
        product_id=int(product_id), warehouse_id=int(warehouse_id), order_id=REPLAY_ORDER_ID
    )
    return f"{SCRIPT_HEADER}{token_lookup};\n{' '.join(reserve.split())};\n"


def run_pgbench(database: str, script: str, *, clients: int, duration_s: int) -> dict:
    """Transactions per second and latency percentiles (from pgbench's per-transaction log)."""
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
        done = subprocess.run(command, capture_output=True, text=True, check=False)
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
    }


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
