"""Fixtures of the API tests: callers of every role, and products."""

import contextlib

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from inventory import services

API = "/api/v1"
STAFF_PERMS = (
    "view_inventory",
    "add_inventory",
    "restock_inventory",
    "adjust_inventory",
    "change_threshold_inventory",
    "view_inventorylog",
    "view_reservation",
)


def _clear_cache() -> None:
    # The throttle counters of the public endpoints; with no Redis there is nothing to clear.
    with contextlib.suppress(Exception):
        cache.clear()


@pytest.fixture(autouse=True)
def _fresh_cache():
    _clear_cache()
    yield
    _clear_cache()


def make_client(name: str, role: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("create_api_client", name, "--role", role, stdout=out)
    return out.getvalue().strip()


def token_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def internal(db) -> APIClient:
    return token_client(make_client("order-app", "internal"))


@pytest.fixture
def staff_token_client(db) -> APIClient:
    return token_client(make_client("backoffice", "staff"))


def staff_user(username: str, perms=()):
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="inventory", codename__in=perms))
    return user


@pytest.fixture
def staff(db) -> APIClient:
    """A staff user with every inventory permission, by session."""
    client = APIClient()
    client.force_login(staff_user("clerk", STAFF_PERMS))
    return client


@pytest.fixture
def staff_no_perm(db) -> APIClient:
    client = APIClient()
    client.force_login(staff_user("visitor"))
    return client


@pytest.fixture
def product(db):
    def create(product_id: int = 42, available_stock: int = 100, low_stock_threshold: int = 10):
        return services.create_inventory(
            product_id=product_id,
            available_stock=available_stock,
            low_stock_threshold=low_stock_threshold,
            actor="fixture",
        )

    return create


def error_code(response) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]["code"]
