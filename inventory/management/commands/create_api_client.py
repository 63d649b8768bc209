"""Create an API client, or rotate its token; prints only the token."""

import re

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models.functions import Now

from inventory import limits
from inventory.models.api_clients import ApiClient

ROLE_ALIASES = {"internal": ApiClient.Role.INTERNAL, "order-service": ApiClient.Role.INTERNAL, "staff": "staff"}

# What a staff client's own service user may do: everything the staff endpoints ask for.
STAFF_CLIENT_PERMISSIONS = (
    "inventory.view_inventory",
    "inventory.add_inventory",
    "inventory.restock_inventory",
    "inventory.adjust_inventory",
    "inventory.change_threshold_inventory",
    "inventory.view_inventorylog",
    "inventory.view_reservation",
)
SERVICE_USER_PREFIX = "api-client."


def staff_permissions() -> list[Permission]:
    wanted = [name.split(".", 1) for name in STAFF_CLIENT_PERMISSIONS]
    found = list(
        Permission.objects.filter(
            content_type__app_label="inventory", codename__in=[codename for _, codename in wanted]
        )
    )
    if len(found) != len(wanted):
        raise CommandError("The inventory permissions are missing: run `manage.py migrate` first.")
    return found


class Command(BaseCommand):
    help = (
        "Create an API client, or give an existing one a new token (the old one stops working). "
        "Prints only the token. A staff client acts as its own service user, which is given every "
        "inventory staff permission, unless --user issues it to an existing staff user, whose "
        "permissions it then has."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="The client's name; recorded as the actor of its changes.")
        parser.add_argument("--role", required=True, choices=sorted(ROLE_ALIASES), help="internal or staff")
        parser.add_argument("--user", help="Staff only: issue the token to this existing user instead.")

    def handle(self, *args, name, role, user=None, **options):
        if not re.fullmatch(limits.CLIENT_NAME_PATTERN, name):
            raise CommandError("NAME is 1 to 100 characters of letters, digits and . _ @ + -")
        role = ROLE_ALIASES[role]
        if user and role != ApiClient.Role.STAFF:
            raise CommandError("--user is for staff clients only.")
        with transaction.atomic():
            client = ApiClient.objects.select_for_update().filter(name=name).first()
            owner = self._owner(name, role, user, client)
            if client is None:
                client = ApiClient(name=name, role=role, user=owner)
            elif client.user_id != owner.pk:
                raise CommandError(f"Client {name!r} belongs to user {client.user.get_username()!r}.")
            client.role = role
            client.is_active = True
            token = client.set_token()
            if client.pk:
                client.rotated_at = Now()
            client.save()
        self.stdout.write(token)

    def _owner(self, name: str, role: str, username: str | None, client: ApiClient | None):
        user_model = get_user_model()
        if username:
            owner = user_model.objects.filter(**{user_model.USERNAME_FIELD: username}).first()
            if owner is None:
                raise CommandError(f"No user {username!r}.")
            if not owner.is_staff:
                raise CommandError(f"User {username!r} is not staff.")
            return owner
        if client is not None and not client.user.get_username().startswith(SERVICE_USER_PREFIX):
            return client.user  # issued to a person before: keep it theirs
        owner, _ = user_model.objects.get_or_create(
            **{user_model.USERNAME_FIELD: SERVICE_USER_PREFIX + name}, defaults={"is_active": True}
        )
        owner.set_unusable_password()
        owner.is_staff = role == ApiClient.Role.STAFF
        owner.is_superuser = False
        owner.save()
        if role == ApiClient.Role.STAFF:
            owner.user_permissions.add(*staff_permissions())
        else:
            owner.user_permissions.clear()
        return owner
