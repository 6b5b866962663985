"""Nhật ký sản xuất: plots and seasons on the left; on the right the chosen plot's season
timeline (corrections and voids kept, struck through) and the quick-add form."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.i18n import _, format_date
from dxkit.core.progress import Progress
from dxkit.core.synced import Changes
from dxkit.farm.model import DiaryEntry, Plot, Season
from dxkit.farm.pesticides import crop_name
from dxkit.farm.units import Dose, format_amount, format_quantity
from dxkit.ui.appearance import scaled_font
from dxkit.ui.context import AppContext
from dxkit.ui.diary_form import DiaryEntryForm
from dxkit.ui.farm_forms import org_dialog, plot_dialog, season_dialog
from dxkit.ui.fitting import DIALOGS, fit_to_screen, flow_row, keep_together, limit_width
from dxkit.ui.page import Page
from dxkit.ui.widgets import RowsTableModel, show_message

RED, GREY = QColor("#b3261e"), QColor("#8a8a8a")
NAME_CHARACTERS = 20  # organisation and season lists: as wide as this, not as their longest name
ModelIndex = QModelIndex | QPersistentModelIndex


class PlotsModel(RowsTableModel):
    @staticmethod
    def headers() -> list[str]:
        return [_("Plot"), _("Crop"), _("Variety"), _("Area (ha)"), _("Growing-area code"),
                _("Certification")]

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        plot: Plot = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return [plot.name, crop_name(plot.crop), plot.variety,
                    format_amount(plot.area_ha) if plot.area_ha else "",
                    plot.growing_area_code, plot.certification][index.column()]
        if role == Qt.ItemDataRole.UserRole:
            return plot
        return None


def entry_summary(entry: DiaryEntry) -> str:
    """"Regent 800WG · 1 kg/ha · 2,4 ha", "16,4 tấn", "Rầy nâu"…"""
    parts = [entry.product_name]
    dose = entry.details.get("dose")
    if dose:
        parts.append(Dose(dose["amount"], dose["unit"], dose["per"]).format())
    if entry.quantity is not None:
        parts.append(format_quantity(entry.quantity, entry.unit))
    if entry.area_ha:
        parts.append(f"{format_amount(entry.area_ha)} ha")
    for key in ("target", "pest", "method", "source", "notes"):
        if entry.details.get(key):
            parts.append(str(entry.details[key]))
    return " · ".join(p for p in parts if p)


def entry_status(entry: DiaryEntry) -> str:
    """The compliance column: short, the sentences go in the details column."""
    if entry.action == "void":
        return _("Voided")
    text = _("Compliant") if entry.compliant else _("Not compliant")
    return text + (" · " + _("corrected later") if entry.superseded_by else "")


def entry_details(entry: DiaryEntry) -> str:
    """What was done, then why it fails the rules and any correction's reason."""
    lines = [entry_summary(entry)] if entry.action != "void" else []
    lines += [f.message for f in entry.findings if f.severity == "violation"]
    if entry.action == "amend":
        lines.append(_("Correction: {reason}").format(reason=entry.reason))
    if entry.action == "void":
        lines.append(_("Voided: {reason}").format(reason=entry.reason))
    return "\n".join(line for line in lines if line)


class TimelineModel(RowsTableModel):
    @staticmethod
    def headers() -> list[str]:
        return [_("Date"), _("Kind"), _("Compliance"), _("Product / quantity")]

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        entry: DiaryEntry = self.rows[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return [format_date(entry.on), entry.kind_label, entry_status(entry),
                    entry_details(entry)][column]
        if role == Qt.ItemDataRole.ForegroundRole:
            if not entry.effective:
                return QBrush(GREY)
            if not entry.compliant:
                return QBrush(RED)
        if role == Qt.ItemDataRole.FontRole and not entry.effective and entry.action != "void":
            font = QFont()
            font.setStrikeOut(True)
            return font
        if role == Qt.ItemDataRole.DecorationRole and column == 2 and entry.action != "void":
            icon = (QStyle.StandardPixmap.SP_DialogApplyButton if entry.compliant
                    else QStyle.StandardPixmap.SP_MessageBoxWarning)
            return QApplication.style().standardIcon(icon)
        if role == Qt.ItemDataRole.UserRole:
            return entry
        return None


def rows_table(model: RowsTableModel) -> QTableView:
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class FarmPage(Page):
    WATCHED = ("farm_orgs", "plots", "seasons", "diary_entries", "pesticide_products")

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.farm = self.ws.farm
        self.loaded = False
        self.timeline_loaded = False
        self.last_warning: QMessageBox | None = None
        self._build()
        self.refresh()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.org_combo, self.season_combo = QComboBox(), QComboBox()
        for combo in (self.org_combo, self.season_combo):
            limit_width(combo, NAME_CHARACTERS)
        self.add_org_button = QPushButton(_("Add organisation…"))
        self.add_plot_button = QPushButton(_("Add plot…"))
        self.add_season_button = QPushButton(_("Add season…"))
        # On a narrow window the season goes on a second line.
        layout.addLayout(flow_row(
            keep_together(QLabel(_("Organisation:")), self.org_combo, self.add_org_button),
            keep_together(QLabel(_("Season:")), self.season_combo, self.add_season_button)))
        splitter = QSplitter()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.plots_model = PlotsModel()
        self.plots_table = rows_table(self.plots_model)
        left_layout.addWidget(self.plots_table, 1)
        left_layout.addWidget(self.add_plot_button, 0, Qt.AlignmentFlag.AlignLeft)
        splitter.addWidget(left)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        self.timeline_title = QLabel()
        scaled_font(self.timeline_title, 1.2, bold=True)
        right_layout.addWidget(self.timeline_title)
        self.timeline_model = TimelineModel()
        self.timeline = rows_table(self.timeline_model)
        self.timeline.setWordWrap(True)
        self.timeline.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.timeline.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.timeline.customContextMenuRequested.connect(self._timeline_menu)
        right_layout.addWidget(self.timeline, 2)
        self.form = DiaryEntryForm(self.ctx)  # its fields scroll, its Save stays in view
        self.form.saved.connect(self._entry_saved)
        # The form being filled in gets the larger share of a short screen.
        right_layout.addWidget(self.form, 3)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([380, 760])
        layout.addWidget(splitter, 1)
        self.org_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.season_combo.currentIndexChanged.connect(lambda _i: self._target_changed())
        self.plots_table.selectionModel().selectionChanged.connect(
            lambda *_a: self._target_changed())
        self.add_org_button.clicked.connect(self.add_org)
        self.add_plot_button.clicked.connect(self.add_plot)
        self.add_season_button.clicked.connect(self.add_season)

    # -- loading ------------------------------------------------------------------------
    def refresh(self) -> None:
        farm, org_id = self.farm, self.org_combo.currentData()

        def work(_progress: Progress) -> tuple[list, list[Plot], list[Season]]:
            orgs = farm.orgs.all()
            chosen = org_id if any(o.id == org_id for o in orgs) else (
                orgs[0].id if orgs else None)
            if chosen is None:
                return orgs, [], []
            return orgs, farm.orgs.plots(chosen), farm.orgs.seasons(chosen)

        self.query(work, key="plots").success(lambda result: self._loaded(*result)).run()

    def _loaded(self, orgs: list, plots: list[Plot], seasons: list[Season]) -> None:
        keep_plot = self.current_plot()
        self._fill(self.org_combo, [(o.id, o.name) for o in orgs])
        self._fill(self.season_combo, [(s.id, s.name) for s in seasons])
        self.seasons = {s.id: s for s in seasons}
        self.plots_model.beginResetModel()
        self.plots_model.rows = plots
        self.plots_model.endResetModel()
        row = next((i for i, p in enumerate(plots) if keep_plot and p.id == keep_plot.id), 0)
        if plots:
            self.plots_table.selectRow(row)
        has_org = bool(orgs)
        self.add_plot_button.setEnabled(has_org)
        self.add_season_button.setEnabled(has_org)
        self.loaded = True
        self._target_changed()

    @staticmethod
    def _fill(combo: QComboBox, entries: list[tuple[str, str]]) -> None:
        keep = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        for key, label in entries:
            combo.addItem(label, key)
        combo.setCurrentIndex(max(0, combo.findData(keep)))
        combo.blockSignals(False)

    def current_plot(self) -> Plot | None:
        rows = self.plots_table.selectionModel().selectedRows()
        return self.plots_model.rows[rows[0].row()] if rows else None

    def current_season(self) -> Season | None:
        return getattr(self, "seasons", {}).get(self.season_combo.currentData())

    def select_plot(self, name: str) -> None:
        current = self.current_plot()
        if current is not None and current.name == name:
            self._target_changed()  # reload the timeline all the same
            return
        for row, plot in enumerate(self.plots_model.rows):
            if plot.name == name:
                self.plots_table.selectRow(row)

    def _target_changed(self) -> None:
        plot, season = self.current_plot(), self.current_season()
        self.form.set_target(plot, season)
        if plot is None or season is None:
            self.timeline_title.setText(_("Add a plot and a season to start the diary.")
                                        if self.loaded else "")
            self._show_timeline([])
            # A timeline still on its way for the plot shown before must not show: a newer
            # query of the same key supersedes it (this one needs no database).
            self.query(lambda _progress: None, key="timeline").without_database().run()
            return
        self.timeline_title.setText(_("{plot} ({crop}) — {season}").format(
            plot=plot.name, crop=crop_name(plot.crop), season=season.name))
        diary, plot_id, season_id = self.farm.diary, plot.id, season.id
        (self.query(lambda _progress: diary.timeline(plot_id, season_id), key="timeline")
         .success(self._show_timeline)
         .run())

    def _show_timeline(self, entries: list[DiaryEntry]) -> None:
        self.timeline_model.beginResetModel()
        self.timeline_model.rows = entries
        self.timeline_model.endResetModel()
        self.timeline.resizeRowsToContents()
        self.timeline.scrollToBottom()  # the latest entries are the ones being worked on
        self.timeline_loaded = True

    def on_changed(self, changes: Changes) -> None:
        """A new or corrected diary entry only reloads the timeline; anything else reloads the
        organisations, plots and seasons (and then the timeline)."""
        if changes.touched("diary_entries") and not any(
                changes.touched(t) for t in ("plots", "seasons", "farm_orgs")):
            self._target_changed()
        else:
            self.refresh()

    # -- adding -------------------------------------------------------------------------
    def _open(self, dialog: QDialog) -> QDialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.dialog = dialog
        return dialog

    def add_org(self) -> QDialog:
        return self._open(org_dialog(self.ctx, self))

    def add_plot(self) -> QDialog | None:
        org_id = self.org_combo.currentData()
        return self._open(plot_dialog(self.ctx, self.farm.orgs.get(org_id), self)) \
            if org_id else None

    def add_season(self) -> QDialog | None:
        org_id = self.org_combo.currentData()
        return self._open(season_dialog(self.ctx, self.farm.orgs.get(org_id), self)) \
            if org_id else None

    def _entry_saved(self, result: Any) -> None:
        violations = [f.message for f in result.findings if f.severity == "violation"]
        if violations or not result.value.compliant:
            text = _("This entry is recorded but it does NOT comply:") + "\n\n" + "\n".join(
                violations)
            self.last_warning = show_message(self, text, QMessageBox.Icon.Warning)

    # -- corrections --------------------------------------------------------------------
    def _timeline_menu(self, point: QPoint) -> None:
        index = self.timeline.indexAt(point)
        if not index.isValid():
            return
        entry: DiaryEntry = self.timeline_model.rows[index.row()]
        menu = QMenu(self)
        amend = menu.addAction(_("Correct this entry…"))
        void = menu.addAction(_("Void this entry…"))
        for action in (amend, void):
            action.setEnabled(entry.effective)
        amend.triggered.connect(lambda: self.amend_entry(entry))
        void.triggered.connect(lambda: self.void_entry(entry))
        menu.popup(self.timeline.viewport().mapToGlobal(point))

    def amend_entry(self, entry: DiaryEntry) -> QDialog:
        dialog = DiaryCorrectionDialog(self.ctx, entry, self.current_plot(),
                                       self.current_season(), self)
        dialog.form.saved.connect(self._entry_saved)
        return self._open(dialog)

    def void_entry(self, entry: DiaryEntry, reason: str | None = None) -> None:
        if reason is None:
            reason, ok = QInputDialog.getText(
                self, _("Void a diary entry"),
                _("Why is this entry being voided? (for example: recorded on the wrong plot)"))
            if not ok:
                return
        diary, entry_id, why = self.farm.diary, entry.id, reason
        self.op(lambda _progress: diary.void(entry_id, reason=why)).run()



class DiaryCorrectionDialog(QDialog):
    """The diary form filled from an entry: saving records a correction of it."""

    PREFERRED_SIZE = QSize(560, 540)  # every field of a spraying, on a screen with the room

    def __init__(self, ctx: AppContext, entry: DiaryEntry, plot: Plot | None,
                 season: Season | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(_("Correct a diary entry"))
        self.form = DiaryEntryForm(ctx, self)
        self.form.set_target(plot, season)
        self.form.load(entry)
        self.form.saved.connect(lambda _result: self.accept())
        QVBoxLayout(self).addWidget(self.form)
        fit_to_screen(self, self.PREFERRED_SIZE)


@DIALOGS.register("diary correction")
def _sample_diary_correction(ctx: AppContext, parent: QWidget) -> QDialog:
    """Correcting the latest pesticide spraying: the form's longest kind."""
    farm = ctx.ws.farm
    entry = [e for e in farm.diary.timeline(effective_only=True) if e.kind == "pesticide"][-1]
    plot = next(p for p in farm.orgs.plots() if p.id == entry.plot_id)
    season = next(s for s in farm.orgs.seasons() if s.id == entry.season_id)
    return DiaryCorrectionDialog(ctx, entry, plot, season, parent)
