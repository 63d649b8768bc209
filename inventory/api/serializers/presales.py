"""Input and output shapes of the pre-sale endpoints (staff) and of an order's lines (the order application).

Strict as the purchase orders' (`StrictInputSerializer`): an unknown field is a 400 naming
it, every figure a JSON integer in the range of `inventory.limits`, a moment RFC 3339 with
its offset. The services check every rule again; what only the database's clock can say
(an end in the future), and an end after the start, are theirs (a 400 naming `ends_at`).
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inventory import limits
from inventory.api.fields import (
    AwareDateTimeField,
    LocationCodeField,
    StrictIntegerField,
    UTCDateTimeField,
    WarehouseCodeField,
    code_schema,
    product_id_field,
    quantity_field,
)
from inventory.api.serializers.strict import StrictInputSerializer
from inventory.models import BackorderStatus, PreSale, PreSaleStatus, ReservationStatus

LIMIT_HELP = "Units that may be sold ahead of stock, 1 to 1000000000 (never below what was sold)."


@extend_schema_field(code_schema("phone-x-launch"))
class PreSaleCodeField(LocationCodeField):
    """A pre-sale's code: the same rule as a warehouse's."""


class CreatePreSaleInputSerializer(StrictInputSerializer):
    """A pre-sale: up to `limit` units of a product's level sold ahead of stock from `starts_at` to `ends_at`."""

    code = PreSaleCodeField(help_text=f"Names the pre-sale everywhere; {limits.LOCATION_CODE_RULE}; never changes.")
    product_id = product_id_field()
    warehouse = LocationCodeField(
        required=False,
        default=limits.DEFAULT_WAREHOUSE,
        help_text="The level whose arrivals fill its backorders (its warehouse's code); default `default`.",
    )
    limit = quantity_field(help_text=LIMIT_HELP)
    starts_at = AwareDateTimeField(help_text="From when reserves may sell ahead on it (RFC 3339, with its offset).")
    ends_at = AwareDateTimeField(help_text="Until when: later than starts_at, and in the future.")
    purchase_order_id = StrictIntegerField(
        min_value=1,
        max_value=limits.MAX_PRODUCT_ID,
        required=False,
        default=None,
        help_text="The purchase order it sells against (informative): one that brings the product to the warehouse.",
    )


class ChangePreSaleInputSerializer(StrictInputSerializer):
    """Only the fields given change."""

    limit = quantity_field(required=False, help_text=LIMIT_HELP)
    starts_at = AwareDateTimeField(required=False)
    ends_at = AwareDateTimeField(required=False, help_text="Later than starts_at, and in the future.")


class EndPreSaleInputSerializer(StrictInputSerializer):
    """An empty object: ending takes no terms."""


class PreSaleSerializer(serializers.ModelSerializer):
    product_id = serializers.IntegerField(read_only=True)
    warehouse = WarehouseCodeField()
    limit = serializers.IntegerField(read_only=True, help_text="Units that may be sold ahead of stock.")
    sold = serializers.IntegerField(
        read_only=True, help_text="Units its backorders took of the limit (less what was cancelled before it came)."
    )
    room = serializers.SerializerMethodField(help_text="limit - sold: what may still be sold ahead.")
    filled = serializers.IntegerField(read_only=True, help_text="Units arrivals shipped to its backorders.")
    outstanding = serializers.IntegerField(read_only=True, help_text="Units its open backorders still wait for.")
    purchase_order_id = serializers.IntegerField(read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=PreSaleStatus.choices, read_only=True)
    starts_at = UTCDateTimeField()
    ends_at = UTCDateTimeField()
    actor = serializers.CharField(read_only=True, help_text="Who created it.")
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    class Meta:
        model = PreSale
        fields = [
            "code",
            "product_id",
            "warehouse",
            "limit",
            "sold",
            "room",
            "filled",
            "outstanding",
            "purchase_order_id",
            "status",
            "starts_at",
            "ends_at",
            "actor",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_room(self, presale: PreSale) -> int:
        return presale.limit - presale.sold


# --- an order's lines --------------------------------------------------------------


class CancelBackordersInputSerializer(StrictInputSerializer):
    """Which backorders of the order: one product's, or (left out) all of them."""

    product_id = product_id_field(required=False, default=None)


class BatchSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(help_text="Units shipped in this batch.")
    reference = serializers.CharField(help_text="The arrival that brought them (`po:<id>`, `transfer:<id>`, ...).")
    reason = serializers.CharField(help_text="What the arrival's log entry says (`receipt 3: DN-881`).")
    created_at = UTCDateTimeField()


class OrderLineSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    warehouse = serializers.CharField(help_text="The warehouse's code.")
    held = serializers.IntegerField(help_text="Units held by active or confirmed reservations.")
    hold_status = serializers.ChoiceField(
        choices=ReservationStatus.choices, allow_null=True, help_text="The reservation's status; null: none."
    )
    backordered = serializers.IntegerField(help_text="Units sold ahead of stock here.")
    filled = serializers.IntegerField(help_text="Of those, units shipped as goods arrived.")
    cancelled = serializers.IntegerField(help_text="Of those, units cancelled before they came.")
    outstanding = serializers.IntegerField(help_text="Of those, units still to come.")
    backorder_status = serializers.ChoiceField(
        choices=BackorderStatus.choices, allow_null=True, help_text="The backorder's status; null: none."
    )
    presale = serializers.CharField(allow_null=True, help_text="The pre-sale's code; null: none.")
    expected_date = serializers.DateField(
        allow_null=True, help_text="While units are outstanding: the day its pre-sale's purchase order expects them."
    )
    batches = BatchSerializer(many=True, help_text="The fills, oldest first.")


class SoldAheadSerializer(serializers.Serializer):
    """A line's units sold ahead of stock, as a reserve answers them."""

    product_id = serializers.IntegerField()
    warehouse = serializers.CharField(help_text="The warehouse's code.")
    presale = serializers.CharField(help_text="The pre-sale the units were sold on.")
    quantity = serializers.IntegerField(help_text="Units backordered.")
    filled = serializers.IntegerField(help_text="Of those, units shipped so far.")
    status = serializers.ChoiceField(choices=BackorderStatus.choices)
    expected_date = serializers.DateField(
        allow_null=True, help_text="The day the pre-sale's purchase order expects the product; null: none named."
    )


class OrderLinesSerializer(serializers.Serializer):
    order_id = serializers.CharField()
    lines = OrderLineSerializer(many=True, help_text="By product, then warehouse.")
