"""`dxkit courses` (installed course packs) and `dxkit classes` (classes, enrolment,
roll-call, progress records and the class grid)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from dxkit.cli.common import (
    COUNT,
    DATE,
    JSON_OPTION,
    N_,
    argument,
    emit_json,
    option,
    reader,
    workspace,
)
from dxkit.cli.root import cli
from dxkit.core.errors import DxError
from dxkit.core.i18n import _, counted, format_date
from dxkit.lessons.enrol_new import enrol_new_person
from dxkit.lessons.grid_export import state_label, write_grid_xlsx
from dxkit.lessons.packs import CoursePack, MasteryRule, PackRefused
from dxkit.lessons.register_pdf import write_class_register
from dxkit.lessons.service import parse_quiz
from dxkit.sync.apply import META_SERVER

STATE_MARKS = {"not_started": "·", "in_progress": "…", "mastered": "✓", "needs_help": "!"}


@cli.group(help=N_("Course packs installed for the team's classes."))
def courses() -> None:
    pass


def mastery_json(rule: MasteryRule) -> dict[str, Any]:
    quiz: dict[str, Any] | None = None
    if rule.quiz is not None:
        quiz = {"rule": rule.quiz.rule}
        if rule.quiz.share is not None:
            quiz["pass_mark"] = rule.quiz.share
        if rule.quiz.m is not None:
            quiz.update(m=rule.quiz.m, n=rule.quiz.n)
    return {"skills": rule.skills, "quiz": quiz}


def course_json(pack: CoursePack) -> dict[str, Any]:
    """The shape `dxkit courses show --json` prints."""
    return {"id": pack.id, "version": pack.version, "title": pack.title.get(),
            "lessons": [{"id": lesson.id, "title": lesson.title.get(),
                         "skills": [{"id": s.id, "text": s.text.get()} for s in lesson.skills],
                         "quiz_items": len(lesson.quiz), "mastery": mastery_json(lesson.mastery),
                         "indicator": lesson.indicator}
                        for lesson in pack.lessons]}


@courses.command("list", help=N_("List the installed course packs."))
@JSON_OPTION
@click.pass_context
def courses_list(ctx: click.Context, as_json: bool) -> None:
    found = workspace(ctx).lessons.courses()
    if as_json:
        emit_json([c.to_dict() for c in found])
        return
    for course in found:
        click.echo("  ".join((course.id, course.version, course.title,
                              counted(course.lessons, "{count} lesson", "{count} lessons"))))


@courses.command("show", help=N_("Show a course's lessons, skills and mastery rules."))
@argument("course_id")
@option("--version", "version", default=None, help=N_("A version other than the newest."))
@JSON_OPTION
@click.pass_context
def courses_show(ctx: click.Context, course_id: str, version: str | None,
                 as_json: bool) -> None:
    pack = workspace(ctx).lessons.course(course_id, version)
    if as_json:
        emit_json(course_json(pack))
        return
    click.echo(f"{pack.title.get()} ({pack.id} {pack.version})")
    for number, lesson in enumerate(pack.lessons, 1):
        click.echo(f"{number}. {lesson.title.get()} [{lesson.id}]")
        for skill in lesson.skills:
            click.echo(f"   - {skill.text.get()} [{skill.id}]")
        click.echo("   " + counted(len(lesson.quiz), "{count} quiz question",
                                   "{count} quiz questions"))


@courses.command("import", help=N_("Check a course pack (a folder or a .zip) and install it; "
                                   "a pack with problems is refused with all of them."))
@argument("file", type=click.Path(exists=True, path_type=Path))
@JSON_OPTION
@click.pass_context
def courses_import(ctx: click.Context, file: Path, as_json: bool) -> None:
    ws = workspace(ctx)
    try:
        result = ws.lessons.import_pack(file)
    except PackRefused as refused:
        if not as_json:
            raise
        emit_json({"imported": False, "problems": [
            {"file": p.file, "path": p.path, "line": p.line, "message": p.message}
            for p in refused.problems]})
        sys.exit(1)
    course = result.value
    if as_json:
        emit_json({**course.to_dict(), "imported": bool(result.changes)})
        return
    if result.changes:
        click.echo(_("Installed {course} version {version}: {title}.").format(
            course=course.id, version=course.version, title=course.title))
    else:
        click.echo(_("{course} version {version} was already installed with the same "
                     "content.").format(course=course.id, version=course.version))


@cli.group(help=N_("Classes: learners, roll-call, skills and quizzes, the progress grid."))
def classes() -> None:
    pass


@classes.command("add", help=N_("Open a class on an installed course."))
@option("--course", "course_id", required=True, help=N_("The course's id."))
@option("--name", required=True, help=N_("The class's name."))
@option("--starts", type=DATE, required=True, help=N_("First day (YYYY-MM-DD)."))
@option("--ends", type=DATE, default=None, help=N_("Last day (YYYY-MM-DD), if known."))
@option("--trainer", "trainers", multiple=True,
        help=N_("A trainer: a team member's name or id (repeatable)."))
@option("--place", default="", help=N_("Where the class meets."))
@option("--sessions", type=COUNT, default=None,
        help=N_("Sessions planned (default: one per lesson)."))
@option("--version", "version", default=None, help=N_("A course version other than the newest."))
@JSON_OPTION
@click.pass_context
def classes_add(ctx: click.Context, course_id: str, name: str, starts: dt.date,
                ends: dt.date | None, trainers: tuple[str, ...], place: str,
                sessions: int | None, version: str | None, as_json: bool) -> None:
    ws = workspace(ctx)
    school_class = ws.lessons.add_class(course_id, name, starts, trainers=trainers, place=place,
                                        sessions_planned=sessions, ends_on=ends,
                                        course_version=version).value
    if as_json:
        emit_json({"class_id": school_class.id})
        return
    click.echo(_("Class “{name}” opened: {id}").format(name=school_class.name,
                                                     id=school_class.id))


@classes.command("list", help=N_("List the classes."))
@JSON_OPTION
@click.pass_context
def classes_list(ctx: click.Context, as_json: bool) -> None:
    found = reader(ctx).lessons.classes()
    if as_json:
        emit_json([c.to_dict() for c in found])
        return
    for school_class in found:
        click.echo("  ".join((school_class.id, school_class.name, school_class.course_id,
                              format_date(school_class.starts_on),
                              counted(school_class.learners, "{count} learner",
                                      "{count} learners"))))


@classes.command("enrol", help=N_(
    "Enrol people in a class; with --new-person, add someone to a household first (same "
    "rules as “people add”: consent never assumed) and enrol them, both or neither."))
@argument("class_id")
@option("--person", "people", multiple=True, help=N_("A person's id (repeatable)."))
@option("--on", "on", type=DATE, default=None, help=N_("Day of enrolment (default today)."))
@option("--new-person", "new_person", is_flag=True,
        help=N_("Add a new person to the household register and enrol them."))
@option("--household", default=None, help=N_("The new person's household (code or id)."))
@option("--name", default=None, help=N_("The new person's full name."))
@option("--sex", default="", help=N_("Nam or Nữ."))
@option("--birth", default="", help=N_("Birth date dd/mm/yyyy, or only the year yyyy."))
@option("--consent/--no-consent", default=False,
        help=N_("The person agreed to their data being stored (never assumed)."))
@JSON_OPTION
@click.pass_context
def classes_enrol(ctx: click.Context, class_id: str, people: tuple[str, ...],
                  on: dt.date | None, new_person: bool, household: str | None,
                  name: str | None, sex: str, birth: str, consent: bool,
                  as_json: bool) -> None:
    if new_person:
        if people:
            raise DxError(_("Give either --person or --new-person, not both."))
        if not household or not name:
            raise DxError(_("A new person needs --household and --name."))
        ws = workspace(ctx)
        added = enrol_new_person(ws, class_id, household, on=on, full_name=name, sex=sex,
                                 birth_date=birth, consent=consent).value
        if as_json:
            emit_json({"class_id": class_id, "enrolled": [added.id], "person_id": added.id})
            return
        click.echo(_("Added {name} to the household register (id {id}) and to the class."
                     ).format(name=added.full_name, id=added.id))
        return
    if household is not None or name is not None or sex or birth or consent:
        raise DxError(_("--household, --name, --sex, --birth and --consent go with "
                        "--new-person."))
    result = workspace(ctx).lessons.enrol(class_id, list(people), on)
    if as_json:
        emit_json({"class_id": class_id, "enrolled": result.value})
        return
    click.echo(counted(len(result.value), "{count} learner enrolled.",
                       "{count} learners enrolled."))


@classes.command("withdraw", help=N_("Take a learner out of a class."))
@argument("class_id")
@option("--person", "person", required=True, help=N_("The person's id."))
@click.pass_context
def classes_withdraw(ctx: click.Context, class_id: str, person: str) -> None:
    workspace(ctx).lessons.withdraw(class_id, person)
    click.echo(_("Withdrawn from the class."))


@classes.command("attendance", help=N_("Record a session's roll-call."))
@argument("class_id")
@option("--on", "on", type=DATE, required=True, help=N_("Day of the session (YYYY-MM-DD)."))
@option("--present", multiple=True, help=N_("A learner present (repeatable)."))
@option("--absent", multiple=True, help=N_("A learner absent (repeatable)."))
@JSON_OPTION
@click.pass_context
def classes_attendance(ctx: click.Context, class_id: str, on: dt.date,
                       present: tuple[str, ...], absent: tuple[str, ...],
                       as_json: bool) -> None:
    result = workspace(ctx).lessons.attendance(class_id, on, list(present), list(absent))
    if as_json:
        emit_json({"class_id": class_id, "on": on.isoformat(), "present": len(set(present)),
                   "absent": len(set(absent)), "event_ids": result.value})
        return
    click.echo(_("Roll-call of {day} recorded: {present} present, {absent} absent.").format(
        day=format_date(on), present=len(set(present)), absent=len(set(absent))))


class QuizType(click.ParamType[tuple[int, int]]):
    name = "CORRECT/TOTAL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        return parse_quiz(str(value))


@classes.command("record", help=N_("Record skills a learner showed and/or a quiz attempt."))
@argument("class_id")
@option("--learner", required=True, help=N_("The learner's person id."))
@option("--lesson", required=True, help=N_("The lesson's id."))
@option("--skill", "skills", multiple=True, help=N_("A skill shown (repeatable)."))
@option("--quiz", type=QuizType(), default=None,
        help=N_("A quiz attempt: right answers/questions, e.g. 5/6."))
@option("--on", "on", type=DATE, default=None, help=N_("Day (default today)."))
@option("--source", type=click.Choice(["trainer", "learner", "paper"]), default="trainer",
        help=N_("Who recorded it: trainer, learner or paper."))
@JSON_OPTION
@click.pass_context
def classes_record(ctx: click.Context, class_id: str, learner: str, lesson: str,
                   skills: tuple[str, ...], quiz: tuple[int, int] | None, on: dt.date | None,
                   source: str, as_json: bool) -> None:
    ws = workspace(ctx)
    result = ws.lessons.record(class_id, learner, lesson, skills=skills, quiz=quiz, on=on,
                               source=source)
    row = ws.conn.execute("SELECT state FROM lesson_progress WHERE class_id = ? AND "
                          "person_id = ? AND lesson_id = ?", (class_id, learner, lesson)
                          ).fetchone()
    state = row[0] if row else "not_started"
    if as_json:
        emit_json({"class_id": class_id, "person_id": learner, "lesson_id": lesson,
                   "event_ids": result.value, "state": state})
        return
    click.echo(_("Recorded. Lesson {lesson}: {state}.").format(lesson=lesson,
                                                              state=state_label(state)))


@classes.command("grid", help=N_("Show the class grid: learners × lessons and completion."))
@argument("class_id")
@option("--needs-help", is_flag=True, help=N_("Only learners who need help."))
@JSON_OPTION
@click.pass_context
def classes_grid(ctx: click.Context, class_id: str, needs_help: bool, as_json: bool) -> None:
    grid = reader(ctx).lessons.grid(class_id)
    rows = grid.needing_help() if needs_help else grid.learners
    if as_json:
        data = grid.to_dict()
        data["learners"] = [row.to_dict() for row in rows]
        emit_json(data)
        return
    click.echo(_("Lessons: {lessons}").format(lessons=" ".join(
        str(n) for n in range(1, len(grid.lesson_ids) + 1))))
    for row in rows:
        marks = "".join(STATE_MARKS[state] for state in row.lessons.values())
        done = _("completed") if row.completed else ""
        click.echo("  ".join(p for p in (
            marks, row.name, _("attended {attended}/{sessions}").format(
                attended=row.attended, sessions=row.sessions), done, row.person_id) if p))
    click.echo(_("✓ mastered  … in progress  ! needs help  · not started"))


@classes.command("upgrade", help=N_(
    "Teach a class from another installed version of its course (default: the newest); "
    "marks on lessons and skills the new version keeps still count."))
@argument("class_id")
@option("--version", "version", default=None, help=N_("The version (default: the newest)."))
@JSON_OPTION
@click.pass_context
def classes_upgrade(ctx: click.Context, class_id: str, version: str | None,
                    as_json: bool) -> None:
    school_class = workspace(ctx).lessons.upgrade_class(class_id, version).value
    if as_json:
        emit_json(school_class.to_dict())
        return
    click.echo(_("Class “{name}” now follows version {version}.").format(
        name=school_class.name, version=school_class.course_version))


@classes.command("export", help=N_("Save the class grid as an Excel file (the same numbers, "
                                   "and the detail of each cell)."))
@argument("class_id")
@option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
        help=N_("The .xlsx file to write."))
@click.pass_context
def classes_export(ctx: click.Context, class_id: str, out: Path) -> None:
    write_grid_xlsx(reader(ctx), class_id, out)
    click.echo(_("Saved {path}.").format(path=out))


@classes.command("register", help=N_("Print the paper register for roll-call in a hall "
                                     "without power (PDF)."))
@argument("class_id")
@option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
        help=N_("The PDF to write."))
@click.pass_context
def classes_register(ctx: click.Context, class_id: str, out: Path) -> None:
    pages = write_class_register(reader(ctx), class_id, out)
    click.echo(_("Saved {path} ({pages}).").format(
        path=out, pages=counted(pages, "{count} page", "{count} pages")))


@cli.group("lessons", help=N_("Learning records of the team's classes."))
def lessons_group() -> None:
    pass


@lessons_group.command("export-xapi", help=N_(
    "Write the classes' learning records as xAPI 1.0.3 statements (JSON) for a learning "
    "record store. Learners appear by an account id only, never by name or phone."))
@option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
        help=N_("The JSON file to write."))
@option("--since", type=DATE, default=None, help=N_("Only what happened from this day on."))
@option("--home", default=None, metavar="URL",
        help=N_("The home page learners' accounts belong to (default: this team's hub)."))
@JSON_OPTION
@click.pass_context
def export_xapi(ctx: click.Context, out: Path, since: dt.date | None, home: str | None,
                as_json: bool) -> None:
    from dxkit.lessons.xapi import records, write_statements

    ws = reader(ctx)
    home = home or ws.meta().get(META_SERVER, "")
    if not home.startswith(("https://", "http://")):
        raise DxError(_("This laptop is not enrolled on a hub: give the home page of the "
                        "learners' accounts with --home https://…"))
    partial = out.with_name(out.name + ".partial")
    with partial.open("w", encoding="utf-8") as handle:
        count = write_statements(records(ws.conn, since), home, handle)
    partial.replace(out)
    if as_json:
        emit_json({"statements": count, "path": str(out)})
    else:
        click.echo(_("Wrote {statements} to {path}.").format(
            statements=counted(count, "{count} statement", "{count} statements"), path=out))
