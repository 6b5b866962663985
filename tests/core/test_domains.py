"""The kernel knows domains only through what they declare: migrations, services, commit hooks,
open hooks. A toy domain shows each, without touching the real ones."""

from __future__ import annotations

from typing import ClassVar

import pytest
from sqlite_utils import Database

from dxkit.core import synced
from dxkit.core.domain import Domain, Migration, migration
from dxkit.core.synced import Tx
from dxkit.core.workspace import Workspace as KernelWorkspace
from dxkit.workspace import DOMAINS, Workspace


@migration("9100_tally")
def make_tally(db: Database) -> None:
    db.execute("CREATE TABLE tally (n INTEGER NOT NULL)")
    db.execute("INSERT INTO tally (n) VALUES (0)")


def count_commits(tx: Tx) -> None:
    tx.conn.execute("UPDATE tally SET n = n + 1")


class Counter:
    def __init__(self, ws: KernelWorkspace):
        self.ws = ws

    def value(self) -> int:
        return self.ws.conn.execute("SELECT n FROM tally").fetchone()[0]


opened: list[bool] = []
TOY = Domain(name="toy", services={"counter": Counter}, migrations=(make_tally,),
             before_commit=(count_commits,), on_open=(lambda _ws, created: opened.append(created),))


class ToyWorkspace(KernelWorkspace):
    domains: ClassVar[tuple[Domain, ...]] = (TOY,)
    counter: Counter


def test_the_kernel_alone_makes_only_its_own_tables(tmp_path):
    ws = KernelWorkspace.open(tmp_path / "kernel")
    tables = {r[0] for r in ws.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"meta", "outbox", "audit_log", "sync_conflicts", "sync_quarantine"} <= tables
    assert not tables & {"households", "people", "visits", "farm_orgs", "lots"}
    ws.close()


def test_a_domain_brings_its_migration_service_and_hooks(tmp_path):
    opened.clear()
    ws = ToyWorkspace.open(tmp_path / "toy")
    assert opened == [True]
    assert ws.counter.value() == 0
    with ws.transaction():
        ws.set_meta("anything", "1")
    assert ws.counter.value() == 1  # the hook ran inside the transaction
    with pytest.raises(RuntimeError), ws.transaction():
        ws.set_meta("anything", "2")
        raise RuntimeError("the operation failed")
    assert ws.counter.value() == 1 and ws.meta()["anything"] == "1"  # nothing of it stays
    ws.close()
    ToyWorkspace.open(tmp_path / "toy").close()
    assert opened == [True, False]


def test_a_failing_commit_hook_undoes_the_whole_change(tmp_path, monkeypatch):
    ws = ToyWorkspace.open(tmp_path / "toy")

    def broken(tx: Tx) -> None:
        raise ValueError("derived state could not be computed")

    monkeypatch.setattr(ToyWorkspace, "domains", (Domain(name="toy", migrations=(make_tally,),
                                                         before_commit=(broken,)),))
    with pytest.raises(ValueError), ws.transaction():
        ws.set_meta("anything", "1")
    assert "anything" not in ws.meta()
    ws.close()


def test_two_domains_cannot_take_the_same_migration_number(tmp_path):
    twin = Domain(name="twin", migrations=(Migration("9100_tally", make_tally.apply),))

    class Clash(KernelWorkspace):
        domains: ClassVar[tuple[Domain, ...]] = (TOY, twin)

    with pytest.raises(ValueError, match="9100_tally"):
        Clash.open(tmp_path / "clash")


def test_sync_knows_exactly_the_tables_the_domains_declare():
    declared = {table.name for domain in DOMAINS for table in domain.tables}
    assert set(synced.REGISTRY) == declared
    assert Workspace.domains == DOMAINS
    assert [d.name for d in DOMAINS] == ["households", "farm", "lessons"]
