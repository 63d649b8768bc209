"""Count sheets (staff): open one, record counts line by line, approve variances over the
tolerance, post (all or nothing, idempotent) or cancel; the variance report and counting
accuracy. Counting is blind by default: see `serializers.counts`."""

from django.utils import timezone
from django_filters import ChoiceFilter
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory import limits, services
from inventory.api.authentication import actor_of
from inventory.api.fields import parse_query_code, parse_query_int
from inventory.api.filters import StrictFilterSet, WarehouseCodeFilter
from inventory.api.permissions import StaffActionPermission, is_staff_with
from inventory.api.schema import IDEMPOTENCY_KEY_HEADER, LIST, PROTECTED, WITH_BODY, errors
from inventory.api.serializers.counts import (
    AccuracyReportSerializer,
    ApproveLinesInputSerializer,
    CountLineSerializer,
    CountSheetSerializer,
    CreateCountSheetInputSerializer,
    CycleProposalSerializer,
    PostSheetInputSerializer,
    ProposeCycleSheetInputSerializer,
    RecordCountInputSerializer,
    VarianceReportSerializer,
)
from inventory.api.views.base import Answer, ApiViewSet
from inventory.models import CountSheet, CountSheetKind, CountSheetStatus
from inventory.replica import replica_reads
from inventory.selectors.counts import (
    accuracy_by_day,
    accuracy_by_sheet,
    count_sheets,
    shows_expected,
    variance_report,
)

APPROVE = "inventory.approve_countsheet"
NOT_FOUND = "`count_sheet_not_found`"
NOT_OPEN = "`count_sheet_not_open`: the sheet is posted or cancelled."
SHEET_ID = OpenApiParameter(
    "id",
    {"type": "integer", "format": "int64", "minimum": 1, "maximum": limits.MAX_PRODUCT_ID},
    OpenApiParameter.PATH,
    description="The count sheet's id.",
)
CREATE_EXAMPLE = OpenApiExample(
    "Three products of sh-1, 2 units or 5 % of tolerance",
    request_only=True,
    value={
        "warehouse": "sh-1",
        "product_ids": [42, 43, 44],
        "tolerance_units": 2,
        "tolerance_percent": "5.00",
    },
)
COUNT_EXAMPLE = OpenApiExample("17 on the shelf", request_only=True, value={"product_id": 42, "counted": 17})
BLIND_LINE_EXAMPLE = OpenApiExample(
    "As a blind counter sees it",
    response_only=True,
    value={
        "product_id": 42,
        "counted": 17,
        "expected": None,
        "ledger_position": None,
        "variance": None,
        "within_tolerance": None,
        "variance_value": None,
        "counted_by": "counter",
        "counted_at": "2026-12-03T09:00:00.000000+00:00",
        "approved_by": "",
        "approved_at": None,
        "adjustment_id": None,
    },
)
POST_DESCRIPTION = (
    "Every line with a variance becomes one `adjust` log entry (reference `count:<id>`): the variance "
    "(counted - expected, the expected figure frozen when the line was counted) is added to the level's "
    "available stock as it is now, so what moved since the count stays moved; reserved units stay held. "
    "All or nothing: a line not counted (`count_incomplete`), a variance over the tolerance nobody approved "
    "(`count_needs_approval`) or a loss larger than the level's available stock now (`count_would_go_negative`, "
    "every such line in `details.lines`) posts nothing. Posting a posted sheet answers it as it is."
)


class CountSheetFilter(StrictFilterSet):
    status = ChoiceFilter(choices=CountSheetStatus.choices)
    kind = ChoiceFilter(choices=CountSheetKind.choices)
    warehouse = WarehouseCodeFilter(help_text="Of this warehouse (its code).")

    class Meta:
        model = CountSheet
        fields = ["status", "kind", "warehouse"]


@extend_schema(tags=["staff"])
@extend_schema_view(
    list=extend_schema(
        summary="Count sheets, newest first (filters status, kind, warehouse)",
        responses={
            200: CountSheetSerializer(many=True),
            **errors(*LIST, s404="`warehouse_not_found`, or `not_found` (no such page)."),
        },
    ),
    retrieve=extend_schema(
        summary="One count sheet with its lines (blind while open: no expected figures but for approvers)",
        parameters=[SHEET_ID],
        responses={200: CountSheetSerializer, **errors(*PROTECTED, s404=NOT_FOUND)},
    ),
    create=extend_schema(
        summary="Open a count sheet of a warehouse: the products listed, or every level there",
        description="Changes no stock. Without `product_ids` a full stock-take: a line per level of the "
        "warehouse now, and a product found on the shelf may be counted too. Blind by default. With no "
        "tolerance only an exact count needs no approval; with both, a variance within either needs none.",
        request=CreateCountSheetInputSerializer,
        parameters=[IDEMPOTENCY_KEY_HEADER],
        responses={
            201: CountSheetSerializer,
            **errors(*PROTECTED, *WITH_BODY, 422, s404="`warehouse_not_found`, or `product_not_found`"),
        },
        examples=[CREATE_EXAMPLE],
    ),
)
class CountSheetViewSet(ApiViewSet):
    """Warehouse staff with the count-sheet permissions: counters count, managers approve and post."""

    permission_classes = (StaffActionPermission,)
    staff_permissions = {
        "list": "inventory.view_countsheet",
        "retrieve": "inventory.view_countsheet",
        "accuracy": "inventory.view_countsheet",
        "create": "inventory.count_countsheet",
        "cycle": "inventory.count_countsheet",
        "counts": "inventory.count_countsheet",
        "report": APPROVE,
        "approve": APPROVE,
        "post_sheet": APPROVE,
        "cancel": APPROVE,
    }
    lookup_value_regex = "[^/]+"
    filterset_class = CountSheetFilter

    def get_queryset(self):
        return count_sheets()

    def get_serializer_class(self):
        return {
            "create": CreateCountSheetInputSerializer,
            "cycle": ProposeCycleSheetInputSerializer,
            "counts": RecordCountInputSerializer,
            "approve": ApproveLinesInputSerializer,
            "post_sheet": PostSheetInputSerializer,
        }.get(self.action, CountSheetSerializer)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "may_approve": is_staff_with(self.request, APPROVE)}

    @replica_reads
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self._sheets(page))

    def retrieve(self, request, pk=None):
        return Response(self._sheet(services.get_count_sheet(self._sheet_id(pk))))

    def create(self, request):
        data = self.validated(CreateCountSheetInputSerializer)
        kind = CountSheetKind.LIST if "product_ids" in data else CountSheetKind.FULL

        def change() -> Answer:
            sheet = services.create_count_sheet(actor=actor_of(request), kind=kind, **data)
            return Answer(status.HTTP_201_CREATED, self._sheet(sheet))

        return self.idempotent(change)

    @extend_schema(
        summary="Propose today's cycle-count sheet of a warehouse: the products due by their ABC class",
        description="A product is due when no posted sheet of the warehouse counted it within its class's interval "
        f"(A {limits.CYCLE_COUNT_INTERVAL_DAYS['A']}, B {limits.CYCLE_COUNT_INTERVAL_DAYS['B']}, "
        f"C {limits.CYCLE_COUNT_INTERVAL_DAYS['C']} days; every product is C until the ABC classes are wired) "
        f"and no open sheet lists it; at most {limits.MAX_CYCLE_SHEET_LINES}, the most overdue first. "
        "The answer names the sheet: 201; nothing due: 200 and `sheet` null.",
        request=ProposeCycleSheetInputSerializer,
        parameters=[IDEMPOTENCY_KEY_HEADER],
        responses={
            201: CycleProposalSerializer,
            200: CycleProposalSerializer,
            **errors(*PROTECTED, *WITH_BODY, 422, s404="`warehouse_not_found`"),
        },
    )
    @action(detail=False, methods=["post"])
    def cycle(self, request):
        data = self.validated(ProposeCycleSheetInputSerializer)

        def change() -> Answer:
            sheet = services.propose_cycle_sheet(actor=actor_of(request), today=timezone.localdate(), **data)
            if sheet is None:
                return Answer(status.HTTP_200_OK, {"sheet": None})
            return Answer(status.HTTP_201_CREATED, {"sheet": self._sheet(sheet)})

        return self.idempotent(change)

    @extend_schema(
        summary="Record a count: what is on the shelf of one product (a recount replaces it)",
        description="The expected figure (on hand: available + reserved) and the ledger position are frozen "
        "with it under the level's lock; a recount replaces them and any approval. A full sheet takes a product "
        "it did not list; a list or cycle sheet answers `count_line_not_found`.",
        request=RecordCountInputSerializer,
        parameters=[SHEET_ID, IDEMPOTENCY_KEY_HEADER],
        responses={
            200: CountLineSerializer,
            **errors(
                *PROTECTED,
                *WITH_BODY,
                422,
                s404=f"{NOT_FOUND}, `count_line_not_found` or `product_not_found`",
                s409=NOT_OPEN,
            ),
        },
        examples=[COUNT_EXAMPLE, BLIND_LINE_EXAMPLE],
    )
    @action(detail=True, methods=["post"])
    def counts(self, request, pk=None):
        sheet_id = self._sheet_id(pk)
        data = self.validated(RecordCountInputSerializer)

        def change() -> Answer:
            line = services.record_count(sheet_id=sheet_id, actor=actor_of(request), **data)
            context = {"shows_expected": shows_expected(line.sheet, self.get_serializer_context()["may_approve"])}
            return Answer(status.HTTP_200_OK, CountLineSerializer(line, context=context).data)

        return self.idempotent(change)

    @extend_schema(
        summary="Approve counted lines whose variance is over the tolerance (managers)",
        request=ApproveLinesInputSerializer,
        parameters=[SHEET_ID, IDEMPOTENCY_KEY_HEADER],
        responses={
            200: CountSheetSerializer,
            **errors(
                *PROTECTED,
                *WITH_BODY,
                422,
                s404=f"{NOT_FOUND}, or `count_line_not_found`",
                s409=f"{NOT_OPEN} `count_incomplete`: a line named is not counted yet.",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        sheet_id = self._sheet_id(pk)
        data = self.validated(ApproveLinesInputSerializer)
        return self._step(services.approve_lines, sheet_id=sheet_id, product_ids=data["product_ids"])

    @extend_schema(
        summary="Post a count sheet: its variances become adjustments, all or nothing (managers)",
        description=POST_DESCRIPTION,
        request=PostSheetInputSerializer,
        parameters=[SHEET_ID, IDEMPOTENCY_KEY_HEADER],
        responses={
            200: CountSheetSerializer,
            **errors(
                *PROTECTED,
                *WITH_BODY,
                422,
                s404=NOT_FOUND,
                s409="`count_sheet_not_open`: the sheet is cancelled. `count_incomplete`, `count_needs_approval`, "
                "`count_would_go_negative`: see above.",
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="post")
    def post_sheet(self, request, pk=None):
        sheet_id = self._sheet_id(pk)
        data = self.validated(PostSheetInputSerializer)
        return self._step(services.post_sheet, sheet_id=sheet_id, reason=data["reason"])

    @extend_schema(
        summary="Cancel an open count sheet: nothing is posted (managers)",
        request=None,
        parameters=[SHEET_ID, IDEMPOTENCY_KEY_HEADER],
        responses={200: CountSheetSerializer, **errors(*PROTECTED, 422, s404=NOT_FOUND, s409=NOT_OPEN)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._step(services.cancel_sheet, sheet_id=self._sheet_id(pk))

    @extend_schema(
        summary="The variance report of a sheet: per line and in total, units and value (managers)",
        parameters=[SHEET_ID],
        responses={200: VarianceReportSerializer, **errors(*PROTECTED, s404=NOT_FOUND)},
    )
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        return Response(VarianceReportSerializer(variance_report(services.get_count_sheet(self._sheet_id(pk)))).data)

    @extend_schema(
        summary="Counting accuracy: the share of counted lines within tolerance, per posted sheet and per day",
        parameters=[
            OpenApiParameter(
                "warehouse",
                {"type": "string", "pattern": limits.LOCATION_CODE_PATTERN, "minLength": 1, "maxLength": 32},
                description="Only this warehouse's sheets (its code).",
            )
        ],
        responses={200: AccuracyReportSerializer, **errors(*PROTECTED, s404="`warehouse_not_found`")},
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=())
    @replica_reads
    def accuracy(self, request):
        if unknown := sorted(set(request.query_params) - {"warehouse"}):
            raise serializers.ValidationError({name: ["This parameter is not allowed."] for name in unknown})
        warehouse = parse_query_code("warehouse", request.query_params.get("warehouse"))
        answer = {"by_sheet": accuracy_by_sheet(warehouse=warehouse), "by_day": accuracy_by_day(warehouse=warehouse)}
        return Response(AccuracyReportSerializer(answer).data)

    def _step(self, service, **arguments) -> Response:
        def change() -> Answer:
            return Answer(status.HTTP_200_OK, self._sheet(service(actor=actor_of(self.request), **arguments)))

        return self.idempotent(change)

    def _sheet(self, sheet: CountSheet) -> dict:
        return CountSheetSerializer(sheet, context=self.get_serializer_context()).data

    def _sheets(self, sheets) -> list:
        return CountSheetSerializer(sheets, many=True, context=self.get_serializer_context()).data

    @staticmethod
    def _sheet_id(raw: str) -> int:
        return parse_query_int("id", raw, minimum=1, maximum=limits.MAX_PRODUCT_ID)
