"""Course packs the province publishes through the hub (issue 12 §1; docs/sync-protocol.md,
"Course packs").

`dxkit hub courses publish PACK` checks the pack in full with the same reader a laptop uses
(dxkit.lessons.packs.read_pack): any problem refuses it with every problem listed, and nothing
is stored. A .zip is kept byte for byte; a folder is kept as a canonical .zip made from what
the reader kept (sorted names, fixed dates), checked again before it is stored. The hub keeps
each (id, version) once: the same content again changes nothing, other content under the same
id and version is refused (a version never changes once taught from). Packs are never
unpublished.

Indicator codes: the hub has no team catalogue, so a lesson may name any code written like
one here; each laptop checks the codes against its own catalogue when it installs the pack.

Laptops learn of a publication from the `course_packs` counter their pulls carry (store.py,
`pull_body`), ask `GET /v1/course-packs` only when it moved, and download with
`GET /v1/course-packs/{id}/{version}` only the packs they lack (dxkit/sync/engine.py). Any
enrolled device may read them: they are the province's, the same for every team.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dxkit.core.i18n import _
from dxkit.lessons.packs import MANIFEST, CoursePack, read_pack
from dxkit.sync.hub.store import HubError, HubStore

PACK_CHUNK_BYTES = 1024 * 1024  # a stored piece of a pack's .zip, and a piece of a download
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # every entry of a canonical zip: the same bytes every time


@dataclass(frozen=True)
class PublishedPack:
    """A pack on the hub as `courses list` and `GET /v1/course-packs` show it. `digest` is
    the pack's content digest (CoursePack.digest, as a laptop stores it); `sha256` and `size`
    are those of the .zip bytes a download sends."""

    id: str
    version: str
    digest: str
    sha256: str
    size: int
    title: str
    published_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Publication:
    pack: PublishedPack
    new: bool  # False: the hub already had this id and version with this content

    def to_dict(self) -> dict[str, Any]:
        return {**self.pack.to_dict(), "published": self.new}


def publish_pack(store: HubStore, path: Path) -> Publication:
    """Check the pack at `path` (a folder or a .zip) and keep it for every team's laptops.
    PackRefused lists every problem; HubError refuses other content under a published id
    and version. Nothing is stored unless everything is right."""
    pack = read_pack(path)  # PackRefused: every problem, nothing stored
    with tempfile.TemporaryDirectory(prefix="dxkit-pack-") as folder:
        if path.is_dir():
            path = canonical_zip(pack, Path(folder) / "pack.zip")
            again = read_pack(path)
            if again.digest != pack.digest:  # the canonical zip must be the same content
                raise HubError("bad_publication", _(
                    "The course pack changed while it was being read; publish it again."))
        size = path.stat().st_size
        digest = hashlib.sha256()
        with path.open("rb") as source:
            for piece in iter(lambda: source.read(PACK_CHUNK_BYTES), b""):
                digest.update(piece)
        with store.database.write() as conn:
            row = conn.execute("SELECT * FROM course_packs WHERE course_id = ? AND "
                               "version = ?", (pack.id, pack.version)).fetchone()
            if row is not None:
                if row["digest"] != pack.digest:
                    raise HubError("bad_publication", _(
                        "Course {course} version {version} is already published with "
                        "different content; a version never changes once published. Give "
                        "the pack a new version number.").format(
                            course=pack.id, version=pack.version))
                return Publication(_published(row), False)
            stamp = store.now().astimezone(dt.UTC).isoformat(timespec="seconds")
            with path.open("rb") as source:
                for number, piece in enumerate(iter(
                        lambda: source.read(PACK_CHUNK_BYTES), b"")):
                    conn.execute("INSERT INTO course_pack_chunks (course_id, version, n, data) "
                                 "VALUES (?, ?, ?, ?)", (pack.id, pack.version, number, piece))
            conn.execute(
                "INSERT INTO course_packs (course_id, version, digest, sha256, size, title, "
                "published_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (pack.id, pack.version, pack.digest, digest.hexdigest(), size,
                 pack.title.get("vi"), stamp))
            conn.execute("UPDATE counters SET value = value + 1 WHERE name = 'course_packs'")
            row = conn.execute("SELECT * FROM course_packs WHERE course_id = ? AND "
                               "version = ?", (pack.id, pack.version)).fetchone()
            return Publication(_published(row), True)


def canonical_zip(pack: CoursePack, target: Path) -> Path:
    """The checked pack as a .zip: the canonical manifest and every kept file, by name, with
    fixed dates, so one folder always gives the same bytes."""
    entries = {MANIFEST: pack.manifest.encode("utf-8")}
    for kept in pack.files:
        entries[kept.path] = pack.read_file(kept.path)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, entries[name])
    return target


def published_packs(store: HubStore) -> list[PublishedPack]:
    """Every published pack, by id and version."""
    return [_published(row) for row in store.conn.execute(
        "SELECT * FROM course_packs ORDER BY course_id, version")]


def published_pack(store: HubStore, course_id: str, version: str) -> PublishedPack:
    row = store.conn.execute("SELECT * FROM course_packs WHERE course_id = ? AND version = ?",
                             (course_id, version)).fetchone()
    if row is None:
        raise HubError("not_found", _("The hub has no course {course} version {version}."
                                      ).format(course=course_id, version=version))
    return _published(row)


def pack_piece(store: HubStore, course_id: str, version: str, number: int) -> bytes | None:
    """The `number`-th stored piece of a pack's .zip, or None past the last."""
    row = store.conn.execute("SELECT data FROM course_pack_chunks WHERE course_id = ? AND "
                             "version = ? AND n = ?", (course_id, version, number)).fetchone()
    return None if row is None else bytes(row["data"])


def pack_bytes(store: HubStore, course_id: str, version: str) -> Iterator[bytes]:
    """A pack's .zip bytes, a stored piece at a time."""
    number = 0
    while (piece := pack_piece(store, course_id, version, number)) is not None:
        yield piece
        number += 1


def _published(row: Any) -> PublishedPack:
    return PublishedPack(str(row["course_id"]), str(row["version"]), str(row["digest"]),
                         str(row["sha256"]), int(row["size"]), str(row["title"]),
                         str(row["published_at"]))

