"""The hub's side of digests (dxkit/core/digest.py): per-bucket digests of a table in a
device's scope, a bucket's (id, hash) list, and records fetched by id for repair. The scope
is exactly a pull's (hub/areas.py: the team's own rows, the published ones, and the rows of
its hamlets): a device learns nothing of rows it could not pull."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from dxkit.core.digest import Digest, bucket_of, record_hash, summarize
from dxkit.core.merge import merge_mutable
from dxkit.core.synced import synced_table
from dxkit.sync.hub.areas import area_filter, read_areas
from dxkit.sync.hub.store import Device, HubStore, stored_record

MAX_FETCH_IDS = 500


def scope_hashes(store: HubStore, device: Device, table: str, bucket: str | None = None
                 ) -> Iterator[tuple[str, str]]:
    """(id, hash) of the records of `table` the device may read, in one snapshot."""
    with store.database.snapshot() as conn:
        scope = read_areas(conn, device.team_id, synced_table(table))
        rows = conn.execute(f"SELECT * FROM records WHERE table_name = ? AND "
                            f"{area_filter(scope)} ORDER BY team_id",
                            (table, *scope)).fetchall() if scope else []
    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        if bucket is not None and bucket_of(row["row_id"]) != bucket:
            continue
        record = stored_record(row)
        known = merged.get(record["id"])
        merged[record["id"]] = record if known is None else _combined(known, record)
    for row_id, record in merged.items():
        yield row_id, record_hash(record)


def _combined(one: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """A published row and the team's own copy, merged per field as the laptop merges them
    (so both sides hash the same record)."""
    result = merge_mutable(one["fields"], one["clocks"], other["fields"], other["clocks"],
                           synced_table(one["table"]).rules)
    return {**one, "fields": result.fields, "clocks": result.clocks}


def table_digest(store: HubStore, device: Device, table: str) -> Digest:
    return summarize(scope_hashes(store, device, table))


def all_totals(store: HubStore, device: Device, tables: Sequence[str]) -> dict[str, str]:
    """Each table's whole-table "count:sum" in the device's scope (one quiet check)."""
    return {table: table_digest(store, device, table).total for table in tables}


def bucket_rows(store: HubStore, device: Device, table: str, bucket: str) -> list[list[str]]:
    return sorted([row_id, digest] for row_id, digest in
                  scope_hashes(store, device, table, bucket))


def fetch(store: HubStore, device: Device, table: str, ids: Sequence[str]
          ) -> list[dict[str, Any]]:
    """The device-readable records of `table` among `ids` (others are silently absent: a
    device learns nothing about rows outside its scope)."""
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    with store.database.snapshot() as conn:
        scope = read_areas(conn, device.team_id, synced_table(table))
        rows = conn.execute(
            f"SELECT * FROM records WHERE table_name = ? AND {area_filter(scope)} "
            f"AND row_id IN ({marks}) ORDER BY seq",
            (table, *scope, *ids)).fetchall() if scope else []
    return [stored_record(row) for row in rows]
