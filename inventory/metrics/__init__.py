"""Prometheus metrics: what the services count, and what /metrics shows (docs/monitoring.md).

A package of its own, named for what it holds (not "observability": logs and alerts live
elsewhere). The services call the few functions here, one call where an outcome is known;
`definitions` names every metric, `collector` reads the database's figures at scrape time,
`middleware` times the requests and `views` answers the scrape.
"""

import functools
import os
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import transaction
from prometheus_client import multiprocess

from inventory.exceptions import InventoryError
from inventory.metrics.definitions import GATE_LOOKUPS, HOLDS_ENDED, RESERVES, VERSION_CONFLICTS

P = ParamSpec("P")
R = TypeVar("R")


def counts_reserves(reserve: Callable[P, R]) -> Callable[P, R]:
    """Count each call of `reserve` by outcome: "reserved", "repeat" (nothing new: `created` false)
    or the code of the InventoryError that refused it; any other exception is "error"."""

    @functools.wraps(reserve)
    def counted(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            result = reserve(*args, **kwargs)
        except InventoryError as refusal:
            RESERVES.labels(refusal.code).inc()
            raise
        except Exception:
            RESERVES.labels("error").inc()
            raise
        RESERVES.labels("reserved" if result.created else "repeat").inc()
        return result

    return counted


def holds_ended(ending: str, count: int) -> None:
    """`count` holds ended by `ending` (a ledger operation), counted once the current transaction
    commits: a rolled-back ending ended nothing."""
    if count:
        transaction.on_commit(functools.partial(HOLDS_ENDED.labels(ending).inc, count), robust=True)


def version_conflict() -> None:
    VERSION_CONFLICTS.inc()


def gate_lookup(result: str) -> None:
    """The sold-out gate read Redis: "hit", "miss" or "error"."""
    GATE_LOOKUPS.labels(result).inc()


def mark_process_dead(pid: int) -> None:
    """A gunicorn worker or Celery child `pid` has exited: drop its live-gauge files (its counters stay,
    so that the totals never go down). Nothing to do outside multiprocess mode."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)


def multiprocess_dir() -> str:
    """prometheus-client's directory of per-process files; "" in single-process mode. The library reads
    the variable when it is first imported, so it is the environment's, not a Django setting."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
