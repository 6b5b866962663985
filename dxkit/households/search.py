"""One search box over households: codes, heads' and people's names, phones, addresses.

Matching is on folded text (no case, no diacritics, đ -> d) and on word prefixes as the user
types. Results come in tiers: code prefix, head-of-household name prefix, any person's name
prefix, phone prefix, then every word matching anywhere (ranked by bm25, codes and names
above addresses). The first four tiers read a range of a B-tree index (named with INDEXED BY,
so the plan does not depend on planner statistics) and stop at the limit. The last tier ranks
only when the match set is small; a very common prefix is returned unranked, because ranking
tens of thousands of rows costs more than a keystroke is worth.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from dxkit.core.phones import renumbered_prefix
from dxkit.core.sqlbatch import select_in
from dxkit.core.text import folded_key, tokens

RANK_AT_MOST = 500  # matches of the word tier that are still ranked by bm25

_REFRESH_SQL = """
SELECT h.local_id, h.code, h.head_name, h.phone, h.address, m.name AS hamlet,
       (SELECT group_concat(p.full_name, ' ') FROM people p
         WHERE p.household_id = h.id AND p.deleted = 0) AS names,
       (SELECT group_concat(p.phone, ' ') FROM people p
         WHERE p.household_id = h.id AND p.deleted = 0 AND p.phone != '') AS phones,
       h.deleted
FROM households h JOIN hamlets m ON m.id = h.hamlet_id
WHERE h.id IN ({marks})
"""


def refresh(conn: sqlite3.Connection, household_ids: Iterable[str]) -> None:
    """Rewrite the index rows of these households (called inside the writing transaction):
    one read per few hundred households and one statement per kind of write."""
    rows = list(select_in(conn, _REFRESH_SQL, household_ids))
    if not rows:
        return
    conn.executemany("DELETE FROM household_search WHERE rowid = ?",
                     [(row["local_id"],) for row in rows])
    conn.executemany(
        "INSERT INTO household_search (rowid, code, names, phones, address, hamlet) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(row["local_id"], folded_key(row["code"]),
          folded_key(f"{row['head_name']} {row['names'] or ''}"),
          f"{row['phone']} {row['phones'] or ''}".strip(),
          folded_key(row["address"]), folded_key(row["hamlet"]))
         for row in rows if not row["deleted"]])


def purge(conn: sqlite3.Connection) -> None:
    """Make the index forget every word no row holds any more (after an erasure).

    Deleting a row from an FTS5 index only adds a deletion marker: the words stay in the
    older segments until they are merged. 'optimize' merges every segment into one without
    them; the pages freed are zeroed (secure_delete). Its cost grows with the index, which
    is acceptable for an erasure, a rare act."""
    conn.execute("INSERT INTO household_search (household_search) VALUES ('optimize')")


def rebuild(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM household_search")
    ids = [r[0] for r in conn.execute("SELECT id FROM households WHERE deleted = 0")]
    refresh(conn, ids)


@dataclass(frozen=True)
class Hit:
    local_id: int
    tier: int  # 0 code, 1 head name, 2 another person's name, 3 phone, 4 words anywhere


class _Collector:
    """Gathers hits tier by tier, first tier first, without duplicates, up to the limit."""

    def __init__(self, conn: sqlite3.Connection, limit: int):
        self.conn, self.limit = conn, limit
        self.hits: dict[int, Hit] = {}

    @property
    def full(self) -> bool:
        return len(self.hits) >= self.limit

    def take(self, tier: int, sql: str, args: tuple[str | int, ...]) -> None:
        if self.full:
            return
        for (local_id,) in self.conn.execute(sql, args):
            if local_id not in self.hits:
                self.hits[local_id] = Hit(local_id, tier)
                if self.full:
                    return


def search(conn: sqlite3.Connection, query: str, limit: int = 50,
           hamlet_id: str | None = None) -> list[Hit]:
    words = tokens(query)
    if not words:
        return []
    phrase = " ".join(words)
    found = _Collector(conn, limit)
    in_hamlet = " AND h.hamlet_id = ?" if hamlet_id else ""
    hamlet: tuple[str, ...] = (hamlet_id,) if hamlet_id else ()
    prefix = (phrase, phrase + "\U0010ffff")

    found.take(0, "SELECT h.local_id FROM households h INDEXED BY households_code "
                  f"WHERE h.deleted = 0 AND h.code_key >= ? AND h.code_key < ?{in_hamlet} "
                  "ORDER BY h.code_key LIMIT ?", (*prefix, *hamlet, limit))
    found.take(1, "SELECT h.local_id FROM households h INDEXED BY households_head "
                  f"WHERE h.deleted = 0 AND h.head_key >= ? AND h.head_key < ?{in_hamlet} "
                  "ORDER BY h.head_key, h.code_key LIMIT ?", (*prefix, *hamlet, limit))
    found.take(2, "SELECT h.local_id FROM people p INDEXED BY people_name "
                  "JOIN households h ON h.id = p.household_id "
                  f"WHERE p.deleted = 0 AND h.deleted = 0 AND p.name_key >= ? "
                  f"AND p.name_key < ?{in_hamlet} ORDER BY p.name_key LIMIT ?",
               (*prefix, *hamlet, limit * 4))
    digits = "".join(words)
    if digits.isdigit():
        _phone_tier(found, renumbered_prefix(digits), in_hamlet, hamlet)
    _word_tier(found, words, hamlet_id)
    return list(found.hits.values())


def _phone_tier(found: _Collector, digits: str, in_hamlet: str,
                hamlet: tuple[str, ...]) -> None:
    """Phone numbers typed with or without spaces; old 11-digit numbers in their new form."""
    bounds = (digits, digits + ":")  # ':' sorts right after '9'
    found.take(3, "SELECT h.local_id FROM households h INDEXED BY households_phone "
                  f"WHERE h.deleted = 0 AND h.phone != '' AND h.phone >= ? AND h.phone < ?"
                  f"{in_hamlet} ORDER BY h.phone LIMIT ?", (*bounds, *hamlet, found.limit))
    found.take(3, "SELECT h.local_id FROM people p INDEXED BY people_phone "
                  "JOIN households h ON h.id = p.household_id "
                  "WHERE p.deleted = 0 AND p.phone != '' AND h.deleted = 0 AND p.phone >= ? "
                  f"AND p.phone < ?{in_hamlet} ORDER BY p.phone LIMIT ?",
               (*bounds, *hamlet, found.limit))


def _word_tier(found: _Collector, words: list[str], hamlet_id: str | None) -> None:
    if found.full:
        return
    match = " ".join(f'"{w}"*' for w in words)
    if hamlet_id:
        source = ("household_search s JOIN households h ON h.local_id = s.rowid "
                  "WHERE household_search MATCH ? AND h.hamlet_id = ?")
        args: tuple[str, ...] = (match, hamlet_id)
    else:
        source = "household_search s WHERE household_search MATCH ?"
        args = (match,)
    many = found.conn.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {source} LIMIT {RANK_AT_MOST + 1})", args
    ).fetchone()[0] > RANK_AT_MOST
    order = "" if many else " ORDER BY bm25(household_search, 10.0, 5.0, 4.0, 1.0, 1.0)"
    found.take(4, f"SELECT s.rowid FROM {source}{order} LIMIT ?", (*args, found.limit * 2))
