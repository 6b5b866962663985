"""dxkit.sync.apply: a batch of one table goes in at once; one bad record in it is quarantined
and the others land exactly as they would one by one (no network, no hub)."""

from __future__ import annotations

import json

import pytest

from dxkit.core.synced import record_of
from dxkit.sync.apply import Applied, apply_records, apply_stream
from dxkit.workspace import Workspace


def records_of(ws: Workspace, table: str) -> list[dict]:
    ids = [r[0] for r in ws.conn.execute(f"SELECT id FROM {table} ORDER BY id")]
    return [record_of(ws.conn, table, row_id) for row_id in ids]


@pytest.fixture
def source(tmp_path):
    ws = Workspace.open(tmp_path / "source")
    ws.catalog.add_hamlet("Ấp Mỹ Hưng")
    for number in range(1, 13):
        household = ws.households.add(code=f"MH-{number:03d}", head_name=f"Nguyễn Văn {number}",
                                      hamlet="Ấp Mỹ Hưng").value
        ws.people.add(household.id, full_name=f"Trần Thị {number}", birth_year=1970 + number)
    yield ws
    ws.close()


def copy_of(source: Workspace, folder) -> Workspace:
    target = Workspace.open(folder)
    with target.transaction() as tx:
        apply_records(tx, "hamlets", records_of(source, "hamlets"))
    return target


def state(ws: Workspace, table: str) -> list[dict]:
    return [record_of(ws.conn, table, r["id"]) for r in records_of(ws, table)]


def test_a_batch_lands_like_records_one_by_one(source, tmp_path):
    households = records_of(source, "households")
    batch, single = copy_of(source, tmp_path / "batch"), copy_of(source, tmp_path / "single")
    with batch.transaction() as tx:
        outcomes = apply_records(tx, "households", households)
    with single.transaction() as tx:
        for record in households:
            tx.apply_remote(record)
    assert outcomes == ["applied"] * 12
    assert state(batch, "households") == state(single, "households")
    assert batch.households.search("nguyen van 7")[0].code == "MH-007"  # commit hooks ran
    with batch.transaction() as tx:
        assert apply_records(tx, "households", households) == ["duplicate"] * 12
    assert batch.pending_changes() == 0  # received rows are not sent back
    batch.close()
    single.close()


def test_one_bad_record_is_quarantined_and_the_rest_of_its_batch_lands(source, tmp_path):
    households = records_of(source, "households")
    households[5] = {**households[5], "fields": {**households[5]["fields"], "code": None}}
    households[9] = {**households[9], "fields": {"code": "MH-X"}}  # fields missing
    target = copy_of(source, tmp_path / "target")
    with target.transaction() as tx:
        outcomes = apply_records(tx, "households", households)
        created = set(tx.changes.created["households"])
    assert outcomes.count("applied") == 10
    assert outcomes[5] == outcomes[9] == "quarantined"
    assert target.households.count() == 10
    bad = {households[5]["id"], households[9]["id"]}
    assert not created & bad  # screens and commit hooks never hear of rows not stored
    held = target.conn.execute("SELECT row_id, reason FROM sync_quarantine").fetchall()
    assert {row_id for row_id, _reason in held} == bad
    assert all(reason for _row_id, reason in held)
    target.close()


def test_records_of_another_table_or_no_record_at_all_are_held_back(source, tmp_path):
    target = copy_of(source, tmp_path / "target")
    households = records_of(source, "households")[:2]
    with target.transaction() as tx:
        outcomes = apply_records(tx, "households", [households[0], "junk",
                                                    {**households[1], "table": "people"}])
    assert outcomes == ["applied", "quarantined", "quarantined"]
    reasons = [r[0] for r in target.conn.execute("SELECT reason FROM sync_quarantine")]
    assert reasons == ["wrong_table", "wrong_table"]
    target.close()


def test_a_stream_applies_runs_of_tables_in_order_and_counts(source, tmp_path):
    target = Workspace.open(tmp_path / "target")
    stream = [*records_of(source, "hamlets"), *records_of(source, "households"),
              *records_of(source, "people"), {"table": 7, "id": "x"}]
    tally = Applied()
    with target.transaction() as tx:
        progress = list(apply_stream(tx, stream, tally))
    assert progress[-1] == tally.received == len(stream)
    assert (tally.applied, tally.duplicate, tally.quarantined) == (len(stream) - 1, 0, 1)
    assert target.people.count() == 12
    assert json.loads(target.conn.execute("SELECT record FROM sync_quarantine").fetchone()[0]) \
        == {"table": 7, "id": "x"}
    target.close()
