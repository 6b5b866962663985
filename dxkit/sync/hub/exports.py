"""The tables the dashboard shows, and the same tables as CSV and XLSX downloads.

A page builds `Table`s whose cells are already what may be shown: a count of 5 or more as an
int, a small count as the text "<5" (figures.shown), a share as a fraction (0..1) or None
where it is withheld, a yes/no as text. The HTML, the CSV and the XLSX are all written from
those cells, so a download holds exactly the rows and the suppression of the page.

- CSV: UTF-8 with a byte-order mark (Excel then reads the diacritics), comma-separated,
  numbers with a dot; shares as percentages (the header says "%").
- XLSX (openpyxl): counts and targets as numbers, shares as numbers formatted as percent,
  "<5" and names as text.
Text that a spreadsheet would run as a formula (starting with =, +, -, @) is written as text:
hamlet and team names come from the devices.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "count", "share", "number"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SHEET_UNSAFE = re.compile(r"[\\/*?:\[\]]")
BOM = "\ufeff"


@dataclass(frozen=True)
class Link:
    """A cell that links to a drill-down page; downloads hold its text."""

    text: str
    href: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Flag:
    """A met / not met cell: shown with a colour and the text (never the colour alone)."""

    text: str
    ok: bool

    def __str__(self) -> str:
        return self.text


Cell = int | float | str | Link | Flag | None


@dataclass(frozen=True)
class Column:
    heading: str
    kind: Kind = "count"


@dataclass(frozen=True)
class Table:
    """One table of a page: `name` names it in a download's address (?table=name).
    `grouped`: the page shows a run of equal first cells once (the files repeat it);
    `empty`: what the page says when there is no row (a default sentence when "")."""

    name: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    grouped: bool = False
    empty: str = ""

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"table {self.name}: a row of {len(row)} cells for "
                                 f"{len(self.columns)} columns")


def _safe_text(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv_cell(value: Cell, kind: Kind) -> str:
    if value is None:
        return ""
    if isinstance(value, (str, Link, Flag)):
        return _safe_text(str(value))
    if kind == "share":
        return f"{value * 100:.1f}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_safe_text(column.heading) + (" (%)" if column.kind == "share" else "")
                     for column in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(value, column.kind)
                         for value, column in zip(row, table.columns, strict=True)])
    return (BOM + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table, sheet_title: str | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    title = _SHEET_UNSAFE.sub("-", sheet_title or table.title).strip("'")[:31] or "Sheet"
    sheet = book.create_sheet(title=title)
    bold = Font(bold=True)
    widths = [len(column.heading) for column in table.columns]
    header = []
    for column in table.columns:
        cell = WriteOnlyCell(sheet, value=column.heading)
        cell.data_type = "s"
        cell.font = bold
        header.append(cell)
    for row in table.rows:
        for index, value in enumerate(row):
            widths[index] = max(widths[index], len(str(value)) if value is not None else 0)
    for index, width in enumerate(widths):
        letter = _column_letter(index)
        sheet.column_dimensions[letter].width = min(60, max(8, width + 2))
    sheet.freeze_panes = "A2"
    sheet.append(header)
    for row in table.rows:
        cells = []
        for value, column in zip(row, table.columns, strict=True):
            if isinstance(value, (Link, Flag)):
                value = str(value)
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif column.kind == "share" and value is not None:
                cell.number_format = "0.0%"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index + 1))


def file_name(parts: Sequence[str], extension: str) -> str:
    """An ASCII file name from parts ("dashboard", table name, month)."""
    cleaned = [re.sub(r"[^A-Za-z0-9_-]+", "-", part).strip("-") for part in parts if part]
    return "-".join(part for part in cleaned if part) + "." + extension
