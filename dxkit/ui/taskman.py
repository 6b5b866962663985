"""Background work for the UI, after Anki's taskman: one worker thread owns database work, a
pool does file and network work, results come back to the main thread by signal.

Screens do not call this directly: they build an operation (`dxkit.ui.operations.Op` or
`Query`), which runs here. The callable gets a core `Progress`; it should call
`progress.update(...)` and hits a checkpoint there, raising `Cancelled` when the user presses
Cancel.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from dxkit.core.errors import Cancelled, DxError
from dxkit.core.i18n import _
from dxkit.core.progress import Progress


class _Bridge(QObject):
    """Carries results from worker threads to the main thread (queued signal)."""

    done = Signal(object, object)  # future, task
    progressed = Signal(object, int, int, str)  # task, value, maximum, label


class Task:
    """One piece of work. Its callbacks are dropped on the main thread once it reported: the
    task, its future and its progress refer to each other, and only the garbage collector frees
    such cycles, possibly on a worker thread. Whatever the callbacks hold (a screen, the
    context) must not be destroyed there."""

    def __init__(self, label: str, cancellable: bool,
                 on_progress: Callable[[int, int, str], None] | None = None,
                 on_success: Callable[[Any], None] | None = None,
                 on_failure: Callable[[BaseException], None] | None = None):
        self.label = label
        self.cancellable = cancellable
        self.on_progress = on_progress  # called on the main thread with each update
        self.on_success = on_success
        self.on_failure = on_failure
        self.progress: Progress | None = None
        self.future: Future | None = None

    def cancel(self) -> None:
        if self.progress:
            self.progress.cancel()


class TaskManager(QObject):
    """Runs callables off the UI thread; `started`, `progressed` and `finished` drive the
    progress display."""

    started = Signal(object)  # Task
    progressed = Signal(object, int, int, str)
    finished = Signal(object)  # Task

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dxkit-db")
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dxkit-io")
        self._bridge = _Bridge()
        # Always queued: a task that finishes before run() returns still reports later, from
        # the event loop, never from inside run().
        self._bridge.done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        self._bridge.progressed.connect(self._on_progressed)  # queued: workers emit it
        self.active: list[Task] = []

    def run(self, work: Callable[[Progress], Any], *, on_success: Callable[[Any], None]
            | None = None, on_failure: Callable[[BaseException], None] | None = None,
            on_progress: Callable[[int, int, str], None] | None = None,
            label: str = "", cancellable: bool = True, database: bool = True) -> Task:
        task = Task(label, cancellable, on_progress, on_success, on_failure)
        task.progress = Progress(
            on_change=lambda v, m, lab: self._bridge.progressed.emit(task, v, m, lab))
        executor = self._db if database else self._pool
        task.future = executor.submit(work, task.progress)
        task.future.add_done_callback(lambda fut: self._bridge.done.emit(fut, task))
        self.active.append(task)
        self.started.emit(task)
        return task

    @Slot(object, int, int, str)
    def _on_progressed(self, task: Task, value: int, maximum: int, label: str) -> None:
        if task.on_progress is not None:
            task.on_progress(value, maximum, label)
        self.progressed.emit(task, value, maximum, label)

    @Slot(object, object)
    def _on_done(self, future: Future, task: Task) -> None:
        if task in self.active:
            self.active.remove(task)
        on_success, on_failure = task.on_success, task.on_failure
        task.on_success = task.on_failure = task.on_progress = None  # see Task
        self.finished.emit(task)
        error = future.exception()
        if error is None:
            if on_success:
                on_success(future.result())
            return
        if on_failure:
            on_failure(error)
        elif not isinstance(error, Cancelled):
            raise error

    def wait_idle(self) -> None:
        """Block until queued work is done (tests and shutdown)."""
        self._db.submit(lambda: None).result()
        self._pool.submit(lambda: None).result()

    def shutdown(self) -> None:
        for task in list(self.active):
            task.cancel()
        self._db.shutdown(wait=True)
        self._pool.shutdown(wait=True)


def describe_error(error: BaseException) -> str:
    """A sentence for the user: our errors carry one; anything else is a bug report."""
    if isinstance(error, DxError):
        return error.message
    detail = "".join(traceback.format_exception_only(type(error), error)).strip()
    return _("Something went wrong: {detail}").format(detail=detail)
