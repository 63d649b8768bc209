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

They are sent with PostgreSQL's own `$1` placeholders (psycopg's `RawCursor`): the
`%(name)s` form is turned into them once per statement and process here, whereas
psycopg converts it anew on every call for a statement longer than 4,096 characters
(its cache's limit), which cost the reserve 0.14 ms a request.

The cursor is wrapped by Django like any other, so errors are Django's
(IntegrityError) and `connection.execute_wrapper` hooks see the statements. While
Django logs queries (DEBUG, or a test's CaptureQueriesContext) they are bound on the
client instead, so that the log shows them with their values rather than `$1`.
"""

import re
from dataclasses import dataclass
from functools import partial

from django.db import connection, models
from django.db.backends.postgresql.base import Cursor as ClientBindingCursor
from psycopg import RawCursor


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


@dataclass(frozen=True)
class _Native:
    """A statement with `$n` placeholders, and the parameter each stands for."""

    sql: str
    names: tuple[str, ...]


_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%|%")
_native_forms: dict[str, _Native] = {}


def native_form(sql: str) -> _Native:
    """`sql` with each `%(name)s` as `$n` (one number per name) and `%%` as `%`."""
    found = _native_forms.get(sql)
    if found is None:
        names: list[str] = []

        def placeholder(match: re.Match) -> str:
            if match.group(0) == "%%":
                return "%"
            if match.group(1) is None:
                raise ValueError(f"A lone % in a statement: {sql[:80]}")
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        native_sql = _PLACEHOLDER.sub(placeholder, sql)
        found = _native_forms[sql] = _Native(native_sql, tuple(names))
    return found


def _execute(sql: str, params: dict, read):
    # What `connection.cursor()` does before making a cursor, so that a connection
    # that died between requests is replaced here too (CONN_HEALTH_CHECKS).
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    if connection.queries_logged:
        with connection.wrap_database_errors:
            cursor = connection.make_debug_cursor(ClientBindingCursor(connection.connection))
        with cursor:
            cursor.execute(sql, params)
            return read(cursor)
    native = native_form(sql)
    with connection.wrap_database_errors:
        cursor = connection.make_cursor(RawCursor(connection.connection))
    with cursor:
        cursor.execute(native.sql, [params[name] for name in native.names])
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
