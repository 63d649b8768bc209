import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse

from inventory import services

pytestmark = pytest.mark.django_db

RECIPIENTS = ["ops@example.com", "buyer@example.com"]


@pytest.fixture(autouse=True)
def _recipients(settings):
    settings.INVENTORY_LOW_STOCK_RECIPIENTS = RECIPIENTS
    settings.INVENTORY_BASE_URL = "https://stock.example.com"


def send_digest() -> str:
    out = StringIO()
    call_command("send_low_stock_digest", stdout=out)
    return out.getvalue()


def admin_link(item) -> str:
    return "https://stock.example.com" + reverse("admin:inventory_inventory_change", args=[item.pk])


def test_sends_nothing_and_says_so_when_no_item_is_low(make_item):
    make_item(available_stock=11, low_stock_threshold=10)

    assert send_digest() == "No item is low on stock: nothing sent.\n"
    assert mail.outbox == []


def test_lists_every_low_item_most_urgent_first_in_one_email(make_item, actor):
    few = make_item(available_stock=4, low_stock_threshold=5)
    services.reserve_stock(order_id="D-1", lines=[services.ReservationLine(few.product_id, 1)], actor=actor)
    none_left = make_item(available_stock=0, low_stock_threshold=5)
    at_threshold = make_item(available_stock=5, low_stock_threshold=5)
    make_item(available_stock=6, low_stock_threshold=5)

    assert send_digest() == "Listed 3 low-stock item(s) to ops@example.com, buyer@example.com.\n"

    (message,) = mail.outbox
    assert message.to == RECIPIENTS
    assert message.subject == "Low stock: 3 item(s)"
    listed = [int(product_id) for product_id in re.findall(r"^Product (\d+):", message.body, re.MULTILINE)]
    assert listed == [none_left.product_id, few.product_id, at_threshold.product_id]
    assert f"Product {few.product_id}: 3 available, 1 reserved, threshold 5, low since 20" in message.body
    assert admin_link(few) in message.body
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    for item in (none_left, few, at_threshold):
        assert f'<a href="{admin_link(item)}">{item.product_id}</a>' in html


def test_fails_when_items_are_low_but_nobody_is_to_be_told(settings, make_item):
    settings.INVENTORY_LOW_STOCK_RECIPIENTS = []
    make_item(available_stock=0, low_stock_threshold=5)

    with pytest.raises(CommandError, match="INVENTORY_LOW_STOCK_RECIPIENTS is empty"):
        send_digest()
    assert mail.outbox == []
