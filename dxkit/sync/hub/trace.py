"""The public trace page: what a buyer's phone opens from a label's QR code.

`GET /t/{lot_code}` needs no token. It answers the lot's published trace record (the synced
table `published_traces`, row id = the lot code, `snapshot` = TraceRecord.to_dict() as JSON)
as the HTML page by default, or as JSON for `Accept: application/json` or `?format=json`;
`?lang=en` gives the English page. A code typed by hand is normalised first (case, dashes,
o/i/l for 0/1). Unknown or withdrawn lots get a 404 that says so in Vietnamese and English.
The hub is also the GS1 Digital Link resolver for lots with a GTIN (farm.gs1_resolver):
`/01/<GTIN>/10/<lot>` and `/01/<GTIN>/10/<lot>/21/<serial>` answer the same page.
"""

from __future__ import annotations

import json
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
from dxkit.farm.trace_record import TraceRecord
from dxkit.sync.hub.store import HubStore

TRACE_TABLE = "published_traces"
TRACE_PATH = "/t/{lot_code}"
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
        return await answer(request, request.path_params["lot_code"], None)

    async def digital_link(request: Request) -> Response:
        """A GS1 Digital Link (/01/<GTIN>/10/<lot>[/21/<serial>]) resolves to the lot's page
        when the published lot carries that GTIN."""
        return await answer(request, request.path_params["lot"], request.path_params["gtin"])

    async def answer(request: Request, typed: str, gtin: str | None) -> Response:
        lang: Language = "en" if request.query_params.get("lang", "").lower() == "en" else "vi"
        record = await run_in_threadpool(published_trace, store, typed)
        if record is not None and gtin is not None and record.gtin != gtin.zfill(14):
            record = None  # a GTIN that is not this lot's names nothing we publish
        as_json = wants_json(request)
        if record is None:
            code = normalize_lot_code(typed)
            if as_json:
                message = await run_in_threadpool(not_found_message, code, lang)
                return JSONResponse({"error": "not_found", "message": message},
                                    status_code=404, headers={"Vary": "Accept"})
            page = await run_in_threadpool(not_found_page, code)
            return HTMLResponse(page, status_code=404, headers=PAGE_HEADERS)
        if as_json:
            return JSONResponse(trace_json(record), headers={"Vary": "Accept",
                                                             "Cache-Control": "public, max-age=300",
                                                             "Access-Control-Allow-Origin": "*"})
        other = "vi" if lang == "en" else "en"
        page = await run_in_threadpool(
            lambda: trace_page(record, lang=lang, alternate_url=f"?lang={other}"))
        return HTMLResponse(page, headers={**PAGE_HEADERS, "Content-Language": lang})

    return [Route(TRACE_PATH, trace, methods=["GET"]),
            *(Route(path, digital_link, methods=["GET"]) for path in DIGITAL_LINK_PATHS)]


def published_trace(store: HubStore, typed_code: str) -> TraceRecord | None:
    """The published record of a lot code as typed (canonical spelling first), or None when
    the lot was never published or was withdrawn (its row deleted)."""
    for row_id in dict.fromkeys([normalize_lot_code(typed_code), typed_code.strip()]):
        if not row_id:
            continue
        stored = store.get_record(TRACE_TABLE, row_id)
        if stored is None:
            continue
        fields: dict[str, Any] = stored["fields"]
        if fields.get("deleted") or not fields.get("snapshot"):
            return None
        return TraceRecord.from_dict(json.loads(fields["snapshot"]))
    return None


def wants_json(request: Request) -> bool:
    chosen = request.query_params.get("format", "").lower()
    if chosen in ("json", "html"):
        return chosen == "json"
    accept = request.headers.get("accept", "").lower()
    return "application/json" in accept and "text/html" not in accept
