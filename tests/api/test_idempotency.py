"""Idempotency-Key on restock and adjust."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from inventory import services
from inventory.models import IdempotencyKey, Inventory, InventoryLog
from inventory.services.idempotency import purge_idempotency_keys
from tests.api.conftest import API, error_code, make_client, token_client

pytestmark = pytest.mark.django_db


def restock(client, key, body=None, path="/inventory/restock"):
    body = body or {"product_id": 42, "quantity": 5}
    return client.post(f"{API}{path}", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def available():
    return Inventory.objects.get(product_id=42).available_stock


def test_same_key_same_request_answers_the_first_answer(staff, product):
    product(42, 10)
    first = restock(staff, "k-1")
    assert first.status_code == 200
    # Key order, spacing and the trailing slash do not make another request.
    again = staff.generic(
        "POST",
        f"{API}/inventory/restock/",
        b'{ "quantity":5,   "product_id":42 }',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert available() == 15
    assert InventoryLog.objects.filter(operation="restock").count() == 1


def test_same_key_other_request_is_422(staff, product):
    product(42, 10)
    restock(staff, "k-1")
    response = restock(staff, "k-1", {"product_id": 42, "quantity": 6})
    assert response.status_code == 422
    assert error_code(response) == "idempotency_key_reused"
    other_path = staff.post(
        f"{API}/inventory/adjust", {"product_id": 42, "quantity": 5}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert other_path.status_code in (400, 422)
    assert available() == 15


def test_adjust_honours_the_key(staff, product):
    product(42, 10)
    body = {"product_id": 42, "delta": -2, "reason": "count"}
    first = staff.post(f"{API}/inventory/adjust", body, format="json", HTTP_IDEMPOTENCY_KEY="a")
    second = staff.post(f"{API}/inventory/adjust", body, format="json", HTTP_IDEMPOTENCY_KEY="a")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert available() == 8


def test_a_failed_call_leaves_the_key_free(staff, product):
    product(42, 10)
    failed = staff.post(
        f"{API}/inventory/adjust",
        {"product_id": 42, "delta": -50, "reason": "x"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="f",
    )
    assert failed.status_code == 409
    assert not IdempotencyKey.objects.exists()
    ok = staff.post(
        f"{API}/inventory/adjust",
        {"product_id": 42, "delta": -5, "reason": "x"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="f",
    )
    assert ok.status_code == 200
    assert available() == 5


def test_keys_are_scoped_per_caller(staff, staff_token_client, product):
    product(42, 10)
    assert restock(staff, "shared").status_code == 200
    assert restock(staff_token_client, "shared").status_code == 200
    assert available() == 20


def test_key_length(staff, product):
    product(42, 10)
    assert restock(staff, "x" * 255).status_code == 200
    too_long = restock(staff, "y" * 256)
    assert too_long.status_code == 400
    assert "Idempotency-Key" in too_long.json()["error"]["details"]
    assert restock(staff, "").status_code == 400
    assert available() == 15


def test_without_a_key_every_call_applies(staff, product):
    product(42, 10)
    staff.post(f"{API}/inventory/restock", {"product_id": 42, "quantity": 5}, format="json")
    staff.post(f"{API}/inventory/restock", {"product_id": 42, "quantity": 5}, format="json")
    assert available() == 20


def test_a_key_older_than_a_day_is_free_again(staff, product):
    from datetime import timedelta

    from django.utils import timezone

    product(42, 10)
    restock(staff, "old")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert restock(staff, "old").json()["available_stock"] == 20
    assert purge_idempotency_keys() == 0
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert purge_idempotency_keys() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs real concurrent transactions")
def test_racing_requests_with_one_key_apply_once():
    services.create_inventory(product_id=42, available_stock=10, actor="t")
    token = make_client("racer", "staff")
    barrier = threading.Barrier(6)
    answers = []

    def worker():
        client: APIClient = token_client(token)
        barrier.wait()
        try:
            response = restock(client, "race")
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [status for status, _ in answers] == [200] * 6
    assert len({body["version"] for _, body in answers}) == 1
    assert available() == 15
    assert InventoryLog.objects.filter(operation="restock").count() == 1
