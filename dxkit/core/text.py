"""Vietnamese text: NFC storage form and the folded form search matches on."""

from __future__ import annotations

import re
import unicodedata

# NFD leaves đ/Đ as single letters (they are not base + mark), so fold them explicitly.
_EXTRA_FOLDS = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d"})
_SPACES = re.compile(r"\s+")
# C0/C1 control characters (NUL, escapes...) break spreadsheets and terminals; never stored.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NON_WORD = re.compile(r"[^0-9a-z]+")
# Invisible format characters pasted in with names (zero-width space and non-joiner, soft
# hyphen, a BOM inside a cell, word joiner, direction marks): they break search and matching
# and are never meant. A zero-width joiner stays only inside an emoji sequence (in notes).
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b\u200c\u200e\u200f\u202a-\u202e"
                        "\u2060-\u2064\u2066-\u2069\ufeff]"
                        "|\u200d(?![\U0001F000-\U0001FAFF\u2600-\u27BF])")


_ODD_SPACES = re.compile("[\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")


def has_hidden_characters(value: str) -> bool:
    """Whether `nfc` would remove invisible characters or replace unusual spaces in it."""
    return bool(_INVISIBLE.search(value) or _CONTROL.search(value) or _ODD_SPACES.search(value))


# Anything `nfc` would change besides trimming: checked first, most text is already clean.
_UNCLEAN = re.compile(f"{_CONTROL.pattern}|{_INVISIBLE.pattern}|[^\\S ]| {{2,}}")


def nfc(value: str | None) -> str:
    """The stored form of any text: NFC, trimmed, inner whitespace collapsed (no-break and
    other odd spaces included), control and invisible format characters removed."""
    if value is None:
        return ""
    if unicodedata.is_normalized("NFC", value) and not _UNCLEAN.search(value):
        return value.strip()
    visible = _INVISIBLE.sub("", _CONTROL.sub("", value))
    return _SPACES.sub(" ", unicodedata.normalize("NFC", visible)).strip()


class _FoldTable(dict[int, str]):
    """Each character's folded form, worked out the first time it is met: decomposed (NFD,
    which works character by character), marks dropped, lowercased, đ -> d. `str.translate`
    over this table folds a whole text in C; folding was a fifth of a pull's time."""

    def __missing__(self, code: int) -> str:
        decomposed = unicodedata.normalize("NFD", chr(code).translate(_EXTRA_FOLDS))
        stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        folded = stripped.lower().translate(_EXTRA_FOLDS)
        self[code] = folded
        return folded


_FOLDS = _FoldTable()


def fold(value: str | None) -> str:
    """Lowercase ASCII with diacritics removed: 'Nguyễn Văn Đồng' -> 'nguyen van dong'."""
    if not value:
        return ""
    return _SPACES.sub(" ", value.translate(_FOLDS)).strip()


def tokens(value: str | None) -> list[str]:
    """Folded words (letters and digits only), the unit search matches prefixes of."""
    if not value:
        return []
    # Splitting on non-word characters also does fold()'s whitespace clean-up.
    return [t for t in _NON_WORD.split(value.translate(_FOLDS)) if t]


def folded_key(value: str | None) -> str:
    """Folded words joined by single spaces: the sortable key for prefix lookups."""
    return " ".join(tokens(value))
