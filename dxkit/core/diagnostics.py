"""Export diagnostics: one zip a volunteer can send when something goes wrong.

It holds the log files (redacted once more on the way in) and `diagnostics.json`: the versions
of dxkit, Python, Qt and SQLite, the platform, and facts about the workspace — its data
version, migrations, the number of rows per table, file sizes, backups and free disk space.
Never the database, never a value from it: table names and counts only. It reads the
workspace file directly, so it works when the workspace itself cannot be opened (that is
when it is needed most), and beside a running app.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import sqlite3
import sys
import zipfile
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import dxkit
from dxkit.core import backup, logs, store
from dxkit.core.encryption import WorkspaceKeys
from dxkit.core.errors import WorkspaceError
from dxkit.core.keys import DatabaseKey
from dxkit.core.lock import WorkspaceLock

# The workspace file does not open: damaged, or its key is not on this computer.
_UNREADABLE: tuple[type[Exception], ...] = (*store.DatabaseError, WorkspaceError)

FACTS_NAME = "diagnostics.json"


def export(workspace: Path, out: Path, extra: Mapping[str, str] | None = None) -> Path:
    """Write the diagnostics zip to `out` (through a partial file, so it is whole or absent).
    `extra` adds versions only the caller knows (the app's running Qt)."""
    facts = collect(workspace, extra)
    partial = out.with_name(out.name + ".partial")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(FACTS_NAME, json.dumps(facts, ensure_ascii=False, indent=2))
            for path in logs.log_files(workspace):
                text = path.read_text(encoding="utf-8", errors="replace")
                archive.writestr(f"logs/{path.name}", logs.redact(text))
        os.replace(partial, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return out


def collect(workspace: Path, extra: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "created": backup.utc_now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "versions": {**versions(), **(extra or {})},
        "platform": {"system": platform.system(), "release": platform.release(),
                     "version": platform.version(), "machine": platform.machine(),
                     "platform": platform.platform()},
        "workspace": workspace_facts(workspace),
        "backups": backup_facts(workspace),
        "disk_free_bytes": _free_space(workspace),
    }


def versions() -> dict[str, str]:
    return {
        "dxkit": dxkit.__version__,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "sqlite": sqlite3.sqlite_version,
        # The installed Qt binding, read without importing Qt (the kernel never does).
        "pyside6": _installed("PySide6-Essentials") or _installed("PySide6") or "",
        "frozen": str(bool(getattr(sys, "frozen", False))),
    }


def _installed(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def workspace_facts(workspace: Path) -> dict[str, Any]:
    db_path = workspace / store.DB_FILENAME
    if not db_path.is_file():
        return {"exists": False}
    facts: dict[str, Any] = {"exists": True, "bytes": db_path.stat().st_size,
                             "wal_bytes": _size(db_path.with_name(db_path.name + "-wal")),
                             "writer_running": _writer_running(workspace)}
    try:
        facts.update(_read_facts(db_path, WorkspaceKeys(workspace).key()))
    except _UNREADABLE as exc:
        facts["error"] = type(exc).__name__  # the message may quote the file's content
    return facts


def _read_facts(db_path: Path, key: DatabaseKey) -> dict[str, Any]:
    conn = store.connect(db_path, key, read_only=True)
    try:
        conn.execute("PRAGMA query_only = ON")
        tables = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name")]
        migrations = [row[0] for row in conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY name",
            (store.MIGRATION_SET,))] if "_sqlite_migrations" in tables else []
        return {
            "data_version": conn.execute("PRAGMA user_version").fetchone()[0],
            "is_dxkit": conn.execute("PRAGMA application_id").fetchone()[0]
            == store.APPLICATION_ID,
            "journal_mode": conn.execute("PRAGMA journal_mode").fetchone()[0],
            "migrations": migrations,
            "rows": {table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                     for table in tables},
        }
    finally:
        conn.close()


def backup_facts(workspace: Path) -> dict[str, Any]:
    found = backup.list_backups(workspace)
    return {"count": len(found), "bytes": sum(b.size for b in found),
            "newest": found[0].to_dict()["created"] if found else None,
            "reasons": sorted({b.reason or "other" for b in found})}


def _writer_running(workspace: Path) -> bool:
    lock = WorkspaceLock(workspace)
    if lock.try_acquire():
        lock.release()
        return False
    return True


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else 0


def _free_space(workspace: Path) -> int | None:
    try:
        return shutil.disk_usage(workspace).free
    except OSError:
        return None

