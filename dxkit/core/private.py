"""Files only this user can open: folders 0700, files 0600 (POSIX).

A workspace holds names, phones and citizen ID numbers; on a shared Linux machine the default
umask (022) would make a new database readable by every account. So folders are created 0700
and files 0600 from the first byte (never chmod-ed after being written, which leaves a window),
and what an older dxkit created is tightened when it is opened. SQLite gives the -wal and -shm
files the mode of the database file, so a private database keeps its journal private too.

On Windows the mode bits do not exist (os.chmod only toggles read-only): there the default
workspace lives in the user's profile (%LOCALAPPDATA%), whose access list already admits only
that user, the administrators and SYSTEM (docs/security.md).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
OTHERS = 0o077  # group and other permission bits
POSIX = os.name == "posix"
OVERWRITE_CHUNK = 1024 * 1024


def make_private_dir(folder: Path) -> None:
    """Create `folder` and its missing parents 0700. Folders that exist are not changed here
    (a parent may be shared on purpose); `tighten` takes care of the ones dxkit owns."""
    missing: list[Path] = []
    current = folder
    while not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            path.mkdir(mode=PRIVATE_DIR)
        if POSIX:
            # mkdir's mode passes through the umask; an unusual umask could add bits back.
            os.chmod(path, PRIVATE_DIR)
    if not folder.is_dir():
        raise NotADirectoryError(str(folder))


def create_private_file(path: Path) -> bool:
    """Create `path` empty with mode 0600 unless it exists; True if it was created. An empty
    file is a valid empty SQLite database, so SQLite then only writes into it."""
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE)
    except FileExistsError:
        return False
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(descriptor, PRIVATE_FILE)  # the umask cannot widen 0600, but be exact
    finally:
        os.close(descriptor)
    return True


def write_private_text(path: Path, text: str) -> None:
    """Replace `path` atomically with `text`, the new file 0600 from its creation."""
    temporary = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    descriptor = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def tighten(path: Path) -> None:
    """Take group and other permissions away from one file or folder this user owns."""
    if not POSIX:
        return
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid() or not info.st_mode & OTHERS:
        return  # a link's target, or another account's file, is not ours to change
    with contextlib.suppress(PermissionError):
        os.chmod(path, stat.S_IMODE(info.st_mode) & ~OTHERS)


def tighten_tree(folder: Path) -> None:
    """`tighten` a folder and everything inside it (links are not followed)."""
    tighten(folder)
    if not POSIX or not folder.is_dir() or folder.is_symlink():
        return
    for root, folders, files in os.walk(folder):
        for name in (*folders, *files):
            tighten(Path(root) / name)


def overwrite_and_remove(path: Path) -> None:
    """Overwrite a file's bytes with zeros, flush them to the disk, then delete it.

    This is what a program can do: on an SSD or a copy-on-write file system the old blocks
    may survive elsewhere, which is why docs/security.md asks for full-disk encryption too."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    with path.open("r+b") as handle:
        zeros = bytes(min(size, OVERWRITE_CHUNK))
        written = 0
        while written < size:
            step = min(OVERWRITE_CHUNK, size - written)
            handle.write(zeros[:step])
            written += step
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()
