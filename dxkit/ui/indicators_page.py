"""Digital indicators rolled up: per indicator, how many people of the counted age have it;
the team's targets and each hamlet's official population, where the province has not
published them (published figures are shown locked)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.errors import ValidationError
from dxkit.core.i18n import _, format_date, format_number
from dxkit.core.progress import Progress
from dxkit.core.synced import Changes
from dxkit.households.catalog import ADULT_AGE, Hamlet, Indicator, official_population
from dxkit.households.indicators import RollupRow
from dxkit.ui.appearance import HINT_STYLE, scaled_font
from dxkit.ui.context import AppContext
from dxkit.ui.fitting import DIALOGS, fit_to_screen, flow_row, keep_together, scrolled_body
from dxkit.ui.operations import Op
from dxkit.ui.page import Page
from dxkit.ui.widgets import (
    FieldErrors,
    FieldWithError,
    RowsTableModel,
    fill_choices,
    save_cancel_buttons,
)

# A roll-up counts people, their households, and the events that establish an indicator.
WATCHED_TABLES = ("visits", "visit_items", "indicator_answers", "people", "households",
                  "indicators", "hamlets")
OFFICIAL_COLUMN = 4
TARGET_COLUMN = 5
BAR_COLUMN = 6
MISSED_COLOUR = QColor("#b71c1c")
BAR_COLOUR = QColor("#2e7d32")
TRACK_COLOUR = QColor("#e3e7e3")
BAR_WIDTH = 100  # beside the share of the official population
MAX_BAR_HEIGHT = 18
DIALOG_WIDTH = 480  # the target and population dialogs, where the screen has the room

ModelIndex = QModelIndex | QPersistentModelIndex
D = TypeVar("D", bound=QDialog)


@dataclass(frozen=True)
class Rollup:
    """One answer from the database thread."""

    rows: list[RollupRow]
    min_ages: dict[str, int]  # indicator code -> youngest age counted
    published: frozenset[str] = frozenset()  # codes whose target the province published
    # indicator code -> the official population it is a share of (None: not entered)
    official: dict[str, int | None] = field(default_factory=dict)
    adults: frozenset[str] = frozenset()  # codes counted against the official adults


def share_text(row: RollupRow) -> str:
    """"33,3 %" — a share of a hamlet with nobody counted reads "0,0 %"."""
    return _("{percent}%").format(percent=format_number(row.share * 100, decimals=1))


def target_text(row: RollupRow) -> str:
    """"80,0 % ✓" when reached, "80,0 % ✗" when not, empty without a target."""
    if row.target is None:
        return ""
    mark = "✓" if row.met else "✗"
    return _("{percent}%").format(percent=format_number(row.target * 100, decimals=1)) + f" {mark}"


def official_text(row: RollupRow, official: int | None) -> str:
    """The share of the official population reached, or "" when it is not entered."""
    if not official:
        return ""
    return _("{percent}%").format(percent=format_number(row.reached / official * 100,
                                                        decimals=1))


def official_tip(row: RollupRow, official: int | None, adults: bool) -> str:
    if not official:
        return _("No official population entered.")
    basis = _("adults (18 and over)") if adults else _("people aged 15 and over")
    return _("{reached} of an official population of {population} {basis}").format(
        reached=format_number(row.reached), population=format_number(official), basis=basis)


def published_note() -> str:
    """The short reason a figure cannot be changed here."""
    return _("published by the province")


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
        self.published: frozenset[str] = frozenset()
        self.official: dict[str, int | None] = {}
        self.adults: frozenset[str] = frozenset()

    @staticmethod
    def headers() -> list[str]:
        return [_("Indicator"), _("People reached"), _("People counted"),
                _("Share of\npeople registered"), _("Share of\nofficial population"),
                _("Target"), ""]

    def set_rollup(self, rollup: Rollup) -> None:
        self.beginResetModel()
        self.rows = rollup.rows
        self.min_ages = rollup.min_ages
        self.published = rollup.published
        self.official = rollup.official
        self.adults = rollup.adults
        self.endResetModel()

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole and column != BAR_COLUMN:
            return self._text(row, column)
        locked = column == TARGET_COLUMN and row.code in self.published
        if role == Qt.ItemDataRole.ToolTipRole:
            if locked:
                return f"{self._text(row, column)} ({published_note()})"
            if column == OFFICIAL_COLUMN:
                return official_tip(row, self.official.get(row.code), row.code in self.adults)
            return share_text(row) if column == BAR_COLUMN else self._text(row, column)
        if role == Qt.ItemDataRole.ForegroundRole and column == TARGET_COLUMN and row.met is False:
            return MISSED_COLOUR
        if role == Qt.ItemDataRole.FontRole and locked:
            font = QFont()
            font.setItalic(True)  # the province's: not the team's to change
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (1, 2, 3, OFFICIAL_COLUMN,
                                                                      TARGET_COLUMN):
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
        if column == OFFICIAL_COLUMN:
            return official_text(row, self.official.get(row.code))
        return share_text(row)


class ShareBarDelegate(QStyledItemDelegate):
    """A horizontal bar as long as the row's share, on a pale track: the row is what the
    model gives as UserRole, anything with a `share` between 0 and 1 (a RollupRow, a
    report's IndicatorRow)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        super().paint(painter, option, index)  # background and selection
        share = getattr(index.data(Qt.ItemDataRole.UserRole), "share", None)
        if not isinstance(share, float):
            return
        track = option.rect.adjusted(6, 6, -6, -6)  # type: ignore[attr-defined]
        if track.width() <= 0 or track.height() <= 0:
            return
        if track.height() > MAX_BAR_HEIGHT:  # a row of wrapped lines: a bar of one line
            track.setTop(track.center().y() - MAX_BAR_HEIGHT // 2)
            track.setHeight(MAX_BAR_HEIGHT)
        filled = QRect(track)
        filled.setWidth(round(track.width() * min(max(share, 0.0), 1.0)))
        painter.save()
        painter.fillRect(track, TRACK_COLOUR)
        if filled.width() > 0:
            painter.fillRect(filled, BAR_COLOUR)
        painter.restore()


def wrap_names(table: QTableView) -> None:
    """Let a table's rows grow to two lines or more where a name does not fit its column (a
    netbook), refitted once the columns settled after a resize or new rows, and never
    shorter than one line with its usual room."""
    rows = table.verticalHeader()
    rows.setMinimumSectionSize(rows.defaultSectionSize())
    table.setWordWrap(True)
    refit = QTimer(table)
    refit.setSingleShot(True)
    refit.setInterval(0)
    refit.timeout.connect(table.resizeRowsToContents)
    table.horizontalHeader().sectionResized.connect(lambda *_args: refit.start())
    model = table.model()
    if model is not None:
        model.modelReset.connect(refit.start)


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
        self.hamlet_label = QLabel()
        self.hamlet_filter = QComboBox()
        self.hamlet_label.setBuddy(self.hamlet_filter)
        self.target_button = QPushButton()
        self.target_button.clicked.connect(lambda: self.edit_target())
        self.population_button = QPushButton()
        self.population_button.clicked.connect(lambda: self.edit_population())
        layout.addLayout(flow_row(keep_together(self.hamlet_label, self.hamlet_filter),
                                  self.target_button, self.population_button))
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
        header.setMinimumSectionSize(60)
        wrap_names(self.table)
        self._arrange_columns(official=False)
        self.table.doubleClicked.connect(lambda _index: self.edit_target())
        self.table.selectionModel().selectionChanged.connect(
            lambda *_args: self._enable_actions())
        layout.addWidget(self.table, 1)
        self.lock_label = QLabel()  # why the selected figure cannot be changed here
        self.lock_label.setWordWrap(True)
        self.lock_label.setStyleSheet(HINT_STYLE)
        layout.addWidget(self.lock_label)
        self.as_of_label = QLabel()
        self.as_of_label.setWordWrap(True)
        self.as_of_label.setStyleSheet(HINT_STYLE)
        layout.addWidget(self.as_of_label)
        self.hamlet_filter.currentIndexChanged.connect(lambda _index: self.refresh())
        self.last_dialog: QDialog | None = None

    def _arrange_columns(self, official: bool) -> None:
        """Without official population figures the share of it is hidden, the names take
        their width and the bar the rest; with them, the bar has a fixed width and the
        names what is left, on more lines where a netbook leaves too little."""
        header = self.table.horizontalHeader()
        self.table.setColumnHidden(OFFICIAL_COLUMN, not official)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch if official
                                    else QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(BAR_COLUMN, QHeaderView.ResizeMode.Fixed if official
                                    else QHeaderView.ResizeMode.Stretch)
        if official:
            header.resizeSection(BAR_COLUMN, BAR_WIDTH)

    def retranslate(self) -> None:
        self.hamlet_label.setText(_("Hamlet:"))
        self.target_button.setText(_("Set target…"))
        self.population_button.setText(_("Official population…"))
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
            listed = catalog.indicators()
            scope = [h for h in catalog.hamlets() if hamlet_id in (None, h.id)]
            return Rollup(indicators.rollup(hamlet_id=hamlet_id),
                          {i.code: i.min_age for i in listed},
                          frozenset(i.code for i in listed if i.target_published),
                          {i.code: official_population(scope, i.min_age) for i in listed},
                          frozenset(i.code for i in listed if i.min_age >= ADULT_AGE))

        self.query(work).success(self._loaded).run()

    def _loaded(self, rollup: Rollup) -> None:
        chosen = self.selected_code()
        self.model.set_rollup(rollup)
        self._arrange_columns(official=any(rollup.official.values()))
        codes = [row.code for row in rollup.rows]
        if chosen in codes:
            self.table.selectRow(codes.index(chosen))
        self.loaded = True
        note = _("As of {date}. Counts come from recorded visits and answers; people with no "
                 "birth year are counted in every age group.").format(
            date=format_date(self.ws.today()))
        if not any(row.population for row in rollup.rows):
            note = _("No people recorded here yet.") + " " + note
        hamlet = self.chosen_hamlet()
        if hamlet is not None:
            note += " " + population_text(hamlet)
        self.as_of_label.setText(note)
        self._enable_actions()

    def on_changed(self, changes: Changes) -> None:
        if changes.touched("hamlets"):
            self._fill_hamlets()
        self.refresh()

    # -- targets and population ---------------------------------------------------------
    def selected_code(self) -> str | None:
        picked = self.table.selectionModel().selectedRows()
        return self.model.rows[picked[0].row()].code if picked else None

    def select_indicator(self, code: str) -> None:
        codes = [row.code for row in self.model.rows]
        self.table.selectRow(codes.index(code))

    def chosen_hamlet(self) -> Hamlet | None:
        hamlet_id = self.hamlet_filter.currentData()
        return next((h for h in self.ws.catalog.hamlets() if h.id == hamlet_id), None)

    def _enable_actions(self) -> None:
        code = self.selected_code()
        locked = code in self.model.published
        self.target_button.setEnabled(code is not None and not locked)
        self.target_button.setToolTip(_("Choose an indicator in the table first.")
                                      if code is None else "")
        self.lock_label.setText(_("The target of this indicator was published by the "
                                  "province: it cannot be changed here.") if locked else "")
        self.lock_label.setVisible(locked)
        hamlet = self.chosen_hamlet()
        self.population_button.setEnabled(hamlet is not None)
        self.population_button.setToolTip(
            _("Choose a hamlet first.") if hamlet is None else "")

    def edit_target(self) -> TargetDialog | None:
        """The dialog that sets or removes the selected indicator's target; None without a
        selection or when the province published it (the page says so)."""
        code = self.selected_code()
        if code is None or code in self.model.published:
            return None
        indicator = next(i for i in self.ws.catalog.indicators() if i.code == code)
        return self._open(TargetDialog(self.ctx, indicator, self))

    def edit_population(self) -> PopulationDialog | None:
        """The dialog of the chosen hamlet's official population; None for "All hamlets"."""
        hamlet = self.chosen_hamlet()
        if hamlet is None:
            return None
        return self._open(PopulationDialog(self.ctx, hamlet, self))

    def _open(self, dialog: D) -> D:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.last_dialog = dialog
        dialog.open()
        return dialog


def population_text(hamlet: Hamlet) -> str:
    """"Official population of Khóm 3: aged 15 and over 812 (published by the province);
    adults (18 and over) 745." — or that it is not known yet."""
    def figure(value: int | None, published: bool) -> str:
        if value is None:
            return _("not known")
        text = format_number(value)
        return f"{text} ({published_note()})" if published else text

    if hamlet.population_15 is None and hamlet.population_18 is None:
        return _("The official population of {hamlet} is not entered yet.").format(
            hamlet=hamlet.name)
    return _("Official population of {hamlet}: aged 15 and over {aged_15}; adults (18 and "
             "over) {adults}.").format(
        hamlet=hamlet.name, aged_15=figure(hamlet.population_15, hamlet.population_15_published),
        adults=figure(hamlet.population_18, hamlet.population_18_published))


def percent_text(share: float | None) -> str:
    """0.8 -> "80"; 0.825 -> "82,5" (what the target field shows); None -> ""."""
    if share is None:
        return ""
    value = round(share * 100, 2)
    return format_number(value, decimals=0 if value == int(value) else 1)


class _CatalogDialog(QDialog):
    """A dialog that saves one catalogue figure: field errors shown beside their fields, and
    the saved value (the operation's result) kept in `saved` when it closes."""

    errors: FieldErrors
    saved: object

    def _invalid(self, error: ValidationError) -> None:
        self.errors.show(error.fields)

    def _saved(self, result: object) -> None:
        self.saved = getattr(result, "value", None)
        self.accept()


class TargetDialog(_CatalogDialog):
    """Set or remove the team's target for one indicator: a share in percent."""

    def __init__(self, ctx: AppContext, indicator: Indicator, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx, self.indicator = ctx, indicator
        self.saved: Indicator | None = None
        self.setWindowTitle(_("Target of an indicator"))
        buttons = save_cancel_buttons(self)
        self.remove_button = buttons.addButton(_("No target"),
                                               QDialogButtonBox.ButtonRole.ActionRole)
        self.remove_button.clicked.connect(self.remove)
        self.remove_button.setEnabled(indicator.target is not None)
        layout = scrolled_body(self, buttons)
        heading = QLabel(indicator.name)
        heading.setFont(scaled_font(heading, 1.1, bold=True))
        heading.setWordWrap(True)
        layout.addWidget(heading)
        hint = QLabel(_("The share of the people counted (aged {age} and over) who should have "
                        "this indicator. If the province publishes a target, it replaces the "
                        "team's.").format(age=indicator.min_age))
        hint.setWordWrap(True)
        hint.setStyleSheet(HINT_STYLE)
        layout.addWidget(hint)
        general = QLabel()
        layout.addWidget(general)
        self.errors = FieldErrors(general)
        self.share = QLineEdit(percent_text(indicator.target))
        self.share.setPlaceholderText(_("for example 80"))
        form = QFormLayout()
        form.addRow(_("Target (%):"), self.errors.add("target", FieldWithError(self.share)))
        layout.addLayout(form)
        fit_to_screen(self, QSize(DIALOG_WIDTH, self.sizeHint().height()))

    def typed(self) -> str:
        """The percent typed: "80" means 80 %, as the field's label says."""
        text = self.share.text().strip()
        return text if not text or text.endswith("%") else text + "%"

    def save(self) -> None:
        self._set(self.typed() or None)

    def remove(self) -> None:
        self._set(None)

    def _set(self, value: str | None) -> None:
        self.errors.clear()
        catalog, code = self.ctx.ws.catalog, self.indicator.code
        (Op(self.ctx, self, lambda _progress: catalog.set_target(code, value))
         .success(self._saved)
         .invalid(self._invalid)
         .run())


class PopulationDialog(_CatalogDialog):
    """A hamlet's official population aged 15 and over and its adults; a figure the
    province published is shown, locked."""

    def __init__(self, ctx: AppContext, hamlet: Hamlet, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx, self.hamlet = ctx, hamlet
        self.saved: Hamlet | None = None
        self.setWindowTitle(_("Official population"))
        buttons = save_cancel_buttons(self)
        layout = scrolled_body(self, buttons)
        heading = QLabel(hamlet.name)
        heading.setFont(scaled_font(heading, 1.1, bold=True))
        layout.addWidget(heading)
        hint = QLabel(_("The hamlet's official figures (from the commune's statistics). "
                        "Indicators are shown against them as well as against the people "
                        "registered. Leave a figure empty if it is not known."))
        hint.setWordWrap(True)
        hint.setStyleSheet(HINT_STYLE)
        layout.addWidget(hint)
        general = QLabel()
        layout.addWidget(general)
        self.errors = FieldErrors(general)
        self.aged_15 = self._field(hamlet.population_15, hamlet.population_15_published)
        self.adults = self._field(hamlet.population_18, hamlet.population_18_published)
        form = QFormLayout()
        form.addRow(_("Aged 15 and over:"),
                    self.errors.add("population_15", FieldWithError(self.aged_15)))
        form.addRow(_("Adults (18 and over):"),
                    self.errors.add("population_18", FieldWithError(self.adults)))
        layout.addLayout(form)
        locked = hamlet.population_15_published or hamlet.population_18_published
        self.lock_label = QLabel(_("A figure the province published is locked: it cannot be "
                                   "changed here."))
        self.lock_label.setWordWrap(True)
        self.lock_label.setStyleSheet(HINT_STYLE)
        self.lock_label.setVisible(locked)
        layout.addWidget(self.lock_label)
        buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(
            not (hamlet.population_15_published and hamlet.population_18_published))
        fit_to_screen(self, QSize(DIALOG_WIDTH, self.sizeHint().height()))

    @staticmethod
    def _field(value: int | None, published: bool) -> QLineEdit:
        edit = QLineEdit("" if value is None else str(value))
        edit.setPlaceholderText(_("not known"))
        if published:
            edit.setReadOnly(True)
            edit.setEnabled(False)
            edit.setToolTip(published_note())
        return edit

    def save(self) -> None:
        self.errors.clear()
        catalog, hamlet_id = self.ctx.ws.catalog, self.hamlet.id
        aged_15, adults = self.aged_15.text(), self.adults.text()
        (Op(self.ctx, self, lambda _progress: catalog.set_population(hamlet_id, aged_15, adults))
         .success(self._saved)
         .invalid(self._invalid)
         .run())


@DIALOGS.register("indicator target")
def _sample_target(ctx: AppContext, parent: QWidget) -> QDialog:
    indicator = max(ctx.ws.catalog.indicators(), key=lambda i: len(i.name))
    return TargetDialog(ctx, indicator, parent)


@DIALOGS.register("official population")
def _sample_population(ctx: AppContext, parent: QWidget) -> QDialog:
    hamlet = max(ctx.ws.catalog.hamlets(), key=lambda h: len(h.name))
    return PopulationDialog(ctx, hamlet, parent)
