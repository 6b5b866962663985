"""Officials log in to the hub's pages: `/login`, `/logout`, and `require_official` for the
pages that need an official (issue 13 §2; the accounts are hub/officials.py's).

- `GET /login` is a server-rendered form (Vietnamese; `?lang=en` for English), no script.
  It sets a pre-login CSRF cookie and puts the same random value in the form; `POST /login`
  is refused (403) unless both are there and equal (double submit: another site can make a
  browser post, but cannot read or set this hub's cookie, which is SameSite=Strict too).
- A good username and password gets a session cookie (HttpOnly, SameSite=Strict, Path=/;
  Secure, under the `__Host-` prefix, when the request came over HTTPS — directly with
  `hub serve --ssl-certfile`, or from a reverse proxy trusted with --proxy-headers that sends
  X-Forwarded-Proto: https) and a 303 to the dashboard. A wrong password and an unknown
  username get the same sentence; too many wrong passwords lock the account
  (hub/officials.py).
- Every state-changing POST of the pages carries the session's CSRF token in a `csrf` field:
  `require_official_form` reads the form and checks it (403 otherwise). `POST /logout` is one.
- `require_official(request)` gives the official of the request's session, or raises
  LoginRequired, which the app answers with a 303 to /login.

Every request here passes the hub's rate limits first (hub/guard.py): without a device token,
a browser is charged to its address, so guessing passwords is slowed by the address limits
as well as stopped per account by the lock-out.
"""

from __future__ import annotations

import html
import secrets
from urllib.parse import parse_qs

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from dxkit.core.i18n import N_, load_catalog
from dxkit.sync.hub.certificates import STYLE
from dxkit.sync.hub.officials import (
    MAX_PASSWORD_LENGTH,
    LoginRefused,
    Official,
    end_session,
    log_in,
    same_token,
    session_official,
)
from dxkit.sync.hub.store import HubStore

LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
DEFAULT_AFTER_LOGIN = "/dashboard"
SESSION_COOKIE = "dx_session"
LOGIN_CSRF_COOKIE = "dx_login_csrf"
MAX_FORM_BYTES = 8 * 1024  # a login form is a username, a password and a token
FORM_SECONDS = 30.0
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
FORM_STYLE = ("form{display:grid;gap:.6rem}label{display:grid;gap:.2rem}"
              "input{font:inherit;padding:.5rem;border:1px solid #999;border-radius:.3rem}"
              "button{font:inherit;padding:.55rem;border:0;border-radius:.3rem;"
              "background:#245b2a;color:#fff}.lang{text-align:right}")


class LoginRequired(Exception):
    """The request has no live session of an official."""


class CsrfRefused(Exception):
    """A state-changing POST without the right CSRF token."""


def is_secure(request: Request) -> bool:
    """The request came over HTTPS (to the hub, or to a reverse proxy it trusts)."""
    return request.url.scheme == "https"


def cookie_name(request: Request, name: str) -> str:
    # __Host-: a cookie only this origin, over HTTPS, with Path=/ can have set.
    return f"__Host-{name}" if is_secure(request) else name


def session_token(request: Request) -> str:
    return request.cookies.get(cookie_name(request, SESSION_COOKIE), "")


async def require_official(request: Request) -> Official:
    """The official whose live session the request's cookie names (with the session's CSRF
    token), or LoginRequired. For the pages: `official = await require_official(request)`."""
    store: HubStore = request.app.state.store
    token = session_token(request)
    if not token:
        raise LoginRequired
    official = await run_in_threadpool(session_official, store, token)
    if official is None:
        raise LoginRequired
    return official


async def require_official_form(request: Request) -> tuple[Official, dict[str, str]]:
    """For a state-changing POST: the official and the submitted form, or LoginRequired, or
    CsrfRefused when the form's `csrf` is not the session's token."""
    official = await require_official(request)
    form = await read_form(request)
    if not same_token(official.csrf_token, form.get("csrf")):
        raise CsrfRefused
    return official, form


async def read_form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body of at most MAX_FORM_BYTES (first value of
    each name); anything else reads as an empty form."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != \
            "application/x-www-form-urlencoded":
        return {}
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        return {}
    raw = bytearray()
    with anyio.move_on_after(FORM_SECONDS):
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_FORM_BYTES:
                return {}
    text = raw.decode("utf-8", "replace")
    return {name: values[0] for name, values in parse_qs(text, max_num_fields=20).items()}


def login_routes(store: HubStore, after_login: str = DEFAULT_AFTER_LOGIN) -> list[Route]:
    async def login_form(request: Request) -> Response:
        return form_page(request, language(request.query_params.get("lang")), None, 200)

    async def login(request: Request) -> Response:
        try:
            form = await read_form(request)
        except ValueError:
            form = {}
        lang = language(form.get("lang"))
        if not same_token(request.cookies.get(cookie_name(request, LOGIN_CSRF_COOKIE), ""),
                          form.get("csrf")):
            return form_page(request, lang, N_(
                "This form has expired or did not come from this page; please log in "
                "again."), 403)
        username = form.get("username", "")
        password = form.get("password", "")[:MAX_PASSWORD_LENGTH + 1]
        try:
            token, _official = await run_in_threadpool(log_in, store, username, password)
        except LoginRefused as refusal:
            return form_page(request, lang, refusal_message(refusal), 401, refusal.until)
        answer = RedirectResponse(after_login, status_code=303)
        set_cookie(answer, request, SESSION_COOKIE, token)
        answer.delete_cookie(cookie_name(request, LOGIN_CSRF_COOKIE), path="/",
                             secure=is_secure(request), httponly=True, samesite="strict")
        return answer

    async def logout(request: Request) -> Response:
        answer = RedirectResponse(LOGIN_PATH, status_code=303)
        try:
            await require_official_form(request)
        except LoginRequired:
            pass  # no session to end
        else:
            await run_in_threadpool(end_session, store, session_token(request))
        answer.delete_cookie(cookie_name(request, SESSION_COOKIE), path="/",
                             secure=is_secure(request), httponly=True, samesite="strict")
        return answer

    return [Route(LOGIN_PATH, login_form, methods=["GET"]),
            Route(LOGIN_PATH, login, methods=["POST"]),
            Route(LOGOUT_PATH, logout, methods=["POST"])]


def set_cookie(response: Response, request: Request, name: str, value: str) -> None:
    response.set_cookie(cookie_name(request, name), value, path="/", httponly=True,
                        samesite="strict", secure=is_secure(request))


def language(value: str | None) -> str:
    return "en" if (value or "").lower() == "en" else "vi"


def refusal_message(refusal: LoginRefused) -> str:
    if refusal.reason == "locked":
        return N_("Too many wrong passwords: this account is locked until {until} UTC. Try "
                  "again then, or ask the hub's administrator.")
    if refusal.reason == "disabled":
        return N_("This account is disabled; ask the hub's administrator.")
    return N_("The username or the password is wrong.")


def form_page(request: Request, lang: str, message: str | None, status: int,
              until: str = "") -> HTMLResponse:
    """The login form with a fresh pre-login CSRF token (cookie and field), and the
    sentence `message` (a msgid) when there is one."""
    csrf = secrets.token_urlsafe(32)
    other = "vi" if lang == "en" else "en"
    notice = ""
    if message is not None:
        text = _t(lang, message).format(until=until.replace("T", " ")[:16])
        notice = f'<p class="status bad" role="alert">{_e(text)}</p>'
    username, password = _t(lang, N_("Username")), _t(lang, N_("Password"))
    submit = _t(lang, N_("Log in"))
    body = (
        f'<p class="lang"><a href="{LOGIN_PATH}?lang={other}">'
        f'{"Tiếng Việt" if other == "vi" else "English"}</a></p>{notice}'
        f'<form method="post" action="{LOGIN_PATH}">'
        f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
        f'<input type="hidden" name="lang" value="{lang}">'
        f'<label>{_e(username)}<input name="username" required '
        'autocomplete="username" autocapitalize="none" spellcheck="false"></label>'
        f'<label>{_e(password)}<input name="password" type="password" '
        'required autocomplete="current-password"></label>'
        f'<button type="submit">{_e(submit)}</button></form>')
    title = _t(lang, N_("Officials' login"))
    page = ("<!DOCTYPE html>\n"
            f'<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)}</title>\n<style>{STYLE}{FORM_STYLE}</style>\n</head>\n"
            f"<body>\n<main>\n<h1>{_e(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n")
    response = HTMLResponse(page, status_code=status,
                            headers={**PAGE_HEADERS, "Content-Language": lang})
    set_cookie(response, request, LOGIN_CSRF_COOKIE, csrf)
    return response


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _t(lang: str, message: str) -> str:
    return load_catalog(lang).gettext(message)


def csrf_refused_page(request: Request) -> HTMLResponse:
    """403 for a page's POST whose CSRF token is missing or wrong."""
    lang = language(request.query_params.get("lang"))
    title = _t(lang, N_("Request refused"))
    text = _t(lang, N_("This form has expired or did not come from this page; go back, "
                       "reload the page and try again."))
    page = ("<!DOCTYPE html>\n"
            f'<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
            f"<body>\n<main>\n<h1>{_e(title)}</h1>\n<p>{_e(text)}</p>\n</main>\n</body>\n"
            "</html>\n")
    return HTMLResponse(page, status_code=403, headers={**PAGE_HEADERS,
                                                        "Content-Language": lang})
