"""The hub's store: enrollment, tokens, per-record push results, merge and scoped pulls."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from dxkit.sync.hub.store import CODE_ALPHABET, HubError, HubStore, normalize_code

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
MY_THO, DONG_THAP = 28261, 82


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock):
    hub = HubStore(tmp_path / "hub.sqlite", now=clock)
    yield hub
    hub.close()


def enrolled(store: HubStore, hamlet: str = "Ấp Mỹ Hưng", team_id: str | None = None):
    team_id = team_id or store.add_team(DONG_THAP, MY_THO, hamlet).id
    code, _expires = store.issue_code(team_id)
    _device_id, token, _team = store.enroll(code, "Laptop")
    return store.authenticate(token), token


def household(make_record, row_id="hh-1", **kwargs):
    values = {"code": "MH-001", "head_name": "Nguyễn Văn An", "hamlet_id": "h-1", **kwargs}
    return make_record("households", row_id, **values)


def test_code_is_short_typable_and_enrolls_once(store):
    team = store.add_team(DONG_THAP, MY_THO, "Ấp Mỹ Hưng")
    code, expires_at = store.issue_code(team.id)
    assert len(code) == 12 and code[4] == code[9] == "-"
    assert set(normalize_code(code)) <= set(CODE_ALPHABET)
    assert expires_at == "2026-11-23T09:30:00+00:00"
    device_id, token, joined = store.enroll(code.lower().replace("-", " "), "Laptop Hoa")
    assert joined.id == team.id and joined.hamlet == "Ấp Mỹ Hưng"
    assert store.authenticate(token).id == device_id
    with pytest.raises(HubError) as refused:
        store.enroll(code, "Another laptop")
    assert refused.value.code == "bad_code"
    assert [d.id for d in store.list_devices()] == [device_id]


def test_expired_and_unknown_codes_are_refused(store, clock):
    team = store.add_team(DONG_THAP, MY_THO, "Khóm 3")
    code, _expires = store.issue_code(team.id, ttl_hours=1)
    clock.now = NOW + dt.timedelta(hours=1, seconds=1)
    for attempt in (code, "AAAA-BBBB-CC"):
        with pytest.raises(HubError) as refused:
            store.enroll(attempt, "Laptop")
        assert refused.value.code == "bad_code"


def test_token_is_stored_hashed(store, tmp_path):
    _device, token = enrolled(store)
    store.close()
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("hub.sqlite*"))
    assert token.encode() not in raw
    conn = sqlite3.connect(tmp_path / "hub.sqlite")
    hashes = [row[0] for row in conn.execute("SELECT token_hash FROM devices")]
    conn.close()
    assert len(hashes) == 1 and len(hashes[0]) == 64 and token not in hashes[0]


def test_revoked_device_and_unknown_token_fail_authentication(store):
    device, token = enrolled(store)
    with pytest.raises(HubError) as unknown:
        store.authenticate(token + "x")
    assert unknown.value.code == "unauthorized"
    assert store.revoke_device(device.id).revoked_at is not None
    with pytest.raises(HubError) as revoked:
        store.authenticate(token)
    assert revoked.value.code == "device_revoked"


def test_push_results_per_record(store, make_record):
    device, _token = enrolled(store)
    visit = make_record("visits", "v-1", household_id="hh-1", kind="visit", ms=5)
    changed_visit = make_record("visits", "v-1", household_id="hh-1", kind="visit",
                                notes="khác", ms=5)
    wrong_fields = household(make_record, "hh-2")
    del wrong_fields["fields"]["phone"]
    extra_field = household(make_record, "hh-3")
    extra_field["fields"]["local_id"] = 7
    extra_field["clocks"]["local_id"] = extra_field["clocks"]["code"]
    no_clocks = household(make_record, "hh-4")
    no_clocks["clocks"].pop("code")
    wrong_kind = {**household(make_record, "hh-5"), "kind": "event"}
    batch = [household(make_record), visit, visit, changed_visit,
             {**visit, "table": "secrets"}, wrong_fields, extra_field, no_clocks, wrong_kind,
             "not a record", household(make_record, "hh-6")]
    outcome = store.push(device, batch)
    statuses = [(r["status"], r.get("reason")) for r in outcome.results]
    assert statuses == [
        ("applied", None), ("applied", None), ("duplicate", None), ("conflict", None),
        ("rejected", "unknown_table"), ("rejected", "wrong_fields"), ("rejected", "wrong_fields"),
        ("rejected", "missing_clocks"), ("rejected", "wrong_kind"),
        ("rejected", "not_an_object"), ("applied", None)]
    assert outcome.results[0] == {"table": "households", "id": "hh-1", "status": "applied"}
    assert outcome.cursor == store.high_water() == 3
    pulled = store.pull(device, "visits").records
    assert pulled == [visit]  # the conflicting copy never overwrote the first


def test_mutable_fields_merge_per_field_on_the_hub(store, make_record):
    hoa, _token = enrolled(store)
    tam, _token2 = enrolled(store, team_id=hoa.team_id)
    store.push(hoa, [household(make_record, ms=10)])
    # Hoa edits the phone, Tâm the address: both edits survive.
    by_hoa = household(make_record, phone="0901234567", device="aaaa", ms=10,
                       clocks={"phone": 20})
    by_tam = household(make_record, address="12 Lê Lợi", device="bbbb", ms=10,
                       clocks={"address": 21})
    assert store.push(hoa, [by_hoa]).results[0]["status"] == "applied"
    assert store.push(tam, [by_tam]).results[0]["status"] == "applied"
    # Both then edit the head's name: the newer clock wins whatever the arrival order.
    newer = household(make_record, head_name="Nguyễn Văn Ân", device="aaaa", ms=10,
                      clocks={"head_name": 40})
    older = household(make_record, head_name="Nguyen Van An", device="bbbb", ms=10,
                      clocks={"head_name": 30})
    assert store.push(hoa, [newer]).results[0]["status"] == "applied"
    assert store.push(tam, [older]).results[0]["status"] == "duplicate"
    [row] = store.pull(hoa, "households").records
    assert row["fields"]["phone"] == "0901234567"
    assert row["fields"]["address"] == "12 Lê Lợi"
    assert row["fields"]["head_name"] == "Nguyễn Văn Ân"
    assert row["clocks"]["head_name"].startswith(f"{40:012x}")
    assert row["device_id"] == "aaaa"  # the device of the latest edit


def test_pull_pages_by_seq_with_upto_and_more(store, make_record):
    device, _token = enrolled(store)
    store.push(device, [household(make_record, f"hh-{n}", code=f"MH-{n}") for n in range(5)])
    first = store.pull(device, "households", after=0, limit=2)
    assert [r["id"] for r in first.records] == ["hh-0", "hh-1"]
    assert (first.next, first.more, first.high_water) == (2, True, 5)
    store.push(device, [household(make_record, "hh-late", code="MH-9")])  # seq 6, after H
    second = store.pull(device, "households", after=first.next, upto=5, limit=2)
    third = store.pull(device, "households", after=second.next, upto=5, limit=2)
    assert [r["id"] for r in second.records + third.records] == ["hh-2", "hh-3", "hh-4"]
    assert (third.next, third.more, third.high_water) == (5, False, 5)
    rest = store.pull(device, "households", after=5)
    assert [r["id"] for r in rest.records] == ["hh-late"] and rest.high_water == 6
    assert store.pull(device, "visits", after=0).records == []


def test_teams_neither_see_nor_overwrite_each_other(store, make_record):
    a, _ta = enrolled(store, "Ấp Mỹ Hưng")
    b, _tb = enrolled(store, "Khóm 3")
    store.push(a, [household(make_record, "hh-a")])
    store.push(b, [household(make_record, "hh-b", code="K3-001")])
    assert [r["id"] for r in store.pull(a, "households").records] == ["hh-a"]
    assert [r["id"] for r in store.pull(b, "households").records] == ["hh-b"]
    takeover = household(make_record, "hh-a", head_name="Kẻ lạ", ms=99)
    result = store.push(b, [takeover]).results[0]
    assert (result["status"], result["reason"]) == ("rejected", "out_of_scope")
    assert store.pull(a, "households").records[0]["fields"]["head_name"] == "Nguyễn Văn An"


def test_bad_values_and_clocks_are_rejected(store, make_record):
    device, _token = enrolled(store)
    nested = household(make_record, "hh-1", notes={"x": 1})
    bad_clock = household(make_record, "hh-2")
    bad_clock["clocks"]["code"] = "yesterday"
    no_created = make_record("visits", "v-1")
    del no_created["created_at"]
    reasons = [r.get("reason") for r in store.push(device, [nested, bad_clock, no_created]).results]
    assert reasons == ["bad_value", "bad_clock", "missing_created_at"]
    assert store.high_water() == 0


def test_reopening_keeps_data_and_migrations(tmp_path, make_record):
    first = HubStore(tmp_path / "hub.sqlite")
    device, token = enrolled(first)
    first.push(device, [household(make_record)])
    first.close()
    again = HubStore(tmp_path / "hub.sqlite")
    assert again.authenticate(token).id == device.id
    assert again.high_water() == 1
    assert again.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again.close()


def test_concurrent_pushes_from_many_threads_lose_nothing(store, make_record):
    import threading

    first, _token = enrolled(store)
    devices = [first] + [enrolled(store, team_id=first.team_id)[0] for _ in range(3)]
    failures: list[BaseException] = []

    def push_many(index: int) -> None:
        try:
            for n in range(25):
                row = household(make_record, f"hh-{index}-{n}", code=f"{index}-{n}")
                assert store.push(devices[index], [row]).results[0]["status"] == "applied"
        except BaseException as exc:  # reported below: a thread's assert is otherwise lost
            failures.append(exc)

    threads = [threading.Thread(target=push_many, args=(i,)) for i in range(len(devices))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    pulled = store.pull(first, "households", limit=1000)
    assert len(pulled.records) == 100 and pulled.high_water == 100 and pulled.next == 100


def test_cli_needs_the_database_and_valid_places(tmp_path):
    import subprocess
    import sys

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "dxkit.ui.entry", "--lang", "en", *args],
                              capture_output=True, text=True, timeout=60, check=False)

    no_db = run("hub", "team", "add", "--province", "82", "--commune", "28261", "--hamlet", "X")
    assert no_db.returncode != 0 and "--db" in no_db.stderr
    db = str(tmp_path / "hub.sqlite")
    bad = run("hub", "--db", db, "team", "add", "--province", "82", "--commune", "1",
              "--hamlet", "X")
    assert bad.returncode == 1 and "There is no commune" in bad.stderr
    no_team = run("hub", "--db", db, "enroll-code", "--team", "nope")
    assert no_team.returncode == 1 and "There is no team nope" in no_team.stderr
