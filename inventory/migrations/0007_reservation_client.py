"""An order belongs to the internal client that first reserved it.

Existing reservations get their client from the ledger: the actor of the order's
first `reserve` entry, where that names an internal API client. Orders reserved
in-process (by the order flows) keep none.
"""

import django.db.models.deletion
from django.db import migrations, models


def assign_clients(apps, schema_editor):
    reservation = apps.get_model("inventory", "Reservation")._meta.db_table
    log = apps.get_model("inventory", "InventoryLog")._meta.db_table
    client = apps.get_model("inventory", "ApiClient")._meta.db_table
    schema_editor.execute(
        f"""
        UPDATE {reservation} SET client_id = (
            SELECT owner.id FROM {log} AS entry JOIN {client} AS owner ON owner.name = entry.actor
            WHERE entry.order_id = {reservation}.order_id AND entry.operation = 'reserve' AND owner.role = 'internal'
            ORDER BY entry.id LIMIT 1
        )
        WHERE client_id IS NULL
        """  # noqa: S608 (table names from the models)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0006_reservation_list_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="reservation",
            name="client",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reservations",
                to="inventory.apiclient",
            ),
        ),
        migrations.RunPython(assign_clients, migrations.RunPython.noop),
    ]
