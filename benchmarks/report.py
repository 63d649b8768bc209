"""The tables of benchmarks/RESULTS.md from one run's figures: medians over the rounds, ratios, targets."""

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from statistics import median

PG_SETTINGS = (
    "max_connections",
    "shared_buffers",
    "effective_cache_size",
    "work_mem",
    "synchronous_commit",
    "fsync",
    "wal_level",
    "max_wal_size",
    "checkpoint_timeout",
    "random_page_cost",
    "max_parallel_workers_per_gather",
    "jit",
)
# The label of a sold-out answer (benchmarks.loadgen.status_label).
SOLD_OUT_LABEL = "409 insufficient_stock"


def med(rounds: list[dict], value: Callable[[dict], float]) -> float:
    return median(value(r) for r in rounds)


def verdict(met: bool) -> str:
    return "**met**" if met else "**missed**"


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _n(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def render(results: dict) -> str:
    sections = []
    rounds = results.get("rounds")
    if rounds:
        sections += [
            f"Mode: {results['mode']}, {len(rounds)} round(s); each figure is the median over the rounds. "
            "Load average (1 min) before/after each round: "
            + ", ".join(f"{r['load_before']:.1f}/{r['load_after']:.1f}" for r in rounds)
            + "; CPU busy just before each round: "
            + ", ".join(f"{r['busy_before']:.0%}" if "busy_before" in r else "?" for r in rounds)
            + ".",
            # A run of some of the scenarios (`--scenarios`) has only their tables.
            *(render_table(rounds, results["sizes"]) for name, render_table in TABLES if name in rounds[0]),
            f"verify_ledger over the whole run database at the end: {'passed' if results['ledger_ok'] else 'FAILED'}.",
            statements_table(results["statements"]),
        ]
    if results.get("back_office"):
        sections += [back_office_table(results["back_office"]), explain_section(results["back_office"][0])]
    if results.get("profile"):
        sections.append(profile_table(results["profile"]))
    return "\n\n".join(sections)


def _label(sale: dict, name: str, field: str) -> float:
    return sale["labels"].get(name, {}).get(field, 0.0)


def issue15_table(rounds: list[dict], sizes: dict) -> str:
    """Issue 15's targets, each against its baseline of the same run: one row per figure that was measured."""
    rows = []
    bare = med(rounds, lambda r: r["bare"][64]["requests_per_s"])
    bare_p99 = med(rounds, lambda r: r["bare"][64]["labels"]["201"]["p99_ms"])
    if "pgbench_hot" in rounds[0]:
        rows += _pgbench_hot_rows(rounds)
    if "flash_hot" in rounds[0]:
        rows += _flash_hot_rows(rounds, bare, bare_p99)
    if "sold_out" in rounds[0]:
        rows += _sold_out_rows(rounds, bare)
    if "everyday" in rounds[0]:
        mix = med(rounds, lambda r: r["everyday"][64]["requests_per_s"])
        ratio = mix / bare
        rows.append(["everyday mix, 64 clients: requests/s", _n(mix), f"bare {_n(bare)}/s", f"{ratio:.2f}",
                     ">= 0.7", verdict(ratio >= 0.7)])  # fmt: skip
    if "expiry" in rounds[0]:
        cleanup = med(rounds, lambda r: r["expiry"]["cleanup_s"])
        during = med(rounds, lambda r: r["expiry"]["reserves"]["labels"]["reserved"]["p99_ms"])
        before = med(rounds, _p99_without_expiry)
        holds = rounds[0]["expiry"]["holds"]
        rows += [
            [f"expiry of {holds:,} holds while selling: s", f"{cleanup:.1f}", "", "", "< 30 s", verdict(cleanup < 30)],
            ["reserve p99 during the expiry, ms", f"{during:.1f}", f"without expiry {before:.1f}",
             f"{during / before:.2f}", "<= 2", verdict(during <= 2 * before)],
        ]  # fmt: skip
    title = (
        f"### Issue 15: hot products ({len(rounds)} round(s), {sizes['duration_s']} s windows, "
        f"flash sales of {sizes['flash_stock']:,} units)"
    )
    return title + "\n\n" + table(["", "measured", "baseline, same run", "ratio", "target", ""], rows)


def issue16_table(rounds: list[dict]) -> str:
    """A campaign's flash sale (half the stock a quota, every other buyer of its tier) against the
    same sale without a quota, in the same round."""
    plain = med(rounds, lambda r: _label(r["flash"], "reserved", "per_s"))
    campaign = med(rounds, lambda r: _label(r["flash_campaign"], "reserved", "per_s"))
    p99 = med(rounds, lambda r: _label(r["flash_campaign"], "reserved", "p99_ms"))
    plain_p99 = med(rounds, lambda r: _label(r["flash"], "reserved", "p99_ms"))
    sales = [r["flash_campaign"] for r in rounds]
    oversold = max(sale["oversold"] for sale in sales)
    overdrawn = max(sale["quota_drawn"] - sale["quota_units"] for sale in sales)
    ledger = all(sale["ledger_ok"] for sale in sales)
    rows = [
        ["HTTP flash sale with a quota of half the stock, 64 clients (half of them its tier): reserved units/s",
         _n(campaign), f"no quota {_n(plain)}/s", f"{campaign / plain:.2f}", "", ""],
        ["... reserve p99 ms", f"{p99:.1f}", f"no quota {plain_p99:.1f}", f"{p99 / plain_p99:.2f}", "", ""],
        ["... quota units drawn / set aside left (last round)",
         f"{sales[-1]['quota_drawn']} / {sales[-1]['quota_left']}", f"quota {sales[-1]['quota_units']}", "", "", ""],
        ["... oversold units / drawn beyond the quota (worst round); verify_ledger",
         f"{oversold} / {max(overdrawn, 0)}; {'passed' if ledger else 'FAILED'}", "", "", "0; passes",
         verdict(oversold == 0 and overdrawn <= 0 and ledger)],
    ]  # fmt: skip
    return f"### Issue 16: a campaign's quota ({len(rounds)} round(s))\n\n" + table(
        ["", "measured", "baseline, same run", "ratio", "target", ""], rows
    )


def _pgbench_hot_rows(rounds: list[dict]) -> list[list]:
    def fig(name, field):
        return med(rounds, lambda r: r["pgbench_hot"][name][field])

    one_row, hot = fig("one_row", "reserves_per_s"), fig("hot", "reserves_per_s")
    rows = [
        ["pgbench, 64 clients, one product of 16 buckets: reserves/s (each transaction a reserve)", _n(hot),
         f"one row {_n(one_row)}/s", f"{hot / one_row:.2f}", ">= 5", verdict(hot >= 5 * one_row)],
        ["pgbench reserve p50 / p99 ms: 16 buckets / one row",
         f"{fig('hot', 'p50_ms'):.1f} / {fig('hot', 'p99_ms'):.1f}",
         f"{fig('one_row', 'p50_ms'):.1f} / {fig('one_row', 'p99_ms'):.1f}", "", "", ""],
        ["machine CPU busy during pgbench (all processes), and its CPU ms per reserve: 16 buckets / one row",
         f"{fig('hot', 'machine_cpu_busy'):.0%}, {_machine_cpu_ms(rounds, 'hot'):.2f} ms",
         f"{fig('one_row', 'machine_cpu_busy'):.0%}, {_machine_cpu_ms(rounds, 'one_row'):.2f} ms", "", "", ""],
    ]  # fmt: skip
    if all("hot_statement" in r["pgbench_hot"] for r in rounds):
        statement, share = fig("hot_statement", "reserves_per_s"), fig("hot_statement", "reserving_share")
        rows.append(["... the statement alone, no planned path: reserves/s (attempts that took a bucket)",
                     f"{_n(statement)} ({share:.0%})", f"one row {_n(one_row)}/s", f"{statement / one_row:.2f}",
                     "", ""])  # fmt: skip
    return rows


def _machine_cpu_ms(rounds: list[dict], name: str) -> float:
    """The machine's busy CPU time over a pgbench run per reserve it made (this machine's CPUs)."""

    def per_reserve(r: dict) -> float:
        run = r["pgbench_hot"][name]
        return 1000 * run["machine_cpu_busy"] * (os.cpu_count() or 1) / run["reserves_per_s"]

    return med(rounds, per_reserve)


def _flash_hot_rows(rounds: list[dict], bare: float, bare_p99: float) -> list[list]:
    hot = med(rounds, lambda r: _label(r["flash_hot"], "reserved", "per_s"))
    hot_p99 = med(rounds, lambda r: _label(r["flash_hot"], "reserved", "p99_ms"))
    hot_p50 = med(rounds, lambda r: _label(r["flash_hot"], "reserved", "p50_ms"))
    one = med(rounds, lambda r: _label(r["flash"], "reserved", "per_s")) if "flash" in rounds[0] else 0.0
    sales = [r["flash_hot"] for r in rounds]
    oversold = max(sale["oversold"] for sale in sales)
    lost = max(abs(int(sale.get("units_not_adding_up", 0))) for sale in sales)
    ledger = all(sale["ledger_ok"] for sale in sales)
    errors = sum(sale["server_errors"] for sale in sales)
    return [
        ["HTTP flash sale, 64 clients, 16 buckets: reserved units/s", _n(hot), f"bare {_n(bare)}/s",
         f"{hot / bare:.2f}", ">= 0.9", verdict(hot >= 0.9 * bare)],
        ["... the same sale on one row (1 bucket): reserved units/s", _n(one), f"bare {_n(bare)}/s",
         f"{one / bare:.2f}", "", ""],
        ["HTTP flash sale, 16 buckets: reserve p50 / p99 ms", f"{hot_p50:.1f} / {hot_p99:.1f}",
         f"bare p99 {bare_p99:.1f}", f"{hot_p99 / bare_p99:.2f}", "p99 < 3 x bare", verdict(hot_p99 < 3 * bare_p99)],
        ["16 buckets: oversold units / units not adding up / 5xx (worst round)", f"{oversold} / {lost} / {errors}",
         "", "", "0", verdict(oversold == 0 and lost == 0 and errors == 0)],
        ["16 buckets: verify_ledger on the product", "passed" if ledger else "FAILED", "", "", "passes",
         verdict(ledger)],
    ]  # fmt: skip


def _sold_out_rows(rounds: list[dict], bare: float) -> list[list]:
    def rate(kind):
        return med(rounds, lambda r: _label(r["sold_out"][kind], SOLD_OUT_LABEL, "per_s"))

    def p99(kind):
        return med(rounds, lambda r: _label(r["sold_out"][kind], SOLD_OUT_LABEL, "p99_ms"))

    gate, no_gate = rate("gate"), rate("no_gate")
    rows = [
        ["sold-out answers/s, 64 clients, the gate on (Redis)", _n(gate), f"bare {_n(bare)}/s", f"{gate / bare:.2f}",
         ">= 0.9", verdict(gate >= 0.9 * bare)],
        ["... the gate off (INVENTORY_SOLD_OUT_GATE=false)", _n(no_gate), f"bare {_n(bare)}/s",
         f"{no_gate / bare:.2f}", "", ""],
        ["sold-out p99 ms: gate on / off", f"{p99('gate'):.1f} / {p99('no_gate'):.1f}", "", "", "", ""],
    ]  # fmt: skip
    if "flash_hot" in rounds[0]:
        after = med(rounds, lambda r: _label(r["flash_hot"], SOLD_OUT_LABEL, "per_s"))
        rows.append(["... after the 16-bucket flash sale sold out (gate on)", _n(after), f"bare {_n(bare)}/s",
                     f"{after / bare:.2f}", "", ""])  # fmt: skip
    return rows


def flash_table(rounds: list[dict], sizes: dict) -> str:
    def label(r, name, field):
        return r["flash"]["labels"].get(name, {}).get(field, 0.0)

    reserved = med(rounds, lambda r: label(r, "reserved", "per_s"))
    sold_out = med(rounds, lambda r: label(r, SOLD_OUT_LABEL, "per_s"))
    pg = med(rounds, lambda r: r["pgbench"][64]["per_s"])
    bare = med(rounds, lambda r: r["bare"][64]["requests_per_s"])
    p50 = med(rounds, lambda r: label(r, "reserved", "p50_ms"))
    p99 = med(rounds, lambda r: label(r, "reserved", "p99_ms"))
    so_p50 = med(rounds, lambda r: label(r, SOLD_OUT_LABEL, "p50_ms"))
    so_p99 = med(rounds, lambda r: label(r, SOLD_OUT_LABEL, "p99_ms"))
    errors = sum(r["flash"]["server_errors"] for r in rounds)
    oversold = max(r["flash"]["oversold"] for r in rounds)
    conflicts = sum(r["flash"]["version_conflicts"] for r in rounds)
    ledger = all(r["flash"]["ledger_ok"] for r in rounds)
    ceiling = min(pg, bare)
    others = sorted({label for r in rounds for label in r["flash"]["labels"]} - {"reserved", SOLD_OUT_LABEL})
    rows = [
        [
            "reserved units/s",
            _n(reserved),
            _n(pg),
            _n(bare),
            f"{reserved / ceiling:.2f} of the lower",
            ">= 0.7 x min",
            verdict(reserved >= 0.7 * ceiling),
        ],
        [
            "reserve p50 / p99 ms",
            f"{p50:.1f} / {p99:.1f}",
            f"{med(rounds, lambda r: r['pgbench'][64]['p50_ms']):.1f} / "
            f"{med(rounds, lambda r: r['pgbench'][64]['p99_ms']):.1f}",
            f"{med(rounds, lambda r: r['bare'][64]['labels']['201']['p50_ms']):.1f} / "
            f"{med(rounds, lambda r: r['bare'][64]['labels']['201']['p99_ms']):.1f}",
            f"p99 = {p99 / p50:.1f} x p50",
            "p99 < 10 x p50",
            verdict(p99 < 10 * p50),
        ],
        [
            "sold-out answers/s",
            _n(sold_out),
            "",
            _n(bare),
            f"{sold_out / bare:.2f} of bare",
            ">= 0.9 x bare",
            verdict(sold_out >= 0.9 * bare),
        ],
        ["sold-out p50 / p99 ms", f"{so_p50:.1f} / {so_p99:.1f}", "", "", "", "", ""],
        ["5xx answers (all rounds)", errors, "", "", "", "0", verdict(errors == 0)],
        ["oversold units (worst round)", oversold, "", "", "", "0", verdict(oversold == 0)],
        ["failures from version conflicts", conflicts, "", "", "", "0", verdict(conflicts == 0)],
        ["verify_ledger on the product", "passed" if ledger else "FAILED", "", "", "", "passes", verdict(ledger)],
    ]
    if others:
        rows.append(["other answers", ", ".join(others), "", "", "", "", ""])
    if all(r["flash"]["cpu_by_phase"] for r in rounds):
        rows += [_cpu_row(rounds, name, title) for name, title in (("app", "gunicorn"), ("postgres", "PostgreSQL"))]
    title = (
        f"### 1. Flash sale: 64 clients, one product of {sizes['flash_stock']:,} units, "
        f"then {sizes['sold_out_attempts']:,} attempts after it sold out"
    )
    header = ["", "app (gunicorn)", "pgbench, same SQL, 64 clients", "bare DRF, 64 clients", "ratio", "target", ""]
    return title + "\n\n" + table(header, rows)


def _cpu_row(rounds: list[dict], name: str, title: str) -> list:
    key = f"{name}_cpu_ms"
    selling = med(rounds, lambda r: r["flash"]["cpu_by_phase"]["selling"][key])
    sold = med(rounds, lambda r: r["flash"]["cpu_by_phase"]["sold_out"][key])
    bare = med(rounds, lambda r: r["bare"][64][key])
    ratios = f"{selling / bare:.1f} x / {sold / bare:.1f} x bare"
    return [
        f"{title} CPU ms per reserve / per sold-out answer",
        f"{selling:.2f} / {sold:.2f}",
        "",
        f"{bare:.2f}",
        ratios,
        "",
        "",
    ]


def everyday_table(rounds: list[dict]) -> str:
    rows = []
    for clients in sorted(rounds[0]["everyday"]):
        rate = med(rounds, lambda r, c=clients: r["everyday"][c]["requests_per_s"])
        bare = med(rounds, lambda r, c=clients: r["bare"][c]["requests_per_s"])
        pg = med(rounds, lambda r, c=clients: r["pgbench"][c]["per_s"])
        p50 = med(rounds, lambda r, c=clients: r["everyday"][c]["labels"]["reserve 201"]["p50_ms"])
        p99 = med(rounds, lambda r, c=clients: r["everyday"][c]["labels"]["reserve 201"]["p99_ms"])
        errors = sum(r["everyday"][clients]["server_errors"] for r in rounds)
        cpu = med(rounds, lambda r, c=clients: r["everyday"][c]["app_cpu_ms"])
        bare_cpu = med(rounds, lambda r, c=clients: r["bare"][c]["app_cpu_ms"])
        target = verdict(rate >= 0.7 * bare) if clients == 64 else ""
        rows.append(
            [
                clients,
                _n(rate),
                f"{p50:.1f} / {p99:.1f}",
                errors,
                _n(bare),
                f"{rate / bare:.2f}",
                f"{cpu:.2f} / {bare_cpu:.2f}",
                _n(pg),
                ">= 0.7 x bare at 64" if clients == 64 else "",
                target,
            ]
        )
    header = [
        "clients",
        "requests/s",
        "reserve p50 / p99 ms",
        "5xx",
        "bare DRF req/s",
        "ratio",
        "gunicorn CPU ms per request / per bare request",
        "pgbench reserve tx/s",
        "target",
        "",
    ]
    return (
        "### 2. Everyday order mix: 10,000 products; reserve, then deduct 70% / release 20% / expire 10%\n\n"
        + table(header, rows)
    )


def batch_table(rounds: list[dict]) -> str:
    def fig(kind, field):
        return med(rounds, lambda r: r["batch"][kind]["labels"]["200"][field])

    ratio = fig("batch", "p99_ms") / fig("single", "p99_ms")
    queries = max(r["batch"]["batch_queries"] for r in rounds)
    rows = [
        [
            "check of 200 (POST /check/batch)",
            _n(med(rounds, lambda r: r["batch"]["batch"]["requests_per_s"])),
            f"{fig('batch', 'p50_ms'):.1f} / {fig('batch', 'p99_ms'):.1f}",
            queries,
        ],
        [
            "single check (GET /check/{id})",
            _n(med(rounds, lambda r: r["batch"]["single"]["requests_per_s"])),
            f"{fig('single', 'p50_ms'):.1f} / {fig('single', 'p99_ms'):.1f}",
            "",
        ],
    ]
    clients = rounds[0]["batch"]["clients"]
    return (
        f"### 3. Batch check of 200 items, {clients} clients\n\n"
        + table(["", "requests/s", "p50 / p99 ms", "SQL queries"], rows)
        + f"\n\nBatch p99 = {ratio:.2f} x single-check p99 (target < 4: {verdict(ratio < 4)}); "
        f"queries per batch: {queries} (target 1: {verdict(queries == 1)})."
    )


def expiry_table(rounds: list[dict]) -> str:
    cleanup = med(rounds, lambda r: r["expiry"]["cleanup_s"])
    during = med(rounds, lambda r: r["expiry"]["reserves"]["labels"]["reserved"]["p99_ms"])
    rate = med(rounds, lambda r: r["expiry"]["reserves"]["labels"]["reserved"]["per_s"])
    left = max(r["expiry"]["holds_left_active"] for r in rounds)
    before = med(rounds, _p99_without_expiry)
    compared = [f"{before:.1f}", f"{during / before:.2f}", verdict(during <= 2 * before)]
    rows = [[f"{rounds[0]['expiry']['holds']:,}", f"{cleanup:.1f}", verdict(cleanup < 30), _n(rate), f"{during:.1f}"]]
    rows[0] += [*compared, left]
    header = [
        "overdue holds",
        "cleanup_reservations s",
        "< 30 s",
        "reserves/s during",
        "reserve p99 during ms",
        "reserve p99 without expiry ms",
        "ratio",
        "<= 2 x",
        "holds left active",
    ]
    return "### 4. Expiry while selling (64 clients reserving one product)\n\n" + table(header, rows)


def _p99_without_expiry(r: dict) -> float:
    """The same sale just before the expiry (runs since issue 15), else the round's flash sale (older runs)."""
    if "reserves_without_expiry" in r["expiry"]:
        return r["expiry"]["reserves_without_expiry"]["labels"]["reserved"]["p99_ms"]
    return r["flash"]["labels"]["reserved"]["p99_ms"]


def routed_table(rounds: list[dict]) -> str:
    def label(r, name, field):
        return r["routed"]["labels"].get(name, {}).get(field, 0.0)

    first = rounds[0]["routed"]
    rate = med(rounds, lambda r: r["routed"]["requests_per_s"])
    bare = med(rounds, lambda r: r["bare"][64]["requests_per_s"])
    reserved = med(rounds, lambda r: label(r, "reserved", "per_s"))
    split = med(rounds, lambda r: r["routed"]["answered"]["split"] / max(1, label(r, "reserved", "count")))
    errors = sum(r["routed"]["server_errors"] for r in rounds)
    oversold = max(r["routed"]["oversold"] for r in rounds)
    off = max(r["routed"]["levels_not_adding_up"] for r in rounds)
    agree = all(r["routed"]["answered"]["units"] == r["routed"]["units_held_in_db"] for r in rounds)
    cpu = med(rounds, lambda r: r["routed"]["app_cpu_ms"])
    bare_cpu = med(rounds, lambda r: r["bare"][64]["app_cpu_ms"])
    held = first["units_by_warehouse"]
    others = sorted({name for r in rounds for name in r["routed"]["labels"]} - {"reserved", SOLD_OUT_LABEL})
    rows = [
        ["requests/s", _n(rate), f"{rate / bare:.2f} x bare DRF ({_n(bare)}/s)"],
        [
            "reserved: answers/s, p50 / p99 ms",
            f"{_n(reserved)}, {med(rounds, lambda r: label(r, 'reserved', 'p50_ms')):.1f} / "
            f"{med(rounds, lambda r: label(r, 'reserved', 'p99_ms')):.1f}",
            f"{split:.1%} of them split over warehouses",
        ],
        [
            "sold out (409): answers/s, p50 / p99 ms",
            f"{_n(med(rounds, lambda r: label(r, SOLD_OUT_LABEL, 'per_s')))}, "
            f"{med(rounds, lambda r: label(r, SOLD_OUT_LABEL, 'p50_ms')):.1f} / "
            f"{med(rounds, lambda r: label(r, SOLD_OUT_LABEL, 'p99_ms')):.1f}",
            "",
        ],
        [
            "units held per warehouse (round 1)",
            ", ".join(f"{code} {units:,}" for code, units in sorted(held.items())),
            "",
        ],
        ["gunicorn CPU ms per request / per bare request", f"{cpu:.2f} / {bare_cpu:.2f}", ""],
        ["5xx answers (all rounds)", errors, verdict(errors == 0)],
        ["oversold units, from the database (worst round)", oversold, verdict(oversold == 0)],
        ["levels whose units do not add up (worst round)", off, verdict(off == 0)],
        ["units in 201 answers = units held in the database", "yes" if agree else "NO", verdict(agree)],
    ]
    if others:
        rows.append(["other answers", ", ".join(others), ""])
    title = (
        f"### 6. Routed reserves: {first['products']:,} products in {first['warehouses']} warehouses, "
        f"a `nearest` pool, {first['clients']} clients, ship_to over random regions"
    )
    return title + "\n\n" + table(["", "figure", ""], rows)


# The scenarios' tables, in the order of RESULTS.md; each takes the rounds and the sizes.
TABLES = (
    ("pgbench_hot", issue15_table),
    ("flash_campaign", lambda rounds, _sizes: issue16_table(rounds)),
    ("flash", flash_table),
    ("everyday", lambda rounds, _sizes: everyday_table(rounds)),
    ("batch", lambda rounds, _sizes: batch_table(rounds)),
    ("expiry", lambda rounds, _sizes: expiry_table(rounds)),
    ("routed", lambda rounds, _sizes: routed_table(rounds)),
)


def back_office_table(rounds: list[dict]) -> str:
    rows = []
    for page in rounds[0]["pages"]:
        p50 = med(rounds, lambda r, p=page: r["pages"][p]["labels"]["200"]["p50_ms"])
        p99 = med(rounds, lambda r, p=page: r["pages"][p]["labels"]["200"]["p99_ms"])
        rate = med(rounds, lambda r, p=page: r["pages"][p]["requests_per_s"])
        rows.append([page, _n(rate), f"{p50:.1f}", f"{p99:.1f}", verdict(p99 < 100)])
    title = (
        f"### 5. Back office: {rounds[0]['rows']:,} inventory rows, {rounds[0]['clients']} staff clients "
        "(list: a page among the first 200; low-stock: among the first 20; log: a page of one product's log)"
    )
    return title + "\n\n" + table(["page", "requests/s", "p50 ms", "p99 ms", "p99 < 100 ms"], rows)


def explain_section(first_round: dict) -> str:
    parts = ["### EXPLAIN ANALYZE of the back-office pages' queries (as Django sent them)"]
    for page, figures in first_round["pages"].items():
        for plan in figures["explain"]:
            parts.append(f"{page}:\n\n```\n{plan}\n```")
    return "\n\n".join(parts)


def statements_table(statements: dict[str, list[str]]) -> str:
    """What one reserve sends to PostgreSQL, captured from Django: how many statements, and which."""
    rows = [[path, len(sent), ", ".join(_statement_kind(sql) for sql in sent)] for path, sent in statements.items()]
    return "### SQL sent per reserve (captured from Django)\n\n" + table(["reserve", "statements", "in order"], rows)


def _statement_kind(sql: str) -> str:
    """What a statement does to what: "SELECT inventory_reservation", "UPDATE inventory_inventory", "BEGIN"."""
    words = sql.split()
    upper = [word.upper() for word in words]
    verb = upper[0]
    if verb == "WITH":
        # A CTE is named by the first table it changes (the reserve's UPDATE of the levels).
        changes = [i for i, word in enumerate(upper) if word in ("UPDATE", "INTO") and upper[i - 1] != "FOR"]
        target = f"... {upper[changes[0]]} {words[changes[0] + 1]}" if changes else ""
    elif verb == "UPDATE":
        target = words[1]
    else:
        keyword = "INTO" if verb == "INSERT" else "FROM"
        target = words[upper.index(keyword) + 1] if keyword in upper else ""
    locking = " FOR UPDATE" if "FOR UPDATE" in sql.upper() else ""
    return f"{verb} {target.strip(chr(34))}{locking}".strip()


PHASES = {
    "selling": "reserving a product in stock",
    "sold_out": "reserving a sold-out product",
    "everyday": "running the everyday mix",
}


def profile_table(profiles: dict) -> str:
    parts = []
    for phase, profile in profiles.items():
        if "self" not in profile:
            parts.append(f"Profile ({phase}): not taken ({profile.get('error', '')})")
            continue
        own = [[f"{share:.1f}%", f"`{frame}`"] for frame, share in profile["self"][:12]]
        within = [[f"{share:.1f}%", f"`{frame}`"] for frame, share in profile["inclusive"][:45]]
        parts.append(
            f"### Profile of the workers, 64 clients {PHASES.get(phase, phase)} "
            f"(py-spy --gil, {profile['samples']:,} samples, {profile['requests_per_s']:.0f} requests/s)\n\n"
            + table(["self", "function"], own)
            + "\n\n"
            + table(["on the stack", "function"], within)
        )
    return "\n\n".join(parts)


def safe(results: dict) -> bool:
    """Nothing oversold and every ledger matches: the run is wrong otherwise, whatever its speed."""
    rounds = results.get("rounds", [])
    flash_sales = [r[sale] for r in rounds for sale in ("flash", "flash_hot", "flash_campaign") if sale in r]
    routed = [r["routed"] for r in rounds if "routed" in r]
    ledger_ok = results.get("ledger_ok", True)
    return (
        ledger_ok
        and all(sale["oversold"] == 0 and sale["ledger_ok"] for sale in flash_sales)
        and all(int(sale.get("units_not_adding_up", 0)) == 0 for sale in flash_sales)
        and all(run["oversold"] == 0 and run["levels_not_adding_up"] == 0 for run in routed)
    )


def load(path: Path) -> dict:
    """A run's saved figures, with the client counts (JSON object keys) back as numbers."""
    results = json.loads(path.read_text())
    for figures in results.get("rounds", []):
        for by_clients in ("bare", "pgbench", "everyday"):
            if by_clients in figures:
                figures[by_clients] = {int(clients): value for clients, value in figures[by_clients].items()}
    return results


def main() -> None:
    """Print the tables of saved runs again: python -m benchmarks.report var/bench/results-*.json"""
    for path in sys.argv[1:]:
        print(render(load(Path(path))))


if __name__ == "__main__":
    main()
