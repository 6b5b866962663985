"""CLI fixtures: a workspace set up through the core API, closed before the CLI opens it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dxkit.cli import cli
from dxkit.households.visits import VisitItem
from dxkit.workspace import Workspace

VALID_CCCD = "087068012345"  # Đồng Tháp, male, born 1968


def real_now() -> dt.datetime:
    """The CLI runs on the wall clock, so workspaces built for it do too."""
    return dt.datetime.now().replace(second=0, microsecond=0)


@pytest.fixture
def team_dir(ws: Workspace) -> Path:
    """The configured `ws` workspace (three hamlets, two members), closed, as a folder."""
    ws.freeze_time(None)
    path = ws.path
    ws.close()
    return path


@pytest.fixture
def filled_dir(ws: Workspace) -> Path:
    """Three households, people (one with a CCCD), one visit with a follow-up due."""
    ws.freeze_time(None)
    now = real_now()
    dong = ws.households.add(code="MH-001", head_name="Nguyễn Văn Đồng", hamlet="Ấp Mỹ Hưng",
                             phone="0912345678", address="12 Đường Lê Lợi").value
    ws.households.add(code="MH-002", head_name="Trần Thị Nguyệt", hamlet="Ấp Mỹ Hưng")
    ws.households.add(code="K3-001", head_name="Nguyễn Văn Đông Hải", hamlet="Khóm 3")
    head = ws.people.add(dong.id, full_name="Nguyễn Văn Đồng", sex="Nam", birth_date="1968",
                         relationship="Chủ hộ", cccd=VALID_CCCD, consent=True,
                         phone="0987654321").value
    ws.people.add(dong.id, full_name="Lê Thị Lan", sex="Nữ", birth_date="05/09/1972",
                  relationship="Vợ")
    hoa = ws.catalog.member("Lê Thị Hoa")
    ws.visits.add(dong.id, [VisitItem("vneid_level2", "done", head.id)],
                  visited_at=now - dt.timedelta(days=10), member_ids=[hoa.id],
                  follow_up_on=(now - dt.timedelta(days=3)).date())
    path = ws.path
    ws.close()
    return path


Invoke = Callable[..., Result]


def run_cli(folder: Path, *args: str) -> Result:
    """The CLI on a workspace folder, in this process; no traceback may leak."""
    result = CliRunner().invoke(cli, ["--data-dir", str(folder), *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def dxkit(tmp_path: Path) -> Invoke:
    """`dxkit(folder, *args)` runs the CLI on a workspace folder and checks no traceback leaked."""
    return run_cli


def as_json(result: Result) -> object:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def counts(folder: Path) -> dict[str, int]:
    """Rows in the workspace, to prove a failed command wrote nothing."""
    with Workspace.open(folder) as ws:
        conn = ws.conn
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("households", "people", "visits", "visit_items", "hamlets",
                              "team_members", "outbox", "indicator_answers")}
