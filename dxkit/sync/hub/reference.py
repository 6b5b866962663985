"""Reference data the province publishes: the hub writes it and every laptop pulls it.

Any registered mutable table can carry published rows — the support-item catalogue, the
indicators, the pesticide registry and its bans today; label templates later (course packs,
which are files, have their own: hub/course_packs.py) — so one mechanism serves them all. A
published row is stored with team id "*" (every team reads it) or with one team's id
(`--team`, e.g. that team's hamlet list). The hub stamps
each changed field with its own clock, so a newer publication wins over older edits, and a
team's own later edit of a field wins over an older publication: both are merged per field on
the laptop like any other rows. A team's edits of a published row are stored as the team's own
copy (tables declared `reference=True`), never written into the published row.

Hamlet rows (the official population of each hamlet, say) are published into the hamlet's own
area (hub/areas.py), where every team of that hamlet reads them and their own edits merge with
them per field; the hamlet must be registered (`hub team add`, `hub hamlets set`).

File format (`dxkit hub publish FILE`): {"table": NAME, "rows": [{"id": ..., field: value,
...}, ...]}; several tables: {"tables": [{"table": ..., "rows": [...]}, ...]}. A new row needs
every field of the table that cannot be empty; an existing one only the fields that change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dxkit.core.fields import ID_PATTERN
from dxkit.core.hlc import HUB_DEVICE, Clock
from dxkit.core.i18n import _
from dxkit.core.synced import (
    REGISTRY,
    SHIPPED_CLOCK,
    hamlet_tables,
    shipped_values,
    wire_fields,
)
from dxkit.core.text import nfc
from dxkit.sync.hub import areas
from dxkit.sync.hub.areas import PUBLISHED, SHARED
from dxkit.sync.hub.clocks import hub_clock
from dxkit.sync.hub.store import HubError, HubStore, next_seq
from dxkit.sync.hub.store import stored_json as _json


@dataclass
class PublishReport:
    applied: dict[str, int] = field(default_factory=dict)    # table -> rows new or changed
    unchanged: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"applied": self.applied, "unchanged": self.unchanged}


def parse_publication(data: Any) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """(table, rows) pairs from a publication file's JSON, or HubError with a sentence."""
    parts = data.get("tables") if isinstance(data, Mapping) and "tables" in data else [data]
    if not isinstance(parts, list) or not parts:
        raise _bad(_("The file must hold an object with “table” and “rows”, or with "
                     "“tables”: a list of such objects."))
    result: list[tuple[str, list[Mapping[str, Any]]]] = []
    for part in parts:
        table = part.get("table") if isinstance(part, Mapping) else None
        rows = part.get("rows") if isinstance(part, Mapping) else None
        spec = REGISTRY.get(table) if isinstance(table, str) else None
        if spec is None or spec.kind != "mutable":
            raise _bad(_("“{table}” is not a table the hub can publish (it must be a synced "
                         "table of editable rows).").format(table=table))
        if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
            raise _bad(_("The rows of {table} must be a list of objects.").format(table=table))
        result.append((spec.name, rows))
    return result


def publish(store: HubStore, parts: Sequence[tuple[str, Sequence[Mapping[str, Any]]]],
            team_id: str | None = None) -> PublishReport:
    """Write the rows into the published scope (or one team's), all in one transaction."""
    team_scope = PUBLISHED if team_id is None else store.team(team_id).id
    for table, _rows in parts:
        placed = REGISTRY[table].placed
        if placed.shared and placed.kind != "hamlet":
            raise _bad(_("{table} belongs to the households of a hamlet: the hub publishes "
                         "none of it.").format(table=table))
        if team_scope == PUBLISHED and not placed.shared and not REGISTRY[table].reference:
            raise _bad(_("{table} is a team's own data: publish it to one team (--team)."
                         ).format(table=table))
    report = PublishReport()
    with store.database.write() as conn:
        clock = hub_clock(conn, store.now())  # immune to a forged hub clock (hub/clocks.py)
        for table, rows in parts:
            names = wire_fields(REGISTRY[table])
            shared = REGISTRY[table].placed.shared
            for number, row in enumerate(rows, start=1):
                if shared and not (isinstance(row.get("id"), str)
                                   and areas.is_registered(conn, row["id"])):
                    raise _bad(_("Row {number} of {table} is not a hamlet the hub knows: "
                                 "add it with “dxkit hub hamlets set” or “team add”.").format(
                                     number=number, table=table))
                scope = SHARED if shared else team_scope
                changed = _publish_row(conn, clock, scope, table, names, row, number)
                bucket = report.applied if changed else report.unchanged
                bucket[table] = bucket.get(table, 0) + 1
    return report


def _publish_row(conn: Any, clock: Clock, scope: str, table: str, names: tuple[str, ...],
                 row: Mapping[str, Any], number: int) -> bool:
    row_id = row.get("id")
    if not isinstance(row_id, str) or ID_PATTERN.fullmatch(row_id) is None:
        raise _bad(_("Row {number} of {table} has no id (letters, digits and . _ : - only, "
                     "at most 100).").format(number=number, table=table))
    given = {key: value for key, value in row.items() if key != "id"}
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise _bad(_("Row {number} of {table} has fields the table does not have: {fields}."
                     ).format(number=number, table=table, fields=", ".join(unknown)))
    _check_types(table, given, number)
    stored = conn.execute("SELECT * FROM records WHERE table_name = ? AND row_id = ? "
                          "AND team_id = ?", (table, row_id, scope)).fetchone()
    if stored is None:
        # A row every laptop ships with: the fields not given keep the shipped value and
        # clock, so they never override a team's own edit of them.
        # Fields that may be empty and are not given start empty (the official population
        # of a hamlet nobody counted yet), with the shipped clock: any edit is newer.
        shipped = {**{name: None for name, kind in REGISTRY[table].wire_types.items()
                      if kind.nullable},
                   **(shipped_values(table, row_id) or {"deleted": 0})}
        missing = sorted(set(names) - set(given) - set(shipped))
        if missing:
            raise _bad(_("Row {number} of {table} is new and lacks: {fields}.").format(
                number=number, table=table, fields=", ".join(missing)))
        stamp = clock.now()
        fields = {n: given[n] if n in given else shipped[n] for n in names}
        clocks = {n: stamp if n in given else SHIPPED_CLOCK for n in names}
        conn.execute(
            "INSERT INTO records (table_name, row_id, team_id, kind, fields, clocks, device_id, "
            "pushed_by, pushed_exact, seq, area) VALUES (?, ?, ?, 'mutable', ?, ?, ?, ?, 0, ?, ?)",
            (table, row_id, scope, _json(fields), _json(clocks), HUB_DEVICE, HUB_DEVICE,
             next_seq(conn), row_id if scope == SHARED else scope))
        if scope == SHARED:
            areas.note_hamlet_row(conn, row_id, fields)
        return True
    fields, clocks = json.loads(stored["fields"]), json.loads(stored["clocks"])
    changes = [n for n in given if fields.get(n) != given[n]]
    if not changes:
        return False
    stamp = clock.now()
    for name in changes:
        fields[name], clocks[name] = given[name], stamp
    conn.execute(
        "UPDATE records SET fields = ?, clocks = ?, device_id = ?, pushed_by = ?, "
        "pushed_exact = 0, seq = ? WHERE table_name = ? AND row_id = ? AND team_id = ?",
        (_json(fields), _json(clocks), HUB_DEVICE, HUB_DEVICE, next_seq(conn), table, row_id,
         scope))
    if scope == SHARED:
        areas.note_hamlet_row(conn, row_id, fields)
    return True


def _check_types(table: str, given: Mapping[str, Any], number: int) -> None:
    """Every value fits its field's declared type, as a pushed one must: a laptop would hold
    back a published row that does not."""
    types = REGISTRY[table].wire_types
    for name, value in given.items():
        reason = types[name].check(value)
        if reason is not None:
            raise _bad(_("Row {number} of {table}, field {field}: {problem}").format(
                number=number, table=table, field=name, problem=types[name].explain(reason)))


def _bad(message: str) -> HubError:
    return HubError("bad_publication", message)


# -- hamlets ------------------------------------------------------------------------------------
def set_hamlet(store: HubStore, province_code: int, commune_code: int, name: str,
               population_15: int | None = None, population_18: int | None = None
               ) -> dict[str, Any]:
    """Register hamlet `name` of the commune if the hub does not know it (with a hamlets row
    its teams' laptops receive), and publish the population figures given (None: leave as
    it is). Returns the hamlet as `hamlet_list` shows it."""
    clean = nfc(name)
    if not clean:
        raise _bad(_("Give the hamlet's name."))
    figures = {key: value for key, value in (("population_15", population_15),
                                             ("population_18", population_18))
               if value is not None}
    with store.database.write() as conn:
        hamlet = store.ensure_hamlet(conn, province_code, commune_code, clean)
        for table in hamlet_tables():
            if figures:
                _check_types(table, figures, 1)
                _publish_row(conn, hub_clock(conn, store.now()), SHARED, table,
                             wire_fields(REGISTRY[table]), {"id": hamlet, **figures}, 1)
    return next(row for row in hamlet_list(store, commune_code) if row["id"] == hamlet)


def hamlet_list(store: HubStore, commune_code: int | None = None) -> list[dict[str, Any]]:
    """The registered hamlets (of one commune), with their population as published or as
    their teams entered it (the hamlet's row on the hub)."""
    where, args = ("WHERE h.commune_code = ?", (int(commune_code),)) if commune_code else (
        "", ())
    found = []
    tables = hamlet_tables()
    for row in store.conn.execute(
            "SELECT h.id, h.province_code, h.commune_code, h.name, h.deleted, r.fields "
            "FROM hamlets h LEFT JOIN records r ON r.table_name = ? AND r.row_id = h.id AND "
            f"r.team_id = ? {where} ORDER BY h.province_code, h.commune_code, h.name_key, h.id",
            (tables[0] if tables else "", SHARED, *args)):
        fields = json.loads(row["fields"]) if row["fields"] else {}
        found.append({"id": row["id"], "province_code": row["province_code"],
                      "commune_code": row["commune_code"],
                      "name": fields.get("name") or row["name"],
                      "deleted": bool(row["deleted"]),
                      "population_15": fields.get("population_15"),
                      "population_18": fields.get("population_18")})
    return found
