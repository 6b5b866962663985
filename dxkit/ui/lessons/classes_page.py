"""The trainers' page: the classes, and one class's grid of learners × lessons with what a
trainer does in the hall (roll-call, enrolling, the projector, the learner's quiz, the paper
register, the XLSX export and the certificates)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QUrl
from PySide6.QtGui import QBrush, QColor, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dxkit.core import i18n
from dxkit.core.i18n import _, format_date
from dxkit.core.progress import Progress
from dxkit.core.synced import Changes
from dxkit.lessons.grid_export import state_label, write_grid_xlsx
from dxkit.lessons.packs import CoursePack, PackRefused
from dxkit.lessons.register_pdf import write_class_register
from dxkit.lessons.service import ClassGrid, GridRow, SchoolClass
from dxkit.lessons.ui_queries import ClassRow, class_rows
from dxkit.ui.appearance import HINT_STYLE, scaled_font
from dxkit.ui.context import AppContext
from dxkit.ui.fitting import flow_row
from dxkit.ui.lessons.class_dialogs import (
    CertificatesDialog,
    EnrolDialog,
    LessonDetailDialog,
    LessonPickDialog,
    NewClassDialog,
    PackProblemsDialog,
    RollCallDialog,
)
from dxkit.ui.page import Page
from dxkit.ui.widgets import RowsTableModel, show_message

WATCHED_TABLES = ("classes", "class_learners", "lesson_events", "course_packs", "people",
                  "team_members")
FILLS = {"mastered": "#c8e6c9", "in_progress": "#fff59d", "needs_help": "#ffcdd2",
         "not_started": "#ffffff"}
SYMBOLS = {"mastered": "✓", "in_progress": "…", "needs_help": "!", "not_started": "·"}
LESSON_COLUMN_WIDTH = 28  # a symbol; the header's tooltip names the lesson
NAME_COLUMN_WIDTH = 180


def state_symbol(state: str) -> str:
    return SYMBOLS.get(state, "?")


def legend() -> str:
    return "   ".join(f"{SYMBOLS[s]} {state_label(s)}"
                      for s in ("mastered", "in_progress", "needs_help", "not_started"))


# -- the classes list -------------------------------------------------------------------------
class ClassesModel(RowsTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[ClassRow] = []

    @staticmethod
    def headers() -> list[str]:
        return [_("Class"), _("Course"), _("Starts"), _("Learners"), _("Need help"),
                _("Completed")]

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (row.name, row.course_title, format_date(row.starts_on), str(row.learners),
                    str(row.needing_help), str(row.completed))[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 4 and row.needing_help:
            return QBrush(QColor("#b00020"))
        return None

    def set_rows(self, rows: list[ClassRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()


# -- the grid ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClassView:
    """What the class screen shows, read on the database thread."""

    school_class: SchoolClass
    pack: CoursePack
    grid: ClassGrid


class GridModel(RowsTableModel):
    """Learners × lessons: the name, a symbol per lesson on its state's colour (the symbol and
    the tooltip say it without colour), lessons mastered, sessions attended, completion."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[GridRow] = []
        self.lesson_ids: tuple[str, ...] = ()
        self.titles: dict[str, str] = {}

    def headers(self) -> list[str]:  # type: ignore[override]
        return [_("Learner"), *(str(n) for n in range(1, len(self.lesson_ids) + 1)),
                _("Mastered"), _("Attended"), _("Completed")]

    def set_grid(self, view: ClassView, only_needing_help: bool) -> None:
        self.beginResetModel()
        grid = view.grid
        self.lesson_ids = grid.lesson_ids
        self.titles = {lesson.id: lesson.title.get() for lesson in view.pack.lessons}
        self.rows = list(grid.needing_help() if only_needing_help else grid.learners)
        self.endResetModel()

    def lesson_at(self, column: int) -> str | None:
        return self.lesson_ids[column - 1] if 1 <= column <= len(self.lesson_ids) else None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        lesson_id = self.lesson_at(section)
        if role == Qt.ItemDataRole.ToolTipRole and lesson_id is not None:
            return _("Lesson {number}: {title}").format(number=section,
                                                        title=self.titles.get(lesson_id, ""))
        return super().headerData(section, orientation, role)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = self.rows[index.row()], index.column()
        lesson_id = self.lesson_at(column)
        if lesson_id is not None:
            state = row.lessons.get(lesson_id, "not_started")
            if role == Qt.ItemDataRole.DisplayRole:
                return state_symbol(state)
            if role == Qt.ItemDataRole.BackgroundRole:
                return QBrush(QColor(FILLS.get(state, "#ffffff")))
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor("#111111"))
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return Qt.AlignmentFlag.AlignCenter
            if role == Qt.ItemDataRole.ToolTipRole:
                return _("{name} — lesson {number} ({title}): {state}").format(
                    name=row.name, number=column, title=self.titles.get(lesson_id, ""),
                    state=state_label(state))
            return None
        last = len(self.lesson_ids)
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return row.name
            if column == last + 1:
                return f"{row.mastered}/{last}"
            if column == last + 2:
                return f"{row.attended}/{row.sessions}"
            return _("✓ completed") if row.completed else ""
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return _("Open {name}'s household").format(name=row.name)
        if role == Qt.ItemDataRole.ForegroundRole and column == 0:
            return QBrush(QColor("#1d4ed8"))
        if role == Qt.ItemDataRole.ForegroundRole and column == last + 3:
            return QBrush(QColor("#1b7f3b"))
        return None


# -- the page ---------------------------------------------------------------------------------
class ClassesPage(Page):
    WATCHED = WATCHED_TABLES

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.rows_loaded = False
        self.view: ClassView | None = None
        self.class_id: str | None = None
        self.windows: list[QWidget] = []  # the projector and quiz windows, kept alive
        self.last_dialog: QDialog | None = None
        self.last_path: Path | None = None
        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_list())
        self.stack.addWidget(self._build_class())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.refresh()

    # -- building -------------------------------------------------------------------------
    def _build_list(self) -> QWidget:
        box = QWidget()
        heading = QLabel(_("Classes"))
        heading.setFont(scaled_font(heading, 1.3, bold=True))
        self.new_button = QPushButton(_("New class…"))
        self.new_button.clicked.connect(self.new_class)
        self.import_button = QPushButton(_("Import a course pack…"))
        self.import_button.clicked.connect(lambda: self.import_pack())
        self.open_button = QPushButton(_("Open class"))
        self.open_button.clicked.connect(self.open_selected)
        self.classes_model = ClassesModel()
        self.classes_table = QTableView()
        self.classes_table.setModel(self.classes_model)
        self.classes_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.classes_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.classes_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.classes_table.verticalHeader().hide()
        self.classes_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.Stretch)
        self.classes_table.doubleClicked.connect(
            lambda index: self.open_class(self.classes_model.rows[index.row()].id))
        self.empty_hint = QLabel(_("No class yet. Create one from an installed course, then "
                                   "enrol its learners."))
        self.empty_hint.setStyleSheet(HINT_STYLE)
        self.empty_hint.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(heading, 1)
        layout = QVBoxLayout(box)
        layout.addLayout(top)
        layout.addLayout(flow_row(self.new_button, self.import_button, self.open_button))
        layout.addWidget(self.empty_hint)
        layout.addWidget(self.classes_table, 1)
        return box

    def _build_class(self) -> QWidget:
        box = QWidget()
        self.back_button = QPushButton(_("← All classes"))
        self.back_button.clicked.connect(self.show_list)
        self.class_heading = QLabel()
        self.class_heading.setFont(scaled_font(self.class_heading, 1.2, bold=True))
        self.class_heading.setWordWrap(True)
        self.class_info = QLabel()
        self.class_info.setWordWrap(True)
        self.class_info.setStyleSheet(HINT_STYLE)
        top = QHBoxLayout()
        top.addWidget(self.back_button)
        top.addWidget(self.class_heading, 1)

        self.roll_call_button = QPushButton(_("Roll-call…"))
        self.roll_call_button.clicked.connect(self.roll_call)
        self.enrol_button = QPushButton(_("Enrol learners…"))
        self.enrol_button.clicked.connect(self.enrol)
        self.present_button = QPushButton(_("Present lesson…"))
        self.present_button.clicked.connect(self.present_lesson)
        self.quiz_button = QPushButton(_("Learner quiz…"))
        self.quiz_button.clicked.connect(self.learner_quiz)
        self.register_button = QPushButton(_("Print register…"))
        self.register_button.clicked.connect(lambda: self.print_register())
        self.export_button = QPushButton(_("Export to Excel…"))
        self.export_button.clicked.connect(lambda: self.export_grid())
        self.certificates_button = QPushButton(_("Certificates…"))
        self.certificates_button.clicked.connect(lambda: self.certificates())
        self.action_buttons = [self.roll_call_button, self.enrol_button, self.present_button,
                        self.quiz_button, self.register_button, self.export_button,
                        self.certificates_button]

        self.needs_help = QCheckBox(_("Only learners who need help"))
        self.needs_help.toggled.connect(lambda _on: self._show_grid())
        self.legend = QLabel(legend())
        self.legend.setStyleSheet(HINT_STYLE)
        filters = QHBoxLayout()
        filters.addWidget(self.needs_help)
        filters.addStretch(1)
        filters.addWidget(self.legend)

        self.grid_model = GridModel()
        self.grid_table = QTableView()
        self.grid_table.setModel(self.grid_model)
        self.grid_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grid_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid_table.verticalHeader().hide()
        self.grid_table.setWordWrap(False)
        self.grid_table.clicked.connect(self.cell_clicked)
        layout = QVBoxLayout(box)
        layout.addLayout(top)
        layout.addWidget(self.class_info)
        layout.addLayout(flow_row(*self.action_buttons))
        layout.addLayout(filters)
        layout.addWidget(self.grid_table, 1)
        return box

    # -- loading --------------------------------------------------------------------------
    def refresh(self) -> None:
        ws = self.ws
        self.query(lambda _progress: class_rows(ws), "list").success(self._show_rows).run()
        if self.class_id is not None:
            self._load_class(self.class_id)

    def _show_rows(self, rows: list[ClassRow]) -> None:
        selected = self.selected_class_id()
        self.classes_model.set_rows(rows)
        self.empty_hint.setVisible(not rows)
        self.open_button.setEnabled(bool(rows))
        target = next((i for i, r in enumerate(rows) if r.id == selected), 0)
        if rows:
            self.classes_table.selectRow(target)
        self.rows_loaded = True

    def selected_class_id(self) -> str | None:
        model = self.classes_table.selectionModel()
        picked = model.selectedRows() if model is not None else []
        return self.classes_model.rows[picked[0].row()].id if picked else None

    def open_selected(self) -> None:
        class_id = self.selected_class_id()
        if class_id is not None:
            self.open_class(class_id)

    def open_class(self, class_id: str) -> None:
        self.class_id = class_id
        self.view = None
        self.stack.setCurrentIndex(1)
        self._enable_actions()
        self._load_class(class_id)

    def show_list(self) -> None:
        self.class_id = None
        self.view = None
        self.stack.setCurrentIndex(0)

    def _load_class(self, class_id: str) -> None:
        lessons = self.ws.lessons

        def work(_progress: Progress) -> ClassView:
            school_class = lessons.get_class(class_id)
            pack = lessons.course(school_class.course_id, school_class.course_version)
            return ClassView(school_class, pack, lessons.grid(class_id))

        (self.query(work, "class").success(self._show_class)
         .failure(self._class_failed).run())

    def _class_failed(self, error: BaseException) -> None:
        self.show_list()
        self.last_dialog = show_message(self, str(error))

    def _show_class(self, view: ClassView) -> None:
        self.view = view
        c = view.school_class
        self.class_heading.setText(c.name)
        members = {m.id: m.name for m in self.ws.catalog.members(include_inactive=True)}
        trainers = ", ".join(members.get(t, t) for t in c.trainers) or "—"
        self.class_info.setText(_(
            "{course} · {place} · from {start} · trainers: {trainers} · {learners} learners, "
            "{help} need help").format(
                course=view.pack.title.get(), place=c.place or "—",
                start=format_date(c.starts_on), trainers=trainers,
                learners=len(view.grid.learners), help=len(view.grid.needing_help())))
        self._show_grid()
        self._enable_actions()

    def _show_grid(self) -> None:
        if self.view is None:
            return
        self.grid_model.set_grid(self.view, self.needs_help.isChecked())
        header = self.grid_table.horizontalHeader()
        self.grid_table.resizeColumnToContents(0)
        header.resizeSection(0, min(header.sectionSize(0) + 8, NAME_COLUMN_WIDTH))
        lessons = len(self.grid_model.lesson_ids)
        for column in range(1, lessons + 1):
            header.resizeSection(column, LESSON_COLUMN_WIDTH)
        for column in (lessons + 1, lessons + 2):
            self.grid_table.resizeColumnToContents(column)
        header.setStretchLastSection(True)

    def _enable_actions(self) -> None:
        has_learners = self.view is not None and bool(self.view.grid.learners)
        for button in self.action_buttons:
            button.setEnabled(self.view is not None)
        for button in (self.roll_call_button, self.quiz_button, self.certificates_button):
            button.setEnabled(has_learners)

    def on_changed(self, changes: Changes) -> None:
        self.refresh()

    def learners(self) -> list[tuple[str, str]]:
        return [(r.person_id, r.name) for r in self.view.grid.learners] if self.view else []

    # -- the grid's clicks ----------------------------------------------------------------
    def cell_clicked(self, index: QModelIndex) -> QWidget | None:
        if self.view is None or not index.isValid():
            return None
        row = self.grid_model.rows[index.row()]
        if index.column() == 0:
            return self.open_household(row.person_id)
        lesson_id = self.grid_model.lesson_at(index.column())
        if lesson_id is None:
            return None
        return self.lesson_detail(row.person_id, lesson_id)

    def open_household(self, person_id: str) -> QWidget:
        from dxkit.ui.household_view import HouseholdView

        household_id = self.ws.people.get(person_id).household_id
        view = HouseholdView(self.ctx, household_id, parent=self)
        view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        view.show()
        return view

    def lesson_detail(self, person_id: str, lesson_id: str) -> LessonDetailDialog | None:
        if self.view is None:
            return None
        view = self.view
        detail = self.ws.lessons.learner_progress(view.school_class.id, person_id)
        number = next(i for i, lesson in enumerate(view.pack.lessons, start=1)
                      if lesson.id == lesson_id)
        name = next(r.name for r in view.grid.learners if r.person_id == person_id)
        dialog = LessonDetailDialog(self.ctx, view.school_class, (person_id, name),
                                    view.pack.lessons[number - 1], number,
                                    detail.lessons[number - 1], self)
        return self._open(dialog)  # type: ignore[no-any-return]

    def _open(self, dialog: Any) -> Any:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.last_dialog = dialog
        dialog.open()
        return dialog

    # -- the list's actions ---------------------------------------------------------------
    def new_class(self) -> NewClassDialog:
        dialog = NewClassDialog(self.ctx, self)
        dialog.saved.connect(self._class_created)
        return self._open(dialog)  # type: ignore[no-any-return]

    def _class_created(self, school_class: SchoolClass | None) -> None:
        if school_class is not None:
            self.open_class(school_class.id)

    def ask_open_path(self) -> str:
        path, _filter = QFileDialog.getOpenFileName(
            self, _("Import a course pack"), str(Path.home()), _("Course packs (*.zip)"))
        return path

    def import_pack(self, path: str | None = None) -> None:
        if path is None:
            path = self.ask_open_path()
            if not path:
                return
        lessons, source = self.ws.lessons, Path(path)
        (self.op(lambda _progress: lessons.import_pack(source))
         .with_progress(_("Checking the course pack"), cancellable=False)
         .success(lambda result: self.ctx.notice.emit(_("Course “{title}” installed.").format(
             title=result.value.title)))
         .failure(lambda error: self._import_failed(source, error))
         .run())

    def _import_failed(self, source: Path, error: BaseException) -> None:
        if isinstance(error, PackRefused):
            self._open(PackProblemsDialog(source, error.problems, self))
        else:
            self.last_dialog = show_message(self, str(error))

    # -- the class's actions --------------------------------------------------------------
    def roll_call(self) -> RollCallDialog | None:
        if self.view is None:
            return None
        return self._open(  # type: ignore[no-any-return]
            RollCallDialog(self.ctx, self.view.school_class, self.learners(), self))

    def enrol(self) -> EnrolDialog | None:
        if self.view is None:
            return None
        return self._open(  # type: ignore[no-any-return]
            EnrolDialog(self.ctx, self.view.school_class, self))

    def present_lesson(self) -> LessonPickDialog | None:
        if self.view is None:
            return None
        view = self.view
        dialog = LessonPickDialog(_("Present lesson"), view.pack.lessons, None, self)
        dialog.accepted.connect(lambda: self.start_presentation(dialog.lesson_id()))
        return self._open(dialog)  # type: ignore[no-any-return]

    def start_presentation(self, lesson_id: str) -> QWidget | None:
        from dxkit.ui.lessons.presentation import PresentationWindow

        if self.view is None or not lesson_id:
            return None
        window = PresentationWindow(self.view.pack, lesson_id, i18n.language())
        self._keep(window)
        window.present()
        return window

    def learner_quiz(self) -> LessonPickDialog | None:
        if self.view is None:
            return None
        dialog = LessonPickDialog(_("Learner quiz"), self.view.pack.lessons, self.learners(),
                                  self, quiz_only=True)
        dialog.accepted.connect(lambda: self.start_quiz(dialog.person_id(), dialog.lesson_id()))
        return self._open(dialog)  # type: ignore[no-any-return]

    def start_quiz(self, person_id: str, lesson_id: str) -> QWidget | None:
        from dxkit.ui.lessons.learner_mode import LearnerQuizWindow, QuizResult

        if self.view is None or not person_id or not lesson_id:
            return None
        class_id = self.view.school_class.id
        lessons = self.ws.lessons

        def finished(result: QuizResult) -> None:
            (self.op(lambda _progress: lessons.record(
                class_id, person_id, result.lesson_id, quiz=(result.right, result.asked),
                source="learner"))
             .success(lambda _r: self.ctx.notice.emit(_("Quiz result saved: {right}/{asked}.")
                                                      .format(right=result.right,
                                                              asked=result.asked)))
             .run())

        window = LearnerQuizWindow(self.view.pack.lesson(lesson_id), i18n.language(), finished)
        self._keep(window)
        window.present()
        return window

    def _keep(self, window: QWidget) -> None:
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.windows.append(window)
        window.destroyed.connect(lambda _obj=None, w=window: self._forget(w))

    def _forget(self, window: QWidget) -> None:
        if window in self.windows:
            self.windows.remove(window)

    def ask_save_path(self, title: str, suggested: str, kind: str) -> str:
        """Where to save (the system's dialog); "" if cancelled."""
        path, _filter = QFileDialog.getSaveFileName(self, title, str(Path.home() / suggested),
                                                    kind)
        return path

    def open_file(self, path: Path) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def _target(self, path: str | None, title: str, suffix: str, kind: str) -> Path | None:
        if self.view is None:
            return None
        if path is None:
            path = self.ask_save_path(title, f"{self.view.school_class.name}{suffix}", kind)
        if not path:
            return None
        return Path(path if path.lower().endswith(suffix) else path + suffix)

    def print_register(self, path: str | None = None) -> bool:
        target = self._target(path, _("Save the class register as PDF"), ".pdf", _("PDF (*.pdf)"))
        if target is None or self.view is None:
            return False
        ws, class_id = self.ws, self.view.school_class.id
        (self.op(lambda _progress: write_class_register(ws, class_id, target))
         .with_progress(_("Drawing the class register"), cancellable=False)
         .success(lambda _pages: self._saved_file(target, open_it=True))
         .run())
        return True

    def export_grid(self, path: str | None = None) -> bool:
        target = self._target(path, _("Export the class grid"), ".xlsx",
                              _("Excel workbooks (*.xlsx)"))
        if target is None or self.view is None:
            return False
        ws, class_id = self.ws, self.view.school_class.id
        (self.op(lambda _progress: write_grid_xlsx(ws, class_id, target))
         .with_progress(_("Writing the class grid"), cancellable=False)
         .success(lambda _path: self._saved_file(target, open_it=False))
         .run())
        return True

    def _saved_file(self, path: Path, open_it: bool) -> None:
        self.last_path = path
        self.ctx.notice.emit(_("Saved to {path}.").format(path=path))
        if open_it:
            self.open_file(path)

    def signer(self) -> Any:
        """The team's certificate signer on this laptop, or None without a key yet."""
        from dxkit.lessons.issuing import Signer
        from dxkit.sync.apply import META_SERVER, META_TEAM
        from dxkit.sync.teamkey import certificate_signing

        meta = self.ws.meta()
        team_id, hub_url = meta.get(META_TEAM, ""), meta.get(META_SERVER, "")
        signing = certificate_signing(team_id) if team_id else None
        if signing is None or not hub_url:
            return None
        return Signer(signing.signing_key, signing.key_certificate, hub_url)

    def certificates(self, path: str | None = None) -> bool:
        from dxkit.lessons.issuing import issue_certificates

        if self.view is None:
            return False
        signer = self.signer()
        if signer is None:
            self.last_dialog = show_message(self, _(
                "This laptop has no certificate key from the hub yet: enroll it in the team "
                "(Settings → Sync) or sync once, then issue the certificates."))
            return False
        target = self._target(path, _("Save the certificates as PDF"), ".pdf",
                              _("PDF (*.pdf)"))
        if target is None:
            return False
        ws, class_id = self.ws, self.view.school_class.id
        (self.op(lambda progress: issue_certificates(ws, class_id, signer, target,
                                                     progress=progress))
         .with_progress(_("Drawing the certificates"))
         .success(lambda result: self._open(CertificatesDialog(result.value, self)))
         .run())
        return True
