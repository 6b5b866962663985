"""Open follow-ups: who needs a return visit or a call, overdue first, with the visit, a close
without a visit and the day's printed call list one step away."""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt, QTimer, QUrl
from PySide6.QtGui import QBrush, QColor, QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.errors import ValidationError
from dxkit.core.i18n import _, counted, format_date
from dxkit.core.phones import spaced_phone
from dxkit.core.progress import Progress
from dxkit.core.synced import Changes
from dxkit.core.text import folded_key
from dxkit.households.followups import NOTE_LENGTH, REASONS, reason_label
from dxkit.households.followups import due_text as _due_text
from dxkit.households.visits import FollowUp
from dxkit.ui.appearance import HINT_STYLE, scaled_font
from dxkit.ui.context import AppContext
from dxkit.ui.fitting import DIALOGS, fit_to_screen, flow_row, keep_together
from dxkit.ui.operations import Op
from dxkit.ui.page import Page
from dxkit.ui.widgets import (
    FieldErrors,
    FieldWithError,
    RowsTableModel,
    fill_choices,
    save_cancel_buttons,
)

if TYPE_CHECKING:
    from dxkit.households.call_list import CallListFile

OVERDUE_COLOUR = QColor("#b3261e")
DUE_TODAY_COLOUR = QColor("#9a5b00")
CLOSED_COLOUR = QColor("#6b6b6b")
WATCHED_TABLES = ("visits", "follow_up_closures", "households", "people", "hamlets",
                  "team_members", "support_items")
REFRESH_DELAY_MS = 250  # the horizon spin box asks again only once the user stops stepping
CLOSE_KEYS = "Ctrl+D"  # close the selected follow-up, or reopen it when it is closed
PRINT_KEYS = "Ctrl+P"  # the day's call list
PENDING_COLUMN_WIDTH = 240  # "still to do" is cut with "…" past this; its tooltip has it all

ModelIndex = QModelIndex | QPersistentModelIndex


def due_text(follow_up: FollowUp) -> str:
    """"quá hạn 3 ngày", "đến hạn hôm nay", "còn 5 ngày"."""
    return _due_text(follow_up.overdue_days)


def status_text(follow_up: FollowUp, note: bool = False) -> str:
    """How late it is, or how it was closed: "Đã đóng: Hộ đã chuyển đi" (and the note after
    it with `note`: the table keeps it for the tooltip, where it has room)."""
    closed = follow_up.closed
    if closed is not None:
        reason = closed.reason_text if note else reason_label(closed.reason or "")
        return _("Closed: {reason}").format(reason=reason)
    return due_text(follow_up)


def hamlet_summary(follow_ups: list[FollowUp], rich: bool = False) -> list[str]:
    """One entry per hamlet: "Ấp Mỹ Hưng: 3 quá hạn, 2 sắp đến hạn" (as HTML when rich, with
    the hamlet in bold and a non-zero overdue count in red, never wrapped inside an entry).
    Closed follow-ups are not counted: nothing is left to do for them."""
    still_open = [f for f in follow_ups if f.closed is None]
    overdue = Counter(f.hamlet for f in still_open if f.overdue)
    upcoming = Counter(f.hamlet for f in still_open if not f.overdue)
    lines = []
    for hamlet in sorted(set(overdue) | set(upcoming), key=folded_key):
        late, soon = str(overdue[hamlet]), str(upcoming[hamlet])
        if rich:
            hamlet_text = f"<b>{html.escape(hamlet)}</b>"
            if overdue[hamlet]:
                late = f'<span style="color: {OVERDUE_COLOUR.name()};">{late}</span>'
        else:
            hamlet_text = hamlet
        line = _("{hamlet}: {overdue} overdue, {due} due soon").format(
            hamlet=hamlet_text, overdue=late, due=soon)
        lines.append(f'<span style="white-space: nowrap;">{line}</span>' if rich else line)
    return lines


class FollowUpsModel(RowsTableModel):
    """The columns a team member works from. The phone is shown in full, unlike in the
    household list: calling is what this list is for (see Visits.follow_ups)."""

    PENDING = 5

    def __init__(self, member_names: dict[str, str] | None = None):
        super().__init__()
        self.rows: list[FollowUp] = []
        self.member_names = member_names or {}

    @staticmethod
    def headers() -> list[str]:
        return [_("Due date"), _("Status"), _("Household code"), _("Head of household"),
                _("Phone"), _("Still to do"), _("Hamlet"), _("Team members"), _("Notes")]

    def set_rows(self, rows: list[FollowUp], member_names: dict[str, str]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.member_names = member_names
        self.endResetModel()

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        follow_up = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(follow_up, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.PENDING:
                return "\n".join(follow_up.pending)
            if column == 1:
                return status_text(follow_up, note=True)
            return self._text(follow_up, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            if follow_up.closed is not None:
                return QBrush(CLOSED_COLOUR)
            if column == 1 and follow_up.overdue:
                return QBrush(OVERDUE_COLOUR)
            if column == 1 and follow_up.overdue_days == 0:
                return QBrush(DUE_TODAY_COLOUR)
        if role == Qt.ItemDataRole.UserRole:
            return follow_up
        return None

    def _text(self, follow_up: FollowUp, column: int) -> str:
        if column == 0:
            return format_date(follow_up.due_on)
        if column == 1:
            return status_text(follow_up)
        if column == 4:
            return spaced_phone(follow_up.phone)
        if column == self.PENDING:
            return "; ".join(follow_up.pending)
        if column == 7:
            return ", ".join(self.member_names.get(m, "?") for m in follow_up.member_ids)
        return {2: follow_up.household_code, 3: follow_up.head_name, 6: follow_up.hamlet,
                8: follow_up.notes}[column]


class FollowUpsPage(Page):
    """Filters (hamlet, team member, horizon, closed ones too), a per-hamlet summary, the list
    itself and what to do with a row: record the visit, close it without one (or reopen it),
    and print the day's call list."""

    WATCHED = WATCHED_TABLES

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.visit_dialog: QWidget | None = None
        self.close_dialog: CloseFollowUpDialog | None = None
        self.last_call_list: CallListFile | None = None
        # The last answer from the database thread: every hamlet's follow-ups for the chosen
        # member and horizon (the hamlet filter only narrows the table, in memory).
        self.everywhere: list[FollowUp] = []
        self.loaded = False
        self._build()
        self.retranslate()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.hamlet_label = QLabel()
        self.hamlet_filter = QComboBox()
        self.member_label = QLabel()
        self.member_filter = QComboBox()
        self.within_label = QLabel()
        self.within_days = QSpinBox()
        self.within_days.setRange(0, 365)
        self.within_days.setValue(7)
        self.days_label = QLabel()
        self.show_closed = QCheckBox()
        layout.addLayout(flow_row(
            keep_together(self.hamlet_label, self.hamlet_filter),
            keep_together(self.member_label, self.member_filter),
            keep_together(self.within_label, self.within_days, self.days_label),
            self.show_closed))
        self.summary_lines: list[str] = []
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("padding: 4px 0;")
        scaled_font(self.summary, 1.2)
        layout.addWidget(self.summary)
        self.model = FollowUpsModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # What is still to do can be long: a fixed column, cut with "…", whole in its tooltip.
        header.setSectionResizeMode(FollowUpsModel.PENDING, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda index: self.open_visit(index.row()))
        self.table.selectionModel().selectionChanged.connect(
            lambda *_args: self._enable_actions())
        shortcut = QShortcut(QKeySequence(Qt.Key.Key_Return), self.table)
        shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        shortcut.activated.connect(self.open_selected)
        layout.addWidget(self.table, 1)
        self.empty_label = QLabel()
        self.empty_label.setStyleSheet(HINT_STYLE)
        layout.addWidget(self.empty_label)
        self.visit_button = QPushButton()
        self.visit_button.clicked.connect(self.open_selected)
        self.close_button = QPushButton()
        self.close_button.clicked.connect(self.close_or_reopen)
        self.print_button = QPushButton()
        self.print_button.clicked.connect(lambda: self.print_call_list())
        buttons = QHBoxLayout()
        buttons.addWidget(self.visit_button)
        buttons.addWidget(self.close_button)
        buttons.addStretch(1)
        buttons.addWidget(self.print_button)
        layout.addLayout(buttons)
        for keys, action in ((CLOSE_KEYS, self.close_or_reopen),
                             (PRINT_KEYS, lambda: self.print_call_list())):
            key = QShortcut(QKeySequence(keys), self)
            key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            key.activated.connect(action)
        self.refresh_timer = QTimer(self)
        self.refresh_timer.setSingleShot(True)
        self.refresh_timer.setInterval(REFRESH_DELAY_MS)
        self.refresh_timer.timeout.connect(self.refresh)
        self.hamlet_filter.currentIndexChanged.connect(self._show_rows)
        self.member_filter.currentIndexChanged.connect(self.refresh)
        self.within_days.valueChanged.connect(lambda _days: self.refresh_timer.start())
        self.show_closed.toggled.connect(lambda _on: self.refresh())
        self._enable_actions()

    def retranslate(self) -> None:
        self.hamlet_label.setText(_("Hamlet:"))
        self.member_label.setText(_("Team member:"))
        self.within_label.setText(_("Due within"))
        self.days_label.setText(_("days"))
        tip = _("Overdue follow-ups always show, whatever the number of days.")
        for widget in (self.within_label, self.within_days, self.days_label):
            widget.setToolTip(tip)
        self.show_closed.setText(_("Show closed ones too"))
        self.show_closed.setToolTip(_("Follow-ups closed without a visit, to reopen one"))
        self.visit_button.setText(_("Record the visit…"))
        self.visit_button.setToolTip(_("Open the visit form for the selected household "
                                       "(or double-click a row)"))
        self.print_button.setText(_("Print the call list… ({keys})").format(keys=PRINT_KEYS))
        self.print_button.setToolTip(_(
            "A PDF of the follow-ups due today or overdue, by hamlet, with phones and what is "
            "still to do, to print and take along (the hamlet and team member chosen above)"))
        self._enable_actions()
        self._fill_filters()
        self.refresh()

    def _fill_filters(self) -> None:
        """Hamlet and member lists, keeping the current choice when it still exists."""
        fill_choices(self.hamlet_filter, _("All hamlets"),
                     [(h.id, h.name) for h in self.ws.catalog.hamlets()])
        fill_choices(self.member_filter, _("All team members"),
                     [(m.id, m.name) for m in self.ws.catalog.members()])

    # -- data ---------------------------------------------------------------------------
    def set_hamlet(self, hamlet_id: str | None) -> None:
        self.hamlet_filter.setCurrentIndex(max(self.hamlet_filter.findData(hamlet_id), 0))

    def set_member(self, member_id: str | None) -> None:
        self.member_filter.setCurrentIndex(max(self.member_filter.findData(member_id), 0))

    def refresh(self) -> None:
        """Ask the database thread once for every hamlet's follow-ups; the answer fills the
        summary and, narrowed to the chosen hamlet, the table."""
        self.refresh_timer.stop()
        within, member_id = self.within_days.value(), self.member_filter.currentData()
        closed = self.show_closed.isChecked()
        visits, catalog = self.ws.visits, self.ws.catalog

        def work(_progress: Progress) -> tuple[list[FollowUp], dict[str, str]]:
            names = {m.id: m.name for m in catalog.members(include_inactive=True)}
            return visits.follow_ups(within_days=within, member_id=member_id,
                                     include_closed=closed), names

        # Answers to an older question (another member, another horizon) are dropped.
        self.query(work).success(lambda result: self._loaded(*result)).run()

    def _loaded(self, everywhere: list[FollowUp], member_names: dict[str, str]) -> None:
        self.everywhere = everywhere
        self.model.member_names = member_names
        self.loaded = True
        self._show_rows()

    def _show_rows(self, _index: int = 0) -> None:
        if not self.loaded:
            return
        selected = self.selected()
        hamlet_id = self.hamlet_filter.currentData()
        shown = [f for f in self.everywhere if not hamlet_id or f.hamlet_id == hamlet_id]
        self.model.set_rows(shown, self.model.member_names)
        pending = FollowUpsModel.PENDING
        wanted = self.table.sizeHintForColumn(pending) if shown else 0
        self.table.horizontalHeader().resizeSection(pending, max(
            self.table.horizontalHeader().sectionSizeFromContents(pending).width(),
            min(wanted, PENDING_COLUMN_WIDTH)))
        if selected is not None:  # the same household stays selected after a refresh
            self.select(selected.household_id)
        # The summary covers every hamlet so a team sees where the work is.
        self.summary_lines = hamlet_summary(self.everywhere)
        self.summary.setText(" &nbsp;·&nbsp; ".join(hamlet_summary(self.everywhere, rich=True)))
        self.summary.setVisible(bool(self.summary_lines))
        self.empty_label.setText(_("No follow-ups due in this period.") if not shown else "")
        self.empty_label.setVisible(not shown)
        self._enable_actions()

    def on_changed(self, changes: Changes) -> None:
        if changes.touched("hamlets") or changes.touched("team_members"):
            self._fill_filters()
        self.refresh()

    # -- the selected row ---------------------------------------------------------------
    def _selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def selected(self) -> FollowUp | None:
        row = self._selected_row()
        return self.model.rows[row] if row is not None and row < len(self.model.rows) else None

    def select(self, household_id: str) -> bool:
        for row, follow_up in enumerate(self.model.rows):
            if follow_up.household_id == household_id:
                self.table.selectRow(row)
                return True
        return False

    def _enable_actions(self) -> None:
        chosen = self.selected()
        self.visit_button.setEnabled(chosen is not None)
        self.close_button.setEnabled(chosen is not None and not self.busy)
        if chosen is not None and chosen.closed is not None:
            self.close_button.setText(_("Reopen ({keys})").format(keys=CLOSE_KEYS))
            self.close_button.setToolTip(_("The follow-up is due again, as before it was "
                                           "closed"))
        else:
            self.close_button.setText(_("Close without a visit… ({keys})").format(
                keys=CLOSE_KEYS))
            self.close_button.setToolTip(_("Settled another way (a phone call, the household "
                                           "moved away…): it leaves the list, with a reason"))

    # -- opening the visit form ---------------------------------------------------------
    def open_selected(self) -> None:
        row = self._selected_row()
        if row is not None:
            self.open_visit(row)

    def open_visit(self, row: int) -> QWidget | None:
        """The visit form for that household, non-modal so the list stays readable."""
        if not 0 <= row < len(self.model.rows):
            return None
        from dxkit.ui.visit_form import VisitDialog  # the form is only needed on demand

        dialog = VisitDialog(self.ctx, self.model.rows[row].household_id, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: setattr(self, "visit_dialog", None))
        self.visit_dialog = dialog
        dialog.open()
        return dialog

    # -- closing and reopening ----------------------------------------------------------
    def close_or_reopen(self) -> QDialog | None:
        """Ctrl+D: close the selected follow-up (asking why), or reopen it if it is closed."""
        chosen = self.selected()
        if chosen is None or self.busy:
            return None
        if chosen.closed is not None:
            self.reopen(chosen)
            return None
        dialog = CloseFollowUpDialog(self.ctx, chosen, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: setattr(self, "close_dialog", None))
        self.close_dialog = dialog
        dialog.open()
        return dialog

    def reopen(self, follow_up: FollowUp) -> None:
        visits, visit_id = self.ws.visits, follow_up.visit_id
        message = _("The follow-up of {code} is open again.").format(
            code=follow_up.household_code)
        (self.op(lambda _progress: visits.reopen_follow_up(visit_id))
         .while_running(lambda _running: self._enable_actions())
         .success(lambda _result: self.ctx.notice.emit(message))
         .run())

    # -- the call list ------------------------------------------------------------------
    def ask_where_to_save(self, suggested: Path) -> str:
        """The PDF's path, asked with the system's save dialog ("" if cancelled)."""
        path, _filter = QFileDialog.getSaveFileName(
            self, _("Save the call list as PDF"), str(suggested), _("PDF (*.pdf)"))
        return path

    def open_file(self, path: Path) -> None:
        """Show the saved list in the computer's PDF viewer, from which it is printed."""
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def print_call_list(self, path: str | None = None) -> bool:
        """Save the day's call list (due today and overdue, for the hamlet and member chosen
        above) as a PDF, then open it to print. Returns whether it was started."""
        if self.busy:
            return False
        day = self.ws.today()
        if path is None:
            name = _("call-list-{date}.pdf").format(date=day.isoformat())
            path = self.ask_where_to_save(Path.home() / name)
            if not path:
                return False
        from dxkit.households.call_list import write_call_list  # reportlab, when printing

        target = Path(path if path.lower().endswith(".pdf") else path + ".pdf")
        ws, hamlet_id = self.ws, self.hamlet_filter.currentData()
        member_id = self.member_filter.currentData()
        (self.op(lambda _progress: write_call_list(ws, target, day=day, hamlet_id=hamlet_id,
                                                   member_id=member_id))
         .with_progress(_("Drawing the call list"))
         .success(self._call_list_saved)
         .run())
        return True

    def _call_list_saved(self, written: CallListFile) -> None:
        self.last_call_list = written
        self.ctx.notice.emit(_("Call list of {households} saved to {path}.").format(
            households=counted(written.households, "{count} household", "{count} households"),
            path=str(written.path)))
        self.open_file(written.path)


class CloseFollowUpDialog(QDialog):
    """Why a follow-up is closed without a visit: one of four reasons (Alt+1…Alt+4, or the
    arrow keys), a note (needed for "Other"), then Close the follow-up (Enter)."""

    PREFERRED_SIZE = QSize(500, 360)

    def __init__(self, ctx: AppContext, follow_up: FollowUp, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.follow_up = follow_up
        self.saving = False
        self.closed_ok = False
        self.setWindowTitle(_("Close a follow-up without a visit"))
        layout = QVBoxLayout(self)
        about = QLabel(_("{code} — {head}: follow-up on {date} ({due})").format(
            code=follow_up.household_code, head=follow_up.head_name or "…",
            date=format_date(follow_up.due_on), due=due_text(follow_up)))
        about.setWordWrap(True)
        scaled_font(about, 1.1, bold=True)
        layout.addWidget(about)
        if follow_up.pending:
            pending = QLabel(_("Still to do: {items}").format(items="; ".join(
                follow_up.pending)))
            pending.setWordWrap(True)
            layout.addWidget(pending)
        layout.addWidget(QLabel(_("Why is it closed without a visit?")))
        self.reasons = QButtonGroup(self)
        reasons = QWidget()
        column = QVBoxLayout(reasons)
        column.setContentsMargins(12, 0, 0, 0)
        for number, reason in enumerate(REASONS, start=1):
            # Alt+1 … Alt+4 whatever the language: shortcuts made here, not in the catalog.
            keys = f"Alt+{number}"
            button = QRadioButton(f"{reason_label(reason)}   ({keys})")
            button.setProperty("reason", reason)
            self.reasons.addButton(button, number)
            column.addWidget(button)
            QShortcut(QKeySequence(keys), self, lambda b=button: self._pick(b))
        self.reason_field = FieldWithError(reasons)
        layout.addWidget(self.reason_field)
        layout.addWidget(QLabel(_("Note:")))
        self.note = QLineEdit()
        self.note.setMaxLength(NOTE_LENGTH)
        self.note.setPlaceholderText(_("Optional; say what happened when the reason is "
                                       "“Other”"))
        self.note_field = FieldWithError(self.note)
        layout.addWidget(self.note_field)
        general = QLabel()
        layout.addWidget(general)
        layout.addStretch(1)
        self.errors = FieldErrors(general)
        self.errors.add("reason", self.reason_field)
        self.errors.add("note", self.note_field)
        self.buttons = save_cancel_buttons(self, _("Close the follow-up"))
        layout.addWidget(self.buttons)
        self.reasons.buttons()[0].setFocus()
        fit_to_screen(self, self.PREFERRED_SIZE)

    def _pick(self, button: QAbstractButton) -> None:
        button.setChecked(True)
        button.setFocus()

    def choose(self, reason: str) -> None:
        for button in self.reasons.buttons():
            if button.property("reason") == reason:
                button.setChecked(True)

    def reason(self) -> str:
        checked = self.reasons.checkedButton()
        return str(checked.property("reason")) if checked is not None else ""

    def save(self) -> bool:
        """Record the close on the database thread; errors come back beside their field."""
        if self.saving:
            return False
        self.errors.clear()
        visits, visit_id = self.ctx.ws.visits, self.follow_up.visit_id
        reason, note = self.reason(), self.note.text()
        code = self.follow_up.household_code
        (Op(self.ctx, self, lambda _progress: visits.close_follow_up(visit_id, reason,
                                                                     note=note))
         .while_running(self._set_saving)
         .success(lambda result: self._closed(code, result.value.reason_text))
         .invalid(self._invalid)
         .run())
        return True

    def _set_saving(self, saving: bool) -> None:
        self.saving = saving
        self.buttons.setEnabled(not saving)

    def _invalid(self, error: ValidationError) -> None:
        self.errors.show(error.fields)

    def _closed(self, code: str, reason: str) -> None:
        self.closed_ok = True
        self.ctx.notice.emit(_("Follow-up of {code} closed: {reason}.").format(
            code=code, reason=reason))
        self.accept()


@DIALOGS.register("close follow-up")
def _sample_close_follow_up(ctx: AppContext, parent: QWidget) -> QDialog:
    """The longest overdue follow-up, "Other" chosen and a note typed."""
    found = ctx.ws.visits.follow_ups(within_days=365)
    chosen = max(found, key=lambda f: (len(f.pending), f.overdue_days))
    dialog = CloseFollowUpDialog(ctx, chosen, parent)
    dialog.choose("other")
    dialog.note.setText("Con gái ở TP.HCM đã hướng dẫn qua điện thoại")
    return dialog
