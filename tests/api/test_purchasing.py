"""Purchase orders and available-to-promise through the real URL conf: the answers, the roles,
hostile input (every refusal a 400/404/409 that changes nothing) and idempotent repeats."""

from datetime import date, timedelta

import pytest
from django.db import connection
from rest_framework.test import APIClient

from inventory import limits, services
from inventory.models import InventoryLog, PurchaseOrder, Receipt, StockLevel, Warehouse
from tests.api.conftest import API, STAFF_PERMS, error_code, staff_user

pytestmark = pytest.mark.django_db
PURCHASING_PERMS = ("view_purchaseorder", "add_purchaseorder", "receive_purchaseorder")
ORDERS = f"{API}/purchase-orders"
ORDER_KEYS = {
    "id",
    "supplier",
    "supplier_reference",
    "warehouse",
    "status",
    "note",
    "actor",
    "ended_by",
    "end_reason",
    "lines",
    "receipts",
    "created_at",
    "updated_at",
}


def today() -> date:
    with connection.cursor() as cursor:
        cursor.execute("SELECT CURRENT_DATE")
        return cursor.fetchone()[0]


@pytest.fixture
def buyer(db) -> APIClient:
    client = APIClient()
    client.force_login(staff_user("buyer", (*STAFF_PERMS, *PURCHASING_PERMS)))
    return client


@pytest.fixture
def viewer(db) -> APIClient:
    """Staff who may see purchase orders and the inventory, and change nothing."""
    client = APIClient()
    client.force_login(staff_user("looker", ("view_purchaseorder", "view_inventory")))
    return client


@pytest.fixture
def goods(product):
    Warehouse.objects.create(code="sh-1", priority=1)
    product(42, 10)
    product(43, 0)


def order_body(**changes) -> dict:
    due = (today() + timedelta(days=3)).isoformat()
    body = {
        "supplier": "Acme Ltd",
        "supplier_reference": "SO-1",
        "warehouse": "sh-1",
        "note": "spring",
        "lines": [
            {"product_id": 42, "quantity": 10, "expected_date": due},
            {"product_id": 43, "quantity": 4, "expected_date": due},
        ],
    }
    return {**body, **changes}


def place(client, **changes):
    return client.post(ORDERS, order_body(**changes), format="json")


def available(product_id: int, code: str = "sh-1") -> int:
    level = StockLevel.objects.filter(product_id=product_id, warehouse__code=code).first()
    return 0 if level is None else level.available_stock


# --- Purchase orders ------------------------------------------------------------------


def test_an_order_placed_received_in_parts_over_and_under_then_closed(buyer, goods):
    created = place(buyer)

    assert created.status_code == 201, created.json()
    body = created.json()
    assert set(body) == ORDER_KEYS
    assert (body["supplier"], body["warehouse"], body["status"], body["actor"]) == ("Acme Ltd", "sh-1", "open", "buyer")
    due = order_body()["lines"][0]["expected_date"]
    assert body["lines"] == [
        {"product_id": 42, "quantity": 10, "received": 0, "outstanding": 10, "expected_date": due},
        {"product_id": 43, "quantity": 4, "received": 0, "outstanding": 4, "expected_date": due},
    ]
    assert body["receipts"] == []
    path = f"{ORDERS}/{body['id']}"

    part = buyer.post(
        f"{path}/receipts",
        {"reference": "DN-1", "lines": [{"product_id": 42, "quantity": 6}, {"product_id": 43, "quantity": 5}]},
        format="json",
    )

    assert part.status_code == 200, part.json()
    after = part.json()
    assert after["status"] == "partially_received"
    assert [(line["received"], line["outstanding"]) for line in after["lines"]] == [(6, 4), (5, 0)]
    (receipt,) = after["receipts"]
    assert set(receipt) == {"id", "reference", "actor", "lines", "created_at"}
    assert (receipt["reference"], receipt["actor"]) == ("DN-1", "buyer")
    assert receipt["lines"] == [{"product_id": 42, "quantity": 6}, {"product_id": 43, "quantity": 5}]
    assert (available(42), available(43)) == (6, 5)
    log = buyer.get(f"{API}/inventory/logs/42", {"warehouse": "sh-1"}).json()["results"]
    assert [(e["operation"], e["quantity"], e["reference"]) for e in log] == [
        ("restock", 6, f"po:{body['id']}"),
        ("create", 0, ""),
    ]

    closed = buyer.post(f"{path}/close", {"reason": "The rest is not coming."}, format="json")

    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["ended_by"], closed.json()["end_reason"]) == (
        "closed",
        "buyer",
        "The rest is not coming.",
    )
    assert [(line["quantity"], line["received"]) for line in closed.json()["lines"]] == [(10, 6), (4, 5)]
    assert error_code(buyer.post(f"{path}/receipts", {}, format="json")) == "purchase_order_not_open"
    assert error_code(buyer.post(f"{path}/cancel", {}, format="json")) == "purchase_order_not_open"
    assert buyer.get(path).json() == closed.json()


def test_a_receipt_without_lines_takes_everything_outstanding(buyer, goods):
    order = place(buyer).json()
    response = buyer.post(f"{ORDERS}/{order['id']}/receipts", format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "received"
    assert (available(42), available(43)) == (10, 4)


def test_cancel_before_and_after_a_receipt(buyer, goods):
    first, second = place(buyer).json(), place(buyer).json()
    buyer.post(f"{ORDERS}/{second['id']}/receipts", {"lines": [{"product_id": 42, "quantity": 1}]}, format="json")

    cancelled = buyer.post(f"{ORDERS}/{first['id']}/cancel")

    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    refused = buyer.post(f"{ORDERS}/{second['id']}/cancel", {"reason": "x"}, format="json")
    assert (refused.status_code, error_code(refused)) == (409, "purchase_order_has_receipts")
    assert buyer.get(f"{ORDERS}/{second['id']}").json()["status"] == "partially_received"


def test_the_list_newest_first_with_its_filters(buyer, goods, product):
    product(44, 0)
    first = place(buyer).json()
    second = place(buyer, warehouse="default", lines=[{"product_id": 44, "quantity": 1, "expected_date": "2030-01-01"}])
    second = second.json()
    buyer.post(f"{ORDERS}/{first['id']}/close", {}, format="json")

    def ids(**query):
        response = buyer.get(ORDERS, query)
        assert response.status_code == 200, response.json()
        return [order["id"] for order in response.json()["results"]]

    assert ids() == [second["id"], first["id"]]
    assert ids(status="closed") == [first["id"]]
    assert ids(status="open") == [second["id"]]
    assert ids(warehouse="sh-1") == [first["id"]]
    assert ids(product_id=44) == [second["id"]]
    assert ids(product_id=99) == []
    assert ids(page_size=1) == [second["id"]]
    assert error_code(buyer.get(ORDERS, {"warehouse": "nowhere"})) == "warehouse_not_found"
    for query in ({"status": "lost"}, {"status": ""}, {"warehouse": "Bad Code"}, {"product_id": "x"}, {"page": 0}):
        assert error_code(buyer.get(ORDERS, query)) == "validation_error", query
    assert error_code(buyer.get(ORDERS, {"page": 9})) == "not_found"


BAD_ORDERS = [
    ({"colour": "red"}, "colour"),
    ({"supplier": ""}, "supplier"),
    ({"supplier": "a\x07b"}, "supplier"),
    ({"supplier": "s" * 201}, "supplier"),
    ({"supplier": 7}, "supplier"),
    ({"supplier_reference": "r" * 256}, "supplier_reference"),
    ({"note": "a\x00b"}, "note"),
    ({"warehouse": "Bad Code"}, "warehouse"),
    ({"warehouse": None}, "warehouse"),
    ({"lines": []}, "lines"),
    ({"lines": {"product_id": 42}}, "lines"),
    ({"lines": [{"product_id": 42, "quantity": 1, "expected_date": "2030-01-01"}] * 2}, "lines"),
    ({"lines": [{"product_id": n, "quantity": 1, "expected_date": "2030-01-01"} for n in range(1, 102)]}, "lines"),
]
BAD_LINES = [
    {"quantity": 0},
    {"quantity": limits.MAX_QUANTITY + 1},
    {"quantity": 2.0},
    {"quantity": "2"},
    {"quantity": True},
    {"quantity": None},
    {"product_id": 0},
    {"product_id": 2**63},
    {"expected_date": "2030-1-5"},
    {"expected_date": "20300105"},
    {"expected_date": "2030-01-05T00:00:00"},
    {"expected_date": "2030-02-30"},
    {"expected_date": "0000-01-01"},
    {"expected_date": 20300105},
    {"expected_date": None},
    {"shipping": "air"},
]


@pytest.mark.parametrize(("changes", "field"), BAD_ORDERS)
def test_hostile_orders_are_400_naming_the_field_and_change_nothing(buyer, goods, changes, field):
    response = place(buyer, **changes)

    assert (response.status_code, error_code(response)) == (400, "validation_error")
    assert field in response.json()["error"]["details"]
    assert not PurchaseOrder.objects.exists()


@pytest.mark.parametrize("change", BAD_LINES)
def test_hostile_lines_are_400_naming_the_line_and_change_nothing(buyer, goods, change):
    line = {"product_id": 42, "quantity": 1, "expected_date": "2030-01-01", **change}

    response = place(buyer, lines=[{"product_id": 43, "quantity": 1, "expected_date": "2030-01-01"}, line])

    assert (response.status_code, error_code(response)) == (400, "validation_error")
    # DRF names the line by its index; the first, good one is not named.
    assert response.json()["error"]["details"]["lines"].keys() == {"1"}
    assert set(response.json()["error"]["details"]["lines"]["1"]) == set(change)
    assert not PurchaseOrder.objects.exists()


@pytest.mark.parametrize("body", [[], "x", 5, None])
def test_a_body_that_is_no_object_is_400(buyer, goods, body):
    response = buyer.post(ORDERS, body, format="json")
    assert (response.status_code, error_code(response)) == (400, "validation_error")


def test_unknown_warehouse_and_product_are_404(buyer, goods):
    assert error_code(place(buyer, warehouse="nowhere")) == "warehouse_not_found"
    lines = [{"product_id": 999, "quantity": 1, "expected_date": "2030-01-01"}]
    assert error_code(place(buyer, lines=lines)) == "product_not_found"
    assert not PurchaseOrder.objects.exists()


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"lines": [{"product_id": 42, "quantity": 1}], "extra": 1}, "extra"),
        ({"lines": [{"product_id": 42, "quantity": 1, "lot": "A"}]}, "lines"),
        ({"lines": [{"product_id": 42, "quantity": 0}]}, "lines"),
        ({"lines": [{"product_id": 42, "quantity": 1}, {"product_id": 42, "quantity": 2}]}, "lines"),
        ({"lines": []}, "lines"),
        ({"lines": [{"product_id": 44, "quantity": 1}]}, "lines"),
        ({"reference": "r" * 256}, "reference"),
        ({"reference": 12}, "reference"),
    ],
)
def test_hostile_receipts_change_nothing(buyer, goods, body, where):
    order = place(buyer).json()

    response = buyer.post(f"{ORDERS}/{order['id']}/receipts", body, format="json")

    assert (response.status_code, error_code(response)) == (400, "validation_error")
    assert where in response.json()["error"]["details"]
    assert not Receipt.objects.exists()
    assert (available(42), available(43)) == (0, 0)
    assert buyer.get(f"{ORDERS}/{order['id']}").json() == order


def test_hostile_ends_and_ids(buyer, goods):
    order = place(buyer).json()
    for step in ("close", "cancel"):
        for body in ({"reason": "r" * 1001}, {"why": "x"}, {"reason": None}):
            response = buyer.post(f"{ORDERS}/{order['id']}/{step}", body, format="json")
            assert error_code(response) == "validation_error", (step, body)
    assert buyer.get(f"{ORDERS}/{order['id']}").json()["status"] == "open"
    for raw in ("x", "0", "-1", str(2**63), "1.0", "²"):
        assert error_code(buyer.get(f"{ORDERS}/{raw}")) == "validation_error", raw
    assert error_code(buyer.get(f"{ORDERS}/99999")) == "purchase_order_not_found"
    assert error_code(buyer.post(f"{ORDERS}/99999/receipts", {}, format="json")) == "purchase_order_not_found"
    assert error_code(buyer.post(f"{ORDERS}/99999/close")) == "purchase_order_not_found"
    assert buyer.delete(f"{ORDERS}/{order['id']}").status_code == 405
    assert buyer.put(f"{ORDERS}/{order['id']}", order_body(), format="json").status_code == 405


def test_roles_before_existence(anon, internal, staff, viewer, goods):
    assert anon.get(ORDERS).status_code == 401
    assert anon.post(ORDERS, order_body(), format="json").status_code == 401
    # Staff without the purchase-order permissions, the order application.
    for client in (staff, internal):
        assert client.get(ORDERS).status_code == 403
        assert client.get(f"{ORDERS}/99999").status_code == 403
        assert client.post(ORDERS, order_body(), format="json").status_code == 403
    assert viewer.get(ORDERS).status_code == 200
    assert viewer.get(f"{ORDERS}/99999").status_code == 404
    assert viewer.post(ORDERS, order_body(), format="json").status_code == 403
    assert viewer.post(f"{ORDERS}/99999/receipts", {}, format="json").status_code == 403
    assert not PurchaseOrder.objects.exists()


def test_every_write_honours_an_idempotency_key(buyer, goods):
    first = buyer.post(ORDERS, order_body(), format="json", HTTP_IDEMPOTENCY_KEY="po-1")
    again = buyer.post(ORDERS, order_body(), format="json", HTTP_IDEMPOTENCY_KEY="po-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert PurchaseOrder.objects.count() == 1
    other = buyer.post(ORDERS, order_body(note="other"), format="json", HTTP_IDEMPOTENCY_KEY="po-1")
    assert (other.status_code, error_code(other)) == (422, "idempotency_key_reused")

    path = f"{ORDERS}/{first.json()['id']}"
    receipt = {"lines": [{"product_id": 42, "quantity": 3}]}
    answers = [buyer.post(f"{path}/receipts", receipt, format="json", HTTP_IDEMPOTENCY_KEY="r-1") for _ in range(2)]
    assert answers[0].json() == answers[1].json()
    assert answers[1]["Idempotent-Replayed"] == "true"
    assert Receipt.objects.count() == 1
    assert available(42) == 3
    assert InventoryLog.objects.filter(reference=f"po:{first.json()['id']}").count() == 1

    closes = [buyer.post(f"{path}/close", {}, format="json", HTTP_IDEMPOTENCY_KEY="c-1") for _ in range(2)]
    assert [response.status_code for response in closes] == [200, 200]
    assert closes[1]["Idempotent-Replayed"] == "true"
    # A failed call leaves its key free, and a key too long is a 400.
    cancel = buyer.post(f"{path}/cancel", {}, format="json", HTTP_IDEMPOTENCY_KEY="x-1")
    assert error_code(cancel) == "purchase_order_not_open"
    too_long = buyer.post(ORDERS, order_body(), format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert error_code(too_long) == "validation_error"


# --- Available to promise -------------------------------------------------------------


@pytest.fixture
def coming(buyer, goods):
    """42: 10 on hand in `default`, 10 ordered into sh-1 due on day 3 (4 received)."""
    order = place(buyer).json()
    buyer.post(f"{ORDERS}/{order['id']}/receipts", {"lines": [{"product_id": 42, "quantity": 4}]}, format="json")
    return order


def test_atp_of_one_product(buyer, coming):
    response = buyer.get(f"{API}/inventory/42/atp", {"days": 5})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"product_id", "pool", "today", "in_transit", "days", "incoming_lines"}
    day0 = today()
    assert (body["product_id"], body["pool"], body["today"], body["in_transit"]) == (42, "all", day0.isoformat(), 0)
    assert body["days"] == [
        {
            "date": (day0 + timedelta(days=n)).isoformat(),
            "available": 14,
            "incoming": 6 if n >= 3 else 0,
            "promised": 0,
            "atp": 20 if n >= 3 else 14,
        }
        for n in range(5)
    ]
    assert body["incoming_lines"] == [
        {
            "purchase_order_id": coming["id"],
            "warehouse": "sh-1",
            "expected_date": (day0 + timedelta(days=3)).isoformat(),
            "outstanding": 6,
            "overdue": False,
        }
    ]
    assert len(buyer.get(f"{API}/inventory/42/atp").json()["days"]) == limits.DEFAULT_ATP_DAYS
    assert len(buyer.get(f"{API}/inventory/42/atp/", {"days": 90}).json()["days"]) == 90


def test_atp_of_a_pool(buyer, coming, pool):
    pool("east", [Warehouse.objects.get(code="default")])
    body = buyer.get(f"{API}/inventory/42/atp", {"days": 4, "pool": "east"}).json()
    assert [day["atp"] for day in body["days"]] == [10] * 4
    assert body["incoming_lines"] == []


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"days": 0}, "validation_error"),
        ({"days": 91}, "validation_error"),
        ({"days": "x"}, "validation_error"),
        ({"days": ""}, "validation_error"),
        ({"days": "1.0"}, "validation_error"),
        ({"pool": ""}, "validation_error"),
        ({"pool": "Bad Pool"}, "validation_error"),
        ({"pool": "nowhere"}, "pool_not_found"),
        ({"dayz": 3}, "validation_error"),
    ],
)
def test_hostile_atp_queries(buyer, coming, query, code):
    assert error_code(buyer.get(f"{API}/inventory/42/atp", query)) == code


def test_atp_unknown_and_malformed_products(buyer, goods):
    assert error_code(buyer.get(f"{API}/inventory/999/atp")) == "product_not_found"
    for raw in ("x", "0", str(2**63)):
        assert error_code(buyer.get(f"{API}/inventory/{raw}/atp")) == "validation_error"


def test_atp_batch(buyer, coming):
    body = {"items": [{"product_id": 43}, {"product_id": 999}, {"product_id": 42}], "days": 4}

    response = buyer.post(f"{API}/inventory/atp", body, format="json")

    assert response.status_code == 200, response.json()
    answer = response.json()
    assert (answer["pool"], answer["today"]) == ("all", today().isoformat())
    assert [(item["product_id"], item["found"]) for item in answer["items"]] == [(43, True), (999, False), (42, True)]
    single = buyer.get(f"{API}/inventory/42/atp", {"days": 4}).json()
    assert answer["items"][2]["days"] == single["days"]
    assert [day["atp"] for day in answer["items"][1]["days"]] == [0] * 4
    assert set(answer["items"][0]) == {"product_id", "found", "days"}
    default = buyer.post(f"{API}/inventory/atp", {"items": [{"product_id": 42}]}, format="json").json()
    assert len(default["items"][0]["days"]) == limits.DEFAULT_ATP_DAYS


@pytest.mark.parametrize(
    ("body", "where", "code"),
    [
        ({"items": []}, "items", "validation_error"),
        ({"items": [{"product_id": 1}] * 201}, "items", "validation_error"),
        ({"items": [{"product_id": "1"}]}, "items", "validation_error"),
        ({"items": [{"product_id": 1, "quantity": 2}]}, "items", "validation_error"),
        ({"items": [{"product_id": 1}], "days": 0}, "days", "validation_error"),
        ({"items": [{"product_id": 1}], "days": 91}, "days", "validation_error"),
        ({"items": [{"product_id": 1}], "days": True}, "days", "validation_error"),
        ({"items": [{"product_id": 1}], "pool": "Bad"}, "pool", "validation_error"),
        ({"items": [{"product_id": 1}], "window": 3}, "window", "validation_error"),
        ({"items": [{"product_id": 1}], "pool": "nowhere"}, None, "pool_not_found"),
        ({}, "items", "validation_error"),
    ],
)
def test_hostile_atp_batches(buyer, goods, body, where, code):
    response = buyer.post(f"{API}/inventory/atp", body, format="json")
    assert error_code(response) == code
    if where:
        assert where in response.json()["error"]["details"]


def test_atp_is_for_staff_and_the_order_application(anon, internal, staff_no_perm, staff_token_client, coming):
    batch = {"items": [{"product_id": 42}]}
    assert anon.get(f"{API}/inventory/42/atp").status_code == 401
    assert anon.post(f"{API}/inventory/atp", batch, format="json").status_code == 401
    assert staff_no_perm.get(f"{API}/inventory/999/atp").status_code == 403
    assert staff_no_perm.post(f"{API}/inventory/atp", batch, format="json").status_code == 403
    for client in (internal, staff_token_client):
        assert client.get(f"{API}/inventory/42/atp").status_code == 200
        assert client.post(f"{API}/inventory/atp", batch, format="json").status_code == 200
    assert anon.get(f"{API}/inventory/atp").status_code == 401
    assert internal.get(f"{API}/inventory/atp").status_code == 405


def test_older_answers_are_unchanged_by_purchase_orders(buyer, coming):
    """A purchase order's outstanding units are not stock: the record and the check show what is there."""
    record = buyer.get(f"{API}/inventory/product/42").json()
    assert (record["available_stock"], record["reserved_stock"]) == (14, 0)
    assert APIClient().get(f"{API}/inventory/check/42", {"quantity": 15}).json()["sufficient"] is False
    services.reserve_stock(order_id="A-1", lines=[services.ReservationLine(42, 14)], actor="shop")
    assert buyer.get(f"{API}/inventory/42/atp", {"days": 4}).json()["days"][-1]["atp"] == 6
