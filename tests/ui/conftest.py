"""UI fixtures: an AppContext or a whole main window over the test workspace.

Each fixture shuts the task manager down so no worker thread outlives its test.
"""

from __future__ import annotations

import pytest

from dxkit.ui.app import create_main_window
from dxkit.ui.context import AppContext


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


def settle(qtbot, ctx: AppContext, condition) -> None:
    """Let the database thread finish, then wait for its result to reach the screen."""
    ctx.tasks.wait_idle()
    qtbot.waitUntil(condition, timeout=3000)
