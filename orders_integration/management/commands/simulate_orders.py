"""Drive a realistic mix of orders through `InventoryClient` against a running server.

Each order picks 1 to 4 products (a few popular ones far more often, so they sell
out and some orders are turned away) and a destination in one of the demo
network's regions (`inventory/management/demo_network.py`), may check them first
like a cart page, reserves them from the network's `nearest` pool with that
`ship_to` (a line no warehouse can hold whole is split over several), then is
paid (most), cancelled (some) or abandoned (some): an
abandoned order holds its stock for `--abandon-ttl` seconds only, and one in
five comes back to pay after its hold lapsed (paid late if the units are still
there, refunded if not). Now and then a call is sent twice, as an order app does
when an answer is lost, and the repeat must answer like the first.

A campaign (`--campaign-share F`): before the orders, a quota of `--campaign-units` units
of the most popular product is set aside in its home warehouse for a customer tier of this
run's own (`campaign-<run>`, the quota's code too), and a share F of the orders carry that
tier, so their lines of the product draw on the quota first (then on free stock). After
the orders the quota is ended (what is left returns to free stock) and the summary says
how many holds drew on it and how many units. It needs the server's database, as the
ledger check does.

Products `--first-product` .. `--first-product + --products - 1` that do not
exist yet are created, with `--stock` units spread over the network's warehouses
(and the network where missing), in the database this command is configured with
(so run it with the server's DATABASE_URL); the ledger check at the end runs
against that database too, when it is the server's.
"""

import os
import random
import secrets
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from inventory import limits, selectors, services
from inventory.exceptions import AlreadyExists
from inventory.exceptions import InsufficientStock as NotEnoughToSetAside
from inventory.management import demo_network
from inventory.management.progress import QUIET_HELP, progress_bar, quiet_stock_log, stderr_is_terminal
from inventory.selectors.quotas import quota_by_code, quota_draws
from orders_integration.client import (
    InsufficientStock,
    InventoryAPIError,
    InventoryClient,
    Line,
    OrderReservations,
    PoolNotFound,
    ReservationExpired,
    ShipTo,
)

if TYPE_CHECKING:
    from inventory.models import Quota

SIMULATOR_ACTOR = "order-simulator"
MAX_LINES = 4
MAX_QUANTITY_PER_LINE = 3
CHECK_FIRST_RATE = 0.3
REPEAT_RATE = 0.05
LATE_PAYER_RATE = 0.2
FATE_WEIGHTS = {"paid": 80, "cancelled": 10, "abandoned": 10}
BATCH_CHECK_LIMIT = 200
# Destinations lie up to this many degrees (latitude and longitude) from their region's warehouse.
DESTINATION_SPREAD_DEGREES = 4.0
# A campaign's quota is open this long; the run ends it when its orders are done.
CAMPAIGN_WINDOW = timedelta(days=1)


@dataclass
class Tally:
    """What the orders did, filled in by every worker thread."""

    outcomes: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    latencies_ms: defaultdict = field(default_factory=lambda: defaultdict(list))
    # What the placed orders held in each warehouse: units and reservations.
    units_by_warehouse: Counter = field(default_factory=Counter)
    holds_by_warehouse: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, outcome: str) -> None:
        with self.lock:
            self.outcomes[outcome] += 1

    def error(self, code: str) -> None:
        with self.lock:
            self.errors[code] += 1

    def held(self, placed: OrderReservations) -> None:
        split_lines = sum(1 for parts in placed.by_product().values() if len(parts) > 1)
        with self.lock:
            for reservation in placed.reservations:
                self.units_by_warehouse[reservation.warehouse] += reservation.quantity
                self.holds_by_warehouse[reservation.warehouse] += 1
            self.outcomes["split_lines"] += split_lines

    def timed(self, operation: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            with self.lock:
                self.latencies_ms[operation].append(elapsed_ms)


class OrderSimulation:
    """The life of one order; its choices come from its own seeded generator."""

    def __init__(
        self,
        client: InventoryClient,
        tally: Tally,
        product_ids: list[int],
        abandon_ttl: int,
        campaign: tuple[str, float] | None = None,
    ) -> None:
        self.client = client
        self.tally = tally
        self.product_ids = product_ids
        # A long tail: the first products sell several times more than the last, so they run out first.
        self.popularity = [rank**-0.5 for rank in range(1, len(product_ids) + 1)]
        self.abandon_ttl = abandon_ttl
        # The campaign's customer tier and the share of orders that carry it.
        self.campaign = campaign

    def run(self, order_id: str, rng: random.Random) -> None:
        try:
            self._live(order_id, rng)
        except InventoryAPIError as failure:
            self.tally.error(failure.code)

    def _live(self, order_id: str, rng: random.Random) -> None:
        lines = self._pick_lines(rng)
        ship_to = _destination(rng)
        fate = rng.choices(list(FATE_WEIGHTS), weights=list(FATE_WEIGHTS.values()))[0]
        if rng.random() < CHECK_FIRST_RATE:
            self.tally.timed("check_batch", self.client.check_batch, lines, pool=demo_network.POOL)
        ttl = self.abandon_ttl if fate == "abandoned" else None
        # Drawn only in a campaign, so that a seed gives the same orders as before without one.
        tier = self.campaign[0] if self.campaign and rng.random() < self.campaign[1] else None
        try:
            placed = self._call_maybe_twice(
                rng,
                "reserve",
                self.client.reserve_order,
                order_id,
                lines,
                ttl_seconds=ttl,
                pool=demo_network.POOL,
                ship_to=ship_to,
                customer_tier=tier,
            )
        except InsufficientStock:
            self.tally.count("rejected")
            return
        finally:
            if tier:
                self.tally.count("campaign_orders")
        self.tally.count("placed")
        self.tally.held(placed)
        self.tally.count(fate)
        if fate == "paid":
            self._call_maybe_twice(rng, "deduct", self.client.deduct, order_id)
        elif fate == "cancelled":
            self._call_maybe_twice(rng, "release", self.client.release, order_id)
        elif rng.random() < LATE_PAYER_RATE:
            self._pay_late(order_id)

    def _pick_lines(self, rng: random.Random) -> list[Line]:
        count = min(rng.randint(1, MAX_LINES), len(self.product_ids))
        chosen: set[int] = set()
        while len(chosen) < count:
            chosen.add(rng.choices(self.product_ids, weights=self.popularity)[0])
        return [Line(product_id, rng.randint(1, MAX_QUANTITY_PER_LINE)) for product_id in sorted(chosen)]

    def _call_maybe_twice(self, rng: random.Random, operation: str, call: Callable[..., Any], *args, **kwargs):
        first = self.tally.timed(operation, call, *args, **kwargs)
        if rng.random() < REPEAT_RATE:
            repeat = self.tally.timed(operation, call, *args, **kwargs)
            self.tally.count("repeated_calls")
            if repeat.created or repeat.reservations != first.reservations:
                self.tally.error("repeat_not_idempotent")
        return first

    def _pay_late(self, order_id: str) -> None:
        """Come back after the hold lapsed: paid if the units are still free, else refunded."""
        time.sleep(self.abandon_ttl + 0.5)
        self.tally.count("came_back_late")
        try:
            paid = self.tally.timed("deduct", self.client.deduct, order_id)
        except ReservationExpired:
            self.tally.count("refunded")
            return
        if any(reservation.reacquired for reservation in paid.reservations):
            self.tally.count("paid_late")


def _destination(rng: random.Random) -> ShipTo:
    """An address in one of the network's regions, near (not at) its warehouse."""
    site = rng.choice(demo_network.SITES)
    return ShipTo(
        region=site.region,
        latitude=round(site.latitude + rng.uniform(-DESTINATION_SPREAD_DEGREES, DESTINATION_SPREAD_DEGREES), 4),
        longitude=round(site.longitude + rng.uniform(-DESTINATION_SPREAD_DEGREES, DESTINATION_SPREAD_DEGREES), 4),
    )


class Command(BaseCommand):
    help = "Simulate the order application against a running inventory server, then check the ledger."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", required=True, help="the server's root, e.g. http://127.0.0.1:8000")
        parser.add_argument(
            "--token",
            default=os.environ.get("INVENTORY_API_TOKEN"),
            help="an internal API client's token (default: $INVENTORY_API_TOKEN, which keeps it out of `ps`)",
        )
        parser.add_argument("--orders", type=int, default=200)
        parser.add_argument("--concurrency", type=int, default=8)
        parser.add_argument("--products", type=int, default=50)
        parser.add_argument("--seed", type=int, default=None, help="makes each order's choices repeatable")
        parser.add_argument("--first-product", type=int, default=1_000_001, help="product_id of the first product")
        parser.add_argument("--stock", type=int, default=500, help="units of each product that is created")
        parser.add_argument("--abandon-ttl", type=int, default=2, help="seconds an abandoned order holds stock")
        parser.add_argument(
            "--campaign-share",
            type=float,
            default=0.0,
            help="share (0 to 1) of the orders that carry the tier of a campaign quota of the most popular product "
            "(default 0: no campaign)",
        )
        parser.add_argument(
            "--campaign-units", type=int, default=20, help="units the campaign's quota sets aside (default 20)"
        )
        # --no-progress is the older spelling of --quiet.
        parser.add_argument("--quiet", "--no-progress", dest="quiet", action="store_true", help=QUIET_HELP)

    def handle(self, *args, **options):
        if not options["token"]:
            raise CommandError("Give --token or set INVENTORY_API_TOKEN.")
        for name in ("orders", "concurrency", "products", "abandon_ttl"):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1.")
        if not 0 <= options["campaign_share"] <= 1:
            raise CommandError("--campaign-share must be from 0 to 1.")
        if not 1 <= options["campaign_units"] <= limits.MAX_QUANTITY:
            raise CommandError(f"--campaign-units must be from 1 to {limits.MAX_QUANTITY}.")
        seed = options["seed"] if options["seed"] is not None else secrets.randbelow(2**31)
        product_ids = list(range(options["first_product"], options["first_product"] + options["products"]))
        run_id = secrets.token_hex(3)
        tally = Tally()
        with InventoryClient(options["base_url"], options["token"], max_connections=options["concurrency"]) as client:
            with quiet_stock_log(stderr_is_terminal()):  # its `create` lines would scroll past on a terminal
                shares_database = self._prepare_products(client, product_ids, options["stock"])
            quota = self._start_campaign(run_id, product_ids[0], options, shares_database)
            started = time.perf_counter()
            self._run_orders(client, tally, product_ids, seed, run_id, quota, options)
            elapsed = time.perf_counter() - started
        self._print_summary(tally, seed, elapsed, options)
        if quota is not None:
            self._end_campaign(quota, tally)
        self._check_ledger(shares_database)

    def _start_campaign(self, run_id: str, product_id: int, options, shares_database: bool) -> "Quota | None":
        """The campaign's quota, for a tier of this run's own (so no older run's quota serves it); None without one."""
        if not options["campaign_share"]:
            return None
        if not shares_database:
            raise CommandError(
                "A campaign sets its quota aside in this command's database: run it with the server's DATABASE_URL."
            )
        code = f"campaign-{run_id}"
        home = demo_network.SITES[0].code  # the first product's (`_create_spread_product`)
        now = timezone.now()
        try:
            quota = services.create_quota(
                code=code,
                product_id=product_id,
                warehouse=home,
                quantity=options["campaign_units"],
                starts_at=now - timedelta(seconds=1),
                ends_at=now + CAMPAIGN_WINDOW,
                tier=code,
                name="order simulation campaign",
                actor=SIMULATOR_ACTOR,
            )
        except NotEnoughToSetAside as short:
            raise CommandError(
                f"Product {product_id} has {short.short_lines[0].available} free units in {home}: "
                "give fewer --campaign-units, or a --first-product that is not sold out."
            ) from None
        self.stdout.write(
            f"Campaign: quota {code} sets aside {quota.quantity} units of product {product_id} in {home} for the tier "
            f"{code}, carried by {options['campaign_share']:.0%} of the orders."
        )
        return quota

    def _end_campaign(self, quota: "Quota", tally: Tally) -> None:
        """End the campaign's quota (what is left returns to free stock) and say what its orders drew."""
        draws, left = quota_draws(quota), quota_by_code(quota.code).allotted
        services.end_quota(code=quota.code, actor=SIMULATOR_ACTOR, reason="order simulation over")
        self.stdout.write(
            f"Campaign {quota.code}: orders of the tier {tally.outcomes['campaign_orders']}, "
            f"draws served from the quota {draws.holds} ({draws.units} units), "
            f"left and returned to free stock {left}"
        )

    def _prepare_products(self, client: InventoryClient, product_ids: list[int], stock: int) -> bool:
        """Create the network and missing products here; return whether the server sees this same database."""
        demo_network.ensure_demo_network(SIMULATOR_ACTOR)
        created = 0
        for index, product_id in enumerate(product_ids):
            try:
                _create_spread_product(product_id, stock, home=index % len(demo_network.SITES))
                created += 1
            except AlreadyExists:
                pass
        checked = selectors.check_products(lines=[(product_id, 1) for product_id in product_ids])["items"]
        local = {item["product_id"]: item["available_stock"] for item in checked if item["found"]}
        remote = {}
        for start in range(0, len(product_ids), BATCH_CHECK_LIMIT):
            chunk = product_ids[start : start + BATCH_CHECK_LIMIT]
            answer = client.check_batch([Line(product_id, 1) for product_id in chunk])
            remote.update((item.product_id, item.available_stock) for item in answer.items if item.found)
        try:
            client.check_batch([Line(product_ids[0], 1)], pool=demo_network.POOL)
        except PoolNotFound:
            raise CommandError(
                f"The server has no pool {demo_network.POOL}. Run this command with the server's DATABASE_URL "
                "so that it can create the demo network, or run `manage.py load_demo_data` on the server."
            ) from None
        missing = [product_id for product_id in product_ids if product_id not in remote]
        if missing:
            raise CommandError(
                f"{len(missing)} product(s) are unknown to the server (first: {missing[0]}). Run this command "
                "with the server's DATABASE_URL so that it can create them, or create them on the server."
            )
        self.stdout.write(f"Products: {len(product_ids)} ({created} created here with {stock} units each).")
        warehouses = ", ".join(site.code for site in demo_network.SITES)
        self.stdout.write(f"Warehouses: {warehouses}, sold from the pool {demo_network.POOL} (nearest first).")
        return remote == local

    def _run_orders(self, client, tally, product_ids, seed, run_id, quota, options) -> None:
        campaign = (quota.tier, options["campaign_share"]) if quota is not None else None
        simulation = OrderSimulation(client, tally, product_ids, options["abandon_ttl"], campaign)
        with (
            ThreadPoolExecutor(max_workers=options["concurrency"]) as pool,
            progress_bar(total=options["orders"], unit="order", quiet=options["quiet"]) as progress,
        ):
            futures = [
                # Each order's generator depends on the seed and its number only, not on thread timing.
                pool.submit(simulation.run, f"sim-{run_id}-{index:06d}", random.Random(f"{seed}:{index}"))  # noqa: S311
                for index in range(options["orders"])
            ]
            for future in as_completed(futures):
                future.result()
                progress.update()

    def _print_summary(self, tally: Tally, seed: int, elapsed: float, options) -> None:
        outcomes, write = tally.outcomes, self.stdout.write
        write(
            f"Orders: {options['orders']} in {elapsed:.1f} s ({options['orders'] / elapsed:.1f} orders/s), "
            f"concurrency {options['concurrency']}, {options['products']} products, seed {seed}"
        )
        write(f"  placed {outcomes['placed']}, rejected for insufficient stock {outcomes['rejected']}")
        write(
            f"  paid {outcomes['paid']}, cancelled {outcomes['cancelled']}, abandoned {outcomes['abandoned']} "
            f"(came back after the hold lapsed {outcomes['came_back_late']}: paid late {outcomes['paid_late']}, "
            f"refunded {outcomes['refunded']})"
        )
        write(f"  calls sent twice {outcomes['repeated_calls']}")
        held = ", ".join(
            f"{code} {units} units in {tally.holds_by_warehouse[code]} holds"
            for code, units in sorted(tally.units_by_warehouse.items())
        )
        write(f"Reserved by warehouse (pool {demo_network.POOL}): {held or 'nothing'}")
        write(f"  lines split over warehouses {outcomes['split_lines']}")
        errors = ", ".join(f"{code} {count}" for code, count in tally.errors.most_common()) or "none"
        write(f"Errors by code: {errors}")
        write(f"Latency (ms)   {'calls':>7} {'p50':>8} {'p99':>8}")
        every_call = []
        for operation in sorted(tally.latencies_ms):
            samples = tally.latencies_ms[operation]
            every_call.extend(samples)
            write(_latency_row(operation, samples))
        write(_latency_row("all", every_call))

    def _check_ledger(self, shares_database: bool) -> None:
        if not shares_database:
            self.stdout.write(
                "Ledger check: skipped, the server does not use this command's database; "
                "run `manage.py verify_ledger` where it does."
            )
            return
        self.stdout.write("Ledger check: ", ending="")
        call_command("verify_ledger", stdout=self.stdout)


def _create_spread_product(product_id: int, stock: int, *, home: int) -> None:
    """A product with `stock` units spread evenly over the network's warehouses, the remainder at `home`.

    All of it or nothing: AlreadyExists, raised by its creation, leaves the product as it was.
    """
    sites = demo_network.SITES
    share, remainder = divmod(stock, len(sites))
    with transaction.atomic():
        services.create_inventory(
            product_id=product_id,
            available_stock=share + remainder,
            warehouse=sites[home].code,
            actor=SIMULATOR_ACTOR,
            reason="order simulation",
        )
        for step in range(1, len(sites)):
            if share:
                services.restock(
                    product_id=product_id,
                    quantity=share,
                    warehouse=sites[(home + step) % len(sites)].code,
                    actor=SIMULATOR_ACTOR,
                    reason="order simulation",
                )


def _latency_row(name: str, samples: list[float]) -> str:
    if not samples:
        return f"  {name:<12} {0:>7}"
    ordered = sorted(samples)
    return f"  {name:<12} {len(ordered):>7} {_percentile(ordered, 50):>8.1f} {_percentile(ordered, 99):>8.1f}"


def _percentile(ordered: list[float], percent: int) -> float:
    """Nearest-rank percentile of sorted samples."""
    rank = max(1, -(-len(ordered) * percent // 100))
    return ordered[rank - 1]
