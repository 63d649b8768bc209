"""The Celery edge: thin tasks that call the services and are safe to run twice.

They take no objects (only ids, when they take anything), are acknowledged after
they finish so a worker that dies mid-task has its task redelivered, and retry with
backoff on transient database errors. What makes a second run harmless is in the
services (SKIP LOCKED and conditional updates expire a hold once); the locks here
only keep a duplicate run from doing the work again.
"""

import logging
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta

from celery import shared_task
from celery.signals import worker_process_shutdown
from django.core.cache import cache
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.utils import timezone

from inventory import metrics, services
from inventory.digests import build_low_stock_digest
from inventory.services.counts import propose_todays_cycle_sheets
from inventory.services.idempotency import purge_idempotency_keys as purge_keys
from inventory.services.planning import refresh_plans as refresh_item_plans
from inventory.services.snapshots import take_snapshot as take_day_snapshot

logger = logging.getLogger(__name__)

# A lost connection, a deadlock or a serialization failure: worth another try.
TRANSIENT_DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRIED_ON_DATABASE_ERRORS = {
    "acks_late": True,
    "autoretry_for": TRANSIENT_DATABASE_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
}
DIGEST_CLAIM_LIFETIME = timedelta(hours=25)


@shared_task(name="inventory.expire_overdue_reservations", **RETRIED_ON_DATABASE_ERRORS)
def expire_overdue_reservations() -> int | None:
    """Expire the overdue holds; None when another run is at it already."""
    with advisory_lock("inventory.expire_overdue_reservations") as acquired:
        if not acquired:
            logger.info("expiry skipped: another run holds the lock")
            return None
        expired = services.expire_overdue_reservations()
    if expired:
        logger.info("expired overdue reservations", extra={"expired": expired})
    return expired


@shared_task(name="inventory.end_due_quotas", **RETRIED_ON_DATABASE_ERRORS)
def end_due_quotas() -> int | None:
    """End the quotas past their end; None when another run is at it already."""
    with advisory_lock("inventory.end_due_quotas") as acquired:
        if not acquired:
            return None
        ended = services.end_due_quotas()
    if ended:
        logger.info("ended quotas", extra={"ended": ended})
    return ended


@shared_task(name="inventory.rebalance_hot_levels", **RETRIED_ON_DATABASE_ERRORS)
def rebalance_hot_levels() -> int | None:
    """Even out the hot levels whose rows drifted apart; None when another run is at it already."""
    with advisory_lock("inventory.rebalance_hot_levels") as acquired:
        if not acquired:
            return None
        evened = services.rebalance_hot_levels()
    if evened:
        logger.info("rebalanced hot levels", extra={"levels": evened})
    return evened


@shared_task(name="inventory.send_low_stock_digest", **RETRIED_ON_DATABASE_ERRORS)
def send_low_stock_digest() -> int:
    """Send today's low-stock digest once, however many beats asked; the count of items listed."""
    digest = build_low_stock_digest()
    if digest is None:
        logger.info("low-stock digest not sent: no item is low")
        return 0
    # Claimed only now, after the reads that may fail and be retried.
    if not cache.add(digest_claim_key(), True, DIGEST_CLAIM_LIFETIME.total_seconds()):
        logger.info("low-stock digest already sent today")
        return 0
    digest.message.send()
    logger.info("low-stock digest sent", extra={"items": len(digest.items), "recipients": digest.recipients})
    return len(digest.items)


def digest_claim_key() -> str:
    """The cache key that says today's digest has gone (shared by every worker through Redis)."""
    return f"inventory:low-stock-digest:{timezone.localdate()}"


@shared_task(name="inventory.purge_idempotency_keys", **RETRIED_ON_DATABASE_ERRORS)
def purge_idempotency_keys() -> int:
    """Delete the idempotency keys past their 24 hours; the count deleted."""
    return purge_keys()


@shared_task(name="inventory.refresh_plans", **RETRIED_ON_DATABASE_ERRORS)
def refresh_plans() -> int | None:
    """Recompute every level's ABC class, forecast and reorder figures; the levels planned, None when
    another run is at it already (a run rewrites every plan: a second one at once would only repeat it)."""
    with advisory_lock("inventory.refresh_plans") as acquired:
        if not acquired:
            return None
        return refresh_item_plans().levels


@shared_task(name="inventory.propose_cycle_counts", **RETRIED_ON_DATABASE_ERRORS)
def propose_cycle_counts() -> int | None:
    """Propose today's cycle-count sheet of each warehouse with levels due; the sheets made, None when
    another run is at it (a second run the same day makes none: the products are on open sheets)."""
    with advisory_lock("inventory.propose_cycle_counts") as acquired:
        if not acquired:
            return None
        return len(propose_todays_cycle_sheets(today=timezone.now().date()))


@shared_task(name="inventory.take_snapshot", **RETRIED_ON_DATABASE_ERRORS)
def take_snapshot() -> int | None:
    """Snapshot yesterday's changed rows (UTC); the rows added (0 on a second run), None when another run is at it."""
    with advisory_lock("inventory.take_snapshot") as acquired:
        if not acquired:
            return None
        added = take_day_snapshot()
    logger.info("took the daily snapshot", extra={"rows": added})
    return added


@worker_process_shutdown.connect
def forget_live_metrics(pid: int, **_) -> None:
    """A worker's child process is exiting: its metrics files are marked dead (docs/monitoring.md)."""
    metrics.mark_process_dead(pid)


@contextmanager
def advisory_lock(name: str) -> Iterator[bool]:
    """Hold a PostgreSQL session advisory lock named `name` if no one else does.

    Yields whether it was acquired. Other databases have no such lock and always
    acquire it; the services' row guards are what prevents double work anyway.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    key = zlib.crc32(name.encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            # A lost connection has taken the lock with it; nothing to release then.
            with suppress(DatabaseError), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
