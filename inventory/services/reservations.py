"""Holds for orders: reserve, release, deduct (payment) and expiry.

Locking order, which is what keeps these free of deadlocks:
- reserve locks inventory rows only, in `product_id` order, through its guarded
  updates; it reads reservations without locking them;
- release, deduct and expiry lock reservation rows first (expiry with SKIP LOCKED),
  in `product_id` order, then the inventory rows of those products in the same order.
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Now

from inventory import db, limits
from inventory.exceptions import (
    InsufficientStock,
    InvalidInput,
    ProductNotFound,
    ReservationExists,
    ReservationExpired,
    ReservationNotActive,
    ReservationNotFound,
    ShortLine,
)
from inventory.models import Inventory, InventoryLog, Reservation
from inventory.services._ledger import (
    SYSTEM_ACTOR,
    Movement,
    announce,
    db_now,
    guarded_update,
    guarded_update_many,
    record,
    write_entries,
)
from inventory.services._statements import (
    expire_batch_in_one_statement,
    reserve_in_one_statement,
    settle_in_one_statement,
)
from inventory.services._validation import (
    require_int,
    require_order_id,
    require_product_id,
    require_quantity,
)

Status = Reservation.Status
Operation = InventoryLog.Operation


@dataclass(frozen=True)
class ReservationLine:
    product_id: int
    quantity: int


@dataclass(frozen=True)
class ReserveResult:
    order_id: str
    reservations: list[Reservation]
    # False when every line was reserved already (an idempotent repeat).
    created: bool


@dataclass(frozen=True)
class _ShortLineFound:
    product_id: int
    quantity: int
    available: int | None  # None: the product has no inventory record
    has_overdue_holds: bool


class _OverdueHoldsInTheWay(Exception):
    """A line is short, and overdue holds of its product still keep units back."""

    def __init__(self, shortage: InsufficientStock, product_ids: list[int]) -> None:
        self.shortage = shortage
        self.product_ids = product_ids


def reserve_stock(
    *,
    order_id: str,
    lines: Sequence[ReservationLine],
    actor: str,
    ttl_seconds: int | None = None,
) -> ReserveResult:
    """Hold stock for every line of an order, or for none of them.

    Repeating a reserve whose lines all exist with the same quantities changes
    nothing. When a line is short, the product's overdue holds are expired (they
    would be by the cleanup job anyway) and the reserve is tried once more, so
    correctness never waits for that job.
    """
    requested = _validated_lines(order_id, lines)
    # Rows are locked in product_id order, whatever order the caller listed them in.
    lines = sorted(requested, key=lambda line: line.product_id)
    if ttl_seconds is None:
        ttl_seconds = settings.INVENTORY_RESERVATION_TTL
    ttl = timedelta(seconds=require_int("ttl_seconds", ttl_seconds, minimum=1, maximum=limits.MAX_TTL_SECONDS))
    try:
        result = _reserve(order_id, lines, actor, ttl)
    except _OverdueHoldsInTheWay as blocked:
        expire_overdue_reservations(product_ids=blocked.product_ids)
        try:
            result = _reserve(order_id, lines, actor, ttl)
        except _OverdueHoldsInTheWay as still_blocked:
            raise still_blocked.shortage from None
    by_product = {reservation.product_id: reservation for reservation in result.reservations}
    return ReserveResult(order_id, [by_product[line.product_id] for line in requested], result.created)


def _validated_lines(order_id: str, lines: Sequence[ReservationLine]) -> list[ReservationLine]:
    require_order_id(order_id)
    if not 1 <= len(lines) <= limits.MAX_LINES_PER_ORDER:
        raise InvalidInput(f"An order has 1 to {limits.MAX_LINES_PER_ORDER} lines.")
    for line in lines:
        require_product_id(line.product_id)
        require_quantity(line.quantity)
    if len({line.product_id for line in lines}) != len(lines):
        raise InvalidInput("Each product may appear once in an order.")
    return list(lines)


def _reserve(order_id: str, lines: list[ReservationLine], actor: str, ttl: timedelta) -> ReserveResult:
    if db.postgresql_statements():
        result = _reserve_in_one_statement(order_id, lines, actor, ttl)
        if result is not None:
            return result
    return _reserve_retrying_duplicate(order_id, lines, actor, ttl)


def _reserve_in_one_statement(
    order_id: str, lines: list[ReservationLine], actor: str, ttl: timedelta
) -> ReserveResult | None:
    """The hot path; None when the order has some of these lines already (the ORM path decides)."""
    try:
        outcomes = reserve_in_one_statement(
            order_id=order_id, lines=[(line.product_id, line.quantity) for line in lines], actor=actor, ttl=ttl
        )
    except IntegrityError:
        # An identical request won the race to the (product, order) row.
        return None
    if any(outcome.has_reservation_already for outcome in outcomes):
        return None
    short = [outcome for outcome in outcomes if outcome.short]
    if short:
        raise _refusal([_ShortLineFound(o.product_id, o.quantity, o.available, o.has_overdue_holds) for o in short])
    announce([outcome.log_entry for outcome in outcomes])
    return ReserveResult(order_id, [outcome.reservation for outcome in outcomes], created=True)


def _reserve_retrying_duplicate(
    order_id: str, lines: list[ReservationLine], actor: str, ttl: timedelta
) -> ReserveResult:
    # Two identical requests racing: the second one's insert meets the first one's
    # unique (product, order) row; run it again and it answers as a repeat.
    try:
        return _reserve_once(order_id, lines, actor, ttl)
    except IntegrityError:
        return _reserve_once(order_id, lines, actor, ttl)


def _reserve_once(order_id: str, lines: list[ReservationLine], actor: str, ttl: timedelta) -> ReserveResult:
    with transaction.atomic():
        existing = {
            reservation.product_id: reservation
            for reservation in Reservation.objects.filter(
                order_id=order_id, product_id__in=[line.product_id for line in lines]
            )
        }
        new_lines = [line for line in lines if _is_new_line(order_id, line, existing.get(line.product_id))]
        if not new_lines:
            return ReserveResult(order_id, [existing[line.product_id] for line in lines], created=False)
        short = [
            line
            for line in new_lines  # already in product_id order: locks are taken in that order
            if not guarded_update(line.product_id, available_delta=-line.quantity, reserved_delta=line.quantity)
        ]
        if short:
            raise _shortage(short)
        now = db_now()
        created = Reservation.objects.bulk_create(
            Reservation(
                product_id=line.product_id,
                order_id=order_id,
                quantity=line.quantity,
                status=Status.ACTIVE,
                expires_at=now + ttl,
                created_at=now,
                updated_at=now,
            )
            for line in new_lines
        )
        record(
            [
                Movement(
                    product_id=line.product_id,
                    operation=Operation.RESERVE,
                    quantity=line.quantity,
                    available_delta=-line.quantity,
                    reserved_delta=line.quantity,
                    order_id=order_id,
                )
                for line in new_lines
            ],
            actor=actor,
        )
    existing.update((reservation.product_id, reservation) for reservation in created)
    return ReserveResult(order_id, [existing[line.product_id] for line in lines], created=True)


def _is_new_line(order_id: str, line: ReservationLine, found: Reservation | None) -> bool:
    """A line with no reservation is new; a matching live one is a repeat; anything else conflicts."""
    if found is None:
        return True
    if found.quantity != line.quantity or found.status not in (Status.ACTIVE, Status.CONFIRMED):
        raise ReservationExists(order_id, line.product_id, found.quantity, found.status)
    return False


def _shortage(short: list[ReservationLine]) -> Exception:
    """Explain why the guarded updates of these lines changed nothing."""
    overdue = Reservation.objects.filter(product_id=OuterRef("product_id"), status=Status.ACTIVE, expires_at__lte=Now())
    found = {
        product_id: (available, has_overdue)
        for product_id, available, has_overdue in Inventory.objects.filter(
            product_id__in=[line.product_id for line in short]
        )
        .annotate(has_overdue=Exists(overdue))
        .values_list("product_id", "available_stock", "has_overdue")
    }
    return _refusal(
        [_ShortLineFound(line.product_id, line.quantity, *found.get(line.product_id, (None, False))) for line in short]
    )


def _refusal(short: list[_ShortLineFound]) -> Exception:
    """ProductNotFound, else InsufficientStock, or a retry first when overdue holds may free units."""
    for line in short:
        if line.available is None:
            return ProductNotFound(line.product_id)
    shortage = InsufficientStock([ShortLine(line.product_id, line.quantity, line.available) for line in short])
    overdue = [line.product_id for line in short if line.has_overdue_holds]
    return _OverdueHoldsInTheWay(shortage, overdue) if overdue else shortage


def release_reservations(*, order_id: str, actor: str, product_id: int | None = None) -> list[Reservation]:
    """Order cancelled: give the held units back to available stock.

    Cancelled and expired lines are returned as they are; a confirmed line makes the
    whole call fail and nothing is released.
    """
    released = _settle_in_one_statement(
        order_id, product_id, Status.CANCELLED, Operation.RELEASE, actor=actor, to_available=True
    )
    if released is not None:
        return released
    with transaction.atomic():
        reservations, now = _lock_order(order_id, product_id)
        for reservation in reservations:
            if reservation.status == Status.CONFIRMED:
                raise ReservationNotActive(order_id, reservation.product_id, reservation.status)
        active = [reservation for reservation in reservations if reservation.status == Status.ACTIVE]
        if active:
            _end_holds(active, Status.CANCELLED, Operation.RELEASE, now=now, actor=actor)
    return reservations


def deduct_reservations(*, order_id: str, actor: str, product_id: int | None = None) -> list[Reservation]:
    """Payment succeeded: the held units leave the shop.

    Confirmed lines are returned as they are; a cancelled line makes the call fail.
    A hold that is past its `expires_at` (expired by the job or not yet) is paid
    late: its units are taken from available stock again if they are there
    (`reacquired`), else the call fails with ReservationExpired. Every line moves
    or none does, except that the expiry of overdue holds found here is kept.
    """
    confirmed = _settle_in_one_statement(
        order_id, product_id, Status.CONFIRMED, Operation.DEDUCT, actor=actor, to_available=False
    )
    if confirmed is not None:
        return confirmed
    with transaction.atomic():
        reservations, now = _lock_order(order_id, product_id)
        for reservation in reservations:
            if reservation.status == Status.CANCELLED:
                raise ReservationNotActive(order_id, reservation.product_id, reservation.status)
        overdue = [r for r in reservations if r.status == Status.ACTIVE and r.expires_at <= now]
        if overdue:
            _end_holds(overdue, Status.EXPIRED, Operation.EXPIRE, now=now, actor=SYSTEM_ACTOR)
        try:
            # A savepoint only when there is an expiry to keep should the rest fail.
            with transaction.atomic(savepoint=bool(overdue)):
                _confirm(order_id, reservations, now=now, actor=actor)
        except ReservationExpired as failure:
            if not overdue:
                raise
            late_payment_failure = failure
        else:
            return reservations
    raise late_payment_failure


def _settle_in_one_statement(
    order_id: str, product_id: int | None, new_status: str, operation: str, *, actor: str, to_available: bool
) -> list[Reservation] | None:
    """The hot path of a release or a deduct whose lines are all active holds (a payment's
    not overdue either); None when the ORM path below must decide."""
    if not db.postgresql_statements():
        return None
    require_order_id(order_id)
    if product_id is not None:
        require_product_id(product_id)
    return settle_in_one_statement(
        order_id=order_id,
        product_id=product_id,
        new_status=new_status,
        operation=operation,
        to_available=to_available,
        # A payment of an overdue hold is a late payment: the ORM path's rules.
        refuse_overdue=not to_available,
        actor=actor,
    )


def _confirm(order_id: str, reservations: list[Reservation], *, now: datetime, actor: str) -> None:
    held = [r for r in reservations if r.status == Status.ACTIVE]
    lapsed = [r for r in reservations if r.status == Status.EXPIRED]
    # A held line leaves reserved stock; a lapsed one (paid late) is taken from available
    # stock again if it is there. An order has each product once.
    deltas = {r.product_id: (0, -r.quantity) for r in held} | {r.product_id: (-r.quantity, 0) for r in lapsed}
    after = guarded_update_many(deltas)
    for reservation in held:
        if reservation.product_id not in after:
            raise RuntimeError(f"Reserved stock of product {reservation.product_id} is below its holds.")
    short = [r for r in lapsed if r.product_id not in after]
    if short:
        available = dict(
            Inventory.objects.filter(product_id__in=[r.product_id for r in short]).values_list(
                "product_id", "available_stock"
            )
        )
        raise ReservationExpired(
            order_id, [ShortLine(r.product_id, r.quantity, available[r.product_id]) for r in short]
        )
    if held:
        _set_status(held, Status.ACTIVE, Status.CONFIRMED, now=now)
    if lapsed:
        _set_status(lapsed, Status.EXPIRED, Status.CONFIRMED, now=now, reacquired=True)
    movements = [_movement(r, Operation.DEDUCT, reserved_delta=-r.quantity) for r in held] + [
        _movement(r, Operation.DEDUCT, available_delta=-r.quantity, reason="late payment") for r in lapsed
    ]
    if movements:
        write_entries(sorted(movements, key=lambda m: m.product_id), actor=actor, after=after)


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
    require_int("batch_size", batch_size, minimum=1, maximum=100_000)
    expire_batch = expire_batch_in_one_statement if db.postgresql_statements() else _expire_batch_with_orm
    expired = 0
    while True:
        with transaction.atomic():
            count = expire_batch(product_ids=product_ids, batch_size=batch_size)
        expired += count
        if on_batch is not None:
            on_batch(count)
        if count < batch_size:
            return expired


def _expire_batch_with_orm(*, product_ids: Sequence[int] | None, batch_size: int) -> int:
    batch = _lock_overdue_batch(product_ids, batch_size)
    if batch:
        _end_holds(batch, Status.EXPIRED, Operation.EXPIRE, now=batch[0].db_now, actor=SYSTEM_ACTOR)
    return len(batch)


def count_overdue_reservations() -> int:
    """How many holds the next cleanup would expire (for a dry run)."""
    return Reservation.objects.filter(status=Status.ACTIVE, expires_at__lte=Now()).count()


def _lock_overdue_batch(product_ids: Sequence[int] | None, batch_size: int) -> list[Reservation]:
    overdue = Q(status=Status.ACTIVE, expires_at__lte=Now())
    if product_ids is not None:
        overdue &= Q(product_id__in=product_ids)
    return list(
        Reservation.objects.select_for_update(skip_locked=True)
        .filter(overdue)
        .annotate(db_now=Now())
        .order_by("product_id", "id")[:batch_size]
    )


def _lock_order(order_id: str, product_id: int | None) -> tuple[list[Reservation], datetime]:
    """Lock an order's reservations in product order, with the database's time."""
    require_order_id(order_id)
    lines = Reservation.objects.filter(order_id=order_id)
    if product_id is not None:
        lines = lines.filter(product_id=require_product_id(product_id))
    reservations = list(lines.select_for_update().annotate(db_now=Now()).order_by("product_id"))
    if not reservations:
        raise ReservationNotFound(order_id, product_id)
    return reservations, reservations[0].db_now


def _end_holds(reservations: list[Reservation], status: str, operation: str, *, now: datetime, actor: str) -> None:
    """Move locked active holds to `status` and their units back to available stock."""
    _set_status(reservations, Status.ACTIVE, status, now=now)
    quantities: dict[int, int] = defaultdict(int)
    for reservation in reservations:
        quantities[reservation.product_id] += reservation.quantity
    after = guarded_update_many({product_id: (quantity, -quantity) for product_id, quantity in quantities.items()})
    if len(after) != len(quantities):
        raise RuntimeError("Reserved stock of a product is below its holds.")
    write_entries(
        [
            _movement(r, operation, available_delta=r.quantity, reserved_delta=-r.quantity)
            for r in sorted(reservations, key=lambda r: r.product_id)
        ],
        actor=actor,
        after=after,
    )


def _set_status(
    reservations: list[Reservation], current: str, new: str, *, now: datetime, reacquired: bool = False
) -> None:
    changes = {"status": new, "updated_at": now}
    if reacquired:
        changes["reacquired"] = True
    changed = Reservation.objects.filter(pk__in=[r.pk for r in reservations], status=current).update(**changes)
    if changed != len(reservations):
        raise RuntimeError("A locked reservation changed status under its lock.")
    for reservation in reservations:
        for field, value in changes.items():
            setattr(reservation, field, value)


def _movement(reservation: Reservation, operation: str, *, reason: str = "", **deltas: int) -> Movement:
    return Movement(
        product_id=reservation.product_id,
        operation=operation,
        quantity=reservation.quantity,
        order_id=reservation.order_id,
        reason=reason,
        **deltas,
    )
