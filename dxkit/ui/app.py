"""Starting the desktop app."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from dxkit.core import i18n, logs
from dxkit.core.encryption import KeyNotHere
from dxkit.core.errors import DxError
from dxkit.core.i18n import _
from dxkit.core.workspace import SETTINGS_FILENAME, Settings
from dxkit.ui import appearance
from dxkit.ui.backup_ui import schedule_daily_backup
from dxkit.ui.context import AppContext
from dxkit.ui.first_run import FirstRunAssistant, first_run_due
from dxkit.ui.main_window import MainWindow
from dxkit.ui.qt_language import follow_language
from dxkit.ui.recovery_key import UnlockDialog
from dxkit.workspace import Workspace, default_path

APP_LOCK_WAIT_SECONDS = 1.0
qt_log = logging.getLogger("dxkit.ui.qt")
QT_LEVELS = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
             QtMsgType.QtWarningMsg: logging.WARNING, QtMsgType.QtCriticalMsg: logging.ERROR,
             QtMsgType.QtFatalMsg: logging.CRITICAL}


def create_main_window(ws: Workspace) -> MainWindow:
    """A main window over an open workspace (needs a QApplication; tests and scripts use this)."""
    follow_language()
    appearance.apply(ws)
    ctx = AppContext(ws)
    ctx.language_changed.connect(lambda _language: follow_language())
    return MainWindow(ctx)


def apply_language(ws: Workspace) -> None:
    _set_language(ws.settings)


def _set_language(settings: Settings) -> None:
    language = settings.get("language", i18n.DEFAULT_LANGUAGE)
    i18n.set_language(language if language in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE)


def open_workspace(data_dir: str | None) -> Workspace | None:
    """The workspace the app works on. When its key is not on this computer (a new computer,
    the keyring was reset), the unlock dialog asks for the team leader's recovery key instead
    of an error; None when the user quits there."""
    try:
        # A command that holds the lock for a moment is waited for; a workspace open in
        # another window or a long command is said in a dialog (by the caller).
        return Workspace.open(data_dir, wait=APP_LOCK_WAIT_SECONDS, daily_backup=False)
    except KeyNotHere:
        folder = Path(data_dir).expanduser() if data_dir else default_path()
        _set_language(Settings(folder / SETTINGS_FILENAME))  # not encrypted: readable now
        follow_language()
        dialog = UnlockDialog(folder, wait=APP_LOCK_WAIT_SECONDS)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.workspace


def _qt_message(kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    qt_log.log(QT_LEVELS.get(kind, logging.WARNING), "%s", message)


def start_logging(data_dir: str | None) -> None:
    """The app has no console on Windows: its log, uncaught errors of every thread and Qt's
    own warnings go to the log file in the workspace folder."""
    logs.setup(Path(data_dir).expanduser() if data_dir else default_path())
    logs.install_crash_hooks()
    qInstallMessageHandler(_qt_message)


def offer_first_run(window: MainWindow) -> FirstRunAssistant | None:
    """A laptop that is neither enrolled nor set up gets the first-run assistant over the
    main window (not modal to the app: the households welcome stays usable behind it)."""
    if not first_run_due(window.ctx):
        return None
    assistant = FirstRunAssistant(window.ctx, window)
    assistant.open()
    return assistant


def run_app(data_dir: str | None) -> int:
    start_logging(data_dir)
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("dxkit")
    app.setOrganizationName("dxkit")
    try:
        opened = open_workspace(data_dir)
    except DxError as exc:
        QMessageBox.critical(None, _("dxkit cannot start"), exc.message)
        return 1
    if opened is None:
        return 0  # quit from the unlock dialog: nothing was opened or changed
    ws = opened
    try:
        apply_language(ws)
        window = create_main_window(ws)
        window.show()
        offer_first_run(window)
        schedule_daily_backup(window.ctx, window)
        code = app.exec()
        window.ctx.tasks.shutdown()
        return code
    finally:
        ws.close()
