"""The hub's HTTP API (docs/sync-protocol.md) as a Starlette ASGI app.

Database calls (SQLite or PostgreSQL) block, so every store call runs in the thread pool;
HubStore keeps one connection per thread. Request bodies may be gzip-encoded; they are read
on the event loop (bounded in size and time) and gunzipped and parsed in the thread pool
(hub/bodies.py), like large answers are rendered, so no request's CPU work stalls the others.
Responses are gzipped when the client accepts it (GZipMiddleware). Every request passes the
rate limits first (hub/guard.py); routes that take a device token check it before they read
a body.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any

import anyio
from anyio import to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from dxkit.core.i18n import _
from dxkit.core.synced import REGISTRY
from dxkit.lessons.packs import ID_PATTERN as PACK_ID_PATTERN
from dxkit.lessons.packs import VERSION_PATTERN as PACK_VERSION_PATTERN
from dxkit.sync.hub import api as provincial_api
from dxkit.sync.hub import course_packs
from dxkit.sync.hub import digest as hub_digest
from dxkit.sync.hub.bodies import MAX_BODY_BYTES, BodyError, parse_json_object, too_large
from dxkit.sync.hub.certificates import certificate_routes, team_certificate_key
from dxkit.sync.hub.dashboard import dashboard_routes
from dxkit.sync.hub.guard import GuardMiddleware, RequestGuard, bearer_of
from dxkit.sync.hub.limits import Limits
from dxkit.sync.hub.login import (
    DEFAULT_AFTER_LOGIN,
    LOGIN_PATH,
    CsrfRefused,
    LoginRequired,
    csrf_refused_page,
    login_routes,
)
from dxkit.sync.hub.store import (
    DEFAULT_TOKEN_DAYS,
    Device,
    HubError,
    HubStore,
    storable_text,
)
from dxkit.sync.hub.trace import trace_routes

API_VERSION = 1
MAX_ENROLL_BYTES = 8 * 1024  # an enrollment is a code and a name: no reason to read more
BODY_SECONDS = 30.0  # to deliver a whole body once the request head arrived (slow senders)
MAX_PUSH_RECORDS = 500
# Answers are gzipped at level 5, not Starlette's 9: a fifth of the CPU for ~10% more bytes.
GZIP_LEVEL = 5
MAX_PULL_LIMIT = 1000
WORKER_THREADS = 8  # store calls in flight (and database connections) per hub process
MAX_WHOLE_NUMBER = 2**63 - 1  # SQLite's largest INTEGER
STATUS = {"bad_request": 400, "unauthorized": 401, "device_revoked": 401,
          "token_expired": 401, "bad_code": 403,
          "not_found": 404, "unknown_version": 404, "method_not_allowed": 405,
          "request_timeout": 408, "too_large": 413, "too_deep": 400, "rate_limited": 429}


class ApiError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def error_response(code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=STATUS.get(code, 500))


def openapi_document() -> bytes:
    return resources.files("dxkit.sync").joinpath("openapi.json").read_bytes()


def create_app(db: str | Path, token_days: float = DEFAULT_TOKEN_DAYS,
               limits: Limits | None = None, after_login: str = DEFAULT_AFTER_LOGIN
               ) -> Starlette:
    """The hub on `db`: a SQLite file or a postgresql:// URL. New device tokens are valid
    for `token_days`; requests are held to `limits` (default: Limits()); an official who
    logs in is sent to `after_login`."""
    store = HubStore(db, token_days=token_days)
    guard = RequestGuard(limits or Limits())

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "version": API_VERSION})

    async def openapi(request: Request) -> Response:
        return Response(openapi_document(), media_type="application/json")

    async def enroll(request: Request) -> Response:
        body = await json_body(request, MAX_ENROLL_BYTES)
        code, name = body.get("code"), body.get("device_name")
        if not isinstance(code, str) or not isinstance(name, str) or not name.strip():
            raise ApiError("bad_request", _("An enrollment needs a code and a device name."))
        device_id, token, team = await run_in_threadpool(store.enroll, code, name[:200])
        bundle_key = await run_in_threadpool(store.bundle_key, team.id)
        records = await run_in_threadpool(store.enrollment_records, team.id)
        signing = await run_in_threadpool(team_certificate_key, store, team.id)
        return await json_answer({"device_id": device_id, "token": token,
                                  "team": team.to_wire(), "bundle_key": bundle_key,
                                  "certificate_key": signing, "records": records})

    async def team_key(request: Request) -> Response:
        """The team's bundle key, for devices enrolled before teams had one."""
        device = await authenticated(request)
        bundle_key = await run_in_threadpool(store.bundle_key, device.team_id)
        return JSONResponse({"team_id": device.team_id, "bundle_key": bundle_key})

    async def certificate_key(request: Request) -> Response:
        """The team's certificate signing key, its key certificate and the province's
        public key, for devices enrolled before certificates (hub/certificates.py)."""
        device = await authenticated(request)
        signing = await run_in_threadpool(team_certificate_key, store, device.team_id)
        return JSONResponse(signing)

    async def push(request: Request) -> Response:
        device = await authenticated(request)
        body = await json_body(request)
        records = body.get("records")
        if not isinstance(records, list):
            raise ApiError("bad_request", _("A push needs a list of records."))
        if len(records) > MAX_PUSH_RECORDS:
            raise ApiError("bad_request", _("A push may carry at most {count} records.").format(
                count=MAX_PUSH_RECORDS))
        outcome = await run_in_threadpool(store.push, device, records)
        return JSONResponse({"results": outcome.results, "cursor": outcome.cursor})

    async def pull(request: Request) -> Response:
        token = bearer_token(request)
        query = request.query_params

        def authenticate_and_pull() -> bytes:
            # One trip to the thread pool for the whole request: a sync with nothing new is
            # this request alone, and every hand-off between threads costs under load.
            device = store.authenticate(token)
            table = query.get("table", "")
            if table not in REGISTRY:
                raise ApiError("bad_request", _("There is no synced table “{table}”.").format(
                    table=table))
            after = whole_number(query.get("after", "0"), "after")
            upto_text = query.get("upto")
            upto = None if upto_text in (None, "") else whole_number(upto_text, "upto")
            limit = min(whole_number(query.get("limit", "500"), "limit") or 1, MAX_PULL_LIMIT)
            return store.pull_body(device, table, after, upto, limit)

        body = await run_in_threadpool(authenticate_and_pull)
        guard.authenticated(token)
        return Response(body, media_type="application/json")

    async def digest(request: Request) -> Response:
        """Every table's total digest in the device's scope; or one table's per-bucket
        digests; or one bucket's (id, hash) rows."""
        device = await authenticated(request)
        bucket = request.query_params.get("bucket")
        if bucket is not None and len(bucket) != 2:
            raise ApiError("bad_request", _("A bucket is two characters."))
        if "table" not in request.query_params:
            totals = await run_in_threadpool(hub_digest.all_totals, store, device,
                                             sorted(REGISTRY))
            return JSONResponse({"tables": totals})
        table = synced_table_param(request.query_params.get("table", ""))
        if bucket is None:
            found = await run_in_threadpool(hub_digest.table_digest, store, device, table)
            return JSONResponse({"table": table, **found.to_dict()})
        rows = await run_in_threadpool(hub_digest.bucket_rows, store, device, table,
                                       bucket.lower())
        return await json_answer({"table": table, "bucket": bucket.lower(), "rows": rows})

    async def fetch(request: Request) -> Response:
        """Records by id (repair): only those in the device's scope are returned."""
        device = await authenticated(request)
        body = await json_body(request)
        table = synced_table_param(body.get("table"))
        ids = body.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) and 0 < len(i) <= 100
                                                 for i in ids):
            raise ApiError("bad_request", _("A fetch needs a list of record ids."))
        ids = [i for i in ids if storable_text(i)]  # no stored record has any other id
        if len(ids) > hub_digest.MAX_FETCH_IDS:
            raise ApiError("bad_request", _("A fetch may ask for at most {count} records."
                                            ).format(count=hub_digest.MAX_FETCH_IDS))
        records = await run_in_threadpool(hub_digest.fetch, store, device, table, ids)
        return await json_answer({"records": records})

    async def course_pack_list(request: Request) -> Response:
        """The course packs the province published (hub/course_packs.py)."""
        await authenticated(request)
        found = await run_in_threadpool(course_packs.published_packs, store)
        return await json_answer({"packs": [pack.to_dict() for pack in found]})

    async def course_pack_download(request: Request) -> Response:
        """One published pack's .zip, streamed a stored piece at a time."""
        await authenticated(request)
        course_id = request.path_params["course_id"]
        version = request.path_params["course_version"]
        if not (re.fullmatch(PACK_ID_PATTERN, course_id)
                and re.fullmatch(PACK_VERSION_PATTERN, version)):
            raise ApiError("bad_request", _("A course pack is named by its id and version, "
                                            "written as in its course.json."))
        pack = await run_in_threadpool(course_packs.published_pack, store, course_id, version)

        async def pieces() -> AsyncIterator[bytes]:
            number = 0
            while (piece := await run_in_threadpool(course_packs.pack_piece, store,
                                                    pack.id, pack.version, number)) is not None:
                yield piece
                number += 1

        # Chunked, without a Content-Length: the laptop checks the size and sha256 the
        # list gave against what arrives.
        return StreamingResponse(pieces(), media_type="application/zip")

    async def authenticated(request: Request) -> Device:
        token = bearer_token(request)
        device = await run_in_threadpool(store.authenticate, token)
        guard.authenticated(token)
        return device

    async def unknown_version(request: Request) -> Response:
        if request.path_params["version"] == API_VERSION:
            if request.url.path in served_paths:
                raise ApiError("method_not_allowed",
                               _("This address does not accept that method."))
            raise ApiError("not_found", _("There is nothing at this address."))
        raise ApiError("unknown_version", _("This hub speaks version {version} of the sync "
                                            "protocol (/v{version}/).").format(
                                                version=API_VERSION))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            return error_response("method_not_allowed",
                                  _("This address does not accept that method."))
        return error_response("not_found", _("There is nothing at this address."))

    async def on_login_required(request: Request, exc: Exception) -> Response:
        return RedirectResponse(LOGIN_PATH, status_code=303)

    async def on_csrf_refused(request: Request, exc: Exception) -> Response:
        return csrf_refused_page(request)

    async def on_crash(request: Request, exc: Exception) -> Response:
        return error_response("server_error", _("The hub failed to answer; try again later."))

    api_routes = [
        Route("/v1/health", guarded(health), methods=["GET"]),
        Route("/v1/openapi.json", guarded(openapi), methods=["GET"]),
        Route("/v1/enroll", guarded(enroll), methods=["POST"]),
        Route("/v1/push", guarded(push), methods=["POST"]),
        Route("/v1/pull", guarded(pull), methods=["GET"]),
        Route("/v1/digest", guarded(digest), methods=["GET"]),
        Route("/v1/fetch", guarded(fetch), methods=["POST"]),
        Route("/v1/team-key", guarded(team_key), methods=["GET"]),
        Route("/v1/certificate-key", guarded(certificate_key), methods=["GET"]),
        Route("/v1/course-packs", guarded(course_pack_list), methods=["GET"]),
        Route("/v1/course-packs/{course_id}/{course_version}", guarded(course_pack_download),
              methods=["GET"]),
    ]
    served_paths = {route.path for route in api_routes}
    routes = [
        *api_routes,
        *trace_routes(store),  # public trace pages (hub/trace.py)
        *certificate_routes(store),  # certificate verification pages (hub/certificates.py)
        *login_routes(store, after_login),  # officials' login (hub/login.py)
        *dashboard_routes(store),  # officials' dashboard (hub/dashboard.py)
        *provincial_api.api_routes(store),  # the provincial systems' JSON API (hub/api.py)
        *(Route(path, guarded(unknown_version), methods=["GET", "POST", "PUT", "DELETE"])
          for path in ("/v{version:int}", "/v{version:int}/{rest:path}")),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Few worker threads: every store call holds the GIL most of the time, and a big
        # pool only adds hand-offs and database connections (one per thread).
        to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
        yield
        store.close()

    app = Starlette(
        routes=routes, lifespan=lifespan,
        middleware=[Middleware(GuardMiddleware, guard=guard),
                    # Starlette leaves application/zip (a course pack) as it is.
                    Middleware(GZipMiddleware, minimum_size=256, compresslevel=GZIP_LEVEL)],
        exception_handlers={HTTPException: on_http_error, LoginRequired: on_login_required,
                            CsrfRefused: on_csrf_refused, Exception: on_crash},
    )
    app.state.store = store
    app.state.guard = guard
    return app


def synced_table_param(table: Any) -> str:
    if not isinstance(table, str) or table not in REGISTRY:
        raise ApiError("bad_request", _("There is no synced table “{table}”.").format(
            table=table))
    return table


def bearer_token(request: Request) -> str:
    token = bearer_of(request.headers.get("authorization", ""))
    if token is None:
        raise ApiError("unauthorized", _("This request has no device token; enroll the "
                                         "device first."))
    return token


def guarded(endpoint: Callable[[Request], Awaitable[Response]]
            ) -> Callable[[Request], Awaitable[Response]]:
    """Turn the errors an endpoint raises into protocol errors inside the route, so the
    response still passes through the gzip middleware."""
    async def run(request: Request) -> Response:
        try:
            return await endpoint(request)
        except (ApiError, HubError, BodyError) as exc:
            return error_response(exc.code, exc.message)
    return run


async def json_body(request: Request, limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The request's JSON object, gunzipped if needed, at most `limit` bytes decompressed:
    read here, decoded in the thread pool."""
    raw = await read_body(request, limit)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    return await run_in_threadpool(parse_json_object, raw, encoding, limit)


async def read_body(request: Request, limit: int) -> bytes:
    """The body as sent, refused as soon as it is over `limit` (declared or received) or
    still incomplete after BODY_SECONDS."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    raw = bytearray()
    try:
        with anyio.fail_after(BODY_SECONDS):
            async for chunk in request.stream():
                raw += chunk
                if len(raw) > limit:
                    raise too_large(limit)
    except TimeoutError:
        raise ApiError("request_timeout", _("The request body did not arrive in time; try "
                                            "again.")) from None
    return bytes(raw)


async def json_answer(payload: Any) -> Response:
    """A JSON answer rendered in the thread pool: a fetch or a bucket's rows can be a MiB."""
    return Response(await run_in_threadpool(render_json, payload),
                    media_type="application/json")


def render_json(payload: Any) -> bytes:
    """Compact UTF-8 JSON; text that UTF-8 cannot carry (a lone surrogate a hub stored before
    it checked types) goes as its JSON escape, for the laptop to hold back, never as a 500."""
    try:
        return json.dumps(payload, ensure_ascii=False, allow_nan=False,
                          separators=(",", ":")).encode()
    except UnicodeEncodeError:
        return json.dumps(payload, allow_nan=False, separators=(",", ":")).encode()


def whole_number(text: str, name: str) -> int:
    # ASCII digits only ("²" passes isdigit() but not int()), bounded to SQLite's INTEGER:
    # either used to answer 500.
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_WHOLE_NUMBER:
        raise ApiError("bad_request", _("{name} must be a whole number of 0 or more.").format(
            name=name))
    return int(text)
