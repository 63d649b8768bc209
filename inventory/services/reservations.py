"""Holds for orders: reserve, release, deduct (payment) and expiry.

The rules live here; how each change is written is the store's (`store/`), and which
stock rows a line may take is `allocation.py`'s. Locking order, which is what keeps
these free of deadlocks:
- reserve locks stock rows, in lock order (allocation.LOCK_ORDER), then the quotas its
  lines draw on (by id), then the open pre-sales its backorder lines may sell ahead on (by id);
- release, deduct and expiry lock reservation rows first (expiry with SKIP LOCKED),
  in product_id order, then the stock rows of those products in lock order.
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction

from inventory import db, limits, metrics
from inventory.exceptions import (
    InsufficientStock,
    InvalidInput,
    OrderOfAnotherClient,
    ProductNotFound,
    QuotaNotActive,
    ReservationExists,
    ReservationExpired,
    ReservationNotActive,
    ReservationNotFound,
    ShortLine,
)
from inventory.models import Backorder, InventoryLog, Reservation, StockLevel
from inventory.models.ledger import SYSTEM_ACTOR
from inventory.services import allocation, quotas, sold_out, store
from inventory.services._validation import (
    require_int,
    require_location_code,
    require_order_id,
    require_product_id,
    require_quantity,
)
from inventory.services.allocation import Routing

Status = Reservation.Status
Operation = InventoryLog.Operation
# How often a reserve reads an order's existing lines again when an identical request
# keeps winning the race to a line; the third read finds that request's lines committed.
_READS_OF_EXISTING_LINES = 3
# A line in these is live: a repeat of it with the same quantity changes nothing.
_LIVE_LINE_STATUSES = (Status.ACTIVE, Status.CONFIRMED, Backorder.Status.OPEN, Backorder.Status.FILLED)


@dataclass(frozen=True)
class ReservationLine:
    product_id: int
    quantity: int
    # The code of a quota the line draws on first ("": the order's customer tier decides, if any).
    quota: str = ""
    # What free stock in the pool lacks is sold ahead of stock on the product's open pre-sale
    # there (a backorder, filled as goods arrive) instead of making the line short.
    backorder: bool = False


@dataclass(frozen=True)
class ReserveResult:
    order_id: str
    reservations: list[Reservation]
    # False when every line was reserved already (an idempotent repeat).
    created: bool
    # The units sold ahead of stock (lines that may backorder), in request order.
    backorders: list[Backorder] = field(default_factory=list)


class _OverdueHoldsInTheWay(Exception):
    """A line is short, and overdue holds of its product still keep units back."""

    def __init__(self, shortage: InsufficientStock, product_ids: list[int]) -> None:
        self.shortage = shortage
        self.product_ids = product_ids


@metrics.counts_reserves
def reserve_stock(
    *,
    order_id: str,
    lines: Sequence[ReservationLine],
    actor: str,
    ttl_seconds: int | None = None,
    client_id: int | None = None,
    routing: Routing = allocation.EVERYWHERE,
    customer_tier: str = "",
) -> ReserveResult:
    """Hold stock for every line of an order, or for none of them.

    A line that names a quota, or whose product has an open quota of the order's
    `customer_tier`, draws on that quota first (`quotas.draws_for`), then on free stock
    if the quota allows overflow; no other line takes a quota's units.

    A line with `backorder` takes what free stock the pool has as a hold (possibly
    nothing) and sells the rest ahead of stock on the product's open pre-sale in the
    pool (the first, by id, with room for it): a backorder, filled as goods arrive at
    the pre-sale's level. When no pre-sale has the room the line is short, its
    `available` the free units and the best pre-sale's room.

    Each line is held in the first warehouse of the pool's order (`routing`) that can
    hold all of it, else split over several (one reservation per warehouse), unless
    `routing.split` is false.

    Repeating a reserve whose lines all exist with the same quantities changes
    nothing. When a line is short, the product's overdue holds are expired (they
    would be by the cleanup job anyway) and the reserve is tried once more, so
    correctness never waits for that job. An order belongs to the API client that
    first reserved it (`client_id`; None: an in-process caller, who may reserve
    any order): another client's order_id is refused as existing.
    """
    requested = _validated_lines(order_id, lines)
    # Lines go to the store in product order; the store locks their rows in lock order.
    lines = sorted(requested, key=lambda line: line.product_id)
    if ttl_seconds is None:
        ttl_seconds = settings.INVENTORY_RESERVATION_TTL
    ttl = timedelta(seconds=require_int("ttl_seconds", ttl_seconds, minimum=1, maximum=limits.MAX_TTL_SECONDS))
    require_location_code("pool", routing.pool)
    if not any(line.backorder for line in lines):
        # A line that may sell ahead of stock is not refused for want of stock.
        _refuse_if_sold_out(order_id, lines, routing)
    try:
        draws = quotas.draws_for(
            [(line.product_id, line.quota) for line in lines], tier=customer_tier, pool=routing.pool
        )
    except QuotaNotActive:
        # An order that drew on the quota while it was open, sent again after its end, is a repeat.
        result = _repeat(order_id, lines, client_id)
        if result is None:
            raise
    else:
        result = _reserve_or_refuse(partial(_reserve, order_id, lines, actor, ttl, client_id, routing, draws))
    return ReserveResult(
        order_id,
        _in_order_of(requested, result.reservations),
        result.created,
        _in_order_of(requested, result.backorders),
    )


def _reserve_or_refuse(reserve: Callable[[], ReserveResult]) -> ReserveResult:
    """The reserve's result; when overdue holds or quotas past their end are in the way of a
    short line, they are ended and the reserve tried once more."""
    try:
        try:
            return reserve()
        except _OverdueHoldsInTheWay as blocked:
            # The cleanup job and the quotas' beat task would free these units anyway.
            expire_overdue_reservations(product_ids=blocked.product_ids)
            quotas.end_due_quotas(product_ids=blocked.product_ids)
            try:
                return reserve()
            except _OverdueHoldsInTheWay as still_blocked:
                raise still_blocked.shortage from None
    except InsufficientStock as refused:
        # Sold out, as far as this order saw: the gate learns it (after the commit, if any).
        sold_out.observe(line.product_id for line in refused.short_lines if line.available == 0)
        raise


def _repeat(order_id: str, lines: list[ReservationLine], client_id: int | None) -> ReserveResult | None:
    """The order as it stands when it has every one of these lines already (a repeat); else None."""
    existing, ahead = _existing_lines(order_id, lines)
    owners = {row.client_id for rows in (*existing.values(), *ahead.values()) for row in rows}
    if not owners or (client_id is not None and owners - {client_id}):
        return None
    if any(_is_new_line(order_id, line, existing[line.product_id], ahead[line.product_id]) for line in lines):
        return None
    return ReserveResult(order_id, _flat(existing), created=False, backorders=_flat(ahead))


def _in_order_of(requested: Sequence[ReservationLine], found: "Sequence[Reservation | Backorder]") -> list:
    by_product: dict[int, list] = defaultdict(list)
    for row in found:
        by_product[row.product_id].append(row)
    return [row for line in requested for row in by_product[line.product_id]]


def _refuse_if_sold_out(order_id: str, lines: Sequence[ReservationLine], routing: Routing) -> None:
    """InsufficientStock at once, from Redis, when every line's product is flagged sold out
    everywhere (`sold_out.py`): the answer the database would give, with nothing available.

    Only in the pool of every warehouse (another pool's existence is the database's to
    say), and only for an order that holds nothing yet: a repeat of one that took the last
    units is answered by the database as a repeat, which costs this one indexed read.
    """
    if routing.pool != limits.EVERY_WAREHOUSE_POOL or not sold_out.refuses([line.product_id for line in lines]):
        return
    if _order_exists(order_id):
        return
    raise InsufficientStock([ShortLine(line.product_id, line.quantity, 0) for line in lines])


# `_order_exists` on PostgreSQL: a prepared statement (inventory/db.py); the ORM built
# this query anew on every refusal, 0.35 ms of CPU, a third of a refused reserve's.
_ORDER_EXISTS_SQL = f"SELECT EXISTS (SELECT 1 FROM {Reservation._meta.db_table} WHERE order_id = %(order_id)s)"  # noqa: S608


def _order_exists(order_id: str) -> bool:
    if db.postgresql_statements():
        return db.fetch_all(_ORDER_EXISTS_SQL, {"order_id": order_id})[0][0]
    return Reservation.objects.filter(order_id=order_id).exists()


def _validated_lines(order_id: str, lines: Sequence[ReservationLine]) -> list[ReservationLine]:
    require_order_id(order_id)
    if not 1 <= len(lines) <= limits.MAX_LINES_PER_ORDER:
        raise InvalidInput(f"An order has 1 to {limits.MAX_LINES_PER_ORDER} lines.")
    for line in lines:
        require_product_id(line.product_id)
        require_quantity(line.quantity)
        if not isinstance(line.backorder, bool):
            raise InvalidInput("backorder must be true or false.", backorder=str(line.backorder))
    if len({line.product_id for line in lines}) != len(lines):
        raise InvalidInput("Each product may appear once in an order.")
    return list(lines)


def _reserve(
    order_id: str,
    lines: list[ReservationLine],
    actor: str,
    ttl: timedelta,
    client_id: int | None,
    routing: Routing,
    draws: dict[int, store.Draw],
) -> ReserveResult:
    writer = store.current()
    take = partial(_take, writer, order_id, actor=actor, ttl=ttl, routing=routing, draws=draws)
    outcomes = take(lines, client_id=client_id)
    if outcomes is not None:
        return ReserveResult(order_id, _flat(_held(outcomes)), created=True, backorders=_sold_ahead(outcomes))
    # The order exists: a repeat, a conflict, new lines beside old ones, or another client's order.
    owner = _owner(order_id, client_id, with_backorders=any(line.backorder for line in lines))
    for _ in range(_READS_OF_EXISTING_LINES):
        existing, ahead = _existing_lines(order_id, lines)
        new_lines = [
            line for line in lines if _is_new_line(order_id, line, existing[line.product_id], ahead[line.product_id])
        ]
        if not new_lines:
            return ReserveResult(order_id, _flat(existing), created=False, backorders=_flat(ahead))
        outcomes = take(new_lines, client_id=owner)
        if outcomes is not None:
            existing.update(_held(outcomes))
            return ReserveResult(
                order_id, _flat(existing), created=True, backorders=[*_flat(ahead), *_sold_ahead(outcomes)]
            )
    raise RuntimeError(f"The lines of order {order_id} kept changing while it was reserved.")


def _existing_lines(
    order_id: str, lines: list[ReservationLine]
) -> tuple[dict[int, list[Reservation]], dict[int, list[Backorder]]]:
    """The order's reservations of these lines' products, and its live backorders of them (read
    only when a line may backorder: the others never look at backorders), each by product."""
    product_ids = [line.product_id for line in lines]
    existing: dict[int, list[Reservation]] = defaultdict(list)
    for reservation in Reservation.objects.filter(order_id=order_id, product_id__in=product_ids).order_by("id"):
        existing[reservation.product_id].append(reservation)
    ahead: dict[int, list[Backorder]] = defaultdict(list)
    if any(line.backorder for line in lines):
        for backorder in _live_backorders(order_id, product_ids):
            ahead[backorder.product_id].append(backorder)
    return existing, ahead


def _flat(by_product: dict[int, "Sequence[Reservation | Backorder]"]) -> list:
    return [row for rows in by_product.values() for row in rows]


def _live_backorders(order_id: str, product_ids: list[int]) -> "list[Backorder]":
    """The order's backorders of these products that are not cancelled (a cancelled one may be placed
    again), with their pre-sales (an answer names them)."""
    return list(
        Backorder.objects.filter(order_id=order_id, product_id__in=product_ids)
        .exclude(status=Backorder.Status.CANCELLED)
        .select_related("presale")
        .order_by("id")
    )


def _owner(order_id: str, client_id: int | None, *, with_backorders: bool = False) -> int | None:
    """Whose the existing order's new lines are: the order's owner. OrderOfAnotherClient when a
    client asks for someone else's order; an in-process caller (None) adds lines for the owner.
    An order that only backordered is owned through its backorders (looked at for lines that may
    backorder: the others never read them)."""
    owners = set(Reservation.objects.filter(order_id=order_id).values_list("client_id", flat=True).distinct())
    if with_backorders:
        owners |= set(Backorder.objects.filter(order_id=order_id).values_list("client_id", flat=True).distinct())
    if client_id is None:
        return next((owner for owner in owners if owner is not None), None)
    if owners - {client_id}:
        raise OrderOfAnotherClient(order_id)
    return client_id


def _take(
    writer: store.OrmStore,
    order_id: str,
    lines: list[ReservationLine],
    *,
    actor: str,
    ttl: timedelta,
    client_id: int | None,
    routing: Routing,
    draws: dict[int, store.Draw],
) -> list[store.LineOutcome] | None:
    """The store's outcome of taking these lines; None when the order has one of them already
    (or is another client's)."""
    try:
        outcomes = writer.take(
            order_id=order_id,
            lines=[(line.product_id, line.quantity) for line in lines],
            actor=actor,
            ttl=ttl,
            client_id=client_id,
            routing=routing,
            draws={line.product_id: draws[line.product_id] for line in lines if line.product_id in draws},
            backorders=frozenset(line.product_id for line in lines if line.backorder),
        )
    except IntegrityError:
        # An identical request won the race to the (product, order) row.
        return None
    if any(outcome.has_reservation_already for outcome in outcomes):
        return None
    return outcomes


def _held(outcomes: list[store.LineOutcome]) -> dict[int, tuple[Reservation, ...]]:
    """The new holds per product, or the refusal that explains why nothing was taken."""
    short = [outcome for outcome in outcomes if outcome.short]
    if short:
        raise _refusal(short)
    return {outcome.product_id: outcome.reservations for outcome in outcomes}


def _sold_ahead(outcomes: list[store.LineOutcome]) -> list[Backorder]:
    return [backorder for outcome in outcomes for backorder in outcome.backorders]


def _is_new_line(order_id: str, line: ReservationLine, found: list[Reservation], ahead: list[Backorder]) -> bool:
    """A line with no reservation (nor, in an order with lines that may backorder, a backorder
    that is not cancelled) is new; a matching live one (its parts summed, held and sold ahead) is a repeat;
    anything else conflicts. A split line's parts always share their status."""
    if not found and not ahead:
        return True
    quantity = sum(reservation.quantity for reservation in found) + sum(backorder.quantity for backorder in ahead)
    status = found[0].status if found else ahead[0].status
    if quantity != line.quantity or status not in _LIVE_LINE_STATUSES:
        raise ReservationExists(order_id, line.product_id, quantity, status)
    return False


def _refusal(short: list[store.LineOutcome]) -> Exception:
    """ProductNotFound, else InsufficientStock, or a retry first when overdue holds may free units."""
    for line in short:
        if line.available is None:
            return ProductNotFound(line.product_id)
    shortage = InsufficientStock([ShortLine(line.product_id, line.quantity, line.available) for line in short])
    overdue = [line.product_id for line in short if line.has_overdue_holds]
    return _OverdueHoldsInTheWay(shortage, overdue) if overdue else shortage


def release_reservations(
    *, order_id: str, actor: str, product_id: int | None = None, client_id: int | None = None
) -> list[Reservation]:
    """Order cancelled: give the held units back to available stock.

    Cancelled and expired lines are returned as they are; a confirmed line makes the
    whole call fail and nothing is released. With `client_id`, only that client's
    order is seen: another's is not found.
    """
    writer, released = _settle_at_once(
        store.RELEASE, order_id=order_id, product_id=product_id, client_id=client_id, actor=actor
    )
    if released is not None:
        sold_out.observe(reservation.product_id for reservation in released)
        return released
    with transaction.atomic():
        reservations, now = _locked_order(writer, order_id, product_id, client_id, refused=Status.CONFIRMED)
        active = [reservation for reservation in reservations if reservation.status == Status.ACTIVE]
        if active:
            writer.end_holds(active, store.RELEASE, now=now, actor=actor)
            metrics.holds_ended(Operation.RELEASE, len(active))
            sold_out.observe(reservation.product_id for reservation in active)
    return reservations


def deduct_reservations(
    *, order_id: str, actor: str, product_id: int | None = None, client_id: int | None = None
) -> list[Reservation]:
    """Payment succeeded: the held units leave the shop.

    Confirmed lines are returned as they are; a cancelled line makes the call fail.
    A hold that is past its `expires_at` (expired by the job or not yet) is paid
    late: its units are taken from available stock again if they are there
    (`reacquired`), else the call fails with ReservationExpired. Every line moves
    or none does, except that the expiry of overdue holds found here is kept. With
    `client_id`, only that client's order is seen.
    """
    writer, confirmed = _settle_at_once(
        store.PAYMENT, order_id=order_id, product_id=product_id, client_id=client_id, actor=actor
    )
    if confirmed is not None:
        return confirmed
    with transaction.atomic():
        reservations, now = _locked_order(writer, order_id, product_id, client_id, refused=Status.CANCELLED)
        overdue = [r for r in reservations if r.status == Status.ACTIVE and r.expires_at <= now]
        if overdue:
            writer.end_holds(overdue, store.EXPIRY, now=now, actor=SYSTEM_ACTOR)
            metrics.holds_ended(Operation.EXPIRE, len(overdue))
            sold_out.observe(r.product_id for r in overdue)
        try:
            # A savepoint only when there is an expiry to keep should the rest fail.
            with transaction.atomic(savepoint=bool(overdue)):
                _confirm(writer, order_id, reservations, now=now, actor=actor)
        except ReservationExpired as failure:
            if not overdue:
                raise
            late_payment_failure = failure
        else:
            return reservations
    raise late_payment_failure


def _settle_at_once(
    ending: store.Ending, *, order_id: str, product_id: int | None, client_id: int | None, actor: str
) -> tuple[store.OrmStore, list[Reservation] | None]:
    """The store, and the order's holds ended in one go when every one is active (None: the rules below decide)."""
    require_order_id(order_id)
    if product_id is not None:
        require_product_id(product_id)
    writer = store.current()
    settled = writer.settle(order_id=order_id, product_id=product_id, ending=ending, actor=actor, client_id=client_id)
    if settled is not None:
        metrics.holds_ended(ending.operation, len(settled))
    return writer, settled


def _locked_order(
    writer: store.OrmStore, order_id: str, product_id: int | None, client_id: int | None, *, refused: str
) -> tuple[list[Reservation], datetime]:
    """The order's reservations, locked; ReservationNotActive when one is `refused`, NotFound when none."""
    reservations, now = writer.lock_order(order_id, product_id, client_id)
    if not reservations:
        raise ReservationNotFound(order_id, product_id)
    for reservation in reservations:
        if reservation.status == refused:
            raise ReservationNotActive(order_id, reservation.product_id, reservation.status)
    return reservations, now


def _confirm(
    writer: store.OrmStore, order_id: str, reservations: list[Reservation], *, now: datetime, actor: str
) -> None:
    held = [r for r in reservations if r.status == Status.ACTIVE]
    lapsed = [r for r in reservations if r.status == Status.EXPIRED]
    # A held line leaves reserved stock; a lapsed one (paid late) is taken from available
    # stock of its row again if it is there. An order has each level (so each row) once.
    row_of = store.row_of
    deltas = {row_of(r): (0, -r.quantity) for r in held} | {row_of(r): (-r.quantity, 0) for r in lapsed}
    if lapsed:
        # A lapsed hold's row of a hot level gathers the units from the level's other rows;
        # every row the order moves is locked there, in lock order.
        writer.top_up({row: -available for row, (available, _) in deltas.items()}, actor=actor)
    after = writer.move_many(deltas)
    for reservation in held:
        if row_of(reservation) not in after:
            raise RuntimeError(f"Reserved stock of product {reservation.product_id} is below its holds.")
    short = [r for r in lapsed if row_of(r) not in after]
    if short:
        raise ReservationExpired(order_id, _short_late_payments(short))
    if held:
        writer.set_status(held, Status.ACTIVE, Status.CONFIRMED, now=now)
        metrics.holds_ended(Operation.DEDUCT, len(held))
    if lapsed:
        writer.set_status(lapsed, Status.EXPIRED, Status.CONFIRMED, now=now, reacquired=True)
    movements = [store.hold_movement(r, Operation.DEDUCT, reserved_delta=-r.quantity) for r in held] + [
        store.hold_movement(r, Operation.DEDUCT, available_delta=-r.quantity, reason="late payment") for r in lapsed
    ]
    if movements:
        writer.write_entries(sorted(movements, key=lambda m: m.row), actor=actor, after=after)


def _short_late_payments(short: list[Reservation]) -> list[ShortLine]:
    """Per product of the lapsed parts that could not be taken again: the units asked and
    those their levels have."""
    available = {
        (product_id, warehouse_id): figure
        for product_id, warehouse_id, figure in StockLevel.objects.filter(
            product_id__in={r.product_id for r in short}
        ).values_list("product_id", "warehouse_id", "available_stock")
    }
    requested: dict[int, int] = defaultdict(int)
    found: dict[int, int] = defaultdict(int)
    for r in short:
        requested[r.product_id] += r.quantity
        found[r.product_id] += available.get((r.product_id, r.warehouse_id), 0)
    return [ShortLine(product_id, requested[product_id], found[product_id]) for product_id in sorted(requested)]


def expire_overdue_reservations(
    *,
    product_ids: Sequence[int] | None = None,
    batch_size: int = limits.DEFAULT_EXPIRY_BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Expire active holds past `expires_at` and return their units; the count expired.

    Works in batches, each its own short transaction, and skips holds that another
    transaction has locked (a release, a payment or another cleanup is deciding
    them), so it never waits on live traffic and never expires a hold twice.
    `on_batch` is told the size of each committed batch (a progress bar).
    """
    require_int("batch_size", batch_size, minimum=1, maximum=limits.MAX_EXPIRY_BATCH_SIZE)
    writer = store.current()
    expired = 0
    while True:
        with transaction.atomic():
            count, expired_products = writer.expire_batch(product_ids=product_ids, batch_size=batch_size)
            metrics.holds_ended(Operation.EXPIRE, count)
            sold_out.observe(expired_products)
        expired += count
        if on_batch is not None:
            on_batch(count)
        if count < batch_size:
            return expired
