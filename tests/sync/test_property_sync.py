"""Property (issue 3 §6, issue 10 §1): three laptops edit offline with skewed clocks and sync
through the REAL hub process in random interleavings, some syncs broken by a random fault
(request or answer lost, 503, damaged gzip, a delivery made twice) and earlier pushes
delivered again late (stale and out of order); after "sync until quiet" every laptop and the
hub hold identical content within each scope, nothing lost, nothing duplicated, nothing
quarantined.

Laptop a is the commune team's (every hamlet of Phường Mỹ Tho), b the team of Ấp Mỹ Hưng's,
c the team of Khóm 3's: a writes households of both hamlets, b and c of their own; each
hamlet's rows end identical on every laptop that may read them (a and that hamlet's team),
a hamlet team's laptop holds nothing of the other hamlet, and the hub gives each team
exactly what its laptop holds.

Personal data (issue "Field safety" §3): people are erased, their phone and citizen ID edited
and their consent withdrawn and given again on any laptop in any order; afterwards no erased
person has a personal field anywhere, no person without consent has a citizen ID, the review
lists keep neither, and every laptop's derived tables (search index, follow-ups, indicators)
equal a recomputation from its synced tables, and each other.

A program is a list of abstract steps. Steps name a laptop by index and pick rows with an
integer taken modulo what that laptop knows at the time, so every program is runnable and
hypothesis can shrink it freely.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from dxkit.core.synced import REGISTRY, dependency_order, record_of, synced_table
from dxkit.households.followups import REASONS
from dxkit.households.visits import VisitItem
from dxkit.sync import engine
from dxkit.sync.client import HubClient, HubFailed, HubUnreachable
from dxkit.sync.credentials import TokenStore
from dxkit.workspace import Workspace
from tests.support.derived import assert_derived_agree
from tests.support.places import unique_commune

HAMLETS = ("Ấp Mỹ Hưng", "Khóm 3")
LAPTOPS = ("a", "b", "c")
# The hamlets each laptop's team reads and writes: a commune team's, then two hamlet teams'.
SCOPES = (HAMLETS, HAMLETS[:1], HAMLETS[1:])
QUIET_ROUNDS = 6
DAY_MS = 24 * 3600 * 1000

PHONES = ("0912345678", "0987654321", "0911111111", "")
TEXTS = ("Số 7, Ấp Mỹ Hưng", "Có wifi", "Hẹn quay lại", "", "Nhà cạnh chợ")
NAMES = ("Nguyễn Văn An", "Trần Thị Lan", "Lê Văn Bình", "Phạm Thị Hương")
EDITABLE = ("phone", "address", "notes")
CCCDS = ("087180012345", "087180054321", "082180000777", "")  # women born in 1980
PERSON_EDITS = ("phone", "cccd", "notes")
OUTCOMES = ("done", "partly", "not_done")
FAULTS = ("drop_request", "drop_response", "answer_503", "truncate_gzip", "corrupt_gzip",
          "duplicate")


@pytest.fixture(autouse=True)
def file_tokens(monkeypatch):
    monkeypatch.setenv("DXKIT_TOKEN_STORE", "file")


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    """A few batches per sync, so a fault can land between two of them."""
    monkeypatch.setattr(engine, "PUSH_MAX_RECORDS", 10)
    monkeypatch.setattr(engine, "PULL_LIMIT", 20)


# -- programs --------------------------------------------------------------------------------
laptop = st.integers(0, len(LAPTOPS) - 1)
pick = st.integers(0, 3)  # small, so laptops often pick the same row
FAULT_AT = st.tuples(st.sampled_from(("GET", "POST")), st.integers(1, 3))  # its nth request

STEP = st.one_of(
    st.tuples(st.just("add_household"), laptop, st.sampled_from(NAMES), pick),
    st.tuples(st.just("edit_household"), laptop, pick, st.sampled_from(EDITABLE), pick),
    st.tuples(st.just("add_person"), laptop, pick, st.sampled_from(NAMES)),
    st.tuples(st.just("delete_person"), laptop, pick),
    st.tuples(st.just("edit_person"), laptop, pick, st.sampled_from(PERSON_EDITS), pick),
    st.tuples(st.just("edit_person"), laptop, pick, st.sampled_from(PERSON_EDITS), pick),
    st.tuples(st.just("set_consent"), laptop, pick, st.booleans()),
    st.tuples(st.just("add_visit"), laptop, pick, st.integers(1, 3), pick),
    st.tuples(st.just("void_visit"), laptop, pick),
    st.tuples(st.just("close_follow_up"), laptop, pick, pick),
    st.tuples(st.just("reopen_follow_up"), laptop, pick),
    st.tuples(st.just("answer"), laptop, pick, pick, st.booleans()),
    st.tuples(st.just("sync"), laptop),
    st.tuples(st.just("faulty_sync"), laptop, st.sampled_from(FAULTS), FAULT_AT),
    st.tuples(st.just("faulty_sync"), laptop, st.sampled_from(FAULTS), FAULT_AT),
    st.tuples(st.just("replay_push"), laptop, st.integers(0, 20)),
)


# Run after the steps, before syncing until quiet, so every example meets at least one
# fault and one stale delivery.
FAULTY_ROUND = st.lists(
    st.tuples(st.just("faulty_sync"), laptop, st.sampled_from(FAULTS), FAULT_AT),
    min_size=1, max_size=3)


@st.composite
def programs(draw) -> tuple[list[int], list[tuple]]:
    """Clock offsets per laptop (−2 days … +2 days) and the steps."""
    skews = draw(st.lists(st.integers(-2 * DAY_MS, 2 * DAY_MS), min_size=3, max_size=3))
    steps = draw(st.lists(STEP, min_size=8, max_size=30))
    ending = [*draw(FAULTY_ROUND), ("replay_push", 0, draw(st.integers(0, 20)))]
    return skews, steps + ending


# -- running a program -----------------------------------------------------------------------
@dataclass
class Created:
    """Every id made anywhere, with the household (and so the hamlet) it belongs to, to
    check nothing is lost or duplicated, and nothing leaves its scope."""

    households: dict[str, str] = field(default_factory=dict)  # id -> hamlet name
    people: dict[str, str] = field(default_factory=dict)  # id -> household
    deleted_people: set[str] = field(default_factory=set)
    visits: dict[str, str] = field(default_factory=dict)  # visit and void events -> household
    visit_items: dict[str, int] = field(default_factory=dict)  # household -> items recorded
    answers: dict[str, str] = field(default_factory=dict)  # id -> person
    # follow-ups closed and reopened -> household
    closures: dict[str, str] = field(default_factory=dict)

    def in_scope(self, hamlets: tuple[str, ...]) -> Created:
        """What a laptop whose team reads `hamlets` must hold."""
        homes = {h: hamlet for h, hamlet in self.households.items() if hamlet in hamlets}
        people = {p: h for p, h in self.people.items() if h in homes}
        return Created(homes, people, self.deleted_people & set(people),
                       {v: h for v, h in self.visits.items() if h in homes},
                       {h: n for h, n in self.visit_items.items() if h in homes},
                       {a: p for a, p in self.answers.items() if p in people},
                       {c: h for c, h in self.closures.items() if h in homes})


class FaultyTransport(httpx.BaseTransport):
    """The real HTTP transport to the hub, with one fault on the nth request; every push it
    carries is kept, so a later step can deliver it again (stale, out of order)."""

    def __init__(self, fault: str, at: tuple[str, int], pushes: list[httpx.Request]):
        self.inner = httpx.HTTPTransport()
        self.fault, (self.method, self.nth), self.pushes = fault, at, pushes
        self.seen = 0
        # Requests may run on the engine's worker thread, where hypothesis cannot record
        # events: the test records this one after the sync.
        self.injected: str | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.pushes.append(request)
        if request.method == self.method:
            self.seen += 1
        if request.method != self.method or self.seen != self.nth:
            return self.inner.handle_request(request)
        self.injected = f"fault: {self.fault} on a {'push' if self.method == 'POST' else 'pull'}"
        if self.fault == "drop_request":
            raise httpx.ConnectError("injected: request lost", request=request)
        if self.fault == "answer_503":
            return httpx.Response(503, json={"error": "unavailable", "message": "injected"})
        status, headers, raw = self._send(request)
        if self.fault == "drop_response":
            raise httpx.ReadError("injected: answer lost after the hub committed",
                                  request=request)
        if self.fault == "duplicate":
            self._send(request)  # delivered twice; the client sees the first answer
        elif headers.get("content-encoding") == "gzip":
            middle = len(raw) // 2
            raw = raw[:middle] if self.fault == "truncate_gzip" else (
                raw[:middle] + bytes(b ^ 0x5A for b in raw[middle:middle + 8]) +
                raw[middle + 8:])
        headers.pop("content-length", None)
        return httpx.Response(status, headers=headers, content=raw)

    def _send(self, request: httpx.Request) -> tuple[int, dict[str, str], bytes]:
        response = self.inner.handle_request(request)
        try:
            raw = b"".join(response.iter_raw())
        finally:
            response.close()
        return response.status_code, dict(response.headers), raw

    def close(self) -> None:
        self.inner.close()


def skew_clock(ws: Workspace, offset_ms: int) -> None:
    ws.clock._wall_ms = lambda: time.time_ns() // 1_000_000 + offset_ms


def ids(ws: Workspace, sql: str, *args: Any) -> list[str]:
    return [row[0] for row in ws.conn.execute(sql, args)]


def chosen(options: list[str], index: int) -> str | None:
    return options[index % len(options)] if options else None


class Program:
    def __init__(self, laptops: list[Workspace], member_ids: list[str]):
        self.laptops = laptops
        self.member_ids = member_ids  # each laptop's team has its own member
        self.created = Created()
        self.serial = itertools.count(1)
        self.pushes: list[httpx.Request] = []  # every push sent through a faulty transport
        self.newest = ""  # the household added last

    def run(self, step: tuple) -> None:
        kind, index, *args = step
        getattr(self, kind)(self.laptops[index], index, *args)

    def add_household(self, ws: Workspace, index: int, name: str, where: int = 0) -> None:
        """A household of one of the hamlets the laptop's team works in."""
        code = f"{LAPTOPS[index].upper()}-{next(self.serial):03d}"  # unique per laptop
        hamlet = chosen(list(SCOPES[index]), where)
        made = ws.households.add(code=code, head_name=name, hamlet=hamlet).value
        self.created.households[made.id] = str(hamlet)
        self.newest = made.id

    def edit_household(self, ws: Workspace, index: int, which: int, name: str,
                       value: int) -> None:
        household = chosen(self._households(ws), which)
        if household:
            options = PHONES if name == "phone" else TEXTS
            ws.households.update(household, **{name: options[value % len(options)]})

    def add_person(self, ws: Workspace, index: int, which: int, name: str) -> None:
        household = chosen(self._households(ws), which)
        if household:
            self.add_resident(ws, household, name)

    def add_resident(self, ws: Workspace, household: str, name: str) -> None:
        made = ws.people.add(household, full_name=name, sex="Nữ", birth_year=1980,
                             relationship="Con", phone=PHONES[0], cccd=CCCDS[0],
                             consent=True).value
        self.created.people[made.id] = household

    def delete_person(self, ws: Workspace, index: int, which: int) -> None:
        person = chosen(self._people(ws), which)
        if person:
            ws.people.delete(person)
            self.created.deleted_people.add(person)

    def edit_person(self, ws: Workspace, index: int, which: int, name: str,
                    value: int) -> None:
        """An edit of a person's phone, citizen ID (only with consent here, as the form
        allows) or notes; the person may be erased or withdrawn elsewhere meanwhile."""
        person = chosen(self._people(ws), which)
        if person is None or (name == "cccd" and not ws.people.get(person).consent):
            return
        options = {"phone": PHONES, "cccd": CCCDS, "notes": TEXTS}[name]
        ws.people.update(person, **{name: options[value % len(options)]})

    def set_consent(self, ws: Workspace, index: int, which: int, given: bool) -> None:
        person = chosen(self._people(ws), which)
        if person:
            ws.people.update(person, consent=given)

    def add_visit(self, ws: Workspace, index: int, which: int, count: int,
                  outcome: int) -> None:
        household = chosen(self._households(ws), which)
        if not household:
            return
        codes = [item.code for item in ws.catalog.support_items()]
        residents = [p.id for p in ws.people.in_household(household)] or [None]
        items = [VisitItem(codes[(outcome + n) % len(codes)],
                           OUTCOMES[(outcome + n) % len(OUTCOMES)],
                           residents[(outcome + n) % len(residents)], "Vắng nhà")
                 for n in range(count)]
        # Every other visit sets a follow-up (which a later visit to the household meets).
        follow_up = ws.today() + dt.timedelta(days=outcome + 1) if outcome % 2 else None
        visit = ws.visits.add(household, items, member_ids=[self.member_ids[index]],
                              notes="Thăm hộ", follow_up_on=follow_up).value
        self.created.visits[visit.id] = household
        self.created.visit_items[household] = self.created.visit_items.get(household, 0) + count

    def void_visit(self, ws: Workspace, index: int, which: int) -> None:
        effective = [v.id for v in ws.visits.list()]
        visit = chosen(sorted(effective), which)
        if visit:
            before = set(ids(ws, "SELECT id FROM visits"))
            ws.visits.void(visit, reason="Ghi nhầm")
            for made in set(ids(ws, "SELECT id FROM visits")) - before:
                self.created.visits[made] = self.created.visits[visit]

    def close_follow_up(self, ws: Workspace, index: int, which: int, reason: int) -> None:
        """Close an open follow-up without a visit; another laptop may visit the household,
        void the visit, close or reopen the same follow-up meanwhile."""
        still_open = sorted(f.visit_id for f in ws.visits.follow_ups(within_days=400))
        visit = chosen(still_open, which)
        if visit:
            why = REASONS[reason % len(REASONS)]
            made = ws.visits.close_follow_up(visit, why, note="Đã gọi điện",
                                             member_id=self.member_ids[index]).value
            self.created.closures[made.id] = self.created.visits[visit]
            event("a follow-up closed without a visit")

    def reopen_follow_up(self, ws: Workspace, index: int, which: int) -> None:
        closed = sorted(f.visit_id for f in ws.visits.follow_ups(within_days=400,
                                                                include_closed=True)
                        if f.closed is not None)
        visit = chosen(closed, which)
        if visit:
            made = ws.visits.reopen_follow_up(visit).value
            self.created.closures |= {reopen.id: self.created.visits[visit] for reopen in made}
            event("a follow-up reopened")

    def answer(self, ws: Workspace, index: int, which: int, code: int, value: bool) -> None:
        person = chosen(self._people(ws), which)
        if person:
            indicators = [i.code for i in ws.catalog.indicators()]
            made = ws.indicators.answer(person, indicators[code % len(indicators)], value)
            self.created.answers[made.value] = person

    def sync(self, ws: Workspace, index: int) -> None:
        report = engine.sync(ws)
        assert report.quarantined == 0, report

    def faulty_sync(self, ws: Workspace, index: int, fault: str, at: tuple[str, int]) -> None:
        transport = FaultyTransport(fault, at, self.pushes)
        token = TokenStore(ws.path, ws.device_id).load()
        with HubClient(engine.enrollment(ws).server_url, token, transport=transport) as client:
            try:
                report = engine.sync(ws, client=client)
            except (HubUnreachable, HubFailed):
                event("a faulty sync failed")
                return
            finally:
                if transport.injected:
                    event(transport.injected)
        assert report.quarantined == 0, report

    def replay_push(self, ws: Workspace, index: int, which: int) -> None:
        """Deliver an earlier push again, whatever was edited or sent since."""
        if not self.pushes:
            return
        stale = self.pushes[which % len(self.pushes)]
        answer = httpx.post(stale.url, content=stale.content, headers=stale.headers)
        assert answer.status_code == 200, answer.text
        event("a stale push delivered again")

    def _households(self, ws: Workspace) -> list[str]:
        return ids(ws, "SELECT id FROM households WHERE deleted = 0 ORDER BY id")

    def _people(self, ws: Workspace) -> list[str]:
        return ids(ws, "SELECT id FROM people WHERE deleted = 0 ORDER BY id")


def sync_until_quiet(laptops: list[Workspace]) -> int:
    """Sync every laptop in order until a whole round moves nothing; the rounds it took."""
    for round_number in range(1, QUIET_ROUNDS + 1):
        reports = [engine.sync(ws) for ws in laptops]
        assert all(r.quarantined == 0 for r in reports), reports
        if all(r.pushed == 0 and r.pulled == 0 for r in reports):
            return round_number
    raise AssertionError(f"still moving records after {QUIET_ROUNDS} rounds: {reports}")


# -- what the laptops and the hub hold -------------------------------------------------------
def rows(ws: Workspace) -> dict[tuple[str, str], dict]:
    return {(table, row_id): record_of(ws.conn, table, row_id)
            for table in dependency_order()
            for (row_id,) in ws.conn.execute(f"SELECT id FROM {table}")}


def hub_rows(hub_server, team_id: str) -> dict[tuple[str, str], dict]:
    """The hub's copy of the team's rows, read through the API (whatever the hub's backend)
    with a token of a device that never pushes, so no row is held back from it; records are
    shaped as record_of shapes them."""
    code = hub_server.admin("enroll-code", "--team", team_id)["code"]
    with HubClient(hub_server.url) as enrolling:
        token = enrolling.enroll(code, "reader")["token"]
    shaped = {}
    with HubClient(hub_server.url, token) as client:
        for table in dependency_order():
            after = 0
            while True:
                answer = client.pull(table, after=after, limit=1000)
                shaped.update({(table, r["id"]): r for r in answer["records"]})
                if not answer["more"]:
                    break
                after = answer["next"]
    return shaped


def table_ids(ws: Workspace, table: str) -> set[str]:
    return set(ids(ws, f"SELECT id FROM {table}"))


def count(ws: Workspace, sql: str) -> int:
    return ws.conn.execute(sql).fetchone()[0]


def hamlet_rows(ws: Workspace, hamlet: str) -> dict[tuple[str, str], dict]:
    """The rows of one hamlet a laptop holds: the hamlet, its households and every row that
    belongs to them (Area.via), found by following the tables' declared relations."""
    every = rows(ws)
    members = {("hamlets", ws.catalog.hamlet(hamlet).id)}
    for table in dependency_order():
        placed = REGISTRY[table].placed
        if placed.kind == "own":
            members |= {(table, row_id) for (name, row_id), record in every.items()
                        if name == table and ("hamlets", record["fields"][placed.field])
                        in members}
        elif placed.kind == "via":
            members |= {(table, row_id) for (name, row_id), record in every.items()
                        if name == table and (placed.table, record["fields"][placed.field])
                        in members}
    return {key: every[key] for key in members}


def check_converged(laptops: list[Workspace], created: Created, hub_server,
                    team_ids: list[str]) -> None:
    for hamlet in HAMLETS:  # each hamlet: the same rows on every laptop that may read it
        readers = [ws for ws, scope in zip(laptops, SCOPES, strict=True) if hamlet in scope]
        first = hamlet_rows(readers[0], hamlet)
        for ws in readers[1:]:
            assert hamlet_rows(ws, hamlet) == first, (hamlet, ws.path.name)  # clocks too
    for ws, scope in zip(laptops, SCOPES, strict=True):
        mine = created.in_scope(scope)
        assert {h.name for h in ws.catalog.hamlets()} == set(scope)  # nothing of another
        assert table_ids(ws, "households") == set(mine.households)
        assert table_ids(ws, "people") == set(mine.people)
        assert table_ids(ws, "visits") == set(mine.visits)
        assert table_ids(ws, "follow_up_closures") == set(mine.closures)
        assert count(ws, "SELECT count(*) FROM visit_items") == sum(mine.visit_items.values())
        assert table_ids(ws, "indicator_answers") == set(mine.answers)
        assert {r[0] for r in ws.conn.execute("SELECT id FROM people WHERE purged = 1")} == (
            mine.deleted_people)
        assert count(ws, "SELECT count(*) FROM sync_quarantine") == 0
        assert ws.pending_changes() == 0
        check_personal_data(ws, mine)
    assert_derived_agree(laptops, alike=False)
    for ws, team_id in zip(laptops, team_ids, strict=True):
        on_hub = hub_rows(hub_server, team_id)
        check_personal_data_on_hub(on_hub)
        # The hub gives each team exactly what its laptop holds (its own rows, its hamlets'
        # rows), apart from reference rows every device ships with (same ids everywhere),
        # which reach the hub only once a device edits one.
        laptop_rows = rows(ws)
        assert {k: v for k, v in on_hub.items() if v["device_id"] != "shipped"} == {
            key: record for key, record in laptop_rows.items()
            if record["device_id"] != "shipped"}
        for key, record in on_hub.items():  # seeded rows this team pushed match too
            assert laptop_rows.get(key) == record, key


ERASED = synced_table("people").rules.erasure.values()


def check_personal_data(ws: Workspace, created: Created) -> None:
    """No erased person keeps a personal field, nor a line in the review lists; no person
    without consent keeps a citizen ID, nor one in the review lists."""
    for person in created.deleted_people:
        fields = record_of(ws.conn, "people", person)["fields"]
        assert {name: fields[name] for name in ERASED} == ERASED, person
        assert count(ws, f"SELECT count(*) FROM sync_conflicts WHERE row_id = '{person}'") == 0
    assert count(ws, "SELECT count(*) FROM people WHERE consent = 0 AND cccd != ''") == 0
    assert count(ws, "SELECT count(*) FROM sync_conflicts c JOIN people p ON p.id = c.row_id "
                     "WHERE c.field = 'cccd' AND p.consent = 0") == 0


def check_personal_data_on_hub(on_hub: dict[tuple[str, str], dict]) -> None:
    for (table, row_id), record in on_hub.items():
        if table != "people":
            continue
        fields = record["fields"]
        if fields["purged"]:
            assert {name: fields[name] for name in ERASED} == ERASED, row_id
        assert fields["consent"] or not fields["cccd"], row_id


# -- the property ----------------------------------------------------------------------------
# The races of personal data, always run besides the generated programs: laptop b's clock is a
# day ahead, so its edits are "later" than anything a and c do, and c's a day behind. The
# people set up first are, in the order of their ids: a's of Ấp Mỹ Hưng (a's and b's first),
# a's of Khóm 3 (a's second, c's first), b's own, c's own. b answers for the first person,
# a erases her, then b edits her phone; c withdraws the second person's consent, then a
# corrects that person's citizen ID; then all sync.
PERSONAL_RACES = ([0, DAY_MS, -DAY_MS], [
    ("answer", 1, 0, 0, True), ("sync", 1), ("sync", 0), ("sync", 2),
    ("delete_person", 0, 0), ("edit_person", 1, 0, "phone", 1),
    ("set_consent", 2, 0, False), ("edit_person", 0, 1, "cccd", 1),
    ("sync", 0), ("sync", 1), ("sync", 2),
    ("faulty_sync", 0, "duplicate", ("GET", 1)), ("replay_push", 0, 0)])


# Follow-ups worked on three laptops at once: a visits household 0 and sets a follow-up; b
# and c both close it (different reasons) while a, offline, visits again and sets a new one,
# then closes that one; c reopens what it sees closed before a's visit reaches it.
FOLLOW_UP_RACES = ([0, DAY_MS, -DAY_MS], [
    ("add_visit", 0, 0, 1, 1), ("sync", 0), ("sync", 1), ("sync", 2),
    ("close_follow_up", 1, 0, 0), ("close_follow_up", 2, 0, 1), ("add_visit", 0, 0, 1, 3),
    ("sync", 1), ("sync", 2), ("reopen_follow_up", 2, 0), ("close_follow_up", 0, 0, 3),
    ("sync", 0), ("faulty_sync", 1, "drop_response", ("POST", 1)), ("sync", 2),
    ("replay_push", 0, 0)])


@example(program=PERSONAL_RACES)
@example(program=FOLLOW_UP_RACES)
@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(program=programs())
def test_random_offline_edits_converge_everywhere(hub_server, tmp_path, program):
    skews, steps = program
    folder = Path(tmp_path / f"example-{next(EXAMPLES)}")
    # A fresh commune each example (the hub lives for the whole test): each example's teams
    # see only that example's rows.
    province, code = unique_commune()
    commune = ("--province", province, "--commune", code)
    hamlet_teams = [hub_server.admin("team", "add", *commune, "--hamlet", name)["team_id"]
                    for name in HAMLETS]
    team_ids = [hub_server.admin("team", "add", *commune)["team_id"], *hamlet_teams]
    laptops: list[Workspace] = []
    try:
        for name, offset, team_id in zip(LAPTOPS, skews, team_ids, strict=True):
            code = hub_server.admin("enroll-code", "--team", team_id)["code"]
            ws = Workspace.open(folder / name)
            laptops.append(ws)
            engine.enroll(ws, hub_server.url, code, device_name=name)
            skew_clock(ws, offset)
        # Each team's member; the commune team's laptop sets up a household of each hamlet
        # with a person, each hamlet team's laptop one of its own; all receive what they may.
        members = [ws.catalog.add_member(f"Lê Thị Hoa {name}").value.id
                   for ws, name in zip(laptops, LAPTOPS, strict=True)]
        program_run = Program(laptops, members)
        for index, name, where in ((0, NAMES[0], 0), (0, NAMES[1], 1), (1, NAMES[2], 0),
                                   (2, NAMES[3], 0)):
            program_run.add_household(laptops[index], index, name, where)
            program_run.add_resident(laptops[index], program_run.newest, name)
        for ws in laptops:
            engine.sync(ws)
        for step in steps:
            program_run.run(step)
        event(f"quiet after {sync_until_quiet(laptops)} round(s)")
        made = program_run.created
        event(f"people deleted: {min(len(made.deleted_people), 2)}+")
        withdrawn = count(laptops[0], "SELECT count(*) FROM people WHERE consent = 0 "
                                      "AND purged = 0")
        event(f"people without consent: {min(withdrawn, 1)}+")
        event(f"visit events: {min(len(made.visits), 3)}+")
        listed = sum(count(ws, "SELECT count(*) FROM sync_conflicts") for ws in laptops)
        event(f"conflicts listed: {min(listed, 1)}+")
        check_converged(laptops, program_run.created, hub_server, team_ids)
    finally:
        for ws in laptops:
            ws.close()


EXAMPLES = itertools.count(1)
