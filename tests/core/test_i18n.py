"""Translations load, switch, keep their placeholders; dates and numbers follow the locale."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from dxkit.core import i18n
from dxkit.core.i18n import _, format_date, format_datetime, format_number, set_language
from dxkit.core.resources import shipped

PO_FILES = sorted(Path(str(shipped("translations"))).glob("*/*.po"))
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def test_there_are_catalogs():
    assert any(p.parent.name == "vi" for p in PO_FILES)


@pytest.mark.parametrize("po_path", PO_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_po_loads_and_keeps_placeholders(po_path):
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=po_path.parent.name)
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = sorted(PLACEHOLDER.findall(ids[0]))
        for text in strings:
            if text:
                assert sorted(PLACEHOLDER.findall(text)) == wanted, message.id


def test_merged_catalog_loads():
    assert i18n.load_catalog("vi").gettext("A household needs a code.") != (
        "A household needs a code.")


def test_set_language_switches_messages():
    set_language("vi")
    vi = _("A household needs a code.")
    assert vi == "Hộ cần có mã hộ."
    set_language("en")
    assert i18n.language() == "en"
    assert _("A household needs a code.") == "A household needs a code."
    set_language("vi")
    assert _("A household needs a code.") == vi


def test_unknown_message_falls_back_to_english():
    assert _("No such message in any catalog 123") == "No such message in any catalog 123"


def test_unknown_language_is_refused():
    with pytest.raises(ValueError):
        set_language("fr")
    assert i18n.language() == "vi"


def test_vietnamese_formats():
    set_language("vi")
    assert format_date(dt.date(2026, 11, 21)) == "21/11/2026"
    assert format_datetime(dt.datetime(2026, 11, 21, 8, 5)) == "08:05 21/11/2026"
    assert format_number(1234.5) == "1.234,5"
    assert format_number(1_000_000) == "1.000.000"
    assert format_date(None) == "" and format_datetime(None) == ""


def test_english_formats():
    set_language("en")
    assert format_number(1234.5) == "1,234.5"
    assert "2026" in format_date(dt.date(2026, 11, 21))
    assert format_date(dt.date(2026, 11, 21)) != "21/11/2026"


def test_coordinates_follow_the_language_and_keep_metre_precision():
    set_language("vi")
    assert i18n.format_coordinate(10.36) == "10,36"
    assert i18n.format_coordinate(106.123456) == "106,123456"
    set_language("en")
    assert i18n.format_coordinate(10.36) == "10.36"
    set_language("vi")
