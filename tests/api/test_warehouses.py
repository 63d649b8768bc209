"""Warehouses and pools through the API: create, list, read, change; every refusal changes nothing."""

import pytest
from django.forms.models import model_to_dict
from rest_framework.test import APIClient

from inventory import services
from inventory.models import Pool, Warehouse
from tests.api.conftest import API, error_code, make_client, staff_user, token_client

pytestmark = pytest.mark.django_db

WAREHOUSE_PERMS = ("view_warehouse", "add_warehouse", "change_warehouse", "view_pool", "add_pool", "change_pool")
WAREHOUSE_KEYS = {"code", "name", "region", "latitude", "longitude", "priority", "accepts_orders", "created_at"}
SH_1 = {
    "code": "sh-1",
    "name": "Shanghai 1",
    "region": "east",
    "latitude": 31.23,
    "longitude": 121,
    "priority": 10,
    "accepts_orders": True,
}


@pytest.fixture
def keeper(db) -> APIClient:
    """Staff with the warehouse and pool permissions, by session."""
    client = APIClient()
    client.force_login(staff_user("keeper", WAREHOUSE_PERMS))
    return client


@pytest.fixture
def viewer(db) -> APIClient:
    client = APIClient()
    client.force_login(staff_user("looker", ("view_warehouse", "view_pool")))
    return client


def warehouse(code: str, **fields) -> Warehouse:
    return services.create_warehouse(code=code, actor="fixture", **fields)


def state() -> tuple:
    """Every warehouse and pool as stored, to show that a refused call changed nothing."""
    warehouses = [model_to_dict(row) for row in Warehouse.objects.order_by("code")]
    pools = [
        (model_to_dict(row, exclude=["warehouses"]), list(row.warehouses.values_list("code")))
        for row in Pool.objects.order_by("code")
    ]
    return warehouses, pools


def details(response) -> dict:
    return response.json()["error"]["details"]


# --- warehouses ---------------------------------------------------------------------


def test_a_fresh_install_lists_the_default_warehouse(keeper):
    response = keeper.get(f"{API}/warehouses")

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (1, None, None)
    (default,) = body["results"]
    assert set(default) == WAREHOUSE_KEYS
    assert default["code"] == "default"
    assert (default["priority"], default["accepts_orders"]) == (0, True)
    assert (default["latitude"], default["longitude"]) == (None, None)
    assert default["created_at"].endswith("+00:00")


def test_create_answers_201_with_the_warehouse_and_get_reads_it_back(keeper):
    response = keeper.post(f"{API}/warehouses", SH_1, format="json")

    assert response.status_code == 201
    created = response.json()
    assert set(created) == WAREHOUSE_KEYS
    assert {key: created[key] for key in SH_1} == {**SH_1, "longitude": 121.0}
    assert type(created["longitude"]) is float
    for path in (f"{API}/warehouses/sh-1", f"{API}/warehouses/sh-1/"):
        again = keeper.get(path)
        assert again.status_code == 200
        assert again.json() == created


def test_create_with_only_a_code_takes_the_defaults(keeper):
    response = keeper.post(f"{API}/warehouses/", {"code": "bj-1"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert {key: body[key] for key in WAREHOUSE_KEYS - {"created_at"}} == {
        "code": "bj-1",
        "name": "",
        "region": "",
        "latitude": None,
        "longitude": None,
        "priority": 0,
        "accepts_orders": True,
    }


def test_the_list_is_by_priority_then_code_and_paginated(keeper):
    warehouse("zz-9", priority=-5)
    warehouse("bb-2", priority=3)
    warehouse("aa-1", priority=3)

    codes = [row["code"] for row in keeper.get(f"{API}/warehouses").json()["results"]]
    first_page = keeper.get(f"{API}/warehouses?page_size=2").json()

    assert codes == ["zz-9", "default", "aa-1", "bb-2"]
    assert first_page["count"] == 4
    assert [row["code"] for row in first_page["results"]] == ["zz-9", "default"]
    assert first_page["next"] is not None


def test_an_existing_code_is_409_already_exists(keeper):
    warehouse("sh-1")
    before = state()

    for code in ("sh-1", "default"):
        response = keeper.post(f"{API}/warehouses", {**SH_1, "code": code}, format="json")
        assert response.status_code == 409
        assert error_code(response) == "already_exists"
    assert state() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "code"),
        ({"code": "SH-1"}, "code"),
        ({"code": "sh_1"}, "code"),
        ({"code": ""}, "code"),
        ({"code": "a" * 33}, "code"),
        ({"code": 7}, "code"),
        ({"code": None}, "code"),
        ({"code": "sh-1", "latitude": 90.5, "longitude": 0}, "latitude"),
        ({"code": "sh-1", "latitude": -91, "longitude": 0}, "latitude"),
        ({"code": "sh-1", "latitude": 0, "longitude": 180.01}, "longitude"),
        ({"code": "sh-1", "latitude": 0, "longitude": -(10**30)}, "longitude"),
        ({"code": "sh-1", "latitude": "31.2", "longitude": 121}, "latitude"),
        ({"code": "sh-1", "latitude": True, "longitude": 121}, "latitude"),
        ({"code": "sh-1", "latitude": [31], "longitude": 121}, "latitude"),
        ({"code": "sh-1", "latitude": 31.2}, "longitude"),
        ({"code": "sh-1", "longitude": 121}, "latitude"),
        ({"code": "sh-1", "latitude": 31.2, "longitude": None}, "longitude"),
        ({"code": "sh-1", "priority": True}, "priority"),
        ({"code": "sh-1", "priority": 1.0}, "priority"),
        ({"code": "sh-1", "priority": "1"}, "priority"),
        ({"code": "sh-1", "priority": 1_000_001}, "priority"),
        ({"code": "sh-1", "priority": -1_000_001}, "priority"),
        ({"code": "sh-1", "accepts_orders": "true"}, "accepts_orders"),
        ({"code": "sh-1", "accepts_orders": 1}, "accepts_orders"),
        ({"code": "sh-1", "accepts_orders": None}, "accepts_orders"),
        ({"code": "sh-1", "name": "Shanghai\n1"}, "name"),
        ({"code": "sh-1", "name": "x\u0000"}, "name"),
        ({"code": "sh-1", "name": "x" * 201}, "name"),
        ({"code": "sh-1", "name": 5}, "name"),
        ({"code": "sh-1", "region": "r" * 65}, "region"),
    ],
)
def test_malformed_input_is_a_400_naming_the_field(keeper, body, field):
    before = state()

    response = keeper.post(f"{API}/warehouses", body, format="json")

    assert response.status_code == 400, response.json()
    assert error_code(response) == "validation_error"
    assert field in details(response)
    assert state() == before


@pytest.mark.parametrize(
    "raw",
    [b'{"code": "sh-1", "latitude": 1e400, "longitude": 0}', b'{"code": "sh-1", "latitude": NaN, "longitude": 0}'],
)
def test_a_coordinate_that_is_not_finite_is_a_400(keeper, raw):
    response = keeper.generic("POST", f"{API}/warehouses", raw, content_type="application/json")

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert not Warehouse.objects.filter(code="sh-1").exists()


def test_patch_changes_only_the_fields_given(keeper):
    warehouse("sh-1", name="Shanghai", priority=4, latitude=31.0, longitude=121.0)

    response = keeper.patch(f"{API}/warehouses/sh-1", {"name": "Shanghai 1", "accepts_orders": False}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["accepts_orders"]) == ("Shanghai 1", False)
    assert (body["priority"], body["latitude"], body["longitude"]) == (4, 31.0, 121.0)
    assert keeper.get(f"{API}/warehouses/sh-1").json() == body


def test_patch_sets_and_clears_the_coordinates_together(keeper):
    warehouse("sh-1")

    placed = keeper.patch(f"{API}/warehouses/sh-1/", {"latitude": -33.5, "longitude": 151}, format="json")
    cleared = keeper.patch(f"{API}/warehouses/sh-1", {"latitude": None, "longitude": None}, format="json")

    assert (placed.json()["latitude"], placed.json()["longitude"]) == (-33.5, 151.0)
    assert (cleared.json()["latitude"], cleared.json()["longitude"]) == (None, None)


def test_patch_takes_back_what_get_gave(keeper):
    """A client may send the whole object it read: the same code is no change."""
    warehouse("sh-1", priority=2)
    read = keeper.get(f"{API}/warehouses/sh-1").json()

    response = keeper.patch(f"{API}/warehouses/sh-1", {**read, "priority": 1}, format="json")

    assert response.status_code == 200
    assert response.json() == {**read, "priority": 1}


def test_an_empty_patch_changes_nothing_and_answers_the_warehouse(keeper):
    warehouse("sh-1")
    before = state()

    response = keeper.patch(f"{API}/warehouses/sh-1", {}, format="json")

    assert response.status_code == 200
    assert response.json()["code"] == "sh-1"
    assert state() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "sh-2"}, "code"),
        ({"latitude": 31.2}, "latitude"),
        ({"longitude": 121}, "longitude"),
        ({"latitude": None}, "latitude"),
        ({"latitude": 91, "longitude": 0}, "latitude"),
        ({"priority": False}, "priority"),
        ({"priority": 2.5}, "priority"),
        ({"accepts_orders": "false"}, "accepts_orders"),
        ({"name": "\x07"}, "name"),
    ],
)
def test_a_refused_patch_is_a_400_and_changes_nothing(keeper, body, field):
    warehouse("sh-1", latitude=31.0, longitude=121.0)
    before = state()

    response = keeper.patch(f"{API}/warehouses/sh-1", body, format="json")

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert field in details(response)
    assert state() == before


@pytest.mark.parametrize("code", ["SH-1", "sh_1", "a" * 33, "%00", "sh%201", "%E2%98%83"])
def test_a_malformed_code_in_the_path_is_a_400(keeper, code):
    for response in (
        keeper.get(f"{API}/warehouses/{code}"),
        keeper.patch(f"{API}/warehouses/{code}", {"priority": 1}, format="json"),
        keeper.get(f"{API}/pools/{code}"),
        keeper.patch(f"{API}/pools/{code}", {"name": "x"}, format="json"),
    ):
        assert response.status_code == 400
        assert error_code(response) == "validation_error"
        assert "code" in details(response)


def test_an_unknown_warehouse_is_a_404_warehouse_not_found(keeper):
    before = state()

    for response in (
        keeper.get(f"{API}/warehouses/nope"),
        keeper.patch(f"{API}/warehouses/nope", {"priority": 1}, format="json"),
    ):
        assert response.status_code == 404
        assert error_code(response) == "warehouse_not_found"
        assert details(response) == {"code": "nope"}
    assert state() == before


def test_put_and_delete_are_not_allowed(keeper):
    warehouse("sh-1")

    assert keeper.put(f"{API}/warehouses/sh-1", SH_1, format="json").status_code == 405
    assert keeper.delete(f"{API}/warehouses/sh-1").status_code == 405
    assert keeper.delete(f"{API}/pools/all").status_code == 405
    assert Warehouse.objects.filter(code="sh-1").exists()


# --- pools ------------------------------------------------------------------------------


def test_the_pool_all_holds_every_warehouse_that_accepts_orders_by_priority(keeper):
    warehouse("sh-1", priority=5)
    warehouse("bj-1", priority=5)
    warehouse("gz-1", priority=-1)
    warehouse("closed", priority=-9, accepts_orders=False)

    response = keeper.get(f"{API}/pools/all")

    assert response.status_code == 200
    assert response.json() == {
        "code": "all",
        "name": "Every warehouse",
        "warehouses": ["gz-1", "default", "bj-1", "sh-1"],
        "strategy": "priority",
    }
    assert keeper.get(f"{API}/pools").json()["results"] == [response.json()]


def test_create_a_pool_answers_201_with_its_members_by_priority(keeper):
    warehouse("sh-1", priority=5)
    warehouse("hz-1", priority=1)
    body = {"code": "east", "name": "East China", "warehouses": ["sh-1", "hz-1"], "strategy": "nearest"}

    response = keeper.post(f"{API}/pools", body, format="json")

    assert response.status_code == 201
    assert response.json() == {**body, "warehouses": ["hz-1", "sh-1"]}
    assert keeper.get(f"{API}/pools/east/").json() == response.json()
    assert [pool["code"] for pool in keeper.get(f"{API}/pools/").json()["results"]] == ["all", "east"]


def test_a_pool_lists_its_members_that_do_not_accept_orders_too(keeper):
    warehouse("closed", accepts_orders=False)

    response = keeper.post(f"{API}/pools", {"code": "p", "warehouses": ["closed"]}, format="json")

    assert response.json() == {"code": "p", "name": "", "warehouses": ["closed"], "strategy": "priority"}


def test_a_pool_naming_an_unknown_warehouse_is_a_400_naming_warehouses(keeper):
    before = state()

    response = keeper.post(f"{API}/pools", {"code": "east", "warehouses": ["default", "nope"]}, format="json")

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert "nope" in details(response)["warehouses"][0]
    assert state() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"warehouses": ["default"]}, "code"),
        ({"code": "East"}, "code"),
        ({"code": "east", "warehouses": "default"}, "warehouses"),
        ({"code": "east", "warehouses": ["default", "default"]}, "warehouses"),
        ({"code": "east", "warehouses": ["Default"]}, "warehouses"),
        ({"code": "east", "warehouses": [1]}, "warehouses"),
        ({"code": "east", "warehouses": ["w"] * 201}, "warehouses"),
        ({"code": "east", "strategy": "cheapest"}, "strategy"),
        ({"code": "east", "strategy": 1}, "strategy"),
        ({"code": "east", "name": "\u0085"}, "name"),
    ],
)
def test_a_malformed_pool_is_a_400(keeper, body, field):
    before = state()

    response = keeper.post(f"{API}/pools", body, format="json")

    assert response.status_code == 400
    assert field in details(response)
    assert state() == before


def test_an_existing_pool_code_is_409_already_exists_and_all_always_exists(keeper):
    services.create_pool(code="east", actor="fixture")
    before = state()

    for code in ("east", "all"):
        response = keeper.post(f"{API}/pools", {"code": code, "warehouses": ["default"]}, format="json")
        assert response.status_code == 409
        assert error_code(response) == "already_exists"
    assert state() == before


def test_patch_a_pool_replaces_what_is_given(keeper):
    warehouse("sh-1")
    warehouse("bj-1")
    services.create_pool(code="east", name="East", warehouses=["sh-1"], actor="fixture")

    members = keeper.patch(f"{API}/pools/east", {"warehouses": ["default", "bj-1"]}, format="json")
    strategy = keeper.patch(f"{API}/pools/east/", {"strategy": "most_stock"}, format="json")
    emptied = keeper.patch(f"{API}/pools/east", {"warehouses": []}, format="json")

    assert members.status_code == 200
    # Both of priority 0: by code.
    assert members.json() == {"code": "east", "name": "East", "warehouses": ["bj-1", "default"], "strategy": "priority"}
    assert strategy.json()["strategy"] == "most_stock"
    assert strategy.json()["warehouses"] == ["bj-1", "default"]
    assert emptied.json()["warehouses"] == []


@pytest.mark.parametrize(
    "body",
    [{}, {"name": "Everything"}, {"warehouses": ["default"]}, {"strategy": "nearest"}, {"code": "all"}],
)
def test_the_pool_all_cannot_be_changed(keeper, body):
    before = state()

    response = keeper.patch(f"{API}/pools/all", body, format="json")

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert "every warehouse" in response.json()["error"]["message"] + str(details(response))
    assert state() == before


def test_a_refused_pool_patch_changes_nothing(keeper):
    services.create_pool(code="east", warehouses=["default"], actor="fixture")
    before = state()

    for body in ({"warehouses": ["nope"]}, {"code": "west"}, {"strategy": "best"}, {"name": 3}):
        response = keeper.patch(f"{API}/pools/east", {"name": "renamed", **body}, format="json")
        assert response.status_code == 400, body
    assert state() == before


def test_an_unknown_pool_is_a_404_pool_not_found(keeper):
    for response in (keeper.get(f"{API}/pools/west"), keeper.patch(f"{API}/pools/west", {"name": "x"}, format="json")):
        assert response.status_code == 404
        assert error_code(response) == "pool_not_found"


# --- roles ------------------------------------------------------------------------------

CALLS = [
    ("get", "/warehouses", None, "view_warehouse"),
    ("post", "/warehouses", {"code": "sh-1"}, "add_warehouse"),
    ("get", "/warehouses/nope", None, "view_warehouse"),
    ("patch", "/warehouses/nope", {"priority": 1}, "change_warehouse"),
    ("get", "/pools", None, "view_pool"),
    ("post", "/pools", {"code": "east"}, "add_pool"),
    ("get", "/pools/nope", None, "view_pool"),
    ("patch", "/pools/nope", {"name": "x"}, "change_pool"),
]


def call(client, method, path, body):
    return getattr(client, method)(f"{API}{path}", body, format="json")


@pytest.mark.parametrize(("method", "path", "body", "perm"), CALLS)
def test_roles_come_before_existence(method, path, body, perm):
    others = [codename for codename in WAREHOUSE_PERMS if codename != perm]
    session_without_perm = APIClient()
    session_without_perm.force_login(staff_user("almost", others))
    outsider = staff_user("outsider", WAREHOUSE_PERMS)
    outsider.is_staff = False
    outsider.save()
    not_staff = APIClient()
    not_staff.force_login(outsider)
    before = state()

    assert call(APIClient(), method, path, body).status_code == 401
    assert call(token_client("inv_not-a-real-token"), method, path, body).status_code == 401
    for client in (token_client(make_client("order-app", "internal")), session_without_perm, not_staff):
        response = call(client, method, path, body)
        assert response.status_code == 403
        assert error_code(response) == "permission_denied"
    assert state() == before


def test_viewing_needs_no_more_than_the_view_permissions(viewer):
    assert viewer.get(f"{API}/warehouses").status_code == 200
    assert viewer.get(f"{API}/pools/all").status_code == 200
    assert viewer.post(f"{API}/warehouses", {"code": "sh-1"}, format="json").status_code == 403
    assert viewer.patch(f"{API}/pools/all", {}, format="json").status_code == 403


# --- idempotency ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/warehouses", {"code": "sh-1", "priority": 3}),
        ("patch", "/warehouses/default", {"priority": 7}),
        ("post", "/pools", {"code": "east", "warehouses": ["default"]}),
        ("patch", "/pools/east", {"strategy": "nearest"}),
    ],
)
def test_an_idempotency_key_replays_the_first_answer(keeper, method, path, body):
    if path == "/pools/east":
        services.create_pool(code="east", actor="fixture")
    first = getattr(keeper, method)(f"{API}{path}", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    after_first = state()

    again = getattr(keeper, method)(f"{API}{path}/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    other = getattr(keeper, method)(f"{API}{path}", {**body, "name": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code in (200, 201)
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert error_code(other) == "idempotency_key_reused"
    assert state() == after_first


def test_a_refused_call_leaves_its_idempotency_key_free(keeper):
    refused = keeper.post(
        f"{API}/pools", {"code": "east", "warehouses": ["sh-1"]}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    warehouse("sh-1")
    accepted = keeper.post(
        f"{API}/pools", {"code": "east", "warehouses": ["sh-1"]}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert refused.status_code == 400
    assert accepted.status_code == 201
    assert "Idempotent-Replayed" not in accepted
