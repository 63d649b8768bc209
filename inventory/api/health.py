"""Liveness and readiness probes for the process manager and the load balancer."""

import os

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from kombu import Connection

from inventory import replica

OK, UNREACHABLE, NOT_CONFIGURED = "ok", "unreachable", "not configured"
# A probe must answer well within the load balancer's own timeout.
BROKER_TIMEOUT_SECONDS = 1.0
PROBE_KEY = "readyz:probe"


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the process runs; checks nothing else on purpose."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Each dependency's state; 200 only while the database answers a query.

    Redis (the cache and throttle counters) and the broker (the expiry job, the
    digest) are optimisations and background work: without them selling goes on,
    so either one down is "degraded", still 200. The database down is 503. A
    configured replica is reported with its lag; when it is down or behind, its
    reads go to the primary, so it only makes the status "degraded".
    """
    redis = _redis_status()
    checks = {"database": _database_status(), "redis": redis, "broker": _broker_status(redis)}
    if replica.configured():
        checks.update(_replica_checks())
    if checks["database"] != OK:
        return JsonResponse({"status": "unavailable", **checks}, status=503)
    degraded = UNREACHABLE in checks.values() or checks.get("replica", OK) != OK
    return JsonResponse({"status": "degraded" if degraded else "ok", **checks})


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return UNREACHABLE
    return OK


def _redis_status() -> str:
    if not settings.REDIS_URL:
        return NOT_CONFIGURED
    try:
        cache.get(PROBE_KEY)  # a read through the cache's own connection pool and timeouts
    except Exception:  # any failure of the cache means Redis cannot serve it
        return UNREACHABLE
    return OK


def _broker_status(redis: str) -> str:
    url = settings.CELERY_BROKER_URL
    if url == settings.REDIS_URL:
        return redis  # the same server: one check is enough
    if url.startswith("filesystem://"):
        # kombu's embedded transport is a folder that the worker and the web share.
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
        return OK if os.access(folder, os.W_OK) else UNREACHABLE
    try:
        with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception:  # kombu raises the transport's own errors
        return UNREACHABLE
    return OK


def _replica_checks() -> dict:
    state = replica.replica_state()
    return {"replica": state.status, "replica_lag_seconds": state.lag_seconds, "replica_lag_bytes": state.lag_bytes}
