"""API clients: the order application (`internal`) and back-office tools (`staff`).

A client's token is shown once, when it is created or rotated; only its SHA-256 is
stored. Every client acts through a Django user, so that the permissions of a staff
client are ordinary Django permissions (granted to its service user, or those of the
person it was issued to) and the admin can narrow them like anyone else's.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from inventory import limits

TOKEN_PREFIX = "inv_"  # noqa: S105 - a marker, not a secret


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiClientRole(models.TextChoices):
    # The contract calls the order application's role "order-service".
    INTERNAL = "internal", _("internal (order-service)")
    STAFF = "staff", _("staff (back-office tools)")


class ApiClient(models.Model):
    Role = ApiClientRole

    name = models.CharField(
        max_length=limits.CLIENT_NAME_MAX_LENGTH,
        unique=True,
        help_text=_("Recorded as the actor of every change it makes."),
    )
    role = models.CharField(max_length=16, choices=ApiClientRole.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the token, to tell tokens apart without storing them.
    token_prefix = models.CharField(max_length=12, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_client",
        help_text="The user whose permissions the client has (a service user unless issued to a person).",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now())
    rotated_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("API client")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=ApiClientRole.values), name="apiclient_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"

    @property
    def is_internal(self) -> bool:
        return self.role == ApiClientRole.INTERNAL

    @property
    def is_staff_client(self) -> bool:
        return self.role == ApiClientRole.STAFF

    def set_token(self) -> str:
        """Give the client a new token; returns it (the only time it is seen)."""
        token = new_token()
        self.token_hash = hash_token(token)
        self.token_prefix = token[: len(TOKEN_PREFIX) + 4]
        return token
