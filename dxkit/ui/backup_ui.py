"""Settings → Backups: the list of backups, "Back up now", "Restore…", how long backups are
kept, "Export diagnostics…", and the team leader's recovery key (shown once). Thin: the work
is `Workspace.backup_now/restore` and `dxkit.core.diagnostics`, run through operations, never
on the UI thread.

A backup made on another computer (a lost laptop's) does not open with this workspace's key:
restoring it asks for the recovery key of the workspace it comes from and tries again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from dxkit.core import backup, diagnostics
from dxkit.core.encryption import WorkspaceKeys
from dxkit.core.i18n import _, format_datetime, format_number, ngettext
from dxkit.core.keys import DatabaseKey
from dxkit.core.progress import Progress
from dxkit.core.sync_review import sync_changes
from dxkit.ui.appearance import HINT_STYLE
from dxkit.ui.context import AppContext
from dxkit.ui.operations import Op, Query
from dxkit.ui.recovery_key import RecoverySheetDialog, RestoreKeyDialog
from dxkit.ui.widgets import show_error, show_message

R = TypeVar("R")

LIST_ROWS = 4  # backups visible without scrolling: the page must fit a 600-pixel screen


class BackupsBox(QGroupBox):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(_("Backups"), parent)
        self.ctx = ctx
        self.ws = ctx.ws
        self._build()
        self.refresh()

    def _build(self) -> None:
        self.backup_list = QListWidget()
        self.backup_list.setFixedHeight(self.backup_list.fontMetrics().lineSpacing() * LIST_ROWS
                                        + 2 * self.backup_list.frameWidth() + 4)
        self.backup_list.currentRowChanged.connect(self._selection_changed)
        self.keep_days = QSpinBox()
        self.keep_days.setRange(1, 3650)
        self.keep_days.setValue(self.ws.backup_keep_days)
        self._set_days_suffix(self.keep_days.value())
        self.keep_days.valueChanged.connect(self._keep_days_changed)
        keep_row = QHBoxLayout()
        keep_row.addWidget(QLabel(_("Keep backups for")))
        keep_row.addWidget(self.keep_days)
        keep_row.addWidget(QLabel(_("(the newest {count} are always kept)").format(
            count=backup.KEEP_NEWEST)), 1)
        self.recovery_label = QLabel()
        self.recovery_label.setWordWrap(True)
        self.recovery_button = QPushButton(_("Show the recovery key once…"))
        self.recovery_button.setToolTip(_("For the team leader: print it and lock it away. It "
                                          "opens this data and its backups on any computer."))
        self.recovery_button.clicked.connect(lambda: self.show_recovery_key())
        recovery_row = QHBoxLayout()
        recovery_row.addWidget(self.recovery_label, 1)
        recovery_row.addWidget(self.recovery_button)
        left = QVBoxLayout()
        left.addWidget(self.backup_list)
        left.addLayout(keep_row)

        self.backup_button = QPushButton(_("Back up now"))
        self.backup_button.clicked.connect(self.back_up_now)
        self.restore_button = QPushButton(_("Restore…"))
        self.restore_button.setToolTip(_("Put the workspace back as it was in the chosen "
                                         "backup"))
        self.restore_button.clicked.connect(lambda: self.restore_selected())
        self.restore_file_button = QPushButton(_("Restore from a file…"))
        self.restore_file_button.clicked.connect(lambda: self.restore_from_file())
        self.diagnostics_button = QPushButton(_("Export diagnostics…"))
        self.diagnostics_button.setToolTip(_("A zip for whoever helps you: logs and versions, "
                                             "no personal data"))
        self.diagnostics_button.clicked.connect(lambda: self.export_diagnostics())
        buttons = QVBoxLayout()
        for button in (self.backup_button, self.restore_button, self.restore_file_button,
                       self.diagnostics_button):
            buttons.addWidget(button)
        buttons.addStretch(1)

        top = QHBoxLayout()
        top.addLayout(left, 1)
        top.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(recovery_row)  # the whole width: a sentence, and a button for once
        self._selection_changed(-1)
        self.key_dialog: RestoreKeyDialog | None = None
        self.sheet_dialog: RecoverySheetDialog | None = None
        self._show_recovery_state()

    # -- the list ---------------------------------------------------------------------------
    def refresh(self) -> None:
        folder = self.ws.path
        (Query(self.ctx, self, lambda _progress: backup.list_backups(folder))
         .without_database()  # a folder listing: no need to wait behind database work
         .success(self._show)
         .run())

    def _show(self, backups: list[backup.Backup]) -> None:
        self.backup_list.clear()
        for item in backups:
            row = QListWidgetItem(_describe(item), self.backup_list)
            row.setData(Qt.ItemDataRole.UserRole, str(item.path))
        if not backups:
            QListWidgetItem(_("No backups yet."), self.backup_list).setFlags(
                Qt.ItemFlag.NoItemFlags)
        self._selection_changed(self.backup_list.currentRow())

    def _selection_changed(self, _row: int) -> None:
        self.restore_button.setEnabled(self.selected_path() is not None)

    def selected_path(self) -> Path | None:
        item = self.backup_list.currentItem()
        path = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return Path(path) if path else None

    def _keep_days_changed(self, days: int) -> None:
        self._set_days_suffix(days)
        self.ws.set_backup_keep_days(days)  # settings.json, like the language: no database

    def _set_days_suffix(self, days: int) -> None:
        """"1 day", "30 days": the suffix follows the number in the box."""
        self.keep_days.setSuffix(ngettext(" day", " days", days))

    # -- actions ----------------------------------------------------------------------------
    def op(self, work: Callable[[Progress], R]) -> Op[R]:
        """An operation of this box, with its buttons off while it runs."""
        return Op(self.ctx, self, work).while_running(self._set_busy)

    def _set_busy(self, busy: bool) -> None:
        for button in (self.backup_button, self.restore_file_button):
            button.setEnabled(not busy)
        self.restore_button.setEnabled(not busy and self.selected_path() is not None)

    def back_up_now(self) -> None:
        ws = self.ws
        (self.op(lambda _progress: ws.backup_now())
         .with_progress(_("Backing up the workspace…"), cancellable=False)
         .success(lambda made: self._backed_up(made))
         .run())

    def _backed_up(self, made: backup.Backup) -> None:
        self.refresh()
        show_message(self, _("Backed up the workspace to {path}.").format(path=made.path))

    def restore_selected(self, confirmed: bool | None = None) -> None:
        path = self.selected_path()
        if path is not None:
            self._restore(path, confirmed)

    def restore_from_file(self, path: str | Path | None = None,
                          confirmed: bool | None = None) -> None:
        if path is None:
            path, _filter = QFileDialog.getOpenFileName(
                self, _("Restore from a backup"), str(backup.folder_of(self.ws.path)),
                _("dxkit backups (*.sqlite);;All files (*)"))
            if not path:
                return
        self._restore(Path(path), confirmed)

    def _restore(self, path: Path, confirmed: bool | None,
                 recovery: DatabaseKey | None = None, typed: str = "") -> None:
        if confirmed is None:
            confirmed = self._confirm_restore(path)
        if not confirmed:
            return
        ws, ctx = self.ws, self.ctx
        (self.op(lambda _progress: ws.restore(path, recovery=recovery))
         .with_progress(_("Restoring the workspace…"), cancellable=False)
         # Every screen shows restored data: announce everything as changed, and the place.
         .announce(lambda _restored: ctx.notify(sync_changes(everything=True)))
         .announce(lambda _restored: ctx.team_place_changed.emit())
         .success(self._restored)
         .failure(lambda error: self._restore_failed(path, error, typed))
         .run())

    def _confirm_restore(self, path: Path) -> bool:
        answer = QMessageBox.question(
            self, _("Restore a backup"),
            _("Replace the workspace by the backup {name}? Everything recorded since then on "
              "this computer is replaced; what was already synced comes back at the next "
              "sync. The workspace as it is now is kept as a backup.").format(name=path.name),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _restored(self, restored: backup.Restored) -> None:
        self.refresh()
        text = _("Restored the workspace from {file}.").format(file=restored.source.name)
        if restored.kept is not None:
            text += " " + _("The workspace as it was is kept in {path}.").format(
                path=restored.kept.path)
        show_message(self, text)

    def _restore_failed(self, path: Path, error: BaseException, typed: str = "") -> None:
        self.refresh()  # a refused file changed nothing, but say so next to a current list
        if isinstance(error, backup.NeedsRecoveryKey):
            self.ask_recovery_key(path)
        elif isinstance(error, backup.WrongRecoveryKey):
            self.ask_recovery_key(path, error.message, typed)
        else:
            show_error(self, error)

    def ask_recovery_key(self, path: Path, error: str = "", typed: str = "") -> None:
        """Another computer's backup: ask for its recovery key, then restore again (already
        confirmed). `error`: why the key typed last (`typed`) did not open it."""
        dialog = RestoreKeyDialog(path, error, typed, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(
            lambda: self._restore(path, True, dialog.key, dialog.key_input.text()))
        self.key_dialog = dialog
        dialog.open()

    # -- the recovery key -------------------------------------------------------------------
    def _show_recovery_state(self) -> None:
        state = WorkspaceKeys(self.ws.path).state()
        shown = state.recovery_shown_at if state is not None else None
        # Until the team leader has the sheet, it is something to do: in plain text.
        self.recovery_label.setStyleSheet(HINT_STYLE if shown else "")
        if shown:
            self.recovery_label.setText(_(
                "The recovery key was shown on {date}; the team leader keeps the printed "
                "sheet.").format(date=_format_iso(shown)))
        else:
            self.recovery_label.setText(_(
                "The recovery key has not been shown yet. The team leader should print it "
                "once and lock it away: it opens this data on a new computer."))
        self.recovery_button.setVisible(not shown)

    def show_recovery_key(self) -> None:
        """The recovery key, once: recorded as shown only when the team leader says it was
        printed or written down."""
        dialog = RecoverySheetDialog(self.ws.key, self.ws.path, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._recovery_key_kept)
        self.sheet_dialog = dialog
        dialog.open()

    def _recovery_key_kept(self) -> None:
        WorkspaceKeys(self.ws.path).mark_recovery_shown()
        self._show_recovery_state()

    def export_diagnostics(self, path: str | Path | None = None) -> None:
        if path is None:
            suggested = Path.home() / f"dxkit-diagnostics-{dt.date.today():%Y%m%d}.zip"
            path, _filter = QFileDialog.getSaveFileName(
                self, _("Export diagnostics"), str(suggested), _("Zip files (*.zip)"))
            if not path:
                return
        folder, target = self.ws.path, Path(path)
        (Op(self.ctx, self, lambda _progress: diagnostics.export(
            folder, target, extra={"qt": qVersion()}))
         .without_database()  # it opens its own read-only connection
         .success(lambda written: show_message(self, _(
             "Wrote the diagnostics to {path}. They hold no personal data.").format(
                 path=written)))
         .run())


def _format_iso(text: str) -> str:
    try:
        return format_datetime(dt.datetime.fromisoformat(text))
    except ValueError:
        return text


def _describe(item: backup.Backup) -> str:
    local = item.created.astimezone().replace(tzinfo=None)
    size = _("{size} MB").format(size=format_number(item.size / 1_000_000, decimals=1))
    return f"{format_datetime(local)} · {backup.reason_label(item.reason)} · {size}"


def schedule_daily_backup(ctx: AppContext, parent: QWidget) -> None:
    """The app opens its workspace without the daily backup, so a large file does not delay
    the first window; this makes it on the database thread once the window is up."""
    ws = ctx.ws
    (Op(ctx, parent, lambda _progress: ws.backup_if_due())
     .with_progress(_("Daily backup…"), cancellable=False)
     .run())
