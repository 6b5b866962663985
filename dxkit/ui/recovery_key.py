"""The team leader's recovery key in the app.

- `RecoveryKeyEdit`: the one input for a recovery key — 14 groups of four, typed in any case,
  with or without spaces and dashes (as `DatabaseKey.from_recovery_text` reads it), a
  counter, and the typo sentence of RecoveryKeyError under it.
- `UnlockDialog`: at start, when the workspace's key is not on this computer, asks for the
  recovery key and unlocks the workspace with it (`Workspace.unlock`, as `dxkit key unlock`).
- `RestoreKeyDialog`: a restore of another computer's backup asks for the recovery key of
  the workspace it comes from (Settings → Backups).
- `RecoverySheetDialog`: shows this workspace's recovery key once, large, with Print; the
  page printed is `dxkit.core.keys.recovery_sheet`, sent to the printer by
  `print_plain_text`, outside the widgets.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication, QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.errors import DxError
from dxkit.core.i18n import _
from dxkit.core.keys import (
    GROUP,
    GROUPS,
    RECOVERY_CHARS,
    DatabaseKey,
    RecoveryKeyError,
    recovery_letters,
    recovery_sheet,
)
from dxkit.ui.appearance import HINT_STYLE
from dxkit.ui.context import AppContext
from dxkit.ui.fitting import DIALOGS, fit_to_screen
from dxkit.ui.widgets import error_label
from dxkit.workspace import Workspace

KEY_FONT_SCALE = 1.6  # the key shown once: large enough to copy by hand without a mistake
PREFERRED_SIZE = QSize(720, 0)  # as wide as the key's line needs; the height is the layout's


def monospace(scale: float = 1.0) -> QFont:
    """The system's fixed-width font at `scale` times the application's size."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    size = QGuiApplication.font().pointSizeF()
    if size > 0:
        font.setPointSizeF(size * scale)
    return font


def grouped(text: str) -> str:
    """A typed key in the printed form, "ABCD-EFGH-…" (letters beyond 56 are kept)."""
    letters = recovery_letters(text)
    return "-".join(letters[i:i + GROUP] for i in range(0, len(letters), GROUP))


# -- the input --------------------------------------------------------------------------------
class RecoveryKeyEdit(QWidget):
    """Where a recovery key is typed: its letters are counted as they come, tidied into
    groups when the field is left, and a typo is said under it in RecoveryKeyError's words."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.edit = QLineEdit()
        self.edit.setFont(monospace())
        self.edit.setPlaceholderText("-".join(["XXXX"] * GROUPS))
        self.edit.setMinimumWidth(self.edit.fontMetrics().horizontalAdvance(
            "W" * (RECOVERY_CHARS + GROUPS + 2)))
        self.edit.textEdited.connect(self._edited)
        self.edit.editingFinished.connect(self._tidy)
        self.count = QLabel()
        self.count.setStyleSheet(HINT_STYLE)
        self.error = error_label()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addWidget(self.count)
        layout.addWidget(self.error)
        self._edited(self.edit.text())

    def text(self) -> str:
        return self.edit.text()

    def set_text(self, text: str) -> None:
        self.edit.setText(text)
        self._edited(text)

    def key(self) -> DatabaseKey:
        """The key typed; RecoveryKeyError (also shown under the field) for a typo."""
        try:
            return DatabaseKey.from_recovery_text(self.edit.text())
        except RecoveryKeyError as exc:
            self.show_error(exc.message)
            raise

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        self.edit.setFocus()

    def _edited(self, text: str) -> None:
        self.error.hide()
        self.count.setText(_("{count} of {total} letters and digits").format(
            count=len(recovery_letters(text)), total=RECOVERY_CHARS))

    def _tidy(self) -> None:
        tidy = grouped(self.edit.text())
        if tidy and tidy != self.edit.text():
            self.edit.setText(tidy)


# -- asking for it ----------------------------------------------------------------------------
class RecoveryKeyDialog(QDialog):
    """A short explanation, the recovery key input and two buttons. `attempt(key)` does the
    work once the key has no typo; a DxError it raises is said under the field and the
    dialog stays open for another try."""

    def __init__(self, title: str, intro: str, action: str, cancel: str,
                 parent: QWidget | None = None, *, detail: str = "", typed: str = "",
                 error: str = ""):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        self.detail = QLabel(detail)  # where: the folder, the file
        self.detail.setStyleSheet(HINT_STYLE)
        self.detail.setWordWrap(True)
        self.detail.setVisible(bool(detail))
        self.key_input = RecoveryKeyEdit()
        buttons = QDialogButtonBox()
        self.action_button = buttons.addButton(action, QDialogButtonBox.ButtonRole.AcceptRole)
        self.action_button.setDefault(True)
        self.cancel_button = buttons.addButton(cancel, QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.try_key)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.detail)
        layout.addSpacing(6)
        layout.addWidget(QLabel(_("Recovery key")))
        layout.addWidget(self.key_input)
        layout.addStretch(1)
        layout.addWidget(buttons)
        if typed:
            self.key_input.set_text(typed)
        if error:
            self.key_input.show_error(error)
        self.key_input.edit.setFocus()
        fit_to_screen(self, PREFERRED_SIZE.expandedTo(self.sizeHint()))
        self._fit_height()

    def _fit_height(self) -> None:
        """Grow to show a sentence that appeared under the field (wrapped lines need the
        height for the dialog's width, which the size hint does not know)."""
        layout = self.layout()
        if layout is None:
            return
        needed = (layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth()
                  else layout.totalSizeHint().height())
        if needed > self.height():
            self.resize(self.width(), needed)

    def try_key(self) -> bool:
        """Read the key and attempt the work; True (and the dialog accepted) when done."""
        try:
            key = self.key_input.key()
        except RecoveryKeyError:
            self._fit_height()  # said under the field
            return False
        try:
            self.attempt(key)
        except DxError as exc:
            self.key_input.show_error(exc.message)
            self._fit_height()
            return False
        self.accept()
        return True

    def attempt(self, key: DatabaseKey) -> None:
        raise NotImplementedError


class UnlockDialog(RecoveryKeyDialog):
    """The workspace is encrypted and its key is not on this computer: the team leader's
    recovery key unlocks it (kept in this computer's key store, as `dxkit key unlock` does)
    and opens it, into `workspace`. Cancel quits the app.

    It runs before the app has a workspace, and so before any worker thread: unlocking and
    opening happen here, like the app's first open."""

    def __init__(self, folder: Path, parent: QWidget | None = None, *, wait: float = 0.0):
        self.folder = folder
        self.wait = wait
        self.workspace: Workspace | None = None
        super().__init__(
            _("Unlock the data"),
            _("The data on this computer is locked: it is encrypted, and its key is not on "
              "this computer (a new computer, or the system keyring was reset). Type the "
              "recovery key that the team leader printed to open it."),
            _("Unlock"), _("Quit"), parent, detail=str(folder))

    def attempt(self, key: DatabaseKey) -> None:
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self.workspace = Workspace.unlock(self.folder, key, wait=self.wait,
                                              daily_backup=False)
        finally:
            QGuiApplication.restoreOverrideCursor()


class RestoreKeyDialog(RecoveryKeyDialog):
    """A backup that does not open with this workspace's key: the recovery key of the
    workspace it comes from, in `key`, for the restore to try again. `error`: why the last
    key did not open it."""

    def __init__(self, path: Path, error: str = "", typed: str = "",
                 parent: QWidget | None = None):
        self.key: DatabaseKey | None = None
        super().__init__(
            _("Restore another computer's backup"),
            _("This backup does not open with this computer's key: it was made on another "
              "computer (or it is damaged). To restore it, type the recovery key that the team "
              "leader printed for that computer. The restored data is then encrypted with "
              "this computer's key."),
            _("Restore"), _("Cancel"), parent, detail=str(path), typed=typed, error=error)

    def attempt(self, key: DatabaseKey) -> None:
        self.key = key


# -- showing it once --------------------------------------------------------------------------
def print_plain_text(parent: QWidget | None, text: str) -> bool:
    """Print `text` in a fixed-width font after the system's print dialog; False when the
    user cancelled it."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    if QPrintDialog(printer, parent).exec() != QDialog.DialogCode.Accepted:
        return False
    document = QTextDocument()
    font = monospace()
    font.setPointSizeF(11)
    document.setDefaultFont(font)
    document.setPlainText(text)
    document.print_(printer)
    return True


class RecoverySheetDialog(QDialog):
    """This workspace's recovery key, shown once to the team leader: large, in groups, with
    Print. Accepted only by saying it was written down or printed — the caller then records
    that it was shown; closing it otherwise records nothing."""

    def __init__(self, key: DatabaseKey, folder: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.recovery_key = key
        self.folder = folder
        self.printed = False
        self.setWindowTitle(_("Recovery key"))
        intro = QLabel(_(
            "This is the recovery key of the data on this computer. With it the data and its "
            "backups open on any computer, for example when this laptop is lost. Print it or "
            "copy it by hand now and keep the sheet locked away, apart from the laptop: "
            "anyone who has it and a copy of the data can read every name and ID number. "
            "It is shown only once."))
        intro.setWordWrap(True)
        self.key_label = QLabel("\n".join(key.recovery_lines()))
        self.key_label.setFont(monospace(KEY_FONT_SCALE))
        self.key_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key_label.setStyleSheet("padding: 12px; border: 1px solid #888;")
        self.print_button = QPushButton(_("Print…"))
        self.print_button.clicked.connect(self.print_sheet)
        self.done_button = QPushButton(_("I have printed or written it down"))
        self.done_button.setDefault(True)
        self.done_button.clicked.connect(self.accept)
        self.later_button = QPushButton(_("Not now"))
        self.later_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.print_button)
        buttons.addStretch(1)
        buttons.addWidget(self.later_button)
        buttons.addWidget(self.done_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.key_label)
        layout.addStretch(1)
        layout.addLayout(buttons)
        fit_to_screen(self, PREFERRED_SIZE.expandedTo(self.sizeHint()))

    def sheet(self) -> str:
        return recovery_sheet(self.recovery_key, self.folder, dt.datetime.now())

    def print_sheet(self) -> None:
        if print_plain_text(self, self.sheet()):
            self.printed = True


@DIALOGS.register("unlock")
def _sample_unlock(ctx: AppContext, parent: QWidget) -> QDialog:
    return UnlockDialog(ctx.ws.path, parent)


@DIALOGS.register("restore key")
def _sample_restore_key(ctx: AppContext, parent: QWidget) -> QDialog:
    typed, error = "abcd efgh ijkl", ""  # a key typed half way, and what is said about it
    try:
        DatabaseKey.from_recovery_text(typed)
    except RecoveryKeyError as exc:
        error = exc.message
    return RestoreKeyDialog(Path.home() / "USB" / "daily-20261119T093000Z.sqlite", error,
                            typed, parent)


@DIALOGS.register("recovery key")
def _sample_recovery_sheet(ctx: AppContext, parent: QWidget) -> QDialog:
    return RecoverySheetDialog(ctx.ws.key, ctx.ws.path, parent)
