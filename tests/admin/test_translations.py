"""The back office in Simplified Chinese: a complete catalogue, compiled, and no English left on the screens.

The catalogue is inventory/locale/zh_Hans/LC_MESSAGES/django.po, translated by hand; its
compiled django.mo is committed, so neither CI nor a deployment needs GNU gettext.
"""

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from inventory import services
from inventory.models import Inventory, Reservation, StaffPreference

ROOT = Path(settings.BASE_DIR)
MESSAGES = ROOT / "inventory" / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = MESSAGES / "django.po"
MO = MESSAGES / "django.mo"
CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9,en;q=0.5"}


@dataclass(frozen=True)
class Entry:
    context: str | None
    msgid: str
    plural: str | None
    msgstrs: tuple[str, ...]
    fuzzy: bool

    @property
    def key(self) -> str:
        """The entry's key in a compiled catalogue: "context\\x04msgid" when it has a context."""
        return self.msgid if self.context is None else f"{self.context}\x04{self.msgid}"


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file (the header left out): enough of the format for makemessages' output."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        current = None
        fuzzy = False
        for line in block.splitlines():
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            elif match := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$', line):
                current = match.group(1)
                fields[current] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and current:
                fields[current] += ast.literal_eval(line)
        if fields.get("msgid"):
            msgstrs = tuple(value for name, value in sorted(fields.items()) if name.startswith("msgstr"))
            entries.append(Entry(fields.get("msgctxt"), fields["msgid"], fields.get("msgid_plural"), msgstrs, fuzzy))
    return entries


def test_every_message_has_a_chinese_translation():
    untranslated = [entry.msgid for entry in read_po(PO) if entry.fuzzy or not all(entry.msgstrs)]
    assert untranslated == []


def test_the_compiled_catalogue_is_the_po():
    """django.mo is committed: it must be compilemessages' output of the django.po beside it."""
    with MO.open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)._catalog
    expected = {}
    for entry in read_po(PO):
        if entry.plural is None:
            expected[entry.key] = entry.msgstrs[0]
        else:
            expected.update({(entry.key, n): msgstr for n, msgstr in enumerate(entry.msgstrs)})
    compiled_messages = {key: value for key, value in catalogue.items() if key != ""}
    assert compiled_messages == expected, "run `make messages` (compilemessages) and commit django.mo"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="makemessages needs GNU gettext (.ci/run installs it)")
def test_the_po_has_every_message_of_the_code(tmp_path):
    """makemessages over a copy of the code finds no message the committed catalogue lacks."""
    for name in ("config", "inventory", "orders_integration", "templates", "manage.py"):
        source = ROOT / name
        copy = shutil.copytree if source.is_dir() else shutil.copy
        copy(source, tmp_path / name)
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base", "DJANGO_DEBUG": "1"}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location", "--ignore=inventory/api"],
        cwd=tmp_path,
        env=environment,
        check=True,
        capture_output=True,
    )
    found = {
        entry.key for entry in read_po(tmp_path / "inventory" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    }
    assert found == {entry.key for entry in read_po(PO)}, "run `make messages` and translate the new entries"


# --- No English on the screens ---------------------------------------------------------

# Words that are the same in both languages, or names a person types as they are.
KEPT_AS_THEY_ARE = {
    "SKU", "CSV", "UTC", "API", "UTF", "KiB", "NUL", "English", "Token", "Authorization", "token",
    # CSV column names, as the file's header row must spell them.
    "product_id", "quantity", "counted", "reason", "reference", "warehouse",
    # The code of the warehouse every install has (migration 0011): a code is typed as it is.
    "default",
    # Planning's names, as the trade writes them in Chinese too (ABC 分类, the forecast methods' authors).
    "ABC", "Holt", "Winters", "Croston", "SBA",
}  # fmt: skip
WORD = re.compile(r"[A-Za-z][A-Za-z_]+")
SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "label")


class VisibleText(HTMLParser):
    """The text a person sees or hears: text nodes outside script and style, titles, labels, button texts."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden_depth += 1
        values = dict(attrs)
        self.parts.extend(values[name] for name in SHOWN_ATTRIBUTES if values.get(name))
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self._hidden_depth -= 1

    def handle_data(self, data):
        if not self._hidden_depth:
            self.parts.append(data)


def english_words(html: str) -> set[str]:
    parser = VisibleText()
    parser.feed(html)
    words = set(WORD.findall(" ".join(parser.parts)))
    return {word for word in words if word not in KEPT_AS_THEY_ARE}


def screens(item: Inventory) -> dict[str, tuple[str, dict | None]]:
    """Every warehouse screen: name -> (URL, POST data or None for a GET)."""
    item_url = reverse("admin:inventory_inventory_change", args=[item.pk])
    reservation = Reservation.objects.get(order_id="8001")
    return {
        "index": (reverse("admin:index"), None),
        "app": (reverse("admin:app_list", args=["inventory"]), None),
        "list": (reverse("admin:inventory_inventory_changelist"), None),
        "list, low stock": (reverse("admin:inventory_inventory_changelist") + "?stock=low", None),
        "list, nothing found": (reverse("admin:inventory_inventory_changelist") + "?q=不存在", None),
        "item": (item_url, None),
        "item history": (reverse("admin:inventory_inventory_history", args=[item.pk]), None),
        "add": (reverse("admin:inventory_inventory_add"), None),
        "restock": (reverse("admin:inventory_inventory_restock", args=[item.pk]), None),
        "adjust": (reverse("admin:inventory_inventory_adjust", args=[item.pk]), None),
        "adjust, refused": (
            reverse("admin:inventory_inventory_adjust", args=[item.pk]),
            {"delta": "-99999999", "reason": "损坏", "version": item.version},
        ),
        "adjust, both given": (
            reverse("admin:inventory_inventory_adjust", args=[item.pk]),
            {"delta": "1", "counted": "3", "reason": "盘点", "version": item.version},
        ),
        "threshold": (reverse("admin:inventory_inventory_threshold", args=[item.pk]), None),
        "bulk threshold": (
            reverse("admin:inventory_inventory_changelist"),
            {"action": "set_threshold_of_selected", "_selected_action": [item.pk]},
        ),
        "import": (reverse("admin:inventory_inventory_import"), None),
        "dashboard": (reverse("admin:inventory_dashboard"), None),
        "log": (reverse("admin:inventory_inventorylog_changelist"), None),
        "log entry": (reverse("admin:inventory_inventorylog_change", args=[item.log_entries.first().pk]), None),
        "reservations": (reverse("admin:inventory_reservation_changelist"), None),
        "reservation": (reverse("admin:inventory_reservation_change", args=[reservation.pk]), None),
        "release confirmation": (
            reverse("admin:inventory_reservation_changelist"),
            {"action": "release_selected", "_selected_action": [reservation.pk]},
        ),
        "password change": (reverse("admin:password_change"), None),
    }


def test_no_english_is_left_on_the_warehouse_screens_in_chinese(client, chinese_warehouse):
    client.force_login(chinese_warehouse)
    item = Inventory.objects.get(product_id=710_001)
    left = {}
    for name, (url, data) in screens(item).items():
        response = client.post(url, data, **CHINESE) if data else client.get(url, **CHINESE)
        assert response.status_code == 200, name
        assert response["Content-Language"] == "zh-hans", name
        if words := english_words(response.content.decode()):
            left[name] = sorted(words)
    assert left == {}, repr(left)


def test_no_english_is_left_on_the_api_client_screens_in_chinese(client, superuser):
    issued = services.create_api_client(name="shop-7", role="internal")
    client.force_login(superuser)
    pages = {
        "list": reverse("admin:inventory_apiclient_changelist"),
        "client": reverse("admin:inventory_apiclient_change", args=[issued.client.pk]),
        "add": reverse("admin:inventory_apiclient_add"),
        "rotate": reverse("admin:inventory_apiclient_rotate", args=[issued.client.pk]),
        "revoke": reverse("admin:inventory_apiclient_revoke", args=[issued.client.pk]),
    }
    # Data, not wording: the names of the superuser, the client and its user, the token's start,
    # the role's code (in the client's name, "shop-7 (internal)").
    user = issued.client.user.get_username()
    data = set(
        WORD.findall(f"{superuser.get_username()} {issued.client.name} {user} {issued.client.token_prefix} internal")
    )
    left = {}
    for name, url in pages.items():
        response = client.get(url, **CHINESE)
        assert response.status_code == 200, name
        html = response.content.decode()
        if words := english_words(html) - data:
            left[name] = sorted(words)
    assert left == {}, repr(left)


def test_a_csv_preview_with_errors_is_in_chinese(client, chinese_warehouse, tmp_path):
    upload = tmp_path / "到货.csv"
    upload.write_text("product_id,quantity\n710001,x\n999999,5\n")
    client.force_login(chinese_warehouse)
    with upload.open("rb") as file:
        response = client.post(
            reverse("admin:inventory_inventory_import"),
            {"kind": "restock", "file": file, "reason": "到货"},
            **CHINESE,
        )
    assert response.status_code == 200
    assert "商品 999999 没有库存记录。" in response.content.decode()
    assert english_words(response.content.decode()) == set()


def test_the_english_screens_stay_english(client, chinese_warehouse):
    client.force_login(chinese_warehouse)
    response = client.get(reverse("admin:inventory_inventory_changelist"), HTTP_ACCEPT_LANGUAGE="en-GB,en")
    assert response["Content-Language"] == "en"
    assert "Inventory back office" in response.content.decode()
    assert "库存后台" not in response.content.decode()


def test_the_language_picked_in_the_header_wins_over_the_browsers(client, chinese_warehouse):
    client.force_login(chinese_warehouse)
    inventory_list = reverse("admin:inventory_inventory_changelist")
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": inventory_list})
    assert response.status_code == 302
    assert response["Location"] == inventory_list
    page = client.get(inventory_list, HTTP_ACCEPT_LANGUAGE="en")
    assert page["Content-Language"] == "zh-hans"
    assert "库存后台" in page.content.decode()


def test_the_language_picked_follows_the_person_to_another_browser(client, chinese_warehouse):
    client.force_login(chinese_warehouse)
    inventory_list = reverse("admin:inventory_inventory_changelist")
    client.post(reverse("set_language"), {"language": "zh-hans", "next": inventory_list})

    elsewhere = Client()  # another browser: no language cookie, an English Accept-Language
    elsewhere.force_login(chinese_warehouse)
    page = elsewhere.get(inventory_list, HTTP_ACCEPT_LANGUAGE="en")
    assert page["Content-Language"] == "zh-hans"
    assert "库存后台" in page.content.decode()

    elsewhere.post(reverse("set_language"), {"language": "en", "next": inventory_list})
    assert client.get(inventory_list, **CHINESE)["Content-Language"] == "en"


def test_a_person_who_never_picked_gets_the_browsers_language(client, chinese_warehouse):
    client.force_login(chinese_warehouse)
    page = client.get(reverse("admin:inventory_inventory_changelist"), **CHINESE)
    assert page["Content-Language"] == "zh-hans"
    assert not StaffPreference.objects.filter(user=chinese_warehouse).exists()


def test_the_api_answers_in_english_whatever_the_language(client, chinese_warehouse):
    """The contract's error bodies do not change with Accept-Language, nor after a page in Chinese."""
    client.force_login(chinese_warehouse)
    client.get(reverse("admin:inventory_inventory_changelist"), **CHINESE)
    response = client.get("/api/v1/inventory/710001", **CHINESE)
    assert "Content-Language" not in response
    assert "Accept-Language" not in response.get("Vary", "")
    assert translation.get_language() in (None, settings.LANGUAGE_CODE)
    body = response.content.decode()
    assert not re.search(r"[\u4e00-\u9fff]", body), body
