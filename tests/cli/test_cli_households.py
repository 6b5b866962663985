"""`dxkit households ...`: add, list, show, search."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import VALID_CCCD, Invoke, as_json, counts


def test_list_json_is_an_empty_array_for_a_new_workspace(team_dir: Path, dxkit: Invoke):
    assert as_json(dxkit(team_dir, "households", "list", "--json")) == []


def test_list_json_has_every_household_ordered_by_code(filled_dir: Path, dxkit: Invoke):
    rows = as_json(dxkit(filled_dir, "households", "list", "--json"))
    assert [r["code"] for r in rows] == ["K3-001", "MH-001", "MH-002"]
    first = rows[1]
    assert {"id", "code", "head_name", "hamlet", "updated_at"} <= first.keys()
    assert first["hamlet"] == "Ấp Mỹ Hưng"
    assert first["phone"] == "0912•••678"  # lists mask phone numbers


def test_list_filters_by_hamlet_typed_without_diacritics(filled_dir: Path, dxkit: Invoke):
    rows = as_json(dxkit(filled_dir, "households", "list", "--hamlet", "my hung", "--json"))
    assert [r["code"] for r in rows] == ["MH-001", "MH-002"]
    text = dxkit(filled_dir, "households", "list", "--hamlet", "Khóm 3")
    assert text.exit_code == 0
    assert "K3-001" in text.stdout and "MH-001" not in text.stdout


def test_add_json_prints_the_created_household(team_dir: Path, dxkit: Invoke):
    result = dxkit(team_dir, "households", "add", "--code", "mh-010", "--head-name",
                   "Phạm Thị Thu", "--hamlet", "Ấp Mỹ Hưng", "--phone", "0912 345 678",
                   "--address", "Ấp Mỹ Hưng", "--lat", "10.36", "--lon", "106.36", "--json")
    created = as_json(result)
    assert created["code"] == "MH-010"
    assert created["head_name"] == "Phạm Thị Thu"
    assert created["hamlet"] == "Ấp Mỹ Hưng"
    assert created["phone"] == "0912345678"
    assert created["latitude"] == 10.36
    listed = as_json(dxkit(team_dir, "households", "list", "--json"))
    assert [r["id"] for r in listed] == [created["id"]]


def test_add_text_confirms_in_vietnamese(team_dir: Path, dxkit: Invoke):
    result = dxkit(team_dir, "households", "add", "--code", "K3-9", "--head-name", "Võ Văn Ba",
                   "--hamlet", "khom 3")
    assert result.exit_code == 0
    assert "K3-9" in result.stdout and "Khóm 3" in result.stdout
    assert "Đã thêm" in result.stdout


def test_add_with_an_unknown_hamlet_lists_the_known_ones_and_writes_nothing(
        team_dir: Path, dxkit: Invoke):
    before = counts(team_dir)
    result = dxkit(team_dir, "households", "add", "--code", "X-1", "--head-name", "Ai Đó",
                   "--hamlet", "Ấp Không Có", "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    for known in ("Ấp Mỹ Hưng", "Khóm 3", "Ấp Đông Hòa"):
        assert known in result.stderr
    assert "Ấp Không Có" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert counts(team_dir) == before


def test_add_reports_every_bad_field_at_once(filled_dir: Path, dxkit: Invoke):
    before = counts(filled_dir)
    result = dxkit(filled_dir, "households", "add", "--code", "MH-001", "--head-name", "B",
                   "--hamlet", "Khóm 3", "--phone", "12ab", "--lat", "55", "--lon", "106")
    assert result.exit_code == 1
    assert "MH-001" in result.stderr  # the code is taken
    assert "12ab" in result.stderr  # the phone is not a number
    assert "Vĩ độ" in result.stderr  # latitude outside Vietnam
    assert counts(filled_dir) == before


def test_add_without_a_required_option_is_a_usage_error(team_dir: Path, dxkit: Invoke):
    before = counts(team_dir)
    result = dxkit(team_dir, "households", "add", "--code", "X-1", "--hamlet", "Khóm 3")
    assert result.exit_code == 2
    assert "--head-name" in result.stderr
    assert "Usage" not in result.stderr
    assert counts(team_dir) == before


def test_show_json_masks_ids_and_phones_and_includes_visits(filled_dir: Path, dxkit: Invoke):
    shown = as_json(dxkit(filled_dir, "households", "show", "mh-001", "--json"))
    assert shown["household"]["code"] == "MH-001"
    names = [p["full_name"] for p in shown["people"]]
    assert names == ["Nguyễn Văn Đồng", "Lê Thị Lan"]
    head = shown["people"][0]
    assert head["cccd"] == "087•••••••45"
    assert head["phone"] == "0987•••321"
    assert [i["code"] for i in head["indicators"] if i["value"]] == ["vneid_level2"]
    assert len(shown["visits"]) == 1
    assert shown["visits"][0]["items"][0]["support_item_code"] == "vneid_level2"
    assert shown["visits"][0]["members"] == ["Lê Thị Hoa"]


def test_show_text_never_prints_a_full_citizen_id(filled_dir: Path, dxkit: Invoke):
    result = dxkit(filled_dir, "households", "show", "MH-001")
    assert result.exit_code == 0
    assert "Nguyễn Văn Đồng" in result.stdout and "Lê Thị Lan" in result.stdout
    assert "087•••••••45" in result.stdout
    assert VALID_CCCD not in result.stdout
    assert "0987654321" not in result.stdout
    assert "Lê Thị Hoa" in result.stdout  # who made the visit


def test_show_an_unknown_household_is_one_sentence(filled_dir: Path, dxkit: Invoke):
    result = dxkit(filled_dir, "households", "show", "ZZ-404")
    assert result.exit_code == 1
    assert "ZZ-404" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_search_folds_diacritics_and_ranks_the_best_match_first(filled_dir: Path,
                                                                dxkit: Invoke):
    rows = as_json(dxkit(filled_dir, "households", "search", "nguyen van dong", "--json"))
    assert [r["head_name"] for r in rows] == ["Nguyễn Văn Đồng", "Nguyễn Văn Đông Hải"]
    assert rows[0]["code"] == "MH-001"


def test_search_by_code_prefix_hamlet_and_limit(filled_dir: Path, dxkit: Invoke):
    rows = as_json(dxkit(filled_dir, "households", "search", "mh", "--json"))
    assert [r["code"] for r in rows] == ["MH-001", "MH-002"]
    rows = as_json(dxkit(filled_dir, "households", "search", "nguyen", "--hamlet", "Khóm 3",
                         "--json"))
    assert [r["code"] for r in rows] == ["K3-001"]
    rows = as_json(dxkit(filled_dir, "households", "search", "nguyen", "--limit", "1",
                         "--json"))
    assert len(rows) == 1


def test_search_finds_a_household_by_another_member_name(filled_dir: Path, dxkit: Invoke):
    rows = as_json(dxkit(filled_dir, "households", "search", "le thi lan", "--json"))
    assert [r["code"] for r in rows] == ["MH-001"]


def test_search_without_a_match_says_so(filled_dir: Path, dxkit: Invoke):
    result = dxkit(filled_dir, "households", "search", "khong ai ca")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "khong ai ca" in result.stderr
    assert as_json(dxkit(filled_dir, "households", "search", "khong ai ca", "--json")) == []


def test_search_with_a_bad_limit_is_a_usage_error(filled_dir: Path, dxkit: Invoke):
    result = dxkit(filled_dir, "households", "search", "x", "--limit", "many")
    assert result.exit_code == 2
    assert "--limit" in result.stderr and "many" in result.stderr
