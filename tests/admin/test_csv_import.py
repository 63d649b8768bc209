"""CSV import: preview with per-row errors, then all or nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inventory import services
from inventory.admin.csv_import import ImportFailed, ImportKind, apply_import, plan_import
from inventory.models import Inventory, InventoryLog, StockLevel

IMPORT = reverse("admin:inventory_inventory_import")


def upload(client, kind: str, text: str, reason: str = "delivery 12"):
    return client.post(
        IMPORT, {"kind": kind, "reason": reason, "file": SimpleUploadedFile("stock.csv", text.encode(), "text/csv")}
    )


def available(*items) -> list[int]:
    return [Inventory.objects.get(pk=item.pk).available_stock for item in items]


def test_restock_file_preview_then_apply(client_for, staff, item):
    first, second = item(5), item(0)
    client = client_for(staff)
    text = f"product_id,quantity,reference\n{first.product_id},10,PO-1\n{second.product_id},3,\n"

    preview = upload(client, "restock", text)

    assert preview.status_code == 200
    plan = preview.context["plan"]
    assert plan.is_valid
    assert [(row.available_now, row.available_after) for row in plan.rows] == [(5, 15), (0, 3)]
    assert available(first, second) == [5, 0]  # a preview changes nothing

    applied = client.post(IMPORT, {"kind": "restock", "content": text, "reason": "delivery 12"})

    assert applied.status_code == 302
    assert available(first, second) == [15, 3]
    entry = InventoryLog.objects.filter(product_id=first.product_id, operation="restock").get()
    assert (entry.actor, entry.reason, entry.reference) == ("staffer", "delivery 12", "PO-1")


def test_per_row_errors_are_shown_and_nothing_is_applied(client_for, manager, item):
    known = item(5)
    text = f"product_id,counted,reason\n{known.product_id},7,recount\n999999999,1,\n{known.product_id},x,\nabc,-1,\n"
    preview = upload(client_for(manager), "counted", text)

    rows = preview.context["plan"].rows
    assert not preview.context["plan"].is_valid
    assert rows[0].errors == [f"Product {known.product_id} is counted on more than one row."]
    assert rows[1].errors == ["No inventory record for product 999999999."]
    assert "counted must be a whole number, not 'x'." in rows[2].errors
    assert len(rows[3].errors) == 2
    assert "Nothing was applied" in preview.content.decode()
    assert available(known) == [5]


def test_a_file_without_the_needed_columns(client_for, staff):
    preview = upload(client_for(staff), "restock", "product,qty\n1,2\n")
    assert preview.context["plan"].errors == ["Missing column(s): product_id, quantity."]


def test_apply_rechecks_the_file(client_for, staff, item):
    product = item(5)
    response = client_for(staff).post(
        IMPORT, {"kind": "restock", "content": f"product_id,quantity\n{product.product_id},0\n", "reason": "r"}
    )
    assert response.status_code == 200
    assert response.context["plan"].rows[0].errors
    assert available(product) == [5]


def test_a_row_the_service_refuses_rolls_back_the_rows_before_it(item):
    first, second = item(5), item(5)
    plan = plan_import(
        f"product_id,counted\n{first.product_id},9\n{second.product_id},8\n", ImportKind.COUNTED, "stock-take"
    )
    assert plan.is_valid
    plan.rows[1].reason = " "  # the service requires a real reason for an adjustment

    with pytest.raises(ImportFailed, match="Line 3"):
        apply_import(plan, actor="tester")

    assert available(first, second) == [5, 5]
    assert not InventoryLog.objects.filter(operation="adjust").exists()


def test_counted_import_needs_the_adjust_permission(client_for, staff, item):
    product = item(5)
    client = client_for(staff)
    text = f"product_id,counted\n{product.product_id},1\n"
    assert upload(client, "counted", text).status_code == 403
    assert client.post(IMPORT, {"kind": "counted", "content": text, "reason": "r"}).status_code == 403
    assert available(product) == [5]


def test_import_needs_a_stock_permission(client_for, viewer):
    assert client_for(viewer).get(IMPORT).status_code == 403


def test_only_the_imports_a_person_may_apply_are_offered(client_for, staff, manager):
    offered = client_for(staff).get(IMPORT).context["form"].fields["kind"].choices
    assert [value for value, _ in offered] == ["restock"]
    offered = client_for(manager).get(IMPORT).context["form"].fields["kind"].choices
    assert [value for value, _ in offered] == ["restock", "counted"]


def test_reasons_on_every_row_need_no_reason_for_the_file(client_for, manager, item):
    product = item(5)
    text = f"product_id,counted,reason\n{product.product_id},7,recount shelf 4\n"
    preview = upload(client_for(manager), "counted", text, reason="")
    assert preview.context["plan"].is_valid
    applied = client_for(manager).post(IMPORT, {"kind": "counted", "content": text, "reason": ""})
    assert applied.status_code == 302
    assert available(product) == [7]
    assert InventoryLog.objects.get(product_id=product.product_id, operation="adjust").reason == "recount shelf 4"


def test_a_counted_row_without_any_reason_is_shown_in_the_preview(client_for, manager, item):
    product = item(5)
    text = f"product_id,counted\n{product.product_id},7\nP-{product.product_id},1\n"
    preview = upload(client_for(manager), "counted", text, reason="")
    rows = preview.context["plan"].rows
    assert "needs a reason" in " ".join(rows[0].errors)
    # A bad value is shown as the file has it.
    assert f"<td>P-{product.product_id}</td>" in preview.content.decode()
    assert available(product) == [5]


# --- The warehouse column -----------------------------------------------------------------


def level_stock(item, code: str) -> int | None:
    level = StockLevel.objects.filter(product_id=item.product_id, warehouse__code=code).first()
    return None if level is None else level.available_stock


def test_a_restock_file_names_the_warehouse_of_each_row(client_for, staff, item, warehouse):
    warehouse("north")
    first, second = item(5), item(0)
    services.restock(product_id=first.product_id, quantity=2, warehouse="north", actor="setup")
    client = client_for(staff)
    text = (
        f"product_id,quantity,warehouse\n{first.product_id},10,north\n{first.product_id},1,\n"
        f"{second.product_id},3,north\n"
    )

    preview = upload(client, "restock", text)

    rows = preview.context["plan"].rows
    assert [(row.warehouse, row.available_now, row.available_after) for row in rows] == [
        ("north", 2, 12),
        ("default", 5, 6),
        ("north", 0, 3),  # no level there yet: the restock opens it
    ]
    assert "<td>north</td>" in preview.content.decode()

    assert client.post(IMPORT, {"kind": "restock", "content": text, "reason": "r"}).status_code == 302

    assert (level_stock(first, "north"), level_stock(first, "default")) == (12, 6)
    assert (level_stock(second, "north"), level_stock(second, "default")) == (3, 0)
    assert set(
        InventoryLog.objects.filter(operation="restock", actor="staffer").values_list("product_id", "warehouse__code")
    ) == {(first.product_id, "north"), (first.product_id, "default"), (second.product_id, "north")}


def test_a_stock_take_counts_each_level_once(client_for, manager, item, warehouse):
    warehouse("north")
    product = item(5)
    client = client_for(manager)
    text = f"product_id,counted,warehouse\n{product.product_id},4,default\n{product.product_id},9,north\n"

    assert upload(client, "counted", text).context["plan"].is_valid
    assert client.post(IMPORT, {"kind": "counted", "content": text, "reason": "stock-take"}).status_code == 302
    assert (level_stock(product, "default"), level_stock(product, "north")) == (4, 9)

    twice = upload(
        client, "counted", f"product_id,counted,warehouse\n{product.product_id},1,north\n{product.product_id},2,north\n"
    )
    assert [row.errors for row in twice.context["plan"].rows] == [
        [f"Product {product.product_id} is counted on more than one row."]
    ] * 2


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("nowhere", "No warehouse nowhere."),
        ("North", "warehouse must be a warehouse code (1 to 32 characters of a-z, 0-9 and -), not 'North'."),
        ("a\x00", "warehouse must be a warehouse code"),
        ("x" * 100, "warehouse must be a warehouse code"),
    ],
)
def test_an_unknown_or_malformed_warehouse_is_a_row_error(client_for, staff, item, code, error):
    product, other = item(5), item(5)
    text = f"product_id,quantity,warehouse\n{other.product_id},1,\n{product.product_id},2,{code}\n"

    preview = upload(client_for(staff), "restock", text)

    rows = preview.context["plan"].rows
    assert rows[0].errors == []
    assert len(rows[1].errors) == 1
    assert rows[1].errors[0].startswith(error)
    assert rows[1].available_after is None
    assert "Nothing was applied" in preview.content.decode()
    applied = client_for(staff).post(IMPORT, {"kind": "restock", "content": text, "reason": "r"})
    assert applied.status_code == 200
    assert available(product, other) == [5, 5]


def test_a_warehouse_deleted_before_the_apply_rolls_back_every_row(item, warehouse):
    warehouse("south")
    first, second = item(5), item(5)
    plan = plan_import(
        f"product_id,quantity,warehouse\n{first.product_id},1,\n{second.product_id},2,south\n", ImportKind.RESTOCK, "r"
    )
    assert plan.is_valid
    services.delete_warehouse("south", actor="setup")

    with pytest.raises(ImportFailed, match="Line 3"):
        apply_import(plan, actor="tester")

    assert available(first, second) == [5, 5]
