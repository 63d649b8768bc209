"""Quotas: units of one level set aside for a campaign or a customer tier (issue 16).

A quota's units stay in the level's available stock and are counted on its own row as
`allotted_stock`; every taking that names no quota leaves them (the guard of
`store/counters.py`), and the database's CHECK keeps `allotted_stock` within
`available_stock`. Each change is a ledger entry on the level's own row that names the
quota and its change of `allotted_stock` (`quota_set`, `quota_return`, `quota_change`),
so the row's and each quota's set-aside units replay as sums of the ledger.

- Staff create a quota (its units set aside at once, from free stock gathered into the
  level's own row: InsufficientStock when the level has too little), extend or shrink it
  (`change_quota`), or end it; a quota past its end is ended by the beat task
  (`end_due_quotas`), and lazily by a reserve that its set-aside units would have served.
- A count that finds units missing (`adjust_stock`) shrinks the level's quotas, the
  last-served first (highest priority number), by what free stock cannot cover: a quota
  can never promise more than is there (`shrink_for_loss`).

Locks, as every writer of stock: the level's stock rows first (in lock order), then the
quota rows (by id).
"""

from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models.functions import Now

from inventory import limits
from inventory.exceptions import (
    CodeInUse,
    InvalidInput,
    ProductNotFound,
    QuotaNotActive,
    QuotaNotFound,
)
from inventory.models import Inventory, InventoryLog, Quota
from inventory.models.ledger import SYSTEM_ACTOR
from inventory.selectors.warehouses import pool_warehouses
from inventory.services import sold_out, store
from inventory.services._validation import (
    require_int,
    require_location_code,
    require_product_id,
    require_quantity,
    require_window,
)
from inventory.services.quota_units import joined, movement, set_aside, update
from inventory.services.stock import warehouse_id_of

Operation = InventoryLog.Operation
Status = Quota.Status


def create_quota(
    *,
    code: str,
    product_id: int,
    quantity: int,
    starts_at: datetime,
    ends_at: datetime,
    actor: str,
    warehouse: str = limits.DEFAULT_WAREHOUSE,
    tier: str = "",
    priority: int = 100,
    overflow: bool = True,
    name: str = "",
    reason: str = "",
) -> Quota:
    """Set aside `quantity` units of the product's level in `warehouse` for the quota `code`."""
    require_location_code("code", code)
    require_product_id(product_id)
    require_quantity(quantity)
    _require_terms(tier=tier, priority=priority, name=name)
    level = (product_id, warehouse_id_of(warehouse))
    writer = store.current()
    with transaction.atomic():
        now = writer.db_now()
        require_window("A quota", starts_at, ends_at, now)
        if not Inventory.products.filter(product_id=product_id).exists():
            raise ProductNotFound(product_id)
        writer.lock_levels([level])
        try:
            with transaction.atomic():
                quota = Quota.objects.create(
                    code=code,
                    name=name,
                    product_id=product_id,
                    warehouse_id=level[1],
                    tier=tier,
                    priority=priority,
                    overflow=overflow,
                    quantity=quantity,
                    allotted=quantity,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    actor=actor,
                )
        except IntegrityError:
            raise CodeInUse(code) from None
        set_aside(writer, quota, quantity, actor=actor)
        writer.record([movement(quota, Operation.QUOTA_SET, quantity, reason)], actor=actor)
    return quota


def change_quota(
    *,
    code: str,
    actor: str,
    quantity: int | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    priority: int | None = None,
    overflow: bool | None = None,
    tier: str | None = None,
    name: str | None = None,
    reason: str = "",
) -> Quota:
    """Extend or shrink an active quota (`quantity`: the units granted in all, drawn ones
    included, never fewer than drawn) or change its terms; one ledger entry."""
    if quantity is not None:
        require_quantity(quantity)
    _require_terms(tier=tier, priority=priority, name=name)
    writer = store.current()
    with transaction.atomic():
        quota, now = _locked_active(writer, code)
        require_window("A quota", starts_at or quota.starts_at, ends_at or quota.ends_at, now)
        terms = {
            "starts_at": starts_at,
            "ends_at": ends_at,
            "priority": priority,
            "overflow": overflow,
            "tier": tier,
            "name": name,
        }
        changed = {name: value for name, value in terms.items() if value is not None and getattr(quota, name) != value}
        change = 0
        if quantity is not None and quantity != quota.quantity:
            if quantity < quota.drawn:
                raise InvalidInput(
                    f"Quota {code} has {quota.drawn} units drawn already.", quantity=f"At least {quota.drawn}."
                )
            change = quantity - quota.drawn - quota.allotted
            changed["quantity"] = quantity
        if not changed:
            return quota
        set_aside(writer, quota, change, actor=actor)
        update(quota, allotted=quota.allotted + change, **changed)
        operation = {1: Operation.QUOTA_SET, -1: Operation.QUOTA_RETURN}.get((change > 0) - (change < 0))
        operation = operation or Operation.QUOTA_CHANGE
        described = ", ".join(f"{field} {value}" for field, value in changed.items())
        writer.record([movement(quota, operation, abs(change), joined(described, reason))], actor=actor)
        if change < 0:
            _units_freed(writer, quota, actor=actor)
    return quota


def end_quota(*, code: str, actor: str, reason: str = "") -> Quota:
    """End an active quota now: what it still sets aside returns to free stock."""
    writer = store.current()
    with transaction.atomic():
        quota, _ = _locked_active(writer, code)
        _end(writer, quota, actor=actor, reason=reason)
    return quota


def end_due_quotas(*, product_ids: list[int] | None = None) -> int:
    """End the active quotas past their end (of these products, if given); how many.

    Each in its own short transaction; a quota another transaction is deciding is
    left to the next run.
    """
    due = Quota.objects.filter(status=Status.ACTIVE, ends_at__lte=Now())
    if product_ids is not None:
        due = due.filter(product_id__in=product_ids)
    writer = store.current()
    ended = 0
    for quota_id, product_id, warehouse_id in due.order_by("id").values_list("id", "product", "warehouse"):
        with transaction.atomic():
            writer.lock_levels([(product_id, warehouse_id)])
            quota = (
                Quota.objects.select_for_update(skip_locked=True)
                .filter(pk=quota_id, status=Status.ACTIVE, ends_at__lte=Now())
                .first()
            )
            if quota is not None:
                _end(writer, quota, actor=SYSTEM_ACTOR, reason="ended")
                ended += 1
    return ended


def draws_for(lines: Sequence[tuple[int, str]], *, tier: str, pool: str) -> dict[int, store.Draw]:
    """Which quota each (product_id, quota code or "") line of an order draws on: the one it
    names (QuotaNotFound, or QuotaNotActive outside its start and end), else the best open
    quota of the order's customer tier for the product in the pool that has units left
    (lowest priority number, then the oldest), else none. Read without locks: the store
    locks the quotas and decides again."""
    if tier:
        require_location_code("customer_tier", tier)
    draws: dict[int, store.Draw] = {}
    for product_id, code in lines:
        quota = _named(product_id, code) if code else _best_of_tier(product_id, tier, pool) if tier else None
        if quota is not None:
            draws[product_id] = store.Draw(quota.pk, quota.warehouse_id, quota.overflow)
    return draws


def _named(product_id: int, code: str) -> Quota:
    require_location_code("quota", code)
    quota = Quota.objects.filter(code=code).annotate(db_now=Now()).first()
    if quota is None:
        raise QuotaNotFound(code)
    if quota.product_id != product_id:
        raise InvalidInput(f"Quota {code} is for product {quota.product_id}.", quota=code)
    if quota.status != Status.ACTIVE:
        raise QuotaNotActive(code, "has ended")
    if not quota.starts_at <= quota.db_now < quota.ends_at:
        raise QuotaNotActive(code, "is not open now")
    return quota


def _best_of_tier(product_id: int, tier: str, pool: str) -> Quota | None:
    return (
        Quota.objects.filter(
            product_id=product_id,
            tier=tier,
            status=Status.ACTIVE,
            allotted__gt=0,
            starts_at__lte=Now(),
            ends_at__gt=Now(),
            warehouse__in=pool_warehouses(pool),
        )
        .order_by("priority", "id")
        .first()
    )


def _end(writer: store.OrmStore, quota: Quota, *, actor: str, reason: str) -> None:
    returned = quota.allotted
    set_aside(writer, quota, -returned, actor=actor)
    update(quota, allotted=0, status=Status.ENDED)
    writer.record([movement(quota, Operation.QUOTA_RETURN, returned, joined("quota ended", reason))], actor=actor)
    if returned:
        _units_freed(writer, quota, actor=actor)


def _locked_active(writer: store.OrmStore, code: str) -> tuple[Quota, datetime]:
    """The quota, locked after its level's rows; QuotaNotActive once it has ended."""
    require_location_code("code", code)
    found = Quota.objects.filter(code=code).values_list("product_id", "warehouse_id").first()
    if found is None:
        raise QuotaNotFound(code)
    writer.lock_levels([found])
    quota = Quota.objects.select_for_update().annotate(db_now=Now()).get(code=code)
    if quota.status != Status.ACTIVE:
        raise QuotaNotActive(code, "has ended")
    return quota, quota.db_now


def _units_freed(writer: store.OrmStore, quota: Quota, *, actor: str) -> None:
    """Units back in free stock: spread over a hot level's rows, and the sold-out gate told."""
    writer.even_out([(quota.product_id, quota.warehouse_id)], actor=actor)
    sold_out.observe([quota.product_id])


def _require_terms(*, tier: str | None, priority: int | None, name: str | None) -> None:
    if tier:
        require_location_code("tier", tier)
    if priority is not None:
        require_int("priority", priority, minimum=limits.MIN_QUOTA_PRIORITY, maximum=limits.MAX_QUOTA_PRIORITY)
    if name is not None and not limits.is_label(name, limits.QUOTA_NAME_MAX_LENGTH):
        raise InvalidInput(f"name must be printable text of at most {limits.QUOTA_NAME_MAX_LENGTH} characters.")
