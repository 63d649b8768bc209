"""Planning for staff: each level's plan (ABC class, forecast, safety stock, reorder point and
quantity), its terms, the reorder report and the daily run's settings."""

from django.db.models import QuerySet
from django_filters import ChoiceFilter
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory import limits
from inventory.api.authentication import actor_of
from inventory.api.fields import parse_query_code
from inventory.api.filters import ProductIdFilter, StrictFilterSet, WarehouseCodeFilter
from inventory.api.permissions import StaffActionPermission
from inventory.api.schema import IDEMPOTENCY_KEY_HEADER, LIST, PROTECTED, WITH_BODY, errors, product_id_path_parameter
from inventory.api.serializers.planning import (
    ItemPlanDetailSerializer,
    ItemPlanSerializer,
    ItemPlanTermsInputSerializer,
    PlanningSettingsInputSerializer,
    PlanningSettingsSerializer,
    ReorderLineSerializer,
)
from inventory.api.views.base import Answer, ApiViewSet
from inventory.models import ItemPlan, PlanningSettings
from inventory.models.planning import ABC_CLASSES
from inventory.replica import replica_reads
from inventory.selectors.planning import demand_history, forecast_days, item_plan, item_plans, reorder_report
from inventory.services.planning import set_item_plan, set_planning_settings
from inventory.services.stock import warehouse_id_of

VIEW = "inventory.view_itemplan"
MANAGE = "inventory.manage_planning"
LEVEL_NOT_FOUND = "`product_not_found`: the product has no stock in that warehouse; or `warehouse_not_found`."
WAREHOUSE_OR_PAGE = "`warehouse_not_found`, or `not_found` (no such page)."
WAREHOUSE_QUERY = OpenApiParameter(
    "warehouse",
    {"type": "string", "pattern": limits.LOCATION_CODE_PATTERN, "minLength": 1, "maxLength": 32},
    description="The level's warehouse (its code); default `default`.",
)
PLAN_EXAMPLE = OpenApiExample(
    "A steady seller: 5 a day, a week's lead time",
    response_only=True,
    value={
        "product_id": 42,
        "warehouse": "sh-1",
        "lead_time_days": 7,
        "service_level": 0.95,
        "apply_suggestions": True,
        "low_stock_threshold": 41,
        "abc_class": "A",
        "demand_units": 450,
        "method": "ses",
        "forecast": [5.02, 5.02, 5.02],
        "error_sd": 2.1,
        "history_days": 90,
        "safety_stock": 10,
        "reorder_point": 46,
        "reorder_quantity": 71,
        "computed_at": "2026-12-03T02:30:04.000000+00:00",
        "updated_at": "2026-12-03T02:30:04.000000+00:00",
    },
)
TERMS_EXAMPLE = OpenApiExample(
    "Two weeks from the supplier, 98 % of cycles without a stock-out, thresholds follow",
    request_only=True,
    value={"warehouse": "sh-1", "lead_time_days": 14, "service_level": 0.98, "apply_suggestions": True},
)
REORDER_QUERY = {"warehouse", "page", "page_size"}
ITEM_QUERY = {"warehouse"}


class ItemPlanFilter(StrictFilterSet):
    product_id = ProductIdFilter(field_name="product_id", help_text="Of this product.")
    warehouse = WarehouseCodeFilter(help_text="In this warehouse (its code).")
    abc_class = ChoiceFilter(choices=ABC_CLASSES, help_text="A, B or C.")

    class Meta:
        model = ItemPlan
        fields = ["product_id", "warehouse", "abc_class"]


@extend_schema(tags=["staff"])
@extend_schema_view(
    list=extend_schema(
        summary="Every level's plan: ABC class, forecast, safety stock, reorder point (filters product_id, "
        "warehouse, abc_class)",
        description="The daily run (beat task `inventory.refresh_plans`) computes the figures from the ledger's "
        "deductions and backorder fills; a level the run has not reached yet is not listed.",
        responses={200: ItemPlanSerializer(many=True), **errors(*LIST, s404=WAREHOUSE_OR_PAGE)},
    ),
    retrieve=extend_schema(
        summary="One level's plan, with its daily demand history and its forecast by date",
        parameters=[product_id_path_parameter(), WAREHOUSE_QUERY],
        responses={200: ItemPlanDetailSerializer, **errors(*PROTECTED, s404=LEVEL_NOT_FOUND)},
        examples=[PLAN_EXAMPLE],
    ),
)
class ItemPlanViewSet(ApiViewSet):
    """Staff who may view plans; terms need `manage_planning`."""

    permission_classes = (StaffActionPermission,)
    staff_permissions = {"list": VIEW, "retrieve": VIEW, "terms": MANAGE}
    lookup_field = "product_id"
    lookup_value_regex = "[^/]+"
    filterset_class = ItemPlanFilter

    def get_queryset(self) -> QuerySet:
        return item_plans()

    def get_serializer_class(self):
        return ItemPlanTermsInputSerializer if self.action == "terms" else ItemPlanSerializer

    @replica_reads
    def list(self, request):
        return self.paginated(self.filter_queryset(self.get_queryset()), ItemPlanSerializer)

    def retrieve(self, request, product_id=None):
        product_id = self.path_product_id(product_id)
        _refuse_unknown_query(request, ITEM_QUERY)
        warehouse = parse_query_code("warehouse", request.query_params.get("warehouse")) or limits.DEFAULT_WAREHOUSE
        plan = item_plan(product_id, warehouse_id_of(warehouse))
        plan.history = demand_history(plan, PlanningSettings.current().window_days)
        plan.forecast_by_day = forecast_days(plan)
        return Response(ItemPlanDetailSerializer(plan).data)

    @extend_schema(
        summary="Change a level's planning terms: lead time, service level, whether thresholds follow",
        description="Only the terms given change. The safety stock, reorder point and quantity follow at once from "
        "the stored forecast; with `apply_suggestions` on, the level's low-stock threshold is set to the reorder "
        "point (now, if the run has computed one, and on every run), one `threshold` ledger entry each time.",
        request=ItemPlanTermsInputSerializer,
        parameters=[product_id_path_parameter(), IDEMPOTENCY_KEY_HEADER],
        responses={200: ItemPlanSerializer, **errors(*PROTECTED, *WITH_BODY, 422, s404=LEVEL_NOT_FOUND)},
        examples=[TERMS_EXAMPLE, PLAN_EXAMPLE],
    )
    @action(detail=True, methods=["post"])
    def terms(self, request, product_id=None):
        product_id = self.path_product_id(product_id)
        data = self.validated(ItemPlanTermsInputSerializer)

        def change() -> Answer:
            plan = set_item_plan(product_id=product_id, **data, actor=actor_of(request))
            return Answer(status.HTTP_200_OK, ItemPlanSerializer(item_plan(plan.product_id, plan.warehouse_id)).data)

        return self.idempotent(change)


@extend_schema(tags=["staff"])
class PlanningViewSet(ApiViewSet):
    """The reorder report and the run's settings: staff who may view plans; changes need `manage_planning`."""

    permission_classes = (StaffActionPermission,)
    staff_permissions = {"reorder": VIEW, "planning_settings": VIEW, "change_settings": MANAGE}
    filter_backends = ()

    def get_serializer_class(self):
        return PlanningSettingsInputSerializer

    @extend_schema(
        operation_id="planning_reorder",
        summary="The reorder report: levels whose stock position falls below their reorder point within their "
        "lead time",
        description="position = available + incoming (in transit, and open purchase-order lines due within the "
        "lead time, overdue ones included) - what open backorders wait for. The reorder point is the forecast "
        "demand over the lead time plus the safety stock, so a position below it runs into the safety stock "
        "before a new order could arrive. `suggested_quantity` orders up to reorder point + reorder quantity. "
        "By ABC class (A first), then by how far below its point. The admin has it as CSV.",
        parameters=[WAREHOUSE_QUERY],
        responses={
            200: ReorderLineSerializer(many=True),
            **errors(*LIST, s404="`warehouse_not_found`, or `not_found`"),
        },
    )
    @action(detail=False, methods=["get"])
    def reorder(self, request):
        _refuse_unknown_query(request, REORDER_QUERY)
        code = parse_query_code("warehouse", request.query_params.get("warehouse"))
        lines = reorder_report(warehouse_id=None if code is None else warehouse_id_of(code))
        return self.paginated(lines, ReorderLineSerializer)

    @extend_schema(
        operation_id="planning_settings",
        summary="The planning run's settings: its demand window and the ABC thresholds",
        responses={200: PlanningSettingsSerializer, **errors(*PROTECTED)},
    )
    @action(detail=False, methods=["get"], url_path="settings")
    def planning_settings(self, request):
        return Response(PlanningSettingsSerializer(PlanningSettings.current()).data)

    @extend_schema(
        operation_id="planning_settings_change",
        summary="Change the planning run's settings (from its next run)",
        description="Only the settings given change; `a_percent` stays below `b_percent` (a 400 otherwise).",
        request=PlanningSettingsInputSerializer,
        parameters=[IDEMPOTENCY_KEY_HEADER],
        responses={200: PlanningSettingsSerializer, **errors(*PROTECTED, *WITH_BODY, 422)},
        examples=[
            OpenApiExample(
                "Classes by value over 120 days", request_only=True, value={"abc_basis": "value", "window_days": 120}
            )
        ],
    )
    @action(detail=False, methods=["post"], url_path="settings/change")
    def change_settings(self, request):
        data = self.validated(PlanningSettingsInputSerializer)

        def change() -> Answer:
            settings = set_planning_settings(**data, actor=actor_of(request))
            return Answer(status.HTTP_200_OK, PlanningSettingsSerializer(settings).data)

        return self.idempotent(change)


def _refuse_unknown_query(request, allowed: set[str]) -> None:
    if unknown := sorted(set(request.query_params) - allowed):
        raise serializers.ValidationError({name: ["This parameter is not allowed."] for name in unknown})
