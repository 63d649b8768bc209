"""Transfers between warehouses (staff): create, list, receive in parts, cancel."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory import limits, services
from inventory.api.authentication import actor_of
from inventory.api.fields import parse_query_int
from inventory.api.filters import TransferFilter
from inventory.api.permissions import StaffActionPermission
from inventory.api.schema import IDEMPOTENCY_KEY_HEADER, INSUFFICIENT_STOCK_EXAMPLE, LIST, PROTECTED, WITH_BODY, errors
from inventory.api.serializers.transfers import (
    CreateTransferInputSerializer,
    ReceiveTransferInputSerializer,
    TransferSerializer,
)
from inventory.api.views.base import Answer, ApiViewSet
from inventory.models import Transfer
from inventory.replica import replica_reads

TRANSFER_NOT_FOUND = "`transfer_not_found`"
TRANSFER_ID = OpenApiParameter(
    "id", {"type": "integer", "format": "int64", "minimum": 1}, OpenApiParameter.PATH, description="The transfer's id."
)
CREATE_EXAMPLE = OpenApiExample(
    "Two products from sh-1 to bj-1",
    request_only=True,
    value={"from": "sh-1", "to": "bj-1", "lines": [{"product_id": 42, "quantity": 5}], "reference": "TR-7"},
)
TRANSFER_EXAMPLE = OpenApiExample(
    "A transfer in transit",
    response_only=True,
    value={
        "id": 7,
        "from": "sh-1",
        "to": "bj-1",
        "status": "in_transit",
        "reference": "TR-7",
        "lines": [{"product_id": 42, "quantity": 5, "received": 0}],
        "created_at": "2026-12-01T09:00:00.000000+00:00",
        "updated_at": "2026-12-01T09:00:00.000000+00:00",
    },
)
NOT_OPEN = "`transfer_not_open`: the transfer is `received` or `cancelled`."


@extend_schema(tags=["staff"])
@extend_schema_view(
    list=extend_schema(
        summary="Transfers, newest first (filters status, from, to, product_id)",
        responses={200: TransferSerializer(many=True), **errors(*LIST, s404="`warehouse_not_found`")},
    ),
    retrieve=extend_schema(
        summary="One transfer",
        parameters=[TRANSFER_ID],
        responses={200: TransferSerializer, **errors(*PROTECTED, s404=TRANSFER_NOT_FOUND)},
    ),
    create=extend_schema(
        summary="Send goods: take them out of the source's available stock and put them in transit",
        description="All lines or none: 409 `insufficient_stock` when the source lacks units of a line.",
        request=CreateTransferInputSerializer,
        parameters=[IDEMPOTENCY_KEY_HEADER],
        responses={
            201: TransferSerializer,
            **errors(
                *PROTECTED,
                *WITH_BODY,
                422,
                s404="`warehouse_not_found`, or `product_not_found`",
                s409="`insufficient_stock` (`details.items`: product_id, requested, available in the source).",
            ),
        },
        examples=[CREATE_EXAMPLE, TRANSFER_EXAMPLE, INSUFFICIENT_STOCK_EXAMPLE],
    ),
)
class TransferViewSet(ApiViewSet):
    """Warehouse staff with the transfer permissions."""

    permission_classes = (StaffActionPermission,)
    staff_permissions = {
        "list": "inventory.view_transfer",
        "retrieve": "inventory.view_transfer",
        "create": "inventory.add_transfer",
        "receive": "inventory.receive_transfer",
        "cancel": "inventory.receive_transfer",
    }
    lookup_value_regex = "[^/]+"
    filterset_class = TransferFilter

    def get_queryset(self) -> QuerySet:
        return Transfer.objects.prefetch_related("lines").order_by("-id")

    def get_serializer_class(self):
        return {
            "create": CreateTransferInputSerializer,
            "receive": ReceiveTransferInputSerializer,
        }.get(self.action, TransferSerializer)

    @replica_reads
    def list(self, request):
        return self.paginated(self.filter_queryset(self.get_queryset()), TransferSerializer)

    def retrieve(self, request, pk=None):
        return Response(TransferSerializer(services.get_transfer(self._transfer_id(pk))).data)

    def create(self, request):
        data = self.validated(CreateTransferInputSerializer)

        def change() -> Answer:
            shipment = services.create_transfer(
                source=data["from"],
                destination=data["to"],
                lines=[services.TransferLineInput(line["product_id"], line["quantity"]) for line in data["lines"]],
                reference=data["reference"],
                actor=actor_of(request),
            )
            return Answer(status.HTTP_201_CREATED, TransferSerializer(shipment).data)

        return self.idempotent(change)

    @extend_schema(
        summary="Receive a transfer, whole or in part",
        description="Adds received units to the destination's available stock; a partial receipt leaves the "
        "rest in transit. Receiving more than is in transit is a 400.",
        request=ReceiveTransferInputSerializer,
        parameters=[TRANSFER_ID, IDEMPOTENCY_KEY_HEADER],
        responses={
            200: TransferSerializer,
            **errors(*PROTECTED, *WITH_BODY, 422, s404=TRANSFER_NOT_FOUND, s409=NOT_OPEN),
        },
    )
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        transfer_id = self._transfer_id(pk)
        data = self.validated(ReceiveTransferInputSerializer)
        lines = data.get("lines")

        def change() -> Answer:
            shipment = services.receive_transfer(
                transfer_id=transfer_id,
                lines=None
                if lines is None
                else [services.TransferLineInput(line["product_id"], line["quantity"]) for line in lines],
                actor=actor_of(request),
            )
            return Answer(status.HTTP_200_OK, TransferSerializer(shipment).data)

        return self.idempotent(change)

    @extend_schema(
        summary="Cancel a transfer: what is still in transit goes back to the source",
        request=None,
        parameters=[TRANSFER_ID, IDEMPOTENCY_KEY_HEADER],
        responses={200: TransferSerializer, **errors(*PROTECTED, 422, s404=TRANSFER_NOT_FOUND, s409=NOT_OPEN)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        transfer_id = self._transfer_id(pk)

        def change() -> Answer:
            shipment = services.cancel_transfer(transfer_id=transfer_id, actor=actor_of(request))
            return Answer(status.HTTP_200_OK, TransferSerializer(shipment).data)

        return self.idempotent(change)

    @staticmethod
    def _transfer_id(raw: str) -> int:
        return parse_query_int("id", raw, minimum=1, maximum=limits.MAX_PRODUCT_ID)
