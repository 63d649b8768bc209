"""The internal endpoints the order application calls (and the reservations list)."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory import services
from inventory.api.authentication import actor_of, api_client_of
from inventory.api.filters import ReservationFilter
from inventory.api.permissions import InternalClientOrStaffAction, IsInternalClient
from inventory.api.schema import INSUFFICIENT_STOCK_EXAMPLE, LIST, PROTECTED, WITH_BODY, errors
from inventory.api.serializers.reservations import (
    CleanupInputSerializer,
    CleanupResultSerializer,
    OrderLineInputSerializer,
    OrderReservationsSerializer,
    ReservationSerializer,
    ReserveAnswerSerializer,
    ReserveInputSerializer,
    ReserveOneLineSerializer,
    ReserveOrderSerializer,
    order_reservations_body,
    reserve_answer_body,
    well_formed_order_line,
    well_formed_reserve,
)
from inventory.api.views.base import ApiViewSet
from inventory.models import Reservation
from inventory.replica import replica_reads

RESERVATION_NOT_FOUND = "`reservation_not_found`: no reservation for that order (and product)."
CAMPAIGN_ORDER_EXAMPLE = OpenApiExample(
    "A gold customer's order, one line of it from a campaign's quota",
    request_only=True,
    value={
        "order_id": "A-1002",
        "customer_tier": "gold",
        "items": [{"product_id": 42, "quantity": 2, "quota": "spring-42"}, {"product_id": 7, "quantity": 1}],
    },
)

PRESALE_ORDER_EXAMPLE = OpenApiExample(
    "A pre-sale order: what is not on the shelf is sold ahead of stock",
    request_only=True,
    value={"order_id": "A-1003", "product_id": 42, "quantity": 3, "backorder": True},
)
SOLD_AHEAD_EXAMPLE = OpenApiExample(
    "One unit held from the shelf, two sold ahead on a pre-sale",
    response_only=True,
    status_codes=["201"],
    value={
        "order_id": "A-1003",
        "reservations": [
            {
                "id": 981,
                "order_id": "A-1003",
                "product_id": 42,
                "warehouse": "default",
                "quantity": 1,
                "status": "active",
                "reacquired": False,
                "expires_at": "2026-12-19T10:15:00Z",
                "created_at": "2026-12-19T10:00:00Z",
                "updated_at": "2026-12-19T10:00:00Z",
            }
        ],
        "backorders": [
            {
                "product_id": 42,
                "warehouse": "default",
                "presale": "spring-42",
                "quantity": 2,
                "filled": 0,
                "status": "open",
                "expected_date": "2026-12-20",
            }
        ],
    },
)


def _answer(order_id: str, reservations: list[Reservation], status_code: int = status.HTTP_200_OK) -> Response:
    return Response(order_reservations_body(order_id, reservations), status=status_code)


@extend_schema(tags=["internal"])
class OrderReservationViewSet(ApiViewSet):
    """For the order application's API client (internal role) only."""

    permission_classes = (IsInternalClient,)
    pagination_class = None
    filter_backends = ()

    def get_serializer_class(self):
        return {
            "reserve": ReserveInputSerializer,
            "release": OrderLineInputSerializer,
            "deduct": OrderLineInputSerializer,
        }.get(self.action, CleanupInputSerializer)

    @extend_schema(
        summary="Hold stock for an order: all lines or none",
        description=(
            "201 when anything new was reserved; 200 with the same body when every line already had an "
            "active or confirmed reservation of the same quantity (an idempotent repeat, nothing changes). "
            "A line whose reservation was cancelled or expired is never reopened: 409 `reservation_exists`. "
            "Each line is held in the first warehouse of the pool's order (`pool`, default `all`; the "
            "`nearest` strategy sorts by `ship_to`) that can hold all of it, else split over several "
            "warehouses in that order (one reservation per warehouse), unless `split` is false. "
            "`insufficient_stock` reports per short line the units available in the pool. "
            "Quotas: a line that names a `quota` draws on it first, and an order that gives its `customer_tier` "
            "draws each other line first on the best open quota of that tier for the product in the pool; what "
            "the quota lacks comes from free stock if the quota allows overflow, else the line is short. No other "
            "line takes a quota's units. A quota of another product than its line is a 400. "
            "Pre-sale: a line with `backorder: true` takes what free stock the pool has and sells the rest ahead "
            "of stock on the product's open pre-sale in the pool, up to its limit (short only when no pre-sale "
            "has the room); the answer then lists the order's `backorders` with the day their supply is expected, "
            "and `GET /orders/{order_id}/lines` follows them batch by batch as goods arrive."
        ),
        request=PolymorphicProxySerializer(
            component_name="ReserveRequest",
            serializers=[ReserveOneLineSerializer, ReserveOrderSerializer],
            resource_type_field_name=None,
        ),
        responses={
            201: ReserveAnswerSerializer,
            200: ReserveAnswerSerializer,
            **errors(
                *PROTECTED,
                *WITH_BODY,
                s404="`product_not_found`, `pool_not_found`, or `quota_not_found` (a line names no quota's code)",
                s409="`insufficient_stock` (`details.items`: product_id, requested, available), "
                "`reservation_exists`, or `quota_not_active` (a quota a line names has ended or is not open now).",
            ),
        },
        examples=[CAMPAIGN_ORDER_EXAMPLE, PRESALE_ORDER_EXAMPLE, SOLD_AHEAD_EXAMPLE, INSUFFICIENT_STOCK_EXAMPLE],
    )
    @action(detail=False, methods=["post"])
    def reserve(self, request):
        # The usual body is read by hand; anything else goes to the serializer, which words the 400.
        data = well_formed_reserve(request.data) or self.validated(ReserveInputSerializer)
        lines = [
            services.ReservationLine(
                line["product_id"], line["quantity"], line.get("quota", ""), line.get("backorder", False)
            )
            for line in data["lines"]
        ]
        result = services.reserve_stock(
            order_id=data["order_id"],
            lines=lines,
            ttl_seconds=data["ttl_seconds"],
            actor=actor_of(request),
            client_id=request.auth.pk,
            routing=data["routing"],
            customer_tier=data["customer_tier"],
        )
        backorders = result.backorders if any(line.backorder for line in lines) else None
        return Response(
            reserve_answer_body(result.order_id, result.reservations, backorders),
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Order cancelled: release its active reservations",
        request=OrderLineInputSerializer,
        responses={
            200: OrderReservationsSerializer,
            **errors(
                *PROTECTED,
                *WITH_BODY,
                s404=RESERVATION_NOT_FOUND,
                s409="`reservation_not_active`: a line is confirmed; nothing was released.",
            ),
        },
    )
    @action(detail=False, methods=["post"])
    def release(self, request):
        data = well_formed_order_line(request.data) or self.validated(OrderLineInputSerializer)
        reservations = services.release_reservations(**data, actor=actor_of(request), client_id=request.auth.pk)
        return _answer(data["order_id"], reservations)

    @extend_schema(
        summary="Payment succeeded: confirm the order's reservations",
        request=OrderLineInputSerializer,
        responses={
            200: OrderReservationsSerializer,
            **errors(
                *PROTECTED,
                *WITH_BODY,
                s404=RESERVATION_NOT_FOUND,
                s409="`reservation_not_active` (a line is cancelled) or `reservation_expired` (a late payment "
                "whose units are gone; the overdue hold is expired and logged).",
            ),
        },
    )
    @action(detail=False, methods=["post"])
    def deduct(self, request):
        data = well_formed_order_line(request.data) or self.validated(OrderLineInputSerializer)
        reservations = services.deduct_reservations(**data, actor=actor_of(request), client_id=request.auth.pk)
        return _answer(data["order_id"], reservations)

    @extend_schema(
        summary="Expire every overdue active reservation",
        request=None,
        responses={200: CleanupResultSerializer, **errors(*PROTECTED, *WITH_BODY)},
    )
    @action(detail=False, methods=["post"], url_path="cleanup-expired")
    def cleanup_expired(self, request):
        expired = services.expire_overdue_reservations()
        return Response(CleanupResultSerializer({"expired": expired}).data)


@extend_schema(tags=["internal"])
@extend_schema_view(
    list=extend_schema(
        summary="Reservations, newest first (internal client, or staff with inventory.view_reservation)",
        responses={200: ReservationSerializer(many=True), **errors(*LIST)},
    )
)
class ReservationListViewSet(ApiViewSet):
    permission_classes = (InternalClientOrStaffAction,)
    staff_permissions = {"list": "inventory.view_reservation"}
    filterset_class = ReservationFilter
    serializer_class = ReservationSerializer

    def get_queryset(self) -> QuerySet:
        return Reservation.objects.order_by("-created_at", "-id")

    @replica_reads
    def list(self, request):
        reservations = self.filter_queryset(self.get_queryset())
        client = api_client_of(request)
        if client is not None and client.is_internal:
            # An internal client sees its own orders only; staff see every order.
            reservations = reservations.filter(client=client)
        return self.paginated(reservations, ReservationSerializer)
