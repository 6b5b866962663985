"""UI fixtures: an AppContext or a whole main window over the test workspace.

Each fixture shuts the task manager down so no worker thread outlives its test.
"""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

import pytest

from dxkit.core import store
from dxkit.core.encryption import DatabaseKey, WorkspaceKeys
from dxkit.ui.app import create_main_window
from dxkit.ui.context import AppContext
from dxkit.workspace import Workspace
from tests.conftest import FROZEN_NOW


@pytest.fixture
def ctx(ws, qtbot):
    context = AppContext(ws)
    yield context
    context.tasks.shutdown()


@pytest.fixture
def window(ws, qtbot):
    main = create_main_window(ws)
    qtbot.addWidget(main)
    main.show()
    yield main
    main.ctx.tasks.shutdown()


@pytest.fixture
def messages(monkeypatch):
    """The texts of the Settings backup section's message boxes (they open window-modal,
    without blocking)."""
    shown: list[str] = []
    monkeypatch.setattr("dxkit.ui.backup_ui.show_message",
                        lambda _parent, text, *_args: shown.append(text))
    monkeypatch.setattr("dxkit.ui.backup_ui.show_error",
                        lambda _parent, error: shown.append(str(error)))
    return shown


def settle(qtbot, ctx: AppContext, condition) -> None:
    """Let the database thread finish, then wait for its result to reach the screen."""
    ctx.tasks.wait_idle()
    qtbot.waitUntil(condition, timeout=3000)


@pytest.fixture(autouse=True)
def _collect_widgets_on_the_main_thread():
    """Pages and windows of a finished test often sit in reference cycles until Python's
    garbage collector runs, and it runs in whichever thread allocates at that moment. When
    that was the task manager's worker (creating the demo workspace), Qt warned that the
    timers of those widgets were stopped from another thread, and the warning failed the
    test. Collecting after each test, here on the main thread, keeps that from depending on
    how much the previous test's worker allocated."""
    yield
    gc.collect()


def open_copy(original: Path, key: DatabaseKey, folder: Path) -> Workspace:
    """A copy of a workspace made once per module, opened at FROZEN_NOW. Each test has a
    keyring of its own: the copy's key is given to it, as `dxkit key unlock` would."""
    shutil.copytree(original, folder)
    WorkspaceKeys(folder).unlock(key, folder / store.DB_FILENAME)
    ws = Workspace.open(folder)
    ws.freeze_time(FROZEN_NOW)
    return ws
