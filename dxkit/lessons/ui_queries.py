"""Reads the app's class screens need that `ws.lessons` does not give in one call: the class
list with each class's learners needing help, and one person's classes for the household page.

Both read the derived tables (`lesson_progress`, `class_progress`), so they show the same
numbers as the grid, the CLI and the XLSX export."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dxkit.core.errors import NotFound
from dxkit.lessons import library, progress

if TYPE_CHECKING:
    from dxkit.lessons.workspace import LessonsWorkspace as Workspace


@dataclass(frozen=True)
class ClassRow:
    """One line of the classes list."""

    id: str
    name: str
    course_id: str
    course_title: str
    starts_on: dt.date
    place: str
    learners: int
    needing_help: int  # learners with at least one lesson that needs help
    completed: int  # learners who completed the course


@dataclass(frozen=True)
class PersonClass:
    """One class a person is a learner of, and how far they are."""

    class_id: str
    class_name: str
    course_title: str
    lessons: int  # the course's lessons
    mastered: int
    needing_help: int  # lessons that need help
    completed: bool


_CLASS_ROWS_SQL = """
SELECT c.id, c.name, c.course_id, c.course_version, c.starts_on, c.place,
  (SELECT count(*) FROM class_learners l WHERE l.class_id = c.id AND l.deleted = 0)
    AS learners,
  (SELECT count(DISTINCT p.person_id) FROM lesson_progress p JOIN class_learners l
     ON l.class_id = p.class_id AND l.person_id = p.person_id AND l.deleted = 0
   WHERE p.class_id = c.id AND p.state = 'needs_help') AS needing_help,
  (SELECT count(*) FROM class_progress g JOIN class_learners l
     ON l.class_id = g.class_id AND l.person_id = g.person_id AND l.deleted = 0
   WHERE g.class_id = c.id AND g.completed = 1) AS completed
FROM classes c WHERE c.deleted = 0 ORDER BY c.starts_on DESC, c.name_key
"""

_PERSON_CLASSES_SQL = """
SELECT c.id, c.name, c.course_id, c.course_version,
  coalesce(g.mastered, 0) AS mastered, coalesce(g.completed, 0) AS completed,
  (SELECT count(*) FROM lesson_progress p WHERE p.class_id = c.id AND p.person_id = l.person_id
     AND p.state = 'needs_help') AS needing_help
FROM class_learners l JOIN classes c ON c.id = l.class_id AND c.deleted = 0
LEFT JOIN class_progress g ON g.class_id = l.class_id AND g.person_id = l.person_id
WHERE l.person_id = ? AND l.deleted = 0 ORDER BY c.starts_on DESC, c.name_key
"""


def _course(ws: Workspace, course_id: str, version: str) -> tuple[str, int]:
    """The course's title and number of lessons; its id and 0 when it is not installed."""
    try:
        summary = library.find(ws.conn, course_id, version)
    except NotFound:
        return course_id, 0
    return summary.title, summary.lessons


def class_rows(ws: Workspace) -> list[ClassRow]:
    """Every class, the latest to start first."""
    rows = []
    for r in ws.conn.execute(_CLASS_ROWS_SQL):
        title, _lessons = _course(ws, r["course_id"], r["course_version"])
        rows.append(ClassRow(r["id"], r["name"], r["course_id"], title,
                             dt.date.fromisoformat(r["starts_on"]), r["place"], r["learners"],
                             r["needing_help"], r["completed"]))
    return rows


def classes_of_person(ws: Workspace, person_id: str) -> list[PersonClass]:
    """The classes `person_id` is enrolled in (withdrawn ones left out), latest first."""
    found = []
    for r in ws.conn.execute(_PERSON_CLASSES_SQL, (person_id,)):
        title, lessons = _course(ws, r["course_id"], r["course_version"])
        found.append(PersonClass(r["id"], r["name"], title, lessons, r["mastered"],
                                 r["needing_help"], bool(r["completed"])))
    return found


def roll_call_marks(ws: Workspace, class_id: str, day: dt.date) -> dict[str, str]:
    """What the roll-call dialog starts from: each learner's mark already recorded for `day`
    (person id -> "present" or "absent"), the one progress counts."""
    ws.lessons.get_class(class_id)  # NotFound: a sentence
    return progress.attendance_on(ws.conn, class_id, day)
