"""Opening a closed workspace's database file in a test, as an attacker or a crash would find
it: with the workspace's own key (the file is encrypted)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dxkit.core import store
from dxkit.core.encryption import WorkspaceKeys


def open_file(folder: Path) -> sqlite3.Connection:
    """A plain connection to the workspace file in `folder` (no dxkit pragmas beyond the key);
    commit what you write and close it before the workspace opens again."""
    conn = store.connect(folder / store.DB_FILENAME, WorkspaceKeys(folder).key())
    conn.isolation_level = ""  # sqlite3's default: writes wait for commit()
    return conn


def open_copy(path: Path, workspace: Path) -> sqlite3.Connection:
    """A copy of the workspace file (a backup) opened with that workspace's key."""
    conn = store.connect(path, WorkspaceKeys(workspace).key())
    conn.isolation_level = ""
    return conn
