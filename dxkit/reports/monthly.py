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
from dxkit.households.catalog import Hamlet
from dxkit.lessons import progress
from dxkit.lessons.packs import CoursePack
from dxkit.reports.workspace import ReportsWorkspace as Workspace

OUTCOMES = ("done", "partly", "not_done")
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
    code: str
    name: str
    reached: int
    counted: int
    target: float | None

    @property
    def share(self) -> float:
        return self.reached / self.counted if self.counted else 0.0

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.share >= self.target

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "reached": self.reached,
                "counted": self.counted, "share": round(self.share, 4),
                "target": self.target, "met": self.met}


@dataclass(frozen=True)
class Activity:
    visits: int
    households_reached: int
    people_helped: int


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

    def to_dict(self) -> dict[str, Any]:
        now = self.activity_now or self.activity
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
    def latest_indicators(self) -> dict[tuple[str, str], int]:
        """(person, indicator) -> 0/1 at the end of the period."""
        end = self.period.end.isoformat()
        latest: dict[tuple[str, str], tuple[str, str, str, int]] = {}

        def offer(person: str, code: str, day: str, created: str, event: str, value: int
                  ) -> None:
            key = (person, code)
            known = latest.get(key)
            if known is None or (day, created, event) > known[:3]:
                latest[key] = (day, created, event, value)

        for person, code, value, day, created, event in self.conn.execute(
                "SELECT person_id, indicator_code, value, answered_on, created_at, id "
                "FROM indicator_answers WHERE answered_on <= ?", (end,)):
            offer(person, code, day, created, event, int(value))
        establishes = {r[0]: r[1] for r in self.conn.execute(
            "SELECT code, indicator_code FROM support_items WHERE deleted = 0 "
            "AND indicator_code IS NOT NULL")}
        counted = [r for r in self.in_force if r.visited_at[:10] <= end]
        when = {r.id: (r.visited_at[:10], r.created_at) for r in counted}
        for visit_id, person, code, outcome in self.item_event_rows(when):
            if outcome == "done" and person is not None and code in establishes:
                day, created = when[visit_id]
                offer(person, establishes[code], day, created, visit_id + ":" + code, 1)
        return {key: v[3] for key, v in latest.items()}

    def item_event_rows(self, when: dict[str, tuple[str, str]]
                        ) -> list[tuple[str, str | None, str, str]]:
        rows = self.conn.execute(
            "SELECT visit_id, person_id, support_item_code, outcome, id FROM visit_items "
            "WHERE outcome = 'done' AND person_id IS NOT NULL").fetchall()
        return [(r[0], r[1], r[2], r[3]) for r in rows if r[0] in when]

    def indicator_rows(self, latest: dict[tuple[str, str], int], hamlet_id: str | None
                       ) -> tuple[IndicatorRow, ...]:
        where = "p.deleted = 0 AND h.deleted = 0" + (" AND h.hamlet_id = ?" if hamlet_id else "")
        people = self.conn.execute(
            "SELECT p.id, p.birth_year FROM people p JOIN households h ON h.id = p.household_id "
            f"WHERE {where}", (hamlet_id,) if hamlet_id else ()).fetchall()
        year = self.period.end.year
        rows = []
        for indicator in self.ws.catalog.indicators():
            of_age = [r[0] for r in people
                      if r[1] is None or r[1] <= year - indicator.min_age]
            reached = sum(1 for person in of_age if latest.get((person, indicator.code)) == 1)
            rows.append(IndicatorRow(indicator.code, indicator.name, reached, len(of_age),
                                     indicator.target))
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
    def learners_completed(self, hamlet_id: str | None) -> int:
        before = self.period.start - dt.timedelta(days=1)
        where = "l.deleted = 0 AND c.deleted = 0" + (" AND h.hamlet_id = ?" if hamlet_id else "")
        learners: dict[str, dict[str, str]] = defaultdict(dict)
        for class_id, person, enrolled in self.conn.execute(
                "SELECT l.class_id, l.person_id, l.enrolled_on FROM class_learners l "
                "JOIN classes c ON c.id = l.class_id JOIN people p ON p.id = l.person_id "
                f"JOIN households h ON h.id = p.household_id WHERE {where}",
                (hamlet_id,) if hamlet_id else ()):
            learners[class_id][person] = enrolled
        total = 0
        for class_id, enrolled in learners.items():
            pack = progress.class_pack(self.conn, class_id)
            if pack is None:
                continue
            events = [progress.Event(*r) for r in self.conn.execute(
                "SELECT id, person_id, kind, on_date, lesson_id, skill_id, correct, total, "
                "corrects, created_at, device_id FROM lesson_events WHERE class_id = ?",
                (class_id,))]
            at_end = _completed(pack, events, enrolled, self.period.end, self.cutoff)
            at_start = _completed(pack, events, enrolled, before, _stamp(self.period.start))
            total += len(at_end - at_start)
        return total

    # farm
    def lots(self) -> tuple[int, int]:
        ids = [r[0] for r in self.conn.execute(
            "SELECT id FROM lots WHERE deleted = 0 AND pack_date BETWEEN ? AND ?",
            (self.period.start.isoformat(), self.period.end.isoformat()))]
        compliant = sum(1 for lot_id in ids if self.ws.farm.lots.get(lot_id).compliant)
        return compliant, len(ids) - compliant

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


def build(ws: Workspace, period: Period, *, hamlet: str | None = None,
          breakdown: bool = True) -> MonthlyReport:
    """The report of `period` (of one hamlet, by name or id, when given: an unknown one is
    refused with the known names), with a per-hamlet breakdown unless `breakdown` is off."""
    chosen = ws.catalog.hamlet(hamlet) if hamlet else None
    hamlet_id = chosen.id if chosen else None
    figures = _Figures(ws, period)

    def scoped(rows: Iterable[_VisitRow], where: str | None) -> list[_VisitRow]:
        return [r for r in rows if where is None or r.hamlet_id == where]

    in_period = figures.period_visits(figures.in_force)
    items = figures.item_rows(in_period)
    hamlet_of = {r.id: r.hamlet_id for r in in_period}
    mine = scoped(in_period, hamlet_id)
    mine_items = [i for i in items if hamlet_id is None or hamlet_of[i[0]] == hamlet_id]
    now_visits = scoped(figures.period_visits(_effective(figures.visits, None)), hamlet_id)
    latest = figures.latest_indicators()
    overdue = figures.overdue_households()
    compliant, refused = figures.lots()
    hamlets: list[HamletRow] = []
    if breakdown:
        shown = [chosen] if chosen else ws.catalog.hamlets()
        for place in shown:
            own = scoped(in_period, place.id)
            own_items = [i for i in items if hamlet_of[i[0]] == place.id]
            hamlets.append(HamletRow(
                place.id, place.name, figures.activity(own, own_items),
                sum(1 for r in overdue if r.hamlet_id == place.id),
                figures.indicator_rows(latest, place.id)))
    return MonthlyReport(
        period=period, hamlet=chosen, activity=figures.activity(mine, mine_items),
        items=_item_rows(ws, mine_items),
        indicators=figures.indicator_rows(latest, hamlet_id),
        followups_overdue=len(scoped(overdue, hamlet_id)),
        learners_completed=figures.learners_completed(hamlet_id),
        lots_compliant=compliant, lots_refused=refused,
        labels_printed=figures.labels_printed(), hamlets=tuple(hamlets),
        corrections=tuple(figures.later_corrections(hamlet_id)),
        activity_now=figures.activity(now_visits, figures.item_rows(now_visits)))
