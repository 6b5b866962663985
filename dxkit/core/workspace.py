"""The workspace: one folder holding the SQLite file and settings. Everything goes through it.

Like Anki's Collection, `Workspace.open(path)` owns the database and the domain services
(`ws.households`, `ws.people`, `ws.visits`, `ws.indicators`, `ws.catalog`). The UI, CLI and
tests all use it. Each thread gets its own connection (WAL lets readers run beside the one
writer), and every mutation runs in `ws.transaction()`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import platformdirs

from dxkit.core import indicators as indicator_rules
from dxkit.core import search as search_index
from dxkit.core import store
from dxkit.core.catalog import Catalog
from dxkit.core.errors import WorkspaceError
from dxkit.core.farm.service import Farm
from dxkit.core.hlc import Clock
from dxkit.core.households import Households, People
from dxkit.core.i18n import _
from dxkit.core.ids import uuid7
from dxkit.core.indicators import Indicators
from dxkit.core.places import DATA_VERSION, AdminUnit, find_commune, find_province
from dxkit.core.sqlbatch import select_in
from dxkit.core.synced import Tx
from dxkit.core.visits import Visits, refresh_follow_ups

SETTINGS_FILENAME = "settings.json"


def default_path() -> Path:
    """DXKIT_HOME, else the platform's user data folder (e.g. %LOCALAPPDATA%\\dxkit)."""
    env = os.environ.get("DXKIT_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("dxkit", appauthor=False)) / "workspace"


def demo_path() -> Path:
    """Where `python3 quickstart.py app` keeps its demo workspace."""
    return Path(platformdirs.user_data_dir("dxkit", appauthor=False)) / "demo"


class Workspace:
    def __init__(self, folder: Path):
        self.path = folder
        self.db_path = folder / store.DB_FILENAME
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._fixed_now: dt.datetime | None = None
        self.catalog = Catalog(self)
        self.households = Households(self)
        self.people = People(self)
        self.visits = Visits(self)
        self.indicators = Indicators(self)
        self.farm = Farm(self)
        self.settings = Settings(folder / SETTINGS_FILENAME)
        self.created = False

    # -- opening ------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path | None = None) -> Workspace:
        folder = Path(path).expanduser() if path else default_path()
        if folder.exists() and not folder.is_dir():
            raise WorkspaceError(_("{path} is a file; a workspace is a folder.").format(
                path=folder))
        db_path = folder / store.DB_FILENAME
        store.check_existing(db_path)  # refuses foreign, damaged or too-new files untouched
        folder.mkdir(parents=True, exist_ok=True)
        ws = cls(folder)
        conn = ws.conn
        ws.created = "0001_initial" in store.migrate(conn, db_path)
        meta = ws.meta()
        if "device_id" not in meta:
            conn.execute("INSERT INTO meta (key, value) VALUES ('device_id', ?), "
                         "('admin_data', ?)", (uuid7().replace("-", "")[:16], DATA_VERSION))
            meta = ws.meta()
        ws.clock = Clock(meta["device_id"], meta.get("hlc"))
        if ws.created:
            ws.catalog.seed_defaults()
        ws.farm.seed_reference()  # adds shipped registry rows a workspace lacks
        return ws

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (sqlite3 connections must not be shared across threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = store.connect(self.db_path)
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        own = getattr(self._local, "conn", None)
        if own is not None:
            # Keeps planner statistics current for the next open (SQLite's advice on close);
            # the limit keeps it to a few milliseconds even on a large file.
            with contextlib.suppress(sqlite3.Error):
                own.execute("PRAGMA analysis_limit = 400")
                own.execute("PRAGMA optimize")
        with self._connections_lock:
            for conn in self._connections:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One write transaction; nested use joins the outer one (through a savepoint)."""
        outer: Tx | None = getattr(self._local, "tx", None)
        conn = self.conn
        if outer is not None:
            conn.execute("SAVEPOINT nested")
            try:
                yield outer
            except BaseException:
                conn.execute("ROLLBACK TO nested")
                conn.execute("RELEASE nested")
                raise
            conn.execute("RELEASE nested")
            return
        conn.execute("BEGIN IMMEDIATE")
        tx = Tx(conn, self.clock, self.actor)
        self._local.tx = tx
        try:
            yield tx
            self._before_commit(tx)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            self._local.tx = None

    def _before_commit(self, tx: Tx) -> None:
        """Derived state that must change with the data: search index, indicators, clock."""
        households = set(tx.changes.ids("households"))
        people = tx.changes.ids("people")
        conn = tx.conn
        households.update(r[0] for r in select_in(
            conn, "SELECT household_id FROM people WHERE id IN ({marks})", sorted(people)))
        for hamlet_id in tx.changes.updated.get("hamlets", ()):
            households.update(r[0] for r in conn.execute(
                "SELECT id FROM households WHERE hamlet_id = ?", (hamlet_id,)))
        search_index.refresh(conn, sorted(households))
        visited = {r[0] for r in select_in(
            conn, "SELECT household_id FROM visits WHERE id IN ({marks})",
            sorted(tx.changes.created.get("visits", ())))}
        if visited:
            refresh_follow_ups(conn, sorted(visited))
        affected = indicator_rules.affected_people(tx)
        if affected:
            indicator_rules.store(conn, affected)
        conn.execute("INSERT INTO meta (key, value) VALUES ('hlc', ?) "
                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (self.clock.last,))

    # -- context ------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self.conn.execute("SELECT key, value FROM meta")}

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) "
                          "DO UPDATE SET value = excluded.value", (key, value))

    @property
    def device_id(self) -> str:
        return self.clock.device

    @property
    def actor(self) -> str:
        """Who is recording: the chosen team member, else this device."""
        member_id = self.settings.get("current_member_id")
        if member_id:
            row = self.conn.execute("SELECT name FROM team_members WHERE id = ?",
                                    (member_id,)).fetchone()
            if row:
                return row[0]
        return f"device {self.device_id[:8]}"

    def now(self) -> dt.datetime:
        return self._fixed_now or dt.datetime.now().replace(microsecond=0)

    def today(self) -> dt.date:
        return self.now().date()

    def freeze_time(self, moment: dt.datetime | None) -> None:
        """Tests and the demo generator pin 'now'."""
        self._fixed_now = moment

    # -- team configuration -------------------------------------------------------------
    def configure_team(self, province: str | int, commune: str | int) -> tuple[AdminUnit,
                                                                                AdminUnit]:
        found_province = find_province(province)
        if found_province is None:
            raise WorkspaceError(_("Unknown province “{name}”.").format(name=province))
        found_commune = find_commune(found_province.code, commune)
        if found_commune is None:
            raise WorkspaceError(_("Unknown commune or ward “{name}” in {province}.").format(
                name=commune, province=found_province.name))
        with self.transaction():
            self.set_meta("province_code", str(found_province.code))
            self.set_meta("province_name", found_province.name)
            self.set_meta("commune_code", str(found_commune.code))
            self.set_meta("commune_name", found_commune.name)
        return found_province, found_commune

    def team_place(self) -> tuple[str, str]:
        meta = self.meta()
        return meta.get("province_name", ""), meta.get("commune_name", "")

    def pending_changes(self) -> int:
        """Outbox entries not yet sent (the sync engine drains the outbox)."""
        return self.conn.execute("SELECT count(*) FROM outbox").fetchone()[0]


class Settings:
    """Per-workspace preferences in settings.json, written atomically."""

    def __init__(self, path: Path):
        self.path = path
        self._data: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._data is None:
            try:
                self._data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self._data = {}
        return self._data

    def get(self, key: str, default: Any = None) -> Any:
        return self._load().get(key, default)

    def set(self, key: str, value: Any) -> None:
        data = self._load()
        data[key] = value
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, self.path)
