"""Reading household lists as commune offices keep them: CSV in any of Excel's encodings, XLSX.

`read_table(path)` finds the header row (title rows above it are common), decodes the text
(UTF-8 with or without BOM, else Windows-1258), repairs TCVN3/VNI font-encoded columns,
restores the leading zero Excel drops from phone and ID numbers stored as numbers, and returns
the cells as strings with their spreadsheet row numbers. `COLUMNS` is the file format: the
importer accepts these headers and the exporter writes them.
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
from dxkit.core.i18n import _
from dxkit.core.text import folded_key
from dxkit.households import legacy_text

# The file format lives with the fields it carries (fields.py); re-exported for readers.
from dxkit.households.fields import COLUMNS as COLUMNS
from dxkit.households.fields import Column as Column

Severity = Literal["error", "warning"]
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
_BY_FOLDED = {folded_key(name): c.key for c in COLUMNS for name in c.names()}
PHONE_COLUMNS = ("household_phone", "phone")
_HEADER_SCAN_ROWS = 10
_DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class Problem:
    """Something wrong (error) or worth knowing (warning) at a spreadsheet row and column."""

    line: int
    column: str
    message: str
    severity: Severity = "error"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Table:
    """A sheet's cells as text. `lines[i]` is the spreadsheet row number of `rows[i]`.

    `fields[j]` is the COLUMNS key of column j (None: not a column we know). `encodings` maps
    each known text column's header to what `legacy_text` detected ("unicode", "tcvn3", "vni"
    or "unknown" — an unknown column's values are left as read). `notes` are warnings found
    while reading (e.g. restored leading zeros).
    """

    headers: list[str]
    rows: list[list[str]]
    codec: str
    first_data_line: int
    header_line: int = 1
    lines: list[int] = field(default_factory=list)
    fields: list[str | None] = field(default_factory=list)
    encodings: dict[str, str] = field(default_factory=dict)
    notes: list[Problem] = field(default_factory=list)


def column_key(header: str) -> str | None:
    """The COLUMNS key a header names, also when the header itself is TCVN3/VNI text."""
    for candidate in _header_readings(header):
        key = _BY_FOLDED.get(folded_key(candidate))
        if key:
            return key
    return None


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
def read_table(path: str | Path) -> Table:
    """Read a .csv/.txt or .xlsx/.xlsm file; raises DxError with a sentence if it cannot."""
    path = Path(path)
    if not path.is_file():
        raise DxError(_("The file {path} does not exist.").format(path=path))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        raw_rows, codec = _xlsx_rows(path), "xlsx"
    elif suffix in (".csv", ".txt", ".tsv"):
        text, codec = _decode(path.read_bytes())
        raw_rows = _csv_rows(text)
    elif suffix == ".xls":
        raise DxError(_("{name} is an old Excel 97-2003 file. Open it in Excel or LibreOffice "
                        "and save it as .xlsx or CSV UTF-8, then import that.").format(
                            name=path.name))
    else:
        raise DxError(_("{name} is not a spreadsheet dxkit can read: use a .xlsx or .csv file."
                        ).format(name=path.name))
    return _build_table(raw_rows, codec)


def _build_table(raw_rows: list[tuple[int, list[Any]]], codec: str) -> Table:
    if not raw_rows:
        raise DxError(_("The file is empty."))
    header_index = _header_index(raw_rows)
    header_line, header_cells = raw_rows[header_index]
    headers = [_nfc(_cell_text(c)) for c in header_cells]
    while headers and not headers[-1]:
        headers.pop()
    fields = [column_key(h) if h else None for h in headers]
    data = raw_rows[header_index + 1:]
    width = len(headers)
    lines = [line for line, _cells in data]
    notes: list[Problem] = []
    columns: list[list[str]] = []
    for j in range(width):
        columns.append([_cell_for_column(cells, j, fields[j], headers[j], line, notes)
                        for line, cells in data])
    encodings: dict[str, str] = {}
    legacy_codec = "cp1258" if codec == "cp1258" else "cp1252"
    for j, key in enumerate(fields):
        if key is None or not any(v and not v.isascii() for v in columns[j]):
            columns[j] = [_nfc(v) for v in columns[j]]
            if key is not None:
                encodings[headers[j]] = "unicode"
            continue
        repair = legacy_text.repair_column(columns[j], codec=legacy_codec)
        encodings[headers[j]] = repair.encoding
        columns[j] = [_nfc(v) for v in repair.values]
    rows = [list(r) for r in zip(*columns, strict=True)] if columns else [[] for _ in data]
    first = lines[0] if lines else header_line + 1
    return Table(headers=headers, rows=rows, codec=codec, first_data_line=first,
                 header_line=header_line, lines=lines, fields=fields, encodings=encodings,
                 notes=notes)


def _header_index(raw_rows: Sequence[tuple[int, list[Any]]]) -> int:
    """The first of the first 10 rows naming two known columns; else the first row."""
    for index, (_line, cells) in enumerate(raw_rows[:_HEADER_SCAN_ROWS]):
        if _known_count(cells) >= 2:
            return index
    return 0


FORMULA_STARTS = ("=", "+", "-", "@")


def escape_formula(text: str) -> str:
    """A CSV cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unescape_formula(text: str) -> str:
    """The inverse, so an exported file imports back to the same text."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def _known_count(cells: Iterable[Any]) -> int:
    return len({column_key(_nfc(_cell_text(c))) for c in cells if _cell_text(c)} - {None})


def _cell_for_column(cells: list[Any], j: int, key: str | None, header: str, line: int,
                     notes: list[Problem]) -> str:
    value = cells[j] if j < len(cells) else None
    text = unescape_formula((value if type(value) is str else _cell_text(value)).strip())
    missing = {"household_phone": 9, "phone": 9, "cccd": 11}.get(key or "")
    if missing and text.isdigit() and len(text) == missing:
        # Excel stored the number as a number (or saved it so to CSV): the leading 0 was lost.
        restored = "0" + text
        notes.append(Problem(line, header, _(
            "The leading 0 was missing (the number was stored as a number in Excel); "
            "read as {value}.").format(value=restored), "warning"))
        return restored
    return text


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
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
    return str(value)


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


def _is_empty(cells: Sequence[Any]) -> bool:
    return all(not _cell_text(c).strip() for c in cells)


# -- XLSX --------------------------------------------------------------------------------------
def _xlsx_rows(path: Path) -> list[tuple[int, list[Any]]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise DxError(_("{name} cannot be read as an Excel workbook ({error}). Open it in "
                        "Excel and save it again as .xlsx.").format(name=path.name, error=exc)
                      ) from exc
    try:
        sheet = book.active or book.worksheets[0]
        rows = []
        for line, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            if not _is_empty(cells):
                rows.append((line, list(cells)))
        return rows
    finally:
        book.close()


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


def _csv_rows(text: str) -> list[tuple[int, list[Any]]]:
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    # Line numbers are record numbers: what Excel shows as the row number when it opens the file.
    try:
        return [(line, cells) for line, cells in enumerate(reader, start=1)
                if not _is_empty(cells)]
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
        known = max((_known_count(r) for r in rows), default=0)
        widest = max((len(r) for r in rows), default=0)
        score = (known if known >= 2 else 0, widest)
        if score > best_score:
            best, best_score = delimiter, score
    return best
