"""Where the device token lives: out of reach of other users of the computer.

The OS keyring when the optional `keyring` package is installed and has a working backend;
otherwise a file only this user can read (mode 0600) in the workspace folder — on Windows, in
the user's own profile folder, which other users cannot open. Never in the SQLite database:
that file is copied into backups and handed around.

DXKIT_TOKEN_STORE=file forces the file (tests, headless machines with a locked keyring).
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any, Literal

import platformdirs

TOKEN_FILENAME = "sync-token"
KEYRING_SERVICE = "dxkit-sync"
StoreKind = Literal["keyring", "file"]


def _keyring() -> Any | None:
    """The keyring module if it can really store secrets here, else None."""
    if os.environ.get("DXKIT_TOKEN_STORE", "").lower() == "file":
        return None
    try:
        import keyring
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring configuration must not stop sync
        return None
    # The "fail" and "null" backends have priority 0 or below: no usable store.
    if getattr(backend, "priority", 0) <= 0:
        return None
    return keyring


class TokenStore:
    """The token of one workspace. `account` names it in the keyring (the workspace's own
    device id, so two workspaces on one computer never share a token)."""

    def __init__(self, workspace_folder: Path, account: str):
        self.folder = Path(workspace_folder)
        self.account = account

    @property
    def file_path(self) -> Path:
        if sys.platform == "win32":
            base = Path(platformdirs.user_data_dir("dxkit", appauthor=False)) / "sync-tokens"
            return base / self.account
        return self.folder / TOKEN_FILENAME

    def save(self, token: str) -> StoreKind:
        keyring = _keyring()
        if keyring is not None:
            try:
                keyring.set_password(KEYRING_SERVICE, self.account, token)
            except Exception:  # locked or refusing keyring: fall back to the private file
                pass
            else:
                self._remove_file()
                return "keyring"
        self._write_file(token)
        return "file"

    def load(self) -> str | None:
        keyring = _keyring()
        if keyring is not None:
            with contextlib.suppress(Exception):
                token: str | None = keyring.get_password(KEYRING_SERVICE, self.account)
                if token:
                    return token
        try:
            return self.file_path.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def clear(self) -> None:
        keyring = _keyring()
        if keyring is not None:
            with contextlib.suppress(Exception):
                keyring.delete_password(KEYRING_SERVICE, self.account)
        self._remove_file()

    def _write_file(self, token: str) -> None:
        path = self.file_path
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created 0600 from the start (never readable by others, not even for a moment);
        # an older file keeps its mode on O_CREAT, so the mode is set again on the handle.
        descriptor = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(descriptor, 0o600)
            os.write(descriptor, token.encode("utf-8"))
        finally:
            os.close(descriptor)

    def _remove_file(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.file_path.unlink()
