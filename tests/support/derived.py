"""The derived tables a laptop keeps beside the synced ones (the search index, open follow-ups,
each person's indicators): what they hold, and what a recomputation from the synced tables
alone gives. Digests never see these tables, so the convergence tests compare them here."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from dxkit.households import indicators, search, visits
from dxkit.workspace import Workspace

DERIVED_TABLES = ("household_search", "open_follow_ups", "person_indicators")


def derived(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every derived row, keyed by synced ids rather than local row numbers, words sorted
    (the order of the people in a household's index row follows local arrival order)."""
    index = conn.execute(
        "SELECT h.id, s.code, s.names, s.phones, s.address, s.hamlet FROM household_search s "
        "LEFT JOIN households h ON h.local_id = s.rowid").fetchall()
    return {
        "household_search": sorted(
            (row[0], *(tuple(sorted((text or "").split())) for text in row[1:]))
            for row in index),
        "open_follow_ups": sorted(tuple(row) for row in conn.execute(
            "SELECT household_id, visit_id, due_on, closed_by FROM open_follow_ups")),
        "person_indicators": sorted(tuple(row) for row in conn.execute(
            "SELECT person_id, indicator_code, value, source_id, as_of "
            "FROM person_indicators")),
    }


def recomputed(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """`derived` after rebuilding every derived table from scratch, then undone."""
    conn.execute("SAVEPOINT recompute")
    try:
        search.rebuild(conn)
        visits.refresh_follow_ups(conn)
        indicators.store(conn)
        return derived(conn)
    finally:
        conn.execute("ROLLBACK TO recompute")
        conn.execute("RELEASE recompute")


def assert_derived_agree(laptops: Iterable[Workspace], alike: bool = True) -> None:
    """Each laptop's derived tables equal a recomputation from its synced tables, and (unless
    `alike` is False: laptops of teams with different hamlets) every laptop holds the same."""
    states = []
    for ws in laptops:
        state = derived(ws.conn)
        assert state == recomputed(ws.conn), f"{ws.path.name}: derived rows went stale"
        states.append(state)
    for state in states[1:] if alike else ():
        assert state == states[0]
