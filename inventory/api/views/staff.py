"""The staff endpoints: validate the input, call one service, render the output."""

from django.db.models import QuerySet
from drf_spectacular.utils import (
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory import services
from inventory.api.authentication import actor_of
from inventory.api.filters import InventoryFilter, InventoryLogFilter
from inventory.api.permissions import StaffActionPermission
from inventory.api.schema import (
    IDEMPOTENCY_KEY_HEADER,
    LIST,
    PRODUCT_NOT_FOUND,
    PROTECTED,
    WITH_BODY,
    errors,
    product_id_path_parameter,
)
from inventory.api.serializers.stock import (
    AdjustByDeltaSerializer,
    AdjustInputSerializer,
    AdjustToCountSerializer,
    CreateInventoryInputSerializer,
    HotInputSerializer,
    InventoryLogSerializer,
    InventorySerializer,
    RestockInputSerializer,
    StockLevelSerializer,
    ThresholdInputSerializer,
)
from inventory.api.views.base import Answer, ApiViewSet
from inventory.exceptions import ProductNotFound
from inventory.models import Inventory, InventoryLog
from inventory.replica import replica_reads
from inventory.selectors import levels_of, low_stock_items

PRODUCT_OR_WAREHOUSE = f"{PRODUCT_NOT_FOUND}, or `warehouse_not_found`"

STAFF_PERMISSIONS = {
    "list": "inventory.view_inventory",
    "create": "inventory.add_inventory",
    "product": "inventory.view_inventory",
    "low_stock": "inventory.view_inventory",
    "restock": "inventory.restock_inventory",
    "adjust": "inventory.adjust_inventory",
    "threshold": "inventory.change_threshold_inventory",
    "hot": "inventory.make_hot_inventory",
    "logs": "inventory.view_inventorylog",
    "levels": "inventory.view_inventory",
}


@extend_schema(tags=["staff"])
@extend_schema_view(
    list=extend_schema(
        summary="Inventory records (filters, ordering)",
        responses={200: InventorySerializer(many=True), **errors(*LIST)},
    ),
    create=extend_schema(
        summary="Create a product's inventory record",
        request=CreateInventoryInputSerializer,
        responses={
            201: InventorySerializer,
            **errors(
                *PROTECTED,
                *WITH_BODY,
                s404="`warehouse_not_found`",
                s409="`already_exists`: the product has a record already.",
            ),
        },
    ),
)
class InventoryViewSet(ApiViewSet):
    """Warehouse staff and back-office tools: a staff user with the action's permission."""

    permission_classes = (StaffActionPermission,)
    staff_permissions = STAFF_PERMISSIONS
    lookup_field = "product_id"
    lookup_value_regex = "[^/]+"

    @property
    def filterset_class(self):
        return {"list": InventoryFilter, "logs": InventoryLogFilter}.get(self.action)

    def get_queryset(self) -> QuerySet:
        if self.action == "logs":
            return InventoryLog.objects.order_by("-id")
        return Inventory.objects.order_by("product_id")

    def get_serializer_class(self):
        return {
            "create": CreateInventoryInputSerializer,
            "restock": RestockInputSerializer,
            "adjust": AdjustInputSerializer,
            "threshold": ThresholdInputSerializer,
            "hot": HotInputSerializer,
            "logs": InventoryLogSerializer,
        }.get(self.action, InventorySerializer)

    @replica_reads
    def list(self, request):
        return self.paginated(self.filter_queryset(self.get_queryset()), InventorySerializer)

    def create(self, request):
        data = self.validated(CreateInventoryInputSerializer)
        item = services.create_inventory(**data, actor=actor_of(request))
        return Response(InventorySerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="One product's inventory record",
        parameters=[product_id_path_parameter()],
        responses={200: InventorySerializer, **errors(*PROTECTED, s404=PRODUCT_NOT_FOUND)},
    )
    @action(detail=False, methods=["get"], url_path=r"product/(?P<product_id>[^/]+)")
    def product(self, request, product_id=None):
        product_id = self.path_product_id(product_id)
        item = self.get_queryset().filter(product_id=product_id).first()
        if item is None:
            raise ProductNotFound(product_id)
        return Response(InventorySerializer(item).data)

    @extend_schema(
        summary="One product's stock levels, one per warehouse",
        description=(
            "Each level shows the record's fields for one warehouse, with `warehouse`, `in_transit` and "
            "`buckets` (the rows its stock is spread over, `PUT /inventory/{product_id}/hot`)."
        ),
        parameters=[product_id_path_parameter()],
        responses={200: StockLevelSerializer(many=True), **errors(*LIST, s404=PRODUCT_NOT_FOUND)},
    )
    @action(detail=False, methods=["get"], url_path=r"product/(?P<product_id>[^/]+)/levels")
    def levels(self, request, product_id=None):
        product_id = self.path_product_id(product_id)
        if not Inventory.products.filter(product_id=product_id).exists():
            raise ProductNotFound(product_id)
        return self.paginated(levels_of(product_id), StockLevelSerializer)

    @extend_schema(
        summary="Records at or below their threshold, fewest available first",
        responses={200: InventorySerializer(many=True), **errors(*LIST)},
    )
    @action(detail=False, methods=["get"], url_path="low-stock")
    @replica_reads
    def low_stock(self, request):
        return self.paginated(low_stock_items(), InventorySerializer)

    @extend_schema(
        summary="Goods received: add to available stock",
        request=RestockInputSerializer,
        parameters=[IDEMPOTENCY_KEY_HEADER],
        responses={200: InventorySerializer, **errors(*PROTECTED, *WITH_BODY, 422, s404=PRODUCT_OR_WAREHOUSE)},
    )
    @action(detail=False, methods=["post"])
    def restock(self, request):
        data = self.validated(RestockInputSerializer)

        def change() -> Answer:
            item = services.restock(**data, actor=actor_of(request))
            return Answer(status.HTTP_200_OK, InventorySerializer(item).data)

        return self.idempotent(change)

    @extend_schema(
        summary="Stock-take correction of available stock (by delta, or to a counted figure)",
        request=PolymorphicProxySerializer(
            component_name="AdjustRequest",
            serializers=[AdjustByDeltaSerializer, AdjustToCountSerializer],
            resource_type_field_name=None,
        ),
        parameters=[IDEMPOTENCY_KEY_HEADER],
        responses={
            200: InventorySerializer,
            **errors(
                *PROTECTED,
                *WITH_BODY,
                422,
                s404=PRODUCT_OR_WAREHOUSE,
                s409="`stock_would_go_negative`, or `version_conflict` (`details.current_version`).",
            ),
        },
    )
    @action(detail=False, methods=["post"])
    def adjust(self, request):
        data = self.validated(AdjustInputSerializer)

        def change() -> Answer:
            item = services.adjust_stock(
                product_id=data["product_id"],
                delta=data.get("delta"),
                counted=data.get("available_stock"),
                reason=data["reason"],
                reference=data["reference"],
                expected_version=data.get("expected_version"),
                warehouse=data["warehouse"],
                actor=actor_of(request),
            )
            return Answer(status.HTTP_200_OK, InventorySerializer(item).data)

        return self.idempotent(change)

    @extend_schema(
        summary="Change the low-stock threshold",
        request=ThresholdInputSerializer,
        parameters=[product_id_path_parameter()],
        responses={
            200: InventorySerializer,
            **errors(
                *PROTECTED,
                *WITH_BODY,
                s404=PRODUCT_OR_WAREHOUSE,
                s409="`version_conflict`: `expected_version` is stale (`details.current_version`).",
            ),
        },
    )
    @action(detail=True, methods=["put"])
    def threshold(self, request, product_id=None):
        product_id = self.path_product_id(product_id)
        data = self.validated(ThresholdInputSerializer)
        item = services.set_low_stock_threshold(product_id=product_id, **data, actor=actor_of(request))
        return Response(InventorySerializer(item).data)

    @extend_schema(
        summary="Spread a level's stock over N rows for a flash sale (1 turns it off)",
        description=(
            "Nothing else changes for callers: the figures are sums, and a reserve fails only when the "
            "level's whole available stock is short. Moving units between the rows writes `rebalance` "
            "entries, one per row whose figures change; every entry carries its row's `bucket`."
        ),
        request=HotInputSerializer,
        parameters=[product_id_path_parameter(), IDEMPOTENCY_KEY_HEADER],
        responses={200: StockLevelSerializer, **errors(*PROTECTED, *WITH_BODY, 422, s404=PRODUCT_OR_WAREHOUSE)},
    )
    @action(detail=True, methods=["put"])
    def hot(self, request, product_id=None):
        product_id = self.path_product_id(product_id)
        data = self.validated(HotInputSerializer)

        def change() -> Answer:
            level = services.make_hot(product_id=product_id, **data, actor=actor_of(request))
            return Answer(status.HTTP_200_OK, StockLevelSerializer(level).data)

        return self.idempotent(change)

    @extend_schema(
        summary="A product's log entries, newest first",
        description="`warehouse` narrows them to one level's; a level's before/after values are its own.",
        parameters=[product_id_path_parameter()],
        responses={
            200: InventoryLogSerializer(many=True),
            **errors(
                *LIST,
                s404="`product_not_found` (no such product), `warehouse_not_found`, or `not_found` (no such page).",
            ),
        },
    )
    @action(detail=False, methods=["get"], url_path=r"logs/(?P<product_id>[^/]+)")
    @replica_reads
    def logs(self, request, product_id=None):
        product_id = self.path_product_id(product_id)
        if not Inventory.products.filter(product_id=product_id).exists():
            raise ProductNotFound(product_id)
        entries = self.filter_queryset(self.get_queryset().filter(product_id=product_id))
        return self.paginated(entries, InventoryLogSerializer)
