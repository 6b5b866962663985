"""Officials' accounts on the hub (issue 13 §2): `dxkit hub users`, /login, /logout, CSRF,
lock-out, disabled accounts, and `require_official` through a route only these tests mount."""

from __future__ import annotations

import datetime as dt
import json
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

with warnings.catch_warnings():  # starlette asks for httpx2; the suite has httpx
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from dxkit.cli import cli
from dxkit.sync.hub.app import create_app
from dxkit.sync.hub.limits import Limits
from dxkit.sync.hub.login import require_official, require_official_form
from dxkit.sync.hub.officials import (
    LOCK_TIME,
    MAX_FAILURES,
    add_official,
    disable_official,
    list_officials,
)
from dxkit.sync.hub.store import HubStore

HUB_BACKENDS = ("sqlite", "postgresql")
PASSWORD = "đúng-mật-khẩu-2025"
WRONG = "The username or the password is wrong."
COMMUNE = 28249  # a commune of Đồng Tháp (province 82) after the 2025 reform


def hub_cli(db: str, *args: str, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(cli, ["--lang", "en", "hub", "--db", db, *args], input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert "Traceback" not in result.output
    return result


# -- the command line ----------------------------------------------------------------------
def test_users_add_list_disable(hub_db: str) -> None:
    added = hub_cli(hub_db, "users", "add", "--username", "Lan.Nguyen", "--role", "commune",
                    "--commune", str(COMMUNE), "--password-stdin", stdin=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert hub_cli(hub_db, "users", "add", "--username", "tinh", "--role", "province",
                   "--password-stdin", stdin=PASSWORD + "\n").exit_code == 0
    listed = hub_cli(hub_db, "users", "list", "--json")
    assert listed.exit_code == 0
    rows = json.loads(listed.output)
    assert [(r["username"], r["role"], r["commune_code"], r["province_code"], r["disabled"])
            for r in rows] == [("Lan.Nguyen", "commune", COMMUNE, 82, False),
                               ("tinh", "province", None, None, False)]
    assert "argon2" not in listed.output and PASSWORD not in listed.output
    assert "hash" not in listed.output
    # The same name in other letters' case is the same account.
    again = hub_cli(hub_db, "users", "add", "--username", "LAN.NGUYEN", "--role", "province",
                    "--password-stdin", stdin=PASSWORD + "\n")
    assert again.exit_code == 1 and "already an official" in again.output
    disabled = hub_cli(hub_db, "users", "disable", "lan.nguyen")
    assert disabled.exit_code == 0 and "disabled" in disabled.output
    rows = json.loads(hub_cli(hub_db, "users", "list", "--json").output)
    assert rows[0]["disabled"] is True and rows[1]["disabled"] is False
    assert hub_cli(hub_db, "users", "disable", "nobody").exit_code == 1


@pytest.mark.parametrize(("args", "stdin", "sentence"), [
    (("--role", "mayor"), PASSWORD, "The role is province or commune"),
    (("--role", "commune"), PASSWORD, "needs the commune's code"),
    (("--role", "commune", "--commune", "99999"), PASSWORD, "no commune or ward with the code"),
    (("--role", "commune", "--commune", "xyz"), PASSWORD, "no commune or ward with the code"),
    (("--role", "province", "--commune", str(COMMUNE)), PASSWORD, "has no commune"),
    (("--role", "province"), "short-pw", "at least 12 characters"),
    (("--role", "province"), "", "at least 12 characters"),
])
def test_users_add_refuses_with_a_sentence(hub_db: str, args: tuple[str, ...], stdin: str,
                                           sentence: str) -> None:
    result = hub_cli(hub_db, "users", "add", "--username", "someone", *args,
                     "--password-stdin", stdin=stdin + "\n")
    assert result.exit_code == 1
    assert sentence in result.output
    assert stdin not in result.output or not stdin
    assert json.loads(hub_cli(hub_db, "users", "list", "--json").output) == []


def test_users_add_needs_password_stdin(hub_db: str) -> None:
    result = hub_cli(hub_db, "users", "add", "--username", "x", "--role", "province")
    assert result.exit_code == 1 and "--password-stdin" in result.output
    assert json.loads(hub_cli(hub_db, "users", "list", "--json").output) == []


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with small costs: the recommended ones take a tenth of a second a hash by
    design, and these tests hash hundreds of times. The algorithm and code path are the same."""
    from argon2 import PasswordHasher

    from dxkit.sync.hub import officials

    monkeypatch.setattr(officials, "HASHER",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


# -- logging in ----------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.moment = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.moment


async def whoami(request: Request) -> Response:
    official = await require_official(request)
    return PlainTextResponse(f"{official.username} {official.role} {official.commune_code}")


async def change(request: Request) -> Response:
    official, form = await require_official_form(request)
    return PlainTextResponse(f"{official.username} changed {form.get('value')}")


TEST_ROUTES = [Route("/test-only/whoami", whoami, methods=["GET"]),
               Route("/test-only/change", change, methods=["POST"])]


@pytest.fixture
def hub(hub_db: str) -> Iterator[Callable[..., tuple[TestClient, HubStore, Clock]]]:
    """hub(base_url=..., limits=...) -> a test client of the hub app with the test-only
    routes mounted, its store (clock under the test's control) and that clock; two
    officials: `lan` (commune) and `tinh` (province)."""
    opened: list[TestClient] = []

    def make(base_url: str = "http://testserver", limits: Limits | None = None
             ) -> tuple[TestClient, HubStore, Clock]:
        app = create_app(hub_db, limits=limits)
        app.router.routes[:0] = TEST_ROUTES
        store: HubStore = app.state.store
        clock = Clock()
        store.now = clock
        if not list_officials(store):
            add_official(store, "Lan", "commune", str(COMMUNE), PASSWORD)
            add_official(store, "tinh", "province", None, PASSWORD)
        client = TestClient(app, base_url=base_url, follow_redirects=False)
        client.__enter__()
        opened.append(client)
        return client, store, clock

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def form_token(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def log_in(client: TestClient, username: str, password: str, lang: str = "en") -> Response:
    page = client.get("/login", params={"lang": lang})
    assert page.status_code == 200
    return client.post("/login", data={"csrf": form_token(page.text), "username": username,
                                       "password": password, "lang": lang})


def test_login_form_is_vietnamese_first_and_self_contained(hub) -> None:
    client, _store, _clock = hub()
    page = client.get("/login")
    assert page.status_code == 200 and page.headers["content-language"] == "vi"
    assert "Mật khẩu" in page.text and "<script" not in page.text
    assert "http://" not in page.text and "https://" not in page.text
    assert "form-action 'self'" in page.headers["content-security-policy"]
    assert "Password" in client.get("/login?lang=en").text


def test_login_sets_a_strict_session_cookie_and_require_official_reads_it(hub) -> None:
    client, store, _clock = hub()
    assert client.get("/test-only/whoami").headers["location"] == "/login"
    answer = log_in(client, "LAN", PASSWORD)  # any letters' case
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard"
    cookie = next(c for c in answer.headers.get_list("set-cookie")
                  if c.startswith("dx_session="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= flags
    assert "secure" not in flags  # plain HTTP: a Secure cookie would never come back
    token = cookie.split(";")[0].split("=", 1)[1]
    me = client.get("/test-only/whoami")
    assert me.status_code == 200 and me.text == f"Lan commune {COMMUNE}"
    # At rest: the token's hash, never the token; the password as argon2id.
    stored = [tuple(row) for row in store.conn.execute(
        "SELECT token_hash, csrf_token FROM official_sessions").fetchall()]
    assert len(stored) == 1 and token not in stored[0]
    hashes = [row[0] for row in store.conn.execute(
        "SELECT password_hash FROM officials").fetchall()]
    assert all(h.startswith("$argon2id$") for h in hashes)


def test_over_https_the_cookie_is_secure_and_host_only(hub) -> None:
    client, _store, _clock = hub(base_url="https://testserver")
    answer = log_in(client, "tinh", PASSWORD)
    assert answer.status_code == 303
    cookie = next(c for c in answer.headers.get_list("set-cookie")
                  if c.startswith("__Host-dx_session="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= flags
    assert client.get("/test-only/whoami").text == "tinh province None"


def test_wrong_password_and_unknown_user_get_the_same_sentence(hub) -> None:
    client, store, _clock = hub()
    wrong = log_in(client, "Lan", PASSWORD + "x")
    unknown = log_in(client, "nobody", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert WRONG in wrong.text and WRONG in unknown.text
    assert "dx_session=" not in str(wrong.headers.get_list("set-cookie"))
    count = store.conn.execute("SELECT failed_count FROM login_failures WHERE "
                               "username_key = ?", ("lan",)).fetchone()[0]
    assert count == 1
    assert client.get("/test-only/whoami").status_code == 303


def test_repeated_wrong_passwords_lock_the_account(hub) -> None:
    client, _store, clock = hub()
    for _attempt in range(MAX_FAILURES - 1):
        assert WRONG in log_in(client, "Lan", "not-the-password").text
    locked = log_in(client, "Lan", "not-the-password")
    assert locked.status_code == 401 and "locked until 2026-03-02 08:15" in locked.text
    # Even the right password waits for the lock to end.
    assert "locked until" in log_in(client, "Lan", PASSWORD).text
    assert log_in(client, "tinh", PASSWORD).status_code == 303  # other accounts unaffected
    clock.moment += LOCK_TIME + dt.timedelta(seconds=1)
    assert log_in(client, "Lan", PASSWORD).status_code == 303


def test_an_unknown_username_is_locked_out_like_an_account(hub) -> None:
    """The lock-out must not tell which usernames exist: the same answers, in the same
    order, for an account and for a name nobody has."""
    client, _store, _clock = hub()
    answers = {name: [log_in(client, name, "not-the-password") for _ in range(MAX_FAILURES + 1)]
               for name in ("Lan", "nobody-here")}
    for known, unknown in zip(answers["Lan"], answers["nobody-here"], strict=True):
        assert known.status_code == unknown.status_code == 401
        assert _without_tokens(known.text) == _without_tokens(
            unknown.text.replace("nobody-here", "Lan"))
    assert "locked until" in answers["nobody-here"][-1].text


def _without_tokens(page: str) -> str:
    return re.sub(r'value="[A-Za-z0-9_-]{40,}"', 'value=""', page)


def test_failures_spread_over_more_than_the_window_do_not_lock(hub) -> None:
    client, _store, clock = hub()
    for _attempt in range(MAX_FAILURES - 1):
        log_in(client, "Lan", "not-the-password")
    clock.moment += dt.timedelta(minutes=16)
    assert WRONG in log_in(client, "Lan", "not-the-password").text
    assert log_in(client, "Lan", PASSWORD).status_code == 303


def test_a_disabled_account_cannot_log_in_and_its_sessions_stop(hub) -> None:
    client, store, _clock = hub()
    assert log_in(client, "Lan", PASSWORD).status_code == 303
    assert client.get("/test-only/whoami").status_code == 200
    disable_official(store, "lan")
    assert client.get("/test-only/whoami").headers["location"] == "/login"
    refused = log_in(client, "Lan", PASSWORD)
    assert refused.status_code == 401 and "disabled" in refused.text


def test_session_ends_after_idle_time(hub) -> None:
    client, _store, clock = hub()
    log_in(client, "tinh", PASSWORD)
    clock.moment += dt.timedelta(minutes=90)
    assert client.get("/test-only/whoami").status_code == 200  # seen: idle time restarts
    clock.moment += dt.timedelta(minutes=90)
    assert client.get("/test-only/whoami").status_code == 200
    clock.moment += dt.timedelta(hours=3)
    assert client.get("/test-only/whoami").status_code == 303


@pytest.mark.parametrize("sent", [None, "", "forged-token"])
def test_login_without_the_right_csrf_token_is_refused(hub, sent: str | None) -> None:
    client, _store, _clock = hub()
    client.get("/login")  # the cookie is set; the form's value is not sent back
    data = {"username": "Lan", "password": PASSWORD}
    if sent is not None:
        data["csrf"] = sent
    answer = client.post("/login", data=data)
    assert answer.status_code == 403
    assert client.get("/test-only/whoami").status_code == 303


def test_login_token_from_another_browser_is_refused(hub) -> None:
    client, _store, _clock = hub()
    other, _store2, _clock2 = hub()
    token = form_token(other.get("/login").text)
    client.get("/login")
    answer = client.post("/login", data={"csrf": token, "username": "Lan",
                                         "password": PASSWORD})
    assert answer.status_code == 403


def test_state_changing_posts_need_the_session_csrf_token(hub) -> None:
    client, _store, _clock = hub()
    log_in(client, "Lan", PASSWORD)
    assert client.post("/test-only/change", data={"value": "1"}).status_code == 403
    assert client.post("/test-only/change", data={"value": "1", "csrf": "x"}
                       ).status_code == 403
    logout = client.post("/logout", data={})
    assert logout.status_code == 403
    assert client.get("/test-only/whoami").status_code == 200  # still logged in


def test_logout_ends_the_session(hub) -> None:
    client, store, _clock = hub()
    log_in(client, "Lan", PASSWORD)
    session_cookie = client.cookies.get("dx_session")
    csrf = store.conn.execute("SELECT csrf_token FROM official_sessions").fetchone()[0]
    changed = client.post("/test-only/change", data={"value": "7", "csrf": csrf})
    assert changed.status_code == 200 and changed.text == "Lan changed 7"
    answer = client.post("/logout", data={"csrf": csrf})
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert client.get("/test-only/whoami").status_code == 303
    # The old cookie, replayed, opens nothing.
    client.cookies.set("dx_session", session_cookie)
    assert client.get("/test-only/whoami").status_code == 303
    assert store.conn.execute("SELECT COUNT(*) FROM official_sessions").fetchone()[0] == 0


def test_login_is_under_the_address_rate_limit(hub) -> None:
    client, _store, _clock = hub(limits=Limits(address_rate=0.001, address_burst=3))
    statuses = [client.post("/login", data={"username": "Lan", "password": "x"}).status_code
                for _attempt in range(5)]
    assert statuses[:3] == [403, 403, 403] and statuses[3:] == [429, 429]


def test_password_is_never_logged(hub, tmp_path: Path, caplog: pytest.LogCaptureFixture
                                  ) -> None:
    client, _store, _clock = hub()
    with caplog.at_level("DEBUG"):
        log_in(client, "Lan", PASSWORD)
        log_in(client, "Lan", PASSWORD + "-wrong")
    assert PASSWORD not in caplog.text
