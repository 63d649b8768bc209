"""A past day's figures: a product's levels, or a warehouse's, at the end of a day (UTC)."""

from rest_framework import serializers

from inventory.api.serializers.purchasing import StrictDateField


class LevelOnDaySerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    warehouse = serializers.CharField()
    available_stock = serializers.IntegerField()
    reserved_stock = serializers.IntegerField()
    total_stock = serializers.IntegerField()


class ProductOnDaySerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    date = StrictDateField(help_text="The day whose end (midnight UTC) the figures are of; today: now.")
    available_stock = serializers.IntegerField(help_text="Summed over the levels.")
    reserved_stock = serializers.IntegerField()
    total_stock = serializers.IntegerField()
    levels = LevelOnDaySerializer(many=True, help_text="The levels opened by then, by warehouse priority.")
