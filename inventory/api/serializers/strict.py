"""Inputs that are strict about their keys too: a field an endpoint does not know is a 400
naming it (`additionalProperties: false` in the OpenAPI document), so a misspelt field is
never taken for one left out. The staff endpoints of purchase orders, quotas and
pre-sales are written with them.
"""

from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from inventory.api.serializers.stock import PlainTextField, PlainTextFieldSchema


class StrictInputSerializer(serializers.Serializer):
    # A JSON object with only the fields declared: any other key is a 400 naming it.
    # (A comment, not a docstring: the OpenAPI document shows each input's own.)

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        errors = {name: ["This field is not allowed."] for name in unknown if isinstance(name, str)}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if not isinstance(error.detail, dict):
                raise
            errors = {**errors, **error.detail}
        if errors:
            raise serializers.ValidationError(errors)
        return value


class StrictInputSerializerSchema(OpenApiSerializerExtension):
    """A strict input in the OpenAPI document: no other properties, and its lists' bounds."""

    target_class = StrictInputSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["additionalProperties"] = False
            for name, field in self.target.fields.items():
                if isinstance(field, serializers.ListSerializer) and name in schema.get("properties", {}):
                    schema["properties"][name]["minItems"] = field.min_length
                    schema["properties"][name]["maxItems"] = field.max_length
        return schema


class StrictTextField(PlainTextField):
    """Optional free text (no NUL, linear-time checks) that must be a JSON string: 12 is not a reference."""

    default_error_messages = {"not_a_string": "A JSON string is required."}

    def to_internal_value(self, data):
        if type(data) is not str:
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictTextFieldSchema(PlainTextFieldSchema):
    target_class = StrictTextField


def text_field(max_length: int) -> StrictTextField:
    return StrictTextField(required=False, allow_blank=True, max_length=max_length, default="", trim_whitespace=False)
