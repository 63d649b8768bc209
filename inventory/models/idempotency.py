"""Claimed Idempotency-Keys and the answers they were given."""

from django.db import models
from django.db.models.functions import Now

from inventory import limits


class IdempotencyKey(models.Model):
    """A claimed `Idempotency-Key` and the answer it was given, kept 24 hours.

    `scope` names the caller (an API client or a user), so two callers may use the
    same key. The row is inserted in the same transaction as the change it guards.
    """

    scope = models.CharField(max_length=100)
    key = models.CharField(max_length=limits.MAX_IDEMPOTENCY_KEY_LENGTH)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotencykey_unique_scope_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotencykey_created_idx")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"
