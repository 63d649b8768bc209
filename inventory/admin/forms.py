"""The back office's stock forms: each validates what a person typed and calls one service.

A form never writes stock itself. `submit` calls the service with the staff member
as actor and turns a domain error into a form error, so the person sees what went
wrong and nothing is half done.
"""

from django import forms

from inventory import limits, services
from inventory.exceptions import InventoryError, VersionConflict
from inventory.models import Inventory

CONFLICT_MESSAGE = (
    "Someone else changed this item while you were looking at it (it is now at version {version}); "
    "nothing was saved. The figures shown are the current ones: check them and submit again."
)


class StockChangeForm(forms.Form):
    """A form whose `apply` calls one service for one product."""

    title: str = ""
    permission: str = ""

    def apply(self, *, product_id: int, actor: str) -> Inventory:
        raise NotImplementedError

    def success_message(self, item: Inventory) -> str:
        return f"{self.title} of product {item.product_id} saved: {item.available_stock} available."

    def submit(self, *, product_id: int, actor: str) -> Inventory | None:
        """Apply the valid form; None, with the error added to the form, if the service refused."""
        try:
            return self.apply(product_id=product_id, actor=actor)
        except VersionConflict as conflict:
            self.add_error(None, CONFLICT_MESSAGE.format(version=conflict.details["current_version"]))
            self._show_version(conflict.details["current_version"])
        except InventoryError as error:
            field = next((name for name in error.details if name in self.fields), None)
            self.add_error(field, error.message)
        return None

    def _show_version(self, version: int) -> None:
        # The person has now seen the current figures; a second submit may go through.
        if "version" in self.fields:
            self.data = self.data.copy()
            self.data[self.add_prefix("version")] = str(version)


class VersionedForm(StockChangeForm):
    """Carries the version of the item the person saw, so a change made meanwhile is not overwritten."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class RestockForm(StockChangeForm):
    title = "Restock"
    permission = "inventory.restock_inventory"

    quantity = forms.IntegerField(min_value=1, max_value=limits.MAX_QUANTITY, help_text="Units received.")
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reference = forms.CharField(required=False, max_length=255, help_text="Delivery note, purchase order, ...")

    # A restock adds to whatever is there, so it cannot overwrite a change made
    # meanwhile: like every stock movement it carries no version.
    def apply(self, *, product_id: int, actor: str) -> Inventory:
        return services.restock(product_id=product_id, actor=actor, **self.cleaned_data)


class AdjustForm(VersionedForm):
    title = "Adjustment"
    permission = "inventory.adjust_inventory"

    delta = forms.IntegerField(
        required=False,
        min_value=-limits.MAX_QUANTITY,
        max_value=limits.MAX_QUANTITY,
        help_text="Units to add (or, negative, remove).",
    )
    counted = forms.IntegerField(
        required=False, min_value=0, max_value=limits.MAX_QUANTITY, help_text="Or: the available units you counted."
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    reference = forms.CharField(required=False, max_length=255)

    def clean(self):
        cleaned = super().clean()
        if (cleaned.get("delta") is None) == (cleaned.get("counted") is None) and not (
            self.has_error("delta") or self.has_error("counted")
        ):
            raise forms.ValidationError("Give either a change or a counted quantity, not both.")
        if cleaned.get("delta") == 0:
            self.add_error("delta", "A change of zero changes nothing.")
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
        )


class ThresholdForm(VersionedForm):
    title = "Threshold change"
    permission = "inventory.change_threshold_inventory"

    low_stock_threshold = forms.IntegerField(
        min_value=0, max_value=limits.MAX_QUANTITY, help_text="The item counts as low on stock at or below this level."
    )
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def success_message(self, item: Inventory) -> str:
        return f"The low-stock threshold of product {item.product_id} is now {item.low_stock_threshold}."

    def apply(self, *, product_id: int, actor: str) -> Inventory:
        data = self.cleaned_data
        return services.set_low_stock_threshold(
            product_id=product_id,
            actor=actor,
            low_stock_threshold=data["low_stock_threshold"],
            reason=data["reason"],
            expected_version=data["version"],
        )


class BulkThresholdForm(forms.Form):
    """One threshold for many items, chosen on the change list."""

    low_stock_threshold = ThresholdForm.base_fields["low_stock_threshold"]
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
