"""The province's numbers on the hub (issue 13 §2–§3): each hamlet's and each team's figures
per month, kept up to date as records arrive, and the reads the dashboard and the API make.

Figures follow the rules of the team's monthly report (dxkit/reports/monthly.py: its
docstring): a hamlet's figures for a month here equal `dxkit report monthly --month M
--hamlet H` on a laptop synced with the hub — visits by the day they name, corrections from
the moment they were recorded (HLC), indicators at the month's end by each person's latest
event, counted against the register of the indicator's age, follow-ups overdue at the end.

Maintained, not computed per request (benchmarks/bench_dashboard.py measured both): a push
marks, in its own transaction, the hamlets and teams whose records it changed
(`figures_dirty`); `refresh` recomputes those from `records` — every row of a hamlet's area,
every month from the hub's earliest event (`floor`: so each month with data has a row for
every hamlet) to the current one — and replaces their rollup rows:

- `figures_hamlet` (hamlet, month): visits, households reached, people helped, follow-ups
  overdue; `figures_items` (hamlet, month, support item): outcomes; `figures_indicators`
  (hamlet, month, indicator): reached and counted at the month's end;
- `figures_catalog` (hamlet, table, code): the indicators and support items as the hamlet's
  teams' laptops have them (shipped rows, the province's published rows and the teams' own
  edits merged per field by clock), with the targets;
- `figures_team` (team, month): class sessions held, learners who completed, certificates
  issued and revoked, lots packed compliant and refused, labels printed, diary entries.

A refresh runs after a push commits (a thread of the hub app, `Refresher`), and before a
figures read when something is dirty, for a bounded time: the read then answers with what is
there and says as of when (`Freshness`). A new month, or a new publication of the
catalogue, marks everything dirty. `dxkit hub --db X figures rebuild` recomputes every hamlet
and team. Reads never name a person: counts and area names only; `shown` and `shown_share`
hide small counts (fewer than 5) for display.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dxkit.core.errors import DxError
from dxkit.core.places import communes
from dxkit.core.synced import SHIPPED_CLOCK
from dxkit.farm import compliance
from dxkit.farm import registry as farm_registry
from dxkit.farm.pesticides import Ban, Product
from dxkit.households.catalog import shipped_catalog
from dxkit.lessons import library, progress
from dxkit.lessons.packs import CoursePack, read_pack

# The report's own completion rule and cut-off stamp, so the hub counts as the laptop does.
from dxkit.reports.monthly import Period, _completed, _stamp
from dxkit.sync.hub.database import Conn, HubDatabase

log = logging.getLogger(__name__)
SMALL = 5  # counts under this are shown as "<5"
SETTLE_SECONDS = 2.0  # the refresh thread waits for pushes to pause this long (Refresher)
MAX_DELAY_SECONDS = 30.0  # ... but starts at most this long after the first push
SHARED_SCOPE = "@"  # hub/areas.py SHARED (not imported: areas imports nothing of this)
PUBLISHED_SCOPE = "*"
HAMLET_TABLES = ("households", "people", "visits", "visit_items", "indicator_answers",
                 "follow_up_closures")
TEAM_TABLES = ("classes", "class_learners", "lesson_events", "certificates", "lots",
               "lot_harvests", "label_prints", "diary_entries")
CATALOG_TABLES = ("indicators", "support_items")
Level = Literal["commune", "hamlet"]
TEAM_FIGURES = ("class_sessions", "learners_completed", "certificates_issued",
                "certificates_revoked", "lots_compliant", "lots_refused", "labels_printed",
                "diary_entries")


def m0012_figures(conn: Conn) -> None:
    """The figures' rollup tables (hub/figures.py), with every hamlet and team marked dirty
    so the first refresh (or `hub figures rebuild`) computes them from the stored records."""
    conn.script("""
    CREATE TABLE figures_dirty (
        kind TEXT NOT NULL, key TEXT NOT NULL, marked BIGINT NOT NULL,
        PRIMARY KEY (kind, key));
    CREATE TABLE figures_state (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE figures_hamlet (
        hamlet_id TEXT NOT NULL, month TEXT NOT NULL, visits INTEGER NOT NULL,
        households_reached INTEGER NOT NULL, people_helped INTEGER NOT NULL,
        followups_overdue INTEGER NOT NULL, PRIMARY KEY (hamlet_id, month));
    CREATE INDEX figures_hamlet_month ON figures_hamlet (month, hamlet_id);
    CREATE TABLE figures_items (
        hamlet_id TEXT NOT NULL, month TEXT NOT NULL, code TEXT NOT NULL,
        done INTEGER NOT NULL, partly INTEGER NOT NULL, not_done INTEGER NOT NULL,
        PRIMARY KEY (hamlet_id, month, code));
    CREATE INDEX figures_items_month ON figures_items (month, hamlet_id);
    CREATE TABLE figures_indicators (
        hamlet_id TEXT NOT NULL, month TEXT NOT NULL, code TEXT NOT NULL,
        reached INTEGER NOT NULL, counted INTEGER NOT NULL,
        PRIMARY KEY (hamlet_id, month, code));
    CREATE INDEX figures_indicators_month ON figures_indicators (month, hamlet_id);
    CREATE TABLE figures_catalog (
        hamlet_id TEXT NOT NULL, table_name TEXT NOT NULL, code TEXT NOT NULL,
        name_vi TEXT NOT NULL, name_en TEXT NOT NULL, min_age INTEGER, target REAL,
        sort_order INTEGER NOT NULL, active INTEGER NOT NULL,
        PRIMARY KEY (hamlet_id, table_name, code));
    CREATE TABLE figures_team (
        team_id TEXT NOT NULL, month TEXT NOT NULL, class_sessions INTEGER NOT NULL,
        learners_completed INTEGER NOT NULL, certificates_issued INTEGER NOT NULL,
        certificates_revoked INTEGER NOT NULL, lots_compliant INTEGER NOT NULL,
        lots_refused INTEGER NOT NULL, labels_printed INTEGER NOT NULL,
        diary_entries INTEGER NOT NULL, PRIMARY KEY (team_id, month));
    CREATE INDEX figures_team_month ON figures_team (month, team_id);
    """)
    mark_everything(conn)


# -- marking ---------------------------------------------------------------------------------
def mark_dirty(conn: Conn, *, hamlets: Iterable[str] = (), teams: Iterable[str] = (),
               marked: int = 0) -> None:
    """Within a write transaction: these hamlets' and teams' figures need a refresh.
    `marked` (the push's seq) lets a refresh that ran meanwhile leave the mark in place."""
    rows = [("hamlet", key, marked) for key in sorted(set(hamlets))]
    rows += [("team", key, marked) for key in sorted(set(teams))]
    if rows:
        conn.executemany("INSERT INTO figures_dirty (kind, key, marked) VALUES (?, ?, ?) "
                         "ON CONFLICT (kind, key) DO UPDATE SET marked = excluded.marked", rows)


def mark_everything(conn: Conn) -> None:
    marked = int(conn.scalar("SELECT value FROM counters WHERE name = 'seq'"))
    hamlets = [row[0] for row in conn.execute("SELECT id FROM hamlets")]
    teams = [row[0] for row in conn.execute("SELECT id FROM teams")]
    mark_dirty(conn, hamlets=hamlets, teams=teams, marked=marked)


def team_hamlets(conn: Conn, team_ids: Iterable[str]) -> list[str]:
    """The hamlets of these teams (a team's copy of the catalogue changes their figures)."""
    found: list[str] = []
    wanted = sorted(set(team_ids))
    for start in range(0, len(wanted), 400):
        chunk = wanted[start:start + 400]
        found += [row[0] for row in conn.execute(
            "SELECT hamlet_id FROM team_hamlets WHERE team_id IN "
            f"({', '.join('?' * len(chunk))})", chunk)]
    return found


# -- the public values -----------------------------------------------------------------------
@dataclass(frozen=True)
class IndicatorFigure:
    code: str
    name_vi: str
    name_en: str
    reached: int
    counted: int
    share: float  # reached / counted (0 when nobody is counted), as the monthly report
    population: int | None  # the official population of the indicator's age, if known
    population_share: float | None  # reached / population
    target: float | None
    met: bool | None  # share >= target; None without a target


@dataclass(frozen=True)
class AreaFigures:
    key: str  # a hamlet's id, or a commune's code as text
    name: str
    commune_code: int
    visits: int
    households_reached: int
    people_helped: int
    followups_overdue: int
    indicators: tuple[IndicatorFigure, ...]
    teams: int  # teams working there
    last_sync: str | None  # the latest contact of any of their devices (ISO, UTC)


@dataclass(frozen=True)
class MonthFigures:
    month: str
    visits: int
    households_reached: int
    people_helped: int
    shares: dict[str, float] = field(default_factory=dict)  # indicator code -> share
    # indicator code -> (reached, counted), for hiding the shares of small counts
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class ItemFigure:
    code: str
    name_vi: str
    name_en: str
    done: int
    partly: int
    not_done: int


@dataclass(frozen=True)
class TeamFigures:
    team_id: str
    name: str
    commune_code: int
    class_sessions: int
    learners_completed: int
    certificates_issued: int
    certificates_revoked: int
    lots_compliant: int
    lots_refused: int
    labels_printed: int
    diary_entries: int


@dataclass(frozen=True)
class TeamSync:
    team_id: str
    name: str
    commune_code: int
    last_sync: str | None
    days_since: int | None  # whole days since last_sync; None: never synced


@dataclass(frozen=True)
class Freshness:
    as_of: str | None  # when the figures were last brought up to date (ISO, UTC)
    pending: int  # hamlets and teams still waiting for their refresh

    @property
    def complete(self) -> bool:
        return self.pending == 0


def shown(count: int) -> int | str:
    """A count as a page or the API may show it: "<5" for 0 to 4 (no household can be
    singled out), the number otherwise."""
    return f"<{SMALL}" if count < SMALL else count


def shown_share(numerator: int, denominator: int | None) -> float | None:
    """numerator / denominator rounded to 4 places, or None (not shown) when either is
    under 5 or the denominator is unknown."""
    if denominator is None or numerator < SMALL or denominator < SMALL:
        return None
    return round(numerator / denominator, 4)


# -- reads -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Hamlet:
    id: str
    name: str
    commune_code: int
    province_code: int


def _hamlets(conn: Conn, commune: int | None, hamlet: str | None = None) -> list[_Hamlet]:
    sql = "SELECT id, name, commune_code, province_code FROM hamlets WHERE deleted = 0"
    params: list[Any] = []
    if commune is not None:
        sql += " AND commune_code = ?"
        params.append(int(commune))
    if hamlet is not None:
        sql += " AND id = ?"
        params.append(hamlet)
    return [_Hamlet(r[0], r[1], int(r[2]), int(r[3]))
            for r in conn.execute(sql + " ORDER BY commune_code, name_key, id", params)]


def _where_hamlets(commune: int | None, hamlet: str | None, alias: str = "f"
                   ) -> tuple[str, list[Any]]:
    """A filter on `alias`.hamlet_id for the scope (a subquery on the registry)."""
    if hamlet is not None:
        clause = (f" AND {alias}.hamlet_id = ? AND {alias}.hamlet_id IN (SELECT id FROM "
                  "hamlets WHERE deleted = 0" + (" AND commune_code = ?" if commune is not None
                                                 else "") + ")")
        return clause, [hamlet] + ([int(commune)] if commune is not None else [])
    if commune is not None:
        return (f" AND {alias}.hamlet_id IN (SELECT id FROM hamlets WHERE deleted = 0 AND "
                "commune_code = ?)", [int(commune)])
    return (f" AND {alias}.hamlet_id IN (SELECT id FROM hamlets WHERE deleted = 0)", [])


def months(conn: Conn) -> list[str]:
    """The months ("YYYY-MM") with any visit or team activity, newest first."""
    found = {row[0] for row in conn.execute(
        "SELECT month FROM figures_hamlet GROUP BY month HAVING max(visits) > 0")}
    found |= {row[0] for row in conn.execute(
        "SELECT month FROM figures_team GROUP BY month HAVING max(class_sessions + "
        "certificates_issued + certificates_revoked + lots_compliant + lots_refused + "
        "labels_printed + diary_entries + learners_completed) > 0")}
    return sorted(found, reverse=True)


_months_with_data = months  # for trend(), whose `months` parameter hides the function


def _commune_name(province_code: int, commune_code: int) -> str:
    for unit in communes(province_code):
        if unit.code == commune_code:
            return unit.name
    return str(commune_code)


def _catalog_rows(conn: Conn, table: str, commune: int | None, hamlet: str | None
                  ) -> dict[str, dict[str, list[Any]]]:
    """code -> hamlet -> [name_vi, name_en, min_age, target, sort_order, active]."""
    where, params = _where_hamlets(commune, hamlet)
    found: dict[str, dict[str, list[Any]]] = defaultdict(dict)
    for row in conn.execute(
            "SELECT f.code, f.hamlet_id, f.name_vi, f.name_en, f.min_age, f.target, "
            f"f.sort_order, f.active FROM figures_catalog f WHERE f.table_name = ?{where}",
            [table, *params]):
        found[row[0]][row[1]] = list(row[2:])
    return found


def indicator_names(conn: Conn, *, commune: int | None, hamlet: str | None = None
                    ) -> dict[str, tuple[str, str]]:
    """Indicator code -> (Vietnamese, English name) as the scope's hamlets have it, retired
    indicators included (a trend reaches back to months when they counted)."""
    return {code: (str(first[0]), str(first[1]))
            for code, by_hamlet in _catalog_rows(conn, "indicators", commune, hamlet).items()
            for first in [next(iter(by_hamlet.values()))]}


def _published_targets(conn: Conn) -> dict[str, float | None]:
    merged = _merged_rows(conn, "indicators", [PUBLISHED_SCOPE])
    return {str(f.get("code")): f.get("target") for f in merged.values() if f.get("code")}


def _population(conn: Conn, hamlet_ids: Sequence[str]) -> dict[str, tuple[int | None,
                                                                             int | None]]:
    found: dict[str, tuple[int | None, int | None]] = {}
    for start in range(0, len(hamlet_ids), 400):
        chunk = list(hamlet_ids[start:start + 400])
        for row in conn.execute(
                "SELECT area, fields FROM records WHERE table_name = 'hamlets' AND team_id = ? "
                f"AND area IN ({', '.join('?' * len(chunk))})", [SHARED_SCOPE, *chunk]):
            fields = json.loads(row[1])
            found[row[0]] = (fields.get("population_15"), fields.get("population_18"))
    return found


def _team_presence(conn: Conn, commune: int | None) -> dict[str, tuple[int, str | None]]:
    """hamlet -> (teams working there, their devices' latest contact)."""
    where = "" if commune is None else " WHERE t.commune_code = ?"
    params = [] if commune is None else [int(commune)]
    last = {row[0]: row[1] for row in conn.execute(
        "SELECT team_id, max(last_seen_at) FROM devices WHERE revoked_at IS NULL "
        "GROUP BY team_id")}
    found: dict[str, tuple[int, str | None]] = {}
    for hamlet_id, team_id in conn.execute(
            "SELECT th.hamlet_id, th.team_id FROM team_hamlets th JOIN teams t ON "
            f"t.id = th.team_id{where}", params):
        count, seen = found.get(hamlet_id, (0, None))
        mine = last.get(team_id)
        found[hamlet_id] = (count + 1, max(filter(None, (seen, mine)), default=None))
    return found


def areas(conn: Conn, month: str, *, commune: int | None, level: Level = "commune"
          ) -> list[AreaFigures]:
    """Each commune's (or each hamlet's) figures for `month`, within `commune` when given
    (a commune official's scope): every registered hamlet, zero where nothing was recorded."""
    Period.month(month)  # refuses anything but YYYY-MM
    places = _hamlets(conn, commune)
    where, params = _where_hamlets(commune, None)
    base = {row[0]: [int(v) for v in row[1:]] for row in conn.execute(
        "SELECT f.hamlet_id, f.visits, f.households_reached, f.people_helped, "
        f"f.followups_overdue FROM figures_hamlet f WHERE f.month = ?{where}",
        [month, *params])}
    counts: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for hamlet_id, code, reached, counted in conn.execute(
            "SELECT f.hamlet_id, f.code, f.reached, f.counted FROM figures_indicators f "
            f"WHERE f.month = ?{where}", [month, *params]):
        counts[hamlet_id][code] = (int(reached), int(counted))
    catalog = _catalog_rows(conn, "indicators", commune, None)
    published = _published_targets(conn)
    population = _population(conn, [p.id for p in places])
    presence = _team_presence(conn, commune)
    groups: dict[str, list[_Hamlet]] = defaultdict(list)
    for place in places:
        groups[place.id if level == "hamlet" else str(place.commune_code)].append(place)
    result = []
    for key, members in groups.items():
        first = members[0]
        name = first.name if level == "hamlet" else _commune_name(first.province_code,
                                                                   first.commune_code)
        totals = [sum(base.get(m.id, [0, 0, 0, 0])[i] for m in members) for i in range(4)]
        seen = [presence.get(m.id, (0, None)) for m in members]
        # A commune team covers every hamlet of its commune: counted once per commune.
        teams = (sum(t[0] for t in seen) if level == "hamlet"
                 else _teams_in_commune(conn, first.commune_code))
        last = max((s[1] for s in seen if s[1]), default=None)
        indicators = _indicator_figures(members, counts, catalog, published, population,
                                        level)
        result.append(AreaFigures(key, name, first.commune_code, totals[0], totals[1],
                                  totals[2], totals[3], indicators, teams, last))
    return result


def _teams_in_commune(conn: Conn, commune: int) -> int:
    return int(conn.scalar("SELECT count(*) FROM teams WHERE commune_code = ?", (commune,)))


def _indicator_figures(members: Sequence[_Hamlet], counts: Mapping[str, Mapping[str, tuple[
        int, int]]], catalog: Mapping[str, Mapping[str, list[Any]]],
        published: Mapping[str, float | None],
        population: Mapping[str, tuple[int | None, int | None]], level: Level
        ) -> tuple[IndicatorFigure, ...]:
    ids = [m.id for m in members]
    rows = []
    for code, by_hamlet in catalog.items():
        mine = [by_hamlet[i] for i in ids if i in by_hamlet]
        if not mine or not any(r[5] for r in mine):
            continue
        first = next(r for r in mine if r[5])
        reached = sum(counts.get(i, {}).get(code, (0, 0))[0] for i in ids)
        counted = sum(counts.get(i, {}).get(code, (0, 0))[1] for i in ids)
        if level == "hamlet":
            target = first[3]
        else:
            target = published.get(code)
            if target is None:
                targets = {r[3] for r in mine}
                target = targets.pop() if len(targets) == 1 else None
        adult = (first[2] or 0) >= 18
        known = [population.get(i, (None, None))[1 if adult else 0] for i in ids]
        people = None if not known or any(p is None for p in known) else sum(
            int(p) for p in known if p is not None)
        share = reached / counted if counted else 0.0
        rows.append((first[4], code, IndicatorFigure(
            code, first[0], first[1], reached, counted, round(share, 4), people,
            round(reached / people, 4) if people else None, target,
            None if target is None else share >= target)))
    return tuple(r[2] for r in sorted(rows, key=lambda r: (r[0], r[1])))


def trend(conn: Conn, *, commune: int | None, hamlet: str | None = None, months: int = 12
          ) -> list[MonthFigures]:
    """The last `months` months up to the newest with data, oldest first: activity and each
    indicator's share at the month's end, summed over the scope."""
    known = _months_with_data(conn)
    if not known or months < 1:
        return []
    newest = known[0]
    wanted = _month_range(_shift(newest, -(months - 1)), newest)
    where, params = _where_hamlets(commune, hamlet)
    marks = ", ".join("?" * len(wanted))
    base: dict[str, list[int]] = {m: [0, 0, 0] for m in wanted}
    for row in conn.execute(
            "SELECT f.month, sum(f.visits), sum(f.households_reached), sum(f.people_helped) "
            f"FROM figures_hamlet f WHERE f.month IN ({marks}){where} GROUP BY f.month",
            [*wanted, *params]):
        base[row[0]] = [int(row[1] or 0), int(row[2] or 0), int(row[3] or 0)]
    shares: dict[str, dict[str, float]] = defaultdict(dict)
    counts: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    active = {code for code, by in _catalog_rows(conn, "indicators", commune, hamlet).items()
              if any(r[5] for r in by.values())}
    for row in conn.execute(
            "SELECT f.month, f.code, sum(f.reached), sum(f.counted) FROM figures_indicators f "
            f"WHERE f.month IN ({marks}){where} GROUP BY f.month, f.code",
            [*wanted, *params]):
        if row[1] in active:
            reached, counted = int(row[2] or 0), int(row[3] or 0)
            shares[row[0]][row[1]] = round(reached / counted, 4) if counted else 0.0
            counts[row[0]][row[1]] = (reached, counted)
    return [MonthFigures(m, base[m][0], base[m][1], base[m][2], dict(sorted(shares[m].items())),
                         dict(sorted(counts[m].items()))) for m in wanted]


def items(conn: Conn, month: str, *, commune: int | None, hamlet: str | None = None
          ) -> list[ItemFigure]:
    """Outcomes per support item of the month's visits in the scope: every active item, and
    any retired one that occurs (as the monthly report)."""
    Period.month(month)
    where, params = _where_hamlets(commune, hamlet)
    counts = {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in conn.execute(
        "SELECT f.code, sum(f.done), sum(f.partly), sum(f.not_done) FROM figures_items f "
        f"WHERE f.month = ?{where} GROUP BY f.code", [month, *params])}
    rows = []
    for code, by_hamlet in _catalog_rows(conn, "support_items", commune, hamlet).items():
        listed = list(by_hamlet.values())
        first = next((r for r in listed if r[5]), listed[0])
        if not any(r[5] for r in listed) and code not in counts:
            continue
        done, partly, not_done = counts.get(code, (0, 0, 0))
        rows.append((first[4], code, ItemFigure(code, first[0], first[1], done, partly,
                                                not_done)))
    return [r[2] for r in sorted(rows, key=lambda r: (r[0], r[1]))]


@dataclass(frozen=True)
class _Team:
    id: str
    name: str
    commune_code: int


def _teams(conn: Conn, commune: int | None) -> list[_Team]:
    sql = "SELECT id, province_code, commune_code, hamlet, kind FROM teams"
    params: list[Any] = []
    if commune is not None:
        sql += " WHERE commune_code = ?"
        params.append(int(commune))
    found = []
    for row in conn.execute(sql + " ORDER BY commune_code, hamlet, id", params):
        name = row[3] if row[4] == "hamlet" and row[3] else _commune_name(int(row[1]),
                                                                         int(row[2]))
        found.append(_Team(row[0], name, int(row[2])))
    return found


def team_work(conn: Conn, month: str, *, commune: int | None) -> list[TeamFigures]:
    """Each team's classes, certificates, lots, labels and diary in `month`."""
    Period.month(month)
    teams = _teams(conn, commune)
    where = "" if commune is None else \
        " AND f.team_id IN (SELECT id FROM teams WHERE commune_code = ?)"
    params: list[Any] = [month] + ([] if commune is None else [int(commune)])
    values = {row[0]: [int(v) for v in row[1:]] for row in conn.execute(
        f"SELECT f.team_id, {', '.join('f.' + name for name in TEAM_FIGURES)} "
        f"FROM figures_team f WHERE f.month = ?{where}", params)}
    return [TeamFigures(t.id, t.name, t.commune_code,
                        *values.get(t.id, [0] * len(TEAM_FIGURES))) for t in teams]


def sync_status(conn: Conn, *, commune: int | None, days: int,
                now: dt.datetime | None = None) -> list[TeamSync]:
    """The teams none of whose devices has synced in the last `days` days (all teams for
    days=0), the longest silent first."""
    moment = now or dt.datetime.now(dt.UTC)
    last = {row[0]: row[1] for row in conn.execute(
        "SELECT team_id, max(last_seen_at) FROM devices WHERE revoked_at IS NULL "
        "GROUP BY team_id")}
    found = []
    for team in _teams(conn, commune):
        seen = last.get(team.id)
        since = None if seen is None else max(
            0, (moment - dt.datetime.fromisoformat(seen)).days)
        if since is None or since >= days:
            found.append(TeamSync(team.id, team.name, team.commune_code, seen, since))
    return sorted(found, key=lambda t: (t.days_since is not None, -(t.days_since or 0),
                                        t.commune_code, t.name))


def freshness(conn: Conn) -> Freshness:
    pending = int(conn.scalar("SELECT count(*) FROM figures_dirty"))
    row = conn.execute("SELECT value FROM figures_state WHERE name = 'refreshed_at'"
                       ).fetchone()
    return Freshness(row[0] if row else None, pending)


# -- months ----------------------------------------------------------------------------------
def _shift(month: str, by: int) -> str:
    year, number = int(month[:4]), int(month[5:7]) - 1 + by
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def _month_range(first: str, last: str) -> list[str]:
    found = []
    current = first
    while current <= last:
        found.append(current)
        current = _shift(current, 1)
    return found


# -- the catalogue as a team's laptops have it -----------------------------------------------
def _shipped(table: str) -> Iterable[tuple[str, str, Mapping[str, Any]]]:
    if table in CATALOG_TABLES:
        return shipped_catalog()
    return farm_registry.shipped_rows()


def _merged_rows(conn: Conn, table: str, scopes: Sequence[str]) -> dict[str, dict[str, Any]]:
    """row id -> fields of `table` merged per field by clock over the shipped rows and the
    stored rows of `scopes` (published "*", teams' own copies): as a laptop merges them."""
    values: dict[str, dict[str, Any]] = {}
    clocks: dict[str, dict[str, str]] = {}
    for name, row_id, shipped in _shipped(table):
        if name == table:
            values[row_id] = {**shipped, "deleted": 0}
            clocks[row_id] = dict.fromkeys(values[row_id], SHIPPED_CLOCK)
    marks = ", ".join("?" * len(scopes))
    for row in conn.execute(
            f"SELECT row_id, fields, clocks FROM records WHERE area IN ({marks}) AND "
            "table_name = ?", [*scopes, table]):
        fields, stamps = json.loads(row[1]), json.loads(row[2] or "{}")
        mine, when = values.setdefault(row[0], {}), clocks.setdefault(row[0], {})
        for name, value in fields.items():
            stamp = stamps.get(name, "")
            if name not in when or stamp > when[name]:
                mine[name], when[name] = value, stamp
    return values


@dataclass(frozen=True)
class _Entry:
    table: str
    code: str
    name_vi: str
    name_en: str
    min_age: int | None
    target: float | None
    sort_order: int
    active: bool
    indicator_code: str | None


def _hamlet_catalog(conn: Conn, hamlet_id: str) -> list[_Entry]:
    teams = [row[0] for row in conn.execute(
        "SELECT team_id FROM team_hamlets WHERE hamlet_id = ? ORDER BY team_id", (hamlet_id,))]
    entries = []
    for table in CATALOG_TABLES:
        for fields in _merged_rows(conn, table, [PUBLISHED_SCOPE, *teams]).values():
            if fields.get("deleted") or not fields.get("code"):
                continue
            entries.append(_Entry(
                table, str(fields["code"]), str(fields.get("name_vi") or ""),
                str(fields.get("name_en") or ""), fields.get("min_age"), fields.get("target"),
                int(fields.get("sort_order") or 0), bool(fields.get("active")),
                fields.get("indicator_code")))
    return entries


# -- computing a hamlet's figures ------------------------------------------------------------
@dataclass(frozen=True)
class _Visit:
    id: str
    household_id: str
    kind: str
    corrects: str | None
    visited_at: str
    follow_up_on: str | None
    created_at: str


@dataclass
class HamletRollup:
    """A hamlet's figures for every month from the floor (or its first event) on."""

    hamlet_id: str
    catalog: list[_Entry]
    base: dict[str, tuple[int, int, int, int]]  # month -> visits, households, helped, overdue
    items: dict[str, dict[str, tuple[int, int, int]]]  # month -> code -> outcomes
    indicators: dict[str, dict[str, tuple[int, int]]]  # month -> code -> reached, counted
    first: str | None  # the month of its first event


def _records(conn: Conn, area: str, scope: str, tables: Sequence[str]
             ) -> dict[str, list[tuple[str, dict[str, Any], str | None]]]:
    found: dict[str, list[tuple[str, dict[str, Any], str | None]]] = defaultdict(list)
    for row in conn.execute(
            "SELECT table_name, row_id, fields, created_at FROM records WHERE area = ? AND "
            f"team_id = ? AND table_name IN ({', '.join('?' * len(tables))})",
            [area, scope, *tables]):
        found[row[0]].append((row[1], json.loads(row[2]), row[3]))
    return found


def compute_hamlet(conn: Conn, hamlet_id: str, horizon: str, floor: str | None = None
                   ) -> HamletRollup:
    """A hamlet's figures from its stored records, by the monthly report's rules, for every
    month from `floor` (or its first event) to `horizon` (or its last event)."""
    catalog = _hamlet_catalog(conn, hamlet_id)
    rows = _records(conn, hamlet_id, SHARED_SCOPE, HAMLET_TABLES)
    present_households = {rid for rid, f, _c in rows["households"] if not f.get("deleted")}
    visits = [_Visit(rid, str(f["household_id"]), str(f["kind"]), f.get("corrects"),
                     str(f["visited_at"]), f.get("follow_up_on"), str(created or ""))
              for rid, f, created in rows["visits"]]
    by_id = {v.id: v for v in visits}
    # A visit is in force at a cut-off c when it is no void, it is known (an original always;
    # a correction once recorded before c), and no correction naming it is known at c.
    until: dict[str, str] = {}
    for v in visits:
        if v.corrects:
            stamp = "" if v.kind == "visit" else v.created_at
            until[v.corrects] = min(until.get(v.corrects, stamp), stamp)

    def in_force(v: _Visit, cutoff: str) -> bool:
        if v.kind == "void" or (v.kind != "visit" and v.created_at >= cutoff):
            return False
        corrected = until.get(v.id)
        return corrected is None or corrected >= cutoff

    items_of: dict[str, list[tuple[str | None, str, str]]] = defaultdict(list)
    for _rid, f, _c in rows["visit_items"]:
        items_of[str(f["visit_id"])].append((f.get("person_id"), str(f["support_item_code"]),
                                             str(f["outcome"])))
    establishes = {e.code: str(e.indicator_code) for e in catalog
                   if e.table == "support_items" and e.indicator_code}
    # Indicator events, sorted as the report orders them: (day, created, id).
    events: list[tuple[str, str, str, str, str, int, _Visit | None]] = []
    for rid, f, created in rows["indicator_answers"]:
        events.append((str(f["answered_on"]), str(created or ""), rid, str(f["person_id"]),
                       str(f["indicator_code"]), int(f["value"]), None))
    for v in visits:
        for person, code, outcome in items_of.get(v.id, ()):
            if outcome == "done" and person is not None and code in establishes:
                events.append((v.visited_at[:10], v.created_at, v.id + ":" + code, person,
                               establishes[code], 1, v))
    events.sort(key=lambda e: e[:3])
    people = [(rid, f.get("birth_year")) for rid, f, _c in rows["people"]
              if not f.get("deleted") and str(f.get("household_id")) in present_households]
    closures = [(rid, str(f["visit_id"]), str(f["kind"]), f.get("corrects"), str(created or ""))
                for rid, f, created in rows["follow_up_closures"]]
    indicators = [e for e in catalog if e.table == "indicators" and e.active]
    used = {v.visited_at[:7] for v in visits} | {e[0][:7] for e in events}
    first = min(used | {horizon} | ({floor} if floor else set()))
    last = max(used | {horizon})
    by_month: dict[str, list[_Visit]] = defaultdict(list)
    for v in visits:
        by_month[v.visited_at[:7]].append(v)
    rollup = HamletRollup(hamlet_id, catalog, {}, {}, {}, min(used, default=None))
    of_age: dict[tuple[int, int], set[str]] = {}
    for month in _month_range(first, last):
        period = Period.month(month)
        cutoff, start, end = period.cutoff, period.start.isoformat(), period.end.isoformat()
        mine = [v for v in by_month.get(month, ()) if in_force(v, cutoff)
                and start <= v.visited_at[:10] <= end]
        outcomes: Counter[tuple[str, str]] = Counter()
        helped: set[str] = set()
        for v in mine:
            for person, code, outcome in items_of.get(v.id, ()):
                outcomes[(code, outcome)] += 1
                if person is not None and outcome in ("done", "partly"):
                    helped.add(person)
        overdue = _overdue(visits, by_id, present_households, closures, cutoff, end, in_force)
        rollup.base[month] = (len(mine), len({v.household_id for v in mine}), len(helped),
                              overdue)
        codes = sorted({code for code, _o in outcomes})
        rollup.items[month] = {code: (outcomes[(code, "done")], outcomes[(code, "partly")],
                                      outcomes[(code, "not_done")]) for code in codes}
        latest: dict[tuple[str, str], int] = {}
        for day, _created, _id, person, code, value, visit in events:
            if day > end:
                break
            if visit is not None and not in_force(visit, cutoff):
                continue
            latest[(person, code)] = value
        year = period.end.year
        yes: dict[str, set[str]] = defaultdict(set)
        for (person, code), value in latest.items():
            if value == 1:
                yes[code].add(person)
        counted_rows: dict[str, tuple[int, int]] = {}
        for indicator in indicators:
            age = (indicator.min_age or 0, year)
            if age not in of_age:  # the register of that age, by birth year
                of_age[age] = {pid for pid, born in people
                               if born is None or born <= year - age[0]}
            counted_rows[indicator.code] = (len(yes.get(indicator.code, set()) & of_age[age]),
                                            len(of_age[age]))
        rollup.indicators[month] = counted_rows
    return rollup


def _overdue(visits: Sequence[_Visit], by_id: Mapping[str, _Visit], present: set[str],
             closures: Sequence[tuple[str, str, str, Any, str]], cutoff: str, end: str,
             in_force: Callable[[_Visit, str], bool]) -> int:
    latest: dict[str, _Visit] = {}
    for v in visits:
        if v.visited_at[:10] > end or v.household_id not in present or not in_force(v, cutoff):
            continue
        known = latest.get(v.household_id)
        if known is None or (v.visited_at, v.created_at) > (known.visited_at, known.created_at):
            latest[v.household_id] = v
    overdue = [v for v in latest.values() if v.follow_up_on and v.follow_up_on < end]
    if not overdue:
        return 0
    known_closures = [c for c in closures if c[4] < cutoff]
    reopened = {c[3] for c in known_closures if c[2] == "reopen"}
    closed = {c[1] for c in known_closures if c[2] == "close" and c[0] not in reopened}
    count = 0
    for v in overdue:
        chain, current = set(), v
        while True:
            chain.add(current.id)
            if current.corrects is None or current.corrects not in by_id:
                break
            current = by_id[current.corrects]
        if not chain & closed:
            count += 1
    return count


# -- computing a team's figures --------------------------------------------------------------
def compute_team(conn: Conn, team_id: str, horizon: str) -> dict[str, tuple[int, ...]]:
    """month -> the team's figures (TEAM_FIGURES order), from its first event to `horizon`
    (or its last event)."""
    rows = _records(conn, team_id, team_id, TEAM_TABLES)
    classes = {rid: f for rid, f, _c in rows["classes"] if not f.get("deleted")}
    lesson_events = [progress.Event(
        rid, str(f["person_id"]), str(f["kind"]), str(f["on_date"]), f.get("lesson_id"),
        f.get("skill_id"), f.get("correct"), f.get("total"), f.get("corrects"),
        str(created or ""), "") for rid, f, created in rows["lesson_events"]
        if str(f["class_id"]) in classes]
    class_of = {rid: str(f["class_id"]) for rid, f, _c in rows["lesson_events"]}
    certificates = [f for _rid, f, _c in rows["certificates"] if not f.get("deleted")]
    farm = _Farm(conn, team_id, rows)
    lots = farm.lots
    learners = _Learners(conn, classes, rows) if rows["class_learners"] else None
    prints = [f for _rid, f, _c in rows["label_prints"]]
    entries = [(rid, f, str(created or "")) for rid, f, created in rows["diary_entries"]]
    days = ([e.on_date for e in lesson_events] + [str(c["issued_on"]) for c in certificates]
            + [str(c.get("revoked_on") or c["issued_on"]) for c in certificates]
            + [str(lot["pack_date"]) for lot in lots.values()]
            + [str(p["printed_at"]) for p in prints]
            + [str(f["on_date"]) for _r, f, _c in entries])
    used = {day[:7] for day in days}
    if not used:
        return {}
    result: dict[str, tuple[int, ...]] = {}
    for month in _month_range(min(used | {horizon}), max(used | {horizon})):
        period = Period.month(month)
        cutoff, start, end = period.cutoff, period.start.isoformat(), period.end.isoformat()
        known = [e for e in lesson_events if (e.corrects is None and e.kind != "void")
                 or e.created_at < cutoff]
        sessions = {(class_of[e.id], e.on_date) for e in progress.effective(known)
                    if e.kind in ("present", "absent") and start <= e.on_date <= end}
        issued = sum(1 for c in certificates if start <= str(c["issued_on"]) <= end)
        revoked = sum(1 for c in certificates if c.get("revoked")
                      and start <= str(c.get("revoked_on") or "") <= end)
        labels = sum(int(p["copies"]) for p in prints if start <= str(p["printed_at"])[:10] <= end)
        diary = _diary_entries(entries, cutoff, start, end)
        packed = [lot_id for lot_id, lot in lots.items()
                  if start <= str(lot["pack_date"]) <= end]
        compliant = sum(1 for lot_id in packed if farm.compliant(lot_id))
        completed = learners.completed(period) if learners is not None else 0
        result[month] = (len(sessions), completed, issued, revoked, compliant,
                         len(packed) - compliant, labels, diary)
    return result


def _json_list(value: Any) -> list[Any]:
    found = json.loads(value) if isinstance(value, str) else value
    return list(found or [])


class _Farm:
    """A team's lots checked as its laptops check them (farm/lots.py `_status`): another
    lot with the same code, a voided harvest, or a violation of the pesticide rules
    (farm/compliance.py) on the harvests' plots and seasons, by the diary as it is now."""

    def __init__(self, conn: Conn, team_id: str,
                 rows: Mapping[str, list[tuple[str, dict[str, Any], str | None]]]):
        self.conn, self.team_id = conn, team_id
        self.lots = {rid: f for rid, f, _c in rows["lots"] if not f.get("deleted")}
        self.harvests: dict[str, list[str]] = defaultdict(list)
        for _rid, f, _c in rows["lot_harvests"]:
            self.harvests[str(f["lot_id"])].append(str(f["entry_id"]))
        self.entries = {rid: (f, str(created or "")) for rid, f, created in rows["diary_entries"]}
        self.corrections: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for rid, (f, created) in self.entries.items():
            if f.get("corrects"):
                self.corrections[str(f["corrects"])].append((created, rid))
        self.codes = Counter(str(f["code"]) for f in self.lots.values())
        self._products: dict[str, Product] | None = None
        self._bans: list[Ban] | None = None

    def registry(self) -> tuple[dict[str, Product], list[Ban]]:
        if self._products is None or self._bans is None:
            scopes = [PUBLISHED_SCOPE, self.team_id]
            self._products = {}
            for row_id, f in _merged_rows(self.conn, "pesticide_products", scopes).items():
                if f.get("name") is not None and not f.get("deleted"):
                    phi = f.get("phi_days")
                    self._products[row_id] = Product(
                        id=row_id, name=str(f["name"]),
                        active_ingredients=tuple(_json_list(f.get("active_ingredients"))),
                        phi_days=dict(json.loads(phi) if isinstance(phi, str) else phi or {}),
                        formulation=str(f.get("formulation") or ""),
                        registrant=str(f.get("registrant") or ""),
                        source=f.get("source") or "cooperative",
                        kind=str(f.get("kind") or ""))
            self._bans = sorted(
                (Ban(str(f["ingredient"]), dt.date.fromisoformat(str(f["effective_on"])),
                     str(f.get("reference") or ""))
                 for f in _merged_rows(self.conn, "pesticide_bans", scopes).values()
                 if f.get("ingredient") and f.get("effective_on") and not f.get("deleted")),
                key=lambda b: (b.effective_on, b.ingredient))
        return self._products, self._bans

    def current(self, entry_id: str) -> dict[str, Any] | None:
        """The entry as it stands now: its latest correction, or None if voided."""
        if entry_id not in self.entries:
            return None
        current = entry_id
        while self.corrections.get(current):
            current = max(self.corrections[current])[1]
        fields = self.entries[current][0]
        return None if fields.get("action") == "void" else {**fields, "id": current}

    def effective(self, plot_id: str, season_id: str, up_to: str) -> list[dict[str, Any]]:
        return [{**f, "id": rid} for rid, (f, _c) in self.entries.items()
                if f.get("action") != "void" and rid not in self.corrections
                and f.get("plot_id") == plot_id and f.get("season_id") == season_id
                and f.get("kind") == "pesticide" and str(f["on_date"]) <= up_to]

    def compliant(self, lot_id: str) -> bool:
        lot = self.lots[lot_id]
        if self.codes[str(lot["code"])] > 1:
            return False
        harvests: dict[tuple[str, str], list[dt.date]] = defaultdict(list)
        for entry_id in self.harvests.get(lot_id, ()):
            current = self.current(entry_id)
            if current is None:
                return False  # a harvest voided in the diary
            harvests[(str(current["plot_id"]), str(current["season_id"]))].append(
                dt.date.fromisoformat(str(current["on_date"])))
        products, bans = self.registry()
        crop = str(lot["crop"])
        for (plot_id, season_id), days in harvests.items():
            applications = [compliance.Application(
                str(e["id"]), dt.date.fromisoformat(str(e["on_date"])),
                products.get(str(e.get("product_id") or "")),
                tuple(_json_list(e.get("active_ingredients"))), crop,
                str(e.get("product_name") or ""))
                for e in self.effective(plot_id, season_id, max(days).isoformat())]
            if not compliance.is_compliant(compliance.lot_findings(crop, days, applications,
                                                                   bans)):
                return False
        return True


_PACKS: dict[tuple[str, str], CoursePack | None] = {}
_PACKS_LOCK = threading.Lock()


def _pack(conn: Conn, course_id: str, version: str) -> CoursePack | None:
    """A class's course pack as its laptops have it: the one the province published on
    the hub, or the one every install ships; None when the hub has neither."""
    key = (course_id, version)
    with _PACKS_LOCK:
        if key in _PACKS:
            return _PACKS[key]
    found: CoursePack | None = None
    chunks = [bytes(row[0]) for row in conn.execute(
        "SELECT data FROM course_pack_chunks WHERE course_id = ? AND version = ? ORDER BY n",
        (course_id, version))]
    try:
        if chunks:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "pack.zip"
                path.write_bytes(b"".join(chunks))
                found = read_pack(path)
        else:
            shipped = read_pack(library.shipped_folder())
            found = shipped if (shipped.id, shipped.version) == key else None
    except DxError:
        found = None
    with _PACKS_LOCK:
        _PACKS[key] = found
    return found


class _Learners:
    """The team's learners who completed their course in a period (monthly.py's rule)."""

    def __init__(self, conn: Conn, classes: Mapping[str, Mapping[str, Any]],
                 rows: Mapping[str, list[tuple[str, dict[str, Any], str | None]]]):
        self.enrolled: dict[str, dict[str, str]] = defaultdict(dict)
        for _rid, f, _c in rows["class_learners"]:
            if not f.get("deleted") and str(f["class_id"]) in classes:
                self.enrolled[str(f["class_id"])][str(f["person_id"])] = str(f["enrolled_on"])
        self.events: dict[str, list[progress.Event]] = defaultdict(list)
        for rid, f, created in rows["lesson_events"]:
            self.events[str(f["class_id"])].append(progress.Event(
                rid, str(f["person_id"]), str(f["kind"]), str(f["on_date"]),
                f.get("lesson_id"), f.get("skill_id"), f.get("correct"), f.get("total"),
                f.get("corrects"), str(created or ""), ""))
        self.packs = {class_id: _pack(conn, str(f["course_id"]), str(f["course_version"]))
                      for class_id, f in classes.items() if class_id in self.enrolled}

    def completed(self, period: Period) -> int:
        before = period.start - dt.timedelta(days=1)
        total = 0
        for class_id, enrolled in self.enrolled.items():
            pack = self.packs.get(class_id)
            if pack is None:
                continue
            events = self.events.get(class_id, [])
            at_end = _completed(pack, events, enrolled, period.end, period.cutoff)
            at_start = _completed(pack, events, enrolled, before, _stamp(period.start))
            total += len(at_end - at_start)
        return total


def _diary_entries(entries: Sequence[tuple[str, dict[str, Any], str]], cutoff: str,
                   start: str, end: str) -> int:
    """Diary entries of the period in force at the cut-off (an amendment recorded in time
    counts as the entry it replaces; a void removes it)."""
    known = [(rid, f) for rid, f, created in entries
             if f.get("action") == "record" or created < cutoff]
    corrected = {f.get("corrects") for _rid, f in known if f.get("corrects")}
    return sum(1 for rid, f in known if f.get("action") != "void" and rid not in corrected
               and start <= str(f["on_date"]) <= end)


# -- refreshing ------------------------------------------------------------------------------
def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def current_month(now: dt.datetime | None = None) -> str:
    """The hub's current month, by the local calendar the cut-offs use."""
    moment = (now or _now()).astimezone()
    return f"{moment.year:04d}-{moment.month:02d}"


def _catalog_mark(conn: Conn) -> str:
    row = conn.execute("SELECT max(seq) FROM records WHERE area = ? AND table_name IN (?, ?)",
                       (PUBLISHED_SCOPE, *CATALOG_TABLES)).fetchone()
    return str(row[0] or 0)


def _state(conn: Conn, name: str) -> str | None:
    row = conn.execute("SELECT value FROM figures_state WHERE name = ?", (name,)).fetchone()
    return None if row is None else str(row[0])


def _set_state(conn: Conn, name: str, value: str) -> None:
    conn.execute("INSERT INTO figures_state (name, value) VALUES (?, ?) ON CONFLICT (name) "
                 "DO UPDATE SET value = excluded.value", (name, value))


# The day each table's events name, for the month the figures start from (`floor`).
EVENT_DAYS = (("visits", "visited_at"), ("indicator_answers", "answered_on"),
              ("lesson_events", "on_date"), ("certificates", "issued_on"),
              ("lots", "pack_date"), ("label_prints", "printed_at"),
              ("diary_entries", "on_date"))


def _scan_floor(conn: Conn) -> str:
    """The month of the earliest event the hub holds (the current month if none): every
    hamlet's rows start there, so each month with data has a row for every hamlet."""
    found = []
    for table, name in EVENT_DAYS:
        day = (f"((fields::json) ->> '{name}')" if conn.postgres
               else f"json_extract(fields, '$.{name}')")
        row = conn.execute(f"SELECT min(substr({day}, 1, 7)) FROM records WHERE "
                           "table_name = ?", (table,)).fetchone()
        if row is not None and row[0]:
            found.append(str(row[0]))
    return min(found, default="")


def _check_horizon(database: HubDatabase, now: dt.datetime) -> None:
    """A new month, or a new publication of the catalogue: every figure is due again."""
    month, mark = current_month(now), _catalog_mark(database.conn)
    conn = database.conn
    if (_state(conn, "horizon") == month and _state(conn, "catalog") == mark
            and _state(conn, "floor") is not None):
        return
    with database.write() as conn:
        if _state(conn, "floor") is None:
            _set_state(conn, "floor", _scan_floor(conn) or month)
        if _state(conn, "horizon") != month or _state(conn, "catalog") != _catalog_mark(conn):
            mark_everything(conn)
            _set_state(conn, "horizon", month)
            _set_state(conn, "catalog", _catalog_mark(conn))


def _unseen_hamlets(conn: Conn) -> list[str]:
    """Hamlets registered since (`hub team add`, a commune team's new hamlet) that no
    refresh has computed yet: every computed hamlet has its catalogue rows."""
    return [row[0] for row in conn.execute(
        "SELECT h.id FROM hamlets h WHERE NOT EXISTS (SELECT 1 FROM figures_catalog f "
        "WHERE f.hamlet_id = h.id) AND NOT EXISTS (SELECT 1 FROM figures_dirty d WHERE "
        "d.kind = 'hamlet' AND d.key = h.id)")]


def _lower_floor(conn: Conn, first: str | None) -> None:
    """Within the write of a refresh: an event earlier than every hamlet's first month
    moves the start of every hamlet's rows back, so all of them are due again."""
    floor = _state(conn, "floor")
    if first and floor and first < floor:
        _set_state(conn, "floor", first)
        mark_everything(conn)


@dataclass(frozen=True)
class RefreshResult:
    done: int  # hamlets and teams recomputed
    left: int  # still dirty


def refresh(database: HubDatabase, *, seconds: float | None = None,
            now: Callable[[], dt.datetime] = _now,
            step: Callable[[int, int], None] | None = None) -> RefreshResult:
    """Recompute the dirty hamlets and teams, oldest mark first, until none is left or
    `seconds` have passed; `step(done, total)` after each."""
    started = time.monotonic()
    moment = now()
    _check_horizon(database, moment)
    if _unseen_hamlets(database.conn):
        with database.write() as conn:
            mark_dirty(conn, hamlets=_unseen_hamlets(conn), marked=int(conn.scalar(
                "SELECT value FROM counters WHERE name = 'seq'")))
    horizon = current_month(moment)
    total = int(database.conn.scalar("SELECT count(*) FROM figures_dirty"))
    done = 0
    while seconds is None or time.monotonic() - started < seconds:
        batch = database.conn.execute(
            "SELECT kind, key, marked FROM figures_dirty ORDER BY marked, kind, key LIMIT 20"
        ).fetchall()
        if not batch:
            break
        for kind, key, marked in batch:
            floor = _state(database.conn, "floor") or horizon
            if kind == "hamlet":
                _refresh_hamlet(database, key, int(marked), horizon, floor)
            else:
                _refresh_team(database, key, int(marked), horizon)
            done += 1
            if step is not None:
                step(done, max(total, done))
            if seconds is not None and time.monotonic() - started >= seconds:
                break
    with database.write() as conn:
        _set_state(conn, "refreshed_at", moment.astimezone(dt.UTC).isoformat(
            timespec="seconds"))
    left = int(database.conn.scalar("SELECT count(*) FROM figures_dirty"))
    return RefreshResult(done, left)


def _take(conn: Conn, kind: str, key: str, marked: int) -> bool:
    """Within the write of a refresh: clear the mark this refresh read, if it is still
    there. If not, another refresh (the hub's thread, a read) already wrote figures at least
    as new, or a later push marked it again (it will be computed again): either way these
    figures, computed from an older snapshot, must not be written."""
    done = conn.execute("DELETE FROM figures_dirty WHERE kind = ? AND key = ? AND marked = ?",
                        (kind, key, marked))
    return bool(done.rowcount)


def _refresh_hamlet(database: HubDatabase, hamlet_id: str, marked: int, horizon: str,
                    floor: str) -> None:
    with database.snapshot() as conn:
        registered = conn.execute("SELECT 1 FROM hamlets WHERE id = ?", (hamlet_id,)
                                  ).fetchone() is not None
        rollup = compute_hamlet(conn, hamlet_id, horizon, floor) if registered else None
    with database.write() as conn:
        if not _take(conn, "hamlet", hamlet_id, marked):
            return
        _lower_floor(conn, rollup.first if rollup else None)
        for table in ("figures_hamlet", "figures_items", "figures_indicators",
                      "figures_catalog"):
            conn.execute(f"DELETE FROM {table} WHERE hamlet_id = ?", (hamlet_id,))
        if rollup is not None:
            _write_hamlet(conn, rollup)


def _write_hamlet(conn: Conn, rollup: HamletRollup) -> None:
    hid = rollup.hamlet_id
    conn.executemany(
        "INSERT INTO figures_hamlet (hamlet_id, month, visits, households_reached, "
        "people_helped, followups_overdue) VALUES (?, ?, ?, ?, ?, ?)",
        [(hid, month, *values) for month, values in rollup.base.items()])
    conn.executemany(
        "INSERT INTO figures_items (hamlet_id, month, code, done, partly, not_done) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(hid, month, code, *values) for month, codes in rollup.items.items()
         for code, values in codes.items()])
    conn.executemany(
        "INSERT INTO figures_indicators (hamlet_id, month, code, reached, counted) "
        "VALUES (?, ?, ?, ?, ?)",
        [(hid, month, code, *values) for month, codes in rollup.indicators.items()
         for code, values in codes.items()])
    seen: set[tuple[str, str]] = set()
    rows = []
    for e in rollup.catalog:
        if (e.table, e.code) not in seen:  # two rows of one code: the first, as listed
            seen.add((e.table, e.code))
            rows.append((hid, e.table, e.code, e.name_vi, e.name_en, e.min_age, e.target,
                         e.sort_order, int(e.active)))
    conn.executemany(
        "INSERT INTO figures_catalog (hamlet_id, table_name, code, name_vi, name_en, min_age, "
        "target, sort_order, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _refresh_team(database: HubDatabase, team_id: str, marked: int, horizon: str) -> None:
    with database.snapshot() as conn:
        figures = compute_team(conn, team_id, horizon)
    with database.write() as conn:
        if not _take(conn, "team", team_id, marked):
            return
        _lower_floor(conn, min(figures, default=None))
        conn.execute("DELETE FROM figures_team WHERE team_id = ?", (team_id,))
        conn.executemany(
            f"INSERT INTO figures_team (team_id, month, {', '.join(TEAM_FIGURES)}) VALUES "
            f"(?, ?, {', '.join('?' * len(TEAM_FIGURES))})",
            [(team_id, month, *values) for month, values in figures.items()])


def rebuild(database: HubDatabase, *, now: Callable[[], dt.datetime] = _now,
            step: Callable[[int, int], None] | None = None) -> RefreshResult:
    """Every hamlet and team recomputed (for existing hubs, or to check the rollup)."""
    with database.write() as conn:
        mark_everything(conn)
    return refresh(database, now=now, step=step)


def ensure_fresh(database: HubDatabase, seconds: float = 0.5,
                 now: Callable[[], dt.datetime] = _now) -> Freshness:
    """Before a read: refresh what is dirty for at most `seconds`; what is left is said."""
    conn = database.conn
    if conn.execute("SELECT 1 FROM figures_dirty LIMIT 1").fetchone() is not None or \
            _state(conn, "horizon") != current_month(now()) or _unseen_hamlets(conn):
        refresh(database, seconds=seconds, now=now)
    return freshness(database.conn)


class Refresher:
    """Runs `refresh` in a thread of its own after pushes, while anything is dirty; the
    thread ends when nothing is left (a push starts it again).

    A laptop's sync pushes in batches of a few hundred records, seconds apart: the thread
    waits until pushes pause for SETTLE_SECONDS (at most MAX_DELAY_SECONDS after the first),
    so a hamlet is recomputed once per sync rather than once per batch, and the refresh does
    not compete with the pushes for the hub's CPU. A read in between refreshes what it needs
    itself (`ensure_fresh`)."""

    def __init__(self, database: HubDatabase, settle: float = SETTLE_SECONDS,
                 max_delay: float = MAX_DELAY_SECONDS):
        self.database = database
        self.settle, self.max_delay = settle, max_delay
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False
        self._last_poke = 0.0

    def poke(self) -> None:
        with self._lock:
            self._again = True
            self._last_poke = time.monotonic()
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name="dxkit-figures",
                                            daemon=True)
            self._thread.start()

    def _settled(self) -> None:
        """Sleep until no push came for `settle` seconds, or `max_delay` has passed."""
        started = time.monotonic()
        while True:
            with self._lock:
                quiet_at = self._last_poke + self.settle
            now = time.monotonic()
            if now >= quiet_at or now - started >= self.max_delay:
                return
            time.sleep(min(quiet_at - now, self.max_delay - (now - started)))

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._again:
                    self._thread = None
                    return
            self._settled()
            with self._lock:
                self._again = False
            try:
                while refresh(self.database, seconds=5.0).left:
                    pass
            except Exception:  # logged; the next push or read retries
                log.exception("the figures' refresh failed")
                with self._lock:
                    self._thread = None
                return

    def wait(self, seconds: float = 30.0) -> None:
        """For tests and the benchmark: until the thread has finished."""
        thread = self._thread
        if thread is not None:
            thread.join(seconds)
