"""The demo workspace holds a class in progress on the shipped course, and certificates."""

from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner

from dxkit import demo
from dxkit.cli import cli
from dxkit.lessons import progress
from dxkit.lessons.certificate_code import (
    META_PROVINCE_KEY,
    CertificatePayload,
    local_status,
    make_code,
    parse_public_key,
    public_key_of,
    public_key_text,
    short_code,
    verify_code,
)
from dxkit.lessons.demo import DEMO_KEY_META, REVOKED_REASON, demo_signer
from dxkit.lessons.library import SHIPPED_COURSE
from dxkit.workspace import Workspace


def test_the_demo_holds_a_class_in_progress(fresh_ws: Workspace):
    demo.generate(fresh_ws, households=40)
    classes = fresh_ws.lessons.classes()
    assert len(classes) == 1 and classes[0].course_id == SHIPPED_COURSE
    grid = fresh_ws.lessons.grid(classes[0].id)
    assert len(grid.learners) == 12
    completed = [row for row in grid.learners if row.completed]
    helped = grid.needing_help()
    assert 2 <= len(completed) <= 4
    assert 2 <= len(helped) <= 5
    on_the_way = [row for row in grid.learners if not row.completed and row not in helped]
    assert on_the_way and all("in_progress" in row.lessons.values() for row in on_the_way)
    # Mastered lessons mapped to indicators reached the household picture.
    assert fresh_ws.conn.execute("SELECT count(*) FROM indicator_answers a JOIN lesson_events e"
                                 " ON a.answered_on = e.on_date AND a.person_id = e.person_id"
                                 ).fetchone()[0] > 0
    stored = progress.snapshot(fresh_ws.conn)
    fresh_ws.lessons.recompute()
    assert progress.snapshot(fresh_ws.conn) == stored


def test_the_demo_holds_certificates_that_verify_offline_one_revoked(fresh_ws: Workspace):
    demo.generate(fresh_ws, households=40)
    rows = fresh_ws.conn.execute(
        "SELECT * FROM certificates WHERE deleted = 0 ORDER BY person_id").fetchall()
    assert len(rows) == 3
    grid = fresh_ws.lessons.grid(fresh_ws.lessons.classes()[0].id)
    completed = {row.person_id for row in grid.learners if row.completed}
    assert {row["person_id"] for row in rows} == completed
    revoked = [row for row in rows if row["revoked"]]
    assert len(revoked) == 1 and revoked[0]["revoked_reason"] == REVOKED_REASON
    province_key = parse_public_key(fresh_ws.meta()[META_PROVINCE_KEY])
    signer = demo_signer(fresh_ws)
    assert signer is not None
    for row in rows:
        # The stored short code is the one of the full code signed with the demo key, and
        # the full code verifies with the province key the meta holds.
        payload = CertificatePayload(row["id"], row["course_id"], row["course_version"],
                                     dt.date.fromisoformat(row["issued_on"]),
                                     row["display_name"])
        full = make_code(payload, signer.signing_key, signer.key_certificate)
        assert short_code(full) == row["code"]
        checked = verify_code(full, province_key)
        assert checked.valid, checked.reasons
        status = local_status(fresh_ws.conn, full)
        assert status is not None and status.revoked == bool(row["revoked"])
    # An other province's key does not vouch for them.
    other = public_key_of(bytes(range(32)))
    assert not verify_code(full, other).valid


def test_the_demo_keys_follow_the_seed(tmp_path):
    codes = []
    for name in ("one", "two"):
        ws = Workspace.open(tmp_path / name)
        ws.freeze_time(dt.datetime(2026, 11, 20, 9, 0))
        demo.generate(ws, seed=3, households=30)
        codes.append((ws.meta()[META_PROVINCE_KEY], ws.meta()[DEMO_KEY_META]))
        ws.close()
    assert codes[0] == codes[1]


def test_a_workspace_with_a_real_province_key_gets_no_demo_certificate(fresh_ws: Workspace):
    real = public_key_text(public_key_of(bytes(range(32))))
    fresh_ws.set_meta(META_PROVINCE_KEY, real)
    demo.generate(fresh_ws, households=40)
    assert fresh_ws.conn.execute("SELECT count(*) FROM certificates").fetchone()[0] == 0
    assert fresh_ws.meta()[META_PROVINCE_KEY] == real
    assert DEMO_KEY_META not in fresh_ws.meta()


def test_certificates_verify_on_a_demo_certificate_offline(tmp_path):
    folder = tmp_path / "demo"
    with Workspace.open(folder) as ws:
        demo.generate(ws, seed=5, households=30)
        signer = demo_signer(ws)
        assert signer is not None
        codes = {}
        for row in ws.conn.execute("SELECT * FROM certificates"):
            payload = CertificatePayload(row["id"], row["course_id"], row["course_version"],
                                         dt.date.fromisoformat(row["issued_on"]),
                                         row["display_name"])
            codes[bool(row["revoked"])] = make_code(payload, signer.signing_key,
                                                    signer.key_certificate)
    for revoked, code in codes.items():
        result = CliRunner().invoke(cli, ["--data-dir", str(folder), "certificates", "verify",
                                          code, "--json"])
        assert result.exit_code == 0, result.output
        answer = json.loads(result.stdout)
        assert answer["valid"] is True and answer["revoked"] is revoked
        assert answer["course"] == SHIPPED_COURSE
