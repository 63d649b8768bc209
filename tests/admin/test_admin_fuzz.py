"""The admin never answers 5xx: its GET parameters and its forms driven with hostile text (Hypothesis).

Every request goes through django.test.Client, which re-raises any exception a view
lets out, so a 500 fails the test with its traceback. Each test runs as a superuser
and as a clerk (the "Warehouse staff" group). The number of examples is the
Hypothesis profile's (tests/conftest.py: `ci` 300 per test and user, `dev` 40).
"""

from urllib.parse import quote

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory import services
from inventory.models import Inventory, InventoryLog

# Function-scoped fixtures (the database, the users) are set up once per test and
# shared by its examples: every example only reads, or changes stock through the
# services, which keep the books whatever the order.
FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)

TRICKY = [
    "",
    " ",
    "0",
    "-1",
    "1",
    "²",
    "\u0661\u0662",  # Arabic-Indic 12: int() reads it
    "\U0001d7d9",  # a mathematical 1: isdigit() takes it, int() too
    "1e9",
    "1.5",
    "0x10",
    "1_000",
    " +7",
    "\x00",
    "1\x00",
    "A\x00",
    "9" * 5000,
    str(2**62),
    str(2**63),
    str(-(2**63) - 1),
    str(10**30),
    "x" * 200,
    "%",
    "null",
    "true",
    "2026-13-45",
    "9999-12-31 23:59:59",
    "0001-01-01",
    "2026-01-01T00:00:00+99:00",
    "created_at",
    "-product_id",
    "<script>",
    "' OR 1=1 --",
    "A-1001",
]
hostile_text = st.one_of(
    st.sampled_from(TRICKY),
    st.sampled_from(TRICKY),  # twice: the values known to trip a parser come up more often
    st.text(max_size=12),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.lists(st.sampled_from(TRICKY), min_size=2, max_size=3).map("".join),
)
# What a crafted URL can carry beyond what a browser would encode: lone and broken escapes.
RAW_ESCAPES = ["%", "%2", "%zz", "%00", "%C0%AF", "%FF%FE", "%ED%A0%80", "%E2%82", "+", "%2B", "&", "="]
query_value = st.one_of(hostile_text.map(lambda text: quote(text, safe="")), st.sampled_from(RAW_ESCAPES))

# The GET parameters each page reads: Django's own on every list (search, order, page,
# the error flag, "all", the preserved filters, popups), each list filter's, the pages'
# own; and a few no page knows. Each example sends some of its page's.
LIST_PARAMETERS = ["q", "o", "p", "e", "all", "_changelist_filters", "_to_field", "_popup", "no_such_field"]
PAGE_PARAMETERS = {
    "inventory_inventory_changelist": [*LIST_PARAMETERS, "stock", "reserved", "product_id__gt"],
    "inventory_inventory_export": [*LIST_PARAMETERS, "stock", "reserved"],
    "inventory_inventorylog_changelist": [
        *LIST_PARAMETERS,
        "operation__exact",
        "actor",
        "created_at__gte",
        "created_at__lt",
    ],
    "inventory_reservation_changelist": [*LIST_PARAMETERS, "status__exact", "expiry"],
    "inventory_apiclient_changelist": [*LIST_PARAMETERS, "role__exact", "is_active__exact"],
    "inventory_dashboard": ["product"],
    "inventory_inventory_change": ["log_page", "_to_field", "_changelist_filters", "_popup"],
}
OTHER_PAGE_PARAMETERS = ["_to_field", "_changelist_filters", "_popup", "q", "p", "o", "product", "log_page"]

LISTS_WITH_ACTIONS = {"reservation": ["release_selected"], "apiclient": ["delete_selected"], "inventorylog": []}


@pytest.fixture
def world(item):
    """Three items with log entries and reservations in every state."""
    items = [item(available_stock=50, low_stock_threshold=5) for _ in range(3)]
    services.restock(product_id=items[0].product_id, quantity=5, actor="setup", reason="delivery")
    for number, product in enumerate(items):
        services.reserve_stock(
            order_id=f"F-{number}",
            lines=[services.ReservationLine(product.product_id, 2)],
            ttl_seconds=600,
            actor="order-app",
        )
    services.release_reservations(order_id="F-1", actor="order-app")
    services.deduct_reservations(order_id="F-2", actor="order-app")
    return items


@pytest.fixture(params=["superuser", "staff"])
def person(request, client_for, warehouse_groups):
    """A superuser, and a clerk of the "Warehouse staff" group."""
    return client_for(request.getfixturevalue(request.param))


def pages(items: list[Inventory]) -> dict[str, list[str]]:
    """Every page of the admin, each with the GET parameters it reads."""
    pk = items[0].pk
    known = {
        reverse(f"admin:{name}", args=[pk] if name.endswith("_change") else []): names
        for name, names in PAGE_PARAMETERS.items()
    }
    others = [
        reverse("admin:index"),
        reverse("admin:inventory_inventory_import"),
        reverse("admin:inventory_inventory_add"),
        *(reverse(f"admin:inventory_inventory_{name}", args=[pk]) for name in ("restock", "adjust", "threshold")),
        reverse("admin:inventory_inventorylog_change", args=[InventoryLog.objects.order_by("id").first().pk]),
        *every_registered_screen(),
    ]
    return {
        **{
            url: LIST_PARAMETERS if url.endswith("/") and url.count("/") == 4 else OTHER_PAGE_PARAMETERS
            for url in others
        },
        **known,
    }


def every_registered_screen() -> list[str]:
    """Each registered model's list, and the page of its first object (the other apps' screens too)."""
    urls = []
    for model in admin.site._registry:
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls.append(reverse(f"{name}_changelist"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(reverse(f"{name}_change", args=[first.pk]))
    return urls


def assert_answered(response) -> None:
    assert response.status_code < 500, response.status_code
    if response.streaming:
        b"".join(response.streaming_content)  # an export fails while it streams, not before


# Django's own list switches (error flag, "all", popups) are left to the random test below.
SWEPT_PARAMETERS = {
    name: [n for n in names if n not in ("e", "all", "_popup")] for name, names in PAGE_PARAMETERS.items()
}


@pytest.mark.parametrize("page", sorted(SWEPT_PARAMETERS))
def test_each_parameter_of_the_inventory_pages_with_each_tricky_value(client_for, superuser, world, page):
    """A sweep, not a sample: a 500 that one value of one parameter of one page causes is rare in a random draw."""
    client = client_for(superuser)
    url = reverse(f"admin:{page}", args=[world[0].pk] if page.endswith("_change") else [])
    for name in SWEPT_PARAMETERS[page]:
        for value in [*(quote(text, safe="") for text in TRICKY), *RAW_ESCAPES]:
            assert_answered(client.get(f"{url}?{name}={value}"))


@FUZZ
@given(data=st.data())
def test_get_parameters_of_every_page(person, world, data):
    every_page = pages(world)
    page = data.draw(st.sampled_from(sorted(every_page)), label="page")
    names = data.draw(st.lists(st.sampled_from(every_page[page]), min_size=1, max_size=3), label="parameters")
    query = "&".join(f"{name}={data.draw(query_value, label=name)}" for name in names)
    assert_answered(person.get(f"{page}?{query}"))


@FUZZ
@given(object_id=hostile_text, form=st.sampled_from(["change", "restock", "adjust", "threshold", "history"]))
def test_an_object_id_in_the_path(person, world, object_id, form):
    assert_answered(person.get(f"/admin/inventory/inventory/{quote(object_id, safe='')}/{form}/"))


def form_data(draw, fields: list[str]) -> dict[str, str]:
    return {field: draw(hostile_text, label=field) for field in draw(st.lists(st.sampled_from(fields), unique=True))}


@FUZZ
@given(data=st.data())
def test_the_stock_forms(person, world, data):
    product = world[0]
    name, fields = data.draw(
        st.sampled_from(
            [
                ("restock", ["quantity", "reason", "reference"]),
                ("adjust", ["delta", "counted", "reason", "reference", "version"]),
                ("threshold", ["low_stock_threshold", "reason", "version"]),
            ]
        ),
        label="form",
    )
    body = form_data(data.draw, fields)
    assert_answered(person.post(reverse(f"admin:inventory_inventory_{name}", args=[product.pk]), body))


@FUZZ
@given(data=st.data())
def test_bulk_threshold_actions_and_add(person, world, data):
    keys = [str(product.pk) for product in world]
    ids = data.draw(st.lists(st.one_of(st.sampled_from(keys), hostile_text), max_size=4), label="ids")
    body = form_data(data.draw, ["low_stock_threshold", "reason"])
    target = data.draw(st.sampled_from(["bulk", "action", "add", *LISTS_WITH_ACTIONS]), label="target")
    if target == "bulk":
        response = person.post(reverse("admin:inventory_inventory_bulk_threshold"), {**body, "ids": ids})
    elif target == "action":
        response = person.post(
            reverse("admin:inventory_inventory_changelist"),
            {"action": "set_threshold_of_selected", "_selected_action": ids, **body},
        )
    elif target in LISTS_WITH_ACTIONS:
        response = person.post(
            reverse(f"admin:inventory_{target}_changelist"),
            {"action": data.draw(st.sampled_from(LISTS_WITH_ACTIONS[target] + TRICKY)), "_selected_action": ids},
        )
    else:
        response = person.post(
            reverse("admin:inventory_inventory_add"),
            form_data(data.draw, ["product_id", "available_stock", "low_stock_threshold"]),
        )
    assert_answered(response)


def csv_text(draw) -> str:
    header = draw(st.sampled_from(["product_id,quantity", "product_id,counted,reason,reference", "", "\x00"]))
    cell = st.one_of(hostile_text, st.just("r" * (130 * 1024)), st.sampled_from(['"', '"a', 'a"b', "\r", "\n"]))
    rows = draw(st.lists(st.lists(cell, max_size=4), max_size=3))
    return "\n".join([header, *(",".join(row) for row in rows)])


@FUZZ
@given(data=st.data())
def test_the_csv_import(person, world, data):
    text = csv_text(data.draw)
    kind = data.draw(st.sampled_from(["restock", "counted", *TRICKY]), label="kind")
    reason = data.draw(hostile_text, label="reason")
    url = reverse("admin:inventory_inventory_import")
    if data.draw(st.booleans(), label="preview"):
        upload = SimpleUploadedFile("stock.csv", text.encode("utf-8", "surrogatepass"), "text/csv")
        response = person.post(url, {"kind": kind, "reason": reason, "file": upload})
    else:
        response = person.post(url, {"kind": kind, "reason": reason, "content": text})
    assert_answered(response)
