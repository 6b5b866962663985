"""Installed course packs: kept in the workspace, immutable per (id, version), never synced.

A pack is checked in full (packs.read_pack) before anything is stored; then its canonical
manifest and every file it keeps are written to `course_packs` and `course_pack_files` in one
transaction. Installing the same id and version again is a no-op when the content (its digest)
is the same, and refused with a sentence when it differs: a version once taught from must not
change under the classes that use it. The one exception is the pack dxkit ships, refreshed at
every workspace open from the copy in the package (a newer dxkit may fix a typo in it).

To give a `CoursePack` back, the stored files are written once to a folder of the workspace
(`course-packs/<digest>/`) and read from there, so `CoursePack.read_file` works as for any
pack; the checked pack is kept in memory by digest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from dxkit.core.errors import DxError, NotFound
from dxkit.core.i18n import _
from dxkit.core.resources import shipped_path
from dxkit.lessons.packs import MANIFEST, CoursePack, read_pack

SHIPPED_COURSE = "vn.dxkit.ky-nang-so-co-ban"
PACKS_FOLDER = "course-packs"

_cache: dict[tuple[str, str], CoursePack] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class CourseSummary:
    id: str
    version: str
    title: str
    lessons: int
    digest: str
    origin: str
    as_of: dt.date

    def to_dict(self) -> dict[str, object]:
        """The shape `dxkit courses list --json` prints."""
        return {"id": self.id, "version": self.version, "title": self.title,
                "lessons": self.lessons}


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Versions in their natural order: 2026.12.10 after 2026.12.9; numbers before words."""
    return tuple((0, int(part)) if part.isdigit() else (1, part)
                 for part in re.split(r"[.-]", version))


def _summary(row: sqlite3.Row) -> CourseSummary:
    return CourseSummary(row["course_id"], row["version"], row["title"], row["lessons"],
                         row["digest"], row["origin"], dt.date.fromisoformat(row["as_of"]))


def installed(conn: sqlite3.Connection) -> list[CourseSummary]:
    """Every installed pack: by id, the newest version first."""
    rows = [_summary(r) for r in conn.execute("SELECT * FROM course_packs")]
    rows.sort(key=lambda s: version_key(s.version), reverse=True)
    rows.sort(key=lambda s: s.id)
    return rows


def find(conn: sqlite3.Connection, course_id: str, version: str | None = None
         ) -> CourseSummary:
    """The installed pack `course_id` (its newest version unless `version` is given)."""
    versions = [s for s in installed(conn) if s.id == course_id]
    if version is not None:
        versions = [s for s in versions if s.version == version]
    if not versions:
        known = ", ".join(sorted({s.id for s in installed(conn)})) or _("none")
        if version is not None and any(s.id == course_id for s in installed(conn)):
            raise NotFound(_("Course {course} has no version {version} here.").format(
                course=course_id, version=version))
        raise NotFound(_("Unknown course “{course}”. Courses: {names}.").format(
            course=course_id, names=known))
    return versions[0]


def install(conn: sqlite3.Connection, pack: CoursePack, origin: str, now: dt.datetime,
            fingerprint: str = "") -> bool:
    """Store a checked pack (inside the caller's transaction). False: it was already here
    with the same content. DxError: the same id and version with other content."""
    row = conn.execute("SELECT digest, origin FROM course_packs WHERE course_id = ? AND "
                       "version = ?", (pack.id, pack.version)).fetchone()
    if row is not None:
        if row["digest"] == pack.digest:
            if fingerprint:
                conn.execute("UPDATE course_packs SET fingerprint = ? WHERE course_id = ? "
                             "AND version = ?", (fingerprint, pack.id, pack.version))
            return False
        if not (origin == "shipped" and row["origin"] == "shipped"):
            raise DxError(_(
                "Course {course} version {version} is already installed with different "
                "content; a version never changes once installed. Ask its authors for a new "
                "version number.").format(course=pack.id, version=pack.version))
        conn.execute("DELETE FROM course_pack_files WHERE course_id = ? AND version = ?",
                     (pack.id, pack.version))
        conn.execute("DELETE FROM course_packs WHERE course_id = ? AND version = ?",
                     (pack.id, pack.version))
    conn.execute(
        "INSERT INTO course_packs (course_id, version, digest, title, as_of, lessons, manifest,"
        " origin, fingerprint, installed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (pack.id, pack.version, pack.digest, pack.title.get("vi"), pack.as_of.isoformat(),
         len(pack.lessons), pack.manifest, origin, fingerprint,
         now.isoformat(timespec="seconds")))
    for kept in pack.files:
        conn.execute("INSERT INTO course_pack_files (course_id, version, path, sha256, data) "
                     "VALUES (?, ?, ?, ?, ?)",
                     (pack.id, pack.version, kept.path, kept.sha256, pack.read_file(kept.path)))
    return True


def workspace_folder(conn: sqlite3.Connection) -> Path:
    """The folder of the workspace whose database `conn` is connected to."""
    for row in conn.execute("PRAGMA database_list"):
        if row[1] == "main" and row[2]:
            return Path(row[2]).parent
    raise DxError("the lessons domain needs a workspace kept in a file")


def load(conn: sqlite3.Connection, course_id: str, version: str | None = None) -> CoursePack:
    """The installed pack as a checked CoursePack (its newest version by default)."""
    summary = find(conn, course_id, version)
    folder = workspace_folder(conn) / PACKS_FOLDER / summary.digest
    key = (str(folder), summary.digest)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None and (folder / MANIFEST).is_file():
        return cached
    if not (folder / MANIFEST).is_file():
        _materialise(conn, summary, folder)
    pack = read_pack(folder)
    if pack.digest != summary.digest:  # the folder was changed by hand: write it again
        shutil.rmtree(folder, ignore_errors=True)
        _materialise(conn, summary, folder)
        pack = read_pack(folder)
        if pack.digest != summary.digest:
            raise DxError(_("The stored course {course} is damaged; import it again.").format(
                course=course_id))
    with _cache_lock:
        _cache[key] = pack
    return pack


def _materialise(conn: sqlite3.Connection, summary: CourseSummary, folder: Path) -> None:
    """Write the stored pack's files to `folder` (through a sibling folder renamed into
    place, so a half-written folder is never read)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    manifest = conn.execute("SELECT manifest FROM course_packs WHERE course_id = ? AND "
                            "version = ?", (summary.id, summary.version)).fetchone()[0]
    (partial / MANIFEST).write_text(manifest, encoding="utf-8")
    for path, data in conn.execute(
            "SELECT path, data FROM course_pack_files WHERE course_id = ? AND version = ?",
            (summary.id, summary.version)):
        target = partial.joinpath(*path.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)


def shipped_folder() -> Path:
    return shipped_path("courses", SHIPPED_COURSE)


def fingerprint(folder: Path) -> str:
    """A hash of every file under `folder` as it is (names and bytes): cheap enough for every
    open, so the shipped pack is read and checked only when it changed."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


_shipped: dict[str, CoursePack] = {}


def read_shipped(folder: Path, mark: str) -> CoursePack:
    """The shipped pack, read and checked once per process (every new workspace installs it)."""
    with _cache_lock:
        found = _shipped.get(mark)
    if found is None:
        found = read_pack(folder)
        with _cache_lock:
            _shipped[mark] = found
    return found


def shipped_is_current(conn: sqlite3.Connection, folder: Path) -> tuple[bool, str]:
    """Whether the shipped pack as installed is the one in the package, and its fingerprint."""
    mark = fingerprint(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        key = (str(manifest["id"]), str(manifest["version"]))
    except (OSError, ValueError, KeyError, TypeError):
        return False, mark
    row = conn.execute("SELECT fingerprint FROM course_packs WHERE course_id = ? AND "
                       "version = ?", key).fetchone()
    return row is not None and row[0] == mark, mark
