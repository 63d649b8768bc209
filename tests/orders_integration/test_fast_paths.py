"""The hand-read fast paths of the order endpoints agree with the serializers they stand in for."""

from datetime import timedelta

import pytest
from django.db.models import F
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory import limits, services
from inventory.api.serializers.reservations import (
    OrderLineInputSerializer,
    OrderReservationsSerializer,
    ReserveInputSerializer,
    order_reservations_body,
    well_formed_order_line,
    well_formed_reserve,
)
from inventory.models import Reservation
from inventory.services import ReservationLine, Routing

EDGES = [
    0,
    1,
    -1,
    limits.MAX_QUANTITY,
    limits.MAX_QUANTITY + 1,
    limits.MAX_PRODUCT_ID,
    limits.MAX_PRODUCT_ID + 1,
    limits.MAX_TTL_SECONDS + 1,
    2**64,
]
MISSING = object()
not_integers = st.booleans() | st.floats(allow_nan=False) | st.sampled_from([2.0, "2", "", None, [], {}]) | st.text()
values = st.sampled_from(EDGES) | st.integers() | not_integers
good_order_ids = st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True)
order_ids = good_order_ids | st.sampled_from(["x" * 65, "", "a b", "A-1\n", "ü"]) | values
good_line = st.fixed_dictionaries(
    {"product_id": st.integers(min_value=1, max_value=4), "quantity": st.integers(min_value=1, max_value=3)}
)
good_one_line = st.fixed_dictionaries(
    {
        "order_id": good_order_ids,
        "product_id": st.integers(min_value=1),
        "quantity": st.integers(1, limits.MAX_QUANTITY),
    },
    optional={"ttl_seconds": st.integers(1, limits.MAX_TTL_SECONDS), "note": values},
)
good_order = st.fixed_dictionaries(
    {
        "order_id": good_order_ids,
        "items": st.lists(good_line, min_size=1, max_size=4, unique_by=lambda line: line["product_id"]),
    },
    optional={"ttl_seconds": st.integers(1, limits.MAX_TTL_SECONDS)},
)
long_orders = st.builds(
    lambda size, order_id: {
        "order_id": order_id,
        "items": [{"product_id": n, "quantity": 1} for n in range(1, size + 1)],
    },
    st.sampled_from([99, 100, 101]),
    good_order_ids,
)


def spoiled(body: dict, key: str, value) -> dict:
    """The body with one key replaced (or removed), or one item's key if `key` names an item field."""
    body = {**body, "items": [dict(item) for item in body["items"]]} if "items" in body else dict(body)
    target = body["items"][0] if key.startswith("item.") else body
    key = key.removeprefix("item.")
    if value is MISSING:
        target.pop(key, None)
    else:
        target[key] = value
    return body


fields = st.sampled_from(["order_id", "product_id", "quantity", "ttl_seconds", "items", "quota", "customer_tier"])
item_fields = fields | st.sampled_from(["item.product_id", "item.quantity", "item.quota"])
# A quota's code or a customer tier, well formed or not: a body that names either is the serializer's.
codes = st.from_regex(r"[a-z0-9-]{1,32}", fullmatch=True) | st.sampled_from(["", "Gold", "x" * 33, "a b"]) | values
# quota and customer_tier, well formed or not, where each may stand
quota_bodies = st.builds(spoiled, good_one_line, st.sampled_from(["quota", "customer_tier"]), codes) | st.builds(
    spoiled, good_order, st.sampled_from(["item.quota", "quota", "customer_tier"]), codes
)
flags = st.booleans() | values
backorder_bodies = st.builds(spoiled, good_one_line, st.just("backorder"), flags) | st.builds(
    spoiled, good_order, st.sampled_from(["item.backorder", "backorder"]), flags
)
repeated_product = st.builds(
    lambda order: {**order, "items": [*order["items"], {**order["items"][0], "quantity": 1}]}, good_order
)
reserve_bodies = (
    good_one_line
    | good_order
    | long_orders
    | st.builds(spoiled, good_one_line, fields, values | order_ids | st.just(MISSING))
    | st.builds(spoiled, good_order | long_orders, item_fields, values | order_ids | st.just(MISSING))
    # every range's edges
    | st.builds(spoiled, good_one_line, fields, st.sampled_from(EDGES))
    | st.builds(spoiled, good_order, item_fields, st.sampled_from(EDGES))
    | repeated_product
    | st.sampled_from([None, [], "x", 1, {}])
    | quota_bodies
    | backorder_bodies
)
good_order_line = st.fixed_dictionaries(
    {"order_id": good_order_ids}, optional={"product_id": st.integers(1, limits.MAX_PRODUCT_ID), "note": values}
)
order_line_bodies = (
    good_order_line
    | st.builds(
        spoiled, good_order_line, st.sampled_from(["order_id", "product_id"]), values | order_ids | st.just(MISSING)
    )
    | st.sampled_from([None, [], "x", 1])
)


def assert_read_alike(body, fast_read, serializer_class) -> None:
    fast = fast_read(body)
    serializer = serializer_class(data=body)
    if fast is not None:
        assert serializer.is_valid(), serializer.errors
        assert fast == serializer.validated_data
    elif not left_to_the_serializer(body):
        assert not serializer.is_valid()


def left_to_the_serializer(body) -> bool:
    """A body the fast path leaves to the serializer although it may be valid: a JSON integer
    order_id, or one that names a quota or says backorder (in a line), or a customer tier."""
    if not isinstance(body, dict):
        return False
    items = body.get("items") if type(body.get("items")) is list else []
    return (
        type(body.get("order_id")) is int
        or not {"quota", "backorder", "customer_tier"}.isdisjoint(body)
        or any(type(item) is dict and not {"quota", "backorder"}.isdisjoint(item) for item in items)
    )


@settings(max_examples=2000)
@given(reserve_bodies)
def test_a_reserve_body_is_read_as_the_serializer_reads_it(body):
    assert_read_alike(body, well_formed_reserve, ReserveInputSerializer)


@settings(max_examples=300)
@given(quota_bodies)
def test_a_body_that_names_a_quota_or_a_customer_tier_is_left_to_the_serializer(body):
    assert well_formed_reserve(body) is None


@settings(max_examples=500)
@given(order_line_bodies)
def test_an_order_line_body_is_read_as_the_serializer_reads_it(body):
    assert_read_alike(body, well_formed_order_line, OrderLineInputSerializer)


def test_the_usual_bodies_take_the_fast_path():
    assert well_formed_reserve(
        {"order_id": "A-1", "product_id": limits.MAX_PRODUCT_ID, "quantity": limits.MAX_QUANTITY}
    ) == {
        "order_id": "A-1",
        "lines": [{"product_id": limits.MAX_PRODUCT_ID, "quantity": limits.MAX_QUANTITY}],
        "ttl_seconds": None,
        "routing": Routing(),
        "customer_tier": "",
    }
    order = {"order_id": "A-2", "items": [{"product_id": 2, "quantity": 1}, {"product_id": 1, "quantity": 2}]}
    assert well_formed_reserve({**order, "ttl_seconds": 60})["lines"] == order["items"]
    assert well_formed_order_line({"order_id": "A-1"}) == {"order_id": "A-1"}
    assert well_formed_order_line({"order_id": "A-1", "product_id": 7}) == {"order_id": "A-1", "product_id": 7}


@pytest.mark.django_db
def test_the_answer_body_is_what_the_serializer_renders(make_item, actor):
    items = [make_item(available_stock=10) for _ in range(4)]

    def order(order_id, *quantities):
        lines = [
            ReservationLine(item.product_id, quantity)
            for item, quantity in zip(items, quantities, strict=False)
            if quantity
        ]
        return services.reserve_stock(order_id=order_id, lines=lines, actor=actor)

    order("ACTIVE", 1, 2, 3)
    order("CANCELLED", 1)
    services.release_reservations(order_id="CANCELLED", actor=actor)
    order("CONFIRMED", 1, 1)
    services.deduct_reservations(order_id="CONFIRMED", actor=actor)
    order("LATE", 2)
    Reservation.objects.filter(order_id="LATE").update(expires_at=F("expires_at") - timedelta(days=1))
    services.expire_overdue_reservations()
    services.deduct_reservations(order_id="LATE", actor=actor)  # reacquired
    order("EXPIRED", 0, 0, 0, 1)
    Reservation.objects.filter(order_id="EXPIRED").update(expires_at=F("expires_at") - timedelta(days=1))
    services.expire_overdue_reservations()

    for order_id in ("ACTIVE", "CANCELLED", "CONFIRMED", "LATE", "EXPIRED"):
        reservations = list(Reservation.objects.filter(order_id=order_id).order_by("product_id"))
        rendered = OrderReservationsSerializer({"order_id": order_id, "reservations": reservations}).data
        assert order_reservations_body(order_id, reservations) == rendered
