"""USB bundles: sync between workspaces without any network (issue 3 §5).

A bundle is one file: a JSON header line, then the body, a gzip of JSON lines with one sync
record (docs/sync-protocol.md, `record_of`) per line.

    {"format": "dxkit-bundle", "version": 1, "created_at": …, "device_id": …, "team_id": …,
     "tables": {"households": 12, …}, "records": 57, "body_bytes": …, "body_sha256": …}\\n
    <gzip body>

The body holds every row of every synced table (full state, not the outbox), tables in
`dependency_order()` and rows by id, so a parent always precedes its children. Full state makes
bundles independent of the order they are imported in, and importing one twice changes nothing.
Rows every device ships with (device_id "shipped") are left out.

Import verifies everything before applying anything: the header, the body's size and sha256,
the gzip stream, every line, and the record count of every table against the header. Then the
records are applied in one transaction with `Tx.apply_remote`, the same merge as a network pull;
a record that cannot be stored is quarantined (direction "pull") and the rest go on.

Applied records create no outbox entry, as with a pull: changes learned from a bundle are not
forwarded to the hub by this laptop. The laptop that made them pushes them itself when it syncs.
The sha256 detects damage, not forgery: a bundle is as trusted as the stick it arrived on.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import tempfile
import zlib
from collections import Counter
from collections.abc import Generator, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from dxkit.core.errors import DxError
from dxkit.core.i18n import _
from dxkit.core.progress import Progress
from dxkit.core.synced import dependency_order, record_of
from dxkit.sync.apply import META_TEAM, Applied, apply_stream
from dxkit.workspace import Workspace

FORMAT = "dxkit-bundle"
VERSION = 1
HEADER_LIMIT = 64 * 1024  # a longer first line is not a bundle header
CHUNK = 1024 * 1024
CHECKPOINT_EVERY = 250  # records between progress checkpoints
SHIPPED_DEVICE = "shipped"


class BundleError(DxError):
    """A file that cannot be imported as a bundle: nothing was applied."""


@dataclass(frozen=True)
class ExportReport:
    path: str
    records: int
    tables: dict[str, int]
    bytes: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ImportReport:
    """received: records in the bundle; applied: new or changed here; duplicate: already had;
    conflicts: same-field pairs newly listed for review; quarantined: held back with a reason."""

    received: int = 0
    applied: int = 0
    duplicate: int = 0
    conflicts: int = 0
    quarantined: int = 0
    source_device: str = ""
    created_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- export ----------------------------------------------------------------------------------
def export_bundle(ws: Workspace, path: str | Path, progress: Progress | None = None
                  ) -> ExportReport:
    """Write every synced row of the workspace to a bundle at `path`, atomically: the file
    appears whole or not at all (a cancel or a full stick leaves the old file, if any)."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    counts: Counter[str] = Counter()
    body_fd, body_name = tempfile.mkstemp(prefix=".dxkit-bundle-", dir=folder)
    final_name = ""
    try:
        with os.fdopen(body_fd, "w+b") as body:
            with (gzip.GzipFile(fileobj=body, mode="wb", mtime=0) as packed,
                  contextlib.closing(_workspace_records(ws, progress)) as records):
                for record in records:
                    line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
                    packed.write(line.encode("utf-8") + b"\n")
                    counts[record["table"]] += 1
            body_bytes, digest = _hash_from_start(body)
            header: dict[str, Any] = {
                "format": FORMAT, "version": VERSION, "created_at": ws.now().isoformat(),
                "device_id": ws.device_id, "team_id": ws.meta().get(META_TEAM) or None,
                "tables": {t: counts[t] for t in dependency_order() if counts[t]},
                "records": sum(counts.values()), "body_bytes": body_bytes,
                "body_sha256": digest,
            }
            final_fd, final_name = tempfile.mkstemp(prefix=".dxkit-bundle-", dir=folder)
            with os.fdopen(final_fd, "wb") as final:
                final.write(json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n")
                body.seek(0)
                while chunk := body.read(CHUNK):
                    final.write(chunk)
                final.flush()
                os.fsync(final.fileno())
        os.replace(final_name, target)
    except BaseException:
        if final_name:
            with contextlib.suppress(OSError):
                os.unlink(final_name)
        raise
    finally:
        with contextlib.suppress(OSError):
            os.unlink(body_name)
    return ExportReport(str(target), header["records"], header["tables"],
                        target.stat().st_size)


def _workspace_records(ws: Workspace, progress: Progress | None
                       ) -> Generator[dict[str, Any], None, None]:
    """Every synced row as a record, read from one snapshot of the database."""
    conn = ws.conn
    conn.execute("SAVEPOINT bundle_export")  # a read snapshot, even while others write
    try:
        tables = dependency_order()
        ids = {t: [r[0] for r in conn.execute(
            f"SELECT id FROM {t} WHERE device_id != ? ORDER BY id", (SHIPPED_DEVICE,))]
            for t in tables}
        total = sum(len(v) for v in ids.values())
        done = 0
        _checkpoint(progress, _("Writing the bundle"), 0, total)
        for table in tables:
            for row_id in ids[table]:
                record = record_of(conn, table, row_id)
                if record is not None:
                    yield record
                done += 1
                if done % CHECKPOINT_EVERY == 0:
                    _checkpoint(progress, _("Writing the bundle"), done, total)
        _checkpoint(progress, _("Writing the bundle"), total, total)
    finally:
        conn.execute("RELEASE bundle_export")


def _hash_from_start(body: IO[bytes]) -> tuple[int, str]:
    body.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := body.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


# -- import ----------------------------------------------------------------------------------
def import_bundle(ws: Workspace, path: str | Path, progress: Progress | None = None
                  ) -> ImportReport:
    """Verify the bundle at `path` completely, then apply it in one transaction.

    Raises BundleError (a sentence) for a file that is not a whole, unedited bundle of this
    team, and Cancelled if `progress` is cancelled; in both cases nothing is applied."""
    source = Path(path)
    with source.open("rb") as handle:
        header = _read_header(handle, source)
        _check_team(ws, header)
        body_start = handle.tell()
        _verify_body(handle, header, source, progress)
        ws.backup_before("bundle")  # a whole, checked bundle of this team: keep a way back
        handle.seek(body_start)
        return _apply(ws, handle, header, source, progress)


def _read_header(handle: IO[bytes], source: Path) -> dict[str, Any]:
    line = handle.readline(HEADER_LIMIT)
    try:
        header = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BundleError(_("{path} is not a dxkit bundle; nothing was imported.").format(
            path=source))
    if header.get("version") != VERSION:
        raise BundleError(_("{path} was made by a newer version of dxkit; update dxkit on "
                            "this computer to import it. Nothing was imported.").format(
                                path=source))
    tables, records = header.get("tables"), header.get("records")
    if (not isinstance(tables, dict) or not isinstance(records, int)
            or not all(isinstance(n, int) for n in tables.values())
            or sum(tables.values()) != records
            or not isinstance(header.get("body_sha256"), str)
            or not isinstance(header.get("body_bytes"), int)):
        raise _edited(source)
    return header


def _check_team(ws: Workspace, header: dict[str, Any]) -> None:
    ours, theirs = ws.meta().get(META_TEAM), header.get("team_id")
    if ours and theirs and ours != theirs:
        raise BundleError(_("This bundle comes from another hub team; a workspace takes "
                            "bundles only from its own team. Nothing was imported."))


def _verify_body(handle: IO[bytes], header: dict[str, Any], source: Path,
                 progress: Progress | None) -> None:
    """Read the whole body once: size, sha256, gzip, every line, and the counts per table."""
    total = header["records"]
    counts: Counter[str] = Counter()
    reader = _HashingReader(handle)
    try:
        for record in _records(reader):
            counts[record["table"]] += 1
            if sum(counts.values()) % CHECKPOINT_EVERY == 0:
                _checkpoint(progress, _("Checking the bundle"), sum(counts.values()), total)
        reader.drain()
    except _Damaged:
        raise _damaged(source) from None
    if reader.size != header["body_bytes"] or reader.hexdigest() != header["body_sha256"]:
        raise _damaged(source)
    if dict(counts) != {t: n for t, n in header["tables"].items() if n}:
        raise _edited(source)


def _apply(ws: Workspace, handle: IO[bytes], header: dict[str, Any], source: Path,
           progress: Progress | None) -> ImportReport:
    report = ImportReport(source_device=str(header.get("device_id") or ""),
                          created_at=str(header.get("created_at") or ""))
    total = header["records"]
    reader = _HashingReader(handle)
    _checkpoint(progress, _("Importing the bundle"), 0, total)
    with ws.transaction() as tx:
        conflicts_before = _last_id(ws, "sync_conflicts")
        tally = Applied()
        try:
            for done in apply_stream(tx, _records(reader), tally):
                _checkpoint(progress, _("Importing the bundle"), done, total)
            reader.drain()
        except _Damaged:
            raise _damaged(source) from None
        if reader.hexdigest() != header["body_sha256"]:  # the file changed since the check
            raise _damaged(source)
        report.received, report.applied = tally.received, tally.applied
        report.duplicate, report.quarantined = tally.duplicate, tally.quarantined
        report.conflicts = ws.conn.execute("SELECT count(*) FROM sync_conflicts WHERE id > ?",
                                           (conflicts_before,)).fetchone()[0]
        _checkpoint(progress, _("Importing the bundle"), total, total)
    return report


class _Damaged(Exception):
    """The body could not be read back as gzip of JSON-line records."""


def _records(reader: _HashingReader) -> Iterator[dict[str, Any]]:
    try:
        # GzipFile reads forward only here; typeshed's reader type also asks for seek().
        with gzip.GzipFile(fileobj=reader, mode="rb") as unpacked:  # type: ignore[call-overload]
            for line in unpacked:
                record = json.loads(line)
                if not isinstance(record, dict) or not isinstance(record.get("table"), str):
                    raise _Damaged
                yield record
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise _Damaged from exc


class _HashingReader:
    """A read-only file object that hashes every byte read through it."""

    def __init__(self, handle: IO[bytes]):
        self._handle = handle
        self._digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        self._digest.update(chunk)
        self.size += len(chunk)
        return chunk

    def drain(self) -> None:
        """Hash whatever follows the gzip stream, so appended bytes are noticed too."""
        while self.read(CHUNK):
            pass

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def _damaged(source: Path) -> BundleError:
    return BundleError(_("The bundle {path} is damaged or incomplete (it may have been copied "
                         "only in part); nothing was imported. Export it again.").format(
                             path=source))


def _edited(source: Path) -> BundleError:
    return BundleError(_("The header of the bundle {path} does not match its contents; the "
                         "file was changed after it was made. Nothing was imported.").format(
                             path=source))


def _last_id(ws: Workspace, table: str) -> int:
    return int(ws.conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0])


def _checkpoint(progress: Progress | None, label: str, value: int, maximum: int) -> None:
    if progress is not None:
        progress.update(value=value, maximum=maximum, label=label)  # raises Cancelled
