"""The demo workspace holds a class in progress on the shipped course."""

from __future__ import annotations

from dxkit import demo
from dxkit.lessons import progress
from dxkit.lessons.library import SHIPPED_COURSE
from dxkit.workspace import Workspace


def test_the_demo_holds_a_class_in_progress(fresh_ws: Workspace):
    demo.generate(fresh_ws, households=40)
    classes = fresh_ws.lessons.classes()
    assert len(classes) == 1 and classes[0].course_id == SHIPPED_COURSE
    grid = fresh_ws.lessons.grid(classes[0].id)
    assert len(grid.learners) == 12
    completed = [row for row in grid.learners if row.completed]
    helped = grid.needing_help()
    assert 2 <= len(completed) <= 4
    assert 2 <= len(helped) <= 5
    on_the_way = [row for row in grid.learners if not row.completed and row not in helped]
    assert on_the_way and all("in_progress" in row.lessons.values() for row in on_the_way)
    # Mastered lessons mapped to indicators reached the household picture.
    assert fresh_ws.conn.execute("SELECT count(*) FROM indicator_answers a JOIN lesson_events e"
                                 " ON a.answered_on = e.on_date AND a.person_id = e.person_id"
                                 ).fetchone()[0] > 0
    stored = progress.snapshot(fresh_ws.conn)
    fresh_ws.lessons.recompute()
    assert progress.snapshot(fresh_ws.conn) == stored
