"""The class grid as an XLSX workbook, with the same numbers as the screen and the CLI.

Sheet 1 is the grid: one row per learner, one column per lesson with its state, then lessons
mastered, sessions attended of those held, and whether the course is completed. Sheet 2 has the
detail behind each cell: skills shown of the lesson's checklist, quiz attempts, failed ones and
the best score. Numbers are numbers (not text), so the office can sum them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from dxkit.core.i18n import _

if TYPE_CHECKING:
    from dxkit.lessons.progress import State
    from dxkit.lessons.workspace import LessonsWorkspace as Workspace

_FILLS = {"mastered": "C8E6C9", "in_progress": "FFF59D", "needs_help": "FFCDD2",
          "not_started": "FFFFFF"}


def state_label(state: State | str) -> str:
    return {"mastered": _("mastered"), "in_progress": _("in progress"),
            "needs_help": _("needs help"), "not_started": _("not started")}.get(state, state)


def write_grid_xlsx(ws: Workspace, class_id: str, path: str | Path) -> Path:
    school_class = ws.lessons.get_class(class_id)
    pack = ws.lessons.course(school_class.course_id, school_class.course_version)
    grid = ws.lessons.grid(class_id)
    titles = {lesson.id: lesson.title.get() for lesson in pack.lessons}
    skills = {lesson.id: len(lesson.skills) for lesson in pack.lessons}
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Class grid")[:31]
    header = [_("No."), _("Full name"), *(titles[i] for i in grid.lesson_ids),
              _("Lessons mastered"), _("Sessions attended"), _("Sessions held"),
              _("Completed")]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number, row in enumerate(grid.learners, start=1):
        sheet.append([number, row.name, *(state_label(row.lessons[i]) for i in grid.lesson_ids),
                      row.mastered, row.attended, row.sessions,
                      _("Yes") if row.completed else _("No")])
        for offset, lesson_id in enumerate(grid.lesson_ids):
            fill = _FILLS[row.lessons[lesson_id]]
            sheet.cell(number + 1, 3 + offset).fill = PatternFill("solid", fgColor=fill)
    detail = book.create_sheet(_("Detail")[:31])
    detail.append([_("Full name"), _("Lesson"), _("State"), _("Skills shown"),
                   _("Skills in the lesson"), _("Quiz attempts"), _("Failed attempts"),
                   _("Best score")])
    for cell in detail[1]:
        cell.font = Font(bold=True)
    names = {row.person_id: row.name for row in grid.learners}
    for person_id, lesson_id, state, shown, attempts, failed, best in ws.conn.execute(
            "SELECT person_id, lesson_id, state, skills, attempts, failed, best FROM "
            "lesson_progress WHERE class_id = ? ORDER BY person_id, lesson_id", (class_id,)):
        if person_id in names and lesson_id in titles:
            detail.append([names[person_id], titles[lesson_id], state_label(state),
                           len(json.loads(shown)), skills[lesson_id], attempts, failed,
                           best or ""])
    target = Path(path)
    book.save(target)
    return target
