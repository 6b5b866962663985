"""One writer per workspace: an operating-system lock on a file in the workspace folder.

Two processes writing one workspace would each stamp edits with their own clock and race on
the same rows. The app and every CLI command that writes hold this lock while the workspace is
open; commands that only read do not take it and run beside a writer.

The lock is the kernel's own advisory lock on `dxkit.lock` (fcntl.flock on POSIX,
msvcrt.locking on Windows), never the file's existence: the operating system drops it when
the process ends however it ends, so a crash or a killed process never leaves the workspace
locked. (The `filelock` package does the same thing; two stdlib calls do not warrant a
dependency.) The file itself stays in the folder, empty: deleting a lock file while another
process waits on it would let two processes hold "the" lock on two different files.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import IO

from dxkit.core.errors import WorkspaceError
from dxkit.core.i18n import _
from dxkit.core.private import create_private_file

LOCK_FILENAME = "dxkit.lock"
POLL_SECONDS = 0.1

log = logging.getLogger(__name__)


class WorkspaceLocked(WorkspaceError):
    """Another process (the app, or a command) is writing this workspace."""


def locked_message() -> str:
    return _("This workspace is open in another dxkit window or command, which is changing "
             "it. Close that one first, then try again.")


class WorkspaceLock:
    """The write lock of one workspace folder; `acquire` then `release` (or a `with`)."""

    def __init__(self, folder: Path):
        self.path = folder / LOCK_FILENAME
        self._handle: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self, wait: float = 0.0) -> None:
        """Take the lock, polling for up to `wait` seconds; WorkspaceLocked if another process
        (or another open of this folder in this process) keeps it."""
        if self._handle is not None:
            return
        deadline = time.monotonic() + wait
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                log.info("workspace lock busy, gave up after %.1f s", wait)
                raise WorkspaceLocked(locked_message())
            time.sleep(POLL_SECONDS)

    def try_acquire(self) -> bool:
        if self._handle is not None:
            return True
        create_private_file(self.path)  # 0600 like every file of the workspace
        handle = self.path.open("a+b")
        try:
            _lock(handle)
        except OSError:
            handle.close()
            return False
        self._handle = handle
        return True

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is None:
            return
        try:
            _unlock(handle)
        finally:
            handle.close()  # closing drops the lock too; unlocking first says what we mean

    def __enter__(self) -> WorkspaceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


if sys.platform == "win32":
    import msvcrt

    def _lock(handle: IO[bytes]) -> None:
        # Byte 0 of the file, whether or not the file has a byte there: Windows allows
        # locking past the end, and LK_NBLCK fails at once instead of retrying for 10 s.
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[bytes]) -> None:
        # flock locks belong to the open file, so even a second open in this same process
        # conflicts: two Workspace objects writing one folder are refused like two processes.
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
