"""Where a record lives on the hub, and which teams read and write it (docs/sync-protocol.md,
"Scope").

A team is a hamlet team (one hamlet of a commune) or a commune team (every hamlet of its
commune, those registered later included). The hub registers every hamlet it knows in
`hamlets` (its id, province, commune and name) and keeps each team's hamlets in
`team_hamlets`: a hamlet team's is its hamlet (and, after hub migration 0007, any other
hamlet its laptops had already written households of); a commune team's is every hamlet of
its commune, kept up to date as hamlets are registered (`register_hamlet`).

Every record has an `area` (`records.area`, indexed with its table and seq):

- rows of tables declared `Area.team()` (the team's members, its farm, its copies of reference
  rows) belong to their team: area = the team id (published rows: "*");
- rows of the household-bound tables (`Area.hamlet()`, `Area.own(...)`, `Area.via(...)`) are
  kept once, in the shared scope (team id "@"), and their area is the id of the hamlet they
  belong to: a hamlet's own id, a household's hamlet, or the area of the row they reference
  (a household moving to another hamlet takes its people, visits and answers along).

A pull, a digest and a fetch read the rows whose area is one of the team's (`read_areas`), in
one indexed query; a push may write only rows whose area, before and after, is one of them.
Plain SQL only (SQLite and PostgreSQL).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dxkit.core.places import hamlet_id
from dxkit.core.synced import SyncedTable
from dxkit.core.text import folded_key
from dxkit.sync.hub.database import Conn

PUBLISHED = "*"  # the team id (and area) of rows published to every team
SHARED = "@"  # the team id of rows kept once in a hamlet's area (not per team)
TEAM_KINDS = ("hamlet", "commune")


@dataclass(frozen=True)
class HubHamlet:
    id: str
    province_code: int
    commune_code: int
    name: str

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}


def team_scope(conn: Conn, team_id: str) -> list[str]:
    """The ids of the hamlets a team reads and writes."""
    return [row[0] for row in conn.execute(
        "SELECT hamlet_id FROM team_hamlets WHERE team_id = ? ORDER BY hamlet_id", (team_id,))]


def read_areas(conn: Conn, team_id: str, spec: SyncedTable) -> list[str]:
    """The areas of `spec`'s rows a team reads: its hamlets for the household-bound tables,
    else its own rows (and the published ones of reference tables)."""
    if spec.placed.shared:
        return team_scope(conn, team_id)
    return [team_id, PUBLISHED] if spec.reference else [team_id]


def area_filter(areas: Sequence[str]) -> str:
    """`area = ?` or `area IN (?, …)`: one value keeps the index's order (no sort)."""
    if len(areas) == 1:
        return "area = ?"
    return f"area IN ({', '.join('?' for _ in areas)})"


def hamlets_of(conn: Conn, hamlet_ids: Sequence[str]) -> list[HubHamlet]:
    if not hamlet_ids:
        return []
    marks = ", ".join("?" for _ in hamlet_ids)
    return [HubHamlet(row["id"], row["province_code"], row["commune_code"], row["name"])
            for row in conn.execute(
                f"SELECT id, province_code, commune_code, name FROM hamlets WHERE id IN "
                f"({marks}) ORDER BY name_key, id", tuple(hamlet_ids))]


def is_registered(conn: Conn, hamlet: str) -> bool:
    return conn.execute("SELECT 1 FROM hamlets WHERE id = ?", (hamlet,)).fetchone() is not None


def find_hamlet(conn: Conn, commune_code: int, name: str) -> str | None:
    """The registered hamlet of the commune with this name (compared folded), if any."""
    row = conn.execute(
        "SELECT id FROM hamlets WHERE commune_code = ? AND name_key = ? ORDER BY deleted, "
        "created_at, id", (int(commune_code), folded_key(name))).fetchone()
    return None if row is None else str(row[0])


def hamlet_id_for(conn: Conn, commune_code: int, name: str) -> tuple[str, bool]:
    """(the hamlet's id, whether it is registered already): the registered hamlet of that
    name, else the id every laptop gives it (core.places.hamlet_id), unless a hamlet renamed
    since holds that id (then a new one)."""
    known = find_hamlet(conn, commune_code, name)
    if known is not None:
        return known, True
    wanted = hamlet_id(commune_code, name)
    if is_registered(conn, wanted):
        return str(uuid.uuid4()), False
    return wanted, False


def register_hamlet(conn: Conn, hamlet: str, province_code: int, commune_code: int,
                    name: str, created_at: str, deleted: bool = False) -> bool:
    """Record a hamlet of a commune (nothing if it is known): every commune team of that
    commune reads and writes it from now on. True if it was new."""
    if is_registered(conn, hamlet):
        return False
    conn.execute(
        "INSERT INTO hamlets (id, province_code, commune_code, name, name_key, deleted, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (hamlet, int(province_code), int(commune_code), name, folded_key(name), int(deleted),
         created_at))
    conn.execute(
        "INSERT INTO team_hamlets (team_id, hamlet_id) SELECT id, ? FROM teams WHERE "
        "kind = 'commune' AND province_code = ? AND commune_code = ?",
        (hamlet, int(province_code), int(commune_code)))
    return True


def add_to_scope(conn: Conn, team_id: str, hamlet: str) -> None:
    conn.execute("INSERT INTO team_hamlets (team_id, hamlet_id) VALUES (?, ?) "
                 "ON CONFLICT (team_id, hamlet_id) DO NOTHING", (team_id, hamlet))


def note_hamlet_row(conn: Conn, hamlet: str, fields: dict[str, Any]) -> None:
    """Keep the registry's name of a hamlet as its latest row has it (a rename, a merge's
    tombstone), for `hub team list` and `hub team add --hamlet`."""
    name = fields.get("name")
    if isinstance(name, str):
        conn.execute("UPDATE hamlets SET name = ?, name_key = ?, deleted = ? WHERE id = ? AND "
                     "(name <> ? OR deleted <> ?)",
                     (name, folded_key(name), int(bool(fields.get("deleted"))), hamlet, name,
                      int(bool(fields.get("deleted")))))
