"""Two trainers recording one class on two laptops offline: after exchanging records both
hold every mark, one enrolment row per learner, and the same progress."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dxkit.core.synced import dependency_order, records_of
from dxkit.lessons import progress
from dxkit.workspace import Workspace
from tests.conftest import FROZEN_NOW
from tests.lessons.conftest import COURSE, STARTS, add_people
from tests.lessons.packs_setup import write_pack

DAY = dt.date(2026, 11, 10)


def exchange(source: Workspace, target: Workspace) -> None:
    """Every synced row of `source` applied to `target`, parents first (as sync does)."""
    with target.transaction() as tx:
        for table in dependency_order():
            ids = [r[0] for r in source.conn.execute(f"SELECT id FROM {table}")]
            for record in records_of(source.conn, table, ids).values():
                tx.apply_remote(record)


def laptop(path: Path, pack: Path) -> Workspace:
    ws = Workspace.open(path)
    ws.freeze_time(FROZEN_NOW)
    ws.lessons.import_pack(pack)
    return ws


def test_two_laptops_offline_lose_no_mark(ws: Workspace, tmp_path: Path):
    pack = write_pack(tmp_path / "pack")
    ws.lessons.import_pack(pack)
    class_id = ws.lessons.add_class(COURSE, "Lớp", STARTS).value.id
    people = add_people(ws, 3)
    ws.lessons.enrol(class_id, people[:2], on=STARTS)
    other = laptop(tmp_path / "other", pack)
    try:
        exchange(ws, other)
        # Offline: both enrol the third person, both take the roll-call, each records skills.
        ws.lessons.enrol(class_id, [people[2]], on=DAY)
        other.lessons.enrol(class_id, [people[2]], on=DAY)
        ws.lessons.attendance(class_id, DAY, present=people[:2])
        other.lessons.attendance(class_id, DAY, present=[people[2]], absent=[people[1]])
        ws.lessons.record(class_id, people[0], "dien-thoai", skills=["ky-nang-1"], on=DAY)
        other.lessons.record(class_id, people[0], "dien-thoai", skills=["ky-nang-2"],
                             quiz=(3, 3), on=DAY)
        exchange(ws, other)
        exchange(other, ws)
        for side in (ws, other):
            assert side.conn.execute("SELECT count(*) FROM class_learners WHERE class_id = ? "
                                     "AND deleted = 0", (class_id,)).fetchone()[0] == 3
            assert side.conn.execute("SELECT count(*) FROM lesson_events").fetchone()[0] == 7
        assert progress.snapshot(ws.conn) == progress.snapshot(other.conn)
        grid = {r.person_id: r for r in ws.lessons.grid(class_id).learners}
        assert grid[people[0]].lessons["dien-thoai"] == "mastered"  # skills from both laptops
        # people[1]: marked present here and absent there; the later mark (by HLC) counts.
        assert grid[people[1]].attended == 0
    finally:
        other.close()
