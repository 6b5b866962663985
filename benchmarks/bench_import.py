"""Time planning and applying an import of 10,000 rows, then re-importing it (all unchanged).

    .venv/bin/python benchmarks/bench_import.py [rows]
"""

from __future__ import annotations

import csv
import random
import sys
import tempfile
import time
from pathlib import Path

from dxkit.households.exporting import export_people
from dxkit.households.importing import apply_import, plan_import
from dxkit.households.spreadsheets import COLUMNS
from dxkit.workspace import Workspace

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ"]
MIDDLE = ["Văn", "Thị", "Ngọc", "Minh", "Hữu", "Thanh"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hoa", "Lan", "Tâm", "Hùng", "Đồng", "Ánh", "Phúc"]
HAMLETS = ["Ấp Mỹ Hưng", "Khóm 3", "Ấp Đông Hòa"]


def make_file(path: Path, rows: int) -> None:
    rng = random.Random(7)
    header = [c.header for c in COLUMNS]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        household = 0
        while rows > 0:
            household += 1
            size = min(rows, rng.randint(1, 6))
            head = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            base = [f"HO-{household:05d}", head, rng.choice(HAMLETS), f"{household} Lê Lợi",
                    f"091{rng.randint(1000000, 9999999)}", "", "", ""]
            for i in range(size):
                name = head if i == 0 else (f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} "
                                            f"{rng.choice(GIVEN)} {i}")
                year = rng.randint(1930, 2020)
                writer.writerow([*base, name, rng.choice(["Nam", "Nữ"]), str(year),
                                 "Chủ hộ" if i == 0 else "Con", "", "", "Không"])
            rows -= size


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ds.csv"
        make_file(path, rows)
        ws = Workspace.open(Path(folder) / "ws")
        ws.configure_team("Đồng Tháp", "Mỹ Tho")
        for name in HAMLETS:
            ws.catalog.add_hamlet(name)
        started = time.perf_counter()
        plan = plan_import(ws, path)
        planned = time.perf_counter()
        assert plan.ok, plan.problems[:5]
        apply_import(ws, path)
        applied = time.perf_counter()
        again = plan_import(ws, path)
        replanned = time.perf_counter()
        export_people(ws, Path(folder) / "out.xlsx", "xlsx")
        exported = time.perf_counter()
        print(f"{rows} rows, {plan.counts.new_households} households, "
              f"{plan.counts.new_people} people")
        print(f"dry run {planned - started:.2f} s; apply (re-plans) {applied - planned:.2f} s; "
              f"dry run of the same file again {replanned - applied:.2f} s "
              f"({again.counts.unchanged_people} unchanged); xlsx export "
              f"{exported - replanned:.2f} s")
        ws.close()


if __name__ == "__main__":
    main()
