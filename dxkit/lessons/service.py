"""`ws.lessons`: course packs, classes, enrolment, roll-call, progress records and the grid.

Every change runs in one workspace transaction and returns an OpResult; bad input is one
translated sentence (DxError/ValidationError/NotFound) and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dxkit.core.errors import DxError, NotFound, ValidationError
from dxkit.core.i18n import _, format_date
from dxkit.core.synced import OpResult
from dxkit.core.text import folded_key, nfc
from dxkit.lessons import library, progress
from dxkit.lessons.library import CourseSummary
from dxkit.lessons.packs import CoursePack, Lesson, PackRefused, read_pack
from dxkit.lessons.progress import State
from dxkit.lessons.tables import (
    EVENT_NOTE_LENGTH,
    MAX_QUIZ_TOTAL,
    MAX_SESSIONS,
    NAME_LENGTH,
    NOTE_LENGTH,
    PLACE_LENGTH,
    SOURCES,
    learner_id,
)

if TYPE_CHECKING:
    from dxkit.lessons.workspace import LessonsWorkspace as Workspace


@dataclass(frozen=True)
class SchoolClass:
    id: str
    course_id: str
    course_version: str
    name: str
    place: str
    starts_on: dt.date
    ends_on: dt.date | None
    trainers: tuple[str, ...]
    sessions_planned: int
    notes: str
    learners: int

    def to_dict(self) -> dict[str, Any]:
        return {"class_id": self.id, "name": self.name, "course_id": self.course_id,
                "course_version": self.course_version, "place": self.place,
                "starts_on": self.starts_on.isoformat(),
                "ends_on": self.ends_on.isoformat() if self.ends_on else None,
                "trainers": list(self.trainers), "sessions_planned": self.sessions_planned,
                "learners": self.learners}


@dataclass(frozen=True)
class GridRow:
    person_id: str
    name: str
    lessons: dict[str, State]
    mastered: int
    attended: int
    sessions: int
    completed: bool

    def to_dict(self) -> dict[str, Any]:
        return {"person_id": self.person_id, "name": self.name, "lessons": self.lessons,
                "completed": self.completed}


@dataclass(frozen=True)
class ClassGrid:
    class_id: str
    course_id: str
    lesson_ids: tuple[str, ...]
    learners: tuple[GridRow, ...]

    def to_dict(self) -> dict[str, Any]:
        """The shape `dxkit classes grid --json` prints."""
        return {"class_id": self.class_id, "course_id": self.course_id,
                "learners": [row.to_dict() for row in self.learners]}

    def needing_help(self) -> tuple[GridRow, ...]:
        return tuple(r for r in self.learners if "needs_help" in r.lessons.values())


_QUIZ_FORM = "CORRECT/TOTAL"


def parse_quiz(text: str) -> tuple[int, int]:
    """"4/6" -> (4, 6); a score above its total, or out of range, is refused."""
    parts = text.strip().split("/")
    try:
        correct, total = (int(p) for p in parts) if len(parts) == 2 else (-1, -1)
    except ValueError:
        correct, total = -1, -1
    if correct < 0 or total < 1:
        raise ValidationError({"quiz": _("Write a quiz score as right answers/questions, "
                                         "for example 5/6.")})
    if correct > total:
        raise ValidationError({"quiz": _("A quiz score cannot be above its total: "
                                         "{correct}/{total}.").format(correct=correct,
                                                                      total=total)})
    if total > MAX_QUIZ_TOTAL:
        raise ValidationError({"quiz": _("A quiz has at most {limit} questions.").format(
            limit=MAX_QUIZ_TOTAL)})
    return correct, total


class Lessons:
    def __init__(self, ws: Workspace):
        self.ws = ws

    # -- course packs ---------------------------------------------------------------------
    def courses(self) -> list[CourseSummary]:
        """Every installed pack, newest version first within each course."""
        return library.installed(self.ws.conn)

    def course(self, course_id: str, version: str | None = None) -> CoursePack:
        """An installed pack (its newest version unless `version` is given)."""
        return library.load(self.ws.conn, course_id, version)

    def import_pack(self, path: str | Path) -> OpResult[CourseSummary]:
        """Check a pack (a folder or a .zip) and install it; PackRefused lists every problem,
        DxError refuses another content under an installed id and version."""
        codes = [i.code for i in self.ws.catalog.indicators()]
        pack = read_pack(Path(path), codes)
        with self.ws.transaction() as tx:
            if library.install(tx.conn, pack, "imported", self.ws.now()):
                tx.changes.created["course_packs"].add(f"{pack.id}@{pack.version}")
                # Classes that waited for this version now get their progress.
                for (class_id,) in tx.conn.execute(
                        "SELECT id FROM classes WHERE course_id = ? AND course_version = ? "
                        "AND deleted = 0", (pack.id, pack.version)).fetchall():
                    progress.refresh(tx.conn, class_id)
        return OpResult(library.find(self.ws.conn, pack.id, pack.version), tx.changes)

    def refresh_shipped(self) -> bool:
        """Install or refresh the pack dxkit ships (at every open); True if it was written."""
        folder = library.shipped_folder()
        current, mark = library.shipped_is_current(self.ws.conn, folder)
        if current:
            return False
        try:
            pack = library.read_shipped(folder, mark)
        except PackRefused as refused:  # a broken install: say so, never half-install
            raise DxError(_("The course shipped with dxkit is damaged: {problems}").format(
                problems="; ".join(str(p) for p in refused.problems))) from refused
        with self.ws.transaction() as tx:
            library.install(tx.conn, pack, "shipped", self.ws.now(), fingerprint=mark)
        return True

    # -- classes --------------------------------------------------------------------------
    def add_class(self, course_id: str, name: str, starts_on: dt.date, *,
                  trainers: Sequence[str] = (), place: str = "",
                  sessions_planned: int | None = None, ends_on: dt.date | None = None,
                  notes: str = "", course_version: str | None = None
                  ) -> OpResult[SchoolClass]:
        """A class taught from an installed course (its newest version by default);
        `trainers`: team member ids or names."""
        summary = library.find(self.ws.conn, course_id, course_version)
        clean = nfc(name).strip()
        if not clean:
            raise ValidationError({"name": _("A class needs a name.")})
        _check_length("name", clean, NAME_LENGTH)
        _check_length("place", nfc(place), PLACE_LENGTH)
        _check_length("notes", nfc(notes), NOTE_LENGTH)
        sessions = summary.lessons if sessions_planned is None else sessions_planned
        if not 1 <= sessions <= MAX_SESSIONS:
            raise ValidationError({"sessions_planned": _(
                "A class has between 1 and {limit} sessions.").format(limit=MAX_SESSIONS)})
        if ends_on is not None and ends_on < starts_on:
            raise ValidationError({"ends_on": _("A class cannot end before it starts.")})
        member_ids = list(dict.fromkeys(self.ws.catalog.member(t).id for t in trainers))
        with self.ws.transaction() as tx:
            class_id = tx.insert("classes", {
                "course_id": summary.id, "course_version": summary.version, "name": clean,
                "name_key": folded_key(clean), "place": nfc(place).strip(),
                "starts_on": starts_on.isoformat(),
                "ends_on": ends_on.isoformat() if ends_on else None,
                "trainers": json.dumps(member_ids), "sessions_planned": sessions,
                "notes": nfc(notes).strip()})
        return OpResult(self.get_class(class_id), tx.changes)

    def upgrade_class(self, class_id: str, version: str | None = None
                      ) -> OpResult[SchoolClass]:
        """Teach a class from another installed version of its course (the newest by
        default). Nothing recorded is lost: progress is derived again by the new version's
        rules, so marks on lessons and skills whose ids the new version keeps still count,
        and marks on ones it dropped stay in the history without counting."""
        school_class = self.get_class(class_id)
        summary = library.find(self.ws.conn, school_class.course_id, version)
        if summary.version == school_class.course_version:
            raise ValidationError({"version": _(
                "The class “{name}” is already taught from version {version}.").format(
                    name=school_class.name, version=summary.version)})
        with self.ws.transaction() as tx:
            tx.update("classes", class_id, {"course_version": summary.version})
        return OpResult(self.get_class(class_id), tx.changes)

    def classes(self) -> list[SchoolClass]:
        rows = self.ws.conn.execute(
            f"{_CLASS_SQL} WHERE c.deleted = 0 ORDER BY c.starts_on DESC, c.name_key")
        return [_class(r) for r in rows]

    def get_class(self, class_id: str) -> SchoolClass:
        row = self.ws.conn.execute(f"{_CLASS_SQL} WHERE c.id = ? AND c.deleted = 0",
                                   (class_id,)).fetchone()
        if row is None:
            raise NotFound(_("No class with id {id}.").format(id=class_id))
        return _class(row)

    def learner_ids(self, class_id: str) -> list[str]:
        """The class's learners (person ids), in the order they enrolled."""
        return [r[0] for r in self.ws.conn.execute(
            "SELECT person_id FROM class_learners WHERE class_id = ? AND deleted = 0 "
            "ORDER BY enrolled_on, updated_at", (class_id,))]

    def enrol(self, class_id: str, person_ids: Sequence[str], on: dt.date | None = None
              ) -> OpResult[list[str]]:
        """Enrol people (all of them, or none if one cannot be): a person already in the
        class, unknown or deleted is refused with a sentence."""
        school_class = self.get_class(class_id)
        day = on or self.ws.today()
        wanted = list(dict.fromkeys(person_ids))
        if not wanted:
            raise ValidationError({"person": _("Name at least one person to enrol.")})
        if len(wanted) != len(person_ids):
            raise ValidationError({"person": _("The same person is named twice.")})
        for person_id in wanted:
            self._living_person(person_id)
        conn = self.ws.conn
        with self.ws.transaction() as tx:
            enrolled = []
            for person_id in wanted:
                row_id = learner_id(class_id, person_id)
                row = conn.execute("SELECT deleted FROM class_learners WHERE id = ?",
                                   (row_id,)).fetchone()
                if row is not None and not row["deleted"]:
                    raise ValidationError({"person": _(
                        "{name} is already enrolled in the class “{class_name}”.").format(
                            name=self._name(person_id), class_name=school_class.name)})
                if row is None:
                    tx.insert("class_learners", {"class_id": class_id, "person_id": person_id,
                                                 "enrolled_on": day.isoformat()}, row_id=row_id)
                else:  # withdrawn earlier: enrolled again
                    tx.update("class_learners", row_id, {"deleted": 0,
                                                         "enrolled_on": day.isoformat()})
                enrolled.append(person_id)
        return OpResult(enrolled, tx.changes)

    def withdraw(self, class_id: str, person_id: str) -> OpResult[str]:
        """Take a learner out of a class (the enrolment's tombstone; the events stay)."""
        self._enrolled(class_id, person_id)
        with self.ws.transaction() as tx:
            tx.delete("class_learners", learner_id(class_id, person_id))
        return OpResult(person_id, tx.changes)

    # -- events ---------------------------------------------------------------------------
    def attendance(self, class_id: str, on: dt.date, present: Sequence[str] = (),
                   absent: Sequence[str] = (), source: str = "trainer"
                   ) -> OpResult[list[str]]:
        """A session's roll-call, in one transaction: a mark per learner named."""
        school_class = self.get_class(class_id)
        self._check_day(school_class, on)
        self._check_source(source)
        both = set(present) & set(absent)
        if both:
            raise ValidationError({"present": _(
                "{name} is marked both present and absent.").format(
                    name=self._name(sorted(both)[0]))})
        marks = [(p, "present") for p in dict.fromkeys(present)]
        marks += [(p, "absent") for p in dict.fromkeys(absent)]
        if not marks:
            raise ValidationError({"present": _("Mark at least one learner.")})
        enrolled = set(self.learner_ids(class_id))
        for person_id, _kind in marks:
            if person_id not in enrolled:
                self._not_in_class(school_class, person_id)
        actor = self.ws.actor
        with self.ws.transaction() as tx:
            ids = [tx.append("lesson_events", _event(class_id, person_id, kind, on, source,
                                                     actor)) for person_id, kind in marks]
        return OpResult(ids, tx.changes)

    def record(self, class_id: str, person_id: str, lesson_id: str, *,
               skills: Sequence[str] = (), quiz: tuple[int, int] | None = None,
               on: dt.date | None = None, source: str = "trainer", note: str = ""
               ) -> OpResult[list[str]]:
        """Skills shown and/or a quiz attempt of one learner in one lesson."""
        school_class = self.get_class(class_id)
        day = on or self.ws.today()
        self._check_day(school_class, day)
        self._check_source(source)
        self._enrolled(class_id, person_id, school_class)
        pack = self.course(school_class.course_id, school_class.course_version)
        lesson = _lesson(pack, lesson_id)
        known = {s.id for s in lesson.skills}
        for skill in skills:
            if skill not in known:
                raise ValidationError({"skill": _(
                    "Lesson {lesson} has no skill {skill}. Its skills: {skills}.").format(
                        lesson=lesson_id, skill=skill, skills=", ".join(sorted(known)))})
        if quiz is not None:
            parse_quiz(f"{quiz[0]}/{quiz[1]}")
        if not skills and quiz is None:
            raise ValidationError({"skill": _("Give a skill shown or a quiz score.")})
        _check_length("note", nfc(note), EVENT_NOTE_LENGTH)
        actor = self.ws.actor
        with self.ws.transaction() as tx:
            ids = [tx.append("lesson_events", _event(
                class_id, person_id, "skill", day, source, actor, lesson_id=lesson_id,
                skill_id=skill, note=note)) for skill in dict.fromkeys(skills)]
            if quiz is not None:
                ids.append(tx.append("lesson_events", _event(
                    class_id, person_id, "quiz", day, source, actor, lesson_id=lesson_id,
                    correct=quiz[0], total=quiz[1], note=note)))
        return OpResult(ids, tx.changes)

    def amend(self, event_id: str, *, on: dt.date | None = None,
              quiz: tuple[int, int] | None = None, kind: str | None = None, note: str = ""
              ) -> OpResult[str]:
        """A correction replacing an event (the original stays in history): another date,
        another score, or an attendance mark turned the other way."""
        with self.ws.transaction() as tx:
            original = self._correctable(event_id)
            school_class = self.get_class(original["class_id"])
            day = on or dt.date.fromisoformat(original["on_date"])
            self._check_day(school_class, day)
            new_kind = kind or original["kind"]
            if new_kind != original["kind"] and {new_kind, original["kind"]} != {"present",
                                                                                 "absent"}:
                raise ValidationError({"kind": _(
                    "Only an attendance mark can be turned into another one.")})
            correct, total = original["correct"], original["total"]
            if quiz is not None:
                if original["kind"] != "quiz":
                    raise ValidationError({"quiz": _("Only a quiz attempt has a score.")})
                correct, total = parse_quiz(f"{quiz[0]}/{quiz[1]}")
            new_id = tx.append("lesson_events", _event(
                original["class_id"], original["person_id"], new_kind, day,
                original["source"], self.ws.actor, lesson_id=original["lesson_id"],
                skill_id=original["skill_id"], correct=correct, total=total,
                corrects=event_id, note=note))
        return OpResult(new_id, tx.changes)

    def void(self, event_id: str, *, note: str = "") -> OpResult[str]:
        """Cancel an event recorded by mistake."""
        with self.ws.transaction() as tx:
            original = self._correctable(event_id)
            new_id = tx.append("lesson_events", _event(
                original["class_id"], original["person_id"], "void",
                dt.date.fromisoformat(original["on_date"]), original["source"],
                self.ws.actor, lesson_id=original["lesson_id"], corrects=event_id, note=note))
        return OpResult(new_id, tx.changes)

    def events(self, class_id: str, person_id: str | None = None) -> list[dict[str, Any]]:
        """A class's events (or one learner's), in the order they happened."""
        sql = "SELECT * FROM lesson_events WHERE class_id = ?"
        args: tuple[str, ...] = (class_id,)
        if person_id is not None:
            sql += " AND person_id = ?"
            args += (person_id,)
        rows = self.ws.conn.execute(sql + " ORDER BY on_date, created_at, id", args)
        return [dict(r) for r in rows]

    # -- progress -------------------------------------------------------------------------
    def grid(self, class_id: str) -> ClassGrid:
        """Learners × lessons with each state and each learner's completion, as stored."""
        school_class = self.get_class(class_id)
        conn = self.ws.conn
        pack = progress.class_pack(conn, class_id)
        if pack is None:
            raise NotFound(_("Course {course} version {version} is not installed here; "
                             "import it to see the class's progress.").format(
                course=school_class.course_id, version=school_class.course_version))
        lesson_ids = tuple(lesson.id for lesson in pack.lessons)
        states: dict[str, dict[str, State]] = {}
        for person_id, lesson_id, state in conn.execute(
                "SELECT person_id, lesson_id, state FROM lesson_progress WHERE class_id = ?",
                (class_id,)):
            states.setdefault(person_id, {})[lesson_id] = state
        totals = {r[0]: r for r in conn.execute(
            "SELECT person_id, mastered, attended, sessions, completed FROM class_progress "
            "WHERE class_id = ?", (class_id,))}
        rows = []
        for person_id, name in conn.execute(
                "SELECT l.person_id, p.full_name FROM class_learners l JOIN people p "
                "ON p.id = l.person_id WHERE l.class_id = ? AND l.deleted = 0 "
                "ORDER BY p.name_key, p.id", (class_id,)):
            mine = states.get(person_id, {})
            total = totals.get(person_id)
            rows.append(GridRow(
                person_id, name,
                {lesson: mine.get(lesson, "not_started") for lesson in lesson_ids},
                total[1] if total else 0, total[2] if total else 0,
                total[3] if total else 0, bool(total[4]) if total else False))
        return ClassGrid(class_id, school_class.course_id, lesson_ids, tuple(rows))

    def learner_progress(self, class_id: str, person_id: str) -> progress.LearnerProgress:
        """One learner's detail (skills shown, attempts), derived from the events now."""
        self._enrolled(class_id, person_id)
        derived = progress.derive_class(self.ws.conn, class_id, [person_id])
        if person_id not in derived:
            raise NotFound(_("The course of this class is not installed here."))
        return derived[person_id]

    def recompute(self) -> None:
        """Derive every class's progress again from the events."""
        with self.ws.transaction() as tx:
            progress.recompute(tx.conn)

    # -- checks ---------------------------------------------------------------------------
    def _name(self, person_id: str) -> str:
        row = self.ws.conn.execute("SELECT full_name FROM people WHERE id = ?",
                                   (person_id,)).fetchone()
        return row[0] if row and row[0] else person_id

    def _living_person(self, person_id: str) -> None:
        person = self.ws.people.get(person_id)  # NotFound: a sentence
        if person.deleted:
            raise ValidationError({"person": _("This person's data was deleted.")})

    def _not_in_class(self, school_class: SchoolClass, person_id: str) -> None:
        self.ws.people.get(person_id)
        raise ValidationError({"person": _(
            "{name} is not a learner of the class “{class_name}”.").format(
                name=self._name(person_id), class_name=school_class.name)})

    def _enrolled(self, class_id: str, person_id: str,
                  school_class: SchoolClass | None = None) -> None:
        school_class = school_class or self.get_class(class_id)
        row = self.ws.conn.execute("SELECT deleted FROM class_learners WHERE id = ?",
                                   (learner_id(class_id, person_id),)).fetchone()
        if row is None or row["deleted"]:
            self._not_in_class(school_class, person_id)

    def _check_day(self, school_class: SchoolClass, day: dt.date) -> None:
        if day < school_class.starts_on:
            raise ValidationError({"on": _(
                "The class “{name}” starts on {start}: {day} is before it.").format(
                    name=school_class.name, start=format_date(school_class.starts_on),
                    day=format_date(day))})
        if school_class.ends_on is not None and day > school_class.ends_on:
            raise ValidationError({"on": _(
                "The class “{name}” ended on {end}: {day} is after it.").format(
                    name=school_class.name, end=format_date(school_class.ends_on),
                    day=format_date(day))})
        if day > self.ws.today():
            raise ValidationError({"on": _("{day} is still to come: record what happened "
                                           "on or before today.").format(day=format_date(day))})

    @staticmethod
    def _check_source(source: str) -> None:
        if source not in SOURCES:
            raise ValidationError({"source": _("This must be one of: {values}.").format(
                values=", ".join(SOURCES))})

    def _correctable(self, event_id: str) -> sqlite3.Row:
        conn = self.ws.conn
        row = conn.execute("SELECT * FROM lesson_events WHERE id = ?", (event_id,)).fetchone()
        if row is None:
            raise NotFound(_("No lesson record with id {id}.").format(id=event_id))
        if row["kind"] == "void" or conn.execute(
                "SELECT 1 FROM lesson_events WHERE corrects = ?", (event_id,)).fetchone():
            raise ValidationError({"event": _("This record was already corrected or voided; "
                                              "correct the latest version.")})
        found: sqlite3.Row = row
        return found


_CLASS_SQL = """
SELECT c.*, (SELECT count(*) FROM class_learners l WHERE l.class_id = c.id AND l.deleted = 0)
    AS learner_count
FROM classes c"""


def _class(row: sqlite3.Row) -> SchoolClass:
    return SchoolClass(
        id=row["id"], course_id=row["course_id"], course_version=row["course_version"],
        name=row["name"], place=row["place"],
        starts_on=dt.date.fromisoformat(row["starts_on"]),
        ends_on=dt.date.fromisoformat(row["ends_on"]) if row["ends_on"] else None,
        trainers=tuple(json.loads(row["trainers"])), sessions_planned=row["sessions_planned"],
        notes=row["notes"], learners=row["learner_count"])


def _lesson(pack: CoursePack, lesson_id: str) -> Lesson:
    try:
        return pack.lesson(lesson_id)
    except KeyError:
        raise NotFound(_("The course {course} has no lesson {lesson}. Its lessons: "
                         "{lessons}.").format(course=pack.id, lesson=lesson_id,
                                               lessons=", ".join(x.id for x in pack.lessons))
                       ) from None


def _event(class_id: str, person_id: str, kind: str, on: dt.date, source: str, actor: str, *,
           lesson_id: str | None = None, skill_id: str | None = None,
           correct: int | None = None, total: int | None = None,
           corrects: str | None = None, note: str = "") -> dict[str, Any]:
    return {"class_id": class_id, "person_id": person_id, "kind": kind,
            "on_date": on.isoformat(), "lesson_id": lesson_id, "skill_id": skill_id,
            "correct": correct, "total": total, "source": source, "corrects": corrects,
            "note": nfc(note).strip(), "recorded_by": actor[:NAME_LENGTH]}


def _check_length(field: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise ValidationError({field: _("This is too long: at most {limit} characters.").format(
            limit=limit)})


def people_of(ws: Workspace, person_ids: Iterable[str]) -> list[str]:
    """Person ids as given, each checked to exist (NotFound: a sentence)."""
    return [ws.people.get(p).id for p in person_ids]
