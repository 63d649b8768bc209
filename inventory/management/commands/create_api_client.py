"""Create an API client, or rotate its token; prints only the token."""

import re

from django.core.management.base import BaseCommand, CommandError

from inventory import limits, services
from inventory.exceptions import InventoryError
from inventory.models.api_clients import ApiClient

ROLE_ALIASES = {"internal": ApiClient.Role.INTERNAL, "order-service": ApiClient.Role.INTERNAL, "staff": "staff"}


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
        # The arguments' own messages; the service checks them again.
        if not re.fullmatch(limits.CLIENT_NAME_PATTERN, name):
            raise CommandError("NAME is 1 to 100 characters of letters, digits and . _ @ + -")
        role = ROLE_ALIASES[role]
        if user and role != ApiClient.Role.STAFF:
            raise CommandError("--user is for staff clients only.")
        try:
            issued = services.issue_token(name=name, role=role, username=user)
        except InventoryError as error:
            raise CommandError(error.message) from None
        self.stdout.write(issued.token)
