"""The team's report for a period (a month, or any from–to pair of days): its figures.

Every figure follows from the recorded events, by these rules (the JSON contract of
`dxkit report monthly`, issue 13):

- The period is the days `start` to `end`, both included, in the team's local time (as a
  visit's `visited_at`). Its *cut-off* is the first moment after it: midnight after `end`.
- **What counts: the record as it stood at the cut-off.** An event that says something
  happened (a visit, an indicator answer, a lesson event) belongs to the day it names, even when
  it was typed in later: a visit made on the 30th and recorded on the 2nd of the next month is
  a visit of the period. A *correction* (a visit's amendment or void, a lesson event's
  amendment or void, a follow-up's close or reopen) applies from the moment it was recorded —
  its HLC `created_at` — so one recorded after the cut-off is not folded into the figures: the
  report lists it under `corrections`, with the activity figures as they would be with every
  correction applied (`corrections.now`). Regenerating a past month after later corrections
  therefore gives the same figures, and says what has been corrected since.
- `visits`: the visits of the period (by `visited_at`) effective at the cut-off: neither a void
  nor replaced by an amendment (a visit amended in time counts as its amendment, with the
  amendment's day and items). `households_reached`: their distinct households;
  `people_helped`: the distinct people with at least one item done or partly done in them;
  `items`: their items' outcomes counted per support item (every active item, and any retired
  one that occurs).
- `indicators`: per active indicator, at the end of the period — for each person, the latest
  event up to `end` decides (an answer by its `answered_on`, a support item done in a visit
  effective at the cut-off by its day; ties by HLC then id, as `households.indicators`).
  `counted`: the people of the register of the indicator's age (by birth year against the
  period's year; no birth year counts) — the register as it is now, since a person's row keeps
  no history; `reached`: those of them the latest event says yes for; `share` = reached /
  counted (0 when nobody is counted); `target` from the catalogue (published by the province or
  set by the team; None without one) and `met` = share ≥ target (None without a target).
- `followups_overdue`: households (still in the register) whose latest visit effective at the
  cut-off, made by the end of the period, set a return date before `end`, and whose follow-up
  was not closed (a close recorded before the cut-off that no reopen recorded before it undoes).
- `learners_completed`: learners (an enrolment not removed) who met their course's completion
  rule on the events dated up to `end`, and had not met it on the events dated before `start`
  (corrections applied as above at each date's own cut-off). A lesson event carries only its
  day, so completion is known to the day: this is "completed during the period".
- `lots`: the lots packed in the period (`pack_date`), `compliant` or `refused` (labels
  withheld), by the farm's compliance check — which follows the diary as it is now (lots.py):
  a later diary correction can move a lot. `labels_printed`: the labels (copies) of the print
  runs made in the period (`printed_at`).
- Each indicator also stands *at the start* of the period: as of the day before `start`, with
  that day's cut-off (`start`), counted against the register by that day's year; `change` is
  the end's figure less the start's (reached, and share). `official`: the official population
  the indicator counts against — the hamlets' `population_18` for an indicator whose `min_age`
  is 18 or more, else their `population_15` — summed over the hamlets in scope, and the share
  of it reached; None when a hamlet in scope lacks the figure (`missing` names them). `share`
  stays the share of the people registered.
- `classes`: `sessions` — the distinct class and day pairs with a roll-call mark (present or
  absent) in force at the cut-off, dated in the period, of a learner in scope (enrolled, not
  removed, class not removed); `learners_attended` — the distinct people marked present on such
  a day (a day's latest mark by HLC decides); `learners_completed` as above;
  `certificates_issued` — certificates (not removed) issued in the period, revoked since or not.
- `diary_entries`: the farm diary entries dated in the period (`on_date`) in force at the
  cut-off (a record, or an amendment recorded in time; neither voided nor replaced).
- `issuer`: who issues the report — the team (its kind, and its hamlet for a hamlet team, as
  the hub said at enrollment) and the commune and province the workspace works in.
- With a hamlet, the households' figures are that hamlet's; the farm's are the team's (farm
  records carry no hamlet) and `farm_scope` says so. `hamlets` breaks the households' figures
  down per hamlet.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from dxkit.core.errors import DxError
from dxkit.core.i18n import _
from dxkit.core.workspace import HUB_TEAM_KIND_META
from dxkit.households.catalog import ADULT_AGE, Hamlet, official_population
from dxkit.lessons import progress
from dxkit.lessons.packs import CoursePack
from dxkit.lessons.tables import ATTENDANCE_KINDS
from dxkit.reports.workspace import ReportsWorkspace as Workspace

OUTCOMES = ("done", "partly", "not_done")
# The hub team's hamlet, written at enrollment (dxkit.sync.apply.META_HAMLET; the sync layer
# sits above this one, so the key is named here).
HUB_TEAM_HAMLET_META = "sync_hamlet"
_MONTH = re.compile(r"(\d{4})-(\d{2})")


# -- the period ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @classmethod
    def month(cls, text: str) -> Period:
        """"2026-03" -> 1 to 31 March 2026; anything else is refused with a sentence."""
        found = _MONTH.fullmatch(text.strip())
        if found is None or not 1 <= int(found[2]) <= 12 or int(found[1]) < 1:
            raise DxError(_("Write the month as YYYY-MM, for example 2026-03; “{month}” is "
                            "not.").format(month=text))
        year, month = int(found[1]), int(found[2])
        start = dt.date(year, month, 1)
        days = calendar.monthrange(year, month)[1]
        return cls(start, start.replace(day=days))

    @classmethod
    def between(cls, start: dt.date, end: dt.date) -> Period:
        if start > end:
            raise DxError(_("The period starts on {start}, after it ends on {end}: give the "
                            "earlier day first.").format(start=start.isoformat(),
                                                         end=end.isoformat()))
        return cls(start, end)

    @property
    def cutoff(self) -> str:
        """The HLC text of the first moment after the period (local midnight after `end`):
        an event stamped before it compares lower as text."""
        return _stamp(self.end + dt.timedelta(days=1))


def _stamp(day: dt.date) -> str:
    ms = int(dt.datetime.combine(day, dt.time()).timestamp() * 1000)
    return f"{max(ms, 0):012x}"


def _recorded_on(created_at: str) -> str:
    """The local day an HLC stamp was recorded on."""
    try:
        ms = int(created_at[:12], 16)
    except ValueError:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000).date().isoformat()


# -- the report ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemRow:
    code: str
    name: str
    done: int
    partly: int
    not_done: int


@dataclass(frozen=True)
class IndicatorRow:
    """An indicator at the end of the period; at its start (`start_*`); and against the
    official population of the hamlets in scope (`official_*`)."""

    code: str
    name: str
    reached: int
    counted: int
    target: float | None
    start_reached: int = 0
    start_counted: int = 0
    official_basis: int = 15  # 15: the population aged 15 and over; 18: the adults
    official_population: int | None = None  # None: a hamlet in scope lacks the figure
    official_missing: tuple[str, ...] = ()  # the hamlets in scope without the figure

    @property
    def share(self) -> float:
        return self.reached / self.counted if self.counted else 0.0

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.share >= self.target

    @property
    def start_share(self) -> float:
        return self.start_reached / self.start_counted if self.start_counted else 0.0

    @property
    def change_reached(self) -> int:
        return self.reached - self.start_reached

    @property
    def change_share(self) -> float:
        return round(self.share, 4) - round(self.start_share, 4)

    @property
    def official_share(self) -> float | None:
        if not self.official_population:
            return None
        return self.reached / self.official_population

    def to_dict(self) -> dict[str, Any]:
        official = self.official_share
        return {"code": self.code, "name": self.name, "reached": self.reached,
                "counted": self.counted, "share": round(self.share, 4),
                "target": self.target, "met": self.met,
                "start": {"reached": self.start_reached, "counted": self.start_counted,
                          "share": round(self.start_share, 4)},
                "change": {"reached": self.change_reached,
                           "share": round(self.change_share, 4)},
                "official": {"basis": "adults" if self.official_basis >= ADULT_AGE else "15+",
                             "population": self.official_population,
                             "share": None if official is None else round(official, 4),
                             "missing": list(self.official_missing)}}


@dataclass(frozen=True)
class Activity:
    visits: int
    households_reached: int
    people_helped: int


@dataclass(frozen=True)
class Classes:
    sessions: int
    learners_attended: int
    learners_completed: int
    certificates_issued: int


@dataclass(frozen=True)
class Issuer:
    """Who issues the report: the team and where it works ("" where the workspace does not
    know yet)."""

    team: str
    kind: str | None  # "hamlet" or "commune" (the hub's team kind); None before enrollment
    team_hamlet: str | None  # a hamlet team's hamlet
    commune: str
    province: str
    commune_code: int | None = None
    province_code: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"team": self.team, "kind": self.kind, "hamlet": self.team_hamlet,
                "commune": self.commune or None, "commune_code": self.commune_code,
                "province": self.province or None, "province_code": self.province_code}


@dataclass(frozen=True)
class HamletRow:
    id: str
    name: str
    activity: Activity
    followups_overdue: int
    indicators: tuple[IndicatorRow, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "visits": self.activity.visits,
                "households_reached": self.activity.households_reached,
                "people_helped": self.activity.people_helped,
                "followups_overdue": self.followups_overdue,
                "indicators": [i.to_dict() for i in self.indicators]}


@dataclass(frozen=True)
class Correction:
    """A visit's amendment or void recorded after the cut-off, about a visit of the period."""

    id: str
    kind: str  # "amend" or "void"
    corrects: str
    visited_on: str
    recorded_on: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "corrects": self.corrects,
                "visited_on": self.visited_on, "recorded_on": self.recorded_on,
                "reason": self.reason}


@dataclass(frozen=True)
class MonthlyReport:
    period: Period
    hamlet: Hamlet | None
    activity: Activity
    items: tuple[ItemRow, ...]
    indicators: tuple[IndicatorRow, ...]
    followups_overdue: int
    learners_completed: int
    lots_compliant: int
    lots_refused: int
    labels_printed: int
    hamlets: tuple[HamletRow, ...] = ()
    corrections: tuple[Correction, ...] = ()
    activity_now: Activity | None = None
    issuer: Issuer | None = None
    classes: Classes | None = None
    diary_entries: int = 0
    issued_on: dt.date | None = None  # the day it was made (the PDF's date line; not in JSON)

    def to_dict(self) -> dict[str, Any]:
        now = self.activity_now or self.activity
        classes = self.classes or Classes(0, 0, self.learners_completed, 0)
        return {
            "period": {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()},
            "hamlet": self.hamlet.name if self.hamlet else None,
            "visits": self.activity.visits,
            "households_reached": self.activity.households_reached,
            "people_helped": self.activity.people_helped,
            "items": [{"code": i.code, "name": i.name, "done": i.done, "partly": i.partly,
                       "not_done": i.not_done} for i in self.items],
            "indicators": [i.to_dict() for i in self.indicators],
            "followups_overdue": self.followups_overdue,
            "learners_completed": self.learners_completed,
            "lots": {"compliant": self.lots_compliant, "refused": self.lots_refused},
            "labels_printed": self.labels_printed,
            "diary_entries": self.diary_entries,
            "classes": {"sessions": classes.sessions,
                        "learners_attended": classes.learners_attended,
                        "learners_completed": classes.learners_completed,
                        "certificates_issued": classes.certificates_issued},
            "issuer": self.issuer.to_dict() if self.issuer else None,
            "farm_scope": "team",
            "hamlets": [h.to_dict() for h in self.hamlets],
            "corrections": {
                "visits": [c.to_dict() for c in self.corrections],
                "now": {"visits": now.visits, "households_reached": now.households_reached,
                        "people_helped": now.people_helped}},
        }


# -- reading the events ----------------------------------------------------------------------
@dataclass(frozen=True)
class _VisitRow:
    id: str
    household_id: str
    hamlet_id: str
    household_present: bool
    kind: str
    corrects: str | None
    visited_at: str
    follow_up_on: str | None
    created_at: str
    reason: str


def _effective(rows: Iterable[_VisitRow], cutoff: str | None) -> list[_VisitRow]:
    """The visits in force when corrections recorded before `cutoff` apply (None: all)."""
    known = [r for r in rows if r.kind == "visit" or cutoff is None or r.created_at < cutoff]
    corrected = {r.corrects for r in known if r.corrects}
    return [r for r in known if r.kind != "void" and r.id not in corrected]


class _Figures:
    """The events of a workspace read once, and the figures of a period from them."""

    def __init__(self, ws: Workspace, period: Period):
        self.ws, self.period, self.conn = ws, period, ws.conn
        self.cutoff = period.cutoff
        self.visits = [_VisitRow(*r) for r in self.conn.execute(
            "SELECT v.id, v.household_id, h.hamlet_id, h.deleted = 0, v.kind, v.corrects, "
            "v.visited_at, v.follow_up_on, v.created_at, v.reason "
            "FROM visits v JOIN households h ON h.id = v.household_id")]
        self.by_id = {r.id: r for r in self.visits}
        self.in_force = _effective(self.visits, self.cutoff)
        self._done_items: list[tuple[str, str | None, str, str]] | None = None
        self._people: list[tuple[str, int | None, str]] | None = None

    # activity
    def period_visits(self, in_force: Sequence[_VisitRow]) -> list[_VisitRow]:
        start, end = self.period.start.isoformat(), self.period.end.isoformat()
        return [r for r in in_force if start <= r.visited_at[:10] <= end]

    def item_rows(self, visits: Sequence[_VisitRow]) -> list[tuple[str, str | None, str, str]]:
        ids = [r.id for r in visits]
        found: list[tuple[str, str | None, str, str]] = []
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            marks = ", ".join("?" * len(chunk))
            found.extend((r[0], r[1], r[2], r[3]) for r in self.conn.execute(
                "SELECT visit_id, person_id, support_item_code, outcome FROM visit_items "
                f"WHERE visit_id IN ({marks})", chunk))
        return found

    @staticmethod
    def activity(visits: Sequence[_VisitRow],
                 items: Sequence[tuple[str, str | None, str, str]]) -> Activity:
        helped = {person for _v, person, _c, outcome in items
                  if person is not None and outcome in ("done", "partly")}
        return Activity(len(visits), len({r.household_id for r in visits}), len(helped))

    # indicators
    def latest_indicators(self, end: dt.date | None = None,
                          in_force: Sequence[_VisitRow] | None = None
                          ) -> dict[tuple[str, str], int]:
        """(person, indicator) -> 0/1 at the end of `end` (the period's end by default), by
        the visits in force then (those at the period's cut-off by default)."""
        last = (end or self.period.end).isoformat()
        latest: dict[tuple[str, str], tuple[str, str, str, int]] = {}

        def offer(person: str, code: str, day: str, created: str, event: str, value: int
                  ) -> None:
            key = (person, code)
            known = latest.get(key)
            if known is None or (day, created, event) > known[:3]:
                latest[key] = (day, created, event, value)

        for person, code, value, day, created, event in self.conn.execute(
                "SELECT person_id, indicator_code, value, answered_on, created_at, id "
                "FROM indicator_answers WHERE answered_on <= ?", (last,)):
            offer(person, code, day, created, event, int(value))
        establishes = {r[0]: r[1] for r in self.conn.execute(
            "SELECT code, indicator_code FROM support_items WHERE deleted = 0 "
            "AND indicator_code IS NOT NULL")}
        counted = [r for r in (self.in_force if in_force is None else in_force)
                   if r.visited_at[:10] <= last]
        when = {r.id: (r.visited_at[:10], r.created_at) for r in counted}
        for visit_id, person, code, outcome in self.item_event_rows(when):
            if outcome == "done" and person is not None and code in establishes:
                day, created = when[visit_id]
                offer(person, establishes[code], day, created, visit_id + ":" + code, 1)
        return {key: v[3] for key, v in latest.items()}

    def latest_at_start(self) -> dict[tuple[str, str], int]:
        """(person, indicator) -> 0/1 at the end of the day before the period, with that
        day's cut-off (the period's start)."""
        return self.latest_indicators(self.period.start - dt.timedelta(days=1),
                                      _effective(self.visits, _stamp(self.period.start)))

    def item_event_rows(self, when: dict[str, tuple[str, str]]
                        ) -> list[tuple[str, str | None, str, str]]:
        if self._done_items is None:
            self._done_items = [(r[0], r[1], r[2], r[3]) for r in self.conn.execute(
                "SELECT visit_id, person_id, support_item_code, outcome FROM visit_items "
                "WHERE outcome = 'done' AND person_id IS NOT NULL")]
        return [r for r in self._done_items if r[0] in when]

    def people(self) -> list[tuple[str, int | None, str]]:
        """(person, birth year, hamlet) of the register as it is now."""
        if self._people is None:
            self._people = [(r[0], r[1], r[2]) for r in self.conn.execute(
                "SELECT p.id, p.birth_year, h.hamlet_id FROM people p JOIN households h "
                "ON h.id = p.household_id WHERE p.deleted = 0 AND h.deleted = 0")]
        return self._people

    def indicator_rows(self, latest: dict[tuple[str, str], int],
                       at_start: dict[tuple[str, str], int],
                       scope: Sequence[Hamlet], hamlet_id: str | None
                       ) -> tuple[IndicatorRow, ...]:
        """Each active indicator at the end and at the start of the period, of the people of
        hamlet `hamlet_id` (all when None), against the official population of `scope`."""
        people = [(person, born) for person, born, place in self.people()
                  if hamlet_id is None or place == hamlet_id]
        year, start_year = self.period.end.year, (self.period.start - dt.timedelta(days=1)).year
        rows = []
        for indicator in self.ws.catalog.indicators():
            def of_age(by: int, minimum: int = indicator.min_age) -> list[str]:
                return [p for p, born in people if born is None or born <= by - minimum]

            now, then = of_age(year), of_age(start_year)
            adults = indicator.min_age >= ADULT_AGE
            missing = tuple(h.name for h in scope
                            if (h.population_18 if adults else h.population_15) is None)
            official = official_population(scope, indicator.min_age)
            rows.append(IndicatorRow(
                indicator.code, indicator.name,
                sum(1 for p in now if latest.get((p, indicator.code)) == 1), len(now),
                indicator.target,
                start_reached=sum(1 for p in then if at_start.get((p, indicator.code)) == 1),
                start_counted=len(then), official_basis=ADULT_AGE if adults else 15,
                official_population=official, official_missing=missing))
        return tuple(rows)

    # follow-ups
    def overdue_households(self) -> list[_VisitRow]:
        """Each household's overdue, unclosed follow-up at the end: its latest visit."""
        end = self.period.end.isoformat()
        latest: dict[str, _VisitRow] = {}
        for r in self.in_force:
            if r.visited_at[:10] > end or not r.household_present:
                continue
            known = latest.get(r.household_id)
            if known is None or (r.visited_at, r.created_at) > (known.visited_at,
                                                                known.created_at):
                latest[r.household_id] = r
        overdue = [r for r in latest.values() if r.follow_up_on and r.follow_up_on < end]
        if not overdue:
            return []
        closes = self.conn.execute(
            "SELECT id, visit_id, kind, corrects FROM follow_up_closures WHERE created_at < ?",
            (self.cutoff,)).fetchall()
        reopened = {r[3] for r in closes if r[2] == "reopen"}
        closed_visits = {r[1] for r in closes if r[2] == "close" and r[0] not in reopened}
        result = []
        for r in overdue:
            chain, current = set(), r
            while True:
                chain.add(current.id)
                if current.corrects is None or current.corrects not in self.by_id:
                    break
                current = self.by_id[current.corrects]
            if not chain & closed_visits:
                result.append(r)
        return result

    # lessons
    def classes(self, hamlet_id: str | None) -> Classes:
        """Sessions held, learners who attended, learners who completed a course, and
        certificates issued in the period, of the learners of hamlet `hamlet_id` (all when
        None)."""
        start, end = self.period.start.isoformat(), self.period.end.isoformat()
        before = self.period.start - dt.timedelta(days=1)
        where = "l.deleted = 0 AND c.deleted = 0" + (" AND h.hamlet_id = ?" if hamlet_id else "")
        learners: dict[str, dict[str, str]] = defaultdict(dict)
        for class_id, person, enrolled in self.conn.execute(
                "SELECT l.class_id, l.person_id, l.enrolled_on FROM class_learners l "
                "JOIN classes c ON c.id = l.class_id JOIN people p ON p.id = l.person_id "
                f"JOIN households h ON h.id = p.household_id WHERE {where}",
                (hamlet_id,) if hamlet_id else ()):
            learners[class_id][person] = enrolled
        completed = 0
        sessions: set[tuple[str, str]] = set()
        attended: set[str] = set()
        for class_id, enrolled in learners.items():
            events = [progress.Event(*r) for r in self.conn.execute(
                "SELECT id, person_id, kind, on_date, lesson_id, skill_id, correct, total, "
                "corrects, created_at, device_id FROM lesson_events WHERE class_id = ?",
                (class_id,))]
            known = progress.effective(
                e for e in events
                if (e.corrects is None and e.kind != "void") or e.created_at < self.cutoff)
            marks: dict[tuple[str, str], progress.Event] = {}
            for e in known:
                if e.kind in ATTENDANCE_KINDS and e.person_id in enrolled \
                        and start <= e.on_date <= end:
                    mark = marks.get((e.person_id, e.on_date))
                    if mark is None or (e.created_at, e.id) > (mark.created_at, mark.id):
                        marks[(e.person_id, e.on_date)] = e
            sessions.update((class_id, day) for _person, day in marks)
            attended.update(person for (person, _day), e in marks.items()
                            if e.kind == "present")
            pack = progress.class_pack(self.conn, class_id)
            if pack is None:
                continue
            at_end = _completed(pack, events, enrolled, self.period.end, self.cutoff)
            at_start = _completed(pack, events, enrolled, before, _stamp(self.period.start))
            completed += len(at_end - at_start)
        scope = " AND h.hamlet_id = ?" if hamlet_id else ""
        certificates = self.conn.execute(
            "SELECT count(*) FROM certificates c JOIN people p ON p.id = c.person_id "
            "JOIN households h ON h.id = p.household_id WHERE c.deleted = 0 "
            f"AND c.issued_on BETWEEN ? AND ?{scope}",
            (start, end, *((hamlet_id,) if hamlet_id else ()))).fetchone()[0]
        return Classes(len(sessions), len(attended), completed, int(certificates))

    # farm
    def lots(self) -> tuple[int, int]:
        ids = [r[0] for r in self.conn.execute(
            "SELECT id FROM lots WHERE deleted = 0 AND pack_date BETWEEN ? AND ?",
            (self.period.start.isoformat(), self.period.end.isoformat()))]
        compliant = sum(1 for lot_id in ids if self.ws.farm.lots.get(lot_id).compliant)
        return compliant, len(ids) - compliant

    def diary_entries(self) -> int:
        """Diary entries dated in the period, in force at the cut-off."""
        rows = self.conn.execute(
            "SELECT id, action, corrects, on_date, created_at FROM diary_entries").fetchall()
        known = [r for r in rows if r[1] == "record" or r[4] < self.cutoff]
        corrected = {r[2] for r in known if r[2]}
        start, end = self.period.start.isoformat(), self.period.end.isoformat()
        return sum(1 for r in known if r[1] != "void" and r[0] not in corrected
                   and start <= r[3][:10] <= end)

    def labels_printed(self) -> int:
        row = self.conn.execute(
            "SELECT coalesce(sum(copies), 0) FROM label_prints "
            "WHERE substr(printed_at, 1, 10) BETWEEN ? AND ?",
            (self.period.start.isoformat(), self.period.end.isoformat())).fetchone()
        return int(row[0])

    # corrections
    def later_corrections(self, hamlet_id: str | None) -> list[Correction]:
        start, end = self.period.start.isoformat(), self.period.end.isoformat()
        found = []
        for r in self.visits:
            if r.kind == "visit" or r.created_at < self.cutoff or r.corrects is None:
                continue
            if hamlet_id and r.hamlet_id != hamlet_id:
                continue
            original = self.by_id.get(r.corrects)
            days = {r.visited_at[:10]} | ({original.visited_at[:10]} if original else set())
            if any(start <= day <= end for day in days):
                found.append(Correction(r.id, r.kind, r.corrects,
                                        (original or r).visited_at[:10],
                                        _recorded_on(r.created_at), r.reason))
        return sorted(found, key=lambda c: (c.recorded_on, c.id))


def _completed(pack: CoursePack, events: Sequence[progress.Event], enrolled: dict[str, str],
               day: dt.date, cutoff: str) -> set[str]:
    """The learners of a class who met the completion rule on the events dated up to `day`,
    corrections recorded before `cutoff` applied."""
    last = day.isoformat()
    known = [e for e in events if e.on_date <= last
             and ((e.corrects is None and e.kind != "void") or e.created_at < cutoff)]
    in_force = progress.effective(known)
    sessions = sorted({e.on_date for e in in_force if e.kind in ("present", "absent")})
    by_person: dict[str, list[progress.Event]] = defaultdict(list)
    for event in known:
        by_person[event.person_id].append(event)
    return {person for person, enrolled_on in enrolled.items()
            if progress.derive_learner(pack, person, by_person.get(person, []), sessions,
                                       enrolled_on).completed}


def _item_rows(ws: Workspace, items: Sequence[tuple[str, str | None, str, str]]
               ) -> tuple[ItemRow, ...]:
    counts: Counter[tuple[str, str]] = Counter((code, outcome) for _v, _p, code, outcome in items)
    used = {code for code, _o in counts}
    active = {s.code for s in ws.catalog.support_items()}
    return tuple(ItemRow(s.code, s.name, counts[(s.code, "done")], counts[(s.code, "partly")],
                         counts[(s.code, "not_done")])
                 for s in ws.catalog.support_items(include_retired=True)
                 if s.code in active or s.code in used)


def issuer(ws: Workspace) -> Issuer:
    """Who issues the workspace's reports: its team, commune and province."""
    meta = ws.meta()
    kind = meta.get(HUB_TEAM_KIND_META) or None
    team_hamlet = meta.get(HUB_TEAM_HAMLET_META, "").strip() if kind == "hamlet" else ""
    team = (_("Community digital technology team of {place}").format(place=team_hamlet)
            if team_hamlet else _("Community digital technology team"))

    def code(key: str) -> int | None:
        text = meta.get(key, "")
        return int(text) if text.isdigit() else None

    return Issuer(team, kind, team_hamlet or None, meta.get("commune_name", ""),
                  meta.get("province_name", ""), code("commune_code"), code("province_code"))


def build(ws: Workspace, period: Period, *, hamlet: str | None = None,
          breakdown: bool = True) -> MonthlyReport:
    """The report of `period` (of one hamlet, by name or id, when given: an unknown one is
    refused with the known names), with a per-hamlet breakdown unless `breakdown` is off."""
    chosen = ws.catalog.hamlet(hamlet) if hamlet else None
    hamlet_id = chosen.id if chosen else None
    figures = _Figures(ws, period)
    every_hamlet = ws.catalog.hamlets()

    def scoped(rows: Iterable[_VisitRow], where: str | None) -> list[_VisitRow]:
        return [r for r in rows if where is None or r.hamlet_id == where]

    in_period = figures.period_visits(figures.in_force)
    items = figures.item_rows(in_period)
    hamlet_of = {r.id: r.hamlet_id for r in in_period}
    mine = scoped(in_period, hamlet_id)
    mine_items = [i for i in items if hamlet_id is None or hamlet_of[i[0]] == hamlet_id]
    now_visits = scoped(figures.period_visits(_effective(figures.visits, None)), hamlet_id)
    latest, at_start = figures.latest_indicators(), figures.latest_at_start()
    overdue = figures.overdue_households()
    compliant, refused = figures.lots()
    classes = figures.classes(hamlet_id)
    hamlets: list[HamletRow] = []
    if breakdown:
        shown = [chosen] if chosen else every_hamlet
        for place in shown:
            own = scoped(in_period, place.id)
            own_items = [i for i in items if hamlet_of[i[0]] == place.id]
            hamlets.append(HamletRow(
                place.id, place.name, figures.activity(own, own_items),
                sum(1 for r in overdue if r.hamlet_id == place.id),
                figures.indicator_rows(latest, at_start, [place], place.id)))
    return MonthlyReport(
        period=period, hamlet=chosen, activity=figures.activity(mine, mine_items),
        items=_item_rows(ws, mine_items),
        indicators=figures.indicator_rows(latest, at_start,
                                          [chosen] if chosen else every_hamlet, hamlet_id),
        followups_overdue=len(scoped(overdue, hamlet_id)),
        learners_completed=classes.learners_completed,
        lots_compliant=compliant, lots_refused=refused,
        labels_printed=figures.labels_printed(), hamlets=tuple(hamlets),
        corrections=tuple(figures.later_corrections(hamlet_id)),
        activity_now=figures.activity(now_visits, figures.item_rows(now_visits)),
        issuer=issuer(ws), classes=classes, diary_entries=figures.diary_entries(),
        issued_on=ws.today())
