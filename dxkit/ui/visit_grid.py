"""The visit form's grid: one row per person (and one for the household as a whole), one
column per support item; each cell holds the outcome of that help for that person.

It is one stop in the form's tab order, like a table: Tab enters it at the cell last visited
and leaves it for the next field. Inside, the arrows move in all four directions, Space
cycles the cell through done → partly done → not done → nothing, and Enter moves down a row
(from the last row, on to the next field). A click cycles the cell as Space does.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QFocusEvent, QFontMetrics, QKeyEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QAbstractButton, QFrame, QGridLayout, QLabel, QWidget

from dxkit.core.i18n import _
from dxkit.households.catalog import SupportItem
from dxkit.households.visits import Outcome, outcome_label
from dxkit.ui.appearance import HINT_COLOUR, scaled_font

# (person id or None for the household as a whole, support item code)
CellKey = tuple[str | None, str]

CYCLE: tuple[Outcome | None, ...] = (None, "done", "partly", "not_done")
GLYPHS = {None: "", "done": "✓", "partly": "½", "not_done": "✗"}
GLYPH_COLOURS = {"done": "#1b6e1b", "partly": "#8a5a00", "not_done": "#b3261e"}
GLYPH_SCALE = 1.3  # a mark read at arm's length, on a doorstep
PENDING_FILL = QColor("#fff1c7")  # amber: left open by an earlier visit
FOCUS_COLOUR = QColor("#1a56b0")
HEADER_LINES = 3  # a longer item name is shortened with "…" (the tooltip has it whole)
COLUMN_CHARACTERS = 11  # a column is about this many letters of the app font wide
NAME_CHARACTERS = 22
MOVES = {Qt.Key.Key_Left: (0, -1), Qt.Key.Key_Right: (0, 1), Qt.Key.Key_Up: (-1, 0),
         Qt.Key.Key_Down: (1, 0)}


@dataclass(frozen=True)
class GridRow:
    person_id: str | None
    name: str
    extra: str  # relationship and age


class OutcomeCell(QAbstractButton):
    """One cell: its outcome drawn as ✓, ½ or ✗; amber when an earlier visit left it open."""

    outcome_changed = Signal()
    moved = Signal(int, int)  # rows, columns (Enter asks for the next row)
    entered = Signal()  # focus came in (a click, or Tab into the grid)

    def __init__(self, row: int, column: int, description: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.row, self.column = row, column
        self.description = description  # "Nguyễn Văn Bình — Kích hoạt VNeID mức 2"
        self.outcome: Outcome | None = None
        self.pending_note = ""
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.clicked.connect(self.cycle)
        self._describe()

    def sizeHint(self) -> QSize:
        side = self.fontMetrics().height() + 12
        return QSize(side + 10, side)

    def cycle(self) -> None:
        self.set_outcome(CYCLE[(CYCLE.index(self.outcome) + 1) % len(CYCLE)])

    def set_outcome(self, outcome: Outcome | None) -> bool:
        """Show `outcome`; returns whether it changed (the grid then tells the form)."""
        if outcome == self.outcome:
            return False
        self.outcome = outcome
        self._describe()
        self.update()
        self.outcome_changed.emit()
        return True

    def set_pending(self, note: str) -> None:
        self.pending_note = note
        self._describe()
        self.update()

    def _describe(self) -> None:
        state = outcome_label(self.outcome) if self.outcome else _("not given")
        text = f"{self.description}: {state}"
        self.setAccessibleName(text)
        self.setToolTip("\n".join(filter(None, (text, self.pending_note))))

    # -- keyboard -----------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in MOVES and not event.modifiers():
            self.moved.emit(*MOVES[Qt.Key(key)])
        elif key == Qt.Key.Key_Space and not event.modifiers():
            self.cycle()  # on the press: the button's own press/release would click later
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers():
            self.moved.emit(1, 0)
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space:
            return  # handled on the press
        super().keyReleaseEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.entered.emit()

    # -- drawing ------------------------------------------------------------------------
    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        box = self.rect().adjusted(3, 2, -3, -2)
        painter.fillRect(box, PENDING_FILL if self.pending_note else QColor("white"))
        focused = self.hasFocus()
        painter.setPen(QPen(FOCUS_COLOUR if focused else QColor("#8c8c8c"), 2 if focused else 1))
        painter.drawRect(box)
        if self.outcome:
            font = self.font()
            font.setBold(True)
            font.setPointSizeF(font.pointSizeF() * GLYPH_SCALE)
            painter.setFont(font)
            painter.setPen(QColor(GLYPH_COLOURS[self.outcome]))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, GLYPHS[self.outcome])


def header_text(name: str, metrics: QFontMetrics, width: int, lines: int = HEADER_LINES
                ) -> str:
    """`name` wrapped to `width` on at most `lines` lines, the last ending in "…" if cut."""
    words, shown = name.split(), []
    while words and len(shown) < lines:
        line = words.pop(0)
        while words and metrics.horizontalAdvance(f"{line} {words[0]}") <= width:
            line += " " + words.pop(0)
        shown.append(line)
    if words or any(metrics.horizontalAdvance(line) > width for line in shown):
        rest = " ".join([shown.pop(), *words])
        shown.append(metrics.elidedText(rest + (" …" if words else ""),
                                        Qt.TextElideMode.ElideRight, width))
    return "\n".join(shown)


class VisitGrid(QWidget):
    """Rows of people × columns of support items; `changed(key)` when a cell's outcome does."""

    changed = Signal(object)  # CellKey

    def __init__(self, rows: Sequence[GridRow], items: Sequence[SupportItem],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.rows = list(rows)
        self.items = list(items)
        self.cells: dict[CellKey, OutcomeCell] = {}
        self._positions: list[list[OutcomeCell]] = []
        self.current: OutcomeCell | None = None
        self._build()
        if self._positions:
            self.make_current(self._positions[0][0])

    def _build(self) -> None:
        grid = QGridLayout(self)
        grid.setHorizontalSpacing(2)
        grid.setVerticalSpacing(2)
        metrics = self.fontMetrics()
        column_width = metrics.averageCharWidth() * COLUMN_CHARACTERS
        for column, item in enumerate(self.items, start=1):
            grid.addWidget(self._header(item, metrics, column_width), 0, column,
                           Qt.AlignmentFlag.AlignBottom)
        for row, entry in enumerate(self.rows, start=1):
            grid.addWidget(self._name_label(entry, metrics), row, 0)
            cells = []
            for column, item in enumerate(self.items, start=1):
                cell = OutcomeCell(row - 1, column - 1, f"{entry.name} — {item.name}")
                cell.setFixedWidth(column_width)
                cell.outcome_changed.connect(lambda key=(entry.person_id, item.code):
                                             self.changed.emit(key))
                cell.moved.connect(lambda rows, columns, c=cell: self.move(c, rows, columns))
                cell.entered.connect(lambda c=cell: self.make_current(c))
                self.cells[(entry.person_id, item.code)] = cell
                cells.append(cell)
                grid.addWidget(cell, row, column)
            self._positions.append(cells)
            if row % 2 == 0:
                stripe = QFrame()
                stripe.setStyleSheet("background: rgba(0, 0, 0, 0.04);")
                grid.addWidget(stripe, row, 0, 1, len(self.items) + 1)
                stripe.lower()
        grid.setColumnStretch(len(self.items) + 1, 1)

    @staticmethod
    def _header(item: SupportItem, metrics: QFontMetrics, width: int) -> QLabel:
        # The app's own text size, never smaller: the name is shortened instead.
        header = QLabel(header_text(item.name, metrics, width))
        scaled_font(header)
        header.setFixedWidth(width)
        header.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom)
        header.setToolTip(item.name)
        header.setAccessibleName(item.name)
        return header

    @staticmethod
    def _name_label(entry: GridRow, metrics: QFontMetrics) -> QLabel:
        label = QLabel(f"<b>{html.escape(entry.name)}</b><br>"
                       f'<span style="color: {HINT_COLOUR};">{html.escape(entry.extra)}</span>')
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setWordWrap(True)
        label.setFixedWidth(metrics.averageCharWidth() * NAME_CHARACTERS)
        return label

    # -- values -------------------------------------------------------------------------
    def outcome(self, key: CellKey) -> Outcome | None:
        return self.cells[key].outcome

    def set_outcome(self, key: CellKey, outcome: Outcome | None) -> None:
        self.cells[key].set_outcome(outcome)

    def given(self) -> dict[CellKey, Outcome]:
        """Every cell with an outcome, row by row."""
        return {key: cell.outcome for key, cell in self.cells.items() if cell.outcome}

    def mark_pending(self, key: CellKey, note: str) -> None:
        self.cells[key].set_pending(note)

    # -- moving -------------------------------------------------------------------------
    def make_current(self, cell: OutcomeCell) -> None:
        """Only the current cell is a Tab stop: Tab enters the grid there and leaves it."""
        if self.current is not None and self.current is not cell:
            self.current.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        cell.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.current = cell

    def focus_cell(self, key: CellKey) -> None:
        cell = self.cells[key]
        self.make_current(cell)
        cell.setFocus(Qt.FocusReason.OtherFocusReason)

    def move(self, cell: OutcomeCell, rows: int, columns: int) -> None:
        row, column = cell.row + rows, cell.column + columns
        if row >= len(self._positions) and rows > 0:
            cell.focusNextChild()  # down from the last row: on to the next field
            return
        if not (0 <= row < len(self._positions) and 0 <= column < len(self.items)):
            return  # the edge: stay
        target = self._positions[row][column]
        self.make_current(target)
        target.setFocus(Qt.FocusReason.OtherFocusReason)
        self._scroll_to(target)

    def _scroll_to(self, cell: OutcomeCell) -> None:
        """On a netbook the grid scrolls sideways: keep the cell with focus in view."""
        parent = self.parentWidget()
        while parent is not None and not hasattr(parent, "ensureWidgetVisible"):
            parent = parent.parentWidget()
        if parent is not None:
            parent.ensureWidgetVisible(cell)  # type: ignore[attr-defined]
