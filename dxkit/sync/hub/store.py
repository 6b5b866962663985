"""The hub's own database: teams and their hamlets, enrollment codes, devices and every
synced record.

An embedded SQLite file (WAL) by default, or a PostgreSQL database given a postgresql:// URL
(database.py hides the difference); it has its own numbered migrations and is not a dxkit
workspace. Records are stored generically — one row per (table, id, scope) holding the fields
as JSON, with the area that says which teams read it (hub/areas.py) — so the hub needs no
schema change when a feature registers a new synced table. The SQL is plain (no engine-only
functions, explicit counters instead of AUTOINCREMENT).

Every change to a stored record takes a new value of one hub-wide counter (`seq`) inside the
write transaction. Writers are serialised (BEGIN IMMEDIATE on SQLite, an advisory lock on
PostgreSQL: database.py), so seq values become visible in order and a pull up to a high-water
mark never misses a row that commits later with a smaller seq.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import re
import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeGuard

import dxkit.workspace  # noqa: F401  (installs every domain's synced tables)
from dxkit.core.errors import DxError
from dxkit.core.fields import ID_PATTERN
from dxkit.core.fields import storable_text as _text_storable
from dxkit.core.hlc import Clock
from dxkit.core.i18n import _
from dxkit.core.merge import merge_event, merge_mutable
from dxkit.core.synced import (
    REGISTRY,
    SyncedTable,
    area_children,
    dependency_order,
    field_problem,
    hamlet_tables,
    wire_fields,
)
from dxkit.core.text import folded_key, nfc
from dxkit.farm.trace_ids import team_trace_key
from dxkit.sync.hub import areas, figures
from dxkit.sync.hub.areas import PUBLISHED, SHARED, HubHamlet
from dxkit.sync.hub.clocks import (
    Bound,
    ClockRefused,
    believed,
    bound_at,
    check_clocks,
    hub_clock,
)
from dxkit.sync.hub.consumers import m0013_consumers
from dxkit.sync.hub.database import Conn, HubDatabase, Migration, open_database
from dxkit.sync.hub.officials import m0010_officials, m0011_login_failures

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no I/L/1, O/0: read aloud and typed
CODE_LENGTH = 10
HLC_PATTERN = re.compile(r"^[0-9a-f]{12}-[0-9a-f]{4}-[0-9A-Za-z]+$")
SEEN_EVERY = dt.timedelta(minutes=1)  # last_seen_at is refreshed at most this often
DEFAULT_TOKEN_DAYS = 365.0  # a device token's validity from enrollment or renewal
# Published reference rows an enrollment carries besides the team's hamlets, so a laptop has
# the province's targets before its first sync.
ENROLL_PUBLISHED = ("indicators",)


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


def m0007_team_areas(conn: Conn) -> None:
    """Teams of a hamlet or of a whole commune, and records kept once per hamlet (hub/areas.py).

    - Teams get a kind; every team so far is a hamlet team. The hub registers hamlets
      (`hamlets`: id, province, commune, name) and each team's hamlets (`team_hamlets`).
    - Each team's hamlet (its `hamlet` text) is registered: as the hamlet row its laptops
      pushed under that name, if any, else with the id every laptop gives that name
      (core.places.hamlet_id) and a hamlets record of the hub's, so its laptops receive it.
    - Every hamlet row a team pushed is registered as a hamlet of the team's commune.
    - The rows of the household-bound tables (hamlets, households, people, visits, visit
      items, indicator answers: the tables not declared Area.team()) leave their team's
      scope for the shared one ("@"), with their area: the hamlet they belong to, resolved
      through the row they reference. A row two teams both held (an id published into two
      teams) is kept once, merged.
    - Nothing a team's laptops already had disappears: a hamlet team whose laptops pushed
      households of several hamlets keeps all of those hamlets (and hamlets it pushed) in its
      scope; a row whose parent the hub never received stays in the team's own hamlet.
    - Stored hamlet rows gain the fields hamlets have since (the official population), empty.
    """
    conn.script("""
    ALTER TABLE teams ADD COLUMN kind TEXT NOT NULL DEFAULT 'hamlet';
    CREATE TABLE hamlets (
        id TEXT PRIMARY KEY, province_code INTEGER NOT NULL, commune_code INTEGER NOT NULL,
        name TEXT NOT NULL, name_key TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL);
    CREATE INDEX hamlets_commune ON hamlets(commune_code, name_key);
    CREATE TABLE team_hamlets (
        team_id TEXT NOT NULL REFERENCES teams(id),
        hamlet_id TEXT NOT NULL REFERENCES hamlets(id),
        PRIMARY KEY (team_id, hamlet_id));
    CREATE INDEX team_hamlets_hamlet ON team_hamlets(hamlet_id);
    ALTER TABLE records ADD COLUMN area TEXT NOT NULL DEFAULT '';
    UPDATE records SET area = team_id;
    DROP INDEX records_pull;
    CREATE INDEX records_area ON records(area, table_name, seq);
    """)
    now = _utc_now()
    created = _stamp(now)
    for table in hamlet_tables():
        _add_missing_fields(conn, table)
    clock = hub_clock(conn, now)
    teams = conn.execute("SELECT id, province_code, commune_code, hamlet FROM teams "
                         "ORDER BY created_at, id").fetchall()
    own: dict[str, str] = {}  # team -> its hamlet
    for team in teams:
        pushed = [(row["row_id"], json.loads(row["fields"])) for row in conn.execute(
            "SELECT row_id, fields FROM records WHERE table_name IN ({}) AND team_id = ? "
            "ORDER BY seq".format(", ".join("?" for _ in hamlet_tables())),
            (*hamlet_tables(), team["id"])).fetchall()]
        for row_id, fields in pushed:
            areas.register_hamlet(conn, row_id, team["province_code"], team["commune_code"],
                                  str(fields.get("name") or ""), created,
                                  bool(fields.get("deleted")))
            areas.add_to_scope(conn, team["id"], row_id)
        key = folded_key(team["hamlet"])
        named = [row_id for row_id, fields in pushed
                 if fields.get("name_key") == key and not fields.get("deleted")]
        hamlet, known = (named[0], True) if named else areas.hamlet_id_for(
            conn, team["commune_code"], team["hamlet"])
        if not known and areas.register_hamlet(conn, hamlet, team["province_code"],
                                               team["commune_code"], team["hamlet"], created):
            _write_hamlet_record(conn, clock, hamlet, team["hamlet"], 0)
        own[team["id"]] = hamlet
        areas.add_to_scope(conn, team["id"], hamlet)
    communes = {team["id"]: (team["province_code"], team["commune_code"]) for team in teams}
    for table in dependency_order():
        if REGISTRY[table].placed.shared:
            _share_rows(conn, REGISTRY[table], own, communes, created)


def m0008_certificates(conn: Conn) -> None:
    """Certificates that verify (hub/certificates.py): the province's Ed25519 key and each
    team's signing key with its key certificate, made on first need; and an index of the
    `certificates` records by their short code, so the public page finds one at once."""
    conn.script("""
    CREATE TABLE certificate_keys (
        name TEXT PRIMARY KEY, private_key TEXT NOT NULL, public_key TEXT NOT NULL,
        created_at TEXT NOT NULL);
    CREATE TABLE team_certificate_keys (
        team_id TEXT PRIMARY KEY REFERENCES teams(id), private_key TEXT NOT NULL,
        key_certificate TEXT NOT NULL, created_at TEXT NOT NULL);
    """)
    # A partial expression index: only `certificates` rows carry it, so no other write pays.
    code = "((fields::json) ->> 'code')" if conn.postgres else "json_extract(fields, '$.code')"
    conn.execute(f"CREATE INDEX records_certificate_code ON records (({code})) "
                 "WHERE table_name = 'certificates'")


def m0009_course_packs(conn: Conn) -> None:
    """Course packs the province publishes (hub/course_packs.py): one row per (id, version)
    with its content digest, and the pack's .zip bytes in pieces of PACK_CHUNK_BYTES, so a
    download is streamed piece by piece. The counter `course_packs` moves at each new
    publication; a pull answer carries it, so laptops learn of a new pack without asking."""
    blob = "BYTEA" if conn.postgres else "BLOB"
    conn.script(f"""
    CREATE TABLE course_packs (
        course_id TEXT NOT NULL, version TEXT NOT NULL, digest TEXT NOT NULL,
        sha256 TEXT NOT NULL, size BIGINT NOT NULL, title TEXT NOT NULL,
        published_at TEXT NOT NULL, PRIMARY KEY (course_id, version));
    CREATE TABLE course_pack_chunks (
        course_id TEXT NOT NULL, version TEXT NOT NULL, n INTEGER NOT NULL,
        data {blob} NOT NULL, PRIMARY KEY (course_id, version, n));
    INSERT INTO counters (name, value) VALUES ('course_packs', 0);
    """)


def _share_rows(conn: Conn, spec: SyncedTable, own: Mapping[str, str],
                communes: Mapping[str, tuple[int, int]], created: str) -> None:
    """Migration 0007: one household-bound table's rows, from their teams' scopes to the
    shared one, with their areas (parents were moved before: dependency order)."""
    placed = spec.placed
    while True:
        rows = conn.execute(
            "SELECT * FROM records WHERE table_name = ? AND team_id NOT IN (?, ?) "
            "ORDER BY seq LIMIT 500", (spec.name, PUBLISHED, SHARED)).fetchall()
        if not rows:
            return
        parents: dict[str, str] = {}
        if placed.kind == "via":
            wanted = sorted({str(json.loads(row["fields"]).get(placed.field)) for row in rows})
            marks = ", ".join("?" for _ in wanted)
            parents = {found["row_id"]: found["area"] for found in conn.execute(
                f"SELECT row_id, area FROM records WHERE table_name = ? AND team_id = ? AND "
                f"row_id IN ({marks})", (placed.table, SHARED, *wanted))}
        for row in rows:
            team = row["team_id"]
            fields = json.loads(row["fields"])
            parent = None if placed.kind == "hamlet" else fields.get(placed.field or "")
            if placed.kind == "hamlet":
                area = row["row_id"]
            elif placed.kind == "own":
                area = str(parent)
                if team in communes:
                    areas.register_hamlet(conn, area, *communes[team], "", created)
            else:
                area = parents.get(str(parent)) or own.get(team, team)
            if team in own:
                areas.add_to_scope(conn, team, area)
            _move_to_shared(conn, row, area)


def _move_to_shared(conn: Conn, row: Any, area: str) -> None:
    key = (row["table_name"], row["row_id"])
    there = conn.execute("SELECT * FROM records WHERE table_name = ? AND row_id = ? AND "
                         "team_id = ?", (*key, SHARED)).fetchone()
    if there is None:
        conn.execute("UPDATE records SET team_id = ?, area = ? WHERE "
                     "table_name = ? AND row_id = ? AND team_id = ?",
                     (SHARED, area, *key, row["team_id"]))
        return
    if row["kind"] == "mutable":  # the same id in two teams: one row, merged per field
        merged = merge_mutable(json.loads(there["fields"]), json.loads(there["clocks"]),
                               json.loads(row["fields"]), json.loads(row["clocks"]),
                               REGISTRY[row["table_name"]].rules)
        if merged.changed:
            conn.execute("UPDATE records SET fields = ?, clocks = ?, device_id = ?, "
                         "pushed_exact = 0, seq = ? WHERE table_name = ? AND row_id = ? AND "
                         "team_id = ?", (_json(merged.fields), _json(merged.clocks),
                                         _latest_device(merged.clocks), _next_seq(conn), *key,
                                         SHARED))
    conn.execute("DELETE FROM records WHERE table_name = ? AND row_id = ? AND team_id = ?",
                 (*key, row["team_id"]))


def _add_missing_fields(conn: Conn, table: str) -> None:
    """Stored rows of `table` lacking fields it has gained since (nullable ones): the field
    empty, with the clock the row's other fields share most (a laptop gives the new column
    that clock too), so both sides still hash alike."""
    spec = REGISTRY[table]
    names = wire_fields(spec)
    missing_ok = {name for name, kind in spec.wire_types.items() if kind.nullable}
    for row in conn.execute("SELECT table_name, row_id, team_id, fields, clocks FROM records "
                            "WHERE table_name = ?", (table,)).fetchall():
        fields = json.loads(row["fields"])
        lacking = [name for name in names if name not in fields]
        if not lacking or not set(lacking) <= missing_ok:
            continue
        clocks = json.loads(row["clocks"]) if row["clocks"] else None
        common = Counter(clocks.values()).most_common(1)[0][0] if clocks else None
        for name in lacking:
            fields[name] = None
            if clocks is not None:
                clocks[name] = common
        conn.execute("UPDATE records SET fields = ?, clocks = ? WHERE table_name = ? AND "
                     "row_id = ? AND team_id = ?",
                     (_json(fields), None if clocks is None else _json(clocks),
                      row["table_name"], row["row_id"], row["team_id"]))


def _write_hamlet_record(conn: Conn, clock: Clock, hamlet: str, name: str,
                         sort_order: int) -> None:
    """The hamlets row of a hamlet the hub registers itself (`hub team add --hamlet`,
    `hub hamlets set`), every field stamped with the hub's clock, so its teams' laptops
    receive it; a row any laptop typed under that name has the same id and merges with it."""
    for table in hamlet_tables():
        spec = REGISTRY[table]
        fields: dict[str, Any] = dict.fromkeys(wire_fields(spec))
        fields.update(name=name, name_key=folded_key(name), sort_order=sort_order, deleted=0)
        stamp = clock.now()
        conn.execute(
            "INSERT INTO records (table_name, row_id, team_id, kind, fields, clocks, device_id, "
            "pushed_by, pushed_exact, seq, area) VALUES (?, ?, ?, 'mutable', ?, ?, ?, ?, 0, ?, ?)",
            (table, hamlet, SHARED, _json(fields), _json(dict.fromkeys(fields, stamp)),
             clock.device, clock.device, _next_seq(conn), hamlet))


def new_bundle_key() -> str:
    """256 random bits, URL-safe base64 (as the wire and the keyring carry it)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


MIGRATIONS = (Migration("0001_initial", m0001_initial),
              Migration("0002_token_expiry", m0002_token_expiry),
              Migration("0003_pushed_exact", m0003_pushed_exact),
              Migration("0004_scoped_records", m0004_scoped_records),
              Migration("0005_trace_namespaces", m0005_trace_namespaces),
              Migration("0006_team_bundle_keys", m0006_team_bundle_keys),
              Migration("0007_team_areas", m0007_team_areas),
              Migration("0008_certificates", m0008_certificates),
              Migration("0009_course_packs", m0009_course_packs),
              Migration("0010_officials", m0010_officials),
              Migration("0011_login_failures", m0011_login_failures),
              Migration("0012_figures", figures.m0012_figures),
              Migration("0013_api_consumers", m0013_consumers))


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
    hamlet: str  # a hamlet team's hamlet, as the administrator typed it ("" for a commune)
    created_at: str
    trace_key: str = ""  # the team's part of its trace URLs (dxkit/farm/trace_ids.py)
    kind: str = "hamlet"  # "hamlet" or "commune" (every hamlet of its commune)
    hamlets: tuple[HubHamlet, ...] = ()  # the hamlets it reads and writes

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.id, "province_code": self.province_code,
                "commune_code": self.commune_code, "hamlet": self.hamlet, "kind": self.kind,
                "hamlets": [hamlet.to_wire() for hamlet in self.hamlets]}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["hamlets"] = [hamlet.to_wire() for hamlet in self.hamlets]
        return data


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
        # Called after each push commits (the figures' refresh: hub/figures.py Refresher).
        self.after_push: list[Callable[[], None]] = []

    # -- connections and transactions --------------------------------------------------------
    @property
    def conn(self) -> Conn:
        """This thread's connection (for reads outside a transaction)."""
        return self.database.conn

    def close(self) -> None:
        self.database.close()

    # -- administration ----------------------------------------------------------------------
    def add_team(self, province_code: int, commune_code: int, hamlet: str | None = None
                 ) -> Team:
        """A hamlet team (`hamlet` given: that hamlet of the commune, registered if new) or a
        commune team (every hamlet of the commune, those registered later too)."""
        name = nfc(hamlet)
        if hamlet is not None and not name:
            raise HubError("bad_request", _("Give the hamlet's name."))
        for table in hamlet_tables() if name else ():
            problem = REGISTRY[table].types["name"].check(name)
            if problem is not None:
                raise HubError("bad_request", _("The hamlet's name: {problem}").format(
                    problem=REGISTRY[table].types["name"].explain(problem)))
        with self.database.write() as conn:
            team = self._new_team(conn, province_code, commune_code, name)
            conn.execute(
                "INSERT INTO teams (id, province_code, commune_code, hamlet, created_at, "
                "trace_key, bundle_key, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (team.id, team.province_code, team.commune_code, team.hamlet, team.created_at,
                 team.trace_key, new_bundle_key(), "hamlet" if name else "commune"))
            if name:
                found = self.ensure_hamlet(conn, team.province_code, team.commune_code, name)
                areas.add_to_scope(conn, team.id, found)
            else:
                conn.execute("INSERT INTO team_hamlets (team_id, hamlet_id) SELECT ?, id "
                             "FROM hamlets WHERE province_code = ? AND commune_code = ?",
                             (team.id, team.province_code, team.commune_code))
        return self.team(team.id)

    def ensure_hamlet(self, conn: Conn, province_code: int, commune_code: int, name: str
                      ) -> str:
        """The id of the commune's hamlet of that name, registered (with a hamlets row of the
        hub's, so its teams' laptops receive it) if the hub did not know it."""
        found, known = areas.hamlet_id_for(conn, commune_code, name)
        if not known:
            areas.register_hamlet(conn, found, province_code, commune_code, name,
                                  _stamp(self.now()))
            order = int(conn.scalar("SELECT count(*) FROM hamlets WHERE commune_code = ?",
                                    (int(commune_code),))) - 1
            _write_hamlet_record(conn, hub_clock(conn, self.now()), found, name, order)
        return found

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
        conn = self.conn
        row = conn.execute("SELECT * FROM teams WHERE id = ?", (team_id,)).fetchone()
        if row is None:
            raise HubError("not_found", _("There is no team {id} on this hub.").format(
                id=team_id))
        hamlets = areas.hamlets_of(conn, areas.team_scope(conn, team_id))
        return Team(row["id"], row["province_code"], row["commune_code"], row["hamlet"],
                    row["created_at"], row["trace_key"], row["kind"], tuple(hamlets))

    def enrollment_records(self, team_id: str) -> list[dict[str, Any]]:
        """What a laptop gets with its enrollment, to work at once: its team's hamlet rows
        and the published rows of ENROLL_PUBLISHED (the indicators and their targets)."""
        with self.database.snapshot() as conn:
            scope = areas.team_scope(conn, team_id)
            rows = []
            tables = hamlet_tables()
            if scope and tables:
                rows += conn.execute(
                    f"SELECT * FROM records WHERE {areas.area_filter(scope)} AND table_name IN "
                    f"({', '.join('?' for _ in tables)}) AND team_id = ? ORDER BY seq",
                    (*scope, *tables, SHARED)).fetchall()
            for table in ENROLL_PUBLISHED:
                rows += conn.execute("SELECT * FROM records WHERE area = ? AND table_name = ? "
                                     "ORDER BY seq", (PUBLISHED, table)).fetchall()
        return [_record(row) for row in rows]

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
        (and the rows they belong to) are read in one query per table and the seq counter
        is moved once per batch."""
        results = []
        with self.database.write() as conn:
            batch = _Batch(conn, device, records, bound_at(self.now()), _stamp(self.now()))
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
        if batch.seq != batch.start:
            for hook in self.after_push:
                hook()
        return PushResult(results, cursor)

    def pull(self, device: Device, table: str, after: int = 0, upto: int | None = None,
             limit: int = 500) -> PullResult:
        """The rows of `table` in the team's areas (hub/areas.py: its own rows, the published
        ones, the rows of its hamlets) with after < seq <= upto (default: the high water),
        except those that are exactly what this device pushed (it has them). `next` is the
        seq of the last record returned, or the ceiling once nothing more is left."""
        rows, last, more, ceiling, _packs = self._pull_rows(device, table, after, upto, limit)
        return PullResult([_record(row) for row in rows], last, more, ceiling)

    def pull_body(self, device: Device, table: str, after: int = 0, upto: int | None = None,
                  limit: int = 500) -> bytes:
        """`pull` as the JSON answer the API sends, made from the stored JSON of each row's
        fields and clocks without parsing them again (half the hub's time of a pull).
        Once the province has published a course pack, the answer also carries
        `course_packs`, the counter of publications (hub/course_packs.py): a laptop that
        has seen that value asks for nothing more."""
        rows, last, more, ceiling, packs = self._pull_rows(device, table, after, upto, limit)
        records = ",".join(_record_json(row) for row in rows)
        marker = f',"course_packs":{int(packs)}' if packs else ""
        return (f'{{"records":[{records}],"next":{int(last)},'
                f'"more":{"true" if more else "false"},"high_water":{int(ceiling)}'
                f'{marker}}}').encode()

    def _pull_rows(self, device: Device, table: str, after: int, upto: int | None,
                   limit: int) -> tuple[list[Any], int, bool, int, int]:
        # One statement: the no-change sync's whole cost.
        counters = {row["name"]: int(row["value"]) for row in self.conn.execute(
            "SELECT name, value FROM counters WHERE name IN ('seq', 'course_packs')")}
        high_water, packs = counters["seq"], counters.get("course_packs", 0)
        ceiling = high_water if upto is None else min(upto, high_water)
        if after >= ceiling:
            return [], after, False, ceiling, packs
        with self.database.snapshot() as conn:
            high_water = conn.scalar("SELECT value FROM counters WHERE name = 'seq'")
            ceiling = high_water if upto is None else min(upto, high_water)
            scope = areas.read_areas(conn, device.team_id, REGISTRY[table])
            where = (f"{areas.area_filter(scope)} AND table_name = ? AND seq > ? AND seq <= ? ")
            if len(scope) > 1:
                return (*self._pull_areas(conn, device, where, scope, table, after, ceiling,
                                          limit), packs)
            rows = conn.execute(
                f"SELECT * FROM records WHERE {where} AND NOT (pushed_by = ? AND "
                "pushed_exact = 1) ORDER BY seq LIMIT ?",
                (*scope, table, after, ceiling, device.id, limit + 1)).fetchall() if scope else []
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1]["seq"] if more else max(after, ceiling)
        return rows, last, more, ceiling, packs

    @staticmethod
    def _pull_areas(conn: Conn, device: Device, where: str, scope: list[str], table: str,
                    after: int, ceiling: int, limit: int) -> tuple[list[Any], int, bool, int]:
        """A page of rows of several areas (a commune team's hamlets, a team's own and the
        published rows): their seq ranges interleave, so the index gives them out of order.
        The page's end is found on the index alone (the seq of the limit+1-th row, sorting
        numbers only), then only the page's rows are read and sorted; a page may hold fewer
        than `limit` records when some are this device's own (no echo), and `next` is then
        where the page ends."""
        cut = conn.execute(f"SELECT seq FROM records WHERE {where} ORDER BY seq LIMIT 1 "
                           "OFFSET ?", (*scope, table, after, ceiling, limit)).fetchone()
        end = int(cut[0]) - 1 if cut is not None else ceiling
        rows = conn.execute(
            f"SELECT * FROM records WHERE {where} AND NOT (pushed_by = ? AND pushed_exact = 1) "
            "ORDER BY seq", (*scope, table, after, end, device.id)).fetchall()
        more = cut is not None
        return rows, end if more else max(after, ceiling), more, ceiling

_INSERT_RECORD = {
    "event": "INSERT INTO records (table_name, row_id, team_id, kind, fields, created_at, "
             "device_id, pushed_by, pushed_exact, seq, area) "
             "VALUES (?, ?, ?, 'event', ?, ?, ?, ?, 1, ?, ?)",
    "mutable": "INSERT INTO records (table_name, row_id, team_id, kind, fields, clocks, "
               "device_id, pushed_by, pushed_exact, seq, area) "
               "VALUES (?, ?, ?, 'mutable', ?, ?, ?, ?, ?, ?, ?)",
}
_UPDATE_RECORD = (
    "UPDATE records SET fields = ?, clocks = ?, device_id = ?, pushed_by = ?, pushed_exact = ?, "
    "seq = ?, area = ? WHERE table_name = ? AND row_id = ? AND team_id = ?")


class _Batch:
    """One push batch inside its write transaction: the stored copies of the rows it names
    (all teams, read once per table) and the areas of the rows they belong to, the team's
    hamlets, and seq numbers handed out in memory and saved once.

    A row of a table declared Area.team() belongs to the pushing team (reference rows: the
    team's own copy). A row of a household-bound table is kept once (scope "@") in the area
    of its hamlet (hub/areas.py), which must be one of the team's hamlets before and after
    the push; a household that moves to another hamlet takes its people, visits and answers
    with it, each with a new seq so the laptops of the hamlet it joins pull them."""

    def __init__(self, conn: Conn, device: Device, records: Sequence[Any], bound: Bound,
                 now: str):
        self.conn, self.device = conn, device
        self.bound = bound  # the latest clock the hub believes (hub/clocks.py)
        self.now = now
        self.seq: int = int(conn.scalar("SELECT value FROM counters WHERE name = 'seq'"))
        self.start = self.seq
        team = conn.execute("SELECT province_code, commune_code, kind FROM teams WHERE id = ?",
                            (device.team_id,)).fetchone()
        self.team = (team["province_code"], team["commune_code"], team["kind"])
        self.scope = set(areas.team_scope(conn, device.team_id))
        wanted: dict[str, set[str]] = {}
        parents: dict[str, set[str]] = {}
        via = _via_relations()
        for record in records:
            table = record.get("table") if isinstance(record, Mapping) else None
            row_id = record.get("id") if isinstance(record, Mapping) else None
            if not (table in REGISTRY and _storable_text(row_id)):
                continue
            wanted.setdefault(table, set()).add(row_id)
            relation = via.get(table)
            if relation is not None:  # the row it belongs to: its area is this one's
                fields = record.get("fields")
                parent = fields.get(relation[0]) if isinstance(fields, dict) else None
                if type(parent) is str and ID_PATTERN.fullmatch(parent):
                    parents.setdefault(relation[1], set()).add(parent)
        # (table, id) -> team -> (fields JSON, clocks JSON)
        self.stored: dict[tuple[str, str], dict[str, tuple[str, str | None]]] = {}
        # (table, id) -> area, of the shared rows read or written here (and their parents)
        self.areas: dict[tuple[str, str], str] = {}
        # Rows new to the hub, written together by finish(); (table, id) -> parameters.
        self.new_events: dict[tuple[str, str], tuple[Any, ...]] = {}
        self.new_rows: dict[tuple[str, str], tuple[Any, ...]] = {}
        # What the batch changed, for the figures (hub/figures.py): hamlets and teams.
        self.touched_hamlets: set[str] = set()
        self.touched_teams: set[str] = set()
        for table, ids in wanted.items():
            for chunk in _chunks(sorted(ids)):
                for row in conn.execute(
                        "SELECT row_id, team_id, fields, clocks, area FROM records WHERE "
                        f"table_name = ? AND row_id IN ({','.join('?' * len(chunk))})",
                        (table, *chunk)):
                    self.stored.setdefault((table, row["row_id"]), {})[row["team_id"]] = (
                        row["fields"], row["clocks"])
                    if row["team_id"] == SHARED:
                        self.areas[(table, row["row_id"])] = row["area"]
        for table, ids in parents.items():
            # A parent in this batch is read above (stored) or placed when it is applied,
            # before the rows that belong to it (a laptop sends parents first).
            for chunk in _chunks(sorted(ids - wanted.get(table, set()))):
                for row in conn.execute(
                        "SELECT row_id, area FROM records WHERE table_name = ? AND team_id = ? "
                        f"AND row_id IN ({','.join('?' * len(chunk))})", (table, SHARED, *chunk)):
                    self.areas[(table, row["row_id"])] = row["area"]

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def finish(self) -> int:
        """Write the new rows (one statement per kind) and the counter."""
        self._flush()
        if self.seq != self.start:
            self.conn.execute("UPDATE counters SET value = ? WHERE name = 'seq'", (self.seq,))
            figures.mark_dirty(self.conn, hamlets=self.touched_hamlets,
                               teams=self.touched_teams, marked=self.seq)
        return self.seq

    def _flush(self) -> None:
        for kind, rows in (("event", self.new_events), ("mutable", self.new_rows)):
            if rows:
                self.conn.executemany(_INSERT_RECORD[kind], list(rows.values()))
                rows.clear()

    def apply(self, record: Mapping[str, Any]) -> str:
        spec = validate(record)
        conn, device = self.conn, self.device
        table, row_id = spec.name, record["id"]
        key = (table, row_id)
        copies = self.stored.setdefault(key, {})
        shared = spec.placed.shared
        scope = SHARED if shared else device.team_id
        stored = copies.get(scope)
        if shared:
            if stored is not None and self.areas.get(key) not in self.scope:
                raise Rejected("out_of_scope")  # a row of a hamlet not the team's
        elif stored is None and copies and not (spec.reference or spec.team_keyed):
            raise Rejected("out_of_scope")  # another team's row (reference rows: own copy)
        check_clocks(record, spec, self.bound, (copies.get(PUBLISHED), stored))
        fields = dict(record["fields"])
        if spec.kind == "event":
            outcome = merge_event(json.loads(stored[0]) if stored else None, fields)
            if outcome == "applied":
                area = self._place(spec, row_id, fields) if shared else scope
                text = _json(fields)
                self.new_events[key] = (
                    table, row_id, scope, text, record["created_at"], record["device_id"],
                    device.id, self.next_seq(), area)
                copies[scope] = (text, None)
                self._placed(spec, key, area, fields)
            return outcome
        clocks = dict(record["clocks"])
        if stored is None:
            ruled = spec.rules.enforce(fields)  # the table's rules, as every laptop has them
            area = self._place(spec, row_id, ruled) if shared else scope
            texts = (_json(ruled), _json(clocks))
            self.new_rows[key] = (
                table, row_id, scope, *texts, _latest_device(clocks), device.id,
                int(ruled == fields), self.next_seq(), area)
            copies[scope] = texts
            self._placed(spec, key, area, ruled)
            return "applied"
        merged = merge_mutable(json.loads(stored[0]),
                               believed(json.loads(stored[1] or "{}"), self.bound), fields,
                               clocks, spec.rules)
        if not merged.changed:
            return "duplicate"
        area = self._place(spec, row_id, merged.fields) if shared else scope
        if shared and area != self.areas.get(key):
            self._move(table, [row_id], self.areas[key], area)
        # The sender already has the row only if the merge kept nothing of anyone else's.
        exact = int(merged.fields == fields and merged.clocks == clocks)
        texts = (_json(merged.fields), _json(merged.clocks))
        copies[scope] = texts
        self._placed(spec, key, area, merged.fields)
        if key in self.new_rows:  # new in this very batch: not written yet
            self.new_rows[key] = (
                table, row_id, scope, *texts, _latest_device(merged.clocks), device.id, exact,
                self.next_seq(), area)
            return "applied"
        conn.execute(_UPDATE_RECORD, (*texts, _latest_device(merged.clocks), device.id, exact,
                                      self.next_seq(), area, table, row_id, scope))
        return "applied"

    # -- areas -----------------------------------------------------------------------------
    def _place(self, spec: SyncedTable, row_id: str, fields: Mapping[str, Any]) -> str:
        """The area of a household-bound row as `fields` has it, or Rejected: a row of a
        hamlet outside the team's ("out_of_scope"), or whose hamlet or parent row the hub
        does not have yet ("unknown_parent": the laptop sends it again later)."""
        placed = spec.placed
        if placed.kind == "hamlet":
            if row_id in self.scope:
                return row_id
            province, commune, kind = self.team
            if kind == "commune" and areas.register_hamlet(
                    self.conn, row_id, province, commune, str(fields.get("name") or ""),
                    self.now, bool(fields.get("deleted"))):
                self.scope.add(row_id)  # a commune team's new hamlet: now its commune's
                return row_id
            raise Rejected("out_of_scope")  # a hamlet team adds no hamlet
        parent = fields[str(placed.field)]
        if placed.kind == "own":
            if parent in self.scope:
                return str(parent)
            raise Rejected("out_of_scope" if areas.is_registered(self.conn, parent)
                           else "unknown_parent")
        area = self.areas.get((str(placed.table), parent))
        if area is None:
            raise Rejected("unknown_parent")
        if area not in self.scope:
            raise Rejected("out_of_scope")
        return area

    def _placed(self, spec: SyncedTable, key: tuple[str, str], area: str,
                fields: Mapping[str, Any]) -> None:
        if not spec.placed.shared:
            self.touched_teams.add(area)
            if spec.name in figures.CATALOG_TABLES:  # the team's targets: its hamlets'
                self.touched_hamlets.update(figures.team_hamlets(self.conn, [area]))
        else:
            self.touched_hamlets.add(area)
        if spec.placed.shared:
            self.areas[key] = area
            if spec.placed.kind == "hamlet":
                areas.note_hamlet_row(self.conn, key[1], dict(fields))

    def _move(self, table: str, ids: list[str], old: str, new: str) -> None:
        """Rows that belong to the moved rows (Area.via, transitively) follow them from area
        `old` to `new`, each with a new seq. Moves are rare: the rows of the old hamlet of
        each such table are read and those naming a moved row picked."""
        self._flush()  # so the rows new in this batch move too
        self.touched_hamlets.update((old, new))
        moving = set(ids)
        for child in area_children(table):
            field = str(child.placed.field)
            moved = [row["row_id"] for row in self.conn.execute(
                "SELECT row_id, fields FROM records WHERE area = ? AND table_name = ? AND "
                "team_id = ? ORDER BY seq", (old, child.name, SHARED))
                if json.loads(row["fields"]).get(field) in moving]
            if not moved:
                continue
            self.conn.executemany(
                "UPDATE records SET area = ?, seq = ? WHERE table_name = ? AND row_id = ? "
                "AND team_id = ?", [(new, self.next_seq(), child.name, row_id, SHARED)
                                    for row_id in moved])
            for row_id in moved:
                self.areas[(child.name, row_id)] = new
            self._move(child.name, moved, old, new)


@functools.cache
def _via_relations() -> dict[str, tuple[str, str]]:
    """table -> (field, parent table) of every table declared Area.via (the registry is
    complete once dxkit.workspace is imported, before any push)."""
    return {name: (str(spec.placed.field), str(spec.placed.table))
            for name, spec in REGISTRY.items() if spec.placed.kind == "via"}


def _chunks(ids: Sequence[str], size: int = 400) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


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
