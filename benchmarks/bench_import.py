"""Time the dry run and the import of a commune list, as CSV and as XLSX, then a re-import.

    .venv/bin/python benchmarks/bench_import.py [rows]     (default 20,000 rows)

The XLSX is laid out as commune offices make them: a title block, a numbering row under the
header, household cells merged down over each household's people, and a totals row and a
signature block under the list. Targets (issue 11): a 20,000-row XLSX dry run ≤ 2 s, its
import ≤ 3 s on a 2-core machine.
"""

from __future__ import annotations

import csv
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dxkit.households.exporting import export_people
from dxkit.households.importing import apply_import, plan_import
from dxkit.households.spreadsheets import COLUMNS
from dxkit.workspace import Workspace
from tests.support.xlsx_files import Merge, SheetSpec, write_workbook

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ"]
MIDDLE = ["Văn", "Thị", "Ngọc", "Minh", "Hữu", "Thanh"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hoa", "Lan", "Tâm", "Hùng", "Đồng", "Ánh", "Phúc"]
HAMLETS = ["Ấp Mỹ Hưng", "Khóm 3", "Ấp Đông Hòa"]
HOUSEHOLD_WIDTH = 8  # the household columns come first in COLUMNS


def make_households(rows: int) -> list[list[list[object]]]:
    """Households as lists of rows (first row: the head), about 3.5 people each."""
    rng = random.Random(7)
    households = []
    number = 0
    while rows > 0:
        number += 1
        size = min(rows, rng.randint(1, 6))
        head = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        base: list[object] = [f"HO-{number:05d}", head, rng.choice(HAMLETS), f"{number} Lê Lợi",
                              int(f"91{rng.randint(1000000, 9999999)}"), "", "", ""]
        members = []
        for i in range(size):
            name = head if i == 0 else (f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} "
                                        f"{rng.choice(GIVEN)} {i}")
            members.append([*base, name, rng.choice(["Nam", "Nữ"]), rng.randint(1930, 2020),
                            "Chủ hộ" if i == 0 else "Con", "", "", "Không"])
        households.append(members)
        rows -= size
    return households


def write_csv(path: Path, households: list[list[list[object]]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.header for c in COLUMNS])
        for members in households:
            writer.writerows(members)


def write_xlsx(path: Path, households: list[list[list[object]]]) -> None:
    rows: list[list[object]] = [["ỦY BAN NHÂN DÂN XÃ MỸ HƯNG"],
                                ["DANH SÁCH HỘ GIA ĐÌNH VÀ NHÂN KHẨU"],
                                [c.header for c in COLUMNS],
                                [f"({i})" for i in range(1, len(COLUMNS) + 1)]]
    merges: list[Merge] = []
    for members in households:
        top = len(rows) + 1
        rows.append(members[0])
        # Excel keeps a merged range's value in its first cell only.
        rows.extend(["", *([""] * (HOUSEHOLD_WIDTH - 1)), *m[HOUSEHOLD_WIDTH:]]
                    for m in members[1:])
        if len(members) > 1:
            merges.extend((top, column, top + len(members) - 1, column)
                          for column in range(1, HOUSEHOLD_WIDTH + 1))
    rows += [["Tổng cộng", len(households)], [],
             ["", "", "", "", "", "", "", "", "Mỹ Hưng, ngày 3 tháng 12 năm 2026"],
             ["", "Người lập biểu", "", "", "", "", "", "", "TM. UBND XÃ"],
             ["", "Nguyễn Thị Lập", "", "", "", "", "", "", "Trần Văn Chủ"]]
    write_workbook(path, [SheetSpec("Danh sách hộ", rows, merges)])


def new_workspace(folder: Path) -> Workspace:
    ws = Workspace.open(folder)
    ws.configure_team("Đồng Tháp", "Mỹ Tho")
    for name in HAMLETS:
        ws.catalog.add_hamlet(name)
    return ws


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    rounds = 3
    households = make_households(rows)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = {"csv": folder / "ds.csv", "xlsx": folder / "ds.xlsx"}
        write_csv(files["csv"], households)
        write_xlsx(files["xlsx"], households)
        print(f"{rows:,} rows, {len(households):,} households; {rounds} rounds, median (range)")
        for kind, path in files.items():
            dry, applied, again = [], [], []
            for attempt in range(rounds):
                ws = new_workspace(folder / f"ws-{kind}-{attempt}")
                plan = plan_import(ws, path)
                assert plan.ok, plan.problems[:5]
                assert plan.counts.new_people == rows, plan.counts
                dry.append(timed(lambda ws=ws: plan_import(ws, path)))
                applied.append(timed(lambda ws=ws: apply_import(ws, path)))
                again.append(timed(lambda ws=ws: plan_import(ws, path)))
                if attempt == rounds - 1 and kind == "xlsx":
                    export = timed(lambda ws=ws: export_people(ws, folder / "out.xlsx", "xlsx"))
                ws.close()
            for name, times in (("dry run", dry), ("import (plans again, applies)", applied),
                                ("dry run of the same file again", again)):
                print(f"{kind:>4} {name:<31} {statistics.median(times):5.2f} s "
                      f"({min(times):.2f}–{max(times):.2f}); "
                      f"{rows / statistics.median(times):,.0f} rows/s")
        print(f"xlsx export of the imported people {export:.2f} s")


if __name__ == "__main__":
    main()
