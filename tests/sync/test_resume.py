"""An interrupted sync re-sends at most one batch (issue 3): the line is cut in the middle of
a pull answer, and after the hub committed a push but before its answer arrived. This is
benchmarks/sync_3g.py's interruption run, small and without throttling, against the REAL hub;
it counts records the hub sent (or received) twice."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

import pytest

from dxkit.sync import engine


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


HERE = Path(__file__).resolve()
faults = _load(HERE.with_name("test_faults.py"), "dxkit_resume_test_faults")
bench = _load(HERE.parents[2] / "benchmarks" / "sync_3g.py", "dxkit_resume_sync_3g")
file_tokens, team, laptops = faults.file_tokens, faults.team, faults.laptops
hamlet_team = faults.hamlet_team
BATCH = 5


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    monkeypatch.setattr(engine, "PUSH_MAX_RECORDS", BATCH)
    monkeypatch.setattr(engine, "PULL_LIMIT", BATCH)


@pytest.fixture
def line(hub_server):
    """The benchmark's proxy, unthrottled: only its cuts are used."""
    target = urlsplit(hub_server.url)
    with bench.ThrottleProxy((target.hostname, target.port)) as proxy:
        yield proxy


@pytest.mark.parametrize("where", [0.2, 0.5])  # inside the households and people batches
def test_a_pull_cut_mid_answer_resends_at_most_one_batch(line, laptops, where):
    a, b, c = laptops("a"), laptops("b"), laptops("c")
    faults.fill(a, households=12)
    faults.sync_via(line, a)
    start = line.down.bytes
    bench.sync_counted(b, line.url, bench.Tally())  # a whole pull, to size the cut
    whole = line.down.bytes - start
    outcome = bench.interrupted_pull(c, line, int(whole * where))
    assert outcome["failed_with"] == "HubUnreachable"  # the cut did hit
    assert 0 < outcome["resent"] <= BATCH
    assert outcome["records_before_cut"] + outcome["received_after"] == bench.team_rows(a)
    assert faults.rows(c) == faults.rows(b)
    assert faults.quarantined(c) == 0


@pytest.mark.parametrize("where", [0.3, 0.7])
def test_a_push_whose_answer_is_lost_resends_at_most_one_batch(line, laptops, where):
    a, d = laptops("a"), laptops("d")
    faults.sync_via(line, d)  # up to date: its next sync is one pull, then the push
    faults.fill(d, households=12)
    outcome = bench.interrupted_push(d, line, int(bench.push_size(d) * where))
    assert outcome["failed_with"] == "HubUnreachable"
    assert 0 < outcome["resent"] <= BATCH  # the batch the hub had committed, once more
    assert outcome["left_after_cut"] < outcome["records"]  # earlier batches were settled
    assert outcome["left_at_end"] == 0
    faults.sync_via(line, a)
    assert faults.rows(a) == faults.rows(d)
    assert faults.quarantined(d) == 0
