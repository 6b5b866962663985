"""The hub's HTTP API (docs/sync-protocol.md) as a Starlette ASGI app.

SQLite calls block, so every store call runs in the thread pool; HubStore keeps one
connection per thread. Request bodies may be gzip-encoded; responses are gzipped when the
client accepts it (GZipMiddleware).
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
from dxkit.sync.hub.store import Device, HubError, HubStore

API_VERSION = 1
MAX_BODY_BYTES = 1024 * 1024  # decompressed
MAX_PUSH_RECORDS = 500
MAX_PULL_LIMIT = 1000
MAX_WHOLE_NUMBER = 2**63 - 1  # SQLite's largest INTEGER
STATUS = {"bad_request": 400, "unauthorized": 401, "device_revoked": 401, "bad_code": 403,
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


def create_app(db_path: str | Path) -> Starlette:
    store = HubStore(db_path)

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
        return JSONResponse({"device_id": device_id, "token": token, "team": team.to_wire()})

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
        device = await authenticated(request)
        query = request.query_params
        table = query.get("table", "")
        if table not in REGISTRY:
            raise ApiError("bad_request", _("There is no synced table “{table}”.").format(
                table=table))
        after = whole_number(query.get("after", "0"), "after")
        upto_text = query.get("upto")
        upto = None if upto_text in (None, "") else whole_number(upto_text, "upto")
        limit = min(whole_number(query.get("limit", "500"), "limit") or 1, MAX_PULL_LIMIT)
        outcome = await run_in_threadpool(store.pull, device, table, after, upto, limit)
        return JSONResponse({"records": outcome.records, "next": outcome.next,
                             "more": outcome.more, "high_water": outcome.high_water})

    async def authenticated(request: Request) -> Device:
        scheme, _space, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError("unauthorized", _("This request has no device token; enroll the "
                                             "device first."))
        return await run_in_threadpool(store.authenticate, token.strip())

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
    ]
    served_paths = {route.path for route in api_routes}
    routes = [
        *api_routes,
        *(Route(path, guarded(unknown_version), methods=["GET", "POST", "PUT", "DELETE"])
          for path in ("/v{version:int}", "/v{version:int}/{rest:path}")),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        store.close()

    app = Starlette(
        routes=routes, lifespan=lifespan,
        middleware=[Middleware(GZipMiddleware, minimum_size=256)],
        exception_handlers={HTTPException: on_http_error, Exception: on_crash},
    )
    app.state.store = store
    return app


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
