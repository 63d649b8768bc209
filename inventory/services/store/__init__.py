"""How a change of stock is written: the services decide what changes, a store writes it.

- `OrmStore` (orm.py): Django's ORM, portable (SQLite in the quick start), and the
  rare paths everywhere;
- `PostgreSQLStore` (postgresql.py): the hot paths (reserve, settle an order, a batch
  of expiries, many rows at once) as single statements kept in `sql/`, everything
  else inherited from the ORM store.

Both write a row's counters through `counters.py` and choose rows through
`inventory.services.allocation`, and both run through one contract suite (the
service tests, the Hypothesis state machine and the concurrency tests, with the
`store` fixture of tests/conftest.py). Only `inventory.services` imports this package
(a contract of `make lint`).
"""

from django.db import connection

from inventory.services.store.orm import EXPIRY, PAYMENT, RELEASE, OrmStore, hold_movement, rebalance_movement, row_of
from inventory.services.store.postgresql import PostgreSQLStore
from inventory.services.store.types import Counters, Deltas, Draw, Ending, LevelKey, LineOutcome, Movement, RowKey

STORES: dict[str, OrmStore] = {"orm": OrmStore(), "postgresql": PostgreSQLStore()}


def current() -> OrmStore:
    """The store of the default database: PostgreSQL's there, the ORM's elsewhere."""
    return STORES["postgresql" if connection.vendor == "postgresql" else "orm"]


__all__ = [
    "EXPIRY",
    "PAYMENT",
    "RELEASE",
    "STORES",
    "Counters",
    "Deltas",
    "Draw",
    "Ending",
    "LevelKey",
    "LineOutcome",
    "Movement",
    "OrmStore",
    "PostgreSQLStore",
    "RowKey",
    "current",
    "hold_movement",
    "rebalance_movement",
    "row_of",
]
