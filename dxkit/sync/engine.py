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
  never block the queue. A row holding an infinite number (stored before the field types
  were checked) is quarantined here without being sent: it would make the whole request
  invalid JSON.
"""

from __future__ import annotations

import hashlib
import logging
import math
import socket
import sqlite3
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from dxkit.core.errors import DxError
from dxkit.core.i18n import _, counted
from dxkit.core.progress import Progress
from dxkit.core.synced import REGISTRY, Changes, dependency_order, records_of
from dxkit.lessons.certificate_code import META_PROVINCE_KEY, public_key_text
from dxkit.lessons.library import CourseSummary
from dxkit.lessons.pack_files import MAX_PACK_BYTES
from dxkit.lessons.packs import PackRefused, read_pack
from dxkit.sync import clocks
from dxkit.sync.apply import (
    CURSOR_PREFIX,
    META_COMMUNE,
    META_DEVICE,
    META_DEVICE_NAME,
    META_ENROLLED_AT,
    META_HAMLET,
    META_HIGH_WATER,
    META_LAST_SYNC,
    META_PROVINCE,
    META_REFUSED,
    META_SERVER,
    META_TEAM,
    META_TEAM_KIND,
    META_TOKEN_STORE,
    Applied,
    apply_pulled_page,
    apply_records,
    quarantine,
    record_problem,
)
from dxkit.sync.client import (
    REQUEST_DEADLINE,
    DeviceRevoked,
    HubAnswerTooLarge,
    HubClient,
    HubFailed,
    HubRefused,
    encode_body,
)
from dxkit.sync.credentials import TokenStore
from dxkit.sync.teamkey import (
    CertificateSigning,
    certificate_signing,
    read_certificate_signing,
    save_certificate_signing,
    save_team_key,
    team_key,
)
from dxkit.workspace import Workspace

PUSH_MAX_RECORDS = 500
PUSH_MAX_BYTES = 64 * 1024  # gzip body
PUSH_FIRST_GUESS = 200  # compressed bytes per record until the first batch is measured
# The hub's largest page (MAX_PULL_LIMIT): half the commits of 500 per page, and a commit on an
# encrypted workspace re-encrypts every page it touched (benchmarks/sync_bench.py: ~8% of
# the pull's CPU). An interruption re-fetches at most one page.
PULL_LIMIT = 1000
# "1" when the user allowed plain http beyond the local network for this workspace's hub
# (`dxkit enroll --allow-insecure-http`); every client of the workspace honours it.
META_INSECURE_HTTP = "sync_allow_insecure_http"
# The day this device last asked the hub for its team's certificate key (hub/certificates.py).
META_CERTIFICATE_KEY_ASKED = "certificates_key_asked_on"
# The hub's course-pack counter (a pull answer's `course_packs`) once this device has looked
# at every pack published up to it (hub/course_packs.py).
META_COURSE_PACKS_SEEN = "course_packs_seen"
# A published pack larger than this is not downloaded (a pack's .zip is at most this big:
# dxkit.lessons.pack_files.MAX_PACK_BYTES).
MAX_COURSE_PACK_BYTES = MAX_PACK_BYTES
# A download may take REQUEST_DEADLINE plus one second per this many bytes (16 KiB/s: a
# slow 2G line), so a large pack is not cut off where a pull page would be.
PACK_BYTES_PER_SECOND = 16 * 1024


log = logging.getLogger(__name__)

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
    allow_insecure_http: bool = False
    team_kind: str = ""  # "hamlet" or "commune" ("" from a hub before team kinds)

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
    # Course packs the province published that this sync installed ("id version"), and
    # sentences about those it could not (a pack refused here does not fail the sync).
    courses_installed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Each installed course's title ("id version" -> title in the app's language).
    course_titles: dict[str, str] = field(default_factory=dict)
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
           transport: Any = None, *, allow_insecure_http: bool = False) -> Enrollment:
    """Join the team the one-time `code` belongs to; the token goes to the TokenStore and the
    rest to ws.meta. A new hub or team starts its cursors from zero. `allow_insecure_http`
    (the user's explicit choice) is kept with the hub's address for every later sync.

    Enroll and go: the answer's records (the team's hamlets, the province's published
    targets) are applied as a pull would apply them, and the team's province and commune
    become the workspace's place (as `dxkit team set`), so the laptop can record a household
    of its hamlet before it has ever synced."""
    url = normalize_url(server_url)
    name = (device_name or socket.gethostname() or "dxkit").strip()[:200] or "dxkit"
    with HubClient(url, transport=transport, allow_insecure_http=allow_insecure_http) as client:
        answer = client.enroll(code.strip(), name)
    clocks.learn_hub_time(ws, client.server_ms)  # before any edit is sent or received
    team = answer["team"]
    where = TokenStore(ws.path, ws.device_id).save(answer["token"])
    _keep_team_key(team["id"], answer.get("bundle_key"))
    signing = _keep_certificate_key(team["id"], answer.get("certificate_key"))
    before = ws.meta()
    with ws.transaction() as tx:
        if before.get(META_SERVER) != url or before.get(META_TEAM) != team["id"]:
            tx.conn.execute("DELETE FROM meta WHERE substr(key, 1, ?) = ? OR key = ?",
                            (len(CURSOR_PREFIX), CURSOR_PREFIX, META_HIGH_WATER))
        facts = {
            META_SERVER: url, META_DEVICE: answer["device_id"], META_DEVICE_NAME: name,
            META_TEAM: team["id"], META_PROVINCE: team.get("province_code", ""),
            META_COMMUNE: team.get("commune_code", ""), META_HAMLET: team.get("hamlet", ""),
            META_TEAM_KIND: team.get("kind", ""),
            META_ENROLLED_AT: ws.now().isoformat(), META_TOKEN_STORE: where,
        }
        if signing is not None:
            facts[META_PROVINCE_KEY] = public_key_text(signing.province_public_key)
        for key, value in facts.items():
            ws.set_meta(key, str(value))
        _take_team_place(ws)
        _apply_enrollment_records(tx, answer.get("records"))
        if allow_insecure_http:
            ws.set_meta(META_INSECURE_HTTP, "1")
        else:  # a new enrollment asks again
            tx.conn.execute("DELETE FROM meta WHERE key = ?", (META_INSECURE_HTTP,))
        tx.conn.execute("DELETE FROM meta WHERE key = ?", (META_REFUSED,))
        clocks.remember_hub_time(ws)
    return enrollment(ws)


def _take_team_place(ws: Workspace) -> None:
    """The team's province and commune as the workspace's place, if the hub sent them and
    this dxkit knows them (a place it does not know is left for `dxkit team set`)."""
    meta = ws.meta()
    province, commune = meta.get(META_PROVINCE, ""), meta.get(META_COMMUNE, "")
    if not (province.isdigit() and commune.isdigit()):
        return
    if (meta.get("province_code"), meta.get("commune_code")) == (province, commune):
        return
    try:
        ws.configure_team(int(province), int(commune))
    except DxError:
        log.warning("the hub's team place %s/%s is unknown here", province, commune)


def _apply_enrollment_records(tx: Any, records: Any) -> None:
    """The records an enrollment carries, checked and applied like pulled ones (a record that
    does not fit is quarantined), parents first."""
    if not isinstance(records, list):
        return
    by_table: dict[str, list[Any]] = {}
    for record in records:
        table = record.get("table") if isinstance(record, dict) else None
        if isinstance(table, str) and table in REGISTRY:
            by_table.setdefault(table, []).append(record)
    for table in dependency_order():
        if table in by_table:
            apply_records(tx, table, by_table[table])


def _keep_team_key(team_id: str, key: Any) -> None:
    """Keep the team's bundle key; a hub that predates bundle keys sends none."""
    if isinstance(key, str) and key:
        try:
            save_team_key(team_id, key)
        except ValueError:
            raise HubFailed(_("The hub sent a team key that is not one; ask the hub "
                              "administrator to update the hub.")) from None


def _fetch_team_key(ws: Workspace, hub: HubClient) -> None:
    """A device enrolled before teams had bundle keys asks for its team's once."""
    team_id = ws.meta().get(META_TEAM)
    if team_id and team_key(team_id) is None:
        _keep_team_key(team_id, hub.team_key())


def _keep_certificate_key(team_id: str, answer: Any) -> CertificateSigning | None:
    """Keep the team's certificate signing key; a hub that predates certificates sends
    none. The key must be the one its key certificate names, for this team, signed by the
    province key the hub sends along."""
    if answer is None:
        return None
    try:
        signing = read_certificate_signing(answer)
    except ValueError:
        signing = None
    if signing is None or signing.team_id != team_id:
        raise HubFailed(_("The hub sent a certificate key that is not one; ask the hub "
                          "administrator to update the hub."))
    save_certificate_signing(signing)
    return signing


def _fetch_certificate_key(ws: Workspace, hub: HubClient) -> None:
    """A device enrolled before certificates asks for its team's signing key, at most once
    a day (a hub that predates certificates has none: a sync with nothing new stays one
    request the rest of the day)."""
    meta = ws.meta()
    team_id = meta.get(META_TEAM)
    today = ws.now().date().isoformat()
    if not team_id or meta.get(META_CERTIFICATE_KEY_ASKED) == today \
            or certificate_signing(team_id) is not None:
        return
    signing = _keep_certificate_key(team_id, hub.certificate_key())
    with ws.transaction():
        ws.set_meta(META_CERTIFICATE_KEY_ASKED, today)
        if signing is not None:
            ws.set_meta(META_PROVINCE_KEY, public_key_text(signing.province_public_key))


def enrollment(ws: Workspace) -> Enrollment:
    meta = ws.meta()
    if not meta.get(META_SERVER) or not meta.get(META_DEVICE):
        raise NotEnrolled(_("This workspace has not joined a hub yet. Enroll it first: "
                            "dxkit enroll --server ADDRESS --code CODE."))
    return Enrollment(meta[META_SERVER], meta[META_DEVICE], meta.get(META_DEVICE_NAME, ""),
                      meta.get(META_TEAM, ""), meta.get(META_PROVINCE, ""),
                      meta.get(META_COMMUNE, ""), meta.get(META_HAMLET, ""),
                      meta.get(META_TOKEN_STORE, "file"), meta.get(META_INSECURE_HTTP) == "1",
                      meta.get(META_TEAM_KIND, ""))


def allow_insecure_http(ws: Workspace) -> None:
    """The user allows plain http to this workspace's hub from now on (for a workspace that
    was enrolled before the address check, without asking the hub for a new code)."""
    enrollment(ws)
    with ws.transaction():
        ws.set_meta(META_INSECURE_HTTP, "1")


def client_for(ws: Workspace, transport: Any = None) -> HubClient:
    """A client for the workspace's hub with its device token."""
    facts = enrollment(ws)
    token = TokenStore(ws.path, ws.device_id).load()
    if not token:
        raise DeviceRevoked("unauthorized", _(
            "The device token of this workspace is missing; enroll it again with a new "
            "code. All data on this computer is kept."))
    return HubClient(facts.server_url, token, transport=transport,
                     allow_insecure_http=facts.allow_insecure_http)


def status(ws: Workspace) -> dict[str, Any]:
    """What the status bar and `dxkit sync status` show."""
    meta = ws.meta()
    enrolled = bool(meta.get(META_SERVER) and meta.get(META_DEVICE))
    team = None
    if enrolled:
        team = {"id": meta.get(META_TEAM, ""), "province_code": meta.get(META_PROVINCE, ""),
                "commune_code": meta.get(META_COMMUNE, ""), "hamlet": meta.get(META_HAMLET, ""),
                "kind": meta.get(META_TEAM_KIND, "")}
    conn = ws.conn
    return {
        "enrolled": enrolled,
        "server": meta.get(META_SERVER),
        "allow_insecure_http": meta.get(META_INSECURE_HTTP) == "1",
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
    log.info("sync started")
    try:
        report = _sync(ws, client, progress)
    except BaseException as exc:
        log.warning("sync ended without finishing: %s", type(exc).__name__)
        raise
    log.info("sync ended: pushed=%d received=%d pulled=%d conflicts=%d quarantined=%d "
             "waiting=%d requests=%d", report.pushed, report.received, report.pulled,
             report.conflicts, report.quarantined, report.held_back, report.requests)
    return report


def _sync(ws: Workspace, client: HubClient | None, progress: Progress | None) -> SyncReport:
    enrollment(ws)
    own_client = client is None
    hub = client_for(ws) if client is None else client
    start = (hub.requests, hub.bytes_sent, hub.bytes_received)
    conflicts_before = _last_id(ws, "sync_conflicts")
    report = SyncReport()
    clocks.before_sync(ws)  # a clock nobody can believe is mended before anything moves
    if not ws.meta().get("commune_code"):
        with ws.transaction():
            _take_team_place(ws)  # enrolled before enrollments set the place
    try:
        packs_marker = _pull(ws, hub, report, progress)
        clocks.requeue_refused(ws)  # after the pull: the hub's time is fresh
        _requeue_waiting(ws)
        _push(ws, hub, report, progress)
        _fetch_team_key(ws, hub)
        _fetch_certificate_key(ws, hub)
        _receive_course_packs(ws, hub, report, packs_marker, progress)
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
        clocks.remember_hub_time(ws)
        tx.conn.execute("DELETE FROM meta WHERE key = ?", (META_REFUSED,))
    return report


# -- pull ----------------------------------------------------------------------------------------
def _pull(ws: Workspace, hub: HubClient, report: SyncReport, progress: Progress | None
          ) -> int | None:
    """Pull every table; returns the hub's course-pack counter (None: the hub has published
    no pack, or predates them)."""
    tables = dependency_order()
    meta = ws.meta()
    cursors = {table: int(meta.get(CURSOR_PREFIX + table, 0)) for table in tables}
    known = int(meta.get(META_HIGH_WATER, -1))
    _checkpoint(progress, _("Receiving changes from the hub"))
    first = hub.pull(tables[0], after=cursors[tables[0]], limit=PULL_LIMIT)
    clocks.learn_hub_time(ws, hub.server_ms)  # before any record is believed or not
    marker = first.get("course_packs")
    packs_marker = marker if isinstance(marker, int) and not isinstance(marker, bool) \
        else None
    high_water = first["high_water"]
    if high_water == known and not first["records"]:
        return packs_marker  # nothing new anywhere since the last complete pull: one request
    if high_water < max(cursors.values()):
        # The hub's counter went back (restored from an older backup): read everything again;
        # applying what we already have is a no-op.
        cursors = dict.fromkeys(tables, 0)
        first = hub.pull(tables[0], after=0, limit=PULL_LIMIT)
        high_water = first["high_water"]
    pending: Mapping[str, Any] | None = first
    with _OneAhead() as ahead:
        for position, table in enumerate(tables):
            cursor = cursors[table]
            while True:
                answer = pending if pending is not None else ahead.take()
                pending = None
                if answer["more"] and answer["next"] <= cursor:
                    raise HubFailed(_("The hub sent a pull answer that does not move forward; "
                                      "try again later."))
                # Ask for the next page before applying this one: the hub reads and sends
                # it while this laptop writes.
                if answer["more"]:
                    ahead.send(hub.pull, table, after=answer["next"], upto=high_water,
                               limit=PULL_LIMIT)
                elif position + 1 < len(tables):
                    following = tables[position + 1]
                    ahead.send(hub.pull, following, after=cursors[following],
                               upto=high_water, limit=PULL_LIMIT)
                cursor = _apply_batch(ws, table, answer, report)
                _checkpoint(progress, counted(report.received, "Received {count} record",
                                              "Received {count} records"))
                if not answer["more"]:
                    break
    with ws.transaction():
        ws.set_meta(META_HIGH_WATER, str(high_water))
    return packs_marker


def _apply_batch(ws: Workspace, table: str, answer: Mapping[str, Any],
                 report: SyncReport) -> int:
    """Apply one pulled batch and save the table's cursor, in one transaction."""
    tally = Applied()
    report.changes.merge(apply_pulled_page(ws, table, answer["records"], answer["next"], tally))
    report.received += tally.received
    report.pulled += tally.applied
    report.already_had += tally.duplicate
    report.quarantined += tally.quarantined
    return int(answer["next"])


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
    sent: _Batch | None = None  # the batch the hub is working on
    with _OneAhead() as ahead:
        while index < len(keys) or sent is not None:
            ready: _Batch | None = None
            if index < len(keys):
                # Read and encode the next batch while the hub stores the one sent.
                _checkpoint(progress, _("Sending changes: {done} of {total}").format(
                    done=index, total=len(keys)), index, len(keys))
                wanted = max(1, min(PUSH_MAX_RECORDS, int(PUSH_MAX_BYTES * 0.9 / per_record)))
                ready = _next_batch(conn, keys[index:index + wanted])
                index += ready.taken
                if ready.records:
                    per_record = max(1.0, len(ready.body) / len(ready.records))
            if sent is not None:
                answer = ahead.take()
                _settle(ws, sent.keys, sent.records, answer["results"], entries, sent.orphans,
                        report, sent.held)
                sent = None
            if ready is not None and not ready.records:
                _settle(ws, [], [], [], entries, ready.orphans, report, ready.held)
            elif ready is not None:
                ahead.send(hub.push, ready.records, body=ready.body)
                sent = ready
    _checkpoint(progress, _("Sending changes: {done} of {total}").format(
        done=len(keys), total=len(keys)), len(keys), len(keys))


@dataclass
class _Batch:
    """One push batch ready to send: its outbox keys, records and gzip body; `orphans` are
    keys whose row is gone (nothing to send); `held` are (key, record, reason) of rows held
    back unsent; `taken` counts the keys it consumed."""

    keys: list[tuple[str, str]]
    records: list[dict[str, Any]]
    body: bytes
    orphans: list[tuple[str, str]]
    taken: int
    held: list[tuple[tuple[str, str], dict[str, Any], str]]


def _next_batch(conn: sqlite3.Connection, taken: list[tuple[str, str]]) -> _Batch:
    found = _read_records(conn, taken)
    unsendable = {key: reason for key, record in found.items()
                  if (reason := _unsendable(key[0], record)) is not None}
    keys = [key for key in taken if key in found and key not in unsendable]
    records = [found[key] for key in keys]
    body = encode_body({"records": records}) if records else b""
    while len(body) > PUSH_MAX_BYTES and len(records) > 1:
        keep = max(1, min(len(records) - 1,
                          int(len(records) * PUSH_MAX_BYTES * 0.9 / len(body))))
        records, keys = records[:keep], keys[:keep]
        body = encode_body({"records": records})
        # The rest go in the next batch, from just after the last record kept.
        taken = taken[:taken.index(keys[-1]) + 1]
    orphans = [key for key in taken if key not in found]  # gone: nothing left to send
    held = [(key, found[key], unsendable[key]) for key in taken if key in unsendable]
    return _Batch(keys, records, body, orphans, len(taken), held)


class _OneAhead:
    """At most one hub request in flight on a worker thread while this thread works on the
    previous answer, so the hub's work and the laptop's overlap (two cores, two processes).
    A request still in flight when the sync stops (an error, a cancel) is abandoned."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dxkit-sync")
        self._next: Future[Any] | None = None

    def send(self, call: Callable[..., Any], *args: Any, **options: Any) -> None:
        self._next = self._pool.submit(call, *args, **options)

    def take(self) -> Any:
        if self._next is None:
            raise RuntimeError("nothing was sent")
        future, self._next = self._next, None
        return future.result()

    def __enter__(self) -> _OneAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _settle(ws: Workspace, keys: list[tuple[str, str]], records: list[dict[str, Any]],
            results: list[dict[str, Any]], entries: Mapping[tuple[str, str], list[int]],
            orphans: list[tuple[str, str]], report: SyncReport,
            held: list[tuple[tuple[str, str], dict[str, Any], str]]) -> None:
    """One transaction per batch: every sent row leaves the outbox (only the entries read
    before it was sent: an edit made meanwhile stays queued); refusals, and the rows held
    back unsent, are quarantined."""
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
                quarantine(tx.conn, record, "push", _refusal(result))
                report.quarantined += 1
        for _key, record, reason in held:
            quarantine(tx.conn, record, "push", reason)
            report.quarantined += 1
        doomed = [(seq,) for key in (*keys, *orphans, *(key for key, _r, _w in held))
                  for seq in entries[key]]
        tx.conn.executemany("DELETE FROM outbox WHERE seq = ?", doomed)


WAITING = "unknown_parent"  # refused until the hub has the row (or hamlet) it belongs to


def _requeue_waiting(ws: Workspace) -> None:
    """Rows the hub refused because the row they belong to had not reached it yet (a person
    of a household another laptop gave this one by USB bundle, say) go out again with each
    push, until the hub takes them or refuses them for good."""
    waiting = ws.conn.execute("SELECT id, table_name, row_id FROM sync_quarantine WHERE "
                              "direction = 'push' AND reason = ?", (WAITING,)).fetchall()
    if not waiting:
        return
    with ws.transaction() as tx:
        for entry_id, table, row_id in waiting:
            if table in REGISTRY:
                tx.resend(table, row_id)
            tx.conn.execute("DELETE FROM sync_quarantine WHERE id = ?", (entry_id,))


def _unsendable(table: str, record: Mapping[str, Any]) -> str | None:
    """Why a row of this laptop cannot even be sent, or None. An infinite number (stored
    before types were checked) is not JSON: it would make the whole request invalid, every
    time. Any other value outside its field's type is sent, and the hub refuses that record
    alone with the same reason. The scan for floats runs in C: it is on every pushed row."""
    values = record["fields"].values()
    if float not in map(type, values) or all(
            math.isfinite(value) for value in values if type(value) is float):
        return None
    return record_problem(REGISTRY[table], record)


def _refusal(result: Mapping[str, Any]) -> str:
    """A push result's reason as the quarantine keeps it: "too_long:notes" when the hub names
    the field whose value does not fit its type (as this laptop's own check would)."""
    reason, name = str(result.get("reason") or result["status"]), result.get("field")
    return f"{reason}:{name}" if isinstance(name, str) else reason


# -- course packs ---------------------------------------------------------------------------
def _receive_course_packs(ws: Workspace, hub: HubClient, report: SyncReport,
                          marker: int | None, progress: Progress | None) -> None:
    """Install the course packs the province published that this laptop lacks
    (hub/course_packs.py). Only when the hub's counter moved since the last look: a sync with
    nothing new asks nothing. Each pack is downloaded within a size cap, checked against the
    hub's list (size, sha256, then id, version and content digest) and in full by read_pack
    with this workspace's indicators, and only then installed; a pack refused here is a note
    of the report, not a failed sync, and is not downloaded again until the hub publishes
    something new. A lost connection fails the sync as any request does: the next sync
    looks again."""
    if marker is None or ws.meta().get(META_COURSE_PACKS_SEEN) == str(marker):
        return
    _checkpoint(progress, _("Receiving course packs from the hub"))
    have = {(row[0], row[1]): row[2] for row in ws.conn.execute(
        "SELECT course_id, version, digest FROM course_packs")}
    for listed in hub.course_packs():
        course_id, version = str(listed["id"]), str(listed["version"])
        if have.get((course_id, version)) == listed["digest"]:
            continue
        if (course_id, version) in have:
            _note(report, _("The hub's course {course} version {version} differs from the "
                            "one installed here; the installed one is kept.").format(
                                course=course_id, version=version))
            continue
        problem = _install_course_pack(ws, hub, listed)
        if not isinstance(problem, str):
            report.courses_installed.append(f"{course_id} {version}")
            report.course_titles[f"{course_id} {version}"] = problem.title
        else:
            _note(report, _("The course pack {course} version {version} from the hub was not "
                            "installed: {problem}").format(course=course_id, version=version,
                                                            problem=problem))
    with ws.transaction():
        ws.set_meta(META_COURSE_PACKS_SEEN, str(marker))


def _install_course_pack(ws: Workspace, hub: HubClient, listed: Mapping[str, Any]
                         ) -> CourseSummary | str:
    """Download, check and install one listed pack: what was installed, else why not (a
    sentence)."""
    size = int(listed["size"])
    if size > MAX_COURSE_PACK_BYTES:
        return _("it is larger than {size} MB.").format(size=MAX_COURSE_PACK_BYTES // 2**20)
    with tempfile.TemporaryDirectory(prefix="dxkit-pack-") as folder:
        target = Path(folder) / "pack.zip"
        digest = hashlib.sha256()
        with target.open("wb") as out:
            def write(piece: bytes) -> None:
                digest.update(piece)
                out.write(piece)
            try:
                got = hub.download_pack(str(listed["id"]), str(listed["version"]), write,
                                        max_bytes=size,
                                        seconds=REQUEST_DEADLINE + size / PACK_BYTES_PER_SECOND)
            except HubAnswerTooLarge:
                return _("the hub sent more bytes than its list says.")
            except HubRefused as exc:
                return exc.hub_message or str(exc)
        if got != size or digest.hexdigest() != listed["sha256"]:
            return _("the bytes the hub sent do not match its list (damaged or changed on "
                     "the way).")
        codes = [indicator.code for indicator in ws.catalog.indicators()]
        try:
            pack = read_pack(target, codes)  # never trust the hub blindly
        except PackRefused as refused:
            return "; ".join(str(problem) for problem in refused.problems)
        if (pack.id, pack.version, pack.digest) != (listed["id"], listed["version"],
                                                     listed["digest"]):
            return _("its content is not what the hub's list says.")
        try:
            return ws.lessons.import_pack(target).value
        except DxError as exc:
            return str(exc)


def report_notes(report: SyncReport) -> list[str]:
    """What a sync's report says beyond its counts, one line each: the courses it installed
    (by title) and its notes. The command line and the app both show these."""
    lines = [_("Installed course: {title}").format(
        title=report.course_titles.get(installed) or installed)
        for installed in report.courses_installed]
    return lines + list(report.notes)


def _note(report: SyncReport, sentence: str) -> None:
    log.warning("sync note: %s", sentence)
    report.notes.append(sentence)


# -- plumbing ---------------------------------------------------------------------------------
def _read_records(conn: sqlite3.Connection, keys: list[tuple[str, str]]
                  ) -> dict[tuple[str, str], dict[str, Any]]:
    """The records of these (table, id) keys, one read per table."""
    by_table: dict[str, list[str]] = {}
    for table, row_id in keys:
        by_table.setdefault(table, []).append(row_id)
    return {(table, row_id): record for table, ids in by_table.items()
            for row_id, record in records_of(conn, table, ids).items()}


def _last_id(ws: Workspace, table: str) -> int:
    return int(ws.conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0])


def _checkpoint(progress: Progress | None, label: str, value: int | None = None,
                maximum: int | None = None) -> None:
    if progress is not None:
        progress.update(value=value, maximum=maximum, label=label)  # raises Cancelled
