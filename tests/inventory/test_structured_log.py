import logging

import pytest

from inventory import services
from inventory.exceptions import InsufficientStock

pytestmark = pytest.mark.django_db


def test_each_committed_change_writes_one_json_ready_line(make_item, caplog, django_capture_on_commit_callbacks):
    item = make_item(available_stock=5)
    caplog.set_level(logging.INFO, logger="inventory.stock")

    with django_capture_on_commit_callbacks(execute=True):
        services.reserve_stock(order_id="A-1", lines=[services.ReservationLine(item.product_id, 2)], actor="order-app")

    [line] = [record for record in caplog.records if record.name == "inventory.stock"]
    assert line.getMessage() == "stock_change"
    assert (line.product_id, line.operation, line.quantity, line.order_id, line.actor) == (
        item.product_id,
        "reserve",
        2,
        "A-1",
        "order-app",
    )
    assert (line.available_before, line.available_after, line.reserved_before, line.reserved_after) == (5, 3, 0, 2)


def test_a_refused_change_writes_none(make_item, caplog, django_capture_on_commit_callbacks):
    item = make_item(available_stock=1)
    caplog.set_level(logging.INFO, logger="inventory.stock")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InsufficientStock):
        services.reserve_stock(order_id="A-1", lines=[services.ReservationLine(item.product_id, 2)], actor="x")

    assert not [record for record in caplog.records if record.name == "inventory.stock"]
