"""Progress for long work: thread-safe, cancellable, readable from the UI thread."""

from __future__ import annotations

import threading
from collections.abc import Callable

from dxkit.core.errors import Cancelled
from dxkit.core.i18n import _


class Progress:
    """Core code calls `update` and `check`; the UI reads `snapshot` and calls `cancel`."""

    def __init__(self, on_change: Callable[[int, int, str], None] | None = None):
        self._lock = threading.Lock()
        self._value = 0
        self._maximum = 0
        self._label = ""
        self._cancelled = threading.Event()
        self._on_change = on_change

    def update(
        self, value: int | None = None, maximum: int | None = None, label: str | None = None
    ) -> None:
        with self._lock:
            if value is not None:
                self._value = value
            if maximum is not None:
                self._maximum = maximum
            if label is not None:
                self._label = label
            snapshot = (self._value, self._maximum, self._label)
        if self._on_change:
            self._on_change(*snapshot)
        self.check()

    def advance(self, step: int = 1) -> None:
        self.update(value=self._value + step)

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def check(self) -> None:
        """A checkpoint: raise Cancelled if the user asked to stop."""
        if self._cancelled.is_set():
            raise Cancelled(_("Cancelled; nothing was changed."))

    def snapshot(self) -> tuple[int, int, str]:
        with self._lock:
            return self._value, self._maximum, self._label
