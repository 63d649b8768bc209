"""The staff endpoints of warehouses and pools: validate the input, call one service, render the output."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response

from inventory import limits, services
from inventory.api.authentication import actor_of
from inventory.api.permissions import StaffActionPermission
from inventory.api.schema import IDEMPOTENCY_KEY_HEADER, LIST, PROTECTED, WITH_BODY, errors
from inventory.api.serializers.warehouses import (
    ChangePoolInputSerializer,
    ChangeWarehouseInputSerializer,
    CreatePoolInputSerializer,
    CreateWarehouseInputSerializer,
    PoolSerializer,
    WarehouseSerializer,
)
from inventory.api.views.base import Answer, ApiViewSet
from inventory.exceptions import PoolNotFound, WarehouseNotFound
from inventory.models import Pool, Warehouse
from inventory.replica import replica_reads
from inventory.selectors.pools import pools

BAD_CODE = f"anything but {limits.LOCATION_CODE_RULE} is a 400 `validation_error`"
ALREADY_EXISTS = "`already_exists`: the code is taken."
WAREHOUSE_NOT_FOUND = "`warehouse_not_found`: no warehouse has this code."
POOL_NOT_FOUND = "`pool_not_found`: no pool has this code."
POOL_INPUT_ERRORS = (
    "`validation_error`: a malformed body or code, or a warehouse that does not exist "
    "(`details.warehouses` names them)."
)


def code_path_parameter(noun: str) -> OpenApiParameter:
    return OpenApiParameter(
        "code",
        {
            "type": "string",
            "minLength": 1,
            "maxLength": limits.LOCATION_CODE_MAX_LENGTH,
            "pattern": limits.LOCATION_CODE_PATTERN,
        },
        OpenApiParameter.PATH,
        description=f"The {noun}'s code; {BAD_CODE}.",
    )


def path_code(raw: str) -> str:
    """A code in the path: a 400 when malformed, so that only a well-formed unknown code is a 404."""
    if not limits.is_location_code(raw):
        raise serializers.ValidationError({"code": [f"A code is {limits.LOCATION_CODE_RULE}."]})
    return raw


WAREHOUSE_EXAMPLE = {
    "code": "sh-1",
    "name": "Shanghai 1",
    "region": "east",
    "latitude": 31.23,
    "longitude": 121.47,
    "priority": 10,
    "accepts_orders": True,
}
POOL_EXAMPLE = {"code": "east", "name": "East China", "warehouses": ["sh-1", "hz-1"], "strategy": "nearest"}


@extend_schema(tags=["staff"])
@extend_schema_view(
    list=extend_schema(
        summary="Warehouses, by priority then code",
        responses={200: WarehouseSerializer(many=True), **errors(*LIST)},
    ),
    create=extend_schema(
        summary="Create a warehouse (with no stock)",
        request=CreateWarehouseInputSerializer,
        parameters=[IDEMPOTENCY_KEY_HEADER],
        responses={201: WarehouseSerializer, **errors(*PROTECTED, *WITH_BODY, 422, s409=ALREADY_EXISTS)},
        examples=[
            OpenApiExample("A warehouse in Shanghai", request_only=True, value=WAREHOUSE_EXAMPLE),
            OpenApiExample(
                "The warehouse created",
                response_only=True,
                status_codes=["201"],
                value={**WAREHOUSE_EXAMPLE, "created_at": "2026-12-01T09:00:00.000000+00:00"},
            ),
        ],
    ),
    retrieve=extend_schema(
        summary="One warehouse",
        parameters=[code_path_parameter("warehouse")],
        responses={200: WarehouseSerializer, **errors(*PROTECTED, s404=WAREHOUSE_NOT_FOUND)},
    ),
    partial_update=extend_schema(
        summary="Change a warehouse: only the fields given (never its code)",
        description="latitude and longitude are given together (both null clears them). "
        "`accepts_orders: false` takes the warehouse out of allocation; its stock stays.",
        request=ChangeWarehouseInputSerializer,
        parameters=[code_path_parameter("warehouse"), IDEMPOTENCY_KEY_HEADER],
        responses={200: WarehouseSerializer, **errors(*PROTECTED, *WITH_BODY, 422, s404=WAREHOUSE_NOT_FOUND)},
    ),
)
class WarehouseViewSet(ApiViewSet):
    """Warehouse staff with the warehouse model permissions."""

    permission_classes = (StaffActionPermission,)
    staff_permissions = {
        "list": "inventory.view_warehouse",
        "retrieve": "inventory.view_warehouse",
        "create": "inventory.add_warehouse",
        "partial_update": "inventory.change_warehouse",
    }
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    queryset = Warehouse.objects.order_by("priority", "code")

    def get_serializer_class(self):
        return {
            "create": CreateWarehouseInputSerializer,
            "partial_update": ChangeWarehouseInputSerializer,
        }.get(self.action, WarehouseSerializer)

    @replica_reads
    def list(self, request):
        return self.paginated(self.get_queryset(), WarehouseSerializer)

    def retrieve(self, request, code=None):
        code = path_code(code)
        warehouse = self.get_queryset().filter(code=code).first()
        if warehouse is None:
            raise WarehouseNotFound(code)
        return Response(WarehouseSerializer(warehouse).data)

    def create(self, request):
        data = self.validated(CreateWarehouseInputSerializer)

        def change() -> Answer:
            warehouse = services.create_warehouse(**data, actor=actor_of(request))
            return Answer(status.HTTP_201_CREATED, WarehouseSerializer(warehouse).data)

        return self.idempotent(change)

    def partial_update(self, request, code=None):
        code = path_code(code)
        data = self.validated(ChangeWarehouseInputSerializer)

        def change() -> Answer:
            warehouse = services.update_warehouse(code, **data, actor=actor_of(request))
            return Answer(status.HTTP_200_OK, WarehouseSerializer(warehouse).data)

        return self.idempotent(change)


@extend_schema(tags=["staff"])
@extend_schema_view(
    list=extend_schema(
        summary="Pools, by code",
        responses={200: PoolSerializer(many=True), **errors(*LIST)},
    ),
    create=extend_schema(
        summary="Create a pool of warehouses that sell together",
        request=CreatePoolInputSerializer,
        parameters=[IDEMPOTENCY_KEY_HEADER],
        responses={
            201: PoolSerializer,
            **errors(
                *PROTECTED,
                *WITH_BODY,
                422,
                s400=POOL_INPUT_ERRORS,
                s409="`already_exists`: the code is taken (`all` always is).",
            ),
        },
        examples=[
            OpenApiExample("East China, nearest first", request_only=True, value=POOL_EXAMPLE),
            OpenApiExample("The pool created", response_only=True, status_codes=["201"], value=POOL_EXAMPLE),
        ],
    ),
    retrieve=extend_schema(
        summary="One pool (`all`: every warehouse that accepts orders)",
        parameters=[code_path_parameter("pool")],
        responses={200: PoolSerializer, **errors(*PROTECTED, s404=POOL_NOT_FOUND)},
    ),
    partial_update=extend_schema(
        summary="Change a pool: only the fields given; `warehouses` replaces the members",
        description=f"The pool `{limits.EVERY_WAREHOUSE_POOL}` holds every warehouse that accepts orders "
        "and cannot be changed: a 400.",
        request=ChangePoolInputSerializer,
        parameters=[code_path_parameter("pool"), IDEMPOTENCY_KEY_HEADER],
        responses={
            200: PoolSerializer,
            **errors(
                *PROTECTED,
                *WITH_BODY,
                422,
                s400=f"{POOL_INPUT_ERRORS} Also the pool `{limits.EVERY_WAREHOUSE_POOL}`, which cannot be changed.",
                s404=POOL_NOT_FOUND,
            ),
        },
    ),
)
class PoolViewSet(ApiViewSet):
    """Warehouse staff with the pool model permissions."""

    permission_classes = (StaffActionPermission,)
    staff_permissions = {
        "list": "inventory.view_pool",
        "retrieve": "inventory.view_pool",
        "create": "inventory.add_pool",
        "partial_update": "inventory.change_pool",
    }
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return pools()

    def get_serializer_class(self):
        return {
            "create": CreatePoolInputSerializer,
            "partial_update": ChangePoolInputSerializer,
        }.get(self.action, PoolSerializer)

    @replica_reads
    def list(self, request):
        return self.paginated(self.get_queryset(), PoolSerializer)

    def retrieve(self, request, code=None):
        code = path_code(code)
        pool = Pool.objects.filter(code=code).first()
        if pool is None:
            raise PoolNotFound(code)
        return Response(PoolSerializer(pool).data)

    def create(self, request):
        data = self.validated(CreatePoolInputSerializer)

        def change() -> Answer:
            pool = services.create_pool(**data, actor=actor_of(request))
            return Answer(status.HTTP_201_CREATED, PoolSerializer(pool).data)

        return self.idempotent(change)

    def partial_update(self, request, code=None):
        code = path_code(code)
        data = self.validated(ChangePoolInputSerializer)

        def change() -> Answer:
            pool = services.update_pool(code, **data, actor=actor_of(request))
            return Answer(status.HTTP_200_OK, PoolSerializer(pool).data)

        return self.idempotent(change)
