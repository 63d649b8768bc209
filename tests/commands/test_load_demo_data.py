from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from inventory.management.demo_network import POOL, SITES
from inventory.models import Inventory, Pool, PoolStrategy, StockLevel, Warehouse
from inventory.selectors import ledger_discrepancies

pytestmark = pytest.mark.django_db


def load() -> str:
    out = StringIO()
    call_command("load_demo_data", stdout=out)
    return out.getvalue()


def test_stocks_three_warehouses_in_three_regions_and_a_nearest_pool(settings):
    settings.DEBUG = True

    said = load()

    codes = [site.code for site in SITES]
    assert "40 new product(s), 40 in all, in sh-1, bj-1, gz-1" in said
    assert set(Warehouse.objects.filter(code__in=codes).values_list("region", flat=True)) == {"east", "north", "south"}
    pool = Pool.objects.get(code=POOL)
    assert (pool.strategy, sorted(pool.warehouses.values_list("code", flat=True))) == (
        PoolStrategy.NEAREST,
        sorted(codes),
    )
    demo = Inventory.objects.filter(product_id__range=(1001, 1040))
    assert demo.count() == 40
    assert sum(item.is_low_stock for item in demo) == 10
    levels = StockLevel.objects.filter(product_id__in=range(1001, 1041))
    assert set(levels.values_list("warehouse__code", flat=True)) == set(codes)  # none in `default`
    assert levels.count() > 40  # most products are in more than one warehouse
    assert list(ledger_discrepancies()) == []


def test_a_second_run_adds_nothing(settings):
    settings.DEBUG = True
    load()
    levels = sorted(StockLevel.objects.values_list("product_id", "warehouse_id", "available_stock"))

    said = load()

    assert "0 new product(s), 40 in all" in said
    assert sorted(StockLevel.objects.values_list("product_id", "warehouse_id", "available_stock")) == levels
    assert Pool.objects.filter(code=POOL).count() == 1


def test_refused_unless_debug(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DJANGO_DEBUG=1"):
        load()
