"""`WHERE x IN (...)` over any number of values, in batches under SQLite's variable limit."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

BATCH = 400


def chunks(values: Iterable[Any], size: int = BATCH) -> Iterator[tuple[Any, ...]]:
    items: Sequence[Any] = values if isinstance(values, Sequence) else list(values)
    for start in range(0, len(items), size):
        yield tuple(items[start:start + size])


def select_in(conn: sqlite3.Connection, sql: str, values: Iterable[Any],
              repeat: int = 1) -> Iterator[sqlite3.Row]:
    """Rows of `sql`, whose `{marks}` placeholders each take one batch of `values`.

    `repeat` is how many times `{marks}` appears (each gets the same batch).
    """
    for batch in chunks(values):
        marks = ",".join("?" * len(batch))
        yield from conn.execute(sql.format(marks=marks), batch * repeat)


def execute_in(conn: sqlite3.Connection, sql: str, values: Iterable[Any]) -> None:
    for batch in chunks(values):
        conn.execute(sql.format(marks=",".join("?" * len(batch))), batch)
