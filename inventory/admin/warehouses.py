"""The warehouse and pool screens: add and change through the services, reorder priorities on the list.

The forms check what a person types by the bounds of inventory.limits; every save and
delete then goes through `inventory.services` with the staff member as actor, never
through the model. Should a service still refuse (someone else saved the same code
meanwhile, or stock arrived in a warehouse being deleted), nothing is saved and the
refusal is shown: on the form, with what the person typed, or as a message on the
list. A warehouse that has held stock is never deleted, nor `default`; the pool `all`,
every warehouse that accepts orders, is read-only.
"""

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.core.validators import RegexValidator
from django.db import transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from inventory import limits, services
from inventory.admin.common import StrictModelAdmin, actor_of
from inventory.admin.presentation import column, domain_message, titled, when, yes_or_no
from inventory.exceptions import InventoryError
from inventory.models import Pool, Warehouse
from inventory.selectors.pools import member_codes

# The service's refusal of a save, carried from the failed attempt to the form shown again.
REFUSAL = "_inventory_refusal"


def code_field() -> forms.CharField:
    return forms.CharField(
        label=_("Code"),
        max_length=limits.LOCATION_CODE_MAX_LENGTH,
        validators=[RegexValidator(limits.LOCATION_CODE_PATTERN, _("1 to 32 characters of a-z, 0-9 and -"))],
        help_text=_("Names it everywhere, in the API too; it never changes."),
    )


def priority_field() -> forms.IntegerField:
    return forms.IntegerField(
        label=_("Priority"),
        min_value=limits.MIN_PRIORITY,
        max_value=limits.MAX_PRIORITY,
        initial=0,
        help_text=_("Lower is preferred."),
    )


def label_field(label, max_length: int) -> forms.CharField:
    return forms.CharField(label=label, max_length=max_length, required=False, strip=False)


class ServiceForm(forms.ModelForm):
    """A model form that shows a service's refusal of its last save as its own error."""

    refusal: InventoryError | None = None

    def clean(self):
        cleaned = super().clean()
        if self.refusal is not None:
            field = next((name for name in self.refusal.details if name in self.fields), None)
            self.add_error(field, domain_message(self.refusal))
        return cleaned

    def _clean_label(self, name: str) -> str:
        value = self.cleaned_data[name]
        if not limits.is_label(value, self.fields[name].max_length):
            raise forms.ValidationError(_("Control characters are not allowed."))
        return value


class WarehouseForm(ServiceForm):
    code = code_field()
    name = label_field(_("Name"), limits.WAREHOUSE_NAME_MAX_LENGTH)
    region = label_field(_("Region"), limits.REGION_MAX_LENGTH)
    latitude = forms.FloatField(
        label=_("Latitude"),
        required=False,
        min_value=-limits.MAX_LATITUDE,
        max_value=limits.MAX_LATITUDE,
        help_text=_("Degrees north, for nearest-first pools. Give both coordinates, or neither."),
    )
    longitude = forms.FloatField(
        label=_("Longitude"),
        required=False,
        min_value=-limits.MAX_LONGITUDE,
        max_value=limits.MAX_LONGITUDE,
        help_text=_("Degrees east."),
    )
    priority = priority_field()
    accepts_orders = forms.BooleanField(
        label=_("Accepts orders"),
        required=False,
        initial=True,
        help_text=_("Unticked, the warehouse is left out of allocation; its stock stays."),
    )

    class Meta:
        model = Warehouse
        fields = ("code", "name", "region", "latitude", "longitude", "priority", "accepts_orders")

    def clean_name(self) -> str:
        return self._clean_label("name")

    def clean_region(self) -> str:
        return self._clean_label("region")

    def clean(self):
        cleaned = super().clean()
        latitude, longitude = cleaned.get("latitude"), cleaned.get("longitude")
        if not (self.has_error("latitude") or self.has_error("longitude")) and (latitude is None) != (
            longitude is None
        ):
            raise forms.ValidationError(_("Give both coordinates, or neither."))
        return cleaned


class PriorityForm(ServiceForm):
    """The list's editable column: staff reorder the warehouses there."""

    priority = priority_field()

    class Meta:
        model = Warehouse
        fields = ("priority",)


class PoolForm(ServiceForm):
    code = code_field()
    name = label_field(_("Name"), limits.WAREHOUSE_NAME_MAX_LENGTH)

    class Meta:
        model = Pool
        fields = ("code", "name", "strategy", "warehouses")
        labels = {"strategy": _("Strategy"), "warehouses": _("Warehouses")}

    def clean_name(self) -> str:
        return self._clean_label("name")

    def clean_warehouses(self):
        chosen = self.cleaned_data["warehouses"]
        if len(chosen) > limits.MAX_POOL_WAREHOUSES:
            raise forms.ValidationError(
                _("A pool has at most %(count)s warehouses.") % {"count": limits.MAX_POOL_WAREHOUSES}
            )
        return chosen


class ServiceAdmin(StrictModelAdmin):
    """Saves and deletes through the services (`create`, `update`, `delete` below), each in the page's transaction.

    A refusal rolls the page's transaction back. The add or change page is then shown
    again, its form carrying the refusal as an error; the list (its editable column, the
    delete action) and the delete page show it as a message.
    """

    create: Callable[..., object]
    update: Callable[..., object]
    delete: Callable[..., None]
    # Fields whose changes the service takes together (the coordinates of a warehouse).
    changed_together: tuple[str, ...] = ()

    def save_model(self, request, obj, form, change):
        if change:
            self.update(obj.code, actor=actor_of(request), **self.changes(form))
        else:
            obj.pk = self.create(**self.service_values(form, form.fields), actor=actor_of(request)).pk

    def save_related(self, request, form, formsets, change):
        pass  # the service has set the relations (a pool's warehouses) with the rest

    def changes(self, form) -> dict:
        changed = set(form.changed_data)
        if changed & set(self.changed_together):
            changed |= set(self.changed_together)
        return self.service_values(form, [name for name in form.fields if name in changed])

    def service_values(self, form, names) -> dict:
        return {name: form.cleaned_data[name] for name in names}

    def delete_model(self, request, obj):
        self.delete(obj.code, actor=actor_of(request))

    def delete_queryset(self, request, queryset):
        # In changelist_view's transaction: all or none of the selection, with their history entries.
        for obj in queryset:
            self.delete(obj.code, actor=actor_of(request))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, REFUSAL, None)
        if refusal is None:
            return form_class
        return type(form_class.__name__, (form_class,), {"refusal": refusal})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except InventoryError as refusal:
            setattr(request, REFUSAL, refusal)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        # One transaction for the editable column's rows and for an action, as for the other pages.
        try:
            with transaction.atomic():
                return super().changelist_view(request, extra_context)
        except InventoryError as refusal:
            return self._refused(request, refusal, request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except InventoryError as refusal:
            return self._refused(request, refusal, request.path.removesuffix("delete/") + "change/")

    def _refused(self, request: HttpRequest, refusal: InventoryError, back_to: str) -> HttpResponseRedirect:
        self.message_user(
            request, _("Nothing was saved: %(error)s") % {"error": domain_message(refusal)}, messages.ERROR
        )
        return HttpResponseRedirect(back_to)


@admin.register(Warehouse)
class WarehouseAdmin(ServiceAdmin):
    list_display = ("code_column", "name_column", "region_column", "priority", "accepts_orders_column")
    list_display_links = ("code_column",)
    list_editable = ("priority",)
    list_filter = (("accepts_orders", titled(admin.BooleanFieldListFilter, _("accepts orders"))),)
    search_fields = ("code", "name", "region")
    search_help_text = _("Code, name or region, or part of one.")
    ordering = ("priority", "code")
    form = WarehouseForm
    fields = (*WarehouseForm.Meta.fields, "created_column")
    changed_together = ("latitude", "longitude")

    create = staticmethod(services.create_warehouse)
    update = staticmethod(services.update_warehouse)
    delete = staticmethod(services.delete_warehouse)

    code_column = staticmethod(column("code", _("code")))
    name_column = staticmethod(column("name", _("name")))
    region_column = staticmethod(column("region", _("region")))

    @admin.display(description=_("accepts orders"), ordering="accepts_orders")
    def accepts_orders_column(self, warehouse: Warehouse) -> str:
        return yes_or_no(warehouse.accepts_orders)

    @admin.display(description=_("created"))
    def created_column(self, warehouse: Warehouse) -> str:
        return when(warehouse.created_at)

    def get_readonly_fields(self, request, obj=None):
        # The code names the warehouse in every stock level, log entry and API call.
        return ("created_column",) if obj is None else ("code", "created_column")

    def get_fields(self, request, obj=None):
        return self.fields if obj is not None else WarehouseForm.Meta.fields

    def get_changelist_form(self, request, **kwargs):
        return super().get_changelist_form(request, form=PriorityForm, **kwargs)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.code == limits.DEFAULT_WAREHOUSE or obj.levels.exists()):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Pool)
class PoolAdmin(ServiceAdmin):
    list_display = ("code_column", "name_column", "strategy_column", "members_column")
    list_display_links = ("code_column",)
    list_filter = (("strategy", titled(admin.ChoicesFieldListFilter, _("strategy"))),)
    search_fields = ("code", "name")
    search_help_text = _("Code or name, or part of one.")
    ordering = ("code",)
    form = PoolForm
    filter_horizontal = ("warehouses",)

    create = staticmethod(services.create_pool)
    update = staticmethod(services.update_pool)
    delete = staticmethod(services.delete_pool)

    code_column = staticmethod(column("code", _("code")))
    name_column = staticmethod(column("name", _("name")))

    @admin.display(description=_("strategy"), ordering="strategy")
    def strategy_column(self, pool: Pool) -> str:
        return pool.get_strategy_display()

    @admin.display(description=_("warehouses"))
    def members_column(self, pool: Pool) -> str:
        return ", ".join(member_codes(pool))

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("warehouses")

    def get_fields(self, request, obj=None):
        if obj is not None and obj.every_warehouse:
            return ("code", "name", "strategy", "members_column")  # its stored members mean nothing
        return PoolForm.Meta.fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("code", "members_column") if obj.every_warehouse else ("code",)

    def service_values(self, form, names) -> dict:
        values = super().service_values(form, names)
        if "warehouses" in values:
            values["warehouses"] = [warehouse.code for warehouse in values["warehouses"]]
        return values

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.every_warehouse:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.every_warehouse:
            return False
        return super().has_delete_permission(request, obj)
