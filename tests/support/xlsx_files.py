"""Writing test workbooks fast, merged ranges included: openpyxl's `merge_cells` checks every
new range against all the others, so a 5,000-household list took minutes to write. Sheets are
streamed (write-only) and the merges are put into each sheet's XML afterwards, which is what
Excel itself stores: the value in the top-left cell, the others empty."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

# (first row, first column, last row, last column), 1-based as Excel shows them.
Merge = tuple[int, int, int, int]


@dataclass
class SheetSpec:
    name: str
    rows: Sequence[Sequence[object]]
    merges: Sequence[Merge] = field(default_factory=list)
    hidden: bool = False


def write_workbook(path: Path, sheets: Sequence[SheetSpec]) -> Path:
    book = Workbook(write_only=True)
    for spec in sheets:
        sheet = book.create_sheet(spec.name)
        if spec.hidden:
            sheet.sheet_state = "hidden"
        for row in spec.rows:
            sheet.append(list(row))
    book.save(path)
    if any(spec.merges for spec in sheets):
        _add_merges(path, [spec.merges for spec in sheets])
    return path


def _ref(merge: Merge) -> str:
    top, left, bottom, right = merge
    return f"{get_column_letter(left)}{top}:{get_column_letter(right)}{bottom}"


def _add_merges(path: Path, merges: Sequence[Sequence[Merge]]) -> None:
    with tempfile.NamedTemporaryFile(delete=False, suffix=".xlsx", dir=path.parent) as tmp:
        out = Path(tmp.name)
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest:
        for item in source.infolist():
            data = source.read(item.filename)
            for index, ranges in enumerate(merges, start=1):
                if item.filename == f"xl/worksheets/sheet{index}.xml" and ranges:
                    cells = "".join(f'<mergeCell ref="{_ref(m)}"/>' for m in ranges)
                    block = f'<mergeCells count="{len(ranges)}">{cells}</mergeCells>'
                    data = data.replace(b"</sheetData>", b"</sheetData>" + block.encode(), 1)
            dest.writestr(item, data)
    shutil.move(out, path)
