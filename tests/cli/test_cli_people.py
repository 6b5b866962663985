"""`dxkit people ...`: add, list (masked), export, delete."""

from __future__ import annotations

import json
from pathlib import Path

from dxkit.workspace import Workspace
from tests.cli.conftest import VALID_CCCD, Invoke, as_json, counts


def person_id(folder: Path, name: str) -> str:
    with Workspace.open(folder) as ws:
        household = ws.households.by_code("MH-001")
        return next(p.id for p in ws.people.in_household(household.id) if p.full_name == name)


def test_add_json_prints_the_person_with_the_id_masked(filled_dir: Path, dxkit: Invoke):
    result = dxkit(filled_dir, "people", "add", "MH-002", "--name", "Trần Thị Nguyệt",
                   "--sex", "Nữ", "--birth", "01/02/1990", "--relationship", "Chủ hộ",
                   "--phone", "0162 345 6789", "--cccd", "087190000123", "--consent", "--json")
    person = as_json(result)
    assert person["full_name"] == "Trần Thị Nguyệt"
    assert person["sex"] == "F"
    assert person["birth_date"] == "1990-02-01"
    assert person["consent"] is True
    assert person["cccd"] == "087•••••••23"
    assert "087190000123" not in result.stdout
    assert person["phone"] == "0323•••789"  # the old 11-digit number was renumbered
    listed = as_json(dxkit(filled_dir, "people", "list", "MH-002", "--json"))
    assert [p["id"] for p in listed] == [person["id"]]


def test_add_text_confirms(filled_dir: Path, dxkit: Invoke):
    result = dxkit(filled_dir, "people", "add", "K3-001", "--name", "Võ Văn Út", "--birth",
                   "2001")
    assert result.exit_code == 0
    assert "Võ Văn Út" in result.stdout and "K3-001" in result.stdout


def test_a_citizen_id_without_consent_is_refused_and_nothing_is_written(filled_dir: Path,
                                                                         dxkit: Invoke):
    before = counts(filled_dir)
    result = dxkit(filled_dir, "people", "add", "MH-002", "--name", "Trần Văn Hai",
                   "--sex", "Nam", "--birth", "1990", "--cccd", "087090000123")
    assert result.exit_code == 1
    assert "đồng ý" in result.stderr
    assert counts(filled_dir) == before


def test_bad_fields_are_all_reported(filled_dir: Path, dxkit: Invoke):
    before = counts(filled_dir)
    result = dxkit(filled_dir, "people", "add", "MH-002", "--name", " ", "--sex", "x",
                   "--birth", "31/02/1990")
    assert result.exit_code == 1
    assert "Nam" in result.stderr and "05/09/1968" in result.stderr and "họ và tên" in result.stderr
    assert counts(filled_dir) == before


def test_adding_to_an_unknown_household_fails(filled_dir: Path, dxkit: Invoke):
    result = dxkit(filled_dir, "people", "add", "NOPE-1", "--name", "A")
    assert result.exit_code == 1
    assert "NOPE-1" in result.stderr


def test_list_masks_citizen_ids_in_text_and_json(filled_dir: Path, dxkit: Invoke):
    rows = as_json(dxkit(filled_dir, "people", "list", "MH-001", "--json"))
    assert [r["full_name"] for r in rows] == ["Nguyễn Văn Đồng", "Lê Thị Lan"]
    assert rows[0]["cccd"] == "087•••••••45"
    assert rows[0]["birth_year"] == 1968
    assert rows[1]["birth_date"] == "1972-09-05"
    text = dxkit(filled_dir, "people", "list", "MH-001")
    assert text.exit_code == 0
    assert "087•••••••45" in text.stdout
    assert VALID_CCCD not in text.stdout + text.stderr


def test_export_writes_everything_about_the_person(filled_dir: Path, dxkit: Invoke,
                                                   tmp_path: Path):
    target = tmp_path / "out" / "dong.json"
    target.parent.mkdir()
    pid = person_id(filled_dir, "Nguyễn Văn Đồng")
    result = dxkit(filled_dir, "people", "export", pid, "--out", str(target))
    assert result.exit_code == 0, result.output
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["person"]["full_name"] == "Nguyễn Văn Đồng"
    assert data["person"]["cccd"] == VALID_CCCD  # the person's own copy is complete
    assert str(target) in result.stdout


def test_export_of_an_unknown_person_fails_without_a_file(filled_dir: Path, dxkit: Invoke,
                                                          tmp_path: Path):
    target = tmp_path / "nobody.json"
    result = dxkit(filled_dir, "people", "export", "no-such-id", "--out", str(target))
    assert result.exit_code == 1
    assert "no-such-id" in result.stderr
    assert not target.exists()


def test_delete_without_yes_refuses_and_keeps_the_person(filled_dir: Path, dxkit: Invoke):
    pid = person_id(filled_dir, "Lê Thị Lan")
    before = counts(filled_dir)
    result = dxkit(filled_dir, "people", "delete", pid)
    assert result.exit_code != 0
    assert "--yes" in result.stderr and "Lê Thị Lan" in result.stderr
    assert counts(filled_dir) == before
    rows = as_json(dxkit(filled_dir, "people", "list", "MH-001", "--json"))
    assert len(rows) == 2


def test_delete_with_yes_erases_the_personal_data(filled_dir: Path, dxkit: Invoke):
    pid = person_id(filled_dir, "Nguyễn Văn Đồng")
    result = dxkit(filled_dir, "people", "delete", pid, "--yes")
    assert result.exit_code == 0, result.output
    # He headed MH-001: its head fields go with him, and the command says so.
    assert "MH-001" in result.stdout and "chủ hộ mới" in result.stdout
    with Workspace.open(filled_dir) as ws:
        assert ws.households.by_code("MH-001").head_name == ""
    rows = as_json(dxkit(filled_dir, "people", "list", "MH-001", "--json"))
    assert [r["full_name"] for r in rows] == ["Lê Thị Lan"]
    with Workspace.open(filled_dir) as ws:
        erased = ws.people.get(pid)
        assert erased.deleted and erased.full_name == "" and erased.cccd == ""
    again = dxkit(filled_dir, "people", "delete", pid, "--yes")
    assert again.exit_code == 1
