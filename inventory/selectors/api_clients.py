"""The API client behind a token: the lookup every authenticated request makes."""

from functools import cache

from django.contrib.auth import get_user_model

from inventory import db
from inventory.models import ApiClient
from inventory.models.api_clients import hash_token


def client_with_token(token: str) -> ApiClient | None:
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
    rows = db.fetch_rows(_client_with_token_sql(), {"token_hash": token_hash})
    if not rows:
        return None
    client = db.instance_from_row(ApiClient, "client", rows[0])
    client.user = db.instance_from_row(get_user_model(), "person", rows[0])
    return client


@cache
def _client_with_token_sql() -> str:
    user_model = get_user_model()
    user_key = ApiClient._meta.get_field("user").column
    return (
        f"SELECT {db.prefixed_columns(ApiClient, 'client')}, {db.prefixed_columns(user_model, 'person')}"  # noqa: S608 (names from the models, the hash a parameter)
        f" FROM {ApiClient._meta.db_table} AS client"
        f" JOIN {user_model._meta.db_table} AS person ON person.{user_model._meta.pk.column} = client.{user_key}"
        " WHERE client.token_hash = %(token_hash)s"
    )
