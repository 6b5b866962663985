"""Rows of a commune list that are layout, not households: the sheet's furniture.

Hand-made lists carry a numbering row under the header ("(1) (2) (3)…"), totals and
subtotals ("Tổng cộng", "Cộng ấp 1"), group headings ("Ấp Mỹ Đông" alone on a row), a title
above a second list pasted under the first, and a signature block at the end ("Người lập
biểu", "TM. UBND XÃ", "Mỹ Tho, ngày 5 tháng 3 năm 2026", then names). Each test looks at a
row's cell texts only; spreadsheets.py decides what the row is from where it stands.
Tests are on folded text (no diacritics, lowercase, words only), so "TM. UBND XÃ" and
"T/M UBND xã" read the same.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

from dxkit.core.text import folded_key

_NUMBER_TOKEN = re.compile(r"^\(?(\d{1,2}|[A-Za-z]|[IVXivx]{1,4})\)?\.?$")
_TOTAL_WORDS = {"tong", "cong", "tong cong", "cong lai", "tong so", "tong so ho",
                "tong so nguoi", "tong so nhan khau", "tong hop", "tong so khau"}
_TOTAL_STARTS = ("tong cong ", "tong so ", "cong ap ", "cong khom ", "cong thon ",
                 "cong xom ", "cong to ", "cong lai ")
_COUNT_CELL = re.compile(r"^[\d.,]+( (ho|nguoi|khau|nhan khau))?$")
_SIGNATURE = re.compile(
    r"^nguoi (lap|ky|duyet|kiem tra|tong hop|lap bieu)\b"
    r"|^(tm|t m|kt|k t|tl|t l|q) (ubnd|uy ban|chu tich|ban|to|truong|giam doc)\b"
    r"|^(pho )?chu tich( ubnd| uy ban)?( xa| phuong)?$"
    r"|^(truong|pho) (ap|khom|thon|xom|ban)\b|^to (truong|pho)\b"
    r"|^xac nhan\b|^ky ten\b|^ky (va )?ghi ro\b|^da ky$|^can bo\b"
    r"|^(ubnd|uy ban nhan dan) (xa|phuong)\b"
    r"|\bngay( \d{1,2})? thang( \d{1,2})? nam( \d{4})?$|\bngay \d{1,2} \d{1,2} \d{4}$")
_GROUP = re.compile(r"^(ap|khom|thon|xom|to dan pho|to \d+|khu pho|khu \d+|phum|soc|buon)"
                    r"( |$)")
_ROMAN_HEADING = re.compile(r"^[IVX]{1,4}[.)\-]")
_TITLE = re.compile(r"^(danh sach|ds|bieu|mau|cong hoa|doc lap|ubnd|uy ban)\b")


def filled(cells: Sequence[str]) -> list[str]:
    return [c for c in cells if c]


def is_sparse(cells: Sequence[str]) -> bool:
    """At most three filled cells: signature lines, headings and titles are; people are not."""
    return sum(1 for c in cells if c) <= 3


def is_numbering_row(cells: Sequence[str]) -> bool:
    """(1) (2) (3)…, 1 2 3…, A B C…: a row numbering the columns, in order."""
    values = filled(cells)
    if len(values) < 2 or not all(_NUMBER_TOKEN.match(v) for v in values):
        return False
    bare = [v.strip("().") for v in values]
    if all(v.isdigit() for v in bare):
        numbers = [int(v) for v in bare]
        return all(b > a for a, b in pairwise(numbers))
    return True


def is_totals_row(cells: Sequence[str]) -> bool:
    """"Tổng cộng", "Cộng ấp 1: 45 hộ"… first, then counts only. A name such as "Công Tằng
    Tôn Nữ Lan" is not a total: the word must stand alone or start a totals phrase."""
    values = filled(cells)
    if not values:
        return False
    first = folded_key(values[0])
    if first not in _TOTAL_WORDS and not first.startswith(_TOTAL_STARTS):
        return False
    return all(_COUNT_CELL.match(folded_key(v)) for v in values[1:])


def is_signature_row(cells: Sequence[str]) -> bool:
    """The start of a signature block: who made the list, who certifies it, the date line —
    every filled cell one of those (a person's row noting "Cán bộ hưu trí" is not)."""
    values = filled(cells)
    return bool(values) and all(_SIGNATURE.search(folded_key(v)) for v in values)


def is_group_heading(cells: Sequence[str]) -> bool:
    """A row naming a group alone ("Ấp Mỹ Đông", "Tổ 5", "II. Khóm 3") between households."""
    values = filled(cells)
    if len(values) != 1:
        return False
    return bool(_GROUP.match(folded_key(values[0])) or _ROMAN_HEADING.match(values[0]))


def is_title_row(cells: Sequence[str]) -> bool:
    """A title line above a list: one filled cell, or a list title ("DANH SÁCH…")."""
    values = filled(cells)
    return len(values) == 1 or any(_TITLE.match(folded_key(v)) for v in values)
