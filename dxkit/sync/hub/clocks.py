"""The hub's side of clock safety (docs/sync-protocol.md, Clocks).

A clock decides which edit of a field wins, on the hub and on every laptop that pulls it. One
stored far in the future beats every honest edit until that day, and every laptop that pulls
it follows it there; one that names the hub or the shipped catalogue poses as the province's
publication or as the defaults every install ships. So:

- a push is judged record by record (`check_clocks`, after `store.validate`): a clock more than
  CLOCK_AHEAD_LIMIT ahead of the hub's own time is refused as "clock_ahead"; a clock naming the
  shipped catalogue that is not the shipped clock itself, or naming the hub that is newer than
  every clock the hub stamped on that row (as the team sees it), as "reserved_device"; so is
  an event stamped by, or said to be recorded by, either. Any other device part is accepted:
  a laptop rightly sends rows last edited by a teammate, the hub does not know the device ids
  laptops stamp with (enrollment gives it other ids), and a forged id can do no more harm
  than its own clock, which the time bound holds to the present;
- a stored clock the hub can no longer believe (stored before these checks) loses every merge
  to the clock a push brings (`believed`), so an honest edit is never refused because of it;
- `dxkit hub repair-clocks` (hub/clock_repair.py) re-stamps such clocks with the hub's own
  clock at its present time, keeping their order, and gives the rows new seq values so every
  laptop pulls them; an event's `created_at` takes the time in its uuid7 id, the value the
  laptops give it too;
- publications start from the newest hub clock that can be believed (`latest_hub_clock`), so a
  forged one stored in the past cannot carry them into the future.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dxkit.core.hlc import (
    HUB_DEVICE,
    RESERVED_DEVICES,
    SHIPPED_DEVICE,
    Clock,
    clock_ms,
    demoted,
    device_part,
)
from dxkit.core.synced import SHIPPED_CLOCK, SyncedTable
from dxkit.sync.hub.database import Conn

CLOCK_AHEAD_LIMIT = dt.timedelta(minutes=5)  # how far past the hub's time a clock may be


class ClockRefused(Exception):
    """A record's clock the hub will not store; `reason` goes back to the device."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Bound:
    """The latest clock the hub believes at one moment: `limit_ms`, and `too_late`, the text
    every well-formed clock past it sorts at or after (one string compare per clock)."""

    limit_ms: int

    @property
    def too_late(self) -> str:
        return f"{self.limit_ms + 1:012x}"

    def believes(self, stamp: Any) -> bool:
        ms = clock_ms(stamp)
        return ms is not None and ms <= self.limit_ms


def bound_at(now: dt.datetime) -> Bound:
    return Bound(epoch_ms(now + CLOCK_AHEAD_LIMIT))


def epoch_ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


# -- a push --------------------------------------------------------------------------------------
def check_clocks(record: Mapping[str, Any], spec: SyncedTable, bound: Bound,
                 seen: Iterable[tuple[str, str | None] | None]) -> None:
    """ClockRefused for the first clock of a (validated) record the hub will not store.
    `seen`: the stored copies of the row the pushing team reads (fields and clocks JSON, or
    None where there is none): its own and the published one."""
    if spec.kind == "event":
        stamp = record["created_at"]
        if device_part(stamp) in RESERVED_DEVICES or record["device_id"] in RESERVED_DEVICES:
            raise ClockRefused("reserved_device")
        if stamp >= bound.too_late:
            raise ClockRefused("clock_ahead")
        return
    clocks: Mapping[str, str] = record["clocks"]
    if _poses(clocks.values(), seen):
        raise ClockRefused("reserved_device")
    if max(clocks.values()) >= bound.too_late:
        raise ClockRefused("clock_ahead")


def believed(clocks: dict[str, str], bound: Bound) -> dict[str, str]:
    """A stored row's clocks for a merge, those the hub cannot believe demoted: they lose to
    every clock a push brings (which was checked), so an honest edit wins over a value that
    arrived with an impossible clock, whether or not the hub was repaired yet."""
    if all(stamp < bound.too_late for stamp in clocks.values()):
        return clocks
    return {name: stamp if bound.believes(stamp) else demoted(stamp)
            for name, stamp in clocks.items()}


def _poses(stamps: Iterable[str], seen: Iterable[tuple[str, str | None] | None]) -> bool:
    """Whether a clock names the shipped catalogue or the hub without being theirs."""
    newest_hub: str | None = None  # read from the stored copies only when a clock needs it
    for stamp in stamps:
        device = device_part(stamp)
        if device == SHIPPED_DEVICE and stamp != SHIPPED_CLOCK:
            return True
        if device == HUB_DEVICE:
            newest_hub = _newest_hub_clock(seen) if newest_hub is None else newest_hub
            if stamp > newest_hub:
                return True
    return False


def _newest_hub_clock(seen: Iterable[tuple[str, str | None] | None]) -> str:
    """The newest clock the hub stamped on this row as the team sees it: a laptop may hold an
    older publication (or repair) of it, never a newer one."""
    newest = ""
    for stored in seen:
        if stored is not None and stored[1] is not None:
            newest = max([newest, *(stamp for stamp in json.loads(stored[1]).values()
                                    if device_part(stamp) == HUB_DEVICE)])
    return newest


# -- publications -------------------------------------------------------------------------------
def latest_hub_clock(conn: Conn, bound: Bound) -> str | None:
    """The newest clock the hub stamped so far that it can believe: its next stamps sort after
    it. A hub clock past the bound was never the hub's (it stamps at its own time), so it is
    left out and cannot carry the next publication into the future."""
    stamps = [stamp for row in conn.execute(
        "SELECT clocks FROM records WHERE device_id = ? AND kind = 'mutable'", (HUB_DEVICE,))
              for stamp in json.loads(row["clocks"]).values()
              if device_part(stamp) == HUB_DEVICE and bound.believes(stamp)]
    return max(stamps) if stamps else None


def hub_clock(conn: Conn, now: dt.datetime) -> Clock:
    """The hub's clock for stamping at `now` (the store's time, so tests can set it)."""
    bound = bound_at(now)
    moment = epoch_ms(now)
    return Clock(HUB_DEVICE, latest_hub_clock(conn, bound), wall_ms=lambda: moment)
