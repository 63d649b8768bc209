"""Idempotency keys of the restock and adjust endpoints: kept 24 hours."""

from datetime import timedelta

from django.db.models.functions import Now

from inventory.models import IdempotencyKey

IDEMPOTENCY_KEY_LIFETIME = timedelta(hours=24)


def purge_idempotency_keys(*, older_than: timedelta = IDEMPOTENCY_KEY_LIFETIME) -> int:
    """Delete the keys claimed longer ago than `older_than`; the count deleted."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=Now() - older_than).delete()
    return deleted
