"""The main window: navigation on the left, the chosen section on the right, and a status bar
that always shows whether we are online, what waits to sync, and any running task."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QSize
from PySide6.QtGui import QCloseEvent, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from dxkit.core.i18n import _, counted, format_datetime, format_number
from dxkit.core.resources import shipped_path
from dxkit.core.sync_review import review_count
from dxkit.core.synced import Changes
from dxkit.ui.context import AppContext
from dxkit.ui.fitting import ElidedLabel, FormScroll, fit_to_screen
from dxkit.ui.operations import Query
from dxkit.ui.sections import SECTIONS, Section
from dxkit.ui.sync_ui import controller_for
from dxkit.ui.taskman import Task
from dxkit.ui.widgets import RECORD_VISIT_KEYS


class _LazyPages(dict):
    """Section pages by key, each built on first access."""

    def __init__(self, build: Callable[[str], QWidget]):
        super().__init__()
        self._build = build

    def __missing__(self, key: str) -> QWidget:
        page = self[key] = self._build(key)
        return page


LAST_SYNC_META = "last_sync_at"  # ISO datetime the sync engine records after a good sync
PREFERRED_SIZE = QSize(1180, 760)  # on a screen that has the room
NOTICE_MS = 15_000  # long enough to read at a doorstep, gone before the next household
TASK_PROGRESS_WIDTH = 160
SWITCH_KEYS = "1234567890"  # Ctrl+key shows the section listed at that place
NAV_WIDTH = 170  # the longest section title, and not a pixel more on a netbook


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.sections: list[Section] = list(SECTIONS)
        self.pages: dict[str, QWidget] = {}
        self.sync = controller_for(ctx)
        self._build_status_bar()
        self._build_pages(self._start_section())
        fit_to_screen(self, PREFERRED_SIZE)
        self._shortcuts()
        ctx.changed.connect(self._on_changed)
        ctx.language_changed.connect(self._on_language_changed)
        ctx.appearance_changed.connect(self._on_appearance_changed)
        ctx.team_place_changed.connect(self.update_title)
        ctx.notice.connect(self.show_notice)
        ctx.tasks.started.connect(self._task_started)
        ctx.tasks.progressed.connect(self._task_progressed)
        ctx.tasks.finished.connect(self._task_finished)
        self.sync.changed.connect(self._show_online)
        self.retranslate()

    # -- pages --------------------------------------------------------------------------
    def _build_pages(self, current_key: str | None = None) -> None:
        """(Re)create the navigation; a language switch rebuilds the pages in the new language.

        Pages are built the first time they are shown (or asked for through `pages`), so
        opening a large workspace does not wait for screens nobody has looked at yet."""
        old = self.centralWidget()
        self.nav = QListWidget()
        self.nav.setMinimumWidth(160)
        self.stack = QStackedWidget()
        self.pages = _LazyPages(self._create_page)
        self.pages_order: list[str] = []
        keys = section_keys(self.sections)
        for section in self.sections:
            self.stack.addWidget(QWidget())  # placeholder until the page is first needed
            item = QListWidgetItem(section_icon(section), section.title())
            self.pages_order.append(section.key)
            if section.key in keys:
                item.setToolTip(f"{section.title()} ({keys[section.key]})")
            self.nav.addItem(item)
        self.nav.currentRowChanged.connect(self._show_row)
        splitter = QSplitter()
        splitter.addWidget(self.nav)
        splitter.addWidget(self.stack)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([NAV_WIDTH, PREFERRED_SIZE.width() - NAV_WIDTH])
        self.setCentralWidget(splitter)
        if old is not None:
            old.deleteLater()
        keys = [s.key for s in self.sections]
        self.show_section(current_key if current_key in keys else keys[0])

    def _start_section(self) -> str:
        """The day's page once the team has households; until then the households welcome,
        whose first steps (add, import, demo data) are what an empty workspace needs."""
        households = getattr(self.ctx.ws, "households", None)
        if households is not None and households.count() == 0:
            return "households"
        return self.sections[0].key

    def _create_page(self, key: str) -> QWidget:
        index = [s.key for s in self.sections].index(key)
        page = self.sections[index].factory(self.ctx)
        # A page may ask to show another section (e.g. "import" from an empty list).
        requested = getattr(page, "section_requested", None)
        if requested is not None:
            requested.connect(self.show_section)
        placeholder = self.stack.widget(index)
        showing = self.stack.currentIndex()
        self.stack.removeWidget(placeholder)
        placeholder.deleteLater()
        # A long form scrolls: the window's height must not grow with it.
        self.stack.insertWidget(index, FormScroll(page) if self.sections[index].scrolls else page)
        self.stack.setCurrentIndex(showing)
        return page

    def _show_row(self, row: int) -> None:
        if row < 0:
            return
        self.pages[self.sections[row].key]  # builds the page on first view
        self.stack.setCurrentIndex(row)

    def show_section(self, key: str) -> QWidget:
        row = [s.key for s in self.sections].index(key)
        self.nav.setCurrentRow(row)
        return self.pages[key]

    def shown_page(self) -> QWidget:
        """The page on screen (a long form's page sits in a scroll area)."""
        shown = self.stack.currentWidget()
        return shown.widget() if isinstance(shown, FormScroll) else shown

    def current_section(self) -> str:
        return self.sections[max(0, self.nav.currentRow())].key

    def nav_titles(self) -> list[str]:
        return [self.nav.item(i).text() for i in range(self.nav.count())]

    def _shortcuts(self) -> None:
        find = QShortcut(QKeySequence.StandardKey.Find, self)
        find.activated.connect(self.focus_search)
        new = QShortcut(QKeySequence.StandardKey.New, self)
        new.activated.connect(self.new_household)
        visit = QShortcut(QKeySequence(RECORD_VISIT_KEYS), self)
        visit.activated.connect(self.record_visit)
        # Ctrl+1…9, then Ctrl+0: the sections in the order listed, as a browser's tabs (a
        # section with a key of its own has that instead).
        for key, keys in section_keys(self.sections).items():
            switch = QShortcut(QKeySequence(keys), self)
            switch.activated.connect(lambda key=key: self.show_section(key))

    def focus_search(self) -> None:
        page = self.show_section("households")
        page.focus_search()  # type: ignore[attr-defined]

    def new_household(self) -> None:
        page = self.show_section("households")
        page.add_household()  # type: ignore[attr-defined]

    def record_visit(self) -> None:
        """A visit to the household selected in the list (or, with none, one to pick)."""
        page = self.show_section("households")
        page.record_visit()  # type: ignore[attr-defined]

    def show_notice(self, text: str) -> None:
        self.statusBar().showMessage(text, NOTICE_MS)

    # -- status bar ---------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.online_label = QLabel()
        self.pending_label = QLabel()
        self.last_sync_label = QLabel()
        self.review_button = QPushButton()  # "N to review": opens the review section
        self.review_button.setFlat(True)
        self.review_button.setStyleSheet("color: #b00020; text-decoration: underline;")
        self.review_button.clicked.connect(self.show_review)
        self.review_button.hide()
        self.task_label = ElidedLabel()  # a long step name must not widen the window
        self.task_progress = QProgressBar()
        self.task_progress.setMaximumWidth(TASK_PROGRESS_WIDTH)
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(self.cancel_task)
        self.task_area = QWidget()
        task_layout = QHBoxLayout(self.task_area)
        task_layout.setContentsMargins(0, 0, 0, 0)
        task_layout.addWidget(self.task_label)
        task_layout.addWidget(self.task_progress)
        task_layout.addWidget(self.cancel_button)
        self.task_area.hide()
        bar.addWidget(self.task_area)
        for label in (self.review_button, self.online_label, self.pending_label,
                      self.last_sync_label):
            bar.addPermanentWidget(label)
        self.current_task: Task | None = None
        self._pending_count_task: Task | None = None
        self._pending_recount = False

    def refresh_status(self) -> None:
        self._show_online()
        self.count_pending_changes()

    def count_pending_changes(self) -> None:
        """Count the outbox on the database thread: with millions of rows waiting, counting
        takes long enough to stall every save. One count at a time; a change made while one
        runs asks for another once it is done, so the label ends up current."""
        if self._pending_count_task is not None:
            self._pending_recount = True
            return
        ws = self.ctx.ws
        self._pending_recount = False
        # No label: a quick count must not flash the progress bar.
        self._pending_count_task = (
            Query(self.ctx, self, lambda _progress: (ws.pending_changes(), review_count(ws)))
            .success(self._show_pending)
            .failure(self._pending_count_failed)
            .cancelled(self._pending_count_failed)
            .run())

    def _show_pending(self, counts: tuple[int, int]) -> None:
        pending, to_review = counts
        self.pending_label.setText(counted(pending, "{count} change waiting to sync",
                                           "{count} changes waiting to sync"))
        self.review_button.setText(_("{count} to review").format(
            count=format_number(to_review)))
        self.review_button.setVisible(to_review > 0 and self._has_section("review"))
        self._pending_count_done()

    def _show_online(self) -> None:
        """What the last probe or sync found; offline until one has reached the hub."""
        sync = self.sync
        if sync.revoked:
            text, color, tip = _("Sync stopped"), "#b00020", sync.revoked
        elif sync.online:
            text, color, tip = _("Online"), "#1b7a1b", sync.status.get("server") or ""
        else:
            text, color = _("Offline"), "#8a5a00"
            tip = sync.message if sync.enrolled else _("Not enrolled for sync")
        self.online_label.setText("● " + text)
        self.online_label.setStyleSheet(f"color: {color};")
        self.online_label.setToolTip(tip)
        last = self.ctx.ws.meta().get(LAST_SYNC_META)
        self.last_sync_label.setText(_("Last sync: {when}").format(
            when=_format_iso(last) if last else _("never synced")))

    def _has_section(self, key: str) -> bool:
        return any(s.key == key for s in self.sections)

    def show_review(self) -> None:
        if self._has_section("review"):
            self.show_section("review")

    def _pending_count_failed(self, _error: BaseException) -> None:
        self._pending_count_done()  # keep the last count; the next change tries again

    def _pending_count_done(self) -> None:
        self._pending_count_task = None
        if self._pending_recount:
            self.count_pending_changes()

    def _on_changed(self, _changes: Changes) -> None:
        self.refresh_status()

    def _task_started(self, task: Task) -> None:
        if not task.label:
            return  # quick saves do not flash the progress bar
        self.current_task = task
        self.task_label.setText(task.label)
        self.task_progress.setRange(0, 0)
        self.cancel_button.setVisible(task.cancellable)
        self.task_area.show()

    def _task_progressed(self, task: Task, value: int, maximum: int, label: str) -> None:
        if task is not self.current_task:
            return
        self.task_progress.setRange(0, max(0, maximum))
        self.task_progress.setValue(value)
        if label:
            self.task_label.setText(label)

    def _task_finished(self, task: Task) -> None:
        if task is not self.current_task:
            return
        labelled = [t for t in self.ctx.tasks.active if t.label]
        if labelled:
            self._task_started(labelled[-1])
        else:
            self.current_task = None
            self.task_area.hide()
        self.refresh_status()

    def cancel_task(self) -> None:
        if self.current_task is not None:
            self.current_task.cancel()
            self.cancel_button.setEnabled(False)

    # -- language -----------------------------------------------------------------------
    def update_title(self) -> None:
        commune = self.ctx.ws.team_place()[1]
        self.setWindowTitle(" — ".join(p for p in ("dxkit", commune) if p))

    def retranslate(self) -> None:
        self.update_title()
        self.cancel_button.setText(_("Cancel"))
        self.cancel_button.setEnabled(True)
        self.refresh_status()

    def _on_language_changed(self, _language: str) -> None:
        self._build_pages(self.current_section())
        self.retranslate()

    def _on_appearance_changed(self) -> None:
        # Pages size their headings from the application font when they are built.
        self._build_pages(self.current_section())

    def closeEvent(self, event: QCloseEvent) -> None:
        self.sync.stop()
        for task in list(self.ctx.tasks.active):
            task.cancel()
        super().closeEvent(event)


def section_keys(sections: list[Section]) -> dict[str, str]:
    """Each section's shortcut by its key: its own, or the next of Ctrl+1…9, Ctrl+0 in the
    order listed among the sections without one (sections past the tenth have none)."""
    digits = iter(SWITCH_KEYS)
    keys = {}
    for section in sections:
        if section.shortcut:
            keys[section.key] = section.shortcut
        elif (digit := next(digits, None)) is not None:
            keys[section.key] = f"Ctrl+{digit}"
    return keys


def section_icon(section: Section) -> QIcon:
    """The section's icon from the bundled set (dxkit/resources/icons, licence beside it)."""
    return QIcon(str(shipped_path("icons", f"{section.icon_name}.svg")))


def _format_iso(text: str) -> str:
    try:
        return format_datetime(dt.datetime.fromisoformat(text))
    except ValueError:
        return text
