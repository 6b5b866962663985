"""The hub's side of certificates: the province key and each team's signing key reach the
team's laptops at enrollment (and on /v1/certificate-key); GET /c/CODE shows only what the
learner consented to show, never the full name, and a revocation at once."""

from __future__ import annotations

import datetime as dt
import json
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

with warnings.catch_warnings():  # starlette asks for httpx2; the suite has httpx
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from dxkit.lessons.certificate_code import (
    CertificatePayload,
    make_code,
    short_code,
    verification_url,
    verify_code,
)
from dxkit.sync.hub.app import create_app
from dxkit.sync.hub.certificates import province_public_key
from dxkit.sync.hub.store import HubStore, next_seq, stored_json
from dxkit.sync.teamkey import read_certificate_signing

FULL_NAME = "Nguyễn Thị Hồng Hạnh"
HUB_BACKENDS = ("sqlite", "postgresql")
SQLITE_ONLY = ("test_the_short_code_lookup_uses_the_index",)  # EXPLAIN QUERY PLAN


@pytest.fixture
def hub(tmp_path, hub_backend: str, request: pytest.FixtureRequest
        ) -> Iterator[tuple[TestClient, HubStore, dict[str, Any]]]:
    drop = None
    if hub_backend == "sqlite":
        db = str(tmp_path / "hub.sqlite")
    else:
        cluster = request.getfixturevalue("postgres_cluster")
        name = cluster.create_database("certs")
        db, drop = cluster.url(name), lambda: cluster.drop_database(name)
    app = create_app(db)
    store: HubStore = app.state.store
    team = store.add_team(82, 28249, "Ấp Mỹ Hưng")
    code, _expires = store.issue_code(team.id)
    try:
        with TestClient(app) as client:
            answer = client.post("/v1/enroll", json={"code": code, "device_name": "laptop"})
            assert answer.status_code == 200, answer.text
            yield client, store, answer.json()
    finally:
        store.close()
        if drop is not None:
            drop()


def store_certificate(store: HubStore, team_id: str, code: str, certificate_id: str, *,
                      show_name: bool, revoked: bool = False) -> None:
    """A `certificates` record as a laptop's push leaves it (the table is registered by the
    lessons domain; written here directly)."""
    fields = {"class_id": str(uuid.uuid4()), "person_id": str(uuid.uuid4()),
              "course_id": "dxkit-ky-nang-so", "course_version": "1.0.0",
              "issued_on": "2026-11-21", "code": short_code(code),
              "display_name": "Nguyễn T. H.", "show_name": int(show_name),
              "revoked": int(revoked), "revoked_on": "2026-12-01" if revoked else None,
              "revoked_reason": "Cấp nhầm cho " + FULL_NAME if revoked else "",
              "deleted": 0}
    with store.database.write() as conn:
        conn.execute("DELETE FROM records WHERE table_name = 'certificates' AND row_id = ?",
                     (certificate_id,))
        conn.execute(
            "INSERT INTO records (table_name, row_id, team_id, kind, fields, clocks, device_id, "
            "pushed_by, pushed_exact, seq, area) VALUES ('certificates', ?, ?, 'mutable', ?, "
            "?, 'dev', 'dev', 0, ?, ?)",
            (certificate_id, team_id, stored_json(fields),
             stored_json(dict.fromkeys(fields, "000000000001-0000-dev")), next_seq(conn),
             team_id))


def issue(answer: dict[str, Any], name: str = "Nguyễn T. H.") -> tuple[str, str]:
    signing = read_certificate_signing(answer["certificate_key"])
    certificate_id = str(uuid.uuid4())
    payload = CertificatePayload(certificate_id, "dxkit-ky-nang-so", "1.0.0",
                                 dt.date.today(), name)
    return make_code(payload, signing.signing_key, signing.key_certificate), certificate_id


def test_enrollment_carries_the_signing_key_vouched_for_by_the_province(hub):
    client, store, answer = hub
    signing = read_certificate_signing(answer["certificate_key"])
    assert signing.team_id == answer["team"]["id"]
    assert signing.province_public_key == province_public_key(store)
    assert "Ấp Mỹ Hưng" in signing.key_certificate.team_name()
    again = client.get("/v1/certificate-key",
                       headers={"Authorization": f"Bearer {answer['token']}"})
    assert again.json() == answer["certificate_key"]  # made once, the same for every device
    assert client.get("/v1/certificate-key").status_code == 401
    code, _id = issue(answer)
    assert verify_code(code, province_public_key(store)).valid


def test_the_page_shows_only_consented_fields_and_never_the_full_name(hub):
    client, store, answer = hub
    code, certificate_id = issue(answer)
    store_certificate(store, answer["team"]["id"], code, certificate_id, show_name=True)
    url = verification_url("https://hub.example.vn", code).split("example.vn", 1)[1]
    page = client.get(url)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "Giấy chứng nhận này hợp lệ." in page.text and "Nguyễn T. H." in page.text
    shown = client.get(url, headers={"Accept": "application/json"}).json()
    assert shown["valid"] and shown["registered"] and not shown["revoked"]
    assert shown["course"] == "dxkit-ky-nang-so" and shown["issued_on"] == "2026-11-21"
    assert "Ấp Mỹ Hưng" in shown["team"] and shown["name"] == "Nguyễn T. H."
    assert set(shown) == {"code", "valid", "signature_valid", "registered", "revoked",
                          "revoked_on", "course", "course_version", "course_title",
                          "issued_on", "team", "name"}
    by_short = client.get(f"/c/{short_code(code).lower()}?format=json").json()
    assert by_short["code"] == short_code(code) and by_short["name"] == "Nguyễn T. H."
    store_certificate(store, answer["team"]["id"], code, certificate_id, show_name=False)
    for answer_text in (client.get(url).text, client.get(url + "?format=json").text):
        assert "Nguyễn T. H." not in answer_text and FULL_NAME not in answer_text
        assert "Hạnh" not in answer_text
    assert client.get(url + "?format=json").json()["name"] is None


def test_a_revoked_certificate_shows_as_revoked_without_its_reason(hub):
    client, store, answer = hub
    code, certificate_id = issue(answer)
    store_certificate(store, answer["team"]["id"], code, certificate_id, show_name=True,
                      revoked=True)
    shown = client.get(f"/c/{code}?format=json").json()
    assert shown["revoked"] and not shown["valid"] and shown["revoked_on"] == "2026-12-01"
    page = client.get(f"/c/{code}?lang=en")
    assert "This certificate was revoked on 2026-12-01." in page.text
    assert FULL_NAME not in page.text and "Cấp nhầm" not in page.text


def test_a_signed_code_not_yet_synced_is_shown_from_the_code(hub):
    client, _store, answer = hub
    code, _id = issue(answer, name="")
    shown = client.get(f"/c/{code}", headers={"Accept": "application/json"}).json()
    assert shown["valid"] and not shown["registered"] and shown["name"] is None


def test_unknown_or_altered_codes_are_a_404_with_a_sentence(hub):
    client, _store, answer = hub
    code, _certificate_id = issue(answer)
    altered = code[:-3] + ("AAA" if code[-3:] != "AAA" else "BBB")
    for typed in (altered, "DXC-AAAA-BBBB-CCCC-DDDD", "hello"):
        page = client.get(f"/c/{typed}")
        assert page.status_code == 404
        assert "Không có giấy chứng nhận nào mang mã này." in page.text
        answer_json = client.get(f"/c/{typed}?format=json")
        assert answer_json.status_code == 404 and answer_json.json()["error"] == "not_found"


def test_the_short_code_lookup_uses_the_index(hub):
    _client, store, _answer = hub
    plan = " ".join(str(tuple(row)) for row in store.conn.execute(
        "EXPLAIN QUERY PLAN SELECT team_id, fields FROM records WHERE table_name = "
        "'certificates' AND json_extract(fields, '$.code') = ? LIMIT 1", ("x",)))
    assert "records_certificate_code" in plan


def test_the_hub_command_prints_the_province_key(tmp_path):
    from click.testing import CliRunner

    from dxkit.cli import cli

    db = tmp_path / "hub.sqlite"
    result = CliRunner().invoke(cli, ["hub", "--db", str(db), "province-key", "show",
                                      "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    store = HubStore(db)
    try:
        from dxkit.lessons.certificate_code import parse_public_key

        assert parse_public_key(shown["public_key"]) == province_public_key(store)
    finally:
        store.close()


def test_a_shipped_course_is_named_by_its_title() -> None:
    from dxkit.sync.hub.certificates import course_title

    assert course_title("vn.dxkit.ky-nang-so-co-ban", "vi") == "Kỹ năng số cơ bản cho bà con"
    assert course_title("vn.dxkit.ky-nang-so-co-ban", "en").startswith("Basic digital skills")
    assert course_title("vn.khong-co", "vi") == ""
