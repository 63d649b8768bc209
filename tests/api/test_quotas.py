"""Quotas through the real URL conf: the answers, the roles, hostile input (every refusal a
400/404/409 that changes nothing), idempotent repeats, the list; and reserves that draw on a
quota by its code or by the order's customer tier."""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from inventory import limits, services
from inventory.models import InventoryLog, Quota, Reservation, StockLevel, Warehouse
from tests.api.conftest import API, error_code, staff_user
from tests.api.test_internal import RESERVATION_FIELDS

pytestmark = pytest.mark.django_db
QUOTA_PERMS = ("view_quota", "manage_quota")
QUOTAS = f"{API}/quotas"
RESERVE = f"{API}/inventory/reserve"
QUOTA_KEYS = {
    "code",
    "name",
    "product_id",
    "warehouse",
    "tier",
    "priority",
    "overflow",
    "quantity",
    "allotted",
    "drawn",
    "status",
    "starts_at",
    "ends_at",
    "actor",
    "created_at",
    "updated_at",
}


def moment(**delta) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


@pytest.fixture
def lead(db) -> APIClient:
    client = APIClient()
    client.force_login(staff_user("lead", QUOTA_PERMS))
    return client


@pytest.fixture
def looker(db) -> APIClient:
    """Staff who may see quotas and change nothing."""
    client = APIClient()
    client.force_login(staff_user("looker", ("view_quota",)))
    return client


@pytest.fixture
def goods(product):
    """Product 42: 10 units in `default`, 6 in sh-1; product 43: 5 units in `default`."""
    product(42, 10)
    product(43, 5)
    Warehouse.objects.create(code="sh-1", priority=1)
    services.restock(product_id=42, quantity=6, warehouse="sh-1", actor="fixture")


def quota_body(**changes) -> dict:
    body = {
        "code": "spring",
        "product_id": 42,
        "quantity": 4,
        "starts_at": moment(minutes=-1),
        "ends_at": moment(hours=1),
    }
    return {**body, **changes}


def create(client, **changes):
    return client.post(QUOTAS, quota_body(**changes), format="json")


def level(product_id: int, code: str = "default") -> tuple[int, int, int]:
    found = StockLevel.objects.get(product_id=product_id, warehouse__code=code)
    return found.available_stock, found.reserved_stock, found.allotted_stock


def reserve(client, **body):
    return client.post(RESERVE, body, format="json")


# --- The quota endpoints ------------------------------------------------------------


def test_a_quota_created_changed_and_ended(lead, goods):
    starts, ends = moment(minutes=-1), moment(hours=2)

    created = create(lead, starts_at=starts, ends_at=ends, name="Spring sale", tier="gold", priority=7)

    assert created.status_code == 201, created.json()
    body = created.json()
    assert set(body) == QUOTA_KEYS
    assert {key: body[key] for key in QUOTA_KEYS - {"created_at", "updated_at", "starts_at", "ends_at"}} == {
        "code": "spring",
        "name": "Spring sale",
        "product_id": 42,
        "warehouse": "default",
        "tier": "gold",
        "priority": 7,
        "overflow": True,
        "quantity": 4,
        "allotted": 4,
        "drawn": 0,
        "status": "active",
        "actor": "lead",
    }
    assert datetime.fromisoformat(body["starts_at"]) == datetime.fromisoformat(starts)
    assert body["ends_at"].endswith("+00:00")
    assert level(42) == (10, 0, 4)  # set aside, still available
    assert lead.get(f"{QUOTAS}/spring").json() == body

    extended = lead.post(f"{QUOTAS}/spring/change", {"quantity": 6, "reason": "sells well"}, format="json")

    assert extended.status_code == 200, extended.json()
    assert (extended.json()["quantity"], extended.json()["allotted"]) == (6, 6)
    assert level(42) == (10, 0, 6)
    terms = lead.post(f"{QUOTAS}/spring/change", {"priority": 3, "overflow": False, "tier": ""}, format="json")
    assert (terms.json()["priority"], terms.json()["overflow"], terms.json()["tier"]) == (3, False, "")
    assert lead.post(f"{QUOTAS}/spring/change", {}, format="json").json() == terms.json()

    ended = lead.post(f"{QUOTAS}/spring/end", {"reason": "over"}, format="json")

    assert ended.status_code == 200
    assert (ended.json()["status"], ended.json()["allotted"], ended.json()["quantity"]) == ("ended", 0, 6)
    assert level(42) == (10, 0, 0)
    entries = InventoryLog.objects.filter(quota__code="spring").order_by("id")
    assert [(e.operation, e.quantity, e.allotted_change, e.actor) for e in entries] == [
        ("quota_set", 4, 4, "lead"),
        ("quota_set", 2, 2, "lead"),
        ("quota_change", 0, 0, "lead"),
        ("quota_return", 6, -6, "lead"),
    ]
    for path, body in ((f"{QUOTAS}/spring/change", {"quantity": 7}), (f"{QUOTAS}/spring/end", {})):
        refused = lead.post(path, body, format="json")
        assert (refused.status_code, error_code(refused)) == (409, "quota_not_active")


def test_the_defaults_and_another_warehouse(lead, goods):
    body = create(lead).json()
    assert (body["warehouse"], body["tier"], body["priority"], body["overflow"], body["name"]) == (
        "default",
        "",
        100,
        True,
        "",
    )
    assert create(lead, code="sh", warehouse="sh-1", quantity=6).json()["warehouse"] == "sh-1"
    assert level(42, "sh-1") == (6, 0, 6)


def test_conflicts_and_unknowns_change_nothing(lead, goods):
    create(lead, quantity=7)

    short = create(lead, code="summer", quantity=4)
    assert (short.status_code, error_code(short)) == (409, "insufficient_stock")
    assert short.json()["error"]["details"]["items"] == [{"product_id": 42, "requested": 4, "available": 3}]
    taken = create(lead, quantity=1)
    assert (taken.status_code, error_code(taken)) == (409, "already_exists")
    assert error_code(create(lead, code="x", product_id=999)) == "product_not_found"
    assert error_code(create(lead, code="x", warehouse="nowhere")) == "warehouse_not_found"
    # A product with no level in the warehouse has no free stock there.
    assert error_code(create(lead, code="x", product_id=43, warehouse="sh-1")) == "insufficient_stock"
    more = lead.post(f"{QUOTAS}/spring/change", {"quantity": 11}, format="json")
    assert (more.status_code, error_code(more)) == (409, "insufficient_stock")
    assert list(Quota.objects.values_list("code", "quantity")) == [("spring", 7)]
    assert level(42) == (10, 0, 7)


def test_a_quota_shrinks_to_no_fewer_than_its_drawn_units(lead, internal, goods):
    create(lead)
    reserve(internal, order_id="A-1", product_id=42, quantity=3, quota="spring")

    refused = lead.post(f"{QUOTAS}/spring/change", {"quantity": 2}, format="json")

    assert (refused.status_code, error_code(refused)) == (400, "validation_error")
    assert "quantity" in refused.json()["error"]["details"]
    shrunk = lead.post(f"{QUOTAS}/spring/change", {"quantity": 3}, format="json").json()
    assert (shrunk["quantity"], shrunk["allotted"], shrunk["drawn"]) == (3, 0, 3)


BAD_QUOTAS = [
    ({"colour": "red"}, "colour"),
    ({"code": "Bad Code"}, "code"),
    ({"code": ""}, "code"),
    ({"code": "c" * 33}, "code"),
    ({"code": 7}, "code"),
    ({"code": None}, "code"),
    ({"product_id": 0}, "product_id"),
    ({"product_id": 2**63}, "product_id"),
    ({"product_id": "42"}, "product_id"),
    ({"quantity": 0}, "quantity"),
    ({"quantity": limits.MAX_QUANTITY + 1}, "quantity"),
    ({"quantity": 2.0}, "quantity"),
    ({"quantity": True}, "quantity"),
    ({"quantity": None}, "quantity"),
    ({"warehouse": "Bad Code"}, "warehouse"),
    ({"warehouse": None}, "warehouse"),
    ({"starts_at": "2026-12-01T09:00:00"}, "starts_at"),
    ({"starts_at": "2026-12-01"}, "starts_at"),
    ({"starts_at": "2026-12-01 09:00:00+00:00"}, "starts_at"),
    ({"starts_at": "2026-02-30T09:00:00Z"}, "starts_at"),
    ({"starts_at": "0001-01-01T00:00:00+01:00"}, "starts_at"),
    ({"starts_at": 1764579600}, "starts_at"),
    ({"ends_at": None}, "ends_at"),
    ({"ends_at": "tomorrow"}, "ends_at"),
    ({"ends_at": moment(minutes=-2)}, "ends_at"),  # before its start
    ({"starts_at": moment(hours=-3), "ends_at": moment(hours=-2)}, "ends_at"),  # over already
    ({"tier": "Gold!"}, "tier"),
    ({"tier": 1}, "tier"),
    ({"priority": -1}, "priority"),
    ({"priority": limits.MAX_QUOTA_PRIORITY + 1}, "priority"),
    ({"priority": True}, "priority"),
    ({"overflow": "true"}, "overflow"),
    ({"overflow": 1}, "overflow"),
    ({"name": "a\x07b"}, "name"),
    ({"name": "n" * 201}, "name"),
    ({"reason": 12}, "reason"),
    ({"reason": "r" * 1001}, "reason"),
]


@pytest.mark.parametrize(("changes", "field"), BAD_QUOTAS)
def test_hostile_quotas_are_400_naming_the_field_and_change_nothing(lead, goods, changes, field):
    response = create(lead, **changes)

    assert (response.status_code, error_code(response)) == (400, "validation_error"), response.json()
    assert field in response.json()["error"]["details"]
    assert not Quota.objects.exists()
    assert level(42) == (10, 0, 0)


@pytest.mark.parametrize("missing", ["code", "product_id", "quantity", "starts_at", "ends_at"])
def test_each_required_field(lead, goods, missing):
    body = quota_body()
    del body[missing]
    response = lead.post(QUOTAS, body, format="json")
    assert error_code(response) == "validation_error"
    assert missing in response.json()["error"]["details"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": "5"}, "quantity"),
        ({"code": "other"}, "code"),
        ({"product_id": 43}, "product_id"),
        ({"starts_at": "2030-01-01T00:00:00Z", "ends_at": "2029-01-01T00:00:00Z"}, "ends_at"),
        ({"starts_at": moment(hours=3)}, "ends_at"),  # after its end
        ({"ends_at": moment(minutes=-1)}, "ends_at"),
        ({"priority": None}, "priority"),
        ({"tier": "GOLD"}, "tier"),
        ({"overflow": "no"}, "overflow"),
    ],
)
def test_hostile_changes_change_nothing(lead, goods, body, field):
    before = create(lead).json()

    response = lead.post(f"{QUOTAS}/spring/change", body, format="json")

    assert (response.status_code, error_code(response)) == (400, "validation_error"), response.json()
    assert field in response.json()["error"]["details"]
    assert lead.get(f"{QUOTAS}/spring").json() == before


def test_hostile_ends_codes_and_methods(lead, goods):
    create(lead)
    for body in ({"reason": None}, {"why": "x"}, [], "x"):
        assert error_code(lead.post(f"{QUOTAS}/spring/end", body, format="json")) == "validation_error", body
    assert Quota.objects.get().status == "active"
    for raw in ("Spring", "a b", "c" * 33, "%00"):
        assert error_code(lead.get(f"{QUOTAS}/{raw}")) == "validation_error", raw
        assert error_code(lead.post(f"{QUOTAS}/{raw}/end", {}, format="json")) == "validation_error", raw
    for path, method in (
        (f"{QUOTAS}/winter", "get"),
        (f"{QUOTAS}/winter/change", "post"),
        (f"{QUOTAS}/winter/end", "post"),
    ):
        response = getattr(lead, method)(path, {}, format="json")
        assert (response.status_code, error_code(response)) == (404, "quota_not_found"), path
    assert lead.delete(f"{QUOTAS}/spring").status_code == 405
    assert lead.put(f"{QUOTAS}/spring", quota_body(), format="json").status_code == 405
    assert lead.get(f"{QUOTAS}/spring/").status_code == 200  # with the trailing slash too


def test_the_list_newest_first_paged_and_filtered(lead, goods):
    create(lead, code="a", quantity=1, tier="gold")
    create(lead, code="b", quantity=1, warehouse="sh-1")
    create(lead, code="c", quantity=1, product_id=43, tier="gold")
    lead.post(f"{QUOTAS}/a/end", {}, format="json")

    def codes(**query):
        response = lead.get(QUOTAS, query)
        assert response.status_code == 200, response.json()
        return [quota["code"] for quota in response.json()["results"]]

    assert codes() == ["c", "b", "a"]
    page = lead.get(QUOTAS, {"page_size": 2}).json()
    assert (page["count"], len(page["results"]), page["previous"]) == (3, 2, None)
    assert set(page["results"][0]) == QUOTA_KEYS
    assert lead.get(page["next"]).json()["results"][0]["code"] == "a"
    assert codes(product_id=42) == ["b", "a"]
    assert codes(warehouse="sh-1") == ["b"]
    assert codes(tier="gold") == ["c", "a"]
    assert codes(status="ended") == ["a"]
    assert codes(status="active", tier="gold") == ["c"]
    assert codes(product_id=999) == []
    assert error_code(lead.get(QUOTAS, {"warehouse": "nowhere"})) == "warehouse_not_found"
    for query in (
        {"status": "lost"},
        {"status": ""},
        {"tier": "Gold"},
        {"tier": ""},
        {"warehouse": "Bad Code"},
        {"product_id": "x"},
        {"page": 0},
        {"page_size": "x"},
    ):
        assert error_code(lead.get(QUOTAS, query)) == "validation_error", query
    assert error_code(lead.get(QUOTAS, {"page": 9})) == "not_found"


def test_roles_before_existence(anon, internal, staff, looker, staff_token_client, goods):
    assert anon.get(QUOTAS).status_code == 401
    assert anon.post(QUOTAS, quota_body(), format="json").status_code == 401
    # Staff without the quota permissions, the order application.
    for client in (staff, internal):
        assert client.get(QUOTAS).status_code == 403
        assert client.get(f"{QUOTAS}/winter").status_code == 403
        assert client.post(QUOTAS, quota_body(), format="json").status_code == 403
        assert client.post(f"{QUOTAS}/winter/end", {}, format="json").status_code == 403
    assert looker.get(QUOTAS).status_code == 200
    assert looker.get(f"{QUOTAS}/winter").status_code == 404
    for path in (QUOTAS, f"{QUOTAS}/winter/change", f"{QUOTAS}/winter/end"):
        assert looker.post(path, quota_body(), format="json").status_code == 403, path
    assert not Quota.objects.exists()
    # A staff API client has both permissions (STAFF_CLIENT_PERMISSIONS).
    made = staff_token_client.post(QUOTAS, quota_body(), format="json")
    assert (made.status_code, made.json()["actor"]) == (201, "backoffice")
    assert staff_token_client.get(f"{QUOTAS}/spring").status_code == 200


def test_every_write_honours_an_idempotency_key(lead, goods):
    body = quota_body()
    first = lead.post(QUOTAS, body, format="json", HTTP_IDEMPOTENCY_KEY="q-1")
    again = lead.post(QUOTAS, body, format="json", HTTP_IDEMPOTENCY_KEY="q-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Quota.objects.count() == 1
    other = lead.post(QUOTAS, {**body, "quantity": 5}, format="json", HTTP_IDEMPOTENCY_KEY="q-1")
    assert (other.status_code, error_code(other)) == (422, "idempotency_key_reused")

    changes = [
        lead.post(f"{QUOTAS}/spring/change", {"quantity": 6}, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
        for _ in range(2)
    ]
    assert changes[0].json() == changes[1].json()
    assert changes[1]["Idempotent-Replayed"] == "true"
    # The replay did not set two more units aside again.
    assert level(42) == (10, 0, 6)
    ends = [lead.post(f"{QUOTAS}/spring/end", {}, format="json", HTTP_IDEMPOTENCY_KEY="e-1") for _ in range(2)]
    assert [response.status_code for response in ends] == [200, 200]
    assert ends[1]["Idempotent-Replayed"] == "true"
    assert InventoryLog.objects.filter(quota__code="spring", operation="quota_return").count() == 1
    # A failed call leaves its key free, and a key too long is a 400.
    failed = lead.post(f"{QUOTAS}/spring/end", {}, format="json", HTTP_IDEMPOTENCY_KEY="e-2")
    assert error_code(failed) == "quota_not_active"
    too_long = lead.post(QUOTAS, quota_body(code="x"), format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert error_code(too_long) == "validation_error"


# --- Reserves that draw on a quota ------------------------------------------------------


def test_a_line_that_names_the_quota_draws_on_it(lead, internal, goods):
    create(lead, quantity=4)

    response = reserve(internal, order_id="A-1", items=[{"product_id": 42, "quantity": 3, "quota": "spring"}])

    assert response.status_code == 201, response.json()
    (held,) = response.json()["reservations"]
    assert set(held) == RESERVATION_FIELDS  # the answer has the contract's fields, and only them
    assert (held["quantity"], held["warehouse"]) == (3, "default")
    figures = lead.get(f"{QUOTAS}/spring").json()
    assert (figures["quantity"], figures["allotted"], figures["drawn"]) == (4, 1, 3)
    assert level(42) == (7, 3, 1)
    # A repeat is a repeat: nothing is drawn again.
    again = reserve(internal, order_id="A-1", items=[{"product_id": 42, "quantity": 3, "quota": "spring"}])
    assert (again.status_code, again.json()) == (200, response.json())
    assert lead.get(f"{QUOTAS}/spring").json()["drawn"] == 3
    # Once the quota has ended, a repeat is still a repeat (the order app may retry late)...
    lead.post(f"{QUOTAS}/spring/end", {}, format="json")
    late = reserve(internal, order_id="A-1", items=[{"product_id": 42, "quantity": 3, "quota": "spring"}])
    assert (late.status_code, late.json()) == (200, response.json())
    # ... but a new order, or another quantity, naming the ended quota is refused.
    other = reserve(internal, order_id="A-2", items=[{"product_id": 42, "quantity": 3, "quota": "spring"}])
    more = reserve(internal, order_id="A-1", items=[{"product_id": 42, "quantity": 4, "quota": "spring"}])
    assert (other.status_code, error_code(other)) == (409, "quota_not_active")
    assert (more.status_code, error_code(more)) == (409, "reservation_exists")
    assert Reservation.objects.filter(order_id__in=["A-1", "A-2"]).count() == 1


def test_a_one_line_body_names_its_quota_and_overflows_into_free_stock(lead, internal, goods):
    create(lead, quantity=2)

    response = reserve(internal, order_id="A-1", product_id=42, quantity=5, quota="spring")

    assert response.status_code == 201, response.json()
    assert Reservation.objects.get(order_id="A-1").quota_units == 2
    assert lead.get(f"{QUOTAS}/spring").json()["drawn"] == 2
    assert level(42) == (5, 5, 0)


def test_an_order_of_the_tier_draws_on_its_best_quota(lead, internal, goods):
    create(lead, code="gold-b", quantity=2, tier="gold", priority=20)
    create(lead, code="gold-a", quantity=2, tier="gold", priority=10)

    response = reserve(
        internal,
        order_id="A-1",
        customer_tier="gold",
        items=[{"product_id": 42, "quantity": 3}, {"product_id": 43, "quantity": 1}],
    )

    assert response.status_code == 201, response.json()
    assert [lead.get(f"{QUOTAS}/{code}").json()["drawn"] for code in ("gold-a", "gold-b")] == [2, 0]
    assert level(43) == (4, 1, 0)  # no quota of the tier: free stock, as before


def test_a_reserve_without_the_new_fields_still_cannot_take_set_aside_units(lead, internal, goods):
    create(lead, product_id=43, quantity=4, tier="gold")

    refused = reserve(internal, order_id="A-1", product_id=43, quantity=3)

    assert (refused.status_code, error_code(refused)) == (409, "insufficient_stock")
    assert refused.json()["error"]["details"]["items"] == [{"product_id": 43, "requested": 3, "available": 1}]
    other_tier = reserve(internal, order_id="A-2", product_id=43, quantity=3, customer_tier="silver")
    assert error_code(other_tier) == "insufficient_stock"
    # The record still counts the set-aside units as available (every older answer is unchanged).
    assert APIClient().get(f"{API}/inventory/check/43", {"quantity": 5}).json()["sufficient"] is True
    assert reserve(internal, order_id="A-3", product_id=43, quantity=3, customer_tier="gold").status_code == 201


def test_quota_refusals_of_a_reserve_change_nothing(lead, internal, goods):
    later = datetime.now(UTC) + timedelta(hours=1)
    create(lead, quantity=2)
    create(
        lead, code="later", quantity=2, starts_at=later.isoformat(), ends_at=(later + timedelta(hours=1)).isoformat()
    )
    create(lead, code="over", quantity=1)
    lead.post(f"{QUOTAS}/over/end", {}, format="json")

    cases = [
        ({"product_id": 42, "quantity": 1, "quota": "winter"}, 404, "quota_not_found"),
        (
            {"items": [{"product_id": 43, "quantity": 1}, {"product_id": 42, "quantity": 1, "quota": "winter"}]},
            404,
            "quota_not_found",
        ),
        ({"product_id": 43, "quantity": 1, "quota": "spring"}, 400, "validation_error"),  # another product's
        ({"product_id": 42, "quantity": 1, "quota": "later"}, 409, "quota_not_active"),
        ({"product_id": 42, "quantity": 1, "quota": "over"}, 409, "quota_not_active"),
    ]
    for body, status, code in cases:
        response = reserve(internal, order_id="A-1", **body)
        assert (response.status_code, error_code(response)) == (status, code), body
    assert not Reservation.objects.exists()
    assert level(42) == (10, 0, 4)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"product_id": 42, "quantity": 1, "quota": "Spring"}, "quota"),
        ({"product_id": 42, "quantity": 1, "quota": ""}, "quota"),
        ({"product_id": 42, "quantity": 1, "quota": 7}, "quota"),
        ({"product_id": 42, "quantity": 1, "quota": None}, "quota"),
        ({"items": [{"product_id": 42, "quantity": 1, "quota": "q" * 33}]}, "items"),
        ({"items": [{"product_id": 42, "quantity": 1}], "quota": "spring"}, "quota"),
        ({"product_id": 42, "quantity": 1, "customer_tier": "Gold"}, "customer_tier"),
        ({"product_id": 42, "quantity": 1, "customer_tier": ""}, "customer_tier"),
        ({"product_id": 42, "quantity": 1, "customer_tier": ["gold"]}, "customer_tier"),
    ],
)
def test_malformed_quota_fields_of_a_reserve_are_400(lead, internal, goods, body, field):
    create(lead)
    response = reserve(internal, order_id="A-1", **body)
    assert (response.status_code, error_code(response)) == (400, "validation_error"), response.json()
    assert field in response.json()["error"]["details"]
    assert not Reservation.objects.exists()
