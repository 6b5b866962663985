"""One row per hamlet (issue 10 §1): a hamlet typed on several laptops, before or after they
knew their commune, ends as one row everywhere, with every household on it; a pulled twin of
a laptop's own hamlet never fails on the name index (before, it was quarantined with an
IntegrityError and took its households with it)."""

from __future__ import annotations

import pytest

from dxkit.core.places import hamlet_id
from dxkit.core.synced import record_of
from dxkit.sync import engine
from dxkit.workspace import Workspace

DONG_THAP, MY_THO = "82", "28261"
# A commune team reads every hamlet of its commune: each test takes a commune of its own on
# the module's shared hub.
MY_PHONG, DAO_THANH = "28273", "28249"


@pytest.fixture(autouse=True)
def file_tokens(monkeypatch):
    monkeypatch.setenv("DXKIT_TOKEN_STORE", "file")


@pytest.fixture
def laptops(tmp_path):
    opened: list[Workspace] = []

    def make(name: str) -> Workspace:
        ws = Workspace.open(tmp_path / name)
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        ws.close()


def enroll(hub, ws: Workspace, team: str) -> None:
    code = hub.admin("enroll-code", "--team", team)["code"]
    engine.enroll(ws, hub.url, code, device_name=ws.path.name)


def quarantined(ws: Workspace) -> list[tuple[str, str]]:
    return [tuple(row) for row in ws.conn.execute(
        "SELECT table_name, reason FROM sync_quarantine")]


def live_hamlets(ws: Workspace, key: str) -> list[str]:
    return [row[0] for row in ws.conn.execute(
        "SELECT id FROM hamlets WHERE deleted = 0 AND name_key = ?", (key,))]


def hamlets_of_households(ws: Workspace) -> set[str]:
    return {row[0] for row in ws.conn.execute("SELECT hamlet_id FROM households")}


def sync_all(*laptops: Workspace, rounds: int = 2) -> None:
    for _round in range(rounds):
        for ws in laptops:
            report = engine.sync(ws)
            assert report.quarantined == 0, (ws.path.name, quarantined(ws))


def test_a_hamlet_typed_before_enrolling_merges_into_the_teams(module_hub, laptops):
    """Two laptops of the team of Ấp Mỹ Đông typed their hamlet (and a household each)
    before they were enrolled: each row had its own id. Enrolling brings the hub's row of
    the hamlet; the laptop's own, never sent, gives way to it and its household moves."""
    team = module_hub.admin("team", "add", "--province", DONG_THAP, "--commune", MY_THO,
                            "--hamlet", "Ấp Mỹ Đông")["team_id"]
    a, b = laptops("a"), laptops("b")
    for number, ws in enumerate((a, b)):
        ws.catalog.add_hamlet("Ấp Mỹ Đông")
        ws.households.add(code=f"MĐ-{number}", head_name="Nguyễn Văn An", hamlet="ap my dong")
    typed = {live_hamlets(ws, "ap my dong")[0] for ws in (a, b)}
    canonical = hamlet_id(MY_THO, "Ấp Mỹ Đông")
    assert len(typed) == 2 and canonical not in typed
    for ws in (a, b):
        enroll(module_hub, ws, team)
        assert live_hamlets(ws, "ap my dong") == [canonical]
        assert hamlets_of_households(ws) == {canonical}
        # The row typed here never left this laptop: it is gone, with its queued insert.
        assert ws.conn.execute("SELECT count(*) FROM hamlets").fetchone()[0] == 1
    sync_all(a, b)
    for ws in (a, b):
        assert quarantined(ws) == []
        assert ws.households.count() == 2
        assert hamlets_of_households(ws) == {canonical}
        assert ws.pending_changes() == 0


def test_a_new_hamlet_two_laptops_of_a_commune_team_typed_is_one_row(module_hub, laptops):
    """Laptops of a commune team know their commune: the same new hamlet typed on both
    offline has the same id, and its fields merge like any row's."""
    team = module_hub.admin("team", "add", "--province", DONG_THAP, "--commune", MY_PHONG
                            )["team_id"]
    a, b = laptops("a"), laptops("b")
    for ws in (a, b):
        enroll(module_hub, ws, team)
    for number, ws in enumerate((a, b)):
        ws.catalog.add_hamlet("Ấp Tân Thuận Mới")
        ws.households.add(code=f"TTM-{number}", head_name="Trần Văn Bé",
                          hamlet="Ấp Tân Thuận Mới")
    assert live_hamlets(a, "ap tan thuan moi") == live_hamlets(b, "ap tan thuan moi") == [
        hamlet_id(MY_PHONG, "ấp tân thuận mới")]
    sync_all(a, b)
    for ws in (a, b):
        assert ws.households.count() == 2 and quarantined(ws) == []
    listed = {t["id"]: t for t in module_hub.admin("team", "list")}[team]
    assert "Ấp Tân Thuận Mới" in {h["name"] for h in listed["hamlets"]}


def test_twin_hamlets_both_on_the_hub_become_one_everywhere(module_hub, laptops):
    """Laptops of a commune team typed one new hamlet before they were enrolled (different
    ids, commune unknown), and both rows reached the hub (b synced; a's push crossed it).
    Each laptop then pulls the other's row: no failure on the name index; both pick the same
    survivor (the smaller id: neither is the one the hub would give), move their households
    to it and delete the other row, and the hub follows."""
    team = module_hub.admin("team", "add", "--province", DONG_THAP, "--commune", DAO_THANH
                            )["team_id"]
    a, b = laptops("a"), laptops("b")
    for number, ws in enumerate((a, b)):
        ws.catalog.add_hamlet("Khóm Bờ Sông")
        ws.households.add(code=f"BS-{number}", head_name="Lê Thị Ba", hamlet="Khóm Bờ Sông")
        enroll(module_hub, ws, team)
    twins = sorted({live_hamlets(ws, "khom bo song")[0] for ws in (a, b)})
    engine.sync(b)
    with engine.client_for(a) as client:  # a pushes without pulling b's row first
        engine._push(a, client, engine.SyncReport(), None)
    assert a.pending_changes() == 0
    sync_all(a, b, rounds=3)
    for ws in (a, b):
        assert quarantined(ws) == []
        assert live_hamlets(ws, "khom bo song") == [twins[0]]
        assert hamlets_of_households(ws) == {twins[0]}
        loser = record_of(ws.conn, "hamlets", twins[1])
        assert loser is not None and loser["fields"]["deleted"] == 1
        assert ws.households.count() == 2
    assert record_of(a.conn, "hamlets", twins[1]) == record_of(b.conn, "hamlets", twins[1])
    names = {h["id"]: h for h in module_hub.admin("hamlets", "list", "--province", DONG_THAP,
                                                  "--commune", DAO_THANH)}
    assert names[twins[1]]["deleted"] and not names[twins[0]]["deleted"]
