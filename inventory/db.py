"""Hand-written PostgreSQL statements of the hot paths, and how they are run.

The services' single-statement reserve, release, deduct and expiry
(`inventory/services/store/postgresql.py`) and the API token lookup are sent through
`fetch_all`; elsewhere than PostgreSQL (SQLite), `postgresql_statements()` is false
and the callers take their ORM paths instead.

Each is sent with server-side binding, so that psycopg prepares it on its
connection the first time it runs there (`prepare_threshold` 0, set in the settings),
and PostgreSQL parses it and plans it once per connection (`plan_cache_mode` is
`force_generic_plan`) instead of on every request: for the one-statement reserve,
planning was more of the database's CPU than running it. A generic plan is made from
the table statistics, and PostgreSQL makes it again when ANALYZE changes them.
Django's own queries are bound on the client, which psycopg never prepares, so
neither setting touches them; `DATABASE_PREPARED_STATEMENTS=false` turns this off
behind a pooler in transaction mode that cannot keep prepared statements.

The cursor is wrapped by Django like any other, so errors are Django's
(IntegrityError) and `connection.execute_wrapper` hooks see the statements. While
Django logs queries (DEBUG, or a test's CaptureQueriesContext) they are bound on the
client instead, so that the log shows them with their values rather than `$1`.
"""

from functools import partial

from django.db import connection, models
from django.db.backends.postgresql.base import Cursor as ClientBindingCursor
from django.db.backends.postgresql.base import ServerBindingCursor


def postgresql_statements() -> bool:
    """Whether the hand-written PostgreSQL statements serve; elsewhere (SQLite) the ORM paths do."""
    return connection.vendor == "postgresql"


def fetch_rows(sql: str, params: dict) -> list[dict]:
    """Run one statement on the default connection; its rows, by column name."""
    return _execute(sql, params, partial(_by_name, sql))


def fetch_all(sql: str, params: dict) -> list[tuple]:
    """Run one statement on the default connection; its rows."""
    return _execute(sql, params, lambda cursor: cursor.fetchall())


# The result columns of each statement: psycopg builds `cursor.description` anew on
# every call (24 objects for a reserve, a tenth of a millisecond), and a statement's
# columns never change.
_column_names: dict[str, tuple[str, ...]] = {}


def _by_name(sql: str, cursor) -> list[dict]:
    names = _column_names.get(sql)
    if names is None:
        names = _column_names[sql] = tuple(column.name for column in cursor.description)
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _execute(sql: str, params: dict, read):
    # What `connection.cursor()` does before making a cursor, so that a connection
    # that died between requests is replaced here too (CONN_HEALTH_CHECKS).
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        if connection.queries_logged:
            cursor = connection.make_debug_cursor(ClientBindingCursor(connection.connection))
        else:
            cursor = connection.make_cursor(ServerBindingCursor(connection.connection))
    with cursor:
        cursor.execute(sql, params)
        return read(cursor)


def prefixed_columns(model: type[models.Model], table: str, *, qualified: bool = True) -> str:
    """The model's columns of `table` (a table or CTE alias), each named `<table>__<column>` in a result
    (`qualified=False`: the columns written bare, for a RETURNING list)."""
    prefix = f"{table}." if qualified else ""
    return ", ".join(f"{prefix}{field.column} AS {table}__{field.column}" for field in model._meta.concrete_fields)


def instance_from_row(model: type[models.Model], table: str, row: dict) -> models.Model:
    """The model instance that `prefixed_columns(model, table)` put into a row of `fetch_rows`."""
    values = [row[f"{table}__{field.column}"] for field in model._meta.concrete_fields]
    return model.from_db(connection.alias, None, values)
