"""py-spy on the gunicorn workers while 64 clients reserve (in stock, then sold out) and while they run the
everyday mix: the top of each profile.

py-spy samples every worker (`--subprocesses`) without stopping them (`--nonblocking`),
and only the thread that holds the GIL (`--gil`): a thread waiting on PostgreSQL
inside psycopg's C code is not counted, so the profile shows where the workers'
Python CPU goes. The raw collapsed stacks are kept in var/bench.
"""

import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from benchmarks import data, scenarios
from benchmarks.server import LOG_DIR

# py-spy's frame: "function (path/to/file.py:line)"; the line is dropped to add up a function's samples.
FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")
TOP = 20
RAW_OUTPUT = ("--format", "raw", "--output")


def profile_reserves(ctx: scenarios.Context, master_pid: int, *, duration_s: float, mix: data.ProductRange) -> dict:
    """One profile of 64 clients reserving a product in stock, one of the same finding it sold out,
    and one of the everyday mix over the products `mix`."""
    loads = {
        "selling": lambda: scenarios.reserve_steadily(
            ctx, stock=scenarios.NEVER_SOLD_OUT, clients=64, duration_s=duration_s
        ),
        "sold_out": lambda: scenarios.reserve_steadily(ctx, stock=0, clients=64, duration_s=duration_s),
        "everyday": lambda: scenarios.everyday(ctx, mix, clients=64, duration_s=duration_s, seed=0),
    }
    return {phase: _profiled(master_pid, phase, load) for phase, load in loads.items()}


def _profiled(master_pid: int, phase: str, load_run: Callable[[], dict]) -> dict:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    raw = LOG_DIR / f"profile-{phase}.txt"
    py_spy = Path(sys.executable).parent / "py-spy"
    spy = subprocess.Popen(
        [
            str(py_spy),
            "record",
            "--pid",
            str(master_pid),
            "--subprocesses",
            "--nonblocking",
            "--gil",
            *RAW_OUTPUT,
            str(raw),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(2)  # py-spy attaches to each worker first
        load = load_run()
    finally:
        spy.send_signal(signal.SIGINT)
        _, err = spy.communicate(timeout=60)
    figures = {"requests_per_s": load["requests_per_s"], "labels": list(load["labels"])}
    if not raw.exists():
        return {"error": err.strip()[-500:], **figures}
    return {"raw_file": str(raw), **figures, **summarise(raw)}


def summarise(raw: Path) -> dict:
    """Per function: the share of samples it was running in itself, and the share it was on the stack."""
    own: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if not samples.isdigit():
            continue
        count = int(samples)
        total += count
        # py-spy puts a "process PID:command" frame at the root of each worker's stacks.
        frames = [_short(frame) for frame in stack.split(";") if frame and not frame.startswith("process ")]
        if not frames:
            continue
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    return {
        "samples": total,
        "self": [(frame, 100 * n / total) for frame, n in own.most_common(TOP)],
        "inclusive": [(frame, 100 * n / total) for frame, n in inclusive.most_common(TOP * 3)],
    }


def _short(frame: str) -> str:
    """ "function (file)" with site-packages/ and the work tree cut off the file."""
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    file = re.sub(r"^.*?(site-packages/|/work/main/|lib/python3\.\d+/)", "", match["file"])
    return f"{match['function']} ({file})"
