"""Reading household lists as commune offices keep them: CSV in any of Excel's encodings, XLSX.

`read_workbook(path)` reads every sheet of a workbook that has a header row naming dxkit's
columns (title rows above it are common), and each list under a header repeated further
down. It decodes the text (UTF-8 with or without BOM, else Windows-1258), repairs TCVN3/VNI
font-encoded columns and headers, removes invisible characters, spreads merged cells over
the rows they cover, gives a person's row without household cells to the household above,
restores the leading zero Excel drops from phone and ID numbers stored as numbers, and skips
layout rows (numbering, totals, group headings, signature blocks; see sheet_layout.py).
Everything it assumed is listed, with sheet, line and column, in `Workbook.assumptions`.
`COLUMNS` is the file format: the importer accepts these headers and the exporter writes them.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from dxkit.core.errors import DxError
from dxkit.core.i18n import _, counted
from dxkit.core.text import folded_key, has_hidden_characters, nfc
from dxkit.households import legacy_text, sheet_layout

# The file format lives with the fields it carries (fields.py); re-exported for readers.
from dxkit.households.fields import COLUMNS as COLUMNS
from dxkit.households.fields import Column as Column

Severity = Literal["error", "warning"]
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
_BY_FOLDED = {folded_key(name): c.key for c in COLUMNS for name in c.names()}
PHONE_COLUMNS = ("household_phone", "phone")
_HEADER_NAMES = {name.casefold() for c in COLUMNS for name in c.names()}
_HOUSEHOLD_KEYS = {c.key for c in COLUMNS if c.entity == "household"}
_PERSON_KEYS = {c.key for c in COLUMNS if c.entity == "person"}
_HEADER_SCAN_ROWS = 10
_DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class Problem:
    """Something wrong (error) or worth knowing (warning) at a spreadsheet row and column.

    `sheet` names the workbook sheet when the file has several ("" for a CSV)."""

    line: int
    column: str
    message: str
    severity: Severity = "error"
    sheet: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Assumption:
    """What the reader took a part of the file to be, where a person could wonder: which
    sheets were read, which rows were layout, which cells were filled or repaired.

    One per kind, sheet, column and message, with every line it applies to, so a 20,000-row
    file with its phones stored as numbers gives one entry, not 20,000."""

    kind: str
    sheet: str
    column: str  # "" when it is about whole rows
    lines: tuple[int, ...]
    message: str

    @property
    def where(self) -> str:
        """The lines as ranges: "5–8, 12, 40–41"; long lists end with how many more."""
        return line_ranges(self.lines)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "sheet": self.sheet, "column": self.column,
                "lines": list(self.lines), "where": self.where, "message": self.message}


def line_ranges(lines: Sequence[int], shown: int = 8) -> str:
    ranges: list[tuple[int, int]] = []
    for line in sorted(set(lines)):
        if ranges and line == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], line)
        else:
            ranges.append((line, line))
    parts = [str(a) if a == b else f"{a}–{b}" for a, b in ranges[:shown]]
    if len(ranges) > shown:
        parts.append(counted(len(ranges) - shown, "and {count} more stretch of lines",
                              "and {count} more stretches of lines"))
    return ", ".join(parts)


class Notes:
    """Collects assumptions, grouping their lines."""

    def __init__(self) -> None:
        self._lines: dict[tuple[str, str, str, str], list[int]] = {}

    def add(self, kind: str, sheet: str, column: str, line: int | None, message: str) -> None:
        lines = self._lines.setdefault((kind, sheet, column, message), [])
        if line is not None:
            lines.append(line)

    def extend(self, kind: str, sheet: str, column: str, lines: Iterable[int], message: str
               ) -> None:
        found = list(lines)
        if found:
            self._lines.setdefault((kind, sheet, column, message), []).extend(found)

    def assumptions(self) -> list[Assumption]:
        return [Assumption(kind, sheet, column, tuple(lines), message)
                for (kind, sheet, column, message), lines in self._lines.items()]


@dataclass
class Table:
    """One list's cells as text: a sheet, or a part of a sheet under a repeated header.

    `lines[i]` is the spreadsheet row number of `rows[i]`. `fields[j]` is the COLUMNS key of
    column j (None: not a column we know); `headers[j]` is its header as read (repaired when
    it was typed in a legacy font). `encodings` maps each known text column's header to what
    `legacy_text` detected ("unicode", "tcvn3", "vni" or "unknown" — an unknown column's
    values are left as read).
    """

    headers: list[str]
    rows: list[list[str]]
    codec: str
    first_data_line: int
    header_line: int = 1
    lines: list[int] = field(default_factory=list)
    fields: list[str | None] = field(default_factory=list)
    encodings: dict[str, str] = field(default_factory=dict)
    sheet: str = ""


@dataclass
class Workbook:
    """Every list found in a file, what was assumed reading it, and what could not be read."""

    codec: str
    tables: list[Table]
    assumptions: list[Assumption] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def column_key(header: str) -> str | None:
    """The COLUMNS key a header names, also when the header itself is TCVN3/VNI text."""
    return _read_header(header)[0]


def _read_header(header: str) -> tuple[str | None, str]:
    """(COLUMNS key or None, the header as shown). Legacy readings are tried on the text as
    decoded: normalising first composes Windows-1258's combining tones into letters that
    no longer map back to the font's bytes ("Ñòa chæ" would be lost)."""
    for index, candidate in enumerate(_header_readings(header)):
        key = _BY_FOLDED.get(folded_key(candidate))
        if key:
            return key, _nfc(header if index == 0 else candidate)
    return None, _nfc(header)


def _header_readings(header: str) -> Iterable[str]:
    yield header
    if header.isascii():
        return
    for codec in ("cp1252", "cp1258"):
        try:
            raw = legacy_text.legacy_bytes(header, codec)
        except legacy_text.LegacyTextError:
            continue
        yield legacy_text.tcvn3_to_unicode(raw)
        yield legacy_text.vni_to_unicode(raw)


# -- reading -----------------------------------------------------------------------------------
@dataclass
class _Sheet:
    """A sheet as read: its non-empty rows as text with their row numbers."""

    name: str
    rows: list[tuple[int, list[str]]]
    merged: dict[int, set[int]] = field(default_factory=dict)  # column -> lines filled
    hidden: bool = False
    # line -> columns holding a copy of the cell to their left (merged across): a heading or
    # a total label merged over the table's width is still one cell when telling layout.
    copies: dict[int, set[int]] = field(default_factory=dict)

    def layout_cells(self, line: int, cells: list[str]) -> list[str]:
        """The row as its layout reads: a value merged across columns counted once."""
        copies = self.copies.get(line)
        if not copies:
            return cells
        return ["" if j in copies else c for j, c in enumerate(cells)]


def read_workbook(path: str | Path) -> Workbook:
    """Read a .csv/.txt or .xlsx/.xlsm file; raises DxError with a sentence if it cannot."""
    path = Path(path)
    if not path.is_file():
        raise DxError(_("The file {path} does not exist.").format(path=path))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        sheets, codec = _xlsx_sheets(path), "xlsx"
    elif suffix in (".csv", ".txt", ".tsv"):
        text, codec = _decode(path.read_bytes())
        sheets = [_Sheet("", _csv_rows(text))]
    elif suffix == ".xls":
        raise DxError(_("{name} is an old Excel 97-2003 file. Open it in Excel or LibreOffice "
                        "and save it as .xlsx or CSV UTF-8, then import that.").format(
                            name=path.name))
    else:
        raise DxError(_("{name} is not a spreadsheet dxkit can read: use a .xlsx or .csv file."
                        ).format(name=path.name))
    return _SheetReader(codec).read(sheets)


class _SheetReader:
    def __init__(self, codec: str):
        self.codec = codec
        self.legacy_codec = "cp1258" if codec == "cp1258" else "cp1252"
        self.notes = Notes()
        self.problems: list[Problem] = []

    def read(self, sheets: list[_Sheet]) -> Workbook:
        sheets = [s for s in sheets if s.rows]
        if not sheets:
            raise DxError(_("The file is empty."))
        tables: list[Table] = []
        unread: list[_Sheet] = []
        for sheet in sheets:
            found = self._sheet_tables(sheet)
            tables.extend(found)
            if not found:
                unread.append(sheet)
        if not tables:
            # No header anywhere: read the first sheet's first row as one, so the importer
            # names the columns it needs.
            tables = [self._table(sheets[0], 0, sheets[0].rows[1:], sheets[0].rows[0])]
            unread = unread[1:]
        for sheet in unread:
            self.notes.add("sheet_skipped", sheet.name, "", None, _(
                "This sheet has no header row that names dxkit's columns; it was not "
                "imported."))
        return Workbook(self.codec, tables, self.notes.assumptions(), self.problems)

    # -- a sheet's lists -------------------------------------------------------------------
    def _sheet_tables(self, sheet: _Sheet) -> list[Table]:
        rows = sheet.rows
        first = _first_header(rows)
        if first is None:
            return []
        for line, _cells in rows[:first]:
            self.notes.add("title", sheet.name, "", line, _(
                "Title rows above the header were skipped."))
        if len(sheet.name) or sheet.hidden:
            message = (_("This hidden sheet was imported: it has a header row.")
                       if sheet.hidden else _("This sheet was imported."))
            self.notes.add("sheet", sheet.name, "", rows[first][0], message)
        starts = [first, *_repeated_headers(rows, first)]
        tables = []
        for k, start in enumerate(starts):
            end = starts[k + 1] if k + 1 < len(starts) else len(rows)
            body = rows[start + 1:end]
            if k + 1 < len(starts):
                body = self._drop_title_above(sheet, body)
            if k:
                self.notes.add("repeated_header", sheet.name, "", rows[start][0], _(
                    "The header is repeated here (another list follows); the rows under it "
                    "are read with it."))
            tables.append(self._table(sheet, start, body, rows[start]))
        return tables

    def _drop_title_above(self, sheet: _Sheet, body: list[tuple[int, list[str]]]
                          ) -> list[tuple[int, list[str]]]:
        """Title lines just above a repeated header belong to the list that follows."""
        end = len(body)
        while end and any(sheet_layout.is_title_row(reading) for reading in self._readings(
                sheet.layout_cells(*body[end - 1]))):
            end -= 1
            self.notes.add("title", sheet.name, "", body[end][0], _(
                "Title rows above the header were skipped."))
        return body[:end]

    def _table(self, sheet: _Sheet, start: int, body: list[tuple[int, list[str]]],
               header_row: tuple[int, list[str]]) -> Table:
        header_line, header_cells = header_row
        readings = [_read_header(h) for h in header_cells]
        while readings and not readings[-1][1]:
            readings.pop()
        fields = [key for key, _shown in readings]
        headers = [shown for _key, shown in readings]
        data = self._data_rows(sheet, body, fields)
        lines = [line for line, _cells in data]
        columns = [self._column(sheet, data, j, fields[j], headers[j])
                   for j in range(len(headers))]
        encodings: dict[str, str] = {}
        for j, key in enumerate(fields):
            if key is None:
                continue
            encoding, columns[j] = self._repaired(sheet.name, headers[j], lines, columns[j])
            encodings[headers[j]] = encoding
        rows = [list(r) for r in zip(*columns, strict=True)] if columns else [[] for _ in data]
        self._fill_down(sheet.name, lines, rows, fields, headers)
        first = lines[0] if lines else header_line + 1
        return Table(headers=headers, rows=rows, codec=self.codec, first_data_line=first,
                     header_line=header_line, lines=lines, fields=fields, encodings=encodings,
                     sheet=sheet.name)

    # -- layout rows -----------------------------------------------------------------------
    def _data_rows(self, sheet: _Sheet, body: list[tuple[int, list[str]]],
                   fields: list[str | None]) -> list[tuple[int, list[str]]]:
        """The body without its layout rows, each one noted; data found after a signature
        block is a problem (the block may not be one). Layout is told on the row as it reads
        (see `_Sheet.layout_cells`, `_readings`)."""
        name = sheet.name
        data: list[tuple[int, list[str]]] = []
        footer: int | None = None
        for line, cells in body:
            layout = sheet.layout_cells(line, cells)
            if footer is not None:
                if _looks_like_data(layout, fields):
                    self.problems.append(Problem(line, "", _(
                        "This row looks like a household but comes after the signature block "
                        "that starts on line {line}. Move it above the block, or remove the "
                        "block, and import again.").format(line=footer), sheet=name))
                else:
                    self._layout("signature", name, line)
            elif sheet_layout.is_numbering_row(layout):
                self._layout("numbering", name, line)
            elif self._is_totals(layout):
                self._layout("totals", name, line)
            elif not sheet_layout.is_sparse(layout) or _looks_like_data(layout, fields):
                data.append((line, cells))
            else:
                kind = self._sparse_kind(layout)
                if kind is None:
                    data.append((line, cells))
                    continue
                if kind == "signature":
                    footer = line
                self._layout(kind, name, line)
        return data

    def _is_totals(self, cells: list[str]) -> bool:
        """A totals row, also typed in a legacy font ("Toång coäng", "Tæng céng"): its label is
        read first, the whole row only when the label is a total."""
        if sheet_layout.is_totals_row(cells):
            return True
        label = next((c for c in cells if c), "")
        if label.isascii() or not any(sheet_layout.is_totals_row(reading)
                                      for reading in self._legacy_readings([label])):
            return False
        return any(sheet_layout.is_totals_row(reading)
                   for reading in self._legacy_readings(cells))

    def _sparse_kind(self, cells: list[str]) -> str | None:
        """"signature" or "group_heading" for a row with few cells, also in a legacy font."""
        for reading in self._readings(cells):
            if sheet_layout.is_signature_row(reading):
                return "signature"
            if sheet_layout.is_group_heading(reading):
                return "group_heading"
        return None

    def _readings(self, cells: list[str]) -> Iterable[list[str]]:
        yield cells
        yield from self._legacy_readings(cells)

    def _legacy_readings(self, cells: list[str]) -> list[list[str]]:
        """The row read as TCVN3 and as VNI text: a list typed with a legacy font has its
        totals, headings and signature lines in it too. Text that no legacy bytes give
        (Unicode Vietnamese) has no such reading."""
        if all(c.isascii() for c in cells):
            return []
        readings = []
        for decode in (legacy_text.tcvn3_to_unicode, legacy_text.vni_to_unicode):
            try:
                readings.append([c if c.isascii() else decode(
                    legacy_text.legacy_bytes(c, self.legacy_codec)) for c in cells])
            except legacy_text.LegacyTextError:
                continue
        return readings

    def _layout(self, kind: str, sheet: str, line: int) -> None:
        messages = {
            "numbering": _("A row numbering the columns ((1), (2), …) was skipped."),
            "totals": _("A totals row (Tổng cộng, Cộng…) was skipped."),
            "signature": _("The signature block (who made or certified the list, the date "
                           "line, names) was skipped."),
            "group_heading": _("A group heading (a hamlet or group name alone on its row) was "
                               "skipped."),
        }
        self.notes.add(kind, sheet, "", line, messages[kind])

    # -- cells -----------------------------------------------------------------------------
    def _column(self, sheet: _Sheet, data: list[tuple[int, list[str]]], j: int,
                key: str | None, header: str) -> list[str]:
        values = [(cells[j] if cells[j][:1] != "'" else unescape_formula(cells[j]))
                  if j < len(cells) else "" for _line, cells in data]
        if key is None:
            return values
        merged = sheet.merged.get(j)
        if merged:
            self.notes.extend("merged", sheet.name, header,
                              sorted(merged.intersection(line for line, _cells in data)),
                              _("A merged cell: its value was used on every row it covers."))
        width = {"household_phone": 9, "phone": 9, "cccd": 11}.get(key)
        if width:
            restored = []
            for i, text in enumerate(values):
                if len(text) == width and text.isdigit():
                    # Stored as a number in Excel (or saved so to CSV): the leading 0 was lost.
                    values[i] = "0" + text
                    restored.append(data[i][0])
            self.notes.extend("zero_restored", sheet.name, header, restored,
                              zero_restored_message())
        return values

    def _repaired(self, sheet: str, header: str, lines: list[int], values: list[str]
                  ) -> tuple[str, list[str]]:
        """The column as NFC Unicode with invisible characters removed, and its encoding."""
        encoding = "unicode"
        if any(v and not v.isascii() for v in values):
            repair = legacy_text.repair_column(values, codec=self.legacy_codec)
            encoding, values = repair.encoding, repair.values
        if has_hidden_characters("\n".join(values)):
            self.notes.extend("cleaned", sheet, header,
                              [line for line, v in zip(lines, values, strict=True)
                               if has_hidden_characters(v)],
                              _("Invisible characters (zero-width spaces, a byte-order mark, "
                                "unusual spaces) were removed."))
        return encoding, [v if v.isascii() else nfc(v) for v in values]

    def _fill_down(self, sheet: str, lines: list[int], rows: list[list[str]],
                   fields: list[str | None], headers: list[str]) -> None:
        """A person's row with no household cells belongs to the household above: the
        household's cells were merged down over its people (or left blank under it)."""
        if "code" not in fields:
            return
        code = fields.index("code")
        household = [j for j, key in enumerate(fields) if key in _HOUSEHOLD_KEYS]
        person = [j for j, key in enumerate(fields) if key in _PERSON_KEYS]
        name = fields.index("full_name") if "full_name" in fields else None
        above: list[str] | None = None
        for line, row in zip(lines, rows, strict=True):
            if row[code]:
                above = row
                continue
            if above is None or not any(row[j] for j in person):
                continue
            if name is not None and not _could_be_a_name(row[name]):
                # A note or a date line under the list ("Ghi chú: 45 hộ", "Mỹ Tho, ngày
                # 05/11/2026"), not a person: left without a household, so it is reported.
                continue
            if all(not row[j] or row[j] == above[j] for j in household):
                row[code] = above[code]
                self.notes.add("filled_down", sheet, headers[code], line, _(
                    "This row gives a person but no household code: it was taken as a "
                    "member of the household above (its cells were merged or left blank)."))


def _could_be_a_name(text: str) -> bool:
    """People's names have no digits, colons or commas."""
    return not any(ch.isdigit() or ch in ":,;" for ch in text)


def zero_restored_message() -> str:
    return _("The leading 0 was missing (the number was stored as a number in Excel) and was "
             "put back.")


def _first_header(rows: Sequence[tuple[int, list[str]]]) -> int | None:
    """The header among the first rows: the first naming two known columns, or the row just
    under it when that names more (a two-row header: group titles above the real names)."""
    for index, (_line, cells) in enumerate(rows[:_HEADER_SCAN_ROWS]):
        known = _known_count(cells)
        if known >= 2:
            if index + 1 < len(rows) and _known_count(rows[index + 1][1]) > known:
                return index + 1
            return index
    return None


def _repeated_headers(rows: Sequence[tuple[int, list[str]]], first: int) -> list[int]:
    """Later rows that are a header again (two lists pasted one under the other). A cheap
    look first: two of the first four cells must be exactly header names (this list's or
    dxkit's), before the full check."""
    names = _HEADER_NAMES | {c.casefold() for c in rows[first][1] if c}
    return [i for i in range(first + 1, len(rows))
            if sum(c.casefold() in names for c in rows[i][1][:4]) >= 2
            and _known_count(rows[i][1]) >= 2]


def _looks_like_data(cells: Sequence[str], fields: Sequence[str | None]) -> bool:
    """A household code with digits and another known column filled."""
    known = [(key, cells[j]) for j, key in enumerate(fields)
             if key is not None and j < len(cells) and cells[j]]
    return len(known) >= 2 and any(key == "code" and any(ch.isdigit() for ch in value)
                                   for key, value in known)


FORMULA_STARTS = ("=", "+", "-", "@")


def escape_formula(text: str) -> str:
    """A CSV cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unescape_formula(text: str) -> str:
    """The inverse, so an exported file imports back to the same text."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def _known_count(cells: Iterable[str]) -> int:
    return len({column_key(c) for c in cells if c} - {None})


def _cell_text(value: Any) -> str:
    """A cell as text: numbers without a spurious ".0", dates as dd/mm/yyyy."""
    if value is None:
        return ""
    if type(value) is str:
        return value.strip()
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


def _texts(cells: Iterable[Any]) -> list[str] | None:
    """The cells as text without trailing blanks; None for an empty row."""
    texts = [c.strip() if type(c) is str else _cell_text(c) for c in cells]
    while texts and not texts[-1]:
        texts.pop()
    return texts or None


# -- XLSX --------------------------------------------------------------------------------------
def _xlsx_sheets(path: Path) -> list[_Sheet]:
    """Every sheet's rows, with merged ranges spread over the cells they cover.

    python-calamine (Rust) reads a 20,000-row sheet in a fraction of a second, where
    openpyxl took most of an import's time."""
    from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum

    try:
        book = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise _unreadable(path, exc) from exc
    try:
        sheets = []
        for meta in book.sheets_metadata:
            try:
                sheet = book.get_sheet_by_name(meta.name)
                grid = sheet.to_python(skip_empty_area=False)
                merges = sheet.merged_cell_ranges or []
            except (CalamineError, ValueError) as exc:
                raise _unreadable(path, exc) from exc
            filled, copies = _spread_merges(grid, merges)
            rows = [(line, texts) for line, texts in
                    ((i + 1, _texts(cells)) for i, cells in enumerate(grid)) if texts]
            sheets.append(_Sheet(meta.name, rows, filled,
                                 meta.visible != SheetVisibleEnum.Visible, copies))
        return sheets
    finally:
        book.close()


def _unreadable(path: Path, error: Exception) -> DxError:
    return DxError(_("{name} cannot be read as an Excel workbook ({error}). Open it in Excel "
                     "and save it again as .xlsx.").format(name=path.name, error=error))


def _spread_merges(grid: list[list[Any]],
                   merges: Iterable[tuple[tuple[int, int], tuple[int, int]]]
                   ) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """Give every cell of a merged range the range's value (Excel keeps it only in the top
    left cell). Returns, per column, the lines of the cells filled below the first row, and
    per line, the columns filled from the left (copies of a value merged across)."""
    filled: dict[int, set[int]] = {}
    copies: dict[int, set[int]] = {}
    for (top, left), (bottom, right) in merges:
        if top >= len(grid) or left >= len(grid[top]):
            continue
        value = grid[top][left]
        last = min(bottom, len(grid) - 1)
        span = [value] * (right - left + 1)
        for r in range(top, last + 1):
            row = grid[r]
            if len(row) <= right:
                row.extend([""] * (right + 1 - len(row)))
            row[left:right + 1] = span
        if last > top:
            for c in range(left, right + 1):
                filled.setdefault(c, set()).update(range(top + 2, last + 2))
        if right > left:
            for r in range(top, last + 1):
                copies.setdefault(r + 1, set()).update(range(left + 1, right + 1))
    return filled, copies


# -- CSV ---------------------------------------------------------------------------------------
def _latin1_fallback(error: UnicodeError) -> tuple[str, int]:
    """Bytes cp1258 leaves undefined pass through as the latin-1 character (like Excel)."""
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start:error.end].decode("latin-1"), error.end


codecs.register_error("dxkit-latin1", _latin1_fallback)


def _decode(raw: bytes) -> tuple[str, str]:
    """UTF-8 with BOM, UTF-16 with BOM (Excel's "Unicode text"), UTF-8, else Windows-1258.

    Windows-1258 text is NOT normalised here: legacy repair needs the characters as decoded.
    """
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace"), "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), "utf-16"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("cp1258", errors="dxkit-latin1"), "cp1258"


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    # Line numbers are record numbers: what Excel shows as the row number when it opens the file.
    try:
        return [(line, texts) for line, texts in
                ((line, _texts(cells)) for line, cells in enumerate(reader, start=1)) if texts]
    except csv.Error as exc:
        raise DxError(_("The file cannot be read as CSV ({error}).").format(error=exc)) from exc


def _sniff_delimiter(text: str) -> str:
    """The delimiter whose reading finds a header row; else the one splitting rows most."""
    sample = text[:20000]
    best, best_score = ",", (-1, -1)
    for delimiter in _DELIMITERS:
        try:
            reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
            rows = [r for _i, r in zip(range(_HEADER_SCAN_ROWS), reader, strict=False)]
        except csv.Error:
            continue
        known = max((_known_count(c.strip() for c in r) for r in rows), default=0)
        widest = max((len(r) for r in rows), default=0)
        score = (known if known >= 2 else 0, widest)
        if score > best_score:
            best, best_score = delimiter, score
    return best
