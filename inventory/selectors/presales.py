"""Reads of pre-sale: the pre-sales with their backorders' figures, and an order's lines with their state.

An order's line, per product and warehouse, is what it holds (active and confirmed
reservations) and what it sold ahead of stock (its backorder there): backordered,
filled so far, cancelled before it came, still outstanding, and the batches that
filled it (its `backorder_fill` entries, each with its time and the reference of the
arrival that brought it). Three queries whatever the order's size.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import TypedDict

from django.db.models import BigIntegerField, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from inventory.exceptions import ReservationNotFound
from inventory.models import Backorder, InventoryLog, PreSale, PurchaseOrderLine, Reservation
from inventory.selectors.warehouses import warehouse_code

_HELD = (Reservation.Status.ACTIVE, Reservation.Status.CONFIRMED)


class Batch(TypedDict):
    quantity: int
    reference: str
    reason: str
    created_at: datetime


class OrderLine(TypedDict):
    product_id: int
    warehouse: str
    held: int
    hold_status: str | None
    backordered: int
    filled: int
    cancelled: int
    outstanding: int
    backorder_status: str | None
    presale: str | None
    expected_date: date | None
    batches: list[Batch]


class SoldAhead(TypedDict):
    product_id: int
    warehouse: str
    presale: str
    quantity: int
    filled: int
    status: str
    expected_date: date | None


def sold_ahead(backorders: Sequence[Backorder]) -> list[SoldAhead]:
    """A reserve's backorders as its answer shows them (their pre-sales loaded), each with the day
    its pre-sale's purchase order expects the product: one query, none without backorders."""
    expected: dict[tuple[int, int], date] = {}
    orders = {b.presale.purchase_order_id for b in backorders if b.presale.purchase_order_id is not None}
    if orders:
        due = PurchaseOrderLine.objects.filter(order_id__in=orders, product_id__in={b.product_id for b in backorders})
        expected = {(o, p): day for o, p, day in due.values_list("order_id", "product_id", "expected_date")}
    return [
        {
            "product_id": backorder.product_id,
            "warehouse": warehouse_code(backorder.warehouse_id),
            "presale": backorder.presale.code,
            "quantity": backorder.quantity,
            "filled": backorder.filled,
            "status": backorder.status,
            "expected_date": expected.get((backorder.presale.purchase_order_id, backorder.product_id)),
        }
        for backorder in backorders
    ]


def presales() -> QuerySet[PreSale]:
    """Every pre-sale, newest first, with `filled` (units its backorders were shipped) and
    `outstanding` (units its open backorders still wait for)."""
    of_presale = Backorder.objects.filter(presale=OuterRef("pk")).order_by().values("presale")
    return PreSale.objects.annotate(
        filled=_total(of_presale.annotate(total=Sum("filled"))),
        outstanding=_total(
            of_presale.filter(status=Backorder.Status.OPEN).annotate(total=Sum(F("quantity") - F("filled")))
        ),
    ).order_by("-id")


def order_lines(order_id: str, *, client_id: int | None = None, product_id: int | None = None) -> list[OrderLine]:
    """The order's lines (of one product, if given; of that client's order, if given), by product
    and warehouse; ReservationNotFound when the order holds and backordered nothing."""
    holds = Reservation.objects.filter(order_id=order_id)
    backorders = Backorder.objects.filter(order_id=order_id)
    fills = InventoryLog.objects.filter(order_id=order_id, operation=InventoryLog.Operation.BACKORDER_FILL)
    if product_id is not None:
        holds, backorders, fills = (rows.filter(product_id=product_id) for rows in (holds, backorders, fills))
    if client_id is not None:
        holds = holds.filter(client_id=client_id)
        backorders = backorders.filter(client_id=client_id)
        fills = fills.filter(backorder__client_id=client_id)
    lines: dict[tuple[int, int], OrderLine] = {}

    def line_of(product: int, warehouse_id: int) -> OrderLine:
        return lines.setdefault((product, warehouse_id), _empty_line(product, warehouse_id))

    for product, warehouse_id, quantity, status in holds.values_list(
        "product_id", "warehouse_id", "quantity", "status"
    ):
        line = line_of(product, warehouse_id)
        line["hold_status"] = status
        line["held"] += quantity if status in _HELD else 0
    expected = PurchaseOrderLine.objects.filter(
        order_id=OuterRef("presale__purchase_order_id"), product_id=OuterRef("product_id")
    ).values("expected_date")[:1]
    # Oldest first: a line cancelled and placed again sums both, its status and pre-sale the newest's.
    for backorder in backorders.select_related("presale").annotate(expected_date=Subquery(expected)).order_by("id"):
        line = line_of(backorder.product_id, backorder.warehouse_id)
        cancelled = backorder.quantity - backorder.filled if backorder.status == Backorder.Status.CANCELLED else 0
        line["backordered"] += backorder.quantity
        line["filled"] += backorder.filled
        line["cancelled"] += cancelled
        line["outstanding"] += backorder.outstanding
        line["backorder_status"] = backorder.status
        line["presale"] = backorder.presale.code
        if backorder.outstanding:
            line["expected_date"] = backorder.expected_date
    batches: dict[tuple[int, int], list[Batch]] = defaultdict(list)
    for product, warehouse_id, quantity, reference, reason, created_at in fills.order_by("id").values_list(
        "product_id", "warehouse_id", "quantity", "reference", "reason", "created_at"
    ):
        batches[(product, warehouse_id)].append(
            {"quantity": quantity, "reference": reference, "reason": reason, "created_at": created_at}
        )
    if not lines:
        raise ReservationNotFound(order_id, product_id)
    for key, line in lines.items():
        line["batches"] = batches.get(key, [])
    return [lines[key] for key in sorted(lines)]


def _empty_line(product_id: int, warehouse_id: int) -> OrderLine:
    return {
        "product_id": product_id,
        "warehouse": warehouse_code(warehouse_id),
        "held": 0,
        "hold_status": None,
        "backordered": 0,
        "filled": 0,
        "cancelled": 0,
        "outstanding": 0,
        "backorder_status": None,
        "presale": None,
        "expected_date": None,
        "batches": [],
    }


def _total(rows: QuerySet) -> Coalesce:
    return Coalesce(Subquery(rows.values("total")), Value(0), output_field=BigIntegerField())
