"""The real hub process over HTTP: health, OpenAPI, enrollment, push/pull, errors — on
SQLite and on PostgreSQL (`hub serve --db postgresql://…`). Tests share the module's hub
(tests/sync/conftest.py `module_hub`), each with a team of its own; those that revoke, expire
or read the hub's sequence numbers get a hub of their own (`fresh_hub`)."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from importlib import resources

import httpx
import pytest

from dxkit.core.places import hamlet_id
from tests.support.hub_process import start_hub

HUB_BACKENDS = ("sqlite", "postgresql")
SQLITE_ONLY = {"test_openapi_documents_every_served_path"}  # builds the app, no database use
MY_THO = ("--province", "82", "--commune", "28261")


@pytest.fixture
def hub(hub_for_test):
    return hub_for_test


@pytest.fixture
def team(hub):
    return hub.admin("team", "add", *MY_THO, "--hamlet", "Ấp Mỹ Hưng")


def enroll(hub, team_id: str, name: str = "Laptop Hoa") -> dict:
    code = hub.admin("enroll-code", "--team", team_id)["code"]
    answer = httpx.post(f"{hub.url}/v1/enroll", json={"code": code, "device_name": name})
    assert answer.status_code == 200, answer.text
    return answer.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == code and body["message"].strip()


def test_health_and_openapi(hub):
    health = httpx.get(f"{hub.url}/v1/health")
    assert health.json() == {"ok": True, "version": 1}
    served = httpx.get(f"{hub.url}/v1/openapi.json")
    committed = json.loads(resources.files("dxkit.sync").joinpath("openapi.json").read_text())
    assert served.json() == committed


def test_openapi_documents_every_served_path(tmp_path):
    from starlette.routing import Route

    from dxkit.sync.hub.app import create_app

    document = json.loads(resources.files("dxkit.sync").joinpath("openapi.json").read_text())
    assert document["openapi"].startswith("3.1")
    app = create_app(tmp_path / "hub.sqlite")
    served = {(route.path, method.lower()) for route in app.routes
              if isinstance(route, Route) and "{version" not in route.path
              for method in route.methods - {"HEAD"}}
    documented = {(path, method) for path, item in document["paths"].items()
                  for method in item}
    assert served == documented
    for path, item in document["paths"].items():
        for operation in item.values():
            assert {"200", "303"} & set(operation["responses"]), path
    app.state.store.close()


def test_enroll_with_a_cli_code_once(hub, team):
    enrolled = enroll(hub, team["team_id"])
    my_hung = hamlet_id(28261, "Ấp Mỹ Hưng")
    assert enrolled["team"] == {"id": team["team_id"], "province_code": 82,
                                "commune_code": 28261, "hamlet": "Ấp Mỹ Hưng", "kind": "hamlet",
                                "hamlets": [{"id": my_hung, "name": "Ấp Mỹ Hưng"}]}
    # Enroll and go: the team's hamlet (and the published indicators) come with it.
    [hamlet] = [r for r in enrolled["records"] if r["table"] == "hamlets"]
    assert hamlet["id"] == my_hung and hamlet["fields"]["name"] == "Ấp Mỹ Hưng"
    devices = hub.cli("devices", "list", "--team", team["team_id"])
    assert [d["id"] for d in devices] == [enrolled["device_id"]]
    code = hub.cli("enroll-code", "--team", team["team_id"])["code"]
    first = httpx.post(f"{hub.url}/v1/enroll", json={"code": code, "device_name": "A"})
    again = httpx.post(f"{hub.url}/v1/enroll", json={"code": code, "device_name": "B"})
    assert first.status_code == 200
    assert_error(again, 403, "bad_code")


@pytest.mark.fresh_hub  # reads the hub's sequence numbers
def test_push_pull_round_trip_gzip_both_ways(hub, team, make_record):
    token = enroll(hub, team["team_id"])["token"]
    reader = enroll(hub, team["team_id"], "Laptop Tâm")["token"]  # the pusher has them
    my_hung = hamlet_id(28261, "Ấp Mỹ Hưng")  # its hamlet's row, made by the hub, is seq 1
    records = [make_record("households", f"hh-{n}", code=f"MH-{n:03}",
                           head_name="Nguyễn Văn An", hamlet_id=my_hung) for n in range(30)]
    records.append(make_record("visits", "v-1", household_id="hh-0", kind="visit", ms=9))
    body = gzip.compress(json.dumps({"records": records}, ensure_ascii=False).encode())
    pushed = httpx.post(f"{hub.url}/v1/push", content=body, headers={
        **bearer(token), "Content-Encoding": "gzip", "Content-Type": "application/json",
        "Accept-Encoding": "gzip"})
    assert pushed.status_code == 200, pushed.text
    assert pushed.headers["content-encoding"] == "gzip"
    assert {r["status"] for r in pushed.json()["results"]} == {"applied"}
    assert pushed.json()["cursor"] == 32

    with httpx.Client(base_url=hub.url, headers={
            **bearer(reader), "Accept-Encoding": "gzip"}) as client:
        first = client.get("/v1/pull", params={"table": "households", "after": 0, "limit": 20})
        assert first.headers["content-encoding"] == "gzip"
        page = first.json()
        assert page["more"] is True and page["high_water"] == 32 and page["next"] == 21
        rest = client.get("/v1/pull", params={"table": "households", "after": page["next"],
                                              "upto": page["high_water"]}).json()
        assert rest["more"] is False
        assert page["records"] + rest["records"] == records[:30]
        visits = client.get("/v1/pull", params={"table": "visits", "upto": 32}).json()
        assert visits["records"] == records[30:]

    again = httpx.post(f"{hub.url}/v1/push", json={"records": records[:1]},
                       headers=bearer(token))
    assert again.json()["results"][0]["status"] == "duplicate"


@pytest.mark.fresh_hub
def test_unauthorized_and_revoked(hub, team):
    enrolled = enroll(hub, team["team_id"])
    url = f"{hub.url}/v1/pull?table=households"
    assert_error(httpx.get(url), 401, "unauthorized")
    assert_error(httpx.get(url, headers=bearer("not-a-token")), 401, "unauthorized")
    assert httpx.get(url, headers=bearer(enrolled["token"])).status_code == 200
    hub.admin("devices", "revoke", enrolled["device_id"])
    assert_error(httpx.get(url, headers=bearer(enrolled["token"])), 401, "device_revoked")
    assert_error(httpx.post(f"{hub.url}/v1/push", json={"records": []},
                            headers=bearer(enrolled["token"])), 401, "device_revoked")


def test_malformed_too_large_and_unknown_version(hub, team):
    token = enroll(hub, team["team_id"])["token"]
    push = f"{hub.url}/v1/push"
    auth = bearer(token)
    assert_error(httpx.post(push, content=b"{not json", headers=auth), 400, "bad_request")
    assert_error(httpx.post(push, json=[1, 2], headers=auth), 400, "bad_request")
    assert_error(httpx.post(push, json={"records": "x"}, headers=auth), 400, "bad_request")
    assert_error(httpx.post(push, json={"records": [{}] * 501}, headers=auth), 400,
                 "bad_request")
    corrupt = gzip.compress(b'{"records": []}')[:-6]
    assert_error(httpx.post(push, content=corrupt, headers={**auth, "Content-Encoding": "gzip"}),
                 400, "bad_request")
    assert_error(httpx.get(f"{hub.url}/v1/pull?table=secrets", headers=auth), 400,
                 "bad_request")
    assert_error(httpx.get(f"{hub.url}/v1/pull?table=visits&after=-1", headers=auth),
                 400, "bad_request")
    big = json.dumps({"records": [], "pad": "x" * (1024 * 1024)}).encode()
    assert_error(httpx.post(push, content=big, headers=auth), 413, "too_large")
    bomb = gzip.compress(big)  # small on the wire, over the limit once decompressed
    assert len(bomb) < 64 * 1024
    assert_error(httpx.post(push, content=bomb, headers={**auth, "Content-Encoding": "gzip"}),
                 413, "too_large")
    assert_error(httpx.get(f"{hub.url}/v2/health"), 404, "unknown_version")
    assert_error(httpx.post(f"{hub.url}/v9/push", json={}), 404, "unknown_version")
    assert_error(httpx.get(f"{hub.url}/v1/nothing"), 404, "not_found")
    assert_error(httpx.get(f"{hub.url}/v1/push"), 405, "method_not_allowed")
    assert_error(httpx.post(f"{hub.url}/v1/enroll", json={"code": 5}), 400, "bad_request")
    assert httpx.get(f"{hub.url}/v1/health").status_code == 200  # still serving


@pytest.mark.fresh_hub
def test_expired_token_is_refused_until_renewed(hub, team):
    enrolled = enroll(hub, team["team_id"])
    device_id = enrolled["device_id"]
    url = f"{hub.url}/v1/pull?table=households"
    [listed] = hub.cli("devices", "list")
    assert listed["expires_at"] > listed["created_at"]
    assert hub.cli("devices", "expire", device_id)["expires_at"]
    for answer in (httpx.get(url, headers=bearer(enrolled["token"])),
                   httpx.post(f"{hub.url}/v1/push", json={"records": []},
                              headers=bearer(enrolled["token"]))):
        assert_error(answer, 401, "token_expired")
        assert device_id in answer.json()["message"]
    renewed = hub.cli("devices", "renew", device_id, "--days", "10")
    assert renewed["expires_at"] > listed["created_at"]
    assert httpx.get(url, headers=bearer(enrolled["token"])).status_code == 200


@pytest.mark.hub_backends("sqlite")  # the option, not the database, is tested
def test_hub_serve_token_days_sets_the_validity_of_new_tokens(hub_db, tmp_path):
    hub = start_hub(hub_db, tmp_path / "short.log", "--token-days", "0.5")
    try:
        team_id = hub.cli("team", "add", *MY_THO, "--hamlet", "Khóm 3")["team_id"]
        enroll(hub, team_id)
        [device] = hub.cli("devices", "list")
        validity = (dt.datetime.fromisoformat(device["expires_at"])
                    - dt.datetime.fromisoformat(device["created_at"]))
        assert validity == dt.timedelta(hours=12)
    finally:
        hub.stop()
