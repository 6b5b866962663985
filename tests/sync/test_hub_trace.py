"""The hub serves a lot's published trace record at the URL in the label's QR code: HTML for a
phone, JSON on request, no token — against a real hub process (SQLite; the first tests also
on PostgreSQL, the production store). Trace URLs name the team (/t/<team key>/<lot code>):
teams whose lot codes coincide each keep their own lot, and labels printed before keys still
resolve where that is safe."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest

from dxkit.core.synced import REGISTRY, wire_fields
from dxkit.farm.gs1 import digital_link, lot_trace_url
from dxkit.farm.trace_html import trace_json
from dxkit.farm.trace_ids import team_trace_key
from dxkit.farm.trace_record import TraceRecord
from dxkit.sync import engine
from dxkit.sync.hub.database import open_database
from dxkit.sync.hub.store import MIGRATIONS, HubStore
from dxkit.workspace import Workspace
from tests.farm.trace_samples import failed_lot, mango_lot, rice_lot
from tests.support.hub_process import HubServer, start_hub
from tests.support.tools import require_tool

MY_THO = ("--province", "82", "--commune", "28261")
RICE = "MD-261120-007-0"
DEVICE = "a1b2c3d4e5f60718"


def published(record: TraceRecord, ms: int = 1, deleted: int = 0,
              snapshot: str | None = None) -> dict[str, Any]:
    """The published_traces row of a lot as a laptop pushes it (every clock at ms)."""
    fields = {"lot_id": record.lot_id, "lot_code": record.lot_code,
              "snapshot": json.dumps(record.to_dict(), ensure_ascii=False)
              if snapshot is None else snapshot,
              "published_at": "2026-11-20T10:00:00+07:00", "deleted": deleted}
    assert set(fields) == set(wire_fields(REGISTRY["published_traces"]))
    clock = f"{ms:012x}-0000-{DEVICE}"
    return {"table": "published_traces", "id": record.lot_code, "kind": "mutable",
            "fields": fields, "clocks": dict.fromkeys(fields, clock), "device_id": DEVICE}


def push(hub, token: str, *records: dict) -> None:
    answer = httpx.post(f"{hub.url}/v1/push", json={"records": list(records)},
                        headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    assert {r["status"] for r in answer.json()["results"]} == {"applied"}, answer.text


class Laptop(NamedTuple):
    """An enrolled laptop: its token, and its team's key in trace URLs."""

    token: str
    key: str


def enroll_laptop(hub: HubServer, hamlet: str = "Ấp Mỹ Hưng") -> Laptop:
    """An enrolled laptop of a new team in Mỹ Tho."""
    team = hub.admin("team", "add", *MY_THO, "--hamlet", hamlet)
    assert team["trace_key"] == team_trace_key(team["team_id"])
    code = hub.admin("enroll-code", "--team", team["team_id"])["code"]
    answer = httpx.post(f"{hub.url}/v1/enroll",
                        json={"code": code, "device_name": "Laptop HTX Mỹ Đông"})
    assert answer.status_code == 200, answer.text
    return Laptop(answer.json()["token"], team["trace_key"])


@pytest.fixture(scope="module")
def shared_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubServer, Laptop]]:
    """One SQLite hub for the module (starting one is the slow part) with the rice and the
    failed lot published; tests that change publications use lots of their own."""
    folder = tmp_path_factory.mktemp("trace_hub")
    hub = start_hub(folder / "hub.sqlite", folder / "hub.log")
    try:
        laptop = enroll_laptop(hub)
        push(hub, laptop.token, published(rice_lot()), published(failed_lot()))
        yield hub, laptop
    finally:
        hub.stop()


@pytest.fixture
def hub(shared_hub: tuple[HubServer, Laptop]) -> HubServer:
    return shared_hub[0]


@pytest.fixture
def laptop(shared_hub: tuple[HubServer, Laptop]) -> str:
    return shared_hub[1].token


@pytest.fixture
def lot_url(shared_hub: tuple[HubServer, Laptop]) -> Any:
    """lot_url(code): the namespaced trace URL of a lot of the shared team."""
    hub, laptop = shared_hub
    return lambda code: lot_trace_url(f"{hub.url}/t", code, laptop.key)


@pytest.mark.hub_backends("sqlite", "postgresql")
def test_published_and_served_on_each_hub_database(hub_server):
    laptop = enroll_laptop(hub_server)
    push(hub_server, laptop.token, published(rice_lot()))
    page = httpx.get(f"{hub_server.url}/t/{laptop.key.lower()}/{RICE.lower()}")
    assert page.status_code == 200 and "HTX Nông nghiệp Mỹ Đông" in page.text
    data = httpx.get(f"{hub_server.url}/t/{laptop.key}/{RICE}", params={"format": "json"})
    assert data.json() == trace_json(rice_lot())
    assert httpx.get(f"{hub_server.url}/t/{laptop.key}/MD-261120-999-X").status_code == 404


def test_a_phone_gets_the_vietnamese_page_without_a_token(hub, lot_url):
    answer = httpx.get(lot_url(RICE),
                       headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["content-language"] == "vi"
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    page = answer.text
    assert '<html lang="vi">' in page
    for text in ("Gạo ST25", RICE, "HTX Nông nghiệp Mỹ Đông", "VN-DTOR-0123", "10/11/2026",
                 "VietGAP", "Đạt yêu cầu", 'href="?lang=en"'):
        assert text in page, text


def test_english_on_request(lot_url):
    answer = httpx.get(lot_url(RICE), params={"lang": "en"})
    assert answer.status_code == 200
    assert '<html lang="en">' in answer.text
    assert "Nov 10, 2026" in answer.text and "Pesticide spraying" in answer.text
    assert 'href="?lang=vi"' in answer.text


def test_json_on_request(lot_url):
    expected = trace_json(rice_lot())
    by_header = httpx.get(lot_url(RICE), headers={"Accept": "application/json"})
    assert by_header.status_code == 200
    assert by_header.headers["content-type"] == "application/json"
    assert by_header.json() == expected
    by_query = httpx.get(lot_url(RICE), params={"format": "json"})
    assert by_query.json() == expected
    forced_html = httpx.get(lot_url(RICE), params={"format": "html"},
                            headers={"Accept": "application/json"})
    assert forced_html.headers["content-type"].startswith("text/html")


def test_a_typed_code_is_normalised(hub, shared_hub):
    key = shared_hub[1].key
    for typed_key in (key, key.lower(), f"{key[:4]}-{key[4:]}".lower()):
        for typed in ("md-261120-007-0", "MD2611200070", "md 261120 oo7 o", "MD-261120-007-0 "):
            answer = httpx.get(f"{hub.url}/t/{typed_key}/{typed}", params={"format": "json"})
            assert answer.status_code == 200, (typed_key, typed)
            assert answer.json()["lot_code"] == RICE


def test_a_non_compliant_lot_shows_its_reasons(lot_url):
    answer = httpx.get(lot_url(failed_lot().lot_code))
    assert answer.status_code == 200
    assert "Không đạt yêu cầu" in answer.text
    assert "chưa đủ thời gian cách ly 14 ngày" in answer.text


def test_an_unknown_lot_is_a_404_in_both_languages(hub, lot_url):
    page = httpx.get(lot_url("md-261120-999-x"))
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Chưa có thông tin truy xuất nguồn gốc nào được công bố cho lô hàng " \
           "MD-261120-999-X." in page.text
    assert "No trace record is published for lot MD-261120-999-X." in page.text
    data = httpx.get(lot_url("MD-261120-999-X"), headers={"Accept": "application/json"})
    assert data.status_code == 404
    assert data.json()["error"] == "not_found"
    assert "MD-261120-999-X" in data.json()["message"]


def test_a_withdrawn_lot_is_gone(hub, laptop, lot_url):
    push(hub, laptop, published(mango_lot()))
    assert httpx.get(lot_url(mango_lot().lot_code)).status_code == 200
    push(hub, laptop, published(mango_lot(), ms=2, deleted=1))
    assert httpx.get(lot_url(mango_lot().lot_code)).status_code == 404


def test_a_republished_lot_shows_the_new_snapshot(hub, laptop, lot_url):
    lot = dataclasses.replace(failed_lot(), lot_code="HA-261119-004-9")
    push(hub, laptop, published(lot))
    push(hub, laptop, published(dataclasses.replace(lot, quantity_kg=1150.0), ms=3))
    answer = httpx.get(lot_url(lot.lot_code), params={"format": "json"})
    assert answer.json()["quantity_kg"] == 1150.0


def test_the_served_page_on_a_phone(lot_url, tmp_path):
    """The page as the hub serves it (with its Content-Security-Policy) in headless Chromium."""
    from tests.farm.headless import Chromium

    executable = shutil.which("chromium")
    require_tool(executable is not None, "Chromium")
    assert executable is not None
    browser = Chromium(executable, tmp_path / "profile")
    try:
        session = browser.open_phone_page(lot_url(RICE))
        found = json.loads(browser.evaluate(session, """JSON.stringify({
            scrollWidth: document.documentElement.scrollWidth, innerWidth: innerWidth,
            text: document.body.innerText})"""))
        assert browser.problems(session) == []
    finally:
        browser.close()
    assert found["innerWidth"] == 360
    assert found["scrollWidth"] <= found["innerWidth"]
    assert "HTX Nông nghiệp Mỹ Đông" in found["text"]


def test_the_hub_resolves_the_gs1_digital_link_of_a_lot(hub, shared_hub):
    rice = rice_lot()
    assert rice.gtin
    for serial in (None, "21"):
        uri = digital_link(rice.gtin, RICE, resolver=hub.url, pack_date=rice.pack_date,
                           serial=serial)
        answer = httpx.get(uri, params={"format": "json", "t": shared_hub[1].key})
        assert answer.status_code == 200, uri
        assert answer.json()["lot_code"] == RICE
    other = digital_link("08934567000017", RICE, resolver=hub.url)
    assert httpx.get(other, params={"t": shared_hub[1].key}).status_code == 404  # not its GTIN


# -- one namespace per team ----------------------------------------------------------------
def cooperative_at(url: str, **params: str) -> str | int:
    """The cooperative of the lot the URL answers, or its status when that is not 200."""
    answer = httpx.get(url, params={"format": "json", **params})
    return answer.json()["cooperative"] if answer.status_code == 200 else answer.status_code


def test_a_team_cannot_squat_another_teams_lot_code(hub):
    """Lot codes are made from a cooperative's short name, a date and a number: another team
    can foresee one and publish it first. Before, whoever published a code first owned it on
    the whole hub (the real owner's push was then refused out_of_scope)."""
    owner, squatter = enroll_laptop(hub, "Ấp Chủ"), enroll_laptop(hub, "Ấp Chiếm")
    real = dataclasses.replace(rice_lot(), lot_code="MD-261121-001-4")
    fake = dataclasses.replace(real, cooperative="HTX Giả Mạo", product="Gạo trộn")
    push(hub, squatter.token, published(fake))
    push(hub, owner.token, published(real))  # applied in the owner's own namespace
    push(hub, squatter.token, published(fake, ms=5))  # a later edit touches only its own copy
    assert cooperative_at(lot_trace_url(f"{hub.url}/t", real.lot_code, owner.key)) == \
        "HTX Nông nghiệp Mỹ Đông"
    assert cooperative_at(lot_trace_url(f"{hub.url}/t", real.lot_code, squatter.key)) == \
        "HTX Giả Mạo"
    # A Digital Link names the team with t=; without a key, a code two teams published is
    # not guessed (no label printed before keys can mean the squatter's).
    assert real.gtin
    link = digital_link(real.gtin, real.lot_code, resolver=hub.url)
    assert cooperative_at(link, t=owner.key) == "HTX Nông nghiệp Mỹ Đông"
    assert cooperative_at(link, t=squatter.key) == "HTX Giả Mạo"
    assert cooperative_at(link) == 404
    assert cooperative_at(f"{hub.url}/t/{real.lot_code}") == 404
    assert cooperative_at(f"{hub.url}/t/ZZZZZZZZ/{real.lot_code}") == 404  # no such team


def test_a_lot_one_team_alone_published_resolves_without_a_key(hub, laptop):
    """Labels printed without a key (a laptop not yet upgraded, or not enrolled when it
    printed) resolve while no other team has published the code."""
    lot = dataclasses.replace(mango_lot(), lot_code="HA-261118-011-5")
    push(hub, laptop, published(lot))
    assert cooperative_at(f"{hub.url}/t/{lot.lot_code}") == lot.cooperative


BAD_SNAPSHOTS = {
    "not JSON": "{không phải json",
    "nested 5,000 deep": "[" * 5_000 + "]" * 5_000,
    "not an object": "[1, 2, 3]",
    "missing fields": json.dumps({"lot_code": "HA-261117-002-0"}),
    "wrong types": json.dumps({**rice_lot().to_dict(), "pack_date": "hôm qua",
                               "steps": "none", "plots": 7}),
    "values a page cannot show": json.dumps({**rice_lot().to_dict(), "quantity_kg": "nhiều",
                                             "harvest_dates": [], "extra": {"x": [[[]]]}}),
}


@pytest.mark.parametrize(("number", "snapshot"), list(enumerate(BAD_SNAPSHOTS.values(), 101)),
                         ids=list(BAD_SNAPSHOTS))
def test_a_snapshot_the_page_cannot_be_made_from_is_a_404(hub, laptop, lot_url, number,
                                                          snapshot):
    """Stored from before the hub checked field types (it now refuses such a push): before,
    the buyer's phone got a 500."""
    code = f"HA-261117-{number}-0"  # a lot of its own
    push(hub, laptop, published(dataclasses.replace(failed_lot(), lot_code=code)))
    store = HubStore(hub.db_path)
    try:
        with store.database.write() as conn:
            row = conn.execute("SELECT fields FROM records WHERE table_name = "
                               "'published_traces' AND row_id = ?", (code,)).fetchone()
            fields = {**json.loads(row["fields"]), "snapshot": snapshot}
            conn.execute("UPDATE records SET fields = ? WHERE table_name = 'published_traces' "
                         "AND row_id = ?", (json.dumps(fields, ensure_ascii=False), code))
    finally:
        store.close()
    page = httpx.get(lot_url(code))
    assert page.status_code == 404, page.text
    assert "No trace record is published" in page.text
    data = httpx.get(lot_url(code), params={"format": "json", "lang": "en"})
    assert data.status_code == 404 and data.json()["error"] == "not_found"
    assert httpx.get(lot_url(RICE)).status_code == 200


def hub_before_trace_keys(path: Path, team_id: str, record: TraceRecord) -> None:
    """A hub database as the hub left it before trace keys (migrations 0001-0004), with one
    team's published lot."""
    database = open_database(path)
    try:
        database.migrate(MIGRATIONS[:4])
        with database.write() as conn:
            conn.execute("INSERT INTO teams (id, province_code, commune_code, hamlet, "
                         "created_at) VALUES (?, 82, 28261, 'Ấp Cũ', '2026-11-01T00:00:00+00:00')",
                         (team_id,))
            row = published(record)
            conn.execute(
                "INSERT INTO records (table_name, row_id, team_id, kind, fields, clocks, "
                "device_id, pushed_by, seq, pushed_exact) VALUES (?, ?, ?, 'mutable', ?, ?, ?, "
                "'device-old', 1, 1)",
                ("published_traces", row["id"], team_id, json.dumps(row["fields"]),
                 json.dumps(row["clocks"]), DEVICE))
            conn.execute("UPDATE counters SET value = 1 WHERE name = 'seq'")
    finally:
        database.close()


@pytest.mark.hub_backends("sqlite", "postgresql")
def test_labels_printed_before_keys_keep_resolving_to_their_team(hub_db, tmp_path):
    """A hub upgraded under printed labels: the owner of each code when it was upgraded keeps
    the key-less URL even once another team publishes the same code."""
    old_team = "5b0c6a52-4f0e-4d6b-9a43-0c2f1e7d8a90"
    hub_before_trace_keys(hub_db, old_team, rice_lot())
    hub = start_hub(hub_db, tmp_path / "hub.log")
    try:
        newcomer = enroll_laptop(hub, "Ấp Mới")
        same_code = dataclasses.replace(rice_lot(), cooperative="HTX Mới Lập")
        push(hub, newcomer.token, published(same_code))
        assert cooperative_at(f"{hub.url}/t/{RICE}") == "HTX Nông nghiệp Mỹ Đông"
        assert cooperative_at(digital_link(rice_lot().gtin or "", RICE, resolver=hub.url)) == \
            "HTX Nông nghiệp Mỹ Đông"
        assert cooperative_at(lot_trace_url(f"{hub.url}/t", RICE, team_trace_key(old_team))) \
            == "HTX Nông nghiệp Mỹ Đông"
        assert cooperative_at(lot_trace_url(f"{hub.url}/t", RICE, newcomer.key)) == \
            "HTX Mới Lập"
    finally:
        hub.stop()


# -- labels printed by laptops --------------------------------------------------------------
def print_first_lot(ws: Workspace, hub: HubServer, cooperative: str) -> tuple[str, str]:
    """A cooperative's first lot of the day, labelled: (the label's QR payload, the code)."""
    ws.freeze_time(dt.datetime(2027, 4, 1, 9, 30))
    farm = ws.farm
    farm.configure(trace_base_url=f"{hub.url}/t/")
    org = farm.orgs.add(cooperative, address="Đồng Tháp").value
    plot = farm.orgs.add_plot(org, "Ruộng 1", crop="Lúa", area_ha="1,5", variety="OM18").value
    season = farm.orgs.add_season(org, "Đông Xuân 2026–2027", starts_on="15/11/2026",
                                  ends_on="31/03/2027").value
    cut = farm.diary.record(plot, season, "harvest", dt.date(2027, 3, 1),
                            quantity="6 tấn").value
    lot = farm.lots.create([cut.id]).value
    run = farm.lots.record_print(lot, template="L7160", copies=2).value
    return run.payloads[0], lot.code


def test_labels_of_two_teams_with_the_same_lot_code_each_show_their_lot(hub, tmp_path,
                                                                       monkeypatch):
    """Two cooperatives both abbreviated "MA", in two teams, pack their first lot the same
    day: the same lot code. Each label's QR code names its team and shows its own lot."""
    monkeypatch.setenv("DXKIT_TOKEN_STORE", "file")
    found = {}
    for cooperative, hamlet in (("HTX Mỹ An", "Ấp An"), ("HTX Minh Anh", "Ấp Anh")):
        team = hub.admin("team", "add", *MY_THO, "--hamlet", hamlet)
        ws = Workspace.open(tmp_path / hamlet)
        try:
            engine.enroll(ws, hub.url, hub.admin("enroll-code", "--team",
                                                 team["team_id"])["code"])
            payload, code = print_first_lot(ws, hub, cooperative)
            engine.sync(ws)
        finally:
            ws.close()
        assert payload == f"{hub.url}/t/{team['trace_key']}/{code}"
        found[cooperative] = (payload, code)
    assert found["HTX Mỹ An"][1] == found["HTX Minh Anh"][1]  # the same code
    for cooperative, (payload, _code) in found.items():
        assert cooperative_at(payload) == cooperative
        assert cooperative in httpx.get(payload).text
