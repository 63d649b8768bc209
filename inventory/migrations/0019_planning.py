"""Planning (issue 17): a level's planning terms and the figures the daily run computes
(ABC class, forecast, safety stock, reorder point and quantity), and the run's settings.
Both back-office groups see the plans; "Warehouse managers" may change their terms (given as
0012's grants are).
"""

import importlib

import django.db.models.deletion
import django.db.models.functions.datetime
from django.db import migrations, models

_groups = importlib.import_module("inventory.migrations.0012_warehouse_group_permissions")

GROUPS = {
    "Warehouse staff": [("view_itemplan", "itemplan")],
    "Warehouse managers": [("view_itemplan", "itemplan"), ("manage_planning", "itemplan")],
}


grant, revoke = _groups.granting(GROUPS)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0018_counts"),
    ]

    operations = [
        migrations.CreateModel(
            name="PlanningSettings",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("window_days", models.PositiveSmallIntegerField(default=90)),
                (
                    "abc_basis",
                    models.CharField(choices=[("units", "Units"), ("value", "Value")], default="units", max_length=8),
                ),
                ("a_percent", models.DecimalField(decimal_places=2, default=80, max_digits=5)),
                ("b_percent", models.DecimalField(decimal_places=2, default=95, max_digits=5)),
                ("a_count_days", models.PositiveSmallIntegerField(default=30)),
                ("b_count_days", models.PositiveSmallIntegerField(default=91)),
                ("c_count_days", models.PositiveSmallIntegerField(default=365)),
                ("updated_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
            ],
            options={
                "verbose_name": "planning settings",
                "verbose_name_plural": "planning settings",
                "default_permissions": (),
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("id", 1)), name="planningsettings_one_row"),
                    models.CheckConstraint(
                        condition=models.Q(("window_days__gte", 7), ("window_days__lte", 366)),
                        name="planningsettings_window_in_range",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("a_percent__gt", 0), ("b_percent__gt", models.F("a_percent")), ("b_percent__lte", 100)
                        ),
                        name="planningsettings_thresholds_ordered",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("abc_basis__in", ["units", "value"])), name="planningsettings_basis_known"
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="ItemPlan",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("lead_time_days", models.PositiveSmallIntegerField(default=7)),
                ("service_level", models.DecimalField(decimal_places=3, default=0.95, max_digits=4)),
                ("apply_suggestions", models.BooleanField(default=False)),
                (
                    "abc_class",
                    models.CharField(
                        blank=True, choices=[("A", "A"), ("B", "B"), ("C", "C")], default="", max_length=1
                    ),
                ),
                ("demand_units", models.BigIntegerField(default=0)),
                ("method", models.CharField(blank=True, default="", max_length=32)),
                ("forecast", models.JSONField(blank=True, default=list)),
                ("error_sd", models.FloatField(blank=True, null=True)),
                ("history_days", models.PositiveSmallIntegerField(default=0)),
                ("safety_stock", models.BigIntegerField(blank=True, null=True)),
                ("reorder_point", models.BigIntegerField(blank=True, null=True)),
                ("reorder_quantity", models.BigIntegerField(blank=True, null=True)),
                ("computed_at", models.DateTimeField(blank=True, null=True)),
                ("actor", models.CharField(blank=True, default="", max_length=150)),
                ("updated_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                (
                    "product",
                    models.ForeignKey(
                        db_column="product_id",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="plans",
                        to="inventory.inventory",
                        to_field="product_id",
                    ),
                ),
                (
                    "warehouse",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="plans", to="inventory.warehouse"
                    ),
                ),
            ],
            options={
                "verbose_name": "item plan",
                "verbose_name_plural": "item plans",
                "ordering": ["product_id", "warehouse_id"],
                "permissions": [("manage_planning", "Can change planning terms and settings")],
                "default_permissions": ("view",),
                "constraints": [
                    models.UniqueConstraint(fields=("product", "warehouse"), name="itemplan_one_per_level"),
                    models.CheckConstraint(
                        condition=models.Q(("lead_time_days__lte", 366)), name="itemplan_lead_time_in_range"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("service_level__gte", 0.5), ("service_level__lt", 1)),
                        name="itemplan_service_level_in_range",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("abc_class__in", ["", "A", "B", "C"])), name="itemplan_abc_class_known"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("demand_units__gte", 0),
                            models.Q(("error_sd__isnull", True), ("error_sd__gte", 0), _connector="OR"),
                            models.Q(("safety_stock__isnull", True), ("safety_stock__gte", 0), _connector="OR"),
                            models.Q(
                                ("reorder_point__isnull", True),
                                models.Q(("reorder_point__gte", 0), ("reorder_point__lte", 1000000000)),
                                _connector="OR",
                            ),
                            models.Q(("reorder_quantity__isnull", True), ("reorder_quantity__gte", 0), _connector="OR"),
                        ),
                        name="itemplan_figures_non_negative",
                    ),
                ],
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
