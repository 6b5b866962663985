"""Build a very large workspace through the core write path, in large transactions.

Reuses the demo generator's building blocks (`dxkit.households.demo.DemoBuilder`): every row is
validated by the form validators and written with `Tx.insert` / `Tx.append`, so the outbox,
audit log, search index and derived indicators are maintained exactly as in the app.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass
from pathlib import Path

from dxkit.households.demo import DemoBuilder, set_up_team
from dxkit.workspace import Workspace

FROZEN_NOW = dt.datetime(2026, 11, 20, 9, 30)


@dataclass
class BuildResult:
    households: int
    people: int
    visits: int
    visit_items: int
    seconds: float

    @property
    def records(self) -> int:
        return self.households + self.people + self.visits + self.visit_items


def build(path: Path, *, households: int, people_per_household: int, visits: int, seed: int,
          batch: int = 5_000, report=print) -> BuildResult:
    """One transaction per `batch` households (with their share of the visits)."""
    ws = Workspace.open(path)
    ws.freeze_time(FROZEN_NOW)
    started = time.perf_counter()
    try:
        with ws.transaction():
            set_up_team(ws)
        rng = random.Random(seed)
        builder = DemoBuilder(ws, rng, FROZEN_NOW)
        width = len(str(households // len(builder.hamlets) + 1))
        made_visits = 0
        for first in range(0, households, batch):
            size = min(batch, households - first)
            share = round(visits * (first + size) / households) - made_visits
            with ws.transaction() as tx:
                plans = [builder.household(tx, rng.choice(builder.hamlets), width,
                                           size=people_per_household) for _ in range(size)]
                made_visits += builder.visits(tx, plans, share)
            done = first + size
            elapsed = time.perf_counter() - started
            report(f"  {done:>9,} households, {made_visits:>10,} visits  {elapsed:7.1f} s")
        seconds = time.perf_counter() - started
        conn = ws.conn
        counts = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("households", "people", "visits", "visit_items")]
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        ws.close()
    return BuildResult(*counts, seconds=seconds)
