"""The client side of sync (docs/sync-protocol.md): enroll a workspace, then pull and push.

One sync pulls first, then pushes. Pulling first matters: a received record meets this
device's unsent edits while they are still in the outbox, so `Tx.apply_remote` can list a
same-field edit from both sides in sync_conflicts (pushed first, the hub would merge the pair
silently and neither laptop would ever see it).

- Pull: the first request learns the hub's high water H; every table is then pulled up to H
  in dependency order. Each batch is applied in one transaction that also saves the table's
  cursor, so an interruption re-fetches at most one batch. A record that cannot be applied is
  quarantined and the rest of the batch goes on.
- Push: the outbox, one record per changed row in the order of its first change, in batches
  of at most 500 records and about 64 KB of gzip. Each batch's results are settled in one
  transaction: accepted rows leave the outbox; refused ones move to sync_quarantine, so they
  never block the queue.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import sqlite3
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from dxkit.core.errors import DxError
from dxkit.core.i18n import _
from dxkit.core.progress import Progress
from dxkit.core.synced import REGISTRY, Changes, Tx, dependency_order, record_of
from dxkit.sync.client import DeviceRevoked, HubClient, HubFailed, encode_body
from dxkit.sync.credentials import TokenStore
from dxkit.workspace import Workspace

PUSH_MAX_RECORDS = 500
PUSH_MAX_BYTES = 64 * 1024  # gzip body
PUSH_FIRST_GUESS = 200  # compressed bytes per record until the first batch is measured
PULL_LIMIT = 500

META_SERVER = "sync_server"
META_DEVICE = "sync_device_id"
META_DEVICE_NAME = "sync_device_name"
META_TEAM = "sync_team_id"
META_PROVINCE = "sync_province_code"
META_COMMUNE = "sync_commune_code"
META_HAMLET = "sync_hamlet"
META_ENROLLED_AT = "sync_enrolled_at"
META_TOKEN_STORE = "sync_token_store"
META_HIGH_WATER = "sync_high_water"  # every table is pulled up to this hub seq
META_REFUSED = "sync_refused_at"  # the hub refused the token at this time
META_LAST_SYNC = "last_sync_at"
CURSOR_PREFIX = "sync_cursor:"

# What apply_remote raises for a record it cannot store; anything else is a bug to surface.
BAD_RECORD_ERRORS = (ValueError, KeyError, TypeError, AttributeError, sqlite3.Error)


class NotEnrolled(DxError):
    """The workspace has not joined a hub team yet."""


@dataclass(frozen=True)
class Enrollment:
    server_url: str
    device_id: str
    device_name: str
    team_id: str
    province_code: str
    commune_code: str
    hamlet: str
    token_store: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SyncReport:
    """What one sync did. pushed: records the hub accepted (new or already had); pulled:
    received records that changed this workspace; conflicts: same-field pairs listed for
    review; quarantined: records held back with a reason; held_back: local changes still
    waiting in the outbox."""

    pushed: int = 0
    pulled: int = 0
    conflicts: int = 0
    quarantined: int = 0
    held_back: int = 0
    received: int = 0
    already_had: int = 0
    requests: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    finished_at: str = ""
    changes: Changes = field(default_factory=Changes, repr=False)  # for screens to refresh

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "changes"}


# -- enrollment ----------------------------------------------------------------------------------
def normalize_url(server_url: str) -> str:
    url = (server_url or "").strip().rstrip("/")
    if url.endswith("/v1"):
        url = url[:-3]
    if not url.startswith(("http://", "https://")) or len(url) < 10:
        raise DxError(_("“{url}” is not a hub address; write it like "
                        "https://hub.example.vn or http://192.168.1.10:8765.").format(
                            url=server_url))
    return url


def enroll(ws: Workspace, server_url: str, code: str, device_name: str | None = None,
           transport: Any = None) -> Enrollment:
    """Join the team the one-time `code` belongs to; the token goes to the TokenStore and the
    rest to ws.meta. A new hub or team starts its cursors from zero."""
    url = normalize_url(server_url)
    name = (device_name or socket.gethostname() or "dxkit").strip()[:200] or "dxkit"
    with HubClient(url, transport=transport) as client:
        answer = client.enroll(code.strip(), name)
    team = answer["team"]
    where = TokenStore(ws.path, ws.device_id).save(answer["token"])
    before = ws.meta()
    with ws.transaction() as tx:
        if before.get(META_SERVER) != url or before.get(META_TEAM) != team["id"]:
            tx.conn.execute("DELETE FROM meta WHERE substr(key, 1, ?) = ? OR key = ?",
                            (len(CURSOR_PREFIX), CURSOR_PREFIX, META_HIGH_WATER))
        facts = {
            META_SERVER: url, META_DEVICE: answer["device_id"], META_DEVICE_NAME: name,
            META_TEAM: team["id"], META_PROVINCE: team.get("province_code", ""),
            META_COMMUNE: team.get("commune_code", ""), META_HAMLET: team.get("hamlet", ""),
            META_ENROLLED_AT: ws.now().isoformat(), META_TOKEN_STORE: where,
        }
        for key, value in facts.items():
            ws.set_meta(key, str(value))
        tx.conn.execute("DELETE FROM meta WHERE key = ?", (META_REFUSED,))
    return enrollment(ws)


def enrollment(ws: Workspace) -> Enrollment:
    meta = ws.meta()
    if not meta.get(META_SERVER) or not meta.get(META_DEVICE):
        raise NotEnrolled(_("This workspace has not joined a hub yet. Enroll it first: "
                            "dxkit enroll --server ADDRESS --code CODE."))
    return Enrollment(meta[META_SERVER], meta[META_DEVICE], meta.get(META_DEVICE_NAME, ""),
                      meta.get(META_TEAM, ""), meta.get(META_PROVINCE, ""),
                      meta.get(META_COMMUNE, ""), meta.get(META_HAMLET, ""),
                      meta.get(META_TOKEN_STORE, "file"))


def client_for(ws: Workspace, transport: Any = None) -> HubClient:
    """A client for the workspace's hub with its device token."""
    facts = enrollment(ws)
    token = TokenStore(ws.path, ws.device_id).load()
    if not token:
        raise DeviceRevoked("unauthorized", _(
            "The device token of this workspace is missing; enroll it again with a new "
            "code. All data on this computer is kept."))
    return HubClient(facts.server_url, token, transport=transport)


def status(ws: Workspace) -> dict[str, Any]:
    """What the status bar and `dxkit sync status` show."""
    meta = ws.meta()
    enrolled = bool(meta.get(META_SERVER) and meta.get(META_DEVICE))
    team = None
    if enrolled:
        team = {"id": meta.get(META_TEAM, ""), "province_code": meta.get(META_PROVINCE, ""),
                "commune_code": meta.get(META_COMMUNE, ""), "hamlet": meta.get(META_HAMLET, "")}
    conn = ws.conn
    return {
        "enrolled": enrolled,
        "server": meta.get(META_SERVER),
        "device_id": meta.get(META_DEVICE),
        "device_name": meta.get(META_DEVICE_NAME),
        "team": team,
        "pending": ws.pending_changes(),
        "last_sync_at": meta.get(META_LAST_SYNC),
        "open_conflicts": conn.execute(
            "SELECT count(*) FROM sync_conflicts WHERE resolved_at IS NULL").fetchone()[0],
        "quarantined": conn.execute("SELECT count(*) FROM sync_quarantine").fetchone()[0],
        "revoked": bool(meta.get(META_REFUSED)),
    }


# -- one sync ------------------------------------------------------------------------------------
def sync(ws: Workspace, client: HubClient | None = None,
         progress: Progress | None = None) -> SyncReport:
    """Pull then push once. Raises a HubError (offline, refused, failed) or Cancelled; what
    was applied before that stays applied and the next sync continues from there."""
    enrollment(ws)
    own_client = client is None
    hub = client_for(ws) if client is None else client
    start = (hub.requests, hub.bytes_sent, hub.bytes_received)
    conflicts_before = _last_id(ws, "sync_conflicts")
    report = SyncReport()
    try:
        _pull(ws, hub, report, progress)
        _push(ws, hub, report, progress)
    except DeviceRevoked:
        with ws.transaction():
            ws.set_meta(META_REFUSED, ws.now().isoformat())
        raise
    finally:
        report.requests = hub.requests - start[0]
        report.bytes_sent = hub.bytes_sent - start[1]
        report.bytes_received = hub.bytes_received - start[2]
        if own_client:
            hub.close()
    report.conflicts = ws.conn.execute("SELECT count(*) FROM sync_conflicts WHERE id > ?",
                                       (conflicts_before,)).fetchone()[0]
    report.held_back = ws.pending_changes()
    report.finished_at = ws.now().isoformat()
    with ws.transaction() as tx:
        ws.set_meta(META_LAST_SYNC, report.finished_at)
        tx.conn.execute("DELETE FROM meta WHERE key = ?", (META_REFUSED,))
    return report


# -- pull ----------------------------------------------------------------------------------------
def _pull(ws: Workspace, hub: HubClient, report: SyncReport, progress: Progress | None) -> None:
    tables = dependency_order()
    meta = ws.meta()
    cursors = {table: int(meta.get(CURSOR_PREFIX + table, 0)) for table in tables}
    known = int(meta.get(META_HIGH_WATER, -1))
    _checkpoint(progress, _("Receiving changes from the hub"))
    first = hub.pull(tables[0], after=cursors[tables[0]], limit=PULL_LIMIT)
    high_water = first["high_water"]
    if high_water == known and not first["records"]:
        return  # nothing new anywhere since the last complete pull: one request
    if high_water < max(cursors.values()):
        # The hub's counter went back (restored from an older backup): read everything again;
        # applying what we already have is a no-op.
        cursors = dict.fromkeys(tables, 0)
        first = hub.pull(tables[0], after=0, limit=PULL_LIMIT)
        high_water = first["high_water"]
    pending: Mapping[str, Any] | None = first
    for table in tables:
        cursor = cursors[table]
        while True:
            if pending is not None:
                answer, pending = pending, None
            else:
                answer = hub.pull(table, after=cursor, upto=high_water, limit=PULL_LIMIT)
            if answer["more"] and answer["next"] <= cursor:
                raise HubFailed(_("The hub sent a pull answer that does not move forward; "
                                  "try again later."))
            cursor = _apply_batch(ws, table, answer, report)
            _checkpoint(progress, _("Received {count} records").format(count=report.received))
            if not answer["more"]:
                break
    with ws.transaction():
        ws.set_meta(META_HIGH_WATER, str(high_water))


def _apply_batch(ws: Workspace, table: str, answer: Mapping[str, Any],
                 report: SyncReport) -> int:
    """Apply one pulled batch and save the table's cursor, in one transaction."""
    with ws.transaction() as tx:
        for record in answer["records"]:
            outcome = apply_pulled_record(tx, table, record)
            report.received += 1
            if outcome == "applied":
                report.pulled += 1
            elif outcome == "duplicate":
                report.already_had += 1
            else:
                report.quarantined += 1
        ws.set_meta(CURSOR_PREFIX + table, str(answer["next"]))
    report.changes.merge(tx.changes)
    return int(answer["next"])


def apply_pulled_record(tx: Tx, table: str, record: Any) -> str:
    """apply_remote inside a savepoint: a record that cannot be stored is quarantined and
    leaves no trace, and the rest of the batch goes on."""
    conn = tx.conn
    if not isinstance(record, Mapping) or record.get("table") != table:
        _quarantine(conn, record, "pull", "wrong_table")
        return "quarantined"
    conn.execute("SAVEPOINT pulled_record")
    try:
        outcome = tx.apply_remote(record)
    except BAD_RECORD_ERRORS as exc:
        conn.execute("ROLLBACK TO pulled_record")
        conn.execute("RELEASE pulled_record")
        _quarantine(conn, record, "pull", f"{type(exc).__name__}: {exc}")
        return "quarantined"
    conn.execute("RELEASE pulled_record")
    if outcome == "conflict":
        _quarantine(conn, record, "pull", "conflict")
        return "quarantined"
    return outcome


# -- push ----------------------------------------------------------------------------------------
def _push(ws: Workspace, hub: HubClient, report: SyncReport, progress: Progress | None) -> None:
    conn = ws.conn
    entries: dict[tuple[str, str], list[int]] = {}
    for seq, table, row_id in conn.execute(
            "SELECT seq, table_name, row_id FROM outbox ORDER BY seq"):
        entries.setdefault((table, row_id), []).append(seq)
    # A table this version does not know waits in the outbox for one that does.
    keys = [key for key in entries if key[0] in REGISTRY]
    per_record = float(PUSH_FIRST_GUESS)
    index = 0
    records: list[dict[str, Any]]
    while index < len(keys):
        _checkpoint(progress, _("Sending changes: {done} of {total}").format(
            done=index, total=len(keys)), index, len(keys))
        wanted = max(1, min(PUSH_MAX_RECORDS, int(PUSH_MAX_BYTES * 0.9 / per_record)))
        batch_keys, records, orphans = [], [], []
        while index < len(keys) and len(records) < wanted:
            record = record_of(conn, *keys[index])
            if record is None:
                orphans.append(keys[index])  # the row is gone: nothing left to send
            else:
                batch_keys.append(keys[index])
                records.append(record)
            index += 1
        if not records:
            _settle(ws, [], [], [], entries, orphans, report)
            continue
        body = encode_body({"records": records})
        while len(body) > PUSH_MAX_BYTES and len(records) > 1:
            keep = max(1, min(len(records) - 1,
                              int(len(records) * PUSH_MAX_BYTES * 0.9 / len(body))))
            index -= len(records) - keep  # the rest go in the next batch
            records, batch_keys = records[:keep], batch_keys[:keep]
            body = encode_body({"records": records})
        per_record = max(1.0, len(body) / len(records))
        answer = hub.push(records, body=body)
        _settle(ws, batch_keys, records, answer["results"], entries, orphans, report)
    _checkpoint(progress, _("Sending changes: {done} of {total}").format(
        done=len(keys), total=len(keys)), len(keys), len(keys))


def _settle(ws: Workspace, keys: list[tuple[str, str]], records: list[dict[str, Any]],
            results: list[dict[str, Any]], entries: Mapping[tuple[str, str], list[int]],
            orphans: list[tuple[str, str]], report: SyncReport) -> None:
    """One transaction per batch: every sent row leaves the outbox (only the entries read
    before it was sent: an edit made meanwhile stays queued); refusals are quarantined."""
    for (table, row_id), result in zip(keys, results, strict=True):
        if result.get("status") not in ("applied", "duplicate", "conflict", "rejected") or (
                result.get("id") not in (None, row_id)
                or result.get("table") not in (None, table)):
            raise HubFailed(_("The hub's answer to a push does not match what was sent; "
                              "nothing was removed from the queue. Try again later."))
    with ws.transaction() as tx:
        for record, result in zip(records, results, strict=True):
            status = result["status"]
            if status in ("applied", "duplicate"):
                report.pushed += 1
            else:
                reason = str(result.get("reason") or status)
                _quarantine(tx.conn, record, "push", reason)
                report.quarantined += 1
        doomed = [(seq,) for key in (*keys, *orphans) for seq in entries[key]]
        tx.conn.executemany("DELETE FROM outbox WHERE seq = ?", doomed)


# -- plumbing ------------------------------------------------------------------------------------
def _quarantine(conn: sqlite3.Connection, record: Any, direction: str, reason: str) -> None:
    table = record.get("table") if isinstance(record, Mapping) else None
    row_id = record.get("id") if isinstance(record, Mapping) else None
    conn.execute(
        "INSERT INTO sync_quarantine (table_name, row_id, direction, reason, record, at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (table if isinstance(table, str) else "", row_id if isinstance(row_id, str) else "",
         direction, reason[:1000], json.dumps(record, ensure_ascii=False, default=str),
         dt.datetime.now(dt.UTC).isoformat(timespec="seconds")))


def _last_id(ws: Workspace, table: str) -> int:
    return int(ws.conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0])


def _checkpoint(progress: Progress | None, label: str, value: int | None = None,
                maximum: int | None = None) -> None:
    if progress is not None:
        progress.update(value=value, maximum=maximum, label=label)  # raises Cancelled
