"""Assertions shared by the inventory tests."""

from django.db.models import Sum

from inventory.models import Inventory, InventoryLog, Reservation
from inventory.selectors import ledger_discrepancies


def stock_of(product_id: int) -> tuple[int, int]:
    row = Inventory.objects.get(product_id=product_id)
    return row.available_stock, row.reserved_stock


def last_entry(product_id: int) -> InventoryLog:
    return InventoryLog.objects.filter(product_id=product_id).latest("id")


def assert_invariants(product_id: int) -> None:
    """The contract's invariants 1-3 for one product."""
    row = Inventory.objects.get(product_id=product_id)
    assert row.available_stock >= 0
    assert row.reserved_stock >= 0
    held = (
        Reservation.objects.filter(product_id=product_id, status=Reservation.Status.ACTIVE).aggregate(
            total=Sum("quantity")
        )["total"]
        or 0
    )
    assert row.reserved_stock == held
    assert row.total_stock == row.available_stock + row.reserved_stock
    assert list(ledger_discrepancies(product_id=product_id)) == []
