"""What every section page shares: the context, refreshing when a table it shows changed,
retranslating on a language switch, and running its work (with a busy state) through
operations owned by the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from dxkit.core.progress import Progress
from dxkit.core.synced import Changes
from dxkit.ui.context import AppContext
from dxkit.ui.operations import Op, Query

R = TypeVar("R")


class Page(QWidget):
    """A section of the main window.

    Subclasses list in `WATCHED` the tables they show: a change to one of them calls
    `on_changed(changes)`, which by default calls `refresh()`; pages that can do less for some
    changes override `on_changed`. `retranslate()` is called after a language switch.

    `op(work)` and `query(work, key)` build operations owned by the page (see
    `dxkit.ui.operations`); while an `op` of the page runs the page is `busy`, and
    `busy_changed` says when that turns on or off.
    """

    WATCHED: tuple[str, ...] = ()

    busy_changed = Signal(bool)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.ws = ctx.ws
        self._running = 0
        ctx.changed.connect(self._changes_announced)
        ctx.language_changed.connect(self._language_switched)

    # -- what subclasses give ---------------------------------------------------------------
    def refresh(self) -> None:
        """Load what the page shows (usually through `query`)."""

    def retranslate(self) -> None:
        """Set the texts again after a language switch."""

    def on_changed(self, changes: Changes) -> None:
        """Some watched table changed somewhere in the app."""
        self.refresh()

    def watches(self, changes: Changes) -> bool:
        return any(changes.touched(table) for table in self.WATCHED)

    # -- running work -----------------------------------------------------------------------
    def op(self, work: Callable[[Progress], R]) -> Op[R]:
        """A write or action of this page; the page is busy until its outcome is in."""
        return Op(self.ctx, self, work).while_running(self._track)

    def query(self, work: Callable[[Progress], R], key: str = "") -> Query[R]:
        """A read for this page; a newer one with the same key supersedes it."""
        return Query(self.ctx, self, work, key)

    @property
    def busy(self) -> bool:
        return self._running > 0

    def _track(self, running: bool) -> None:
        was_busy = self.busy
        self._running += 1 if running else -1
        if self.busy != was_busy:
            self.busy_changed.emit(self.busy)

    # -- signals ------------------------------------------------------------------------------
    def _changes_announced(self, changes: Changes) -> None:
        if self.watches(changes):
            self.on_changed(changes)

    def _language_switched(self, _language: str) -> None:
        self.retranslate()
