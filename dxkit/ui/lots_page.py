"""Lô hàng & tem: the lots with their compliance (and every reason when they fail), a dialog
that makes a lot from a season's harvests, and the label designer of the chosen lot."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.errors import ValidationError
from dxkit.core.i18n import _, counted, format_date, format_datetime
from dxkit.core.progress import Progress
from dxkit.core.synced import Changes
from dxkit.farm.model import DiaryEntry, Lot, Plot
from dxkit.farm.pesticides import crop_name
from dxkit.farm.units import format_quantity
from dxkit.ui.context import AppContext
from dxkit.ui.farm_forms import date_edit, from_qdate
from dxkit.ui.farm_page import rows_table
from dxkit.ui.fitting import DIALOGS, fit_to_screen, scrolled_body
from dxkit.ui.label_designer import LabelDesigner
from dxkit.ui.operations import Op, Query
from dxkit.ui.page import Page
from dxkit.ui.widgets import FieldErrors, FieldWithError, RowsTableModel, save_cancel_buttons

GOOD, BAD = QColor("#1b7a1b"), QColor("#b3261e")
ModelIndex = QModelIndex | QPersistentModelIndex


def compliance_text(state: Lot | Any) -> str:
    """"Đạt" / "Không đạt" for a lot or a LotStatus."""
    return _("Passes") if state.compliant else _("Fails")


class LotsModel(RowsTableModel):
    @staticmethod
    def headers() -> list[str]:
        return [_("Lot code"), _("Product"), _("Pack date"), _("Quantity"), _("Compliance")]

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        lot: Lot = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return [lot.code, lot.product, format_date(lot.pack_date),
                    format_quantity(lot.quantity_kg, "kg"), compliance_text(lot)][index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 4:
            return "\n".join(lot.reasons) or None
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 4:
            return QBrush(GOOD if lot.compliant else BAD)
        if role == Qt.ItemDataRole.UserRole:
            return lot
        return None


def available_harvests(farm: Any, season_id: str) -> list[tuple[DiaryEntry, Plot]]:
    """The season's harvests in effect that no lot holds yet (read on the database thread)."""
    taken = {entry_id for lot in farm.lots.all() for entry_id in lot.harvest_entry_ids}
    plots = {p.id: p for p in farm.orgs.plots()}
    return [(e, plots[e.plot_id])
            for e in farm.diary.timeline(season=season_id, effective_only=True)
            if e.kind == "harvest" and e.id not in taken and e.plot_id in plots]


class CreateLotDialog(QDialog):
    """Tick the harvests (one crop) that go into the lot; name the product; give the pack
    date."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx, self.farm = ctx, ctx.ws.farm
        self.saved: Lot | None = None
        self.loaded = False
        self.setWindowTitle(_("Create a lot"))
        self.setMinimumWidth(560)
        # The buttons stay in view below the fields.
        layout = scrolled_body(self, save_cancel_buttons(self, _("Create the lot")))
        general = QLabel()
        layout.addWidget(general)
        self.errors = FieldErrors(general)
        form = QFormLayout()
        self.season = QComboBox()
        for season in self.farm.orgs.seasons():
            self.season.addItem(season.name, season.id)
        self.harvests = QListWidget()
        self.product = QLineEdit()
        self.product.setPlaceholderText(_("for example Gạo OM18 VietGAP (from the crop if "
                                          "left blank)"))
        self.pack_date = date_edit(ctx.ws.today())
        form.addRow(_("Season:"), self.season)
        for key, label, editor in (("harvests", _("Harvests:"), self.harvests),
                                   ("product", _("Product name:"), self.product),
                                   ("pack_date", _("Pack date:"), self.pack_date)):
            form.addRow(label, self.errors.add(key, FieldWithError(editor)))
        layout.addLayout(form)
        self.season.currentIndexChanged.connect(lambda _i: self.load())
        self.load()
        fit_to_screen(self)

    def load(self) -> None:
        farm, season_id = self.farm, self.season.currentData()
        if season_id is None:
            self._show([])
            return
        # Only the harvests of the season chosen last are shown.
        Query(self.ctx, self, lambda _progress: available_harvests(farm, season_id)).success(
            self._show).run()

    def _show(self, harvests: list[tuple[DiaryEntry, Plot]]) -> None:
        self.harvests.clear()
        for entry, plot in harvests:
            quantity = format_quantity(entry.quantity, entry.unit) if entry.quantity else ""
            item = QListWidgetItem(" · ".join(p for p in (
                format_date(entry.on), f"{plot.name} ({crop_name(plot.crop)})", quantity) if p))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            item.setData(Qt.ItemDataRole.UserRole, entry.id)
            self.harvests.addItem(item)
        if not harvests:
            self.harvests.addItem(_("No harvests left to put in a lot in this season."))
        self.loaded = True

    def tick(self, entry_id: str) -> None:
        for row in range(self.harvests.count()):
            item = self.harvests.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == entry_id:
                item.setCheckState(Qt.CheckState.Checked)

    def chosen(self) -> list[str]:
        items = (self.harvests.item(row) for row in range(self.harvests.count()))
        return [i.data(Qt.ItemDataRole.UserRole) for i in items
                if i.checkState() == Qt.CheckState.Checked]

    def save(self) -> None:
        self.errors.clear()
        farm, ids = self.farm, self.chosen()
        product, day = self.product.text().strip(), from_qdate(self.pack_date.date())
        (Op(self.ctx, self, lambda _progress: farm.lots.create(ids, product=product,
                                                               pack_date=day))
         .success(self._saved)
         .invalid(self._invalid)
         .run())

    def _invalid(self, error: ValidationError) -> None:
        self.errors.show(error.fields)

    def _saved(self, result: Any) -> None:
        self.saved = result.value
        self.accept()


@DIALOGS.register("create lot")
def _sample_create_lot(ctx: AppContext, parent: QWidget) -> QDialog:
    return CreateLotDialog(ctx, parent)


class LotsPage(Page):
    WATCHED = ("lots", "lot_harvests", "diary_entries", "label_prints", "plots",
               "pesticide_bans", "pesticide_products")

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.farm = self.ws.farm
        self.loaded = False
        self.detail_loaded = False
        self._build()
        self.refresh()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.create_button = QPushButton(_("Create lot…"))
        self.create_button.clicked.connect(self.create_lot)
        top.addWidget(self.create_button)
        self.recode_button = QPushButton(_("Give this lot a new code"))
        self.recode_button.setToolTip(_("Two laptops gave two lots the same code before they "
                                        "synced: a QR code must name exactly one lot."))
        self.recode_button.clicked.connect(self.recode_lot)
        self.recode_button.hide()
        top.addWidget(self.recode_button)
        top.addStretch(1)
        layout.addLayout(top)
        splitter = QSplitter()
        left = QSplitter(Qt.Orientation.Vertical)
        self.model = LotsModel()
        self.table = rows_table(self.model)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._lot_changed())
        left.addWidget(self.table)
        self.detail = QTextBrowser()
        self.detail.setOpenLinks(False)
        left.addWidget(self.detail)
        left.setSizes([360, 300])
        splitter.addWidget(left)
        self.designer = LabelDesigner(self.ctx)
        splitter.addWidget(self.designer)
        splitter.setSizes([620, 540])
        layout.addWidget(splitter, 1)

    def refresh(self) -> None:
        lots = self.farm.lots
        self.query(lambda _progress: lots.all(), key="lots").success(self._loaded).run()

    def _loaded(self, lots: list[Lot]) -> None:
        keep = self.current_lot()
        self.model.beginResetModel()
        self.model.rows = lots
        self.model.endResetModel()
        if lots:
            row = next((i for i, lot in enumerate(lots) if keep and lot.id == keep.id), 0)
            self.table.selectRow(row)
        self.loaded = True
        self._lot_changed()

    def current_lot(self) -> Lot | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.rows[rows[0].row()] if rows else None

    def select_lot(self, code: str) -> None:
        for row, lot in enumerate(self.model.rows):
            if lot.code == code:
                self.table.selectRow(row)

    def _lot_changed(self) -> None:
        lot = self.current_lot()
        if lot != self.designer.lot:
            self.designer.set_lot(lot)
        if lot is None:
            empty = _("No lots yet: create one from a season’s harvests.")
            self.detail.setHtml(f"<p>{html.escape(empty)}</p>")
            return
        lots, lot_id = self.farm.lots, lot.id

        def work(progress: Progress) -> tuple[Any, list, bool, list]:
            progress.check()  # a lot no longer chosen (superseded) is not read at all
            return (lots.status(lot_id), lots.print_runs(lot_id), lots.shares_code(lot_id),
                    lots.serial_overlaps(lot_id))

        # Only the detail of the lot chosen last is shown.
        (self.query(work, key="detail")
         .success(lambda result: self._show_detail(lot, *result))
         .run())

    def recode_lot(self) -> None:
        lot = self.current_lot()
        if lot is None:
            return
        lots, lot_id = self.farm.lots, lot.id
        (self.op(lambda _progress: lots.recode(lot_id))
         .success(lambda result: self.select_lot(result.value.code))
         .run())

    def _show_detail(self, lot: Lot, status: Any, runs: list, shared: bool = False,
                     overlaps: list | None = None) -> None:
        self.recode_button.setVisible(shared)
        colour = GOOD if status.compliant else BAD
        parts = [f"<h3>{html.escape(lot.code)} — {html.escape(lot.product)}</h3>",
                 f'<p style="color: {colour.name()}; font-weight: 700; font-size: large;">'
                 f"{html.escape(compliance_text(status))}"
                 "</p>"]
        if status.reasons:
            parts.append("<ul>" + "".join(f'<li style="color: {BAD.name()};">'
                                          f"{html.escape(r)}</li>" for r in status.reasons)
                         + "</ul>")
        parts.append("<p>" + html.escape(_("{harvests} · {crop} {variety}").format(
            harvests=counted(len(lot.harvest_entry_ids), "{count} harvest", "{count} harvests"),
            crop=crop_name(lot.crop),
            variety=lot.variety)) + "</p>")
        runs_title, no_runs = _("Print runs"), _("No labels printed yet.")
        parts.append(f"<p><b>{html.escape(runs_title)}</b></p>")
        if not runs:
            parts.append(f"<p>{html.escape(no_runs)}</p>")
        for run in runs:
            serials = (_(" · serials {first}–{last}").format(first=run.serial_from,
                                                             last=run.serial_to)
                       if run.serial_from is not None else "")
            parts.append("<p>" + html.escape(_("{when}: {labels} on {template}").format(
                when=format_datetime(run.printed_at),
                labels=counted(run.copies, "{count} label", "{count} labels"),
                template=run.template) + serials) + "</p>")
        for first, last in overlaps or ():
            warning = _("Serials {first}–{last} were printed twice (on two laptops before they "
                        "synced): those labels cannot tell boxes apart.").format(
                            first=first, last=last)
            parts.append(f'<p style="color: {BAD.name()};">{html.escape(warning)}</p>')
        self.detail.setHtml("".join(parts))
        self.detail_status = status
        self.detail_loaded = True

    def on_changed(self, changes: Changes) -> None:
        self.refresh()
        if changes.touched("label_prints"):
            self.designer.schedule_preview()  # serialised labels show the next numbers

    def create_lot(self) -> CreateLotDialog:
        dialog = CreateLotDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.dialog = dialog
        return dialog
