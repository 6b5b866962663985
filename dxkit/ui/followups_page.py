"""Open follow-ups: who needs a return visit, overdue first, with the visit one step away."""

from __future__ import annotations

import html
from collections import Counter
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.i18n import _, format_date
from dxkit.core.progress import Progress
from dxkit.core.synced import Changes
from dxkit.core.text import folded_key
from dxkit.households.visits import FollowUp
from dxkit.ui.appearance import HINT_STYLE, scaled_font
from dxkit.ui.context import AppContext
from dxkit.ui.page import Page
from dxkit.ui.widgets import RowsTableModel, fill_choices

OVERDUE_COLOUR = QColor("#b3261e")
DUE_TODAY_COLOUR = QColor("#9a5b00")
WATCHED_TABLES = ("visits", "households", "hamlets", "team_members")
REFRESH_DELAY_MS = 250  # the horizon spin box asks again only once the user stops stepping

ModelIndex = QModelIndex | QPersistentModelIndex


def due_text(follow_up: FollowUp) -> str:
    """"quá hạn 3 ngày", "đến hạn hôm nay", "còn 5 ngày"."""
    days = follow_up.overdue_days
    if days == 1:
        return _("1 day overdue")
    if days > 1:
        return _("{days} days overdue").format(days=days)
    if days == 0:
        return _("due today")
    if days == -1:
        return _("due tomorrow")
    return _("due in {days} days").format(days=-days)


def hamlet_summary(follow_ups: list[FollowUp], rich: bool = False) -> list[str]:
    """One entry per hamlet: "Ấp Mỹ Hưng: 3 quá hạn, 2 sắp đến hạn" (as HTML when rich, with
    the hamlet in bold and a non-zero overdue count in red, never wrapped inside an entry)."""
    overdue = Counter(f.hamlet for f in follow_ups if f.overdue)
    upcoming = Counter(f.hamlet for f in follow_ups if not f.overdue)
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
    def __init__(self, member_names: dict[str, str] | None = None):
        super().__init__()
        self.rows: list[FollowUp] = []
        self.member_names = member_names or {}

    @staticmethod
    def headers() -> list[str]:
        return [_("Due date"), _("Status"), _("Household code"), _("Head of household"),
                _("Hamlet"), _("Team members"), _("Notes")]

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
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._text(follow_up, column)
        if role == Qt.ItemDataRole.ForegroundRole and column == 1:
            if follow_up.overdue:
                return QBrush(OVERDUE_COLOUR)
            if follow_up.overdue_days == 0:
                return QBrush(DUE_TODAY_COLOUR)
        if role == Qt.ItemDataRole.UserRole:
            return follow_up
        return None

    def _text(self, follow_up: FollowUp, column: int) -> str:
        if column == 0:
            return format_date(follow_up.due_on)
        if column == 1:
            return due_text(follow_up)
        if column == 5:
            return ", ".join(self.member_names.get(m, "?") for m in follow_up.member_ids)
        return {2: follow_up.household_code, 3: follow_up.head_name, 4: follow_up.hamlet,
                6: follow_up.notes}[column]


class FollowUpsPage(Page):
    """Filters (hamlet, team member, horizon), a per-hamlet summary and the list itself."""

    WATCHED = WATCHED_TABLES

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.visit_dialog: QWidget | None = None
        # The last answer from the database thread: every hamlet's follow-ups for the chosen
        # member and horizon (the hamlet filter only narrows the table, in memory).
        self.everywhere: list[FollowUp] = []
        self.loaded = False
        self._build()
        self.retranslate()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        filters = QHBoxLayout()
        self.hamlet_label = QLabel()
        self.hamlet_filter = QComboBox()
        self.member_label = QLabel()
        self.member_filter = QComboBox()
        self.within_label = QLabel()
        self.within_days = QSpinBox()
        self.within_days.setRange(0, 365)
        self.within_days.setValue(7)
        self.days_label = QLabel()
        for widget in (self.hamlet_label, self.hamlet_filter, self.member_label,
                       self.member_filter, self.within_label, self.within_days,
                       self.days_label):
            filters.addWidget(widget)
        filters.addStretch(1)
        layout.addLayout(filters)
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
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda index: self.open_visit(index.row()))
        self.table.selectionModel().selectionChanged.connect(
            lambda *_args: self.visit_button.setEnabled(self._selected_row() is not None))
        shortcut = QShortcut(QKeySequence(Qt.Key.Key_Return), self.table)
        shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        shortcut.activated.connect(self.open_selected)
        layout.addWidget(self.table, 1)
        self.empty_label = QLabel()
        self.empty_label.setStyleSheet(HINT_STYLE)
        layout.addWidget(self.empty_label)
        buttons = QHBoxLayout()
        self.visit_button = QPushButton()
        self.visit_button.setEnabled(False)
        self.visit_button.clicked.connect(self.open_selected)
        buttons.addWidget(self.visit_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.refresh_timer = QTimer(self)
        self.refresh_timer.setSingleShot(True)
        self.refresh_timer.setInterval(REFRESH_DELAY_MS)
        self.refresh_timer.timeout.connect(self.refresh)
        self.hamlet_filter.currentIndexChanged.connect(self._show_rows)
        self.member_filter.currentIndexChanged.connect(self.refresh)
        self.within_days.valueChanged.connect(lambda _days: self.refresh_timer.start())

    def retranslate(self) -> None:
        self.hamlet_label.setText(_("Hamlet:"))
        self.member_label.setText(_("Team member:"))
        self.within_label.setText(_("Due within"))
        self.days_label.setText(_("days"))
        tip = _("Overdue follow-ups always show, whatever the number of days.")
        for widget in (self.within_label, self.within_days, self.days_label):
            widget.setToolTip(tip)
        self.visit_button.setText(_("Record the visit…"))
        self.visit_button.setToolTip(_("Open the visit form for the selected household "
                                       "(or double-click a row)"))
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
        visits, catalog = self.ws.visits, self.ws.catalog

        def work(_progress: Progress) -> tuple[list[FollowUp], dict[str, str]]:
            names = {m.id: m.name for m in catalog.members(include_inactive=True)}
            return visits.follow_ups(within_days=within, member_id=member_id), names

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
        hamlet_id = self.hamlet_filter.currentData()
        shown = [f for f in self.everywhere if not hamlet_id or f.hamlet_id == hamlet_id]
        self.model.set_rows(shown, self.model.member_names)
        # The summary covers every hamlet so a team sees where the work is.
        self.summary_lines = hamlet_summary(self.everywhere)
        self.summary.setText(" &nbsp;·&nbsp; ".join(hamlet_summary(self.everywhere, rich=True)))
        self.summary.setVisible(bool(self.summary_lines))
        self.empty_label.setText(_("No follow-ups due in this period.") if not shown else "")
        self.empty_label.setVisible(not shown)
        self.visit_button.setEnabled(self._selected_row() is not None)

    def on_changed(self, changes: Changes) -> None:
        if changes.touched("hamlets") or changes.touched("team_members"):
            self._fill_filters()
        self.refresh()

    # -- opening the visit form ---------------------------------------------------------
    def _selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

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
