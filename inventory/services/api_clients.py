"""API clients: create one with its user, give it a new token, revoke or reactivate it.

The `create_api_client` command and the admin both call these, so a client is the
same whichever way it was made. A token leaves here once, in the `IssuedToken`
returned; only its SHA-256 is stored, and nothing here logs it.
"""

import re
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction
from django.db.models.functions import Now

from inventory import limits
from inventory.exceptions import InvalidInput
from inventory.models.api_clients import ApiClient

# What a staff client's own service user may do: everything the staff endpoints ask for.
STAFF_CLIENT_PERMISSIONS = (
    "inventory.view_inventory",
    "inventory.add_inventory",
    "inventory.restock_inventory",
    "inventory.adjust_inventory",
    "inventory.change_threshold_inventory",
    "inventory.view_inventorylog",
    "inventory.view_reservation",
    # Stock per warehouse (issue 14).
    "inventory.view_stocklevel",
    "inventory.view_warehouse",
    "inventory.add_warehouse",
    "inventory.change_warehouse",
    "inventory.view_pool",
    "inventory.add_pool",
    "inventory.change_pool",
    "inventory.view_transfer",
    "inventory.add_transfer",
    "inventory.receive_transfer",
    # Hot levels (issue 15).
    "inventory.make_hot_inventory",
    # Quotas and purchase orders (issue 16).
    "inventory.view_quota",
    "inventory.manage_quota",
    "inventory.view_purchaseorder",
    "inventory.add_purchaseorder",
    "inventory.receive_purchaseorder",
    "inventory.view_receipt",
)
SERVICE_USER_PREFIX = "api-client."
_NAME_RE = re.compile(limits.CLIENT_NAME_PATTERN)


class IssuedToken(NamedTuple):
    client: ApiClient
    token: str


def create_api_client(*, name: str, role: str) -> IssuedToken:
    """A new client acting as its own service user; InvalidInput if the name is taken."""
    _require_name_and_role(name, role)
    try:
        with transaction.atomic():
            client = ApiClient(name=name, role=role, user=_service_user(name, role))
            return _save_with_new_token(client)
    except IntegrityError:
        # The name is unique, and so is the user (the service user is named after the client).
        raise InvalidInput(f"An API client named {name!r} exists already.", name=name) from None


def issue_token(*, name: str, role: str, username: str | None = None) -> IssuedToken:
    """Create the client `name`, or give the existing one a new token (the old one stops working).

    An existing client also takes `role` and is active again, and its service user's
    permissions follow the role. `username` issues a staff client to that existing
    staff user instead of a service user; a client once issued to a person stays theirs.
    """
    _require_name_and_role(name, role)
    if username and role != ApiClient.Role.STAFF:
        raise InvalidInput("Only a staff client can be issued to a user.", username=username)
    with transaction.atomic():
        client = ApiClient.objects.select_for_update().filter(name=name).first()
        owner = _owner(name, role, username, client)
        if client is None:
            client = ApiClient(name=name, role=role, user=owner)
        elif client.user_id != owner.pk:
            raise InvalidInput(f"Client {name!r} belongs to user {client.user.get_username()!r}.", name=name)
        client.role = role
        client.is_active = True
        return _save_with_new_token(client)


def rotate_token(*, client_id: int) -> IssuedToken:
    """A new token for the client; the old one stops working at once. Role and activity stay."""
    with transaction.atomic():
        return _save_with_new_token(_locked_client(client_id))


def revoke_api_client(*, client_id: int) -> ApiClient:
    """The client's token stops working; the client, its user and its history stay."""
    return _set_active(client_id, active=False)


def reactivate_api_client(*, client_id: int) -> ApiClient:
    """The client's current token works again."""
    return _set_active(client_id, active=True)


def _set_active(client_id: int, *, active: bool) -> ApiClient:
    with transaction.atomic():
        client = _locked_client(client_id)
        client.is_active = active
        client.save(update_fields=["is_active"])
        return client


def _locked_client(client_id: int) -> ApiClient:
    client = ApiClient.objects.select_for_update().filter(pk=client_id).first()
    if client is None:
        raise InvalidInput(f"No API client {client_id}.", client_id=client_id)
    return client


def _save_with_new_token(client: ApiClient) -> IssuedToken:
    token = client.set_token()
    rotated = client.pk is not None
    if rotated:
        client.rotated_at = Now()
    client.save()
    if rotated:
        client.refresh_from_db(fields=["rotated_at"])  # the database's clock, as on creation
    return IssuedToken(client, token)


def _require_name_and_role(name: object, role: object) -> None:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise InvalidInput("A client's name is 1 to 100 characters of letters, digits and . _ @ + -", name=name)
    if role not in ApiClient.Role.values:
        raise InvalidInput(f"A client's role is one of {', '.join(ApiClient.Role.values)}.", role=role)


def _owner(name: str, role: str, username: str | None, client: ApiClient | None):
    if username:
        return _staff_user(username)
    if client is not None and not client.user.get_username().startswith(SERVICE_USER_PREFIX):
        return client.user  # issued to a person before: keep it theirs
    return _service_user(name, role)


def _staff_user(username: str):
    user_model = get_user_model()
    owner = user_model.objects.filter(**{user_model.USERNAME_FIELD: username}).first()
    if owner is None:
        raise InvalidInput(f"No user {username!r}.", username=username)
    if not owner.is_staff:
        raise InvalidInput(f"User {username!r} is not staff.", username=username)
    return owner


def _service_user(name: str, role: str):
    """The client's own user: no password, and the permissions of its role only."""
    user_model = get_user_model()
    owner, _ = user_model.objects.get_or_create(
        **{user_model.USERNAME_FIELD: SERVICE_USER_PREFIX + name}, defaults={"is_active": True}
    )
    owner.set_unusable_password()
    owner.is_staff = role == ApiClient.Role.STAFF
    owner.is_superuser = False
    owner.save()
    if role == ApiClient.Role.STAFF:
        owner.user_permissions.add(*_staff_permissions())
    else:
        owner.user_permissions.clear()
    return owner


def _staff_permissions() -> list[Permission]:
    wanted = [name.split(".", 1) for name in STAFF_CLIENT_PERMISSIONS]
    found = list(
        Permission.objects.filter(
            content_type__app_label="inventory", codename__in=[codename for _, codename in wanted]
        )
    )
    if len(found) != len(wanted):
        raise InvalidInput("The inventory permissions are missing: run `manage.py migrate` first.")
    return found
