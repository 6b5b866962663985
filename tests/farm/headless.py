"""Drive Debian's Chromium headless over the DevTools protocol, with no extra dependency.

Chromium's `--remote-debugging-pipe` speaks the protocol on file descriptors 3 (commands in)
and 4 (answers and events out), each message JSON followed by a NUL byte — no port, no
websocket. A tiny Python launcher puts our pipe ends on 3 and 4 and execs Chromium. The browser is a
process of its own group, stopped by its PID in `close()`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio",
         "--remote-debugging-pipe")
# Puts the pipe ends on descriptors 3 and 4, then becomes Chromium (same PID).
LAUNCHER = ("import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
            "os.execv(sys.argv[3], sys.argv[3:])")
DEADLINE = 60.0  # seconds for any one answer: a guard against a hung browser, not a timing test


class BrowserError(AssertionError):
    pass


def _high_fd(fd: int) -> int:
    """The same pipe end on a descriptor above 9, so dup2 onto 3 and 4 in the launcher can
    never overwrite one of our own ends (under pytest, 3 and 4 themselves may be free)."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class Chromium:
    def __init__(self, executable: str, profile: Path):
        self._to_browser_r, self._to_browser_w = map(_high_fd, os.pipe())
        self._from_browser_r, self._from_browser_w = map(_high_fd, os.pipe())
        self.process = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(self._to_browser_r),
             str(self._from_browser_w), executable, *FLAGS, f"--user-data-dir={profile}",
             "about:blank"],
            pass_fds=(self._to_browser_r, self._from_browser_w), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(self._to_browser_r)
        os.close(self._from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    # -- protocol ----------------------------------------------------------------------------
    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method,
                                   "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser_w, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._receive()
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for(self, method: str, session: str | None = None) -> dict[str, Any]:
        for index, event in enumerate(self.events):
            if event.get("method") == method and event.get("sessionId") == session:
                return self.events.pop(index)
        while True:
            event = self._receive()
            if event.get("method") == method and event.get("sessionId") == session:
                return event
            self.events.append(event)

    def _receive(self) -> dict[str, Any]:
        deadline = time.monotonic() + DEADLINE
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _w, _x = select.select([self._from_browser_r], [], [], max(left, 0))
            if not ready:
                raise BrowserError("Chromium did not answer")
            chunk = os.read(self._from_browser_r, 1 << 16)
            if not chunk:
                raise BrowserError(f"Chromium closed the pipe (exit {self.process.poll()})")
            self._buffer += chunk
        message, _nul, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    # -- pages -------------------------------------------------------------------------------
    def open_phone_page(self, url: str, width: int = 360, height: int = 740,
                        scale: float = 2) -> str:
        """A new tab emulating a phone, loaded with `url`; its session id."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget",
                            {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
            self.send(domain, session=session)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": scale,
                   "mobile": True}, session=session)
        self.send("Emulation.setTouchEmulationEnabled", {"enabled": True}, session=session)
        navigation = self.send("Page.navigate", {"url": url}, session=session)
        if navigation.get("errorText"):
            raise BrowserError(f"cannot open {url}: {navigation['errorText']}")
        self.wait_for("Page.loadEventFired", session)
        return session

    def evaluate(self, session: str, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression,
                                                "returnByValue": True}, session=session)
        if "exceptionDetails" in result:
            raise BrowserError(f"evaluation failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def problems(self, session: str) -> list[str]:
        """Script exceptions, console errors and logged errors of the page so far."""
        found = []
        for event in self.events:
            if event.get("sessionId") != session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(f"exception: {params['exceptionDetails'].get('text')} "
                             f"{params['exceptionDetails'].get('exception', {})}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error",
                                                                                  "assert"):
                found.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.append(f"log: {params['entry'].get('text')} {params['entry'].get('url')}")
        return found

    def close(self) -> None:
        try:
            if self.process.poll() is None:
                with contextlib.suppress(OSError):
                    os.write(self._to_browser_w, json.dumps(
                        {"id": 0, "method": "Browser.close"}).encode() + b"\0")
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=10)
        finally:
            # The browser leads its own process group (start_new_session): stop whatever of
            # it is left, helper processes included.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            for fd in (self._to_browser_w, self._from_browser_r):
                with contextlib.suppress(OSError):
                    os.close(fd)
