"""Input and output shapes of the purchase-order and available-to-promise endpoints.

Every input here is strict about its keys too: a field the endpoint does not know is a
400 naming it (`additionalProperties: false` in the OpenAPI document), so a misspelt
`expected_date` is never taken for a line without one.
"""

import re
from datetime import date

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inventory import limits
from inventory.api.fields import (
    LocationCodeField,
    StrictCharField,
    StrictIntegerField,
    UTCDateTimeField,
    WarehouseCodeField,
    product_id_field,
    quantity_field,
)
from inventory.api.serializers.strict import StrictInputSerializer, text_field
from inventory.models import PurchaseOrder, PurchaseOrderStatus

_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


@extend_schema_field({"type": "string", "format": "date", "example": "2026-12-20"})
class StrictDateField(serializers.Field):
    """A day as a JSON string `YYYY-MM-DD`: no time, no other ISO 8601 form, no number."""

    default_error_messages = {"invalid": "A date as YYYY-MM-DD is required."}

    def to_internal_value(self, data):
        if type(data) is not str or _DATE_RE.fullmatch(data) is None:
            self.fail("invalid")
        try:
            return date.fromisoformat(data)
        except ValueError:
            self.fail("invalid")

    def to_representation(self, value: date) -> str:
        return value.isoformat()


@extend_schema_field({"type": "string", "pattern": limits.LABEL_PATTERN})  # the lengths come from the validators
class SupplierNameField(StrictCharField):
    """A supplier's name: 1 to 200 characters, none a control character."""

    def __init__(self, **kwargs):
        super().__init__(
            min_length=1, max_length=limits.SUPPLIER_NAME_MAX_LENGTH, allow_blank=False, trim_whitespace=False, **kwargs
        )

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not limits.is_label(value, limits.SUPPLIER_NAME_MAX_LENGTH):
            raise serializers.ValidationError("Control characters are not allowed.")
        return value


def _distinct_products(lines: list[dict]) -> list[dict]:
    if len({line["product_id"] for line in lines}) != len(lines):
        raise serializers.ValidationError("Each product may appear once.")
    return lines


# --- purchase orders: input -----------------------------------------------------------


class PurchaseOrderLineInputSerializer(StrictInputSerializer):
    """A product ordered: how many, and the day they are expected."""

    product_id = product_id_field()
    quantity = quantity_field(help_text="Units ordered.")
    expected_date = StrictDateField(help_text="The day the units are expected in the warehouse.")


class CreatePurchaseOrderInputSerializer(StrictInputSerializer):
    """A purchase order: the supplier, the warehouse it delivers to, 1..100 lines (each product once)."""

    supplier = SupplierNameField(help_text="The supplier's name (required).")
    supplier_reference = text_field(limits.MAX_REFERENCE_LENGTH)
    warehouse = LocationCodeField(help_text="The warehouse the goods are delivered to (its code).")
    note = text_field(limits.MAX_REASON_LENGTH)
    lines = PurchaseOrderLineInputSerializer(
        many=True,
        min_length=1,
        max_length=limits.MAX_PURCHASE_ORDER_LINES,
        allow_empty=False,
        help_text="Each product once.",
    )

    def validate_lines(self, lines):
        return _distinct_products(lines)


class ReceiptLineInputSerializer(StrictInputSerializer):
    """The units of one product that came."""

    product_id = product_id_field()
    quantity = quantity_field(help_text="Units that came: more than is outstanding is recorded as an over-delivery.")


class ReceiptInputSerializer(StrictInputSerializer):
    """One delivery: its delivery note, and per product the units that came."""

    lines = ReceiptLineInputSerializer(
        many=True,
        min_length=1,
        max_length=limits.MAX_PURCHASE_ORDER_LINES,
        allow_empty=False,
        required=False,
        help_text="Units received per product (each once); default every unit still outstanding.",
    )
    reference = text_field(limits.MAX_REFERENCE_LENGTH)

    def validate_lines(self, lines):
        return _distinct_products(lines)


class EndPurchaseOrderInputSerializer(StrictInputSerializer):
    """Why the order is closed or cancelled (optional)."""

    reason = text_field(limits.MAX_REASON_LENGTH)


# --- purchase orders: output ----------------------------------------------------------


class PurchaseOrderLineSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    quantity = serializers.IntegerField(help_text="Units ordered.")
    received = serializers.IntegerField(help_text="Units received so far (more than ordered: an over-delivery).")
    outstanding = serializers.IntegerField(
        help_text="max(quantity - received, 0): still to come while the order is open."
    )
    expected_date = StrictDateField()


class ReceiptLineSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(source="line.product_id")
    quantity = serializers.IntegerField()


class ReceiptSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    actor = serializers.CharField()
    lines = ReceiptLineSerializer(many=True, source="lines.all")
    created_at = UTCDateTimeField()


class PurchaseOrderSerializer(serializers.ModelSerializer):
    warehouse = WarehouseCodeField()
    status = serializers.ChoiceField(choices=PurchaseOrderStatus.choices, read_only=True)
    lines = PurchaseOrderLineSerializer(many=True, read_only=True)
    receipts = ReceiptSerializer(many=True, read_only=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "supplier",
            "supplier_reference",
            "warehouse",
            "status",
            "note",
            "actor",
            "ended_by",
            "end_reason",
            "lines",
            "receipts",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# --- available to promise -------------------------------------------------------------


class AtpBatchItemInputSerializer(StrictInputSerializer):
    """A product asked about."""

    product_id = product_id_field()


def days_field(**kwargs) -> StrictIntegerField:
    return StrictIntegerField(
        min_value=1,
        max_value=limits.MAX_ATP_DAYS,
        help_text=f"Days from today (day 0), 1 to {limits.MAX_ATP_DAYS}; default {limits.DEFAULT_ATP_DAYS}.",
        **kwargs,
    )


class AtpBatchInputSerializer(StrictInputSerializer):
    """1..200 products (repeats allowed), the days and the pool."""

    items = AtpBatchItemInputSerializer(
        many=True,
        min_length=1,
        max_length=limits.MAX_ATP_BATCH_ITEMS,
        allow_empty=False,
        help_text="Answered in this order.",
    )
    days = days_field(required=False, default=limits.DEFAULT_ATP_DAYS)
    pool = LocationCodeField(required=False, default=limits.EVERY_WAREHOUSE_POOL, help_text="Default `all`.")


class AtpDaySerializer(serializers.Serializer):
    date = StrictDateField()
    available = serializers.IntegerField(
        help_text="On hand: the pool's levels' available stock (quota units included)."
    )
    incoming = serializers.IntegerField(
        help_text="Units in transit to the pool, plus open purchase-order lines' outstanding units due by this day."
    )
    promised = serializers.IntegerField(
        help_text="Units promised already: set aside for quotas, or sold ahead of stock and not yet shipped."
    )
    atp = serializers.IntegerField(help_text="available + incoming - promised.")


class IncomingLineSerializer(serializers.Serializer):
    purchase_order_id = serializers.IntegerField()
    warehouse = serializers.CharField()
    expected_date = StrictDateField()
    outstanding = serializers.IntegerField()
    overdue = serializers.BooleanField(help_text="Its day has passed and units are still outstanding.")


class ProductAtpSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    pool = serializers.CharField()
    today = StrictDateField(help_text="Day 0: today in the database's date (UTC).")
    in_transit = serializers.IntegerField(help_text="Units in transit to the pool's warehouses (counted from day 0).")
    days = AtpDaySerializer(many=True)
    incoming_lines = IncomingLineSerializer(
        many=True, help_text="The open purchase-order lines counted, by expected date."
    )


class BatchAtpItemSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    found = serializers.BooleanField(help_text="false: no inventory record; the days are zeros.")
    days = AtpDaySerializer(many=True)


class BatchAtpSerializer(serializers.Serializer):
    pool = serializers.CharField()
    today = StrictDateField()
    items = BatchAtpItemSerializer(many=True, help_text="In request order.")
