"""The hub's HTTP API (docs/sync-protocol.md) as a Starlette ASGI app.

Database calls (SQLite or PostgreSQL) block, so every store call runs in the thread pool;
HubStore keeps one connection per thread. Request bodies may be gzip-encoded; responses are
gzipped when the client accepts it (GZipMiddleware).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any

from anyio import to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dxkit.core.i18n import _
from dxkit.core.synced import REGISTRY
from dxkit.sync.hub import digest as hub_digest
from dxkit.sync.hub.store import (
    DEFAULT_TOKEN_DAYS,
    Device,
    HubError,
    HubStore,
    storable_text,
)
from dxkit.sync.hub.trace import trace_routes

API_VERSION = 1
MAX_BODY_BYTES = 1024 * 1024  # decompressed
MAX_PUSH_RECORDS = 500
# Answers are gzipped at level 5, not Starlette's 9: a fifth of the CPU for ~10% more bytes.
GZIP_LEVEL = 5
MAX_PULL_LIMIT = 1000
WORKER_THREADS = 8  # store calls in flight (and database connections) per hub process
MAX_WHOLE_NUMBER = 2**63 - 1  # SQLite's largest INTEGER
STATUS = {"bad_request": 400, "unauthorized": 401, "device_revoked": 401,
          "token_expired": 401, "bad_code": 403,
          "not_found": 404, "unknown_version": 404, "method_not_allowed": 405,
          "too_large": 413}


class ApiError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def error_response(code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=STATUS.get(code, 500))


def openapi_document() -> bytes:
    return resources.files("dxkit.sync").joinpath("openapi.json").read_bytes()


def create_app(db: str | Path, token_days: float = DEFAULT_TOKEN_DAYS) -> Starlette:
    """The hub on `db`: a SQLite file or a postgresql:// URL. New device tokens are valid
    for `token_days`."""
    store = HubStore(db, token_days=token_days)

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "version": API_VERSION})

    async def openapi(request: Request) -> Response:
        return Response(openapi_document(), media_type="application/json")

    async def enroll(request: Request) -> Response:
        body = await json_body(request)
        code, name = body.get("code"), body.get("device_name")
        if not isinstance(code, str) or not isinstance(name, str) or not name.strip():
            raise ApiError("bad_request", _("An enrollment needs a code and a device name."))
        device_id, token, team = await run_in_threadpool(store.enroll, code, name[:200])
        bundle_key = await run_in_threadpool(store.bundle_key, team.id)
        return JSONResponse({"device_id": device_id, "token": token, "team": team.to_wire(),
                             "bundle_key": bundle_key})

    async def team_key(request: Request) -> Response:
        """The team's bundle key, for devices enrolled before teams had one."""
        device = await authenticated(request)
        bundle_key = await run_in_threadpool(store.bundle_key, device.team_id)
        return JSONResponse({"team_id": device.team_id, "bundle_key": bundle_key})

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
        return JSONResponse({"table": table, "bucket": bucket.lower(), "rows": rows})

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
        return JSONResponse({"records": records})

    async def authenticated(request: Request) -> Device:
        return await run_in_threadpool(store.authenticate, bearer_token(request))

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
    ]
    served_paths = {route.path for route in api_routes}
    routes = [
        *api_routes,
        *trace_routes(store),  # public trace pages (hub/trace.py)
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
        middleware=[Middleware(GZipMiddleware, minimum_size=256, compresslevel=GZIP_LEVEL)],
        exception_handlers={HTTPException: on_http_error, Exception: on_crash},
    )
    app.state.store = store
    return app


def synced_table_param(table: Any) -> str:
    if not isinstance(table, str) or table not in REGISTRY:
        raise ApiError("bad_request", _("There is no synced table “{table}”.").format(
            table=table))
    return table


def bearer_token(request: Request) -> str:
    scheme, _space, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError("unauthorized", _("This request has no device token; enroll the "
                                         "device first."))
    return token.strip()


def guarded(endpoint: Callable[[Request], Awaitable[Response]]
            ) -> Callable[[Request], Awaitable[Response]]:
    """Turn the errors an endpoint raises into protocol errors inside the route, so the
    response still passes through the gzip middleware."""
    async def run(request: Request) -> Response:
        try:
            return await endpoint(request)
        except (ApiError, HubError) as exc:
            return error_response(exc.code, exc.message)
    return run


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, gunzipped if needed, at most MAX_BODY_BYTES decompressed."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large()
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise too_large()
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding == "gzip":
        body = gunzip_limited(bytes(raw))
    elif encoding in ("identity", ""):
        body = bytes(raw)
    else:
        raise ApiError("bad_request", _("Unsupported Content-Encoding {name}; use gzip.").format(
            name=encoding))
    try:
        data = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError):
        raise ApiError("bad_request", _("The request body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise ApiError("bad_request", _("The request body must be a JSON object."))
    return data


def gunzip_limited(data: bytes) -> bytes:
    """Decompress without ever holding more than the limit (a small gzip can expand hugely)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, MAX_BODY_BYTES + 1)
        if len(out) > MAX_BODY_BYTES:
            raise too_large()
        if not inflater.eof or inflater.unused_data:
            raise ApiError("bad_request", _("The gzip request body is truncated or corrupt."))
    except (zlib.error, gzip.BadGzipFile):
        raise ApiError("bad_request", _("The gzip request body is truncated or corrupt.")
                       ) from None
    return out


def too_large() -> ApiError:
    return ApiError("too_large", _("The request is larger than {size} MiB; send smaller "
                                   "batches.").format(size=MAX_BODY_BYTES // (1024 * 1024)))


def whole_number(text: str, name: str) -> int:
    # ASCII digits only ("²" passes isdigit() but not int()), bounded to SQLite's INTEGER:
    # either used to answer 500.
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_WHOLE_NUMBER:
        raise ApiError("bad_request", _("{name} must be a whole number of 0 or more.").format(
            name=name))
    return int(text)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
