"""Input and output shapes of the inventory endpoints.

Input serializers only validate: they never save. The views hand their
`validated_data` to one service call and render what it returns.
"""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from inventory import limits
from inventory.api.errors import ERROR_CODES
from inventory.api.fields import (
    LocationCodeField,
    ProductNameField,
    SkuField,
    StrictIntegerField,
    UTCDateTimeField,
    WarehouseCodeField,
    is_json_int_in,
    product_id_field,
    quantity_field,
    version_field,
)
from inventory.models import Inventory, InventoryLog, LogOperation, StockLevel
from inventory.parsing import has_nul

# The rules as the OpenAPI document states them, for clients and the schema tests; the
# server never runs them. No NUL; a reason also has a character other than whitespace,
# stated so that a backtracking engine reads each character once: the leading
# whitespace and the first other character are disjoint classes (the pattern published
# before, `^[^\u0000]*[^\s\u0000][^\u0000]*$`, says the same in quadratic time).
NO_NUL_PATTERN = r"^[^\u0000]*$"
REASON_PATTERN = r"^\s*[^\s\u0000][^\u0000]*$"


class PlainTextField(serializers.CharField):
    """Free text with no NUL character (PostgreSQL cannot store one), checked in linear time.

    DRF runs every validator of a field even when one has already failed, so a
    pattern here would still read a 1 MiB value that is too long. This field checks
    the length first and stops there; the other checks are string methods. The
    messages are those of the RegexFields it replaces, word for word.
    """

    default_error_messages = {"invalid": "This value does not match the required pattern."}

    def __init__(self, *, require_text: bool = False, **kwargs):
        # Whether the value needs a character other than whitespace (a reason does).
        self.require_text = require_text
        self.schema_pattern = REASON_PATTERN if require_text else NO_NUL_PATTERN
        super().__init__(**kwargs)

    def run_validators(self, value: str) -> None:
        if len(value) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        errors = []
        try:
            super().run_validators(value)  # NUL and surrogates, each a linear scan
        except serializers.ValidationError as error:
            errors.extend(error.detail)
        if has_nul(value) or (self.require_text and not value.strip()):
            errors.append(self.error_messages["invalid"])
        if errors:
            raise serializers.ValidationError(errors)


class PlainTextFieldSchema(OpenApiSerializerFieldExtension):
    """A PlainTextField in the OpenAPI document: a string field with its `pattern`."""

    target_class = PlainTextField

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return {**schema, "pattern": self.target.schema_pattern}


def text_field(max_length: int) -> PlainTextField:
    return PlainTextField(required=False, allow_blank=True, max_length=max_length, default="", trim_whitespace=False)


def reason_field() -> PlainTextField:
    return PlainTextField(
        require_text=True,
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


# Fields of the record that only products with a name carry: an older client's answers
# (products created without them) stay exactly the contract's.
_NAMED_FIELDS = ("sku", "name")


class InventorySerializer(serializers.ModelSerializer):
    sku = serializers.CharField(read_only=True, required=False, help_text="Only present when the product has one.")
    name = serializers.CharField(read_only=True, required=False, help_text="Only present when the product has one.")
    # Sums over the product's levels (Inventory.objects annotates them).
    available_stock = serializers.IntegerField(read_only=True)
    reserved_stock = serializers.IntegerField(read_only=True)
    total_stock = serializers.IntegerField(read_only=True)
    low_stock_threshold = serializers.IntegerField(read_only=True)
    version = serializers.IntegerField(
        read_only=True, help_text="The sum of the levels' versions: it grows with every change."
    )
    is_low_stock = serializers.BooleanField(read_only=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    def to_representation(self, instance) -> dict:
        record = super().to_representation(instance)
        for field in _NAMED_FIELDS:
            if not record[field]:
                del record[field]
        return record

    class Meta:
        model = Inventory
        fields = list(Inventory.RECORD_FIELDS)
        read_only_fields = fields


class StockLevelSerializer(serializers.ModelSerializer):
    product_id = serializers.IntegerField(read_only=True)
    warehouse = WarehouseCodeField()
    is_low_stock = serializers.BooleanField(read_only=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    class Meta:
        model = StockLevel
        # The product's names are on its record, not repeated per level.
        fields = [field for field in StockLevel.RECORD_FIELDS if field not in _NAMED_FIELDS]
        read_only_fields = fields


class InventoryLogSerializer(serializers.ModelSerializer):
    product_id = serializers.IntegerField(read_only=True)
    warehouse = WarehouseCodeField()
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
    pool = LocationCodeField(required=False, help_text="Answer for this pool's warehouses; default every level.")


def well_formed_batch_lines(data) -> list[tuple[int, int]] | None:
    """The (product_id, quantity) lines of a batch body BatchCheckInputSerializer accepts, read without DRF.

    Validating 200 nested item serializers is a large part of a batch check's CPU.
    This reads the usual well-formed body by the same rules (JSON integers only, the
    fields' ranges, quantity defaulting to 1, unknown keys ignored) and returns None
    for anything else, which the serializer then judges: so every error answer is
    the serializer's own, word for word. tests/api/test_batch_check_input.py holds
    the two to the same verdicts.
    """
    items = data.get("items") if type(data) is dict and "pool" not in data else None
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


def warehouse_field() -> LocationCodeField:
    return LocationCodeField(
        required=False,
        default=limits.DEFAULT_WAREHOUSE,
        help_text="The level's warehouse (its code); default `default`.",
    )


class CreateInventoryInputSerializer(serializers.Serializer):
    product_id = product_id_field()
    sku = SkuField()
    name = ProductNameField()
    available_stock = StrictIntegerField(min_value=0, max_value=limits.MAX_QUANTITY, required=False, default=0)
    low_stock_threshold = StrictIntegerField(
        min_value=0, max_value=limits.MAX_QUANTITY, required=False, default=limits.DEFAULT_LOW_STOCK_THRESHOLD
    )
    warehouse = warehouse_field()


class RestockInputSerializer(serializers.Serializer):
    product_id = product_id_field()
    quantity = quantity_field()
    reason = text_field(limits.MAX_REASON_LENGTH)
    reference = text_field(limits.MAX_REFERENCE_LENGTH)
    warehouse = warehouse_field()


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
    expected_version = version_field()
    warehouse = warehouse_field()

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
    expected_version = version_field()
    warehouse = warehouse_field()


@extend_schema_serializer(component_name="AdjustToCount")
class AdjustToCountSerializer(serializers.Serializer):
    product_id = product_id_field()
    available_stock = StrictIntegerField(min_value=0, max_value=limits.MAX_QUANTITY, help_text="The counted figure.")
    reason = reason_field()
    reference = text_field(limits.MAX_REFERENCE_LENGTH)
    expected_version = version_field()
    warehouse = warehouse_field()


class ThresholdInputSerializer(serializers.Serializer):
    low_stock_threshold = StrictIntegerField(min_value=0, max_value=limits.MAX_QUANTITY)
    expected_version = version_field()
    warehouse = warehouse_field()


class HotInputSerializer(serializers.Serializer):
    buckets = StrictIntegerField(
        min_value=1,
        max_value=limits.MAX_BUCKETS,
        help_text="How many rows the level's available stock is spread over; 1 turns it off.",
    )
    warehouse = warehouse_field()
