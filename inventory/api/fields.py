"""Strict input fields: JSON integers only, the contract's order_id, UTC timestamps."""

import re
from datetime import UTC, datetime

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inventory import limits
from inventory.parsing import ascii_int, is_order_id
from inventory.selectors.warehouses import warehouse_code


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: booleans, floats (even 2.0), strings and null are refused."""

    default_error_messages = {
        "invalid": "A JSON integer is required (not a boolean, a float or a string).",
    }

    def to_internal_value(self, data):
        # bool is a subclass of int: compare the exact type.
        if type(data) is not int:
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean: DRF's BooleanField would take "yes", 1 or "true" too."""

    default_error_messages = {"invalid": "A JSON boolean (true or false) is required."}

    def to_internal_value(self, data):
        if type(data) is not bool:
            self.fail("invalid")
        return data


def is_json_int_in(value, minimum: int, maximum: int) -> bool:
    """What StrictIntegerField(min_value=minimum, max_value=maximum) accepts, for hand-read fast paths."""
    # `type(...) is int`, not isinstance: a bool is an int too, and is refused.
    return type(value) is int and minimum <= value <= maximum


def is_order_id_text(value) -> bool:
    """A string order_id that OrderIdField accepts as it is (it also takes JSON integers)."""
    return is_order_id(value)


def quantity_field(**kwargs) -> StrictIntegerField:
    return StrictIntegerField(min_value=1, max_value=limits.MAX_QUANTITY, **kwargs)


def version_field() -> StrictIntegerField:
    return StrictIntegerField(
        min_value=1,
        max_value=limits.MAX_VERSION,
        required=False,
        help_text="The version you saw; a stale one is a 409.",
    )


def product_id_field(**kwargs) -> StrictIntegerField:
    return StrictIntegerField(min_value=1, max_value=limits.MAX_PRODUCT_ID, **kwargs)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "pattern": limits.ORDER_ID_PATTERN, "minLength": 1, "maxLength": 64},
            {"type": "integer", "format": "int64", "description": "stored as its decimal string"},
        ],
        "example": "A-1001",
    }
)
class OrderIdField(serializers.Field):
    """1..64 characters of [A-Za-z0-9._:-]; a JSON integer is taken as its decimal string."""

    default_error_messages = {
        "invalid": "order_id must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-' (or an integer).",
    }

    def to_internal_value(self, data):
        if type(data) is int:
            data = str(data) if abs(data) < 10**65 else ""
        if not is_order_id_text(data):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


@extend_schema_field({"type": "string", "format": "date-time", "example": "2026-01-31T12:00:00.000000+00:00"})
class UTCDateTimeField(serializers.Field):
    """ISO 8601 in UTC with an explicit `+00:00` offset."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: datetime) -> str:
        return utc_iso(value)


def utc_iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


# RFC 3339's date-time (what OpenAPI's `format: date-time` means): the offset is required.
_RFC3339_RE = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


@extend_schema_field({"type": "string", "format": "date-time", "example": "2026-12-01T09:00:00+00:00"})
class AwareDateTimeField(serializers.Field):
    """A moment as a JSON string in RFC 3339 with its offset (`Z` or `+08:00`), taken in UTC.

    No other ISO 8601 form and no time without its zone: a moment the caller did not place
    in a time zone would be read in ours. In UTC because PostgreSQL refuses offsets past 15:59.
    """

    default_error_messages = {
        "invalid": "A date and time with its offset is required, as 2026-12-01T09:00:00+08:00.",
        "range": "The date and time is out of range.",
    }

    def to_internal_value(self, data):
        if type(data) is not str or _RFC3339_RE.fullmatch(data) is None:
            self.fail("invalid")
        try:
            moment = datetime.fromisoformat(data.upper())
        except ValueError:
            self.fail("invalid")
        try:
            return moment.astimezone(UTC)
        except (OverflowError, ValueError):
            self.fail("range")

    def to_representation(self, value: datetime) -> str:
        return utc_iso(value)


def parse_query_int(name: str, raw: str | None, *, minimum: int, maximum: int, default: int | None = None) -> int:
    """A query-string or path integer: digits only, in range; else a 400 naming `name`."""
    if raw is None:
        if default is None:
            raise serializers.ValidationError({name: ["This parameter is required."]})
        return default
    value = ascii_int(raw, minimum, maximum)
    if value is None:
        raise serializers.ValidationError({name: [f"An integer from {minimum} to {maximum} is required."]})
    return value


def parse_query_code(name: str, raw: str | None) -> str | None:
    """An optional warehouse or pool code of a query string or path: None when absent, else a 400 unless well formed."""
    if raw is None:
        return None
    if not limits.is_location_code(raw):
        raise serializers.ValidationError({name: [f"A code is {limits.LOCATION_CODE_RULE}."]})
    return raw


class StrictCharField(serializers.CharField):
    """A JSON string: numbers and booleans, which DRF's CharField would turn into text, are refused."""

    default_error_messages = {"invalid": "A JSON string is required."}

    def to_internal_value(self, data):
        if type(data) is not str:
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "type": "string",
        "maxLength": limits.SKU_MAX_LENGTH,
        "pattern": limits.SKU_PATTERN,
        "example": "EAN-4006381333931",
    }
)
class SkuField(StrictCharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", f"Optional: {limits.SKU_RULE}; unique among products that have one.")
        super().__init__(required=False, allow_blank=True, default="", trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not limits.is_sku(value):
            raise serializers.ValidationError(f"A SKU is {limits.SKU_RULE}.")
        return value


@extend_schema_field(
    {"type": "string", "maxLength": limits.PRODUCT_NAME_MAX_LENGTH, "pattern": limits.PRODUCT_NAME_PATTERN}
)
class ProductNameField(StrictCharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "Optional display name: any text but control characters.")
        super().__init__(required=False, allow_blank=True, default="", trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not limits.is_product_name(value):
            raise serializers.ValidationError(
                f"A name is at most {limits.PRODUCT_NAME_MAX_LENGTH} characters, none a control character."
            )
        return value


def code_schema(example: str) -> dict:
    """The OpenAPI schema of a code (a warehouse's, a pool's, a quota's, a customer tier)."""
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": limits.LOCATION_CODE_MAX_LENGTH,
        "pattern": limits.LOCATION_CODE_PATTERN,
        "example": example,
    }


@extend_schema_field(code_schema("sh-1"))
class LocationCodeField(StrictCharField):
    """A warehouse's or a pool's code: 1..32 characters of [a-z0-9-]."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", f"A code: {limits.LOCATION_CODE_RULE}.")
        super().__init__(trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not limits.is_location_code(value):
            raise serializers.ValidationError(f"A code is {limits.LOCATION_CODE_RULE}.")
        return value


@extend_schema_field({"type": "string", "example": "default", "description": "The warehouse's code."})
class WarehouseCodeField(serializers.Field):
    """A warehouse named by its code on output, read from the id without a join."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("source", "warehouse_id")
        super().__init__(**kwargs)

    def to_representation(self, value: int) -> str:
        return warehouse_code(value)


COORDINATES_RULE = "Give latitude and longitude together, or neither."


@extend_schema_field({"type": "string", "pattern": limits.LABEL_PATTERN})  # maxLength comes from the field's validator
class LabelField(StrictCharField):
    """A name or a region: text without control characters, up to `max_length`."""

    def __init__(self, *, max_length: int, **kwargs):
        super().__init__(max_length=max_length, allow_blank=True, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not limits.is_label(value, self.max_length):
            raise serializers.ValidationError("Control characters are not allowed.")
        return value


class DegreesField(serializers.Field):
    """A JSON number (integer or not) within ±limit degrees (or null, unless `allow_null=False`);
    booleans and strings are refused."""

    default_error_messages = {
        "invalid": "A JSON number is required (not a boolean or a string).",
        "range": "A number from {minimum} to {maximum} is required.",
    }

    def __init__(self, limit: int, *, allow_null: bool = True, **kwargs):
        self.limit = limit
        super().__init__(allow_null=allow_null, **kwargs)

    def to_internal_value(self, data):
        if type(data) not in (int, float):
            self.fail("invalid")
        # Compared before any conversion: a huge integer would overflow float(), and a
        # NaN or an infinity (1e400 parses as one) fails the comparison.
        if not -self.limit <= data <= self.limit:
            self.fail("range", minimum=-self.limit, maximum=self.limit)
        return float(data)

    def to_representation(self, value):
        return value


class DegreesFieldSchema(OpenApiSerializerFieldExtension):
    """A DegreesField in the OpenAPI document: a number within its own limit."""

    target_class = DegreesField

    def map_serializer_field(self, auto_schema, direction):
        limit = self.target.limit
        return {"type": "number", "format": "double", "minimum": -limit, "maximum": limit}
