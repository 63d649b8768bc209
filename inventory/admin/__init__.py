"""The back office warehouse staff work in: one module per screen.

Stock never changes through a model form here: the change page of an item is
read-only and every change goes through a form page (restock, adjust, threshold,
CSV import) that calls `inventory.services` with the staff member as actor. The
log and the reservations are read-only; a reservation is released through the
service, never edited.
"""

from inventory.admin import (
    api_clients,
    counts,
    inventory,
    ledger,
    other_apps,
    planning,
    presales,
    purchasing,
    quotas,
    reservations,
    site,
    transfers,
    warehouses,
)

__all__ = [
    "api_clients",
    "counts",
    "inventory",
    "ledger",
    "other_apps",
    "planning",
    "presales",
    "purchasing",
    "quotas",
    "reservations",
    "site",
    "transfers",
    "warehouses",
]
