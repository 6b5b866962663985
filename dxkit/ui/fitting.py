"""Windows that fit the team's laptops: 1366×768 screens at 125 % (about 1093×574 logical
pixels once the taskbar is off) and 1024×600 netbooks (1024×560).

- `fit_to_screen(window, preferred)`: every dialog, and the main window, takes
  min(preferred, what its screen offers) and is centred on that screen.
- `scrolled_body(widget, buttons)`: a long form scrolls while its buttons stay in view.
- `FormScroll` / `SideScroll`: scroll areas that scroll one way only and pass the other
  dimension of their content on to the window, so a form too wide for the screen shows up in
  the window's minimum size instead of being cut off at the edge.
- `FlowLayout`: a row of controls that wraps onto more lines instead of widening the window.
- `DIALOGS`: every dialog with a way to build it on a demo workspace, so that a test opens
  each one on a small screen and scripts/screenshots.py draws each one.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QEvent, QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication, QPainter, QPaintEvent, QScreen
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from dxkit.ui.context import AppContext

# What a window's frame takes around its contents: a Windows 10/11 title bar and borders. The
# frame must fit on the screen too, and before a window is shown Qt cannot say how big it is.
FRAME = QMargins(8, 32, 8, 8)
# Where Qt knows no screen at all: the smallest laptop the teams use.
SMALLEST_AREA = QRect(0, 0, 1024, 560)
MIN_SCROLL_HEIGHT = 80  # a scrolled form shows at least a few lines
MIN_SIDE_SCROLL_WIDTH = 200
MIN_ELIDED_WIDTH = 60


# -- the screen -------------------------------------------------------------------------------
def available_area(widget: QWidget | None = None) -> QRect:
    """The part of the widget's screen a window may cover (the taskbar excluded).

    Everything that sizes a window asks this function, so a test can stand in a small laptop
    screen by replacing it."""
    screen = _screen_of(widget)
    return screen.availableGeometry() if screen is not None else QRect(SMALLEST_AREA)


def _screen_of(widget: QWidget | None) -> QScreen | None:
    if widget is None:
        return QGuiApplication.primaryScreen()
    # A dialog not shown yet has no screen of its own: it opens on its parent's.
    if widget.windowHandle() is None and widget.parentWidget() is not None:
        widget = widget.parentWidget()
    return widget.window().screen() or QGuiApplication.primaryScreen()


def room_on_screen(widget: QWidget | None = None) -> QSize:
    """The largest contents a window can have with its frame still on the screen."""
    return available_area(widget).size().shrunkBy(FRAME)


def fit_to_screen(window: QWidget, preferred: QSize | None = None) -> QSize:
    """Size `window` to min(preferred, the room on its screen) and centre it on that screen.

    `preferred` defaults to what the window's layout asks for. Returns the size given."""
    area = available_area(window)
    room = area.size().shrunkBy(FRAME)
    wanted = preferred if preferred is not None else window.sizeHint()
    window.resize(wanted.expandedTo(window.minimumSizeHint()).boundedTo(room))
    size = window.size()  # never below the window's minimum size
    outer = size.grownBy(FRAME)
    window.move(area.topLeft() + QPoint(max(0, (area.width() - outer.width()) // 2),
                                        max(0, (area.height() - outer.height()) // 2)))
    return size


# -- scrolling --------------------------------------------------------------------------------
class FormScroll(QScrollArea):
    """The scrolled part of a long form. It scrolls up and down only and asks for its
    content's full width, so a window never cuts a form's right side off: a form too wide
    shows in the window's minimum size, which the screen checks catch."""

    def __init__(self, content: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(content)

    def _bar_width(self) -> int:
        return self.verticalScrollBar().sizeHint().width()

    def minimumSizeHint(self) -> QSize:
        content = self.widget()
        width = content.minimumSizeHint().expandedTo(content.minimumSize()).width()
        return QSize(width + self._bar_width(), MIN_SCROLL_HEIGHT)

    def sizeHint(self) -> QSize:
        hint = self.widget().sizeHint()
        return QSize(hint.width() + self._bar_width(), hint.height())

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # the content changed: the window may want another width
        return super().event(event)


class SideScroll(QScrollArea):
    """A strip that may be wider than the window (the visit grid's support items): it scrolls
    sideways only and is as tall as its content plus a scroll bar, so the form around it
    scrolls up and down."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def setWidget(self, widget: QWidget) -> None:
        super().setWidget(widget)
        self.updateGeometry()

    def _height(self) -> int:
        content = self.widget()
        inner = content.sizeHint().height() if content is not None else 0
        # The bar's room is always kept: showing it must not change the form's layout.
        return inner + self.horizontalScrollBar().sizeHint().height() + 2 * self.frameWidth()

    def minimumSizeHint(self) -> QSize:
        return QSize(MIN_SIDE_SCROLL_WIDTH, self._height())

    def sizeHint(self) -> QSize:
        content = self.widget()
        width = content.sizeHint().width() if content is not None else 0
        return QSize(width + 2 * self.frameWidth(), self._height())

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()
        return super().event(event)


def scrolled_body(widget: QWidget, buttons: QWidget | QLayout | None = None) -> QVBoxLayout:
    """Lay `widget` out as a scrolled body above `buttons`, which stay in view however small
    the screen; returns the body's layout for the caller to fill."""
    content = QWidget()
    body = QVBoxLayout(content)
    body.setContentsMargins(0, 0, 0, 0)
    outer = QVBoxLayout(widget)
    outer.addWidget(FormScroll(content), 1)
    if isinstance(buttons, QLayout):
        outer.addLayout(buttons)
    elif buttons is not None:
        outer.addWidget(buttons)
    return body


class ElidedLabel(QLabel):
    """One line of text that ends in "…" when there is no room, rather than widening its
    window (the status bar's task line); the whole text is its tooltip."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(MIN_ELIDED_WIDTH)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight,
                                              self.contentsRect().width())
        painter.drawText(self.contentsRect(), int(self.alignment()), shown)


# -- wrapping ---------------------------------------------------------------------------------
class FlowLayout(QLayout):
    """Lays its items out left to right and starts a new line where the width runs out; each
    line's items are centred vertically. It asks for one line when there is room."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), place=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, place=True)

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._visible():
            size = size.expandedTo(item.minimumSize())
        return size.grownBy(self.contentsMargins())

    def sizeHint(self) -> QSize:
        hints = [item.sizeHint() for item in self._visible()]
        width = sum(h.width() for h in hints) + self._gap() * max(0, len(hints) - 1)
        height = max((h.height() for h in hints), default=0)
        return QSize(width, height).grownBy(self.contentsMargins())

    def _visible(self) -> list[QLayoutItem]:
        return [item for item in self._items if not item.isEmpty()]

    def _gap(self) -> int:
        if self.spacing() >= 0:
            return self.spacing()
        parent = self.parentWidget()
        style = parent.style() if parent is not None else None
        gap = style.pixelMetric(QStyle.PixelMetric.PM_LayoutHorizontalSpacing) if style else -1
        return gap if gap >= 0 else 6

    def _arrange(self, rect: QRect, place: bool) -> int:
        """Break the items into lines that fit `rect`'s width; place them if asked. Returns
        the height the lines take."""
        inner = rect.marginsRemoved(self.contentsMargins())
        gap = self._gap()
        lines: list[list[tuple[QLayoutItem, QSize]]] = [[]]
        x = 0
        for item in self._visible():
            hint = item.sizeHint()
            if lines[-1] and x + hint.width() > inner.width():
                lines.append([])
                x = 0
            lines[-1].append((item, hint))
            x += hint.width() + gap
        y = inner.y()
        for line in lines:
            height = max((hint.height() for _item, hint in line), default=0)
            x = inner.x()
            for item, hint in line:
                if place:
                    width = min(hint.width(), inner.width())
                    item.setGeometry(QRect(x, y + (height - hint.height()) // 2, width,
                                           hint.height()))
                x += hint.width() + gap
            y += height + gap
        margins = self.contentsMargins()
        return y - gap - inner.y() + margins.top() + margins.bottom() if self._visible() else 0


def limit_width(combo: QComboBox, characters: int) -> QComboBox:
    """Make `combo` ask for the width of `characters` letters rather than that of its longest
    entry, which (a cooperative's full name) would widen the whole window. Its list still
    opens wide enough for whole names."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(characters)
    return combo


def keep_together(*widgets: QWidget) -> QWidget:
    """`widgets` side by side, as one item of a FlowLayout (a label stays with its field)."""
    group = QWidget()
    row = QHBoxLayout(group)
    row.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        row.addWidget(widget)
    return group


def flow_row(*widgets: QWidget) -> FlowLayout:
    """A FlowLayout holding `widgets` in order."""
    row = FlowLayout()
    for widget in widgets:
        row.addWidget(widget)
    return row


# -- every dialog, for the screen checks ------------------------------------------------------
DialogFactory = Callable[[AppContext, QWidget], QWidget]
F = TypeVar("F", bound=DialogFactory)


class DialogRegistry:
    """Every dialog of the app, each with a function that builds it on a demo workspace (the
    `ctx` of a workspace made by `dxkit.demo.generate`) with a given parent.

    Each dialog's module registers its own:

        @DIALOGS.register("visit form")
        def _sample_visit_form(ctx: AppContext, parent: QWidget) -> QDialog:
            return VisitDialog(ctx, fullest_household(ctx.ws), parent)

    tests/ui/test_fit.py opens every one on a small screen (and fails for a QDialog subclass
    in dxkit.ui that none of them builds); scripts/screenshots.py draws every one."""

    def __init__(self) -> None:
        self._factories: dict[str, DialogFactory] = {}

    def register(self, name: str) -> Callable[[F], F]:
        def add(factory: F) -> F:
            if name in self._factories:
                raise ValueError(f"a dialog is already registered as {name!r}")
            self._factories[name] = factory
            return factory

        return add

    def names(self) -> list[str]:
        return list(self._factories)

    def build(self, name: str, ctx: AppContext, parent: QWidget) -> QWidget:
        return self._factories[name](ctx, parent)

    @staticmethod
    def load_all() -> list[str]:
        """Import every module of dxkit.ui, so that every dialog has registered; returns the
        modules' names."""
        import dxkit.ui

        names = [info.name for info in pkgutil.iter_modules(dxkit.ui.__path__, "dxkit.ui.")]
        for name in names:
            importlib.import_module(name)
        return names


DIALOGS = DialogRegistry()
