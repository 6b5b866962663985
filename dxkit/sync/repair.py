"""Find and mend divergence between this laptop and the hub, table by table.

Run after a sync (outbox empty, pulls up to date): each side's per-bucket digest
(dxkit/core/digest.py) is compared; only differing buckets have their (id, hash) lists
exchanged; records the hub holds differently are fetched and merged like a pull, and rows the
hub lacks or holds older are queued to be sent again, so the next push merges them there.
Nothing is ever deleted or overwritten wholesale on either side: both directions merge per
field (mutable rows) or deduplicate (events), as every sync does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dxkit.core.digest import Digest, local_digest, local_hashes
from dxkit.core.i18n import _
from dxkit.core.progress import Progress
from dxkit.core.sync_review import sync_changes
from dxkit.core.synced import dependency_order
from dxkit.sync.apply import apply_records
from dxkit.sync.client import HubClient, HubFailed
from dxkit.sync.engine import SyncReport, client_for, enrollment, sync
from dxkit.workspace import Workspace

FETCH_BATCH = 500
CHECK_EVERY = dt.timedelta(days=1)  # how often the app compares digests after a sync
META_LAST_CHECK = "sync_last_check"


@dataclass
class RepairReport:
    tables_checked: int = 0
    tables_differing: list[str] = field(default_factory=list)
    buckets_differing: int = 0
    fetched: int = 0        # records taken from the hub and merged here
    requeued: int = 0       # rows queued to be sent to the hub again
    requests: int = 0

    @property
    def in_step(self) -> bool:
        return not self.tables_differing

    def to_dict(self) -> dict[str, Any]:
        return {"tables_checked": self.tables_checked,
                "tables_differing": self.tables_differing,
                "buckets_differing": self.buckets_differing, "fetched": self.fetched,
                "requeued": self.requeued, "requests": self.requests,
                "in_step": self.in_step}


def check(ws: Workspace, client: HubClient | None = None, *, repair: bool = True,
          tables: Sequence[str] | None = None,
          progress: Progress | None = None) -> RepairReport:
    """Compare every synced table with the hub; with `repair`, mend what differs. The rows
    queued again go out with the next sync."""
    enrollment(ws)
    hub = client_for(ws) if client is None else client
    start = hub.requests
    report = RepairReport()
    names = list(tables) if tables is not None else dependency_order()
    try:
        totals = _hub_totals(hub)
        for index, table in enumerate(names):
            if progress is not None:
                progress.update(value=index, maximum=len(names),
                                label=_("Comparing with the hub: {table}").format(table=table))
                progress.check()
            ours = local_digest(ws.conn, table)
            report.tables_checked += 1
            if totals.get(table) == ours.total:
                continue
            buckets = ours.differing_buckets(_hub_digest(hub, table))
            if not buckets:
                continue
            report.tables_differing.append(table)
            report.buckets_differing += len(buckets)
            if repair:
                if report.tables_differing == [table]:
                    ws.backup_before("repair")  # once, before the first mend
                for bucket in buckets:
                    _mend_bucket(ws, hub, table, bucket, report)
    finally:
        report.requests = hub.requests - start
        if client is None:
            hub.close()
    return report


def sync_with_daily_check(ws: Workspace, progress: Progress | None = None,
                          every: dt.timedelta = CHECK_EVERY) -> SyncReport:
    """A sync, and after the first successful one of each day a digest check that mends any
    divergence (then one more sync sends what was queued again). What the app runs."""
    report = sync(ws, progress=progress)
    last = ws.meta().get(META_LAST_CHECK)
    if last and ws.now() - dt.datetime.fromisoformat(last) < every:
        return report
    found = check(ws, progress=progress)
    with ws.transaction():
        ws.set_meta(META_LAST_CHECK, ws.now().isoformat())
    if found.in_step:
        return report
    if found.requeued:
        report = sync(ws, progress=progress)
    report.changes.merge(sync_changes(everything=True))  # fetched rows: screens look again
    return report


def _mend_bucket(ws: Workspace, hub: HubClient, table: str, bucket: str,
                 report: RepairReport) -> None:
    theirs = _hub_bucket(hub, table, bucket)
    ours = dict(local_hashes(ws.conn, table, bucket))
    wanted = [row_id for row_id, digest in theirs.items() if ours.get(row_id) != digest]
    for start in range(0, len(wanted), FETCH_BATCH):
        records = hub.fetch(table, wanted[start:start + FETCH_BATCH])
        with ws.transaction() as tx:
            apply_records(tx, table, records)
        report.fetched += len(records)
    # After merging, what still differs is newer here (or unknown there): send it again.
    ours = dict(local_hashes(ws.conn, table, bucket))
    stale = [row_id for row_id, digest in ours.items() if theirs.get(row_id) != digest]
    if stale:
        with ws.transaction() as tx:
            report.requeued += sum(tx.resend(table, row_id) for row_id in stale)


# -- wire ------------------------------------------------------------------------------------------
def _hub_totals(hub: HubClient) -> dict[str, str]:
    tables = hub.digest().get("tables")
    if not isinstance(tables, dict) or not all(isinstance(v, str) for v in tables.values()):
        raise _malformed()
    return tables


def _hub_digest(hub: HubClient, table: str) -> Digest:
    answer = hub.digest(table)
    try:
        return Digest.from_dict(answer)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise _malformed() from None


def _hub_bucket(hub: HubClient, table: str, bucket: str) -> dict[str, str]:
    rows = hub.digest(table, bucket).get("rows")
    if not isinstance(rows, list) or not all(
            isinstance(r, list) and len(r) == 2 and all(isinstance(v, str) for v in r)
            for r in rows):
        raise _malformed()
    return dict(rows)


def _malformed() -> HubFailed:
    return HubFailed(_("The hub's answer to a digest request is not what the protocol "
                       "says; nothing was changed. Try again later."))
