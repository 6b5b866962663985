"""The hub's own database: teams, enrollment codes, devices and every synced record.

An embedded SQLite file (WAL) by default, or a PostgreSQL database given a postgresql:// URL
(database.py hides the difference); it has its own numbered migrations and is not a dxkit
workspace. Records are stored generically — one row per (table, id) holding the fields as JSON
— so the hub needs no schema change when a feature registers a new synced table. The SQL is
plain (no engine-only functions, explicit counters instead of AUTOINCREMENT).

Every change to a stored record takes a new value of one hub-wide counter (`seq`) inside the
write transaction. Writers are serialised (BEGIN IMMEDIATE on SQLite, an advisory lock on
PostgreSQL: database.py), so seq values become visible in order and a pull up to a high-water
mark never misses a row that commits later with a smaller seq.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeGuard

import dxkit.workspace  # noqa: F401  (installs every domain's synced tables)
from dxkit.core.errors import DxError
from dxkit.core.fields import ID_PATTERN
from dxkit.core.fields import storable_text as _text_storable
from dxkit.core.i18n import _
from dxkit.core.merge import merge_event, merge_mutable
from dxkit.core.synced import REGISTRY, SyncedTable, field_problem
from dxkit.farm.trace_ids import team_trace_key
from dxkit.sync.hub.clocks import Bound, ClockRefused, believed, bound_at, check_clocks
from dxkit.sync.hub.database import Conn, HubDatabase, Migration, open_database

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no I/L/1, O/0: read aloud and typed
CODE_LENGTH = 10
HLC_PATTERN = re.compile(r"^[0-9a-f]{12}-[0-9a-f]{4}-[0-9A-Za-z]+$")
SEEN_EVERY = dt.timedelta(minutes=1)  # last_seen_at is refreshed at most this often
PUBLISHED = "*"  # the team id of records the hub publishes to every team (reference data)
DEFAULT_TOKEN_DAYS = 365.0  # a device token's validity from enrollment or renewal


def m0001_initial(conn: Conn) -> None:
    conn.script("""
    CREATE TABLE teams (
        id TEXT PRIMARY KEY, province_code INTEGER NOT NULL, commune_code INTEGER NOT NULL,
        hamlet TEXT NOT NULL, created_at TEXT NOT NULL);

    CREATE TABLE enroll_codes (
        code_hash TEXT PRIMARY KEY, team_id TEXT NOT NULL REFERENCES teams(id),
        created_at TEXT NOT NULL, expires_at TEXT NOT NULL, used_at TEXT, device_id TEXT);

    CREATE TABLE devices (
        id TEXT PRIMARY KEY, team_id TEXT NOT NULL REFERENCES teams(id), name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, last_seen_at TEXT,
        revoked_at TEXT);
    CREATE INDEX devices_team ON devices(team_id);

    CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
    INSERT INTO counters (name, value) VALUES ('seq', 0);

    -- fields: JSON of the wire fields; clocks: JSON field -> HLC (mutable) or NULL (event);
    -- created_at: the event's HLC (NULL for mutable); device_id: the device of the latest
    -- edit as the record names it; pushed_by: the hub device that last changed the row.
    CREATE TABLE records (
        table_name TEXT NOT NULL, row_id TEXT NOT NULL, team_id TEXT NOT NULL,
        kind TEXT NOT NULL, fields TEXT NOT NULL, clocks TEXT, created_at TEXT,
        device_id TEXT NOT NULL, pushed_by TEXT NOT NULL, seq BIGINT NOT NULL UNIQUE,
        PRIMARY KEY (table_name, row_id));
    CREATE INDEX records_pull ON records(team_id, table_name, seq);
    """)


def m0002_token_expiry(conn: Conn) -> None:
    """Tokens expire; a device enrolled before this gets a year from its enrollment."""
    conn.execute("ALTER TABLE devices ADD COLUMN expires_at TEXT")
    for row in conn.execute("SELECT id, created_at FROM devices").fetchall():
        expires = dt.datetime.fromisoformat(row["created_at"]) + dt.timedelta(
            days=DEFAULT_TOKEN_DAYS)
        conn.execute("UPDATE devices SET expires_at = ? WHERE id = ?",
                     (_stamp(expires), row["id"]))


def m0003_pushed_exact(conn: Conn) -> None:
    """pushed_exact = 1: the stored row is exactly what `pushed_by` sent, so a pull by that
    device skips it (no echo). Older rows keep 0 and are sent back once, as before."""
    conn.execute("ALTER TABLE records ADD COLUMN pushed_exact INTEGER NOT NULL DEFAULT 0")


def m0004_scoped_records(conn: Conn) -> None:
    """Records are keyed per scope: a team's copy of a published row (team id "*") lives
    beside it instead of overwriting it (reference data, hub/reference.py)."""
    if conn.postgres:
        conn.execute("ALTER TABLE records DROP CONSTRAINT records_pkey")
        conn.execute("ALTER TABLE records ADD PRIMARY KEY (table_name, row_id, team_id)")
        return
    columns = [row[1] for row in conn.execute("PRAGMA table_info(records)").fetchall()]
    listed = ", ".join(columns)
    conn.script("""
    CREATE TABLE records_scoped (
        table_name TEXT NOT NULL, row_id TEXT NOT NULL, team_id TEXT NOT NULL,
        kind TEXT NOT NULL, fields TEXT NOT NULL, clocks TEXT, created_at TEXT,
        device_id TEXT NOT NULL, pushed_by TEXT NOT NULL, seq BIGINT NOT NULL UNIQUE,
        pushed_exact INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (table_name, row_id, team_id));
    """)
    conn.execute(f"INSERT INTO records_scoped ({listed}) SELECT {listed} FROM records")
    indexes = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND "
                           "tbl_name = 'records' AND sql IS NOT NULL").fetchall()
    conn.execute("DROP TABLE records")
    conn.execute("ALTER TABLE records_scoped RENAME TO records")
    for (sql,) in indexes:
        conn.execute(sql)


def m0005_trace_namespaces(conn: Conn) -> None:
    """Trace URLs name the team (dxkit/farm/trace_ids.py): each team gets its trace key, and
    the owner of every lot code published so far is recorded, so labels printed before carry
    on resolving to that team's lot even once another team publishes the same code."""
    conn.execute("ALTER TABLE teams ADD COLUMN trace_key TEXT")
    for row in conn.execute("SELECT id FROM teams").fetchall():
        conn.execute("UPDATE teams SET trace_key = ? WHERE id = ?",
                     (team_trace_key(row["id"]), row["id"]))
    # Keys are 40 bits: two of a province's few thousand teams sharing one is a one-in-a-
    # million chance, and the index would then stop the migration rather than merge them.
    conn.execute("CREATE UNIQUE INDEX teams_trace_key ON teams(trace_key)")
    conn.execute("CREATE TABLE legacy_trace_owners (code TEXT PRIMARY KEY, "
                 "team_id TEXT NOT NULL)")
    # Before namespaces the hub refused a second team's row of a code, so there is one owner
    # each; were there two (a row published into a team by hand), the older row owns it.
    conn.execute("INSERT INTO legacy_trace_owners (code, team_id) SELECT row_id, team_id "
                 "FROM records WHERE table_name = 'published_traces' AND team_id <> ? "
                 "ORDER BY seq ON CONFLICT (code) DO NOTHING", (PUBLISHED,))


def m0006_team_bundle_keys(conn: Conn) -> None:
    """Every team gets a key for its USB bundles (dxkit/sync/seal.py); devices receive it at
    enrollment, and devices enrolled before this ask for it at their next sync."""
    conn.execute("ALTER TABLE teams ADD COLUMN bundle_key TEXT")
    for row in conn.execute("SELECT id FROM teams").fetchall():
        conn.execute("UPDATE teams SET bundle_key = ? WHERE id = ?",
                     (new_bundle_key(), row["id"]))


def new_bundle_key() -> str:
    """256 random bits, URL-safe base64 (as the wire and the keyring carry it)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


MIGRATIONS = (Migration("0001_initial", m0001_initial),
              Migration("0002_token_expiry", m0002_token_expiry),
              Migration("0003_pushed_exact", m0003_pushed_exact),
              Migration("0004_scoped_records", m0004_scoped_records),
              Migration("0005_trace_namespaces", m0005_trace_namespaces),
              Migration("0006_team_bundle_keys", m0006_team_bundle_keys))


class HubError(DxError):
    """A refusal with a machine code for the wire (docs/sync-protocol.md) and a sentence."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Team:
    id: str
    province_code: int
    commune_code: int
    hamlet: str
    created_at: str
    trace_key: str = ""  # the team's part of its trace URLs (dxkit/farm/trace_ids.py)

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.id, "province_code": self.province_code,
                "commune_code": self.commune_code, "hamlet": self.hamlet}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Device:
    id: str
    team_id: str
    name: str
    created_at: str
    last_seen_at: str | None
    revoked_at: str | None
    expires_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PushResult:
    results: list[dict[str, Any]]
    cursor: int


@dataclass(frozen=True)
class PullResult:
    records: list[dict[str, Any]]
    next: int
    more: bool
    high_water: int


class Rejected(Exception):
    """A record that cannot be stored; `reason` goes back to the device, with the `field`
    whose value does not fit its declared type, if that is the reason."""

    def __init__(self, reason: str, field: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.field = field

    def to_wire(self) -> dict[str, str]:
        refusal = {"status": "rejected", "reason": self.reason}
        return refusal if self.field is None else {**refusal, "field": self.field}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalize_code(code: str) -> str:
    """What the person typed, without dashes, spaces or case."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


class HubStore:
    """The hub database at `db` (a SQLite path or a postgresql:// URL); safe to share between
    threads (one connection each)."""

    def __init__(self, db: str | Path, now: Callable[[], dt.datetime] = _utc_now,
                 token_days: float = DEFAULT_TOKEN_DAYS):
        self.database: HubDatabase = open_database(db)
        self.now = now
        self.token_days = token_days
        self.database.migrate(MIGRATIONS)

    # -- connections and transactions --------------------------------------------------------
    @property
    def conn(self) -> Conn:
        """This thread's connection (for reads outside a transaction)."""
        return self.database.conn

    def close(self) -> None:
        self.database.close()

    # -- administration ----------------------------------------------------------------------
    def add_team(self, province_code: int, commune_code: int, hamlet: str) -> Team:
        with self.database.write() as conn:
            team = self._new_team(conn, province_code, commune_code, hamlet)
            conn.execute(
                "INSERT INTO teams (id, province_code, commune_code, hamlet, created_at, "
                "trace_key, bundle_key) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (team.id, team.province_code, team.commune_code, team.hamlet, team.created_at,
                 team.trace_key, new_bundle_key()))
        return team

    def _new_team(self, conn: Conn, province_code: int, commune_code: int,
                  hamlet: str) -> Team:
        """A team with a new id whose trace key no other team has (a clash of 40-bit keys
        is rare, but the one that clashed would share the other's trace URLs)."""
        while True:
            team_id = str(uuid.uuid4())
            key = team_trace_key(team_id)
            if conn.execute("SELECT 1 FROM teams WHERE trace_key = ?", (key,)).fetchone() is None:
                return Team(team_id, int(province_code), int(commune_code), hamlet.strip(),
                            _stamp(self.now()), key)

    def bundle_key(self, team_id: str) -> str:
        """The key the team's devices seal USB bundles with. Never in the Team value: team
        listings are printed and logged; this goes only to the team's own devices."""
        row = self.conn.execute("SELECT bundle_key FROM teams WHERE id = ?",
                                (team_id,)).fetchone()
        key = row["bundle_key"] if row is not None else None
        if not key:
            raise HubError("not_found", _("There is no team {id} on this hub.").format(
                id=team_id))
        return str(key)

    def team(self, team_id: str) -> Team:
        row = self.conn.execute("SELECT * FROM teams WHERE id = ?", (team_id,)).fetchone()
        if row is None:
            raise HubError("not_found", _("There is no team {id} on this hub.").format(
                id=team_id))
        return Team(row["id"], row["province_code"], row["commune_code"], row["hamlet"],
                    row["created_at"], row["trace_key"])

    def teams(self) -> list[Team]:
        rows = self.conn.execute("SELECT id FROM teams ORDER BY created_at, id").fetchall()
        return [self.team(row["id"]) for row in rows]

    def issue_code(self, team_id: str, ttl_hours: float = 72) -> tuple[str, str]:
        """A one-time enrollment code for the team, shown once: (code "ABCD-EFGH-JK",
        expires_at). Only its hash is stored."""
        self.team(team_id)
        plain = "".join(secrets.choice(CODE_ALPHABET) for _position in range(CODE_LENGTH))
        now = self.now()
        expires_at = _stamp(now + dt.timedelta(hours=ttl_hours))
        with self.database.write() as conn:
            conn.execute(
                "INSERT INTO enroll_codes (code_hash, team_id, created_at, expires_at) "
                "VALUES (?, ?, ?, ?)", (sha256(plain), team_id, _stamp(now), expires_at))
        return f"{plain[:4]}-{plain[4:8]}-{plain[8:]}", expires_at

    def enroll(self, code: str, device_name: str) -> tuple[str, str, Team]:
        """Use a code once: (device_id, bearer token, team). The token is stored hashed and
        is valid for `token_days`."""
        bad = HubError("bad_code", _("This enrollment code is unknown, already used or "
                                     "expired. Ask the hub administrator for a new one."))
        moment = self.now()
        now = _stamp(moment)
        expires_at = _stamp(moment + dt.timedelta(days=self.token_days))
        device_id, token = str(uuid.uuid4()), secrets.token_urlsafe(32)
        with self.database.write() as conn:
            row = conn.execute("SELECT * FROM enroll_codes WHERE code_hash = ?",
                               (sha256(normalize_code(code)),)).fetchone()
            if row is None or row["used_at"] is not None or row["expires_at"] <= now:
                raise bad
            conn.execute(
                "INSERT INTO devices (id, team_id, name, token_hash, created_at, last_seen_at, "
                "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (device_id, row["team_id"], _storable_name(device_name), sha256(token), now,
                 now, expires_at))
            conn.execute("UPDATE enroll_codes SET used_at = ?, device_id = ? "
                         "WHERE code_hash = ?", (now, device_id, row["code_hash"]))
            team_id = row["team_id"]
        return device_id, token, self.team(team_id)

    def authenticate(self, token: str) -> Device:
        row = self.conn.execute("SELECT * FROM devices WHERE token_hash = ?",
                                (sha256(token),)).fetchone()
        if row is None:
            raise HubError("unauthorized", _("This device is not enrolled on the hub (unknown "
                                             "token). Enroll it again with a new code."))
        if row["revoked_at"] is not None:
            raise HubError("device_revoked", _("This device was revoked by the hub "
                                               "administrator; it can no longer sync."))
        now = self.now()
        if _expired(row["expires_at"], now):
            raise HubError("token_expired", _(
                "This device's token expired on {date} UTC; the hub administrator can renew "
                "it (dxkit hub devices renew {id}).").format(
                    date=row["expires_at"], id=row["id"]))
        seen = row["last_seen_at"]
        if seen is None or dt.datetime.fromisoformat(seen) + SEEN_EVERY <= now:
            # One statement on its own: no need to queue behind the hub's writers.
            self.conn.execute("UPDATE devices SET last_seen_at = ? WHERE id = ?",
                              (_stamp(now), row["id"]))
        return _device(row)

    def list_devices(self, team_id: str | None = None) -> list[Device]:
        sql = "SELECT * FROM devices"
        params: tuple[str, ...] = ()
        if team_id:
            sql, params = sql + " WHERE team_id = ?", (team_id,)
        rows = self.conn.execute(sql + " ORDER BY created_at, id", params).fetchall()
        return [_device(row) for row in rows]

    def revoke_device(self, device_id: str) -> Device:
        with self.database.write() as conn:
            row = _device_row(conn, device_id)
            if row["revoked_at"] is None:
                conn.execute("UPDATE devices SET revoked_at = ? WHERE id = ?",
                             (_stamp(self.now()), device_id))
            return _device(_device_row(conn, device_id))

    def renew_device(self, device_id: str, days: float | None = None) -> Device:
        """Make the device's token valid for `days` (default: token_days) from now. A revoked
        device stays revoked."""
        until = self.now() + dt.timedelta(days=self.token_days if days is None else days)
        return self._set_expiry(device_id, until)

    def expire_device(self, device_id: str) -> Device:
        """End the device's token now; `renew_device` brings it back."""
        return self._set_expiry(device_id, self.now())

    def _set_expiry(self, device_id: str, until: dt.datetime) -> Device:
        with self.database.write() as conn:
            _device_row(conn, device_id)
            conn.execute("UPDATE devices SET expires_at = ? WHERE id = ?",
                         (_stamp(until), device_id))
            return _device(_device_row(conn, device_id))

    # -- records -----------------------------------------------------------------------------
    def high_water(self) -> int:
        return int(self.conn.scalar("SELECT value FROM counters WHERE name = 'seq'"))

    def get_record(self, table: str, row_id: str) -> dict[str, Any] | None:
        """The stored record `table`/`row_id` in wire form, whatever its team (the most
        recently changed copy), or None."""
        row = self.conn.execute("SELECT * FROM records WHERE table_name = ? AND row_id = ? "
                                "ORDER BY seq DESC LIMIT 1", (table, row_id)).fetchone()
        return None if row is None else _record(row)

    def push(self, device: Device, records: Sequence[Mapping[str, Any]]) -> PushResult:
        """Apply each record independently, all in one transaction: a bad record gets its
        own "rejected" result and never spoils the others. A record is refused before
        anything of it is written, so no savepoints are needed; the rows the batch touches
        are read in one query per table and the seq counter is moved once per batch."""
        results = []
        with self.database.write() as conn:
            batch = _Batch(conn, device, records, bound_at(self.now()))
            for record in records:
                try:
                    status = batch.apply(record)
                except Rejected as refusal:
                    result = refusal.to_wire()
                except ClockRefused as refusal:
                    result = {"status": "rejected", "reason": refusal.reason}
                else:
                    result = {"status": status}
                results.append({"table": _text_or_none(record, "table"),
                                "id": _text_or_none(record, "id"), **result})
            cursor = batch.finish()
        return PushResult(results, cursor)

    def pull(self, device: Device, table: str, after: int = 0, upto: int | None = None,
             limit: int = 500) -> PullResult:
        """The team's rows of `table`, and the rows published to every team, with after <
        seq <= upto (default: the high water), except those that are exactly what this device
        pushed (it has them). `next` is the seq of the last record returned, or the ceiling
        once nothing more is left."""
        rows, last, more, ceiling = self._pull_rows(device, table, after, upto, limit)
        return PullResult([_record(row) for row in rows], last, more, ceiling)

    def pull_body(self, device: Device, table: str, after: int = 0, upto: int | None = None,
                  limit: int = 500) -> bytes:
        """`pull` as the JSON answer the API sends, made from the stored JSON of each row's
        fields and clocks without parsing them again (half the hub's time of a pull)."""
        rows, last, more, ceiling = self._pull_rows(device, table, after, upto, limit)
        records = ",".join(_record_json(row) for row in rows)
        return (f'{{"records":[{records}],"next":{int(last)},'
                f'"more":{"true" if more else "false"},"high_water":{int(ceiling)}}}'
                ).encode()

    def _pull_rows(self, device: Device, table: str, after: int, upto: int | None,
                   limit: int) -> tuple[list[Any], int, bool, int]:
        high_water = self.high_water()  # one statement: the no-change sync's whole cost
        ceiling = high_water if upto is None else min(upto, high_water)
        if after >= ceiling:
            return [], after, False, ceiling
        with self.database.snapshot() as conn:
            high_water = conn.scalar("SELECT value FROM counters WHERE name = 'seq'")
            ceiling = high_water if upto is None else min(upto, high_water)
            rows = conn.execute(
                "SELECT * FROM records WHERE team_id IN (?, ?) AND table_name = ? AND seq > ? "
                "AND seq <= ? AND NOT (pushed_by = ? AND pushed_exact = 1) ORDER BY seq LIMIT ?",
                (device.team_id, PUBLISHED, table, after, ceiling, device.id,
                 limit + 1)).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1]["seq"] if more else max(after, ceiling)
        return rows, last, more, ceiling

_INSERT_RECORD = {
    "event": "INSERT INTO records (table_name, row_id, team_id, kind, fields, created_at, "
             "device_id, pushed_by, pushed_exact, seq) "
             "VALUES (?, ?, ?, 'event', ?, ?, ?, ?, 1, ?)",
    "mutable": "INSERT INTO records (table_name, row_id, team_id, kind, fields, clocks, "
               "device_id, pushed_by, pushed_exact, seq) "
               "VALUES (?, ?, ?, 'mutable', ?, ?, ?, ?, ?, ?)",
}


class _Batch:
    """One push batch inside its write transaction: the stored copies of the rows it names
    (all teams, read once per table), and seq numbers handed out in memory and saved once."""

    def __init__(self, conn: Conn, device: Device, records: Sequence[Any], bound: Bound):
        self.conn, self.device = conn, device
        self.bound = bound  # the latest clock the hub believes (hub/clocks.py)
        self.seq: int = int(conn.scalar("SELECT value FROM counters WHERE name = 'seq'"))
        self.start = self.seq
        wanted: dict[str, set[str]] = {}
        for record in records:
            table = record.get("table") if isinstance(record, Mapping) else None
            row_id = record.get("id") if isinstance(record, Mapping) else None
            if isinstance(table, str) and table in REGISTRY and _storable_text(row_id):
                wanted.setdefault(table, set()).add(row_id)
        # (table, id) -> team -> (fields JSON, clocks JSON)
        self.stored: dict[tuple[str, str], dict[str, tuple[str, str | None]]] = {}
        # Rows new to the hub, written together by finish(); (table, id) -> parameters.
        self.new_events: dict[tuple[str, str], tuple[Any, ...]] = {}
        self.new_rows: dict[tuple[str, str], tuple[Any, ...]] = {}
        for table, ids in wanted.items():
            ordered = sorted(ids)
            for start in range(0, len(ordered), 400):
                chunk = ordered[start:start + 400]
                for row in conn.execute(
                        "SELECT row_id, team_id, fields, clocks FROM records WHERE table_name = ? "
                        f"AND row_id IN ({','.join('?' * len(chunk))})", (table, *chunk)):
                    self.stored.setdefault((table, row["row_id"]), {})[row["team_id"]] = (
                        row["fields"], row["clocks"])

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def finish(self) -> int:
        """Write the new rows (one statement per kind) and the counter."""
        for kind, rows in (("event", self.new_events), ("mutable", self.new_rows)):
            if rows:
                self.conn.executemany(_INSERT_RECORD[kind], list(rows.values()))
        if self.seq != self.start:
            self.conn.execute("UPDATE counters SET value = ? WHERE name = 'seq'", (self.seq,))
        return self.seq

    def apply(self, record: Mapping[str, Any]) -> str:
        spec = validate(record)
        conn, device = self.conn, self.device
        table, row_id = spec.name, record["id"]
        copies = self.stored.setdefault((table, row_id), {})
        stored = copies.get(device.team_id)
        if stored is None and copies and not (spec.reference or spec.team_keyed):
            raise Rejected("out_of_scope")  # another team's row (reference rows: own copy)
        check_clocks(record, spec, self.bound, (copies.get(PUBLISHED), stored))
        fields = dict(record["fields"])
        if spec.kind == "event":
            outcome = merge_event(json.loads(stored[0]) if stored else None, fields)
            if outcome == "applied":
                text = _json(fields)
                self.new_events[(table, row_id)] = (
                    table, row_id, device.team_id, text, record["created_at"],
                    record["device_id"], device.id, self.next_seq())
                copies[device.team_id] = (text, None)
            return outcome
        clocks = dict(record["clocks"])
        if stored is None:
            ruled = spec.rules.enforce(fields)  # the table's rules, as every laptop has them
            texts = (_json(ruled), _json(clocks))
            self.new_rows[(table, row_id)] = (
                table, row_id, device.team_id, *texts, _latest_device(clocks), device.id,
                int(ruled == fields), self.next_seq())
            copies[device.team_id] = texts
            return "applied"
        merged = merge_mutable(json.loads(stored[0]),
                               believed(json.loads(stored[1] or "{}"), self.bound), fields,
                               clocks, spec.rules)
        if not merged.changed:
            return "duplicate"
        # The sender already has the row only if the merge kept nothing of anyone else's.
        exact = int(merged.fields == fields and merged.clocks == clocks)
        texts = (_json(merged.fields), _json(merged.clocks))
        copies[device.team_id] = texts
        if (table, row_id) in self.new_rows:  # new in this very batch: not written yet
            self.new_rows[(table, row_id)] = (
                table, row_id, device.team_id, *texts, _latest_device(merged.clocks),
                device.id, exact, self.next_seq())
            return "applied"
        conn.execute(
            "UPDATE records SET fields = ?, clocks = ?, device_id = ?, pushed_by = ?, "
            "pushed_exact = ?, seq = ? WHERE table_name = ? AND row_id = ? AND team_id = ?",
            (*texts, _latest_device(merged.clocks), device.id, exact, self.next_seq(), table,
             row_id, device.team_id))
        return "applied"


# -- validation --------------------------------------------------------------------------------
def validate(record: Any) -> SyncedTable:
    """The record's registered table, or Rejected with the first thing wrong with it.
    (Objects are what JSON decodes to, dicts: isinstance of an ABC costs more per record than
    the checks.)"""
    if not isinstance(record, dict):
        raise Rejected("not_an_object")
    table = record.get("table")
    spec = REGISTRY.get(table) if isinstance(table, str) else None
    if spec is None:
        raise Rejected("unknown_table")
    row_id = record.get("id")
    if not isinstance(row_id, str) or ID_PATTERN.fullmatch(row_id) is None:
        raise Rejected("bad_id")
    if record.get("kind") != spec.kind:
        raise Rejected("wrong_kind")
    fields = record.get("fields")
    if not isinstance(fields, dict) or fields.keys() != spec.wire_types.keys():
        raise Rejected("wrong_fields")
    problem = field_problem(spec, fields)  # the declared type of each field
    if problem is not None:
        raise Rejected(problem.reason, problem.field)
    device_id = record.get("device_id")
    if not _storable_text(device_id):
        raise Rejected("bad_device_id")
    if spec.kind == "mutable":
        clocks = record.get("clocks")
        if not isinstance(clocks, dict) or clocks.keys() != fields.keys():
            raise Rejected("missing_clocks")
        if not _all_hlc(clocks.values()):
            raise Rejected("bad_clock")
    elif not _is_hlc(record.get("created_at")):
        raise Rejected("missing_created_at")
    return spec


def _storable_text(value: Any) -> TypeGuard[str]:
    """A non-empty string both engines can store as TEXT: no NUL (PostgreSQL refuses it)
    and valid UTF-8 (no lone surrogates)."""
    return isinstance(value, str) and bool(value) and _text_storable(value)


def _storable_name(name: str) -> str:
    """A device's self-given name as both engines can store it (no NUL, valid UTF-8)."""
    return name.replace("\x00", "").encode("utf-8", "replace").decode("utf-8").strip()


def _all_hlc(stamps: Iterable[Any]) -> bool:
    """Every stamp is an HLC. Each distinct one is checked once: the fields of a new row
    share one clock, and this runs for every record pushed."""
    try:
        distinct = set(stamps)
    except TypeError:  # a list or an object: no HLC
        return False
    return all(_is_hlc(stamp) for stamp in distinct)


def _is_hlc(value: Any) -> bool:
    return isinstance(value, str) and len(value) < 200 and bool(HLC_PATTERN.match(value))


# -- rows --------------------------------------------------------------------------------------
def _next_seq(conn: Conn) -> int:
    conn.execute("UPDATE counters SET value = value + 1 WHERE name = 'seq'")
    return int(conn.scalar("SELECT value FROM counters WHERE name = 'seq'"))


def _latest_device(clocks: Mapping[str, str]) -> str:
    return max(clocks.values()).split("-", 2)[2]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _text_or_none(record: Any, key: str) -> Any:
    """The record's table or id to name it in its result, if the answer can carry it (a lone
    surrogate cannot be encoded: echoing one back failed the whole batch)."""
    value = record.get(key) if isinstance(record, Mapping) else None
    return value if _storable_text(value) else None


def _device(row: Any) -> Device:
    return Device(row["id"], row["team_id"], row["name"], row["created_at"],
                  row["last_seen_at"], row["revoked_at"], row["expires_at"])


def _device_row(conn: Conn, device_id: str) -> Any:
    row = conn.execute("SELECT * FROM devices WHERE id = ?", (device_id,)).fetchone()
    if row is None:
        raise HubError("not_found", _("There is no device {id} on this hub.").format(
            id=device_id))
    return row


def _expired(expires_at: str | None, now: dt.datetime) -> bool:
    return expires_at is not None and dt.datetime.fromisoformat(expires_at) <= now


def _record(row: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"table": row["table_name"], "id": row["row_id"],
                              "kind": row["kind"], "fields": json.loads(row["fields"]),
                              "device_id": row["device_id"]}
    if row["kind"] == "mutable":
        record["clocks"] = json.loads(row["clocks"])
    else:
        record["created_at"] = row["created_at"]
    return record

def _record_json(row: Any) -> str:
    """`_record` as JSON text, with the stored fields and clocks JSON put in as they are."""
    quoted = json.dumps
    text = (f'{{"table":{quoted(row["table_name"])},"id":{quoted(row["row_id"])},'
            f'"kind":{quoted(row["kind"])},"fields":{row["fields"]},'
            f'"device_id":{quoted(row["device_id"])},')
    if row["kind"] == "mutable":
        return f'{text}"clocks":{row["clocks"]}}}'
    return f'{text}"created_at":{quoted(row["created_at"])}}}'


stored_record = _record  # a stored row in wire form, for the hub's other modules
next_seq = _next_seq  # the hub-wide counter, for modules writing records (reference.py)
storable_text = _storable_text  # text both engines store (no NUL, valid UTF-8)
stored_json = _json  # how fields and clocks are stored, for modules writing records
