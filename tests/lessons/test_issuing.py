"""Issuing certificates to the learners who completed, reprinting, revoking; and the xAPI
export of a class's records (validated by ralph's xAPI models)."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from pathlib import Path

import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement

from dxkit.core.errors import NotFound, ValidationError
from dxkit.labels.verify import verify_pdf
from dxkit.lessons.certificate_code import (
    code_in,
    issue_key_certificate,
    local_status,
    new_signing_key,
    public_key_of,
    verify_code,
)
from dxkit.lessons.issuing import Signer, issue_certificates, revoke_certificate
from dxkit.lessons.xapi import records, write_statements
from tests.lessons.conftest import Setup
from tests.lessons.test_progress import PAY, PHONE, master_phone

PROVINCE, TEAM = new_signing_key(), new_signing_key()
SIGNER = Signer(TEAM, issue_key_certificate(
    PROVINCE, team_id=str(uuid.uuid4()), province_code=82, commune_code=28249,
    hamlet="Ấp Mỹ Hưng", public_key=public_key_of(TEAM), valid_from=dt.date(2026, 1, 1),
    valid_until=dt.date(2030, 12, 31)), "https://hub.example.vn")
DAYS = [dt.date(2026, 11, d) for d in (3, 6, 9, 12)]


def complete(s: Setup, person: str) -> None:
    for day in DAYS:
        s.ws.lessons.attendance(s.class_id, day, present=[person])
    master_phone(s, person)
    s.ws.lessons.record(s.class_id, person, PAY, skills=["ky-nang-1"], on=DAYS[-1])


def test_only_learners_who_completed_get_one_and_the_others_hear_why(setup: Setup,
                                                                     tmp_path: Path):
    s = setup
    complete(s, s.people[0])
    s.ws.lessons.attendance(s.class_id, DAYS[0], present=[s.people[1]])
    report = issue_certificates(s.ws, s.class_id, SIGNER, tmp_path / "c.pdf").value
    assert [c.person_id for c in report.issued] == [s.people[0]]
    assert {w.person_id for w in report.withheld} == set(s.people[1:])
    assert all("chưa hoàn thành" in w.reason or "has not completed" in w.reason
               for w in report.withheld)
    codes = verify_pdf((tmp_path / "c.pdf").read_bytes(), 150).codes
    assert [c.payload for c in codes] == [report.issued[0].url]
    checked = verify_code(code_in(codes[0].payload) or "", public_key_of(PROVINCE))
    assert checked.valid and checked.payload is not None
    assert checked.payload.certificate_id == report.issued[0].certificate_id
    row = s.ws.conn.execute("SELECT * FROM certificates").fetchone()
    assert row["code"] == report.issued[0].code and row["person_id"] == s.people[0]
    assert not row["show_name"] and row["display_name"] == ""  # no consent: no name shown


def test_a_reprint_is_the_same_certificate(setup: Setup, tmp_path: Path):
    s = setup
    complete(s, s.people[0])
    first = issue_certificates(s.ws, s.class_id, SIGNER, tmp_path / "a.pdf").value.issued[0]
    again = issue_certificates(s.ws, s.class_id, SIGNER, tmp_path / "b.pdf").value.issued[0]
    assert (again.certificate_id, again.code, again.url, again.reprinted) == (
        first.certificate_id, first.code, first.url, True)
    assert s.ws.conn.execute("SELECT count(*) FROM certificates").fetchone()[0] == 1


def test_naming_a_learner_who_has_not_completed_writes_nothing(setup: Setup, tmp_path: Path):
    s = setup
    complete(s, s.people[0])
    with pytest.raises(ValidationError) as refused:
        issue_certificates(s.ws, s.class_id, SIGNER, tmp_path / "c.pdf",
                           learners=[s.people[0], s.people[1]])
    assert "Lê Thị Lan 1" in str(refused.value.fields)
    assert not (tmp_path / "c.pdf").exists()
    assert s.ws.conn.execute("SELECT count(*) FROM certificates").fetchone()[0] == 0
    assert not list(tmp_path.glob(".certificates-*"))


def test_nobody_completed_is_an_error(setup: Setup, tmp_path: Path):
    with pytest.raises(ValidationError):
        issue_certificates(setup.ws, setup.class_id, SIGNER, tmp_path / "c.pdf")


def test_revoking_shows_in_the_local_status_and_cannot_happen_twice(setup: Setup,
                                                                    tmp_path: Path):
    s = setup
    complete(s, s.people[0])
    issued = issue_certificates(s.ws, s.class_id, SIGNER, tmp_path / "c.pdf").value.issued[0]
    with pytest.raises(ValidationError):
        revoke_certificate(s.ws, issued.certificate_id, "  ")
    with pytest.raises(NotFound):
        revoke_certificate(s.ws, str(uuid.uuid4()), "nhầm")
    revoke_certificate(s.ws, issued.certificate_id, "Cấp nhầm người")
    status = local_status(s.ws.conn, issued.code)
    assert status is not None and status.revoked
    with pytest.raises(ValidationError):
        revoke_certificate(s.ws, issued.certificate_id, "lần nữa")
    # A revoked certificate is not reprinted: a new one is issued.
    again = issue_certificates(s.ws, s.class_id, SIGNER, tmp_path / "d.pdf").value.issued[0]
    assert again.certificate_id != issued.certificate_id and not again.reprinted


def test_the_xapi_export_of_a_class_is_valid_and_stable(setup: Setup):
    s = setup
    complete(s, s.people[0])
    s.ws.lessons.record(s.class_id, s.people[1], PHONE, quiz=(0, 3), on=DAYS[1])
    voided = s.ws.lessons.record(s.class_id, s.people[2], PHONE, quiz=(1, 3), on=DAYS[1]).value
    s.ws.lessons.void(voided[0])
    out = io.StringIO()
    count = write_statements(records(s.ws.conn), "https://hub.example.vn", out)
    statements = json.loads(out.getvalue())
    assert count == len(statements) > 0
    for statement in statements:
        BaseXapiStatement(**statement)
        assert statement["actor"]["account"]["name"] in s.people
        assert "Lê Thị Lan" not in json.dumps(statement, ensure_ascii=False)
    verbs = [(st["actor"]["account"]["name"], st["verb"]["display"]["en-US"])
             for st in statements]
    assert (s.people[0], "completed") in verbs and (s.people[0], "mastered") in verbs
    assert (s.people[1], "failed") in verbs
    assert all(person != s.people[2] for person, _verb in verbs)  # the void left nothing
    again = io.StringIO()
    write_statements(records(s.ws.conn), "https://hub.example.vn", again)
    assert [x["id"] for x in json.loads(again.getvalue())] == [x["id"] for x in statements]
    later = list(records(s.ws.conn, since=DAYS[-1]))
    assert later and all(r.at.date() >= DAYS[-1] for r in later)


def test_the_grid_export_and_the_register_carry_the_class(setup: Setup, tmp_path: Path):
    from openpyxl import load_workbook

    from dxkit.lessons.grid_export import write_grid_xlsx
    from dxkit.lessons.register_pdf import class_register, write_class_register

    s = setup
    complete(s, s.people[0])
    s.ws.lessons.record(s.class_id, s.people[1], PHONE, quiz=(0, 3), on=DAYS[1])
    s.ws.lessons.record(s.class_id, s.people[1], PHONE, quiz=(1, 3), on=DAYS[1])
    grid = s.ws.lessons.grid(s.class_id)
    book = load_workbook(write_grid_xlsx(s.ws, s.class_id, tmp_path / "grid.xlsx"))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 1 + len(grid.learners)
    by_name = {r[1]: r for r in rows[1:]}
    for learner in grid.learners:
        row = by_name[learner.name]
        assert row[-4:-1] == (learner.mastered, learner.attended, learner.sessions)
    detail = list(book.worksheets[1].iter_rows(values_only=True))
    helped = [r for r in detail if r[0] == "Lê Thị Lan 1"]
    assert helped and helped[0][5:7] == (2, 2)  # two attempts, both failed
    register = class_register(s.ws, s.class_id)
    assert [learner.name for learner in register.learners] == [r.name for r in grid.learners]
    assert register.sessions[:4] == DAYS and register.learners[0].household_code == "MH-001"
    assert write_class_register(s.ws, s.class_id, tmp_path / "so.pdf") >= 1
