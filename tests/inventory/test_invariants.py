"""Hypothesis drives random sequences of every stock operation through the services
and checks the contract's invariants after each step: orders over pools of several
warehouses (every strategy, split or not), stock per warehouse, transfers out, received
in parts and cancelled, warehouses taken out of allocation and back, levels made hot
(spread over several rows), resized, turned off and rebalanced while holds stand on their
rows, quotas set aside, drawn on by code or customer tier, resized, shrunk by counts,
past their end and ended, pre-sales: lines that may sell ahead of stock, their
backorders filled by every kind of arrival, cancelled by their owners, pre-sales resized
and ended, and stock-takes: a level counted, an order reserving before the post perhaps,
its variance posted."""

import contextlib
import itertools
from datetime import timedelta

import pytest
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from inventory import limits, services
from inventory.exceptions import InventoryError
from inventory.models import (
    Backorder,
    CountLine,
    Inventory,
    InventoryLog,
    Pool,
    PreSale,
    PurchaseOrder,
    PurchaseOrderLine,
    Quota,
    Reservation,
    StockLevel,
    StockRow,
    Warehouse,
)
from inventory.models.purchasing import OPEN_PURCHASE_ORDER_STATUSES
from inventory.selectors import ledger_discrepancies
from inventory.selectors.atp import products_atp
from inventory.services.allocation import Destination
from tests.inventory.helpers import assert_invariants

_example_ids = itertools.count()
_product_ids = itertools.count(5_000_000, 10)
ORDERS = [f"O{n}" for n in range(6)]
TERMINAL = {"confirmed", "cancelled", "expired"}
INFLOW = ["create", "restock", "adjust"]
# Who calls: the in-process flows (0, no client) or one of two order applications.
CALLERS = st.integers(0, 2)
QUOTAS = 4
PRESALES = 3
FILL = InventoryLog.Operation.BACKORDER_FILL
TIERS = ["", "gold"]


def open_now() -> dict:
    """The window of a quota or a pre-sale that is open now (from a minute ago, for an hour)."""
    now = timezone.now()
    return {"starts_at": now - timedelta(minutes=1), "ends_at": now + timedelta(hours=1)}


class StockMachine(RuleBasedStateMachine):
    @initialize(
        stocks=st.lists(st.integers(0, 12), min_size=2, max_size=3),
        # A product, one of the warehouses that start empty, what its purchase order brings,
        # the pre-sale's limit, what an order buys ahead, and that order's caller.
        launch=st.tuples(
            st.integers(0, 2), st.integers(1, 2), st.integers(1, 8), st.integers(1, 8), st.integers(0, 8), CALLERS
        ),
    )
    def create_products(self, stocks, launch):
        first = next(_product_ids)
        self.products = [first + offset for offset in range(len(stocks))]
        self.example = next(_example_ids)
        self.statuses: dict[int, str] = {}
        for product_id, stock in zip(self.products, stocks, strict=True):
            services.create_inventory(product_id=product_id, available_stock=stock, actor="machine")
        # `default` and two more warehouses, far apart; pools over them with each strategy.
        self.warehouses = [limits.DEFAULT_WAREHOUSE] + [
            Warehouse.objects.create(
                code=f"m{self.example}-{name}", priority=priority, latitude=latitude, longitude=longitude
            ).code
            for name, priority, latitude, longitude in (("east", 1, 31.2, 121.5), ("north", 2, 39.9, 116.4))
        ]
        self.pools = [limits.EVERY_WAREHOUSE_POOL]
        for strategy in Pool.Strategy.values:
            made = Pool.objects.create(code=f"m{self.example}-{strategy.replace('_', '-')}", strategy=strategy)
            made.warehouses.set(
                Warehouse.objects.filter(code__in=self.warehouses[1:] if strategy == "priority" else self.warehouses)
            )
            self.pools.append(made.code)
        self.transfers: list[int] = []
        self.purchase_orders: list[int] = []
        # Two order applications, and None: the in-process order flows.
        self.callers = [None] + [
            services.create_api_client(name=f"machine-{self.example}-{app}", role="internal").client.pk
            for app in ("a", "b")
        ]
        # A launch from the start: a pre-sale where there is no stock yet, against the purchase
        # order that brings it, and an order that bought ahead on it through the pool of those
        # warehouses (`priority`). Left to the rules, a pre-sale, a reserve selling ahead on it
        # and an arrival at its level come in that order in too few examples.
        product, warehouse, incoming, limit, bought, caller = launch
        self.place_purchase_order(warehouse, {product: (incoming, 1)})
        self.create_presale(0, product, warehouse, limit, against=0)
        if bought:
            self.reserve_ahead(len(ORDERS) - 1, {product: min(bought, limit)}, caller, pool=1)

    def order(self, index: int) -> str:
        return f"E{self.example}-{ORDERS[index]}"

    def attempt(self, operation, **arguments):
        # A refusal is fine; the invariants say whether it changed anything.
        with contextlib.suppress(InventoryError):
            operation(actor="machine", **arguments)

    def product(self, index: int) -> int:
        return self.products[index % len(self.products)]

    @rule(
        order=st.integers(0, len(ORDERS) - 1),
        # Per line its quantity, and whether what free stock lacks may be sold ahead on a pre-sale.
        lines=st.dictionaries(st.integers(0, 2), st.tuples(st.integers(1, 6), st.booleans()), min_size=1, max_size=3),
        caller=CALLERS,
        pool=st.integers(0, 3),
        ship_to=st.none() | st.tuples(st.floats(-90, 90), st.floats(-180, 180)),
        split=st.booleans(),
        quota=st.none() | st.integers(0, QUOTAS - 1),
        tier=st.sampled_from(TIERS),
    )
    def reserve(self, order, lines, caller, pool, ship_to, split, quota, tier):
        chosen = {self.product(i): q for i, q in lines.items()}
        destination = Destination() if ship_to is None else Destination(latitude=ship_to[0], longitude=ship_to[1])
        # A line may name a quota (of any product: the wrong one is refused).
        named = {next(iter(chosen)): self.quota(quota)} if quota is not None else {}
        self.attempt(
            services.reserve_stock,
            order_id=self.order(order),
            lines=[
                services.ReservationLine(p, q, quota=named.get(p, ""), backorder=ahead)
                for p, (q, ahead) in chosen.items()
            ],
            client_id=self.callers[caller],
            routing=services.Routing(pool=self.pools[pool], destination=destination, split=split),
            customer_tier=tier,
        )

    @rule(
        order=st.integers(0, len(ORDERS) - 1),
        lines=st.dictionaries(st.integers(0, 2), st.integers(1, 8), min_size=1, max_size=2),
        caller=CALLERS,
        pool=st.integers(0, 3),
    )
    def reserve_ahead(self, order, lines, caller, pool):
        # An order of a pre-sale, every line of which may sell ahead what free stock lacks: the
        # reserve rule alone, which mixes such lines with the others, reaches too few backorders.
        chosen = {self.product(i): q for i, q in lines.items()}
        self.attempt(
            services.reserve_stock,
            order_id=self.order(order),
            lines=[services.ReservationLine(p, q, backorder=True) for p, q in chosen.items()],
            client_id=self.callers[caller],
            routing=services.Routing(pool=self.pools[pool]),
        )

    def quota(self, index: int) -> str:
        return f"q{self.example}-{index}"

    @rule(
        index=st.integers(0, QUOTAS - 1),
        product=st.integers(0, 2),
        warehouse=st.integers(0, 2),
        quantity=st.integers(1, 6),
        tier=st.sampled_from(TIERS),
        priority=st.integers(0, 3),
        overflow=st.booleans(),
    )
    def create_quota(self, index, product, warehouse, quantity, tier, priority, overflow):
        self.attempt(
            services.create_quota,
            code=self.quota(index),
            product_id=self.product(product),
            warehouse=self.warehouses[warehouse],
            quantity=quantity,
            tier=tier,
            priority=priority,
            overflow=overflow,
            **open_now(),
        )

    @rule(index=st.integers(0, QUOTAS - 1), quantity=st.integers(1, 8))
    def change_quota(self, index, quantity):
        self.attempt(services.change_quota, code=self.quota(index), quantity=quantity)

    @rule(index=st.integers(0, QUOTAS - 1))
    def end_quota(self, index):
        self.attempt(services.end_quota, code=self.quota(index))

    @rule(index=st.integers(0, QUOTAS - 1))
    def quota_time_passes(self, index):
        # Test-only clock travel: the quota is now past its end (the beat task or a reserve ends it).
        now = timezone.now()
        Quota.objects.filter(code=self.quota(index)).update(
            starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1)
        )

    @rule()
    def end_due_quotas(self):
        services.end_due_quotas(product_ids=self.products)

    def presale(self, index: int) -> str:
        return f"p{self.example}-{index}"

    @rule(
        index=st.integers(0, PRESALES - 1),
        product=st.integers(0, 2),
        warehouse=st.integers(0, 2),
        limit=st.integers(1, 8),
        against=st.none() | st.integers(0, 5),
    )
    def create_presale(self, index, product, warehouse, limit, against):
        level = {"product_id": self.product(product), "warehouse": self.warehouses[warehouse]}
        if against is not None and self.purchase_orders:
            # Against one of the machine's purchase orders: at a level that order brings stock to.
            supply = list(
                PurchaseOrderLine.objects.filter(order_id=self.purchase_orders[against % len(self.purchase_orders)])
                .select_related("order__warehouse")
                .order_by("id")
            )
            line = supply[product % len(supply)]
            level = {
                "product_id": line.product_id,
                "warehouse": line.order.warehouse.code,
                "purchase_order_id": line.order_id,
            }
        self.attempt(services.create_presale, code=self.presale(index), limit=limit, **open_now(), **level)

    @rule(index=st.integers(0, PRESALES - 1), limit=st.integers(1, 8))
    def change_presale(self, index, limit):
        # A limit below what the pre-sale sold is refused.
        self.attempt(services.change_presale, code=self.presale(index), limit=limit)

    @rule(index=st.integers(0, PRESALES - 1))
    def end_presale(self, index):
        self.attempt(services.end_presale, code=self.presale(index))

    def of_order(self, operation, order_id: str, one_product: bool, product: int, caller: int) -> None:
        """An order's operation, on the whole order or one product, as one of the callers."""
        self.attempt(
            operation,
            order_id=order_id,
            product_id=self.product(product) if one_product else None,
            client_id=self.callers[caller],
        )

    @rule(order=st.integers(0, len(ORDERS) - 1), one_product=st.booleans(), product=st.integers(0, 2), caller=CALLERS)
    def release(self, order, one_product, product, caller):
        self.of_order(services.release_reservations, self.order(order), one_product, product, caller)

    @rule(order=st.integers(0, len(ORDERS) - 1), one_product=st.booleans(), product=st.integers(0, 2), caller=CALLERS)
    def deduct(self, order, one_product, product, caller):
        self.of_order(services.deduct_reservations, self.order(order), one_product, product, caller)

    @rule(order=st.integers(0, len(ORDERS) - 1), one_product=st.booleans(), product=st.integers(0, 2), caller=CALLERS)
    def cancel_backorders(self, order, one_product, product, caller):
        # One of the orders that have backorders, when there are any: a drawn one seldom has.
        backordered = sorted(
            set(Backorder.objects.filter(product_id__in=self.products).values_list("order_id", flat=True))
        )
        target = backordered[order % len(backordered)] if backordered else self.order(order)
        self.of_order(services.cancel_backorders, target, one_product, product, caller)

    @rule(
        product=st.integers(0, 2),
        quantity=st.integers(1, 8),
        warehouse=st.integers(0, 2),
        presale=st.none() | st.integers(0, PRESALES - 1),
    )
    def restock(self, product, quantity, warehouse, presale):
        level = {"product_id": self.product(product), "warehouse": self.warehouses[warehouse]}
        if presale is not None and (found := self.level_of(presale)):
            # Goods for a pre-sale, at its level: a drawn level seldom has backorders to fill.
            level = found
        self.attempt(services.restock, quantity=quantity, **level)

    def level_of(self, presale: int) -> dict | None:
        """The product and warehouse of one of the example's pre-sales (None before it is made)."""
        found = PreSale.objects.filter(code=self.presale(presale)).values_list("product_id", "warehouse__code").first()
        return found and {"product_id": found[0], "warehouse": found[1]}

    @rule(
        product=st.integers(0, 2),
        delta=st.integers(-8, 8),
        counted=st.none() | st.integers(0, 15),
        warehouse=st.integers(0, 2),
    )
    def adjust(self, product, delta, counted, warehouse):
        change = {"counted": counted} if counted is not None else {"delta": delta}
        self.attempt(
            services.adjust_stock,
            product_id=self.product(product),
            reason="count",
            warehouse=self.warehouses[warehouse],
            **change,
        )

    @rule(
        product=st.integers(0, 2),
        warehouse=st.integers(0, 2),
        found=st.integers(-3, 3),
        reserved_meanwhile=st.none() | st.integers(0, len(ORDERS) - 1),
    )
    def stock_take(self, product, warehouse, found, reserved_meanwhile):
        """A count sheet of one level counted at what is on hand plus `found` (a loss when below),
        an order reserving between the count and the post perhaps, its variance approved and posted:
        the level moves by exactly the variance, whatever moved after the count."""
        product_id, code = self.product(product), self.warehouses[warehouse]
        with contextlib.suppress(InventoryError):
            sheet = services.create_count_sheet(warehouse=code, kind="list", product_ids=[product_id], actor="machine")
            level = StockLevel.objects.filter(product_id=product_id, warehouse__code=code).first()
            on_hand = level.available_stock + level.reserved_stock if level else 0
            services.record_count(sheet_id=sheet.pk, product_id=product_id, counted=max(on_hand + found, 0), actor="m")
            if reserved_meanwhile is not None:
                self.reserve(reserved_meanwhile, {product: (1, False)}, 0, 0, None, True, None, "")
            services.approve_lines(sheet_id=sheet.pk, product_ids=[product_id], actor="machine")
            services.post_sheet(sheet_id=sheet.pk, actor="machine")

    @rule(
        source=st.integers(0, 2),
        destination=st.integers(0, 2),
        lines=st.dictionaries(st.integers(0, 2), st.integers(1, 6), min_size=1, max_size=3),
    )
    def transfer_out(self, source, destination, lines):
        with contextlib.suppress(InventoryError):
            shipment = services.create_transfer(
                source=self.warehouses[source],
                destination=self.warehouses[destination],
                lines=[services.TransferLineInput(self.product(i), q) for i, q in lines.items()],
                actor="machine",
            )
            self.transfers.append(shipment.pk)

    @rule(which=st.integers(0, 5), part=st.none() | st.tuples(st.integers(0, 2), st.integers(1, 6)))
    def receive(self, which, part):
        if not self.transfers:
            return
        lines = None if part is None else [services.TransferLineInput(self.product(part[0]), part[1])]
        self.attempt(services.receive_transfer, transfer_id=self.transfers[which % len(self.transfers)], lines=lines)

    @rule(which=st.integers(0, 5))
    def cancel(self, which):
        if self.transfers:
            self.attempt(services.cancel_transfer, transfer_id=self.transfers[which % len(self.transfers)])

    @rule(
        warehouse=st.integers(0, 2),
        lines=st.dictionaries(st.integers(0, 2), st.tuples(st.integers(1, 6), st.integers(-1, 3)), min_size=1),
    )
    def place_purchase_order(self, warehouse, lines):
        today = timezone.now().date()
        # Two indexes may name one product (with two products): a line twice is refused.
        with contextlib.suppress(InventoryError):
            placed = services.create_purchase_order(
                supplier="Machine Ltd",
                warehouse=self.warehouses[warehouse],
                lines=[
                    services.PurchaseOrderLineInput(self.product(i), quantity, today + timedelta(days=due))
                    for i, (quantity, due) in lines.items()
                ],
                actor="machine",
            )
            self.purchase_orders.append(placed.pk)

    @rule(which=st.integers(0, 5), part=st.none() | st.tuples(st.integers(0, 2), st.integers(1, 8)))
    def receive_purchase_order(self, which, part):
        # A part may be more than is outstanding (an over-delivery), or of a product not ordered (refused).
        if self.purchase_orders:
            lines = None if part is None else [services.ReceiptLineInput(self.product(part[0]), part[1])]
            order = self.purchase_orders[which % len(self.purchase_orders)]
            self.attempt(services.receive_purchase_order, purchase_order_id=order, lines=lines)

    @rule(which=st.integers(0, 5), close=st.booleans())
    def end_purchase_order(self, which, close):
        if self.purchase_orders:
            end = services.close_purchase_order if close else services.cancel_purchase_order
            self.attempt(end, purchase_order_id=self.purchase_orders[which % len(self.purchase_orders)])

    @rule(warehouse=st.integers(1, 2), accepts=st.booleans())
    def warehouse_accepts_orders(self, warehouse, accepts):
        # A warehouse out of allocation (and back) while its holds stay where they are.
        services.update_warehouse(self.warehouses[warehouse], actor="machine", accepts_orders=accepts)

    @rule(product=st.integers(0, 2), warehouse=st.integers(0, 2), buckets=st.sampled_from([1, 1, 2, 3, 5]))
    def make_hot(self, product, warehouse, buckets):
        self.attempt(
            services.make_hot, product_id=self.product(product), buckets=buckets, warehouse=self.warehouses[warehouse]
        )

    @rule()
    def rebalance(self):
        services.rebalance_hot_levels(actor="machine")

    @rule(order=st.integers(0, len(ORDERS) - 1))
    def time_passes_for(self, order):
        # Test-only clock travel: the order's holds are now past their expiry.
        Reservation.objects.filter(order_id=self.order(order)).update(expires_at=F("expires_at") - timedelta(hours=1))

    @rule()
    def cleanup(self):
        services.expire_overdue_reservations(product_ids=self.products, batch_size=2)

    @invariant()
    def counters_holds_and_ledger_agree(self):
        for product_id in self.products:
            assert_invariants(product_id)

    @invariant()
    def units_are_conserved_and_never_sold_twice(self):
        """What the log brought in is on the shelf, held, in transit, or gone: paid for, or
        shipped to a backorder (a fill takes its units out of stock as a sale)."""
        # Each figure in one query for all the products: these invariants run after every step.
        moved = {
            product_id: (brought_in, shipped)
            for product_id, brought_in, shipped in InventoryLog.objects.filter(product_id__in=self.products)
            .values_list("product_id")
            .annotate(
                brought_in=Sum("quantity", filter=Q(operation__in=INFLOW), default=0),
                shipped=Sum("quantity", filter=Q(operation=FILL), default=0),
            )
        }
        sold = dict(
            Reservation.objects.filter(product_id__in=self.products, status="confirmed")
            .values_list("product_id")
            .annotate(total=Sum("quantity"))
        )
        rows = Inventory.objects.filter(product_id__in=self.products)
        assert len(rows) == len(self.products)
        for row in rows:
            brought_in, shipped = moved[row.product_id]
            on_hand = row.available_stock + row.reserved_stock + row.in_transit
            assert on_hand + sold.get(row.product_id, 0) + shipped == brought_in, row.product_id

    @invariant()
    def every_row_holds_its_own_holds(self):
        """Per row, not only summed: a hold's units are in the reserved stock of the row it names."""
        held = {
            (product_id, warehouse_id, bucket): total
            for product_id, warehouse_id, bucket, total in Reservation.objects.filter(
                product_id__in=self.products, status="active"
            )
            .values_list("product_id", "warehouse_id", "bucket")
            .annotate(total=Sum("quantity"))
        }
        for row in StockRow.objects.filter(product_id__in=self.products):
            key = (row.product_id, row.warehouse_id, row.bucket)
            assert row.reserved_stock == held.get(key, 0), key
            assert row.available_stock >= 0

    @invariant()
    def quotas_set_aside_what_their_levels_say(self):
        """Per level, the units its open quotas set aside are its `allotted_stock`, within
        its available stock; no quota holds more than it was granted."""
        aside: dict[tuple[int, int], int] = {}
        for quota in Quota.objects.filter(product_id__in=self.products):
            assert quota.allotted + quota.drawn <= quota.quantity
            assert quota.status == "active" or quota.allotted == 0
            key = (quota.product_id, quota.warehouse_id)
            aside[key] = aside.get(key, 0) + quota.allotted
        for level in StockLevel.objects.filter(product_id__in=self.products):
            assert level.allotted_stock == aside.get((level.product_id, level.warehouse_id), 0)
            assert 0 <= level.allotted_stock <= level.available_stock
        drawn = dict(
            Reservation.objects.filter(product_id__in=self.products, quota__isnull=False)
            .values_list("quota_id")
            .annotate(total=Sum("quota_units"))
        )
        for quota in Quota.objects.filter(product_id__in=self.products):
            assert quota.drawn == drawn.get(quota.pk, 0), quota.code

    @invariant()
    def receipts_are_restocks_and_atp_counts_what_is_coming(self):
        """A purchase-order line has received what its order's restock entries brought, and
        ATP's last day is what is on the shelf, in transit and outstanding, less what quotas
        set aside and what open backorders still wait for (every line of the machine is due
        within four days)."""
        restocked = {
            (product_id, reference): total
            for product_id, reference, total in InventoryLog.objects.filter(
                product_id__in=self.products, operation="restock"
            )
            .values_list("product_id", "reference")
            .annotate(total=Sum("quantity"))
        }
        for line in PurchaseOrderLine.objects.filter(order_id__in=self.purchase_orders):
            assert line.received == restocked.get((line.product_id, f"po:{line.order_id}"), 0)
        # The pool `all`: the warehouses that accept orders.
        accepting = Warehouse.objects.filter(accepts_orders=True)
        outstanding: dict[int, int] = {}
        for line in PurchaseOrderLine.objects.filter(
            order_id__in=self.purchase_orders,
            order__status__in=OPEN_PURCHASE_ORDER_STATUSES,
            order__warehouse__in=accepting,
        ):
            outstanding[line.product_id] = outstanding.get(line.product_id, 0) + max(line.quantity - line.received, 0)
        sold_ahead: dict[int, int] = {}
        for backorder in Backorder.objects.filter(product_id__in=self.products, status="open", warehouse__in=accepting):
            sold_ahead[backorder.product_id] = (
                sold_ahead.get(backorder.product_id, 0) + backorder.quantity - backorder.filled
            )
        on_hand: dict[int, int] = {}
        for level in StockLevel.objects.filter(product_id__in=self.products, warehouse__in=accepting):
            on_hand[level.product_id] = (
                on_hand.get(level.product_id, 0) + level.available_stock + level.in_transit - level.allotted_stock
            )
        for item in products_atp(product_ids=self.products, days=5)["items"]:
            product_id = item["product_id"]
            coming = outstanding.get(product_id, 0) - sold_ahead.get(product_id, 0)
            assert item["days"][-1]["atp"] == on_hand.get(product_id, 0) + coming, product_id
        received = PurchaseOrder.objects.filter(pk__in=self.purchase_orders, status="received").prefetch_related(
            "lines"
        )
        for order in received:
            assert all(line.received >= line.quantity for line in order.lines.all())

    @invariant()
    def presales_sold_what_their_backorders_took(self):
        """Recounted from the rows: a backorder has `filled` what its fill entries shipped to it,
        within its quantity, and is `filled` exactly when every unit came; a pre-sale has sold,
        within its limit, its backorders' units less what was cancelled before it came."""
        backorders = {backorder.pk: backorder for backorder in Backorder.objects.filter(product_id__in=self.products)}
        shipped = dict.fromkeys(backorders, 0)
        entries = (
            InventoryLog.objects.filter(product_id__in=self.products, operation=FILL)
            .values_list("backorder_id", "product_id", "warehouse_id", "order_id")
            .annotate(total=Sum("quantity"))
        )
        for backorder_id, product_id, warehouse_id, order_id, total in entries:
            # A fill names its backorder, and is of that backorder's level and order.
            filled = backorders.get(backorder_id)
            assert filled is not None, f"a fill of backorder {backorder_id}"
            assert (product_id, warehouse_id, order_id) == (filled.product_id, filled.warehouse_id, filled.order_id)
            shipped[backorder_id] += total
        presales = {presale.pk: presale for presale in PreSale.objects.filter(product_id__in=self.products)}
        took = dict.fromkeys(presales, 0)
        for backorder in backorders.values():
            assert 0 <= backorder.filled <= backorder.quantity
            assert (backorder.status == "filled") == (backorder.filled == backorder.quantity), backorder.pk
            assert backorder.filled == shipped[backorder.pk], backorder.pk
            seller = presales[backorder.presale_id]
            # It waits at its pre-sale's level.
            assert (seller.product_id, seller.warehouse_id) == (backorder.product_id, backorder.warehouse_id)
            took[seller.pk] += backorder.filled if backorder.status == "cancelled" else backorder.quantity
        for presale in presales.values():
            assert 0 <= presale.sold <= presale.limit
            assert presale.sold == took[presale.pk], presale.code

    @invariant()
    def backorders_are_filled_oldest_first(self):
        """Per level, its backorders in the order they were placed (cancelled ones aside): the
        filled ones, then at most one filled in part, then those that got nothing yet.

        That is what the design guarantees (services/backorders.py): an arrival gives the
        level's open backorders, oldest first, all each still waits for before the next gets
        a unit, and a backorder placed later has a higher id than every older one. It does
        not promise that an older backorder waits only while its level has no free stock:
        units a release, an expiry, a count or a cancelled transfer gives back are for
        whoever reserves next, never a fill (docs/presales.md), so that is not checked."""
        stage: dict[tuple[int, int], int] = {}
        for backorder in (
            Backorder.objects.filter(product_id__in=self.products).exclude(status="cancelled").order_by("id")
        ):
            level = (backorder.product_id, backorder.warehouse_id)
            # 0 filled, 1 filled in part, 2 nothing yet: never lower than an older one's, one 1 at most.
            reached = 0 if backorder.status == "filled" else 1 if backorder.filled else 2
            before = stage.get(level, 0)
            assert reached > before or reached == before != 1, (level, backorder.pk)
            stage[level] = reached

    @invariant()
    def an_order_has_one_owner(self):
        """An order's holds have one owner, and so have its backorders. Not both together: a
        plain line never reads backorders, so another client's plain lines under the id of an
        order that only backordered are taken (docs/presales.md, our choice)."""
        for model in (Reservation, Backorder):
            owners = model.objects.filter(product_id__in=self.products).values_list("order_id", "client_id")
            by_order: dict[str, set] = {}
            for order_id, client_id in owners:
                by_order.setdefault(order_id, set()).add(client_id)
            assert all(len(clients) == 1 for clients in by_order.values()), (model.__name__, by_order)

    @invariant()
    def counts_moved_their_levels_by_their_variance(self):
        """A posted line's adjustment is its variance; every counted line expected what the ledger of
        its level held at its position (available + reserved after the level's entries up to it)."""
        lines = CountLine.objects.filter(product_id__in=self.products).exclude(counted=None)
        for counted, expected, moved in lines.filter(sheet__status="posted").values_list(
            "counted", "expected", "adjustment__quantity"
        ):
            assert (moved or 0) == counted - expected
        for product_id, warehouse_id, expected, position in lines.values_list(
            "product_id", "sheet__warehouse_id", "expected", "ledger_position"
        ):
            # Each row's figures after its last entry up to the position (PostgreSQL's DISTINCT ON).
            rows_then = (
                InventoryLog.objects.filter(product_id=product_id, warehouse_id=warehouse_id, id__lte=position)
                .order_by("bucket", "-id")
                .distinct("bucket")
                .values_list("available_after", "reserved_after")
            )
            assert sum(available + reserved for available, reserved in rows_then) == expected

    @invariant()
    def ended_reservations_stay_ended(self):
        current = dict(Reservation.objects.filter(product_id__in=self.products).values_list("pk", "status"))
        for pk, before in self.statuses.items():
            after = current[pk]
            if before in TERMINAL and after != before:
                assert (before, after) == ("expired", "confirmed")
                assert Reservation.objects.get(pk=pk).reacquired
        self.statuses = current

    def teardown(self):
        assert list(ledger_discrepancies()) == []


# An example is up to 25 steps over three warehouses and transfers (about a second each on
# the CI machine): the CI profile's 300 examples would take longer than the suite may.
MAX_EXAMPLES = 100


@pytest.mark.django_db
@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.usefixtures("store")
def test_stock_operations_keep_the_contract_invariants():
    first_example = next(_example_ids)
    run_state_machine_as_test(
        StockMachine,
        settings=settings(stateful_step_count=25, max_examples=min(settings.default.max_examples, MAX_EXAMPLES)),
    )
    examples = next(_example_ids) - first_example - 1
    # What the run reached of pre-sale (every example's rows stay until the test ends).
    placed = dict(Backorder.objects.values_list("status").annotate(n=Count("id")))
    fills = InventoryLog.objects.filter(operation=FILL).count()
    takes = CountLine.objects.filter(sheet__status="posted").aggregate(posted=Count("id"), adjusted=Count("adjustment"))
    print(f"Hypothesis ran {examples} state-machine examples: backorders {placed}, {fills} fills, stock-takes {takes}")
