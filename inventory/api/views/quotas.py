"""Quotas (staff): create, list, look up, change (terms and units), end."""

from django.db.models import QuerySet
from django_filters import ChoiceFilter
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory import services
from inventory.api.authentication import actor_of
from inventory.api.filters import ProductIdFilter, StrictFilterSet, TierFilter, WarehouseCodeFilter
from inventory.api.permissions import StaffActionPermission
from inventory.api.schema import IDEMPOTENCY_KEY_HEADER, INSUFFICIENT_STOCK_EXAMPLE, LIST, PROTECTED, WITH_BODY, errors
from inventory.api.serializers.quotas import (
    ChangeQuotaInputSerializer,
    CreateQuotaInputSerializer,
    EndQuotaInputSerializer,
    QuotaSerializer,
)
from inventory.api.views.base import Answer, ApiViewSet
from inventory.api.views.warehouses import code_path_parameter, path_code
from inventory.exceptions import QuotaNotFound
from inventory.models import Quota, QuotaStatus
from inventory.replica import replica_reads
from inventory.selectors.quotas import quota_by_code, quotas

NOT_FOUND = "`quota_not_found`: no quota has this code."
NOT_ACTIVE = "`quota_not_active`: the quota has ended."
SHORT = "`insufficient_stock`: the level's free stock (`details.items[].available`) cannot cover the units"
CODE = code_path_parameter("quota")
QUOTA_BODY = {
    "code": "spring-42",
    "name": "Spring campaign",
    "product_id": 42,
    "warehouse": "sh-1",
    "tier": "gold",
    "priority": 10,
    "overflow": True,
}
CREATE_EXAMPLE = OpenApiExample(
    "40 units of product 42 in sh-1 for gold customers, for a week",
    request_only=True,
    value={
        **QUOTA_BODY,
        "quantity": 40,
        "starts_at": "2026-12-01T00:00:00+08:00",
        "ends_at": "2026-12-08T00:00:00+08:00",
    },
)
QUOTA_EXAMPLE = OpenApiExample(
    "A quota 12 units of which were drawn",
    response_only=True,
    value={
        **QUOTA_BODY,
        "quantity": 40,
        "allotted": 28,
        "drawn": 12,
        "status": "active",
        "starts_at": "2026-11-30T16:00:00.000000+00:00",
        "ends_at": "2026-12-07T16:00:00.000000+00:00",
        "actor": "lead",
        "created_at": "2026-11-30T09:00:00.000000+00:00",
        "updated_at": "2026-12-02T10:15:00.000000+00:00",
    },
)
CHANGE_EXAMPLE = OpenApiExample(
    "Extend to 60 units, one more day",
    request_only=True,
    value={"quantity": 60, "ends_at": "2026-12-09T00:00:00+08:00", "reason": "The campaign sells well."},
)
END_EXAMPLE = OpenApiExample("The campaign is over", request_only=True, value={"reason": "Campaign cancelled."})


class QuotaFilter(StrictFilterSet):
    product_id = ProductIdFilter(field_name="product_id", help_text="Of this product.")
    warehouse = WarehouseCodeFilter(help_text="In this warehouse (its code).")
    tier = TierFilter(help_text="For this customer tier.")
    status = ChoiceFilter(choices=QuotaStatus.choices)

    class Meta:
        model = Quota
        fields = ["product_id", "warehouse", "tier", "status"]


@extend_schema(tags=["staff"])
@extend_schema_view(
    list=extend_schema(
        summary="Quotas, newest first (filters product_id, warehouse, tier, status)",
        responses={
            200: QuotaSerializer(many=True),
            **errors(*LIST, s404="`warehouse_not_found`, or `not_found` (no such page)."),
        },
    ),
    retrieve=extend_schema(
        summary="One quota, with its figures",
        parameters=[CODE],
        responses={200: QuotaSerializer, **errors(*PROTECTED, s404=NOT_FOUND)},
        examples=[QUOTA_EXAMPLE],
    ),
    create=extend_schema(
        summary="Create a quota: set units of a level aside for a campaign or a customer tier",
        description="The units are set aside at once, from the level's free stock, and stay in its available "
        "stock (every older answer counts them); only a reserve line that names the quota, or an order of its "
        "`tier` (`customer_tier`), may take them, between `starts_at` and `ends_at`. At the end what is left "
        "returns to free stock by itself.",
        request=CreateQuotaInputSerializer,
        parameters=[IDEMPOTENCY_KEY_HEADER],
        responses={
            201: QuotaSerializer,
            **errors(
                *PROTECTED,
                *WITH_BODY,
                422,
                s404="`warehouse_not_found`, or `product_not_found`",
                s409=f"{SHORT}; or `already_exists`: the code is taken.",
            ),
        },
        examples=[CREATE_EXAMPLE, QUOTA_EXAMPLE, INSUFFICIENT_STOCK_EXAMPLE],
    ),
)
class QuotaViewSet(ApiViewSet):
    """Warehouse staff with the quota permissions."""

    permission_classes = (StaffActionPermission,)
    staff_permissions = {
        "list": "inventory.view_quota",
        "retrieve": "inventory.view_quota",
        "create": "inventory.manage_quota",
        "change": "inventory.manage_quota",
        "end": "inventory.manage_quota",
    }
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    filterset_class = QuotaFilter

    def get_queryset(self) -> QuerySet:
        return quotas()

    def get_serializer_class(self):
        return {
            "create": CreateQuotaInputSerializer,
            "change": ChangeQuotaInputSerializer,
            "end": EndQuotaInputSerializer,
        }.get(self.action, QuotaSerializer)

    @replica_reads
    def list(self, request):
        return self.paginated(self.filter_queryset(self.get_queryset()), QuotaSerializer)

    def retrieve(self, request, code=None):
        code = path_code(code)
        quota = quota_by_code(code)
        if quota is None:
            raise QuotaNotFound(code)
        return Response(QuotaSerializer(quota).data)

    def create(self, request):
        data = self.validated(CreateQuotaInputSerializer)

        def change() -> Answer:
            quota = services.create_quota(**data, actor=actor_of(request))
            return Answer(status.HTTP_201_CREATED, QuotaSerializer(quota).data)

        return self.idempotent(change)

    @extend_schema(
        summary="Change a quota: its units granted, its window, priority, overflow, tier or name",
        description="Only the fields given change. `quantity` is the units granted in all, drawn ones "
        "included: more sets more aside from free stock, less returns units to it. The window may be moved "
        "while the quota is active (its end stays in the future).",
        request=ChangeQuotaInputSerializer,
        parameters=[CODE, IDEMPOTENCY_KEY_HEADER],
        responses={
            200: QuotaSerializer,
            **errors(
                *PROTECTED,
                *WITH_BODY,
                422,
                s400="`validation_error`: a malformed body, a window that ends before it starts or in the past, "
                "or a `quantity` below the units drawn.",
                s404=NOT_FOUND,
                s409=f"{NOT_ACTIVE} {SHORT} added.",
            ),
        },
        examples=[CHANGE_EXAMPLE, QUOTA_EXAMPLE],
    )
    @action(detail=True, methods=["post"])
    def change(self, request, code=None):
        code = path_code(code)
        data = self.validated(ChangeQuotaInputSerializer)

        def apply() -> Answer:
            quota = services.change_quota(code=code, **data, actor=actor_of(request))
            return Answer(status.HTTP_200_OK, QuotaSerializer(quota).data)

        return self.idempotent(apply)

    @extend_schema(
        summary="End a quota now: what it still sets aside returns to free stock",
        request=EndQuotaInputSerializer,
        parameters=[CODE, IDEMPOTENCY_KEY_HEADER],
        responses={
            200: QuotaSerializer,
            **errors(*PROTECTED, *WITH_BODY, 422, s404=NOT_FOUND, s409=f"{NOT_ACTIVE} (already)"),
        },
        examples=[END_EXAMPLE],
    )
    @action(detail=True, methods=["post"])
    def end(self, request, code=None):
        code = path_code(code)
        data = self.validated(EndQuotaInputSerializer)

        def change() -> Answer:
            quota = services.end_quota(code=code, reason=data["reason"], actor=actor_of(request))
            return Answer(status.HTTP_200_OK, QuotaSerializer(quota).data)

        return self.idempotent(change)
