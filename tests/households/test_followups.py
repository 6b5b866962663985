"""Follow-ups that can be worked: closed without a visit (with a reason), reopened, shown with
the household's phone and what the visit left pending; closes and reopens are events that two
laptops exchange and agree on whatever the order (dxkit.sync.apply, no hub)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dxkit.core.errors import NotFound, ValidationError
from dxkit.core.i18n import set_language
from dxkit.core.synced import dependency_order, record_of
from dxkit.households.followups import REASONS, reason_label
from dxkit.households.visits import VisitItem
from dxkit.sync.apply import apply_records
from dxkit.workspace import Workspace
from tests.support.derived import assert_derived_agree

NOW = dt.datetime(2026, 11, 20, 9, 30)
PHONE = "0912345678"


@pytest.fixture
def scene(ws):
    """MH-001 (Nguyễn Văn An, with a phone) visited on 1/11 with a follow-up on 15/11 (five
    days overdue): VNeID level 2 not done for An, a payment account partly done for Lan,
    online safety done for the household."""
    household = ws.households.add(code="MH-001", head_name="Nguyễn Văn An",
                                  hamlet="Ấp Mỹ Hưng", phone=PHONE,
                                  address="12 đường Lê Lợi").value
    an = ws.people.add(household.id, full_name="Nguyễn Văn An", birth_year=1970,
                       relationship="Chủ hộ").value
    lan = ws.people.add(household.id, full_name="Trần Thị Lan", birth_year=1975).value
    hoa = ws.catalog.member("Lê Thị Hoa")
    visit = ws.visits.add(household.id, [
        VisitItem("vneid_level2", "not_done", an.id, "Chưa mang thẻ căn cước"),
        VisitItem("payment_account", "partly", lan.id, "Chờ duyệt"),
        VisitItem("online_safety", "done")],
        visited_at=dt.datetime(2026, 11, 1, 8), member_ids=[hoa.id],
        follow_up_on=dt.date(2026, 11, 15)).value
    return household, an, lan, hoa, visit


def visit_ids(ws, **options) -> list[str]:
    return [f.visit_id for f in ws.visits.follow_ups(**options)]


# -- what the list shows -------------------------------------------------------------------------
def test_the_list_carries_the_phone_address_and_pending_item_names(ws, scene):
    _household, _an, _lan, _hoa, visit = scene
    [follow_up] = ws.visits.follow_ups()
    assert (follow_up.visit_id, follow_up.overdue_days) == (visit.id, 5)
    assert follow_up.phone == PHONE and follow_up.address == "12 đường Lê Lợi"
    # Names, never codes; what was done is not pending.
    assert follow_up.pending_codes == ("vneid_level2", "payment_account")
    assert follow_up.pending == ("Kích hoạt định danh điện tử mức 2",
                                 "Mở tài khoản ngân hàng / ví điện tử")
    assert follow_up.closed is None
    data = follow_up.to_dict()
    assert data["phone"] == PHONE and data["closed"] is None
    assert data["pending"] == list(follow_up.pending)
    set_language("en")
    assert ws.visits.follow_ups()[0].pending == ("Activate VNeID level 2",
                                                 "Open a bank account or e-wallet")


def test_pending_items_are_the_last_visits_open_ones(ws, scene):
    """The same as Visits.pending, from the last visit, for the whole list at once."""
    household, an, lan, hoa, _visit = scene
    later = ws.visits.add(household.id, [VisitItem("vneid_level2", "done", an.id),
                                         VisitItem("health_app", "partly", lan.id),
                                         VisitItem("health_app", "not_done", an.id, "Bận")],
                          visited_at=dt.datetime(2026, 11, 16, 8), member_ids=[hoa.id],
                          follow_up_on=dt.date(2026, 11, 30)).value
    [follow_up] = ws.visits.follow_ups(within_days=30)
    assert follow_up.visit_id == later.id
    from_last = [p.support_item_code for p in ws.visits.pending(household.id)
                 if p.from_last_visit]
    assert list(follow_up.pending_codes) == list(dict.fromkeys(from_last)) == ["health_app"]


# -- closing and reopening -----------------------------------------------------------------------
def test_close_takes_it_off_the_list_and_reopen_brings_it_back(ws, scene):
    _household, _an, _lan, hoa, visit = scene
    ws.settings.set("current_member_id", hoa.id)
    result = ws.visits.close_follow_up(visit.id, "called_done", note=" Đã gọi,  xong ")
    close = result.value
    assert (close.kind, close.visit_id, close.corrects) == ("close", visit.id, None)
    assert close.reason == "called_done" and close.note == "Đã gọi, xong"
    assert close.member_id == hoa.id and close.recorded_at == NOW
    assert close.reason_text == "Đã gọi điện, đã xong: Đã gọi, xong"
    assert result.changes.count("created", "follow_up_closures") == 1
    assert ws.visits.follow_ups() == []
    assert ws.visits.follow_ups(within_days=0) == []  # due today and overdue: not there
    [shown] = ws.visits.follow_ups(include_closed=True)
    assert shown.closed == close == ws.visits.follow_up(visit.id).closed
    # The visit itself is untouched.
    assert ws.visits.get(visit.id).follow_up_on == dt.date(2026, 11, 15)

    [reopen] = ws.visits.reopen_follow_up(visit.id).value
    assert (reopen.kind, reopen.corrects, reopen.reason) == ("reopen", close.id, None)
    assert ws.visits.follow_up(visit.id).closed is None
    assert visit_ids(ws) == [visit.id]
    # Closed again: a new close, the history keeps all three events.
    ws.visits.close_follow_up(visit.id, "moved_away")
    assert ws.visits.follow_ups() == []
    assert ws.conn.execute("SELECT count(*) FROM follow_up_closures").fetchone()[0] == 3
    assert_derived_agree([ws])


def test_closing_refuses_what_cannot_be_closed(ws, scene):
    household, an, _lan, hoa, visit = scene
    with pytest.raises(ValidationError) as bad:
        ws.visits.close_follow_up(visit.id, "gone fishing")
    assert set(bad.value.fields) == {"reason"}
    with pytest.raises(ValidationError) as bad:
        ws.visits.close_follow_up(visit.id, "other", note="  ")
    assert set(bad.value.fields) == {"note"}
    with pytest.raises(ValidationError) as bad:
        ws.visits.close_follow_up(visit.id, "not_needed", note="x" * 501)
    assert "500" in bad.value.fields["note"]
    with pytest.raises(ValidationError) as bad:
        ws.visits.close_follow_up(visit.id, "not_needed", member_id="0190a000-0000-7000")
    assert set(bad.value.fields) == {"member"}
    with pytest.raises(NotFound):
        ws.visits.close_follow_up("0190a000-0000-7000-8000-000000000000", "not_needed")
    with pytest.raises(ValidationError) as bad:
        ws.visits.reopen_follow_up(visit.id)
    assert set(bad.value.fields) == {"follow_up"}
    ws.visits.close_follow_up(visit.id, "other", note="Đã chuyển sang xã khác hỗ trợ")
    with pytest.raises(ValidationError) as bad:
        ws.visits.close_follow_up(visit.id, "not_needed")
    assert set(bad.value.fields) == {"follow_up"}
    # A later visit met it: there is nothing left to close or reopen.
    ws.visits.add(household.id, [VisitItem("vneid_level2", "done", an.id)],
                  visited_at=dt.datetime(2026, 11, 18, 8), member_ids=[hoa.id])
    for attempt in (lambda: ws.visits.close_follow_up(visit.id, "not_needed"),
                    lambda: ws.visits.reopen_follow_up(visit.id)):
        with pytest.raises(ValidationError) as bad:
            attempt()
        assert set(bad.value.fields) == {"follow_up"}
    assert ws.conn.execute("SELECT count(*) FROM follow_up_closures").fetchone()[0] == 1


def test_every_reason_has_words_in_both_languages():
    vi = [reason_label(r) for r in REASONS]
    assert vi == ["Đã gọi điện, đã xong", "Hộ đã chuyển đi", "Không còn cần", "Khác"]
    set_language("en")
    assert [reason_label(r) for r in REASONS] == [
        "Called: done", "The household moved away", "No longer needed", "Other"]


def test_a_later_visit_brings_its_own_follow_up_and_a_void_brings_the_closed_one(ws, scene):
    household, an, _lan, hoa, visit = scene
    ws.visits.close_follow_up(visit.id, "called_done")
    later = ws.visits.add(household.id, [VisitItem("vneid_level2", "partly", an.id)],
                          visited_at=dt.datetime(2026, 11, 18, 8), member_ids=[hoa.id],
                          follow_up_on=dt.date(2026, 11, 25)).value
    assert visit_ids(ws) == [later.id]  # a new follow-up: open
    ws.visits.void(later.id, reason="Ghi nhầm hộ")
    assert visit_ids(ws) == []  # the older one is back, and still closed
    assert ws.visits.follow_ups(include_closed=True)[0].visit_id == visit.id
    assert_derived_agree([ws])


def test_a_correction_of_the_visit_keeps_its_follow_up_closed(ws, scene):
    _household, an, _lan, _hoa, visit = scene
    ws.visits.close_follow_up(visit.id, "not_needed")
    amended = ws.visits.amend(visit.id, [VisitItem("vneid_level2", "partly", an.id)],
                              reason="Sai kết quả", follow_up_on=dt.date(2026, 11, 17)).value
    assert visit_ids(ws) == []
    [closed] = ws.visits.follow_ups(include_closed=True)
    assert (closed.visit_id, closed.due_on) == (amended.id, dt.date(2026, 11, 17))
    assert closed.closed is not None and closed.closed.visit_id == visit.id
    # Reopened from the correction: the close of the original is undone.
    ws.visits.reopen_follow_up(amended.id)
    assert visit_ids(ws) == [amended.id]
    assert_derived_agree([ws])


def test_the_household_code_finds_its_follow_up(ws, scene):
    household, _an, _lan, _hoa, visit = scene
    assert ws.visits.follow_up_of(household.id).visit_id == visit.id
    other = ws.households.add(code="K3-001", head_name="Trần Văn Bình", hamlet="Khóm 3").value
    with pytest.raises(ValidationError) as bad:
        ws.visits.follow_up_of(other.id)
    assert "K3-001" in bad.value.fields["follow_up"]


# -- two laptops ---------------------------------------------------------------------------------
def open_laptop(folder: Path) -> Workspace:
    ws = Workspace.open(folder)
    ws.freeze_time(NOW)
    return ws


def send(source: Workspace, target: Workspace) -> None:
    """Every row as a pull would bring it, in dependency order (a page per table)."""
    with target.transaction() as tx:
        for table in dependency_order():
            ids = [r[0] for r in source.conn.execute(f"SELECT id FROM {table}")]
            apply_records(tx, table, [record_of(source.conn, table, i) for i in ids])


@pytest.fixture
def laptops(ws, scene, tmp_path):
    """Laptop B holds what laptop A (`ws`) holds: the household and its overdue follow-up."""
    there = open_laptop(tmp_path / "there")
    send(ws, there)
    assert visit_ids(there) == [scene[4].id]
    yield ws, there
    there.close()


@pytest.mark.parametrize("order", ["a first", "b first"])
def test_a_close_and_a_concurrent_later_visit_elsewhere_agree(laptops, scene, order):
    """A closes the follow-up by phone while B, offline, visits again and sets a new date:
    both laptops end with B's new follow-up open, in either order of arrival."""
    here, there = laptops
    household, an, _lan, hoa, visit = scene
    here.visits.close_follow_up(visit.id, "called_done")
    later = there.visits.add(household.id, [VisitItem("vneid_level2", "partly", an.id)],
                             visited_at=dt.datetime(2026, 11, 19, 15), member_ids=[hoa.id],
                             follow_up_on=dt.date(2026, 11, 26)).value
    pair = (here, there) if order == "a first" else (there, here)
    send(*pair)
    send(*reversed(pair))
    for laptop in (here, there):
        assert visit_ids(laptop) == [later.id]
        assert laptop.visits.follow_ups()[0].closed is None
    assert_derived_agree([here, there])


def test_a_reopen_does_not_undo_a_close_it_never_saw(laptops, scene):
    """A closes and B, having received it, reopens; before B's reopen reaches A, A has
    reopened and closed again. B's reopen names only the first close: the second stands on
    both laptops."""
    here, there = laptops
    visit = scene[4]
    first = here.visits.close_follow_up(visit.id, "not_needed").value
    send(here, there)
    assert visit_ids(there) == []
    there.visits.reopen_follow_up(visit.id)
    assert visit_ids(there) == [visit.id]
    # Before the reopen reaches A, A reopens and closes again (a second close).
    here.visits.reopen_follow_up(visit.id)
    second = here.visits.close_follow_up(visit.id, "moved_away").value
    send(there, here)
    send(here, there)
    for laptop in (here, there):
        [shown] = laptop.visits.follow_ups(include_closed=True)
        assert shown.closed is not None and shown.closed.id == second.id != first.id
        assert visit_ids(laptop) == []
    assert_derived_agree([here, there])


def test_two_closes_of_one_follow_up_show_the_newest_everywhere(laptops, scene):
    here, there = laptops
    visit = scene[4]
    here.visits.close_follow_up(visit.id, "called_done")
    there.visits.close_follow_up(visit.id, "moved_away")
    send(here, there)
    send(there, here)
    shown = [laptop.visits.follow_ups(include_closed=True)[0].closed for laptop in (here, there)]
    assert shown[0] == shown[1] and shown[0] is not None
    assert_derived_agree([here, there])
    # A reopen on either laptop undoes both closes.
    here.visits.reopen_follow_up(visit.id)
    send(here, there)
    assert visit_ids(here) == visit_ids(there) == [visit.id]


# -- erasure -------------------------------------------------------------------------------------
def test_erasing_the_head_leaves_a_follow_up_without_their_name_phone_or_items(laptops, scene):
    """The follow-up stays (the household still needs the visit) but shows nothing of the
    erased person: the household's head name and phone go with them (roster.forget_head),
    and their items are no longer pending; a close holds ids only, so it stays as it is and
    the other laptop agrees."""
    here, there = laptops
    _household, an, _lan, _hoa, visit = scene
    here.visits.close_follow_up(visit.id, "moved_away")
    here.people.delete(an.id)
    send(here, there)
    for laptop in (here, there):
        [shown] = laptop.visits.follow_ups(include_closed=True)
        assert (shown.head_name, shown.phone) == ("", "")
        assert shown.pending_codes == ("payment_account",)  # Lan's, not An's
        assert shown.closed is not None and shown.closed.reason == "moved_away"
        row = laptop.conn.execute("SELECT * FROM follow_up_closures").fetchone()
        assert "Nguyễn" not in " ".join(str(value) for value in tuple(row))
    assert_derived_agree([here, there])


def test_migration_0010_leaves_every_standing_follow_up_open(ws, scene):
    """A workspace from before closes: the migration adds the events table and the column,
    and every follow-up it had is still to do."""
    from sqlite_utils import Database

    from dxkit.households.schema import m0010_follow_up_closures

    visit = scene[4]
    before = [tuple(r) for r in ws.conn.execute(
        "SELECT household_id, visit_id, due_on FROM open_follow_ups")]
    with ws.transaction() as tx:
        tx.conn.execute("DROP TABLE follow_up_closures")
        tx.conn.execute("ALTER TABLE open_follow_ups DROP COLUMN closed_by")
        m0010_follow_up_closures(Database(tx.conn))
    after = [tuple(r) for r in ws.conn.execute(
        "SELECT household_id, visit_id, due_on, closed_by FROM open_follow_ups")]
    assert after == [(*row, None) for row in before] and len(after) == 1
    ws.visits.close_follow_up(visit.id, "not_needed")
    assert visit_ids(ws) == []


def test_a_close_inside_a_larger_transaction_reads_the_events(ws, scene):
    """Inside one transaction the derived follow-ups lag until its commit (the demo, an
    import): closing a follow-up set by a visit of the same transaction still works."""
    household, an, _lan, hoa, _visit = scene
    with ws.transaction():
        later = ws.visits.add(household.id, [VisitItem("vneid_level2", "partly", an.id)],
                              visited_at=dt.datetime(2026, 11, 18, 8), member_ids=[hoa.id],
                              follow_up_on=dt.date(2026, 11, 19)).value
        ws.visits.close_follow_up(later.id, "called_done")
    assert visit_ids(ws) == []
    assert ws.visits.follow_ups(include_closed=True)[0].visit_id == later.id
    assert_derived_agree([ws])
