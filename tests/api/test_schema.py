"""The OpenAPI document, the offline docs, and schemathesis against the live schema."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from django.contrib.auth.models import Permission
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from inventory.models import ApiClient
from tests.api.conftest import make_client
from tests.api.test_counts import MANAGER_PERMS as COUNT_PERMS
from tests.api.test_planning import PLANNING_PERMS
from tests.api.test_presales import PRESALE_PERMS
from tests.api.test_purchasing import PURCHASING_PERMS
from tests.api.test_warehouses import WAREHOUSE_PERMS

pytestmark = pytest.mark.django_db

CONTRACT_OPERATIONS = {
    ("get", "/api/v1/inventory/check/{product_id}"),
    ("post", "/api/v1/inventory/check/batch"),
    ("post", "/api/v1/inventory"),
    ("get", "/api/v1/inventory"),
    ("get", "/api/v1/inventory/product/{product_id}"),
    ("get", "/api/v1/inventory/low-stock"),
    ("post", "/api/v1/inventory/restock"),
    ("post", "/api/v1/inventory/adjust"),
    ("put", "/api/v1/inventory/{product_id}/threshold"),
    ("get", "/api/v1/inventory/logs/{product_id}"),
    ("post", "/api/v1/inventory/reserve"),
    ("post", "/api/v1/inventory/release"),
    ("post", "/api/v1/inventory/deduct"),
    ("post", "/api/v1/inventory/cleanup-expired"),
    ("get", "/api/v1/inventory/reservations"),
    ("get", "/api/v1/warehouses"),
    ("post", "/api/v1/warehouses"),
    ("get", "/api/v1/warehouses/{code}"),
    ("patch", "/api/v1/warehouses/{code}"),
    ("get", "/api/v1/pools"),
    ("post", "/api/v1/pools"),
    ("get", "/api/v1/pools/{code}"),
    ("patch", "/api/v1/pools/{code}"),
    ("get", "/api/v1/inventory/product/{product_id}/levels"),
    ("get", "/api/v1/transfers"),
    ("post", "/api/v1/transfers"),
    ("get", "/api/v1/transfers/{id}"),
    ("post", "/api/v1/transfers/{id}/receive"),
    ("post", "/api/v1/transfers/{id}/cancel"),
    ("put", "/api/v1/inventory/{product_id}/hot"),
    # Purchase orders and available-to-promise (issue 16).
    ("get", "/api/v1/purchase-orders"),
    ("post", "/api/v1/purchase-orders"),
    ("get", "/api/v1/purchase-orders/{id}"),
    ("post", "/api/v1/purchase-orders/{id}/receipts"),
    ("post", "/api/v1/purchase-orders/{id}/close"),
    ("post", "/api/v1/purchase-orders/{id}/cancel"),
    ("get", "/api/v1/inventory/{product_id}/atp"),
    ("post", "/api/v1/inventory/atp"),
    # Quotas (issue 16).
    ("get", "/api/v1/quotas"),
    ("post", "/api/v1/quotas"),
    ("get", "/api/v1/quotas/{code}"),
    ("post", "/api/v1/quotas/{code}/change"),
    ("post", "/api/v1/quotas/{code}/end"),
    # Pre-sale and backorders (issue 16).
    ("get", "/api/v1/presales"),
    ("post", "/api/v1/presales"),
    ("get", "/api/v1/presales/{code}"),
    ("post", "/api/v1/presales/{code}/change"),
    ("post", "/api/v1/presales/{code}/end"),
    ("get", "/api/v1/orders/{order_id}/lines"),
    ("post", "/api/v1/orders/{order_id}/backorders/cancel"),
    # Count sheets (issue 17).
    ("get", "/api/v1/count-sheets"),
    ("post", "/api/v1/count-sheets"),
    ("get", "/api/v1/count-sheets/{id}"),
    ("post", "/api/v1/count-sheets/{id}/counts"),
    ("post", "/api/v1/count-sheets/{id}/approve"),
    ("post", "/api/v1/count-sheets/{id}/post"),
    ("post", "/api/v1/count-sheets/{id}/cancel"),
    ("get", "/api/v1/count-sheets/{id}/report"),
    ("post", "/api/v1/count-sheets/cycle"),
    ("get", "/api/v1/count-sheets/accuracy"),
    # Planning (issue 17).
    ("get", "/api/v1/planning/items"),
    ("get", "/api/v1/planning/items/{product_id}"),
    ("post", "/api/v1/planning/items/{product_id}/terms"),
    ("get", "/api/v1/planning/reorder"),
    ("get", "/api/v1/planning/settings"),
    ("post", "/api/v1/planning/settings/change"),
    # A past day's figures (issue 18).
    ("get", "/api/v1/inventory/{product_id}/history"),
    ("get", "/api/v1/warehouses/{code}/history"),
}
INTERNAL_PATHS = ("/reserve", "/release", "/deduct", "/cleanup-expired", "/reservations")
# An order's own endpoints (its lines, its backorders) are the order application's too.
ORDER_PATHS = "/api/v1/orders/"


def test_schema_documents_every_endpoint_with_its_errors(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    operations = {(method, path) for path, item in document["paths"].items() for method in item}
    assert operations == CONTRACT_OPERATIONS
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert any(code.startswith("2") for code in responses), (method, path)
            assert "400" in responses, (method, path)
            if "/check" in path:
                assert "429" in responses
            else:
                assert {"401", "403"} <= set(responses), (method, path)
            for code, answer in responses.items():
                assert "application/json" in answer["content"], (method, path, code)
                if not code.startswith("2"):
                    assert answer["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Error"
            if method in ("post", "put") and not path.endswith(("cleanup-expired", "/cancel")):
                assert "application/json" in operation["requestBody"]["content"], (method, path)
    assert "tokenAuth" in document["components"]["securitySchemes"]
    codes = document["components"]["schemas"]["ErrorCodeEnum"]["enum"]
    for code in (
        "validation_error",
        "insufficient_stock",
        "idempotency_key_reused",
        "throttled",
        "reservation_expired",
    ):
        assert code in codes


def test_docs_need_no_internet(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    external = [url for url in re.findall(r"""(?:src|href)=["']([^"']+)""", html) if "//" in url]
    assert external == []
    assert "/static/drf_spectacular_sidecar/" in html


# --- schemathesis --------------------------------------------------------------------


@pytest.fixture
def live_schema(db, settings):
    """The schema as the running application serves it, called through WSGI.

    As Django's test client does, the handler must not close the test's database
    connection at the end of each request.
    """
    settings.INVENTORY_PUBLIC_THROTTLE = "100000/minute"
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db):
    from inventory import services

    for product_id in (1, 2, 3, 42):
        services.create_inventory(product_id=product_id, available_stock=1000, actor="fixture")
    staff = make_client("backoffice", "staff")
    # The warehouse and pool endpoints' permissions, beyond a staff client's own (STAFF_CLIENT_PERMISSIONS).
    ApiClient.objects.get(name="backoffice").user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=(*WAREHOUSE_PERMS, *PURCHASING_PERMS, *PRESALE_PERMS, *COUNT_PERMS, *PLANNING_PERMS)
        )
    )
    return {"internal": make_client("order-app", "internal"), "staff": staff}


LOCATION_PATHS = ("/api/v1/warehouses", "/api/v1/pools")
TAKES_NO_INPUT = ("cleanup-expired", "/planning/settings")


def fit_location_rules(case) -> None:
    """What OpenAPI 3.0 cannot state of the warehouse and pool requests, made true of a valid one.

    The code in a PATCH body is the path's (a code never changes), latitude and longitude
    are given together, a pool's warehouses exist, and the pool `all` is never changed.
    """
    code = (case.path_parameters or {}).get("code")
    if code == "all" and case.method == "PATCH":
        case.path_parameters["code"] = "east"
    body = case.body if isinstance(case.body, dict) else {}
    if "code" in body and code is not None:
        body["code"] = case.path_parameters["code"]
    if (body.get("latitude") is None) != (body.get("longitude") is None) or ("latitude" in body) != (
        "longitude" in body
    ):
        body.pop("latitude", None)
        body.pop("longitude", None)
    if body.get("warehouses"):
        body["warehouses"] = ["default"]


def fit_transfer_rules(case) -> None:
    """What OpenAPI cannot state of transfers: a transfer goes between two warehouses, and a
    receipt names only what is in transit (without lines it receives everything)."""
    if case.path.endswith("/receive"):
        case.body.pop("lines", None)
    elif case.path.endswith("/transfers") and case.body.get("from") == case.body.get("to"):
        case.body["to"] = case.body["from"] + "-x" if len(case.body["from"]) < 30 else "default"


def fit_quota_rules(case) -> None:
    """What OpenAPI cannot state of a quota's or a pre-sale's window: it ends after it starts, and in the future."""
    if case.path.startswith(("/api/v1/quotas", "/api/v1/presales")):
        now = datetime.now(UTC)
        for name, moment in (("starts_at", now - timedelta(minutes=1)), ("ends_at", now + timedelta(hours=1))):
            if name in case.body:
                case.body[name] = moment.isoformat()


def fit_planning_rules(case) -> None:
    """What OpenAPI cannot state of the ABC thresholds: A's below B's (both sent: the stored ones do not judge)."""
    if case.path.endswith("/planning/settings/change") and {"a_percent", "b_percent"} & set(case.body):
        a, b = case.body.get("a_percent", 80), case.body.get("b_percent", 95)
        case.body["a_percent"], case.body["b_percent"] = (a, b) if a < b else (1, 100)


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), sorted(CONTRACT_OPERATIONS), ids=lambda value: str(value))
def test_api_conforms_to_its_schema(live_schema, tokens, method, path, mode):
    """No input gives a 5xx, and every answer (status, headers, body) is the one documented."""
    if mode == GenerationMode.NEGATIVE and path.endswith(TAKES_NO_INPUT):
        pytest.skip("takes no input: there is nothing to make invalid")
    operation = live_schema[path][method.upper()]
    role = "internal" if path.rstrip("/").endswith(INTERNAL_PATHS) or path.startswith(ORDER_PATHS) else "staff"

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def conforms(case):
        if mode == GenerationMode.POSITIVE and case.headers and "Idempotency-Key" in case.headers:
            # A valid request under a key already used for another one is rightly a 422.
            case.headers["Idempotency-Key"] = str(uuid.uuid4())
        if mode == GenerationMode.POSITIVE and isinstance(case.body, dict):
            fit_transfer_rules(case)
            fit_quota_rules(case)
            fit_planning_rules(case)
            for lines in ("items", "lines"):
                if isinstance(case.body.get(lines), list):
                    # "Each product once" is a rule JSON Schema cannot state for an array of objects.
                    seen = set()
                    case.body[lines] = [
                        line
                        for line in case.body[lines]
                        if line["product_id"] not in seen and not seen.add(line["product_id"])
                    ]
        if mode == GenerationMode.POSITIVE and path.startswith(LOCATION_PATHS):
            fit_location_rules(case)
        case.call_and_validate(headers={"Authorization": f"Token {tokens[role]}"})

    conforms()
