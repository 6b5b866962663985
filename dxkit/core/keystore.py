"""Where secrets are kept: the OS keyring, else a private key file outside the data folder.

The keyring (Windows Credential Manager, macOS Keychain, the Secret Service on a Linux
desktop) is unlocked by the user's login, so dxkit opens its workspace without asking for
anything, and a copy of the workspace folder alone (a backup, a stolen USB stick) carries no
key.

Without a working keyring (a headless Linux machine, a locked Secret Service, CI) the key goes
to a file only this user can read (0600 in a 0700 folder) in the user's configuration folder,
never in the workspace folder: a copy of the data folder then still carries no key. This is
weaker than the keyring — anyone who can read this user's files, e.g. from a lost laptop
without disk encryption, has both — and `dxkit key status` says which one is used
(docs/security.md).

DXKIT_KEY_STORE=file forces the key file; DXKIT_KEY_DIR moves the key files (tests, headless
machines).
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Any, Literal

import platformdirs

from dxkit.core.private import create_private_file, make_private_dir

STORE_ENV = "DXKIT_KEY_STORE"
DIR_ENV = "DXKIT_KEY_DIR"
StoreKind = Literal["keyring", "file"]
SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


def key_folder() -> Path:
    """Where key files go when there is no keyring: outside every workspace folder."""
    chosen = os.environ.get(DIR_ENV)
    if chosen:
        return Path(chosen).expanduser()
    return Path(platformdirs.user_config_dir("dxkit", appauthor=False)) / "keys"


def usable_keyring() -> Any | None:
    """The keyring module if it can really keep secrets here, else None."""
    if os.environ.get(STORE_ENV, "").lower() == "file":
        return None
    import keyring  # imported here: finding the backends takes a moment, only when needed

    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring configuration falls back to the file
        return None
    # The "fail" and "null" backends have priority 0 or below: nothing is kept there.
    if getattr(backend, "priority", 0) <= 0:
        return None
    return keyring


class SecretStore:
    """Secrets of one kind (`service`), each under an account name."""

    def __init__(self, service: str):
        if not SAFE_NAME.match(service):
            raise ValueError(f"unusable service name {service!r}")
        self.service = service

    def save(self, account: str, secret: str) -> StoreKind:
        keyring = usable_keyring()
        if keyring is not None:
            try:
                keyring.set_password(self.service, account, secret)
            except Exception:  # a locked or refusing keyring: the file keeps it instead
                pass
            else:
                with contextlib.suppress(FileNotFoundError):
                    self.file_path(account).unlink()
                return "keyring"
        self._write_file(account, secret)
        return "file"

    def load(self, account: str) -> str | None:
        keyring = usable_keyring()
        if keyring is not None:
            with contextlib.suppress(Exception):
                secret: str | None = keyring.get_password(self.service, account)
                if secret:
                    return secret
        try:
            return self.file_path(account).read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def where(self, account: str) -> StoreKind | None:
        """Which store holds the secret now (None: neither)."""
        keyring = usable_keyring()
        if keyring is not None:
            with contextlib.suppress(Exception):
                if keyring.get_password(self.service, account):
                    return "keyring"
        return "file" if self.file_path(account).exists() else None

    def delete(self, account: str) -> None:
        keyring = usable_keyring()
        if keyring is not None:
            with contextlib.suppress(Exception):
                keyring.delete_password(self.service, account)
        with contextlib.suppress(FileNotFoundError):
            self.file_path(account).unlink()

    def file_path(self, account: str) -> Path:
        if not SAFE_NAME.match(account):
            raise ValueError(f"unusable account name {account!r}")
        return key_folder() / self.service / account

    def _write_file(self, account: str, secret: str) -> None:
        path = self.file_path(account)
        make_private_dir(path.parent)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # a new file is created 0600; an old one might be wider
        create_private_file(path)
        with path.open("w", encoding="utf-8") as handle:
            handle.write(secret)
            handle.flush()
            os.fsync(handle.fileno())
