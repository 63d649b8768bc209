"""The screens of the other installed apps (users and groups, Celery beat's schedules, axes' lockouts),
with the same strict reading of ids as the inventory's own (common.StrictModelAdmin).

Django's ModelAdmin answers 500 to `<id>/change/?_to_field=` and to an action
posted with an id that is not a number. The apps before `inventory` in
INSTALLED_APPS have registered their screens by the time this module is
imported; each one is registered again with StrictModelAdmin in front of its class.
"""

from django.contrib import admin

from inventory.admin.common import StrictModelAdmin


def make_strict(site: admin.AdminSite) -> None:
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, StrictModelAdmin):
            continue
        strict_class = type(f"Strict{type(model_admin).__name__}", (StrictModelAdmin, type(model_admin)), {})
        site.unregister(model)
        site.register(model, strict_class)


make_strict(admin.site)
