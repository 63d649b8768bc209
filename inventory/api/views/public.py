"""The public endpoints: availability checks for the shop front."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from inventory import limits, selectors
from inventory.api.fields import parse_query_code, parse_query_int
from inventory.api.schema import PRODUCT_NOT_FOUND, PUBLIC, WITH_BODY, errors, product_id_path_parameter
from inventory.api.serializers.stock import (
    BatchCheckInputSerializer,
    BatchCheckSerializer,
    CheckSerializer,
    well_formed_batch_lines,
)
from inventory.api.throttling import PublicRateThrottle
from inventory.api.views.base import ApiViewSet
from inventory.replica import replica_reads


@extend_schema(tags=["public"])
class PublicCheckViewSet(ApiViewSet):
    """Availability checks for the shop front: no credentials, throttled per client address."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (PublicRateThrottle,)
    pagination_class = None
    filter_backends = ()
    lookup_field = "product_id"
    lookup_value_regex = "[^/]+"

    def get_serializer_class(self):
        return BatchCheckInputSerializer

    @extend_schema(
        operation_id="inventory_check",
        summary="Is a product available (in a quantity)?",
        parameters=[
            product_id_path_parameter(),
            OpenApiParameter(
                "quantity",
                {"type": "integer", "minimum": 1, "maximum": limits.MAX_QUANTITY, "default": 1},
                description="`sufficient` is available_stock >= quantity.",
            ),
            OpenApiParameter(
                "pool",
                {"type": "string", "pattern": limits.LOCATION_CODE_PATTERN},
                description="Answer for this pool's warehouses; default every warehouse's stock.",
            ),
        ],
        responses={200: CheckSerializer, **errors(*PUBLIC, s404=f"{PRODUCT_NOT_FOUND}, or `pool_not_found`")},
    )
    @replica_reads
    def retrieve(self, request, product_id=None):
        check = selectors.check_product(
            product_id=self.path_product_id(product_id),
            quantity=parse_query_int(
                "quantity", request.query_params.get("quantity"), minimum=1, maximum=limits.MAX_QUANTITY, default=1
            ),
            pool=parse_query_code("pool", request.query_params.get("pool")),
        )
        return Response(CheckSerializer(check).data)

    @extend_schema(
        operation_id="inventory_check_batch",
        summary="Check 1..200 lines at once (one query)",
        description="Unknown products are `found: false, available_stock: 0, sufficient: false`, not an error.",
        request=BatchCheckInputSerializer,
        responses={200: BatchCheckSerializer, **errors(*PUBLIC, *WITH_BODY, s404="`pool_not_found`")},
    )
    @action(detail=False, methods=["post"])
    @replica_reads
    def batch(self, request):
        lines, pool = well_formed_batch_lines(request.data), None
        if lines is None:  # not the usual body: the serializer judges it and words any 400
            data = self.validated(BatchCheckInputSerializer)
            lines, pool = [(item["product_id"], item["quantity"]) for item in data["items"]], data.get("pool")
        return Response(selectors.check_products(lines=lines, pool=pool))
