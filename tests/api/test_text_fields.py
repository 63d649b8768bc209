"""Every text field, filled to the longest body the limit allows (issue 12, finding 1).

A 50,001-character reason ending in NUL took 5 s (quadratic pattern, run even after
the length check had failed). Each case here is a 400 `validation_error` naming the
field, and changes nothing. Nothing is asserted about wall-clock time (a shared
machine); a quadratic check at this size would take an hour, and the run would show it.
"""

import json
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from inventory.models import ApiClient, IdempotencyKey, Inventory, InventoryLog, Reservation
from tests.api.conftest import API, error_code

pytestmark = pytest.mark.django_db

JSON = "application/json"
LIMIT = settings.INVENTORY_API_MAX_BODY_BYTES
# The longest value a query string carries here: as long as the longest body.
LONG = LIMIT
# Tails that made the old patterns backtrack, or that no check may miss at the end of a long value.
TAILS = ["\x00", " \x00", "\n"]


def filled(body: dict, field: str, tail: str, *, filler: str = "a") -> bytes:
    """`body` with `field` set to filler... + tail, so that the JSON document is exactly LIMIT bytes."""
    empty = len(json.dumps({**body, field: ""}).encode())
    count = LIMIT - empty - (len(json.dumps(tail)) - 2)
    raw = json.dumps({**body, field: (filler * count)[:count] + tail}).encode()
    assert len(raw) == LIMIT
    return raw


def snapshot() -> tuple:
    return (
        list(Inventory.objects.order_by("product_id").values_list("available_stock", "reserved_stock", "version")),
        InventoryLog.objects.count(),
        list(Reservation.objects.order_by("id").values_list("status", "quantity")),
        IdempotencyKey.objects.count(),
    )


def assert_refused(response, field: str, before: tuple) -> None:
    assert response.status_code == 400, response.content[:300]
    assert error_code(response) == "validation_error"
    assert field in response.json()["error"]["details"]
    assert snapshot() == before


@pytest.fixture
def stock(product, internal):
    product(42)
    response = internal.post(
        f"{API}/inventory/reserve", {"order_id": "A-1", "product_id": 42, "quantity": 1}, format="json"
    )
    assert response.status_code == 201


@pytest.mark.parametrize("tail", TAILS)
@pytest.mark.parametrize("filler", ["a", " ", "a "])
def test_a_reason_as_long_as_the_body_limit(staff, stock, tail, filler):
    before = snapshot()
    raw = filled({"product_id": 42, "delta": 1}, "reason", tail, filler=filler)
    assert_refused(staff.post(f"{API}/inventory/adjust", raw, content_type=JSON), "reason", before)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/inventory/restock", {"product_id": 42, "quantity": 1}),
        ("/inventory/adjust", {"product_id": 42, "delta": 1, "reason": "count"}),
    ],
)
@pytest.mark.parametrize("field", ["reason", "reference"])
@pytest.mark.parametrize("tail", TAILS)
def test_restock_and_adjust_text_as_long_as_the_body_limit(staff, stock, path, body, field, tail):
    before = snapshot()
    raw = filled({key: value for key, value in body.items() if key != field}, field, tail)
    assert_refused(staff.post(f"{API}{path}", raw, content_type=JSON), field, before)


def test_a_reason_of_the_longest_allowed_length_is_taken(staff, stock):
    response = staff.post(
        f"{API}/inventory/adjust",
        {"product_id": 42, "delta": 1, "reason": "r" * 1000, "reference": "f" * 255},
        format="json",
    )
    assert response.status_code == 200
    assert InventoryLog.objects.filter(operation="adjust").get().reason == "r" * 1000


@pytest.mark.parametrize("path", ["/inventory/reserve", "/inventory/release", "/inventory/deduct"])
@pytest.mark.parametrize("tail", ["", *TAILS])
def test_an_order_id_as_long_as_the_body_limit(internal, stock, path, tail):
    before = snapshot()
    body = {"product_id": 42, "quantity": 1} if path.endswith("reserve") else {"product_id": 42}
    raw = filled(body, "order_id", tail, filler="A")
    assert_refused(internal.post(f"{API}{path}", raw, content_type=JSON), "order_id", before)


@pytest.mark.parametrize(
    ("path", "parameter", "value"),
    [
        ("/inventory/reservations", "order_id", "A" * LONG),
        ("/inventory/reservations", "order_id", "A" * (LONG - 1) + "\x00"),
        ("/inventory/reservations", "order_id", "A-1\n"),
        ("/inventory/reservations", "product_id", "4" * LONG),
        ("/inventory/reservations", "status", "a" * LONG),
        ("/inventory/logs/42", "order_id", "A" * LONG),
        ("/inventory/logs/42", "operation", "r" * LONG),
        ("/inventory/logs/42", "since", "2026-01-01T00:00:00" + " " * LONG + "x"),
        ("/inventory/logs/42", "until", "2" * LONG),
        ("/inventory", "product_id", "1" * LONG),
        ("/inventory", "is_low_stock", "t" * LONG),
        ("/inventory", "ordering", "-" * LONG),
        ("/inventory", "page", "1" * LONG),
        ("/inventory", "page_size", "²" * LONG),
        ("/inventory/check/42", "quantity", "9" * LONG),
    ],
    ids=lambda value: value[:24] if isinstance(value, str) else value,
)
def test_query_filters_as_long_as_the_body_limit(staff, internal, stock, path, parameter, value):
    client = internal if path == "/inventory/reservations" else staff
    before = snapshot()
    assert_refused(client.get(f"{API}{path}", {parameter: value}), parameter, before)


def test_a_page_size_of_more_digits_than_int_reads_is_the_largest_page(staff, stock):
    response = staff.get(f"{API}/inventory", {"page_size": "9" * 5000})
    assert response.status_code == 200
    assert response.json()["count"] == 1


@pytest.mark.parametrize("key", ["k" * LONG, "k" * 256])
def test_an_idempotency_key_as_long_as_the_body_limit(staff, stock, key):
    before = snapshot()
    response = staff.post(
        f"{API}/inventory/restock", {"product_id": 42, "quantity": 1}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert_refused(response, "Idempotency-Key", before)


@pytest.mark.parametrize("name", ["n" * LONG, "n" * (LONG - 1) + "\x00", "n" * 101, "n\n"])
def test_create_api_client_refuses_a_name_as_long_as_the_body_limit(name):
    with pytest.raises(CommandError, match="NAME is 1 to 100 characters"):
        call_command("create_api_client", name, "--role", "internal", stdout=StringIO())
    assert not ApiClient.objects.exists()
