"""Pre-sale: the staff's pre-sales (create, list, look up, change, end), and for the order application
an order's lines with their state and the cancel of its backorders."""

from django.db.models import QuerySet
from django_filters import ChoiceFilter
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory import limits, services
from inventory.api.authentication import actor_of
from inventory.api.fields import is_order_id_text
from inventory.api.filters import ProductIdFilter, StrictFilterSet, WarehouseCodeFilter
from inventory.api.permissions import IsInternalClient, StaffActionPermission
from inventory.api.schema import IDEMPOTENCY_KEY_HEADER, LIST, PROTECTED, WITH_BODY, errors
from inventory.api.serializers.presales import (
    CancelBackordersInputSerializer,
    ChangePreSaleInputSerializer,
    CreatePreSaleInputSerializer,
    EndPreSaleInputSerializer,
    OrderLinesSerializer,
    PreSaleSerializer,
)
from inventory.api.views.base import Answer, ApiViewSet
from inventory.api.views.warehouses import code_path_parameter, path_code
from inventory.models import PreSale, PreSaleStatus
from inventory.replica import replica_reads
from inventory.selectors.presales import order_lines, presales

NOT_FOUND = "`presale_not_found`: no pre-sale has this code."
NOT_ACTIVE = "`presale_not_active`: the pre-sale has ended."
CODE = code_path_parameter("pre-sale")
PRESALE_TERMS = {"code": "phone-x-launch", "product_id": 42, "warehouse": "sh-1", "limit": 500}
CREATE_EXAMPLE = OpenApiExample(
    "500 units of product 42 sold ahead of purchase order 7, for a week",
    request_only=True,
    value={
        **PRESALE_TERMS,
        "starts_at": "2026-12-01T00:00:00+08:00",
        "ends_at": "2026-12-08T00:00:00+08:00",
        "purchase_order_id": 7,
    },
)
PRESALE_EXAMPLE = OpenApiExample(
    "A pre-sale that sold 120 units, 40 of them shipped",
    response_only=True,
    value={
        **PRESALE_TERMS,
        "sold": 120,
        "room": 380,
        "filled": 40,
        "outstanding": 80,
        "purchase_order_id": 7,
        "status": "active",
        "starts_at": "2026-11-30T16:00:00.000000+00:00",
        "ends_at": "2026-12-07T16:00:00.000000+00:00",
        "actor": "lead",
        "created_at": "2026-11-30T09:00:00.000000+00:00",
        "updated_at": "2026-12-02T10:15:00.000000+00:00",
    },
)
CHANGE_EXAMPLE = OpenApiExample(
    "Sell 200 more, one more day", request_only=True, value={"limit": 700, "ends_at": "2026-12-09T00:00:00+08:00"}
)
ORDER_ID = OpenApiParameter(
    "order_id",
    {"type": "string", "pattern": limits.ORDER_ID_PATTERN, "minLength": 1, "maxLength": limits.ORDER_ID_MAX_LENGTH},
    OpenApiParameter.PATH,
    description=f"The order's id: {limits.ORDER_ID_RULE}; anything else is a 400 `validation_error`.",
)
LINES_EXAMPLE = OpenApiExample(
    "3 held and paid, 5 sold ahead: 2 shipped, 3 due on the 20th",
    response_only=True,
    value={
        "order_id": "A-1001",
        "lines": [
            {
                "product_id": 42,
                "warehouse": "sh-1",
                "held": 3,
                "hold_status": "confirmed",
                "backordered": 5,
                "filled": 2,
                "cancelled": 0,
                "outstanding": 3,
                "backorder_status": "open",
                "presale": "phone-x-launch",
                "expected_date": "2026-12-20",
                "batches": [
                    {
                        "quantity": 2,
                        "reference": "po:7",
                        "reason": "receipt 3: DN-881",
                        "created_at": "2026-12-19T08:30:00.000000+00:00",
                    }
                ],
            }
        ],
    },
)
CANCEL_EXAMPLE = OpenApiExample("The order's backorders of product 42", request_only=True, value={"product_id": 42})


class PreSaleFilter(StrictFilterSet):
    product_id = ProductIdFilter(field_name="product_id", help_text="Of this product.")
    warehouse = WarehouseCodeFilter(help_text="In this warehouse (its code).")
    status = ChoiceFilter(choices=PreSaleStatus.choices)

    class Meta:
        model = PreSale
        fields = ["product_id", "warehouse", "status"]


@extend_schema(tags=["staff"])
@extend_schema_view(
    list=extend_schema(
        summary="Pre-sales, newest first (filters product_id, warehouse, status)",
        responses={
            200: PreSaleSerializer(many=True),
            **errors(*LIST, s404="`warehouse_not_found`, or `not_found` (no such page)."),
        },
    ),
    retrieve=extend_schema(
        summary="One pre-sale, with what it sold, shipped and still owes",
        parameters=[CODE],
        responses={200: PreSaleSerializer, **errors(*PROTECTED, s404=NOT_FOUND)},
        examples=[PRESALE_EXAMPLE],
    ),
    create=extend_schema(
        summary="Create a pre-sale: units of a level that reserves may sell ahead of stock",
        description="A reserve line with `backorder` takes the pool's free stock as a hold and sells the rest "
        "ahead on the product's open pre-sale (the first with room, oldest first), up to `limit` units in all; "
        "goods arriving at the level (receipts, restocks, transfers) fill the backorders oldest first. Changes "
        "no stock. A `purchase_order_id` must bring the product to the warehouse.",
        request=CreatePreSaleInputSerializer,
        parameters=[IDEMPOTENCY_KEY_HEADER],
        responses={
            201: PreSaleSerializer,
            **errors(
                *PROTECTED,
                *WITH_BODY,
                422,
                s400="`validation_error`: a malformed body, a window that ends before it starts or in the past, "
                "or a purchase order that does not bring the product to the warehouse.",
                s404="`warehouse_not_found`, `product_not_found` or `purchase_order_not_found`",
                s409="`already_exists`: the code is taken.",
            ),
        },
        examples=[CREATE_EXAMPLE, PRESALE_EXAMPLE],
    ),
)
class PreSaleViewSet(ApiViewSet):
    """Warehouse staff with the pre-sale permissions."""

    permission_classes = (StaffActionPermission,)
    staff_permissions = {
        "list": "inventory.view_presale",
        "retrieve": "inventory.view_presale",
        "create": "inventory.manage_presale",
        "change": "inventory.manage_presale",
        "end": "inventory.manage_presale",
    }
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    filterset_class = PreSaleFilter

    def get_queryset(self) -> QuerySet:
        return presales()

    def get_serializer_class(self):
        return {
            "create": CreatePreSaleInputSerializer,
            "change": ChangePreSaleInputSerializer,
            "end": EndPreSaleInputSerializer,
        }.get(self.action, PreSaleSerializer)

    @replica_reads
    def list(self, request):
        return self.paginated(self.filter_queryset(self.get_queryset()), PreSaleSerializer)

    def retrieve(self, request, code=None):
        return Response(PreSaleSerializer(services.get_presale(path_code(code))).data)

    def create(self, request):
        data = self.validated(CreatePreSaleInputSerializer)

        def change() -> Answer:
            presale = services.create_presale(**data, actor=actor_of(request))
            return Answer(status.HTTP_201_CREATED, PreSaleSerializer(presale).data)

        return self.idempotent(change)

    @extend_schema(
        summary="Change a pre-sale: its limit or its window",
        description="Only the fields given change. The limit is never below the units sold; the window may be "
        "moved while the pre-sale is active (its end stays in the future).",
        request=ChangePreSaleInputSerializer,
        parameters=[CODE, IDEMPOTENCY_KEY_HEADER],
        responses={
            200: PreSaleSerializer,
            **errors(
                *PROTECTED,
                *WITH_BODY,
                422,
                s400="`validation_error`: a malformed body, a window that ends before it starts or in the past, "
                "or a `limit` below the units sold.",
                s404=NOT_FOUND,
                s409=NOT_ACTIVE,
            ),
        },
        examples=[CHANGE_EXAMPLE, PRESALE_EXAMPLE],
    )
    @action(detail=True, methods=["post"])
    def change(self, request, code=None):
        code = path_code(code)
        data = self.validated(ChangePreSaleInputSerializer)

        def apply() -> Answer:
            presale = services.change_presale(code=code, **data, actor=actor_of(request))
            return Answer(status.HTTP_200_OK, PreSaleSerializer(presale).data)

        return self.idempotent(apply)

    @extend_schema(
        summary="End a pre-sale now: no new backorders; the open ones are still filled as goods arrive",
        request=EndPreSaleInputSerializer,
        parameters=[CODE, IDEMPOTENCY_KEY_HEADER],
        responses={
            200: PreSaleSerializer,
            **errors(*PROTECTED, *WITH_BODY, 422, s404=NOT_FOUND, s409=f"{NOT_ACTIVE} (already)"),
        },
    )
    @action(detail=True, methods=["post"])
    def end(self, request, code=None):
        code = path_code(code)
        self.validated(EndPreSaleInputSerializer)

        def change() -> Answer:
            presale = services.end_presale(code=code, actor=actor_of(request))
            return Answer(status.HTTP_200_OK, PreSaleSerializer(presale).data)

        return self.idempotent(change)


LINES_NOT_FOUND = "`reservation_not_found`: the order holds and backordered nothing (or is another client's)."


@extend_schema(tags=["internal"])
class OrderLinesViewSet(ApiViewSet):
    """For the order application's API client (internal role) only: its own orders, as release and deduct."""

    permission_classes = (IsInternalClient,)
    pagination_class = None
    filter_backends = ()
    lookup_field = "order_id"
    lookup_value_regex = "[^/]+"

    def get_serializer_class(self):
        return CancelBackordersInputSerializer

    @extend_schema(
        operation_id="orders_lines",
        summary="An order's lines with their state: held, sold ahead of stock, shipped in batches, outstanding",
        description="Per product and warehouse: the units the order's reservations hold (active or confirmed) "
        "and its backorder there (sold ahead of stock on a pre-sale): units backordered, filled as goods "
        "arrived (each batch with its time and the arrival's reference), cancelled, still outstanding, and "
        "the day the pre-sale's purchase order expects them.",
        parameters=[ORDER_ID],
        responses={200: OrderLinesSerializer, **errors(*PROTECTED, s404=LINES_NOT_FOUND)},
        examples=[LINES_EXAMPLE],
    )
    @action(detail=True, methods=["get"])
    def lines(self, request, order_id=None):
        order_id = _path_order_id(order_id)
        return _lines_answer(order_id, order_lines(order_id, client_id=request.auth.pk))

    @extend_schema(
        operation_id="orders_backorders_cancel",
        summary="Cancel what the order's backorders (of one product) still wait for",
        description="The units not yet shipped go back to their pre-sales' limits; what was shipped stays "
        "shipped. The order's reservations are untouched (release them as before). Filled and cancelled "
        "backorders are left as they are. Answers the order's lines (of that product).",
        request=CancelBackordersInputSerializer,
        parameters=[ORDER_ID],
        responses={
            200: OrderLinesSerializer,
            **errors(*PROTECTED, *WITH_BODY, s404="`backorder_not_found`: the order has no backorder (of it)."),
        },
        examples=[CANCEL_EXAMPLE, LINES_EXAMPLE],
    )
    @action(detail=True, methods=["post"], url_path="backorders/cancel")
    def cancel_backorders(self, request, order_id=None):
        order_id = _path_order_id(order_id)
        product_id = self.validated(CancelBackordersInputSerializer)["product_id"]
        client_id = request.auth.pk
        services.cancel_backorders(
            order_id=order_id, product_id=product_id, client_id=client_id, actor=actor_of(request)
        )
        return _lines_answer(order_id, order_lines(order_id, client_id=client_id, product_id=product_id))


def _path_order_id(raw: str) -> str:
    """An order id in the path: a 400 when malformed, so that only a well-formed unknown order is a 404."""
    if not is_order_id_text(raw):
        raise serializers.ValidationError({"order_id": [f"An order id is {limits.ORDER_ID_RULE}."]})
    return raw


def _lines_answer(order_id: str, lines: list) -> Response:
    return Response(OrderLinesSerializer({"order_id": order_id, "lines": lines}).data)
