"""Progress from events: lesson states, needs help, completion, corrections, the indicators
a mastered lesson records, and incremental derivation equal to a recomputation."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dxkit.core.errors import DxError, NotFound, ValidationError
from dxkit.lessons import progress
from dxkit.lessons.tables import answer_id, learner_id
from dxkit.lessons.ui_queries import roll_call_marks
from dxkit.workspace import Workspace
from tests.conftest import FROZEN_NOW
from tests.lessons.conftest import COURSE, STARTS, Setup, add_people
from tests.lessons.packs_setup import manifest, write_pack

PHONE, PAY = "dien-thoai", "thanh-toan"
DAY = dt.date(2026, 11, 10)


def states(s: Setup, person: str) -> dict[str, str]:
    return next(r.lessons for r in s.ws.lessons.grid(s.class_id).learners
                if r.person_id == person)


def master_phone(s: Setup, person: str, day: dt.date = DAY) -> list[str]:
    return s.ws.lessons.record(s.class_id, person, PHONE, skills=["ky-nang-1", "ky-nang-2"],
                               quiz=(3, 3), on=day).value


def test_states_follow_the_mastery_rule(setup: Setup):
    s, me = setup, setup.people[0]
    assert states(s, me) == {PHONE: "not_started", PAY: "not_started"}
    s.ws.lessons.record(s.class_id, me, PHONE, skills=["ky-nang-1"], on=DAY)
    assert states(s, me)[PHONE] == "in_progress"
    s.ws.lessons.record(s.class_id, me, PHONE, quiz=(3, 3), on=DAY)
    assert states(s, me)[PHONE] == "in_progress"  # one skill still to show
    s.ws.lessons.record(s.class_id, me, PHONE, skills=["ky-nang-2"], on=DAY)
    assert states(s, me)[PHONE] == "mastered"
    s.ws.lessons.record(s.class_id, me, PAY, skills=["ky-nang-2"], on=DAY)  # 1 of 2 skills
    assert states(s, me) == {PHONE: "mastered", PAY: "mastered"}


def test_mastery_sticks_after_a_later_failed_attempt(setup: Setup):
    s, me = setup, setup.people[0]
    master_phone(s, me)
    for _ in range(2):
        s.ws.lessons.record(s.class_id, me, PHONE, quiz=(0, 3), on=DAY)
    assert states(s, me)[PHONE] == "mastered"


def test_two_failed_attempts_need_help_and_a_pass_clears_it(setup: Setup):
    s, me = setup, setup.people[1]
    s.ws.lessons.record(s.class_id, me, PHONE, quiz=(2, 3), on=DAY)
    assert states(s, me)[PHONE] == "in_progress"
    s.ws.lessons.record(s.class_id, me, PHONE, quiz=(1, 3), on=DAY)
    assert states(s, me)[PHONE] == "needs_help"
    master_phone(s, me)
    assert states(s, me)[PHONE] == "mastered"


def test_absence_from_the_two_latest_sessions_needs_help(setup: Setup):
    s = setup
    first, second = s.people[0], s.people[1]
    for day in (dt.date(2026, 11, 3), dt.date(2026, 11, 6)):
        s.ws.lessons.attendance(s.class_id, day, present=[first], absent=[second])
    assert set(states(s, second).values()) == {"needs_help"}
    assert set(states(s, first).values()) == {"not_started"}
    # A learner not marked at all counts as absent too, once enrolled before the sessions.
    assert set(states(s, s.people[2]).values()) == {"needs_help"}
    s.ws.lessons.attendance(s.class_id, dt.date(2026, 11, 9), present=[second])
    assert set(states(s, second).values()) == {"not_started"}
    # Marked absent on the 9th instead: the correction is the mark that counts.
    event = s.ws.lessons.events(s.class_id, second)[-1]["id"]
    s.ws.lessons.amend(event, kind="absent")
    assert set(states(s, second).values()) == {"needs_help"}


def test_completion_needs_the_lessons_and_the_attendance_share(setup: Setup):
    s, me = setup, setup.people[0]
    days = [dt.date(2026, 11, d) for d in (3, 6, 9, 12)]
    for number, day in enumerate(days):
        present = [me] if number != 3 else []
        s.ws.lessons.attendance(s.class_id, day, present=present,
                                absent=[] if present else [me])
    master_phone(s, me)
    s.ws.lessons.record(s.class_id, me, PAY, skills=["ky-nang-1"], on=DAY)
    row = next(r for r in s.ws.lessons.grid(s.class_id).learners if r.person_id == me)
    assert (row.attended, row.sessions, row.completed) == (3, 4, True)  # 75% is enough
    s.ws.lessons.attendance(s.class_id, dt.date(2026, 11, 15), absent=[me])
    row = next(r for r in s.ws.lessons.grid(s.class_id).learners if r.person_id == me)
    assert (row.attended, row.sessions, row.completed) == (3, 5, False)


def test_voiding_the_mastering_event_withdraws_mastery(setup: Setup):
    s, me = setup, setup.people[0]
    ids = master_phone(s, me)
    quiz_event = ids[-1]
    s.ws.lessons.void(quiz_event, note="nhập nhầm người")
    assert states(s, me)[PHONE] == "in_progress"
    with pytest.raises(ValidationError):
        s.ws.lessons.void(quiz_event)  # already voided
    # An amendment replaces the attempt: 3/3 amended to 1/3 leaves it unmastered.
    again = master_phone(s, me)[-1]
    s.ws.lessons.amend(again, quiz=(1, 3))
    assert states(s, me)[PHONE] == "in_progress"


def test_mastering_a_lesson_records_its_indicator_once(setup: Setup):
    s, me = setup, setup.people[0]
    ids = master_phone(s, me)
    answers = s.ws.conn.execute("SELECT id, indicator_code, value, answered_on, recorded_by "
                                "FROM indicator_answers WHERE person_id = ?", (me,)).fetchall()
    assert len(answers) == 1
    assert answers[0]["id"] == answer_id(ids[-1], "smartphone")
    assert (answers[0]["indicator_code"], answers[0]["value"], answers[0]["answered_on"]) == (
        "smartphone", 1, DAY.isoformat())
    assert "Lớp thử" in answers[0]["recorded_by"]
    assert {v.code for v in s.ws.indicators.for_person(me) if v.value} == {"smartphone"}
    rollup = {r.code: r.reached for r in s.ws.indicators.rollup()}
    assert rollup["smartphone"] == 1
    # Mastered again after a void and a new attempt: the person is already counted.
    s.ws.lessons.void(ids[-1])
    s.ws.lessons.record(s.class_id, me, PHONE, quiz=(3, 3), on=DAY)
    assert s.ws.conn.execute("SELECT count(*) FROM indicator_answers WHERE person_id = ?",
                             (me,)).fetchone()[0] == 1
    assert {r.code: r.reached for r in s.ws.indicators.rollup()}["smartphone"] == 1


def test_lessons_without_an_indicator_record_none(setup: Setup):
    s, me = setup, setup.people[0]
    s.ws.lessons.record(s.class_id, me, PAY, skills=["ky-nang-1"], on=DAY)
    assert s.ws.conn.execute("SELECT count(*) FROM indicator_answers").fetchone()[0] == 0


def test_events_from_another_laptop_derive_progress_but_no_answer(setup: Setup):
    s, me = setup, setup.people[0]
    with s.ws.transaction() as tx:
        for number, (kind, skill, correct) in enumerate(
                [("skill", "ky-nang-1", None), ("skill", "ky-nang-2", None),
                 ("quiz", None, 3)]):
            tx.apply_remote({
                "table": "lesson_events", "id": f"01a00000-0000-7000-8000-00000000000{number}",
                "kind": "event", "device_id": "otherlaptop00001",
                # A clock of the other laptop's (this one's, with its device id).
                "created_at": s.ws.clock.now().replace(s.ws.clock.device, "otherlaptop00001"),
                "fields": {"class_id": s.class_id, "person_id": me, "kind": kind,
                           "on_date": DAY.isoformat(), "lesson_id": PHONE, "skill_id": skill,
                           "correct": correct, "total": 3 if correct else None,
                           "source": "trainer", "corrects": None, "note": "",
                           "recorded_by": "Phạm Văn Tâm"}})
    assert states(s, me)[PHONE] == "mastered"
    assert s.ws.conn.execute("SELECT count(*) FROM indicator_answers").fetchone()[0] == 0


def test_two_laptops_enrolling_the_same_person_make_one_row(setup: Setup):
    s = setup
    assert learner_id(s.class_id, s.people[0]) == learner_id(s.class_id, s.people[0])
    rows = s.ws.conn.execute("SELECT id FROM class_learners WHERE class_id = ?",
                             (s.class_id,)).fetchall()
    assert {r[0] for r in rows} == {learner_id(s.class_id, p) for p in s.people}


def test_enrolment_errors_write_nothing(setup: Setup):
    s = setup
    before = s.ws.pending_changes()
    with pytest.raises(ValidationError, match="Lớp thử"):
        s.ws.lessons.enrol(s.class_id, [s.people[0]])
    stranger = add_people(s.ws, 1, code="MH-002")[0]
    before = s.ws.pending_changes()
    with pytest.raises(ValidationError):
        s.ws.lessons.enrol(s.class_id, [stranger, s.people[1]])  # all or nothing
    with pytest.raises(NotFound):
        s.ws.lessons.enrol(s.class_id, ["01a00000-0000-7000-8000-000000000099"])
    with pytest.raises(NotFound):
        s.ws.lessons.enrol("01a00000-0000-7000-8000-000000000098", [stranger])
    assert s.ws.pending_changes() == before


def test_withdrawing_and_enrolling_again(setup: Setup):
    s, me = setup, setup.people[3]
    s.ws.lessons.withdraw(s.class_id, me)
    assert me not in {r.person_id for r in s.ws.lessons.grid(s.class_id).learners}
    with pytest.raises(ValidationError):
        s.ws.lessons.record(s.class_id, me, PHONE, skills=["ky-nang-1"], on=DAY)
    s.ws.lessons.enrol(s.class_id, [me])
    assert me in {r.person_id for r in s.ws.lessons.grid(s.class_id).learners}


@pytest.mark.parametrize(("call", "message"), [
    (lambda s: s.ws.lessons.record(s.class_id, s.people[0], PHONE, quiz=(4, 3), on=DAY),
     "4/3"),
    (lambda s: s.ws.lessons.record(s.class_id, s.people[0], PHONE, skills=["x"], on=DAY),
     "ky-nang-1"),
    (lambda s: s.ws.lessons.record(s.class_id, s.people[0], "khong-co", skills=["x"],
                                   on=DAY), "dien-thoai"),
    (lambda s: s.ws.lessons.record(s.class_id, s.people[0], PHONE, skills=["ky-nang-1"],
                                   on=STARTS - dt.timedelta(days=1)), "01/11/2026"),
    (lambda s: s.ws.lessons.record(s.class_id, s.people[0], PHONE, skills=["ky-nang-1"],
                                   on=FROZEN_NOW.date() + dt.timedelta(days=1)), "21/11/2026"),
    (lambda s: s.ws.lessons.attendance(s.class_id, DAY, present=[s.people[0]],
                                       absent=[s.people[0]]), "0"),
])
def test_bad_records_are_refused_and_write_nothing(setup: Setup, call, message):
    before = setup.ws.pending_changes()
    with pytest.raises(DxError, match=message):
        call(setup)
    assert setup.ws.pending_changes() == before


def test_a_class_on_an_unknown_course_is_refused(course_ws: Workspace):
    with pytest.raises(NotFound):
        course_ws.lessons.add_class("vn.khong-co", "Lớp", STARTS)
    with pytest.raises(DxError):
        course_ws.lessons.add_class(COURSE, "Lớp", STARTS, trainers=["Không Có Ai"])
    with pytest.raises(ValidationError):
        course_ws.lessons.add_class(COURSE, "Lớp", STARTS, sessions_planned=0)


# -- incremental == recompute -------------------------------------------------------------------
LESSON_STEPS = st.sampled_from([
    ("skill", PHONE, "ky-nang-1"), ("skill", PHONE, "ky-nang-2"), ("skill", PAY, "ky-nang-1"),
    ("quiz", PHONE, (3, 3)), ("quiz", PHONE, (1, 3)), ("quiz", PHONE, (2, 3))])
OPERATION = st.one_of(
    st.tuples(st.just("record"), st.integers(0, 2), LESSON_STEPS, st.integers(3, 18)),
    st.tuples(st.just("attend"), st.integers(0, 2), st.booleans(), st.integers(3, 18)),
    st.tuples(st.just("void"), st.integers(0, 40)),
    st.tuples(st.just("amend"), st.integers(0, 40), st.integers(0, 3)),
    st.tuples(st.just("withdraw"), st.integers(0, 2)),
)


def _run(folder: Path, operations: list[tuple]) -> None:
    ws = Workspace.open(folder)
    try:
        ws.freeze_time(FROZEN_NOW)
        ws.configure_team("Đồng Tháp", "Mỹ Tho")
        ws.catalog.add_hamlet("Ấp Mỹ Hưng")
        ws.lessons.import_pack(write_pack(folder.parent / "pack"))
        class_id = ws.lessons.add_class(COURSE, "Lớp", STARTS).value.id
        people = add_people(ws, 3)
        ws.lessons.enrol(class_id, people, on=STARTS)
        for operation in operations:
            _apply(ws, class_id, people, operation)
        incremental = progress.snapshot(ws.conn)
        ws.lessons.recompute()
        assert progress.snapshot(ws.conn) == incremental
    finally:
        ws.close()


def _apply(ws: Workspace, class_id: str, people: list[str], operation: tuple) -> None:
    events = ws.lessons.events(class_id)
    try:
        if operation[0] == "record":
            _name, who, (kind, lesson, what), day = operation
            on = dt.date(2026, 11, day)
            if kind == "skill":
                ws.lessons.record(class_id, people[who], lesson, skills=[what], on=on)
            else:
                ws.lessons.record(class_id, people[who], lesson, quiz=what, on=on)
        elif operation[0] == "attend":
            _name, who, present, day = operation
            ws.lessons.attendance(class_id, dt.date(2026, 11, day),
                                  present=[people[who]] if present else [],
                                  absent=[] if present else [people[who]])
        elif operation[0] == "void" and events:
            ws.lessons.void(events[operation[1] % len(events)]["id"])
        elif operation[0] == "amend" and events:
            event = events[operation[1] % len(events)]
            if event["kind"] == "quiz":
                ws.lessons.amend(event["id"], quiz=(operation[2], 3))
            elif event["kind"] in ("present", "absent"):
                ws.lessons.amend(event["id"], kind="absent" if event["kind"] == "present"
                                 else "present")
            else:
                ws.lessons.amend(event["id"], on=dt.date(2026, 11, 3 + operation[2]))
        elif operation[0] == "withdraw":
            ws.lessons.withdraw(class_id, people[operation[1]])
    except DxError:
        pass  # refused input (a learner withdrawn, an event already corrected) writes nothing


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations=st.lists(OPERATION, min_size=1, max_size=25))
def test_incremental_progress_equals_a_recomputation(operations):
    with tempfile.TemporaryDirectory() as folder:
        _run(Path(folder) / "ws", operations)


def test_a_new_pack_version_keeps_the_progress_on_lessons_and_skills_it_keeps(
        setup: Setup, tmp_path: Path):
    """Version 2 keeps lesson 1 (one skill renamed) and replaces lesson 2 by another: marks on
    what it kept still count, the rest stays in the history without counting."""
    s, me = setup, setup.people[0]
    master_phone(s, me)
    s.ws.lessons.record(s.class_id, me, PAY, skills=["ky-nang-1"], on=DAY)
    assert states(s, me) == {PHONE: "mastered", PAY: "mastered"}
    data = manifest()
    data["version"] = "2027.1.0"
    data["lessons"][0]["skills"][1]["id"] = "ky-nang-moi"  # a new skill to show
    data["lessons"][1]["id"] = "vi-dien-tu"
    data["lessons"][1]["content"] = {"vi": "lessons/02-thanh-toan.vi.md",
                                     "en": "lessons/02-thanh-toan.en.md"}
    s.ws.lessons.import_pack(write_pack(tmp_path / "v2", data))
    events = len(s.ws.lessons.events(s.class_id))
    upgraded = s.ws.lessons.upgrade_class(s.class_id).value
    assert upgraded.course_version == "2027.1.0"
    assert states(s, me) == {PHONE: "in_progress", "vi-dien-tu": "not_started"}
    s.ws.lessons.record(s.class_id, me, PHONE, skills=["ky-nang-moi"], on=DAY)
    assert states(s, me)[PHONE] == "mastered"  # skill 1 and the quiz kept counting
    assert len(s.ws.lessons.events(s.class_id)) == events + 1  # nothing was lost
    with pytest.raises(ValidationError):
        s.ws.lessons.upgrade_class(s.class_id, "2027.1.0")
    with pytest.raises(NotFound):
        s.ws.lessons.upgrade_class(s.class_id, "9.9")
    before = progress.snapshot(s.ws.conn)
    s.ws.lessons.recompute()
    assert progress.snapshot(s.ws.conn) == before


def test_the_roll_call_starts_from_the_mark_progress_counts(setup: Setup):
    ws, class_id, people = setup.ws, setup.class_id, setup.people
    day = STARTS + dt.timedelta(days=2)
    first = ws.lessons.attendance(class_id, day, [people[0], people[1]], [people[2]]).value
    ws.lessons.attendance(class_id, day, [], [people[1]])  # a later mark replaces
    ws.lessons.void(first[2])  # people[2]'s only mark that day, voided
    ws.lessons.attendance(class_id, STARTS, [people[3]])  # another day
    assert roll_call_marks(ws, class_id, day) == {people[0]: "present", people[1]: "absent"}
    assert roll_call_marks(ws, class_id, STARTS) == {people[3]: "present"}
