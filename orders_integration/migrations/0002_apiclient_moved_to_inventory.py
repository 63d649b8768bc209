"""ApiClient now lives in inventory (inventory 0005 took over its table): drop it from this app's state."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("orders_integration", "0001_initial"),
        ("inventory", "0005_apiclient_from_orders_integration"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="ApiClient")]),
    ]
