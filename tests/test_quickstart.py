"""The quick start as a new user meets it: `make run` on SQLite, and manage.py typed by hand.

These run real processes (manage.py, the dev server, honcho) in fresh environments
with no PostgreSQL and no Redis, as on a fresh clone.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVER_START_SECONDS = 60
SIMULATION_SECONDS = 240
# What a clone holds that manage.py and `make .env` need.
CLONE_PARTS = ("manage.py", "Makefile", "config", "inventory", "orders_integration", "templates")


def bare_env(**extra: str) -> dict[str, str]:
    """A shell with none of this project's variables set, as on a new machine, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    env.pop("CELERY_BROKER_URL", None)
    return {**env, **extra}


def quickstart_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of `make run`: SQLite in tmp_path, DEBUG on, no Redis, no settings of the tests."""
    quickstart = {
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'quickstart.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    return bare_env(**{**quickstart, **extra})


def manage(env: dict[str, str], *arguments: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(base_url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server stopped:\n{log.read_text()}"
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"the server did not answer within {SERVER_START_SECONDS}s:\n{log.read_text()}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def sqlite_quickstart(tmp_path):
    """A migrated SQLite database and the dev server of Procfile.dev on it; yields (env, base url, log)."""
    env = quickstart_env(tmp_path)
    migrated = manage(env, "migrate", "--no-input")
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    log = tmp_path / "web.log"
    # Procfile.dev's `web` line, on a free port and without the autoreloader's second process.
    command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    with log.open("wb") as output:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base_url, server, log)
        yield env, base_url, log
    finally:
        stop(server)


@pytest.mark.slow
def test_the_sqlite_quick_start_serves_the_simulator_without_a_5xx(sqlite_quickstart):
    env, base_url, log = sqlite_quickstart
    token = manage(env, "create_api_client", "quickstart-orders", "--role", "internal").stdout.strip()
    assert token

    simulation = manage(
        {**env, "INVENTORY_API_TOKEN": token},
        "simulate_orders", "--base-url", base_url, "--orders", "200", "--concurrency", "4", "--seed", "13",
        "--products", "20", "--stock", "40", "--abandon-ttl", "1", "--quiet",
        timeout=SIMULATION_SECONDS,
    )  # fmt: skip

    summary = simulation.stdout
    print(summary)  # the note quotes it (pytest -s)
    assert simulation.returncode == 0, summary + simulation.stderr
    assert "Errors by code: none" in summary, summary
    assert "The ledger matches every product." in summary, summary
    # The client retries a 5xx, so its summary alone could hide one: the server's own log must have none.
    server_errors = re.findall(r'^.*"\s5\d\d\s.*$', log.read_text(), re.MULTILINE)
    assert server_errors == [], "\n".join(server_errors[:20])


# --- manage.py typed by hand ------------------------------------------------------------


@pytest.fixture
def fresh_clone(tmp_path) -> Path:
    clone = tmp_path / "clone"
    clone.mkdir()
    for part in CLONE_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, clone / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, clone / part)
    return clone


def manage_in(clone: Path, *arguments: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=clone,
        env=bare_env(**extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_on_a_fresh_clone_a_command_says_what_is_missing_in_one_line(fresh_clone):
    result = manage_in(fresh_clone, "verify_ledger")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DJANGO_SECRET_KEY is required" in lines[0]
    assert "make run" in lines[0]


def test_traceback_still_shows_the_traceback(fresh_clone):
    result = manage_in(fresh_clone, "verify_ledger", "--traceback")

    assert result.returncode != 0
    assert "Traceback" in result.stderr


def test_after_make_writes_env_the_readme_commands_work(fresh_clone):
    made = subprocess.run(["make", ".env"], cwd=fresh_clone, capture_output=True, text=True, timeout=60, check=False)
    assert made.returncode == 0, made.stderr
    assert "DJANGO_DEBUG=1" in (fresh_clone / ".env").read_text().splitlines()

    assert manage_in(fresh_clone, "migrate", "--no-input").returncode == 0
    ledger = manage_in(fresh_clone, "verify_ledger")
    assert ledger.returncode == 0, ledger.stderr
    assert "The ledger matches every product." in ledger.stdout
    # The environment wins over the file.
    production = manage_in(fresh_clone, "verify_ledger", DJANGO_DEBUG="0")
    assert production.returncode == 1
    assert "DJANGO_SECRET_KEY is required" in production.stderr


# --- Ctrl-C of `make run` -----------------------------------------------------------------


def wait_for_line(log: Path, process: subprocess.Popen, pattern: str) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while not re.search(pattern, log.read_text(errors="replace")):
        assert process.poll() is None, f"stopped early:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no {pattern!r} within {SERVER_START_SECONDS}s:\n{log.read_text()}"
        time.sleep(0.3)


@pytest.mark.slow
def test_ctrl_c_stops_every_process_of_make_run_cleanly(tmp_path):
    port = free_port()
    venv_bin = Path(sys.executable).parent
    env = quickstart_env(tmp_path, PORT=str(port), PATH=f"{venv_bin}:{os.environ['PATH']}")
    assert manage(env, "migrate", "--no-input").returncode == 0
    log = tmp_path / "run.log"
    with log.open("wb") as output:
        # What `make run` starts once the database is ready.
        run = subprocess.Popen(
            [sys.executable, "-m", "config.run_dev", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", run, log)
        wait_for_line(log, run, r"worker\.1 .*celery@\S+ ready")
        wait_for_line(log, run, r"beat\.1 .*beat: Starting")

        # A terminal's Ctrl-C reaches honcho (its processes run in sessions of their own).
        run.send_signal(signal.SIGINT)
        status = run.wait(timeout=60)
    finally:
        stop(run)

    output = log.read_text(errors="replace")
    assert "SIGKILL" not in output, output
    stopped = dict(re.findall(r"system\s+\| (\w+)\.1 stopped \(rc=(-?\d+)\)", output))
    assert stopped == {"web": "0", "worker": "0", "beat": "0"}, output
    assert "ERROR" not in output, output
    assert status == 0, output
