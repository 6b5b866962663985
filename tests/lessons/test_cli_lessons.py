"""`dxkit courses …` and `dxkit classes …` as the acceptance scripts drive them (§8)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from dxkit.lessons.library import SHIPPED_COURSE
from dxkit.workspace import Workspace
from tests.cli.conftest import as_json, run_cli
from tests.lessons.conftest import COURSE, add_people
from tests.lessons.packs_setup import manifest, write_pack

TODAY = dt.date.today()
STARTS = TODAY - dt.timedelta(days=10)


run = run_cli


def written(folder: Path) -> dict[str, int]:
    with Workspace.open(folder) as ws:
        return {t: ws.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("classes", "class_learners", "lesson_events", "outbox",
                          "course_packs", "people")}


@pytest.fixture
def team(ws: Workspace, tmp_path: Path) -> tuple[Path, list[str]]:
    """A team workspace with the test course imported and four people, closed."""
    ws.freeze_time(None)
    ws.lessons.import_pack(write_pack(tmp_path / "pack"))
    people = add_people(ws, 4)
    path = ws.path
    ws.close()
    return path, people


def test_courses_list_and_show(team):
    folder, _people = team
    listed = as_json(run(folder, "courses", "list", "--json"))
    assert {"id": COURSE, "version": "2026.12.1", "title": "Khóa học thử", "lessons": 2} in listed
    assert SHIPPED_COURSE in {c["id"] for c in listed}
    shown = as_json(run(folder, "courses", "show", COURSE, "--json"))
    assert set(shown) >= {"id", "version", "title", "lessons"}
    first = shown["lessons"][0]
    assert set(first) >= {"id", "title", "skills", "quiz_items", "mastery"}
    assert first["skills"][0] == {"id": "ky-nang-1", "text": "Tự làm được"}
    assert first["quiz_items"] == 3
    assert first["mastery"] == {"skills": "all", "quiz": {"rule": "pass_mark",
                                                         "pass_mark": 0.8}}
    missing = run(folder, "courses", "show", "vn.khong-co", "--json")
    assert missing.exit_code != 0 and "vn.khong-co" in missing.stderr


def test_courses_import_refuses_a_bad_pack_with_every_problem(team, tmp_path: Path):
    folder, _people = team
    data = manifest()
    data["id"] = "vn.test.khac"
    data["lessons"][0]["quiz"][0]["answer"] = ["z"]
    bad = write_pack(tmp_path / "bad", data, changes={"lessons/02-thanh-toan.vi.md": None})
    before = written(folder)
    result = run(folder, "courses", "import", str(bad))
    assert result.exit_code != 0
    assert "course.json" in result.stderr and "02-thanh-toan.vi.md" in result.stderr
    as_data = run(folder, "courses", "import", str(bad), "--json")
    assert as_data.exit_code != 0 and len(json.loads(as_data.stdout)["problems"]) >= 2
    assert written(folder) == before
    good = manifest()
    good["version"] = "2026.12.2"
    imported = as_json(run(folder, "courses", "import",
                           str(write_pack(tmp_path / "good", good)), "--json"))
    assert imported["version"] == "2026.12.2" and imported["imported"] is True


def test_a_class_from_roll_call_to_grid(team):
    folder, people = team
    class_id = as_json(run(folder, "classes", "add", "--course", COURSE, "--name", "Lớp tối",
                           "--starts", STARTS.isoformat(), "--trainer", "Lê Thị Hoa",
                           "--place", "Nhà văn hóa", "--json"))["class_id"]
    listed = as_json(run(folder, "classes", "list", "--json"))
    assert [c["class_id"] for c in listed] == [class_id]
    options = [part for person in people for part in ("--person", person)]
    enrolled = as_json(run(folder, "classes", "enrol", class_id, *options, "--json"))
    assert enrolled["enrolled"] == people
    day = (STARTS + dt.timedelta(days=1)).isoformat()
    result = run(folder, "classes", "attendance", class_id, "--on", day,
                 "--present", people[0], "--present", people[1], "--absent", people[2])
    assert result.exit_code == 0, result.output
    recorded = as_json(run(folder, "classes", "record", class_id, "--learner", people[0],
                           "--lesson", "dien-thoai", "--skill", "ky-nang-1", "--skill",
                           "ky-nang-2", "--quiz", "3/3", "--on", day, "--json"))
    assert recorded["state"] == "mastered" and len(recorded["event_ids"]) == 3
    run(folder, "classes", "record", class_id, "--learner", people[1], "--lesson",
        "dien-thoai", "--quiz", "1/3", "--on", day)
    run(folder, "classes", "record", class_id, "--learner", people[1], "--lesson",
        "dien-thoai", "--quiz", "0/3")
    grid = as_json(run(folder, "classes", "grid", class_id, "--json"))
    assert set(grid) == {"class_id", "course_id", "learners"}
    assert grid["class_id"] == class_id and grid["course_id"] == COURSE
    rows = {row["person_id"]: row for row in grid["learners"]}
    assert set(rows) == set(people)
    assert set(rows[people[0]]) == {"person_id", "name", "lessons", "completed"}
    assert rows[people[0]]["lessons"] == {"dien-thoai": "mastered", "thanh-toan": "not_started"}
    assert rows[people[1]]["lessons"]["dien-thoai"] == "needs_help"
    assert rows[people[0]]["completed"] is False
    helped = as_json(run(folder, "classes", "grid", class_id, "--needs-help", "--json"))
    assert [r["person_id"] for r in helped["learners"]] == [people[1]]
    text = run(folder, "classes", "grid", class_id)
    assert text.exit_code == 0 and "✓" in text.output


@pytest.fixture
def klass(team) -> tuple[Path, list[str], str]:
    folder, people = team
    class_id = as_json(run(folder, "classes", "add", "--course", COURSE, "--name", "Lớp",
                           "--starts", STARTS.isoformat(), "--json"))["class_id"]
    as_json(run(folder, "classes", "enrol", class_id, "--person", people[0], "--json"))
    return folder, people, class_id


@pytest.mark.parametrize("args", [
    ["record", "{c}", "--learner", "{p0}", "--lesson", "dien-thoai", "--quiz", "4/3"],
    ["record", "{c}", "--learner", "{p0}", "--lesson", "dien-thoai", "--quiz", "bốn"],
    ["record", "{c}", "--learner", "{p0}", "--lesson", "khong-co", "--skill", "ky-nang-1"],
    ["record", "{c}", "--learner", "{p0}", "--lesson", "dien-thoai", "--skill", "khong-co"],
    ["record", "{c}", "--learner", "{p1}", "--lesson", "dien-thoai", "--skill", "ky-nang-1"],
    ["record", "{c}", "--learner", "{p0}", "--lesson", "dien-thoai", "--skill", "ky-nang-1",
     "--on", "{before}"],
    ["attendance", "{c}", "--on", "{before}", "--present", "{p0}"],
    ["attendance", "{c}", "--on", "{today}", "--present", "{p1}"],
    ["attendance", "01a00000-0000-7000-8000-000000000001", "--on", "{today}",
     "--present", "{p0}"],
    ["enrol", "{c}", "--person", "{p0}"],
    ["enrol", "{c}", "--person", "01a00000-0000-7000-8000-000000000002"],
    ["add", "--course", "vn.khong-co", "--name", "Lớp", "--starts", "{today}"],
    ["grid", "01a00000-0000-7000-8000-000000000003"],
    ["enrol", "{c}"],
    ["enrol", "{c}", "--new-person", "--household", "MH-001"],
    ["enrol", "{c}", "--new-person", "--household", "KHONG-CO", "--name", "Lê Văn Mới"],
    ["enrol", "{c}", "--new-person", "--household", "MH-001", "--name", "Lê Văn Mới",
     "--birth", "31/02/1980"],
    ["enrol", "{c}", "--new-person", "--household", "MH-001", "--name", "Lê Văn Mới",
     "--sex", "không rõ"],
    ["enrol", "{c}", "--new-person", "--household", "MH-001", "--name", "Lê Văn Mới",
     "--person", "{p1}"],
    ["enrol", "{c}", "--household", "MH-001", "--name", "Lê Văn Mới"],
    ["enrol", "01a00000-0000-7000-8000-000000000004", "--new-person", "--household", "MH-001",
     "--name", "Lê Văn Mới"],
])
def test_bad_input_is_one_sentence_and_writes_nothing(klass, args):
    folder, people, class_id = klass
    values = {"c": class_id, "p0": people[0], "p1": people[1],
              "before": (STARTS - dt.timedelta(days=1)).isoformat(),
              "today": TODAY.isoformat()}
    before = written(folder)
    result = run(folder, "classes", *[a.format(**values) for a in args])
    assert result.exit_code != 0
    assert result.stderr.strip() and len(result.stderr.strip().splitlines()) == 1
    assert written(folder) == before


def test_enrolling_a_new_person_adds_them_to_the_household_and_the_class(klass):
    folder, _people, class_id = klass
    before = written(folder)
    answer = as_json(run(folder, "classes", "enrol", class_id, "--new-person", "--household",
                         "mh-001", "--name", "  Lê Văn   Mới ", "--sex", "Nam", "--birth",
                         "05/09/1968", "--json"))
    assert answer["enrolled"] == [answer["person_id"]]
    after = written(folder)
    assert after["people"] == before["people"] + 1
    assert after["class_learners"] == before["class_learners"] + 1
    with Workspace.open(folder) as ws:
        person = ws.people.get(answer["person_id"])
        assert (person.full_name, person.sex, person.birth_year) == ("Lê Văn Mới", "M", 1968)
        assert person.consent is False and person.consent_on is None  # never assumed
        assert ws.households.get(person.household_id).code == "MH-001"
        grid = ws.lessons.grid(class_id)
        assert person.id in {row.person_id for row in grid.learners}
    consented = as_json(run(folder, "classes", "enrol", class_id, "--new-person",
                            "--household", "MH-001", "--name", "Trần Thị Nay", "--consent",
                            "--json"))
    with Workspace.open(folder) as ws:
        person = ws.people.get(consented["person_id"])
        assert person.consent is True and person.consent_on is not None
    text = run(folder, "classes", "enrol", class_id, "--new-person", "--household", "MH-001",
               "--name", "Võ Văn Ba")
    assert text.exit_code == 0 and "Võ Văn Ba" in text.output


def test_messages_are_vietnamese(klass):
    folder, people, class_id = klass
    result = run(folder, "classes", "enrol", class_id, "--person", people[0])
    assert "đã" in result.stderr  # "… đã đăng ký lớp …"


def test_certificates_issue_verify_revoke_and_the_xapi_export(klass, tmp_path: Path,
                                                             monkeypatch):
    """The §8 forms end to end: a learner completes, gets a certificate that verifies from its
    PDF with no network, is revoked; the xAPI export writes valid statements."""
    import uuid

    from dxkit.lessons.certificate_code import (
        issue_key_certificate,
        new_signing_key,
        public_key_of,
        public_key_text,
    )
    from dxkit.sync import teamkey
    from dxkit.sync.apply import META_SERVER, META_TEAM
    from dxkit.sync.teamkey import CertificateSigning

    folder, people, class_id = klass
    province, team_key, team_id = new_signing_key(), new_signing_key(), str(uuid.uuid4())
    signing = CertificateSigning(team_id, team_key, issue_key_certificate(
        province, team_id=team_id, province_code=82, commune_code=28249, hamlet="",
        public_key=public_key_of(team_key), valid_from=dt.date(2026, 1, 1),
        valid_until=dt.date(2031, 1, 1)), public_key_of(province))
    no_key = run(folder, "certificates", "issue", class_id, "--out", str(tmp_path / "x.pdf"))
    assert no_key.exit_code != 0 and not (tmp_path / "x.pdf").exists()
    monkeypatch.setattr(teamkey, "certificate_signing",
                        lambda wanted: signing if wanted == team_id else None)
    monkeypatch.setattr("dxkit.cli.certificates.certificate_signing",
                        lambda wanted: signing if wanted == team_id else None)
    with Workspace.open(folder) as ws:
        ws.set_meta(META_TEAM, team_id)
        ws.set_meta(META_SERVER, "https://hub.example.vn")
        ws.set_meta("certificates_province_key", public_key_text(public_key_of(province)))
    me = people[0]
    for offset in (1, 2, 3):
        day = (STARTS + dt.timedelta(days=offset)).isoformat()
        run(folder, "classes", "attendance", class_id, "--on", day, "--present", me)
    run(folder, "classes", "record", class_id, "--learner", me, "--lesson", "dien-thoai",
        "--skill", "ky-nang-1", "--skill", "ky-nang-2", "--quiz", "3/3")
    run(folder, "classes", "record", class_id, "--learner", me, "--lesson", "thanh-toan",
        "--skill", "ky-nang-1")
    pdf = tmp_path / "chung-nhan.pdf"
    issued = as_json(run(folder, "certificates", "issue", class_id, "--out", str(pdf),
                         "--json"))
    assert [set(c) for c in issued] == [{"certificate_id", "person_id", "code", "reprinted"}]
    assert issued[0]["person_id"] == me and pdf.exists()
    verdict = as_json(run(folder, "certificates", "verify", str(pdf), "--json"))
    assert verdict["valid"] is True and verdict["revoked"] is False
    # Issued today — the day the command ran, which may be after the module's TODAY when the
    # run crosses midnight.
    assert verdict["course"] == COURSE and verdict["issued_on"] in {
        TODAY.isoformat(), dt.date.today().isoformat()}
    refused = run(folder, "certificates", "issue", class_id, "--learner", people[1], "--out",
                  str(tmp_path / "y.pdf"))
    assert refused.exit_code != 0 and not (tmp_path / "y.pdf").exists()
    assert run(folder, "certificates", "revoke", issued[0]["certificate_id"], "--reason",
               "Cấp nhầm").exit_code == 0
    assert as_json(run(folder, "certificates", "verify", str(pdf), "--json"))["revoked"] is True
    out = tmp_path / "xapi.json"
    exported = as_json(run(folder, "lessons", "export-xapi", "--out", str(out), "--json"))
    statements = json.loads(out.read_text("utf-8"))
    assert exported["statements"] == len(statements) > 0
    again = tmp_path / "again.json"
    run(folder, "lessons", "export-xapi", "--out", str(again))
    assert [s["id"] for s in json.loads(again.read_text("utf-8"))] == [
        s["id"] for s in statements]
