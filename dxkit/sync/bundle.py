"""USB bundles: sync between workspaces without any network (issue 3 §5).

A bundle is one file sealed with the team's key (dxkit/sync/seal.py: AES-256-GCM), so a stick
found in the road reveals nothing and a bundle changed by anyone outside the team is refused.
Only the sealing header is in the clear: what the file is, its version and the team's id
(to say "another team's bundle" before trying a key). Sealed inside: a JSON header line, then
the body, a gzip of JSON lines with one sync record (docs/sync-protocol.md, `record_of`) per
line.

    {"format": "dxkit-bundle", "version": 2, "team_id": …, "cipher": …, "salt": …}\\n
    sealed frames of:
        {"format": "dxkit-bundle", "version": 2, "created_at": …, "device_id": …, "team_id": …,
         "tables": {"households": 12, …}, "records": 57, "body_bytes": …, "body_sha256": …}\\n
        <gzip body>

The key comes from the hub at enrollment, so a laptop exchanges bundles only once it has joined
its team. Version 1 bundles (not sealed) are refused: anyone could have written one.

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
The sealing detects forgery as well as damage; the sha256 and counts inside catch a bundle
that a team member's own tool wrote wrong.

While a bundle is written, its body waits in a temporary file beside the target, sealed with a
key that exists only in memory, so no readable copy of the data ever touches the stick.
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
from dxkit.sync.seal import SealedWriter, Tampered, opened, read_header
from dxkit.sync.teamkey import team_key
from dxkit.workspace import Workspace

FORMAT = "dxkit-bundle"
VERSION = 2
PART_FORMAT = "dxkit-bundle-part"  # the sealed temporary body
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
    """Write every synced row of the workspace to a bundle at `path`, sealed with the team's
    key, atomically: the file appears whole or not at all (a cancel or a full stick leaves the
    old file, if any)."""
    target = Path(path)
    team_id, key = _sealing_key(ws)
    folder = target.parent if str(target.parent) else Path(".")
    body_key = os.urandom(32)  # seals the temporary body; never written anywhere
    body_fd, body_name = tempfile.mkstemp(prefix=".dxkit-bundle-", dir=folder)
    final_name = ""
    try:
        with os.fdopen(body_fd, "w+b") as body:
            counts, body_bytes, digest = _write_body(ws, body, body_key, progress)
            header: dict[str, Any] = {
                "format": FORMAT, "version": VERSION, "created_at": ws.now().isoformat(),
                "device_id": ws.device_id, "team_id": team_id,
                "tables": {t: counts[t] for t in dependency_order() if counts[t]},
                "records": sum(counts.values()), "body_bytes": body_bytes,
                "body_sha256": digest,
            }
            final_fd, final_name = tempfile.mkstemp(prefix=".dxkit-bundle-", dir=folder)
            with os.fdopen(final_fd, "wb") as final:
                _write_sealed(final, key, team_id, header, body, body_key)
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


def _sealing_key(ws: Workspace) -> tuple[str, bytes]:
    team_id = ws.meta().get(META_TEAM)
    if not team_id:
        raise BundleError(_("Bundles are sealed with the team's key, which a laptop receives "
                            "when it joins its hub team. Enroll this laptop first (dxkit "
                            "enroll); no bundle was written."))
    key = team_key(team_id)
    if key is None:
        raise BundleError(_("This computer does not have the team's bundle key yet. Sync "
                            "with the hub once, then write the bundle again; no bundle was "
                            "written."))
    return team_id, key


def _write_body(ws: Workspace, body: IO[bytes], body_key: bytes, progress: Progress | None
                ) -> tuple[Counter[str], int, str]:
    """The gzip of every record, sealed into `body`: (records per table, size, sha256)."""
    counts: Counter[str] = Counter()
    sealed = SealedWriter(body, body_key, {"format": PART_FORMAT})
    hashed = _HashingWriter(sealed)
    with (gzip.GzipFile(fileobj=hashed, mode="wb", mtime=0) as packed,
          contextlib.closing(_workspace_records(ws, progress)) as records):
        for record in records:
            line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
            packed.write(line.encode("utf-8") + b"\n")
            counts[record["table"]] += 1
    sealed.close()
    return counts, hashed.size, hashed.hexdigest()


def _write_sealed(final: IO[bytes], key: bytes, team_id: str, header: dict[str, Any],
                  body: IO[bytes], body_key: bytes) -> None:
    """The bundle: the sealing header, then the header line and the body, sealed."""
    sealed = SealedWriter(final, key, {"format": FORMAT, "version": VERSION,
                                       "team_id": team_id})
    sealed.write(json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n")
    body.seek(0)
    part, line = read_header(body)
    assert part is not None  # written just above by _write_body
    plain = opened(body, body_key, part, line)
    while chunk := plain.read(CHUNK):
        sealed.write(chunk)
    sealed.close()


class _HashingWriter:
    """A write-only file object that hashes and counts every byte written through it."""

    def __init__(self, out: SealedWriter):
        self._out = out
        self._digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        self.size += len(data)
        return self._out.write(bytes(data))

    def flush(self) -> None:
        self._out.flush()

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


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


# -- import ----------------------------------------------------------------------------------
def import_bundle(ws: Workspace, path: str | Path, progress: Progress | None = None
                  ) -> ImportReport:
    """Verify the bundle at `path` completely, then apply it in one transaction.

    Raises BundleError (a sentence) for a file that is not a whole, unedited bundle of this
    team, and Cancelled if `progress` is cancelled; in both cases nothing is applied."""
    source = Path(path)
    try:
        with _unsealed(ws, source) as handle:  # first reading: check everything
            header = _read_header(handle, source)
            _check_team(ws, header)
            _verify_body(handle, header, source, progress)
        ws.backup_before("bundle")  # a whole, checked bundle of this team: a way back
        with _unsealed(ws, source) as handle:  # second reading: apply
            _read_header(handle, source)
            return _apply(ws, handle, header, source, progress)
    except Tampered:
        raise BundleError(_("The bundle {path} failed its authenticity check: it was changed "
                            "after it was made, cut short, or sealed by another team. Nothing "
                            "was imported.").format(path=source)) from None


@contextlib.contextmanager
def _unsealed(ws: Workspace, source: Path) -> Iterator[IO[bytes]]:
    """The bundle's plaintext, read through the team's key after checking the clear header."""
    with source.open("rb") as raw:
        outer, line = read_header(raw)
        if outer is None or outer.get("format") != FORMAT:
            raise BundleError(_("{path} is not a dxkit bundle; nothing was imported.").format(
                path=source))
        _check_version(outer, source)
        _check_team(ws, outer)
        key = team_key(str(outer.get("team_id")))
        if key is None:
            raise BundleError(_("This computer does not have the team's bundle key yet. Sync "
                                "with the hub once, then import the bundle again. Nothing was "
                                "imported."))
        yield opened(raw, key, outer, line)


def _check_version(header: dict[str, Any], source: Path) -> None:
    version = header.get("version")
    if version == 1:
        raise BundleError(_("{path} was written by an older dxkit and is not sealed with the "
                            "team's key, so it cannot be trusted. Update dxkit on the laptop "
                            "that made it and export it again. Nothing was imported.").format(
                                path=source))
    if version != VERSION:
        raise BundleError(_("{path} was made by a newer version of dxkit; update dxkit on "
                            "this computer to import it. Nothing was imported.").format(
                                path=source))


def _read_header(handle: IO[bytes], source: Path) -> dict[str, Any]:
    line = handle.readline(HEADER_LIMIT)
    try:
        header = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BundleError(_("{path} is not a dxkit bundle; nothing was imported.").format(
            path=source))
    _check_version(header, source)
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
    if not ours:
        raise BundleError(_("This laptop has not joined a hub team, and bundles are sealed "
                            "with the team's key. Enroll it first (dxkit enroll). Nothing was "
                            "imported."))
    if ours != theirs:
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
