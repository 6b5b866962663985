"""xAPI statements, checked by an independent validator (ralph's xAPI models)."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement

from dxkit.lessons.xapi import Activity, Record, statement, write_statements

HOME = "https://hub.dongthap.example.vn"
CLASS = "0190f5a2-7c3e-7b1a-9f00-000000000001"
LESSON = Activity("vn.dxkit.ky-nang-so-co-ban", "lesson", "vneid-muc-2",
                  name_vi="VNeID mức 2", name_en="VNeID level 2")


def records() -> list[Record]:
    at = dt.datetime(2026, 11, 20, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    course = Activity(LESSON.course_id, "course")
    quiz = Activity(LESSON.course_id, "quiz", LESSON.lesson_id)
    skill = Activity(LESSON.course_id, "skill", LESSON.lesson_id, "kich-hoat")
    return [
        Record("e1", "attended", "p-1", CLASS, course, at),
        Record("e2", "attempted", "p-1", CLASS, quiz, at, correct=4, total=6),
        Record("e2", "failed", "p-1", CLASS, quiz, at, correct=4, total=6, success=False),
        Record("e3", "passed", "p-1", CLASS, quiz, at, correct=6, total=6, success=True),
        Record("e4", "passed", "p-1", CLASS, skill, at, success=True),
        Record(f"mastered:{CLASS}:p-1:vneid-muc-2", "mastered", "p-1", CLASS, LESSON, at),
        Record(f"completed:{CLASS}:p-1", "completed", "p-1", CLASS, course, at),
    ]


@pytest.mark.parametrize("record", records(), ids=lambda r: f"{r.verb}-{r.activity.kind}")
def test_every_statement_is_valid_xapi(record: Record) -> None:
    made = statement(record, HOME)
    BaseXapiStatement(**made)  # raises on anything xAPI 1.0.3 does not allow
    assert made["actor"] == {"objectType": "Agent",
                             "account": {"homePage": HOME, "name": "p-1"}}
    assert made["object"]["id"].startswith(f"{HOME}/xapi/courses/vn.dxkit.ky-nang-so-co-ban")


def test_ids_are_stable_and_distinct_per_verb() -> None:
    first = [statement(r, HOME)["id"] for r in records()]
    again = [statement(r, HOME)["id"] for r in records()]
    assert first == again
    assert len(set(first)) == len(first)  # attempted and failed of one event differ


def test_scores_and_the_export_file() -> None:
    failed = statement(records()[2], HOME)
    assert failed["result"] == {"score": {"raw": 4, "min": 0, "max": 6, "scaled": 0.6667},
                                "success": False}
    out = io.StringIO()
    assert write_statements(records(), HOME, out) == 7
    assert [s["id"] for s in json.loads(out.getvalue())] == [
        statement(r, HOME)["id"] for r in records()]
    empty = io.StringIO()
    assert write_statements([], HOME, empty) == 0 and json.loads(empty.getvalue()) == []


def test_the_validator_refuses_a_broken_statement() -> None:
    from pydantic import ValidationError

    broken = statement(records()[0], HOME)
    broken["verb"]["id"] = "attended"  # not an IRI
    with pytest.raises(ValidationError):
        BaseXapiStatement(**broken)


def test_the_fast_writer_gives_exactly_the_reference_json() -> None:
    out = io.StringIO()
    write_statements(records() * 2, HOME, out)  # the second round comes from the caches
    lines = out.getvalue().strip().strip("[]").strip().split(",\n")
    expected = [json.dumps(statement(r, HOME), ensure_ascii=False, sort_keys=True)
                for r in records() * 2]
    assert lines == expected
