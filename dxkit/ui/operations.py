"""The one way screens run work: build an operation, say what happens next, run it.

    (Op(ctx, self, lambda _progress: ws.households.add(**values))
     .success(self._saved)
     .invalid(self._show_field_errors)
     .run())

    Query(ctx, self, lambda _progress: visits.follow_ups(within_days=7)).success(self._show).run()

The work runs on the task manager's database thread (`without_database()`: its I/O pool, for
work that touches no workspace) and gets a core `Progress`. Whatever it returns or raises
comes back on the main thread, to the callbacks the chain gave:

- `success(fn)`: the result.
- `invalid(fn)`: a `ValidationError` (forms show it next to the fields); without it, the
  error goes on to `failure`.
- `failure(fn)`: any other error. Without it, the error's sentence is shown in a message box
  over the parent (`show_error`).
- `cancelled(fn)`: the user cancelled (`Cancelled`); without it nothing happens.
- `with_progress(label, cancellable=True)`: the status bar shows the label, the progress and,
  if cancellable, a Cancel button. `progress(fn)` also hands each update to the screen.
- `while_running(fn)`: `fn(True)` when it starts, `fn(False)` once the outcome is in, before
  the outcome's callback (disable a Save button, show a busy panel). May be given more than once.

`run()` starts it and returns the `Task` (`task.cancel()` stops work at its next checkpoint).

The parent owns the callbacks: once Qt deleted it (a closed dialog, a page rebuilt by a
language switch), none of them runs.

`Op` is for writes and other actions the user asked for. A result carrying `Changes` (an
`OpResult`, a `PrintJob`, or a `Changes` itself) is announced through `ctx.notify` first and
always, so every screen that shows those tables refreshes even if the parent is gone;
`announce(fn)` adds app-wide news of the same kind. An error whose screen is gone is still
shown, without a parent: the user asked for this and must learn it failed.

`Query` is for reads that fill a screen, where only the latest answer matters: running a
query supersedes the previous one of the same parent and key, whose callbacks then never run
(and whose work is asked to stop at its next checkpoint). Nothing of a query runs once its
parent is gone.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Generic, Self, TypeVar

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from dxkit.core.errors import Cancelled, ValidationError
from dxkit.core.progress import Progress
from dxkit.core.synced import Changes
from dxkit.ui.context import AppContext
from dxkit.ui.taskman import Task
from dxkit.ui.widgets import is_alive, show_error

R = TypeVar("R")


class Operation(Generic[R]):
    """What writes and reads share: the chain of callbacks and the run."""

    def __init__(self, ctx: AppContext, parent: QObject | None, work: Callable[[Progress], R]):
        self.ctx = ctx
        self.parent = parent
        self.work = work
        self.task: Task | None = None
        self._on_success: Callable[[R], None] | None = None
        self._on_failure: Callable[[BaseException], None] | None = None
        self._on_invalid: Callable[[ValidationError], None] | None = None
        self._on_cancelled: Callable[[Cancelled], None] | None = None
        self._on_progress: Callable[[int, int, str], None] | None = None
        self._while_running: list[Callable[[bool], None]] = []
        self._label = ""
        self._cancellable = False
        self._database = True

    # -- the chain ------------------------------------------------------------------------
    def success(self, fn: Callable[[R], None]) -> Self:
        self._on_success = fn
        return self

    def failure(self, fn: Callable[[BaseException], None]) -> Self:
        self._on_failure = fn
        return self

    def invalid(self, fn: Callable[[ValidationError], None]) -> Self:
        self._on_invalid = fn
        return self

    def cancelled(self, fn: Callable[[Cancelled], None]) -> Self:
        self._on_cancelled = fn
        return self

    def progress(self, fn: Callable[[int, int, str], None]) -> Self:
        self._on_progress = fn
        return self

    def while_running(self, fn: Callable[[bool], None]) -> Self:
        self._while_running.append(fn)
        return self

    def with_progress(self, label: str, *, cancellable: bool = True) -> Self:
        self._label, self._cancellable = label, cancellable
        return self

    def without_database(self) -> Self:
        self._database = False
        return self

    def run(self) -> Task:
        if self.task is not None:
            raise RuntimeError("an operation runs once; build a new one")
        self.task = self.ctx.tasks.run(
            self.work, on_success=self._succeeded, on_failure=self._failed,
            on_progress=self._progressed, label=self._label, cancellable=self._cancellable,
            database=self._database)
        for fn in self._while_running:
            fn(True)
        return self.task

    # -- outcomes -------------------------------------------------------------------------
    def _current(self) -> bool:
        """Whether the callbacks still have a screen to act on."""
        return self.parent is None or is_alive(self.parent)

    def _widget(self) -> QWidget | None:
        parent = self.parent
        return parent if isinstance(parent, QWidget) and is_alive(parent) else None

    def _announce(self, result: R) -> None:
        """News for the whole app, whether or not the parent is still there."""

    def _orphaned_failure(self, error: BaseException) -> None:
        """An error whose parent is gone (or whose answer was superseded)."""

    def _settled(self) -> None:
        for fn in self._while_running:
            fn(False)

    def _progressed(self, value: int, maximum: int, label: str) -> None:
        if self._on_progress is not None and self._current():
            self._on_progress(value, maximum, label)

    def _succeeded(self, result: R) -> None:
        self._announce(result)
        if not self._current():
            return
        self._settled()
        if self._on_success is not None:
            self._on_success(result)

    def _failed(self, error: BaseException) -> None:
        if not self._current():
            self._orphaned_failure(error)
            return
        self._settled()
        if isinstance(error, Cancelled):
            if self._on_cancelled is not None:
                self._on_cancelled(error)
        elif isinstance(error, ValidationError) and self._on_invalid is not None:
            self._on_invalid(error)
        elif self._on_failure is not None:
            self._on_failure(error)
        else:
            show_error(self._widget(), error)


class Op(Operation[R]):
    """A write, or another action the user asked for (see the module's docstring)."""

    def __init__(self, ctx: AppContext, parent: QObject | None, work: Callable[[Progress], R]):
        super().__init__(ctx, parent, work)
        self._announcers: list[Callable[[R], None]] = []

    def announce(self, fn: Callable[[R], None]) -> Self:
        """`fn(result)` after a success even when the parent is gone: news for other screens
        (e.g. `ctx.team_place_changed`), called after the changes were announced."""
        self._announcers.append(fn)
        return self

    def _announce(self, result: R) -> None:
        changes = result if isinstance(result, Changes) else getattr(result, "changes", None)
        if isinstance(changes, Changes):
            self.ctx.notify(changes)
        for fn in self._announcers:
            fn(result)

    def _orphaned_failure(self, error: BaseException) -> None:
        if not isinstance(error, Cancelled):
            show_error(None, error)


# The latest query run, by parent and key: its number and its task.
_LATEST: weakref.WeakKeyDictionary[QObject, dict[str, tuple[int, weakref.ref[Task]]]] = (
    weakref.WeakKeyDictionary())


class Query(Operation[R]):
    """A read that fills a screen: only the latest query of its parent and key answers."""

    def __init__(self, ctx: AppContext, parent: QObject, work: Callable[[Progress], R],
                 key: str = ""):
        super().__init__(ctx, parent, work)
        self.key = key
        self.number = 0

    def run(self) -> Task:
        latest = _LATEST.setdefault(self.parent, {})  # type: ignore[arg-type]
        number, older = latest.get(self.key, (0, None))
        self.number = number + 1
        task = super().run()
        latest[self.key] = (self.number, weakref.ref(task))
        superseded = older() if older is not None else None
        if superseded is not None:
            superseded.cancel()  # its answer is not wanted: stop at the next checkpoint
        return task

    def _current(self) -> bool:
        if not super()._current():
            return False
        latest = _LATEST.get(self.parent, {})  # type: ignore[arg-type]
        return latest.get(self.key, (0, None))[0] == self.number
