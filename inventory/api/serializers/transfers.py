"""Input and output shapes of the transfer endpoints."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inventory import limits
from inventory.api.fields import LocationCodeField, UTCDateTimeField, product_id_field, quantity_field
from inventory.api.serializers.stock import text_field
from inventory.models import Transfer, TransferStatus
from inventory.selectors.warehouses import warehouse_code


class TransferLineInputSerializer(serializers.Serializer):
    product_id = product_id_field()
    quantity = quantity_field()


def transfer_lines_field(**kwargs) -> TransferLineInputSerializer:
    return TransferLineInputSerializer(
        many=True, min_length=1, max_length=limits.MAX_TRANSFER_LINES, allow_empty=False, **kwargs
    )


def _distinct_products(lines: list[dict]) -> list[dict]:
    if len({line["product_id"] for line in lines}) != len(lines):
        raise serializers.ValidationError("Each product may appear once.")
    return lines


class CreateTransferInputSerializer(serializers.Serializer):
    # `from` is a Python keyword: the field is declared under its JSON name below.
    to = LocationCodeField(help_text="The destination warehouse's code.")
    lines = transfer_lines_field(help_text="Each product once.")
    reference = text_field(limits.MAX_REFERENCE_LENGTH)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = LocationCodeField(help_text="The source warehouse's code.")
        return fields

    def validate_lines(self, lines):
        return _distinct_products(lines)

    def validate(self, attrs):
        if attrs["from"] == attrs["to"]:
            message = "A transfer goes from one warehouse to another."
            raise serializers.ValidationError({"from": [message], "to": [message]})
        return attrs


class ReceiveTransferInputSerializer(serializers.Serializer):
    lines = transfer_lines_field(
        required=False, help_text="Units received per product; default everything still in transit."
    )

    def validate_lines(self, lines):
        return _distinct_products(lines)


class TransferLineSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    quantity = serializers.IntegerField(help_text="Units sent.")
    received = serializers.IntegerField(help_text="Units received so far.")


@extend_schema_field({"type": "string", "example": "sh-1"})
class _WarehouseOfTransfer(serializers.Field):
    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: int) -> str:
        return warehouse_code(value)


class TransferSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=TransferStatus.choices, read_only=True)
    to = _WarehouseOfTransfer(source="destination_id")
    lines = TransferLineSerializer(many=True, read_only=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    def get_fields(self):
        fields = super().get_fields()
        # The contract's order: id, from, to, status, ...
        ordered = {"id": fields.pop("id"), "from": _WarehouseOfTransfer(source="source_id")}
        ordered.update(fields)
        return ordered

    class Meta:
        model = Transfer
        fields = ["id", "to", "status", "reference", "lines", "created_at", "updated_at"]
        read_only_fields = fields
