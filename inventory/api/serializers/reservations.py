"""Input and output shapes of the internal endpoints the order application calls."""

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from inventory import limits
from inventory.api.fields import (
    OrderIdField,
    StrictIntegerField,
    UTCDateTimeField,
    is_json_int_in,
    is_order_id_text,
    product_id_field,
    quantity_field,
    utc_iso,
)
from inventory.models import Reservation, ReservationStatus


def ttl_field() -> StrictIntegerField:
    return StrictIntegerField(
        min_value=1,
        max_value=limits.MAX_TTL_SECONDS,
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


# The fields ReservationSerializer renders as UTC timestamps; the rest are plain values.
_RESERVATION_TIMESTAMPS = {"expires_at", "created_at", "updated_at"}


def order_reservations_body(order_id: str, reservations: list[Reservation]) -> dict:
    """What OrderReservationsSerializer renders, built directly: the answer of every
    reserve, release and deduct, where DRF's serializers were a large share of the CPU.
    tests/orders_integration/test_fast_paths.py holds the two to the same output."""
    return {
        "order_id": order_id,
        "reservations": [
            {
                field: utc_iso(getattr(reservation, field))
                if field in _RESERVATION_TIMESTAMPS
                else getattr(reservation, field)
                for field in ReservationSerializer.Meta.fields
            }
            for reservation in reservations
        ],
    }


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
        many=True,
        min_length=1,
        max_length=limits.MAX_LINES_PER_ORDER,
        allow_empty=False,
        help_text="Each product once.",
    )
    ttl_seconds = ttl_field()


class ReserveInputSerializer(serializers.Serializer):
    """Either one line (product_id, quantity) or a whole order (items), not both."""

    order_id = OrderIdField()
    product_id = product_id_field(required=False)
    quantity = quantity_field(required=False)
    items = ReserveLineSerializer(many=True, min_length=1, max_length=limits.MAX_LINES_PER_ORDER, required=False)
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


def well_formed_reserve(data) -> dict | None:
    """ReserveInputSerializer's validated data for the usual well-formed body, read without DRF.

    The same rules (a string order_id, JSON integers in the contract's ranges, either
    one line or 1..100 items of distinct products, unknown keys ignored); None for
    anything else, which the serializer then judges, so every 400 is its own word for
    word. tests/orders_integration/test_fast_paths.py holds the two to the same verdicts.
    """
    if type(data) is not dict or not is_order_id_text(data.get("order_id")):
        return None
    ttl_seconds = data.get("ttl_seconds")
    if "ttl_seconds" in data and not is_json_int_in(ttl_seconds, 1, limits.MAX_TTL_SECONDS):
        return None
    if "items" in data:
        lines = _well_formed_lines(data)
    else:
        line = _well_formed_line(data)
        lines = None if line is None else [line]
    if lines is None:
        return None
    return {"order_id": data["order_id"], "lines": lines, "ttl_seconds": ttl_seconds}


def _well_formed_lines(data: dict) -> list[dict] | None:
    items = data["items"]
    if "product_id" in data or "quantity" in data or type(items) is not list:
        return None
    if not 1 <= len(items) <= limits.MAX_LINES_PER_ORDER:
        return None
    lines = [_well_formed_line(item) if type(item) is dict else None for item in items]
    if None in lines or len({line["product_id"] for line in lines}) != len(lines):
        return None
    return lines


def _well_formed_line(data: dict) -> dict | None:
    product_id, quantity = data.get("product_id"), data.get("quantity")
    if is_json_int_in(product_id, 1, limits.MAX_PRODUCT_ID) and is_json_int_in(quantity, 1, limits.MAX_QUANTITY):
        return {"product_id": product_id, "quantity": quantity}
    return None


def well_formed_order_line(data) -> dict | None:
    """OrderLineInputSerializer's validated data for a well-formed body, read without DRF; else None."""
    if type(data) is not dict or not is_order_id_text(data.get("order_id")):
        return None
    if "product_id" not in data:
        return {"order_id": data["order_id"]}
    if not is_json_int_in(data["product_id"], 1, limits.MAX_PRODUCT_ID):
        return None
    return {"order_id": data["order_id"], "product_id": data["product_id"]}


class OrderLineInputSerializer(serializers.Serializer):
    order_id = OrderIdField()
    product_id = product_id_field(required=False, help_text="Only this product's line; default every line.")


class CleanupInputSerializer(serializers.Serializer):
    pass


class CleanupResultSerializer(serializers.Serializer):
    expired = serializers.IntegerField(help_text="How many reservations were expired.")
