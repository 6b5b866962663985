"""The dialogs of the classes page: a new class, a refused course pack, the roll-call, enrolling
learners, one learner's lesson (skills ticked, a paper quiz score), picking a lesson (and a
learner), and what a certificates run issued and withheld.

Every write goes through `Op` to `ws.lessons`; bad input comes back as the domain's sentence."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QDate, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.errors import ValidationError
from dxkit.core.i18n import _, counted, format_date, format_number, ngettext
from dxkit.core.progress import Progress
from dxkit.core.text import folded_key
from dxkit.lessons.enrol_new import enrol_new_person
from dxkit.lessons.grid_export import state_label
from dxkit.lessons.issuing import IssueReport
from dxkit.lessons.packs import Lesson, PackRefused, Problem
from dxkit.lessons.progress import LessonProgress
from dxkit.lessons.service import SchoolClass, parse_quiz
from dxkit.lessons.ui_queries import roll_call_marks
from dxkit.ui.appearance import HINT_STYLE, scaled_font
from dxkit.ui.context import AppContext
from dxkit.ui.fitting import DIALOGS, fit_to_screen
from dxkit.ui.household_forms import SAVED_STYLE, PersonForm, Work
from dxkit.ui.operations import Op, Query
from dxkit.ui.widgets import (
    FieldErrors,
    FieldWithError,
    error_label,
    save_cancel_buttons,
    show_invalid,
)

PRESENT, ABSENT = "present", "absent"
HOUSEHOLD_ROLE = Qt.ItemDataRole.UserRole + 1  # a household row's (id, caption)
PRESENT_KEYS = (Qt.Key.Key_P, Qt.Key.Key_Space)
ABSENT_KEYS = (Qt.Key.Key_V, Qt.Key.Key_A)
PRESENT_COLOUR = "#1b7f3b"  # white on it: 5.5:1
ABSENT_COLOUR = "#b00020"  # white on it: 6.9:1
MARK_COLUMN_WIDTH = 130
SEARCH_DELAY_MS = 150
SEARCH_LIMIT = 30
ROLL_ROW_HEIGHT = 40


def qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def pydate(day: QDate) -> dt.date:
    return dt.date(day.year(), day.month(), day.day())


def lesson_caption(number: int, lesson: Lesson, language: str | None = None) -> str:
    return _("Lesson {number}: {title}").format(number=number, title=lesson.title.get(language))


def _date_edit(day: dt.date, earliest: dt.date | None = None,
               latest: dt.date | None = None) -> QDateEdit:
    edit = QDateEdit(qdate(day))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("dd/MM/yyyy")
    if earliest is not None:
        edit.setMinimumDate(qdate(earliest))
    if latest is not None:
        edit.setMaximumDate(qdate(latest))
    return edit


# -- a new class ------------------------------------------------------------------------------
class NewClassDialog(QDialog):
    """Course (installed ones), name, start date, place, trainers (team members), sessions."""

    saved = Signal(object)  # the SchoolClass

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        ws = ctx.ws
        self.setWindowTitle(_("New class"))
        self.courses = ws.lessons.courses()
        self.course = QComboBox()
        seen: set[str] = set()
        for summary in self.courses:
            if summary.id in seen:
                continue  # the newest version of each course
            seen.add(summary.id)
            self.course.addItem(summary.title, summary.id)
        self.course.currentIndexChanged.connect(self._course_chosen)
        self.name = QLineEdit()
        self.starts = _date_edit(ws.today())
        self.place = QLineEdit()
        self.place.setPlaceholderText(_("e.g. the hamlet's cultural house"))
        self.trainers = QListWidget()
        for member in ws.catalog.members():
            item = QListWidgetItem(member.name, self.trainers)
            item.setData(Qt.ItemDataRole.UserRole, member.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
        current = ws.settings.get("current_member_id")
        for row in range(self.trainers.count()):
            item = self.trainers.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == current:
                item.setCheckState(Qt.CheckState.Checked)
        self.trainers.setMaximumHeight(110)
        self.sessions = QSpinBox()
        self.sessions.setRange(1, 200)

        self.general = QLabel()
        self.errors = FieldErrors(self.general)
        form = QFormLayout()
        form.addRow(_("Course:"), self.errors.add("course_id", FieldWithError(self.course)))
        form.addRow(_("Class name:"), self.errors.add("name", FieldWithError(self.name)))
        form.addRow(_("Starts on:"), self.errors.add("starts_on", FieldWithError(self.starts)))
        form.addRow(_("Place:"), self.errors.add("place", FieldWithError(self.place)))
        form.addRow(_("Trainers:"), self.errors.add("trainers", FieldWithError(self.trainers)))
        form.addRow(_("Sessions planned:"),
                    self.errors.add("sessions_planned", FieldWithError(self.sessions)))
        self.save_button_box = save_cancel_buttons(self, _("Create class"))
        layout = QVBoxLayout(self)
        if not self.courses:
            note = QLabel(_("No course is installed yet: import a course pack first."))
            note.setWordWrap(True)
            layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.general)
        layout.addWidget(self.save_button_box)
        self._course_chosen()
        fit_to_screen(self, QSize(560, 480))

    def _course_chosen(self) -> None:
        course_id = self.course.currentData()
        for summary in self.courses:
            if summary.id == course_id:
                self.sessions.setValue(summary.lessons)
                break

    def chosen_trainers(self) -> list[str]:
        items = (self.trainers.item(r) for r in range(self.trainers.count()))
        return [i.data(Qt.ItemDataRole.UserRole) for i in items
                if i.checkState() == Qt.CheckState.Checked]

    def save(self) -> None:
        course_id = self.course.currentData()
        if not course_id:
            self.errors.show({"course_id": _("No course is installed yet: import a course "
                                             "pack first.")})
            return
        lessons, name = self.ctx.ws.lessons, self.name.text()
        starts, place = pydate(self.starts.date()), self.place.text()
        trainers, sessions = self.chosen_trainers(), self.sessions.value()
        (Op(self.ctx, self, lambda _progress: lessons.add_class(
            course_id, name, starts, trainers=trainers, place=place,
            sessions_planned=sessions))
         .invalid(lambda error: self.errors.show(error.fields))
         .success(self._saved)
         .run())

    def _saved(self, result: object) -> None:
        self.saved.emit(getattr(result, "value", None))
        self.accept()


# -- a refused pack ---------------------------------------------------------------------------
class PackProblemsDialog(QDialog):
    """Every problem of a refused course pack, one per line, with nothing imported."""

    def __init__(self, path: Path, problems: Sequence[Problem], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(_("Course pack refused"))
        heading = QLabel(ngettext(
            "{path} was not imported: {count} problem.",
            "{path} was not imported: {count} problems.", len(problems)).format(
                path=path.name, count=format_number(len(problems))))
        heading.setWordWrap(True)
        heading.setFont(scaled_font(heading, 1.1, bold=True))
        hint = QLabel(_("Nothing was stored. Fix these in the pack, or ask whoever made it, "
                        "then import it again."))
        hint.setWordWrap(True)
        hint.setStyleSheet(HINT_STYLE)
        self.problems = QListWidget()
        self.problems.setWordWrap(True)
        for problem in problems:
            QListWidgetItem(str(problem), self.problems)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(_("Close"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(hint)
        layout.addWidget(self.problems, 1)
        layout.addWidget(buttons)
        fit_to_screen(self, QSize(640, 420))


# -- roll-call --------------------------------------------------------------------------------
class RollCallTable(QTableWidget):
    """The learners, one per row; P or Space marks present, V or A absent, then the next row."""

    marked = Signal(int, str)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in PRESENT_KEYS or key in ABSENT_KEYS:
            row = self.currentRow()
            if row >= 0:
                self.marked.emit(row, PRESENT if key in PRESENT_KEYS else ABSENT)
            return
        super().keyPressEvent(event)


class RollCallDialog(QDialog):
    """A session's roll-call: a date (today unless changed) and a present/absent mark per
    learner, all saved in one `ws.lessons.attendance` call. Learners left unmarked get no
    mark.

    The marks already recorded for the chosen date show when the dialog opens and whenever
    the date changes (the mark progress counts: the latest effective one). Saving records
    only the marks that differ from them, so saving an unchanged roll-call adds no event;
    changing the date starts again from that date's recorded marks."""

    def __init__(self, ctx: AppContext, school_class: SchoolClass,
                 learners: Sequence[tuple[str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.school_class = school_class
        self.learners = list(learners)
        self.marks: dict[str, str] = {}  # what the dialog shows
        self.recorded: dict[str, str] = {}  # what is recorded for the date shown
        self.typed: dict[str, str] = {}  # marks set here since the date was chosen
        self.loading = False
        self.save_pending = False  # Save asked while the recorded marks were being read
        self.setWindowTitle(_("Roll-call: {name}").format(name=school_class.name))
        today = ctx.ws.today()
        self.day = _date_edit(today, school_class.starts_on,
                              min(today, school_class.ends_on or today))
        hint = QLabel(_("↑/↓ move · P or Space: present · V or A: absent"))
        hint.setStyleSheet(HINT_STYLE)
        hint.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel(_("Session on:")))
        top.addWidget(self.day)
        top.addWidget(hint, 1)

        self.table = RollCallTable(len(self.learners), 4)
        self.table.setHorizontalHeaderLabels([_("No."), _("Full name"), _("Present (P)"),
                                              _("Absent (V)")])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(ROLL_ROW_HEIGHT)
        # Only the name is highlighted: the row's marks keep their colours when it is current.
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column in (2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(column, MARK_COLUMN_WIDTH)
        big = scaled_font(self.table, 1.15)
        self.bold = scaled_font(self.table, 1.15, bold=True)
        for row, (_person_id, name) in enumerate(self.learners):
            self.table.setItem(row, 0, QTableWidgetItem(str(row + 1)))
            name_item = QTableWidgetItem(name)
            name_item.setFont(big)
            self.table.setItem(row, 1, name_item)
            for column in (2, 3):
                cell = QTableWidgetItem()
                cell.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                cell.setFont(big)
                self.table.setItem(row, column, cell)
            self._paint(row)
        self.table.marked.connect(lambda row, kind: self.mark(row, kind))
        # A click on a mark's cell is a toggle too (a touchpad in a hall works as well).
        self.table.cellClicked.connect(self._clicked)
        if self.learners:
            self.table.setCurrentCell(0, 1)

        self.count = QLabel()
        self.all_present = QPushButton(_("Everyone not marked: present"))
        self.all_present.clicked.connect(self.mark_rest_present)
        self.recorded_note = QLabel()
        self.recorded_note.setStyleSheet(HINT_STYLE)
        self.recorded_note.setWordWrap(True)
        self.recorded_note.hide()
        self.error = error_label()
        self.save_box = save_cancel_buttons(self, _("Save roll-call"))
        bottom = QHBoxLayout()
        bottom.addWidget(self.count, 1)
        bottom.addWidget(self.all_present)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.recorded_note)
        layout.addWidget(self.error)
        layout.addWidget(self.save_box)
        self._update_count()
        fit_to_screen(self, QSize(720, 640))
        self.table.setFocus()
        self.day.dateChanged.connect(lambda _date: self.load_recorded())
        self.load_recorded()

    def load_recorded(self) -> None:
        """The marks recorded for the chosen date, read on the database thread; a Save asked
        meanwhile waits for them."""
        self.typed.clear()
        self._set_loading(True)
        ws, class_id, day = self.ctx.ws, self.school_class.id, pydate(self.day.date())
        (Query(self.ctx, self, lambda _progress: roll_call_marks(ws, class_id, day), "marks")
         .success(lambda found: self._show_recorded(day, found))
         .run())

    def _set_loading(self, loading: bool) -> None:
        self.loading = loading

    def _show_recorded(self, day: dt.date, found: dict[str, str]) -> None:
        if day != pydate(self.day.date()):
            return  # the date changed meanwhile: its own read answers
        ids = {person_id for person_id, _name in self.learners}
        self.recorded = {p: k for p, k in found.items() if p in ids}
        self.marks = {**self.recorded, **self.typed}
        for row in range(len(self.learners)):
            self._paint(row)
        self._update_count()
        self.recorded_note.setText(ngettext(
            "{count} mark is already recorded for this day; saving records only what you "
            "change.", "{count} marks are already recorded for this day; saving records only "
            "what you change.", len(self.recorded)).format(
                count=format_number(len(self.recorded))))
        self.recorded_note.setVisible(bool(self.recorded))
        self._set_loading(False)
        if self.save_pending:
            self.save_pending = False
            self.save()

    def changes(self) -> dict[str, str]:
        """The marks to record: those that differ from the recorded ones."""
        return {p: k for p, k in self.marks.items() if self.recorded.get(p) != k}

    def _clicked(self, row: int, column: int) -> None:
        if column in (2, 3):
            self.mark(row, PRESENT if column == 2 else ABSENT, advance=False)
            self.table.setCurrentCell(row, 1)

    def mark_of(self, row: int) -> str | None:
        return self.marks.get(self.learners[row][0])

    def _paint(self, row: int) -> None:
        """The row's two marks: the chosen one filled in its colour, the other one pale; a
        filled dot or an empty one says the same without colour."""
        chosen = self.mark_of(row)
        for column, kind, colour, text in (
                (2, PRESENT, PRESENT_COLOUR, _("Present")), (3, ABSENT, ABSENT_COLOUR,
                                                           _("Absent"))):
            cell = self.table.item(row, column)
            on = chosen == kind
            cell.setText(("● " if on else "○ ") + text)
            cell.setBackground(QBrush(QColor(colour if on else "#ffffff")))
            cell.setForeground(QBrush(QColor("#ffffff" if on else "#555555")))
            cell.setFont(self.bold if on else self.table.font())

    def mark(self, row: int, kind: str, advance: bool = True) -> None:
        person_id = self.learners[row][0]
        self.marks[person_id] = kind
        self.typed[person_id] = kind
        self._paint(row)
        self._update_count()
        if advance and row + 1 < len(self.learners):
            self.table.setCurrentCell(row + 1, 1)

    def mark_rest_present(self) -> None:
        for row, (person_id, _name) in enumerate(self.learners):
            if person_id not in self.marks:
                self.mark(row, PRESENT, advance=False)

    def _totals(self) -> tuple[int, int]:
        present = sum(1 for k in self.marks.values() if k == PRESENT)
        return present, len(self.marks) - present

    def _update_count(self) -> None:
        present, absent = self._totals()
        left = len(self.learners) - len(self.marks)
        self.count.setText(_("{present} present, {absent} absent, {left} not marked").format(
            present=present, absent=absent, left=left))

    def save(self) -> None:
        if self.loading:  # saved as soon as the recorded marks are known
            self.save_pending = True
            return
        changes = self.changes()
        day = pydate(self.day.date())
        if not changes and self.recorded:
            self.ctx.notice.emit(_("Roll-call of {day}: nothing changed.").format(
                day=format_date(day)))
            self.accept()
            return
        present = [p for p, k in changes.items() if k == PRESENT]
        absent = [p for p, k in changes.items() if k == ABSENT]
        lessons, class_id = self.ctx.ws.lessons, self.school_class.id
        (Op(self.ctx, self, lambda _progress: lessons.attendance(class_id, day, present, absent))
         .invalid(lambda error: show_invalid(self.error, error))
         .success(lambda _result: self._saved(day, *self._totals()))
         .run())

    def _saved(self, day: dt.date, present: int, absent: int) -> None:
        self.ctx.notice.emit(_("Roll-call of {day} saved: {present} present, {absent} absent.")
                             .format(day=format_date(day), present=present, absent=absent))
        self.accept()


# -- enrolling --------------------------------------------------------------------------------
class EnrolDialog(QDialog):
    """Find people by name, household code or phone as you type and tick them (or tick a
    household for all its people); Save enrols everyone ticked in one go."""

    def __init__(self, ctx: AppContext, school_class: SchoolClass,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.school_class = school_class
        self.enrolled = set(ctx.ws.lessons.learner_ids(school_class.id))
        self.chosen: dict[str, str] = {}  # person id -> name, kept across searches
        self.setWindowTitle(_("Enrol learners: {name}").format(name=school_class.name))
        self.search_box = QLineEdit()
        self.search_box.setPlaceholderText(
            _("Search by name, household code, phone… (no diacritics needed)"))
        self.search_box.setClearButtonEnabled(True)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SEARCH_DELAY_MS)
        self.timer.timeout.connect(self.search)
        self.search_box.textChanged.connect(lambda _text: self.timer.start())
        hint = QLabel(_("Tick a person, or a household to enrol everyone in it."))
        hint.setStyleSheet(HINT_STYLE)
        hint.setWordWrap(True)
        self.results = QTreeWidget()
        self.results.setHeaderHidden(True)
        self.results.itemChanged.connect(self._ticked)
        self.chosen_label = QLabel()
        self.chosen_label.setWordWrap(True)
        self.new_person_button = QPushButton(_("New person…"))
        self.new_person_button.setToolTip(_(
            "Add someone who is not in the register yet to the household selected above, "
            "and enrol them"))
        self.new_person_button.setAutoDefault(False)
        self.new_person_button.clicked.connect(self.new_person)
        self.added_label = QLabel()
        self.added_label.setWordWrap(True)
        self.added_label.setStyleSheet(SAVED_STYLE)
        self.added_label.hide()
        self.added: list[str] = []  # names of the new people enrolled from here
        self.error = error_label()
        self.save_box = save_cancel_buttons(self, _("Enrol"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.search_box)
        layout.addWidget(hint)
        layout.addWidget(self.results, 1)
        new_row = QHBoxLayout()
        new_row.addWidget(self.added_label, 1)
        new_row.addWidget(self.new_person_button)
        layout.addLayout(new_row)
        layout.addWidget(self.chosen_label)
        layout.addWidget(self.error)
        layout.addWidget(self.save_box)
        self._show_chosen()
        fit_to_screen(self, QSize(640, 560))

    def search(self) -> None:
        self.timer.stop()  # asked now: the typing's pending search is not needed
        text = self.search_box.text()
        ws = self.ctx.ws

        def work(_progress: Progress) -> list[tuple[str, str, list[tuple[str, str]]]]:
            found = []
            for household in ws.households.search(text, limit=SEARCH_LIMIT):
                people = [(p.id, p.full_name) for p in ws.people.in_household(household.id)
                          if not p.deleted]
                found.append((household.id, f"{household.code} — {household.head_name} "
                                            f"({household.hamlet})", people))
            return found

        Query(self.ctx, self, work, "search").success(self._show_results).run()

    def _show_results(self, found: list[tuple[str, str, list[tuple[str, str]]]]) -> None:
        words = folded_key(self.search_box.text()).split()
        self.results.blockSignals(True)
        self.results.clear()
        for household_id, caption, people in found:
            top = QTreeWidgetItem(self.results, [caption])
            top.setData(0, HOUSEHOLD_ROLE, (household_id, caption))
            top.setFlags(top.flags() | Qt.ItemFlag.ItemIsUserCheckable
                         | Qt.ItemFlag.ItemIsAutoTristate)
            for person_id, name in people:
                if person_id in self.enrolled:
                    child = QTreeWidgetItem(top, [_("{name} (already in the class)").format(
                        name=name)])
                    child.setFlags(child.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                    continue
                child = QTreeWidgetItem(top, [name])
                child.setData(0, Qt.ItemDataRole.UserRole, (person_id, name))
                child.setFlags(child.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                child.setCheckState(0, Qt.CheckState.Checked if person_id in self.chosen
                                    else Qt.CheckState.Unchecked)
                key = folded_key(name)
                if words and all(w in key for w in words):
                    child.setFont(0, scaled_font(self.results, 1.0, bold=True))
            top.setExpanded(True)
        self.results.blockSignals(False)

    def _ticked(self, item: QTreeWidgetItem, _column: int) -> None:
        data = item.data(0, Qt.ItemDataRole.UserRole)
        if not data:
            return  # a household: Qt ticks its people, each reported here
        person_id, name = data
        if item.checkState(0) == Qt.CheckState.Checked:
            self.chosen[person_id] = name
        else:
            self.chosen.pop(person_id, None)
        self._show_chosen()

    def choose(self, person_id: str, name: str) -> None:
        self.chosen[person_id] = name
        self._show_chosen()

    def _show_chosen(self) -> None:
        if not self.chosen:
            self.chosen_label.setText(_("Nobody ticked yet."))
            return
        self.chosen_label.setText(ngettext(
            "{count} to enrol: {names}", "{count} to enrol: {names}", len(self.chosen)).format(
                count=format_number(len(self.chosen)), names=", ".join(self.chosen.values())))

    def selected_household(self) -> tuple[str, str] | None:
        """(id, caption) of the household selected in the results, or of the selected
        person's household."""
        item = self.results.currentItem()
        while item is not None and not item.data(0, HOUSEHOLD_ROLE):
            item = item.parent()
        return tuple(item.data(0, HOUSEHOLD_ROLE)) if item is not None else None

    def new_person(self) -> NewLearnerForm | None:
        """The household page's add-person form, for the selected household; saving adds the
        person and enrols them in one transaction."""
        household = self.selected_household()
        if household is None:
            self.error.setText(_("Search for the household and select it first; the new "
                                 "person is added to it."))
            self.error.show()
            return None
        self.error.hide()
        form = NewLearnerForm(self.ctx, self.school_class, household[0], household[1],
                              parent=self)
        form.finished.connect(lambda _code: self._new_people_enrolled(form))
        form.open()
        return form

    def _new_people_enrolled(self, form: NewLearnerForm) -> None:
        people = list(form.added)
        saved = getattr(form, "result_value", None)
        if saved is not None:
            people.append(saved)
        if not people:
            return
        self.enrolled.update(p.id for p in people)
        self.added.extend(p.full_name for p in people)
        self.added_label.setText(_("Added to the register and to the class: {names}").format(
            names=", ".join(self.added)))
        self.added_label.show()
        self.search()  # the new people show, already in the class

    def save(self) -> None:
        lessons, class_id, people = self.ctx.ws.lessons, self.school_class.id, list(self.chosen)
        if not people and self.added:
            self.accept()  # the new people are enrolled already
            return
        (Op(self.ctx, self, lambda _progress: lessons.enrol(class_id, people))
         .invalid(lambda error: show_invalid(self.error, error))
         .success(lambda _result: self.accept())
         .run())


class NewLearnerForm(PersonForm):
    """The household page's add-person form (same fields, validators and consent rules:
    consent never pre-ticked, a citizen ID only once consent is ticked) whose save also
    enrols the person in the class, both in one transaction."""

    def __init__(self, ctx: AppContext, school_class: SchoolClass, household_id: str,
                 household_caption: str, parent: QWidget | None = None):
        super().__init__(ctx, household_id, parent=parent)
        self.school_class = school_class
        self.setWindowTitle(_("New learner for “{class_name}”").format(
            class_name=school_class.name))
        where = QLabel(_("Added to household {household} and to the class.").format(
            household=household_caption))
        where.setWordWrap(True)
        where.setStyleSheet(HINT_STYLE)
        self.form.insertRow(0, where)

    def operation(self) -> Work:
        values, ws = self.values(), self.ctx.ws
        class_id, household_id = self.school_class.id, self.household_id
        return lambda _progress: enrol_new_person(ws, class_id, household_id, **values)


# -- one learner's lesson ---------------------------------------------------------------------
class LessonDetailDialog(QDialog):
    """A learner's progress in one lesson: the skills shown (tick more), the quiz attempts and
    the best score, and a score from a paper quiz to type in."""

    def __init__(self, ctx: AppContext, school_class: SchoolClass, person: tuple[str, str],
                 lesson: Lesson, number: int, detail: LessonProgress,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.school_class = school_class
        self.person_id, name = person
        self.lesson = lesson
        self.setWindowTitle(_("{name} — lesson {number}").format(name=name, number=number))
        heading = QLabel(f"{name}\n{lesson_caption(number, lesson)}")
        heading.setFont(scaled_font(heading, 1.1, bold=True))
        heading.setWordWrap(True)
        self.state = QLabel(_("State: {state}").format(state=state_label(detail.state)))
        shown = set(detail.skills)
        self.skill_boxes: list[tuple[str, QCheckBox]] = []
        skills_layout = QVBoxLayout()
        skills_layout.addWidget(QLabel(_("Skills shown (tick what the learner showed "
                                          "today):")))
        for skill in lesson.skills:
            mark = "✓" if skill.id in shown else "✗"
            box = QCheckBox(f"{mark} {skill.text.get()}")
            if skill.id in shown:
                box.setChecked(True)
                box.setEnabled(False)
            self.skill_boxes.append((skill.id, box))
            skills_layout.addWidget(box)
        if detail.attempts:
            attempts = _("Quiz attempts: {attempts} ({failed} failed), best score {best}").format(
                attempts=detail.attempts, failed=detail.failed, best=detail.best or "—")
        else:
            attempts = _("Quiz attempts: none yet")
        self.attempts = QLabel(attempts)
        self.quiz = QLineEdit()
        self.quiz.setPlaceholderText(_("e.g. {correct}/{total}").format(
            correct=max(len(lesson.quiz) - 1, 0), total=len(lesson.quiz)))
        self.quiz.setEnabled(bool(lesson.quiz))
        self.quiz.setMaximumWidth(120)
        self.day = _date_edit(ctx.ws.today(), school_class.starts_on, ctx.ws.today())
        form = QFormLayout()
        form.addRow(_("Paper quiz score (right/questions):"), self.quiz)
        form.addRow(_("On:"), self.day)
        self.error = error_label()
        self.save_box = save_cancel_buttons(self)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.state)
        layout.addLayout(skills_layout)
        layout.addWidget(self.attempts)
        layout.addLayout(form)
        layout.addStretch(1)
        layout.addWidget(self.error)
        layout.addWidget(self.save_box)
        fit_to_screen(self, QSize(600, 460))

    def new_skills(self) -> list[str]:
        return [skill_id for skill_id, box in self.skill_boxes
                if box.isEnabled() and box.isChecked()]

    def save(self) -> None:
        quiz: tuple[int, int] | None = None
        text = self.quiz.text().strip()
        try:
            if text:
                quiz = parse_quiz(text)
        except ValidationError as error:
            show_invalid(self.error, error)
            return
        lessons, class_id, person_id = self.ctx.ws.lessons, self.school_class.id, self.person_id
        lesson_id, skills, day = self.lesson.id, self.new_skills(), pydate(self.day.date())
        (Op(self.ctx, self, lambda _progress: lessons.record(
            class_id, person_id, lesson_id, skills=skills, quiz=quiz, on=day))
         .invalid(lambda error: show_invalid(self.error, error))
         .success(lambda _result: self.accept())
         .run())


# -- picking a lesson (and a learner) ---------------------------------------------------------
class LessonPickDialog(QDialog):
    """Which lesson to show on the projector, or which learner takes which lesson's quiz."""

    def __init__(self, title: str, lessons: Sequence[Lesson],
                 learners: Sequence[tuple[str, str]] | None = None,
                 parent: QWidget | None = None, *, quiz_only: bool = False):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.lesson = QComboBox()
        for number, lesson in enumerate(lessons, start=1):
            if quiz_only and not lesson.quiz:
                continue
            self.lesson.addItem(lesson_caption(number, lesson), lesson.id)
        self.learner: QComboBox | None = None
        form = QFormLayout()
        if learners is not None:
            self.learner = QComboBox()
            for person_id, name in learners:
                self.learner.addItem(name, person_id)
            form.addRow(_("Learner:"), self.learner)
        form.addRow(_("Lesson:"), self.lesson)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("Start"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Cancel"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        fit_to_screen(self, QSize(520, 160))

    def lesson_id(self) -> str:
        return str(self.lesson.currentData() or "")

    def person_id(self) -> str:
        return str(self.learner.currentData() or "") if self.learner is not None else ""


# -- certificates issued ----------------------------------------------------------------------
class CertificatesDialog(QDialog):
    """What a certificates run did: how many were issued into which PDF, who was withheld and
    why."""

    def __init__(self, report: IssueReport, parent: QWidget | None = None):
        super().__init__(parent)
        self.report = report
        self.setWindowTitle(_("Certificates"))
        issued = QLabel(ngettext("{count} certificate saved to {path}.",
                                 "{count} certificates saved to {path}.",
                                 len(report.issued)).format(
            count=format_number(len(report.issued)), path=str(report.path)))
        issued.setWordWrap(True)
        issued.setFont(scaled_font(issued, 1.05, bold=True))
        self.names = QListWidget()
        self.names.setWordWrap(True)
        for certificate in report.issued:
            QListWidgetItem(_("✓ {name}: certificate {code}").format(
                name=certificate.name, code=certificate.code), self.names)
        for withheld in report.withheld:
            QListWidgetItem(_("✗ {name}: {reason}").format(
                name=withheld.name, reason=withheld.reason), self.names)
        self.open_button = QPushButton(_("Open the PDF"))
        self.open_button.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(report.path))))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(_("Close"))
        buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(issued)
        if report.withheld:
            layout.addWidget(QLabel(counted(
                len(report.withheld), "{count} learner gets no certificate yet:",
                "{count} learners get no certificate yet:")))
        layout.addWidget(self.names, 1)
        layout.addWidget(buttons)
        fit_to_screen(self, QSize(640, 440))


# -- samples for the screen checks ------------------------------------------------------------
def _demo_class(ctx: AppContext) -> SchoolClass:
    classes = ctx.ws.lessons.classes()
    if not classes:
        raise LookupError("the demo workspace has no class")
    return classes[0]


def _demo_learners(ctx: AppContext, school_class: SchoolClass) -> list[tuple[str, str]]:
    return [(r.person_id, r.name) for r in ctx.ws.lessons.grid(school_class.id).learners]


@DIALOGS.register("new class")
def _sample_new_class(ctx: AppContext, parent: QWidget) -> QDialog:
    return NewClassDialog(ctx, parent)


@DIALOGS.register("course pack refused")
def _sample_pack_refused(ctx: AppContext, parent: QWidget) -> QDialog:
    refused = PackRefused([
        Problem("course.json", _("This is missing."), "lessons[3].quiz[2].answer"),
        Problem("lessons/04-vneid.vi.md", _("This is missing."), line=12),
    ] * 6)
    return PackProblemsDialog(Path("khoa-hoc.zip"), refused.problems, parent)


@DIALOGS.register("roll-call")
def _sample_roll_call(ctx: AppContext, parent: QWidget) -> QDialog:
    school_class = _demo_class(ctx)
    dialog = RollCallDialog(ctx, school_class, _demo_learners(ctx, school_class), parent)
    for row in range(min(4, len(dialog.learners))):
        dialog.mark(row, PRESENT if row != 2 else ABSENT)
    return dialog


@DIALOGS.register("enrol learners")
def _sample_enrol(ctx: AppContext, parent: QWidget) -> QDialog:
    return EnrolDialog(ctx, _demo_class(ctx), parent)


@DIALOGS.register("lesson detail")
def _sample_lesson_detail(ctx: AppContext, parent: QWidget) -> QDialog:
    school_class = _demo_class(ctx)
    person_id, name = _demo_learners(ctx, school_class)[0]
    pack = ctx.ws.lessons.course(school_class.course_id, school_class.course_version)
    detail = ctx.ws.lessons.learner_progress(school_class.id, person_id)
    # The lesson with the longest checklist, as the screen must fit it.
    number, lesson = max(enumerate(pack.lessons, start=1), key=lambda n: len(n[1].skills))
    return LessonDetailDialog(ctx, school_class, (person_id, name), lesson, number,
                              detail.lessons[number - 1], parent)


@DIALOGS.register("learner quiz choice")
def _sample_pick(ctx: AppContext, parent: QWidget) -> QDialog:
    school_class = _demo_class(ctx)
    pack = ctx.ws.lessons.course(school_class.course_id, school_class.course_version)
    return LessonPickDialog(_("Learner quiz"), pack.lessons,
                            _demo_learners(ctx, school_class), parent, quiz_only=True)


@DIALOGS.register("certificates issued")
def _sample_certificates(ctx: AppContext, parent: QWidget) -> QDialog:
    from dxkit.lessons.issuing import IssuedCertificate, Withheld

    school_class = _demo_class(ctx)
    rows = ctx.ws.lessons.grid(school_class.id).learners
    report = IssueReport(Path.home() / "chung-nhan-lop-ky-nang-so.pdf")
    for row in rows:
        if row.completed:
            report.issued.append(IssuedCertificate("c", row.person_id, row.name, "DX7K-2QF9",
                                                   "https://hub.example/c/x"))
        else:
            report.withheld.append(Withheld(row.person_id, row.name, _(
                "{mastered} of {lessons} lessons mastered.").format(
                    mastered=row.mastered, lessons=len(row.lessons))))
    return CertificatesDialog(report, parent)
