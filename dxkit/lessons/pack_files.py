"""The files of a course pack, read safely from a folder or a .zip (docs/course-pack.md).

Every name is checked before anything is opened; every read stops at a cap, so a pack whose
headers lie (a zip bomb, a member larger than its directory entry says) costs at most the cap
in memory. A problem is recorded, never raised: the caller lists every problem at once.
"""

from __future__ import annotations

import os
import re
import stat
import struct
import zipfile
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from dxkit.core.i18n import _, format_number, ngettext

MiB = 1024 * 1024

# The limits of format version 1 (docs/course-pack.md, "Limits").
MAX_FILES = 1000  # files in a pack (a zip's entries, folders included)
MAX_PACK_BYTES = 128 * MiB  # all files together, uncompressed; also a .zip file's own size
MAX_FILE_BYTES = 2 * MiB  # any one file
MAX_MANIFEST_BYTES = 1 * MiB  # course.json
MAX_TEXT_FILE_BYTES = 512 * 1024  # a lesson's Markdown, LICENSE.txt
MAX_IMAGE_BYTES = 2 * MiB
MAX_IMAGE_SIDE = 4000  # pixels, each way
MAX_RATIO = 100  # uncompressed / compressed size of one zip entry ...
RATIO_FLOOR = 64 * 1024  # ... checked for entries larger than this
MAX_CENTRAL_DIRECTORY = 512 * 1024  # bytes of a zip's directory, read before zipfile parses it
MAX_NAME = 200  # characters of a file's path inside the pack
MAX_DEPTH = 8  # folders inside folders
CHUNK = 64 * 1024

# Files some systems add to a folder or a zip, which a pack never needs: skipped (their names
# and sizes still count against the limits).
JUNK_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
JUNK_FOLDERS = frozenset({"__MACOSX"})

Report = Callable[[str, str], None]  # (file, message): record one problem

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")


def size_text(size: int) -> str:
    """A size as people read it: 2,0 MB."""
    return f"{format_number(size / MiB, 1)} MB"


def name_problem(name: str) -> str | None:
    """Why a path inside a pack is refused, or None. Paths use "/" between folders, stay
    inside the pack and name nothing a Windows or Linux file system would read differently."""
    if not name:
        return _("The path is empty.")
    if "\\" in name:
        return _("The path contains a backslash; use “/” between folders.")
    if name.startswith("/") or _DRIVE.match(name) or any(
            part == ".." for part in name.split("/")):
        return _("The path leads outside the pack (“..”, a path from the root, or a drive "
                 "letter).")
    if _CONTROL.search(name) or ":" in name:
        return _("The path contains a character a file name may not hold (a control "
                 "character or “:”).")
    if len(name) > MAX_NAME:
        return ngettext("A path inside the pack is at most {count} character long.",
                        "A path inside the pack is at most {count} characters long.",
                        MAX_NAME).format(count=format_number(MAX_NAME))
    if any(part in ("", ".") or part.endswith((" ", ".")) for part in name.split("/")):
        return _("The path has an empty part, or a part that ends with a dot or a space.")
    return None


def is_junk(name: str) -> bool:
    parts = name.split("/")
    return parts[0] in JUNK_FOLDERS or parts[-1] in JUNK_NAMES


# --- images -------------------------------------------------------------------------------

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
# Start-of-frame markers carry the picture's size: C0-CF except DHT (C4), JPG (C8), DAC (CC).
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


@dataclass(frozen=True)
class ImageHeader:
    kind: Literal["png", "jpeg"]
    width: int
    height: int


def image_kind(data: bytes) -> Literal["png", "jpeg"] | None:
    """What the first bytes say the file is."""
    if data.startswith(PNG_MAGIC):
        return "png"
    if data.startswith(JPEG_MAGIC):
        return "jpeg"
    return None


def image_header(data: bytes) -> ImageHeader | None:
    """The kind and pixel size read from a PNG's IHDR or a JPEG's start-of-frame segment,
    without decoding the picture; None when the header is missing or damaged."""
    kind = image_kind(data)
    if kind == "png":
        if len(data) < 33 or data[8:16] != b"\x00\x00\x00\x0dIHDR":
            return None
        (crc,) = struct.unpack(">I", data[29:33])
        if zlib.crc32(data[12:29]) != crc:
            return None
        width, height = struct.unpack(">II", data[16:24])
        return ImageHeader("png", width, height) if width and height else None
    if kind == "jpeg":
        return _jpeg_header(data)
    return None


def _jpeg_header(data: bytes) -> ImageHeader | None:
    i, end = 2, len(data)
    while i < end:
        if data[i] != 0xFF:
            return None
        while i < end and data[i] == 0xFF:  # fill bytes
            i += 1
        if i >= end:
            return None
        marker = data[i]
        i += 1
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            continue
        if marker in (0xD9, 0xDA):  # end of image or start of scan before any frame
            return None
        if i + 2 > end:
            return None
        (length,) = struct.unpack(">H", data[i:i + 2])
        if length < 2:
            return None
        if marker in _SOF:
            if length < 7 or i + 7 > end:
                return None
            height, width = struct.unpack(">HH", data[i + 3:i + 7])
            return ImageHeader("jpeg", width, height) if width and height else None
        i += length
    return None


# --- sources ------------------------------------------------------------------------------


class Source(ABC):
    """The files of a pack by their path inside it ("lessons/01-x.vi.md"). `files` holds the
    files that may be read; `refused` the names already reported (so a reference to one is
    not reported again as missing)."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.files: dict[str, int] = {}  # path inside the pack -> size its entry declares
        self.refused: set[str] = set()
        self.read_total = 0
        self.over_total = False

    def read(self, name: str, cap: int) -> bytes | None:
        """The file's bytes, or None after reporting why not. Reading stops past `cap`
        (reported) and past the pack's total."""
        data = bytearray()
        try:
            for chunk in self._chunks(name):
                data += chunk
                if len(data) > cap:
                    self.report(name, _("This file is larger than {limit}.").format(
                        limit=size_text(cap)))
                    return None
                if len(data) > self.files[name]:
                    self.report(name, _("This file holds more data than the pack's directory "
                                        "says: the pack is refused."))
                    return None
        except (OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError,
                RuntimeError, ValueError):
            self.report(name, _("This file cannot be read: it is damaged or stored in a way "
                                "a pack may not use."))
            return None
        self.read_total += len(data)
        if self.read_total > MAX_PACK_BYTES and not self.over_total:
            self.over_total = True
            self.report("", _("The files of the pack add up to more than {limit}.").format(
                limit=size_text(MAX_PACK_BYTES)))
        return None if self.over_total else bytes(data)

    @abstractmethod
    def _chunks(self, name: str) -> Iterator[bytes]:
        """The bytes of a file in `files`, a chunk at a time."""

    @abstractmethod
    def close(self) -> None:
        """Releases what the source holds open."""

    def _check_totals(self, count: int, total: int) -> None:
        if count > MAX_FILES:
            self.report("", ngettext("A pack holds at most {count} file; this one holds more.",
                                     "A pack holds at most {count} files; this one holds more.",
                                     MAX_FILES).format(count=format_number(MAX_FILES)))
        if total > MAX_PACK_BYTES:
            self.report("", _("The files of the pack add up to more than {limit}.").format(
                limit=size_text(MAX_PACK_BYTES)))

    def _add(self, name: str, size: int, folded: dict[str, str]) -> bool:
        """Records a file whose name is already checked; False (reported) when another file
        has the same name, letter case aside (Windows would mix them up)."""
        key = name.casefold()
        if key in folded:
            self.report(name, _("Another file in the pack has the same name (letter case "
                                "aside): “{other}”.").format(other=folded[key]))
            self.refused.add(name)
            return False
        folded[key] = name
        if size > MAX_FILE_BYTES:
            self.report(name, _("A file in a pack may be at most {limit}; this one is "
                                "{size}.").format(limit=size_text(MAX_FILE_BYTES),
                                                  size=size_text(size)))
            self.refused.add(name)
            return False
        self.files[name] = size
        return True


class FolderSource(Source):
    """A pack that is a folder. Symbolic links, junctions and anything but ordinary files and
    folders are refused, found without following them; files are opened without following a
    link, so one swapped in after the walk is not read either."""

    def __init__(self, root: Path, report: Report) -> None:
        super().__init__(report)
        self.root = root
        self.seen = 0
        folded: dict[str, str] = {}
        total = 0
        for name, entry_stat in self._walk():
            total += entry_stat.st_size
            self._add(name, entry_stat.st_size, folded)
        self._check_totals(self.seen, total)

    def _walk(self) -> Iterator[tuple[str, os.stat_result]]:
        pending: list[tuple[Path, str, int]] = [(self.root, "", 0)]
        while pending:
            folder, prefix, depth = pending.pop()
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                self.report(prefix.rstrip("/"), _("This folder cannot be read."))
                continue
            for entry in entries:
                self.seen += 1
                if self.seen > MAX_FILES:  # stop walking a huge tree: the count is reported
                    return
                name = prefix + entry.name
                problem = _undecodable(entry.name) or name_problem(name)
                if problem:
                    self.report(name, problem)
                    self.refused.add(name)
                    continue
                try:
                    entry_stat = entry.stat(follow_symlinks=False)
                except OSError:
                    self.report(name, _("This file cannot be read."))
                    continue
                if entry.is_symlink() or getattr(entry_stat, "st_file_attributes", 0) & 0x400:
                    self.report(name, _("This is a symbolic link or a junction; a pack holds "
                                        "only ordinary files and folders."))
                    self.refused.add(name)
                elif stat.S_ISDIR(entry_stat.st_mode):
                    if depth + 1 > MAX_DEPTH:
                        self.report(name, _("Folders are nested too deeply."))
                    else:
                        pending.append((Path(entry.path), name + "/", depth + 1))
                elif stat.S_ISREG(entry_stat.st_mode):
                    if not is_junk(name):
                        yield name, entry_stat
                else:
                    self.report(name, _("This is not an ordinary file."))
                    self.refused.add(name)

    def close(self) -> None:
        """Nothing stays open: each read opens and closes its own file."""

    def _chunks(self, name: str) -> Iterator[bytes]:
        flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0) | \
            getattr(os, "O_NONBLOCK", 0)
        path = self.root.joinpath(*name.split("/"))
        descriptor = os.open(path, flags)
        with os.fdopen(descriptor, "rb", buffering=0) as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise OSError("not an ordinary file")
            while chunk := handle.read(CHUNK):
                yield chunk


def _undecodable(name: str) -> str | None:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # a name that was not UTF-8 on disk (surrogate escapes)
        return _("The file name is not valid text (UTF-8).")
    return None


class ZipSource(Source):
    """A pack that is a .zip. The directory at the end of the file is checked before
    zipfile reads it (its size bounds what zipfile holds in memory); then every entry's name,
    size, compression ratio and kind; reading enforces the sizes again, since headers lie."""

    def __init__(self, path: Path, report: Report) -> None:
        super().__init__(report)
        self.prefix = ""
        self.archive: zipfile.ZipFile | None = None
        self.entries: dict[str, zipfile.ZipInfo] = {}
        try:
            size = path.stat().st_size
            if size > MAX_PACK_BYTES:
                report("", _("The .zip file is larger than a pack may be ({limit}).").format(
                    limit=size_text(MAX_PACK_BYTES)))
                return
            with path.open("rb") as handle:
                problem = _directory_problem(handle, size)
            if problem:
                report("", problem)
                return
            self.archive = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile, zlib.error, ValueError, EOFError,
                NotImplementedError, RuntimeError):
            report("", _("This is not a readable .zip file."))
            return
        infos = self.archive.infolist()
        if len(infos) > MAX_FILES:
            self._check_totals(len(infos), 0)
            return
        names = [info.filename for info in infos]
        self.prefix = _common_folder(names)
        exact: set[str] = set()
        folded: dict[str, str] = {}
        total = 0
        for info in infos:
            raw = info.filename
            if raw in exact:
                report(raw, _("This name appears twice in the .zip file."))
                self.refused.add(raw[len(self.prefix):])
                self.files.pop(raw[len(self.prefix):], None)
                continue
            exact.add(raw)
            shown = raw.removesuffix("/") if info.is_dir() else raw
            problem = name_problem(shown)
            if problem:
                report(raw, problem)
                continue
            total += info.file_size
            name = raw[len(self.prefix):]
            if info.is_dir() or is_junk(shown):
                continue
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                report(name, _("This is a symbolic link or a junction; a pack holds only "
                               "ordinary files and folders."))
            elif info.flag_bits & 0x1:
                report(name, _("This file is encrypted; the files of a pack may not be."))
            elif info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                report(name, _("This file is compressed with a method a pack may not use "
                               "(only stored or deflated)."))
            elif info.file_size > MAX_FILE_BYTES:
                report(name, _("A file in a pack may be at most {limit}; this one is "
                               "{size}.").format(limit=size_text(MAX_FILE_BYTES),
                                                 size=size_text(info.file_size)))
            elif (info.file_size > RATIO_FLOOR
                  and info.file_size > MAX_RATIO * max(info.compress_size, 1)):
                report(name, _("This file is compressed far more than real content can be "
                               "(over {ratio} to 1): refused as a possible zip bomb.").format(
                    ratio=format_number(MAX_RATIO)))
            else:
                if self._add(name, info.file_size, folded):
                    self.entries[name] = info
                continue
            self.refused.add(name)
        self._check_totals(len(infos), total)

    def _chunks(self, name: str) -> Iterator[bytes]:
        assert self.archive is not None
        with self.archive.open(self.entries[name]) as member:
            while chunk := member.read(CHUNK):
                yield chunk

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()


def _common_folder(names: list[str]) -> str:
    """"top/" when course.json is not at the zip's root but inside its one top-level folder."""
    if "course.json" in names:
        return ""
    tops = {name.split("/", 1)[0] for name in names if not is_junk(name)}
    if len(tops) == 1:
        (top,) = tops
        if f"{top}/course.json" in names:
            return top + "/"
    return ""


_EOCD = b"PK\x05\x06"


def _directory_problem(handle: BinaryIO, size: int) -> str | None:
    """Reads the end-of-directory record the way zipfile finds it; refuses a directory larger
    than a pack's could be, a split archive and ZIP64 (a pack is far smaller than 4 GB)."""
    tail_size = min(size, 22 + 65535)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    at = len(tail) - 22 if tail[-22:-18] == _EOCD else tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        return _("This is not a readable .zip file.")
    (_sig, disk, cd_disk, _here, entries, cd_size, _cd_offset,
     _comment) = struct.unpack("<4sHHHHIIH", tail[at:at + 22])
    if disk or cd_disk or entries == 0xFFFF or cd_size == 0xFFFFFFFF or tail[
            max(at - 20, 0):at].startswith(b"PK\x06\x07"):
        return _("The .zip file uses a form a pack may not use (ZIP64 or a split archive).")
    if cd_size > MAX_CENTRAL_DIRECTORY or entries > MAX_FILES:
        return ngettext("A pack holds at most {count} file; this one holds more.",
                        "A pack holds at most {count} files; this one holds more.",
                        MAX_FILES).format(count=format_number(MAX_FILES))
    return None


