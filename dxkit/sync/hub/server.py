"""How `dxkit hub serve` runs the hub: uvicorn with the bounds a server on the internet needs
(docs/deployment.md, "The hub's own limits").

uvicorn alone keeps a connection that never sends a byte open forever (its keep-alive timer
starts only after a first answer) and accepts connections past `limit_concurrency` (it only
answers their requests 503), so a few thousand idle sockets exhaust the process's file
descriptors. `GuardedH11Protocol` closes a connection over the limit at once and gives every
connection `timeout_keep_alive` seconds to deliver a whole request head; request bodies have
their own deadline in the app (app.BODY_SECONDS).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from dxkit.sync.hub.limits import ServeOptions

MAX_REQUEST_HEAD = 8 * 1024  # request line and headers; a device sends a few hundred bytes
GRACEFUL_SECONDS = 10  # on stop, requests in flight get this long to finish
FILE_MARGIN = 64  # descriptors beside the connections: database files, logs, the listener
BUSY = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"connection: close\r\ncontent-length: 25\r\n\r\nBusy; try again shortly.\n")


class GuardedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol that closes connections over `limit_concurrency` as soon
    as they are accepted, and any connection that takes longer than `timeout_keep_alive` to
    send a complete request head (from its opening or its previous answer): bytes trickled
    one by one do not extend that time, unlike uvicorn's own keep-alive timer."""

    head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        # uvicorn answers 503 once connections reach its limit, which serve() sets one above
        # ours: a connection past ours is turned away here, before it can hold a descriptor.
        if self.limit_concurrency is not None and len(self.connections) >= self.limit_concurrency:
            self.transport.write(BUSY)
            self.transport.close()
            return
        self._arm_head_deadline()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the request head is complete
            self._cancel_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm_head_deadline()  # waiting for the next request of a kept-alive socket

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_deadline()
        super().connection_lost(exc)

    def _arm_head_deadline(self) -> None:
        self._cancel_head_deadline()
        self.head_deadline = self.loop.call_later(self.timeout_keep_alive,
                                                  self.timeout_keep_alive_handler)

    def _cancel_head_deadline(self) -> None:
        if self.head_deadline is not None:
            self.head_deadline.cancel()
            self.head_deadline = None


def uvicorn_config(app: Any, options: ServeOptions) -> uvicorn.Config:
    return uvicorn.Config(
        app, host=options.host, port=options.port, log_level="warning",
        http=GuardedH11Protocol, ws="none", lifespan="on",
        limit_concurrency=options.limit_concurrency + 1,
        timeout_keep_alive=options.timeout_keep_alive, backlog=options.backlog,
        h11_max_incomplete_event_size=MAX_REQUEST_HEAD,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        ssl_certfile=options.ssl_certfile, ssl_keyfile=options.ssl_keyfile,
        # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default; the hub only when told
        # it runs behind a proxy, or anyone on the machine could pick their rate-limit bucket.
        proxy_headers=options.proxy_headers, forwarded_allow_ips=options.forwarded_allow_ips,
        server_header=False)


def serve(app: Any, options: ServeOptions) -> None:
    """Run the app until stopped (Ctrl+C or SIGTERM)."""
    raise_open_files_limit(options.limit_concurrency + FILE_MARGIN)
    uvicorn.Server(uvicorn_config(app, options)).run()


def raise_open_files_limit(wanted: int) -> None:
    """Lift the process's soft limit of open files towards `wanted` (up to the hard limit):
    a soft limit of 1,024 is common and below what the connection limit may need."""
    if sys.platform == "win32":
        return
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
