"""Digests of synced tables: how a laptop and the hub find out, cheaply, whether they hold the
same records — and which ones differ — without sending the records.

Every record has a hash of its wire form (table, id, kind, fields, and clocks or created_at;
not the device id, which the hub derives). Records fall into 256 buckets by the last two
characters of their id (ids end in random hex). A bucket's digest is its record count and the
sum of its records' hashes mod 2^128: order does not matter, both sides compute it the same
way, and one differing record changes it. Comparing per-bucket digests narrows a divergence to
a few buckets; comparing those buckets' (id, hash) lists names the records. Repair then merges
them like any sync (pull the hub's version, re-send ours) and never wipes either side.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from dxkit.core.synced import SHIPPED_CLOCK, field_clocks, synced_table, wire_fields

MODULUS = 1 << 128


def record_hash(record: Mapping[str, Any]) -> str:
    """32 hex digits identifying the content of a wire record."""
    content: dict[str, Any] = {"table": record["table"], "id": record["id"],
                               "kind": record["kind"], "fields": record["fields"]}
    if record["kind"] == "mutable":
        content["clocks"] = record["clocks"]
    else:
        content["created_at"] = record["created_at"]
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def bucket_of(row_id: str) -> str:
    return row_id[-2:].lower()


@dataclass
class Digest:
    """Per-bucket "count:sum" of one table in one scope."""

    count: int = 0
    buckets: dict[str, str] = field(default_factory=dict)
    total: str = "0:" + "0" * 32  # "count:sum" over the whole table

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "total": self.total,
                "buckets": dict(sorted(self.buckets.items()))}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Digest:
        return cls(int(data["count"]), {str(k): str(v) for k, v in data["buckets"].items()},
                   str(data["total"]))

    def differing_buckets(self, other: Digest) -> list[str]:
        names = set(self.buckets) | set(other.buckets)
        return sorted(b for b in names if self.buckets.get(b) != other.buckets.get(b))


def summarize(pairs: Iterable[tuple[str, str]]) -> Digest:
    """The digest of (id, hash) pairs."""
    counts: dict[str, int] = {}
    sums: dict[str, int] = {}
    for row_id, digest in pairs:
        bucket = bucket_of(row_id)
        counts[bucket] = counts.get(bucket, 0) + 1
        sums[bucket] = (sums.get(bucket, 0) + int(digest, 16)) % MODULUS
    count, whole = sum(counts.values()), sum(sums.values()) % MODULUS
    return Digest(count, {b: f"{counts[b]}:{sums[b]:032x}" for b in counts},
                  f"{count}:{whole:032x}")


def local_hashes(conn: sqlite3.Connection, table: str, bucket: str | None = None
                 ) -> Iterator[tuple[str, str]]:
    """(id, hash) of the rows this laptop shares with the hub: not the shipped defaults
    nobody edited (never sent), not rows waiting in the outbox (not sent yet) and not
    quarantined ones (known to differ)."""
    spec = synced_table(table)
    held_back = {row[0] for row in conn.execute(
        "SELECT row_id FROM outbox WHERE table_name = ? UNION "
        "SELECT row_id FROM sync_quarantine WHERE table_name = ?", (table, table))}
    names = wire_fields(spec)
    for row in conn.execute(f"SELECT * FROM {table}"):
        row_id = row["id"]
        if row_id in held_back or (bucket is not None and bucket_of(row_id) != bucket):
            continue
        record: dict[str, Any] = {"table": table, "id": row_id, "kind": spec.kind,
                                  "fields": {name: row[name] for name in names}}
        if spec.kind == "mutable":
            clocks = field_clocks(table, row)
            if all(stamp == SHIPPED_CLOCK for stamp in clocks.values()):
                continue
            record["clocks"] = clocks
        else:
            record["created_at"] = row["created_at"]
        yield row_id, record_hash(record)


def local_digest(conn: sqlite3.Connection, table: str) -> Digest:
    return summarize(local_hashes(conn, table))
