"""Purchase orders (staff): place, list, receive in parts, close, cancel; and available-to-promise by day
(staff, or the order application), for one product or up to 200 at once."""

from django.db.models import Exists, OuterRef, QuerySet
from django_filters import ChoiceFilter
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory import limits, services
from inventory.api.authentication import actor_of
from inventory.api.fields import parse_query_code, parse_query_int
from inventory.api.filters import ProductIdFilter, StrictFilterSet, WarehouseCodeFilter
from inventory.api.permissions import InternalClientOrStaffAction, StaffActionPermission
from inventory.api.schema import IDEMPOTENCY_KEY_HEADER, LIST, PRODUCT_NOT_FOUND, PROTECTED, WITH_BODY, errors
from inventory.api.schema import product_id_path_parameter as product_id_path
from inventory.api.serializers.purchasing import (
    AtpBatchInputSerializer,
    BatchAtpSerializer,
    CreatePurchaseOrderInputSerializer,
    EndPurchaseOrderInputSerializer,
    ProductAtpSerializer,
    PurchaseOrderSerializer,
    ReceiptInputSerializer,
)
from inventory.api.views.base import Answer, ApiViewSet
from inventory.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from inventory.replica import replica_reads
from inventory.selectors.atp import product_atp, products_atp
from inventory.selectors.purchasing import purchase_orders

NOT_FOUND = "`purchase_order_not_found`"
NOT_OPEN = "`purchase_order_not_open`: the order is `received`, `closed` or `cancelled`."
ORDER_ID = OpenApiParameter(
    "id",
    {"type": "integer", "format": "int64", "minimum": 1, "maximum": limits.MAX_PRODUCT_ID},
    OpenApiParameter.PATH,
    description="The purchase order's id.",
)
ATP_FORMULA = (
    "Day 0 is today in the database's date (UTC). Per day: `available` is the pool's levels' available stock "
    "(on hand, quota units included); `incoming` the units in transit to the pool's warehouses plus the "
    "outstanding units, max(quantity - received, 0), of the lines of `open` and `partially_received` purchase "
    "orders into them that are due by that day (a line past its day counts from day 0, and is `overdue`); "
    "`promised` the units quotas set aside and those open backorders (sold ahead of stock) still wait for; "
    "`atp = available + incoming - promised`. The pool `all` "
    "(the default) is every warehouse that accepts orders."
)
CREATE_EXAMPLE = OpenApiExample(
    "Two products for sh-1",
    request_only=True,
    value={
        "supplier": "Acme Ltd",
        "supplier_reference": "SO-4471",
        "warehouse": "sh-1",
        "note": "Spring restock",
        "lines": [
            {"product_id": 42, "quantity": 100, "expected_date": "2026-12-20"},
            {"product_id": 43, "quantity": 20, "expected_date": "2026-12-27"},
        ],
    },
)
ORDER_EXAMPLE = OpenApiExample(
    "Partially received",
    response_only=True,
    value={
        "id": 7,
        "supplier": "Acme Ltd",
        "supplier_reference": "SO-4471",
        "warehouse": "sh-1",
        "status": "partially_received",
        "note": "Spring restock",
        "actor": "buyer",
        "ended_by": "",
        "end_reason": "",
        "lines": [
            {"product_id": 42, "quantity": 100, "received": 60, "outstanding": 40, "expected_date": "2026-12-20"},
            {"product_id": 43, "quantity": 20, "received": 22, "outstanding": 0, "expected_date": "2026-12-27"},
        ],
        "receipts": [
            {
                "id": 3,
                "reference": "DN-881",
                "actor": "clerk",
                "lines": [{"product_id": 42, "quantity": 60}, {"product_id": 43, "quantity": 22}],
                "created_at": "2026-12-20T08:30:00.000000+00:00",
            }
        ],
        "created_at": "2026-12-01T09:00:00.000000+00:00",
        "updated_at": "2026-12-20T08:30:00.000000+00:00",
    },
)
RECEIPT_EXAMPLE = OpenApiExample(
    "A delivery: 60 of one line, 2 more than ordered of the other",
    request_only=True,
    value={"reference": "DN-881", "lines": [{"product_id": 42, "quantity": 60}, {"product_id": 43, "quantity": 22}]},
)
CLOSE_EXAMPLE = OpenApiExample(
    "The rest will not come", request_only=True, value={"reason": "Supplier discontinued product 42."}
)
ATP_DAY = {"available": 90, "incoming": 40, "promised": 10, "atp": 120}
ATP_EXAMPLE = OpenApiExample(
    "Two days",
    response_only=True,
    value={
        "product_id": 42,
        "pool": "all",
        "today": "2026-12-19",
        "in_transit": 0,
        "days": [
            {"date": "2026-12-19", **ATP_DAY, "incoming": 0, "atp": 80},
            {"date": "2026-12-20", **ATP_DAY},
        ],
        "incoming_lines": [
            {
                "purchase_order_id": 7,
                "warehouse": "sh-1",
                "expected_date": "2026-12-20",
                "outstanding": 40,
                "overdue": False,
            }
        ],
    },
)
BATCH_REQUEST_EXAMPLE = OpenApiExample(
    "Two products, two days",
    request_only=True,
    value={"items": [{"product_id": 42}, {"product_id": 999}], "days": 2, "pool": "all"},
)
BATCH_ANSWER_EXAMPLE = OpenApiExample(
    "One product found, one not",
    response_only=True,
    value={
        "pool": "all",
        "today": "2026-12-19",
        "items": [
            {
                "product_id": 42,
                "found": True,
                "days": [
                    {"date": "2026-12-19", **ATP_DAY, "incoming": 0, "atp": 80},
                    {"date": "2026-12-20", **ATP_DAY},
                ],
            },
            {
                "product_id": 999,
                "found": False,
                "days": [
                    {"date": day, "available": 0, "incoming": 0, "promised": 0, "atp": 0}
                    for day in ("2026-12-19", "2026-12-20")
                ],
            },
        ],
    },
)


class PurchaseOrderFilter(StrictFilterSet):
    status = ChoiceFilter(choices=PurchaseOrderStatus.choices)
    warehouse = WarehouseCodeFilter(help_text="Delivered to this warehouse (its code).")
    product_id = ProductIdFilter(method="filter_product", help_text="Ordering this product.")

    class Meta:
        model = PurchaseOrder
        fields = ["status", "warehouse", "product_id"]

    def filter_product(self, queryset: QuerySet, name: str, value: int | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(Exists(PurchaseOrderLine.objects.filter(order=OuterRef("pk"), product_id=value)))


@extend_schema(tags=["staff"])
@extend_schema_view(
    list=extend_schema(
        summary="Purchase orders, newest first (filters status, warehouse, product_id)",
        responses={
            200: PurchaseOrderSerializer(many=True),
            **errors(*LIST, s404="`warehouse_not_found`, or `not_found` (no such page)."),
        },
    ),
    retrieve=extend_schema(
        summary="One purchase order, with its lines and receipts",
        parameters=[ORDER_ID],
        responses={200: PurchaseOrderSerializer, **errors(*PROTECTED, s404=NOT_FOUND)},
        examples=[ORDER_EXAMPLE],
    ),
    create=extend_schema(
        summary="Place a purchase order: per product the units ordered and the day they are expected",
        description="Changes no stock: the outstanding units count as incoming in available-to-promise while "
        "the order is open.",
        request=CreatePurchaseOrderInputSerializer,
        parameters=[IDEMPOTENCY_KEY_HEADER],
        responses={
            201: PurchaseOrderSerializer,
            **errors(*PROTECTED, *WITH_BODY, 422, s404="`warehouse_not_found`, or `product_not_found`"),
        },
        examples=[CREATE_EXAMPLE, ORDER_EXAMPLE],
    ),
)
class PurchaseOrderViewSet(ApiViewSet):
    """Warehouse staff with the purchase-order permissions."""

    permission_classes = (StaffActionPermission,)
    staff_permissions = {
        "list": "inventory.view_purchaseorder",
        "retrieve": "inventory.view_purchaseorder",
        "create": "inventory.add_purchaseorder",
        "receipts": "inventory.receive_purchaseorder",
        "close": "inventory.receive_purchaseorder",
        "cancel": "inventory.receive_purchaseorder",
    }
    lookup_value_regex = "[^/]+"
    filterset_class = PurchaseOrderFilter

    def get_queryset(self) -> QuerySet:
        return purchase_orders()

    def get_serializer_class(self):
        return {
            "create": CreatePurchaseOrderInputSerializer,
            "receipts": ReceiptInputSerializer,
            "close": EndPurchaseOrderInputSerializer,
            "cancel": EndPurchaseOrderInputSerializer,
        }.get(self.action, PurchaseOrderSerializer)

    @replica_reads
    def list(self, request):
        return self.paginated(self.filter_queryset(self.get_queryset()), PurchaseOrderSerializer)

    def retrieve(self, request, pk=None):
        return Response(PurchaseOrderSerializer(services.get_purchase_order(self._order_id(pk))).data)

    def create(self, request):
        data = self.validated(CreatePurchaseOrderInputSerializer)

        def change() -> Answer:
            order = services.create_purchase_order(
                supplier=data["supplier"],
                supplier_reference=data["supplier_reference"],
                warehouse=data["warehouse"],
                note=data["note"],
                lines=[
                    services.PurchaseOrderLineInput(line["product_id"], line["quantity"], line["expected_date"])
                    for line in data["lines"]
                ],
                actor=actor_of(request),
            )
            return Answer(status.HTTP_201_CREATED, PurchaseOrderSerializer(order).data)

        return self.idempotent(change)

    @extend_schema(
        summary="Receive a delivery: restock the order's warehouse by the units that came",
        description="One `restock` log entry per line, its reference `po:<id>`. A line may receive more than "
        "was ordered (recorded as an over-delivery) or less; the order is `received` once every line has had "
        "at least what was ordered. Without `lines`, every unit still outstanding is received. A product the "
        "order does not list is a 400 and nothing is received.",
        request=ReceiptInputSerializer,
        parameters=[ORDER_ID, IDEMPOTENCY_KEY_HEADER],
        responses={200: PurchaseOrderSerializer, **errors(*PROTECTED, *WITH_BODY, 422, s404=NOT_FOUND, s409=NOT_OPEN)},
        examples=[RECEIPT_EXAMPLE, ORDER_EXAMPLE],
    )
    @action(detail=True, methods=["post"])
    def receipts(self, request, pk=None):
        order_id = self._order_id(pk)
        data = self.validated(ReceiptInputSerializer)
        lines = data.get("lines")

        def change() -> Answer:
            order = services.receive_purchase_order(
                purchase_order_id=order_id,
                lines=None
                if lines is None
                else [services.ReceiptLineInput(line["product_id"], line["quantity"]) for line in lines],
                reference=data["reference"],
                actor=actor_of(request),
            )
            return Answer(status.HTTP_200_OK, PurchaseOrderSerializer(order).data)

        return self.idempotent(change)

    @extend_schema(
        summary="Close an open purchase order: what is still outstanding will not come",
        description="An under-delivery: the lines keep what was ordered and what was received, and the order "
        "counts as incoming no more.",
        request=EndPurchaseOrderInputSerializer,
        parameters=[ORDER_ID, IDEMPOTENCY_KEY_HEADER],
        responses={200: PurchaseOrderSerializer, **errors(*PROTECTED, *WITH_BODY, 422, s404=NOT_FOUND, s409=NOT_OPEN)},
        examples=[CLOSE_EXAMPLE],
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._end(pk, services.close_purchase_order)

    @extend_schema(
        summary="Cancel a purchase order nothing was received against",
        request=EndPurchaseOrderInputSerializer,
        parameters=[ORDER_ID, IDEMPOTENCY_KEY_HEADER],
        responses={
            200: PurchaseOrderSerializer,
            **errors(
                *PROTECTED,
                *WITH_BODY,
                422,
                s404=NOT_FOUND,
                s409=f"{NOT_OPEN} `purchase_order_has_receipts`: goods came already (close it instead).",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._end(pk, services.cancel_purchase_order)

    def _end(self, pk: str, service) -> Response:
        order_id = self._order_id(pk)
        data = self.validated(EndPurchaseOrderInputSerializer)

        def change() -> Answer:
            order = service(purchase_order_id=order_id, reason=data["reason"], actor=actor_of(self.request))
            return Answer(status.HTTP_200_OK, PurchaseOrderSerializer(order).data)

        return self.idempotent(change)

    @staticmethod
    def _order_id(raw: str) -> int:
        return parse_query_int("id", raw, minimum=1, maximum=limits.MAX_PRODUCT_ID)


ATP_QUERY = {"days", "pool"}


@extend_schema(tags=["staff"])
class AvailableToPromiseViewSet(ApiViewSet):
    """Available-to-promise: the order application, or staff who may view the inventory."""

    permission_classes = (InternalClientOrStaffAction,)
    staff_permissions = {"atp": "inventory.view_inventory", "batch_atp": "inventory.view_inventory"}
    pagination_class = None
    filter_backends = ()
    lookup_field = "product_id"
    lookup_value_regex = "[^/]+"

    def get_serializer_class(self):
        return AtpBatchInputSerializer

    @extend_schema(
        operation_id="inventory_atp",
        summary="Available to promise by day, for the next N days (staff, or the order application)",
        description=ATP_FORMULA,
        parameters=[
            product_id_path(),
            OpenApiParameter(
                "days",
                {"type": "integer", "minimum": 1, "maximum": limits.MAX_ATP_DAYS, "default": limits.DEFAULT_ATP_DAYS},
                description=f"How many days from today (day 0): 1 to {limits.MAX_ATP_DAYS}.",
            ),
            OpenApiParameter(
                "pool",
                {"type": "string", "pattern": limits.LOCATION_CODE_PATTERN, "minLength": 1, "maxLength": 32},
                description="Answer for this pool's warehouses; default `all`.",
            ),
        ],
        responses={
            200: ProductAtpSerializer,
            **errors(*PROTECTED, s404=f"{PRODUCT_NOT_FOUND}, or `pool_not_found`"),
        },
        examples=[ATP_EXAMPLE],
    )
    @action(detail=True, methods=["get"])
    def atp(self, request, product_id=None):
        product_id = self.path_product_id(product_id)
        if unknown := sorted(set(request.query_params) - ATP_QUERY):
            raise serializers.ValidationError({name: ["This parameter is not allowed."] for name in unknown})
        params = request.query_params
        answer = product_atp(
            product_id=product_id,
            days=parse_query_int(
                "days", params.get("days"), minimum=1, maximum=limits.MAX_ATP_DAYS, default=limits.DEFAULT_ATP_DAYS
            ),
            pool=parse_query_code("pool", params.get("pool")) or limits.EVERY_WAREHOUSE_POOL,
        )
        return Response(ProductAtpSerializer(answer).data)

    @extend_schema(
        operation_id="inventory_atp_batch",
        summary="Available to promise by day for 1..200 products at once (a fixed number of queries)",
        description=f"{ATP_FORMULA} A product without a record is `found: false` with zeros, not an error.",
        request=AtpBatchInputSerializer,
        responses={200: BatchAtpSerializer, **errors(*PROTECTED, *WITH_BODY, s404="`pool_not_found`")},
        examples=[BATCH_REQUEST_EXAMPLE, BATCH_ANSWER_EXAMPLE],
    )
    @action(detail=False, methods=["post"], url_path="atp")
    def batch_atp(self, request):
        data = self.validated(AtpBatchInputSerializer)
        answer = products_atp(
            product_ids=[item["product_id"] for item in data["items"]], days=data["days"], pool=data["pool"]
        )
        # Built as the JSON body itself (dates are rendered by the JSON encoder), as the batch check is.
        return Response(answer)
