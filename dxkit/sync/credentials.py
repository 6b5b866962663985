"""Where the device token lives: out of reach of other users of the computer.

The OS keyring (the `keyring` package: Windows Credential Manager, macOS Keychain, the
Secret Service on a Linux desktop) when it has a working backend; otherwise a file only this
user can read (mode 0600) in the workspace folder — on Windows, in the user's own profile
folder, which other users cannot open. Never in the SQLite database: that file is copied into
backups and handed around.

DXKIT_TOKEN_STORE=file forces the file (tests, headless machines with a locked keyring).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
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
        if keyring is not None and self._save_in_keyring(keyring, token):
            self._remove_file()
            return "keyring"
        if keyring is not None:  # an older token there would be found before the file's
            with contextlib.suppress(Exception):
                keyring.delete_password(KEYRING_SERVICE, self.account)
        self._write_file(token)
        return "file"

    def _save_in_keyring(self, keyring: Any, token: str) -> bool:
        """True when the keyring took the token and gives it back: a locked or refusing
        keyring (or one that drops what it is given) means the private file instead."""
        try:
            keyring.set_password(KEYRING_SERVICE, self.account, token)
            return bool(keyring.get_password(KEYRING_SERVICE, self.account) == token)
        except Exception:
            return False

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
        # mkstemp creates a new file (O_EXCL, never someone else's or a symlink) with mode 0600:
        # private from its first moment whatever the umask. Renamed over the old file once
        # complete, so a reader, or a crash, finds the old token or the new one, never an
        # empty or half-written file.
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-",
                                                 suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(token.encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def _remove_file(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.file_path.unlink()
