"""Input and output shapes of the planning endpoints: a level's plan (its terms and what the
daily run computed), its demand history and forecast, the reorder report and the run's settings.

Strict as the other staff inputs (`StrictInputSerializer`): an unknown field is a 400 naming
it, a figure is a JSON number in the range of `inventory.limits`, a flag a JSON boolean.
"""

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
)
from inventory.api.serializers.strict import StrictInputSerializer
from inventory.models import AbcBasis, ItemPlan
from inventory.models.planning import ABC_CLASSES

SERVICE_LEVEL_RULE = f"a JSON number from {limits.MIN_SERVICE_LEVEL} up to (not including) 1, at most 3 decimals"
PERCENT_RULE = "a JSON number above 0 and at most 100, at most 2 decimals"


class _JsonNumberField(serializers.Field):
    """A JSON number (not a string, not a boolean) in [minimum, maximum) or [minimum, maximum], to `places` decimals."""

    def __init__(self, *, minimum: Decimal, maximum: Decimal, places: int, maximum_included: bool, rule: str, **kw):
        self.minimum, self.maximum, self.places, self.maximum_included, self.rule = (
            minimum,
            maximum,
            places,
            maximum_included,
            rule,
        )
        super().__init__(**kw)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise serializers.ValidationError(f"Must be {self.rule}.")
        value = Decimal(str(data))
        below_top = value <= self.maximum if self.maximum_included else value < self.maximum
        exponent = value.as_tuple().exponent
        if not (value.is_finite() and self.minimum <= value and below_top and -exponent <= self.places):
            raise serializers.ValidationError(f"Must be {self.rule}.")
        return value

    def to_representation(self, value):
        return float(value)


@extend_schema_field(
    {
        "type": "number",
        "minimum": limits.MIN_SERVICE_LEVEL,
        "maximum": 1,
        "exclusiveMaximum": True,
        "multipleOf": 0.001,
        "example": 0.95,
    }
)
class ServiceLevelField(_JsonNumberField):
    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text", f"The wanted chance of no stock-out in a replenishment cycle: {SERVICE_LEVEL_RULE}."
        )
        super().__init__(
            minimum=Decimal(str(limits.MIN_SERVICE_LEVEL)),
            maximum=Decimal(1),
            places=3,
            maximum_included=False,
            rule=SERVICE_LEVEL_RULE,
            **kwargs,
        )


@extend_schema_field(
    {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 100, "multipleOf": 0.01, "example": 80}
)
class PercentField(_JsonNumberField):
    def __init__(self, **kwargs):
        super().__init__(
            minimum=Decimal("0.01"), maximum=Decimal(100), places=2, maximum_included=True, rule=PERCENT_RULE, **kwargs
        )


def lead_time_field(**kwargs) -> StrictIntegerField:
    return StrictIntegerField(
        min_value=0,
        max_value=limits.MAX_PLANNING_DAYS,
        help_text=f"Days from ordering to the goods on the shelf: 0 to {limits.MAX_PLANNING_DAYS}.",
        **kwargs,
    )


class ItemPlanSerializer(serializers.ModelSerializer):
    product_id = serializers.IntegerField(read_only=True)
    warehouse = WarehouseCodeField()
    service_level = ServiceLevelField(read_only=True)
    abc_class = serializers.ChoiceField(
        choices=ABC_CLASSES, allow_blank=True, read_only=True, help_text='"": not classed yet (or no unit value).'
    )
    low_stock_threshold = serializers.IntegerField(read_only=True, help_text="The level's threshold now.")
    forecast = serializers.ListField(
        child=serializers.FloatField(), read_only=True, help_text="Units a day, from the day of the run on."
    )
    computed_at = UTCDateTimeField(allow_null=True, help_text="When the run computed the figures; null: not yet.")
    updated_at = UTCDateTimeField(allow_null=True, help_text="null: the default terms, never changed.")

    class Meta:
        model = ItemPlan
        fields = (
            "product_id",
            "warehouse",
            "lead_time_days",
            "service_level",
            "apply_suggestions",
            "low_stock_threshold",
            "abc_class",
            "demand_units",
            "method",
            "forecast",
            "error_sd",
            "history_days",
            "safety_stock",
            "reorder_point",
            "reorder_quantity",
            "computed_at",
            "updated_at",
        )
        read_only_fields = fields
        extra_kwargs = {
            "demand_units": {"help_text": "Units that left the level over the settings' window."},
            "method": {"help_text": "zero, mean, ses, holt_winters_weekly or croston_sba; empty: not computed."},
            "error_sd": {"help_text": "Standard deviation of the forecast's one-day-ahead error."},
            "apply_suggestions": {"help_text": "Whether the run sets the threshold to the reorder point."},
        }


class PlanDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    units = serializers.FloatField()


class ItemPlanDetailSerializer(ItemPlanSerializer):
    history = PlanDaySerializer(
        many=True, read_only=True, help_text="Units that left the level each day, oldest first."
    )
    forecast_by_day = PlanDaySerializer(many=True, read_only=True, help_text="The forecast with its dates.")

    class Meta(ItemPlanSerializer.Meta):
        fields = (*ItemPlanSerializer.Meta.fields, "history", "forecast_by_day")
        read_only_fields = fields


class ItemPlanTermsInputSerializer(StrictInputSerializer):
    """Only the terms given change; the reorder figures follow from the stored forecast at once."""

    warehouse = LocationCodeField(
        required=False, default=limits.DEFAULT_WAREHOUSE, help_text="The level's warehouse; default `default`."
    )
    lead_time_days = lead_time_field(required=False)
    service_level = ServiceLevelField(required=False)
    apply_suggestions = StrictBooleanField(
        required=False,
        help_text="Opt in: the run (and, when turned on, this call) sets the threshold to the reorder point, "
        "logged as any threshold edit.",
    )


class ReorderLineSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    warehouse = serializers.CharField(help_text="The warehouse's code.")
    abc_class = serializers.CharField()
    available = serializers.IntegerField()
    incoming = serializers.IntegerField(help_text="In transit, and open purchase-order lines due within the lead time.")
    backordered = serializers.IntegerField(help_text="What the level's open backorders still wait for.")
    position = serializers.IntegerField(help_text="available + incoming - backordered.")
    reorder_point = serializers.IntegerField()
    reorder_quantity = serializers.IntegerField()
    lead_time_days = serializers.IntegerField()
    suggested_quantity = serializers.IntegerField(help_text="Up to reorder point + reorder quantity.")


def count_days_help(abc_class: str) -> str:
    return (
        f"Days between cycle counts of a level of class {abc_class}: "
        f"{limits.MIN_COUNT_INTERVAL_DAYS} to {limits.MAX_PLANNING_DAYS}."
    )


class PlanningSettingsSerializer(serializers.Serializer):
    window_days = serializers.IntegerField(help_text="Days of demand the run reads.")
    abc_basis = serializers.ChoiceField(choices=AbcBasis.choices)
    a_percent = PercentField(help_text="A while the share of demand before a level is below this.")
    b_percent = PercentField(help_text="B while it is below this; C after.")
    a_count_days = serializers.IntegerField(help_text=count_days_help("A"))
    b_count_days = serializers.IntegerField(help_text=count_days_help("B"))
    c_count_days = serializers.IntegerField(help_text=count_days_help("C"))
    updated_at = UTCDateTimeField(allow_null=True, help_text="null: the defaults, never changed.")


class PlanningSettingsInputSerializer(StrictInputSerializer):
    """Only the settings given change; they apply from the next run."""

    window_days = StrictIntegerField(
        required=False,
        min_value=limits.MIN_DEMAND_WINDOW_DAYS,
        max_value=limits.MAX_PLANNING_DAYS,
        help_text=f"{limits.MIN_DEMAND_WINDOW_DAYS} to {limits.MAX_PLANNING_DAYS} days.",
    )
    abc_basis = serializers.ChoiceField(choices=AbcBasis.choices, required=False)
    a_percent = PercentField(required=False)
    b_percent = PercentField(required=False, help_text="Above a_percent.")
    a_count_days = StrictIntegerField(
        required=False,
        min_value=limits.MIN_COUNT_INTERVAL_DAYS,
        max_value=limits.MAX_PLANNING_DAYS,
        help_text=count_days_help("A"),
    )
    b_count_days = StrictIntegerField(
        required=False,
        min_value=limits.MIN_COUNT_INTERVAL_DAYS,
        max_value=limits.MAX_PLANNING_DAYS,
        help_text=count_days_help("B"),
    )
    c_count_days = StrictIntegerField(
        required=False,
        min_value=limits.MIN_COUNT_INTERVAL_DAYS,
        max_value=limits.MAX_PLANNING_DAYS,
        help_text=count_days_help("C"),
    )
