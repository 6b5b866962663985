"""The households list: search as you type, hamlet filter, open, add, record a visit.

An empty workspace shows a short welcome instead of an empty table: add a household, import a
list, or create demo data to practise on (in the background, cancellable)."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dxkit import demo
from dxkit.core.errors import Cancelled
from dxkit.core.i18n import _, counted, format_number
from dxkit.core.synced import Changes
from dxkit.households.roster import Household
from dxkit.ui.appearance import HINT_STYLE, scaled_font
from dxkit.ui.context import AppContext
from dxkit.ui.household_forms import HouseholdForm
from dxkit.ui.household_view import VISIT_FORM_MODULE, HouseholdView
from dxkit.ui.households_model import HouseholdsTableModel
from dxkit.ui.page import Page
from dxkit.ui.taskman import Task
from dxkit.ui.widgets import fill_choices, module_available

SEARCH_DELAY_MS = 150
COLUMN_WIDTHS = (110, 220, 150, 300)
DEMO_SEED = 1
DEMO_HOUSEHOLDS = 600
IMPORT_SECTION = "transfer"  # the import & export section's key (sections.py)


class HouseholdTable(QTableView):
    """The list; Enter opens the selected household (double-click does too)."""

    enter_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.enter_pressed.emit()
            return
        super().keyPressEvent(event)


class HouseholdsPage(Page):
    section_requested = Signal(str)  # the main window shows that section
    WATCHED = ("households", "people", "hamlets", "team_members")

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.model = HouseholdsTableModel(ctx.ws, self)
        self.open_views: list[HouseholdView] = []
        self.demo_task: Task | None = None
        self._build()
        self._fill_hamlets()
        self._update_count()
        self._update_empty_state()

    def _build(self) -> None:
        self.search_box = QLineEdit()
        self.search_box.setPlaceholderText(
            _("Search by name, household code, phone… (no diacritics needed)"))
        self.search_box.setClearButtonEnabled(True)
        self.search_timer = QTimer(self)
        self.search_timer.setSingleShot(True)
        self.search_timer.setInterval(SEARCH_DELAY_MS)
        self.search_timer.timeout.connect(self.apply_search)
        self.search_box.textChanged.connect(lambda _text: self.search_timer.start())
        self.search_box.returnPressed.connect(self._search_now_and_focus_table)

        self.hamlet_combo = QComboBox()
        self.hamlet_combo.setMinimumWidth(180)
        self.hamlet_combo.currentIndexChanged.connect(self._hamlet_chosen)
        self.count_label = QLabel()

        top = QHBoxLayout()
        top.addWidget(self.search_box, 1)
        top.addWidget(QLabel(_("Hamlet:")))
        top.addWidget(self.hamlet_combo)
        top.addWidget(self.count_label)

        self.table = HouseholdTable()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        # Tab leaves the list for its buttons: walking the cells would move the selection.
        self.table.setTabKeyNavigation(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        # Fixed row heights and column widths: Qt never has to measure 100k rows.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(
            self.table.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        for column, width in enumerate(COLUMN_WIDTHS):
            header.resizeSection(column, width)
        header.setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda index: self.open_row(index.row()))
        self.table.enter_pressed.connect(self.open_selected)

        self.add_button = QPushButton(_("Add household"))
        self.add_button.setToolTip(_("Ctrl+N"))
        self.add_button.clicked.connect(self.add_household)
        self.open_button = QPushButton(_("Open"))
        self.open_button.clicked.connect(self.open_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.open_button)
        self.visit_button: QPushButton | None = None
        if module_available(VISIT_FORM_MODULE):
            self.visit_button = QPushButton(_("Record a visit (Ctrl+R)"))
            self.visit_button.setToolTip(_("Ctrl+R: a visit to the selected household"))
            self.visit_button.clicked.connect(self.record_visit)
            buttons.addWidget(self.visit_button)
        buttons.addStretch()
        self._add_row_actions()

        self.list_panel = QWidget()
        list_layout = QVBoxLayout(self.list_panel)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.addLayout(top)
        list_layout.addWidget(self.table, 1)
        list_layout.addLayout(buttons)
        self.empty_panel = self._build_empty_state()
        self.views = QStackedWidget()
        self.views.addWidget(self.list_panel)
        self.views.addWidget(self.empty_panel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.views)
        self.setTabOrder(self.search_box, self.hamlet_combo)
        self.setTabOrder(self.hamlet_combo, self.table)
        self.setTabOrder(self.table, self.add_button)

    def _add_row_actions(self) -> None:
        """Right-click on a household (or the menu key): open it, or record a visit."""
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        open_action = QAction(_("Open"), self.table)
        open_action.triggered.connect(self.open_selected)
        self.table.addAction(open_action)
        if self.visit_button is not None:
            # No key of its own: Ctrl+R is the main window's, wherever the focus is.
            visit_action = QAction(_("Record a visit"), self.table)
            visit_action.triggered.connect(self.record_visit)
            self.table.addAction(visit_action)

    def _build_empty_state(self) -> QWidget:
        self.empty_heading = QLabel(_("No households yet"))
        scaled_font(self.empty_heading, 1.8, bold=True)
        intro = QLabel(_("Add the first household, import your list from Excel or CSV, or "
                         "practise with made-up demo data."))
        intro.setWordWrap(True)
        self.empty_add_button = QPushButton(_("Add household"))
        self.empty_add_button.clicked.connect(self.add_household)
        self.empty_import_button = QPushButton(_("Import from Excel/CSV"))
        self.empty_import_button.clicked.connect(
            lambda: self.section_requested.emit(IMPORT_SECTION))
        self.demo_button = QPushButton(_("Create demo data to get started"))
        self.demo_button.clicked.connect(self.create_demo)
        self.demo_note = QLabel(_("{count} invented households with six months of visits in "
                                  "a demo commune, to try every screen.").format(
                                      count=format_number(DEMO_HOUSEHOLDS)))
        self.demo_note.setWordWrap(True)
        self.demo_note.setStyleSheet(HINT_STYLE)

        self.demo_busy = QWidget()
        self.demo_step = QLabel()
        self.demo_progress = QProgressBar()
        self.demo_cancel_button = QPushButton(_("Cancel"))
        self.demo_cancel_button.clicked.connect(self.cancel_demo)
        busy_layout = QHBoxLayout(self.demo_busy)
        busy_layout.setContentsMargins(0, 0, 0, 0)
        busy_layout.addWidget(self.demo_step)
        busy_layout.addWidget(self.demo_progress, 1)
        busy_layout.addWidget(self.demo_cancel_button)
        self.demo_busy.hide()
        self.demo_message = QLabel()
        self.demo_message.setWordWrap(True)
        self.demo_message.hide()

        column = QVBoxLayout()
        column.addWidget(self.empty_heading)
        column.addWidget(intro)
        for button in (self.empty_add_button, self.empty_import_button, self.demo_button):
            button.setMinimumHeight(36)
            column.addWidget(button)
        column.addWidget(self.demo_note)
        column.addWidget(self.demo_busy)
        column.addWidget(self.demo_message)
        panel = QWidget()
        outer = QHBoxLayout(panel)
        outer.addStretch(1)
        centre = QVBoxLayout()
        centre.addStretch(1)
        centre.addLayout(column)
        centre.addStretch(2)
        outer.addLayout(centre, 2)
        outer.addStretch(1)
        return panel

    def is_empty_state(self) -> bool:
        return self.views.currentWidget() is self.empty_panel

    def _update_empty_state(self) -> None:
        ws = self.ctx.ws
        empty = ws.households.count() == 0
        self.views.setCurrentWidget(self.empty_panel if empty else self.list_panel)
        # Demo data only ever goes into a workspace that holds nobody's data.
        offer_demo = empty and not demo.holds_data(ws)
        self.demo_button.setVisible(offer_demo)
        self.demo_note.setVisible(offer_demo)

    # -- demo data ----------------------------------------------------------------------
    def create_demo(self) -> Task | None:
        if self.demo_task is not None or demo.holds_data(self.ctx.ws):
            return None
        ctx, ws = self.ctx, self.ws
        self.demo_message.hide()
        # The new data (and the demo commune in the title) reach every screen, even if a
        # language switch replaced this page meanwhile.
        self.demo_task = (
            self.op(lambda progress: demo.generate_into_empty(
                ws, seed=DEMO_SEED, households=DEMO_HOUSEHOLDS, progress=progress))
            .with_progress(_("Creating demo data"), cancellable=True)
            .progress(self._demo_progress)
            .while_running(self._demo_running)
            .announce(lambda _result: ctx.team_place_changed.emit())
            .cancelled(self._demo_cancelled)
            .run())
        return self.demo_task

    def cancel_demo(self) -> None:
        if self.demo_task is not None:
            self.demo_task.cancel()
            self.demo_cancel_button.setEnabled(False)

    def _demo_running(self, running: bool) -> None:
        if not running:
            self.demo_task = None
            self._update_empty_state()
        for button in (self.empty_add_button, self.empty_import_button, self.demo_button):
            button.setEnabled(not running)
        self.demo_busy.setVisible(running)
        self.demo_cancel_button.setEnabled(running)
        self.demo_step.setText(_("Creating demo data…"))
        self.demo_progress.setRange(0, 0)

    def _demo_progress(self, value: int, maximum: int, label: str) -> None:
        self.demo_progress.setRange(0, max(0, maximum))
        self.demo_progress.setValue(min(value, maximum))
        if label:
            self.demo_step.setText(label)

    def _demo_cancelled(self, _error: Cancelled) -> None:
        self.demo_message.setText(_("Cancelled; nothing was changed."))
        self.demo_message.show()

    # -- filters ------------------------------------------------------------------------
    def _fill_hamlets(self) -> None:
        fill_choices(self.hamlet_combo, _("All hamlets"),
                     [(h.id, h.name) for h in self.ctx.ws.catalog.hamlets()])

    def _hamlet_chosen(self, _index: int) -> None:
        self.model.set_filter(self.hamlet_combo.currentData())
        self._update_count()

    def apply_search(self) -> None:
        self.search_timer.stop()
        self.model.set_query(self.search_box.text())
        self._update_count()
        if self.model.rowCount() and self.model.query:
            self.table.selectRow(0)

    def _search_now_and_focus_table(self) -> None:
        self.apply_search()
        if self.model.rowCount():
            self.table.setFocus()

    def focus_search(self) -> None:
        self.search_box.setFocus()
        self.search_box.selectAll()

    def _update_count(self) -> None:
        count = self.model.rowCount()
        text = counted(count, "{count} household", "{count} households")
        if self.model.query and count >= 500:
            text = counted(count, "first {count} match", "first {count} matches")
        self.count_label.setText(text)

    def on_changed(self, changes: Changes) -> None:
        if changes.touched("hamlets"):
            self._fill_hamlets()
        self.model.refresh(changes)
        self._update_count()
        if self._may_change_empty_state(changes):
            self._update_empty_state()
        created = changes.created.get("households")
        if created and len(created) == 1:
            self.select_household(next(iter(created)))

    def _may_change_empty_state(self, changes: Changes) -> bool:
        """Only households appearing or going away switch between the list and the welcome;
        while the welcome shows, the team's own lists also decide whether demo data is
        offered. Edits to existing households (the usual change) need no count."""
        if changes.created.get("households") or changes.deleted.get("households"):
            return True
        return self.is_empty_state() and any(
            changes.touched(table) for table in ("people", "hamlets", "team_members"))

    # -- selection and actions ----------------------------------------------------------
    def selected_household(self) -> Household | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.household_at(rows[0].row()) if rows else None

    def select_household(self, household_id: str) -> None:
        row = self.model.row_of(household_id)
        if row is None:
            return
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)

    def open_selected(self) -> HouseholdView | None:
        household = self.selected_household()
        return self.open_household(household.id) if household else None

    def open_row(self, row: int) -> HouseholdView | None:
        household = self.model.household_at(row)
        return self.open_household(household.id) if household else None

    def open_household(self, household_id: str) -> HouseholdView:
        view = HouseholdView(self.ctx, household_id, parent=self)
        view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        view.destroyed.connect(lambda _obj=None, v=view: self._forget(v))
        self.open_views.append(view)
        view.show()
        return view

    def _forget(self, view: HouseholdView) -> None:
        if view in self.open_views:
            self.open_views.remove(view)

    def add_household(self) -> HouseholdForm:
        form = HouseholdForm(self.ctx, hamlet_id=self.hamlet_combo.currentData(), parent=self)
        form.open()
        return form

    def record_visit(self) -> QDialog | None:
        from dxkit.ui.visit_form import VisitDialog  # another screen, loaded on first use

        household = self.selected_household()
        dialog = VisitDialog(self.ctx, household.id if household else None, parent=self)
        dialog.open()
        return dialog
