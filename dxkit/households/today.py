"""The team's day at a glance, for the home page: follow-ups due and overdue, indicator
progress against targets, this week's visits and the latest of them.

One read, so the page asks the database thread once and shows everything together."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dxkit.core.sqlbatch import select_in
from dxkit.households.indicators import RollupRow
from dxkit.households.visits import FollowUp, Visit

if TYPE_CHECKING:
    from dxkit.households.workspace import HouseholdsWorkspace

RECENT_VISITS = 8  # the latest visits listed: what the team did lately, not a register
WEEK_DAYS = 7


@dataclass(frozen=True)
class RecentVisit:
    visited_at: dt.datetime
    household_code: str
    head_name: str
    hamlet: str
    items: int  # support items recorded in the visit
    recorders: tuple[str, ...]  # team members' names


@dataclass(frozen=True)
class TodaySummary:
    day: dt.date
    overdue: list[FollowUp]  # most overdue first
    due_today: list[FollowUp]
    indicators: list[RollupRow]
    visits_this_week: int  # effective visits of the last seven days, today included
    households_this_week: int
    recent: list[RecentVisit]

    @property
    def indicators_with_target(self) -> list[RollupRow]:
        return [row for row in self.indicators if row.target is not None]


def today_summary(ws: HouseholdsWorkspace, day: dt.date | None = None) -> TodaySummary:
    day = day or ws.today()
    open_now = ws.visits.follow_ups(today=day, within_days=0)
    overdue = sorted((f for f in open_now if f.overdue_days > 0),
                     key=lambda f: (-f.overdue_days, f.household_code))
    due_today = [f for f in open_now if f.overdue_days == 0]
    since = day - dt.timedelta(days=WEEK_DAYS - 1)
    week = ws.visits.list(since=since, until=day)
    recent = ws.visits.list(until=day, limit=RECENT_VISITS)
    return TodaySummary(
        day=day, overdue=overdue, due_today=due_today, indicators=ws.indicators.rollup(as_of=day),
        visits_this_week=len(week), households_this_week=len({v.household_id for v in week}),
        recent=_described(ws, recent))


def _described(ws: HouseholdsWorkspace, visits: list[Visit]) -> list[RecentVisit]:
    members = {m.id: m.name for m in ws.catalog.members(include_inactive=True)}
    households = {
        row["id"]: (row["code"], row["head_name"], row["hamlet"])
        for row in select_in(ws.conn, "SELECT h.id, h.code, h.head_name, m.name AS hamlet "
                                      "FROM households h JOIN hamlets m ON m.id = h.hamlet_id "
                                      "WHERE h.id IN ({marks})",
                             sorted({v.household_id for v in visits}))}
    return [RecentVisit(v.visited_at, *households.get(v.household_id, ("", "", "")),
                        items=len(v.items),
                        recorders=tuple(members.get(m, "?") for m in v.member_ids))
            for v in visits]
