"""Purchase orders: goods ordered from a supplier for one warehouse, received in parts.

- `create_purchase_order` records what was ordered: per product a quantity and the day
  it is expected. Nothing changes stock; the outstanding units count as incoming stock
  in available-to-promise (`inventory.selectors.atp`) while the order is open.
- `receive_purchase_order` takes in one delivery: it restocks the order's warehouse by
  the units received, a `restock` entry per line whose reference names the order
  (`po:<id>`), and records the receipt. A line may receive more than was ordered (the
  over-delivery is recorded, not refused, up to MAX_QUANTITY) or less; the order is
  `received` once every line has had at least what was ordered, `partially_received`
  until then. A product the warehouse has no level of yet gets one.
- `close_purchase_order` ends what is still outstanding (an under-delivery): the lines
  keep what was ordered and what came, the order is `closed` and counts as incoming no
  more. `cancel_purchase_order` ends an order nothing was received against.

Each step is one transaction. Locks, as every writer of levels: a step locks the order's
row first, then (a receipt) every row of the levels it restocks, in lock order (by id),
before it moves any: a receipt waits for a reserve of the same products, or a reserve
for it, and the two never deadlock.

Pre-sale: a receipt also fills the open backorders of its levels, oldest first, in the
receipt's transaction after its units are in and before `sold_out.observe`, under the
level locks it holds already (`_restock_lines`, `backorders.fill_backorders`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Now

from inventory import limits
from inventory.exceptions import (
    InvalidInput,
    ProductNotFound,
    PurchaseOrderHasReceipts,
    PurchaseOrderNotFound,
    PurchaseOrderNotOpen,
)
from inventory.models import Inventory, InventoryLog, PurchaseOrder, PurchaseOrderLine, Receipt, ReceiptLine
from inventory.parsing import has_nul
from inventory.selectors.purchasing import purchase_order_reference, purchase_orders
from inventory.services import sold_out, store
from inventory.services._validation import require_int, require_product_id, require_quantity
from inventory.services.backorders import fill_backorders
from inventory.services.stock import ensure_level, own_row, warehouse_id_of
from inventory.services.store import LevelKey, Movement

Operation = InventoryLog.Operation
Status = PurchaseOrder.Status


@dataclass(frozen=True)
class PurchaseOrderLineInput:
    product_id: int
    quantity: int
    expected_date: date


@dataclass(frozen=True)
class ReceiptLineInput:
    product_id: int
    quantity: int


def create_purchase_order(
    *,
    supplier: str,
    warehouse: str,
    lines: Sequence[PurchaseOrderLineInput],
    actor: str,
    supplier_reference: str = "",
    note: str = "",
) -> PurchaseOrder:
    """An open purchase order of these lines (each product once) for `warehouse`.

    ProductNotFound when a line's product has no inventory record, WarehouseNotFound
    when there is no such warehouse.
    """
    _require_supplier(supplier)
    _require_text("supplier_reference", supplier_reference, limits.MAX_REFERENCE_LENGTH)
    _require_text("note", note, limits.MAX_REASON_LENGTH)
    _require_lines(lines)
    warehouse_id = warehouse_id_of(warehouse)
    wanted = {line.product_id for line in lines}
    known = set(Inventory.products.filter(product_id__in=wanted).values_list("product_id", flat=True))
    if missing := sorted(wanted - known):
        raise ProductNotFound(missing[0])
    with transaction.atomic():
        order = PurchaseOrder.objects.create(
            supplier=supplier,
            supplier_reference=supplier_reference,
            warehouse_id=warehouse_id,
            note=note,
            actor=actor,
        )
        PurchaseOrderLine.objects.bulk_create(
            PurchaseOrderLine(
                order=order, product_id=line.product_id, quantity=line.quantity, expected_date=line.expected_date
            )
            for line in sorted(lines, key=lambda line: line.product_id)
        )
    return get_purchase_order(order.pk)


def receive_purchase_order(
    *,
    purchase_order_id: int,
    actor: str,
    lines: Sequence[ReceiptLineInput] | None = None,
    reference: str = "",
) -> PurchaseOrder:
    """Take in one delivery: restock the order's warehouse by each line's units and record the receipt.

    `lines` are the units that came per product (each product once); by default every
    unit still outstanding. A product the order does not list, or more than a line can
    ever hold (MAX_QUANTITY received), is InvalidInput and nothing is received.
    """
    if lines is not None:
        _require_receipt_lines(lines)
    _require_text("reference", reference, limits.MAX_REFERENCE_LENGTH)
    writer = store.current()
    with transaction.atomic():
        order, ordered = _locked_open(purchase_order_id)
        wanted = (
            {line.product_id: line.quantity for line in lines}
            if lines is not None
            else {product_id: line.outstanding for product_id, line in ordered.items() if line.outstanding}
        )
        if not wanted:
            raise InvalidInput("Nothing of this purchase order is outstanding.", lines="Name the units received.")
        _require_receivable(wanted, ordered)
        receipt = Receipt.objects.create(order=order, reference=reference, actor=actor)
        ReceiptLine.objects.bulk_create(
            ReceiptLine(receipt=receipt, line=ordered[product_id], quantity=quantity)
            for product_id, quantity in sorted(wanted.items())
        )
        for product_id, quantity in sorted(wanted.items()):
            _receive_line(ordered[product_id], quantity)
        _restock_lines(writer, order, receipt, wanted, actor=actor)
        complete = all(
            line.received + wanted.get(product_id, 0) >= line.quantity for product_id, line in ordered.items()
        )
        _set_status(order, Status.RECEIVED if complete else Status.PARTIALLY_RECEIVED)
    return get_purchase_order(order.pk)


def close_purchase_order(*, purchase_order_id: int, actor: str, reason: str = "") -> PurchaseOrder:
    """End what is still outstanding of an open order: it will not come (an under-delivery).

    The lines keep what was ordered and what came; the order counts as incoming no more.
    """
    _require_text("reason", reason, limits.MAX_REASON_LENGTH)
    with transaction.atomic():
        order, _ = _locked_open(purchase_order_id)
        _set_status(order, Status.CLOSED, ended_by=actor, end_reason=reason)
    return get_purchase_order(order.pk)


def cancel_purchase_order(*, purchase_order_id: int, actor: str, reason: str = "") -> PurchaseOrder:
    """Cancel an order nothing was received against (PurchaseOrderHasReceipts otherwise: close it)."""
    _require_text("reason", reason, limits.MAX_REASON_LENGTH)
    with transaction.atomic():
        order, ordered = _locked_open(purchase_order_id)
        if order.status != Status.OPEN or any(line.received for line in ordered.values()):
            raise PurchaseOrderHasReceipts(order.pk)
        _set_status(order, Status.CANCELLED, ended_by=actor, end_reason=reason)
    return get_purchase_order(order.pk)


def get_purchase_order(purchase_order_id: int) -> PurchaseOrder:
    """A purchase order with its lines and receipts; PurchaseOrderNotFound if there is none."""
    require_int("purchase_order_id", purchase_order_id, minimum=1, maximum=limits.MAX_PRODUCT_ID)
    found = purchase_orders().select_related("warehouse").filter(pk=purchase_order_id).first()
    if found is None:
        raise PurchaseOrderNotFound(purchase_order_id)
    return found


# --- Steps ----------------------------------------------------------------------------


def _restock_lines(
    writer: store.OrmStore, order: PurchaseOrder, receipt: Receipt, wanted: dict[int, int], *, actor: str
) -> None:
    """Add each line's units to the warehouse's available stock, with a `restock` entry each.

    Every level is opened first where there is none, then all of them are locked (each
    row of each, in lock order) before any moves, as `receive_transfer` does. The units
    then fill the levels' open backorders (`backorders.fill_backorders`) under those locks.
    """
    levels: list[LevelKey] = [(product_id, order.warehouse_id) for product_id in sorted(wanted)]
    for level in levels:
        ensure_level(writer, level, actor=actor)
    writer.lock_levels(levels)
    for level in levels:
        if not writer.update_row(own_row(level), available_delta=wanted[level[0]]):
            raise RuntimeError(f"The restock of locked level {level} changed no row.")
    writer.record([_movement(order, receipt, level, wanted[level[0]]) for level in levels], actor=actor)
    # The units that came go to the levels' backorders first, from the own rows that hold them.
    fill_backorders(
        writer,
        {level: wanted[level[0]] for level in levels},
        actor=actor,
        reason=_receipt_reason(receipt),
        reference=purchase_order_reference(order.pk),
    )
    writer.even_out(levels, actor=actor)
    sold_out.observe(wanted)


def _movement(order: PurchaseOrder, receipt: Receipt, level: LevelKey, quantity: int) -> Movement:
    product_id, warehouse_id = level
    return Movement(
        product_id=product_id,
        warehouse_id=warehouse_id,
        operation=Operation.RESTOCK,
        quantity=quantity,
        available_delta=quantity,
        reason=_receipt_reason(receipt),
        reference=purchase_order_reference(order.pk),
    )


def _receipt_reason(receipt: Receipt) -> str:
    """What a receipt's ledger entries say: the receipt, and its delivery note when it has one."""
    words = f"receipt {receipt.pk}"
    return f"{words}: {receipt.reference}" if receipt.reference else words


def _receive_line(line: PurchaseOrderLine, quantity: int) -> None:
    arrived = PurchaseOrderLine.objects.filter(pk=line.pk, received__lte=limits.MAX_QUANTITY - quantity).update(
        received=F("received") + quantity
    )
    if arrived != 1:
        raise RuntimeError(f"Line {line.pk} of a locked purchase order changed under its lock.")


def _set_status(order: PurchaseOrder, status: str, **ended: str) -> None:
    PurchaseOrder.objects.filter(pk=order.pk).update(status=status, updated_at=Now(), **ended)


def _locked_open(purchase_order_id: int) -> tuple[PurchaseOrder, dict[int, PurchaseOrderLine]]:
    require_int("purchase_order_id", purchase_order_id, minimum=1, maximum=limits.MAX_PRODUCT_ID)
    order = PurchaseOrder.objects.select_for_update().filter(pk=purchase_order_id).first()
    if order is None:
        raise PurchaseOrderNotFound(purchase_order_id)
    if not order.is_open:
        raise PurchaseOrderNotOpen(order.pk, order.status)
    return order, {line.product_id: line for line in order.lines.order_by("product_id")}


# --- Checks ---------------------------------------------------------------------------


def _require_receivable(wanted: dict[int, int], ordered: dict[int, PurchaseOrderLine]) -> None:
    problems = {}
    for product_id, quantity in wanted.items():
        line = ordered.get(product_id)
        if line is None:
            problems[str(product_id)] = "The purchase order does not list this product."
        elif line.received + quantity > limits.MAX_QUANTITY:
            problems[str(product_id)] = (
                f"A line receives at most {limits.MAX_QUANTITY} units; {line.received} were received already."
            )
    if problems:
        raise InvalidInput("Cannot receive these lines.", lines=problems)


def _require_lines(lines: Sequence[PurchaseOrderLineInput]) -> None:
    most = limits.MAX_PURCHASE_ORDER_LINES
    if not 1 <= len(lines) <= most:
        raise InvalidInput(f"A purchase order has 1 to {most} lines.", lines=f"1 to {most} lines.")
    for line in lines:
        require_product_id(line.product_id)
        require_quantity(line.quantity)
        # A datetime is a date too, and is refused: a line is due on a day.
        if type(line.expected_date) is not date:
            raise InvalidInput("expected_date must be a date.", expected_date=str(line.expected_date))
    if len({line.product_id for line in lines}) != len(lines):
        raise InvalidInput("Each product may appear once in a purchase order.", lines="Each product once.")


def _require_receipt_lines(lines: Sequence[ReceiptLineInput]) -> None:
    most = limits.MAX_PURCHASE_ORDER_LINES
    if not 1 <= len(lines) <= most:
        raise InvalidInput(f"A receipt has 1 to {most} lines.", lines=f"1 to {most} lines.")
    for line in lines:
        require_product_id(line.product_id)
        require_quantity(line.quantity)
    if len({line.product_id for line in lines}) != len(lines):
        raise InvalidInput("Each product may appear once in a receipt.", lines="Each product once.")


def _require_supplier(supplier: object) -> None:
    if not limits.is_label(supplier, limits.SUPPLIER_NAME_MAX_LENGTH) or not supplier:
        raise InvalidInput(
            f"supplier must be 1 to {limits.SUPPLIER_NAME_MAX_LENGTH} characters, none a control character.",
            supplier="A supplier's name is required.",
        )


def _require_text(name: str, value: object, max_length: int) -> None:
    if not isinstance(value, str) or len(value) > max_length or has_nul(value):
        raise InvalidInput(
            f"{name} must be text of at most {max_length} characters, without NUL.", **{name: "Invalid."}
        )
