"""Pre-sales (staff) and an order's lines (the order application) through the real URL conf: the
answers, the roles and ownership, hostile input (every refusal a 400/404/409 that changes
nothing), idempotent repeats, and one pre-sale order from its reserve to its last batch."""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from inventory import limits, services
from inventory.models import ApiClient, Backorder, PreSale, Warehouse
from inventory.services import ReservationLine
from tests.api.conftest import API, STAFF_PERMS, error_code, make_client, staff_user, token_client
from tests.api.test_purchasing import PURCHASING_PERMS

pytestmark = pytest.mark.django_db
PRESALE_PERMS = ("view_presale", "manage_presale")
PRESALES = f"{API}/presales"
ORDERS = f"{API}/orders"
RESERVE = f"{API}/inventory/reserve"
PRESALE_KEYS = {
    "code",
    "product_id",
    "warehouse",
    "limit",
    "sold",
    "room",
    "filled",
    "outstanding",
    "purchase_order_id",
    "status",
    "starts_at",
    "ends_at",
    "actor",
    "created_at",
    "updated_at",
}
LINE_KEYS = {
    "product_id",
    "warehouse",
    "held",
    "hold_status",
    "backordered",
    "filled",
    "cancelled",
    "outstanding",
    "backorder_status",
    "presale",
    "expected_date",
    "batches",
}


def moment(**delta) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def presale_body(**changes) -> dict:
    body = {
        "code": "launch",
        "product_id": 42,
        "warehouse": "sh-1",
        "limit": 10,
        "starts_at": moment(minutes=-1),
        "ends_at": moment(hours=1),
    }
    return {**body, **changes}


@pytest.fixture
def lead(db) -> APIClient:
    client = APIClient()
    client.force_login(staff_user("lead", (*STAFF_PERMS, *PURCHASING_PERMS, *PRESALE_PERMS)))
    return client


@pytest.fixture
def looker(db) -> APIClient:
    client = APIClient()
    client.force_login(staff_user("looker", ("view_presale",)))
    return client


@pytest.fixture
def goods(product):
    Warehouse.objects.create(code="sh-1", priority=1)
    product(42, 0)
    product(43, 5)


def order_app_id() -> int:
    return ApiClient.objects.get(name="order-app").pk


def sell_ahead(order_id: str, quantity: int, *, client_id: int | None = None):
    """The reserve of a line that may backorder, in process (the API's is tested on its own below)."""
    return services.reserve_stock(
        order_id=order_id,
        lines=[ReservationLine(42, quantity, backorder=True)],
        actor="order-app",
        client_id=client_id,
    )


# --- Staff: pre-sales ---------------------------------------------------------------


def test_a_pre_sale_created_listed_changed_and_ended(lead, goods):
    created = lead.post(PRESALES, presale_body(), format="json")

    assert created.status_code == 201, created.json()
    body = created.json()
    assert set(body) == PRESALE_KEYS
    assert (body["code"], body["warehouse"], body["limit"], body["sold"], body["room"], body["status"]) == (
        "launch",
        "sh-1",
        10,
        0,
        10,
        "active",
    )
    assert (body["purchase_order_id"], body["actor"]) == (None, "lead")
    assert lead.get(f"{PRESALES}/launch").json() == body
    sell_ahead("A-1", 4)

    changed = lead.post(f"{PRESALES}/launch/change", {"limit": 6}, format="json")

    assert changed.status_code == 200, changed.json()
    assert (changed.json()["limit"], changed.json()["sold"], changed.json()["room"]) == (6, 4, 2)
    assert changed.json()["outstanding"] == 4
    too_low = lead.post(f"{PRESALES}/launch/change", {"limit": 3}, format="json")
    assert (too_low.status_code, error_code(too_low)) == (400, "validation_error")
    assert "limit" in too_low.json()["error"]["details"]

    ended = lead.post(f"{PRESALES}/launch/end", {}, format="json")

    assert (ended.status_code, ended.json()["status"]) == (200, "ended")
    again = lead.post(f"{PRESALES}/launch/end", {}, format="json")
    assert (again.status_code, error_code(again)) == (409, "presale_not_active")
    assert error_code(lead.post(f"{PRESALES}/launch/change", {"limit": 9}, format="json")) == "presale_not_active"
    assert [p["code"] for p in lead.get(PRESALES, {"status": "ended"}).json()["results"]] == ["launch"]


def test_the_list_newest_first_with_its_filters(lead, goods):
    lead.post(PRESALES, presale_body(), format="json")
    lead.post(PRESALES, presale_body(code="other", product_id=43, warehouse="default"), format="json")

    def codes(**query):
        response = lead.get(PRESALES, query)
        assert response.status_code == 200, response.json()
        return [presale["code"] for presale in response.json()["results"]]

    assert codes() == ["other", "launch"]
    assert codes(product_id=42) == ["launch"]
    assert codes(warehouse="default") == ["other"]
    assert codes(status="active") == ["other", "launch"]
    assert codes(status="ended") == []
    assert error_code(lead.get(PRESALES, {"warehouse": "nowhere"})) == "warehouse_not_found"
    for query in ({"status": "lost"}, {"status": ""}, {"product_id": "x"}, {"warehouse": "Bad"}):
        assert error_code(lead.get(PRESALES, query)) == "validation_error", query


BAD_PRESALES = [
    ({"colour": "red"}, "colour"),
    ({"code": "Bad Code"}, "code"),
    ({"code": 7}, "code"),
    ({"product_id": 0}, "product_id"),
    ({"product_id": "42"}, "product_id"),
    ({"limit": 0}, "limit"),
    ({"limit": limits.MAX_QUANTITY + 1}, "limit"),
    ({"limit": 2.0}, "limit"),
    ({"limit": True}, "limit"),
    ({"warehouse": None}, "warehouse"),
    ({"starts_at": "2026-12-01T09:00:00"}, "starts_at"),
    ({"starts_at": "2026-12-01"}, "starts_at"),
    ({"ends_at": 1700000000}, "ends_at"),
    ({"ends_at": moment(hours=-1)}, "ends_at"),
    ({"starts_at": moment(hours=2), "ends_at": moment(hours=1)}, "ends_at"),
    ({"purchase_order_id": 0}, "purchase_order_id"),
    ({"purchase_order_id": "7"}, "purchase_order_id"),
]


@pytest.mark.parametrize(("changes", "field"), BAD_PRESALES)
def test_hostile_pre_sales_are_400_naming_the_field_and_change_nothing(lead, goods, changes, field):
    response = lead.post(PRESALES, presale_body(**changes), format="json")

    assert (response.status_code, error_code(response)) == (400, "validation_error")
    assert field in response.json()["error"]["details"]
    assert not PreSale.objects.exists()


def test_unknown_things_are_404_and_a_code_in_use_409(lead, goods):
    assert error_code(lead.post(PRESALES, presale_body(warehouse="nowhere"), format="json")) == "warehouse_not_found"
    assert error_code(lead.post(PRESALES, presale_body(product_id=999), format="json")) == "product_not_found"
    missing = lead.post(PRESALES, presale_body(purchase_order_id=999), format="json")
    assert error_code(missing) == "purchase_order_not_found"
    assert not PreSale.objects.exists()
    lead.post(PRESALES, presale_body(), format="json")
    taken = lead.post(PRESALES, presale_body(), format="json")
    assert (taken.status_code, error_code(taken)) == (409, "already_exists")
    assert error_code(lead.get(f"{PRESALES}/nope")) == "presale_not_found"
    assert error_code(lead.post(f"{PRESALES}/nope/end", {}, format="json")) == "presale_not_found"
    for raw in ("Bad", "x" * 33, "a_b"):
        assert error_code(lead.get(f"{PRESALES}/{raw}")) == "validation_error", raw
    for body in ({"limit": 0}, {"limit": "5"}, {"why": 1}, {"ends_at": "soon"}):
        assert error_code(lead.post(f"{PRESALES}/launch/change", body, format="json")) == "validation_error", body
    assert error_code(lead.post(f"{PRESALES}/launch/end", {"reason": "x"}, format="json")) == "validation_error"
    assert lead.delete(f"{PRESALES}/launch").status_code == 405
    assert PreSale.objects.get().status == "active"


def test_roles_before_existence(anon, internal, staff, looker, goods):
    assert anon.get(PRESALES).status_code == 401
    for client in (staff, internal):
        assert client.get(PRESALES).status_code == 403
        assert client.get(f"{PRESALES}/nope").status_code == 403
        assert client.post(PRESALES, presale_body(), format="json").status_code == 403
    assert looker.get(PRESALES).status_code == 200
    assert looker.get(f"{PRESALES}/nope").status_code == 404
    assert looker.post(PRESALES, presale_body(), format="json").status_code == 403
    assert looker.post(f"{PRESALES}/nope/end", {}, format="json").status_code == 403
    # An order's lines are the order application's.
    for client in (anon, staff, looker):
        assert client.get(f"{ORDERS}/A-1/lines").status_code in (401, 403)
        assert client.post(f"{ORDERS}/A-1/backorders/cancel", {}, format="json").status_code in (401, 403)
    assert not PreSale.objects.exists()


def test_every_staff_write_honours_an_idempotency_key(lead, goods):
    body = presale_body()
    first = lead.post(PRESALES, body, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    again = lead.post(PRESALES, body, format="json", HTTP_IDEMPOTENCY_KEY="p-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert PreSale.objects.count() == 1
    other = lead.post(PRESALES, {**body, "code": "other"}, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    assert (other.status_code, error_code(other)) == (422, "idempotency_key_reused")
    changes = [
        lead.post(f"{PRESALES}/launch/change", {"limit": 20}, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
        for _ in range(2)
    ]
    assert [response.json()["limit"] for response in changes] == [20, 20]
    assert changes[1]["Idempotent-Replayed"] == "true"
    ends = [lead.post(f"{PRESALES}/launch/end", {}, format="json", HTTP_IDEMPOTENCY_KEY="e-1") for _ in range(2)]
    assert [response.status_code for response in ends] == [200, 200]
    assert ends[1]["Idempotent-Replayed"] == "true"


# --- The order application: an order's lines ------------------------------------------


def test_one_pre_sale_order_from_its_reserve_to_its_last_batch(lead, internal, goods):
    due = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    order = lead.post(
        f"{API}/purchase-orders",
        {"supplier": "Acme", "warehouse": "sh-1", "lines": [{"product_id": 42, "quantity": 10, "expected_date": due}]},
        format="json",
    ).json()
    lead.post(PRESALES, presale_body(limit=8, purchase_order_id=order["id"]), format="json")
    lead.post(f"{API}/inventory/restock", {"product_id": 42, "quantity": 2, "warehouse": "sh-1"}, format="json")
    reserved = internal.post(RESERVE, {"order_id": "A-1001", "product_id": 42, "quantity": 5, "backorder": True})

    assert reserved.status_code == 201, reserved.json()
    assert [(r["warehouse"], r["quantity"], r["status"]) for r in reserved.json()["reservations"]] == [
        ("sh-1", 2, "active")
    ]
    assert reserved.json()["backorders"] == [
        {
            "product_id": 42,
            "warehouse": "sh-1",
            "presale": "launch",
            "quantity": 3,
            "filled": 0,
            "status": "open",
            "expected_date": due,
        }
    ]
    assert internal.post(f"{API}/inventory/deduct", {"order_id": "A-1001"}, format="json").status_code == 200

    first = internal.get(f"{ORDERS}/A-1001/lines")

    assert first.status_code == 200, first.json()
    [line] = first.json()["lines"]
    assert set(line) == LINE_KEYS
    assert (line["held"], line["hold_status"], line["backordered"], line["outstanding"]) == (2, "confirmed", 3, 3)
    assert (line["backorder_status"], line["presale"], line["expected_date"], line["batches"]) == (
        "open",
        "launch",
        due,
        [],
    )

    receipts = f"{API}/purchase-orders/{order['id']}/receipts"
    lead.post(receipts, {"reference": "DN-1", "lines": [{"product_id": 42, "quantity": 1}]}, format="json")
    lead.post(receipts, {"reference": "DN-2", "lines": [{"product_id": 42, "quantity": 9}]}, format="json")
    last = internal.get(f"{ORDERS}/A-1001/lines/").json()

    [line] = last["lines"]
    assert (line["filled"], line["outstanding"], line["backorder_status"], line["expected_date"]) == (
        3,
        0,
        "filled",
        None,
    )
    assert [(b["quantity"], b["reference"]) for b in line["batches"]] == [
        (1, f"po:{order['id']}"),
        (2, f"po:{order['id']}"),
    ]
    assert [b["reason"].split(": ")[1] for b in line["batches"]] == ["DN-1", "DN-2"]
    presale = lead.get(f"{PRESALES}/launch").json()
    assert (presale["sold"], presale["filled"], presale["outstanding"]) == (3, 3, 0)
    # Ten came, three were shipped to the order: seven on the shelf.
    assert lead.get(f"{API}/inventory/product/42").json()["available_stock"] == 7


def test_cancel_gives_back_what_did_not_come_and_only_the_owner_sees_the_order(lead, internal, goods):
    lead.post(PRESALES, presale_body(), format="json")
    sell_ahead("A-1", 4, client_id=order_app_id())
    services.restock(product_id=42, quantity=1, actor="clerk", warehouse="sh-1")
    stranger = token_client(make_client("other-app", "internal"))

    assert error_code(stranger.get(f"{ORDERS}/A-1/lines")) == "reservation_not_found"
    refused = stranger.post(f"{ORDERS}/A-1/backorders/cancel", {}, format="json")
    assert (refused.status_code, error_code(refused)) == (404, "backorder_not_found")

    cancelled = internal.post(f"{ORDERS}/A-1/backorders/cancel", {"product_id": 42}, format="json")

    assert cancelled.status_code == 200, cancelled.json()
    [line] = cancelled.json()["lines"]
    assert (line["backordered"], line["filled"], line["cancelled"], line["outstanding"]) == (4, 1, 3, 0)
    assert line["backorder_status"] == "cancelled"
    assert PreSale.objects.get().sold == 1
    again = internal.post(f"{ORDERS}/A-1/backorders/cancel", {}, format="json")
    assert again.json() == cancelled.json()


@pytest.mark.parametrize(
    "body",
    [{"product_id": 0}, {"product_id": "42"}, {"product_id": None}, {"order_id": "A-1"}, [], "x"],
)
def test_hostile_cancels_are_400_and_change_nothing(lead, internal, goods, body):
    lead.post(PRESALES, presale_body(), format="json")
    sell_ahead("A-1", 4, client_id=order_app_id())

    response = internal.post(f"{ORDERS}/A-1/backorders/cancel", body, format="json")

    assert (response.status_code, error_code(response)) == (400, "validation_error")
    assert Backorder.objects.get().status == "open"


def test_malformed_and_unknown_orders(internal, goods):
    for raw in ("a%20b", "x" * 65, "A,1", "é"):
        assert error_code(internal.get(f"{ORDERS}/{raw}/lines")) == "validation_error", raw
    assert error_code(internal.get(f"{ORDERS}/NONE/lines")) == "reservation_not_found"
    assert error_code(internal.post(f"{ORDERS}/NONE/backorders/cancel", {}, format="json")) == "backorder_not_found"
    assert internal.post(f"{ORDERS}/NONE/lines", {}, format="json").status_code == 405


def test_an_order_with_only_holds_has_its_lines_too(internal, goods):
    services.reserve_stock(order_id="A-2", lines=[ReservationLine(43, 2)], actor="x", client_id=order_app_id())

    [line] = internal.get(f"{ORDERS}/A-2/lines").json()["lines"]

    assert (line["product_id"], line["warehouse"], line["held"], line["hold_status"]) == (43, "default", 2, "active")
    assert (line["backordered"], line["backorder_status"], line["presale"], line["batches"]) == (0, None, None, [])


# --- The reserve API's `backorder` ---------------------------------------------------


def test_a_reserve_sells_ahead_only_when_a_line_says_so(lead, internal, goods):
    lead.post(PRESALES, presale_body(limit=4), format="json")
    plain = internal.post(RESERVE, {"order_id": "P-1", "product_id": 42, "quantity": 2}, format="json")
    assert (plain.status_code, error_code(plain)) == (409, "insufficient_stock")

    ahead = internal.post(
        RESERVE,
        {
            "order_id": "P-2",
            "items": [{"product_id": 42, "quantity": 3, "backorder": True}, {"product_id": 43, "quantity": 1}],
        },
        format="json",
    )
    again = internal.post(
        RESERVE,
        {
            "order_id": "P-2",
            "items": [{"product_id": 42, "quantity": 3, "backorder": True}, {"product_id": 43, "quantity": 1}],
        },
        format="json",
    )
    held = internal.post(RESERVE, {"order_id": "P-3", "product_id": 43, "quantity": 1}, format="json")

    assert ahead.status_code == 201, ahead.json()
    assert [(r["product_id"], r["quantity"]) for r in ahead.json()["reservations"]] == [(43, 1)]
    assert [(b["product_id"], b["quantity"], b["presale"], b["expected_date"]) for b in ahead.json()["backorders"]] == [
        (42, 3, "launch", None)
    ]
    assert (again.status_code, again.json()) == (200, ahead.json())
    # An answer without `backorder` is the contract's, word for word: no backorders key.
    assert held.status_code == 201
    assert set(held.json()) == {"order_id", "reservations"}
    over = internal.post(
        RESERVE, {"order_id": "P-4", "product_id": 42, "quantity": 2, "backorder": True}, format="json"
    )
    assert (over.status_code, error_code(over)) == (409, "insufficient_stock")
    assert over.json()["error"]["details"]["items"] == [{"product_id": 42, "requested": 2, "available": 1}]
    assert PreSale.objects.get(code="launch").sold == 3


@pytest.mark.parametrize(
    "body",
    [
        {"order_id": "H-1", "product_id": 42, "quantity": 1, "backorder": "yes"},
        {"order_id": "H-1", "product_id": 42, "quantity": 1, "backorder": 1},
        {"order_id": "H-1", "product_id": 42, "quantity": 1, "backorder": None},
        {"order_id": "H-1", "items": [{"product_id": 42, "quantity": 1, "backorder": "true"}]},
        {"order_id": "H-1", "items": [{"product_id": 42, "quantity": 1}], "backorder": True},
    ],
)
def test_hostile_backorder_flags_are_400_and_change_nothing(lead, internal, goods, body):
    lead.post(PRESALES, presale_body(), format="json")

    answer = internal.post(RESERVE, body, format="json")

    assert (answer.status_code, error_code(answer)) == (400, "validation_error"), answer.json()
    assert not Backorder.objects.exists()
    assert PreSale.objects.get(code="launch").sold == 0
