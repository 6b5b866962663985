"""The hub's figures (hub/figures.py) against the laptop's monthly report: a real laptop
workspace (the demo) enrolled in and synced with a real hub process, on SQLite and on
PostgreSQL; corrections recorded later, a household that moves, deletions; the rollup kept as
records arrive equals a rebuild from scratch; small counts hidden."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dxkit import demo
from dxkit.cli import cli
from dxkit.households.visits import VisitItem
from dxkit.reports.monthly import Period, build
from dxkit.sync import engine
from dxkit.sync.hub import figures
from dxkit.sync.hub.database import open_database
from dxkit.sync.hub.store import MIGRATIONS, HubStore
from dxkit.workspace import Workspace
from tests.sync.conftest import HubServer

HUB_BACKENDS = ("sqlite", "postgresql")
HOUSEHOLDS = 40
SQLITE_ONLY = {"test_small_counts_are_hidden",  # no database involved
               "test_a_retired_indicator_keeps_its_name_for_the_trend"}  # no new SQL


@pytest.fixture(autouse=True)
def file_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DXKIT_TOKEN_STORE", "file")


def demo_laptop(folder: Path, hub: HubServer) -> tuple[Workspace, int]:
    """The demo workspace, enrolled in a commune team of its commune and synced."""
    demo.fill(folder, households=HOUSEHOLDS)
    ws = Workspace.open(folder)
    meta = ws.meta()
    team = hub.admin("team", "add", "--province", meta["province_code"], "--commune",
                     meta["commune_code"])["team_id"]
    code = hub.admin("enroll-code", "--team", team)["code"]
    engine.enroll(ws, hub.url, code, device_name="laptop")
    sync(ws)
    return ws, int(meta["commune_code"])


def sync(ws: Workspace) -> None:
    outcome = engine.sync(ws)
    assert not getattr(outcome, "errors", None), outcome


@pytest.fixture
def synced(tmp_path: Path, hub_server: HubServer, hub_db: str, key_files: Path
           ) -> Iterator[tuple[Workspace, HubStore, int]]:
    """The demo laptop synced with the hub, and the hub's store (keys in files: the
    command line reads the laptop's workspace too)."""
    ws, commune = demo_laptop(tmp_path / "laptop", hub_server)
    store = HubStore(hub_db)
    try:
        yield ws, store, commune
    finally:
        store.close()
        ws.close()


def hub_figures(store: HubStore, commune: int, month: str, hamlet: str) -> dict[str, Any]:
    """A hamlet's figures on the hub, in the report's JSON terms."""
    area = next(a for a in figures.areas(store.conn, month, commune=commune, level="hamlet")
                if a.key == hamlet)
    return {
        "visits": area.visits, "households_reached": area.households_reached,
        "people_helped": area.people_helped, "followups_overdue": area.followups_overdue,
        "indicators": [{"code": i.code, "reached": i.reached, "counted": i.counted,
                        "share": i.share, "target": i.target, "met": i.met}
                       for i in area.indicators],
        "items": [{"code": i.code, "done": i.done, "partly": i.partly,
                   "not_done": i.not_done}
                  for i in figures.items(store.conn, month, commune=commune, hamlet=hamlet)]}


def laptop_figures(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "visits": report["visits"], "households_reached": report["households_reached"],
        "people_helped": report["people_helped"],
        "followups_overdue": report["followups_overdue"],
        "indicators": [{key: i[key] for key in ("code", "reached", "counted", "share",
                                                "target", "met")}
                       for i in report["indicators"]],
        "items": [{key: i[key] for key in ("code", "done", "partly", "not_done")}
                  for i in report["items"]]}


def refreshed(store: HubStore) -> None:
    """Whatever the pushes left dirty, computed now (the hub's thread may still be at it)."""
    while figures.refresh(store.database).left:
        pass


def assert_hub_equals_laptop(ws: Workspace, store: HubStore, commune: int,
                             months: list[str] | None = None) -> int:
    refreshed(store)
    compared = 0
    for month in months or figures.months(store.conn):
        for hamlet in ws.catalog.hamlets():
            report = build(ws, Period.month(month), hamlet=hamlet.id, breakdown=False)
            assert hub_figures(store, commune, month, hamlet.id) == \
                laptop_figures(report.to_dict()), (month, hamlet.name)
            compared += 1
        whole = build(ws, Period.month(month), breakdown=False).to_dict()
        (team,) = figures.team_work(store.conn, month, commune=commune)
        assert (team.learners_completed, team.lots_compliant, team.lots_refused,
                team.labels_printed) == (whole["learners_completed"],
                                         whole["lots"]["compliant"], whole["lots"]["refused"],
                                         whole["labels_printed"]), month
    return compared


def test_every_hamlet_and_month_equals_the_laptops_report(
        synced: tuple[Workspace, HubStore, int]) -> None:
    ws, store, commune = synced
    refreshed(store)  # the hub's own thread may still be at it
    months = figures.months(store.conn)
    assert len(months) >= 6 and months == sorted(months, reverse=True)
    assert assert_hub_equals_laptop(ws, store, commune) >= 6 * len(ws.catalog.hamlets())
    # And as the command line prints it (`dxkit report monthly --format json`).
    hamlet = ws.catalog.hamlets()[0]
    busiest = max(months, key=lambda m: sum(a.visits for a in figures.areas(
        store.conn, m, commune=commune)))
    out = ws.path / "report.json"
    result = CliRunner().invoke(cli, ["--data-dir", str(ws.path), "report", "monthly",
                                      "--month", busiest, "--hamlet", hamlet.name,
                                      "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    printed = json.loads(out.read_text(encoding="utf-8"))
    assert printed["visits"] > 0
    assert hub_figures(store, commune, busiest, hamlet.id) == laptop_figures(printed)


def test_later_corrections_moves_and_deletions_follow_the_reports_rules(
        synced: tuple[Workspace, HubStore, int]) -> None:
    ws, store, commune = synced
    refreshed(store)
    hamlets = ws.catalog.hamlets()
    month = max(figures.months(store.conn), key=lambda m: sum(
        a.visits for a in figures.areas(store.conn, m, commune=commune)))
    before = {h.id: hub_figures(store, commune, month, h.id) for h in hamlets}
    period = Period.month(month)
    visits = [v for v in ws.visits.list(since=period.start, until=period.end)
              if v.effective and v.items]
    assert len(visits) >= 3
    # Recorded now, long after the month's end: a void, and an amendment.
    ws.visits.void(visits[0].id, reason="Ghi nhầm hộ")
    ws.visits.amend(visits[1].id, [VisitItem(visits[1].items[0].support_item_code,
                                             "not_done", visits[1].items[0].person_id,
                                             "bận")], reason="Chưa làm được")
    # A household moves to another hamlet; another household and a person are deleted.
    moved = ws.households.get(visits[2].household_id)
    target = next(h for h in hamlets if h.id != moved.hamlet_id)
    ws.households.update(moved.id, hamlet=target.name)
    gone = next(p for p in ws.people.in_household(visits[0].household_id))
    ws.people.delete(gone.id)
    sync(ws)
    refreshed(store)
    # The month's figures as reported then are unchanged by the later corrections, except
    # where the laptop's report changes too (the move and the deletions apply at once).
    assert_hub_equals_laptop(ws, store, commune, [month, figures.months(store.conn)[0]])
    after = {h.id: hub_figures(store, commune, month, h.id) for h in hamlets}
    assert after[moved.hamlet_id]["visits"] < before[moved.hamlet_id]["visits"]
    assert after[target.id]["visits"] > before[target.id]["visits"]


def test_the_rollup_equals_a_rebuild_from_scratch(
        synced: tuple[Workspace, HubStore, int], hub_server: HubServer) -> None:
    ws, store, commune = synced
    refreshed(store)
    # More records after the first refresh: a visit today, a correction, an answer.
    household = ws.households.list()[0]
    person = ws.people.in_household(household.id)[0]
    item = next(s for s in ws.catalog.support_items() if s.indicator_code)
    member = [ws.catalog.members()[0].id]
    first = ws.visits.add(household.id, [VisitItem(item.code, "done", person.id)],
                          member_ids=member).value
    ws.visits.amend(first.id, [VisitItem(item.code, "partly", person.id)], reason="Chưa xong")
    sync(ws)
    hub_server.stop()  # its refresh thread would take a share of the rebuild counted below
    refreshed(store)
    kept = rollup_tables(store)
    result = figures.rebuild(store.database)
    assert result.left == 0 and result.done >= len(ws.catalog.hamlets())
    assert rollup_tables(store) == kept
    assert_hub_equals_laptop(ws, store, commune, figures.months(store.conn)[:2])


def rollup_tables(store: HubStore) -> dict[str, list[tuple[Any, ...]]]:
    return {table: sorted(tuple(row) for row in store.conn.execute(f"SELECT * FROM {table}"))
            for table in ("figures_hamlet", "figures_items", "figures_indicators",
                          "figures_catalog", "figures_team")}


def test_a_push_marks_what_it_changed_and_the_hub_refreshes_it(
        synced: tuple[Workspace, HubStore, int]) -> None:
    ws, store, _commune = synced
    refreshed(store)
    assert figures.freshness(store.conn).complete
    household = ws.households.list()[0]
    ws.households.update(household.id, notes="Đã đổi số nhà")
    sync(ws)
    dirty = store.conn.execute("SELECT kind, key FROM figures_dirty").fetchall()
    # The hub's own thread may have refreshed it already; if not, it is marked.
    assert [tuple(row) for row in dirty] in ([], [("hamlet", household.hamlet_id)])
    state = figures.ensure_fresh(store.database, seconds=30)
    assert state.complete and state.as_of


def test_a_new_month_marks_everything_and_rows_reach_it(
        synced: tuple[Workspace, HubStore, int], hub_server: HubServer) -> None:
    ws, store, commune = synced
    hub_server.stop()  # its refresh thread lives in this month: the test moves the calendar
    refreshed(store)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=62)
    result = figures.refresh(store.database, now=lambda: later)
    assert result.done >= len(ws.catalog.hamlets())  # every hamlet and team again
    month = figures.current_month(later)
    areas = figures.areas(store.conn, month, commune=commune, level="hamlet")
    assert {a.key for a in areas} == {h.id for h in ws.catalog.hamlets()}
    assert all(a.visits == 0 for a in areas)
    assert any(i.counted > 0 for a in areas for i in a.indicators)
    for hamlet in ws.catalog.hamlets():  # the register counted, as the laptop counts it
        report = build(ws, Period.month(month), hamlet=hamlet.id, breakdown=False)
        assert hub_figures(store, commune, month, hamlet.id) == laptop_figures(
            report.to_dict())


def test_small_counts_are_hidden() -> None:
    assert [figures.shown(n) for n in (0, 1, 4, 5, 120)] == ["<5", "<5", "<5", 5, 120]
    assert figures.shown_share(4, 100) is None
    assert figures.shown_share(50, 4) is None
    assert figures.shown_share(5, None) is None
    assert figures.shown_share(5, 20) == 0.25


def test_a_commune_scope_never_returns_another_commune(
        synced: tuple[Workspace, HubStore, int], hub_server: HubServer) -> None:
    _ws, store, commune = synced
    other = hub_server.admin("team", "add", "--province", "82", "--commune", "28249",
                             "--hamlet", "Ấp Bình Long")
    refreshed(store)
    month = figures.months(store.conn)[0]
    assert {a.commune_code for a in figures.areas(store.conn, month, commune=None,
                                                  level="hamlet")} == {commune, 28249}
    for level in ("commune", "hamlet"):
        found = figures.areas(store.conn, month, commune=commune, level=level)  # type: ignore[arg-type]
        assert found and {a.commune_code for a in found} == {commune}
    assert {t.commune_code for t in figures.team_work(store.conn, month, commune=28249)} == \
        {28249}
    assert [t.team_id for t in figures.sync_status(store.conn, commune=28249, days=0)] == \
        [other["team_id"]]
    assert figures.items(store.conn, month, commune=28249) == [
        i for i in figures.items(store.conn, month, commune=28249) if not (
            i.done or i.partly or i.not_done)]
    assert all(m.visits == 0 for m in figures.trend(store.conn, commune=28249))


def test_targets_the_teams_own_then_the_provinces_and_the_official_population(
        synced: tuple[Workspace, HubStore, int], hub_server: HubServer, tmp_path: Path) -> None:
    ws, store, commune = synced
    indicator = next(i for i in ws.catalog.indicators() if i.target is None)
    ws.catalog.set_target(indicator.code, 0.6)  # the team's own: none is published
    sync(ws)
    refreshed(store)
    month = figures.months(store.conn)[0]

    def targets(level: str) -> set[float | None]:
        return {i.target for a in figures.areas(store.conn, month, commune=commune,
                                                level=level)  # type: ignore[arg-type]
                for i in a.indicators if i.code == indicator.code}

    assert targets("hamlet") == targets("commune") == {0.6}
    assert_hub_equals_laptop(ws, store, commune, [month])
    # The province publishes one: it wins on the laptops (newer) and on the hub.
    row_id = ws.conn.execute("SELECT id FROM indicators WHERE code = ?",
                             (indicator.code,)).fetchone()[0]
    published = tmp_path / "targets.json"
    published.write_text(json.dumps({"table": "indicators", "rows": [
        {"id": row_id, "target": 0.75}]}), encoding="utf-8")
    hub_server.admin("publish", str(published))
    sync(ws)
    refreshed(store)
    assert targets("hamlet") == targets("commune") == {0.75}
    assert_hub_equals_laptop(ws, store, commune, [month])
    # The official population of a hamlet: both shares, clearly apart.
    hamlet = ws.catalog.hamlets()[0]
    meta = ws.meta()
    hub_server.admin("hamlets", "set", "--province", meta["province_code"], "--commune",
                     meta["commune_code"], "--hamlet", hamlet.name, "--population-15", "400",
                     "--population-18", "350")
    area = next(a for a in figures.areas(store.conn, month, commune=commune, level="hamlet")
                if a.key == hamlet.id)
    for figure in area.indicators:
        adults = figures_min_age(ws, figure.code) >= 18
        assert figure.population == (350 if adults else 400)
        assert figure.population_share == round(figure.reached / figure.population, 4)
    (whole,) = figures.areas(store.conn, month, commune=commune)
    assert all(i.population is None for i in whole.indicators)  # other hamlets: unknown


def figures_min_age(ws: Workspace, code: str) -> int:
    return next(i.min_age for i in ws.catalog.indicators() if i.code == code)


def test_an_existing_hub_is_marked_whole_and_computed_at_its_first_refresh(hub_db: str
                                                                           ) -> None:
    """Migration 0012 on a hub that already has teams and hamlets marks every one of them."""
    old = open_database(hub_db)
    old.migrate([m for m in MIGRATIONS if m.name < "0011"])
    with old.write() as conn:
        conn.execute("INSERT INTO teams (id, province_code, commune_code, hamlet, created_at, "
                     "trace_key, bundle_key, kind) VALUES ('t-1', 82, 28261, 'Ấp Mỹ Hưng', "
                     "'2026-01-01T00:00:00+00:00', 'K1', 'key', 'hamlet')")
        conn.execute("INSERT INTO hamlets (id, province_code, commune_code, name, name_key, "
                     "created_at) VALUES ('h-1', 82, 28261, 'Ấp Mỹ Hưng', 'ap my hung', "
                     "'2026-01-01T00:00:00+00:00')")
        conn.execute("INSERT INTO team_hamlets (team_id, hamlet_id) VALUES ('t-1', 'h-1')")
    old.close()
    store = HubStore(hub_db)
    try:
        marked = {tuple(row) for row in store.conn.execute(
            "SELECT kind, key FROM figures_dirty")}
        assert marked == {("hamlet", "h-1"), ("team", "t-1")}
        assert not figures.freshness(store.conn).complete
        figures.refresh(store.database)
        (area,) = figures.areas(store.conn, figures.current_month(), commune=28261,
                                level="hamlet")
        assert (area.key, area.name, area.visits, area.teams) == ("h-1", "Ấp Mỹ Hưng", 0, 1)
        assert [i.counted for i in area.indicators] == [0] * len(area.indicators) != []
    finally:
        store.close()


def test_figures_rebuild_from_the_command_line(synced: tuple[Workspace, HubStore, int],
                                               hub_db: str, hub_server: HubServer) -> None:
    ws, store, _commune = synced
    hub_server.stop()  # its own refresh thread would take a share of the units counted here
    refreshed(store)
    kept = rollup_tables(store)
    with store.database.write() as conn:
        for table in ("figures_hamlet", "figures_items", "figures_indicators",
                      "figures_catalog", "figures_team"):
            conn.execute(f"DELETE FROM {table}")
    result = CliRunner().invoke(cli, ["hub", "--db", hub_db, "figures", "rebuild"])
    assert result.exit_code == 0, result.output
    units = len(ws.catalog.hamlets()) + 1
    assert f"ấp và tổ: đã tính xong {units}/{units}." in result.stderr  # progress lines
    assert f"Đã tính lại số liệu của {units} ấp và tổ." in result.stdout
    assert rollup_tables(store) == kept
    answer = CliRunner().invoke(cli, ["hub", "--db", hub_db, "figures", "rebuild", "--json"])
    assert json.loads(answer.stdout)["left"] == 0


def test_a_refresh_that_lost_its_mark_writes_nothing(
        synced: tuple[Workspace, HubStore, int], hub_server: HubServer) -> None:
    """Two refreshes of one hamlet at once (the hub's thread and a read): the one whose mark
    was cleared or moved meanwhile computed from an older snapshot and must not overwrite."""
    ws, store, _commune = synced
    hub_server.stop()
    refreshed(store)
    hamlet = ws.catalog.hamlets()[0].id
    kept = rollup_tables(store)
    horizon, floor = figures.current_month(), str(store.conn.scalar(
        "SELECT value FROM figures_state WHERE name = 'floor'"))
    with store.database.write() as conn:
        conn.execute("DELETE FROM figures_hamlet WHERE hamlet_id = ?", (hamlet,))
        figures.mark_dirty(conn, hamlets=[hamlet], marked=5)
    figures._refresh_hamlet(store.database, hamlet, 4, horizon, floor)  # a stale mark
    assert not store.conn.execute("SELECT 1 FROM figures_hamlet WHERE hamlet_id = ?",
                                  (hamlet,)).fetchall()
    assert not figures.freshness(store.conn).complete  # still due
    figures._refresh_hamlet(store.database, hamlet, 5, horizon, floor)
    assert figures.freshness(store.conn).complete
    assert rollup_tables(store) == kept


def test_a_retired_indicator_keeps_its_name_for_the_trend(
        synced: tuple[Workspace, HubStore, int], hub_server: HubServer, tmp_path: Path) -> None:
    """The province retires an indicator: the month's figures leave it out, and the trend,
    which reaches back to months when it counted, still names it."""
    ws, store, commune = synced
    indicator = ws.catalog.indicators()[0]
    row_id = ws.conn.execute("SELECT id FROM indicators WHERE code = ?",
                             (indicator.code,)).fetchone()[0]
    published = tmp_path / "retire.json"
    published.write_text(json.dumps({"table": "indicators", "rows": [
        {"id": row_id, "active": 0}]}), encoding="utf-8")
    hub_server.admin("publish", str(published))
    sync(ws)
    refreshed(store)
    month = figures.months(store.conn)[0]
    (whole,) = figures.areas(store.conn, month, commune=commune)
    assert indicator.code not in {i.code for i in whole.indicators}
    names = figures.indicator_names(store.conn, commune=commune)
    assert names[indicator.code] == (indicator.name_vi, indicator.name_en)
