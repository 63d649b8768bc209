"""The contract's warehouse additions through the real URL conf: levels, routed reserves,
checks per pool, the log per warehouse, and transfers. Every refusal changes nothing."""

import pytest
from rest_framework.test import APIClient

from inventory import services
from inventory.models import Pool, Warehouse
from tests.api.conftest import API, STAFF_PERMS, error_code, staff_user

pytestmark = pytest.mark.django_db
TRANSFER_PERMS = ("view_transfer", "add_transfer", "receive_transfer")


@pytest.fixture
def mover(db) -> APIClient:
    client = APIClient()
    client.force_login(staff_user("mover", (*STAFF_PERMS, *TRANSFER_PERMS)))
    return client


@pytest.fixture
def network(db):
    """sh-1 (Shanghai), bj-1 (Beijing) and the pool `cn` (nearest) over them."""
    sh = Warehouse.objects.create(code="sh-1", region="east", latitude=31.23, longitude=121.47, priority=1)
    bj = Warehouse.objects.create(code="bj-1", region="north", latitude=39.90, longitude=116.40, priority=2)
    cn = Pool.objects.create(code="cn", strategy="nearest")
    cn.warehouses.set([sh, bj])
    return cn


def spread(product, product_id=42, **per_warehouse):
    product(product_id, per_warehouse.pop("default", 0))
    for code, quantity in per_warehouse.items():
        services.restock(product_id=product_id, quantity=quantity, actor="fixture", warehouse=code.replace("_", "-"))


def figures(staff, product_id=42):
    levels = staff.get(f"{API}/inventory/product/{product_id}/levels").json()["results"]
    return {
        level["warehouse"]: (level["available_stock"], level["reserved_stock"], level["in_transit"]) for level in levels
    }


def test_levels_list_each_warehouse_and_the_record_sums_them(staff, product, network):
    spread(product, default=5, sh_1=3, bj_1=2)

    response = staff.get(f"{API}/inventory/product/42/levels")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    level = body["results"][0]
    assert set(level) == {
        "product_id",
        "warehouse",
        "available_stock",
        "reserved_stock",
        "in_transit",
        "total_stock",
        "low_stock_threshold",
        "is_low_stock",
        "version",
        "created_at",
        "updated_at",
        "buckets",
    }
    record = staff.get(f"{API}/inventory/product/42").json()
    assert record["available_stock"] == 10
    assert record["version"] == sum(level["version"] for level in body["results"])
    assert staff.get(f"{API}/inventory/product/43/levels").status_code == 404
    assert error_code(staff.get(f"{API}/inventory/product/x/levels")) == "validation_error"


def test_a_routed_reserve_goes_to_the_nearest_and_a_split_answers_every_part(internal, staff, product, network):
    spread(product, sh_1=3, bj_1=5)
    near_shanghai = {"pool": "cn", "ship_to": {"latitude": 31.0, "longitude": 121.0}}

    whole = internal.post(
        f"{API}/inventory/reserve", {"order_id": "N-1", "product_id": 42, "quantity": 2, **near_shanghai}, format="json"
    )
    split = internal.post(
        f"{API}/inventory/reserve",
        {"order_id": "N-2", "items": [{"product_id": 42, "quantity": 6}], **near_shanghai},
        format="json",
    )

    assert whole.status_code == 201
    assert [(r["warehouse"], r["quantity"]) for r in whole.json()["reservations"]] == [("sh-1", 2)]
    assert split.status_code == 201
    assert [(r["warehouse"], r["quantity"]) for r in split.json()["reservations"]] == [("sh-1", 1), ("bj-1", 5)]
    assert figures(staff) == {"default": (0, 0, 0), "sh-1": (0, 3, 0), "bj-1": (0, 5, 0)}
    released = internal.post(f"{API}/inventory/release", {"order_id": "N-2"}, format="json")
    assert [r["status"] for r in released.json()["reservations"]] == ["cancelled", "cancelled"]


def test_split_false_is_short_with_the_pools_units_and_changes_nothing(internal, staff, product, network):
    spread(product, sh_1=3, bj_1=5)

    response = internal.post(
        f"{API}/inventory/reserve",
        {"order_id": "S-1", "product_id": 42, "quantity": 6, "pool": "cn", "split": False},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["error"]["details"]["items"] == [{"product_id": 42, "requested": 6, "available": 8}]
    assert figures(staff) == {"default": (0, 0, 0), "sh-1": (3, 0, 0), "bj-1": (5, 0, 0)}


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"pool": "No Such"}, "pool"),
        ({"pool": 7}, "pool"),
        ({"split": "no"}, "split"),
        ({"split": 0}, "split"),
        ({"ship_to": {"latitude": 91, "longitude": 0}}, "ship_to"),
        ({"ship_to": {"latitude": 10}}, "ship_to"),
        ({"ship_to": {"latitude": True, "longitude": 0}}, "ship_to"),
        ({"ship_to": {"latitude": "1", "longitude": 0}}, "ship_to"),
        ({"ship_to": []}, "ship_to"),
        ({"ship_to": {"region": "x" * 65}}, "ship_to"),
        ({"ship_to": {"region": "east\u0007"}}, "ship_to"),
        ({"ship_to": {"latitude": 10**400, "longitude": 0}}, "ship_to"),
        ({"ship_to": {"latitude": None, "longitude": None}}, "ship_to"),
    ],
)
def test_malformed_routing_is_a_400_and_reserves_nothing(internal, staff, product, network, extra, field):
    spread(product, sh_1=3)

    response = internal.post(
        f"{API}/inventory/reserve", {"order_id": "B-1", "product_id": 42, "quantity": 1, **extra}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert figures(staff)["sh-1"] == (3, 0, 0)


def test_an_unknown_pool_is_a_404_of_its_own(internal, anon, product):
    product(42, 5)
    reserve = internal.post(
        f"{API}/inventory/reserve",
        {"order_id": "P-1", "product_id": 42, "quantity": 1, "pool": "nowhere"},
        format="json",
    )
    assert (reserve.status_code, error_code(reserve)) == (404, "pool_not_found")
    assert error_code(anon.get(f"{API}/inventory/check/42?pool=nowhere")) == "pool_not_found"
    assert error_code(anon.get(f"{API}/inventory/check/42?pool=NO")) == "validation_error"


def test_checks_answer_for_a_pool(anon, product, network):
    spread(product, default=7, sh_1=3)

    assert anon.get(f"{API}/inventory/check/42").json()["available_stock"] == 10
    assert anon.get(f"{API}/inventory/check/42?pool=cn&quantity=4").json() == {
        "product_id": 42,
        "available_stock": 3,
        "in_stock": True,
        "is_low_stock": True,
        "sufficient": False,
    }
    batch = anon.post(f"{API}/inventory/check/batch", {"items": [{"product_id": 42}], "pool": "cn"}, format="json")
    assert batch.json()["items"][0]["available_stock"] == 3


def test_restock_adjust_threshold_and_the_log_per_warehouse(staff, product, network):
    product(42, 5)

    restocked = staff.post(
        f"{API}/inventory/restock", {"product_id": 42, "quantity": 4, "warehouse": "sh-1"}, format="json"
    )
    assert (restocked.status_code, restocked.json()["available_stock"]) == (200, 9)
    sh_version = next(
        level["version"]
        for level in staff.get(f"{API}/inventory/product/42/levels").json()["results"]
        if level["warehouse"] == "sh-1"
    )
    stale = staff.post(
        f"{API}/inventory/adjust",
        {"product_id": 42, "delta": -1, "reason": "count", "warehouse": "sh-1", "expected_version": sh_version + 1},
        format="json",
    )
    assert error_code(stale) == "version_conflict"
    adjusted = staff.post(
        f"{API}/inventory/adjust",
        {"product_id": 42, "delta": -1, "reason": "count", "warehouse": "sh-1", "expected_version": sh_version},
        format="json",
    )
    assert adjusted.status_code == 200
    assert (
        staff.put(
            f"{API}/inventory/42/threshold", {"low_stock_threshold": 1, "warehouse": "sh-1"}, format="json"
        ).status_code
        == 200
    )
    assert figures(staff)["sh-1"] == (3, 0, 0)

    sh_log = staff.get(f"{API}/inventory/logs/42?warehouse=sh-1").json()["results"]
    assert [(e["operation"], e["warehouse"]) for e in sh_log] == [
        ("threshold", "sh-1"),
        ("adjust", "sh-1"),
        ("restock", "sh-1"),
        ("create", "sh-1"),
    ]
    assert staff.get(f"{API}/inventory/logs/42").json()["count"] == 5
    assert error_code(staff.get(f"{API}/inventory/logs/42?warehouse=nowhere")) == "warehouse_not_found"
    assert error_code(staff.get(f"{API}/inventory/logs/42?warehouse=Bad Code")) == "validation_error"
    for body in ({"product_id": 42, "quantity": 1, "warehouse": "nowhere"},):
        assert error_code(staff.post(f"{API}/inventory/restock", body, format="json")) == "warehouse_not_found"
    assert (
        error_code(
            staff.post(f"{API}/inventory/restock", {"product_id": 42, "quantity": 1, "warehouse": 5}, format="json")
        )
        == "validation_error"
    )
    assert figures(staff)["sh-1"] == (3, 0, 0)


def send(client, **body):
    return client.post(f"{API}/transfers", body, format="json")


def test_a_transfer_out_received_in_parts(mover, product, network):
    spread(product, default=10)

    created = send(
        mover, **{"from": "default", "to": "sh-1", "lines": [{"product_id": 42, "quantity": 6}], "reference": "TR-1"}
    )

    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "from", "to", "status", "reference", "lines", "created_at", "updated_at"}
    assert (body["from"], body["to"], body["status"], body["lines"]) == (
        "default",
        "sh-1",
        "in_transit",
        [{"product_id": 42, "quantity": 6, "received": 0}],
    )
    assert figures(mover) == {"default": (4, 0, 0), "sh-1": (0, 0, 6)}
    path = f"{API}/transfers/{body['id']}"

    part = mover.post(f"{path}/receive", {"lines": [{"product_id": 42, "quantity": 2}]}, format="json")
    assert (part.status_code, part.json()["status"]) == (200, "partially_received")
    too_much = mover.post(f"{path}/receive", {"lines": [{"product_id": 42, "quantity": 5}]}, format="json")
    assert error_code(too_much) == "validation_error"
    rest = mover.post(f"{path}/receive", {}, format="json")
    assert (rest.json()["status"], rest.json()["lines"][0]["received"]) == ("received", 6)
    assert figures(mover) == {"default": (4, 0, 0), "sh-1": (6, 0, 0)}
    assert error_code(mover.post(f"{path}/cancel")) == "transfer_not_open"
    assert mover.get(path).json()["status"] == "received"
    listed = mover.get(f"{API}/transfers", {"status": "received", "from": "default", "to": "sh-1", "product_id": 42})
    assert [t["id"] for t in listed.json()["results"]] == [body["id"]]
    assert mover.get(f"{API}/transfers", {"product_id": 43}).json()["count"] == 0


def test_cancel_returns_what_is_in_transit(mover, product, network):
    spread(product, default=10)
    shipment = send(mover, **{"from": "default", "to": "bj-1", "lines": [{"product_id": 42, "quantity": 6}]}).json()

    cancelled = mover.post(f"{API}/transfers/{shipment['id']}/cancel")

    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert figures(mover) == {"default": (10, 0, 0), "bj-1": (0, 0, 0)}
    assert error_code(mover.post(f"{API}/transfers/{shipment['id']}/receive", {}, format="json")) == "transfer_not_open"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"from": "default", "to": "default", "lines": [{"product_id": 42, "quantity": 1}]}, 400, "validation_error"),
        ({"from": "default", "to": "xx-9", "lines": [{"product_id": 42, "quantity": 1}]}, 404, "warehouse_not_found"),
        ({"from": "default", "to": "sh-1", "lines": []}, 400, "validation_error"),
        ({"from": "default", "to": "sh-1", "lines": [{"product_id": 42, "quantity": 1.0}]}, 400, "validation_error"),
        ({"from": "default", "to": "sh-1", "lines": [{"product_id": 42, "quantity": 1}] * 2}, 400, "validation_error"),
        ({"from": "default", "to": "sh-1", "lines": [{"product_id": 42, "quantity": 11}]}, 409, "insufficient_stock"),
        ({"from": "default", "to": "sh-1", "lines": [{"product_id": 99, "quantity": 1}]}, 404, "product_not_found"),
        ({"to": "sh-1", "lines": [{"product_id": 42, "quantity": 1}]}, 400, "validation_error"),
    ],
)
def test_refused_transfers_change_nothing(mover, product, network, body, status, code):
    spread(product, default=10)

    response = send(mover, **body)

    assert (response.status_code, error_code(response)) == (status, code)
    assert figures(mover) == {"default": (10, 0, 0)}
    assert mover.get(f"{API}/transfers").json()["count"] == 0


def test_unknown_and_malformed_transfer_ids(mover, anon, internal, staff):
    assert error_code(mover.get(f"{API}/transfers/999")) == "transfer_not_found"
    assert error_code(mover.post(f"{API}/transfers/999/cancel")) == "transfer_not_found"
    assert error_code(mover.get(f"{API}/transfers/abc")) == "validation_error"
    assert anon.get(f"{API}/transfers").status_code == 401
    assert internal.get(f"{API}/transfers").status_code == 403
    assert staff.get(f"{API}/transfers/999").status_code == 403
