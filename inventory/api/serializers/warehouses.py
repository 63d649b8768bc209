"""Input and output shapes of the warehouse and pool endpoints.

The input serializers check every bound of inventory.limits and are strict about
JSON types: a coordinate is a JSON number, a priority a JSON integer, `accepts_orders`
a JSON boolean, never a string that looks like one. The services check again.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inventory import limits
from inventory.api.fields import (
    COORDINATES_RULE,
    DegreesField,
    LabelField,
    LocationCodeField,
    StrictBooleanField,
    StrictIntegerField,
    UTCDateTimeField,
)
from inventory.models import Pool, PoolStrategy, Warehouse
from inventory.selectors.pools import member_codes


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "string",
            "minLength": 1,
            "maxLength": limits.LOCATION_CODE_MAX_LENGTH,
            "pattern": limits.LOCATION_CODE_PATTERN,
        },
        "maxItems": limits.MAX_POOL_WAREHOUSES,
        "uniqueItems": True,
        "example": ["sh-1", "bj-1"],
    }
)
class WarehouseCodesField(serializers.ListField):
    """Warehouse codes, each once; whether each exists is the service's check (a 400 naming `warehouses`)."""

    def __init__(self, **kwargs):
        super().__init__(child=LocationCodeField(), max_length=limits.MAX_POOL_WAREHOUSES, **kwargs)

    def to_internal_value(self, data):
        codes = super().to_internal_value(data)
        if len(set(codes)) != len(codes):
            raise serializers.ValidationError("Name each warehouse once.")
        return codes


# --- warehouses ---------------------------------------------------------------------


class WarehouseSerializer(serializers.ModelSerializer):
    latitude = serializers.FloatField(read_only=True, allow_null=True, help_text="Degrees (WGS 84); null if unset.")
    longitude = serializers.FloatField(read_only=True, allow_null=True, help_text="Degrees (WGS 84); null if unset.")
    created_at = UTCDateTimeField()

    class Meta:
        model = Warehouse
        fields = list(Warehouse.FIELDS)
        read_only_fields = fields


class _WarehouseFieldsSerializer(serializers.Serializer):
    # Whether a field left out takes its default (on create) or is left as it is (on change).
    defaults = True

    def get_fields(self):
        def optional(default):
            return {"required": False, "default": default} if self.defaults else {"required": False}

        return {
            "name": LabelField(max_length=limits.WAREHOUSE_NAME_MAX_LENGTH, **optional("")),
            "region": LabelField(
                max_length=limits.REGION_MAX_LENGTH,
                help_text="Matched against a reserve's `ship_to.region`.",
                **optional(""),
            ),
            "latitude": DegreesField(
                limits.MAX_LATITUDE, help_text=f"Degrees north. {COORDINATES_RULE}", **optional(None)
            ),
            "longitude": DegreesField(
                limits.MAX_LONGITUDE, help_text=f"Degrees east. {COORDINATES_RULE}", **optional(None)
            ),
            "priority": StrictIntegerField(
                min_value=limits.MIN_PRIORITY,
                max_value=limits.MAX_PRIORITY,
                help_text="Lower is preferred.",
                **optional(0),
            ),
            "accepts_orders": StrictBooleanField(
                help_text="false takes the warehouse out of allocation; its stock stays.", **optional(True)
            ),
        }

    def validate(self, attrs):
        given = ("latitude" in attrs, "longitude" in attrs)
        unset = (attrs.get("latitude") is None, attrs.get("longitude") is None)
        if given[0] != given[1] or unset[0] != unset[1]:
            raise serializers.ValidationError({"latitude": [COORDINATES_RULE], "longitude": [COORDINATES_RULE]})
        return attrs


class CreateWarehouseInputSerializer(_WarehouseFieldsSerializer):
    """A new warehouse: only the code is required."""

    def get_fields(self):
        return {
            "code": LocationCodeField(help_text="Names the warehouse everywhere; never changes."),
            **super().get_fields(),
        }


class ChangeWarehouseInputSerializer(_WarehouseFieldsSerializer):
    """Only the fields given change."""

    defaults = False

    def get_fields(self):
        return {
            "code": LocationCodeField(required=False, help_text="Accepted only as it is: a code never changes."),
            **super().get_fields(),
        }


# --- pools ------------------------------------------------------------------------------


class PoolSerializer(serializers.ModelSerializer):
    warehouses = serializers.SerializerMethodField(
        help_text="Member codes by priority, then code; for `all`, every warehouse that accepts orders."
    )
    strategy = serializers.ChoiceField(choices=PoolStrategy.choices, read_only=True)

    class Meta:
        model = Pool
        fields = ["code", "name", "warehouses", "strategy"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_warehouses(self, pool: Pool) -> list[str]:
        return member_codes(pool)


def _strategy_field(**kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=PoolStrategy.choices,
        help_text="priority: warehouse priority, then code; most_stock: most available first; "
        "nearest: by distance to the order's ship_to, then priority.",
        **kwargs,
    )


class CreatePoolInputSerializer(serializers.Serializer):
    """A new pool: only the code is required."""

    code = LocationCodeField(help_text="Names the pool everywhere; never changes.")
    name = LabelField(max_length=limits.WAREHOUSE_NAME_MAX_LENGTH, required=False, default="")
    warehouses = WarehouseCodesField(required=False, default=list, help_text="Existing warehouses' codes, each once.")
    strategy = _strategy_field(required=False, default=PoolStrategy.PRIORITY)


class ChangePoolInputSerializer(serializers.Serializer):
    """Only the fields given change; `warehouses` replaces the members."""

    code = LocationCodeField(required=False, help_text="Accepted only as it is: a code never changes.")
    name = LabelField(max_length=limits.WAREHOUSE_NAME_MAX_LENGTH, required=False)
    warehouses = WarehouseCodesField(required=False, help_text="Existing warehouses' codes, each once.")
    strategy = _strategy_field(required=False)
