"""The monthly report's figures against a hand tally of the raw tables, on the demo and on
hand-made visits with corrections recorded in and after the period."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from dxkit import demo
from dxkit.core.errors import DxError, NotFound
from dxkit.core.hlc import Clock
from dxkit.households.visits import VisitItem
from dxkit.reports.monthly import HUB_TEAM_HAMLET_META, Period, build
from dxkit.workspace import Workspace
from tests.reports.tally import compare, tally


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    folder = tmp_path_factory.mktemp("demo")
    demo.fill(folder, households=150)
    ws = Workspace.open(folder, readonly=True)
    yield ws
    ws.close()


@pytest.mark.parametrize("month", ["2026-06", "2026-09", "2026-10", "2026-11", "2026-12"])
def test_demo_months_match_the_hand_tally(demo_ws: Workspace, month: str) -> None:
    period = Period.month(month)
    report = build(demo_ws, period).to_dict()
    compare(report, tally(demo_ws.conn, period.start, period.end))
    assert report["visits"] > 0 or month == "2026-06"


def test_each_hamlet_matches_the_hand_tally_and_adds_up(demo_ws: Workspace) -> None:
    period = Period.month("2026-11")
    whole = build(demo_ws, period).to_dict()
    hamlets = demo_ws.catalog.hamlets()
    assert len(hamlets) > 1
    visits = 0
    for hamlet in hamlets:
        report = build(demo_ws, period, hamlet=hamlet.name).to_dict()
        compare(report, tally(demo_ws.conn, period.start, period.end, hamlet.id))
        assert report["hamlet"] == hamlet.name
        assert [h["name"] for h in report["hamlets"]] == [hamlet.name]
        row = next(h for h in whole["hamlets"] if h["id"] == hamlet.id)
        assert (row["visits"], row["households_reached"], row["followups_overdue"]) == (
            report["visits"], report["households_reached"], report["followups_overdue"])
        assert row["indicators"] == report["indicators"]
        visits += report["visits"]
    assert visits == whole["visits"]


def test_lots_and_labels_of_the_demo(demo_ws: Workspace) -> None:
    lots = demo_ws.farm.lots.all()
    labels = demo_ws.conn.execute("SELECT printed_at, copies FROM label_prints").fetchall()
    assert lots and labels
    months = {lot.pack_date.isoformat()[:7] for lot in lots} | {r[0][:7] for r in labels}
    for month in sorted(months):
        period = Period.month(month)
        report = build(demo_ws, period).to_dict()
        compare(report, tally(demo_ws.conn, period.start, period.end))
        packed = [lot for lot in lots if lot.pack_date.isoformat()[:7] == month]
        assert report["lots"] == {"compliant": sum(1 for lot in packed if lot.compliant),
                                  "refused": sum(1 for lot in packed if not lot.compliant)}
        assert report["labels_printed"] == sum(c for at, c in labels if at[:7] == month)


def test_classes_and_diary_of_the_demo(demo_ws: Workspace) -> None:
    """The months holding roll-calls, certificates and diary entries match the hand tally, and
    add up to the whole of them."""
    conn = demo_ws.conn
    months = sorted({r[0][:7] for r in conn.execute(
        "SELECT on_date FROM lesson_events UNION SELECT issued_on FROM certificates "
        "UNION SELECT on_date FROM diary_entries")})
    totals = Counter[str]()
    for month in months:
        period = Period.month(month)
        report = build(demo_ws, period).to_dict()
        compare(report, tally(conn, period.start, period.end))
        totals.update({**report["classes"], "diary_entries": report["diary_entries"]})
    assert totals["sessions"] == conn.execute(
        "SELECT count(*) FROM (SELECT DISTINCT class_id, on_date FROM lesson_events "
        "WHERE kind IN ('present', 'absent'))").fetchone()[0] > 0
    assert totals["certificates_issued"] == conn.execute(
        "SELECT count(*) FROM certificates WHERE deleted = 0").fetchone()[0] > 0
    # The demo's diary corrections are recorded after their month: each month counts its
    # entries as recorded, the void and the amendment are not folded in.
    assert totals["diary_entries"] == conn.execute(
        "SELECT count(*) FROM diary_entries WHERE action = 'record'").fetchone()[0] > 0
    assert conn.execute("SELECT count(*) FROM diary_entries WHERE action != 'record'"
                        ).fetchone()[0] > 0
    assert totals["learners_attended"] > 0


def test_learners_completed_over_the_whole_course(demo_ws: Workspace) -> None:
    """Over a period holding every lesson event, the learners who completed are those the
    derived progress says have completed (the demo corrects no lesson event later)."""
    first, last = demo_ws.conn.execute(
        "SELECT min(on_date), max(on_date) FROM lesson_events").fetchone()
    completed = demo_ws.conn.execute(
        "SELECT count(*) FROM class_progress p JOIN class_learners l ON l.class_id = "
        "p.class_id AND l.person_id = p.person_id AND l.deleted = 0 JOIN classes c ON "
        "c.id = p.class_id AND c.deleted = 0 WHERE p.completed = 1").fetchone()[0]
    assert completed > 0
    whole = build(demo_ws, Period.between(dt.date.fromisoformat(first),
                                          dt.date.fromisoformat(last)))
    assert whole.learners_completed == completed
    # Nobody completed before the first lesson; month by month the completions add up when
    # nobody loses a completion.
    before = build(demo_ws, Period.between(dt.date(2020, 1, 1),
                                           dt.date.fromisoformat(first) - dt.timedelta(days=1)))
    assert before.learners_completed == 0
    months = sorted({first[:7], last[:7]} | {r[0][:7] for r in demo_ws.conn.execute(
        "SELECT DISTINCT on_date FROM lesson_events")})
    assert sum(build(demo_ws, Period.month(m)).learners_completed for m in months) >= completed


# -- hand-made visits: corrections in and after the period --------------------------------
class Wall:
    """The HLC's wall clock, set by the test: when each event is recorded."""

    def __init__(self) -> None:
        self.at = dt.datetime(2026, 10, 1, 8, 0)

    def ms(self) -> int:
        return int(self.at.timestamp() * 1000)


@pytest.fixture
def team(tmp_path: Path) -> Iterator[tuple[Workspace, Wall]]:
    wall = Wall()
    ws = Workspace.open(tmp_path / "team")
    ws.clock = Clock(ws.clock.device, None, wall_ms=wall.ms)
    ws.freeze_time(dt.datetime(2026, 10, 1, 8, 0))
    ws.configure_team("Đồng Tháp", "Mỹ Tho")
    for name in ("Ấp Mỹ Hưng", "Khóm 3"):
        ws.catalog.add_hamlet(name)
    ws.catalog.add_member("Lê Thị Hoa")
    yield ws, wall
    ws.close()


def at(ws: Workspace, wall: Wall, when: str) -> None:
    moment = dt.datetime.fromisoformat(when)
    ws.freeze_time(moment)
    wall.at = moment


def test_later_corrections_are_listed_not_folded_in(team: tuple[Workspace, Wall]) -> None:
    ws, wall = team
    member = [ws.catalog.members()[0].id]
    item = next(s for s in ws.catalog.support_items() if s.indicator_code)
    other = next(s for s in ws.catalog.support_items() if s.code != item.code)
    one = ws.households.add(code="MH-001", head_name="Nguyễn Văn An",
                            hamlet="Ấp Mỹ Hưng").value
    two = ws.households.add(code="K3-001", head_name="Trần Thị Bình", hamlet="Khóm 3").value
    an = ws.people.add(one.id, full_name="Nguyễn Văn An", birth_year=1970).value
    binh = ws.people.add(two.id, full_name="Trần Thị Bình", birth_year=1980).value
    cuong = ws.people.add(two.id, full_name="Trần Văn Cường", birth_year=2000).value

    def visit(household: str, person: str, outcome: str, when: str,
              follow_up: dt.date | None = None, code: str = item.code) -> str:
        at(ws, wall, when)
        return ws.visits.add(household, [VisitItem(code, outcome, person,  # type: ignore[arg-type]
                                                   "" if outcome != "not_done" else "busy")],
                             visited_at=dt.datetime.fromisoformat(when), member_ids=member,
                             follow_up_on=follow_up).value.id

    # October: four visits; one voided and one amended within October.
    v1 = visit(one.id, an.id, "done", "2026-10-05T09:00", follow_up=dt.date(2026, 10, 20))
    v2 = visit(two.id, binh.id, "done", "2026-10-10T09:00")
    v3 = visit(two.id, cuong.id, "partly", "2026-10-12T09:00", code=other.code)
    v4 = visit(two.id, cuong.id, "not_done", "2026-10-14T09:00", code=other.code)
    at(ws, wall, "2026-10-15T10:00")
    ws.visits.void(v3, reason="Recorded twice")
    at(ws, wall, "2026-10-16T10:00")
    ws.visits.amend(v4, [VisitItem(other.code, "done", cuong.id)], reason="It was done")
    at(ws, wall, "2026-11-02T08:00")
    october = Period.month("2026-10")
    before = build(ws, october).to_dict()
    compare(before, tally(ws.conn, october.start, october.end))
    assert (before["visits"], before["households_reached"], before["people_helped"]) == (3, 2, 3)
    assert before["followups_overdue"] == 1  # An's return date, 20 October, passed
    reached = {i["code"]: i["reached"] for i in before["indicators"]}
    assert reached[item.indicator_code] == 2  # An and Bình
    assert before["corrections"]["visits"] == []

    # November: v2 is voided, v1 amended (the follow-up dropped), the follow-up of v1 closed.
    at(ws, wall, "2026-11-10T10:00")
    void = ws.visits.void(v2, reason="Wrong household").value.id
    at(ws, wall, "2026-11-11T10:00")
    amend = ws.visits.amend(v1, [VisitItem(item.code, "partly", an.id)], reason="Not finished",
                            follow_up_on=None).value.id
    visit(one.id, an.id, "done", "2026-11-12T09:00")

    after = build(ws, october).to_dict()
    compare(after, tally(ws.conn, october.start, october.end))
    corrections = after.pop("corrections")
    before.pop("corrections")
    assert after == before  # the same figures a month later
    assert [(c["id"], c["kind"], c["corrects"], c["visited_on"], c["recorded_on"])
            for c in corrections["visits"]] == [
        (void, "void", v2, "2026-10-10", "2026-11-10"),
        (amend, "amend", v1, "2026-10-05", "2026-11-11")]
    # With every correction applied: v2 gone, An only partly helped by v1 (still helped).
    assert corrections["now"] == {"visits": 2, "households_reached": 2, "people_helped": 2}

    # November's own report applies them: the corrections were recorded before its end.
    november = Period.month("2026-11")
    report = build(ws, november).to_dict()
    compare(report, tally(ws.conn, november.start, november.end))
    assert report["visits"] == 1 and report["corrections"]["visits"] == []
    reached = {i["code"]: i["reached"] for i in report["indicators"]}
    assert reached[item.indicator_code] == 1  # Bình's visit voided; An done in November
    assert report["followups_overdue"] == 0

    # Per hamlet.
    mine = build(ws, october, hamlet="khom 3").to_dict()
    compare(mine, tally(ws.conn, october.start, october.end, two.hamlet_id))
    assert (mine["visits"], mine["households_reached"]) == (2, 1)
    assert [c["corrects"] for c in mine["corrections"]["visits"]] == [v2]


def test_bad_periods_and_hamlets_are_refused(team: tuple[Workspace, Wall]) -> None:
    ws, _wall = team
    for text in ("2026-13", "2026-1", "March", "2026-00", ""):
        with pytest.raises(DxError):
            Period.month(text)
    with pytest.raises(DxError):
        Period.between(dt.date(2026, 10, 2), dt.date(2026, 10, 1))
    with pytest.raises(NotFound):
        build(ws, Period.month("2026-10"), hamlet="Ấp Không Có")
    assert Period.month("2024-02") == Period(dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert Period.month("2026-12").end == dt.date(2026, 12, 31)
    assert Period.month("9999-12").end == dt.date(9999, 12, 31)


def test_start_change_official_population_and_issuer(team: tuple[Workspace, Wall]) -> None:
    ws, wall = team
    member = [ws.catalog.members()[0].id]
    item = next(s for s in ws.catalog.support_items() if s.indicator_code)
    indicator = next(i for i in ws.catalog.indicators() if i.code == item.indicator_code)
    mh, k3 = ws.catalog.hamlet("Ấp Mỹ Hưng"), ws.catalog.hamlet("Khóm 3")
    one = ws.households.add(code="MH-001", head_name="Nguyễn Văn An", hamlet=mh.name).value
    two = ws.households.add(code="K3-001", head_name="Trần Thị Bình", hamlet=k3.name).value
    an = ws.people.add(one.id, full_name="Nguyễn Văn An", birth_year=1970).value
    binh = ws.people.add(two.id, full_name="Trần Thị Bình", birth_year=1980).value
    for person, household, when in ((an, one, "2026-09-20T09:00"),
                                    (binh, two, "2026-10-08T09:00")):
        at(ws, wall, when)
        ws.visits.add(household.id, [VisitItem(item.code, "done", person.id)],
                      visited_at=dt.datetime.fromisoformat(when), member_ids=member)
    at(ws, wall, "2026-11-02T08:00")
    october = Period.month("2026-10")

    # No official figure yet: no share of it, and every hamlet named as lacking it.
    report = build(ws, october).to_dict()
    compare(report, tally(ws.conn, october.start, october.end))
    row = next(i for i in report["indicators"] if i["code"] == indicator.code)
    assert (row["start"]["reached"], row["reached"], row["change"]["reached"]) == (1, 2, 1)
    assert row["start"]["counted"] == row["counted"] == 2
    assert (row["start"]["share"], row["change"]["share"]) == (0.5, 0.5)
    assert row["official"] == {"basis": "adults" if indicator.min_age >= 18 else "15+",
                               "population": None, "share": None,
                               "missing": ["Ấp Mỹ Hưng", "Khóm 3"]}

    # One hamlet's figure: still none overall, Mỹ Hưng's own share shown.
    ws.catalog.set_population(mh.id, 120, 100)
    report = build(ws, october).to_dict()
    compare(report, tally(ws.conn, october.start, october.end))
    row = next(i for i in report["indicators"] if i["code"] == indicator.code)
    assert (row["official"]["population"], row["official"]["missing"]) == (None, ["Khóm 3"])
    own = next(h for h in report["hamlets"] if h["id"] == mh.id)
    mine = next(i for i in own["indicators"] if i["code"] == indicator.code)
    figure = 100 if indicator.min_age >= 18 else 120
    assert mine["official"]["population"] == figure
    assert mine["official"]["share"] == round(1 / figure, 4)
    assert (mine["start"]["reached"], mine["change"]["reached"]) == (1, 0)

    # Both: summed, and the share of it reached.
    ws.catalog.set_population(k3.id, 80, 60)
    report = build(ws, october).to_dict()
    compare(report, tally(ws.conn, october.start, october.end))
    row = next(i for i in report["indicators"] if i["code"] == indicator.code)
    total = 160 if indicator.min_age >= 18 else 200
    assert row["official"] == {"basis": "adults" if indicator.min_age >= 18 else "15+",
                               "population": total, "share": round(2 / total, 4),
                               "missing": []}
    for place in (mh, k3):
        mine_report = build(ws, october, hamlet=place.name).to_dict()
        compare(mine_report, tally(ws.conn, october.start, october.end, place.id))

    # Who issues it: the commune and province; a hamlet team names its hamlet.
    assert report["issuer"]["commune"] == "Phường Mỹ Tho"
    assert report["issuer"]["province"] == "Đồng Tháp"
    assert report["issuer"]["kind"] is None and report["issuer"]["hamlet"] is None
    with ws.transaction():
        ws.set_meta("sync_team_kind", "hamlet")
        ws.set_meta(HUB_TEAM_HAMLET_META, "Khóm 3")
    issued = build(ws, october)
    assert issued.issuer is not None and issued.issuer.team_hamlet == "Khóm 3"
    assert issued.to_dict()["issuer"]["kind"] == "hamlet"
    assert "Khóm 3" in issued.issuer.team
    assert issued.issued_on == dt.date(2026, 11, 2)


def test_the_team_hamlet_is_read_under_the_sync_layer_s_key() -> None:
    from dxkit.sync.apply import META_HAMLET

    assert HUB_TEAM_HAMLET_META == META_HAMLET


def test_classes_and_diary_of_a_past_month_stay_after_later_voids(tmp_path: Path) -> None:
    """A roll-call mark and a diary entry voided after their month: the month's report keeps
    its figures (classes, diary, everything), while a period reaching past the voids drops
    them."""
    demo.fill(tmp_path / "ws", households=60)
    ws = Workspace.open(tmp_path / "ws")
    try:
        this_month = ws.today().strftime("%Y-%m")
        mark = ws.conn.execute(
            "SELECT e.id, substr(e.on_date, 1, 7) FROM lesson_events e JOIN class_learners l "
            "ON l.class_id = e.class_id AND l.person_id = e.person_id AND l.deleted = 0 "
            "WHERE e.kind = 'present' AND substr(e.on_date, 1, 7) < ? AND NOT EXISTS ("
            "SELECT 1 FROM lesson_events c WHERE c.corrects = e.id) ORDER BY e.on_date",
            (this_month,)).fetchone()
        entry = ws.conn.execute(
            "SELECT d.id, substr(d.on_date, 1, 7), d.on_date FROM diary_entries d "
            "WHERE d.action = 'record' AND NOT EXISTS (SELECT 1 FROM diary_entries c "
            "WHERE c.corrects = d.id) ORDER BY d.on_date").fetchone()
        assert mark is not None and entry is not None
        months = [Period.month(mark[1]), Period.month(entry[1])]
        since = Period.between(dt.date.fromisoformat(entry[2]), ws.today())
        before = [build(ws, period).to_dict() for period in months]
        long_before = build(ws, since).diary_entries
        ws.lessons.void(mark[0], note="Marked the wrong learner")
        ws.farm.diary.void(entry[0], reason="Recorded twice")
        for period, earlier in zip(months, before, strict=True):
            later = build(ws, period).to_dict()
            compare(later, tally(ws.conn, period.start, period.end))
            assert later == earlier
        assert before[0]["classes"]["sessions"] > 0 and before[1]["diary_entries"] > 0
        assert build(ws, since).diary_entries == long_before - 1
    finally:
        ws.close()
