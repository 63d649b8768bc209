"""Reads from a streaming replica where the code path allows it; everything else on the primary.

A query goes to the replica (`DATABASES["replica"]`, from DATABASE_REPLICA_URL) only when all hold:

- the view said a replica may serve it (`@replica_reads`: lists, log pages, the dashboard, the public
  checks), so a read that decides a write never leaves the primary;
- the primary's connection is not inside a transaction (`in_atomic_block`): a read inside a
  transaction that writes must see that transaction;
- the caller has not written within INVENTORY_REPLICA_PIN_SECONDS: every successful unsafe request
  of an API client or a signed-in user pins that caller to the primary (a Redis key), so it reads its
  own writes; without Redis, or with Redis down, a caller counts as pinned;
- the replica's last check, at most CHECK_INTERVAL old, found it streaming and no further behind
  than INVENTORY_REPLICA_MAX_LAG seconds.

Writes always go to the primary. With no replica configured the router is not installed at all.
docs/replica.md says why each rule is there and what it costs.
"""

import contextlib
import math
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from inventory.models import ApiClient

PRIMARY = DEFAULT_DB_ALIAS
REPLICA = "replica"
# A check is reused this long, so that no request waits on one more than once a second per process.
CHECK_INTERVAL = 1.0
PIN_PREFIX = "replica:pin:"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
OK, LAGGING, UNREACHABLE, NOT_STANDBY, UNCHECKED = "ok", "lagging", "unreachable", "not a standby", "unchecked"

# Read on the primary first, then compared on the replica: a replica that has replayed that position
# is behind by no more than the check took. Otherwise the time since its last replayed commit is the
# lag (an idle primary writes no commits, but then the replica has replayed everything).
_PRIMARY_POSITION_SQL = "SELECT pg_current_wal_lsn()"
_REPLICA_LAG_SQL = """
SELECT pg_is_in_recovery(),
       pg_wal_lsn_diff(%(primary)s::pg_lsn, pg_last_wal_replay_lsn()),
       CASE WHEN pg_last_wal_replay_lsn() >= %(primary)s::pg_lsn THEN 0
            ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END
"""


@dataclass(frozen=True)
class ReplicaState:
    status: str
    lag_seconds: float | None = None
    lag_bytes: int | None = None
    checked_at: float = 0.0

    @property
    def usable(self) -> bool:
        return self.status == OK


_may_read: ContextVar[bool] = ContextVar("replica_may_read", default=False)
_last_state: ReplicaState | None = None
_checking = threading.Lock()


def configured() -> bool:
    """Whether a replica is configured and reads may go to it."""
    return REPLICA in connections.settings and settings.INVENTORY_REPLICA_READS


class ReplicaRouter:
    """Django's router (DATABASE_ROUTERS): the replica for the reads the rules above allow."""

    def db_for_read(self, model, **hints) -> str:
        # Named even when it is the primary: otherwise Django would follow the database of an
        # instance read from the replica.
        return REPLICA if _replica_serves() else PRIMARY

    def db_for_write(self, model, **hints) -> str:
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # one database, two copies

    def allow_migrate(self, db, app_label, **hints) -> bool:
        return db == PRIMARY  # a standby is read-only: it follows the primary's migrations


def _replica_serves() -> bool:
    return _may_read.get() and not connections[PRIMARY].in_atomic_block and replica_state().usable


def replica_state() -> ReplicaState:
    """The replica's last check, made again when older than CHECK_INTERVAL. While another thread
    checks, the last one stands (or "unchecked": primary), so no request queues behind a check."""
    global _last_state
    last = _last_state
    if last is not None and time.monotonic() - last.checked_at < CHECK_INTERVAL:
        return last
    if not _checking.acquire(blocking=False):
        return last or ReplicaState(UNCHECKED)
    try:
        state = _last_state = _check()
    finally:
        _checking.release()
    return state


def forget_state() -> None:
    """Check the replica again at the next read (the tests, after stopping or starting it)."""
    global _last_state
    _last_state = None


def _check() -> ReplicaState:
    now = time.monotonic()
    try:
        with connections[PRIMARY].cursor() as cursor:
            cursor.execute(_PRIMARY_POSITION_SQL)
            primary_position = cursor.fetchone()[0]
    except DatabaseError:
        return ReplicaState(UNCHECKED, checked_at=now)  # the primary's readiness reports it
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(_REPLICA_LAG_SQL, {"primary": primary_position})
            in_recovery, lag_bytes, lag_seconds = cursor.fetchone()
    except DatabaseError:
        _drop_replica_connection()
        return ReplicaState(UNREACHABLE, checked_at=now)
    if not in_recovery:
        return ReplicaState(NOT_STANDBY, checked_at=now)  # promoted, or the primary's own URL
    lag = None if lag_seconds is None else max(float(lag_seconds), 0.0)
    within = lag is not None and lag <= settings.INVENTORY_REPLICA_MAX_LAG
    return ReplicaState(OK if within else LAGGING, lag, max(int(lag_bytes or 0), 0), now)


def _drop_replica_connection() -> None:
    # A dead connection is dropped so that the next check connects anew (the replica restarted).
    with contextlib.suppress(DatabaseError):
        connections[REPLICA].close()


def caller_of(request: HttpRequest) -> str | None:
    """Whose writes a request's reads must see: an API client, or a signed-in user; None if anonymous."""
    client = getattr(request, "auth", None)
    if isinstance(client, ApiClient):
        return f"client:{client.pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def pinned(caller: str | None) -> bool:
    """Whether `caller` wrote within the window (anonymous callers write nothing)."""
    if caller is None:
        return False
    if not settings.REDIS_URL:
        return True  # a process's own memory cannot see another process's pins
    try:
        return cache.get(PIN_PREFIX + caller) is not None
    except Exception:  # Redis down: read from the primary
        return True


def pin(caller: str) -> None:
    with contextlib.suppress(Exception):  # Redis down: every caller reads from the primary anyway
        cache.set(PIN_PREFIX + caller, 1, timeout=math.ceil(settings.INVENTORY_REPLICA_PIN_SECONDS))


class PinWritersMiddleware:
    """After a successful unsafe request, its caller reads from the primary for the window.

    The pin is set before the answer leaves, so a caller that has seen its write acknowledged
    cannot miss it on the replica. After authentication: DRF puts its user and auth on the request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method not in SAFE_METHODS and response.status_code < 400 and configured():
            caller = caller_of(request)
            if caller is not None:
                pin(caller)
        return response


def replica_reads(view):
    """A view method (`self, request, ...`) whose reads a replica may serve. If the replica fails
    under it, the view runs again on the primary: these views only read."""

    @wraps(view)
    def wrapped(owner, request, *args, **kwargs):
        if not configured() or pinned(caller_of(request)):
            return view(owner, request, *args, **kwargs)
        token = _may_read.set(True)
        try:
            return _rendered(view(owner, request, *args, **kwargs))
        except (OperationalError, InterfaceError):
            _replica_failed()
        finally:
            _may_read.reset(token)
        return view(owner, request, *args, **kwargs)

    return wrapped


def _rendered(response):
    # A page's querysets are lazy (the admin's list of rows): rendered here, they read where the
    # view may. DRF's answers are rendered later by DRF, from data its serializers already read.
    if isinstance(response, TemplateResponse):
        response.render()
    return response


def _replica_failed() -> None:
    """A read failed while the replica could serve: if its connection is gone, skip it until the
    next check finds it again."""
    global _last_state
    replica = connections[REPLICA]
    if replica.connection is None or not replica.is_usable():
        _drop_replica_connection()
        _last_state = ReplicaState(UNREACHABLE, checked_at=time.monotonic())
