"""Idempotency keys of the restock and adjust endpoints: kept 24 hours.

`run_once` claims a key in the same transaction as the change it guards:

- the first request with a key inserts the key's row, makes the change and stores
  its answer, all in one transaction; should the change fail, the transaction rolls
  back and the key is free again (only successful answers are stored);
- a second request with the same key waits on the first one's uncommitted row (the
  unique index), then finds it committed and answers the stored answer, or, with
  another request behind the key, raises IdempotencyKeyReused; two requests racing
  with one key therefore apply once;
- a key older than 24 hours counts as unused: it is replaced.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.functions import Now

from inventory.exceptions import IdempotencyKeyReused
from inventory.models import IdempotencyKey

IDEMPOTENCY_KEY_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    replayed: bool = False


def fingerprint(*, method: str, path: str, data: Any) -> str:
    """SHA-256 of the method, the path (trailing slash ignored) and the canonical JSON."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method.upper()}\n{path.rstrip('/')}\n{canonical}".encode()).hexdigest()


def run_once(*, scope: str, key: str, request_fingerprint: str, change: Callable[[], Answer]) -> Answer:
    """Make `change` at most once per (scope, key); see the module docstring."""
    with transaction.atomic():
        stored = _claim(scope, key, request_fingerprint)
        if stored is not None:
            if stored.fingerprint != request_fingerprint:
                raise IdempotencyKeyReused(key)
            return Answer(stored.response_status, stored.response_body, replayed=True)
        answer = change()
        # A JSON round trip stores exactly what the client was sent.
        body = json.loads(json.dumps(answer.body))
        IdempotencyKey.objects.filter(scope=scope, key=key).update(response_status=answer.status, response_body=body)
        return answer


def _claim(scope: str, key: str, request_fingerprint: str) -> IdempotencyKey | None:
    """Insert the key's row, or return the live row already there (committed)."""
    for _ in range(3):
        try:
            with transaction.atomic():
                IdempotencyKey.objects.create(
                    scope=scope, key=key, fingerprint=request_fingerprint, response_status=0, response_body={}
                )
            return None
        except IntegrityError:
            pass
        stored = IdempotencyKey.objects.select_for_update().filter(scope=scope, key=key).first()
        if stored is None:
            continue  # purged meanwhile: claim it again
        if stored.created_at is not None and _is_expired(stored):
            IdempotencyKey.objects.filter(pk=stored.pk).delete()
            continue
        return stored
    raise RuntimeError(f"Could not claim idempotency key {key!r}.")


def _is_expired(stored: IdempotencyKey) -> bool:
    return IdempotencyKey.objects.filter(pk=stored.pk, created_at__lt=Now() - IDEMPOTENCY_KEY_LIFETIME).exists()


def purge_idempotency_keys(*, older_than: timedelta = IDEMPOTENCY_KEY_LIFETIME) -> int:
    """Delete the keys claimed longer ago than `older_than`; the count deleted."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=Now() - older_than).delete()
    return deleted
