"""Officials' accounts on the hub and their sessions (issue 13 §2): who may open the
province's and the communes' pages.

An official has a username (unique whatever its case), a role — `province` (every commune)
or `commune` (one commune of the post-2025 administrative units, dxkit/core/places.py) — and
a password hashed with argon2id (argon2-cffi), rehashed at the next login when the parameters
change. Five wrong passwords within 15 minutes lock the username for 15 minutes
(MAX_FAILURES, FAILURE_WINDOW, LOCK_TIME) — any username typed, known or not, so the answers
never tell which accounts exist. A disabled account cannot log in and its sessions
end at once.

A session is a random token the browser keeps in a cookie; the hub stores only its SHA-256
(a copy of the database opens no session), with the session's own CSRF token, and ends it
after SESSION_TIME, or IDLE_TIME without a request. The pages and the cookies are
hub/login.py's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from dxkit.core.errors import DxError
from dxkit.core.i18n import _
from dxkit.core.places import AdminUnit, communes, provinces
from dxkit.core.text import nfc
from dxkit.sync.hub.database import Conn

if TYPE_CHECKING:
    from dxkit.sync.hub.store import HubStore

ROLES = ("province", "commune")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; a megabyte "password" is an attack
MAX_USERNAME_LENGTH = 64
MAX_FAILURES = 5  # wrong passwords within FAILURE_WINDOW that lock the account
FAILURE_WINDOW = dt.timedelta(minutes=15)
LOCK_TIME = dt.timedelta(minutes=15)
SESSION_TIME = dt.timedelta(hours=12)  # a session ends this long after the login at most
IDLE_TIME = dt.timedelta(hours=2)  # ... or this long after its last request
SEEN_GRANULARITY = dt.timedelta(minutes=1)  # last_seen_at is written at most once a minute

Role = Literal["province", "commune"]
HASHER = PasswordHasher()  # argon2id with argon2-cffi's recommended parameters


def m0010_officials(conn: Conn) -> None:
    """Officials' accounts and sessions (hub/officials.py)."""
    conn.script("""
    CREATE TABLE officials (
        id TEXT PRIMARY KEY, username TEXT NOT NULL, username_key TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('province', 'commune')),
        province_code INTEGER, commune_code INTEGER, password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL, disabled_at TEXT,
        failed_count INTEGER NOT NULL DEFAULT 0, first_failed_at TEXT, locked_until TEXT,
        CHECK ((role = 'commune') = (commune_code IS NOT NULL)));
    CREATE TABLE official_sessions (
        token_hash TEXT PRIMARY KEY,
        official_id TEXT NOT NULL REFERENCES officials (id) ON DELETE CASCADE,
        csrf_token TEXT NOT NULL, created_at TEXT NOT NULL, last_seen_at TEXT NOT NULL,
        expires_at TEXT NOT NULL);
    CREATE INDEX official_sessions_by_official ON official_sessions (official_id);
    """)


def m0011_login_failures(conn: Conn) -> None:
    """Wrong passwords are counted per username typed, known or not (`login_failures`), so
    the lock-out answers alike for an account and for a name nobody has: it cannot be used to
    find out which usernames exist. Locks and counts already kept on accounts move there."""
    conn.script("""
    CREATE TABLE login_failures (
        username_key TEXT PRIMARY KEY, failed_count INTEGER NOT NULL,
        first_failed_at TEXT, locked_until TEXT);
    """)
    conn.execute("INSERT INTO login_failures (username_key, failed_count, first_failed_at, "
                 "locked_until) SELECT username_key, failed_count, first_failed_at, "
                 "locked_until FROM officials WHERE failed_count > 0 OR locked_until IS NOT NULL")
    for column in ("failed_count", "first_failed_at", "locked_until"):
        conn.execute(f"ALTER TABLE officials DROP COLUMN {column}")


class AccountError(DxError):
    """A refused account command: one sentence."""


@dataclass(frozen=True)
class Official:
    """An official's account as the pages see it (never the password hash). `csrf_token` is
    the token of the session it came from ("" outside a session): every form of the pages
    carries it."""

    id: str
    username: str
    role: Role
    province_code: int | None
    commune_code: int | None
    created_at: str
    disabled_at: str | None = None
    locked_until: str | None = None
    csrf_token: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"username": self.username, "role": self.role,
                "province_code": self.province_code, "commune_code": self.commune_code,
                "created_at": self.created_at, "disabled": self.disabled_at is not None,
                "disabled_at": self.disabled_at, "locked_until": self.locked_until}


class LoginRefused(Exception):
    """Why a login failed: `wrong` (unknown user or wrong password: the same answer),
    `locked` (too many wrong passwords; until `until`), `disabled`."""

    def __init__(self, reason: Literal["wrong", "locked", "disabled"], until: str = ""):
        super().__init__(reason)
        self.reason, self.until = reason, until


def username_key(username: str) -> str:
    return nfc(username).strip().casefold()


@cache
def _commune_index() -> dict[int, tuple[AdminUnit, AdminUnit]]:
    return {commune.code: (province, commune)
            for province in provinces() for commune in communes(province.code)}


def commune_by_code(code: int | str) -> tuple[AdminUnit, AdminUnit] | None:
    """The (province, commune) whose commune code is `code`, or None."""
    text = str(code).strip()
    if not (text.isascii() and text.isdigit()):
        return None
    return _commune_index().get(int(text))


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(_("A password needs at least {count} characters.").format(
            count=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(_("A password may have at most {count} characters.").format(
            count=MAX_PASSWORD_LENGTH))


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _official(row: Any, csrf_token: str = "") -> Official:
    return Official(id=row["id"], username=row["username"], role=row["role"],
                    province_code=row["province_code"], commune_code=row["commune_code"],
                    created_at=row["created_at"], disabled_at=row["disabled_at"],
                    locked_until=row["locked_until"], csrf_token=csrf_token)


OFFICIAL_COLUMNS = ("o.id, o.username, o.role, o.province_code, o.commune_code, o.created_at, "
                    "o.disabled_at, (SELECT f.locked_until FROM login_failures f WHERE "
                    "f.username_key = o.username_key) AS locked_until")


# -- administration ------------------------------------------------------------------------
def add_official(store: HubStore, username: str, role: str, commune: str | int | None,
                 password: str) -> Official:
    """A new account; AccountError with a sentence for a bad username, role, commune or
    password, or a username taken (whatever its case)."""
    name = nfc(username).strip()
    if not name or len(name) > MAX_USERNAME_LENGTH or not name.isprintable() or \
            any(ch.isspace() for ch in name):
        raise AccountError(_("A username has no spaces and at most {limit} characters "
                             "(letters, digits or signs).").format(limit=MAX_USERNAME_LENGTH))
    if role not in ROLES:
        raise AccountError(_("The role is province or commune, not “{role}”.").format(
            role=role))
    province_code = commune_code = None
    if role == "commune":
        if commune is None or str(commune).strip() == "":
            raise AccountError(_("A commune official needs the commune's code (--commune)."))
        found = commune_by_code(commune)
        if found is None:
            raise AccountError(_("There is no commune or ward with the code “{code}”.").format(
                code=commune))
        province_code, commune_code = found[0].code, found[1].code
    elif commune is not None:
        raise AccountError(_("A province official has no commune; leave out --commune."))
    check_password(password)
    password_hash = HASHER.hash(password)
    now = _stamp(store.now())
    with store.database.write() as conn:
        if conn.execute("SELECT 1 FROM officials WHERE username_key = ?",
                        (username_key(name),)).fetchone():
            raise AccountError(_("There is already an official named “{name}”.").format(
                name=name))
        official_id = uuid.uuid4().hex
        conn.execute(
            "INSERT INTO officials (id, username, username_key, role, province_code, "
            "commune_code, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (official_id, name, username_key(name), role, province_code, commune_code,
             password_hash, now))
    return Official(official_id, name, role, province_code, commune_code,  # type: ignore[arg-type]
                    now)


def list_officials(store: HubStore) -> list[Official]:
    rows = store.conn.execute(f"SELECT {OFFICIAL_COLUMNS} FROM officials o "
                              "ORDER BY o.username_key").fetchall()
    return [_official(row) for row in rows]


def disable_official(store: HubStore, username: str) -> Official:
    """Disable the account and end its sessions; AccountError if there is none."""
    now = _stamp(store.now())
    with store.database.write() as conn:
        row = conn.execute(f"SELECT {OFFICIAL_COLUMNS} FROM officials o "
                           "WHERE o.username_key = ?", (username_key(username),)).fetchone()
        if row is None:
            raise AccountError(_("There is no official named “{name}”.").format(
                name=username))
        if row["disabled_at"] is None:
            conn.execute("UPDATE officials SET disabled_at = ? WHERE id = ?", (now, row["id"]))
        conn.execute("DELETE FROM official_sessions WHERE official_id = ?", (row["id"],))
        found = conn.execute(f"SELECT {OFFICIAL_COLUMNS} FROM officials o WHERE o.id = ?",
                             (row["id"],)).fetchone()
    return _official(found)


# -- logging in ----------------------------------------------------------------------------
@cache
def _decoy_hash() -> str:
    """A hash to verify against when the username is unknown, so an unknown name costs as
    long as a wrong password."""
    return HASHER.hash(secrets.token_urlsafe(16))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def log_in(store: HubStore, username: str, password: str) -> tuple[str, Official]:
    """A new session's token and its official, or LoginRefused. Run in a worker thread:
    verifying a password takes tens of milliseconds of CPU on purpose. An unknown username
    is answered like a known one with a wrong password — lock-out included."""
    now = store.now()
    key = username_key(username)[:4 * MAX_USERNAME_LENGTH]
    locked = store.conn.execute("SELECT locked_until FROM login_failures WHERE "
                                "username_key = ?", (key,)).fetchone()
    if locked is not None and locked["locked_until"] and _when(locked["locked_until"]) > now:
        raise LoginRefused("locked", locked["locked_until"])
    row = store.conn.execute("SELECT id, password_hash, disabled_at FROM officials WHERE "
                             "username_key = ?", (key,)).fetchone()
    if row is None or not _verify(row["password_hash"], password):
        if row is None:
            _verify(_decoy_hash(), password)  # the same time as a wrong password
        _count_failure(store, key, now)
    if row["disabled_at"] is not None:
        raise LoginRefused("disabled")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    rehashed = HASHER.hash(password) if HASHER.check_needs_rehash(row["password_hash"]) \
        else None
    with store.database.write() as conn:
        conn.execute("DELETE FROM login_failures WHERE username_key = ?", (key,))
        if rehashed is not None:
            conn.execute("UPDATE officials SET password_hash = ? WHERE id = ?",
                         (rehashed, row["id"]))
        conn.execute("INSERT INTO official_sessions (token_hash, official_id, csrf_token, "
                     "created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                     (token_hash(token), row["id"], csrf, _stamp(now), _stamp(now),
                      _stamp(now + SESSION_TIME)))
        found = conn.execute(f"SELECT {OFFICIAL_COLUMNS} FROM officials o WHERE o.id = ?",
                             (row["id"],)).fetchone()
    return token, _official(found, csrf)


def _verify(password_hash: str, password: str) -> bool:
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _count_failure(store: HubStore, key: str, now: dt.datetime) -> NoReturn:
    """One more wrong password for the username `key`; the one that makes MAX_FAILURES
    within FAILURE_WINDOW locks that name for LOCK_TIME. Counts whose window has passed are
    dropped, so names typed once by a guesser do not pile up."""
    with store.database.write() as conn:
        conn.execute("DELETE FROM login_failures WHERE first_failed_at < ? AND "
                     "(locked_until IS NULL OR locked_until < ?)",
                     (_stamp(now - FAILURE_WINDOW), _stamp(now)))
        row = conn.execute("SELECT failed_count, first_failed_at, locked_until FROM "
                           "login_failures WHERE username_key = ?", (key,)).fetchone()
        if row is not None and row["locked_until"] and _when(row["locked_until"]) > now:
            raise LoginRefused("locked", row["locked_until"])  # locked meanwhile
        first = row["first_failed_at"] if row is not None else None
        if first is None or now - _when(first) > FAILURE_WINDOW:
            count, first = 1, _stamp(now)
        else:
            count = row["failed_count"] + 1
        until = _stamp(now + LOCK_TIME) if count >= MAX_FAILURES else None
        if until is not None:
            count, first = 0, None
        conn.execute("DELETE FROM login_failures WHERE username_key = ?", (key,))
        conn.execute("INSERT INTO login_failures (username_key, failed_count, "
                     "first_failed_at, locked_until) VALUES (?, ?, ?, ?)",
                     (key, count, first, until))
    if until is not None:
        raise LoginRefused("locked", until)
    raise LoginRefused("wrong")


def session_official(store: HubStore, token: str) -> Official | None:
    """The official of a live session (not expired, not idle too long, account not
    disabled), with the session's CSRF token; None otherwise."""
    if not token or len(token) > 200:
        return None
    now = store.now()
    hashed = token_hash(token)
    row = store.conn.execute(
        f"SELECT {OFFICIAL_COLUMNS}, s.csrf_token, s.last_seen_at, s.expires_at FROM "
        "official_sessions s JOIN officials o ON o.id = s.official_id WHERE s.token_hash = ?",
        (hashed,)).fetchone()
    if row is None or row["disabled_at"] is not None or _when(row["expires_at"]) <= now or \
            now - _when(row["last_seen_at"]) > IDLE_TIME:
        return None
    if now - _when(row["last_seen_at"]) >= SEEN_GRANULARITY:
        with store.database.write() as conn:
            conn.execute("UPDATE official_sessions SET last_seen_at = ? WHERE token_hash = ?",
                         (_stamp(now), hashed))
    return _official(row, row["csrf_token"])


def end_session(store: HubStore, token: str) -> None:
    with store.database.write() as conn:
        conn.execute("DELETE FROM official_sessions WHERE token_hash = ?", (token_hash(token),))
        # Sessions long over go with it, so the table does not grow with every login.
        conn.execute("DELETE FROM official_sessions WHERE expires_at < ?",
                     (_stamp(store.now()),))


def same_token(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a CSRF token."""
    return bool(expected) and given is not None and hmac.compare_digest(
        expected.encode("utf-8", "replace"), given.encode("utf-8", "replace"))
