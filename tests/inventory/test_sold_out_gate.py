"""The sold-out gate (inventory/services/sold_out.py), against the real PostgreSQL and Redis.

Its compare-and-set, the race of a restock committed while a flag is being set,
overdue holds, selling out and back, and Redis down or slow. The tests of the module
alone call `observe` in the transaction of the change (`committed`); the last class
goes through the services, which observe their own changes.
"""

import logging
import socket
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from inventory import services
from inventory.exceptions import InsufficientStock
from inventory.services import sold_out
from tests.inventory.test_services_reserve import make_overdue, reserve

# No product of these exists: the tests of the script alone publish states of their own.
UNKNOWN_PRODUCT = 900_000_001
CLOSED_PORT_URL = "redis://127.0.0.1:1/0"


@pytest.fixture(autouse=True)
def gate(settings) -> Iterator[redis.Redis]:
    """The gate on, a fresh client, and none of its keys in the test's Redis; a client of
    that Redis for the test to look at the keys."""
    settings.INVENTORY_SOLD_OUT_GATE = True
    sold_out.reset()
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(match=f"{sold_out.KEY_PREFIX}*"):
        client.delete(key)
    yield client
    sold_out.reset()
    client.close()


@pytest.fixture
def silent_redis(settings) -> Iterator[socket.socket]:
    """A server that accepts connections and never answers: a Redis too slow to wait for."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as server:
        settings.REDIS_URL = f"redis://127.0.0.1:{server.getsockname()[1]}/0"
        yield server


def committed(product_id: int, change: Callable[[], object]) -> None:
    """Run a change of stock and observe its product in one transaction, as the services will."""
    with transaction.atomic():
        change()
        sold_out.observe([product_id])


def restock(product_id: int, quantity: int = 5) -> Callable[[], object]:
    return lambda: services.restock(product_id=product_id, quantity=quantity, actor="tester")


def state(version: int, *, sold_out_now: bool, ttl_ms: int = 5000, product_id: int = UNKNOWN_PRODUCT):
    return sold_out.State(product_id, version, sold_out_now, ttl_ms, time.monotonic())


def stored(client: redis.Redis, product_id: int) -> bytes | None:
    return client.get(f"{sold_out.KEY_PREFIX}{product_id}")


class TestCompareAndSet:
    def test_an_older_version_never_overwrites_a_newer_one(self, gate):
        sold_out.publish([state(5, sold_out_now=True)])

        sold_out.publish([state(4, sold_out_now=False)])

        assert stored(gate, UNKNOWN_PRODUCT) == b"5:1"
        assert sold_out.refuses([UNKNOWN_PRODUCT])

    def test_an_equal_version_does_not_overwrite(self, gate):
        sold_out.publish([state(5, sold_out_now=False)])

        sold_out.publish([state(5, sold_out_now=True)])

        assert stored(gate, UNKNOWN_PRODUCT) == b"5:0"
        assert not sold_out.refuses([UNKNOWN_PRODUCT])

    def test_a_newer_version_overwrites(self, gate):
        sold_out.publish([state(5, sold_out_now=True)])

        sold_out.publish([state(6, sold_out_now=False)])
        assert not sold_out.refuses([UNKNOWN_PRODUCT])

        sold_out.publish([state(7, sold_out_now=True)])
        assert sold_out.refuses([UNKNOWN_PRODUCT])

    # The fixture's client serves every example; each example starts with no key.
    @hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(versions=st.permutations(range(1, 7)), flags=st.lists(st.booleans(), min_size=6, max_size=6))
    def test_in_any_order_of_writes_the_newest_state_stays(self, gate, versions, flags):
        gate.delete(f"{sold_out.KEY_PREFIX}{UNKNOWN_PRODUCT}")

        for version in versions:
            sold_out.publish([state(version, sold_out_now=flags[version - 1])])

        assert stored(gate, UNKNOWN_PRODUCT) == f"6:{int(flags[5])}".encode()

    def test_a_state_whose_time_ran_out_before_the_write_is_not_written(self, gate):
        read_long_ago = sold_out.State(UNKNOWN_PRODUCT, 5, True, ttl_ms=100, read_at=time.monotonic() - 1)

        sold_out.publish([read_long_ago])

        assert stored(gate, UNKNOWN_PRODUCT) is None

    @pytest.mark.django_db(transaction=True)
    def test_a_flag_expires_after_its_ttl(self, gate, make_item, settings):
        settings.INVENTORY_SOLD_OUT_TTL = 0.2
        item = make_item(available_stock=0)

        sold_out.observe([item.product_id])

        assert sold_out.refuses([item.product_id])
        assert 0 < gate.pttl(f"{sold_out.KEY_PREFIX}{item.product_id}") <= 200
        time.sleep(0.25)
        assert not sold_out.refuses([item.product_id])

    @pytest.mark.django_db(transaction=True)
    def test_the_ttl_is_bounded_by_the_earliest_active_hold(self, gate, make_item):
        item = make_item(available_stock=1)

        committed(item.product_id, lambda: reserve("A-1", (item.product_id, 1), ttl_seconds=2))

        assert sold_out.refuses([item.product_id])
        assert 0 < gate.pttl(f"{sold_out.KEY_PREFIX}{item.product_id}") <= 2000

    @pytest.mark.django_db(transaction=True)
    @pytest.mark.parametrize(("clear_ttl", "lowest", "highest"), [(60, 5000, 60_000), (1, 1000, 5000)])
    def test_a_clear_lives_its_ttl_and_never_less_than_a_flag(
        self, gate, make_item, settings, clear_ttl, lowest, highest
    ):
        settings.INVENTORY_SOLD_OUT_CLEAR_TTL = clear_ttl
        item = make_item(available_stock=1)

        sold_out.observe([item.product_id])

        assert stored(gate, item.product_id) == b"1:0"
        assert lowest < gate.pttl(f"{sold_out.KEY_PREFIX}{item.product_id}") <= highest


@pytest.mark.django_db(transaction=True)
class TestWhatIsFlagged:
    def test_only_products_that_exist(self, gate):
        sold_out.observe([UNKNOWN_PRODUCT])

        assert sold_out.read_states([UNKNOWN_PRODUCT]) == []
        assert stored(gate, UNKNOWN_PRODUCT) is None

    def test_a_product_is_refused_only_when_every_product_is_flagged(self, make_item):
        sold, unsold = make_item(available_stock=0), make_item(available_stock=1)

        sold_out.observe([sold.product_id, unsold.product_id])

        assert sold_out.refuses([sold.product_id])
        assert not sold_out.refuses([sold.product_id, unsold.product_id])
        assert not sold_out.refuses([sold.product_id, UNKNOWN_PRODUCT])

    def test_the_sum_over_the_warehouses_decides(self, spread_item):
        item = spread_item(2, 3, 0)

        committed(item.product_id, lambda: reserve("A-1", (item.product_id, 2)))
        assert not sold_out.refuses([item.product_id])

        committed(item.product_id, lambda: reserve("A-2", (item.product_id, 3)))
        assert sold_out.refuses([item.product_id])

    def test_nothing_is_published_when_the_transaction_rolls_back(self, gate, make_item):
        item = make_item(available_stock=0)

        def observe_and_fail():
            with transaction.atomic():
                sold_out.observe([item.product_id])
                raise RuntimeError("the change failed")

        with pytest.raises(RuntimeError):
            observe_and_fail()

        assert stored(gate, item.product_id) is None

    def test_nothing_when_the_gate_is_off(self, gate, make_item, settings):
        item = make_item(available_stock=0)
        sold_out.observe([item.product_id])
        settings.INVENTORY_SOLD_OUT_GATE = False

        assert not sold_out.refuses([item.product_id])
        committed(item.product_id, restock(item.product_id))
        assert stored(gate, item.product_id) == b"1:1"

    def test_nothing_without_redis(self, gate, make_item, settings):
        item = make_item(available_stock=0)
        settings.REDIS_URL = ""

        sold_out.observe([item.product_id])

        assert not sold_out.refuses([item.product_id])
        assert stored(gate, item.product_id) is None


@pytest.mark.django_db(transaction=True)
class TestRestockWhileAFlagIsBeingSet:
    """The race of the issue: a sold-out state is read, a restock commits and its clear is
    published, and the stale flag reaches Redis after it, or before it."""

    def test_a_flag_written_after_the_clear_loses(self, gate, make_item):
        item = make_item(available_stock=0)
        [stale] = sold_out.read_states([item.product_id])
        assert stale.sold_out

        committed(item.product_id, restock(item.product_id))
        sold_out.publish([stale])

        assert not sold_out.refuses([item.product_id])
        [fresh] = sold_out.read_states([item.product_id])
        assert stored(gate, item.product_id) == f"{fresh.version}:0".encode()
        assert fresh.version > stale.version

    def test_a_flag_written_before_the_clear_is_replaced(self, make_item):
        item = make_item(available_stock=0)
        [stale] = sold_out.read_states([item.product_id])
        sold_out.publish([stale])
        assert sold_out.refuses([item.product_id])

        committed(item.product_id, restock(item.product_id))

        assert not sold_out.refuses([item.product_id])


@pytest.mark.django_db(transaction=True)
class TestOverdueHolds:
    def test_stock_held_only_by_an_overdue_hold_is_not_flagged(self, gate, make_item):
        item = make_item(available_stock=1)
        [hold] = reserve("A-1", (item.product_id, 1)).reservations
        make_overdue(hold)

        sold_out.observe([item.product_id])

        [found] = sold_out.read_states([item.product_id])
        assert not found.sold_out
        assert not sold_out.refuses([item.product_id])
        assert stored(gate, item.product_id) == f"{found.version}:0".encode()

    def test_a_flag_ends_when_the_hold_falls_overdue(self, make_item):
        item = make_item(available_stock=1)
        committed(item.product_id, lambda: reserve("A-1", (item.product_id, 1), ttl_seconds=1))
        assert sold_out.refuses([item.product_id])

        time.sleep(1.05)

        assert not sold_out.refuses([item.product_id])
        # Nothing changed the stock since: the same version, read again, is no longer sold out.
        sold_out.observe([item.product_id])
        assert not sold_out.refuses([item.product_id])


@pytest.mark.django_db(transaction=True)
class TestSellingOutAndBack:
    def test_a_product_sold_out_by_a_reserve_is_refused_until_a_release(self, make_item):
        item = make_item(available_stock=3)

        committed(item.product_id, lambda: reserve("A-1", (item.product_id, 3)))
        assert sold_out.refuses([item.product_id])

        committed(item.product_id, lambda: services.release_reservations(order_id="A-1", actor="order-app"))
        assert not sold_out.refuses([item.product_id])

    def test_observed_outside_a_transaction_it_publishes_at_once(self, make_item):
        item = make_item(available_stock=1)
        reserve("A-1", (item.product_id, 1))

        sold_out.observe([item.product_id])

        assert sold_out.refuses([item.product_id])


@pytest.mark.django_db(transaction=True)
class TestRedisDownOrSlow:
    """The database decides and nothing raises; each check waits at most a timeout."""

    @pytest.mark.parametrize("down", ["closed port", "silent server"])
    def test_selling_goes_on_through_the_database(self, down, make_item, settings, request):
        item = make_item(available_stock=0)
        if down == "closed port":
            settings.REDIS_URL = CLOSED_PORT_URL
        else:
            request.getfixturevalue("silent_redis")

        started = time.monotonic()
        assert not sold_out.refuses([item.product_id])
        assert time.monotonic() - started < 0.5
        committed(item.product_id, restock(item.product_id))

        assert services.reserve_stock(
            order_id="A-1", lines=[services.ReservationLine(item.product_id, 5)], actor="order-app"
        ).created

    def test_after_a_failure_the_gate_leaves_redis_alone_for_a_moment(self, silent_redis, monkeypatch):
        monkeypatch.setattr(sold_out, "RETRY_AFTER_FAILURE", 0.3)
        silent_redis.settimeout(0.1)

        assert not sold_out.refuses([UNKNOWN_PRODUCT])
        assert not sold_out.refuses([UNKNOWN_PRODUCT])
        sold_out.publish([state(1, sold_out_now=True)])
        time.sleep(0.35)
        assert not sold_out.refuses([UNKNOWN_PRODUCT])

        # One connection for the first check, none in the moment after it, one after that.
        for _ in range(2):
            silent_redis.accept()[0].close()
        with pytest.raises(TimeoutError):
            silent_redis.accept()

    def test_it_warns_once_a_while_not_per_request(self, settings, monkeypatch, caplog):
        settings.REDIS_URL = CLOSED_PORT_URL
        monkeypatch.setattr(sold_out, "RETRY_AFTER_FAILURE", 0.0)

        with caplog.at_level(logging.WARNING, logger=sold_out.__name__):
            for _ in range(3):
                assert not sold_out.refuses([UNKNOWN_PRODUCT])
                sold_out.publish([state(1, sold_out_now=True)])

        assert [record.levelname for record in caplog.records if record.name == sold_out.__name__] == ["WARNING"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("store")
class TestWiredIntoTheServices:
    """The services observe their own changes: selling out sets the flag, adding stock clears it.

    On both stores: the gate's reads are prepared statements on PostgreSQL and the ORM elsewhere.
    """

    def test_a_refusal_of_a_sold_out_product_flags_it_and_the_next_one_is_answered_from_redis(
        self, make_item, django_assert_max_num_queries
    ):
        item = make_item(available_stock=1)
        reserve("W-1", (item.product_id, 1))
        with pytest.raises(InsufficientStock):
            reserve("W-2", (item.product_id, 1))
        assert sold_out.refuses([item.product_id])

        # The one statement left: whether the order holds anything already (a repeat).
        with django_assert_max_num_queries(1), pytest.raises(InsufficientStock) as refused:
            reserve("W-3", (item.product_id, 1))
        assert refused.value.details["items"] == [{"product_id": item.product_id, "requested": 1, "available": 0}]

    def test_a_repeat_of_the_order_that_took_the_last_unit_is_still_a_repeat(self, make_item):
        item = make_item(available_stock=1)
        first = reserve("W-1", (item.product_id, 1))
        with pytest.raises(InsufficientStock):
            reserve("W-2", (item.product_id, 1))
        assert sold_out.refuses([item.product_id])

        again = reserve("W-1", (item.product_id, 1))

        assert not again.created
        assert [r.pk for r in again.reservations] == [r.pk for r in first.reservations]

    @pytest.mark.parametrize("adds", ["restock", "release", "expiry"])
    def test_every_change_that_adds_stock_clears_the_flag(self, make_item, adds):
        item = make_item(available_stock=1)
        held = reserve("W-1", (item.product_id, 1)).reservations
        with pytest.raises(InsufficientStock):
            reserve("W-2", (item.product_id, 1))
        assert sold_out.refuses([item.product_id])

        if adds == "restock":
            services.restock(product_id=item.product_id, quantity=1, actor="tester")
        elif adds == "release":
            services.release_reservations(order_id="W-1", actor="order-app")
        else:
            make_overdue(*held)
            services.expire_overdue_reservations()

        assert not sold_out.refuses([item.product_id])
        assert reserve("W-3", (item.product_id, 1)).created
