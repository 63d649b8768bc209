"""Who may call what: every endpoint against every kind of caller.

Roles are checked before existence: the product and order in these calls do not
exist, so a caller without the role must get 401/403, never a 404.
"""

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import API, STAFF_PERMS, error_code, make_client, staff_user, token_client

pytestmark = pytest.mark.django_db

PUBLIC = [
    ("get", "/inventory/check/404404", None),
    ("post", "/inventory/check/batch", {"items": [{"product_id": 1, "quantity": 1}]}),
]
STAFF = [
    ("post", "/inventory", {"product_id": 404404}, "add_inventory"),
    ("get", "/inventory", None, "view_inventory"),
    ("get", "/inventory/product/404404", None, "view_inventory"),
    ("get", "/inventory/low-stock", None, "view_inventory"),
    ("post", "/inventory/restock", {"product_id": 404404, "quantity": 1}, "restock_inventory"),
    ("post", "/inventory/adjust", {"product_id": 404404, "delta": 1, "reason": "x"}, "adjust_inventory"),
    ("put", "/inventory/404404/threshold", {"low_stock_threshold": 1}, "change_threshold_inventory"),
    ("get", "/inventory/logs/404404", None, "view_inventorylog"),
]
INTERNAL = [
    ("post", "/inventory/reserve", {"order_id": "NOPE", "product_id": 404404, "quantity": 1}),
    ("post", "/inventory/release", {"order_id": "NOPE"}),
    ("post", "/inventory/deduct", {"order_id": "NOPE"}),
    ("post", "/inventory/cleanup-expired", None),
]
RESERVATIONS = ("get", "/inventory/reservations", None)


def call(client, method, path, body):
    return (
        getattr(client, method)(f"{API}{path}", body, format="json")
        if body
        else getattr(client, method)(f"{API}{path}")
    )


def session_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def callers(db):
    return {
        "anonymous": APIClient(),
        "bad_token": token_client("inv_not-a-real-token"),
        "internal": token_client(make_client("order-app", "internal")),
        "staff_token": token_client(make_client("backoffice", "staff")),
        "staff_no_perm": session_client(staff_user("no-perm")),
        "not_staff_with_perms": session_client(get_user_with_perms("customer", is_staff=False)),
        "staff_all_perms": session_client(staff_user("all-perms", STAFF_PERMS)),
    }


def get_user_with_perms(username, *, is_staff):
    user = staff_user(username, STAFF_PERMS)
    user.is_staff = is_staff
    user.save()
    return user


@pytest.mark.parametrize(("method", "path", "body"), PUBLIC)
def test_public_endpoints_answer_everyone(callers, method, path, body):
    for name in ("anonymous", "internal", "staff_token", "staff_no_perm"):
        response = call(callers[name], method, path, body)
        assert response.status_code in (200, 404), (name, response.content)
        if response.status_code == 404:
            assert error_code(response) == "product_not_found"


@pytest.mark.parametrize(("method", "path", "body", "perm"), STAFF)
def test_staff_endpoints(callers, method, path, body, perm):
    expected = {
        "anonymous": (401, "not_authenticated"),
        "bad_token": (401, "not_authenticated"),
        "internal": (403, "permission_denied"),
        "staff_no_perm": (403, "permission_denied"),
        "not_staff_with_perms": (403, "permission_denied"),
    }
    for name, (status, code) in expected.items():
        response = call(callers[name], method, path, body)
        assert response.status_code == status, (name, response.content)
        assert error_code(response) == code
        if status == 401:
            assert response["WWW-Authenticate"] == "Token"
    for name in ("staff_all_perms", "staff_token"):
        response = call(callers[name], method, path, body)
        assert response.status_code not in (401, 403), (name, response.content)


@pytest.mark.parametrize(("method", "path", "body", "perm"), STAFF)
def test_each_staff_endpoint_needs_its_own_permission(db, method, path, body, perm):
    others = [p for p in STAFF_PERMS if p != perm]
    without = session_client(staff_user("without", others))
    response = call(without, method, path, body)
    assert response.status_code == 403
    with_only = session_client(staff_user("with-only", [perm]))
    assert call(with_only, method, path, body).status_code not in (401, 403)


@pytest.mark.parametrize(("method", "path", "body"), INTERNAL)
def test_internal_endpoints(callers, method, path, body):
    for name, status in {
        "anonymous": 401,
        "bad_token": 401,
        "staff_token": 403,
        "staff_no_perm": 403,
        "staff_all_perms": 403,
    }.items():
        response = call(callers[name], method, path, body)
        assert response.status_code == status, (name, response.content)
    response = call(callers["internal"], method, path, body)
    assert response.status_code not in (401, 403)


def test_reservations_list_is_internal_or_staff_with_permission(callers):
    method, path, body = RESERVATIONS
    for name, status in {"anonymous": 401, "bad_token": 401, "staff_no_perm": 403, "not_staff_with_perms": 403}.items():
        assert call(callers[name], method, path, body).status_code == status, name
    for name in ("internal", "staff_token", "staff_all_perms"):
        assert call(callers[name], method, path, body).status_code == 200, name


def test_staff_client_issued_to_a_person_has_that_persons_permissions(db, capsys):
    from django.core.management import call_command

    staff_user("alice", ["view_inventory"])
    call_command("create_api_client", "alice-laptop", "--role", "staff", "--user", "alice")
    client = token_client(capsys.readouterr().out.strip())
    assert client.get(f"{API}/inventory").status_code == 200
    assert client.post(f"{API}/inventory/restock", {"product_id": 1, "quantity": 1}, format="json").status_code == 403


def test_unknown_method_on_a_protected_endpoint(callers):
    assert callers["anonymous"].delete(f"{API}/inventory/restock").status_code == 401
    response = callers["staff_all_perms"].delete(f"{API}/inventory/restock")
    assert response.status_code == 405
    assert error_code(response) == "method_not_allowed"


def warehouse_group(name: str):
    """The group migration 0003 makes (made again here: a transactional test's flush removes it)."""
    import importlib

    from django.contrib.auth.models import Group, Permission

    migration = importlib.import_module("inventory.migrations.0003_warehouse_groups")
    group, _ = Group.objects.get_or_create(name=name)
    for codename, model in migration.GROUPS[name]:
        group.permissions.add(
            Permission.objects.get(codename=codename, content_type__app_label="inventory", content_type__model=model)
        )
    return group


def test_the_warehouse_groups_open_the_matching_endpoints(db, product):
    product(42, 10)
    clerk = staff_user("group-clerk")
    clerk.groups.add(warehouse_group("Warehouse staff"))
    client = session_client(clerk)
    assert client.get(f"{API}/inventory/logs/42").status_code == 200
    assert client.post(f"{API}/inventory/restock", {"product_id": 42, "quantity": 1}, format="json").status_code == 200
    adjust = client.post(f"{API}/inventory/adjust", {"product_id": 42, "delta": 1, "reason": "x"}, format="json")
    assert adjust.status_code == 403
    manager = staff_user("group-manager")
    manager.groups.add(warehouse_group("Warehouse managers"))
    adjust = session_client(manager).post(
        f"{API}/inventory/adjust", {"product_id": 42, "delta": 1, "reason": "x"}, format="json"
    )
    assert adjust.status_code == 200
