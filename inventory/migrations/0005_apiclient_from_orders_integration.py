"""API clients move from orders_integration to inventory, table, rows and permissions included.

The model is taken over in the migration state on its old table, which is then
renamed; orders_integration's 0002 drops it from that app's state only. The content
type (and with it the four model permissions granted to users and groups) is
relabelled, so nobody loses a permission.
"""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models


def relabel_content_type(apps, schema_editor):
    content_types = apps.get_model("contenttypes", "ContentType")
    if not content_types.objects.filter(app_label="inventory", model="apiclient").exists():
        content_types.objects.filter(app_label="orders_integration", model="apiclient").update(app_label="inventory")


def restore_content_type(apps, schema_editor):
    content_types = apps.get_model("contenttypes", "ContentType")
    content_types.objects.filter(app_label="inventory", model="apiclient").update(app_label="orders_integration")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("inventory", "0004_inventory_row_count"),
        ("orders_integration", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ApiClient",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "name",
                            models.CharField(
                                help_text="Recorded as the actor of every change it makes.", max_length=100, unique=True
                            ),
                        ),
                        (
                            "role",
                            models.CharField(
                                choices=[
                                    ("internal", "internal (order-service)"),
                                    ("staff", "staff (back-office tools)"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("token_hash", models.CharField(editable=False, max_length=64, unique=True)),
                        ("token_prefix", models.CharField(editable=False, max_length=12)),
                        ("is_active", models.BooleanField(default=True)),
                        ("created_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                        ("rotated_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                        (
                            "user",
                            models.OneToOneField(
                                help_text="The user whose permissions the client has (a service user unless issued to a person).",
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="api_client",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "API client",
                        "ordering": ["name"],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("role__in", ["internal", "staff"])), name="apiclient_role_valid"
                            )
                        ],
                        "db_table": "orders_integration_apiclient",
                    },
                ),
            ],
        ),
        migrations.AlterModelTable(name="apiclient", table=None),
        migrations.RunPython(relabel_content_type, restore_content_type),
    ]
