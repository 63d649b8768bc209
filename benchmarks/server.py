"""Start the Procfile's `web` process (gunicorn) on loopback for a benchmark, and always stop it."""

import os
import re
import shlex
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.data import ROOT

LOG_DIR = ROOT / "var" / "bench"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# ${NAME:-default} in the Procfile, expanded as the shell would.
SHELL_DEFAULT = re.compile(r"\$\{(\w+):-([^}]*)\}")


def procfile_web_command(port: int, **options) -> list[str]:
    """The Procfile's `web` line, bound to 127.0.0.1:`port`: the same workers and threads as production.

    `options` (workers=2, threads=8, worker_class="gthread") replace or add to the Procfile's, for the tuning sweep.
    """
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    command = SHELL_DEFAULT.sub(lambda m: os.environ.get(m.group(1), m.group(2)), line.removeprefix("web:"))
    argv = shlex.split(command)
    for option, value in {"bind": f"127.0.0.1:{port}", **options}.items():
        flag = "--" + option.replace("_", "-")
        if flag in argv:
            argv[argv.index(flag) + 1] = str(value)
        else:
            argv += [flag, str(value)]
    return argv


def gunicorn_pids(master_pid: int) -> list[int]:
    """The master and its workers (for py-spy)."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    workers = [int(pid) for pid in children.read_text().split()] if children.exists() else []
    return [master_pid, *workers]


def cpu_seconds(master_pid: int, database: str) -> dict[str, dict[int, float]]:
    """CPU time used so far, per process: the server's (master and workers) and that of the PostgreSQL
    backends connected to `database` (others share the server: their load is not counted)."""
    postgres = [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and _comm(p) == "postgres" and _backend_database(p) == database
    ]
    return {
        "app": {pid: _process_cpu_s(pid) for pid in gunicorn_pids(master_pid)},
        "postgres": {pid: _process_cpu_s(pid) for pid in postgres},
    }


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two readings: a process that started since counts from zero; one that ended
    since (a database connection that was closed) is lost, so the figure is a lower bound."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def machine_cpu() -> tuple[int, int]:
    """The machine's busy and total CPU time so far, in clock ticks (/proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return sum(fields) - idle, sum(fields)


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The share of the machine's CPU time that was busy between two machine_cpu() readings."""
    return (after[0] - before[0]) / max(1, after[1] - before[1])


def _backend_database(proc: Path) -> str:
    """The database of a PostgreSQL backend, from the title it sets: "postgres: 15/main: USER DATABASE HOST ..."."""
    try:
        title = (proc / "cmdline").read_bytes().decode(errors="replace").strip("\0 ")
    except OSError:
        return ""
    words = title.split(": ", 2)[-1].split()
    return words[1] if len(words) > 1 else ""


def _comm(proc: Path) -> str:
    try:
        return (proc / "comm").read_text().strip()
    except OSError:
        return ""


def _process_cpu_s(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0  # it ended: a PostgreSQL backend whose connection closed
    # After the ")" that ends the command, utime is the 12th field and stime the 13th.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@contextmanager
def running_server(env: dict[str, str], port: int, log_name: str, **options) -> Iterator[subprocess.Popen]:
    """gunicorn serving config.wsgi's application under the benchmark settings; stopped on exit."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    argv = procfile_web_command(port, **options)
    with (LOG_DIR / f"{log_name}.log").open("wb") as log:
        server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(server, port)
            yield server
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_ready(server: subprocess.Popen, port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}; see {LOG_DIR}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1.0) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /readyz within {timeout:.0f} s")
