"""Translation and locale formatting. Source strings are English; Vietnamese is the default.

Catalogs are the .po files shipped in dxkit/resources/translations/<lang>/ (one per area of the
code, so separate areas never edit the same file). They are compiled in memory when first needed.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import threading
from decimal import Decimal
from importlib.resources.abc import Traversable

from babel import Locale
from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from dxkit.core.resources import shipped

LANGUAGES = {"vi": "vi_VN", "en": "en_US"}
DEFAULT_LANGUAGE = "vi"

_lock = threading.Lock()
_loaded: dict[str, NullTranslations] = {}
_language = os.environ.get("DXKIT_LANG", DEFAULT_LANGUAGE)
if _language not in LANGUAGES:
    _language = DEFAULT_LANGUAGE


def N_(message: str) -> str:
    """Marks a message for translation where it is declared; `_()` translates it where shown."""
    return message


def po_files(language: str) -> list[Traversable]:
    """The shipped .po files of a language; English (the source language) has none."""
    if language == "en":
        return []
    folder = shipped("translations", language)
    return sorted((f for f in folder.iterdir() if f.name.endswith(".po")), key=lambda f: f.name)


def load_catalog(language: str) -> NullTranslations:
    """All .po files of a language merged into one Translations (English needs none)."""
    with _lock:
        if language in _loaded:
            return _loaded[language]
        merged: NullTranslations = NullTranslations()
        for po_path in po_files(language):
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file, locale=language)
            buffer = io.BytesIO()
            write_mo(buffer, catalog)
            buffer.seek(0)
            part = Translations(buffer, domain="dxkit")
            if isinstance(merged, Translations):
                merged.merge(part)
            else:
                merged = part
        _loaded[language] = merged
        return merged


def set_language(language: str) -> None:
    global _language
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; use one of {sorted(LANGUAGES)}")
    _language = language


def language() -> str:
    return _language


def locale() -> Locale:
    return Locale.parse(LANGUAGES[_language])


def gettext(message: str) -> str:
    return load_catalog(_language).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return load_catalog(_language).ngettext(singular, plural, n)


def counted(n: int, singular: str, plural: str) -> str:
    """A count with its noun in the reader's language and number: counted(1, "{count} label",
    "{count} labels") is "1 label" in English, "1 tem" in Vietnamese (which has one form).
    The strings are literals at the call, so the catalog tools find them (scripts/i18n.py)."""
    return ngettext(singular, plural, n).format(count=format_number(n))


def pgettext(context: str, message: str) -> str:
    """A message whose translation depends on where it is used (msgctxt in the catalog)."""
    return str(load_catalog(_language).pgettext(context, message))


_ = gettext


def format_date(value: dt.date | None) -> str:
    """21/11/2026 in Vietnamese, Nov 21, 2026 in English."""
    if value is None:
        return ""
    pattern = "dd/MM/yyyy" if _language == "vi" else "medium"
    return _babel_date(value, pattern, locale=locale())


def format_datetime(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    pattern = "HH:mm dd/MM/yyyy" if _language == "vi" else "medium"
    return _babel_datetime(value, pattern, locale=locale())


def format_coordinate(value: float) -> str:
    """A GPS coordinate to the metre (six decimals at most, no trailing zeros): 10,36 in
    Vietnamese, 10.36 in English. Input accepts either mark."""
    return format_decimal(value, format="0.######", locale=locale())


def format_number(value: float | Decimal, decimals: int | None = None) -> str:
    """1.234,5 in Vietnamese; `decimals` fixes the digits after the comma (50,0 not 50)."""
    if decimals is None:
        return format_decimal(value, locale=locale())
    pattern = "#,##0." + "0" * decimals if decimals > 0 else "#,##0"
    return format_decimal(value, format=pattern, locale=locale())
