"""Progress bars of the management commands, readable on a terminal.

The services write one JSON line per change of stock to the `inventory.stock`
logger, on stderr, where tqdm draws its bar too: a command that changes thousands
of rows would bury its bar under them. So when stderr is a terminal a person is
reading: the bar is drawn (unless `--quiet`) and that logger is raised to WARNING
while the command changes stock; the person sees the bar and the command's
summary, and the ledger in the database keeps every change. With no terminal
(cron, a pipe, a log collector) no bar is drawn and every line is logged as usual.
"""

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm

STOCK_LOGGER = "inventory.stock"
QUIET_HELP = "no progress bar (the summary is still printed)"


def add_quiet_argument(parser) -> None:
    parser.add_argument("--quiet", action="store_true", help=QUIET_HELP)


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


@contextmanager
def progress_bar(*, total: int, unit: str, quiet: bool = False) -> Iterator[tqdm]:
    """A tqdm bar on stderr, drawn only on a terminal and unless quiet."""
    terminal = stderr_is_terminal()
    with quiet_stock_log(terminal), tqdm(total=total, unit=unit, disable=quiet or not terminal) as bar:
        yield bar


@contextmanager
def quiet_stock_log(enabled: bool = True) -> Iterator[None]:
    """Raise the per-change stock logger to WARNING for the block, then put its level back."""
    stock_logger = logging.getLogger(STOCK_LOGGER)
    previous = stock_logger.level
    if enabled:
        stock_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        stock_logger.setLevel(previous)
