"""The hub's own database: teams, enrollment codes, devices and every synced record.

One SQLite file (WAL) with its own numbered migrations; it is not a dxkit workspace. Records
are stored generically — one row per (table, id) holding the fields as JSON — so the hub needs
no schema change when a feature registers a new synced table. The SQL stays plain (no SQLite
only functions, explicit counters instead of AUTOINCREMENT) so a PostgreSQL store can follow.

Every change to a stored record takes a new value of one hub-wide counter (`seq`) inside the
write transaction. Writers are serialised (BEGIN IMMEDIATE here; the counter row's lock on
PostgreSQL), so seq values become visible in order and a pull up to a high-water mark never
misses a row that commits later with a smaller seq.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import re
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database, Migrations

import dxkit.core.workspace  # noqa: F401  (every core module registers its synced tables)
from dxkit.core.errors import DxError
from dxkit.core.i18n import _
from dxkit.core.merge import merge_event, merge_mutable
from dxkit.core.schema import run_script
from dxkit.core.synced import REGISTRY, SyncedTable, wire_fields

MIGRATIONS = Migrations("dxkit-hub")
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no I/L/1, O/0: read aloud and typed
CODE_LENGTH = 10
HLC_PATTERN = re.compile(r"^[0-9a-f]{12}-[0-9a-f]{4}-[0-9A-Za-z]+$")
SEEN_EVERY = dt.timedelta(minutes=1)  # last_seen_at is refreshed at most this often


@MIGRATIONS(name="0001_initial")
def m0001_initial(db: Database) -> None:
    run_script(db, """
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

    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO counters (name, value) VALUES ('seq', 0);

    -- fields: JSON of the wire fields; clocks: JSON field -> HLC (mutable) or NULL (event);
    -- created_at: the event's HLC (NULL for mutable); device_id: the device of the latest
    -- edit as the record names it; pushed_by: the hub device that last changed the row.
    CREATE TABLE records (
        table_name TEXT NOT NULL, row_id TEXT NOT NULL, team_id TEXT NOT NULL,
        kind TEXT NOT NULL, fields TEXT NOT NULL, clocks TEXT, created_at TEXT,
        device_id TEXT NOT NULL, pushed_by TEXT NOT NULL, seq INTEGER NOT NULL UNIQUE,
        PRIMARY KEY (table_name, row_id));
    CREATE INDEX records_pull ON records(team_id, table_name, seq);
    """)


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
    """A record that cannot be stored; `reason` goes back to the device."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


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
    """The hub database at `path`; safe to share between threads (one connection each)."""

    def __init__(self, path: str | Path, now: Callable[[], dt.datetime] = _utc_now):
        self.path = Path(path)
        self.now = now
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._migrate()

    # -- connections and transactions --------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=30)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """One snapshot for several SELECTs."""
        conn = self.conn
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    def _migrate(self) -> None:
        conn = self.conn
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        db = Database(conn)
        for migration in MIGRATIONS.pending(db):
            with self._write():
                MIGRATIONS.ensure_migrations_table(db)
                migration.fn(db)
                MIGRATIONS._record_applied(db, migration.name)

    # -- administration ----------------------------------------------------------------------
    def add_team(self, province_code: int, commune_code: int, hamlet: str) -> Team:
        team = Team(str(uuid.uuid4()), int(province_code), int(commune_code), hamlet.strip(),
                    _stamp(self.now()))
        with self._write() as conn:
            conn.execute(
                "INSERT INTO teams (id, province_code, commune_code, hamlet, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (team.id, team.province_code, team.commune_code, team.hamlet, team.created_at))
        return team

    def team(self, team_id: str) -> Team:
        row = self.conn.execute("SELECT * FROM teams WHERE id = ?", (team_id,)).fetchone()
        if row is None:
            raise HubError("not_found", _("There is no team {id} on this hub.").format(
                id=team_id))
        return Team(row["id"], row["province_code"], row["commune_code"], row["hamlet"],
                    row["created_at"])

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
        with self._write() as conn:
            conn.execute(
                "INSERT INTO enroll_codes (code_hash, team_id, created_at, expires_at) "
                "VALUES (?, ?, ?, ?)", (sha256(plain), team_id, _stamp(now), expires_at))
        return f"{plain[:4]}-{plain[4:8]}-{plain[8:]}", expires_at

    def enroll(self, code: str, device_name: str) -> tuple[str, str, Team]:
        """Use a code once: (device_id, bearer token, team). The token is stored hashed."""
        bad = HubError("bad_code", _("This enrollment code is unknown, already used or "
                                     "expired. Ask the hub administrator for a new one."))
        now = _stamp(self.now())
        device_id, token = str(uuid.uuid4()), secrets.token_urlsafe(32)
        with self._write() as conn:
            row = conn.execute("SELECT * FROM enroll_codes WHERE code_hash = ?",
                               (sha256(normalize_code(code)),)).fetchone()
            if row is None or row["used_at"] is not None or row["expires_at"] <= now:
                raise bad
            conn.execute(
                "INSERT INTO devices (id, team_id, name, token_hash, created_at, last_seen_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (device_id, row["team_id"], device_name.strip(), sha256(token), now, now))
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
        seen = row["last_seen_at"]
        if seen is None or dt.datetime.fromisoformat(seen) + SEEN_EVERY <= now:
            with self._write() as conn:
                conn.execute("UPDATE devices SET last_seen_at = ? WHERE id = ?",
                             (_stamp(now), row["id"]))
        return _device(row)

    def list_devices(self, team_id: str | None = None) -> list[Device]:
        sql, params = "SELECT * FROM devices", ()
        if team_id:
            sql, params = sql + " WHERE team_id = ?", (team_id,)
        rows = self.conn.execute(sql + " ORDER BY created_at, id", params).fetchall()
        return [_device(row) for row in rows]

    def revoke_device(self, device_id: str) -> Device:
        with self._write() as conn:
            row = conn.execute("SELECT * FROM devices WHERE id = ?", (device_id,)).fetchone()
            if row is None:
                raise HubError("not_found", _("There is no device {id} on this hub.").format(
                    id=device_id))
            if row["revoked_at"] is None:
                conn.execute("UPDATE devices SET revoked_at = ? WHERE id = ?",
                             (_stamp(self.now()), device_id))
            row = conn.execute("SELECT * FROM devices WHERE id = ?", (device_id,)).fetchone()
        return _device(row)

    # -- records -----------------------------------------------------------------------------
    def high_water(self) -> int:
        return self.conn.execute("SELECT value FROM counters WHERE name = 'seq'").fetchone()[0]

    def push(self, device: Device, records: Sequence[Mapping[str, Any]]) -> PushResult:
        """Apply each record independently, all in one transaction: a bad record gets its
        own "rejected" result and never spoils the others."""
        results = []
        with self._write() as conn:
            for record in records:
                conn.execute("SAVEPOINT record")
                try:
                    status = self._apply(conn, device, record)
                except Rejected as refusal:
                    conn.execute("ROLLBACK TO SAVEPOINT record")
                    result = {"status": "rejected", "reason": refusal.reason}
                else:
                    result = {"status": status}
                conn.execute("RELEASE SAVEPOINT record")
                results.append({"table": _text_or_none(record, "table"),
                                "id": _text_or_none(record, "id"), **result})
            cursor = conn.execute("SELECT value FROM counters WHERE name = 'seq'").fetchone()[0]
        return PushResult(results, cursor)

    def pull(self, device: Device, table: str, after: int = 0, upto: int | None = None,
             limit: int = 500) -> PullResult:
        """The team's rows of `table` with after < seq <= upto (default: the high water)."""
        with self._read() as conn:
            high_water = conn.execute(
                "SELECT value FROM counters WHERE name = 'seq'").fetchone()[0]
            ceiling = high_water if upto is None else min(upto, high_water)
            rows = conn.execute(
                "SELECT * FROM records WHERE team_id = ? AND table_name = ? AND seq > ? "
                "AND seq <= ? ORDER BY seq LIMIT ?",
                (device.team_id, table, after, ceiling, limit + 1)).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1]["seq"] if rows else after
        return PullResult([_record(row) for row in rows], last, more, ceiling)

    def _apply(self, conn: sqlite3.Connection, device: Device,
               record: Mapping[str, Any]) -> str:
        spec = validate(record)
        table, row_id = spec.name, record["id"]
        stored = conn.execute("SELECT * FROM records WHERE table_name = ? AND row_id = ?",
                              (table, row_id)).fetchone()
        if stored is not None and stored["team_id"] != device.team_id:
            raise Rejected("out_of_scope")
        fields = dict(record["fields"])
        if spec.kind == "event":
            outcome = merge_event(json.loads(stored["fields"]) if stored else None, fields)
            if outcome == "applied":
                conn.execute(
                    "INSERT INTO records (table_name, row_id, team_id, kind, fields, created_at, "
                    "device_id, pushed_by, seq) VALUES (?, ?, ?, 'event', ?, ?, ?, ?, ?)",
                    (table, row_id, device.team_id, _json(fields), record["created_at"],
                     record["device_id"], device.id, _next_seq(conn)))
            return outcome
        clocks = dict(record["clocks"])
        if stored is None:
            conn.execute(
                "INSERT INTO records (table_name, row_id, team_id, kind, fields, clocks, "
                "device_id, pushed_by, seq) VALUES (?, ?, ?, 'mutable', ?, ?, ?, ?, ?)",
                (table, row_id, device.team_id, _json(fields), _json(clocks),
                 _latest_device(clocks), device.id, _next_seq(conn)))
            return "applied"
        merged = merge_mutable(json.loads(stored["fields"]), json.loads(stored["clocks"]),
                               fields, clocks)
        if not merged.changed:
            return "duplicate"
        conn.execute(
            "UPDATE records SET fields = ?, clocks = ?, device_id = ?, pushed_by = ?, seq = ? "
            "WHERE table_name = ? AND row_id = ?",
            (_json(merged.fields), _json(merged.clocks), _latest_device(merged.clocks),
             device.id, _next_seq(conn), table, row_id))
        return "applied"


# -- validation --------------------------------------------------------------------------------
def validate(record: Any) -> SyncedTable:
    """The record's registered table, or Rejected with the first thing wrong with it."""
    if not isinstance(record, Mapping):
        raise Rejected("not_an_object")
    spec = REGISTRY.get(record.get("table")) if isinstance(record.get("table"), str) else None
    if spec is None:
        raise Rejected("unknown_table")
    row_id = record.get("id")
    if not isinstance(row_id, str) or not row_id or len(row_id) > 100:
        raise Rejected("bad_id")
    if record.get("kind") != spec.kind:
        raise Rejected("wrong_kind")
    fields = record.get("fields")
    if not isinstance(fields, Mapping) or set(fields) != set(wire_fields(spec)):
        raise Rejected("wrong_fields")
    if not all(_scalar(value) for value in fields.values()):
        raise Rejected("bad_value")
    device_id = record.get("device_id")
    if not isinstance(device_id, str) or not device_id:
        raise Rejected("bad_device_id")
    if spec.kind == "mutable":
        clocks = record.get("clocks")
        if not isinstance(clocks, Mapping) or set(clocks) != set(fields):
            raise Rejected("missing_clocks")
        if not all(_is_hlc(stamp) for stamp in clocks.values()):
            raise Rejected("bad_clock")
    elif not _is_hlc(record.get("created_at")):
        raise Rejected("missing_created_at")
    return spec


def _scalar(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, str | int)


def _is_hlc(value: Any) -> bool:
    return isinstance(value, str) and len(value) < 200 and bool(HLC_PATTERN.match(value))


# -- rows --------------------------------------------------------------------------------------
def _next_seq(conn: sqlite3.Connection) -> int:
    conn.execute("UPDATE counters SET value = value + 1 WHERE name = 'seq'")
    return conn.execute("SELECT value FROM counters WHERE name = 'seq'").fetchone()[0]


def _latest_device(clocks: Mapping[str, str]) -> str:
    return max(clocks.values()).split("-", 2)[2]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _text_or_none(record: Any, key: str) -> Any:
    value = record.get(key) if isinstance(record, Mapping) else None
    return value if isinstance(value, str) else None


def _device(row: sqlite3.Row) -> Device:
    return Device(row["id"], row["team_id"], row["name"], row["created_at"],
                  row["last_seen_at"], row["revoked_at"])


def _record(row: sqlite3.Row) -> dict[str, Any]:
    record: dict[str, Any] = {"table": row["table_name"], "id": row["row_id"],
                              "kind": row["kind"], "fields": json.loads(row["fields"]),
                              "device_id": row["device_id"]}
    if row["kind"] == "mutable":
        record["clocks"] = json.loads(row["clocks"])
    else:
        record["created_at"] = row["created_at"]
    return record
