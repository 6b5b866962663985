"""Exports for the team: households, people and visits as CSV or XLSX, one person as JSON.

Household and people files use the importer's own headers (spreadsheets.COLUMNS), so an export
re-imports cleanly. CSV is UTF-8 with a BOM, which Excel needs to show Vietnamese correctly.
Every file is written to a temporary file first and moved into place, so a crash or a cancel
never leaves half a file under the real name.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from dxkit.core.errors import DxError
from dxkit.core.i18n import _
from dxkit.core.progress import Progress
from dxkit.households.spreadsheets import COLUMNS, PHONE_COLUMNS, escape_formula
from dxkit.households.visits import outcome_label

if TYPE_CHECKING:
    from dxkit.households.workspace import HouseholdsWorkspace as Workspace

Format = Literal["csv", "xlsx"]
HOUSEHOLD_HEADERS = [c.header for c in COLUMNS if c.entity == "household"]
PEOPLE_HEADERS = [c.header for c in COLUMNS]
VISIT_HEADERS = ["Ngày thăm", "Mã hộ", "Chủ hộ", "Ấp/Khóm", "Họ và tên", "Nội dung hỗ trợ",
                 "Kết quả", "Lý do", "Thành viên tổ", "Hẹn lại", "Ghi chú"]
# Columns Excel must keep as text: digits with a leading 0.
_TEXT_HEADERS = {c.header for c in COLUMNS if c.key in (*PHONE_COLUMNS, "cccd", "code")}
_CHECKPOINT = 500

_HOUSEHOLD_SQL = """
SELECT h.id, h.code, h.head_name, m.name AS hamlet, h.address, h.phone, h.notes,
       h.latitude, h.longitude
FROM households h JOIN hamlets m ON m.id = h.hamlet_id
WHERE h.deleted = 0 ORDER BY h.code_key
"""
_PEOPLE_SQL = """
SELECT household_id, full_name, sex, birth_date, birth_year, relationship, phone, cccd, consent
FROM people WHERE deleted = 0 AND purged = 0 ORDER BY household_id, local_id
"""


def export_households(ws: Workspace, path: str | Path, fmt: Format,
                      progress: Progress | None = None) -> int:
    """One row per household; returns the number of rows written."""
    rows = [_household_cells(h) for h in ws.conn.execute(_HOUSEHOLD_SQL)]
    return _write(path, fmt, HOUSEHOLD_HEADERS, rows, progress, _("Households"))


def export_people(ws: Workspace, path: str | Path, fmt: Format,
                  progress: Progress | None = None) -> int:
    """One row per person with their household's columns repeated (nothing masked: the file is
    for the team). A household nobody is listed in gets a household-only row, so the file holds
    the whole list and re-imports as it was. Deleted (purged) people are never included."""
    people: dict[str, list[Any]] = {}
    for person in ws.conn.execute(_PEOPLE_SQL):
        people.setdefault(person["household_id"], []).append(person)
    rows: list[list[str]] = []
    for household in ws.conn.execute(_HOUSEHOLD_SQL):
        cells = _household_cells(household)
        members = people.get(household["id"], [])
        rows.extend(cells + _person_cells(p) for p in members)
        if not members:
            rows.append(cells + [""] * (len(PEOPLE_HEADERS) - len(cells)))
    return _write(path, fmt, PEOPLE_HEADERS, rows, progress, _("People"))


def export_visits(ws: Workspace, path: str | Path, fmt: Format,
                  progress: Progress | None = None) -> int:
    """Effective visits (corrections applied, voids left out), one row per support item."""
    conn = ws.conn
    households = {r["id"]: r for r in conn.execute(_HOUSEHOLD_SQL.replace(
        "WHERE h.deleted = 0 ", ""))}
    names = {r["id"]: r["full_name"] for r in conn.execute("SELECT id, full_name FROM people")}
    members = {r["id"]: r["name"] for r in conn.execute("SELECT id, name FROM team_members")}
    items = {i.code: i.name for i in ws.catalog.support_items()}
    rows: list[list[str]] = []
    for visit in sorted(ws.visits.list(), key=lambda v: (v.visited_at, v.id)):
        household = households[visit.household_id]
        base = [visit.visited_at.strftime("%d/%m/%Y %H:%M"), household["code"],
                household["head_name"], household["hamlet"]]
        tail = [", ".join(members.get(m, "") for m in visit.member_ids),
                visit.follow_up_on.strftime("%d/%m/%Y") if visit.follow_up_on else "",
                visit.notes]
        for item in visit.items or [None]:
            if item is None:
                rows.append([*base, "", "", "", "", *tail])
                continue
            rows.append([*base, names.get(item.person_id or "", ""),
                         items.get(item.support_item_code, item.support_item_code),
                         outcome_label(item.outcome), item.reason, *tail])
    return _write(path, fmt, VISIT_HEADERS, rows, progress, _("Visits"))


@overload
def export_person(ws: Workspace, person_id: str, path: None = None) -> str: ...


@overload
def export_person(ws: Workspace, person_id: str, path: str | Path) -> Path: ...


def export_person(ws: Workspace, person_id: str, path: str | Path | None = None) -> str | Path:
    """Everything stored about one person as JSON (their right of access).

    Writes `path` and returns it; without a path, returns the JSON text.
    """
    data = ws.people.export(person_id)
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"
    if path is None:
        return text
    with _atomic(Path(path)) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


# -- cells -------------------------------------------------------------------------------------
# Cells are named by column key and put in the file format's order, so the order of the
# columns is decided in one place (households/fields.py).
def _household_cells(row: Any) -> list[str]:
    cells = {"code": row["code"], "head_name": row["head_name"], "hamlet": row["hamlet"],
             "address": row["address"], "household_phone": row["phone"],
             "household_notes": row["notes"], "latitude": _number(row["latitude"]),
             "longitude": _number(row["longitude"])}
    return [cells[c.key] for c in COLUMNS if c.entity == "household"]


def _person_cells(row: Any) -> list[str]:
    if row["birth_date"]:
        year, month, day = row["birth_date"].split("-")
        birth = f"{day}/{month}/{year}"
    else:
        birth = str(row["birth_year"] or "")
    sex = {"M": "Nam", "F": "Nữ"}.get(row["sex"] or "", "")
    cells = {"full_name": row["full_name"], "sex": sex, "birth": birth,
             "relationship": row["relationship"], "phone": row["phone"],
             "cccd": row["cccd"], "consent": "Có" if row["consent"] else "Không"}
    return [cells[c.key] for c in COLUMNS if c.entity == "person"]


def _number(value: float | None) -> str:
    return "" if value is None else repr(value)


# -- writing -----------------------------------------------------------------------------------
def _write(path: str | Path, fmt: Format, headers: Sequence[str], rows: list[list[str]],
           progress: Progress | None, label: str) -> int:
    target = Path(path)
    if fmt not in ("csv", "xlsx"):
        raise DxError(_("Unknown export format {fmt}: use csv or xlsx.").format(fmt=fmt))
    counted = _counted(rows, progress, label)
    with _atomic(target) as tmp:
        if fmt == "csv":
            _write_csv(tmp, headers, counted)
        else:
            _write_xlsx(tmp, headers, counted, _widths(headers, rows))
    return len(rows)


def _counted(rows: list[list[str]], progress: Progress | None, label: str
             ) -> Iterator[list[str]]:
    """Rows, with progress updates and cancel checks every few hundred."""
    for i, row in enumerate(rows):
        if progress and i % _CHECKPOINT == 0:
            progress.update(value=i, maximum=len(rows), label=label)
        yield row
    if progress:
        progress.update(value=len(rows), maximum=len(rows), label=label)


def _write_csv(path: Path, headers: Sequence[str], rows: Iterable[list[str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows([escape_formula(v) for v in row] for row in rows)


def _widths(headers: Sequence[str], rows: list[list[str]]) -> list[int]:
    """Column widths from the header and the first rows' text, within sensible bounds."""
    widths = [len(h) for h in headers]
    for row in rows[:200]:
        widths = [max(w, len(v)) for w, v in zip(widths, row, strict=True)]
    return [max(8, min(45, w + 2)) for w in widths]


def _write_xlsx(path: Path, headers: Sequence[str], rows: Iterable[list[str]],
                widths: Sequence[int]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet("dxkit")
    for j, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(j)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    text_columns = [h in _TEXT_HEADERS for h in headers]
    for row in rows:
        out: list[Any] = []
        for value, as_text in zip(row, text_columns, strict=True):
            if not value:
                out.append(value)
                continue
            # Rows stored before control characters were refused must not sink the export.
            cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
            cell.data_type = "s"  # text stays text: "=HYPERLINK(...)" must not become a formula
            if as_text:
                cell.number_format = "@"  # keep the leading 0 of phones and ID numbers
            out.append(cell)
        sheet.append(out)
    book.save(path)


@contextlib.contextmanager
def _atomic(target: Path) -> Iterator[Path]:
    """A temporary file beside `target`, moved over it only when writing succeeded."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
