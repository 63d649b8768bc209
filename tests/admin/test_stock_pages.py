"""The stock form pages as people see them: row links, focus, marks, reasons, limits, admin history."""

import re

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from inventory import limits
from inventory.admin.forms import ADJUST_REASONS, AdjustForm
from inventory.models import Inventory
from tests.admin.test_stock_forms import last_entry, url

CHANGELIST = reverse("admin:inventory_inventory_changelist")
FIRST_FIELDS = {"restock": "quantity", "adjust": "delta", "threshold": "low_stock_threshold"}
# Delta and counted are one-of, so neither alone is required.
REQUIRED = {"restock": {"quantity"}, "adjust": {"reason"}, "threshold": {"low_stock_threshold"}}


def input_tag(html: str, name: str) -> str:
    return re.search(rf'<(?:input|textarea|select)[^>]*name="{name}"[^>]*>', html).group(0)


@pytest.mark.parametrize(
    ("user_fixture", "allowed"),
    [
        ("viewer", []),
        ("staff", ["restock"]),
        ("manager", ["restock", "adjust", "threshold"]),
        ("superuser", ["restock", "adjust", "threshold"]),
    ],
)
def test_the_list_links_each_row_to_the_forms_the_person_may_use(request, client_for, item, user_fixture, allowed):
    products = [item(), item()]
    page = client_for(request.getfixturevalue(user_fixture)).get(CHANGELIST).content.decode()
    for product in products:
        for name in FIRST_FIELDS:
            link = f'<a href="{url(name, product)}" class="stock-form-link">{name.capitalize()}</a>'
            assert (link in page) == (name in allowed)
    assert ("change stock" in page.lower()) == bool(allowed)


@pytest.mark.parametrize(("name", "first_field"), FIRST_FIELDS.items())
def test_each_form_focuses_its_first_field_marks_required_ones_and_cancels_to_the_item(
    client_for, manager, item, name, first_field
):
    product = item()
    html = client_for(manager).get(url(name, product)).content.decode()
    assert "autofocus" in input_tag(html, first_field)
    assert html.count("autofocus") == 1
    labels = dict(re.findall(r'<label for="id_(\w+)"( class="required")?>', html))
    assert {field for field, required in labels.items() if required} == REQUIRED[name]
    assert "Fields in bold are required." in html
    cancel = f'<a href="{reverse("admin:inventory_inventory_change", args=[product.pk])}" class="closelink">Cancel</a>'
    assert cancel in html


@pytest.mark.parametrize("name", ["adjust", "threshold"])
def test_the_version_is_a_hidden_input_and_not_shown(client_for, manager, item, name):
    product = item()
    html = client_for(manager).get(url(name, product)).content.decode()
    assert f'<input type="hidden" name="version" value="{product.version}"' in html
    assert "Version" not in html
    assert 'for="id_version"' not in html


def test_the_threshold_form_starts_from_the_current_threshold(client_for, manager, item):
    product = item(low_stock_threshold=7)
    html = client_for(manager).get(url("threshold", product)).content.decode()
    assert 'value="7"' in input_tag(html, "low_stock_threshold")
    assert re.search(r"Low-stock threshold<strong>7</strong>", html)


def test_the_adjust_form_offers_standard_reasons_and_takes_any_text(client_for, manager, item):
    client = client_for(manager)
    product = item(available_stock=10)
    html = client.get(url("adjust", product)).content.decode()
    assert ADJUST_REASONS == ("received", "damaged", "lost", "found", "correction", "return")
    datalist = re.search(r'<datalist id="([^"]+)">(.*?)</datalist>', html, re.S)
    assert f'list="{datalist.group(1)}"' in input_tag(html, "reason")
    assert re.findall(r'<option value="([^"]+)"', datalist.group(2)) == list(ADJUST_REASONS)

    for reason in ("damaged", "found behind the shelf"):
        product.refresh_from_db()
        response = client.post(url("adjust", product), {"delta": -1, "reason": reason, "version": product.version})
        assert response.status_code == 302
        assert last_entry(product).reason == reason


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "r"}, "Give a change or a counted quantity."),
        ({"delta": 1, "counted": 4, "reason": "r"}, "Give either a change or a counted quantity, not both."),
    ],
)
def test_the_change_or_count_message_fits_what_was_given(client_for, manager, item, data, message):
    product = item()
    response = client_for(manager).post(url("adjust", product), {**data, "version": product.version})
    assert response.context["form"].non_field_errors() == [message]


def test_a_delta_of_zero_records_a_count_that_confirmed_the_figure(client_for, manager, item):
    product = item(available_stock=10)
    response = client_for(manager).post(
        url("adjust", product), {"delta": 0, "reason": "correction", "version": product.version}
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.available_stock, product.version) == (10, 2)
    entry = last_entry(product)
    assert (entry.operation, entry.quantity, entry.reason) == ("adjust", 0, "correction")


@pytest.mark.parametrize(
    ("delta", "accepted"),
    [
        (limits.MAX_QUANTITY, True),
        (limits.MAX_QUANTITY + 1, False),
        (-limits.MAX_QUANTITY - 1, False),
    ],
)
def test_the_delta_range_is_the_apis(client_for, manager, item, delta, accepted):
    product = item(available_stock=10)
    response = client_for(manager).post(url("adjust", product), {"delta": delta, "reason": "r", "version": 1})
    assert (response.status_code == 302) == accepted
    if not accepted:
        assert response.context["form"].errors["delta"]
    delta_field = AdjustForm.base_fields["delta"]
    assert (delta_field.min_value, delta_field.max_value) == (-limits.MAX_QUANTITY, limits.MAX_QUANTITY)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("restock", {"quantity": 3, "reason": "delivery"}),
        ("adjust", {"delta": -2, "reason": "damaged", "version": 1}),
        ("threshold", {"low_stock_threshold": 9, "version": 1}),
    ],
)
def test_a_change_through_a_form_is_in_the_admin_history(client_for, manager, item, name, data):
    product = item(available_stock=10)
    client = client_for(manager)

    assert client.post(url(name, product), data).status_code == 302

    entry = LogEntry.objects.get()
    assert (entry.action_flag, entry.user, entry.object_id) == (CHANGE, manager, str(product.pk))
    assert entry.content_type == ContentType.objects.get_for_model(Inventory)
    assert f"product {product.product_id}" in entry.get_change_message()
    assert entry.get_change_message() in client.get(url("history", product)).content.decode()
    assert str(product) in client.get(reverse("admin:index")).content.decode()  # "Recent actions"


def test_a_refused_change_is_not_in_the_admin_history(client_for, manager, item):
    product = item(available_stock=2)
    client_for(manager).post(url("adjust", product), {"delta": -5, "reason": "lost", "version": 1})
    assert not LogEntry.objects.exists()
