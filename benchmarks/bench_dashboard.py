"""The province's dashboard figures and JSON API at full size, on a real PostgreSQL.

    .venv/bin/python benchmarks/bench_dashboard.py                       # a throwaway PG server
    .venv/bin/python benchmarks/bench_dashboard.py --db postgresql://…   # an existing empty one
    .venv/bin/python benchmarks/bench_dashboard.py --teams 80 --people 100000 --visits 300000

Issue 13 §3's bar: 800 teams with 1,000,000 people and 3,000,000 visits, p95 ≤ 1 s per page and
API call. The set-up makes 800 hamlet teams (hub/store.py, in the communes of one province)
with one enrolled device each, then writes every team's hamlet straight into `records` with
PostgreSQL's COPY: households (four people each, a hamlet's last one fewer), people with
birth years, visits over the last 24 months (2% voided later, a fifth with a return date)
each with one support item's outcome, and indicator answers — every field of every table,
as a laptop pushes them. Then:

- the full rebuild of the figures (hub/figures.py `rebuild`: every hamlet and team);
- what computing a hamlet's figures per request would cost instead (one hamlet, timed;
  a province view needs all of them) — the case for keeping them as records arrive;
- p50/p95 of the figures reads the pages make and of every API call over HTTP (a real
  `dxkit hub serve` process), --repeat times each;
- a sample push through the push code path (store.push: 100 visits with their items into
  one hamlet) and the refresh of that hamlet and team after it.

Figures are printed and written to OUT/bench-dashboard.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dxkit.workspace  # noqa: F401  (installs every domain's synced tables)
from dxkit.core.places import communes
from dxkit.core.synced import REGISTRY, wire_fields
from dxkit.households.catalog import DEFAULT_INDICATORS, DEFAULT_SUPPORT_ITEMS
from dxkit.sync.hub import figures
from dxkit.sync.hub.consumers import add_consumer
from dxkit.sync.hub.officials import add_official
from dxkit.sync.hub.store import HubStore
from tests.support import postgres
from tests.support.hub_process import start_hub

PROVINCE = 82  # Đồng Tháp
DEVICE = "bench0000000000"
COLUMNS = ("table_name", "row_id", "team_id", "kind", "fields", "clocks", "created_at",
           "device_id", "pushed_by", "pushed_exact", "seq", "area")
FIRST_NAMES = ("An", "Bình", "Cường", "Dung", "Hoa", "Khoa", "Lan", "Minh", "Nga", "Tâm")


def hlc(ms: int, device: str = DEVICE) -> str:
    return f"{ms:012x}-0000-{device}"


def ms_of(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


class Writer:
    """Rows for one COPY into `records`, with the hub's seq counter."""

    def __init__(self, copy: Any, seq: int):
        self.copy, self.seq = copy, seq
        self.count = 0

    def row(self, table: str, row_id: str, area: str, fields: dict[str, Any], ms: int) -> None:
        spec = REGISTRY[table]
        full = dict.fromkeys(wire_fields(spec))
        full.update(fields)
        if spec.kind == "mutable":
            full.setdefault("deleted", 0)
            full["deleted"] = full["deleted"] or 0
        self.seq += 1
        self.count += 1
        stamp = hlc(ms)
        text = json.dumps(full, ensure_ascii=False, sort_keys=True)
        if spec.kind == "mutable":
            clocks = json.dumps(dict.fromkeys(sorted(full), stamp))
            self.copy.write_row((table, row_id, "@", "mutable", text, clocks, None, DEVICE,
                                 DEVICE, 1, self.seq, area))
        else:
            self.copy.write_row((table, row_id, "@", "event", text, None, stamp, DEVICE,
                                 DEVICE, 1, self.seq, area))


def make_teams(store: HubStore, teams: int) -> list[tuple[str, str, int]]:
    """(team id, hamlet id, commune code) of `teams` hamlet teams over the province's
    communes, each with one enrolled device last seen some days ago."""
    places = communes(PROVINCE)
    made = []
    started = time.perf_counter()
    for number in range(teams):
        commune = places[number % len(places)].code
        team = store.add_team(PROVINCE, commune, f"Ấp {number // len(places) + 1}")
        code, _expires = store.issue_code(team.id)
        store.enroll(code, f"Laptop {number}")
        made.append((team.id, team.hamlets[0].id, commune))
        if (number + 1) % 200 == 0:
            print(f"  teams: {number + 1} ({time.perf_counter() - started:.0f} s)", flush=True)
    rng = random.Random(7)
    now = dt.datetime.now(dt.UTC)
    with store.database.write() as conn:
        for device_id, in conn.execute("SELECT id FROM devices").fetchall():
            seen = now - dt.timedelta(days=rng.choice((0, 0, 1, 2, 5, 9, 20, 40)))
            conn.execute("UPDATE devices SET last_seen_at = ? WHERE id = ?",
                         (seen.isoformat(timespec="seconds"), device_id))
    return made


def generate(store: HubStore, teams: list[tuple[str, str, int]], people: int, visits: int,
             seed: int) -> dict[str, int]:
    """Every hamlet's households, people, visits, items and answers, by COPY."""
    rng = random.Random(seed)
    now = dt.datetime.now()
    start = now - dt.timedelta(days=730)
    span = int((now - start).total_seconds())
    items = [code for code, _vi, _en, _indicator in DEFAULT_SUPPORT_ITEMS]
    indicators = [code for code, _vi, _en, _age in DEFAULT_INDICATORS]
    per_hamlet_people = people // len(teams)
    per_hamlet_visits = visits // len(teams)
    raw = store.database.conn.raw
    seq = int(store.conn.scalar("SELECT value FROM counters WHERE name = 'seq'"))
    counts = dict.fromkeys(("households", "people", "visits", "visit_items",
                            "indicator_answers"), 0)
    started = time.perf_counter()
    for number, (_team, hamlet, _commune) in enumerate(teams):
        with raw.cursor() as cursor, cursor.copy(
                f"COPY records ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            out = Writer(copy, seq)
            created = ms_of(start)
            homes: list[tuple[str, list[str]]] = []
            sizes = [4] * (per_hamlet_people // 4) + (
                [per_hamlet_people % 4] if per_hamlet_people % 4 else [])
            for n, size in enumerate(sizes):
                home = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                head = f"Nguyễn Văn {rng.choice(FIRST_NAMES)}"
                out.row("households", home, hamlet, {
                    "code": f"H{number}-{n:04}", "code_key": f"h{number}-{n:04}",
                    "head_name": head, "head_key": head.lower(), "hamlet_id": hamlet,
                    "address": f"Tổ {n % 12 + 1}", "phone": f"09{rng.randrange(10**8):08d}",
                    "notes": ""}, created)
                members = []
                for k in range(size):
                    person = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                    name = f"Trần Thị {rng.choice(FIRST_NAMES)}"
                    out.row("people", person, hamlet, {
                        "household_id": home, "full_name": name, "name_key": name.lower(),
                        "sex": rng.choice("MF"), "birth_year": rng.randrange(1940, 2016),
                        "relationship": "Chủ hộ" if k == 0 else "Con", "phone": "",
                        "cccd": "", "consent": 1, "notes": "", "purged": 0}, created)
                    members.append(person)
                homes.append((home, members))
            for _n in range(per_hamlet_visits):
                home, members = rng.choice(homes)
                when = start + dt.timedelta(seconds=rng.randrange(span))
                visit = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                follow = (when.date() + dt.timedelta(days=14)).isoformat() \
                    if rng.random() < 0.2 else None
                ms = ms_of(when) + rng.randrange(3 * 86_400_000)
                out.row("visits", visit, hamlet, {
                    "household_id": home, "kind": "visit", "visited_at":
                    when.isoformat(timespec="minutes"), "member_ids": "[]", "notes": "",
                    "follow_up_on": follow, "reason": "", "recorded_by": "Tổ viên"}, ms)
                outcome = rng.choices(("done", "partly", "not_done"), (6, 2, 2))[0]
                out.row("visit_items", str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        hamlet, {"visit_id": visit, "person_id": rng.choice(members),
                                 "support_item_code": rng.choice(items), "outcome": outcome,
                                 "reason": "" if outcome != "not_done" else "Bận"}, ms)
                counts["visit_items"] += 1
                if rng.random() < 0.02:  # voided some days later
                    out.row("visits", str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                            hamlet, {"household_id": home, "kind": "void", "corrects": visit,
                                     "visited_at": when.isoformat(timespec="minutes"),
                                     "member_ids": "[]", "notes": "", "reason": "Ghi nhầm",
                                     "recorded_by": "Tổ viên"},
                            ms + rng.randrange(1, 20) * 86_400_000)
            for _n in range(per_hamlet_people // 2):
                home, members = rng.choice(homes)
                when = start + dt.timedelta(seconds=rng.randrange(span))
                out.row("indicator_answers", str(uuid.UUID(int=rng.getrandbits(128),
                                                           version=4)), hamlet, {
                    "person_id": rng.choice(members), "indicator_code": rng.choice(indicators),
                    "value": rng.choice((0, 1, 1)), "answered_on": when.date().isoformat(),
                    "recorded_by": "Tổ viên"}, ms_of(when))
            seq = out.seq
        counts["households"] += len(sizes)
        counts["people"] += per_hamlet_people
        counts["visits"] += per_hamlet_visits
        counts["indicator_answers"] += per_hamlet_people // 2
        raw.commit()
        if (number + 1) % 50 == 0:
            print(f"  records: {number + 1} hamlets ({time.perf_counter() - started:.0f} s)",
                  flush=True)
    with store.database.write() as conn:
        conn.execute("UPDATE counters SET value = ? WHERE name = 'seq'", (seq,))
    raw.execute("ANALYZE")
    raw.commit()
    return counts


def timed(call: Callable[[], Any], repeat: int) -> dict[str, float]:
    samples = []
    for _n in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    samples.sort()
    return {"p50_ms": round(1000 * statistics.median(samples), 1),
            "p95_ms": round(1000 * samples[min(len(samples) - 1,
                                               int(0.95 * len(samples)))], 1),
            "max_ms": round(1000 * samples[-1], 1)}


def sample_push(store: HubStore, teams: list[tuple[str, str, int]]) -> dict[str, float]:
    """100 visits with their items pushed into one hamlet through store.push, then that
    hamlet's (and team's) refresh."""
    team_id, hamlet, _commune = teams[len(teams) // 2]
    code, _expires = store.issue_code(team_id)
    _device_id, token, _team = store.enroll(code, "Laptop mẫu")
    device = store.authenticate(token)
    home = store.conn.execute("SELECT row_id, fields FROM records WHERE area = ? AND "
                              "table_name = 'people' AND team_id = '@' LIMIT 1",
                              (hamlet,)).fetchone()
    person, household = home[0], json.loads(home[1])["household_id"]
    now = dt.datetime.now()
    records = []
    for n in range(100):
        when = now - dt.timedelta(days=n % 20)
        visit = str(uuid.uuid4())
        ms = ms_of(when)
        device_name = "laptopmau00000"
        records.append({"table": "visits", "id": visit, "kind": "event", "device_id":
                        device_name, "created_at": hlc(ms, device_name), "fields": {
                            "household_id": household, "kind": "visit", "corrects": None,
                            "visited_at": when.isoformat(timespec="minutes"),
                            "member_ids": "[]", "notes": "", "follow_up_on": None,
                            "reason": "", "recorded_by": "Tổ viên"}})
        records.append({"table": "visit_items", "id": str(uuid.uuid4()), "kind": "event",
                        "device_id": device_name, "created_at": hlc(ms, device_name),
                        "fields": {"visit_id": visit, "person_id": person,
                                   "support_item_code": "vneid_level2", "outcome": "done",
                                   "reason": ""}})
    figures.refresh(store.database)  # nothing left from before
    started = time.perf_counter()
    result = store.push(device, records)
    push_s = time.perf_counter() - started
    assert all(r["status"] == "applied" for r in result.results), result.results[:3]
    dirty = store.conn.execute("SELECT kind, key FROM figures_dirty").fetchall()
    started = time.perf_counter()
    refreshed = figures.refresh(store.database)
    refresh_s = time.perf_counter() - started
    return {"push_200_records_ms": round(1000 * push_s, 1),
            "marked_dirty": len(dirty), "refresh_after_push_ms": round(1000 * refresh_s, 1),
            "refreshed": refreshed.done}


PAGES = ("/dashboard", "/dashboard/trend", "/dashboard/activity", "/dashboard/classes",
         "/dashboard/farm", "/dashboard/sync")
BENCH_PASSWORD = "bench-password-long-enough"


def official_client(store: HubStore, url: str, username: str, role: str,
                    commune: int | None) -> httpx.Client:
    """A browser-like client logged in through the form as a new official."""
    add_official(store, username, role, commune, BENCH_PASSWORD)
    client = httpx.Client(base_url=url, timeout=60)
    form = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token is not None, form
    answer = client.post("/login", data={"csrf": token[1], "username": username,
                                         "password": BENCH_PASSWORD})
    assert answer.status_code == 303, answer.text
    return client


def time_pages(store: HubStore, url: str, month: str, commune: int, repeat: int
               ) -> dict[str, dict[str, float]]:
    """Every dashboard page over HTTP, as the province's official and as a commune's, plus
    the overview's XLSX download: p50/p95 each."""
    timings: dict[str, dict[str, float]] = {}
    for who, role, code in (("province", "province", None), ("commune", "commune", commune)):
        client = official_client(store, url, f"bench-{who}", role, code)
        paths = [*((path, {"month": month}) for path in PAGES),
                 ("/dashboard", {"month": month, "download": "xlsx", "table": "indicators"})]
        for path, params in paths:
            def get(path: str = path, params: dict[str, Any] = params,
                    client: httpx.Client = client) -> None:
                answer = client.get(path, params=params)
                assert answer.status_code == 200, (path, answer.status_code)

            label = f"{who} {path}" + (" xlsx" if "download" in params else "")
            timings[label] = timed(get, repeat)
        client.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an existing empty PostgreSQL hub database (URL)")
    parser.add_argument("--teams", type=int, default=800)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--visits", type=int, default=3_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("/tmp/dxkit-bench-dashboard"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    cluster = None
    db = args.db
    if db is None:
        cluster = postgres.PostgresCluster.start(fast=False)  # durable, as in production
        db = cluster.url(cluster.create_database("dashboard"))
    hub = None
    result: dict[str, Any] = {"teams": args.teams}
    try:
        store = HubStore(db)
        print(f"Set-up: {args.teams} teams, {args.people} people, {args.visits} visits",
              flush=True)
        started = time.perf_counter()
        teams = make_teams(store, args.teams)
        result["records"] = generate(store, teams, args.people, args.visits, args.seed)
        result["setup_s"] = round(time.perf_counter() - started, 1)
        print(f"Records written in {result['setup_s']} s; full rebuild of the figures…",
              flush=True)
        started = time.perf_counter()
        last = [0.0]

        def step(done: int, total: int) -> None:
            if time.perf_counter() - last[0] > 30:
                last[0] = time.perf_counter()
                print(f"  rebuild: {done}/{total} ({time.perf_counter() - started:.0f} s)",
                      flush=True)

        rebuilt = figures.rebuild(store.database, step=step)
        result["rebuild_s"] = round(time.perf_counter() - started, 1)
        result["rebuild_units"] = rebuilt.done
        print(f"Rebuilt {rebuilt.done} hamlets and teams in {result['rebuild_s']} s",
              flush=True)
        # Per request instead: one hamlet's figures from its records.
        hamlet = teams[0][1]
        horizon = figures.current_month()
        floor = store.conn.scalar("SELECT value FROM figures_state WHERE name = 'floor'")
        with store.database.snapshot() as conn:
            result["compute_one_hamlet"] = timed(
                lambda: figures.compute_hamlet(conn, hamlet, horizon, floor), 5)
        result["computed_per_request_province_s"] = round(
            result["compute_one_hamlet"]["p50_ms"] * len(teams) / 1000, 1)
        conn = store.conn
        months = figures.months(conn)
        month = months[1] if len(months) > 1 else months[0]
        commune = teams[0][2]
        reads: dict[str, Callable[[], Any]] = {
            "months": lambda: figures.months(conn),
            "areas province by commune": lambda: figures.areas(conn, month, commune=None),
            "areas province by hamlet": lambda: figures.areas(conn, month, commune=None,
                                                              level="hamlet"),
            "areas one commune by hamlet": lambda: figures.areas(conn, month, commune=commune,
                                                                 level="hamlet"),
            "trend province 12 months": lambda: figures.trend(conn, commune=None),
            "trend one commune": lambda: figures.trend(conn, commune=commune),
            "items province": lambda: figures.items(conn, month, commune=None),
            "team_work province": lambda: figures.team_work(conn, month, commune=None),
            "sync_status province": lambda: figures.sync_status(conn, commune=None, days=7),
            "freshness": lambda: figures.freshness(conn),
        }
        result["reads"] = {name: timed(call, args.repeat) for name, call in reads.items()}
        for name, figure in result["reads"].items():
            print(f"  {name}: {figure}", flush=True)
        _consumer, token = add_consumer(store, "Bench")
        hub = start_hub(db, args.out / "hub.log", forked=False)
        client = httpx.Client(base_url=hub.url, timeout=60,
                              headers={"Authorization": f"Bearer {token}"})
        calls = {
            "indicators province": ("/api/v1/indicators", {"period": month}),
            "indicators province by hamlet": ("/api/v1/indicators",
                                              {"period": month, "level": "hamlet"}),
            "indicators one commune by hamlet": ("/api/v1/indicators", {
                "period": month, "commune": commune, "level": "hamlet"}),
            "activity province": ("/api/v1/activity", {"period": month}),
            "trend province": ("/api/v1/trend", {"months": 12}),
            "trend one commune": ("/api/v1/trend", {"commune": commune}),
            "teams province": ("/api/v1/teams", {"period": month}),
            "sync-status province": ("/api/v1/sync-status", {"days": 7}),
        }

        def call(path: str, params: dict[str, Any]) -> None:
            answer = client.get(path, params=params)
            assert answer.status_code == 200, answer.text

        result["api"] = {name: timed(lambda p=path, q=params: call(p, q), args.repeat)
                         for name, (path, params) in calls.items()}
        for name, figure in result["api"].items():
            print(f"  API {name}: {figure}", flush=True)
        client.close()
        result["pages"] = time_pages(store, hub.url, month, commune, args.repeat)
        for name, figure in result["pages"].items():
            print(f"  page {name}: {figure}", flush=True)
        result["push_and_refresh"] = sample_push(store, teams)
        print(f"  {result['push_and_refresh']}", flush=True)
        store.close()
    finally:
        if hub is not None:
            hub.stop()
        if cluster is not None:
            cluster.stop()
    print(json.dumps(result, indent=2, ensure_ascii=False))
    (args.out / "bench-dashboard.json").write_text(json.dumps(result, indent=2,
                                                              ensure_ascii=False))


if __name__ == "__main__":
    main()
