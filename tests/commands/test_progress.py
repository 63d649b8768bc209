"""Progress bars on a terminal are not buried under the per-change log lines; --quiet hides them.

The command runs in a real process whose stderr is a pseudo-terminal (or a pipe),
against this test's database.
"""

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time

import pytest
from django.conf import settings
from django.db import connection

from tests.inventory.test_services_reserve import make_overdue, reserve

pytestmark = pytest.mark.django_db(transaction=True)

OVERDUE = 30


@pytest.fixture
def overdue_holds(make_item):
    item = make_item(available_stock=OVERDUE)
    make_overdue(*[reserve(f"P-{n}", (item.product_id, 1)).reservations[0] for n in range(OVERDUE)])


def command_env() -> dict[str, str]:
    db = connection.settings_dict
    return {
        **os.environ,
        # The settings of a server, whose stock log is at INFO (the test settings mute it).
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_SECRET_KEY": "test-only",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "LOG_LEVEL": "INFO",
    }


def run_on_terminal(*arguments: str) -> tuple[int, str, str]:
    """Run manage.py with stderr on a pseudo-terminal; return (exit status, stdout, what the terminal showed)."""
    controller, terminal = os.openpty()
    # A terminal of 40 rows and 120 columns (a new pseudo-terminal has none, and tqdm draws to its width).
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "manage.py", *arguments],
        cwd=settings.BASE_DIR,
        env=command_env(),
        stdout=subprocess.PIPE,
        stderr=terminal,
        text=True,
    )
    os.close(terminal)
    shown = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the other side closed
                break
            if not chunk:
                break
            shown += chunk
        elif process.poll() is not None:
            break
    os.close(controller)
    stdout = process.communicate(timeout=30)[0]
    return process.returncode, stdout, shown.decode(errors="replace")


def run_with_pipes(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=settings.BASE_DIR,
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_on_a_terminal_the_bar_is_drawn_and_the_stock_lines_held_back(overdue_holds):
    status, stdout, shown = run_on_terminal("cleanup_reservations", "--batch-size", "7")

    assert status == 0, shown
    assert stdout == f"Expired {OVERDUE} overdue reservation(s).\n"
    assert f"{OVERDUE}/{OVERDUE}" in shown
    assert "100%" in shown
    assert "stock_change" not in shown


def test_quiet_on_a_terminal_draws_no_bar(overdue_holds):
    status, stdout, shown = run_on_terminal("cleanup_reservations", "--quiet")

    assert status == 0, shown
    assert stdout == f"Expired {OVERDUE} overdue reservation(s).\n"
    assert "100%" not in shown
    assert "stock_change" not in shown


def test_without_a_terminal_each_batch_is_logged_and_no_bar_drawn(overdue_holds):
    result = run_with_pipes("cleanup_reservations")

    assert result.returncode == 0, result.stderr
    # INVENTORY_BATCH_LOG_LINES=summary (the default): one line for the batch, none per entry.
    assert result.stderr.count('"stock_batch"') == 1
    assert f'"entries": {OVERDUE}' in result.stderr
    assert '"stock_change"' not in result.stderr
    assert "100%" not in result.stderr
