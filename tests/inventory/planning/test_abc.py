from decimal import Decimal

import pytest

from inventory.exceptions import InvalidInput
from inventory.planning.abc import AbcClass, AbcItem, classify, classify_by

A, B, C = AbcClass.A, AbcClass.B, AbcClass.C


def test_known_answer_by_units():
    # Total 200. Ranked: p1 100 (before 0 %), p2 60 (50 %), p3 20 (80 % -> B), p4 10 (90 %),
    # p5 6 (95 % -> C), p6 4 (98 %), p7 0 (zero demand).
    figures = {"p4": 10, "p1": 100, "p6": 4, "p3": 20, "p7": 0, "p2": 60, "p5": 6}
    assert classify(figures) == {"p1": A, "p2": A, "p3": B, "p4": B, "p5": C, "p6": C, "p7": C}


def test_crossing_item_stays_in_its_class():
    # 70 then 20: the second item starts at 70 % (< 80 %), so it is A though it ends at 90 %.
    assert classify({"x": 70, "y": 20, "z": 10}) == {"x": A, "y": A, "z": B}


def test_threshold_hit_exactly_closes_the_class():
    assert classify({"a": 50, "b": 30, "c": 15, "d": 5}) == {"a": A, "b": A, "c": B, "d": C}


def test_edges_empty_all_zero_one_item():
    assert classify({}) == {}
    assert classify({"a": 0, "b": 0}) == {"a": C, "b": C}
    assert classify({"only": 3}) == {"only": A}


def test_ties_broken_by_key_whatever_the_input_order():
    forward = classify({"b": 10, "a": 10, "c": 10, "d": 10, "e": 10}, a_percent=30, b_percent=60)
    backward = classify({"e": 10, "d": 10, "c": 10, "b": 10, "a": 10}, a_percent=30, b_percent=60)
    assert forward == backward == {"a": A, "b": A, "c": B, "d": C, "e": C}


def test_thresholds_are_editable():
    assert classify({"a": 50, "b": 30, "c": 20}, a_percent=50, b_percent=100) == {"a": A, "b": B, "c": B}


@pytest.mark.parametrize(("a", "b"), [(0, 95), (80, 80), (90, 80), (80, 101), (-1, 50), (True, 95), ("x", 95)])
def test_invalid_thresholds(a, b):
    with pytest.raises(InvalidInput):
        classify({"a": 1}, a_percent=a, b_percent=b)


@pytest.mark.parametrize("figure", [-1, 1.5, True, None])
def test_invalid_figures(figure):
    with pytest.raises(InvalidInput):
        classify({"a": figure})


def test_classify_by_value_excludes_items_without_unit_value():
    items = [
        AbcItem("cheap-many", 100, Decimal("1.00")),  # value 100
        AbcItem("dear-few", 5, Decimal("100.00")),  # value 500
        AbcItem("mid", 10, Decimal("5")),  # value 50
        AbcItem("unknown", 1000, None),
    ]
    by_units = classify_by(items, "units")
    assert by_units.classes == {"unknown": A, "cheap-many": B, "mid": C, "dear-few": C}
    assert by_units.excluded == {}
    by_value = classify_by(items, "value")
    # Total 650: dear-few 0 % -> A, cheap-many 76.9 % -> A, mid 92.3 % -> B.
    assert by_value.classes == {"dear-few": A, "cheap-many": A, "mid": B}
    assert by_value.excluded == {"unknown": "no unit value"}


def test_classify_by_rejects_bad_input():
    with pytest.raises(InvalidInput):
        classify_by([AbcItem("a", 1)], "weight")
    with pytest.raises(InvalidInput):
        classify_by([AbcItem("a", 1), AbcItem("a", 2)])
    with pytest.raises(InvalidInput):
        classify_by([AbcItem("a", 1, Decimal(-1))], "value")
