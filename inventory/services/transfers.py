"""Goods moved between warehouses: out of the source at once, received in parts, or cancelled.

A transfer takes its units out of the source's available stock with the same guarded
update as a reserve, so it can never sell what an order holds or oversell against
concurrent orders; while travelling they count in neither warehouse's available or
reserved stock and show as `in_transit` on the destination's level. Each step (out,
each receipt, the cancel) is one transaction with its ledger entries:
`transfer_out` on the source, `transfer_in` on the destination, `transfer_return` on
the source. Locks: a step on an existing transfer locks its row first, then the
levels in lock order (by id), like every other writer of levels.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Now

from inventory import limits
from inventory.exceptions import (
    InsufficientStock,
    InvalidInput,
    ShortLine,
    TransferNotFound,
    TransferNotOpen,
)
from inventory.models import InventoryLog, StockLevel, Transfer, TransferLine
from inventory.selectors.transfers import transfer_reference
from inventory.services import sold_out, store
from inventory.services._validation import require_int, require_product_id, require_quantity
from inventory.services.backorders import fill_backorders
from inventory.services.stock import ensure_level, own_row, warehouse_id_of
from inventory.services.store import LevelKey, Movement

Operation = InventoryLog.Operation
Status = Transfer.Status


@dataclass(frozen=True)
class TransferLineInput:
    product_id: int
    quantity: int


def create_transfer(
    *, source: str, destination: str, lines: Sequence[TransferLineInput], actor: str, reference: str = ""
) -> Transfer:
    """Take every line out of `source`'s available stock and put it in transit to `destination`,
    or none of them (InsufficientStock)."""
    _require_lines(lines, "lines")
    source_id, destination_id = warehouse_id_of(source), warehouse_id_of(destination)
    if source_id == destination_id:
        raise InvalidInput("A transfer goes from one warehouse to another.", to="The source and destination are one.")
    writer = store.current()
    with transaction.atomic():
        for line in lines:
            ensure_level(writer, (line.product_id, destination_id), actor=actor)
        writer.lock_levels(
            [(line.product_id, source_id) for line in lines] + [(line.product_id, destination_id) for line in lines]
        )
        # A hot source level's units are gathered into its own row first.
        writer.top_up({(line.product_id, source_id, 0): line.quantity for line in lines}, actor=actor)
        taken = {(line.product_id, source_id, 0): (-line.quantity, 0) for line in lines}
        after = writer.move_many(taken)
        if len(after) != len(lines):
            raise _shortage(lines, source_id, after)
        for line in lines:
            _move(writer, (line.product_id, destination_id), in_transit_delta=line.quantity)
        shipment = Transfer.objects.create(
            source_id=source_id, destination_id=destination_id, reference=reference, actor=actor
        )
        TransferLine.objects.bulk_create(
            TransferLine(transfer=shipment, product_id=line.product_id, quantity=line.quantity) for line in lines
        )
        movements = [
            _movement(shipment, line.product_id, source_id, Operation.TRANSFER_OUT, -line.quantity)
            for line in sorted(lines, key=lambda line: line.product_id)
        ]
        writer.write_entries(movements, actor=actor, after=after)
        sold_out.observe(line.product_id for line in lines)
    return get_transfer(shipment.pk)


def receive_transfer(*, transfer_id: int, actor: str, lines: Sequence[TransferLineInput] | None = None) -> Transfer:
    """Add received units to the destination's available stock; by default everything still in transit.

    Receiving more of a line than is in transit, or a product the transfer does not
    carry, is InvalidInput and nothing is received.
    """
    if lines is not None:
        _require_lines(lines, "lines")
    writer = store.current()
    with transaction.atomic():
        shipment, carried = _locked_open(transfer_id)
        wanted = (
            {line.product_id: line.quantity for line in lines}
            if lines is not None
            else {product_id: line.outstanding for product_id, line in carried.items() if line.outstanding}
        )
        _require_receivable(wanted, carried)
        destination = shipment.destination_id
        writer.lock_levels((product_id, destination) for product_id in wanted)
        for product_id, quantity in sorted(wanted.items()):
            _move(writer, (product_id, destination), available_delta=quantity, in_transit_delta=-quantity)
            _receive_line(carried[product_id], quantity)
        complete = all(line.outstanding == wanted.get(product_id, 0) for product_id, line in carried.items())
        _set_status(shipment, Status.RECEIVED if complete else Status.PARTIALLY_RECEIVED)
        writer.record(
            [
                _movement(shipment, product_id, destination, Operation.TRANSFER_IN, quantity)
                for product_id, quantity in sorted(wanted.items())
            ],
            actor=actor,
        )
        # The units that came go to the destination's backorders first, from the own rows that hold them.
        fill_backorders(
            writer,
            {(product_id, destination): quantity for product_id, quantity in wanted.items()},
            actor=actor,
            reference=transfer_reference(shipment.pk),
        )
        writer.even_out([(product_id, destination) for product_id in wanted], actor=actor)
        sold_out.observe(wanted)
    return get_transfer(transfer_id)


def cancel_transfer(*, transfer_id: int, actor: str) -> Transfer:
    """Return whatever is still in transit to the source's available stock."""
    writer = store.current()
    with transaction.atomic():
        shipment, carried = _locked_open(transfer_id)
        back = {product_id: line.outstanding for product_id, line in carried.items() if line.outstanding}
        levels = [(p, shipment.source_id) for p in back] + [(p, shipment.destination_id) for p in back]
        writer.lock_levels(levels)
        for product_id, quantity in sorted(back.items()):
            _move(writer, (product_id, shipment.destination_id), in_transit_delta=-quantity)
            _move(writer, (product_id, shipment.source_id), available_delta=quantity)
        _set_status(shipment, Status.CANCELLED)
        writer.record(
            [
                _movement(shipment, product_id, shipment.source_id, Operation.TRANSFER_RETURN, quantity)
                for product_id, quantity in sorted(back.items())
            ],
            actor=actor,
        )
        writer.even_out([(product_id, shipment.source_id) for product_id in back], actor=actor)
        sold_out.observe(back)
    return get_transfer(transfer_id)


def get_transfer(transfer_id: int) -> Transfer:
    """A transfer with its lines and warehouses; TransferNotFound if there is none."""
    require_int("transfer_id", transfer_id, minimum=1, maximum=limits.MAX_PRODUCT_ID)
    found = (
        Transfer.objects.select_related("source", "destination")
        .prefetch_related("lines")
        .filter(pk=transfer_id)
        .first()
    )
    if found is None:
        raise TransferNotFound(transfer_id)
    return found


def _require_lines(lines: Sequence[TransferLineInput], name: str) -> None:
    if not 1 <= len(lines) <= limits.MAX_TRANSFER_LINES:
        raise InvalidInput(f"A transfer has 1 to {limits.MAX_TRANSFER_LINES} lines.", **{name: "1 to 100 lines."})
    for line in lines:
        require_product_id(line.product_id)
        require_quantity(line.quantity)
    if len({line.product_id for line in lines}) != len(lines):
        raise InvalidInput("Each product may appear once in a transfer.", **{name: "Each product once."})


def _locked_open(transfer_id: int) -> tuple[Transfer, dict[int, TransferLine]]:
    require_int("transfer_id", transfer_id, minimum=1, maximum=limits.MAX_PRODUCT_ID)
    shipment = Transfer.objects.select_for_update().filter(pk=transfer_id).first()
    if shipment is None:
        raise TransferNotFound(transfer_id)
    if not shipment.is_open:
        raise TransferNotOpen(transfer_id, shipment.status)
    return shipment, {line.product_id: line for line in shipment.lines.all()}


def _require_receivable(wanted: dict[int, int], carried: dict[int, TransferLine]) -> None:
    problems = {}
    for product_id, quantity in wanted.items():
        line = carried.get(product_id)
        if line is None:
            problems[str(product_id)] = "The transfer does not carry this product."
        elif quantity > line.outstanding:
            problems[str(product_id)] = f"Only {line.outstanding} of this product are in transit."
    if problems:
        raise InvalidInput("Cannot receive more than is in transit.", lines=problems)


def _move(writer: store.OrmStore, level: LevelKey, **deltas: int) -> None:
    """One guarded update of a locked level's own row that cannot fail (its units are the transfer's)."""
    if not writer.update_row(own_row(level), **deltas):
        raise RuntimeError(f"The transfer's units of level {level} are not where they should be.")


def _shortage(lines: Sequence[TransferLineInput], source_id: int, taken: dict) -> InsufficientStock:
    available = dict(
        StockLevel.objects.filter(
            product_id__in=[line.product_id for line in lines], warehouse_id=source_id
        ).values_list("product_id", "available_stock")
    )
    return InsufficientStock(
        [
            ShortLine(line.product_id, line.quantity, available.get(line.product_id, 0))
            for line in lines
            if (line.product_id, source_id, 0) not in taken
        ]
    )


def _receive_line(line: TransferLine, quantity: int) -> None:
    arrived = TransferLine.objects.filter(pk=line.pk, received__lte=F("quantity") - quantity).update(
        received=F("received") + quantity
    )
    if arrived != 1:
        raise RuntimeError(f"Line {line.pk} of a locked transfer changed under its lock.")


def _set_status(shipment: Transfer, status: str) -> None:
    Transfer.objects.filter(pk=shipment.pk).update(status=status, updated_at=Now())


def _movement(shipment: Transfer, product_id: int, warehouse_id: int, operation: str, available_delta: int) -> Movement:
    return Movement(
        product_id=product_id,
        warehouse_id=warehouse_id,
        operation=operation,
        quantity=abs(available_delta),
        available_delta=available_delta,
        reference=transfer_reference(shipment.pk),
    )
