"""Enroll and go (issue 10 §1), through the `dxkit` entry point against the real hub: right
after `dxkit enroll` into the team of Ấp Mỹ Đông of Xã Tháp Mười (30037), the laptop knows its
province, commune and hamlet, `team show` says so, and `households add --hamlet "Ấp Mỹ Đông"`
works before any sync; the commune's team reads what it recorded. The hub's team commands
answer bad input with one sentence and a non-zero exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.hub_process import dxkit_command

# The command line runs in processes of its own: workspace keys go to files they can read.
pytestmark = pytest.mark.usefixtures("key_files")

DONG_THAP, THAP_MUOI = "82", "30037"


@pytest.fixture(autouse=True)
def file_tokens(monkeypatch):
    monkeypatch.setenv("DXKIT_TOKEN_STORE", "file")


def dxkit(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DXKIT_TOKEN_STORE": "file", "DXKIT_LANG": "en"}
    return subprocess.run([sys.executable, "-m", "dxkit.ui.entry", "--data-dir", str(folder),
                           *args], capture_output=True, text=True, timeout=120, env=env,
                          check=False)


def ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_laptop_enrolled_in_a_hamlet_team_records_its_hamlet_at_once(module_hub, tmp_path):
    place = ("--province", DONG_THAP, "--commune", THAP_MUOI)
    team = module_hub.cli("team", "add", *place, "--hamlet", "Ấp Mỹ Đông")
    assert team["kind"] == "hamlet" and [h["name"] for h in team["hamlets"]] == ["Ấp Mỹ Đông"]
    laptop = tmp_path / "laptop"
    code = module_hub.cli("enroll-code", "--team", team["team_id"])["code"]
    said = ok(dxkit(laptop, "enroll", "--server", module_hub.url, "--code", code))
    assert "Ấp Mỹ Đông" in said

    shown = json.loads(ok(dxkit(laptop, "team", "show", "--json")))
    assert (shown["province"], shown["commune"]) == ("Đồng Tháp", "Xã Tháp Mười")
    assert (shown["kind"], shown["hamlet"], shown["hamlets"]) == (
        "hamlet", "Ấp Mỹ Đông", ["Ấp Mỹ Đông"])
    assert "Ấp Mỹ Đông, Xã Tháp Mười, Đồng Tháp" in ok(dxkit(laptop, "team", "show"))
    ok(dxkit(laptop, "households", "add", "--code", "MĐ-001", "--head-name", "Nguyễn Văn An",
             "--hamlet", "Ấp Mỹ Đông"))
    ok(dxkit(laptop, "households", "add", "--code", "MĐ-002", "--head-name", "Trần Thị Lan",
             "--hamlet", "ap my dong"))  # typed without diacritics
    other = dxkit(laptop, "hamlets", "add", "Ấp Khác")  # a hamlet team adds none
    assert other.returncode != 0 and "one hamlet" in other.stderr
    assert "Traceback" not in other.stderr
    ok(dxkit(laptop, "sync"))

    # The commune's team (made after) reads the hamlet and what the laptop recorded.
    commune = module_hub.cli("team", "add", *place)
    assert commune["kind"] == "commune" and commune["hamlet"] == ""
    office = tmp_path / "office"
    code = module_hub.cli("enroll-code", "--team", commune["team_id"])["code"]
    said = ok(dxkit(office, "enroll", "--server", module_hub.url, "--code", code))
    assert "commune team" in said and "Ấp Mỹ Đông" in said
    assert json.loads(ok(dxkit(office, "team", "show", "--json")))["kind"] == "commune"
    ok(dxkit(office, "sync"))
    listed = json.loads(ok(dxkit(office, "households", "list", "--json")))
    assert sorted(h["code"] for h in listed) == ["MĐ-001", "MĐ-002"]
    ok(dxkit(office, "hamlets", "add", "Ấp Mới"))  # a commune team may: the hub registers it
    ok(dxkit(office, "sync"))
    teams = {t["id"]: t for t in module_hub.cli("team", "list")}
    assert {h["name"] for h in teams[commune["team_id"]]["hamlets"]} == {"Ấp Mỹ Đông", "Ấp Mới"}
    assert [h["name"] for h in teams[team["team_id"]]["hamlets"]] == ["Ấp Mỹ Đông"]
    text = subprocess.run(dxkit_command("--lang", "en", "hub", "--db", str(module_hub.db_path),
                                        "team", "list"),
                          capture_output=True, text=True, timeout=60, check=True).stdout
    assert f"{commune['team_id']}" in text and "commune: " in text


def test_bad_team_places_are_one_sentence_and_a_non_zero_exit(tmp_path):
    db = str(tmp_path / "hub.sqlite")

    def hub(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(dxkit_command("--lang", "en", "hub", "--db", db, *args),
                              capture_output=True, text=True, timeout=60, check=False)

    for args, sentence in (
            (("--province", "82", "--commune", "99999"), "There is no commune “99999”"),
            (("--province", "99", "--commune", "30037"), "There is no province “99”"),
            (("--province", "82", "--commune", "30037", "--hamlet", "  "),
             "Give the hamlet's name."),
            (("--province", "82", "--commune", "30037", "--hamlet", "Ấp " + "x" * 300),
             "The hamlet's name:")):
        done = hub("team", "add", *args)
        assert done.returncode != 0, args
        assert sentence in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    done = hub("hamlets", "set", "--province", "82", "--commune", "30037", "--hamlet",
               "Ấp Mỹ Đông", "--population-15", "100", "--population-18", "120")
    assert done.returncode != 0 and "more adults" in done.stderr
    assert json.loads(hub("team", "list", "--json").stdout) == []
