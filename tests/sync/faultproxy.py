"""A fault-injecting HTTP proxy on loopback, between the sync client and the real hub.

One request per connection, HTTP/1.1 with Content-Length bodies (what httpx sends and the hub
answers). Every request is forwarded upstream with `Connection: close`, unless a planned fault
for it says otherwise. Faults are planned per request: the Nth request whose method and path
match (optionally with a substring of the query), counted from when the fault was planned.

Actions:
- drop_request: read the request, close the connection without forwarding it.
- drop_response: forward it (the hub commits), then close without answering.
- cut_response: forward it, send the headers and half the body, then close.
- answer_503: answer 503 itself, never forwarding.
- delay: wait `seconds` (the client times out meanwhile), then forward, or drop if
  `forward=False`.
- truncate_gzip / corrupt_gzip: forward, then answer with the gzip body cut in half (and a
  matching Content-Length) or with bytes flipped in its middle.
- duplicate: forward the same bytes twice, answer with the first answer.
- hook: call `hook()` before forwarding (e.g. to restart the hub), then forward as usual.
- hold: keep the request (its `arrived` event is set) until `release()` is called, then
  forward it and answer if the client is still there. Requests planned later pass it, so
  two deliveries reach the hub in the opposite order to the one they were sent in.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

SOCKET_TIMEOUT = 30.0
MAX_HEAD = 64 * 1024
ACTIONS = {"drop_request", "drop_response", "cut_response", "answer_503", "delay",
           "truncate_gzip", "corrupt_gzip", "duplicate", "hook", "hold"}


@dataclass
class Fault:
    action: str
    method: str
    path: str
    nth: int = 1
    query: str = ""  # a substring the query must contain, e.g. "table=households"
    seconds: float = 0.0
    forward: bool = True
    hook: Callable[[], None] | None = None
    matched: int = 0  # matching requests seen since the fault was planned
    arrived: threading.Event = field(default_factory=threading.Event, repr=False)
    released: threading.Event = field(default_factory=threading.Event, repr=False)
    delivered: threading.Event = field(default_factory=threading.Event, repr=False)
    exchange: Exchange | None = None  # the request it hit

    def release(self, timeout: float = 30.0) -> Exchange:
        """Let a held request go on to the hub; wait until the hub has answered it."""
        self.released.set()
        if not self.delivered.wait(timeout):
            raise AssertionError("the held request never reached the hub")
        assert self.exchange is not None
        return self.exchange


@dataclass
class Exchange:
    """One request seen by the proxy: what it was, which fault hit it, what came back."""

    method: str
    path: str
    query: str
    action: str = "forward"
    status: int | None = None
    gzipped: bool = False
    answer: Any = None  # the hub's JSON answer, decoded
    done: threading.Event = field(default_factory=threading.Event, repr=False)


class FaultProxy:
    def __init__(self, upstream_url: str):
        self.upstream = upstream_url
        self.exchanges: list[Exchange] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._acceptor = threading.Thread(target=self._accept_loop, name="faultproxy",
                                          daemon=True)
        self._acceptor.start()

    # -- control ---------------------------------------------------------------------------
    def plan(self, action: str, method: str, path: str, nth: int = 1, **options: Any) -> Fault:
        if action not in ACTIONS:
            raise ValueError(f"unknown fault {action!r}")
        fault = Fault(action, method, path, nth, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def seen(self, method: str, path: str) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges if (e.method, e.path) == (method, path)]

    def faulted(self) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges if e.action != "forward"]

    def wait_idle(self, timeout: float = SOCKET_TIMEOUT) -> None:
        """Wait until every connection handled so far is finished."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        self._acceptor.join(SOCKET_TIMEOUT)
        self.wait_idle()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving ---------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(SOCKET_TIMEOUT)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            with self._lock:  # started before it is listed: wait_idle may join it at once
                thread.start()
                self._threads = [t for t in self._threads if t.is_alive()]
                self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                head, body = _read_message(conn)
            except (OSError, ValueError):
                return
            method, target = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")[:2]
            path, _, query = target.partition("?")
            exchange = Exchange(method, path, query)
            fault = self._match(exchange)
            try:
                self._handle(conn, head, body, exchange, fault)
            except (OSError, ValueError):
                pass  # the client or the hub went away: the connection just ends
            finally:
                exchange.done.set()

    def _match(self, exchange: Exchange) -> Fault | None:
        with self._lock:
            self.exchanges.append(exchange)
            hit = None
            for fault in self._faults:
                if (fault.method, fault.path) != (exchange.method, exchange.path) or (
                        fault.query not in exchange.query):
                    continue
                fault.matched += 1
                if hit is None and fault.matched == fault.nth:
                    hit = fault
        if hit is not None:
            exchange.action = hit.action
            hit.exchange = exchange
        return hit

    def _handle(self, conn: socket.socket, head: bytes, body: bytes, exchange: Exchange,
                fault: Fault | None) -> None:
        action = fault.action if fault else "forward"
        if action == "drop_request":
            return
        if action == "answer_503":
            conn.sendall(_plain_response(503, {"error": "unavailable",
                                               "message": "injected by the proxy"}))
            return
        if action == "delay":
            assert fault is not None
            if self._stopping.wait(fault.seconds) or not fault.forward:
                return
        if action == "hook":
            assert fault is not None and fault.hook is not None
            fault.hook()
        if action == "hold":
            assert fault is not None
            fault.arrived.set()
            while not fault.released.wait(0.05):
                if self._stopping.is_set():
                    return
        request = _close_upstream(head) + body
        try:
            response = self._forward(request, exchange)
        finally:
            if fault is not None:
                fault.delivered.set()
        if action == "duplicate":
            self._forward(request, Exchange(exchange.method, exchange.path, exchange.query))
        if action == "drop_response":
            return
        if action == "cut_response":
            resp_head, resp_body = _split(response)
            conn.sendall(resp_head + resp_body[: len(resp_body) // 2])
            return
        if action in ("truncate_gzip", "corrupt_gzip"):
            response = _damage(response, truncate=action == "truncate_gzip")
        conn.sendall(response)

    def _forward(self, request: bytes, exchange: Exchange) -> bytes:
        target = urlsplit(self.upstream)
        with socket.create_connection((target.hostname, target.port),
                                      timeout=SOCKET_TIMEOUT) as upstream:
            upstream.sendall(request)
            head, body = _read_message(upstream)
        response = head + body
        exchange.status = int(head.split(b" ", 2)[1])
        exchange.gzipped = _header(head, b"content-encoding") == b"gzip"
        with contextlib.suppress(ValueError, OSError, EOFError):
            exchange.answer = json.loads(gzip.decompress(body) if exchange.gzipped else body)
        return response


# -- HTTP/1.1 plumbing -------------------------------------------------------------------------
def _read_message(conn: socket.socket) -> tuple[bytes, bytes]:
    """One request or response: (head with its blank line, body of Content-Length bytes)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ValueError("connection closed before the head ended")
        data += chunk
        if len(data) > MAX_HEAD and b"\r\n\r\n" not in data:
            raise ValueError("head too large")
    end = data.index(b"\r\n\r\n") + 4
    head, body = data[:end], data[end:]
    if _header(head, b"transfer-encoding"):
        raise ValueError("chunked bodies are not supported by this proxy")
    length = int(_header(head, b"content-length") or 0)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            raise ValueError("connection closed inside the body")
        body += chunk
    return head, body[:length]


def _header(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        key, sep, value = line.partition(b":")
        if sep and key.strip().lower() == name:
            return value.strip().lower() if name != b"content-length" else value.strip()
    return None


def _replace_header(head: bytes, name: bytes, value: bytes) -> bytes:
    lines = [line for line in head[:-4].split(b"\r\n")
             if line.partition(b":")[0].strip().lower() != name]
    return b"\r\n".join([*lines, name + b": " + value]) + b"\r\n\r\n"


def _close_upstream(head: bytes) -> bytes:
    return _replace_header(head, b"connection", b"close")


def _split(response: bytes) -> tuple[bytes, bytes]:
    end = response.index(b"\r\n\r\n") + 4
    return response[:end], response[end:]


def _damage(response: bytes, truncate: bool) -> bytes:
    head, body = _split(response)
    if _header(head, b"content-encoding") != b"gzip":
        raise ValueError("the answer is not gzip; nothing to damage")  # fails the exchange
    if truncate:
        body = body[: len(body) // 2]
    else:
        middle = len(body) // 2
        body = body[:middle] + bytes(b ^ 0x5A for b in body[middle:middle + 16]) + \
            body[middle + 16:]
    return _replace_header(head, b"content-length", str(len(body)).encode()) + body


def _plain_response(status: int, payload: dict[str, Any]) -> bytes:
    body = json.dumps(payload).encode()
    return (f"HTTP/1.1 {status} Injected\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
