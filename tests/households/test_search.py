"""One search box: folded text, prefixes as you type, tiers, filters and an index kept current."""

from __future__ import annotations

import unicodedata

import pytest

from dxkit.households.search import rebuild, search


def add(ws, code, head, hamlet="Ấp Mỹ Hưng", **fields):
    return ws.households.add(code=code, head_name=head, hamlet=hamlet, **fields).value


def codes(ws, query, **options) -> list[str]:
    hits = search(ws.conn, query, **options)
    return [h.code for h in ws.households.by_local_ids([h.local_id for h in hits])]


@pytest.fixture
def village(ws):
    """Households whose text exercises every tier."""
    dong = add(ws, "MH-001", "Nguyễn Văn Đồng", address="Số 5, Đường 30/4",
               phone="0912345678")
    add(ws, "MH-002", "Trần Thị Cúc", address="Tổ 2, xã Mỹ Thọ, Đồng Tháp")
    hoa = add(ws, "K3-010", "Lê Văn Bảy", hamlet="Khóm 3", phone="0388 111 222")
    ws.people.add(hoa.id, full_name="Huỳnh Thị Mỹ Duyên", phone="0701234567")
    ws.people.add(dong.id, full_name="Nguyễn Văn Đồng")
    return ws


@pytest.mark.parametrize("query", ["nguyen van dong", "Nguyễn Văn Đồng", "NGUYEN VAN DONG",
                                   "nguyễn văn đồng", "Nguyen Van Dong"])
def test_folding_case_and_d_stroke(village, query):
    assert codes(village, query)[0] == "MH-001"


def test_nfd_query(village):
    assert codes(village, unicodedata.normalize("NFD", "Nguyễn Văn Đồng"))[0] == "MH-001"
    assert codes(village, unicodedata.normalize("NFD", "Huỳnh Thị"))[0] == "K3-010"


def test_address_in_dong_thap(village):
    assert codes(village, "dong thap") == ["MH-002"]
    assert codes(village, "Đồng Tháp") == ["MH-002"]
    assert codes(village, "my tho") == ["MH-002"]


@pytest.mark.parametrize("typed", ["ng", "nguy", "nguyen", "nguyen v", "nguyen van d"])
def test_prefix_as_you_type(village, typed):
    assert codes(village, typed)[0] == "MH-001"


def test_d_and_dstroke_fold_together(village):
    assert "MH-001" in codes(village, "đong")
    assert "MH-001" in codes(village, "dong")


def test_code_search(village):
    assert codes(village, "MH-001") == ["MH-001"]
    assert codes(village, "mh 001") == ["MH-001"]
    assert codes(village, "k3") == ["K3-010"]
    assert codes(village, "mh")[:2] == ["MH-001", "MH-002"]


def test_exact_code_comes_first(ws):
    for code in ("MH-100", "MH-10", "MH-1", "MH-11"):
        add(ws, code, f"Chủ hộ {code}")
    assert codes(ws, "MH-10")[0] == "MH-10"
    assert codes(ws, "mh 1")[0] == "MH-1"


@pytest.mark.parametrize("typed", ["0912", "091234", "0912345678", "0912 345", "0912.345.678"])
def test_phone_prefix(village, typed):
    assert codes(village, typed) == ["MH-001"]


def test_member_phone_and_name(village):
    assert codes(village, "0701") == ["K3-010"]
    assert codes(village, "huynh thi my duyen") == ["K3-010"]
    assert codes(village, "duyen") == ["K3-010"]


def test_hamlet_filter(village):
    khom = village.catalog.hamlet("Khóm 3")
    my_hung = village.catalog.hamlet("Ấp Mỹ Hưng")
    assert codes(village, "nguyen", hamlet_id=khom.id) == []
    assert codes(village, "nguyen", hamlet_id=my_hung.id) == ["MH-001"]
    assert codes(village, "huynh", hamlet_id=khom.id) == ["K3-010"]
    assert codes(village, "huynh", hamlet_id=my_hung.id) == []
    assert codes(village, "dong thap", hamlet_id=khom.id) == []
    assert codes(village, "k3", hamlet_id=my_hung.id) == []


def test_hamlet_name_is_searchable(village):
    assert codes(village, "khom 3") == ["K3-010"]


def test_ranking_code_head_member_address(ws):
    by_address = add(ws, "AA-004", "Phạm Văn Tư", address="Hẻm Nguyễn Huệ")
    by_member = add(ws, "AA-003", "Trần Thị Cúc")
    ws.people.add(by_member.id, full_name="Nguyễn Thị Mai")
    add(ws, "AA-002", "Nguyễn Văn Đồng")
    add(ws, "NGUYEN-1", "Lê Văn Bảy")
    hits = search(ws.conn, "nguyen")
    assert [h.tier for h in hits] == [0, 1, 2, 4]
    found = ws.households.by_local_ids([h.local_id for h in hits])
    assert [h.code for h in found] == ["NGUYEN-1", "AA-002", "AA-003", "AA-004"]
    assert found[-1].id == by_address.id


def test_head_prefix_before_word_inside_name(ws):
    add(ws, "AA-001", "Trần Văn Đồng")
    add(ws, "AA-002", "Đồng Thị Lan")
    assert codes(ws, "dong") == ["AA-002", "AA-001"]


def test_deleted_household_not_found(village):
    household = village.households.by_code("MH-001")
    with village.transaction() as tx:
        tx.delete("households", household.id)
    for query in ("MH-001", "nguyen van dong", "0912", "duong 30"):
        assert "MH-001" not in codes(village, query), query


def test_deleted_person_not_found(village):
    household = village.households.by_code("K3-010")
    person = village.people.in_household(household.id)[0]
    village.people.delete(person.id)
    assert codes(village, "huynh") == []
    assert codes(village, "0701") == []
    assert codes(village, "le van bay") == ["K3-010"]


def test_rename_household_head(village):
    household = village.households.by_code("MH-002")
    village.households.update(household.id, head_name="Võ Thị Đào")
    assert codes(village, "tran thi cuc") == []
    assert codes(village, "vo thi dao") == ["MH-002"]
    village.households.update(household.id, address="Ấp Bắc")
    assert codes(village, "dong thap") == []


def test_rename_person(village):
    household = village.households.by_code("K3-010")
    person = village.people.in_household(household.id)[0]
    village.people.update(person.id, full_name="Đặng Thị Ngọc")
    assert codes(village, "huynh") == []
    assert codes(village, "dang thi ngoc") == ["K3-010"]
    assert codes(village, "ngoc") == ["K3-010"]


def test_rename_hamlet(village):
    khom = village.catalog.hamlet("Khóm 3")
    village.catalog.rename_hamlet(khom.id, "Khóm Bình Đức")
    assert codes(village, "binh duc") == ["K3-010"]
    assert codes(village, "khom 3") == []


def test_code_change_reindexed(village):
    household = village.households.by_code("MH-002")
    village.households.update(household.id, code="TT-777")
    assert codes(village, "tt 7") == ["TT-777"]
    assert codes(village, "MH-002") == []


def test_limit_respected(ws):
    with ws.transaction():
        for n in range(40):
            household = add(ws, f"NG-{n:03d}", f"Nguyễn Văn {n}",
                            address="Đường Nguyễn Trãi")
            ws.people.add(household.id, full_name=f"Nguyễn Thị {n}")
    for limit in (1, 5, 39, 40):
        assert len(search(ws.conn, "nguyen", limit=limit)) == limit
    assert len(search(ws.conn, "nguyen")) == 40
    ids = [h.local_id for h in search(ws.conn, "nguyen", limit=100)]
    assert len(ids) == len(set(ids)) == 40


@pytest.mark.parametrize("query", ["", "   ", "-/.", '"', "*", "nguyen\"", "AND", "OR NOT"])
def test_odd_queries_do_not_crash(village, query):
    search(village.conn, query)


def test_no_match(village):
    assert codes(village, "xyzzy") == []


def test_rebuild_gives_same_results(village):
    before = [codes(village, q) for q in ("nguyen", "dong thap", "0912", "huynh", "khom")]
    with village.transaction():
        rebuild(village.conn)
    after = [codes(village, q) for q in ("nguyen", "dong thap", "0912", "huynh", "khom")]
    assert after == before


@pytest.mark.parametrize("typed", ["01661234567", "0166 123", "0166"])
def test_old_eleven_digit_number_finds_its_new_form(ws, typed):
    add(ws, "MH-009", "Võ Thị Lan", phone="0361234567")
    assert codes(ws, typed) == ["MH-009"]


def test_phone_prefix_is_its_own_tier_before_words(village):
    hits = search(village.conn, "0912")
    assert [h.tier for h in hits] == [3]
    assert codes(village, "0701") == ["K3-010"]  # a member's phone finds the household


def test_a_very_common_word_is_returned_unranked_but_complete_up_to_the_limit(ws, monkeypatch):
    import dxkit.households.search as search_module

    monkeypatch.setattr(search_module, "RANK_AT_MOST", 3)
    for n in range(6):
        add(ws, f"MH-{n:03d}", f"Trần Văn {n}", address="Số 1, Đường Lò Gạch")
    assert len(codes(ws, "lo gach")) == 6
    assert len(codes(ws, "lo gach", limit=4)) == 4


def test_search_plans_use_the_prefix_indexes(ws):
    """The name and phone tiers must read an index range, whatever the planner statistics."""
    plans = " ".join(
        row[3] for sql in (
            "SELECT h.local_id FROM households h INDEXED BY households_head "
            "WHERE h.deleted = 0 AND h.head_key >= 'a' AND h.head_key < 'b'",
            "SELECT p.id FROM people p INDEXED BY people_name "
            "WHERE p.deleted = 0 AND p.name_key >= 'a' AND p.name_key < 'b'",
        ) for row in ws.conn.execute("EXPLAIN QUERY PLAN " + sql))
    assert "households_head" in plans and "people_name" in plans


def test_households_search_returns_households_best_first(village):
    found = village.households.search("nguyen van dong")
    assert found[0].code == "MH-001" and found[0].head_name == "Nguyễn Văn Đồng"
    assert village.households.search("khom 3", hamlet_id=village.catalog.hamlet("Khóm 3").id)[
        0].code == "K3-010"
