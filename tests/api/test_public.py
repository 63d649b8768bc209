"""The public checks: answers, errors, one query, throttling (and failing open without Redis)."""

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from inventory.api import throttling as api_throttling
from tests.api.conftest import API, error_code

pytestmark = pytest.mark.django_db


def test_check_answers_availability(anon, product):
    product(42, 5, low_stock_threshold=10)
    response = anon.get(f"{API}/inventory/check/42")
    assert response.status_code == 200
    assert response.json() == {
        "product_id": 42,
        "available_stock": 5,
        "in_stock": True,
        "is_low_stock": True,
        "sufficient": True,
    }
    assert anon.get(f"{API}/inventory/check/42/?quantity=5").json()["sufficient"] is True
    assert anon.get(f"{API}/inventory/check/42?quantity=6").json()["sufficient"] is False


def test_check_of_an_empty_product(anon, product):
    product(7, 0, low_stock_threshold=0)
    assert anon.get(f"{API}/inventory/check/7").json() == {
        "product_id": 7,
        "available_stock": 0,
        "in_stock": False,
        "is_low_stock": True,
        "sufficient": False,
    }


def test_check_of_an_unknown_product_is_404(anon):
    response = anon.get(f"{API}/inventory/check/43")
    assert response.status_code == 404
    assert error_code(response) == "product_not_found"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("check/0", "product_id"),
        ("check/-1", "product_id"),
        ("check/abc", "product_id"),
        ("check/1.0", "product_id"),
        (f"check/{2**63}", "product_id"),
        ("check/1?quantity=0", "quantity"),
        ("check/1?quantity=2.0", "quantity"),
        ("check/1?quantity=true", "quantity"),
        ("check/1?quantity=", "quantity"),
        ("check/1?quantity=1000000001", "quantity"),
    ],
)
def test_check_refuses_bad_numbers(anon, path, field):
    response = anon.get(f"{API}/inventory/{path}")
    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert field in response.json()["error"]["details"]


def test_check_ignores_credentials(product):
    from rest_framework.test import APIClient

    product(1, 1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token wrong")
    assert client.get(f"{API}/inventory/check/1").status_code == 200


def test_batch_answers_in_request_order(anon, product):
    product(1, 10)
    product(2, 0)
    body = {
        "items": [
            {"product_id": 2, "quantity": 1},
            {"product_id": 99, "quantity": 1},
            {"product_id": 1, "quantity": 10},
        ]
    }
    response = anon.post(f"{API}/inventory/check/batch", body, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "all_available": False,
        "items": [
            {"product_id": 2, "quantity": 1, "found": True, "available_stock": 0, "sufficient": False},
            {"product_id": 99, "quantity": 1, "found": False, "available_stock": 0, "sufficient": False},
            {"product_id": 1, "quantity": 10, "found": True, "available_stock": 10, "sufficient": True},
        ],
    }
    ok = anon.post(f"{API}/inventory/check/batch/", {"items": [{"product_id": 1, "quantity": 3}]}, format="json")
    assert ok.json()["all_available"] is True


@pytest.mark.parametrize("size", [1, 200])
def test_batch_is_one_query_whatever_its_size(anon, product, size):
    for product_id in range(1, 6):
        product(product_id, 10)
    body = {"items": [{"product_id": 1 + n % 300, "quantity": 1} for n in range(size)]}
    with CaptureQueriesContext(connection) as queries:
        response = anon.post(f"{API}/inventory/check/batch", body, format="json")
    assert response.status_code == 200
    assert len(queries) == 1, [q["sql"] for q in queries]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"items": []},
        {"items": [{"product_id": 1, "quantity": 1}] * 201},
        {"items": [{"product_id": True, "quantity": 1}]},
        {"items": [{"product_id": 1, "quantity": 2.0}]},
        {"items": [{"product_id": 1, "quantity": "2"}]},
        {"items": [{"product_id": 1, "quantity": None}]},
        {"items": [{"product_id": 1, "quantity": 0}]},
        {"items": "nope"},
        {"items": [1, 2]},
    ],
)
def test_batch_refuses_bad_bodies(anon, body):
    response = anon.post(f"{API}/inventory/check/batch", body, format="json")
    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert "items" in response.json()["error"]["details"]


def test_batch_get_is_405(anon):
    response = anon.get(f"{API}/inventory/check/batch")
    assert response.status_code == 405
    assert error_code(response) == "method_not_allowed"


# A day's window: the test cannot straddle two windows (the count is per fixed window).
@override_settings(INVENTORY_PUBLIC_THROTTLE="3/day")
def test_public_endpoints_are_throttled_per_address(anon, product):
    product(1, 1)
    for _ in range(3):
        assert anon.get(f"{API}/inventory/check/1").status_code == 200
    response = anon.post(f"{API}/inventory/check/batch", {"items": [{"product_id": 1}]}, format="json")
    assert response.status_code == 429
    assert error_code(response) == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 86_400
    # Another address has its own allowance.
    assert anon.get(f"{API}/inventory/check/1", REMOTE_ADDR="10.0.0.2").status_code == 200
    # X-Forwarded-For is not trusted unless INVENTORY_NUM_PROXIES says so.
    spoofed = anon.get(f"{API}/inventory/check/1", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert spoofed.status_code == 429


@override_settings(INVENTORY_PUBLIC_THROTTLE="3/minute")
def test_staff_and_internal_endpoints_are_not_throttled(staff, internal, product):
    product(1, 1)
    for _ in range(5):
        assert staff.get(f"{API}/inventory/product/1").status_code == 200
        assert internal.get(f"{API}/inventory/reservations").status_code == 200


@pytest.fixture
def redis_unreachable(monkeypatch):
    unreachable = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
    monkeypatch.setattr(api_throttling, "_cache_down_until", 0.0)
    with override_settings(CACHES={"default": unreachable}, INVENTORY_PUBLIC_THROTTLE="1/minute"):
        yield
    caches["default"].close()


def test_throttling_fails_open_when_redis_is_unreachable(redis_unreachable, anon, staff, internal, product):
    product(1, 5)
    for _ in range(3):
        assert anon.get(f"{API}/inventory/check/1").status_code == 200
        assert (
            anon.post(f"{API}/inventory/check/batch", {"items": [{"product_id": 1}]}, format="json").status_code == 200
        )
    assert staff.get(f"{API}/inventory").status_code == 200
    response = internal.post(
        f"{API}/inventory/reserve", {"order_id": "R", "product_id": 1, "quantity": 1}, format="json"
    )
    assert response.status_code == 201
