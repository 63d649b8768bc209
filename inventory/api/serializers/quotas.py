"""Input and output shapes of the quota endpoints.

Strict as the purchase orders' (`StrictInputSerializer`): an unknown field is a 400 naming
it, every figure is a JSON integer in the range of `inventory.limits`, and a moment is RFC
3339 with its offset (`AwareDateTimeField`). The services check every rule again; what only
the database's clock can say (an end in the future) is theirs alone.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inventory import limits
from inventory.api.fields import (
    AwareDateTimeField,
    LabelField,
    LocationCodeField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    UTCDateTimeField,
    WarehouseCodeField,
    code_schema,
    product_id_field,
    quantity_field,
)
from inventory.api.serializers.strict import StrictInputSerializer, text_field
from inventory.models import Quota, QuotaStatus

PRIORITY_HELP = f"{limits.MIN_QUOTA_PRIORITY} to {limits.MAX_QUOTA_PRIORITY}; lower is served first."
TIER_HELP = "The customer tier whose orders draw on it without naming it; empty: only lines that name it."
OVERFLOW_HELP = "Whether a line may take what the quota lacks from free stock."
ENDS_AFTER_START = "Must be later than starts_at."


@extend_schema_field(code_schema("spring-42"))
class QuotaCodeField(LocationCodeField):
    """A quota's code: the same rule as a warehouse's."""


@extend_schema_field(code_schema("gold"))
class CustomerTierField(LocationCodeField):
    """An order's customer tier: a code as a warehouse's."""


@extend_schema_field(
    {
        "type": "string",
        "maxLength": limits.LOCATION_CODE_MAX_LENGTH,
        "pattern": limits.QUOTA_TIER_PATTERN,
        "example": "gold",
    }
)
class TierField(StrictCharField):
    """A customer tier: a code as a warehouse's, or "" for none."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", TIER_HELP)
        super().__init__(allow_blank=True, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value and not limits.is_location_code(value):
            raise serializers.ValidationError(f"A tier is empty or {limits.LOCATION_CODE_RULE}.")
        return value


def priority_field(**kwargs) -> StrictIntegerField:
    return StrictIntegerField(
        min_value=limits.MIN_QUOTA_PRIORITY, max_value=limits.MAX_QUOTA_PRIORITY, help_text=PRIORITY_HELP, **kwargs
    )


def name_field(**kwargs) -> LabelField:
    return LabelField(max_length=limits.QUOTA_NAME_MAX_LENGTH, help_text="A name for people.", **kwargs)


def _model_default(field: str):
    """A term's default when the body leaves it out: the model's, so that the two never differ."""
    return Quota._meta.get_field(field).default


def _require_end_after_start(attrs: dict) -> dict:
    if "starts_at" in attrs and "ends_at" in attrs and attrs["ends_at"] <= attrs["starts_at"]:
        raise serializers.ValidationError({"ends_at": [ENDS_AFTER_START]})
    return attrs


class CreateQuotaInputSerializer(StrictInputSerializer):
    """A quota: `quantity` units of a product's level set aside now, drawn on from `starts_at` to `ends_at`."""

    code = QuotaCodeField(help_text=f"Names the quota everywhere; {limits.LOCATION_CODE_RULE}; never changes.")
    product_id = product_id_field()
    warehouse = LocationCodeField(
        required=False,
        default=limits.DEFAULT_WAREHOUSE,
        help_text="The level's warehouse (its code); default `default`.",
    )
    quantity = quantity_field(help_text="Units set aside, from the level's free stock.")
    starts_at = AwareDateTimeField(help_text="From when reserves may draw on it (RFC 3339, with its offset).")
    ends_at = AwareDateTimeField(help_text="When it ends and returns what is left: later than starts_at, and future.")
    tier = TierField(required=False, default=_model_default("tier"))
    priority = priority_field(required=False, default=_model_default("priority"))
    overflow = StrictBooleanField(required=False, default=_model_default("overflow"), help_text=OVERFLOW_HELP)
    name = name_field(required=False, default=_model_default("name"))
    reason = text_field(limits.MAX_REASON_LENGTH)

    def validate(self, attrs):
        return _require_end_after_start(attrs)


class ChangeQuotaInputSerializer(StrictInputSerializer):
    """Only the fields given change; one log entry says what changed."""

    quantity = quantity_field(
        required=False,
        help_text="The units granted in all, drawn ones included (never fewer than drawn): more sets more aside "
        "from free stock, less returns units to it.",
    )
    starts_at = AwareDateTimeField(required=False)
    ends_at = AwareDateTimeField(required=False, help_text="Later than starts_at, and in the future.")
    priority = priority_field(required=False)
    overflow = StrictBooleanField(required=False, help_text=OVERFLOW_HELP)
    tier = TierField(required=False)
    name = name_field(required=False)
    reason = text_field(limits.MAX_REASON_LENGTH)

    def validate(self, attrs):
        return _require_end_after_start(attrs)


class EndQuotaInputSerializer(StrictInputSerializer):
    """Why the quota ends (optional)."""

    reason = text_field(limits.MAX_REASON_LENGTH)


class QuotaSerializer(serializers.ModelSerializer):
    product_id = serializers.IntegerField(read_only=True)
    warehouse = WarehouseCodeField()
    status = serializers.ChoiceField(choices=QuotaStatus.choices, read_only=True)
    quantity = serializers.IntegerField(read_only=True, help_text="Units granted in all.")
    allotted = serializers.IntegerField(read_only=True, help_text="Units still set aside.")
    drawn = serializers.IntegerField(read_only=True, help_text="Units reserves took from it.")
    starts_at = UTCDateTimeField()
    ends_at = UTCDateTimeField()
    actor = serializers.CharField(read_only=True, help_text="Who created it.")
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    class Meta:
        model = Quota
        fields = [
            "code",
            "name",
            "product_id",
            "warehouse",
            "tier",
            "priority",
            "overflow",
            "quantity",
            "allotted",
            "drawn",
            "status",
            "starts_at",
            "ends_at",
            "actor",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
