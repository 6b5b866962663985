"""Time the xAPI export: statements for 100,000 learning records written to a JSON file, then
the same from a class's events in a workspace (records read from the database).

    .venv/bin/python benchmarks/bench_xapi.py [records]

Target (issue 12): 100,000 statements ≤ 5 s.
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dxkit.lessons.xapi import Activity, Record, write_statements

HOME = "https://hub.dongthap.example.vn"
COURSE = "vn.dxkit.ky-nang-so-co-ban"


def make_records(count: int) -> list[Record]:
    lessons = [f"bai-{n:02d}" for n in range(1, 13)]
    learners = [str(uuid.uuid4()) for _ in range(600)]
    classes = [str(uuid.uuid4()) for _ in range(20)]
    start = dt.datetime(2026, 9, 1, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    out = []
    for i in range(count):
        lesson = lessons[i % 12]
        kind = i % 4
        at = start + dt.timedelta(days=i % 90)
        person, klass = learners[i % 600], classes[i % 20]
        if kind == 0:
            out.append(Record(f"e{i}", "attended", person, klass, Activity(COURSE, "course"), at))
        elif kind == 1:
            out.append(Record(f"e{i}", "passed", person, klass,
                              Activity(COURSE, "skill", lesson, "ky-nang-1"), at, success=True))
        elif kind == 2:
            out.append(Record(f"e{i}", "failed", person, klass, Activity(COURSE, "quiz", lesson),
                              at, 3, 6, success=False))
        else:
            out.append(Record(f"m{i}", "mastered", person, klass,
                              Activity(COURSE, "lesson", lesson, name_vi=f"Bài {lesson}"), at))
    return out


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    records = make_records(count)
    times = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "xapi.json"
        for _round in range(3):
            started = time.perf_counter()
            with path.open("w", encoding="utf-8") as out:
                written = write_statements(records, HOME, out)
            times.append(time.perf_counter() - started)
        size = path.stat().st_size
    median = statistics.median(times)
    print(f"{written:,} statements, {size / 1e6:.1f} MB: median {median:.2f} s "
          f"({min(times):.2f}–{max(times):.2f}), {written / median:,.0f} statements/s")


if __name__ == "__main__":
    main()
