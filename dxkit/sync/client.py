"""The HTTP client of the sync protocol (docs/sync-protocol.md), over httpx.

One method per endpoint. Request bodies are gzip-compressed; responses are accepted gzipped.
Every failure becomes a DxError subclass carrying a translated sentence, so the CLI and the
app can show it as is. The client never retries: the engine or the app decides when to.

Field safety (dxkit.sync.transport does the network part): plain http goes only to this
computer or its local network unless the user allowed it; every request has a deadline as a
whole; an answer is read at most to MAX_RESPONSE_BYTES decompressed.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from dxkit import __version__
from dxkit.core.errors import DxError
from dxkit.core.i18n import _, format_number, ngettext
from dxkit.sync.transport import (
    AnswerTooLarge,
    BadEncoding,
    DeadlinePassed,
    GuardedTransport,
    PublicAddressRefused,
    TlsKind,
    deadline_scope,
    read_body,
    stream_body,
    tls_failure,
)

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)  # per connect / read / write
# Level 4: a third of level 6's CPU for ~8% more bytes on a batch of records (measured).
GZIP_LEVEL = 4

# The largest legitimate answer is a pull page: at most MAX_PULL_RECORDS records (the hub's
# cap, dxkit.sync.hub.app.MAX_PULL_LIMIT; a test keeps the two equal). A record of the
# registered tables is 0.3-3.5 KB on the wire (measured on the demo workspace; the largest
# is a published trace); RECORD_BYTES_BOUND allows every record of a full page about five
# times that. A page past the limit is refused, so a gzip bomb (0.8 MB that inflates to
# 800 MB) costs this much memory at most, not the whole expansion.
MAX_PULL_RECORDS = 1000
RECORD_BYTES_BOUND = 16 * 1024
ENVELOPE_BYTES = 64 * 1024  # the page's own keys, or a proxy's error page
MAX_RESPONSE_BYTES = MAX_PULL_RECORDS * RECORD_BYTES_BOUND + ENVELOPE_BYTES  # decompressed
# A whole request, connect to last byte: a pull page takes seconds even on 2G; a hub that
# drips its answer is given up on after this and counts as unreachable.
REQUEST_DEADLINE = 120.0


class HubError(DxError):
    """Base of every failure talking to the hub."""


class HubUnreachable(HubError):
    """No answer: offline, the hub is down, or the connection broke or timed out."""


class HubTooSlow(HubUnreachable):
    """The hub did not finish answering within the request's deadline."""


class HubBusy(HubUnreachable):
    """The hub asked this device to wait longer than a sync waits by itself (429): like
    being offline, the next attempt comes later."""


class HubFailed(HubError):
    """The hub answered with a server error or something that is not the protocol."""


class HubAnswerTooLarge(HubFailed):
    """The answer inflates to more than any legitimate answer (MAX_RESPONSE_BYTES)."""


class HubTlsFailed(HubError):
    """No secure connection: the hub's certificate is not trusted, expired or for another
    name, or the TLS handshake failed. `kind` says which."""

    def __init__(self, kind: TlsKind, message: str):
        super().__init__(message)
        self.kind = kind


class InsecureHubAddress(HubError):
    """Plain http to an address outside the local network, not allowed by the user: nothing
    was sent (no connection was even opened)."""


# A 429's Retry-After up to this long is waited out, at most this many times per request.
BUSY_WAIT_MAX_S = 30
BUSY_RETRIES = 3


def _seconds(header: str | None) -> int | None:
    """Retry-After as a number of seconds (dxkit's hub sends that form), or None."""
    if header is None or not header.strip().isdigit():
        return None
    return int(header.strip())


class HubRefused(HubError):
    """A 4xx answer with the hub's machine code (`bad_code`, `too_large`, …)."""

    def __init__(self, code: str, message: str, hub_message: str = ""):
        super().__init__(message)
        self.code = code
        self.hub_message = hub_message


class DeviceRevoked(HubRefused):
    """The hub no longer accepts this device's token (revoked, unknown or expired)."""


class TokenExpired(DeviceRevoked):
    """The device's token has expired; the hub administrator can renew it, after which the
    same token works again."""


def encode_body(payload: Any) -> bytes:
    """Compact JSON, gzip-compressed: what goes on the wire."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), compresslevel=GZIP_LEVEL, mtime=0)


class HubClient:
    """One hub at `base_url`, with an optional device token. Counts requests and bytes.

    `allow_insecure_http`: the user's consent to plain http beyond the local network.
    `deadline` (seconds) bounds each request as a whole, `max_response_bytes` each answer
    once decompressed. A `transport` given here (tests) is used as is: it is the caller's
    network, without the address check and the per-operation deadline."""

    def __init__(self, base_url: str, token: str | None = None,
                 transport: httpx.BaseTransport | None = None,
                 timeout: float | httpx.Timeout = DEFAULT_TIMEOUT, *,
                 allow_insecure_http: bool = False, deadline: float = REQUEST_DEADLINE,
                 max_response_bytes: int = MAX_RESPONSE_BYTES,
                 sleep: Callable[[float], None] = time.sleep):
        self.base_url = base_url.rstrip("/")
        self.sleep = sleep  # waits out a busy hub's Retry-After (tests pass their own)
        self.token = token
        self.deadline = deadline
        self.max_response_bytes = max_response_bytes
        self.requests = 0
        self.bytes_sent = 0
        self.bytes_received = 0
        if transport is None:
            plain = httpx.URL(self.base_url).scheme == "http"
            transport = GuardedTransport(private_only=plain and not allow_insecure_http)
        # trust_env=False: no proxy from the environment, whose transport would bypass ours.
        self.server_ms: int | None = None  # the hub's time (its Date header) at the last answer
        self._streamed = 0  # bytes of the last answer streamed to a sink
        self._http = httpx.Client(
            base_url=self.base_url, transport=transport, timeout=timeout, trust_env=False,
            headers={"Accept-Encoding": "gzip", "User-Agent": f"dxkit/{__version__}"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- endpoints ------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        answer = self._request("GET", "/v1/health", auth=False)
        if answer.get("ok") is not True:
            raise self._malformed()
        return answer

    def enroll(self, code: str, device_name: str) -> dict[str, Any]:
        answer = self._request("POST", "/v1/enroll", auth=False,
                               body=encode_body({"code": code, "device_name": device_name}))
        team = answer.get("team")
        if not (isinstance(answer.get("device_id"), str) and isinstance(answer.get("token"), str)
                and isinstance(team, dict) and isinstance(team.get("id"), str)):
            raise self._malformed()
        return answer

    def team_key(self) -> str | None:
        """The team's bundle key; None from a hub that predates bundle keys (no endpoint)."""
        try:
            answer = self._request("GET", "/v1/team-key")
        except HubRefused as exc:
            if exc.code in ("not_found", "unknown_version", "http_404"):
                return None
            raise
        key = answer.get("bundle_key")
        if not isinstance(key, str):
            raise self._malformed()
        return key

    def certificate_key(self) -> dict[str, Any] | None:
        """The team's certificate signing material (dxkit/sync/hub/certificates.py); None
        from a hub that predates certificates (no endpoint)."""
        try:
            return self._request("GET", "/v1/certificate-key")
        except HubRefused as exc:
            if exc.code in ("not_found", "unknown_version", "http_404"):
                return None
            raise

    def push(self, records: list[dict[str, Any]], body: bytes | None = None) -> dict[str, Any]:
        """Send records; `body` is their already encoded form when the caller measured it."""
        if body is None:
            body = encode_body({"records": records})
        answer = self._request("POST", "/v1/push", body=body)
        results = answer.get("results")
        if not isinstance(results, list) or len(results) != len(records) or not all(
                isinstance(r, dict) and isinstance(r.get("status"), str) for r in results):
            raise self._malformed()
        return answer

    def pull(self, table: str, after: int, upto: int | None = None,
             limit: int = 500) -> dict[str, Any]:
        params: dict[str, Any] = {"table": table, "after": after, "limit": limit}
        if upto is not None:
            params["upto"] = upto
        answer = self._request("GET", "/v1/pull", params=params)
        if not (isinstance(answer.get("records"), list) and _whole(answer.get("next"))
                and isinstance(answer.get("more"), bool) and _whole(answer.get("high_water"))):
            raise self._malformed()
        return answer

    def course_packs(self) -> list[dict[str, Any]]:
        """The course packs the province published (hub/course_packs.py): id, version,
        digest, sha256, size, title, published_at of each."""
        answer = self._request("GET", "/v1/course-packs")
        packs = answer.get("packs")
        if not isinstance(packs, list) or not all(
                isinstance(p, dict) and isinstance(p.get("id"), str)
                and isinstance(p.get("version"), str) and isinstance(p.get("digest"), str)
                and isinstance(p.get("sha256"), str) and _whole(p.get("size"))
                for p in packs):
            raise self._malformed()
        return packs

    def download_pack(self, course_id: str, version: str, write: Callable[[bytes], object],
                      max_bytes: int, seconds: float | None = None) -> int:
        """Stream one published pack's .zip to `write`, a piece at a time; returns its size.
        An answer over `max_bytes` stops the download (HubAnswerTooLarge) before the piece
        that goes over is written. `seconds` bounds the whole download (default: the
        client's deadline)."""
        path = f"/v1/course-packs/{quote(course_id, safe='')}/{quote(version, safe='')}"
        if not self.token:
            raise DeviceRevoked("unauthorized", _(
                "This workspace has no device token; enroll it again with a new code."))
        request = self._http.build_request("GET", path, headers={
            "Authorization": f"Bearer {self.token}"})
        self.requests += 1
        status, content, retry_after = self._exchange(
            request, write, max_bytes, self.deadline if seconds is None else seconds)
        self._check(status, content, retry_after)
        return self._streamed

    def digest(self, table: str | None = None, bucket: str | None = None) -> dict[str, Any]:
        """Digests of the device's scope (docs/sync-protocol.md, Digests and repair)."""
        params = {k: v for k, v in (("table", table), ("bucket", bucket)) if v is not None}
        return self._request("GET", "/v1/digest", params=params or None)

    def fetch(self, table: str, ids: list[str]) -> list[dict[str, Any]]:
        answer = self._request("POST", "/v1/fetch", body=encode_body({"table": table,
                                                                      "ids": ids}))
        records = answer.get("records")
        if not isinstance(records, list):
            raise self._malformed()
        return records

    # -- plumbing -------------------------------------------------------------------------
    def _request(self, method: str, path: str, *, body: bytes | None = None,
                 params: dict[str, Any] | None = None, auth: bool = True) -> dict[str, Any]:
        headers = {}
        if body is not None:
            headers.update({"Content-Type": "application/json", "Content-Encoding": "gzip"})
        if auth:
            if not self.token:
                raise DeviceRevoked("unauthorized", _(
                    "This workspace has no device token; enroll it again with a new code."))
            headers["Authorization"] = f"Bearer {self.token}"
        for waited in range(BUSY_RETRIES + 1):
            self.requests += 1
            self.bytes_sent += len(body or b"")
            status, content, retry_after = self._exchange(
                self._http.build_request(method, path, content=body, params=params,
                                         headers=headers))
            if status != 429 or retry_after is None or retry_after > BUSY_WAIT_MAX_S \
                    or waited == BUSY_RETRIES:
                break
            # The hub limits each device and address (hub/guard.py) and says when to come
            # back: a short wait goes on by itself; a long one is the user's to retry.
            self.sleep(retry_after)
        answer = self._check(status, content, retry_after)
        if answer is None:
            raise self._malformed()
        return answer

    def _check(self, status: int, content: bytes, retry_after: int | None
               ) -> dict[str, Any] | None:
        """The answer's JSON object (None for a 200 that is not one, or a streamed body);
        every other answer becomes its HubError."""
        if status >= 500:
            raise HubFailed(_("The hub at {url} failed to answer (error {status}); try again "
                              "later.").format(url=self.base_url, status=status))
        answer = _json_object(content)
        if status == 429:
            raise HubBusy(_(
                "The hub is busy and asked this device to wait (about {seconds} s); nothing was "
                "lost, sync again in a moment.").format(
                    seconds=retry_after if retry_after is not None else "?"))
        if status >= 400:
            raise self._refusal(status, answer)
        if status != 200:
            raise self._malformed()
        return answer

    def _exchange(self, request: httpx.Request, sink: Callable[[bytes], object] | None = None,
                  limit: int | None = None, seconds: float | None = None
                  ) -> tuple[int, bytes, int | None]:
        """Send one request and read its whole answer within the deadline and the size
        limit: (status, decoded body, Retry-After in seconds or None). With a `sink`, a 200
        answer's body goes there piece by piece, at most `limit` bytes within `seconds`
        (its size in self._streamed; the body returned is empty). Every failure becomes a
        HubError."""
        deadline = time.monotonic() + (self.deadline if seconds is None else seconds)
        limit = self.max_response_bytes if limit is None else limit
        try:
            with deadline_scope(deadline):
                response = self._http.send(request, stream=True)
                try:
                    if sink is not None and response.status_code == 200:
                        self._streamed = stream_body(response, limit, deadline, sink)
                        content = b""
                    else:
                        content = read_body(response, self.max_response_bytes, deadline)
                finally:
                    response.close()  # an answer read only in part: the connection goes
        except PublicAddressRefused as exc:
            raise self._insecure() from exc
        except DeadlinePassed as exc:
            raise self._too_slow() from exc
        except AnswerTooLarge as exc:
            raise HubAnswerTooLarge(_(
                "The hub at {url} sent an answer larger than {size} MB, far more than any "
                "sync needs, so it was not read and nothing changed here. Check the hub "
                "address, or tell the hub administrator.").format(
                    url=self.base_url, size=limit // 2**20)) from exc
        except (BadEncoding, httpx.DecodingError) as exc:
            # httpx decodes itself when a transport hands over a whole answer (a mock or a
            # test's faulty transport): a broken gzip there is the same malformed answer.
            raise self._malformed() from exc
        except httpx.TransportError as exc:
            raise self._transport_failure(exc) from exc
        self.server_ms = _date_ms(response.headers.get("date")) or self.server_ms
        # Bytes as they came over the wire (gzip); a mock transport hands over decoded content.
        self.bytes_received += response.num_bytes_downloaded or len(content)
        return response.status_code, content, _seconds(response.headers.get("retry-after"))

    def _transport_failure(self, exc: httpx.TransportError) -> HubError:
        kind = tls_failure(exc)
        if kind is not None:
            return HubTlsFailed(kind, self._tls_sentence(kind, exc))
        return HubUnreachable(_(
            "Could not reach the hub at {url}: this computer seems to be offline or the "
            "hub is down. Nothing was lost; sync again later.").format(url=self.base_url))

    def _tls_sentence(self, kind: TlsKind, exc: httpx.TransportError) -> str:
        url = self.base_url
        if kind == "expired":
            return _("The security certificate of the hub at {url} has expired or is not "
                     "valid yet, so nothing was sent. Check that this computer's date and time "
                     "are right; if they are, ask the hub administrator to renew the "
                     "certificate.").format(url=url)
        if kind == "wrong_name":
            return _("The security certificate of the hub at {url} was made for another "
                     "address, so nothing was sent. Check the hub address; if it is right, "
                     "ask the hub administrator to fix the certificate.").format(url=url)
        if kind == "untrusted":
            return _("The hub at {url} showed a security certificate this computer does not "
                     "trust, so nothing was sent: someone may be intercepting the connection. "
                     "Check the hub address and ask the hub administrator.").format(url=url)
        return _("A secure connection to the hub at {url} could not be set up ({reason}), "
                 "so nothing was sent. Check the address (https:// or http://, and the "
                 "port) or ask the hub administrator.").format(url=url, reason=exc)

    def _too_slow(self) -> HubTooSlow:
        seconds = round(self.deadline)
        return HubTooSlow(ngettext(
            "The hub at {url} did not finish answering within {seconds} second: the "
            "connection is too slow or the hub is overloaded. Nothing was lost; sync again "
            "later.",
            "The hub at {url} did not finish answering within {seconds} seconds: the "
            "connection is too slow or the hub is overloaded. Nothing was lost; sync again "
            "later.", seconds).format(url=self.base_url, seconds=format_number(seconds)))

    def _insecure(self) -> InsecureHubAddress:
        return InsecureHubAddress(_(
            "The hub address {url} uses plain http:// to a computer outside this local "
            "network, which would send this device's token unencrypted, so nothing was sent. "
            "Use the hub's https:// address, or, only if you trust every network in between, "
            "allow plain http: --allow-insecure-http with dxkit enroll or dxkit sync, or "
            "“Allow plain http” in the sync settings when you enroll.").format(
                url=self.base_url))

    def _refusal(self, status: int, answer: dict[str, Any] | None) -> HubRefused:
        code = answer.get("error") if answer else None
        code = code if isinstance(code, str) and code else f"http_{status}"
        hub_message = answer.get("message") if answer else ""
        hub_message = hub_message if isinstance(hub_message, str) else ""
        if code == "device_revoked":
            return DeviceRevoked(code, _(
                "The hub administrator has revoked this device, so it can no longer sync. "
                "All data on this computer is kept; ask for a new enrollment code."),
                hub_message)
        if code == "token_expired":
            return TokenExpired(code, _(
                "This device's permission to sync with the hub has expired, so syncing "
                "stopped. All data on this computer is kept; ask the hub administrator to "
                "renew the device, then sync again."), hub_message)
        if code == "unauthorized" or status == 401:
            return DeviceRevoked(code, _(
                "The hub no longer recognises this device (its token is unknown). "
                "All data on this computer is kept; enroll again with a new code."),
                hub_message)
        if code == "bad_code":
            return HubRefused(code, _(
                "The hub did not accept this enrollment code: it is unknown, already used or "
                "expired. Ask the hub administrator for a new one."), hub_message)
        detail = hub_message or code
        return HubRefused(code, _("The hub refused the request ({code}): {detail}").format(
            code=code, detail=detail), hub_message)

    def _malformed(self) -> HubFailed:
        return HubFailed(_("The answer from {url} is not what a dxkit hub sends; check the "
                           "server address, or try again later.").format(url=self.base_url))


def _json_object(content: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting: not a hub
        return None
    return data if isinstance(data, dict) else None


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _date_ms(header: str | None) -> int | None:
    """An HTTP Date header (the hub's clock, to the second) in ms since 1970, or None."""
    if not header:
        return None
    try:
        moment = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return int(moment.timestamp() * 1000)
