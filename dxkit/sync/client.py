"""The HTTP client of the sync protocol (docs/sync-protocol.md), over httpx.

One method per endpoint. Request bodies are gzip-compressed; responses are accepted gzipped.
Every failure becomes a DxError subclass carrying a translated sentence, so the CLI and the
app can show it as is. The client never retries: the engine or the app decides when to.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx

from dxkit import __version__
from dxkit.core.errors import DxError
from dxkit.core.i18n import _

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
# Level 4: a third of level 6's CPU for ~8% more bytes on a batch of records (measured).
GZIP_LEVEL = 4


class HubError(DxError):
    """Base of every failure talking to the hub."""


class HubUnreachable(HubError):
    """No answer: offline, the hub is down, or the connection broke or timed out."""


class HubFailed(HubError):
    """The hub answered with a server error or something that is not the protocol."""


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
    """One hub at `base_url`, with an optional device token. Counts requests and bytes."""

    def __init__(self, base_url: str, token: str | None = None,
                 transport: httpx.BaseTransport | None = None,
                 timeout: float | httpx.Timeout = DEFAULT_TIMEOUT):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.requests = 0
        self.bytes_sent = 0
        self.bytes_received = 0
        self._http = httpx.Client(
            base_url=self.base_url, transport=transport, timeout=timeout,
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
        self.requests += 1
        self.bytes_sent += len(body or b"")
        try:
            response = self._http.request(method, path, content=body, params=params,
                                          headers=headers)
            content = response.content
        except httpx.TransportError as exc:
            raise HubUnreachable(_(
                "Could not reach the hub at {url}: this computer seems to be offline or the "
                "hub is down. Nothing was lost; sync again later.").format(
                    url=self.base_url)) from exc
        except httpx.DecodingError as exc:
            raise self._malformed() from exc
        # Bytes as they came over the wire (gzip); a mock transport hands over decoded content.
        self.bytes_received += response.num_bytes_downloaded or len(content)
        if response.status_code >= 500:
            raise HubFailed(_("The hub at {url} failed to answer (error {status}); try again "
                              "later.").format(url=self.base_url, status=response.status_code))
        answer = _json_object(content)
        if response.status_code >= 400:
            raise self._refusal(response.status_code, answer)
        if answer is None or response.status_code != 200:
            raise self._malformed()
        return answer

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
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
