"""Shared fixtures: a fresh workspace per test, configured like a real team's."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["DXKIT_LANG"] = "vi"

from dxkit.core import i18n
from dxkit.workspace import Workspace
from tests.support import heartbeat

FROZEN_NOW = dt.datetime(2026, 11, 20, 9, 30)


def pytest_configure(config: pytest.Config) -> None:
    heartbeat.register(config)  # a line at least every 20 s, also under pytest-xdist


@pytest.fixture(autouse=True)
def _vietnamese_by_default():
    i18n.set_language("vi")
    yield
    i18n.set_language("vi")


@pytest.fixture
def fresh_ws(tmp_path: Path):
    """An empty workspace, as a first start makes it."""
    ws = Workspace.open(tmp_path / "ws")
    ws.freeze_time(FROZEN_NOW)
    yield ws
    ws.close()


@pytest.fixture
def ws(fresh_ws: Workspace) -> Workspace:
    """A workspace for Phường Mỹ Tho, Đồng Tháp, with three hamlets and two team members."""
    fresh_ws.configure_team("Đồng Tháp", "Mỹ Tho")
    for name in ("Ấp Mỹ Hưng", "Khóm 3", "Ấp Đông Hòa"):
        fresh_ws.catalog.add_hamlet(name)
    for name in ("Lê Thị Hoa", "Phạm Văn Tâm"):
        fresh_ws.catalog.add_member(name)
    return fresh_ws
