"""Digests and repair against the REAL hub: divergence is found per table and bucket, and
mended by merging both ways — never by wiping a side."""

from __future__ import annotations

import json

import pytest

from dxkit.core.digest import Digest, local_digest, record_hash, summarize
from dxkit.core.synced import record_of
from dxkit.sync import engine, repair
from dxkit.sync.hub.store import HubStore
from tests.sync.test_e2e_sync import (  # noqa: F401  (fixtures: file tokens, hub, laptops)
    file_tokens,
    fill,
    hub,
    laptops,
    new_team,
    rows,
)

HUB_BACKENDS = ("sqlite", "postgresql")
# The digest SQL is shared by both databases: these run on SQLite only, to keep the suite short.
SQLITE_ONLY = {"test_digest_is_order_free_and_sees_one_changed_record",
               "test_a_newer_local_edit_the_hub_never_got_wins_there",
               "test_check_without_repair_changes_nothing",
               "test_another_team_digests_only_its_own_rows",
               "test_sync_check_from_the_command_line",
               "test_fetch_of_ids_no_database_can_store_finds_nothing",
               "test_the_app_checks_digests_once_a_day_after_a_sync"}


@pytest.fixture
def team_in_step(hub, laptops):
    """Two laptops of one team, filled, synced until quiet."""
    team = new_team(hub)
    a, b = laptops("a", team), laptops("b", team)
    made = fill(a)
    for ws in (a, b, a):
        engine.sync(ws)
    assert rows(a) == rows(b)
    return a, b, made


def hub_store(hub) -> HubStore:
    return HubStore(str(hub.db_path))


def test_digest_is_order_free_and_sees_one_changed_record():
    pairs = [(f"0190-{i:04x}", record_hash({"table": "t", "id": str(i), "kind": "event",
                                             "fields": {"n": i}, "created_at": "x"}))
             for i in range(300)]
    assert summarize(pairs) == summarize(list(reversed(pairs)))
    changed = [*pairs[:-1], (pairs[-1][0], "0" * 32)]
    other = summarize(changed)
    assert other.total != summarize(pairs).total
    assert summarize(pairs).differing_buckets(other) == [pairs[-1][0][-2:]]
    assert Digest.from_dict(json.loads(json.dumps(other.to_dict()))) == other


def test_a_team_in_step_needs_one_request(team_in_step):
    a, b, _made = team_in_step
    for ws in (a, b):
        report = repair.check(ws)
        assert report.in_step, report.to_dict()
        assert report.requests == 1 and report.fetched == report.requeued == 0


def test_rows_the_hub_lost_are_sent_again(hub, team_in_step):
    a, b, made = team_in_step
    store = hub_store(hub)
    try:
        with store.database.write() as conn:  # as if the hub were restored from an old backup
            conn.execute("DELETE FROM records WHERE row_id IN (?, ?)",
                         (made["household"], made["visit"]))
    finally:
        store.close()
    report = repair.check(a)
    assert {"households", "visits"} <= set(report.tables_differing)
    assert report.requeued >= 2 and report.fetched == 0
    sent = engine.sync(a)
    assert sent.pushed >= 2 and sent.quarantined == 0
    assert repair.check(a).in_step and repair.check(b).in_step
    store = hub_store(hub)
    try:
        assert store.get_record("households", made["household"])["fields"] == \
            record_of(a.conn, "households", made["household"])["fields"]
    finally:
        store.close()


def test_rows_a_laptop_lost_or_missed_come_back_merged(team_in_step):
    a, b, made = team_in_step
    lonely = b.households.by_code("MH-002")
    with b.transaction() as tx:  # as if b were restored from an old backup
        tx.conn.execute("DELETE FROM households WHERE id = ?", (lonely.id,))
        tx.conn.execute("DELETE FROM indicator_answers")
    a.households.update(made["household"], notes="Đã lắp wifi")
    engine.sync(a)
    with b.transaction() as tx:  # b's cursor already passed the edit: it would never see it
        row = tx.conn.execute("SELECT value FROM meta WHERE key LIKE '%households%'").fetchone()
        assert row is not None
    engine.sync(b)
    report = repair.check(b)
    assert {"households", "indicator_answers"} <= set(report.tables_differing)
    assert report.fetched >= 2 and report.requeued == 0
    assert rows(b) == rows(a)
    assert b.households.by_code("MH-002").id == lonely.id
    assert repair.check(b).in_step


def test_a_newer_local_edit_the_hub_never_got_wins_there(hub, team_in_step):
    a, b, made = team_in_step
    a.households.update(made["household"], notes="Ghi chú mới trên máy A")
    a.conn.execute("DELETE FROM outbox")  # lost from the queue (an old bug, a restored file)
    report = repair.check(a)
    assert report.tables_differing == ["households"] and report.requeued == 1
    engine.sync(a)
    engine.sync(b)
    assert b.households.get(made["household"]).notes == "Ghi chú mới trên máy A"
    assert repair.check(a).in_step and repair.check(b).in_step


def test_check_without_repair_changes_nothing(hub, team_in_step):
    a, _b, made = team_in_step
    a.conn.execute("UPDATE households SET notes = 'sửa tay' WHERE id = ?", (made["household"],))
    before = local_digest(a.conn, "households")
    report = repair.check(a, repair=False)
    assert report.tables_differing == ["households"] and report.requeued == 0
    assert local_digest(a.conn, "households") == before
    assert a.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


def test_another_team_digests_only_its_own_rows(hub, laptops, team_in_step):
    other = laptops("c", new_team(hub, "Khóm 3"))  # its hamlet comes with the enrollment
    engine.sync(other)
    report = repair.check(other)
    assert report.in_step, report.to_dict()


def test_sync_check_from_the_command_line(hub, team_in_step):
    from click.testing import CliRunner

    from dxkit.cli import cli

    a, _b, made = team_in_step
    a.conn.execute("UPDATE households SET notes = 'sửa tay' WHERE id = ?", (made["household"],))
    a.close()  # one writer per workspace: the command takes a's lock
    runner = CliRunner()
    only_report = runner.invoke(cli, ["--data-dir", str(a.path), "sync", "check", "--no-repair",
                                      "--json"])
    assert only_report.exit_code == 1
    assert json.loads(only_report.stdout)["tables_differing"] == ["households"]
    mended = runner.invoke(cli, ["--data-dir", str(a.path), "sync", "check"])
    assert mended.exit_code == 0, mended.output
    assert "households" in mended.stdout
    again = runner.invoke(cli, ["--data-dir", str(a.path), "sync", "check", "--json"])
    assert json.loads(again.stdout)["in_step"] is True


def test_fetch_of_ids_no_database_can_store_finds_nothing(team_in_step):
    a, _b, made = team_in_step
    with engine.client_for(a) as hub:
        found = hub.fetch("households", ["a\x00b", made["household"]])
    assert [r["id"] for r in found] == [made["household"]]


def test_the_app_checks_digests_once_a_day_after_a_sync(hub, team_in_step):
    import datetime as dt

    a, _b, made = team_in_step
    a.conn.execute("UPDATE households SET notes = 'sửa tay' WHERE id = ?", (made["household"],))
    now = dt.datetime(2026, 11, 20, 9, 0)
    a.freeze_time(now)
    first = repair.sync_with_daily_check(a)
    assert first.changes.touched("households")  # the mended row: screens look again
    assert repair.check(a).in_step
    a.conn.execute("UPDATE households SET notes = 'lại sửa' WHERE id = ?", (made["household"],))
    a.freeze_time(now + dt.timedelta(hours=5))
    repair.sync_with_daily_check(a)  # checked today already: left for tomorrow
    assert not repair.check(a, repair=False).in_step
    a.freeze_time(now + dt.timedelta(days=1, minutes=1))
    repair.sync_with_daily_check(a)
    assert repair.check(a, repair=False).in_step
