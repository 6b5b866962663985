"""One writer per workspace, proved with real processes: a second writer is refused with a
sentence while readers keep working, and a killed writer leaves nothing locked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dxkit.core import store
from dxkit.core.lock import WorkspaceLocked, locked_message
from dxkit.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "DXKIT_LANG": "vi",
       "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
ENV.pop("DXKIT_HOME", None)

# Opens the workspace for writing, says so, then keeps it open until killed.
HOLDER = textwrap.dedent("""
    import sys, time
    from dxkit.workspace import Workspace

    ws = Workspace.open(sys.argv[1])
    print("open", flush=True)
    while True:
        time.sleep(60)
""")


def dxkit_process(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dxkit.ui.entry", "--data-dir", str(folder),
                           *args], cwd=ROOT, env=ENV, capture_output=True, text=True,
                          encoding="utf-8", timeout=120, check=False)


@pytest.fixture
def holder(team_dir: Path):
    """A process holding `team_dir` open for writing, as the app does."""
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(team_dir)], cwd=ROOT, env=ENV,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "open", child.stderr.read()
        yield child
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
        child.stderr.close()


def test_a_second_writer_is_refused_while_readers_work_until_the_first_dies(
        key_files, team_dir: Path, holder):
    refused = dxkit_process(team_dir, "hamlets", "add", "Ấp Tân Thuận")
    assert refused.returncode == 1
    assert refused.stderr.strip() == locked_message()
    assert "Traceback" not in refused.stderr

    listed = dxkit_process(team_dir, "hamlets", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    names = [h["name"] for h in json.loads(listed.stdout)]
    assert "Ấp Tân Thuận" not in names and "Khóm 3" in names

    holder.kill()  # no close, no cleanup: the operating system drops the lock
    holder.wait()
    added = dxkit_process(team_dir, "hamlets", "add", "Ấp Tân Thuận")
    assert added.returncode == 0, added.stderr
    with Workspace.open(team_dir, readonly=True) as ws:
        assert "Ấp Tân Thuận" in [h.name for h in ws.catalog.hamlets()]


def test_two_writers_in_one_process_are_refused_too(team_dir: Path):
    first = Workspace.open(team_dir)
    try:
        with pytest.raises(WorkspaceLocked) as caught:
            Workspace.open(team_dir)
        assert caught.value.message == locked_message()
        reader = Workspace.open(team_dir, readonly=True)
        assert len(reader.catalog.hamlets()) == 3
        reader.close()
    finally:
        first.close()
    Workspace.open(team_dir).close()  # closing let the lock go


def test_a_reader_cannot_write(team_dir: Path):
    with (Workspace.open(team_dir, readonly=True) as ws,
          pytest.raises(store.OperationalError, match="readonly")):
        ws.catalog.add_hamlet("Ấp Tân Thuận")
    with Workspace.open(team_dir, readonly=True) as ws:
        assert "Ấp Tân Thuận" not in [h.name for h in ws.catalog.hamlets()]


def test_a_new_workspace_gets_its_key_under_the_writers_lock(tmp_path):
    """Two processes opening a new folder at once must not each make a key (the second's would
    replace the first's, and the file made with the first would no longer open): the key is
    made only by the holder of the write lock."""
    from dxkit.core.encryption import STATE_FILENAME
    from dxkit.core.lock import WorkspaceLock

    folder = tmp_path / "new"
    folder.mkdir()
    with WorkspaceLock(folder) as other_process:
        assert other_process.held
        for readonly in (False, True):
            with pytest.raises(WorkspaceLocked):
                Workspace.open(folder, readonly=readonly)
        assert not (folder / STATE_FILENAME).exists()
        assert not (folder / store.DB_FILENAME).exists()
    with Workspace.open(folder) as ws:
        assert ws.households.count() == 0
    with Workspace.open(folder, readonly=True) as reader:  # made: a reader takes no lock
        assert reader.households.count() == 0
