"""Input and output shapes of the inventory endpoints.

Input serializers only validate: they never save. The views hand their
`validated_data` to one service call and render what it returns.
"""

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from inventory import limits
from inventory.api.errors import ERROR_CODES
from inventory.api.fields import (
    StrictIntegerField,
    UTCDateTimeField,
    is_json_int_in,
    product_id_field,
)
from inventory.models import Inventory, InventoryLog, LogOperation


def quantity_field(**kwargs) -> StrictIntegerField:
    return StrictIntegerField(min_value=1, max_value=limits.MAX_QUANTITY, **kwargs)


# Text fields: no NUL character (PostgreSQL cannot store one).
NO_NUL_PATTERN = r"^[^\u0000]*$"


def text_field(max_length: int) -> serializers.RegexField:
    return serializers.RegexField(
        NO_NUL_PATTERN, required=False, allow_blank=True, max_length=max_length, default="", trim_whitespace=False
    )


def reason_field() -> serializers.RegexField:
    return serializers.RegexField(
        r"^[^\u0000]*[^\s\u0000][^\u0000]*$",
        max_length=limits.MAX_REASON_LENGTH,
        help_text="Required: why the stock is corrected.",
        error_messages={"invalid": "A reason is required."},
    )


# --- errors -----------------------------------------------------------------------


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=ERROR_CODES)
    message = serializers.CharField()
    details = serializers.DictField(
        help_text="validation_error: field name to messages; insufficient_stock: `items`; "
        "version_conflict: `current_version`; throttled: `retry_after`."
    )


@extend_schema_serializer(component_name="Error")
class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


# --- records --------------------------------------------------------------------------


class InventorySerializer(serializers.ModelSerializer):
    is_low_stock = serializers.BooleanField(read_only=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    class Meta:
        model = Inventory
        fields = [
            "product_id",
            "available_stock",
            "reserved_stock",
            "total_stock",
            "low_stock_threshold",
            "is_low_stock",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class InventoryLogSerializer(serializers.ModelSerializer):
    product_id = serializers.IntegerField(read_only=True)
    operation = serializers.ChoiceField(choices=LogOperation.choices, read_only=True)
    created_at = UTCDateTimeField()

    class Meta:
        model = InventoryLog
        fields = list(InventoryLog.ENTRY_FIELDS)
        read_only_fields = fields


# --- public checks ------------------------------------------------------------------


class CheckSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    available_stock = serializers.IntegerField()
    in_stock = serializers.BooleanField()
    is_low_stock = serializers.BooleanField()
    sufficient = serializers.BooleanField(help_text="available_stock >= quantity (default 1)")


class BatchCheckItemInputSerializer(serializers.Serializer):
    product_id = product_id_field()
    quantity = quantity_field(required=False, default=1, help_text="Default 1.")


class BatchCheckInputSerializer(serializers.Serializer):
    items = BatchCheckItemInputSerializer(many=True, min_length=1, max_length=limits.MAX_BATCH_ITEMS, allow_empty=False)


def well_formed_batch_lines(data) -> list[tuple[int, int]] | None:
    """The (product_id, quantity) lines of a batch body BatchCheckInputSerializer accepts, read without DRF.

    Validating 200 nested item serializers is a large part of a batch check's CPU.
    This reads the usual well-formed body by the same rules (JSON integers only, the
    fields' ranges, quantity defaulting to 1, unknown keys ignored) and returns None
    for anything else, which the serializer then judges: so every error answer is
    the serializer's own, word for word. tests/api/test_batch_check_input.py holds
    the two to the same verdicts.
    """
    items = data.get("items") if type(data) is dict else None
    if type(items) is not list or not 1 <= len(items) <= limits.MAX_BATCH_ITEMS:
        return None
    lines = []
    for item in items:
        if type(item) is not dict:
            return None
        product_id, quantity = item.get("product_id"), item.get("quantity", 1)
        if not (
            is_json_int_in(product_id, 1, limits.MAX_PRODUCT_ID) and is_json_int_in(quantity, 1, limits.MAX_QUANTITY)
        ):
            return None
        lines.append((product_id, quantity))
    return lines


class BatchCheckItemSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    quantity = serializers.IntegerField()
    found = serializers.BooleanField()
    available_stock = serializers.IntegerField()
    sufficient = serializers.BooleanField()


class BatchCheckSerializer(serializers.Serializer):
    all_available = serializers.BooleanField()
    items = BatchCheckItemSerializer(many=True, help_text="In request order.")


# --- staff changes -----------------------------------------------------------------------


class CreateInventoryInputSerializer(serializers.Serializer):
    product_id = product_id_field()
    available_stock = StrictIntegerField(min_value=0, max_value=limits.MAX_QUANTITY, required=False, default=0)
    low_stock_threshold = StrictIntegerField(min_value=0, max_value=limits.MAX_QUANTITY, required=False, default=10)


class RestockInputSerializer(serializers.Serializer):
    product_id = product_id_field()
    quantity = quantity_field()
    reason = text_field(limits.MAX_REASON_LENGTH)
    reference = text_field(limits.MAX_REFERENCE_LENGTH)


class AdjustInputSerializer(serializers.Serializer):
    product_id = product_id_field()
    delta = StrictIntegerField(
        min_value=-limits.MAX_QUANTITY,
        max_value=limits.MAX_QUANTITY,
        required=False,
        help_text="Signed change of available stock. Exactly one of delta and available_stock.",
    )
    available_stock = StrictIntegerField(
        min_value=0,
        max_value=limits.MAX_QUANTITY,
        required=False,
        help_text="The counted figure to set available stock to. Exactly one of delta and available_stock.",
    )
    reason = reason_field()
    reference = text_field(limits.MAX_REFERENCE_LENGTH)
    expected_version = StrictIntegerField(min_value=1, max_value=2**63 - 1, required=False)

    def validate(self, attrs):
        if ("delta" in attrs) == ("available_stock" in attrs):
            message = "Give exactly one of delta and available_stock."
            raise serializers.ValidationError({"delta": [message], "available_stock": [message]})
        return attrs


@extend_schema_serializer(component_name="AdjustByDelta")
class AdjustByDeltaSerializer(serializers.Serializer):
    product_id = product_id_field()
    delta = StrictIntegerField(
        min_value=-limits.MAX_QUANTITY, max_value=limits.MAX_QUANTITY, help_text="Signed change."
    )
    reason = reason_field()
    reference = text_field(limits.MAX_REFERENCE_LENGTH)
    expected_version = StrictIntegerField(min_value=1, max_value=2**63 - 1, required=False)


@extend_schema_serializer(component_name="AdjustToCount")
class AdjustToCountSerializer(serializers.Serializer):
    product_id = product_id_field()
    available_stock = StrictIntegerField(min_value=0, max_value=limits.MAX_QUANTITY, help_text="The counted figure.")
    reason = reason_field()
    reference = text_field(limits.MAX_REFERENCE_LENGTH)
    expected_version = StrictIntegerField(min_value=1, max_value=2**63 - 1, required=False)


class ThresholdInputSerializer(serializers.Serializer):
    low_stock_threshold = StrictIntegerField(min_value=0, max_value=limits.MAX_QUANTITY)
    expected_version = StrictIntegerField(min_value=1, max_value=2**63 - 1, required=False)
