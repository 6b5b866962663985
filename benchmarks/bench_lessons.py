"""Lessons at class size: the class grid for 60 learners × 12 lessons read from the database
(target ≤ 50 ms, issue 12 §7), a roll-call of 60 learners recorded in one transaction, and one
skill/quiz record with its incremental progress update.

    .venv/bin/python benchmarks/bench_lessons.py [--learners 60] [--repeat 30]

The class runs on the course dxkit ships; every learner has attendance for 12 sessions and,
for each lesson, its skills and a quiz attempt (about 5,000 events).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dxkit.lessons.library import SHIPPED_COURSE
from dxkit.workspace import Workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        ws = Workspace.open(Path(folder) / "ws")
        try:
            run(ws, args.learners, args.repeat)
        finally:
            ws.close()


def run(ws: Workspace, learners: int, repeat: int) -> None:
    ws.freeze_time(dt.datetime(2026, 11, 20, 9, 0))
    ws.configure_team("Đồng Tháp", "Mỹ Tho")
    hamlet = ws.catalog.add_hamlet("Ấp Mỹ Hưng").value
    people = []
    with ws.transaction():
        for number in range(learners):
            household = ws.households.add(code=f"MH-{number + 1:03d}",
                                          head_name=f"Nguyễn Văn {number}",
                                          hamlet=hamlet.id).value
            people.append(ws.people.add(household.id, full_name=f"Nguyễn Văn {number}",
                                        birth_date="1968").value.id)
    pack = ws.lessons.course(SHIPPED_COURSE)
    starts = dt.date(2026, 10, 1)
    school_class = ws.lessons.add_class(SHIPPED_COURSE, "Lớp đo tốc độ", starts).value
    ws.lessons.enrol(school_class.id, people, on=starts)
    days = [starts + dt.timedelta(days=4 * i) for i in range(12)]

    roll_calls = []
    for day in days:
        began = time.perf_counter()
        ws.lessons.attendance(school_class.id, day, present=people[:-3], absent=people[-3:])
        roll_calls.append(time.perf_counter() - began)

    began = time.perf_counter()
    with ws.transaction():
        for number, lesson in enumerate(pack.lessons):
            for index, person in enumerate(people):
                right = len(lesson.quiz) if index % 7 else 1
                ws.lessons.record(school_class.id, person, lesson.id,
                                  skills=[s.id for s in lesson.skills],
                                  quiz=(right, len(lesson.quiz)), on=days[number])
    filling = time.perf_counter() - began
    events = ws.conn.execute("SELECT count(*) FROM lesson_events").fetchone()[0]

    singles = []
    for index in range(repeat):
        began = time.perf_counter()
        ws.lessons.record(school_class.id, people[index % learners], pack.lessons[0].id,
                          quiz=(1, len(pack.lessons[0].quiz)), on=days[-1])
        singles.append(time.perf_counter() - began)

    grids = []
    for _ in range(repeat):
        began = time.perf_counter()
        grid = ws.lessons.grid(school_class.id)
        grids.append(time.perf_counter() - began)
    assert len(grid.learners) == learners and len(grid.lesson_ids) == len(pack.lessons)

    print(f"class: {learners} learners × {len(pack.lessons)} lessons, {events} events "
          f"(written in {filling:.2f} s, one transaction)")
    print(f"roll-call of {learners} learners, one transaction: median "
          f"{statistics.median(roll_calls) * 1000:.1f} ms, max {max(roll_calls) * 1000:.1f} ms "
          "(the whole class's progress re-derived)")
    print(f"one quiz attempt recorded, progress updated: median "
          f"{statistics.median(singles) * 1000:.1f} ms")
    print(f"class grid from the database: median {statistics.median(grids) * 1000:.1f} ms, "
          f"max {max(grids) * 1000:.1f} ms (target ≤ 50 ms)")
    completed = sum(1 for row in grid.learners if row.completed)
    helped = len(grid.needing_help())
    print(f"completed: {completed}, needing help: {helped}")


if __name__ == "__main__":
    main()
