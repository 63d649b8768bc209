"""Read queries of transfers for the back office: a transfer's ledger entries."""

from django.db.models import QuerySet

from inventory.models import InventoryLog, Transfer


def transfer_reference(transfer_id: int) -> str:
    """The reference every ledger entry of a transfer carries, written and read by this one function."""
    return f"transfer:{transfer_id}"


def transfer_entries(transfer: Transfer) -> QuerySet[InventoryLog]:
    """The ledger entries of a transfer (out, each receipt, the return), oldest first.

    Looked up by the lines' products first: the log has an index by product, none by
    reference, so a million-row log is not read to find a transfer's few entries.
    """
    products = [line.product_id for line in transfer.lines.all()]
    return (
        InventoryLog.objects.filter(product_id__in=products, reference=transfer_reference(transfer.pk))
        .select_related("warehouse")
        .order_by("id")
    )
