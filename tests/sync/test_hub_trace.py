"""The hub serves a lot's published trace record at the URL in the label's QR code: HTML for a
phone, JSON on request, no token — against a real hub process (SQLite; the first test also
on PostgreSQL, the production store)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dxkit.core.synced import REGISTRY, wire_fields
from dxkit.farm.gs1 import lot_trace_url
from dxkit.farm.trace_html import trace_json
from dxkit.farm.trace_record import TraceRecord
from tests.farm.trace_samples import failed_lot, mango_lot, rice_lot
from tests.support.hub_process import HubServer, start_hub
from tests.support.tools import require_tool

MY_THO = ("--province", "82", "--commune", "28261")
RICE = "MD-261120-007-0"
DEVICE = "a1b2c3d4e5f60718"


def published(record: TraceRecord, ms: int = 1, deleted: int = 0) -> dict[str, Any]:
    """The published_traces row of a lot as a laptop pushes it (every clock at ms)."""
    fields = {"lot_id": record.lot_id, "lot_code": record.lot_code,
              "snapshot": json.dumps(record.to_dict(), ensure_ascii=False),
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


def enroll_laptop(hub: HubServer) -> str:
    """The token of an enrolled laptop of a team in Mỹ Tho."""
    team = hub.admin("team", "add", *MY_THO, "--hamlet", "Ấp Mỹ Hưng")
    code = hub.admin("enroll-code", "--team", team["team_id"])["code"]
    answer = httpx.post(f"{hub.url}/v1/enroll",
                        json={"code": code, "device_name": "Laptop HTX Mỹ Đông"})
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


@pytest.fixture(scope="module")
def shared_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubServer, str]]:
    """One SQLite hub for the module (starting one is the slow part) with the rice and the
    failed lot published; tests that change publications use lots of their own."""
    folder = tmp_path_factory.mktemp("trace_hub")
    hub = start_hub(folder / "hub.sqlite", folder / "hub.log")
    try:
        token = enroll_laptop(hub)
        push(hub, token, published(rice_lot()), published(failed_lot()))
        yield hub, token
    finally:
        hub.stop()


@pytest.fixture
def hub(shared_hub: tuple[HubServer, str]) -> HubServer:
    return shared_hub[0]


@pytest.fixture
def laptop(shared_hub: tuple[HubServer, str]) -> str:
    return shared_hub[1]


@pytest.mark.hub_backends("sqlite", "postgresql")
def test_published_and_served_on_each_hub_database(hub_server):
    push(hub_server, enroll_laptop(hub_server), published(rice_lot()))
    page = httpx.get(f"{hub_server.url}/t/{RICE.lower()}")
    assert page.status_code == 200 and "HTX Nông nghiệp Mỹ Đông" in page.text
    data = httpx.get(f"{hub_server.url}/t/{RICE}", params={"format": "json"})
    assert data.json() == trace_json(rice_lot())
    assert httpx.get(f"{hub_server.url}/t/MD-261120-999-X").status_code == 404


def test_a_phone_gets_the_vietnamese_page_without_a_token(hub):
    answer = httpx.get(lot_trace_url(f"{hub.url}/t", RICE),
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


def test_english_on_request(hub):
    answer = httpx.get(f"{hub.url}/t/{RICE}", params={"lang": "en"})
    assert answer.status_code == 200
    assert '<html lang="en">' in answer.text
    assert "Nov 10, 2026" in answer.text and "Pesticide spraying" in answer.text
    assert 'href="?lang=vi"' in answer.text


def test_json_on_request(hub):
    expected = trace_json(rice_lot())
    by_header = httpx.get(f"{hub.url}/t/{RICE}", headers={"Accept": "application/json"})
    assert by_header.status_code == 200
    assert by_header.headers["content-type"] == "application/json"
    assert by_header.json() == expected
    by_query = httpx.get(f"{hub.url}/t/{RICE}", params={"format": "json"})
    assert by_query.json() == expected
    forced_html = httpx.get(f"{hub.url}/t/{RICE}", params={"format": "html"},
                            headers={"Accept": "application/json"})
    assert forced_html.headers["content-type"].startswith("text/html")


def test_a_typed_code_is_normalised(hub):
    for typed in ("md-261120-007-0", "MD2611200070", "md 261120 oo7 o", "MD-261120-007-0 "):
        answer = httpx.get(f"{hub.url}/t/{typed}", params={"format": "json"})
        assert answer.status_code == 200, typed
        assert answer.json()["lot_code"] == RICE


def test_a_non_compliant_lot_shows_its_reasons(hub):
    answer = httpx.get(f"{hub.url}/t/{failed_lot().lot_code}")
    assert answer.status_code == 200
    assert "Không đạt yêu cầu" in answer.text
    assert "chưa đủ thời gian cách ly 14 ngày" in answer.text


def test_an_unknown_lot_is_a_404_in_both_languages(hub):
    page = httpx.get(f"{hub.url}/t/md-261120-999-x")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Chưa có thông tin truy xuất nguồn gốc nào được công bố cho lô hàng " \
           "MD-261120-999-X." in page.text
    assert "No trace record is published for lot MD-261120-999-X." in page.text
    data = httpx.get(f"{hub.url}/t/MD-261120-999-X", headers={"Accept": "application/json"})
    assert data.status_code == 404
    assert data.json()["error"] == "not_found"
    assert "MD-261120-999-X" in data.json()["message"]


def test_a_withdrawn_lot_is_gone(hub, laptop):
    push(hub, laptop, published(mango_lot()))
    assert httpx.get(f"{hub.url}/t/{mango_lot().lot_code}").status_code == 200
    push(hub, laptop, published(mango_lot(), ms=2, deleted=1))
    assert httpx.get(f"{hub.url}/t/{mango_lot().lot_code}").status_code == 404


def test_a_republished_lot_shows_the_new_snapshot(hub, laptop):
    lot = dataclasses.replace(failed_lot(), lot_code="HA-261119-004-9")
    push(hub, laptop, published(lot))
    push(hub, laptop, published(dataclasses.replace(lot, quantity_kg=1150.0), ms=3))
    answer = httpx.get(f"{hub.url}/t/{lot.lot_code}", params={"format": "json"})
    assert answer.json()["quantity_kg"] == 1150.0


def test_the_served_page_on_a_phone(hub, tmp_path):
    """The page as the hub serves it (with its Content-Security-Policy) in headless Chromium."""
    from tests.farm.headless import Chromium

    executable = shutil.which("chromium")
    require_tool(executable is not None, "Chromium")
    assert executable is not None
    browser = Chromium(executable, tmp_path / "profile")
    try:
        session = browser.open_phone_page(f"{hub.url}/t/{RICE}")
        found = json.loads(browser.evaluate(session, """JSON.stringify({
            scrollWidth: document.documentElement.scrollWidth, innerWidth: innerWidth,
            text: document.body.innerText})"""))
        assert browser.problems(session) == []
    finally:
        browser.close()
    assert found["innerWidth"] == 360
    assert found["scrollWidth"] <= found["innerWidth"]
    assert "HTX Nông nghiệp Mỹ Đông" in found["text"]


def test_the_hub_resolves_the_gs1_digital_link_of_a_lot(hub):
    from dxkit.farm.gs1 import digital_link

    rice = rice_lot()
    assert rice.gtin
    for serial in (None, "21"):
        uri = digital_link(rice.gtin, RICE, resolver=hub.url, pack_date=rice.pack_date,
                           serial=serial)
        answer = httpx.get(uri, params={"format": "json"})
        assert answer.status_code == 200, uri
        assert answer.json()["lot_code"] == RICE
    other = digital_link("08934567000017", RICE, resolver=hub.url)
    assert httpx.get(other).status_code == 404  # not this lot's GTIN
