"""The reservation's names as the screens show them, translatable; no change to the database."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inventory", "0008_product_names")]

    operations = [
        migrations.AlterModelOptions(
            name="reservation",
            options={"ordering": ["-id"], "verbose_name": "reservation", "verbose_name_plural": "reservations"},
        ),
    ]
