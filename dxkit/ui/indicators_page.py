"""Digital indicators rolled up: per indicator, how many people of the counted age have it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.i18n import _, format_date, format_number
from dxkit.core.progress import Progress
from dxkit.core.synced import Changes
from dxkit.households.indicators import RollupRow
from dxkit.ui.appearance import HINT_STYLE
from dxkit.ui.context import AppContext
from dxkit.ui.page import Page
from dxkit.ui.widgets import RowsTableModel, fill_choices

# A roll-up counts people, their households, and the events that establish an indicator.
WATCHED_TABLES = ("visits", "visit_items", "indicator_answers", "people", "households",
                  "indicators", "hamlets")
TARGET_COLUMN = 4
BAR_COLUMN = 5
MISSED_COLOUR = QColor("#b71c1c")
BAR_COLOUR = QColor("#2e7d32")
TRACK_COLOUR = QColor("#e3e7e3")
BAR_WIDTH = 180

ModelIndex = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Rollup:
    """One answer from the database thread."""

    rows: list[RollupRow]
    min_ages: dict[str, int]  # indicator code -> youngest age counted


def share_text(row: RollupRow) -> str:
    """"33,3 %" — a share of a hamlet with nobody counted reads "0,0 %"."""
    return _("{percent}%").format(percent=format_number(row.share * 100, decimals=1))


def target_text(row: RollupRow) -> str:
    """"80,0 % ✓" when reached, "80,0 % ✗" when not, empty without a target."""
    if row.target is None:
        return ""
    mark = "✓" if row.met else "✗"
    return _("{percent}%").format(percent=format_number(row.target * 100, decimals=1)) + f" {mark}"


def counted_text(row: RollupRow, min_age: int | None) -> str:
    """"120 (từ 15 tuổi)": the people the share is out of, with the age that counts."""
    count = format_number(row.population)
    if min_age is None:
        return count
    return _("{count} (aged {age} and over)").format(count=count, age=min_age)


class RollupModel(RowsTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[RollupRow] = []
        self.min_ages: dict[str, int] = {}

    @staticmethod
    def headers() -> list[str]:
        return [_("Indicator"), _("People reached"), _("People counted"), _("Share"),
                _("Target"), ""]

    def set_rollup(self, rollup: Rollup) -> None:
        self.beginResetModel()
        self.rows = rollup.rows
        self.min_ages = rollup.min_ages
        self.endResetModel()

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole and column != BAR_COLUMN:
            return self._text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return share_text(row) if column == BAR_COLUMN else self._text(row, column)
        if role == Qt.ItemDataRole.ForegroundRole and column == TARGET_COLUMN and row.met is False:
            return MISSED_COLOUR
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (1, 2, 3, TARGET_COLUMN):
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None

    def _text(self, row: RollupRow, column: int) -> str:
        if column == 0:
            return row.name
        if column == 1:
            return format_number(row.reached)
        if column == 2:
            return counted_text(row, self.min_ages.get(row.code))
        if column == TARGET_COLUMN:
            return target_text(row)
        return share_text(row)


class ShareBarDelegate(QStyledItemDelegate):
    """A horizontal bar as long as the row's share, on a pale track."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        super().paint(painter, option, index)  # background and selection
        row = index.data(Qt.ItemDataRole.UserRole)
        if not isinstance(row, RollupRow):
            return
        track = option.rect.adjusted(6, 6, -6, -6)  # type: ignore[attr-defined]
        if track.width() <= 0 or track.height() <= 0:
            return
        filled = QRect(track)
        filled.setWidth(round(track.width() * min(max(row.share, 0.0), 1.0)))
        painter.save()
        painter.fillRect(track, TRACK_COLOUR)
        if filled.width() > 0:
            painter.fillRect(filled, BAR_COLOUR)
        painter.restore()


class IndicatorsPage(Page):
    """A hamlet filter, the roll-up table, and a line saying what the numbers are."""

    WATCHED = WATCHED_TABLES

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.loaded = False
        self._build()
        self.retranslate()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        filters = QHBoxLayout()
        self.hamlet_label = QLabel()
        self.hamlet_filter = QComboBox()
        self.hamlet_label.setBuddy(self.hamlet_filter)
        filters.addWidget(self.hamlet_label)
        filters.addWidget(self.hamlet_filter)
        filters.addStretch(1)
        layout.addLayout(filters)
        self.model = RollupModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(BAR_COLUMN, ShareBarDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(BAR_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(60)
        layout.addWidget(self.table, 1)
        self.as_of_label = QLabel()
        self.as_of_label.setWordWrap(True)
        self.as_of_label.setStyleSheet(HINT_STYLE)
        layout.addWidget(self.as_of_label)
        self.hamlet_filter.currentIndexChanged.connect(lambda _index: self.refresh())

    def retranslate(self) -> None:
        self.hamlet_label.setText(_("Hamlet:"))
        self._fill_hamlets()
        self.refresh()  # indicator names come from the catalog in the current language

    def _fill_hamlets(self) -> None:
        """Every hamlet, keeping the current choice when it still exists."""
        fill_choices(self.hamlet_filter, _("All hamlets"),
                     [(h.id, h.name) for h in self.ws.catalog.hamlets()])

    def set_hamlet(self, hamlet_id: str | None) -> None:
        self.hamlet_filter.setCurrentIndex(max(self.hamlet_filter.findData(hamlet_id), 0))

    # -- data ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Ask the database thread for the roll-up (seconds on a large commune); only the
        answer to the latest question reaches the table."""
        hamlet_id = self.hamlet_filter.currentData()
        indicators, catalog = self.ws.indicators, self.ws.catalog

        def work(_progress: Progress) -> Rollup:
            min_ages = {i.code: i.min_age for i in catalog.indicators()}
            return Rollup(indicators.rollup(hamlet_id=hamlet_id), min_ages)

        self.query(work).success(self._loaded).run()

    def _loaded(self, rollup: Rollup) -> None:
        self.model.set_rollup(rollup)
        self.loaded = True
        note = _("As of {date}. Counts come from recorded visits and answers; people with no "
                 "birth year are counted in every age group.").format(
            date=format_date(self.ws.today()))
        if not any(row.population for row in rollup.rows):
            note = _("No people recorded here yet.") + " " + note
        self.as_of_label.setText(note)

    def on_changed(self, changes: Changes) -> None:
        if changes.touched("hamlets"):
            self._fill_hamlets()
        self.refresh()
