"""Input and output shapes of the count-sheet endpoints.

Blind counting: while a blind sheet is open, a line's expected figure and what follows from
it (variance, tolerance, value) are shown only to those who may approve (`blind_view`); a
counter sees what they counted.
"""

import re
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inventory import limits
from inventory.api.fields import (
    LocationCodeField,
    StrictBooleanField,
    StrictIntegerField,
    UTCDateTimeField,
    WarehouseCodeField,
    product_id_field,
)
from inventory.api.serializers.strict import StrictInputSerializer, text_field
from inventory.models import CountSheetKind, CountSheetStatus
from inventory.selectors.counts import shows_expected

# The figures of a line that follow from its expected figure: hidden from a blind counter.
EXPECTED_FIGURES = ("expected", "ledger_position", "variance", "within_tolerance", "variance_value")


# 0 to 100, at most two places, as a JSON string: a decimal is exact only as text.
PERCENT_PATTERN = r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$"
_PERCENT_RE = re.compile(PERCENT_PATTERN)


@extend_schema_field({"type": "string", "pattern": PERCENT_PATTERN, "nullable": True, "example": "5.00"})
class PercentField(serializers.Field):
    """A tolerance in percent: a JSON string of 0 to 100 with at most two places, or null."""

    default_error_messages = {"invalid": "A percent of 0 to 100 as a string with at most two places is required."}

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_null=True, default=None, **kwargs)

    def to_internal_value(self, data):
        if type(data) is not str or _PERCENT_RE.fullmatch(data) is None:
            self.fail("invalid")
        return Decimal(data)

    def to_representation(self, value: Decimal) -> str:
        return f"{value:.{limits.TOLERANCE_PERCENT_DECIMAL_PLACES}f}"


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "integer", "format": "int64", "minimum": 1, "maximum": limits.MAX_PRODUCT_ID},
        "minItems": 1,
        "maxItems": limits.MAX_COUNT_LIST_PRODUCTS,
        "uniqueItems": True,
    }
)
class ProductIdsField(serializers.ListField):
    """1..MAX_COUNT_LIST_PRODUCTS product ids, each once."""

    def __init__(self, **kwargs):
        super().__init__(
            child=product_id_field(),
            min_length=1,
            max_length=limits.MAX_COUNT_LIST_PRODUCTS,
            allow_empty=False,
            help_text="Each product once.",
            **kwargs,
        )

    def to_internal_value(self, data):
        product_ids = super().to_internal_value(data)
        if len(set(product_ids)) != len(product_ids):
            raise serializers.ValidationError("Each product may appear once.")
        return product_ids


def tolerance_fields() -> dict:
    return {
        "tolerance_units": StrictIntegerField(
            min_value=0,
            max_value=limits.MAX_QUANTITY,
            required=False,
            allow_null=True,
            default=None,
            help_text="A variance of at most this many units needs no approval.",
        ),
        "tolerance_percent": PercentField(
            help_text="A variance within this percent of the expected figure needs no approval."
        ),
    }


# --- input ----------------------------------------------------------------------------


class CreateCountSheetInputSerializer(StrictInputSerializer):
    """A count sheet of one warehouse: the products listed, or without them every level there (a full count)."""

    warehouse = LocationCodeField(help_text="The warehouse counted (its code).")
    product_ids = ProductIdsField(required=False)
    blind = StrictBooleanField(required=False, default=True, help_text="Counters do not see the expected figures.")
    tolerance_units, tolerance_percent = tolerance_fields().values()
    note = text_field(limits.MAX_REASON_LENGTH)


class ProposeCycleSheetInputSerializer(StrictInputSerializer):
    """Today's cycle-count sheet of a warehouse (its products' classes: C until the ABC module says)."""

    warehouse = LocationCodeField(help_text="The warehouse counted (its code).")
    blind = StrictBooleanField(required=False, default=True)
    tolerance_units, tolerance_percent = tolerance_fields().values()


class RecordCountInputSerializer(StrictInputSerializer):
    """What a counter found on the shelf."""

    product_id = product_id_field()
    counted = StrictIntegerField(min_value=0, max_value=limits.MAX_QUANTITY, help_text="Units on the shelf.")


class ApproveLinesInputSerializer(StrictInputSerializer):
    """The lines a manager approves, by product."""

    product_ids = ProductIdsField()


class PostSheetInputSerializer(StrictInputSerializer):
    """Why the adjustments are made, beside the sheet's name (optional)."""

    reason = text_field(limits.MAX_REASON_LENGTH)


# --- output ---------------------------------------------------------------------------


class CountLineSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    counted = serializers.IntegerField(allow_null=True, help_text="null: not counted yet.")
    expected = serializers.IntegerField(
        allow_null=True, help_text="On hand (available + reserved) when counted; null: not counted, or blind."
    )
    ledger_position = serializers.IntegerField(
        allow_null=True, help_text="The level's last log entry id when counted (0: none)."
    )
    variance = serializers.IntegerField(allow_null=True, help_text="counted - expected.")
    within_tolerance = serializers.BooleanField(allow_null=True)
    variance_value = serializers.DecimalField(
        max_digits=30,
        decimal_places=limits.UNIT_VALUE_DECIMAL_PLACES,
        allow_null=True,
        help_text="variance x unit value (frozen at post); null: no unit value.",
    )
    counted_by = serializers.CharField()
    counted_at = UTCDateTimeField(allow_null=True)
    approved_by = serializers.CharField()
    approved_at = UTCDateTimeField(allow_null=True)
    adjustment_id = serializers.IntegerField(allow_null=True, help_text="The `adjust` log entry that posted it.")

    def to_representation(self, instance):
        shown = super().to_representation(instance)
        if not self.context.get("shows_expected", True):
            shown.update(dict.fromkeys(EXPECTED_FIGURES))
        return shown


class CountSheetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    warehouse = WarehouseCodeField()
    kind = serializers.ChoiceField(choices=CountSheetKind.choices)
    status = serializers.ChoiceField(choices=CountSheetStatus.choices)
    blind = serializers.BooleanField()
    tolerance_units = serializers.IntegerField(allow_null=True)
    tolerance_percent = PercentField()
    note = serializers.CharField()
    actor = serializers.CharField()
    ended_by = serializers.CharField()
    ended_at = UTCDateTimeField(allow_null=True)
    # Blind while open: the expected figures only for those who may approve.
    lines = serializers.SerializerMethodField()
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    @extend_schema_field(CountLineSerializer(many=True))
    def get_lines(self, sheet) -> list[dict]:
        return CountLineSerializer(sheet.lines.all(), many=True, context=self._line_context(sheet)).data

    def _line_context(self, sheet) -> dict:
        return {"shows_expected": shows_expected(sheet, self.context.get("may_approve", False))}


class CycleProposalSerializer(serializers.Serializer):
    sheet = CountSheetSerializer(allow_null=True, help_text="The sheet proposed; null: nothing is due.")


class VarianceReportSerializer(serializers.Serializer):
    sheet_id = serializers.IntegerField(source="sheet.id")
    status = serializers.CharField(source="sheet.status")
    counted = serializers.IntegerField(help_text="Lines counted.")
    not_counted = serializers.IntegerField()
    gained = serializers.IntegerField(help_text="Units found over what was expected (盘盈).")
    lost = serializers.IntegerField(help_text="Units missing of what was expected (盘亏).")
    net = serializers.IntegerField(help_text="gained - lost.")
    value = serializers.DecimalField(
        max_digits=30,
        decimal_places=limits.UNIT_VALUE_DECIMAL_PLACES,
        help_text="The net variance's value, over the lines whose unit value is known.",
    )
    lines_without_value = serializers.IntegerField(help_text="Lines with a variance and no unit value.")
    over_tolerance = serializers.IntegerField()
    awaiting_approval = serializers.IntegerField()
    lines = CountLineSerializer(many=True)


class AccuracySerializer(serializers.Serializer):
    lines = serializers.IntegerField(help_text="Counted lines of posted sheets.")
    within = serializers.IntegerField(help_text="Of them, within their sheet's tolerance.")
    share = serializers.DecimalField(max_digits=7, decimal_places=4, allow_null=True, help_text="within / lines.")


class SheetAccuracySerializer(AccuracySerializer):
    sheet_id = serializers.IntegerField(source="key")


class DayAccuracySerializer(AccuracySerializer):
    date = serializers.DateField(source="key")


class AccuracyReportSerializer(serializers.Serializer):
    by_sheet = SheetAccuracySerializer(many=True)
    by_day = DayAccuracySerializer(many=True)
