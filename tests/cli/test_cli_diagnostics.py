"""`dxkit diagnostics export`: logs, versions and counts, and nothing personal."""

from __future__ import annotations

import json
import unicodedata
import zipfile
from pathlib import Path

from dxkit.core import logs, store
from tests.cli.conftest import VALID_CCCD, as_json

PERSONAL = ("0912345678", "0987654321", VALID_CCCD, "Nguyễn Văn Đồng", "Lê Thị Lan",
            "12 Đường Lê Lợi")


def members(archive: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as opened:
        return {name: opened.read(name) for name in opened.namelist()}


def test_diagnostics_hold_logs_versions_and_counts_but_no_database_or_personal_data(
        dxkit, filled_dir: Path, tmp_path: Path):
    dxkit(filled_dir, "backup", "create")  # something in the log, and a backup to count
    # A log line that slipped through with values (an older dxkit, a careless message):
    # the export redacts it again.
    log_file = logs.folder_of(filled_dir) / logs.FILE_NAME
    with log_file.open("a", encoding="utf-8") as handle:
        handle.write(f"ERROR could not call 0912345678 about {VALID_CCCD}\n")

    out = tmp_path / "diagnostics.zip"
    assert as_json(dxkit(filled_dir, "diagnostics", "export", "--out", str(out), "--json")) == {
        "path": str(out)}
    found = members(out)
    assert set(found) == {"diagnostics.json", "logs/dxkit.log"}
    for name, data in found.items():
        assert not data.startswith(store.SQLITE_MAGIC), name
        text = unicodedata.normalize("NFC", data.decode("utf-8"))
        for value in PERSONAL:
            assert value not in text, (name, value)
    assert "backup made: reason=manual" in found["logs/dxkit.log"].decode()
    assert "ERROR could not call […] about […]" in found["logs/dxkit.log"].decode()

    facts = json.loads(found["diagnostics.json"])
    assert set(facts["versions"]) >= {"dxkit", "python", "sqlite", "pyside6"}
    assert facts["platform"]["system"]
    workspace = facts["workspace"]
    assert workspace["data_version"] == len(workspace["migrations"]) > 0
    assert workspace["rows"]["households"] == 3 and workspace["rows"]["people"] == 2
    assert facts["backups"]["count"] == 1 and facts["backups"]["reasons"] == ["manual"]


def test_diagnostics_work_when_the_workspace_cannot_be_opened(dxkit, filled_dir: Path,
                                                             tmp_path: Path):
    (filled_dir / store.DB_FILENAME).write_bytes(b"\x00" * 8192)
    out = tmp_path / "diagnostics.zip"
    result = dxkit(filled_dir, "diagnostics", "export", "--out", str(out))
    assert result.exit_code == 0, result.output
    facts = json.loads(members(out)["diagnostics.json"])
    assert facts["workspace"]["exists"] and facts["workspace"]["error"] == "DatabaseError"
