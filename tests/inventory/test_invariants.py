"""Hypothesis drives random sequences of every stock operation through the services
and checks the contract's invariants after each step."""

import contextlib
import itertools
from datetime import timedelta

import pytest
from django.db.models import F, Sum
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from inventory import services
from inventory.exceptions import InventoryError
from inventory.models import Inventory, InventoryLog, Reservation
from inventory.selectors import ledger_discrepancies
from tests.inventory.helpers import assert_invariants

_example_ids = itertools.count()
_product_ids = itertools.count(5_000_000, 10)
ORDERS = [f"O{n}" for n in range(6)]
TERMINAL = {"confirmed", "cancelled", "expired"}
INFLOW = ["create", "restock", "adjust"]
# Who calls: the in-process flows (0, no client) or one of two order applications.
CALLERS = st.integers(0, 2)


class StockMachine(RuleBasedStateMachine):
    @initialize(stocks=st.lists(st.integers(0, 12), min_size=2, max_size=3))
    def create_products(self, stocks):
        first = next(_product_ids)
        self.products = [first + offset for offset in range(len(stocks))]
        self.example = next(_example_ids)
        self.statuses: dict[int, str] = {}
        for product_id, stock in zip(self.products, stocks, strict=True):
            services.create_inventory(product_id=product_id, available_stock=stock, actor="machine")
        # Two order applications, and None: the in-process order flows.
        self.callers = [None] + [
            services.create_api_client(name=f"machine-{self.example}-{app}", role="internal").client.pk
            for app in ("a", "b")
        ]

    def order(self, index: int) -> str:
        return f"E{self.example}-{ORDERS[index]}"

    def attempt(self, operation, **arguments):
        # A refusal is fine; the invariants say whether it changed anything.
        with contextlib.suppress(InventoryError):
            operation(actor="machine", **arguments)

    @rule(
        order=st.integers(0, len(ORDERS) - 1),
        lines=st.dictionaries(st.integers(0, 2), st.integers(1, 6), min_size=1, max_size=3),
        caller=CALLERS,
    )
    def reserve(self, order, lines, caller):
        chosen = {self.products[i % len(self.products)]: q for i, q in lines.items()}
        self.attempt(
            services.reserve_stock,
            order_id=self.order(order),
            lines=[services.ReservationLine(p, q) for p, q in chosen.items()],
            client_id=self.callers[caller],
        )

    @rule(order=st.integers(0, len(ORDERS) - 1), one_product=st.booleans(), product=st.integers(0, 2), caller=CALLERS)
    def release(self, order, one_product, product, caller):
        target = self.products[product % len(self.products)] if one_product else None
        self.attempt(
            services.release_reservations, order_id=self.order(order), product_id=target, client_id=self.callers[caller]
        )

    @rule(order=st.integers(0, len(ORDERS) - 1), one_product=st.booleans(), product=st.integers(0, 2), caller=CALLERS)
    def deduct(self, order, one_product, product, caller):
        target = self.products[product % len(self.products)] if one_product else None
        self.attempt(
            services.deduct_reservations, order_id=self.order(order), product_id=target, client_id=self.callers[caller]
        )

    @rule(product=st.integers(0, 2), quantity=st.integers(1, 8))
    def restock(self, product, quantity):
        self.attempt(services.restock, product_id=self.products[product % len(self.products)], quantity=quantity)

    @rule(product=st.integers(0, 2), delta=st.integers(-8, 8), counted=st.none() | st.integers(0, 15))
    def adjust(self, product, delta, counted):
        change = {"counted": counted} if counted is not None else {"delta": delta}
        self.attempt(
            services.adjust_stock, product_id=self.products[product % len(self.products)], reason="count", **change
        )

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
        for product_id in self.products:
            row = Inventory.objects.get(product_id=product_id)
            brought_in = (
                InventoryLog.objects.filter(product_id=product_id, operation__in=INFLOW).aggregate(
                    total=Sum("quantity")
                )["total"]
                or 0
            )
            sold = (
                Reservation.objects.filter(product_id=product_id, status="confirmed").aggregate(total=Sum("quantity"))[
                    "total"
                ]
                or 0
            )
            assert row.available_stock + row.reserved_stock + sold == brought_in

    @invariant()
    def an_order_has_one_owner(self):
        owners = Reservation.objects.filter(product_id__in=self.products).values_list("order_id", "client_id")
        by_order: dict[str, set] = {}
        for order_id, client_id in owners:
            by_order.setdefault(order_id, set()).add(client_id)
        assert all(len(clients) == 1 for clients in by_order.values()), by_order

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


@pytest.mark.django_db
@pytest.mark.slow
@pytest.mark.usefixtures("store")
def test_stock_operations_keep_the_contract_invariants():
    first_example = next(_example_ids)
    run_state_machine_as_test(StockMachine, settings=settings(stateful_step_count=25))
    print(f"Hypothesis ran {next(_example_ids) - first_example - 1} state-machine examples")
