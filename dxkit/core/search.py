"""One search box over households: codes, heads' and people's names, phones, addresses.

Matching is on folded text (no case, no diacritics, đ -> d) and on word prefixes as the user
types. Ranking in tiers: code prefix, head-of-household name prefix, any person's name prefix,
then every word matching anywhere (ranked by bm25 with codes and names weighted above
addresses). The first three tiers use B-tree indexes, so common queries answer from an index
range instead of ranking every FTS match.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from dxkit.core.phones import renumbered_prefix
from dxkit.core.text import folded_key, tokens

_REFRESH_SQL = """
SELECT h.local_id, h.code, h.head_name, h.phone, h.address, m.name AS hamlet,
       (SELECT group_concat(p.full_name, ' ') FROM people p
         WHERE p.household_id = h.id AND p.deleted = 0) AS names,
       (SELECT group_concat(p.phone, ' ') FROM people p
         WHERE p.household_id = h.id AND p.deleted = 0 AND p.phone != '') AS phones,
       h.deleted
FROM households h JOIN hamlets m ON m.id = h.hamlet_id
WHERE h.id = ?
"""


def refresh(conn: sqlite3.Connection, household_ids: Iterable[str]) -> None:
    """Rewrite the index rows of these households (called inside the writing transaction)."""
    for household_id in household_ids:
        row = conn.execute(_REFRESH_SQL, (household_id,)).fetchone()
        if row is None:
            continue
        conn.execute("DELETE FROM household_search WHERE rowid = ?", (row["local_id"],))
        if row["deleted"]:
            continue
        conn.execute(
            "INSERT INTO household_search (rowid, code, names, phones, address, hamlet) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (row["local_id"], folded_key(row["code"]),
             folded_key(f"{row['head_name']} {row['names'] or ''}"),
             f"{row['phone']} {row['phones'] or ''}".strip(),
             folded_key(row["address"]), folded_key(row["hamlet"])),
        )


def rebuild(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM household_search")
    ids = [r[0] for r in conn.execute("SELECT id FROM households WHERE deleted = 0")]
    refresh(conn, ids)


@dataclass(frozen=True)
class Hit:
    local_id: int
    tier: int  # 0 code, 1 head name, 2 another person's name, 3 words anywhere


def _upper_bound(prefix: str) -> str:
    return prefix + "\U0010ffff"


def search(conn: sqlite3.Connection, query: str, limit: int = 50,
           hamlet_id: str | None = None) -> list[Hit]:
    words = tokens(query)
    if not words:
        return []
    phrase = " ".join(words)
    hits: dict[int, Hit] = {}
    hamlet_sql = " AND h.hamlet_id = ?" if hamlet_id else ""
    hamlet_arg = (hamlet_id,) if hamlet_id else ()

    def take(tier: int, sql: str, args: tuple) -> None:
        if len(hits) >= limit:
            return
        for (local_id,) in conn.execute(sql, args):
            if local_id not in hits:
                hits[local_id] = Hit(local_id, tier)
                if len(hits) >= limit:
                    return

    bounds = (phrase, _upper_bound(phrase))
    take(0, "SELECT h.local_id FROM households h WHERE h.deleted = 0 AND h.code_key >= ? "
            f"AND h.code_key < ?{hamlet_sql} ORDER BY h.code_key LIMIT ?",
         (*bounds, *hamlet_arg, limit))
    take(1, "SELECT h.local_id FROM households h WHERE h.deleted = 0 AND h.head_key >= ? "
            f"AND h.head_key < ?{hamlet_sql} ORDER BY h.head_key, h.code_key LIMIT ?",
         (*bounds, *hamlet_arg, limit))
    take(2, "SELECT DISTINCT h.local_id FROM people p JOIN households h ON h.id = p.household_id "
            "WHERE p.deleted = 0 AND h.deleted = 0 AND p.name_key >= ? AND p.name_key < ?"
            f"{hamlet_sql} ORDER BY p.name_key LIMIT ?",
         (*bounds, *hamlet_arg, limit))
    match = " ".join(f'"{w}"*' for w in words)
    if all(w.isdigit() for w in words):
        # A phone number typed as people write it ("0912 345 678") is one token in the index,
        # and an old 11-digit mobile number ("0162...") is stored in its new form ("032...").
        digits = renumbered_prefix("".join(words))
        if len(words) > 1 or digits != words[0]:
            match = f'({match}) OR (phones : "{digits}"*)'
    if hamlet_id:
        take(3, "SELECT s.rowid FROM household_search s JOIN households h ON h.local_id = s.rowid "
                "WHERE household_search MATCH ? AND h.hamlet_id = ? "
                "ORDER BY bm25(household_search, 10.0, 5.0, 4.0, 1.0, 1.0) LIMIT ?",
             (match, hamlet_id, limit))
    else:
        take(3, "SELECT rowid FROM household_search WHERE household_search MATCH ? "
                "ORDER BY bm25(household_search, 10.0, 5.0, 4.0, 1.0, 1.0) LIMIT ?",
             (match, limit))
    return list(hits.values())
