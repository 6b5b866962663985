"""The device token: in the OS keyring when one works (an in-memory keyring backend here, never
the real user's), else in a file only this user can read, written so that no moment exists
when it is readable by others, empty or half-written."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest

from dxkit.sync.credentials import KEYRING_SERVICE, TokenStore
from tests.support.memory_keyring import MemoryKeyring

TOKEN = "tok-a1b2c3-very-secret"
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


class LockedKeyring(MemoryKeyring):
    """A keyring that claims to work but refuses to store anything (a locked collection)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("locked")


@pytest.fixture
def use_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """`use_keyring(backend)` makes `backend` the keyring for this test; the one before it
    (the "fail" backend the test session sets) comes back afterwards."""
    monkeypatch.delenv("DXKIT_TOKEN_STORE", raising=False)
    before = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(before)


def files_holding(folder: Path, secret: str) -> list[Path]:
    return [path for path in folder.rglob("*")
            if path.is_file() and secret.encode() in path.read_bytes()]


def test_the_session_never_uses_the_real_keyring():
    """Each test gets an in-memory keyring (tests/conftest.py), and processes the tests start
    get none: nothing reaches the computer's own keyring."""
    assert isinstance(keyring.get_keyring(), MemoryKeyring | keyring.backends.fail.Keyring)
    assert os.environ["PYTHON_KEYRING_BACKEND"] == "keyring.backends.fail.Keyring"


def test_with_a_working_keyring_the_token_is_in_no_file(tmp_path, use_keyring):
    memory = MemoryKeyring()
    use_keyring(memory)
    store = TokenStore(tmp_path, "device-a")
    assert store.save(TOKEN) == "keyring"
    assert memory.secrets == {(KEYRING_SERVICE, "device-a"): TOKEN}
    assert TokenStore(tmp_path, "device-a").load() == TOKEN
    assert not store.file_path.exists() and files_holding(tmp_path, TOKEN) == []
    assert TokenStore(tmp_path, "device-b").load() is None  # one token per workspace


def test_a_token_file_left_from_before_goes_once_the_keyring_holds_the_token(
        tmp_path, use_keyring):
    store = TokenStore(tmp_path, "device-a")
    use_keyring(keyring.backends.fail.Keyring())
    assert store.save("old-token") == "file"
    use_keyring(MemoryKeyring())
    assert store.save(TOKEN) == "keyring"
    assert not store.file_path.exists() and store.load() == TOKEN


@posix_only
def test_without_a_keyring_backend_the_token_is_a_0600_file(tmp_path, use_keyring):
    use_keyring(keyring.backends.fail.Keyring())
    store = TokenStore(tmp_path, "device-a")
    assert store.save(TOKEN) == "file"
    assert store.file_path.read_text() == TOKEN and store.load() == TOKEN
    assert stat.S_IMODE(os.stat(store.file_path).st_mode) == 0o600
    assert files_holding(tmp_path, TOKEN) == [store.file_path]  # no temporary left behind


@posix_only
def test_a_keyring_that_refuses_means_the_file_and_no_stale_keyring_token(
        tmp_path, use_keyring):
    locked = LockedKeyring()
    locked.secrets[(KEYRING_SERVICE, "device-a")] = "token-of-an-older-enrollment"
    use_keyring(locked)
    store = TokenStore(tmp_path, "device-a")
    assert store.save(TOKEN) == "file"
    assert stat.S_IMODE(os.stat(store.file_path).st_mode) == 0o600
    assert store.load() == TOKEN  # not the older token the keyring still had
    assert locked.secrets == {}


@posix_only
def test_the_token_file_is_never_readable_by_others_nor_empty_even_briefly(
        tmp_path, use_keyring, monkeypatch):
    """Even with umask 0 and an old world-readable file: the new token is written into a
    file created 0600, which then replaces the old one in one step (until then the old
    file is whole: a crash meanwhile keeps a token that works)."""
    use_keyring(keyring.backends.fail.Keyring())
    store = TokenStore(tmp_path, "device-a")
    store.file_path.write_text("old-token")
    os.chmod(store.file_path, 0o644)
    moments: list[tuple[int, str, str]] = []
    real_replace = os.replace

    def watching_replace(source: str | Path, target: str | Path) -> None:
        moments.append((stat.S_IMODE(os.stat(source).st_mode), Path(source).read_text(),
                        Path(target).read_text()))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", watching_replace)
    old_umask = os.umask(0)
    try:
        store.save(TOKEN)
    finally:
        os.umask(old_umask)
    assert moments == [(0o600, TOKEN, "old-token")]
    assert stat.S_IMODE(os.stat(store.file_path).st_mode) == 0o600
    assert store.file_path.read_text() == TOKEN


@posix_only
def test_a_failed_write_keeps_the_old_token_and_leaves_no_temporary(
        tmp_path, use_keyring, monkeypatch):
    use_keyring(keyring.backends.fail.Keyring())
    store = TokenStore(tmp_path, "device-a")
    store.save("old-token")

    def full_disk(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError):
        store.save(TOKEN)
    assert store.load() == "old-token"
    assert sorted(path.name for path in tmp_path.iterdir()) == [store.file_path.name]
