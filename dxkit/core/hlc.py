"""Hybrid logical clock: timestamps that order edits across devices despite clock skew.

A timestamp is the text ``<ms:12 hex>-<counter:4 hex>-<device>``; text order is causal order
(ties broken by device id), so SQL can compare them as strings. That only holds while every
part keeps its width, so the counter never passes 0xFFFF (the clock moves to the next
millisecond instead) and a clock from elsewhere that lies far in the future is refused rather
than followed: following it would carry this device's every later edit there with it.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

MAX_MS = 0xFFFF_FFFF_FFFF  # 12 hex digits
MAX_COUNTER = 0xFFFF  # 4 hex digits
# How far past this device's idea of the time a clock from elsewhere may be and still be
# followed: laptop wall clocks drift and are set by hand, but a day is a lot more than a
# wrong time zone.
BELIEVABLE_AHEAD_MS = 24 * 3600 * 1000
# How far past the hub's own time the hub takes a clock (dxkit.sync.hub.clocks): a few
# minutes of drift between two honest computers, never the future.
HUB_AHEAD_MS = 5 * 60 * 1000
# A difference from the hub's time smaller than this is left alone (the hub tells its time to
# the second, and the answer takes a while to arrive); a larger one is corrected.
SKEW_TOLERANCE_MS = 60 * 1000
HUB_DEVICE = "hub"  # the device part of the clocks the hub stamps (publications, repairs)
SHIPPED_DEVICE = "shipped"  # the device part of the catalogue every install ships
RESERVED_DEVICES = frozenset({HUB_DEVICE, SHIPPED_DEVICE})
DEMOTED_MS = 1  # a repaired clock nobody can believe: older than every edit, newer than shipped
UNKNOWN_DEVICE = "0"  # the device part of a demoted clock whose own part was reserved or lost

_PATTERN = re.compile(r"([0-9a-f]{12})-([0-9a-f]{4})-([0-9A-Za-z][0-9A-Za-z-]{0,99})")
_DEVICE = re.compile(r"[0-9A-Za-z]{1,100}")


class BadClock(ValueError):
    """A clock that is not a well-formed timestamp, or one too far ahead to believe; `reason`
    is the machine code a quarantine entry or a push result carries."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, order=True)
class Timestamp:
    ms: int
    counter: int
    device: str

    def __post_init__(self) -> None:
        if not (0 <= self.ms <= MAX_MS and 0 <= self.counter <= MAX_COUNTER and self.device):
            raise BadClock("bad_clock", f"clock parts out of range: {self.ms}, {self.counter}")

    def __str__(self) -> str:
        return f"{self.ms:012x}-{self.counter:04x}-{self.device}"

    @classmethod
    def parse(cls, text: object) -> Timestamp:
        """The timestamp written as `text`; BadClock for anything else (a counter of five
        digits, upper-case hex, a missing part, not a string)."""
        match = _PATTERN.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise BadClock("bad_clock", f"not a clock: {str(text)[:80]!r}")
        ms, counter, device = match.groups()
        return cls(int(ms, 16), int(counter, 16), device)


def system_ms() -> int:
    """The wall clock of this computer, in milliseconds since 1970."""
    return time.time_ns() // 1_000_000


class Clock:
    """Issues monotonic timestamps for one device; `observe` merges a remote timestamp.

    The physical part is the wall clock corrected by `offset_ms`, how far the wall clock was
    ahead of the hub's at the last sync (`learn_time`; ignored under SKEW_TOLERANCE_MS): a
    laptop whose date is wrong still stamps its edits with times the hub takes, and still
    believes the clocks its team sends."""

    def __init__(self, device: str, last: str | None = None,
                 wall_ms: Callable[[], int] | None = None, offset_ms: int = 0):
        self.device = device
        self._wall_ms = wall_ms or system_ms
        self._lock = threading.Lock()
        self.offset_ms = offset_ms
        parsed = Timestamp.parse(last) if last else None
        self._ms = parsed.ms if parsed else 0
        self._counter = parsed.counter if parsed else 0

    def now(self) -> str:
        with self._lock:
            wall = self._physical_ms()
            if wall > self._ms:
                self._ms, self._counter = wall, 0
            elif self._counter < MAX_COUNTER:
                # The wall clock went back or stood still: the logical part carries order.
                self._counter += 1
            else:
                # A wider counter would sort before a narrower one as text: borrow the next
                # millisecond instead; the wall clock catches up with it soon enough.
                self._ms, self._counter = self._ms + 1, 0
            return str(Timestamp(self._ms, self._counter, self.device))

    def observe(self, remote: str) -> bool:
        """Move past a timestamp seen from another device so later local edits sort after it.
        False, and the clock unmoved, for one too far ahead to believe: the caller holds the
        record that carried it back (see `believable`)."""
        other = Timestamp.parse(remote)
        with self._lock:
            if other.ms > self._limit_ms():
                return False
            if (other.ms, other.counter) > (self._ms, self._counter):
                self._ms, self._counter = other.ms, other.counter
        return True

    def believable(self, stamp: str) -> bool:
        """Whether `observe` would follow this (well-formed) timestamp."""
        return Timestamp.parse(stamp).ms <= self.limit_ms()

    def limit_ms(self) -> int:
        """The latest millisecond a believable timestamp may carry now."""
        with self._lock:
            return self._limit_ms()

    def first_unbelievable(self) -> str:
        """The text every well-formed timestamp past `limit_ms` sorts at or after: a cheap
        check for many clocks (text order is time order)."""
        return f"{self.limit_ms() + 1:012x}"

    def learn_time(self, reference_ms: int) -> None:
        """The time of a computer this device trusts more than its own wall clock (the hub's,
        from its answer): from now on the physical part follows it."""
        with self._lock:
            self.offset_ms = self._wall_ms() - reference_ms

    def wall(self) -> int:
        """This computer's wall clock, uncorrected."""
        return self._wall_ms()

    def physical_ms(self) -> int:
        """The wall clock, corrected by what the last sync learned."""
        with self._lock:
            return self._physical_ms()

    def restart(self, last: str | None) -> None:
        """Continue from `last` (or from the wall clock alone): after a repair replaced a
        clock nobody can believe."""
        parsed = Timestamp.parse(last) if last else None
        with self._lock:
            self._ms = parsed.ms if parsed else 0
            self._counter = parsed.counter if parsed else 0

    def _physical_ms(self) -> int:
        wall = self._wall_ms()
        return wall - self.offset_ms if abs(self.offset_ms) >= SKEW_TOLERANCE_MS else wall

    def _limit_ms(self) -> int:
        return self._physical_ms() + BELIEVABLE_AHEAD_MS

    @property
    def last(self) -> str:
        return str(Timestamp(self._ms, self._counter, self.device))


# -- judging clocks (the hub and the laptops' repair use the same rules) ---------------------------
def is_clock(text: object) -> bool:
    try:
        Timestamp.parse(text)
    except BadClock:
        return False
    return True


def clock_ms(text: object) -> int | None:
    """The millisecond part of a well-formed timestamp, None for anything else."""
    try:
        return Timestamp.parse(text).ms
    except BadClock:
        return None


def device_part(text: str) -> str:
    """The device a timestamp names, read leniently (a repair reads damaged clocks too)."""
    parts = text.split("-", 2) if isinstance(text, str) else []
    return parts[2] if len(parts) == 3 else ""


def demoted(text: str) -> str:
    """What a clock nobody can believe becomes when it is repaired where its value is not
    this side's own pending edit: older than every real edit, so any edit made with a
    believable clock wins over its value, and the same on every side (no `now` in it)."""
    return str(Timestamp(DEMOTED_MS, 0, plain_device(device_part(text))))


def plain_device(device: str) -> str:
    """A device part a repaired clock may carry: the original one unless it is reserved
    (nobody may pose as the hub or the shipped catalogue) or not a plain id."""
    if device in RESERVED_DEVICES or not _DEVICE.fullmatch(device):
        return UNKNOWN_DEVICE
    return device


def event_clock(text: str, row_id: str, limit_ms: int) -> str:
    """What an event's unbelievable `created_at` becomes: the time in its uuid7 id (when the
    event was made, by the making device's wall clock) if that is believable, else the
    demoted time. Events never merge by clock, so the hub and every laptop must compute the
    same value from what they all hold, or their digests would differ for ever."""
    ms = uuid7_ms(row_id)
    when = ms if ms is not None and DEMOTED_MS <= ms <= limit_ms else DEMOTED_MS
    return str(Timestamp(when, 0, plain_device(device_part(text))))


def uuid7_ms(row_id: str) -> int | None:
    try:
        parsed = uuid.UUID(row_id)
    except (ValueError, TypeError, AttributeError):
        return None
    return parsed.int >> 80 if parsed.version == 7 else None


def lenient_order(stamp: str) -> tuple[int, int, str]:
    """A sort key for clocks that may be malformed (read for repair): an overflowed counter of
    five digits still counts as more than four; unreadable text sorts first."""
    parts = stamp.split("-", 2)
    try:
        return int(parts[0], 16), int(parts[1], 16), device_part(stamp)
    except (ValueError, IndexError):
        return 0, 0, stamp
