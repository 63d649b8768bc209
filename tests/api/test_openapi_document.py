"""The OpenAPI document says what the API answers: error codes, bounds, credentials."""

import json

import pytest
import yaml

from inventory.api.errors import error_statuses
from inventory.api.schema import codes_named

pytestmark = pytest.mark.django_db

MAX_PRODUCT_ID = 2**63 - 1
PUBLIC_PATHS = ("/api/v1/inventory/check/{product_id}", "/api/v1/inventory/check/batch")


@pytest.fixture
def document(client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def example_codes(answer: dict) -> list[str]:
    examples = answer["content"]["application/json"].get("examples", {})
    return [example["value"]["error"]["code"] for example in examples.values()]


def test_every_error_answer_has_an_example_of_each_code_its_description_names(document):
    statuses = error_statuses()
    for method, path, operation in operations(document):
        for status, answer in operation["responses"].items():
            if status.startswith("2"):
                continue
            codes = example_codes(answer)
            where = (method, path, status, answer["description"])
            assert codes, where
            assert codes == codes_named(int(status), answer["description"]), where
            assert all(statuses[code] == int(status) for code in codes), where


def test_the_error_examples_of_reserve_show_the_right_codes(document):
    responses = document["paths"]["/api/v1/inventory/reserve"]["post"]["responses"]

    by_status = {status: example_codes(answer) for status, answer in responses.items() if not status.startswith("2")}

    assert by_status["400"] == ["validation_error"]
    assert by_status["401"] == ["not_authenticated"]
    assert by_status["403"] == ["permission_denied"]
    assert by_status["404"] == ["product_not_found", "pool_not_found", "quota_not_found"]
    assert by_status["409"] == ["insufficient_stock", "reservation_exists", "quota_not_active"]
    insufficient = responses["409"]["content"]["application/json"]["examples"]["InsufficientStock"]["value"]
    assert insufficient["error"]["details"]["items"][0].keys() == {"product_id", "requested", "available"}


def test_release_and_deduct_show_reservation_not_found(document):
    for path in ("/api/v1/inventory/release", "/api/v1/inventory/deduct"):
        responses = document["paths"][path]["post"]["responses"]
        assert example_codes(responses["404"]) == ["reservation_not_found"]
    deduct = document["paths"]["/api/v1/inventory/deduct"]["post"]["responses"]
    assert example_codes(deduct["409"]) == ["reservation_not_active", "reservation_expired"]


@pytest.mark.parametrize("format_", ["json", "yaml"])
def test_the_product_id_bound_is_the_exact_integer(client, format_):
    response = client.get(f"/api/schema/?format={format_}")
    text = response.content.decode()
    parsed = json.loads(text) if format_ == "json" else yaml.safe_load(text)

    assert "9223372036854776000" not in text
    assert "9223372036854775807" in text
    bounds = []
    for _method, _path, operation in operations(parsed):
        for parameter in operation.get("parameters", []):
            if parameter["name"] == "product_id":
                bounds.append(parameter["schema"])
                assert "9223372036854775807" in parameter["description"]  # shown exactly by the docs' JavaScript
    for component in parsed["components"]["schemas"].values():
        product_id = component.get("properties", {}).get("product_id", {})
        if "maximum" in product_id:
            bounds.append(product_id)
    assert len(bounds) > 10
    for schema in bounds:
        assert type(schema["maximum"]) is int
        assert schema["maximum"] == MAX_PRODUCT_ID
        assert schema["format"] == "int64"


def test_public_endpoints_need_no_credentials_and_the_others_a_token(document):
    for method, path, operation in operations(document):
        if path in PUBLIC_PATHS:
            assert operation["security"] == [], (method, path)
        else:
            assert {"tokenAuth": []} in operation["security"], (method, path)
            assert {} not in operation["security"], (method, path)


def test_the_token_scheme_says_its_prefix_is_token(document):
    scheme = document["components"]["securitySchemes"]["tokenAuth"]

    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert "`Authorization: Token <key>`" in scheme["description"]
    assert "not `Bearer`" in scheme["description"]
    assert 'prefix="Token"' in scheme["description"]
