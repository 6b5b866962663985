"""A process killed in the middle of a big transaction leaves no partial data behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dxkit.households.search import search
from dxkit.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import sys
    from dxkit.workspace import Workspace

    ws = Workspace.open(sys.argv[1])
    committed = int(sys.argv[2])
    for n in range(committed):
        ws.households.add(code=f"OK-{n:03d}", head_name="Nguyễn Văn Đã", hamlet="Khóm 3")
    print("committed", committed, flush=True)
    with ws.transaction():
        n = 0
        while True:
            ws.households.add(code=f"LOST-{n:06d}", head_name="Trần Văn Mất", hamlet="Khóm 3",
                              phone="0912345678")
            n += 1
            if n == 300:
                print("started", flush=True)
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_mid_transaction_leaves_only_committed_data(tmp_path, key_files):
    folder = tmp_path / "ws"
    ws = Workspace.open(folder)
    ws.catalog.add_hamlet("Khóm 3")
    ws.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(folder), "25"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline().split() == ["committed", "25"]
        assert child.stdout.readline().strip() == "started", child.stderr.read()
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL

    again = Workspace.open(folder)
    conn = again.conn
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert again.households.count() == 25
    assert conn.execute("SELECT count(*) FROM households WHERE code LIKE 'LOST-%'"
                        ).fetchone()[0] == 0
    outbox = conn.execute("SELECT count(*) FROM outbox WHERE table_name = 'households'"
                          ).fetchone()[0]
    audit = conn.execute("SELECT count(*) FROM audit_log WHERE table_name = 'households'"
                         ).fetchone()[0]
    assert outbox == audit == 25
    assert conn.execute("SELECT count(*) FROM household_search").fetchone()[0] == 25
    assert search(conn, "lost") == []
    assert search(conn, "tran van mat") == []
    assert len(search(conn, "nguyen van da")) == 25
    # The workspace keeps working after the crash.
    added = again.households.add(code="OK-NEW", head_name="Lê Văn Sau", hamlet="Khóm 3").value
    assert again.households.by_code("ok-new").id == added.id
    assert again.households.count() == 26
    again.close()
