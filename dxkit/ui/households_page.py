"""The households list: search as you type, hamlet filter, open, add, record a visit."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.households import Household
from dxkit.core.i18n import _, format_number
from dxkit.core.synced import Changes
from dxkit.ui.context import AppContext
from dxkit.ui.household_forms import HouseholdForm
from dxkit.ui.household_view import VISIT_FORM_MODULE, HouseholdView
from dxkit.ui.households_model import HouseholdsTableModel
from dxkit.ui.widgets import module_available

SEARCH_DELAY_MS = 150
COLUMN_WIDTHS = (110, 220, 150, 300)


class HouseholdTable(QTableView):
    """The list; Enter opens the selected household (double-click does too)."""

    enter_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.enter_pressed.emit()
            return
        super().keyPressEvent(event)


class HouseholdsPage(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.model = HouseholdsTableModel(ctx.ws, self)
        self.open_views: list[HouseholdView] = []
        self._build()
        self._fill_hamlets()
        self._update_count()
        ctx.changed.connect(self._on_changed)

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
            self.visit_button = QPushButton(_("Record a visit"))
            self.visit_button.clicked.connect(self.record_visit)
            buttons.addWidget(self.visit_button)
        buttons.addStretch()

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.setTabOrder(self.search_box, self.hamlet_combo)
        self.setTabOrder(self.hamlet_combo, self.table)
        self.setTabOrder(self.table, self.add_button)

    # -- filters ------------------------------------------------------------------------
    def _fill_hamlets(self) -> None:
        current = self.hamlet_combo.currentData()
        self.hamlet_combo.blockSignals(True)
        self.hamlet_combo.clear()
        self.hamlet_combo.addItem(_("All hamlets"), None)
        for hamlet in self.ctx.ws.catalog.hamlets():
            self.hamlet_combo.addItem(hamlet.name, hamlet.id)
        index = self.hamlet_combo.findData(current) if current else 0
        self.hamlet_combo.setCurrentIndex(max(0, index))
        self.hamlet_combo.blockSignals(False)

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
        text = _("{count} households").format(count=format_number(count))
        if self.model.query and count >= 500:
            text = _("first {count} matches").format(count=format_number(count))
        self.count_label.setText(text)

    def _on_changed(self, changes: Changes) -> None:
        if changes.touched("hamlets"):
            self._fill_hamlets()
        self.model.refresh(changes)
        self._update_count()
        created = changes.created.get("households")
        if created and len(created) == 1:
            self.select_household(next(iter(created)))

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
