"""Hybrid logical clock: timestamps that order edits across devices despite clock skew.

A timestamp is the text ``<ms:12 hex>-<counter:4 hex>-<device>``; text order is causal order
(ties broken by device id), so SQL can compare them as strings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Timestamp:
    ms: int
    counter: int
    device: str

    def __str__(self) -> str:
        return f"{self.ms:012x}-{self.counter:04x}-{self.device}"

    @classmethod
    def parse(cls, text: str) -> Timestamp:
        ms, counter, device = text.split("-", 2)
        return cls(int(ms, 16), int(counter, 16), device)


class Clock:
    """Issues monotonic timestamps for one device; `observe` merges a remote timestamp."""

    def __init__(
        self, device: str, last: str | None = None, wall_ms: Callable[[], int] | None = None
    ):
        self.device = device
        self._wall_ms = wall_ms or (lambda: time.time_ns() // 1_000_000)
        self._lock = threading.Lock()
        parsed = Timestamp.parse(last) if last else None
        self._ms = parsed.ms if parsed else 0
        self._counter = parsed.counter if parsed else 0

    def now(self) -> str:
        with self._lock:
            wall = self._wall_ms()
            if wall > self._ms:
                self._ms, self._counter = wall, 0
            else:
                # The wall clock went back or stood still: the logical part carries order.
                self._counter += 1
            return str(Timestamp(self._ms, self._counter, self.device))

    def observe(self, remote: str) -> None:
        """Move past a timestamp seen from another device so later local edits sort after it."""
        other = Timestamp.parse(remote)
        with self._lock:
            if (other.ms, other.counter) > (self._ms, self._counter):
                self._ms, self._counter = other.ms, other.counter

    @property
    def last(self) -> str:
        return str(Timestamp(self._ms, self._counter, self.device))
