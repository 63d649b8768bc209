"""Input and output shapes of the internal endpoints the order application calls."""

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from inventory.api_fields import OrderIdField, StrictIntegerField, UTCDateTimeField, product_id_field
from inventory.models import MAX_QUANTITY, Reservation, ReservationStatus
from inventory.services.reservations import MAX_LINES_PER_ORDER

MAX_TTL_SECONDS = 86_400


def quantity_field(**kwargs) -> StrictIntegerField:
    return StrictIntegerField(min_value=1, max_value=MAX_QUANTITY, **kwargs)


def ttl_field() -> StrictIntegerField:
    return StrictIntegerField(
        min_value=1,
        max_value=MAX_TTL_SECONDS,
        required=False,
        help_text="Seconds the hold lasts; default the INVENTORY_RESERVATION_TTL setting (1800).",
    )


class ReservationSerializer(serializers.ModelSerializer):
    product_id = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(choices=ReservationStatus.choices, read_only=True)
    expires_at = UTCDateTimeField()
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    class Meta:
        model = Reservation
        fields = [
            "id",
            "order_id",
            "product_id",
            "quantity",
            "status",
            "reacquired",
            "expires_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OrderReservationsSerializer(serializers.Serializer):
    order_id = serializers.CharField()
    reservations = ReservationSerializer(many=True)


class ReserveLineSerializer(serializers.Serializer):
    product_id = product_id_field()
    quantity = quantity_field()


@extend_schema_serializer(component_name="ReserveOneLine")
class ReserveOneLineSerializer(serializers.Serializer):
    order_id = OrderIdField()
    product_id = product_id_field()
    quantity = quantity_field()
    ttl_seconds = ttl_field()


@extend_schema_serializer(component_name="ReserveOrder")
class ReserveOrderSerializer(serializers.Serializer):
    order_id = OrderIdField()
    items = ReserveLineSerializer(
        many=True, min_length=1, max_length=MAX_LINES_PER_ORDER, allow_empty=False, help_text="Each product once."
    )
    ttl_seconds = ttl_field()


class ReserveInputSerializer(serializers.Serializer):
    """Either one line (product_id, quantity) or a whole order (items), not both."""

    order_id = OrderIdField()
    product_id = product_id_field(required=False)
    quantity = quantity_field(required=False)
    items = ReserveLineSerializer(many=True, min_length=1, max_length=MAX_LINES_PER_ORDER, required=False)
    ttl_seconds = ttl_field()

    def validate(self, attrs):
        if "items" in attrs:
            stray = [name for name in ("product_id", "quantity") if name in self.initial_data]
            if stray:
                message = "Give either items or product_id and quantity, not both."
                raise serializers.ValidationError({name: [message] for name in ["items", *stray]})
            product_ids = [line["product_id"] for line in attrs["items"]]
            if len(set(product_ids)) != len(product_ids):
                raise serializers.ValidationError({"items": ["Each product may appear once."]})
            lines = attrs["items"]
        else:
            missing = {
                name: ["This field is required (or give items)."]
                for name in ("product_id", "quantity")
                if name not in attrs
            }
            if missing:
                raise serializers.ValidationError(missing)
            lines = [{"product_id": attrs["product_id"], "quantity": attrs["quantity"]}]
        return {"order_id": attrs["order_id"], "lines": lines, "ttl_seconds": attrs.get("ttl_seconds")}


class OrderLineInputSerializer(serializers.Serializer):
    order_id = OrderIdField()
    product_id = product_id_field(required=False, help_text="Only this product's line; default every line.")


class CleanupInputSerializer(serializers.Serializer):
    pass


class CleanupResultSerializer(serializers.Serializer):
    expired = serializers.IntegerField(help_text="How many reservations were expired.")
