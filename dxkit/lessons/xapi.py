"""xAPI 1.0.3 statements of what learners did in class, for a learning record store.

Each statement has a stable id (uuid5 of what it records), so exporting twice gives the same
ids and a store that already holds a statement ignores it. Actors are pseudonymous: an
`account` on the hub's home page named by the person's id — never a name, phone or ID number.
Activities live under one IRI per pack, lesson, skill and quiz:

    {home}/xapi/courses/{pack id}                       the course (attended, completed)
    {home}/xapi/courses/{pack id}/lessons/{lesson id}   a lesson (mastered)
    …/lessons/{lesson id}/quiz                          its quiz (attempted, passed/failed)
    …/lessons/{lesson id}/skills/{skill id}             a skill of its checklist (passed)

The class is the statement's context registration (a UUID), so a store can tell two classes of
the same course apart.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Literal

from dxkit.lessons import progress
from dxkit.lessons.packs import CoursePack

XAPI_VERSION = "1.0.3"
_NAMESPACE = uuid.UUID("0b6c3f54-8e0d-4b7e-a1a4-3f5d1c9e2a77")
_ADL = "http://adlnet.gov/expapi/verbs/"
VERBS = {
    "attended": (_ADL + "attended", "attended", "đã tham dự"),
    "attempted": (_ADL + "attempted", "attempted", "đã làm bài"),
    "passed": (_ADL + "passed", "passed", "đã đạt"),
    "failed": (_ADL + "failed", "failed", "chưa đạt"),
    "mastered": (_ADL + "mastered", "mastered", "đã thành thạo"),
    "completed": (_ADL + "completed", "completed", "đã hoàn thành"),
}
_ACTIVITY_TYPES = {
    "course": "http://adlnet.gov/expapi/activities/course",
    "lesson": "http://adlnet.gov/expapi/activities/lesson",
    "quiz": "http://adlnet.gov/expapi/activities/assessment",
    "skill": "http://adlnet.gov/expapi/activities/objective",
}

Verb = Literal["attended", "attempted", "passed", "failed", "mastered", "completed"]


@dataclass(frozen=True)
class Activity:
    """Where a statement points: the course, a lesson, its quiz or one of its skills."""

    course_id: str
    kind: Literal["course", "lesson", "quiz", "skill"]
    lesson_id: str = ""
    skill_id: str = ""
    name_vi: str = ""
    name_en: str = ""

    def iri(self, home: str) -> str:
        base = f"{home.rstrip('/')}/xapi/courses/{_segment(self.course_id)}"
        if self.kind == "course":
            return base
        lesson = f"{base}/lessons/{_segment(self.lesson_id)}"
        if self.kind == "lesson":
            return lesson
        if self.kind == "quiz":
            return f"{lesson}/quiz"
        return f"{lesson}/skills/{_segment(self.skill_id)}"


@dataclass(frozen=True)
class Record:
    """One thing a learner did or reached, as the lessons domain knows it.

    `key` identifies it for good (an event's id, or "mastered:<class>:<person>:<lesson>"):
    the statement id is derived from it and the verb."""

    key: str
    verb: Verb
    person_id: str
    class_id: str
    activity: Activity
    at: dt.datetime
    correct: int | None = None
    total: int | None = None
    success: bool | None = None


def statement_id(key: str, verb: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{key}|{verb}"))


def statement(record: Record, home: str) -> dict[str, Any]:
    """The xAPI statement of one record (a JSON-ready dict)."""
    verb_id, english, vietnamese = VERBS[record.verb]
    activity = record.activity
    definition: dict[str, Any] = {"type": _ACTIVITY_TYPES[activity.kind]}
    names = {k: v for k, v in (("vi-VN", activity.name_vi), ("en-US", activity.name_en)) if v}
    if names:
        definition["name"] = names
    out: dict[str, Any] = {
        "id": statement_id(record.key, record.verb),
        "actor": {"objectType": "Agent",
                  "account": {"homePage": home, "name": record.person_id}},
        "verb": {"id": verb_id, "display": {"en-US": english, "vi-VN": vietnamese}},
        "object": {"objectType": "Activity", "id": activity.iri(home),
                   "definition": definition},
        "context": {"registration": _registration(record.class_id),
                    "platform": "dxkit",
                    "contextActivities": {"parent": [{"objectType": "Activity", "id": Activity(
                        activity.course_id, "course").iri(home)}]}
                    if activity.kind != "course" else {}},
        "timestamp": _timestamp(record.at),
        "version": XAPI_VERSION,
    }
    if not out["context"]["contextActivities"]:
        del out["context"]["contextActivities"]
    result = _result(record)
    if result:
        out["result"] = result
    return out


def write_statements(records: Iterable[Record], home: str, out: IO[str]) -> int:
    """Write a JSON array of statements without holding them all; returns how many.

    Each statement is the text `json.dumps(statement(record, home), sort_keys=True)` gives,
    put together from pieces encoded once per actor, verb, activity and class: 100,000
    statements repeat a few hundred of each."""
    pieces = _Pieces(home)
    count = 0
    out.write("[")
    for record in records:
        out.write(",\n" if count else "\n")
        out.write(pieces.statement(record))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


class _Pieces:
    def __init__(self, home: str):
        self.home = home
        self.cache: dict[tuple[str, Any], str] = {}

    def _json(self, kind: str, key: Any, make: Any) -> str:
        found = self.cache.get((kind, key))
        if found is None:
            found = self.cache[(kind, key)] = _dumps(make())
        return found

    def statement(self, record: Record) -> str:
        full: dict[str, Any] = {}

        def part(name: str) -> Any:
            if not full:  # a first actor, class, activity or verb: the reference shape
                full.update(statement(record, self.home))
            return full[name]

        actor = self._json("actor", record.person_id, lambda: part("actor"))
        context = self._json("context", (record.class_id, record.activity.course_id,
                                         record.activity.kind == "course"),
                             lambda: part("context"))
        target = self._json("object", record.activity, lambda: part("object"))
        verb = self._json("verb", record.verb, lambda: part("verb"))
        stamp = self.cache.get(("at", record.at))
        if stamp is None:
            stamp = self.cache[("at", record.at)] = _timestamp(record.at)
        parts = [f'{{"actor": {actor}, "context": {context}, '
                 f'"id": "{statement_id(record.key, record.verb)}", "object": {target}, ']
        result = _result(record)
        if result:
            parts.append(f'"result": {_dumps(result)}, ')
        parts.append(f'"timestamp": "{stamp}", "verb": {verb}, "version": "{XAPI_VERSION}"}}')
        return "".join(parts)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def statements(records: Iterable[Record], home: str) -> Iterator[dict[str, Any]]:
    return (statement(r, home) for r in records)


# Class days are Vietnam's: a mark "on 2026-11-20" happened that day at UTC+7.
_VIETNAM = dt.timezone(dt.timedelta(hours=7))


def records(conn: sqlite3.Connection, since: dt.date | None = None) -> Iterator[Record]:
    """What every class's learners did, from the events that count (voided and corrected
    ones left out), then the lessons mastered and the courses completed. Classes whose pack
    is not installed here are skipped (their lessons' rules are unknown)."""
    for class_row in conn.execute("SELECT id FROM classes WHERE deleted = 0 ORDER BY id"
                                  ).fetchall():
        class_id = class_row["id"]
        pack = progress.class_pack(conn, class_id)
        if pack is not None:
            yield from _class_records(conn, class_id, pack, since)


def _class_records(conn: sqlite3.Connection, class_id: str, pack: CoursePack,
                   since: dt.date | None) -> Iterator[Record]:
    names = {lesson.id: lesson.title for lesson in pack.lessons}
    course = Activity(pack.id, "course", name_vi=pack.title.get("vi"),
                      name_en=pack.title.get("en"))
    rows = conn.execute(
        "SELECT * FROM lesson_events WHERE class_id = ? ORDER BY on_date, created_at, id",
        (class_id,)).fetchall()
    corrected = {r["corrects"] for r in rows if r["corrects"]}
    when: dict[str, dt.datetime] = {}
    last: dict[str, dt.datetime] = {}
    for row in rows:
        at = dt.datetime.combine(dt.date.fromisoformat(row["on_date"]), dt.time(),
                                 tzinfo=_VIETNAM)
        when[row["id"]] = at
        if row["kind"] == "void" or row["id"] in corrected:
            continue
        last[row["person_id"]] = max(at, last.get(row["person_id"], at))
        if since and at.date() < since:
            continue
        yield from _event_records(row, class_id, pack, course, at)
    for row in conn.execute(
            "SELECT person_id, lesson_id, mastered_by FROM lesson_progress WHERE class_id = ? "
            "AND state = 'mastered' ORDER BY person_id, lesson_id", (class_id,)):
        mastered_at = when.get(row["mastered_by"] or "")
        title = names.get(row["lesson_id"])
        if mastered_at is None or title is None or (since and mastered_at.date() < since):
            continue
        lesson = Activity(pack.id, "lesson", row["lesson_id"], name_vi=title.get("vi"),
                          name_en=title.get("en"))
        yield Record(f"mastered:{class_id}:{row['person_id']}:{row['lesson_id']}", "mastered",
                     row["person_id"], class_id, lesson, mastered_at)
    for row in conn.execute("SELECT person_id FROM class_progress WHERE class_id = ? AND "
                            "completed = 1 ORDER BY person_id", (class_id,)):
        completed_at = last.get(row["person_id"])
        if completed_at is not None and not (since and completed_at.date() < since):
            yield Record(f"completed:{class_id}:{row['person_id']}", "completed",
                         row["person_id"], class_id, course, completed_at)


def _event_records(row: sqlite3.Row, class_id: str, pack: CoursePack, course: Activity,
                   at: dt.datetime) -> Iterator[Record]:
    kind, person = row["kind"], row["person_id"]
    if kind == "present":
        yield Record(row["id"], "attended", person, class_id, course, at)
        return
    lesson_id = row["lesson_id"] or ""
    if kind == "skill" and row["skill_id"]:
        skill = Activity(pack.id, "skill", lesson_id, row["skill_id"])
        yield Record(row["id"], "passed", person, class_id, skill, at, success=True)
    elif kind == "quiz" and row["total"]:
        quiz = Activity(pack.id, "quiz", lesson_id)
        correct, total = row["correct"] or 0, row["total"]
        passed = next((lesson.attempt_passes(total, correct) for lesson in pack.lessons
                       if lesson.id == lesson_id), correct == total)
        yield Record(row["id"], "attempted", person, class_id, quiz, at, correct, total)
        yield Record(row["id"], "passed" if passed else "failed", person, class_id, quiz, at,
                     correct, total, success=passed)


def _result(record: Record) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if record.total:
        correct = record.correct or 0
        result["score"] = {"raw": correct, "min": 0, "max": record.total,
                           "scaled": round(correct / record.total, 4)}
    if record.success is not None:
        result["success"] = record.success
    if record.verb in ("mastered", "completed"):
        result["completion"] = True
    return result


def _registration(class_id: str) -> str:
    """The class as a UUID (class ids are UUIDs already; anything else is hashed to one)."""
    try:
        return str(uuid.UUID(class_id))
    except ValueError:
        return str(uuid.uuid5(_NAMESPACE, f"class|{class_id}"))


def _timestamp(at: dt.datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.isoformat(timespec="milliseconds")


def _segment(value: str) -> str:
    """Ids are [A-Za-z0-9._-]: already safe in an IRI path."""
    return value
