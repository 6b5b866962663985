"""Every page and every dialog fits the team's laptops, in both languages: a 1024×600 netbook
(1024×560 above the taskbar) and a 1366×768 screen at 125 % (1093×574 logical pixels).

The screen is stood in for by replacing `fitting.available_area`, which everything that sizes
a window asks. The pages come from the main window's sections and the dialogs from
`fitting.DIALOGS`, so a new page or dialog is checked without touching this file (and a
QDialog subclass nobody registered fails `test_every_dialog_class_has_a_registered_sample`).
"""

from __future__ import annotations

import inspect
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QPushButton,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from dxkit import demo
from dxkit.core import i18n
from dxkit.core.keys import DatabaseKey
from dxkit.ui import fitting, qt_language
from dxkit.ui.app import create_main_window
from dxkit.ui.context import AppContext
from dxkit.ui.fitting import DIALOGS, FRAME, FormScroll
from dxkit.workspace import Workspace
from tests.conftest import FROZEN_NOW
from tests.ui.conftest import open_copy

SCREENS = {"1024x600": QRect(0, 0, 1024, 560), "1366x768@125%": QRect(0, 0, 1093, 574)}
MODULES = DIALOGS.load_all()  # every dialog registers as its module is imported
EXTENSION_BUTTON = "qt_toolbar_ext_button"  # the "»" of a toolbar whose actions do not fit


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(params=list(SCREENS))
def screen(request, monkeypatch) -> QRect:
    area = SCREENS[request.param]
    monkeypatch.setattr(fitting, "available_area", lambda _widget=None: QRect(area))
    return area


@pytest.fixture(params=["vi", "en"])
def language(request) -> str:
    i18n.set_language(request.param)  # the autouse fixture of tests/conftest.py resets it
    return request.param


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory) -> tuple[Path, DatabaseKey]:
    """A small demo workspace, made once, and its key; each test opens a copy of it."""
    folder = tmp_path_factory.mktemp("fit") / "demo"
    ws = Workspace.open(folder)
    ws.freeze_time(FROZEN_NOW)
    demo.generate(ws, seed=1, households=12)
    ws.settings.set("current_member_id", ws.catalog.members()[0].id)
    key = ws.key
    ws.close()
    return folder, key


@pytest.fixture
def demo_ws(demo_folder, tmp_path):
    ws = open_copy(*demo_folder, tmp_path / "demo")
    yield ws
    ws.close()


def settle(ctx: AppContext, qtbot) -> None:
    """Let every load a screen started come back and be laid out."""

    def idle() -> bool:
        ctx.tasks.wait_idle()
        QApplication.processEvents()
        return not ctx.tasks.active

    qtbot.waitUntil(idle, timeout=10_000)
    QApplication.processEvents()


# -- the checks -------------------------------------------------------------------------------
def fit_problems(window: QWidget, area: QRect) -> list[str]:
    """Everything that keeps `window` from being used on a screen offering `area`."""
    return (size_problems(window, area) + placement_problems(window, area)
            + button_problems(window) + toolbar_problems(window))


def size_problems(window: QWidget, area: QRect) -> list[str]:
    room = area.size().shrunkBy(FRAME)  # the title bar and borders must fit as well
    problems = []
    for what, size in (("minimum size", window.minimumSize()),
                       ("minimum size hint", window.minimumSizeHint())):
        if size.width() > room.width() or size.height() > room.height():
            problems.append(f"{what} {_text(size)} is more than the {_text(room)} available")
    return problems


def placement_problems(window: QWidget, area: QRect) -> list[str]:
    frame = window.frameGeometry()
    if not area.contains(frame):
        return [f"the window at {_rect(frame)} is not all on the screen {_rect(area)}"]
    # Centred on the screen, within what an unknown frame may shift it by.
    offset = frame.center() - area.center()
    if abs(offset.x()) > FRAME.top() or abs(offset.y()) > FRAME.top():
        return [f"the window at {_rect(frame)} is not centred on the screen {_rect(area)}"]
    return []


def button_problems(window: QWidget) -> list[str]:
    """Visible push buttons are wholly in view, except inside a scrolled form, where they
    only need to be reachable by scrolling; a dialog's own buttons never scroll away."""
    problems = []
    for button in window.findChildren(QPushButton):
        if not button.isVisible():
            continue
        scroll = _form_scroll_of(button, window)
        name = f"button {button.text()!r}"
        if scroll is None:
            if _cut_off(button, window):
                problems.append(f"{name} is cut off")
        elif isinstance(button.parentWidget(), QDialogButtonBox):
            problems.append(f"{name} of the dialog's buttons scrolls out of view")
        elif _cut_off(button, scroll.widget()) or _sticks_out_sideways(button, scroll):
            problems.append(f"{name} cannot be scrolled into view")
    return problems


def toolbar_problems(window: QWidget) -> list[str]:
    problems = []
    for bar in window.findChildren(QToolBar):
        if not bar.isVisible():
            continue
        extension = bar.findChild(QToolButton, EXTENSION_BUTTON)
        if extension is not None and extension.isVisible():
            hidden = [a.text() for a in bar.actions() if a.isVisible() and not a.isSeparator()
                      and not bar.widgetForAction(a).isVisible()]
            problems.append(f"toolbar actions {hidden} are hidden behind »")
        for action in bar.actions():
            widget = bar.widgetForAction(action)
            if action.isVisible() and widget is not None and widget.isVisible() \
                    and _cut_off(widget, window):
                problems.append(f"toolbar action {action.text()!r} is cut off")
    return problems


def _cut_off(widget: QWidget, top: QWidget) -> bool:
    """Whether some ancestor of `widget`, up to `top`, does not show all of it."""
    rect = QRect(widget.mapTo(top, QPoint(0, 0)), widget.size())
    parent = widget.parentWidget()
    while parent is not None:
        if not QRect(parent.mapTo(top, QPoint(0, 0)), parent.size()).contains(rect):
            return True
        if parent is top:
            return False
        parent = parent.parentWidget()
    return False


def _form_scroll_of(widget: QWidget, top: QWidget) -> FormScroll | None:
    parent = widget.parentWidget()
    while parent is not None and parent is not top:
        if isinstance(parent, FormScroll):
            return parent
        parent = parent.parentWidget()
    return None


def _sticks_out_sideways(widget: QWidget, scroll: FormScroll) -> bool:
    left = widget.mapTo(scroll.viewport(), QPoint(0, 0)).x()
    return left < 0 or left + widget.width() > scroll.viewport().width()


def _text(size: QSize) -> str:
    return f"{size.width()}×{size.height()}"


def _rect(rect: QRect) -> str:
    return f"{rect.x()},{rect.y()} {rect.width()}×{rect.height()}"


# -- the checks can fail ----------------------------------------------------------------------
def test_the_checks_catch_a_tall_window_a_cut_off_button_and_a_scrolled_save(qtbot):
    area = SCREENS["1024x600"]
    window = QDialog()
    qtbot.addWidget(window)
    layout = QVBoxLayout(window)
    tall = QWidget()
    tall.setMinimumHeight(700)
    layout.addWidget(tall)
    window.setGeometry(QRect(100, 100, 400, 720))
    window.show()
    cut = QPushButton("Lưu", window)
    cut.move(380, 10)  # half of it past the right edge
    cut.show()
    problems = fit_problems(window, area)
    assert any(p.startswith("minimum size ") for p in problems)
    assert any("not all on the screen" in p for p in problems)
    assert "button 'Lưu' is cut off" in problems

    content = QWidget()
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save, content)
    QVBoxLayout(content).addWidget(buttons)
    layout.addWidget(FormScroll(content))
    QApplication.processEvents()
    save = buttons.button(QDialogButtonBox.StandardButton.Save).text()  # Qt's, translated
    assert f"button '{save}' of the dialog's buttons scrolls out of view" in button_problems(
        window)


# -- pages ------------------------------------------------------------------------------------
@pytest.mark.parametrize("workspace", ["demo", "first start"])
def test_every_page_fits(workspace, screen, language, request, qtbot):
    ws = request.getfixturevalue("demo_ws" if workspace == "demo" else "fresh_ws")
    window = create_main_window(ws)
    qtbot.addWidget(window)
    window.show()
    problems = []
    try:
        for section in window.sections:
            window.show_section(section.key)
            settle(window.ctx, qtbot)
            problems += [f"{section.key}: {p}" for p in fit_problems(window, screen)]
    finally:
        window.ctx.tasks.shutdown()
    assert not problems, "\n".join(problems)


def test_a_running_task_fits_in_the_status_bar(screen, language, demo_ws, qtbot):
    """The status bar shows the task's step, a progress bar and Cancel beside the sync state.
    A long step name is shortened: the bar needs no more than the screen's width (Qt squeezes
    a status bar that does, and cuts its widgets off)."""
    window = create_main_window(demo_ws)
    qtbot.addWidget(window)
    window.show()
    window.resize(screen.size().shrunkBy(FRAME))  # as wide as it can be, no wider
    release = threading.Event()

    def slow(progress):
        progress.update(value=1, maximum=4, label="Đang chuẩn bị bản xem trước khi in " * 3)
        release.wait(5)

    try:
        settle(window.ctx, qtbot)
        window.ctx.tasks.run(slow, label="Vẽ nhãn cho lô hàng " * 4)
        qtbot.waitUntil(lambda: window.task_progress.maximum() == 4)
        needed = window.statusBar().minimumSizeHint().width()
        problems = button_problems(window)
        assert window.cancel_button.isVisible()
    finally:
        release.set()
        settle(window.ctx, qtbot)
        window.ctx.tasks.shutdown()
    assert needed <= window.width() and not problems, (needed, problems)


# -- dialogs ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", DIALOGS.names())
def test_every_dialog_fits(name, screen, language, demo_ws, qtbot):
    ctx = AppContext(demo_ws)
    host = QWidget()
    qtbot.addWidget(host)
    try:
        dialog = DIALOGS.build(name, ctx, host)
        dialog.show()
        settle(ctx, qtbot)
        problems = fit_problems(dialog, screen)
        dialog.close()
    finally:
        ctx.tasks.shutdown()
    assert not problems, "\n".join(f"{name}: {p}" for p in problems)


def dialog_classes() -> list[type[QDialog]]:
    """Every QDialog subclass defined in dxkit.ui."""
    found = []
    for module_name in MODULES:
        for _name, cls in inspect.getmembers(sys.modules[module_name], inspect.isclass):
            if issubclass(cls, QDialog) and cls.__module__ == module_name:
                found.append(cls)
    return found


def test_every_dialog_class_has_a_registered_sample(demo_ws, qtbot):
    ctx = AppContext(demo_ws)
    host = QWidget()
    qtbot.addWidget(host)
    try:
        built = [DIALOGS.build(name, ctx, host) for name in DIALOGS.names()]
    finally:
        ctx.tasks.shutdown()
    classes = dialog_classes()
    assert len(classes) >= 8  # the walk found the app's dialogs
    missing = [c.__qualname__ for c in classes if not any(isinstance(d, c) for d in built)]
    assert not missing, f"register a sample of {missing} with fitting.DIALOGS"


def test_the_print_preview_opens_large_with_print_in_view(screen, language, demo_ws, qtbot):
    """Left to Qt, the print preview opened at about 533×515 with its Print button hidden
    behind the toolbar's "»" (issue 10); the label preview takes the room the screen has,
    with Qt's own texts in the app's language."""
    qt_language.follow_language()  # as the app does at start and on a language change
    ctx = AppContext(demo_ws)
    host = QWidget()
    qtbot.addWidget(host)
    try:
        dialog = DIALOGS.build("print preview", ctx, host)
        dialog.show()
        settle(ctx, qtbot)
        room = screen.size().shrunkBy(FRAME)
        wanted = QSize(960, 720).boundedTo(room)
        assert dialog.width() >= wanted.width() and dialog.height() >= wanted.height()
        bar = dialog.findChild(QToolBar)
        printing = bar.actions()[-1]  # Qt puts Print last, translated by qt.po
        assert printing.text() == {"vi": "In", "en": "Print"}[language]
        assert bar.widgetForAction(printing).isVisible()
        assert not _cut_off(bar.widgetForAction(printing), dialog)
        assert toolbar_problems(dialog) == []
        # The check itself sees the fault at Qt's own size.
        dialog.resize(533, 515)
        QApplication.processEvents()
        assert any("hidden behind »" in p for p in toolbar_problems(dialog))
        dialog.close()
    finally:
        ctx.tasks.shutdown()
        i18n.set_language("vi")
        qt_language.follow_language()
