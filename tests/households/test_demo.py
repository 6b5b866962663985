"""The generated demo workspace: size, realism, validity, determinism, and fill's safety."""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import pytest

from dxkit import demo
from dxkit.core.errors import Cancelled, DxError
from dxkit.core.phones import normalize_phone
from dxkit.core.progress import Progress
from dxkit.households.cccd import validate_cccd
from dxkit.workspace import Workspace

FROZEN_NOW = dt.datetime(2026, 11, 20, 9, 30)  # as in conftest's fresh_ws

TEXT_COLUMNS = {
    "hamlets": ("name",), "team_members": ("name",),
    "households": ("code", "head_name", "address", "notes"),
    "people": ("full_name", "relationship", "notes", "consent_by"),
    "visits": ("notes", "reason", "recorded_by"), "visit_items": ("reason",),
}


@pytest.fixture(scope="module")
def full_demo(tmp_path_factory: pytest.TempPathFactory):
    """The default-size demo, generated once for the read-only checks."""
    ws = Workspace.open(tmp_path_factory.mktemp("demo") / "ws")
    ws.freeze_time(FROZEN_NOW)
    summary = demo.generate(ws, seed=1)
    yield ws, summary
    ws.close()


def test_default_size_is_near_the_targets(full_demo):
    ws, summary = full_demo
    assert summary.households == 600 == ws.households.count()
    assert 1700 <= summary.people <= 2300
    assert summary.people == ws.people.count()
    assert 1275 <= summary.visits <= 1725
    assert summary.to_dict() == {"households": summary.households, "people": summary.people,
                                 "visits": summary.visits,
                                 "overdue_follow_ups": summary.overdue_follow_ups}
    assert ws.meta()["demo"] == "1"
    assert ws.team_place() == ("Đồng Tháp", "Xã Mỹ Thọ")
    assert 6 <= len(ws.catalog.hamlets()) <= 8
    assert 5 <= len(ws.catalog.members()) <= 6


def test_generation_restores_the_pinned_time(full_demo):
    ws, _summary = full_demo
    assert ws.now() == FROZEN_NOW


def test_all_stored_text_is_nfc(full_demo):
    ws, _summary = full_demo
    for table, columns in TEXT_COLUMNS.items():
        for row in ws.conn.execute(f"SELECT {', '.join(columns)} FROM {table}"):
            for value in row:
                if value:
                    assert unicodedata.normalize("NFC", value) == value, (table, value)


def test_names_are_vietnamese_with_diacritics(full_demo):
    ws, _summary = full_demo
    names = [r[0] for r in ws.conn.execute("SELECT full_name FROM people")]
    with_marks = [n for n in names if not n.isascii()]
    assert len(with_marks) / len(names) > 0.8
    assert all(2 <= len(n.split()) <= 5 for n in names)
    surnames = {n.split()[0] for n in names}
    assert {"Nguyễn", "Trần", "Lê", "Huỳnh", "Võ"} <= surnames
    assert len(set(names)) > len(names) / 3  # varied, not a handful of names repeated


def test_families_are_plausible(full_demo):
    ws, _summary = full_demo
    conn = ws.conn
    heads = conn.execute("SELECT household_id, count(*) FROM people WHERE relationship = "
                         "'Chủ hộ' GROUP BY household_id").fetchall()
    assert len(heads) == 600 and all(r[1] == 1 for r in heads)
    assert conn.execute("SELECT count(*) FROM people WHERE relationship = 'Vợ' AND sex != 'F'"
                        ).fetchone()[0] == 0
    relationships = {r[0] for r in conn.execute("SELECT DISTINCT relationship FROM people")}
    assert {"Chủ hộ", "Vợ", "Chồng", "Con", "Cháu"} <= relationships
    ages = [FROZEN_NOW.year - r[0] for r in conn.execute("SELECT birth_year FROM people")]
    assert min(ages) >= 0 and max(ages) <= 110
    consented = conn.execute("SELECT avg(consent) FROM people").fetchone()[0]
    assert 0.8 < consented < 1.0
    # Heads match households, addresses name the hamlet, some have GPS inside Đồng Tháp.
    for household in ws.households.list()[:50]:
        assert household.hamlet in household.address
    points = conn.execute("SELECT latitude, longitude FROM households WHERE latitude IS NOT NULL"
                          ).fetchall()
    assert points and all(10.3 < lat < 10.6 and 105.5 < lon < 105.9 for lat, lon in points)


def test_phones_and_citizen_ids_pass_validation(full_demo):
    ws, _summary = full_demo
    conn = ws.conn
    phones = [r[0] for r in conn.execute(
        "SELECT phone FROM people WHERE phone != '' UNION ALL "
        "SELECT phone FROM households WHERE phone != ''")]
    assert len(phones) > 500
    assert all(normalize_phone(p) == p and len(p) == 10 for p in phones)
    ids = conn.execute("SELECT cccd, birth_year, sex, consent FROM people WHERE cccd != ''"
                       ).fetchall()
    assert len(ids) >= 10
    for cccd, year, sex, consent in ids:
        assert validate_cccd(cccd, year, sex) == cccd
        assert cccd[:3] in ("087", "082") and consent == 1


def test_visits_are_spread_and_use_the_catalog(full_demo):
    ws, _summary = full_demo
    visits = ws.visits.list()
    codes = {s.code for s in ws.catalog.support_items()}
    members = {m.id for m in ws.catalog.members()}
    oldest = min(v.visited_at for v in visits)
    assert FROZEN_NOW - dt.timedelta(days=200) < oldest < FROZEN_NOW - dt.timedelta(days=150)
    assert max(v.visited_at for v in visits) <= FROZEN_NOW
    outcomes = {"done": 0, "partly": 0, "not_done": 0}
    for visit in visits:
        assert 1 <= len({i.person_id for i in visit.items}) <= 3
        assert set(visit.member_ids) <= members and visit.member_ids
        residents = {p.id for p in ws.people.in_household(visit.household_id)}
        for item in visit.items:
            assert item.support_item_code in codes and item.person_id in residents
            assert item.outcome != "not_done" or item.reason
            outcomes[item.outcome] += 1
    assert outcomes["done"] > outcomes["partly"] + outcomes["not_done"] > 0
    assert sum(1 for v in visits if v.notes) > 50


def test_follow_ups_are_overdue_due_soon_or_met(full_demo):
    ws, summary = full_demo
    open_ones = ws.visits.follow_ups(within_days=7)
    overdue = [f for f in open_ones if f.overdue]
    assert len(overdue) == summary.overdue_follow_ups > 5
    assert any(-7 <= f.overdue_days <= 0 for f in open_ones)
    with_follow_up = ws.conn.execute(
        "SELECT count(*) FROM visits WHERE follow_up_on IS NOT NULL AND kind = 'visit'"
    ).fetchone()[0]
    later = ws.visits.follow_ups(within_days=400)
    assert with_follow_up > len(later) + 20  # many were met by a later visit


def test_corrections_and_indicator_answers(full_demo):
    ws, _summary = full_demo
    kinds = dict(ws.conn.execute("SELECT kind, count(*) FROM visits GROUP BY kind").fetchall())
    assert kinds.get("amend") == 1 and kinds.get("void") == 1
    assert ws.conn.execute("SELECT count(*) FROM indicator_answers").fetchone()[0] >= 5
    reached = {r.code: r.reached for r in ws.indicators.rollup()}
    assert reached["vneid_level2"] > 0 and reached["payment_account"] > 0


def _people_snapshot(ws: Workspace) -> list[tuple]:
    return [tuple(r) for r in ws.conn.execute(
        "SELECT h.code, p.full_name, p.birth_year, p.phone FROM people p "
        "JOIN households h ON h.id = p.household_id ORDER BY h.code_key, p.local_id")]


def test_same_seed_gives_the_same_demo(tmp_path: Path):
    snapshots = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        with Workspace.open(tmp_path / name) as ws:
            ws.freeze_time(FROZEN_NOW)
            summary = demo.generate(ws, seed=seed, households=30)
            snapshots.append((summary, _people_snapshot(ws)))
    assert snapshots[0] == snapshots[1]
    assert snapshots[0][1] != snapshots[2][1]


def test_fill_creates_refills_and_keeps_when_asked(tmp_path: Path):
    path = tmp_path / "demo"
    first = demo.fill(path, households=20, seed=3)
    assert first is not None and first.households == 20
    with Workspace.open(path) as ws:
        first_ids = {h.id for h in ws.households.list()}
    assert demo.fill(path, households=20, seed=3, if_empty=True) is None
    with Workspace.open(path) as ws:
        assert {h.id for h in ws.households.list()} == first_ids
    again = demo.fill(path, households=25, seed=3)
    assert again is not None and again.households == 25
    with Workspace.open(path) as ws:
        ids = {h.id for h in ws.households.list()}
        assert len(ids) == 25 and not ids & first_ids
        assert len(ws.catalog.hamlets()) == len(demo.HAMLETS)  # not doubled by the refill


def test_fill_refuses_to_overwrite_real_data(ws: Workspace):
    household = ws.households.add(code="MH-001", head_name="Nguyễn Văn An",
                                  hamlet="Ấp Mỹ Hưng").value
    ws.close()
    with pytest.raises(DxError) as raised:
        demo.fill(ws.path, households=10)
    assert "dữ liệu thật" in raised.value.message
    with Workspace.open(ws.path) as again:
        assert [h.id for h in again.households.list()] == [household.id]
        assert "demo" not in again.meta()


def test_cancelling_leaves_the_workspace_empty(fresh_ws: Workspace):
    progress = Progress(on_change=lambda value, maximum, label: (
        progress.cancel() if value >= 100 else None))
    with pytest.raises(Cancelled):
        demo.generate(fresh_ws, households=200, progress=progress)
    assert fresh_ws.households.count() == 0 and fresh_ws.people.count() == 0
    assert fresh_ws.catalog.hamlets() == [] and "demo" not in fresh_ws.meta()
    assert fresh_ws.now() == FROZEN_NOW
    # The emptied workspace still takes a demo afterwards.
    assert demo.generate(fresh_ws, households=10).households == 10


def test_progress_reports_labels_up_to_the_end(fresh_ws: Workspace):
    seen: list[tuple[int, int, str]] = []
    demo.generate(fresh_ws, households=60,
                  progress=Progress(on_change=lambda *snap: seen.append(snap)))
    labels = [label for _v, _m, label in seen]
    assert labels[0] == "Đang tạo các hộ mẫu…"
    assert seen[-1][0] == seen[-1][1] > 0


def test_demo_goes_into_a_configured_but_empty_workspace(ws: Workspace):
    """Hamlets the team already had (e.g. 'Ấp Mỹ Hưng', 'Khóm 3') do not clash with the demo's."""
    summary = demo.generate(ws, households=40, seed=2)
    assert summary.households == 40
    hamlets = {h.name for h in ws.catalog.hamlets()}
    assert {"Khóm 3", "Ấp Đông Hòa"} | {name for name, _lat, _lon in demo.HAMLETS} <= hamlets
    codes = [h.code for h in ws.households.list()]
    assert len(set(codes)) == 40 and all(c[:2].isalpha() and c[2] == "-" for c in codes)


def test_generate_dates_from_the_given_now_and_leaves_the_clock_alone(fresh_ws):
    """The UI reads ws.now() on its own thread while the demo is written: the workspace clock
    must never be frozen for it (it once was, for every thread)."""
    fresh_ws.freeze_time(None)  # the real clock, as in the app
    pinned = []
    progress = Progress(on_change=lambda *_args: pinned.append(fresh_ws._fixed_now))
    now = dt.datetime(2026, 6, 1, 10, 15)
    summary = demo.generate(fresh_ws, seed=3, households=20, progress=progress, now=now)
    assert pinned and set(pinned) == {None}
    assert fresh_ws._fixed_now is None
    times = [v.visited_at for v in fresh_ws.visits.list()]
    assert max(times) <= now and min(times) > now - dt.timedelta(days=200)
    assert summary.households == 20


def test_generate_into_empty_returns_the_changes_and_refuses_real_data(fresh_ws):
    result = demo.generate_into_empty(fresh_ws, households=12)
    assert result.value.households == 12 == fresh_ws.households.count()
    assert len(result.changes.created["households"]) == 12
    assert result.changes.touched("people") and result.changes.touched("visits")
    with pytest.raises(DxError):
        demo.generate_into_empty(fresh_ws, households=12)
    assert fresh_ws.households.count() == 12

