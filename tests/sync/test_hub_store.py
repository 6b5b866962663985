"""The hub's store: enrollment, tokens, per-record push results, merge and scoped pulls, on
SQLite and on PostgreSQL (tests/sync/conftest.py `hub_db`)."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import stat

import pytest

from dxkit.core.places import hamlet_id
from dxkit.sync.hub.database import open_database
from dxkit.sync.hub.store import CODE_ALPHABET, MIGRATIONS, HubError, HubStore, normalize_code

HUB_BACKENDS = ("sqlite", "postgresql")
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
def store(hub_db: str, clock: Clock):
    hub = HubStore(hub_db, now=clock)
    yield hub
    hub.close()


def enrolled(store: HubStore, hamlet: str = "Ấp Mỹ Hưng", team_id: str | None = None):
    team_id = team_id or store.add_team(DONG_THAP, MY_THO, hamlet).id
    code, _expires = store.issue_code(team_id)
    _device_id, token, _team = store.enroll(code, "Laptop")
    return store.authenticate(token), token


MY_HUNG = hamlet_id(MY_THO, "Ấp Mỹ Hưng")  # the hamlet of the team `enrolled` makes
KHOM_3 = hamlet_id(MY_THO, "Khóm 3")


def household(make_record, row_id="hh-1", **kwargs):
    values = {"code": "MH-001", "head_name": "Nguyễn Văn An", "hamlet_id": MY_HUNG, **kwargs}
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


def test_token_is_stored_hashed(store, tmp_path, hub_backend):
    _device, token = enrolled(store)
    hashes = [row[0] for row in store.conn.execute("SELECT token_hash FROM devices")]
    assert len(hashes) == 1 and len(hashes[0]) == 64 and token not in hashes[0]
    store.close()
    if hub_backend == "sqlite":
        raw = b"".join(path.read_bytes() for path in tmp_path.glob("hub.sqlite*"))
        assert token.encode() not in raw


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
    reader, _token2 = enrolled(store, team_id=device.team_id)
    start = store.high_water()  # past the team's hamlet, which the hub made
    outcome = store.push(device, batch)
    statuses = [(r["status"], r.get("reason")) for r in outcome.results]
    assert statuses == [
        ("applied", None), ("applied", None), ("duplicate", None), ("conflict", None),
        ("rejected", "unknown_table"), ("rejected", "wrong_fields"), ("rejected", "wrong_fields"),
        ("rejected", "missing_clocks"), ("rejected", "wrong_kind"),
        ("rejected", "not_an_object"), ("applied", None)]
    assert outcome.results[0] == {"table": "households", "id": "hh-1", "status": "applied"}
    assert outcome.cursor == store.high_water() == start + 3
    pulled = store.pull(reader, "visits").records
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
    writer, _token = enrolled(store)
    device, _token2 = enrolled(store, team_id=writer.team_id)
    s = store.high_water()  # the team's hamlet, made by the hub, took the first seq
    store.push(writer, [household(make_record, f"hh-{n}", code=f"MH-{n}") for n in range(5)])
    first = store.pull(device, "households", after=0, limit=2)
    assert [r["id"] for r in first.records] == ["hh-0", "hh-1"]
    assert (first.next, first.more, first.high_water) == (s + 2, True, s + 5)
    store.push(writer, [household(make_record, "hh-late", code="MH-9")])  # after H
    second = store.pull(device, "households", after=first.next, upto=s + 5, limit=2)
    third = store.pull(device, "households", after=second.next, upto=s + 5, limit=2)
    assert [r["id"] for r in second.records + third.records] == ["hh-2", "hh-3", "hh-4"]
    assert (third.next, third.more, third.high_water) == (s + 5, False, s + 5)
    rest = store.pull(device, "households", after=s + 5)
    assert [r["id"] for r in rest.records] == ["hh-late"] and rest.high_water == s + 6
    assert store.pull(device, "visits", after=0).records == []


def test_teams_neither_see_nor_overwrite_each_other(store, make_record):
    """Teams of two hamlets (tests/sync/test_team_areas.py: and a commune team)."""
    a, _ta = enrolled(store, "Ấp Mỹ Hưng")
    b, _tb = enrolled(store, "Khóm 3")
    a_reader, b_reader = (enrolled(store, team_id=d.team_id)[0] for d in (a, b))
    store.push(a, [household(make_record, "hh-a")])
    store.push(b, [household(make_record, "hh-b", code="K3-001", hamlet_id=KHOM_3)])
    assert [r["id"] for r in store.pull(a_reader, "households").records] == ["hh-a"]
    assert [r["id"] for r in store.pull(b_reader, "households").records] == ["hh-b"]
    takeover = household(make_record, "hh-a", head_name="Kẻ lạ", ms=99)
    result = store.push(b, [takeover]).results[0]
    assert (result["status"], result["reason"]) == ("rejected", "out_of_scope")
    assert store.pull(a_reader, "households").records[0]["fields"]["head_name"] == \
        "Nguyễn Văn An"
    assert store.get_record("households", "hh-a")["fields"]["head_name"] == "Nguyễn Văn An"


def test_bad_values_and_clocks_are_rejected(store, make_record):
    device, _token = enrolled(store)
    nested = household(make_record, "hh-1", notes={"x": 1})
    bad_clock = household(make_record, "hh-2")
    bad_clock["clocks"]["code"] = "yesterday"
    no_created = make_record("visits", "v-1")
    del no_created["created_at"]
    listed_clock = household(make_record, "hh-3")
    listed_clock["clocks"]["notes"] = ["not", "a", "clock"]  # unhashable: no TypeError
    start = store.high_water()
    results = store.push(device, [nested, bad_clock, no_created, listed_clock]).results
    assert [r.get("reason") for r in results] == ["wrong_type", "bad_clock",
                                                 "missing_created_at", "bad_clock"]
    assert results[0]["field"] == "notes" and "field" not in results[1]
    assert store.high_water() == start


def test_reopening_keeps_data_and_migrations(hub_db, hub_backend, make_record):
    first = HubStore(hub_db)
    device, token = enrolled(first)
    first.push(device, [household(make_record)])
    first.close()
    again = HubStore(hub_db)
    assert again.authenticate(token).id == device.id
    assert again.high_water() == 2  # the team's hamlet (made by the hub) and the household
    if hub_backend == "sqlite":
        assert again.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    else:
        applied = [row[0] for row in again.conn.execute(
            "SELECT name FROM hub_migrations ORDER BY name")]
        assert applied == [migration.name for migration in MIGRATIONS]
    again.close()


def test_concurrent_pushes_from_many_threads_lose_nothing(store, make_record):
    import threading

    first, _token = enrolled(store)
    devices = [first] + [enrolled(store, team_id=first.team_id)[0] for _ in range(3)]
    reader, _token2 = enrolled(store, team_id=first.team_id)
    start = store.high_water()
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
    pulled = store.pull(reader, "households", limit=1000)
    assert len(pulled.records) == 100
    assert pulled.high_water == pulled.next == start + 100


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
    nowhere = run("hub", "--db", "postgresql://hub:secret@127.0.0.1:1/hub", "team", "list")
    assert nowhere.returncode == 1 and "Could not connect" in nowhere.stderr
    assert "secret" not in nowhere.stderr and "Traceback" not in nowhere.stderr


def test_a_pushed_row_is_not_echoed_back_to_its_sender(store, make_record):
    hoa, _token = enrolled(store)
    tam, _token2 = enrolled(store, team_id=hoa.team_id)
    visit = make_record("visits", "v-1", household_id="hh-1", kind="visit", ms=5)
    store.push(hoa, [household(make_record, ms=10), visit])
    mine = store.pull(hoa, "households")
    seen = mine.high_water
    assert mine.records == [] and mine.next == seen and not mine.more
    assert store.pull(hoa, "visits").records == []
    assert [r["id"] for r in store.pull(tam, "households").records] == ["hh-1"]
    assert store.pull(tam, "visits").records == [visit]
    # Hoa re-sends the row with one newer field of her own: still exactly hers, no echo.
    by_hoa = household(make_record, notes="Có wifi", ms=10, clocks={"notes": 20})
    store.push(hoa, [by_hoa])
    assert store.pull(hoa, "households", after=seen).records == []
    assert store.pull(tam, "households", after=seen).records == [by_hoa]


def test_a_merged_row_goes_back_to_its_sender(store, make_record):
    hoa, _token = enrolled(store)
    tam, _token2 = enrolled(store, team_id=hoa.team_id)
    first = store.push(hoa, [household(make_record, ms=10)]).cursor
    by_tam = household(make_record, address="12 Lê Lợi", device="bbbb", ms=10,
                       clocks={"address": 21})
    store.push(tam, [by_tam])
    # Hoa has not seen Tâm's address yet; her phone edit merges with it on the hub, so
    # the stored row is not what she sent and she must receive it.
    by_hoa = household(make_record, phone="0901234567", device="aaaa", ms=10,
                       clocks={"phone": 22})
    store.push(hoa, [by_hoa])
    [merged] = store.pull(hoa, "households", after=first).records
    assert (merged["fields"]["phone"], merged["fields"]["address"]) == (
        "0901234567", "12 Lê Lợi")
    assert store.pull(tam, "households", after=2).records == [merged]
    assert store.get_record("households", "hh-1") == merged


def test_get_record_returns_any_teams_record_in_wire_form(store, make_record):
    a, _ta = enrolled(store, "Ấp Mỹ Hưng")
    b, _tb = enrolled(store, "Khóm 3")
    visit = make_record("visits", "v-1", household_id="hh-1", kind="visit", ms=5)
    row = household(make_record, "hh-b", code="K3-001", hamlet_id=KHOM_3)
    store.push(a, [household(make_record), visit])
    store.push(b, [row])
    assert store.get_record("visits", "v-1") == visit
    assert store.get_record("households", "hh-b") == row
    assert store.get_record("households", "nope") is None
    assert store.get_record("visits", "hh-b") is None


def test_tokens_expire_and_the_administrator_renews_or_ends_them(store, clock):
    device, token = enrolled(store)
    assert device.expires_at == "2027-11-20T09:30:00+00:00"  # a year by default
    clock.now = NOW + dt.timedelta(days=365)
    with pytest.raises(HubError) as expired:
        store.authenticate(token)
    assert expired.value.code == "token_expired" and device.id in expired.value.message
    renewed = store.renew_device(device.id, days=30)
    assert renewed.expires_at == "2027-12-20T09:30:00+00:00"
    assert store.authenticate(token).id == device.id
    store.expire_device(device.id)
    with pytest.raises(HubError) as ended:
        store.authenticate(token)
    assert ended.value.code == "token_expired"
    store.renew_device(device.id)
    assert store.authenticate(token).expires_at == "2028-11-19T09:30:00+00:00"
    store.revoke_device(device.id)
    store.renew_device(device.id)  # renewing never brings a revoked device back
    with pytest.raises(HubError) as revoked:
        store.authenticate(token)
    assert revoked.value.code == "device_revoked"
    for action in (store.renew_device, store.expire_device):
        with pytest.raises(HubError) as missing:
            action("no-such-device")
        assert missing.value.code == "not_found"


def test_token_validity_is_configurable(hub_db, clock):
    store = HubStore(hub_db, now=clock, token_days=2)
    device, token = enrolled(store)
    assert device.expires_at == "2026-11-22T09:30:00+00:00"
    clock.now = NOW + dt.timedelta(days=2, seconds=-1)
    assert store.authenticate(token).id == device.id
    clock.now = NOW + dt.timedelta(days=2)
    with pytest.raises(HubError):
        store.authenticate(token)
    store.close()


def test_devices_enrolled_before_expiry_existed_get_a_year(hub_db):
    old = open_database(hub_db)
    old.migrate(MIGRATIONS[:1])
    with old.write() as conn:
        conn.execute("INSERT INTO teams (id, province_code, commune_code, hamlet, created_at) "
                     "VALUES ('t', 82, 28261, 'Khóm 3', '2026-01-02T03:04:05+00:00')")
        conn.execute("INSERT INTO devices (id, team_id, name, token_hash, created_at) "
                     "VALUES ('d', 't', 'Laptop', 'hash', '2026-01-02T03:04:05+00:00')")
    old.close()
    store = HubStore(hub_db)
    [device] = store.list_devices()
    assert device.expires_at == "2027-01-02T03:04:05+00:00"
    store.close()


def test_ids_neither_engine_can_store_are_rejected(store, make_record):
    device, _token = enrolled(store)
    nul = household(make_record, "hh\x00-1")
    surrogate = household(make_record, "hh-\ud800")
    event = make_record("visits", "v-1", household_id="hh-1", kind="visit", device="a\x00b")
    reasons = [r.get("reason") for r in store.push(device, [nul, surrogate, event]).results]
    assert reasons == ["bad_id", "bad_id", "bad_device_id"]


def test_a_device_name_neither_engine_can_store_is_cleaned(store):
    team = store.add_team(DONG_THAP, MY_THO, "Khóm 3")
    code, _expires = store.issue_code(team.id)
    device_id, _token, _team = store.enroll(code, " Máy\x00 Hoa\ud800 ")
    [device] = store.list_devices()
    assert device.id == device_id and device.name == "Máy Hoa?"


# -- team keys for USB bundles -------------------------------------------------------------------
def test_every_team_has_its_own_bundle_key_kept_out_of_listings(store):
    mine = store.add_team(DONG_THAP, MY_THO, "Ấp Mỹ Hưng")
    other = store.add_team(DONG_THAP, MY_THO, "Khóm 3")
    keys = [store.bundle_key(mine.id), store.bundle_key(other.id)]
    assert keys[0] != keys[1]
    assert [len(base64.urlsafe_b64decode(key)) for key in keys] == [32, 32]
    assert keys[0] not in json.dumps([t.to_dict() for t in store.teams()])
    with pytest.raises(HubError):
        store.bundle_key("no-such-team")


def test_teams_made_before_bundle_keys_get_one_when_the_hub_is_updated(hub_db):
    old = open_database(hub_db)
    old.migrate(MIGRATIONS[:4])
    with old.write() as conn:
        for team in ("t1", "t2"):
            conn.execute("INSERT INTO teams (id, province_code, commune_code, hamlet, "
                         "created_at) VALUES (?, 82, 28261, 'Khóm 3', "
                         "'2026-01-02T03:04:05+00:00')", (team,))
    old.close()
    store = HubStore(hub_db)
    keys = {store.bundle_key(team) for team in ("t1", "t2")}
    assert len(keys) == 2 and all(len(base64.urlsafe_b64decode(k)) == 32 for k in keys)
    store.close()


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_the_hub_database_is_private(tmp_path, hub_backend):
    if hub_backend != "sqlite":
        pytest.skip("a PostgreSQL server keeps its own files")
    previous = os.umask(0o022)
    try:
        path = tmp_path / "new-folder" / "hub.sqlite"
        store = HubStore(path)
        store.add_team(DONG_THAP, MY_THO, "Ấp Mỹ Hưng")
        assert {p.name for p in path.parent.iterdir()} == {"hub.sqlite", "hub.sqlite-wal",
                                                           "hub.sqlite-shm"}
        assert {stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()} == {0o600}
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        store.close()
        for suffix in ("", "-wal", "-shm"):  # as an older hub left them
            with contextlib.suppress(FileNotFoundError):
                path.with_name(path.name + suffix).chmod(0o644)
        HubStore(path).close()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(previous)
