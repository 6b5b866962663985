"""The hub's limits as settings: `dxkit hub serve` options of the same names, documented in
docs/deployment.md ("The hub's own limits"). Plain values, so the command line can show the
defaults without loading the server."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Requests the app admits (hub/guard.py)."""

    address_rate: float = 10.0     # requests/s per client address without a known device
    address_burst: int = 60
    # Requests/s per device token: twice what a full-speed sync sends (~45/s on the benchmark
    # machine), and room for a repair's run of cheap bucket requests; today's client stops at
    # a 429 instead of waiting, so a legitimate sync must never meet it.
    device_rate: float = 100.0
    device_burst: int = 400
    # Requests in flight per device token (the client sends one at a time): what keeps one
    # device from taking the worker threads every team shares.
    device_concurrency: int = 2
    tracked_keys: int = 50_000     # buckets and known tokens remembered (least recent go)


@dataclass(frozen=True)
class ServeOptions:
    """Where and how the server listens (hub/server.py)."""

    host: str = "127.0.0.1"
    port: int = 8765
    limit_concurrency: int = 500   # connections at once; more are answered 503 and closed
    timeout_keep_alive: int = 5    # seconds a connection may wait for its next request head
    backlog: int = 512             # connections the kernel queues before the hub accepts them
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    proxy_headers: bool = False    # trust X-Forwarded-For/-Proto from forwarded_allow_ips
    forwarded_allow_ips: str = "127.0.0.1,::1"

    @property
    def scheme(self) -> str:
        return "https" if self.ssl_certfile else "http"
