"""hamlets, members, team, indicators, support-items."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from dxkit.cli import cli
from dxkit.workspace import Workspace
from tests.cli.conftest import Invoke, as_json, counts


def test_hamlets_list_add_and_rename(filled_dir: Path, dxkit: Invoke):
    rows = as_json(dxkit(filled_dir, "hamlets", "list", "--json"))
    assert [(r["name"], r["households"]) for r in rows] == [
        ("Ấp Mỹ Hưng", 2), ("Khóm 3", 1), ("Ấp Đông Hòa", 0)]
    added = dxkit(filled_dir, "hamlets", "add", "Tổ dân phố 5")
    assert added.exit_code == 0 and "Tổ dân phố 5" in added.stdout
    renamed = dxkit(filled_dir, "hamlets", "rename", "khom 3", "Khóm Ba")
    assert renamed.exit_code == 0
    names = [r["name"] for r in as_json(dxkit(filled_dir, "hamlets", "list", "--json"))]
    assert names == ["Ấp Mỹ Hưng", "Khóm Ba", "Ấp Đông Hòa", "Tổ dân phố 5"]
    households = as_json(dxkit(filled_dir, "households", "list", "--hamlet", "Khóm Ba",
                               "--json"))
    assert [h["code"] for h in households] == ["K3-001"]
    text = dxkit(filled_dir, "hamlets", "list")
    assert "Ấp Mỹ Hưng" in text.stdout


def test_hamlet_errors_write_nothing(filled_dir: Path, dxkit: Invoke):
    before = counts(filled_dir)
    duplicate = dxkit(filled_dir, "hamlets", "add", "ap my hung")
    assert duplicate.exit_code == 1 and "ap my hung" in duplicate.stderr
    unknown = dxkit(filled_dir, "hamlets", "rename", "Ấp Xa Lắc", "Ấp Gần")
    assert unknown.exit_code == 1 and "Khóm 3" in unknown.stderr
    missing = dxkit(filled_dir, "hamlets", "rename", "Khóm 3")
    assert missing.exit_code == 2
    assert counts(filled_dir) == before


def test_members_list_and_add(team_dir: Path, dxkit: Invoke):
    assert [m["name"] for m in as_json(dxkit(team_dir, "members", "list", "--json"))] == [
        "Lê Thị Hoa", "Phạm Văn Tâm"]
    assert dxkit(team_dir, "members", "add", "Đặng Thị Bé").exit_code == 0
    text = dxkit(team_dir, "members", "list")
    assert text.stdout.splitlines() == ["Lê Thị Hoa", "Phạm Văn Tâm", "Đặng Thị Bé"]
    before = counts(team_dir)
    empty = dxkit(team_dir, "members", "add", "  ")
    assert empty.exit_code == 1
    assert counts(team_dir) == before


def test_team_show_and_set(filled_dir: Path, dxkit: Invoke):
    info = as_json(dxkit(filled_dir, "team", "show", "--json"))
    assert info["province"] == "Đồng Tháp"
    assert "Mỹ Tho" in info["commune"]
    assert info["households"] == 3 and info["people"] == 2
    assert info["hamlets"] == ["Ấp Mỹ Hưng", "Khóm 3", "Ấp Đông Hòa"]
    assert "Mỹ Tho" in dxkit(filled_dir, "team", "show").stdout
    result = dxkit(filled_dir, "team", "set", "--province", "Hà Nội", "--commune", "Ba Đình")
    assert result.exit_code == 0, result.output
    assert "Ba Đình" in as_json(dxkit(filled_dir, "team", "show", "--json"))["commune"]


def test_team_set_with_an_unknown_place_changes_nothing(filled_dir: Path, dxkit: Invoke):
    result = dxkit(filled_dir, "team", "set", "--province", "Atlantis", "--commune", "X")
    assert result.exit_code == 1 and "Atlantis" in result.stderr
    result = dxkit(filled_dir, "team", "set", "--province", "Đồng Tháp", "--commune", "Ba Đình")
    assert result.exit_code == 1 and "Ba Đình" in result.stderr
    with Workspace.open(filled_dir) as ws:
        assert "Mỹ Tho" in ws.team_place()[1]


def test_team_show_on_an_unconfigured_workspace(tmp_path: Path, dxkit: Invoke):
    result = dxkit(tmp_path / "new", "team", "show")
    assert result.exit_code == 0
    assert "team set" in result.stdout


def test_indicators_roll_up(filled_dir: Path, dxkit: Invoke):
    rows = as_json(dxkit(filled_dir, "indicators", "--json"))
    vneid = next(r for r in rows if r["code"] == "vneid_level2")
    assert (vneid["reached"], vneid["population"], vneid["share"]) == (1, 2, 0.5)
    in_k3 = as_json(dxkit(filled_dir, "indicators", "--hamlet", "Khóm 3", "--json"))
    assert all(r["population"] == 0 for r in in_k3)
    text = dxkit(filled_dir, "indicators")
    assert "1/2 (50%)" in text.stdout
    assert "VNeID" in text.stdout
    bad = dxkit(filled_dir, "indicators", "--hamlet", "Ấp Xa")
    assert bad.exit_code == 1


def test_support_items(team_dir: Path, dxkit: Invoke):
    rows = as_json(dxkit(team_dir, "support-items", "--json"))
    codes = [r["code"] for r in rows]
    assert "vneid_level2" in codes and "online_safety" in codes
    first = rows[0]
    assert {"code", "name", "name_vi", "name_en", "indicator_code"} <= first.keys()
    assert first["name"] == first["name_vi"]
    text = dxkit(team_dir, "support-items")
    assert "Kích hoạt định danh điện tử mức 2" in text.stdout
    english = CliRunner().invoke(cli, ["--lang", "en", "--data-dir", str(team_dir),
                                       "support-items"])
    assert english.exit_code == 0
    assert "Activate VNeID level 2" in english.stdout


def test_catalog_is_configurable_data(team_dir: Path, dxkit: Invoke):
    added = dxkit(team_dir, "catalog", "add-indicator", "uses_zalo", "--vi", "Dùng Zalo",
                  "--en", "Uses Zalo", "--min-age", "12")
    assert added.exit_code == 0, added.output
    item = dxkit(team_dir, "catalog", "add-item", "zalo_install", "--vi", "Cài đặt Zalo",
                 "--en", "Install Zalo", "--indicator", "uses_zalo")
    assert item.exit_code == 0, item.output
    items = {i["code"]: i for i in as_json(dxkit(team_dir, "support-items", "--json"))}
    assert items["zalo_install"]["indicator_code"] == "uses_zalo"
    assert items["zalo_install"]["name"] == "Cài đặt Zalo"
    assert "uses_zalo" in [r["code"] for r in as_json(dxkit(team_dir, "indicators", "--json"))]
    assert dxkit(team_dir, "catalog", "retire", "zalo_install").exit_code == 0
    codes = [i["code"] for i in as_json(dxkit(team_dir, "support-items", "--json"))]
    assert "zalo_install" not in codes
    assert dxkit(team_dir, "catalog", "retire", "zalo_install", "--restore").exit_code == 0
    assert "zalo_install" in [i["code"] for i in
                              as_json(dxkit(team_dir, "support-items", "--json"))]


def test_catalog_bad_entries_are_refused(team_dir: Path, dxkit: Invoke):
    before = counts(team_dir)
    duplicate = dxkit(team_dir, "catalog", "add-item", "vneid_level2", "--vi", "A", "--en", "B")
    assert duplicate.exit_code == 1 and "vneid_level2" in duplicate.stderr
    bad_code = dxkit(team_dir, "catalog", "add-item", "Cài Zalo", "--vi", "A", "--en", "B")
    assert bad_code.exit_code == 1
    unknown = dxkit(team_dir, "catalog", "add-item", "zalo", "--vi", "A", "--en", "B",
                    "--indicator", "khong_co")
    assert unknown.exit_code == 1 and "khong_co" in unknown.stderr
    assert dxkit(team_dir, "catalog", "retire", "khong_co").exit_code == 1
    assert counts(team_dir) == before
