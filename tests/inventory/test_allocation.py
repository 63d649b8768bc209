"""Allocation on hand-made geographies: which levels a line tries, in which order, and the plan."""

import pytest

from inventory.services.allocation import Candidate, Destination, Part, haversine_km, ordered, plan

SHANGHAI = (31.23, 121.47)
BEIJING = (39.90, 116.40)
GUANGZHOU = (23.13, 113.26)
HANGZHOU = (30.27, 120.16)


def candidate(code: str, available: int, *, priority: int = 0, at=None, region: str = "", product_id: int = 1):
    latitude, longitude = at or (None, None)
    return Candidate(
        row_id=hash(code) % 1000,
        product_id=product_id,
        warehouse_id=abs(hash(code)) % 1000,
        bucket=0,
        available=available,
        warehouse_code=code,
        priority=priority,
        region=region,
        latitude=latitude,
        longitude=longitude,
    )


def codes(found):
    return [c.warehouse_code for c in found]


def test_haversine_of_known_cities():
    assert haversine_km(SHANGHAI, BEIJING) == pytest.approx(1068, abs=5)
    assert haversine_km(SHANGHAI, SHANGHAI) == 0


def test_priority_then_code():
    found = [candidate("b", 5, priority=1), candidate("c", 5, priority=0), candidate("a", 5, priority=1)]
    assert codes(ordered(found, "priority")) == ["c", "a", "b"]


def test_most_stock_first_ties_by_priority():
    found = [candidate("a", 5, priority=2), candidate("b", 9), candidate("c", 5, priority=1)]
    assert codes(ordered(found, "most_stock")) == ["b", "c", "a"]


def test_nearest_sorts_by_great_circle_distance():
    found = [candidate("bj", 5, at=BEIJING), candidate("gz", 5, at=GUANGZHOU), candidate("sh", 5, at=SHANGHAI)]
    to_hangzhou = Destination(latitude=HANGZHOU[0], longitude=HANGZHOU[1])
    assert codes(ordered(found, "nearest", to_hangzhou)) == ["sh", "gz", "bj"]


def test_nearest_ties_by_priority_and_puts_warehouses_without_coordinates_last():
    found = [
        candidate("nowhere", 5, priority=-5),
        candidate("twin-b", 5, priority=2, at=SHANGHAI),
        candidate("twin-a", 5, priority=1, at=SHANGHAI),
    ]
    destination = Destination(latitude=HANGZHOU[0], longitude=HANGZHOU[1])
    assert codes(ordered(found, "nearest", destination)) == ["twin-a", "twin-b", "nowhere"]


def test_nearest_without_coordinates_prefers_the_destinations_region():
    found = [candidate("n", 5, region="north"), candidate("e", 5, region="east", priority=3)]
    assert codes(ordered(found, "nearest", Destination(region="east"))) == ["e", "n"]
    assert codes(ordered(found, "nearest", Destination())) == ["n", "e"]


def test_a_line_goes_whole_to_the_first_warehouse_that_can_hold_it():
    found = [candidate("a", 2), candidate("b", 5, priority=1), candidate("c", 9, priority=2)]
    result = plan([(1, 4)], found, strategy="priority")
    assert result.short == {}
    assert [p.quantity for p in result.parts[1]] == [4]
    assert result.parts[1][0].warehouse_id == found[1].warehouse_id


def test_a_line_no_warehouse_can_hold_is_split_in_order():
    found = [candidate("a", 2), candidate("b", 0, priority=1), candidate("c", 3, priority=2)]
    result = plan([(1, 4)], found, strategy="priority")
    assert result.parts[1] == [Part(1, found[0].warehouse_id, 2), Part(1, found[2].warehouse_id, 2)]


def test_split_false_makes_such_a_line_short_with_the_pools_units():
    found = [candidate("a", 2), candidate("c", 3, priority=2)]
    result = plan([(1, 4)], found, strategy="priority", split=False)
    assert result.short == {1: 5}
    assert 1 not in result.parts


def test_a_line_beyond_the_whole_pool_is_short():
    result = plan([(1, 6), (2, 1)], [candidate("a", 5), candidate("a", 1, product_id=2)], strategy="priority")
    assert result.short == {1: 5}
    assert [p.quantity for p in result.parts[2]] == [1]


def test_a_product_without_levels_in_the_pool_is_short_of_everything():
    assert plan([(7, 1)], [], strategy="nearest").short == {7: 0}
