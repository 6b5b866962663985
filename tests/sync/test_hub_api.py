"""The provincial systems' JSON API (hub/api.py) on a real hub process, SQLite and
PostgreSQL: every answer scanned for the demo's names, phones, ID numbers, addresses and
record ids (none may appear); small cells hidden; a commune-restricted call never returns
another commune; tokens and parameters refused with one sentence."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dxkit.sync.hub import figures
from dxkit.sync.hub.store import HubStore
from dxkit.workspace import Workspace
from tests.sync.conftest import HubServer
from tests.sync.test_hub_figures import demo_laptop, refreshed

HUB_BACKENDS = ("sqlite", "postgresql")
SQLITE_ONLY = {"test_tokens_and_parameters_are_refused_with_a_sentence"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
OTHER_COMMUNE = 28249  # Tây Ninh's Mỹ An Hưng: a team with nothing recorded yet


@pytest.fixture(autouse=True)
def file_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DXKIT_TOKEN_STORE", "file")


@pytest.fixture
def province(tmp_path: Path, hub_server: HubServer, hub_db: str
             ) -> Iterator[tuple[Workspace, HubStore, int, str]]:
    """The demo laptop synced with the hub, a second commune's team, and a consumer's
    token."""
    ws, commune = demo_laptop(tmp_path / "laptop", hub_server)
    hub_server.admin("team", "add", "--province", "82", "--commune", str(OTHER_COMMUNE),
                     "--hamlet", "Ấp Bình Long")
    token = hub_server.admin("consumers", "add", "Trung tâm điều hành", "--json")["token"]
    store = HubStore(hub_db)
    try:
        yield ws, store, commune, str(token)
    finally:
        store.close()
        ws.close()


def get(hub: HubServer, path: str, token: str | None, **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.get(f"{hub.url}/api/v1/{path}", params=params, headers=headers, timeout=30)


def personal_strings(ws: Workspace) -> set[str]:
    """Every name, phone, ID number and address the laptop holds, and every record id."""
    found: set[str] = set()
    queries = ("SELECT full_name, phone, cccd, notes FROM people",
               "SELECT head_name, phone, address, code FROM households",
               "SELECT name, phone, '', '' FROM team_members",
               "SELECT id, '', '', '' FROM people", "SELECT id, '', '', '' FROM households",
               "SELECT id, '', '', '' FROM visits")
    for sql in queries:
        for row in ws.conn.execute(sql):
            found |= {str(value) for value in row if value and len(str(value)) >= 6}
    return found


def test_every_answer_is_aggregates_only(province: tuple[Workspace, HubStore, int, str],
                                         hub_server: HubServer) -> None:
    ws, store, commune, token = province
    refreshed(store)
    months = figures.months(store.conn)
    answers: list[httpx.Response] = []
    for month in months:
        for level in ("commune", "hamlet"):
            answers.append(get(hub_server, "indicators", token, period=month, level=level))
            answers.append(get(hub_server, "activity", token, period=month, level=level,
                               commune=commune))
        answers.append(get(hub_server, "teams", token, period=month))
    answers += [get(hub_server, "trend", token, months=24),
                get(hub_server, "trend", token, commune=commune),
                get(hub_server, "sync-status", token, days=0)]
    assert all(answer.status_code == 200 for answer in answers), [
        a.text for a in answers if a.status_code != 200]
    secrets = personal_strings(ws)
    assert len(secrets) > 100
    for answer in answers:
        text = answer.text
        leaked = [s for s in secrets if s in text]
        assert not leaked, (answer.url, leaked[:5])
        # No 9-to-12-digit run (a phone or a citizen ID) outside the hamlets' UUID keys.
        assert not re.search(r"\d{9,}", UUID.sub("", text)), answer.url
        check_small_cells(answer.json())
    # The figures are there: the busiest month's visits, hamlets' indicators.
    busiest = max(months, key=lambda m: sum(
        a.visits for a in figures.areas(store.conn, m, commune=commune)))
    activity = get(hub_server, "activity", token, period=busiest, commune=commune).json()
    (area,) = activity["areas"]
    visits = sum(a.visits for a in figures.areas(store.conn, busiest, commune=commune))
    assert area["visits"] == figures.shown(visits) and visits >= 5
    hamlets = get(hub_server, "indicators", token, period=busiest, commune=commune,
                  level="hamlet").json()
    assert {a["key"] for a in hamlets["areas"]} == {h.id for h in ws.catalog.hamlets()}
    assert hamlets["complete"] is True and hamlets["as_of"]


def check_small_cells(value: Any) -> None:
    """Counts are "<5" or at least 5; a share is shown only over counts of 5 or more."""
    if isinstance(value, list):
        for item in value:
            check_small_cells(item)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if key in ("visits", "households_reached", "people_helped", "followups_overdue",
                   "reached", "counted", "done", "partly", "not_done",
                   *figures.TEAM_FIGURES):
            assert item == "<5" or (isinstance(item, int) and item >= 5), (key, item)
        else:
            check_small_cells(item)
    if "share" in value and value["share"] is not None:
        assert isinstance(value["reached"], int) and isinstance(value["counted"], int)


def test_a_commune_restricted_call_never_returns_another_commune(
        province: tuple[Workspace, HubStore, int, str], hub_server: HubServer) -> None:
    _ws, store, commune, token = province
    refreshed(store)
    month = figures.months(store.conn)[0]
    everything = get(hub_server, "indicators", token, period=month, level="hamlet").json()
    assert {a["commune_code"] for a in everything["areas"]} == {commune, OTHER_COMMUNE}
    for wanted in (commune, OTHER_COMMUNE):
        for path, params in (("indicators", {"period": month, "level": "hamlet"}),
                             ("indicators", {"period": month}),
                             ("activity", {"period": month, "level": "hamlet"}),
                             ("teams", {"period": month}), ("sync-status", {"days": 0})):
            answer = get(hub_server, path, token, commune=wanted, **params).json()
            rows = answer.get("areas", answer.get("teams"))
            assert rows and {r["commune_code"] for r in rows} == {wanted}, (path, wanted)
    quiet = get(hub_server, "activity", token, period=month, commune=OTHER_COMMUNE).json()
    assert all(i["done"] == "<5" for i in quiet["items"])
    trend = get(hub_server, "trend", token, commune=OTHER_COMMUNE).json()
    assert all(m["visits"] == "<5" for m in trend["months"])


def test_tokens_and_parameters_are_refused_with_a_sentence(
        hub_server: HubServer) -> None:
    token = hub_server.admin("consumers", "add", "Nền tảng chia sẻ", "--json")["token"]
    listed = hub_server.admin("consumers", "list", "--json")
    assert [c["name"] for c in listed] == ["Nền tảng chia sẻ"]
    assert token not in str(listed)
    assert get(hub_server, "trend", token).status_code == 200
    for bad_token in (None, "not-a-token", token + "x"):
        answer = get(hub_server, "trend", bad_token)
        assert answer.status_code == 401 and answer.json()["error"] == "unauthorized"
    refusals = [("indicators", {}), ("indicators", {"period": "2026-13"}),
                ("indicators", {"period": "03/2026"}),
                ("indicators", {"period": "2026-03", "level": "province"}),
                ("indicators", {"period": "2026-03", "commune": "Mỹ Thọ"}),
                ("activity", {"period": "2026-03", "hamlet": "x"}),
                ("trend", {"months": "0"}), ("trend", {"months": "x"}),
                ("sync-status", {"days": "-1"})]
    for path, params in refusals:
        answer = get(hub_server, path, token, **params)
        assert answer.status_code == 400, (path, params, answer.text)
        body = answer.json()
        assert body["error"] == "bad_request" and body["message"].endswith(".")
        assert "\n" not in body["message"]
    twice = httpx.get(f"{hub_server.url}/api/v1/trend?months=2&months=3",
                      headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert twice.status_code == 400
    unknown = get(hub_server, "indicators", token, period="2026-03", commune="1")
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    hub_server.admin("consumers", "disable", "nền tảng chia sẻ")
    assert get(hub_server, "trend", token).status_code == 401
