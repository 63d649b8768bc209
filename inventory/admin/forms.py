"""The back office's stock forms: each validates what a person typed and calls one service.

A form never writes stock itself. `submit` calls the service with the staff member
as actor and turns a domain error into a form error, so the person sees what went
wrong and nothing is half done. The fields the screens share are here too: a code's box, a
moment typed in the request's time zone.
"""

from datetime import UTC, datetime

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from inventory import limits, services
from inventory.admin.presentation import domain_message
from inventory.exceptions import InventoryError, VersionConflict
from inventory.models import Inventory, StockLevel, Warehouse


class NoControlCharacters:
    """A validator: text a person typed, without control characters."""

    message = _("Control characters are not allowed.")

    def __call__(self, value: str) -> None:
        if not limits.is_label(value, len(value)):
            raise forms.ValidationError(self.message)


CODE_RULE = _("1 to 32 characters of a-z, 0-9 and -")


def code_field(label, help_text="", **kwargs) -> forms.CharField:
    """A box for a code (a quota's, a pre-sale's, a customer tier): limits' rule, said in the person's language."""
    return forms.CharField(
        label=label,
        help_text=help_text,
        max_length=limits.LOCATION_CODE_MAX_LENGTH,
        validators=[RegexValidator(limits.LOCATION_CODE_PATTERN, CODE_RULE)],
        **kwargs,
    )


def _zone_help() -> str:
    return gettext("Date and time in %(zone)s.") % {"zone": timezone.get_current_timezone_name()}


class MomentField(forms.DateTimeField):
    """A date and time typed in the request's time zone (or with an offset), taken in UTC.

    In UTC because PostgreSQL refuses offsets past 15:59, and a moment that UTC cannot
    hold (year 1 east of Greenwich) is a form error, not a 500. Its help names the time
    zone, said when the form is shown (lazily: in the person's language and the request's zone).
    """

    widget = forms.DateTimeInput(attrs={"type": "datetime-local", "step": 1}, format="%Y-%m-%dT%H:%M:%S")

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", lazy(_zone_help, str)())
        super().__init__(**kwargs)

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError(_("The date and time is out of range.")) from None


def shown_moment(moment: datetime) -> datetime:
    """A moment as a MomentField shows it: in the request's time zone, to the second."""
    return timezone.localtime(moment).replace(microsecond=0)


CONFLICT_MESSAGE = _(
    "Someone else changed this item while you were looking at it; nothing was saved. "
    "The figures shown are the current ones: check them and submit again."
)
SWITCHED_MESSAGE = _(
    "You chose another warehouse than the one shown; nothing was saved. "
    "Its figures are shown now: check them and submit again."
)
HOT_ROWS_HELP = _(
    "How many rows the available stock of this level is spread over, so that the orders of a flash sale "
    "do not wait for one another: 1 to %(maximum)s. 1 turns it off."
)
# What the adjust form offers to pick from; any other text is a reason too.
ADJUST_REASONS = ("received", "damaged", "lost", "found", "correction", "return")
# How each is shown in the person's language; the reason recorded is the English word.
ADJUST_REASON_LABELS = {
    "received": _("received"),
    "damaged": _("damaged"),
    "lost": _("lost"),
    "found": _("found"),
    "correction": _("correction"),
    "return": _("return"),
}


class SuggestingTextInput(forms.TextInput):
    """A text box with standard answers to pick from (an HTML datalist) that takes any other text too."""

    def __init__(self, suggestions: tuple[str, ...], attrs=None):
        super().__init__(attrs)
        self.suggestions = suggestions

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["list"] = self._list_id(name)
        return context

    def render(self, name, value, attrs=None, renderer=None):
        options = format_html_join(
            "",
            '<option value="{}" label="{}">',
            ((suggestion, ADJUST_REASON_LABELS.get(suggestion, suggestion)) for suggestion in self.suggestions),
        )
        datalist = format_html('<datalist id="{}">{}</datalist>', self._list_id(name), options)
        return super().render(name, value, attrs, renderer) + datalist

    @staticmethod
    def _list_id(name: str) -> str:
        return f"{name}-suggestions"


class WarehouseChoiceField(forms.ModelChoiceField):
    """A warehouse by its code, chosen from all of them; the cleaned value is the Warehouse."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Warehouse.objects.order_by("priority", "code"), to_field_name="code", **kwargs)

    def to_python(self, value):
        # Looked up only when it can be a code: PostgreSQL refuses U+0000 in a query (a 500).
        if value not in self.empty_values and not limits.is_location_code(value):
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)

    def label_from_instance(self, warehouse: Warehouse) -> str:
        return warehouse.code  # a code names a warehouse everywhere, in the API and the CSV too


class StockChangeForm(forms.Form):
    """A form whose `apply` calls one service for one level: a product in the chosen warehouse."""

    title: str = ""
    permission: str = ""
    required_css_class = "required"  # the admin's stylesheet shows these labels in bold

    # Not required: a post without it acts on `default`, as the API does. No empty choice is offered.
    warehouse = WarehouseChoiceField(
        label=_("Warehouse"), required=False, empty_label=None, help_text=_("The stock level the change acts on.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The page opens on one level (its link on the item page): the figure is typed first.
        first = next(field for name, field in self.fields.items() if name != "warehouse" and not field.widget.is_hidden)
        first.widget.attrs["autofocus"] = True

    @classmethod
    def initial_from(cls, item: Inventory, level: StockLevel) -> dict:
        """What the form starts with for this item's level (saved or not yet opened)."""
        return {"warehouse": level.warehouse.code}

    def clean_warehouse(self) -> str:
        chosen = self.cleaned_data["warehouse"]
        return limits.DEFAULT_WAREHOUSE if chosen is None else chosen.code

    def apply(self, *, product_id: int, actor: str) -> Inventory | StockLevel:
        """Call the service; what it returns: the product's record, or the level it changed."""
        raise NotImplementedError

    def success_message(self, item: Inventory | StockLevel, level: StockLevel) -> str:
        values = {"change": self.title, "product": item.product_id, "available": level.available_stock}
        if level.warehouse.code == limits.DEFAULT_WAREHOUSE:
            return _("%(change)s of product %(product)s saved: %(available)s available.") % values
        return _("%(change)s of product %(product)s in %(warehouse)s saved: %(available)s available there.") % {
            **values,
            "warehouse": level.warehouse.code,
        }

    def submit(self, *, product_id: int, actor: str) -> Inventory | StockLevel | None:
        """Apply the valid form; None, with the error added to the form, if the service refused."""
        try:
            return self.apply(product_id=product_id, actor=actor)
        except VersionConflict as conflict:
            self.add_error(None, CONFLICT_MESSAGE)
            self._show_version(conflict.details["current_version"])
        except InventoryError as error:
            field = next((name for name in error.details if name in self.fields), None)
            self.add_error(field, domain_message(error))
        return None

    def _show_version(self, version: int) -> None:
        # The person is shown the current figures next; a second submit may go through.
        if "version" in self.fields:
            self.data = self.data.copy()
            self.data[self.add_prefix("version")] = str(version)


class VersionedForm(StockChangeForm):
    """Carries the version of the level the person saw, so a change made meanwhile is not overwritten.

    `version_of` names the warehouse of that level: choosing another warehouse on the form
    (whose figures the person has not seen) is refused, and its figures are shown instead.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    version_of = forms.CharField(widget=forms.HiddenInput, required=False)
    # The warehouse chosen instead of the one shown, once clean() has refused it.
    switched_to: str | None = None

    @classmethod
    def initial_from(cls, item: Inventory, level: StockLevel) -> dict:
        return {**super().initial_from(item, level), "version": level.version, "version_of": level.warehouse.code}

    def clean(self):
        cleaned = super().clean()
        chosen, shown = cleaned.get("warehouse"), cleaned.get("version_of") or limits.DEFAULT_WAREHOUSE
        if chosen is not None and chosen != shown:
            self.switched_to = chosen
            raise forms.ValidationError(SWITCHED_MESSAGE)
        return cleaned

    def show_level(self, level: StockLevel) -> None:
        """The form carries this level's version now: the person has seen its figures, a second submit may go."""
        self.data = self.data.copy()
        self.data[self.add_prefix("version")] = str(level.version)
        self.data[self.add_prefix("version_of")] = level.warehouse.code


class RestockForm(StockChangeForm):
    title = _("Restock")
    permission = "inventory.restock_inventory"

    quantity = forms.IntegerField(
        label=_("Quantity"), min_value=1, max_value=limits.MAX_QUANTITY, help_text=_("Units received.")
    )
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reference = forms.CharField(
        label=_("Reference"),
        required=False,
        max_length=limits.MAX_REFERENCE_LENGTH,
        help_text=_("Delivery note, purchase order, ..."),
    )

    # A restock adds to whatever is there, so it cannot overwrite a change made
    # meanwhile: like every stock movement it carries no version.
    def apply(self, *, product_id: int, actor: str) -> Inventory:
        return services.restock(product_id=product_id, actor=actor, **self.cleaned_data)


class AdjustForm(VersionedForm):
    title = _("Adjustment")
    permission = "inventory.adjust_inventory"

    delta = forms.IntegerField(
        label=pgettext_lazy("stock form", "Change"),  # Django's "Change" is the admin's edit link
        required=False,
        min_value=-limits.MAX_QUANTITY,
        max_value=limits.MAX_QUANTITY,
        help_text=_("Units to add (or, negative, remove)."),
    )
    counted = forms.IntegerField(
        label=_("Counted"),
        required=False,
        min_value=0,
        max_value=limits.MAX_QUANTITY,
        help_text=_("Or: the available units you counted."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=limits.MAX_REASON_LENGTH,
        widget=SuggestingTextInput(ADJUST_REASONS, attrs={"size": 40}),
        help_text=_("Pick a standard reason or type your own."),
    )
    reference = forms.CharField(label=_("Reference"), required=False, max_length=limits.MAX_REFERENCE_LENGTH)

    # A delta of 0 is taken, as the API takes it: it records a count that confirmed the figure.
    def clean(self):
        cleaned = super().clean()
        if self.has_error("delta") or self.has_error("counted"):
            return cleaned
        given = [cleaned.get(name) is not None for name in ("delta", "counted")]
        if all(given):
            raise forms.ValidationError(_("Give either a change or a counted quantity, not both."))
        if not any(given):
            raise forms.ValidationError(_("Give a change or a counted quantity."))
        return cleaned

    def apply(self, *, product_id: int, actor: str) -> Inventory:
        data = self.cleaned_data
        return services.adjust_stock(
            product_id=product_id,
            actor=actor,
            delta=data["delta"],
            counted=data["counted"],
            reason=data["reason"],
            reference=data["reference"],
            expected_version=data["version"],
            warehouse=data["warehouse"],
        )


class ThresholdForm(VersionedForm):
    title = _("Threshold change")
    permission = "inventory.change_threshold_inventory"

    low_stock_threshold = forms.IntegerField(
        label=_("Low-stock threshold"),
        min_value=0,
        max_value=limits.MAX_QUANTITY,
        help_text=_("The item counts as low on stock at or below this level."),
    )
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    @classmethod
    def initial_from(cls, item: Inventory, level: StockLevel) -> dict:
        return {**super().initial_from(item, level), "low_stock_threshold": level.low_stock_threshold}

    def success_message(self, item: Inventory, level: StockLevel) -> str:
        values = {"product": item.product_id, "threshold": level.low_stock_threshold}
        if level.warehouse.code == limits.DEFAULT_WAREHOUSE:
            return _("The low-stock threshold of product %(product)s is now %(threshold)s.") % values
        return _("The low-stock threshold of product %(product)s in %(warehouse)s is now %(threshold)s.") % {
            **values,
            "warehouse": level.warehouse.code,
        }

    def apply(self, *, product_id: int, actor: str) -> Inventory:
        data = self.cleaned_data
        return services.set_low_stock_threshold(
            product_id=product_id,
            actor=actor,
            low_stock_threshold=data["low_stock_threshold"],
            reason=data["reason"],
            expected_version=data["version"],
            warehouse=data["warehouse"],
        )


class HotLevelForm(StockChangeForm):
    """How many rows a level's available stock is spread over, so that a flash sale's reserves do not queue.

    No version: the form sets N, whatever the figures, and the service re-spreads the
    stock as it is then (in one transaction), so a change made meanwhile loses nothing.
    """

    title = _("Flash sale rows")
    permission = "inventory.make_hot_inventory"

    buckets = forms.IntegerField(label=_("Rows"), min_value=1, max_value=limits.MAX_BUCKETS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Filled in here, in the person's language: a lazy text's % would translate it at import.
        self.fields["buckets"].help_text = HOT_ROWS_HELP % {"maximum": limits.MAX_BUCKETS}

    @classmethod
    def initial_from(cls, item: Inventory, level: StockLevel) -> dict:
        return {**super().initial_from(item, level), "buckets": level.buckets}

    def success_message(self, item: Inventory | StockLevel, level: StockLevel) -> str:
        values = {"product": item.product_id, "warehouse": level.warehouse.code, "rows": level.buckets}
        if level.is_hot:
            return _("Product %(product)s in %(warehouse)s is hot: its stock is spread over %(rows)s rows.") % values
        return _("Product %(product)s in %(warehouse)s is not hot: its stock is on one row.") % values

    def apply(self, *, product_id: int, actor: str) -> StockLevel:
        data = self.cleaned_data
        return services.make_hot(
            product_id=product_id, buckets=data["buckets"], actor=actor, warehouse=data["warehouse"]
        )


class BulkThresholdForm(forms.Form):
    """One threshold for many items, chosen on the change list."""

    required_css_class = "required"

    low_stock_threshold = ThresholdForm.base_fields["low_stock_threshold"]
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AddItemForm(forms.ModelForm):
    """The add page of an item: the API's rules for the figures, the SKU and the name.

    The opening figures are the level's in the default warehouse (a level is not a field
    of the product), declared here with the model's defaults.
    """

    available_stock = forms.IntegerField(label=_("Available stock"), initial=0)
    low_stock_threshold = forms.IntegerField(label=_("Low-stock threshold"), initial=limits.DEFAULT_LOW_STOCK_THRESHOLD)

    class Meta:
        model = Inventory
        fields = ("product_id", "sku", "name", "available_stock", "low_stock_threshold")
        labels = {"product_id": _("Product id"), "sku": _("SKU"), "name": _("Name")}

    def clean_sku(self) -> str:
        sku = self.cleaned_data["sku"]
        if not limits.is_sku(sku):
            raise forms.ValidationError(_("A SKU is %(rule)s.") % {"rule": limits.SKU_RULE})
        return sku

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if not limits.is_product_name(name):
            raise forms.ValidationError(_("A name is printable text (no control characters)."))
        return name

    def clean_available_stock(self) -> int:
        return _within("available_stock", self.cleaned_data["available_stock"])

    def clean_low_stock_threshold(self) -> int:
        return _within("low_stock_threshold", self.cleaned_data["low_stock_threshold"])


def _within(name: str, value: int) -> int:
    if not 0 <= value <= limits.MAX_QUANTITY:
        raise forms.ValidationError(
            _("Give a whole number from 0 to %(maximum)s.") % {"maximum": f"{limits.MAX_QUANTITY:,}"}
        )
    return value
