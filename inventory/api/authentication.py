"""`Authorization: Token <key>` for API clients, and who the actor of a request is."""

from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from inventory import db, limits
from inventory.models.api_clients import ApiClient, hash_token

_CLIENT_FIELDS = ApiClient._meta.concrete_fields


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
        client = _client_with_token(token)
        if client is None or not client.is_active or not client.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return client.user, client

    def authenticate_header(self, request) -> str:
        return self.keyword


def _client_with_token(token: str) -> ApiClient | None:
    """The client holding this token, with its user, or None.

    Every authenticated request runs this lookup. On PostgreSQL it is one prepared
    statement: building and compiling the ORM query for it was the largest share of
    an internal request's CPU once the stock operations were single statements.
    """
    token_hash = hash_token(token)
    if not db.postgresql_statements():
        # `.get()`, not `.first()`, which would add an ORDER BY.
        try:
            return ApiClient.objects.select_related("user").get(token_hash=token_hash)
        except ApiClient.DoesNotExist:
            return None
    rows = db.fetch_all(_client_with_token_sql(), {"token_hash": token_hash})
    if not rows:
        return None
    client_values, user_values = rows[0][: len(_CLIENT_FIELDS)], rows[0][len(_CLIENT_FIELDS) :]
    client = ApiClient.from_db(connection.alias, None, client_values)
    client.user = get_user_model().from_db(connection.alias, None, user_values)
    return client


@cache
def _client_with_token_sql() -> str:
    user_model = get_user_model()
    client_columns = ", ".join(f"client.{field.column}" for field in _CLIENT_FIELDS)
    user_columns = ", ".join(f"person.{field.column}" for field in user_model._meta.concrete_fields)
    user_key = ApiClient._meta.get_field("user").column
    return (
        f"SELECT {client_columns}, {user_columns}"  # noqa: S608 (names from the models, the hash a parameter)
        f" FROM {ApiClient._meta.db_table} AS client"
        f" JOIN {user_model._meta.db_table} AS person ON person.{user_model._meta.pk.column} = client.{user_key}"
        " WHERE client.token_hash = %(token_hash)s"
    )


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
            "description": (
                "`Token <key>`, the key printed by `manage.py create_api_client NAME --role internal|staff`."
            ),
        }
