"""The batch check's fast path reads a body exactly as BatchCheckInputSerializer does."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer

from inventory import limits
from inventory.api.serializers.stock import (
    BatchCheckInputSerializer,
    BatchCheckSerializer,
    well_formed_batch_lines,
)
from inventory.selectors.checks import check_products
from tests.api.conftest import API

EDGES = [
    0,
    1,
    2,
    -1,
    limits.MAX_QUANTITY,
    limits.MAX_QUANTITY + 1,
    limits.MAX_PRODUCT_ID,
    limits.MAX_PRODUCT_ID + 1,
    -(2**63),
    2**64,
]
numbers = st.sampled_from(EDGES) | st.integers()
not_integers = st.booleans() | st.floats(allow_nan=False) | st.sampled_from([2.0, "2", "", None, [], {}]) | st.text()
values = numbers | numbers | not_integers
good_item = st.fixed_dictionaries(
    {"product_id": st.integers(1, limits.MAX_PRODUCT_ID)},
    optional={"quantity": st.integers(1, limits.MAX_QUANTITY), "note": values},
)
any_item = (
    good_item
    | st.fixed_dictionaries({}, optional={"product_id": values, "quantity": values, "note": values})
    | st.sampled_from([None, 1, "x", [], [{"product_id": 1}]])
)
# Well-formed lists, lists with anything in them, and lists around the 200-item limit.
items = (
    st.lists(good_item, min_size=1, max_size=4)
    | st.lists(any_item, max_size=4)
    | st.builds(
        lambda line, size: [line] * size,
        any_item,
        st.sampled_from([limits.MAX_BATCH_ITEMS - 1, limits.MAX_BATCH_ITEMS, limits.MAX_BATCH_ITEMS + 1]),
    )
)
bodies = (
    st.fixed_dictionaries({"items": items}, optional={"other": values})
    | st.fixed_dictionaries({}, optional={"other": values})
    | st.sampled_from([None, [], "items", 1, [{"items": []}]])
    | st.builds(lambda lines: {"items": lines}, values)
)


@settings(max_examples=500)
@given(bodies)
def test_the_fast_path_accepts_what_the_serializer_accepts_with_the_same_lines(body):
    serializer = BatchCheckInputSerializer(data=body)
    lines = well_formed_batch_lines(body)
    if serializer.is_valid():
        assert lines == [(line["product_id"], line["quantity"]) for line in serializer.validated_data["items"]]
    else:
        assert lines is None


def test_a_well_formed_body_takes_the_fast_path():
    body = {
        "items": [
            {"product_id": limits.MAX_PRODUCT_ID},
            {"product_id": 1, "quantity": limits.MAX_QUANTITY, "note": "x"},
        ]
    }
    assert well_formed_batch_lines(body) == [(limits.MAX_PRODUCT_ID, 1), (1, limits.MAX_QUANTITY)]


@pytest.mark.parametrize(
    "body",
    [
        {"items": [{"product_id": 1}, {"product_id": 1, "quantity": True}]},
        {"items": [{"product_id": 1}] * (limits.MAX_BATCH_ITEMS + 1)},
        {"items": [{"quantity": 1}]},
        [],
    ],
)
def test_a_refused_body_gets_the_serializers_errors(anon, body):
    response = anon.post(f"{API}/inventory/check/batch", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    serializer = BatchCheckInputSerializer(data=body)
    assert not serializer.is_valid()
    assert response.json()["error"]["details"] == json.loads(JSONRenderer().render(serializer.errors))


def test_the_answer_is_byte_for_byte_what_the_output_serializer_renders(anon, product):
    product(1, 10)
    product(2, 0)
    body = {"items": [{"product_id": 2}, {"product_id": 99, "quantity": 3}, {"product_id": 1, "quantity": 10}]}
    response = anon.post(f"{API}/inventory/check/batch", json.dumps(body), content_type="application/json")
    assert response.status_code == 200
    result = check_products(lines=[(2, 1), (99, 3), (1, 10)])
    assert response.content == JSONRenderer().render(BatchCheckSerializer(result).data)
