"""Stock steps of an order's life, for an order domain that lives in this monolith.

The order of calls: reserve before the order is created (`place_order`), deduct
when the payment succeeds (`pay_order`), release when the order is cancelled
(`cancel_order`).

Why these call `inventory.services` in process and not `InventoryClient`: inside
the monolith an HTTP hop to ourselves would add latency, a token to manage and a
failure mode (the network) while changing nothing about correctness: the
services are the one writer of stock either way, each call is its own short
transaction and is idempotent by order id, and their domain errors are the same
ones the API turns into error codes. An order application in another process
uses `orders_integration.client.InventoryClient`, which mirrors these steps.

Domain errors other than the ones handled here propagate unchanged
(`inventory.exceptions`): `ProductNotFound`, `ReservationExists`, `InvalidInput`...
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from inventory import services
from inventory.exceptions import (
    InsufficientStock,
    ReservationExpired,
    ReservationNotActive,
    ReservationNotFound,
    ShortLine,
)
from inventory.services import ReservationLine
from inventory.services.allocation import Destination

if TYPE_CHECKING:
    from inventory.models import Reservation

ORDERS_ACTOR = "orders"

Order = TypeVar("Order")

__all__ = [
    "ORDERS_ACTOR",
    "Destination",
    "InsufficientStock",
    "PlacedOrder",
    "RefundRequired",
    "ReservationLine",
    "cancel_order",
    "pay_order",
    "place_order",
]


@dataclass(frozen=True)
class PlacedOrder(Generic[Order]):
    order_id: str
    # In line order; a line split over several warehouses has one reservation per warehouse.
    reservations: list[Reservation]
    # What `create_order` returned, or None when no callback was given.
    order: Order | None


class RefundRequired(Exception):
    """The payment cannot be honoured with stock: refund it.

    `reason` is the inventory error code behind it: `reservation_expired` (the
    holds lapsed and their units were sold meanwhile; `short_lines` says which) or
    `reservation_not_active` (the order had been cancelled).
    """

    def __init__(self, order_id: str, reason: str, message: str, short_lines: Sequence[ShortLine] = ()) -> None:
        super().__init__(f"Refund order {order_id}: {message}")
        self.order_id = order_id
        self.reason = reason
        self.short_lines = tuple(short_lines)


def place_order(
    *,
    order_id: str,
    lines: Sequence[ReservationLine],
    create_order: Callable[[], Order] | None = None,
    actor: str = ORDERS_ACTOR,
    ttl_seconds: int | None = None,
    pool: str | None = None,
    ship_to: Destination | None = None,
    split: bool | None = None,
) -> PlacedOrder[Order]:
    """Hold every line, then create the order; raise `InsufficientStock` (with the short lines) if one is short.

    Holding first means an order never exists for stock that is not there. If
    `create_order` fails, the holds are released before its error propagates, so a
    failed checkout does not keep stock away from others until the holds expire.
    Placing the same order again with the same lines is a no-op repeat.

    `pool`, `ship_to` and `split` route the lines as the API's reserve does (each
    left as None: the services' default, `services.Routing`): the pool's warehouses
    in its order (a `nearest` pool: closest to `ship_to` first); a line no single
    warehouse can hold whole is split over several unless `split=False`. Paying and
    cancelling act on every part of a split line together.
    """
    given = {"pool": pool, "destination": ship_to, "split": split}
    routing = services.Routing(**{name: value for name, value in given.items() if value is not None})
    result = services.reserve_stock(
        order_id=order_id, lines=lines, actor=actor, ttl_seconds=ttl_seconds, routing=routing
    )
    if create_order is None:
        return PlacedOrder(order_id, result.reservations, None)
    try:
        order = create_order()
    except BaseException:
        services.release_reservations(order_id=order_id, actor=actor)
        raise
    return PlacedOrder(order_id, result.reservations, order)


def pay_order(*, order_id: str, actor: str = ORDERS_ACTOR) -> list[Reservation]:
    """The payment succeeded: the held units leave stock (a repeat changes nothing).

    A late payment whose holds expired still succeeds if the units are there
    (those reservations come back with `reacquired=True`); otherwise, and for a
    cancelled order, `RefundRequired` is raised.
    """
    try:
        return services.deduct_reservations(order_id=order_id, actor=actor)
    except ReservationExpired as expired:
        short_lines = [ShortLine(**item) for item in expired.details["items"]]
        raise RefundRequired(order_id, expired.code, expired.message, short_lines) from expired
    except ReservationNotActive as cancelled:
        raise RefundRequired(order_id, cancelled.code, cancelled.message) from cancelled


def cancel_order(*, order_id: str, actor: str = ORDERS_ACTOR) -> list[Reservation]:
    """The order is cancelled before payment: give its held units back (a repeat changes nothing).

    An order that never held anything has nothing to give back (an empty list).
    A paid order raises `ReservationNotActive`: its units left the shop, and
    taking them back is a return, not a cancellation.
    """
    try:
        return services.release_reservations(order_id=order_id, actor=actor)
    except ReservationNotFound:
        return []
