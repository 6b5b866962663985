"""`dxkit key`: status, the recovery key shown once, unlocking on another computer."""

from __future__ import annotations

import re

from dxkit.cli import cli
from dxkit.core.encryption import WorkspaceKeys
from dxkit.core.keys import DatabaseKey
from tests.cli.conftest import as_json

RECOVERY_LINE = re.compile(r"^\s+((?:[A-Z2-7]{4}-){6}[A-Z2-7]{4})\s*$", re.MULTILINE)


def shown_recovery_key(output: str) -> str:
    lines = RECOVERY_LINE.findall(output)
    assert len(lines) == 2, output
    return "-".join(lines)


def test_status_says_where_the_key_is_and_that_recovery_is_not_shown(dxkit, team_dir):
    info = as_json(dxkit(team_dir, "key", "status", "--json"))
    assert info == {"encrypted": True, "cipher": "sqlcipher-4", "key_store": "keyring",
                    "recovery_shown_at": None}
    text = dxkit(team_dir, "key", "status").output
    assert "dxkit key recovery" in text


def test_the_recovery_key_is_shown_once_and_is_the_workspace_key(dxkit, team_dir):
    first = dxkit(team_dir, "key", "recovery")
    assert first.exit_code == 0, first.output
    printed = shown_recovery_key(first.output)
    assert DatabaseKey.from_recovery_text(printed) == WorkspaceKeys(team_dir).key()
    again = dxkit(team_dir, "key", "recovery")
    assert again.exit_code == 1
    assert again.stdout == "" and RECOVERY_LINE.search(again.stderr) is None
    assert len(again.stderr.strip().splitlines()) == 1 and "chỉ hiện một lần" in again.stderr
    assert as_json(dxkit(team_dir, "key", "status", "--json"))["recovery_shown_at"]


def test_unlock_with_the_recovery_key_on_another_computer(dxkit, filled_dir, memory_keyring):
    printed = shown_recovery_key(dxkit(filled_dir, "key", "recovery").output)
    memory_keyring.secrets.clear()  # another computer
    locked = dxkit(filled_dir, "people", "list", "MH-001")
    assert locked.exit_code == 1 and "key unlock" in locked.stderr
    assert len(locked.stderr.strip().splitlines()) == 1
    unlocked = dxkit(filled_dir, "key", "unlock", "--recovery-key", printed.lower())
    assert unlocked.exit_code == 0, unlocked.output
    people = as_json(dxkit(filled_dir, "people", "list", "MH-001", "--json"))
    assert [p["full_name"] for p in people if p["cccd"]] == ["Nguyễn Văn Đồng"]


def test_unlock_asks_for_the_key_and_refuses_a_typo_in_one_sentence(dxkit, team_dir,
                                                                    memory_keyring):
    from click.testing import CliRunner

    printed = WorkspaceKeys(team_dir).key().recovery_text()
    memory_keyring.secrets.clear()
    typo = printed.replace(printed[0], "A" if printed[0] != "A" else "B", 1)
    refused = CliRunner().invoke(cli, ["--data-dir", str(team_dir), "key", "unlock"],
                                 input=typo + "\n")
    assert refused.exit_code == 1
    assert refused.stderr.strip().splitlines()[-1].startswith("Khóa khôi phục này bị gõ nhầm")
    accepted = CliRunner().invoke(cli, ["--data-dir", str(team_dir), "key", "unlock"],
                                  input=printed + "\n")
    assert accepted.exit_code == 0, accepted.output
    assert printed not in accepted.output  # the prompt does not echo it
