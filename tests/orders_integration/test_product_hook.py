import pytest

from inventory.models import Inventory, InventoryLog
from orders_integration.receivers import PRODUCT_HOOK_ACTOR
from orders_integration.signals import product_created

pytestmark = pytest.mark.django_db

PRODUCT_ID = 777_001


def test_a_new_product_gets_its_inventory_record():
    product_created.send(sender=None, product_id=PRODUCT_ID, initial_stock=25, low_stock_threshold=5)

    item = Inventory.objects.get(product_id=PRODUCT_ID)
    assert (item.available_stock, item.reserved_stock, item.low_stock_threshold) == (25, 0, 5)
    entry = InventoryLog.objects.get(product_id=PRODUCT_ID)
    assert (entry.operation, entry.quantity, entry.actor) == ("create", 25, PRODUCT_HOOK_ACTOR)


def test_defaults_to_no_stock_and_the_inventory_default_threshold():
    product_created.send(sender=None, product_id=PRODUCT_ID)

    item = Inventory.objects.get(product_id=PRODUCT_ID)
    assert (item.available_stock, item.low_stock_threshold) == (0, 10)
    assert item.is_low_stock


def test_sent_twice_leaves_one_record_as_the_first_made_it():
    product_created.send(sender=None, product_id=PRODUCT_ID, initial_stock=25)
    product_created.send(sender=None, product_id=PRODUCT_ID, initial_stock=99)

    assert list(Inventory.objects.filter(product_id=PRODUCT_ID).values_list("available_stock", flat=True)) == [25]
    assert InventoryLog.objects.filter(product_id=PRODUCT_ID).count() == 1


def test_is_connected_once():
    assert len(product_created.receivers) == 1
