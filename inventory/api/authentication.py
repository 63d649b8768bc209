"""`Authorization: Token <key>` for API clients, and who the actor of a request is."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from inventory import limits, selectors
from inventory.models import ApiClient


class ApiClientTokenAuthentication(BaseAuthentication):
    """Authenticates an API client by its token; `request.auth` is the ApiClient.

    It comes first among the authentication classes, so that a request without
    credentials on a protected endpoint is a 401 with `WWW-Authenticate: Token`.
    """

    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header: give 'Token <key>'."))
        try:
            token = parts[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if len(token) > limits.MAX_TOKEN_LENGTH:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        client = selectors.client_with_token(token)
        if client is None or not client.is_active or not client.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return client.user, client

    def authenticate_header(self, request) -> str:
        return self.keyword


def api_client_of(request) -> ApiClient | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiClient) else None


def actor_of(request) -> str:
    """The name written to the inventory log: the API client's name, else the username."""
    client = api_client_of(request)
    if client is not None:
        return client.name
    return request.user.get_username()


def idempotency_scope_of(request) -> str:
    """Who an Idempotency-Key belongs to: one client, or one user."""
    client = api_client_of(request)
    if client is not None:
        return f"client:{client.pk}"
    return f"user:{request.user.pk}"


class ApiClientTokenScheme(OpenApiAuthenticationExtension):
    target_class = "inventory.api.authentication.ApiClientTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            # The prefix is `Token`, not `Bearer`: generated clients that default to Bearer
            # (openapi-python-client) must be told, e.g. `AuthenticatedClient(..., prefix="Token")`.
            "description": (
                "Send `Authorization: Token <key>` (the word `Token`, a space, then the key; not `Bearer`), "
                "with the key printed by `manage.py create_api_client NAME --role internal|staff`. "
                "Example: `Authorization: Token 9b1c3f0e6d2a4b8c`. With a client made by "
                'openapi-python-client: `AuthenticatedClient(base_url=..., token=key, prefix="Token")`.'
            ),
        }
