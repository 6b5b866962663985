"""Sync in the desktop app: the "Sync" group of the settings, the controller that syncs by
itself, and the review page for conflicts and quarantined records.

Every network and database call runs as an operation (`dxkit.ui.operations`): the engine
uses the workspace connection of the thread it runs on, so engine work goes to the database
thread; only the health probe (no database) runs on the I/O pool.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.errors import Cancelled, DxError
from dxkit.core.i18n import _, counted, format_datetime, format_number
from dxkit.core.progress import Progress
from dxkit.core.sync_review import (
    SYNC_CHANGED,
    ConflictRow,
    QuarantineRow,
    Review,
    keep_shown_value,
    load_review,
    remove_quarantined,
    sync_changes,
    use_other_value,
)
from dxkit.core.synced import Changes
from dxkit.sync import engine, repair
from dxkit.sync.client import DeviceRevoked, HubClient, HubRefused, HubUnreachable
from dxkit.ui.context import AppContext
from dxkit.ui.operations import Op, Query
from dxkit.ui.page import Page
from dxkit.ui.taskman import Task, describe_error
from dxkit.ui.widgets import FieldWithError, error_label
from dxkit.workspace import Workspace

# -- timing ---------------------------------------------------------------------------------
SYNC_INTERVAL = 5 * 60  # seconds between automatic syncs while online
FIRST_ATTEMPT = 5  # after start or enrollment
RETRY_FIRST = 30  # first retry after a failure, doubling ...
RETRY_MAX = 15 * 60  # ... up to this when the hub answered but the sync failed
OFFLINE_PROBE_MAX = 50  # while offline: probe at least this often, so with +20 % jitter a
#                         sync starts within 60 s of the hub becoming reachable again
JITTER = 0.2
PROBE_TIMEOUT = 10.0
REACHABLE_AGAIN = 2  # seconds after the system reports the network back


def retry_delay(failures: int, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Exponential backoff with ±20 % jitter: 30 s, 60 s, 120 s … up to `cap`."""
    base = min(RETRY_FIRST * 2 ** max(0, failures - 1), cap)
    return jittered(base, rand)


def jittered(seconds: float, rand: Callable[[], float] = random.random) -> float:
    """±20 %, so many laptops that lost the network together do not return together."""
    return seconds * (1 + JITTER * (2 * rand() - 1))


# -- the controller -------------------------------------------------------------------------
class SyncController(QObject):
    """Syncs by hand or by itself, never two at once.

    Enrolled and not refused: probe the hub (GET /v1/health), then sync; again every few
    minutes while online. A probe that fails means offline: probe again after 30 s, then
    at most every 50 s (±20 %). A sync that fails while the hub answers backs off from 30 s
    doubling to 15 min (±20 %). A revoked device stops everything and keeps its data.
    """

    changed = Signal()

    def __init__(self, ctx: AppContext, parent: QObject | None = None, *,
                 rand: Callable[[], float] = random.random, watch_network: bool = True):
        super().__init__(parent)
        self.ctx = ctx
        self.rand = rand
        self.status: dict[str, Any] = {"enrolled": False}
        self.online: bool | None = None  # None: not tried yet
        self.revoked = ""  # the sentence, once the hub refused this device
        self.message = ""  # what the last sync did or why it failed
        self.failures = 0
        self.next_delay: float | None = None
        self.busy = False
        self.sync_task: Task | None = None
        self.stopped = False
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.attempt)
        self.network_watched = watch_network and self._watch_network()
        self.refresh()

    @property
    def enrolled(self) -> bool:
        return bool(self.status.get("enrolled"))

    # -- state --------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the enrollment from the workspace (database thread)."""
        ws = self.ctx.ws
        (Query(self.ctx, self, lambda _progress: engine.status(ws))
         .success(self._status_loaded)
         .failure(lambda _error: None)  # keep what we knew; the next refresh tries again
         .run())

    def _status_loaded(self, status: dict[str, Any]) -> None:
        was_enrolled = self.enrolled
        self.status = status
        if status.get("revoked") and not self.revoked:
            self.revoked = _("The hub no longer accepts this device, so it stopped syncing. "
                             "All data on this computer is kept; enroll again with a new code.")
        elif not status.get("revoked"):
            self.revoked = ""
        if self.enrolled and not self.revoked and not self.busy and (
                not was_enrolled or not self.timer.isActive()):
            self._schedule(FIRST_ATTEMPT)
        if not self.enrolled or self.revoked:
            self._unschedule()
        self.changed.emit()

    def stop(self) -> None:
        """The window is closing: no more attempts."""
        self.stopped = True
        self._unschedule()

    # -- enrollment ---------------------------------------------------------------------
    def enroll(self, server_url: str, code: str, parent: QObject | None = None, *,
               allow_insecure_http: bool = False) -> Op[Any]:
        """The enrollment, not yet run: the controller learns the outcome even if `parent`
        (the screen that asked, which adds its own callbacks) is gone by then."""
        ws = self.ctx.ws
        return (Op(self.ctx, parent, lambda _progress: engine.enroll(
                    ws, server_url, code, allow_insecure_http=allow_insecure_http))
                .with_progress(_("Enrolling with the hub"), cancellable=False)
                .announce(self._enrolled))

    def _enrolled(self, _facts: object) -> None:
        self.online, self.failures, self.revoked = True, 0, ""
        self.refresh()

    # -- syncing ------------------------------------------------------------------------
    def sync_now(self) -> bool:
        """Start a sync unless one runs (or the device was refused); True if started."""
        if self.busy or self.stopped or not self.enrolled:
            return False
        self._unschedule()
        self.busy = True
        ws = self.ctx.ws

        def work(progress: Progress) -> engine.SyncReport:
            report = repair.sync_with_daily_check(ws, progress=progress)
            # The engine does not say which rows it changed: every synced table may have.
            report.changes.merge(sync_changes())
            return report

        self.sync_task = (Op(self.ctx, self, work)
                          .with_progress(_("Syncing with the hub"), cancellable=True)
                          .success(self._synced)
                          .failure(self._sync_failed)
                          .cancelled(self._sync_failed)
                          .run())
        self.changed.emit()
        return True

    def attempt(self) -> None:
        """The timer fired: probe the hub (I/O pool, no database), then sync if it answers."""
        if self.busy or self.stopped or not self.enrolled or self.revoked:
            return
        server = self.status.get("server") or ""
        insecure_allowed = bool(self.status.get("allow_insecure_http"))
        self.busy = True
        self.next_delay = None

        def probe(_progress: object) -> None:
            with HubClient(server, timeout=PROBE_TIMEOUT, deadline=PROBE_TIMEOUT,
                           allow_insecure_http=insecure_allowed) as client:
                client.health()

        (Op(self.ctx, self, probe)
         .without_database()
         .success(self._probe_answered)
         .failure(self._probe_failed)
         .cancelled(self._probe_failed)
         .run())

    def _probe_answered(self, _result: object) -> None:
        self.busy = False
        self.online = True
        if not self.sync_now():
            self.changed.emit()

    def _probe_failed(self, error: BaseException) -> None:
        self.busy = False
        self.online = False
        self.failures += 1
        self.message = describe_error(error)
        if not self.stopped:
            self._schedule(retry_delay(self.failures, OFFLINE_PROBE_MAX, self.rand),
                           jitter=False)
        self.changed.emit()

    def _synced(self, report: engine.SyncReport) -> None:
        self.busy, self.sync_task = False, None
        self.online, self.failures, self.revoked = True, 0, ""
        self.message = _("Sent {pushed}, received {pulled}; {conflicts} and {quarantined} held "
                         "back to review.").format(
            pushed=format_number(report.pushed), pulled=format_number(report.pulled),
            conflicts=counted(report.conflicts, "{count} conflict", "{count} conflicts"),
            quarantined=format_number(report.quarantined))
        for line in engine.report_notes(report):  # courses installed, packs refused
            self.message += "\n" + line
        self.status["last_sync_at"] = report.finished_at
        self.status["pending"] = report.held_back  # its changes were announced already
        if not self.stopped:
            self._schedule(SYNC_INTERVAL)
        self.changed.emit()

    def _sync_failed(self, error: BaseException) -> None:
        self.busy, self.sync_task = False, None
        self.message = describe_error(error)
        if isinstance(error, DeviceRevoked):
            self.revoked = error.message
            self._unschedule()
        elif isinstance(error, Cancelled):
            self.message = _("Sync cancelled; what was already exchanged is kept.")
            if not self.stopped:
                self._schedule(SYNC_INTERVAL)
        else:
            self.failures += 1
            offline = isinstance(error, HubUnreachable)
            self.online = not offline
            cap = OFFLINE_PROBE_MAX if offline else RETRY_MAX
            if not self.stopped:
                self._schedule(retry_delay(self.failures, cap, self.rand), jitter=False)
        # Whatever was applied before the failure stays applied: let the screens look again.
        self.ctx.notify(sync_changes(everything=True))
        self.changed.emit()

    # -- timer --------------------------------------------------------------------------
    def _schedule(self, seconds: float, jitter: bool = True) -> None:
        if self.stopped:
            return
        delay = jittered(seconds, self.rand) if jitter else seconds
        self.next_delay = delay
        self.timer.start(int(delay * 1000))

    def _unschedule(self) -> None:
        self.timer.stop()
        self.next_delay = None

    def _watch_network(self) -> bool:
        """Qt's reachability, when this build has a backend for it: a sign to probe at once."""
        try:
            from PySide6.QtNetwork import QNetworkInformation
        except ImportError:
            return False
        if QNetworkInformation.instance() is None and not QNetworkInformation.loadDefaultBackend():
            return False
        info = QNetworkInformation.instance()
        if info is None:
            return False
        info.reachabilityChanged.connect(self._reachability_changed)
        return True

    def _reachability_changed(self, reachability: Any) -> None:
        from PySide6.QtNetwork import QNetworkInformation

        if reachability == QNetworkInformation.Reachability.Online and self.enrolled \
                and not self.revoked and not self.busy and not self.stopped:
            self._schedule(REACHABLE_AGAIN, jitter=False)


def controller_for(ctx: AppContext) -> SyncController:
    """The one controller of this app context (the main window starts it; pages find it)."""
    found = ctx.findChild(SyncController)
    return found if found is not None else SyncController(ctx, ctx)


# -- settings: the "Sync" group -------------------------------------------------------------
class SyncSettingsBox(QGroupBox):
    """Not enrolled (or refused): server address, code and Enroll. Enrolled: the hub, team,
    device and "Sync now"."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(_("Sync"), parent)
        self.ctx = ctx
        self.controller = controller_for(ctx)
        self._build()
        self.controller.changed.connect(self._show_state)
        self._show_state()

    def _build(self) -> None:
        self.server_edit = QLineEdit()
        self.server_edit.setPlaceholderText(_("e.g. https://hub.example.vn"))
        self.code_edit = QLineEdit()
        self.code_edit.setPlaceholderText(_("One-time code from the hub administrator"))
        self.server_field = FieldWithError(self.server_edit)
        self.code_field = FieldWithError(self.code_edit)
        # Plain http beyond the local network sends the token unencrypted: only on request.
        self.insecure_check = QCheckBox(_("Allow plain http to this address (not encrypted)"))
        self.enroll_button = QPushButton(_("Enroll"))
        self.enroll_button.clicked.connect(self.enroll)
        self.enroll_error = error_label()
        self.enroll_form = QWidget()
        form = QFormLayout(self.enroll_form)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(_("Hub address"), self.server_field)
        form.addRow(_("Enrollment code"), self.code_field)
        form.addRow("", self.insecure_check)
        form.addRow("", self.enroll_button)
        form.addRow("", self.enroll_error)

        self.server_label = QLabel()
        self.team_label = QLabel()
        self.device_label = QLabel()
        self.sync_button = QPushButton(_("Sync now"))
        self.sync_button.clicked.connect(self.controller.sync_now)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.revoked_label = error_label()
        self.enrolled_info = QWidget()
        info = QFormLayout(self.enrolled_info)
        info.setContentsMargins(0, 0, 0, 0)
        info.addRow(_("Hub"), self.server_label)
        info.addRow(_("Team"), self.team_label)
        info.addRow(_("Device"), self.device_label)
        info.addRow("", self.sync_button)
        info.addRow("", self.message_label)

        layout = QVBoxLayout(self)
        layout.addWidget(self.enrolled_info)
        layout.addWidget(self.revoked_label)
        layout.addWidget(self.enroll_form)

    def _show_state(self) -> None:
        controller, status = self.controller, self.controller.status
        enrolled = controller.enrolled
        self.enrolled_info.setVisible(enrolled)
        self.enroll_form.setVisible(not enrolled or bool(controller.revoked))
        self.revoked_label.setText(controller.revoked)
        self.revoked_label.setVisible(bool(controller.revoked))
        if enrolled:
            team = status.get("team") or {}
            self.server_label.setText(status.get("server") or "")
            self.team_label.setText(", ".join(p for p in (
                team.get("hamlet"), team.get("commune_code"), team.get("province_code")) if p))
            device = status.get("device_id") or ""
            name = status.get("device_name") or ""
            self.device_label.setText(f"{name} ({device[:8]})" if name else device[:8])
            if not self.server_edit.text():
                self.server_edit.setText(status.get("server") or "")
        self.sync_button.setEnabled(enrolled and not controller.busy
                                    and not controller.revoked)
        self.message_label.setText(controller.message)
        self.message_label.setVisible(bool(controller.message))

    def enroll(self) -> None:
        self.server_field.set_error("")
        self.code_field.set_error("")
        self.enroll_error.hide()
        server, code = self.server_edit.text().strip(), self.code_edit.text().strip()
        if not server:
            self.server_field.set_error(_("Enter the hub address."))
        if not code:
            self.code_field.set_error(_("Enter the enrollment code."))
        if not server or not code:
            return
        self.enroll_button.setEnabled(False)
        (self.controller.enroll(server, code, parent=self,
                                allow_insecure_http=self.insecure_check.isChecked())
         .success(lambda _facts: self._enroll_done(None))
         .failure(self._enroll_done)
         .cancelled(self._enroll_done)
         .run())

    def _enroll_done(self, error: BaseException | None) -> None:
        self.enroll_button.setEnabled(True)
        if error is None:
            self.code_edit.clear()
            return
        message = describe_error(error)
        if isinstance(error, HubRefused) and error.code == "bad_code":
            self.code_field.set_error(message)
        elif isinstance(error, DxError) and not isinstance(error, HubRefused):
            # Unreachable, not an address, or not a dxkit hub: all about the address.
            self.server_field.set_error(message)
        else:
            self.enroll_error.setText(message)
            self.enroll_error.show()


# -- review page ----------------------------------------------------------------------------
def _value_text(value: Any) -> str:
    if value is None or value == "":
        return _("(empty)")
    return str(value)


def _format_when(text: str) -> str:
    try:
        return format_datetime(dt.datetime.fromisoformat(text))
    except ValueError:
        return text


class SyncReviewPage(Page):
    """Same-field edits from two laptops, and records sync held back."""

    WATCHED = (*SYNC_CHANGED, "households", "people", "hamlets")

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.review = Review([], [])
        self._build()
        self.refresh()

    def _build(self) -> None:
        self.conflicts_table = _table([_("Record type"), _("Record"), _("Field"),
                                       _("Value on this laptop"),
                                       _("Value from the other laptop"), _("Shown now")])
        self.keep_button = QPushButton(_("Keep the value shown"))
        self.keep_button.clicked.connect(self.keep_selected)
        self.use_other_button = QPushButton(_("Use the other value"))
        self.use_other_button.clicked.connect(self.use_other_for_selected)
        self.conflicts_table.itemSelectionChanged.connect(self._update_buttons)
        conflict_buttons = QHBoxLayout()
        conflict_buttons.addWidget(self.keep_button)
        conflict_buttons.addWidget(self.use_other_button)
        conflict_buttons.addStretch(1)
        conflicts = QGroupBox(_("Edited on two laptops"))
        conflicts_layout = QVBoxLayout(conflicts)
        intro = QLabel(_("The same field was changed on this laptop and on another one. The "
                         "newer value is shown; both are kept until you choose."))
        intro.setWordWrap(True)
        conflicts_layout.addWidget(intro)
        conflicts_layout.addWidget(self.conflicts_table)
        conflicts_layout.addLayout(conflict_buttons)

        self.quarantine_table = _table([_("Record type"), _("Record id"), _("Reason"),
                                        _("When")])
        self.remove_button = QPushButton(_("Remove from list"))
        self.remove_button.clicked.connect(self.remove_selected)
        self.quarantine_table.itemSelectionChanged.connect(self._update_buttons)
        quarantine = QGroupBox(_("Held back by sync"))
        quarantine_layout = QVBoxLayout(quarantine)
        quarantine_layout.addWidget(self.quarantine_table)
        remove_row = QHBoxLayout()
        remove_row.addWidget(self.remove_button)
        remove_row.addStretch(1)
        quarantine_layout.addLayout(remove_row)

        self.error = error_label()
        layout = QVBoxLayout(self)
        layout.addWidget(conflicts, 2)
        layout.addWidget(quarantine, 1)
        layout.addWidget(self.error)
        self._update_buttons()

    def refresh(self) -> None:
        ws = self.ws
        (self.query(lambda _progress: load_review(ws))
         .success(self._show)
         .failure(self._failed)
         .run())

    def _show(self, review: Review) -> None:
        self.review = review
        table = self.conflicts_table
        table.setRowCount(len(review.conflicts))
        for row, conflict in enumerate(review.conflicts):
            shown = (_("This laptop's value") if conflict.winner == "local"
                     else _("The other laptop's value"))
            for column, text in enumerate((
                    conflict.table_label, conflict.record, conflict.field_label,
                    _value_text(conflict.local_value), _value_text(conflict.remote_value),
                    shown)):
                table.setItem(row, column, QTableWidgetItem(text))
        table = self.quarantine_table
        table.setRowCount(len(review.quarantine))
        for row, held in enumerate(review.quarantine):
            for column, text in enumerate((held.table_label, held.row_id[:8],
                                           held.reason_text or held.reason,
                                           _format_when(held.at))):
                table.setItem(row, column, QTableWidgetItem(text))
        self._update_buttons()

    def _failed(self, error: BaseException) -> None:
        self.error.setText(describe_error(error))
        self.error.show()

    def selected_conflict(self) -> ConflictRow | None:
        rows = self.conflicts_table.selectionModel().selectedRows()
        return self.review.conflicts[rows[0].row()] if rows else None

    def selected_quarantine(self) -> QuarantineRow | None:
        rows = self.quarantine_table.selectionModel().selectedRows()
        return self.review.quarantine[rows[0].row()] if rows else None

    def _update_buttons(self) -> None:
        conflict = self.selected_conflict()
        self.keep_button.setEnabled(conflict is not None)
        self.use_other_button.setEnabled(conflict is not None and conflict.can_use_other)
        self.remove_button.setEnabled(self.selected_quarantine() is not None)

    def keep_selected(self) -> None:
        conflict = self.selected_conflict()
        if conflict is not None:
            self._run(lambda ws: keep_shown_value(ws, conflict.id))

    def use_other_for_selected(self) -> None:
        conflict = self.selected_conflict()
        if conflict is not None and conflict.can_use_other:
            self._run(lambda ws: use_other_value(ws, conflict.id))

    def remove_selected(self) -> None:
        held = self.selected_quarantine()
        if held is not None:
            self._run(lambda ws: remove_quarantined(ws, held.id))

    def _run(self, work: Callable[[Workspace], Changes]) -> None:
        ws = self.ws
        self.error.hide()
        self.op(lambda _progress: work(ws)).invalid(self._failed).run()


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    return table

