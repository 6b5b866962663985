"""`dxkit households edit` and `dxkit people edit`: only the options given are written."""

from __future__ import annotations

from pathlib import Path

from dxkit.workspace import Workspace
from tests.cli.conftest import VALID_CCCD, Invoke, as_json, counts


def _person(folder: Path, code: str, name: str):
    with Workspace.open(folder) as ws:
        household = ws.households.by_code(code)
        return next(p for p in ws.people.in_household(household.id) if p.full_name == name)


def _household(folder: Path, code: str):
    with Workspace.open(folder) as ws:
        return ws.households.by_code(code)


def test_household_edit_changes_only_the_given_fields(filled_dir: Path, dxkit: Invoke):
    before = _household(filled_dir, "MH-001")
    result = dxkit(filled_dir, "households", "edit", "mh-001", "--phone", "0913 111 222",
                   "--address", "Số 5, đường Lê Lợi", "--json")
    edited = as_json(result)
    assert edited["phone"] == "0913111222"
    assert edited["address"] == "Số 5, đường Lê Lợi"
    after = _household(filled_dir, "MH-001")
    assert (after.head_name, after.hamlet_id, after.notes) == (
        before.head_name, before.hamlet_id, before.notes)


def test_household_edit_clears_a_field_given_empty(filled_dir: Path, dxkit: Invoke):
    assert _household(filled_dir, "MH-001").phone  # the fixture gives it one
    result = dxkit(filled_dir, "households", "edit", "MH-001", "--phone", "")
    assert result.exit_code == 0, result.stderr
    assert _household(filled_dir, "MH-001").phone == ""


def test_household_edit_refuses_bad_input_in_one_sentence_and_writes_nothing(
        filled_dir: Path, dxkit: Invoke):
    before = counts(filled_dir)
    phone = _household(filled_dir, "MH-001").phone
    result = dxkit(filled_dir, "households", "edit", "MH-001", "--phone", "12", "--notes", "x")
    assert result.exit_code == 1
    assert result.stderr.strip() and "Traceback" not in result.stderr
    assert _household(filled_dir, "MH-001").phone == phone
    assert counts(filled_dir) == before


def test_edit_without_options_says_what_to_do(filled_dir: Path, dxkit: Invoke):
    for args in (("households", "edit", "MH-001"), ("people", "edit", "nobody")):
        result = dxkit(filled_dir, *args)
        assert result.exit_code == 1
        assert "--help" in result.stderr


def test_unknown_household_is_refused(filled_dir: Path, dxkit: Invoke):
    result = dxkit(filled_dir, "households", "edit", "KHONG-CO", "--notes", "x")
    assert result.exit_code == 1


def test_person_edit_changes_only_the_given_fields(filled_dir: Path, dxkit: Invoke):
    added = as_json(dxkit(filled_dir, "people", "add", "MH-001", "--name", "Lê Văn Tám",
                          "--birth", "1968", "--sex", "Nam", "--relationship", "Con",
                          "--json"))
    result = dxkit(filled_dir, "people", "edit", added["id"], "--phone", "0987654321",
                   "--birth", "05/09/1968", "--json")
    edited = as_json(result)
    assert edited["birth_date"] == "1968-09-05"
    assert edited["full_name"] == "Lê Văn Tám"
    assert edited["relationship"] == "Con"
    assert edited["sex"] == "M"


def test_consent_then_cccd_and_withdrawing_consent_removes_the_cccd(filled_dir: Path,
                                                                     dxkit: Invoke):
    added = as_json(dxkit(filled_dir, "people", "add", "MH-001", "--name", "Nguyễn Văn Bảy",
                          "--birth", "1968", "--sex", "Nam", "--json"))
    refused = dxkit(filled_dir, "people", "edit", added["id"], "--cccd", VALID_CCCD)
    assert refused.exit_code == 1  # no consent yet
    given = dxkit(filled_dir, "people", "edit", added["id"], "--consent", "--cccd", VALID_CCCD)
    assert given.exit_code == 0, given.stderr
    with Workspace.open(filled_dir) as ws:
        assert ws.people.get(added["id"]).cccd == VALID_CCCD
    withdrawn = as_json(dxkit(filled_dir, "people", "edit", added["id"], "--no-consent",
                              "--json"))
    assert withdrawn["consent"] is False
    with Workspace.open(filled_dir) as ws:
        person = ws.people.get(added["id"])
        assert (person.consent, person.cccd) == (False, "")


def test_edit_help_is_vietnamese(filled_dir: Path, dxkit: Invoke):
    result = dxkit(filled_dir, "people", "edit", "--help")
    assert "Rút lại sự đồng ý" in result.stdout
