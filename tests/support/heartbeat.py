"""A line at least every INTERVAL seconds while the tests run, from the controlling process.

Dots end no line and a single test may run for a minute, so CI could see nothing for long
stretches. This plugin prints, from the process that reports (the only one under pytest or
the controller under pytest-xdist):

    [tests] 412/1283 done, 3m10s, running: tests/sync/test_property_sync.py::test_… (41s)

every INTERVAL seconds, and under xdist, where the terminal shows no file names, one line per
finished test file:

    [tests] tests/sync/test_e2e_sync.py: 13 passed in 42s (412/1283 done, 3m10s)

Registered by tests/conftest.py.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter
from typing import Any, TextIO

import pytest

INTERVAL = 20.0


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


class Heartbeat:
    def __init__(self, config: pytest.Config):
        self.config = config
        self.started = time.monotonic()
        self.total = 0
        self.done = 0
        self.running: dict[str, float] = {}  # nodeid -> when it started
        self.distributed = False  # pytest-xdist: name each file as it finishes
        self.left_in_file: Counter[str] = Counter()
        self.file_started: dict[str, float] = {}
        self.file_outcomes: dict[str, Counter[str]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._out = _real_stdout()
        self._thread: threading.Thread | None = None

    # -- what is collected --------------------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if session.items:
            self._collected([item.nodeid for item in session.items], distributed=False)

    @pytest.hookimpl(optionalhook=True)  # only with pytest-xdist loaded
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if not self.total:  # every worker collects the same tests
            self._collected(ids, distributed=True)

    def _collected(self, nodeids: list[str], distributed: bool) -> None:
        with self._lock:
            self.total = len(nodeids)
            self.distributed = distributed
            self.left_in_file = Counter(_file_of(nodeid) for nodeid in nodeids)
        files = len(self.left_in_file)
        self._say(f"{self.total} tests in {files} files collected ({self._progress()})")

    # -- what runs ----------------------------------------------------------------------------
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._beat, name="dxkit-heartbeat", daemon=True)
        self._thread.start()

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        now = time.monotonic()
        with self._lock:
            self.running[nodeid] = now
            self.file_started.setdefault(_file_of(nodeid), now)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or report.outcome != "passed":
            outcome = "error" if report.failed and report.when != "call" else report.outcome
            with self._lock:
                self.file_outcomes.setdefault(_file_of(report.nodeid), Counter())[outcome] += 1

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        path = _file_of(nodeid)
        with self._lock:
            self.running.pop(nodeid, None)
            self.done += 1
            self.left_in_file[path] -= 1
            finished = self.distributed and self.left_in_file[path] == 0
        if finished:
            outcomes = self.file_outcomes.get(path, Counter())
            summary = ", ".join(f"{count} {name}" for name, count in sorted(outcomes.items()))
            took = time.monotonic() - self.file_started.get(path, self.started)
            self._say(f"{path}: {summary or 'done'} in {_clock(took)} ({self._progress()})")

    def pytest_sessionfinish(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def pytest_unconfigure(self) -> None:
        self._out.close()

    # -- printing -----------------------------------------------------------------------------
    def _progress(self) -> str:
        total = self.total or "?"
        return f"{self.done}/{total} done, {_clock(time.monotonic() - self.started)}"

    def _beat(self) -> None:
        while not self._stop.wait(INTERVAL):
            now = time.monotonic()
            with self._lock:
                running = sorted(self.running.items(), key=lambda item: item[1])
                progress = self._progress()
            names = ", ".join(f"{nodeid} ({_clock(now - since)})" for nodeid, since in running)
            self._say(f"{progress}, running: {names or '(between tests)'}")

    def _say(self, line: str) -> None:
        """One line on the real standard output. Not through pytest's terminal writer: while a
        test runs (without xdist) that output is captured, and this thread speaks then too."""
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        writer = getattr(reporter, "_tw", None)
        with self._lock:
            open_line = bool(getattr(writer, "width_of_current_line", 0))
            if writer is not None and hasattr(writer, "_current_line"):
                writer._current_line = ""  # the dots' line is ended: width counts from 0
            self._out.write(("\n" if open_line else "") + f"[tests] {line}\n")
            self._out.flush()


def _real_stdout() -> TextIO:
    """A file on the process's standard output as it is now (pytest_configure: not being
    captured), which stays there while pytest captures file descriptor 1 during a test."""
    try:
        return os.fdopen(os.dup(sys.__stdout__.fileno()), "w", encoding="utf-8",
                         errors="replace")
    except (AttributeError, OSError, ValueError):  # no real standard output
        return open(os.devnull, "w", encoding="utf-8")  # closed at unconfigure


def register(config: pytest.Config) -> None:
    """Install the heartbeat in the reporting process (not in pytest-xdist's workers)."""
    if hasattr(config, "workerinput") or config.pluginmanager.has_plugin("dxkit-heartbeat"):
        return
    if config.option.collectonly or config.getoption("usepdb", False):
        return
    config.pluginmanager.register(Heartbeat(config), "dxkit-heartbeat")
