"""Certificates that verify, on the hub: the keys, and the public page a certificate's QR opens.

Keys (dxkit/lessons/certificate_code.py). The hub makes the province's Ed25519 key pair on
first need and keeps it in its own database (table `certificate_keys`), like the teams' bundle
keys: the hub database is a private file (0600) or a PostgreSQL server, and never leaves the
hub. Each team's signing key is made here too, on first need, with a key certificate signed
by the province key (valid KEY_DAYS from the day it is made); the private key, the key
certificate and the province public key go only to the team's own devices: in the
enrollment answer and on GET /v1/certificate-key.

`GET /c/{code}` needs no token. The code is the full signed code of the QR (the certificate
is found by the id it names, and its signature checked with the province key) or the short
code printed under it (found through the records index of migration 0008). It shows only what
the learner agreed to show: course, date, issuing team, whether it is revoked, and the masked
name only when the record's `show_name` is set. Never the full name (the synced record has
none), the person, the class or the reason for a revocation. HTML by default, JSON for
`Accept: application/json` or `?format=json`; `?lang=en` gives the English page. A code the
hub knows nothing of gets a 404 with a sentence; a correctly signed code whose record has not
reached the hub yet is shown from the code itself, marked as not yet registered.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import json
import logging
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from dxkit.core.i18n import N_, load_catalog
from dxkit.core.resources import shipped_path
from dxkit.lessons.certificate_code import (
    KeyCertificate,
    code_in,
    issue_key_certificate,
    new_signing_key,
    normalize_short_code,
    public_key_of,
    public_key_text,
    short_code,
    team_name,
    verify_code,
)
from dxkit.sync.hub.store import HubError, HubStore
from dxkit.sync.hub.trace import wants_json

LOG = logging.getLogger("dxkit.hub")
CERTIFICATE_TABLE = "certificates"
CERTIFICATE_PATH = "/c/{code}"
PROVINCE = "province"
KEY_DAYS = 5 * 366  # a team's signing key signs certificates dated within this many days
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Vary": "Accept",
    "Cache-Control": "no-cache",  # a revocation shows at once
}


# -- keys --------------------------------------------------------------------------------------
def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii"))


def province_private_key(store: HubStore) -> bytes:
    """The province's private key, made and stored the first time it is needed."""
    row = store.conn.execute("SELECT private_key FROM certificate_keys WHERE name = ?",
                             (PROVINCE,)).fetchone()
    if row is not None:
        return _decode(row["private_key"])
    with store.database.write() as conn:
        row = conn.execute("SELECT private_key FROM certificate_keys WHERE name = ?",
                           (PROVINCE,)).fetchone()
        if row is not None:  # another request made it meanwhile
            return _decode(row["private_key"])
        private = new_signing_key()
        conn.execute("INSERT INTO certificate_keys (name, private_key, public_key, created_at) "
                     "VALUES (?, ?, ?, ?)", (PROVINCE, _encode(private),
                                             _encode(public_key_of(private)), _now_text(store)))
    LOG.info("made the province's certificate key")
    return private


def province_public_key(store: HubStore) -> bytes:
    return public_key_of(province_private_key(store))


def team_certificate_key(store: HubStore, team_id: str) -> dict[str, str]:
    """What the team's devices need to sign certificates (made on first need): the signing
    key and its key certificate (URL-safe base64) and the province public key (as printed).
    Goes only to the team's own devices, like the bundle key."""
    province = province_private_key(store)
    row = store.conn.execute("SELECT private_key, key_certificate FROM team_certificate_keys "
                             "WHERE team_id = ?", (team_id,)).fetchone()
    if row is None:
        team = store.team(team_id)  # HubError not_found for an unknown team
        with store.database.write() as conn:
            row = conn.execute("SELECT private_key, key_certificate FROM team_certificate_keys "
                               "WHERE team_id = ?", (team_id,)).fetchone()
            if row is None:
                private = new_signing_key()
                start = store.now().date()
                cert = issue_key_certificate(
                    province, team_id=team.id, province_code=team.province_code,
                    commune_code=team.commune_code, hamlet=team.hamlet,
                    public_key=public_key_of(private), valid_from=start,
                    valid_until=start + dt.timedelta(days=KEY_DAYS))
                conn.execute("INSERT INTO team_certificate_keys (team_id, private_key, "
                             "key_certificate, created_at) VALUES (?, ?, ?, ?)",
                             (team_id, _encode(private), cert.to_text(), _now_text(store)))
                row = {"private_key": _encode(private), "key_certificate": cert.to_text()}
    return {"team_id": team_id, "signing_key": str(row["private_key"]),
            "key_certificate": str(row["key_certificate"]),
            "province_public_key": public_key_text(public_key_of(province))}


def _now_text(store: HubStore) -> str:
    return store.now().astimezone(dt.UTC).isoformat(timespec="seconds")


# -- the public page ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Shown:
    """What the page may show of one certificate (nothing else is ever read out)."""

    code: str  # the short code
    valid: bool
    registered: bool  # the hub holds the certificate's record
    revoked: bool
    revoked_on: str | None
    course: str
    course_version: str
    issued_on: str
    team: str
    name: str | None  # the masked name, only with the learner's consent

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "valid": self.valid and not self.revoked,
                "signature_valid": self.valid, "registered": self.registered,
                "revoked": self.revoked, "revoked_on": self.revoked_on,
                "course": self.course, "course_version": self.course_version,
                "course_title": course_title(self.course, "vi") or None,
                "issued_on": self.issued_on, "team": self.team, "name": self.name}


def certificate_routes(store: HubStore) -> list[Route]:
    async def page(request: Request) -> Response:
        lang = "en" if request.query_params.get("lang", "").lower() == "en" else "vi"
        typed = request.path_params["code"]
        return await run_in_threadpool(respond, store, typed, lang, wants_json(request))

    return [Route(CERTIFICATE_PATH, page, methods=["GET"])]


def respond(store: HubStore, typed: str, lang: str, as_json: bool) -> Response:
    try:
        shown = find(store, typed, lang)
    except Exception as exc:  # a stored record the page cannot read: never a 500
        LOG.warning("the certificate %r cannot be shown (%s: %s)", typed[:40],
                    type(exc).__name__, exc)
        shown = None
    if shown is None:
        message = _t(lang, N_("No certificate with this code is known. Check that the whole "
                              "code was scanned or typed."))
        if as_json:
            return JSONResponse({"error": "not_found", "message": message},
                                status_code=404, headers={"Vary": "Accept"})
        return HTMLResponse(_page(_t(lang, N_("Certificate not found")),
                                  f"<p>{_e(message)}</p>", lang),
                            status_code=404, headers=PAGE_HEADERS)
    if as_json:
        return JSONResponse(shown.to_json(), headers={
            "Vary": "Accept", "Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"})
    return HTMLResponse(_certificate_page(shown, lang),
                        headers={**PAGE_HEADERS, "Content-Language": lang})


def find(store: HubStore, typed: str, lang: str = "vi") -> Shown | None:
    """The certificate a full or short code names, as the page may show it, or None."""
    full = code_in(typed)
    if full is not None:
        checked = verify_code(full, province_public_key(store))
        if checked.payload is None or checked.key_certificate is None:
            return None
        row = store.conn.execute(
            "SELECT team_id, fields FROM records WHERE table_name = ? AND row_id = ?",
            (CERTIFICATE_TABLE, checked.payload.certificate_id)).fetchone()
        short = short_code(full)
        if row is not None and json.loads(row["fields"]).get("code") == short:
            return _shown(store, row, checked.valid, lang)
        if not checked.valid:
            return None
        payload, key = checked.payload, checked.key_certificate
        return Shown(short, True, False, False, None, payload.course_id,
                     payload.course_version, payload.issued_on.isoformat(),
                     key.team_name(load_catalog(lang).gettext), payload.display_name or None)
    short_typed = normalize_short_code(typed)
    if short_typed is None:
        return None
    code_sql = ("((fields::json) ->> 'code')" if store.database.postgres
                else "json_extract(fields, '$.code')")
    # The literal table name lets the planner use the partial index of migration 0008.
    row = store.conn.execute(
        f"SELECT team_id, fields FROM records WHERE table_name = 'certificates' AND "
        f"{code_sql} = ? LIMIT 1", (short_typed,)).fetchone()
    return None if row is None else _shown(store, row, True, lang)


def _shown(store: HubStore, row: Any, valid: bool, lang: str) -> Shown | None:
    catalog = load_catalog(lang)
    fields = json.loads(row["fields"])
    if fields.get("deleted"):
        return None
    try:
        team = store.team(row["team_id"])
        team_text = team_name(team.province_code, team.commune_code, team.hamlet,
                              catalog.gettext)
    except HubError:
        team_text = ""
    revoked_on = fields.get("revoked_on")
    return Shown(
        code=str(fields.get("code") or ""), valid=valid, registered=True,
        revoked=bool(fields.get("revoked")),
        revoked_on=str(revoked_on) if revoked_on else None,
        course=str(fields.get("course_id") or ""),
        course_version=str(fields.get("course_version") or ""),
        issued_on=str(fields.get("issued_on") or ""), team=team_text,
        name=str(fields.get("display_name") or "") or None if fields.get("show_name")
        else None)


# -- HTML --------------------------------------------------------------------------------------
STYLE = ("body{font-family:system-ui,sans-serif;margin:0;background:#f6f4ee;color:#222}"
         "main{max-width:36rem;margin:0 auto;padding:1.2rem}"
         "h1{font-size:1.4rem}.status{font-size:1.2rem;font-weight:bold;padding:.6rem;"
         "border-radius:.4rem}.ok{background:#dcefdc}.bad{background:#f6d8d8}"
         "dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem}dt{color:#555}"
         "dd{margin:0}")


@functools.cache
def _shipped_titles() -> dict[str, dict[str, str]]:
    """Course id -> its title per language, for the courses shipped with dxkit."""
    titles: dict[str, dict[str, str]] = {}
    folder = shipped_path("courses")
    for manifest in sorted(folder.glob("*/course.json")):
        try:
            data = json.loads(manifest.read_text("utf-8"))
            titles[str(data["id"])] = {str(k): str(v) for k, v in data["title"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    return titles


def course_title(course_id: str, lang: str) -> str:
    """The course's title in `lang` (else Vietnamese) when the hub knows the course."""
    title = _shipped_titles().get(course_id, {})
    return title.get(lang) or title.get("vi", "")


def _certificate_page(shown: Shown, lang: str) -> str:
    if shown.revoked:
        status, css = _t(lang, N_("This certificate was revoked.")), "bad"
        if shown.revoked_on:
            status = _t(lang, N_("This certificate was revoked on {date}.")).format(
                date=shown.revoked_on)
    elif shown.valid:
        status, css = _t(lang, N_("This certificate is valid.")), "ok"
    else:
        status, css = _t(lang, N_("This certificate's signature could not be verified.")), "bad"
    title = course_title(shown.course, lang)
    rows = [(_t(lang, N_("Course")), (f"{title} — " if title else "") + shown.course
             + (f" ({shown.course_version})" if shown.course_version else "")),
            (_t(lang, N_("Issued on")), shown.issued_on),
            (_t(lang, N_("Issued by")), shown.team)]
    if shown.name:
        rows.append((_t(lang, N_("Learner")), shown.name))
    rows.append((_t(lang, N_("Code")), shown.code))
    body = (f'<p class="status {css}">{_e(status)}</p><dl>'
            + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows) + "</dl>")
    if not shown.registered:
        body += "<p>{}</p>".format(_e(_t(lang, N_(
            "The issuing team's laptop has not sent this certificate to the hub yet; the "
            "code itself is correctly signed."))))
    other = "vi" if lang == "en" else "en"
    body += f'<p><a href="?lang={other}">{"Tiếng Việt" if other == "vi" else "English"}</a></p>'
    return _page(_t(lang, N_("Certificate of completion")), body, lang)


def _page(title: str, body: str, lang: str) -> str:
    return ("<!DOCTYPE html>\n"
            f'<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
            f"<body>\n<main>\n<h1>{_e(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n")


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _t(lang: str, message: str) -> str:
    """`message` in `lang`, whatever language the hub process speaks (thread-safe)."""
    return load_catalog(lang).gettext(message)


def key_certificate_of(wire: dict[str, str]) -> KeyCertificate:
    """The key certificate in a `team_certificate_key` answer."""
    return KeyCertificate.from_text(wire["key_certificate"])
