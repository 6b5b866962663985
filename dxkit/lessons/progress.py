"""Progress: each learner's lesson states and course completion, derived from the events.

The events (`lesson_events`) are the record; `lesson_progress` and `class_progress` are
derived from them and rebuilt identically at any time (`recompute`). A transaction's hook
(`refresh_from_changes`) re-derives only what its events can change: the learner an event is
about, or the whole class when an attendance mark changes the class's sessions.

How the events count (the same on every laptop, whatever order they arrived in):

- An event is effective unless it is a void or another event names it in `corrects` (an
  amendment replaces it; a void cancels it). A learner's events only correct that learner's.
- Attendance: per learner and date, the latest effective mark (present or absent) by its HLC
  (`created_at`, then id) wins. The class's sessions held are the dates that carry any
  effective mark. A learner counts as absent from a session held on or after the day they
  enrolled unless their mark for it is "present".
- A lesson is mastered when, over its effective events taken in order (date, HLC, id), the
  lesson's mastery rule holds: its skills part (skills shown, any order) and, for a lesson
  with a quiz, one attempt that passes. The rule only grows with more events, so a mastered
  lesson stays mastered (a later failed attempt changes nothing) until the events that made
  it so are voided or amended. `mastered_by` is the event that completed the rule.
- Not mastered, a lesson needs help after two failed quiz attempts on it, or when the learner
  was absent from the class's two latest sessions; otherwise it is in progress once any of its
  events exists, else not started.
- Course completion follows the pack's completion rule: lessons mastered, and the share of the
  class's sessions held that the learner attended.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

from dxkit.core.errors import DxError
from dxkit.core.sqlbatch import chunks, select_in
from dxkit.core.synced import Tx
from dxkit.households import indicators
from dxkit.lessons import library
from dxkit.lessons.packs import CoursePack
from dxkit.lessons.tables import ATTENDANCE_KINDS, answer_id

State = Literal["not_started", "in_progress", "mastered", "needs_help"]
STATES: tuple[State, ...] = ("not_started", "in_progress", "mastered", "needs_help")
FAILED_ATTEMPTS_FOR_HELP = 2
ABSENCES_FOR_HELP = 2


@dataclass(frozen=True)
class Event:
    id: str
    person_id: str
    kind: str
    on_date: str
    lesson_id: str | None
    skill_id: str | None
    correct: int | None
    total: int | None
    corrects: str | None
    created_at: str
    device_id: str

    @property
    def order(self) -> tuple[str, str, str]:
        return (self.on_date, self.created_at, self.id)


_EVENT_COLUMNS = ("id, person_id, kind, on_date, lesson_id, skill_id, correct, total, "
                  "corrects, created_at, device_id")


@dataclass
class LessonProgress:
    lesson_id: str
    state: State = "not_started"
    skills: list[str] = field(default_factory=list)
    attempts: int = 0
    failed: int = 0
    best: str | None = None
    mastered_by: str | None = None


@dataclass(frozen=True)
class LearnerProgress:
    person_id: str
    lessons: tuple[LessonProgress, ...]
    mastered: int
    attended: int
    sessions: int
    completed: bool


def effective(events: Iterable[Event]) -> list[Event]:
    """The events that count: neither voids nor replaced by a correction."""
    events = list(events)
    corrected = {e.corrects for e in events if e.corrects}
    return [e for e in events if e.kind != "void" and e.id not in corrected]


def session_dates(conn: sqlite3.Connection, class_id: str) -> list[str]:
    """The dates the class met: those carrying an effective attendance mark."""
    return [r[0] for r in conn.execute(
        "SELECT DISTINCT e.on_date FROM lesson_events e WHERE e.class_id = ? "
        "AND e.kind IN ('present', 'absent') AND NOT EXISTS (SELECT 1 FROM lesson_events c "
        "WHERE c.corrects = e.id AND c.person_id = e.person_id) ORDER BY e.on_date",
        (class_id,))]


def attendance_marks(events: Iterable[Event]) -> dict[str, str]:
    """date -> "present" or "absent": per date the latest effective mark by HLC."""
    latest: dict[str, Event] = {}
    for event in events:
        if event.kind in ATTENDANCE_KINDS:
            known = latest.get(event.on_date)
            if known is None or (event.created_at, event.id) > (known.created_at, known.id):
                latest[event.on_date] = event
    return {day: event.kind for day, event in latest.items()}


def attendance_on(conn: sqlite3.Connection, class_id: str, day: dt.date) -> dict[str, str]:
    """person id -> "present" or "absent": each learner's mark for `day` as progress counts
    it (the latest effective mark by HLC); learners with none are left out."""
    events: dict[str, list[Event]] = defaultdict(list)
    for row in conn.execute(f"SELECT {_EVENT_COLUMNS} FROM lesson_events WHERE class_id = ?",
                            (class_id,)):
        events[row[1]].append(Event(*row))
    wanted = day.isoformat()
    marks = {person: attendance_marks(effective(own)).get(wanted)
             for person, own in events.items()}
    return {person: kind for person, kind in marks.items() if kind is not None}


def derive_learner(pack: CoursePack, person_id: str, events: Sequence[Event],
                   sessions: Sequence[str], enrolled_on: str) -> LearnerProgress:
    """One learner's progress from their events and the class's session dates."""
    counted = sorted(effective(events), key=lambda e: e.order)
    marks = attendance_marks(counted)
    held = list(sessions)
    attended = sum(1 for day in held if marks.get(day) == "present")
    latest = held[-ABSENCES_FOR_HELP:]
    absent_lately = len(latest) == ABSENCES_FOR_HELP and all(
        marks.get(day) != "present" and enrolled_on <= day for day in latest)
    by_lesson: dict[str, list[Event]] = defaultdict(list)
    for event in counted:
        if event.kind in ("skill", "quiz") and event.lesson_id:
            by_lesson[event.lesson_id].append(event)
    lessons = []
    for lesson in pack.lessons:
        progress = LessonProgress(lesson.id)
        skill_ids = {skill.id for skill in lesson.skills}
        shown: set[str] = set()
        passed = lesson.mastery.quiz is None
        best: tuple[Fraction, int, int] | None = None
        for event in by_lesson.get(lesson.id, ()):
            if event.kind == "skill" and event.skill_id in skill_ids:
                shown.add(event.skill_id)
            elif event.kind == "quiz" and event.total and event.correct is not None:
                progress.attempts += 1
                if lesson.attempt_passes(event.total, event.correct):
                    passed = True
                else:
                    progress.failed += 1
                score = (Fraction(event.correct, event.total), event.correct, event.total)
                if best is None or score > best:
                    best = score
            if progress.mastered_by is None and passed and lesson.skills_met(shown):
                progress.mastered_by = event.id
        progress.skills = [skill.id for skill in lesson.skills if skill.id in shown]
        progress.best = f"{best[1]}/{best[2]}" if best is not None else None
        if progress.mastered_by is not None:
            progress.state = "mastered"
        elif progress.failed >= FAILED_ATTEMPTS_FOR_HELP or absent_lately:
            progress.state = "needs_help"
        elif by_lesson.get(lesson.id):
            progress.state = "in_progress"
        lessons.append(progress)
    mastered = sum(1 for p in lessons if p.state == "mastered")
    completed = pack.completion.met(mastered, len(pack.lessons), attended, len(held))
    return LearnerProgress(person_id, tuple(lessons), mastered, attended, len(held), completed)


def class_pack(conn: sqlite3.Connection, class_id: str) -> CoursePack | None:
    """The pack a class is taught from, or None (the class is gone, or its pack version is
    not installed on this laptop: its progress waits until it is)."""
    row = conn.execute("SELECT course_id, course_version, deleted FROM classes WHERE id = ?",
                       (class_id,)).fetchone()
    if row is None or row["deleted"]:
        return None
    try:
        return library.load(conn, row["course_id"], row["course_version"])
    except DxError:
        return None


def derive_class(conn: sqlite3.Connection, class_id: str,
                 person_ids: Iterable[str] | None = None) -> dict[str, LearnerProgress]:
    """Progress of the class's enrolled learners (or of those of them in `person_ids`)."""
    pack = class_pack(conn, class_id)
    if pack is None:
        return {}
    enrolled = {r[0]: r[1] for r in conn.execute(
        "SELECT person_id, enrolled_on FROM class_learners WHERE class_id = ? AND deleted = 0",
        (class_id,))}
    wanted = sorted(enrolled if person_ids is None else set(person_ids) & set(enrolled))
    if not wanted:
        return {}
    events: dict[str, list[Event]] = defaultdict(list)
    if person_ids is None:
        rows: Iterable[sqlite3.Row] = conn.execute(
            f"SELECT {_EVENT_COLUMNS} FROM lesson_events WHERE class_id = ?", (class_id,))
    else:
        rows = _select(conn, f"SELECT {_EVENT_COLUMNS} FROM lesson_events WHERE "
                       "class_id = ? AND person_id IN ({marks})", class_id, wanted)
    for row in rows:
        events[row[1]].append(Event(*row))
    sessions = session_dates(conn, class_id)
    return {person: derive_learner(pack, person, events.get(person, []), sessions,
                                   enrolled[person]) for person in wanted}


def _store(conn: sqlite3.Connection, class_id: str, person_ids: Iterable[str] | None,
           derived: dict[str, LearnerProgress]) -> None:
    if person_ids is None:
        conn.execute("DELETE FROM lesson_progress WHERE class_id = ?", (class_id,))
        conn.execute("DELETE FROM class_progress WHERE class_id = ?", (class_id,))
    else:
        people = sorted(set(person_ids))
        for table in ("lesson_progress", "class_progress"):
            conn.executemany(f"DELETE FROM {table} WHERE class_id = ? AND person_id = ?",
                             [(class_id, person) for person in people])
    conn.executemany(
        "INSERT INTO lesson_progress (class_id, person_id, lesson_id, state, skills, attempts,"
        " failed, best, mastered_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(class_id, learner.person_id, p.lesson_id, p.state, json.dumps(p.skills), p.attempts,
          p.failed, p.best, p.mastered_by)
         for learner in derived.values() for p in learner.lessons])
    conn.executemany(
        "INSERT INTO class_progress (class_id, person_id, mastered, attended, sessions, "
        "completed) VALUES (?, ?, ?, ?, ?, ?)",
        [(class_id, d.person_id, d.mastered, d.attended, d.sessions, int(d.completed))
         for d in derived.values()])


def refresh(conn: sqlite3.Connection, class_id: str,
            person_ids: Iterable[str] | None = None) -> dict[str, LearnerProgress]:
    """Re-derive and store the progress of a class (or of some of its learners)."""
    people = None if person_ids is None else sorted(set(person_ids))
    derived = derive_class(conn, class_id, people)
    _store(conn, class_id, people, derived)
    return derived


def recompute(conn: sqlite3.Connection) -> None:
    """Throw the derived progress away and derive it again from the events."""
    conn.execute("DELETE FROM lesson_progress")
    conn.execute("DELETE FROM class_progress")
    for (class_id,) in conn.execute("SELECT id FROM classes WHERE deleted = 0").fetchall():
        refresh(conn, class_id)


def snapshot(conn: sqlite3.Connection) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Both derived tables in a fixed order (tests compare an incremental result with a
    recomputation)."""
    return (conn.execute("SELECT * FROM lesson_progress ORDER BY 1, 2, 3").fetchall(),
            conn.execute("SELECT * FROM class_progress ORDER BY 1, 2").fetchall())


# -- the commit hook ------------------------------------------------------------------------------
def affected(tx: Tx) -> tuple[set[str], dict[str, set[str]]]:
    """What a transaction's changes can re-derive: whole classes, and learners by class."""
    conn = tx.conn
    whole: set[str] = set(tx.changes.ids("classes"))
    learners: dict[str, set[str]] = defaultdict(set)
    created = sorted(tx.changes.created.get("lesson_events", ()))
    for row in select_in(conn, "SELECT e.class_id, e.person_id, e.kind, c.kind FROM "
                         "lesson_events e LEFT JOIN lesson_events c ON c.id = e.corrects "
                         "WHERE e.id IN ({marks})", created):
        if row[2] in ATTENDANCE_KINDS or row[3] in ATTENDANCE_KINDS:
            whole.add(row[0])  # the class's sessions may change: everyone's absences
        else:
            learners[row[0]].add(row[1])
    for row in select_in(conn, "SELECT class_id, person_id FROM class_learners WHERE id IN "
                         "({marks})", sorted(tx.changes.ids("class_learners"))):
        learners[row[0]].add(row[1])
    return whole, learners


def refresh_from_changes(tx: Tx) -> None:
    """The before-commit hook: progress follows the events, enrolments and classes this
    transaction wrote or received; a lesson mastered here records its indicator (§5)."""
    whole, learners = affected(tx)
    if not whole and not learners:
        return
    conn = tx.conn
    for class_id in sorted(whole | set(learners)):
        people = None if class_id in whole else learners[class_id]
        before = _mastered(conn, class_id, people)
        derived = refresh(conn, class_id, people)
        _record_indicators(tx, class_id, before, derived)


def _mastered(conn: sqlite3.Connection, class_id: str, people: Iterable[str] | None
              ) -> set[tuple[str, str]]:
    rows: Iterable[sqlite3.Row]
    if people is None:
        rows = conn.execute("SELECT person_id, lesson_id FROM lesson_progress WHERE "
                            "class_id = ? AND state = 'mastered'", (class_id,))
    else:
        rows = _select(conn, "SELECT person_id, lesson_id FROM lesson_progress WHERE "
                       "class_id = ? AND state = 'mastered' AND person_id IN ({marks})",
                       class_id, sorted(set(people)))
    return {(r[0], r[1]) for r in rows}


def _record_indicators(tx: Tx, class_id: str, before: set[tuple[str, str]],
                       derived: dict[str, LearnerProgress]) -> None:
    """A lesson mapped to a household indicator, newly mastered through an event recorded on
    this laptop in this transaction, records that indicator for the learner as an answer.

    The answer's id is a uuid5 of the mastering event, so it is made once, by the laptop that
    recorded the event (a laptop receiving the event by sync receives the answer too), and
    its `recorded_by` names the class it came from. No answer is added when the person's
    indicator already holds (a visit established it): a person is counted once either way.
    Voiding the mastering event later leaves the answer standing: the indicator answers are
    events with no way to withdraw one; a wrong one is corrected by a later explicit answer
    on the person's page (Indicators.answer), as for any answer."""
    conn = tx.conn
    created = tx.changes.created.get("lesson_events", set())
    newly = [(person, lesson.lesson_id, lesson.mastered_by)
             for person, learner in derived.items() for lesson in learner.lessons
             if lesson.state == "mastered" and (person, lesson.lesson_id) not in before
             and lesson.mastered_by in created]
    if not newly:
        return
    pack = class_pack(conn, class_id)
    if pack is None:
        return
    codes = {r[0] for r in conn.execute(
        "SELECT code FROM indicators WHERE deleted = 0 AND active = 1")}
    name = conn.execute("SELECT name FROM classes WHERE id = ?", (class_id,)).fetchone()[0]
    touched: set[str] = set()
    for person_id, lesson_id, event_id in newly:
        assert event_id is not None
        code = pack.lesson(lesson_id).indicator
        if code is None or code not in codes:
            continue
        event = conn.execute("SELECT on_date, device_id FROM lesson_events WHERE id = ?",
                             (event_id,)).fetchone()
        if event["device_id"] != tx.clock.device:
            continue
        person = conn.execute("SELECT deleted, purged FROM people WHERE id = ?",
                              (person_id,)).fetchone()
        if person is None or person["deleted"] or person["purged"]:
            continue
        held = conn.execute("SELECT value FROM person_indicators WHERE person_id = ? AND "
                            "indicator_code = ?", (person_id, code)).fetchone()
        if held is not None and held[0] == 1:
            continue
        row_id = answer_id(event_id, code)
        if conn.execute("SELECT 1 FROM indicator_answers WHERE id = ?", (row_id,)).fetchone():
            continue
        tx.append("indicator_answers", {
            "person_id": person_id, "indicator_code": code, "value": 1,
            "answered_on": event["on_date"],
            "recorded_by": f"{tx.actor} · {name}"[:200]}, row_id=row_id)
        touched.add(person_id)
    if touched:
        # The households hook that derives indicators ran before this one.
        indicators.store(conn, sorted(touched))


def _select(conn: sqlite3.Connection, sql: str, first: str, values: Sequence[str]
            ) -> Iterator[sqlite3.Row]:
    """`select_in` with one parameter before the batch (the class id)."""
    for batch in chunks(values):
        yield from conn.execute(sql.format(marks=",".join("?" * len(batch))), (first, *batch))
