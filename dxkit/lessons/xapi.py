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
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Literal

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
    """Write a JSON array of statements without holding them all; returns how many."""
    count = 0
    out.write("[")
    for record in records:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(statement(record, home), ensure_ascii=False, sort_keys=True))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def statements(records: Iterable[Record], home: str) -> Iterator[dict[str, Any]]:
    return (statement(r, home) for r in records)


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
