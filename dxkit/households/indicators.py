"""A person's digital indicators, derived from events and recomputable at any time.

For each person and indicator the latest event decides: an explicit answer (yes or no), or a
support item done in an effective visit that establishes the indicator. "Latest" is ordered by
the day it happened, then the HLC it was recorded with, then the id, so every device derives
the same result from the same events.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dxkit.core.errors import ValidationError
from dxkit.core.fields import FieldType, boolean, date, ref, text
from dxkit.core.i18n import _
from dxkit.core.sqlbatch import execute_in, select_in
from dxkit.core.synced import Area, OpResult, SyncedTable
from dxkit.households.catalog import CODE_PATTERN, NAME_LENGTH
from dxkit.households.visits import EFFECTIVE

if TYPE_CHECKING:
    from dxkit.core.synced import Tx
    from dxkit.households.workspace import HouseholdsWorkspace as Workspace

# Each synced field's type (dxkit.core.fields): what the hub and every laptop accept.
ANSWER_TYPES: dict[str, FieldType] = {
    "person_id": ref(), "indicator_code": text(40, CODE_PATTERN), "value": boolean(),
    "answered_on": date(), "recorded_by": text(NAME_LENGTH)}

TABLES = (
    SyncedTable("indicator_answers", "event", tuple(ANSWER_TYPES), depends_on=("people",),
                types=ANSWER_TYPES, area=Area.via("person_id", "people")),
)

_EVENTS_SQL = f"""
SELECT a.person_id, a.indicator_code AS code, a.value, a.answered_on AS day,
       a.created_at, a.id
FROM indicator_answers a {{answers_where}}
UNION ALL
SELECT i.person_id, s.indicator_code AS code, 1 AS value, substr(v.visited_at, 1, 10) AS day,
       v.created_at, i.id
FROM visit_items i
JOIN visits v ON v.id = i.visit_id
JOIN support_items s ON s.code = i.support_item_code AND s.deleted = 0
WHERE i.outcome = 'done' AND s.indicator_code IS NOT NULL AND i.person_id IS NOT NULL
  AND {EFFECTIVE} {{items_where}}
"""


@dataclass(frozen=True)
class IndicatorValue:
    code: str
    value: bool
    as_of: dt.date
    source_id: str


@dataclass(frozen=True)
class RollupRow:
    code: str
    name: str
    reached: int
    population: int
    target: float | None = None

    @property
    def met(self) -> bool | None:
        """Whether the target is reached (None without a target)."""
        return None if self.target is None else self.share >= self.target

    @property
    def share(self) -> float:
        return self.reached / self.population if self.population else 0.0


def derive(conn: sqlite3.Connection, person_ids: Iterable[str] | None = None
           ) -> dict[tuple[str, str], tuple[int, str, str]]:
    """(person, indicator) -> (value, source event id, day) from the events alone."""
    if person_ids is None:
        rows = conn.execute(_EVENTS_SQL.format(answers_where="", items_where="")).fetchall()
    else:
        sql = _EVENTS_SQL.format(answers_where="WHERE a.person_id IN ({marks})",
                                 items_where="AND i.person_id IN ({marks})")
        rows = list(select_in(conn, sql, dict.fromkeys(person_ids), repeat=2))
    latest: dict[tuple[str, str], tuple[str, str, str, int]] = {}
    for person_id, code, value, day, created_at, event_id in rows:
        key = (person_id, code)
        candidate = (day, created_at, event_id, value)
        if key not in latest or candidate[:3] > latest[key][:3]:
            latest[key] = candidate
    return {key: (v[3], v[2], v[0]) for key, v in latest.items()}


def store(conn: sqlite3.Connection, person_ids: Iterable[str] | None = None) -> None:
    """Replace the derived rows of these people (or everyone) with a fresh derivation."""
    ids = None if person_ids is None else list(dict.fromkeys(person_ids))
    derived = derive(conn, ids)
    if ids is None:
        conn.execute("DELETE FROM person_indicators")
        purged = {r[0] for r in conn.execute("SELECT id FROM people WHERE purged = 1")}
    else:
        execute_in(conn, "DELETE FROM person_indicators WHERE person_id IN ({marks})", ids)
        purged = {r[0] for r in select_in(
            conn, "SELECT id FROM people WHERE purged = 1 AND id IN ({marks})", ids)}
    conn.executemany(
        "INSERT INTO person_indicators (person_id, indicator_code, value, source_id, as_of) "
        "VALUES (?, ?, ?, ?, ?)",
        [(p, c, v, s, d) for (p, c), (v, s, d) in derived.items() if p not in purged])


def affected_people(tx: Tx) -> set[str]:
    """People whose indicators a transaction can change: through its events, or by their
    erasure here or received by sync (of a person's own fields only `purged` counts, and an
    erasure is for good)."""
    created = tx.changes.created
    people = set(tx.erased.get("people", ()))
    people.update(r[0] for r in select_in(
        tx.conn, "SELECT person_id FROM visit_items WHERE id IN ({marks}) "
        "AND person_id IS NOT NULL", sorted(created.get("visit_items", ()))))
    # A correction changes what the corrected visit's items count for.
    people.update(r[0] for r in select_in(
        tx.conn, "SELECT i.person_id FROM visits v JOIN visit_items i ON i.visit_id = v.corrects "
        "WHERE v.id IN ({marks}) AND i.person_id IS NOT NULL", sorted(created.get("visits", ()))))
    people.update(r[0] for r in select_in(
        tx.conn, "SELECT person_id FROM indicator_answers WHERE id IN ({marks})",
        sorted(created.get("indicator_answers", ()))))
    return people


class Indicators:
    def __init__(self, ws: Workspace):
        self.ws = ws

    def for_person(self, person_id: str) -> list[IndicatorValue]:
        rows = self.ws.conn.execute(
            "SELECT indicator_code, value, as_of, source_id FROM person_indicators "
            "WHERE person_id = ?", (person_id,))
        return [IndicatorValue(r[0], bool(r[1]), dt.date.fromisoformat(r[2]), r[3])
                for r in rows]

    def answer(self, person_id: str, code: str, value: bool,
               answered_on: dt.date | None = None) -> OpResult[str]:
        """Record an explicit answer ("yes, she has a payment account")."""
        if code not in {i.code for i in self.ws.catalog.indicators()}:
            raise ValidationError({"indicator": _("Unknown indicator {code}.").format(code=code)})
        person = self.ws.people.get(person_id)
        if person.deleted:
            raise ValidationError({"person": _("This person's data was deleted.")})
        with self.ws.transaction() as tx:
            answer_id = tx.append("indicator_answers", {
                "person_id": person_id, "indicator_code": code, "value": int(value),
                "answered_on": (answered_on or self.ws.today()).isoformat(),
                "recorded_by": self.ws.actor})
        return OpResult(answer_id, tx.changes)

    def recompute(self) -> None:
        """Throw the derived table away and derive it again from the events."""
        with self.ws.transaction() as tx:
            store(tx.conn)

    def rollup(self, hamlet_id: str | None = None, as_of: dt.date | None = None
               ) -> list[RollupRow]:
        """Per indicator: people of the counted age who have it, out of all such people.

        Ages are counted by birth year; people with no birth year are counted everywhere.
        Two grouped scans (people by birth year; reached by indicator and birth year) serve
        every indicator at once."""
        day = as_of or self.ws.today()
        where = "p.deleted = 0 AND h.deleted = 0" + (" AND h.hamlet_id = ?" if hamlet_id else "")
        args = (hamlet_id,) if hamlet_id else ()
        people_by_year = self.ws.conn.execute(
            "SELECT p.birth_year, count(*) FROM people p JOIN households h "
            f"ON h.id = p.household_id WHERE {where} GROUP BY p.birth_year", args).fetchall()
        reached_by_year = self.ws.conn.execute(
            "SELECT x.indicator_code, p.birth_year, count(*) FROM person_indicators x "
            "JOIN people p ON p.id = x.person_id JOIN households h ON h.id = p.household_id "
            f"WHERE x.value = 1 AND {where} GROUP BY x.indicator_code, p.birth_year",
            args).fetchall()

        def counted(year: int | None, min_age: int) -> bool:
            return year is None or year <= day.year - min_age

        result = []
        for indicator in self.ws.catalog.indicators():
            population = sum(n for year, n in people_by_year if counted(year, indicator.min_age))
            reached = sum(n for code, year, n in reached_by_year
                          if code == indicator.code and counted(year, indicator.min_age))
            result.append(RollupRow(indicator.code, indicator.name, reached, population,
                                    indicator.target))
        return result
