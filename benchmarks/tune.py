"""The sweep behind the Procfile's gunicorn workers and threads: flash sale and bare endpoint per setting.

    python -m benchmarks.tune [--settings 4x4,4x1,4x1g] [--stock 2000]

Each setting (workers x threads; with "g", gunicorn's gthread worker even for one
thread, where gunicorn would pick its sync worker) gets its own server on a fresh product of the run
database (made by benchmarks.run); the figures are one run each, so read them beside
the machine's load, printed with them.
"""

import argparse
import itertools
import os

from benchmarks import data, report, scenarios
from benchmarks.run import FIRST_FLASH_PRODUCT, REDIS_URL, RUN_DB, free_port
from benchmarks.server import running_server

DEFAULT_SETTINGS = "2x4,2x8,3x4,4x4,4x8,6x2"


def sweep(settings: list[tuple[str, dict]], *, stock: int, duration_s: int) -> list[list]:
    env = data.django_env(RUN_DB, REDIS_URL)
    internal = data.api_token(env, "bench-orders", "internal")
    rows = []
    with data.connect(RUN_DB) as db:
        newest = db.execute("SELECT MAX(product_id) FROM inventory_inventory").fetchone()[0]
        product_ids = itertools.count(max(newest, FIRST_FLASH_PRODUCT) + 1)
        for name, options in settings:
            port = free_port()
            with running_server(env, port, f"tune-{name}", **options) as server:
                ctx = scenarios.Context(f"http://127.0.0.1:{port}", env, db, internal, product_ids, server.pid)
                scenarios.warm_up(ctx, clients=64)
                bare = scenarios.bare(ctx, clients=64, duration_s=duration_s)
                sale = scenarios.flash_sale(ctx, stock=stock, extra_attempts=stock)
            reserved, sold_out = sale["labels"]["reserved"], sale["labels"]["409 insufficient_stock"]
            rows.append(
                [
                    name,
                    f"{bare['requests_per_s']:.0f}",
                    f"{reserved['per_s']:.0f}",
                    f"{reserved['p50_ms']:.0f} / {reserved['p99_ms']:.0f}",
                    f"{sold_out['per_s']:.0f}",
                    f"{sold_out['p50_ms']:.0f} / {sold_out['p99_ms']:.0f}",
                    f"{bare['app_cpu_ms']:.2f} / {_phase_cpu(sale, 'selling')} / {_phase_cpu(sale, 'sold_out')}",
                    f"{os.getloadavg()[0]:.1f}",
                ]
            )
    return rows


def gunicorn_options(setting: str) -> dict:
    """ "4x2" is 4 workers of 2 threads; a "g" after it ("4x1g") asks for the gthread worker even with one thread."""
    workers, threads = setting.removesuffix("g").split("x")
    options = {"workers": int(workers), "threads": int(threads)}
    if setting.endswith("g"):
        options["worker_class"] = "gthread"
    return options


def _phase_cpu(sale: dict, phase: str) -> str:
    figures = sale["cpu_by_phase"].get(phase)
    return f"{figures['app_cpu_ms']:.2f}" if figures else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--settings", default=DEFAULT_SETTINGS, help="WORKERSxTHREADS[g], comma separated (g: the gthread worker)"
    )
    parser.add_argument("--stock", type=int, default=2000)
    parser.add_argument("--duration", type=int, default=5)
    args = parser.parse_args()
    settings = [(item, gunicorn_options(item)) for item in args.settings.split(",")]
    rows = sweep(settings, stock=args.stock, duration_s=args.duration)
    header = ["workers x threads", "bare req/s", "reserved/s", "reserve p50 / p99 ms", "sold-out/s",
              "sold-out p50 / p99 ms", "gunicorn CPU ms: bare / reserve / sold-out", "load (1 min)"]  # fmt: skip
    print(report.table(header, rows))


if __name__ == "__main__":
    main()
