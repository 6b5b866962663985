"""The group: --data-dir, --lang, opening the app, errors as sentences, demo, the entry point."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from dxkit import demo
from dxkit.cli import cli, terminal_progress
from dxkit.workspace import Workspace
from tests.cli.conftest import Invoke, as_json, counts

ROOT = Path(__file__).resolve().parents[2]


def test_no_command_opens_the_app_with_the_data_dir(tmp_path: Path):
    opened: list[str | None] = []

    def open_app(data_dir: str | None) -> int:
        opened.append(data_dir)
        return 0

    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path)], obj={"open_app": open_app})
    assert result.exit_code == 0
    assert opened == [str(tmp_path)]


def test_no_command_without_an_app_is_a_usage_error():
    result = CliRunner().invoke(cli, [])
    assert result.exit_code == 2
    assert result.stderr.strip()


def test_data_dir_comes_from_dxkit_home(team_dir: Path):
    result = CliRunner().invoke(cli, ["members", "list", "--json"],
                                env={"DXKIT_HOME": str(team_dir)})
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 2


def test_lang_switches_messages_to_english(team_dir: Path):
    args = ["--data-dir", str(team_dir), "households", "show", "ZZ-1"]
    vietnamese = CliRunner().invoke(cli, args)
    english = CliRunner().invoke(cli, ["--lang", "en", *args])
    from_env = CliRunner().invoke(cli, args, env={"DXKIT_LANG": "en"})
    assert vietnamese.exit_code == english.exit_code == from_env.exit_code == 1
    assert english.stderr.strip() == "No household with id ZZ-1."
    assert from_env.stderr == english.stderr
    assert vietnamese.stderr != english.stderr


def test_help_is_translated(team_dir: Path):
    english = CliRunner().invoke(cli, ["--lang", "en", "households", "add", "--help"])
    vietnamese = CliRunner().invoke(cli, ["--lang", "vi", "households", "add", "--help"])
    assert english.exit_code == vietnamese.exit_code == 0
    assert "Name of the head of household." in english.stdout
    assert "Name of the head of household." not in vietnamese.stdout
    assert "chủ hộ" in vietnamese.stdout


def test_an_unknown_language_is_a_usage_error():
    result = CliRunner().invoke(cli, ["--lang", "fr", "hamlets", "list"])
    assert result.exit_code == 2
    assert "fr" in result.stderr


def test_usage_errors_are_one_sentence_with_exit_code_2(team_dir: Path, dxkit: Invoke):
    for args, expected in ((["frobnicate"], "frobnicate"),
                           (["households", "list", "--bogus"], "--bogus"),
                           (["households", "show"], "CODE_OR_ID"),
                           (["households", "add", "--code"], "--code"),
                           (["hamlets", "add", "A", "B"], "B")):
        result = dxkit(team_dir, *args)
        assert result.exit_code == 2, args
        assert expected in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Usage:" not in result.stderr and result.stdout == ""


def test_a_file_that_is_not_a_workspace_is_refused_untouched(tmp_path: Path, dxkit: Invoke):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "dxkit.sqlite").write_bytes(b"shopping list\n" * 10)
    result = dxkit(folder, "households", "list", "--json")
    assert result.exit_code == 1
    assert "dxkit.sqlite" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert (folder / "dxkit.sqlite").read_bytes() == b"shopping list\n" * 10


def test_a_data_dir_that_is_a_file_is_refused(tmp_path: Path, dxkit: Invoke):
    target = tmp_path / "file.txt"
    target.write_text("x")
    result = dxkit(target, "hamlets", "list")
    assert result.exit_code != 0
    assert result.stderr.strip()


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert "0.1.0" in result.stdout


def test_demo_fills_an_empty_folder_and_leaves_it_when_asked(tmp_path: Path, dxkit: Invoke):
    folder = tmp_path / "demo"
    result = dxkit(folder, "demo", "--households", "4", "--seed", "2")
    assert result.exit_code == 0, result.output
    assert str(folder) in result.stdout and "4" in result.stdout
    assert len(as_json(dxkit(folder, "households", "list", "--json"))) == 4
    again = dxkit(folder, "demo", "--if-empty", "--households", "6")
    assert again.exit_code == 0
    assert len(as_json(dxkit(folder, "households", "list", "--json"))) == 4
    refill = dxkit(folder, "demo", "--households", "6")
    assert refill.exit_code == 0
    assert len(as_json(dxkit(folder, "households", "list", "--json"))) == 6


def test_demo_matches_the_core_summary(tmp_path: Path, dxkit: Invoke):
    expected = demo.fill(tmp_path / "core", seed=5, households=3)
    assert expected is not None
    result = dxkit(tmp_path / "cli", "demo", "--households", "3", "--seed", "5")
    assert result.exit_code == 0
    assert f"{expected.people}" in result.stdout and f"{expected.visits}" in result.stdout


def test_demo_refuses_a_workspace_with_real_data(filled_dir: Path, dxkit: Invoke):
    before = counts(filled_dir)
    result = dxkit(filled_dir, "demo", "--households", "3")
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert counts(filled_dir) == before
    with Workspace.open(filled_dir) as ws:
        assert ws.households.by_code("MH-001").head_name == "Nguyễn Văn Đồng"


def test_the_console_entry_point_runs_as_a_process(key_files: Path, filled_dir: Path):
    python = ROOT / ".venv" / "bin" / "python"
    env = {**os.environ, "DXKIT_LANG": "vi"}
    env.pop("DXKIT_HOME", None)
    completed = subprocess.run(
        [str(python if python.exists() else sys.executable), "-m", "dxkit.ui.entry",
         "--data-dir", str(filled_dir), "households", "list", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, encoding="utf-8", timeout=120,
        check=False)
    assert completed.returncode == 0, completed.stderr
    assert [h["code"] for h in json.loads(completed.stdout)] == ["K3-001", "MH-001", "MH-002"]
    failed = subprocess.run(
        [str(python if python.exists() else sys.executable), "-m", "dxkit.ui.entry",
         "--data-dir", str(filled_dir), "households", "show", "NOPE"],
        cwd=ROOT, env=env, capture_output=True, text=True, encoding="utf-8", timeout=120,
        check=False)
    assert failed.returncode == 1
    assert "NOPE" in failed.stderr and "Traceback" not in failed.stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_shown_only_on_a_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with terminal_progress() as progress:
        assert progress is None
    screen = _Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    with terminal_progress() as progress:
        assert progress is not None
        progress.update(value=3, maximum=10, label="Đang nhập…")
        progress.update(value=10, label="Xong")
    shown = screen.getvalue()
    assert "Đang nhập… 3/10" in shown and "\rXong 10/10" in shown
    assert shown.endswith("\n")
