"""The public trace page: what a buyer's phone opens from a label's QR code.

`GET /t/{team_key}/{lot_code}` needs no token. It answers the lot's published trace record
(the synced table `published_traces`: row id = the lot code, `snapshot` =
TraceRecord.to_dict() as JSON) of the team whose trace key is `team_key`
(dxkit/farm/trace_ids.py) as the HTML page by default, or as JSON for `Accept:
application/json` or `?format=json`; `?lang=en` gives the English page. Lot codes are unique
within a team only, so the hub keeps each team's publication of a code apart and no team can
take another's. A code or key typed by hand is normalised first (case, dashes, o/i/l for 0/1).
Unknown or withdrawn lots get a 404 that says so in Vietnamese and English; so does a stored
snapshot the page cannot be made from (it came from a device: never a 500).

The hub is also the GS1 Digital Link resolver for lots with a GTIN (farm.gs1_resolver):
`/01/<GTIN>/10/<lot>` and `/01/<GTIN>/10/<lot>/21/<serial>`, with the team key as `?t=`.

Labels printed before trace URLs named the team (`/t/{lot_code}`, or a Digital Link without
`t`) resolve to the team that owned the code when the hub was upgraded (hub migration 0005),
else to the one team that published the code; a code two teams published is not guessed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

import dxkit.farm.tables  # noqa: F401  (registers published_traces)
from dxkit.farm.gs1 import normalize_lot_code
from dxkit.farm.trace_html import (
    Language,
    not_found_message,
    not_found_page,
    trace_json,
    trace_page,
)
from dxkit.farm.trace_ids import TEAM_KEY_PARAMETER, normalize_team_key
from dxkit.farm.trace_record import TraceRecord
from dxkit.sync.hub.areas import PUBLISHED
from dxkit.sync.hub.bodies import parse_json
from dxkit.sync.hub.store import HubStore

LOG = logging.getLogger("dxkit.hub")
TRACE_TABLE = "published_traces"
TRACE_PATH = "/t/{lot_code}"
TEAM_TRACE_PATH = "/t/{team_key}/{lot_code}"
DIGITAL_LINK_PATHS = ("/01/{gtin}/10/{lot}", "/01/{gtin}/10/{lot}/21/{serial}")
# The page has no script: forbid any, so even a value that slipped through escaping is inert.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "img-src data:; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Vary": "Accept",
    "Cache-Control": "public, max-age=300",
}


def trace_routes(store: HubStore) -> list[Route]:
    async def trace(request: Request) -> Response:
        return await answer(request, None, request.path_params["lot_code"], None)

    async def team_trace(request: Request) -> Response:
        return await answer(request, request.path_params["team_key"],
                            request.path_params["lot_code"], None)

    async def digital_link(request: Request) -> Response:
        """A GS1 Digital Link (/01/<GTIN>/10/<lot>[/21/<serial>][?t=<team key>]) resolves to
        the lot's page when the published lot carries that GTIN."""
        return await answer(request, request.query_params.get(TEAM_KEY_PARAMETER),
                            request.path_params["lot"], request.path_params["gtin"])

    async def answer(request: Request, team_key: str | None, typed: str,
                     gtin: str | None) -> Response:
        lang: Language = "en" if request.query_params.get("lang", "").lower() == "en" else "vi"
        wanted = Wanted(team_key, typed, gtin, lang, wants_json(request))
        return await run_in_threadpool(respond, store, wanted)

    return [Route(TRACE_PATH, trace, methods=["GET"]),
            Route(TEAM_TRACE_PATH, team_trace, methods=["GET"]),
            *(Route(path, digital_link, methods=["GET"]) for path in DIGITAL_LINK_PATHS)]


@dataclass(frozen=True)
class Wanted:
    """One request for a trace page: whose lot (team key as given, None on a label printed
    before keys), the code as typed, the GTIN of a Digital Link, and in what form."""

    team_key: str | None
    typed: str
    gtin: str | None
    lang: Language
    as_json: bool


def respond(store: HubStore, wanted: Wanted) -> Response:
    """The page or JSON of the lot, or the not-found answer (run in the thread pool: a
    database read and a page made)."""
    found = published_snapshot(store, wanted.team_key, wanted.typed)
    if found is not None:
        try:
            return render(decode_snapshot(found), wanted)
        except Exception as exc:
            # A device wrote this snapshot: whatever in it cannot be read or shown, the buyer
            # gets the not-found answer and the operator a line in the log, never a 500.
            LOG.warning("the published trace of %r cannot be shown (%s: %s)", wanted.typed,
                        type(exc).__name__, exc)
    return not_found(normalize_lot_code(wanted.typed), wanted)


def render(record: TraceRecord | None, wanted: Wanted) -> Response:
    if record is None or (wanted.gtin is not None and record.gtin != wanted.gtin.zfill(14)):
        # Withdrawn, or a GTIN that is not this lot's: names nothing we publish.
        return not_found(normalize_lot_code(wanted.typed), wanted)
    if wanted.as_json:
        return JSONResponse(trace_json(record), headers={
            "Vary": "Accept", "Cache-Control": "public, max-age=300",
            "Access-Control-Allow-Origin": "*"})
    other = "vi" if wanted.lang == "en" else "en"
    page = trace_page(record, lang=wanted.lang, alternate_url=f"?lang={other}")
    return HTMLResponse(page, headers={**PAGE_HEADERS, "Content-Language": wanted.lang})


def not_found(code: str, wanted: Wanted) -> Response:
    if wanted.as_json:
        return JSONResponse({"error": "not_found", "message": not_found_message(code,
                                                                                wanted.lang)},
                            status_code=404, headers={"Vary": "Accept"})
    return HTMLResponse(not_found_page(code), status_code=404, headers=PAGE_HEADERS)


def decode_snapshot(fields: dict[str, Any]) -> TraceRecord | None:
    """The trace record of a stored published_traces row, None when withdrawn; raises when
    the snapshot is not one (BodyError, TypeError, or whatever TraceRecord.from_dict
    meets)."""
    snapshot = fields.get("snapshot")
    if fields.get("deleted") or not snapshot:
        return None
    if not isinstance(snapshot, str):
        raise TypeError("the snapshot is not text")
    data = parse_json(snapshot.encode("utf-8", "surrogatepass"))
    if not isinstance(data, dict):
        raise TypeError("the snapshot is not a JSON object")
    return TraceRecord.from_dict(data).checked()


def published_snapshot(store: HubStore, team_key: str | None, typed_code: str
                       ) -> dict[str, Any] | None:
    """The stored fields of the lot's published_traces row (canonical spelling of the code
    first, then as typed), or None. With a team key, that team's row only; without one (a
    label printed before keys), the row of the team that owned the code before keys, else of
    the one team that published it."""
    codes = [code for code in dict.fromkeys([normalize_lot_code(typed_code),
                                             typed_code.strip()]) if code]
    if team_key is not None:
        team_id = team_of_key(store, team_key)
        rows = [team_rows(store, code, team_id) for code in codes] if team_id else []
    else:
        rows = [unkeyed_rows(store, code) for code in codes]
    for found in rows:
        if found:
            fields: dict[str, Any] = json.loads(found[0]["fields"])
            return fields
    return None


def team_of_key(store: HubStore, typed_key: str) -> str | None:
    key = normalize_team_key(typed_key)
    if key is None:
        return None
    row = store.conn.execute("SELECT id FROM teams WHERE trace_key = ?", (key,)).fetchone()
    return None if row is None else str(row["id"])


def team_rows(store: HubStore, code: str, team_id: str) -> list[Any]:
    return list(store.conn.execute(
        "SELECT fields FROM records WHERE table_name = ? AND row_id = ? AND team_id = ?",
        (TRACE_TABLE, code, team_id)).fetchall())


def unkeyed_rows(store: HubStore, code: str) -> list[Any]:
    """The row a label without a team key means: the code's owner before keys, else the only
    team's; none when several teams publish the code (which one the buyer holds is unknown)."""
    owner = store.conn.execute("SELECT team_id FROM legacy_trace_owners WHERE code = ?",
                               (code,)).fetchone()
    if owner is not None:
        return team_rows(store, code, owner["team_id"])
    rows = store.conn.execute(
        "SELECT fields FROM records WHERE table_name = ? AND row_id = ? AND team_id <> ? "
        "LIMIT 2", (TRACE_TABLE, code, PUBLISHED)).fetchall()
    return list(rows) if len(rows) == 1 else []


def wants_json(request: Request) -> bool:
    chosen = request.query_params.get("format", "").lower()
    if chosen in ("json", "html"):
        return chosen == "json"
    accept = request.headers.get("accept", "").lower()
    return "application/json" in accept and "text/html" not in accept
