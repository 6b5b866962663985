"""Starting the desktop app."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QMessageBox

from dxkit.core import i18n
from dxkit.core.errors import DxError
from dxkit.core.i18n import _
from dxkit.ui import appearance
from dxkit.ui.context import AppContext
from dxkit.ui.main_window import MainWindow
from dxkit.ui.qt_language import follow_language
from dxkit.workspace import Workspace


def create_main_window(ws: Workspace) -> MainWindow:
    """A main window over an open workspace (needs a QApplication; tests and scripts use this)."""
    follow_language()
    appearance.apply(ws)
    ctx = AppContext(ws)
    ctx.language_changed.connect(lambda _language: follow_language())
    return MainWindow(ctx)


def apply_language(ws: Workspace) -> None:
    language = ws.settings.get("language", i18n.DEFAULT_LANGUAGE)
    i18n.set_language(language if language in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE)


def run_app(data_dir: str | None) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("dxkit")
    app.setOrganizationName("dxkit")
    try:
        ws = Workspace.open(data_dir)
    except DxError as exc:
        QMessageBox.critical(None, _("dxkit cannot start"), exc.message)
        return 1
    try:
        apply_language(ws)
        window = create_main_window(ws)
        window.show()
        code = app.exec()
        window.ctx.tasks.shutdown()
        return code
    finally:
        ws.close()
