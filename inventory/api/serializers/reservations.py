"""Input and output shapes of the internal endpoints the order application calls."""

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from inventory import limits
from inventory.api.fields import (
    COORDINATES_RULE,
    DegreesField,
    LabelField,
    LocationCodeField,
    OrderIdField,
    StrictBooleanField,
    StrictIntegerField,
    UTCDateTimeField,
    WarehouseCodeField,
    is_json_int_in,
    is_order_id_text,
    product_id_field,
    quantity_field,
    utc_iso,
)
from inventory.api.serializers.presales import SoldAheadSerializer
from inventory.api.serializers.quotas import CustomerTierField, QuotaCodeField
from inventory.models import Reservation, ReservationStatus
from inventory.selectors.presales import sold_ahead
from inventory.selectors.warehouses import warehouse_code
from inventory.services.allocation import Destination
from inventory.services.reservations import Routing


def ttl_field() -> StrictIntegerField:
    return StrictIntegerField(
        min_value=1,
        max_value=limits.MAX_TTL_SECONDS,
        required=False,
        help_text="Seconds the hold lasts; default the INVENTORY_RESERVATION_TTL setting (1800).",
    )


class ReservationSerializer(serializers.ModelSerializer):
    product_id = serializers.IntegerField(read_only=True)
    warehouse = WarehouseCodeField()
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
            "warehouse",
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


@extend_schema_serializer(component_name="ReserveAnswer")
class ReserveAnswerSerializer(OrderReservationsSerializer):
    backorders = SoldAheadSerializer(
        many=True,
        required=False,
        help_text="Only when a line said `backorder`: the units sold ahead of stock, each line's in request order.",
    )


# The fields ReservationSerializer renders as UTC timestamps; the rest are plain values.
_RESERVATION_TIMESTAMPS = {"expires_at", "created_at", "updated_at"}


def reserve_answer_body(order_id: str, reservations: list[Reservation], backorders: list | None) -> dict:
    """A reserve's answer: the order's reservations, and its backorders when a line may sell ahead."""
    body = order_reservations_body(order_id, reservations)
    if backorders is not None:
        body["backorders"] = SoldAheadSerializer(sold_ahead(backorders), many=True).data
    return body


def order_reservations_body(order_id: str, reservations: list[Reservation]) -> dict:
    """What OrderReservationsSerializer renders, built directly: the answer of every
    reserve, release and deduct, where DRF's serializers were a large share of the CPU.
    tests/orders_integration/test_fast_paths.py holds the two to the same output."""
    return {"order_id": order_id, "reservations": [_reservation_body(reservation) for reservation in reservations]}


def _reservation_body(reservation: Reservation) -> dict:
    body = {}
    for field in ReservationSerializer.Meta.fields:
        if field in _RESERVATION_TIMESTAMPS:
            body[field] = utc_iso(getattr(reservation, field))
        elif field == "warehouse":
            body[field] = warehouse_code(reservation.warehouse_id)
        else:
            body[field] = getattr(reservation, field)
    return body


class ShipToSerializer(serializers.Serializer):
    """Where the order goes: the `nearest` strategy sorts the pool's warehouses by it."""

    # The same rules as a warehouse's region and coordinates.
    region = LabelField(max_length=limits.REGION_MAX_LENGTH, required=False)
    latitude = DegreesField(limits.MAX_LATITUDE, allow_null=False, required=False)
    longitude = DegreesField(limits.MAX_LONGITUDE, allow_null=False, required=False)

    def validate(self, attrs):
        if ("latitude" in attrs) != ("longitude" in attrs):
            raise serializers.ValidationError({"latitude": [COORDINATES_RULE], "longitude": [COORDINATES_RULE]})
        return attrs


def _coordinate(maximum: int) -> dict:
    return {"type": "number", "minimum": -maximum, "maximum": maximum}


@extend_schema_field(
    {
        "type": "object",
        "description": "Where the order goes: the `nearest` strategy sorts the pool's warehouses by it. "
        f"{COORDINATES_RULE}",
        "properties": {
            "region": {"type": "string", "maxLength": limits.REGION_MAX_LENGTH, "pattern": limits.LABEL_PATTERN},
            "latitude": _coordinate(limits.MAX_LATITUDE),
            "longitude": _coordinate(limits.MAX_LONGITUDE),
        },
        "anyOf": [
            {"required": ["latitude", "longitude"]},
            {"not": {"anyOf": [{"required": ["latitude"]}, {"required": ["longitude"]}]}},
        ],
        "example": {"region": "east", "latitude": 31.23, "longitude": 121.47},
    }
)
class ShipToField(serializers.Field):
    """`ship_to`, judged by ShipToSerializer; its schema written out (both coordinates or neither)."""

    default_error_messages = {"invalid": "An object is required."}

    def to_internal_value(self, data):
        if type(data) is not dict:
            self.fail("invalid")
        judged = ShipToSerializer(data=data)
        judged.is_valid(raise_exception=True)
        return judged.validated_data

    def to_representation(self, value):
        return value


class RoutingFieldsMixin(serializers.Serializer):
    pool = LocationCodeField(required=False, help_text="The pool whose warehouses may hold the lines; default `all`.")
    ship_to = ShipToField(required=False)
    split = StrictBooleanField(
        required=False,
        default=True,
        help_text="false: a line that no single warehouse can hold whole is short instead of split.",
    )


QUOTA_HELP = (
    "A quota's code: the line draws on it first (then on free stock, if the quota allows overflow). "
    "An unknown code is a 404 `quota_not_found`; a quota of another product a 400; one that has ended or is "
    "outside its start and end a 409 `quota_not_active`."
)


def quota_field() -> QuotaCodeField:
    return QuotaCodeField(required=False, help_text=QUOTA_HELP)


BACKORDER_HELP = (
    "true: what free stock in the pool lacks is sold ahead of stock on the product's open pre-sale there "
    "(a backorder, shipped in batches as goods arrive) instead of making the line short; the answer then "
    "lists the order's `backorders`."
)


def backorder_field() -> StrictBooleanField:
    return StrictBooleanField(required=False, help_text=BACKORDER_HELP)


class CustomerTierMixin(serializers.Serializer):
    customer_tier = CustomerTierField(
        required=False,
        help_text="The customer's tier: a line that names no quota draws first on the best open quota of this "
        "tier for its product in the pool (lowest priority, then the oldest), if there is one.",
    )


def routing_of(attrs: dict) -> Routing:
    """The services' routing of a validated reserve (the defaults when the body named none)."""
    ship_to = attrs.get("ship_to") or {}
    return Routing(
        pool=attrs.get("pool", limits.EVERY_WAREHOUSE_POOL),
        destination=Destination(
            region=ship_to.get("region", ""), latitude=ship_to.get("latitude"), longitude=ship_to.get("longitude")
        ),
        split=attrs.get("split", True),
    )


class ReserveLineSerializer(serializers.Serializer):
    product_id = product_id_field()
    quantity = quantity_field()
    quota = quota_field()
    backorder = backorder_field()


@extend_schema_serializer(component_name="ReserveOneLine")
class ReserveOneLineSerializer(RoutingFieldsMixin, CustomerTierMixin):
    order_id = OrderIdField()
    product_id = product_id_field()
    quantity = quantity_field()
    quota = quota_field()
    backorder = backorder_field()
    ttl_seconds = ttl_field()


@extend_schema_serializer(component_name="ReserveOrder")
class ReserveOrderSerializer(RoutingFieldsMixin, CustomerTierMixin):
    order_id = OrderIdField()
    items = ReserveLineSerializer(
        many=True,
        min_length=1,
        max_length=limits.MAX_LINES_PER_ORDER,
        allow_empty=False,
        help_text="Each product once.",
    )
    ttl_seconds = ttl_field()


class ReserveInputSerializer(RoutingFieldsMixin, CustomerTierMixin):
    """Either one line (product_id, quantity, quota?) or a whole order (items), not both."""

    order_id = OrderIdField()
    product_id = product_id_field(required=False)
    quantity = quantity_field(required=False)
    quota = quota_field()
    backorder = backorder_field()
    items = ReserveLineSerializer(many=True, min_length=1, max_length=limits.MAX_LINES_PER_ORDER, required=False)
    ttl_seconds = ttl_field()

    def validate(self, attrs):
        if "items" in attrs:
            stray = [name for name in ("product_id", "quantity") if name in self.initial_data]
            if stray:
                message = "Give either items or product_id and quantity, not both."
                raise serializers.ValidationError({name: [message] for name in ["items", *stray]})
            stray = [name for name in ("quota", "backorder") if name in self.initial_data]
            if stray:
                message = "With items, each item says its own."
                raise serializers.ValidationError({name: [message] for name in stray})
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
            line_fields = ("product_id", "quantity", "quota", "backorder")
            lines = [{name: attrs[name] for name in line_fields if name in attrs}]
        return {
            "order_id": attrs["order_id"],
            "lines": lines,
            "ttl_seconds": attrs.get("ttl_seconds"),
            "routing": routing_of(attrs),
            "customer_tier": attrs.get("customer_tier", ""),
        }


def well_formed_reserve(data) -> dict | None:
    """ReserveInputSerializer's validated data for the usual well-formed body, read without DRF.

    The same rules (a string order_id, JSON integers in the contract's ranges, either
    one line or 1..100 items of distinct products, unknown keys ignored); None for
    anything else, which the serializer then judges, so every 400 is its own word for
    word. A body that routes its lines, names a quota or a customer tier is left to the
    serializer too. tests/orders_integration/test_fast_paths.py holds the two to the same verdicts.
    """
    if type(data) is not dict or not is_order_id_text(data.get("order_id")) or not _SERIALIZER_KEYS.isdisjoint(data):
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
    return {
        "order_id": data["order_id"],
        "lines": lines,
        "ttl_seconds": ttl_seconds,
        "routing": Routing(),
        "customer_tier": "",
    }


# A body with any of these keys (in a line: `quota` or `backorder`) is left to the serializer.
_LINE_KEYS = frozenset({"quota", "backorder"})
_SERIALIZER_KEYS = frozenset({*RoutingFieldsMixin._declared_fields, *CustomerTierMixin._declared_fields, *_LINE_KEYS})


def _well_formed_lines(data: dict) -> list[dict] | None:
    items = data["items"]
    if "product_id" in data or "quantity" in data or type(items) is not list:
        return None
    if not 1 <= len(items) <= limits.MAX_LINES_PER_ORDER:
        return None
    lines = [_well_formed_line(item) if type(item) is dict and _LINE_KEYS.isdisjoint(item) else None for item in items]
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
