"""The provincial systems that read the hub's JSON API (hub/api.py): the operations centre,
the data-sharing platform. Each has a name and a bearer token of its own.

`dxkit hub --db X consumers add NAME` makes the token (32 random bytes, URL-safe) and shows
it once; only its SHA-256 is stored, so a copy of the database does not let anyone read the
API. `consumers disable NAME` refuses the token from the next request on; `consumers list`
never shows a token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from dxkit.core.errors import DxError
from dxkit.core.i18n import _
from dxkit.core.text import nfc
from dxkit.sync.hub.database import Conn

if TYPE_CHECKING:  # the store runs this module's migration: no import back at run time
    from dxkit.sync.hub.store import HubStore

MAX_NAME_LENGTH = 100
USED_EVERY = dt.timedelta(minutes=1)  # last_used_at is written at most once a minute


def m0013_consumers(conn: Conn) -> None:
    """The API's consuming systems and their hashed tokens (hub/consumers.py)."""
    conn.script("""
    CREATE TABLE api_consumers (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE,
        token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, disabled_at TEXT,
        last_used_at TEXT);
    """)


class ConsumerError(DxError):
    """A refused consumers command: one sentence."""


@dataclass(frozen=True)
class Consumer:
    id: str
    name: str
    created_at: str
    disabled_at: str | None
    last_used_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _key(name: str) -> str:
    return nfc(name).strip().casefold()


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _consumer(row: Any) -> Consumer:
    return Consumer(row["id"], row["name"], row["created_at"], row["disabled_at"],
                    row["last_used_at"])


def add_consumer(store: HubStore, name: str) -> tuple[Consumer, str]:
    """A new consuming system and its token (shown once: only its hash is kept)."""
    clean = nfc(name).strip()
    if not clean or len(clean) > MAX_NAME_LENGTH or not clean.isprintable():
        raise ConsumerError(_("A consuming system's name is 1 to {limit} printable "
                              "characters.").format(limit=MAX_NAME_LENGTH))
    token = secrets.token_urlsafe(32)
    now = _stamp(store.now())
    consumer_id = uuid.uuid4().hex
    with store.database.write() as conn:
        if conn.execute("SELECT 1 FROM api_consumers WHERE name_key = ?",
                        (_key(clean),)).fetchone():
            raise ConsumerError(_("There is already a consuming system named “{name}”."
                                  ).format(name=clean))
        conn.execute("INSERT INTO api_consumers (id, name, name_key, token_hash, created_at) "
                     "VALUES (?, ?, ?, ?, ?)", (consumer_id, clean, _key(clean), _hash(token),
                                                now))
    return Consumer(consumer_id, clean, now, None, None), token


def list_consumers(store: HubStore) -> list[Consumer]:
    return [_consumer(row) for row in store.conn.execute(
        "SELECT * FROM api_consumers ORDER BY name_key")]


def disable_consumer(store: HubStore, name: str) -> Consumer:
    with store.database.write() as conn:
        row = conn.execute("SELECT * FROM api_consumers WHERE name_key = ?",
                           (_key(name),)).fetchone()
        if row is None:
            raise ConsumerError(_("There is no consuming system named “{name}”.").format(
                name=name))
        if row["disabled_at"] is None:
            conn.execute("UPDATE api_consumers SET disabled_at = ? WHERE id = ?",
                         (_stamp(store.now()), row["id"]))
        return _consumer(conn.execute("SELECT * FROM api_consumers WHERE id = ?",
                                      (row["id"],)).fetchone())


def consumer_of(store: HubStore, token: str) -> Consumer | None:
    """The enabled consumer whose token this is, or None (unknown, or disabled)."""
    if not token:
        return None
    row = store.conn.execute("SELECT * FROM api_consumers WHERE token_hash = ?",
                             (_hash(token),)).fetchone()
    if row is None or row["disabled_at"] is not None:
        return None
    now = store.now()
    used = row["last_used_at"]
    if used is None or dt.datetime.fromisoformat(used) + USED_EVERY <= now:
        store.conn.execute("UPDATE api_consumers SET last_used_at = ? WHERE id = ?",
                           (_stamp(now), row["id"]))
    return _consumer(row)
