"""Shared fixtures: a fresh workspace per test, configured like a real team's."""

from __future__ import annotations

import atexit
import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

import keyring
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["DXKIT_LANG"] = "vi"
# No test reads or writes the real user's keyring (also in the CLI processes tests start):
# the "fail" backend means "no keyring", and workspace keys go to files under a temporary
# folder, never the user's config folder. Keyring tests set an in-memory backend of their own.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
os.environ["DXKIT_KEY_DIR"] = tempfile.mkdtemp(prefix="dxkit-test-keys-")

from dxkit.core import i18n
from dxkit.workspace import Workspace
from tests.support import heartbeat
from tests.support.memory_keyring import MemoryKeyring

atexit.register(shutil.rmtree, os.environ["DXKIT_KEY_DIR"], ignore_errors=True)

FROZEN_NOW = dt.datetime(2026, 11, 20, 9, 30)


# The slowest test files (measured under `quickstart.py test`), longest first. pytest-xdist
# hands out whole files in collection order (--dist loadfile --no-loadscope-reorder), so these
# start first and the many short files fill the gaps at the end instead of one long file
# running alone. Only the order changes; a file missing here just keeps its place after them.
SLOW_FILES_FIRST = (
    "tests/sync/test_hub_figures.py",
    "tests/ui/test_fit.py",
    "tests/sync/test_faults.py",
    "tests/sync/test_hub_dashboard.py",
    "tests/sync/test_dashboard_browser.py",
    "tests/sync/test_hub_course_packs.py",
    "tests/sync/test_property_sync.py",
    "tests/sync/test_hub_schema.py",
    "tests/sync/test_hub_server.py",
    "tests/sync/test_hub_store.py",
    "tests/sync/test_e2e_sync.py",
    "tests/sync/test_repair.py",
    "tests/sync/test_reference_data.py",
    "tests/sync/test_kill_apply.py",
    "tests/sync/test_reorder.py",
    "tests/sync/test_fault_leftovers.py",
    "tests/sync/test_hub_trace.py",
    "tests/sync/test_token_expiry.py",
    "tests/sync/test_resume.py",
    "tests/farm/test_trace_page_browser.py",
    "tests/ui/test_sync_ui.py",
)


def pytest_configure(config: pytest.Config) -> None:
    heartbeat.register(config)  # a line at least every 20 s, also under pytest-xdist


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: number for number, path in enumerate(SLOW_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # stable


@pytest.fixture(autouse=True)
def memory_keyring():
    """Every test keeps its keys in a keyring of its own, in memory."""
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


@pytest.fixture
def key_files(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Workspace keys in files (DXKIT_KEY_DIR) instead of the memory keyring, so that a
    process the test starts can open a workspace the test made, and the other way round."""
    monkeypatch.setenv("DXKIT_KEY_STORE", "file")
    return Path(os.environ["DXKIT_KEY_DIR"])


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
