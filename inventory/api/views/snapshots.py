"""A past day's figures for staff (issue 18): a product's levels, or a warehouse's, at the end of a day (UTC),
answered from the daily snapshots plus the ledger since (docs/snapshots.md)."""

import re
from datetime import date

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory.api.permissions import StaffActionPermission
from inventory.api.schema import LIST, PRODUCT_NOT_FOUND, PROTECTED, errors, product_id_path_parameter
from inventory.api.serializers.snapshots import LevelOnDaySerializer, ProductOnDaySerializer
from inventory.api.views.base import ApiViewSet
from inventory.api.views.warehouses import code_path_parameter, path_code
from inventory.replica import replica_reads
from inventory.selectors.snapshots import figures_of, levels_existing_on, product_on
from inventory.services.stock import warehouse_id_of

VIEW = "inventory.view_inventory"
HISTORY_QUERY = {"date"}
WAREHOUSE_HISTORY_QUERY = {"date", "page", "page_size"}
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
DATE_QUERY = OpenApiParameter(
    "date",
    {"type": "string", "format": "date"},
    required=True,
    description="The day (YYYY-MM-DD, UTC) whose end the figures are of. Today, or a later day: the figures now "
    "(the ledger holds nothing later); a day before a level opened does not list it (before every level: zeros).",
)
HOW = (
    "Each row's latest daily snapshot at or before the day, moved on by the ledger entries after it created "
    "before the day's end (an entry belongs to the day its transaction started). Available and reserved only: "
    "the units in transit and those quotas set aside are not kept per day."
)
PRODUCT_EXAMPLE = OpenApiExample(
    "Two warehouses at the end of 2 December",
    response_only=True,
    value={
        "product_id": 42,
        "date": "2026-12-02",
        "available_stock": 130,
        "reserved_stock": 6,
        "total_stock": 136,
        "levels": [
            {"product_id": 42, "warehouse": "sh-1", "available_stock": 100, "reserved_stock": 6, "total_stock": 106},
            {"product_id": 42, "warehouse": "bj-1", "available_stock": 30, "reserved_stock": 0, "total_stock": 30},
        ],
    },
)


def history_date(request, allowed: set[str]) -> date:
    """The `date` query parameter: required, YYYY-MM-DD."""
    if unknown := sorted(set(request.query_params) - allowed):
        raise serializers.ValidationError({name: ["This parameter is not allowed."] for name in unknown})
    raw = request.query_params.get("date")
    if raw is None:
        raise serializers.ValidationError({"date": ["This parameter is required."]})
    try:
        day = date.fromisoformat(raw) if _DATE_RE.fullmatch(raw) else None
    except ValueError:
        day = None
    if day is None:
        raise serializers.ValidationError({"date": ["A date as YYYY-MM-DD is required."]})
    return day


@extend_schema(tags=["staff"])
class ProductHistoryViewSet(ApiViewSet):
    """Staff who may view the inventory."""

    permission_classes = (StaffActionPermission,)
    staff_permissions = {"history": VIEW}
    pagination_class = None
    filter_backends = ()
    lookup_field = "product_id"
    lookup_value_regex = "[^/]+"

    @extend_schema(
        operation_id="inventory_history",
        summary="A product's levels at the end of a past day (available and reserved, per warehouse and summed)",
        description=HOW,
        parameters=[product_id_path_parameter(), DATE_QUERY],
        responses={200: ProductOnDaySerializer, **errors(*PROTECTED, s404=PRODUCT_NOT_FOUND)},
        examples=[PRODUCT_EXAMPLE],
    )
    @action(detail=True, methods=["get"])
    def history(self, request, product_id=None):
        product_id = self.path_product_id(product_id)
        day = history_date(request, HISTORY_QUERY)
        return Response(ProductOnDaySerializer(product_on(day, product_id)).data)


@extend_schema(tags=["staff"])
class WarehouseHistoryViewSet(ApiViewSet):
    """Staff who may view the inventory."""

    permission_classes = (StaffActionPermission,)
    staff_permissions = {"history": VIEW}
    filter_backends = ()
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    @extend_schema(
        operation_id="warehouses_history",
        summary="A warehouse's levels at the end of a past day, by product (paginated)",
        description=HOW,
        parameters=[code_path_parameter("warehouse"), DATE_QUERY],
        responses={
            200: LevelOnDaySerializer(many=True),
            **errors(*LIST, s404="`warehouse_not_found`, or `not_found` (no such page)."),
        },
    )
    @action(detail=True, methods=["get"])
    @replica_reads
    def history(self, request, code=None):
        warehouse_id = warehouse_id_of(path_code(code))
        day = history_date(request, WAREHOUSE_HISTORY_QUERY)
        page = self.paginate_queryset(levels_existing_on(day, warehouse_id=warehouse_id))
        return self.get_paginated_response(LevelOnDaySerializer(figures_of(day, page), many=True).data)
