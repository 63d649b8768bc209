"""Hostile inputs: each one a 4xx with the contract's error body, and no change at all."""

import json

import pytest

from inventory.models import IdempotencyKey, Inventory, InventoryLog, Reservation
from tests.api.conftest import API, error_code

pytestmark = pytest.mark.django_db

JSON = "application/json"
BIG = 2**63
HUGE_BODY = b'{"items": [' + b'{"product_id": 1, "quantity": 1},' * 150_000 + b'{"product_id": 1, "quantity": 1}]}'

# (who, method, path, raw body or JSON value, content type)
HOSTILE = [
    # Not JSON, or not the JSON the endpoint takes.
    ("staff", "post", "/inventory/restock", b"{not json", JSON),
    ("staff", "post", "/inventory/restock", b"", JSON),
    ("staff", "post", "/inventory/restock", b"null", JSON),
    ("staff", "post", "/inventory/restock", b"[]", JSON),
    ("staff", "post", "/inventory/restock", b'"restock"', JSON),
    ("staff", "post", "/inventory/restock", b"\xff\xfe", JSON),
    ("staff", "post", "/inventory/restock", b'{"product_id": 42, "quantity": NaN}', JSON),
    ("staff", "post", "/inventory/restock", b'{"product_id": 42, "quantity": Infinity}', JSON),
    ("staff", "post", "/inventory/restock", b'{"product_id": 42, "quantity": 1' + b"0" * 5000 + b"}", JSON),
    ("staff", "post", "/inventory/restock", b"[" * 100_000 + b"]" * 100_000, JSON),
    ("staff", "post", "/inventory/restock", b"product_id=42&quantity=5", "application/x-www-form-urlencoded"),
    ("staff", "post", "/inventory/restock", b'{"product_id": 42, "quantity": 5}', "text/plain"),
    (
        "staff",
        "post",
        "/inventory/restock",
        b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--',
        "multipart/form-data; boundary=x",
    ),
    ("anon", "post", "/inventory/check/batch", HUGE_BODY, JSON),
    ("internal", "post", "/inventory/reserve", HUGE_BODY, JSON),
    # Numbers that are not JSON integers in range.
    *[
        ("staff", "post", "/inventory/restock", {"product_id": 42, "quantity": bad}, JSON)
        for bad in (True, False, 2.0, 2.5, "2", None, 0, -1, 1_000_000_001, BIG, [2], {"n": 2})
    ],
    *[
        ("staff", "post", "/inventory/restock", {"product_id": bad, "quantity": 1}, JSON)
        for bad in (True, 42.0, "42", None, 0, -42, BIG)
    ],
    ("staff", "post", "/inventory/restock", {"product_id": 42, "quantity": 1, "reference": "x" * 256}, JSON),
    ("staff", "post", "/inventory/restock", {"product_id": 42, "quantity": 1, "reason": ["a"]}, JSON),
    ("staff", "post", "/inventory/restock", {"product_id": 42, "quantity": 1, "reason": "a\u0000b"}, JSON),
    ("staff", "post", "/inventory/restock", b'{"product_id": 42, "quantity": 1, "reason": "\\ud800"}', JSON),
    ("staff", "post", "/inventory/restock", b'{"product_id": 42, "quantity": 1, "\\udfff": 1}', JSON),
    ("staff", "post", "/inventory/adjust", {"product_id": 42, "delta": 1, "reason": "   "}, JSON),
    ("staff", "post", "/inventory/adjust", {"product_id": 42, "delta": -1.0, "reason": "x"}, JSON),
    ("staff", "post", "/inventory/adjust", {"product_id": 42, "delta": True, "reason": "x"}, JSON),
    ("staff", "post", "/inventory/adjust", {"product_id": 42, "delta": -(10**10), "reason": "x"}, JSON),
    ("staff", "post", "/inventory/adjust", {"product_id": 42, "available_stock": "5", "reason": "x"}, JSON),
    (
        "staff",
        "post",
        "/inventory/adjust",
        {"product_id": 42, "delta": 1, "reason": "x", "expected_version": "1"},
        JSON,
    ),
    ("staff", "post", "/inventory/adjust", {"product_id": 42, "delta": 1, "reason": "x", "expected_version": 0}, JSON),
    ("staff", "put", "/inventory/42/threshold", {"low_stock_threshold": 5.0}, JSON),
    ("staff", "put", "/inventory/42/threshold", {"low_stock_threshold": None}, JSON),
    ("staff", "put", "/inventory/42/threshold", {"low_stock_threshold": -1}, JSON),
    ("staff", "put", f"/inventory/{BIG}/threshold", {"low_stock_threshold": 1}, JSON),
    ("staff", "put", "/inventory/0/threshold", {"low_stock_threshold": 1}, JSON),
    ("staff", "put", "/inventory/4.2e1/threshold", {"low_stock_threshold": 1}, JSON),
    ("staff", "post", "/inventory", {"product_id": 43, "available_stock": -5}, JSON),
    ("staff", "post", "/inventory", {"product_id": 43, "available_stock": 1.5}, JSON),
    ("staff", "post", "/inventory", {"product_id": 43, "low_stock_threshold": True}, JSON),
    ("staff", "post", "/inventory", {"product_id": "43"}, JSON),
    # Orders.
    ("internal", "post", "/inventory/reserve", {"order_id": "A" * 65, "product_id": 42, "quantity": 1}, JSON),
    ("internal", "post", "/inventory/reserve", {"order_id": "A/1", "product_id": 42, "quantity": 1}, JSON),
    ("internal", "post", "/inventory/reserve", {"order_id": "A 1", "product_id": 42, "quantity": 1}, JSON),
    ("internal", "post", "/inventory/reserve", {"order_id": "é", "product_id": 42, "quantity": 1}, JSON),
    ("internal", "post", "/inventory/reserve", {"order_id": "x\u0000", "product_id": 42, "quantity": 1}, JSON),
    ("internal", "post", "/inventory/reserve", {"order_id": "' OR 1=1 --", "product_id": 42, "quantity": 1}, JSON),
    ("internal", "post", "/inventory/reserve", {"order_id": None, "product_id": 42, "quantity": 1}, JSON),
    ("internal", "post", "/inventory/reserve", {"order_id": 10**70, "product_id": 42, "quantity": 1}, JSON),
    ("internal", "post", "/inventory/reserve", {"order_id": ["A"], "product_id": 42, "quantity": 1}, JSON),
    ("internal", "post", "/inventory/reserve", {"order_id": "A", "product_id": 42, "quantity": True}, JSON),
    ("internal", "post", "/inventory/reserve", {"order_id": "A", "product_id": 42, "quantity": 1.0}, JSON),
    ("internal", "post", "/inventory/reserve", {"order_id": "A", "items": {"product_id": 42, "quantity": 1}}, JSON),
    ("internal", "post", "/inventory/reserve", {"order_id": "A", "items": [[42, 1]]}, JSON),
    (
        "internal",
        "post",
        "/inventory/reserve",
        {"order_id": "A", "items": [{"product_id": 42, "quantity": 1}] * 101},
        JSON,
    ),
    (
        "internal",
        "post",
        "/inventory/reserve",
        {"order_id": "A", "product_id": 42, "quantity": 1, "ttl_seconds": True},
        JSON,
    ),
    (
        "internal",
        "post",
        "/inventory/reserve",
        {"order_id": "A", "product_id": 42, "quantity": 1, "ttl_seconds": -5},
        JSON,
    ),
    ("internal", "post", "/inventory/release", {"order_id": "A", "product_id": "42"}, JSON),
    ("internal", "post", "/inventory/deduct", {"order_id": "A", "product_id": 42.0}, JSON),
    ("internal", "post", "/inventory/deduct", {"order_id": {"$ne": ""}}, JSON),
    # Query strings.
    ("anon", "get", "/inventory/check/42?quantity=-1", None, None),
    ("anon", "get", "/inventory/check/42?quantity=1e3", None, None),
    ("anon", "get", "/inventory/check/%F0%9F%92%A5", None, None),
    ("staff", "get", "/inventory?page_size=1e3", None, None),
    ("staff", "get", "/inventory?ordering=password", None, None),
    ("staff", "get", "/inventory/logs/42?since=2026-13-45", None, None),
    ("staff", "get", "/inventory/logs/42?since=0001-01-01T00:00:00%2B20:10", None, None),
    ("internal", "get", "/inventory/reservations?product_id=-1", None, None),
]


def snapshot():
    return (
        list(Inventory.objects.order_by("product_id").values_list("available_stock", "reserved_stock", "version")),
        InventoryLog.objects.count(),
        list(Reservation.objects.order_by("id").values_list("status", "quantity")),
        IdempotencyKey.objects.count(),
    )


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "content_type"),
    HOSTILE,
    ids=[f"{n}-{h[1]}-{h[2][:40]}" for n, h in enumerate(HOSTILE)],
)
def test_hostile_input_is_a_4xx_and_changes_nothing(request, product, who, method, path, body, content_type):
    product(42, 10)
    client = request.getfixturevalue(who)
    request.getfixturevalue("internal").post(
        f"{API}/inventory/reserve", {"order_id": "A", "product_id": 42, "quantity": 1}, format="json"
    )
    before = snapshot()
    if body is None:
        response = getattr(client, method)(f"{API}{path}")
    else:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        response = client.generic(method.upper(), f"{API}{path}", raw, content_type=content_type)
    assert 400 <= response.status_code < 500, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    error_code(response)
    assert snapshot() == before


def test_huge_body_is_413(staff):
    response = staff.generic("POST", f"{API}/inventory/restock", HUGE_BODY, content_type=JSON)
    assert response.status_code == 413
    assert error_code(response) == "request_too_large"


def test_wrong_content_type_is_415(staff):
    response = staff.generic("POST", f"{API}/inventory/restock", b"quantity=1", content_type="text/plain")
    assert response.status_code == 415
    assert error_code(response) == "unsupported_media_type"


def test_unknown_api_path_is_a_json_404(anon, settings):
    settings.DEBUG = False
    response = anon.get(f"{API}/nothing-here")
    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_no_redirect_for_either_slash_form(staff, product):
    product(42, 10)
    for path in ("/inventory/restock", "/inventory/restock/"):
        response = staff.post(f"{API}{path}", {"product_id": 42, "quantity": 1}, format="json")
        assert response.status_code == 200, path
    for path in ("/inventory", "/inventory/", "/inventory/low-stock", "/inventory/low-stock/"):
        assert staff.get(f"{API}{path}").status_code == 200, path
