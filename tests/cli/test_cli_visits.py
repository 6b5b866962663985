"""`dxkit visits ...` and `dxkit followups`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dxkit.workspace import Workspace
from tests.cli.conftest import Invoke, as_json, counts, real_now


def earlier(days: int = 0, hours: int = 1) -> str:
    return (real_now() - dt.timedelta(days=days, hours=hours)).strftime("%Y-%m-%d %H:%M")


def test_add_json_records_items_for_named_people(filled_dir: Path, dxkit: Invoke):
    at = earlier(days=1)
    follow = (real_now() + dt.timedelta(days=5)).date().isoformat()
    visit = as_json(dxkit(
        filled_dir, "visits", "add", "--household", "mh-001", "--member", "le thi hoa",
        "--member", "Phạm Văn Tâm", "--item", "payment_account:done:Lê Thị Lan",
        "--item", "digital_signature:not_done:nguyen van dong:Chưa có tiền mua token",
        "--item", "online_safety:partly", "--at", at, "--notes", "Ghé lại tuần sau",
        "--follow-up", follow, "--json"))
    assert visit["household_code"] == "MH-001"
    assert visit["members"] == ["Lê Thị Hoa", "Phạm Văn Tâm"]
    assert visit["visited_at"] == at.replace(" ", "T") + ":00"
    assert visit["follow_up_on"] == follow
    items = [(i["support_item_code"], i["outcome"], i["reason"]) for i in visit["items"]]
    assert items == [("payment_account", "done", ""),
                     ("digital_signature", "not_done", "Chưa có tiền mua token"),
                     ("online_safety", "partly", "")]
    assert visit["items"][0]["person_id"] is not None
    assert visit["items"][2]["person_id"] is None
    shown = as_json(dxkit(filled_dir, "households", "show", "MH-001", "--json"))
    lan = next(p for p in shown["people"] if p["full_name"] == "Lê Thị Lan")
    assert [i["code"] for i in lan["indicators"]] == ["payment_account"]


def test_add_text_confirms(filled_dir: Path, dxkit: Invoke):
    result = dxkit(filled_dir, "visits", "add", "--household", "MH-002", "--member",
                   "Lê Thị Hoa", "--item", "smartphone_basics:done")
    assert result.exit_code == 0, result.output
    assert "MH-002" in result.stdout


def test_bad_visits_are_refused_and_write_nothing(filled_dir: Path, dxkit: Invoke):
    before = counts(filled_dir)
    cases = [
        (["--item", "vneid_level2:not_done"], "lý do"),  # not done needs a reason
        (["--item", "vneid_level2"], "--item"),  # malformed item
        (["--item", "vneid_level2:maybe"], "maybe"),  # unknown outcome
        (["--item", "teleport:done"], "teleport"),  # unknown support item
        (["--item", "vneid_level2:done:Ai Đó"], "Lê Thị Lan"),  # not a resident: list them
        (["--item", "vneid_level2:done", "--at", earlier(days=-3)], "tương lai"),
    ]
    for extra, expected in cases:
        result = dxkit(filled_dir, "visits", "add", "--household", "MH-001", "--member",
                       "Lê Thị Hoa", *extra)
        assert result.exit_code == 1, (extra, result.output)
        assert expected in result.stderr, (extra, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
    unknown_member = dxkit(filled_dir, "visits", "add", "--household", "MH-001", "--member",
                           "Ông Ba", "--item", "vneid_level2:done")
    assert unknown_member.exit_code == 1
    assert "Lê Thị Hoa" in unknown_member.stderr and "Phạm Văn Tâm" in unknown_member.stderr
    bad_date = dxkit(filled_dir, "visits", "add", "--household", "MH-001", "--member",
                     "Lê Thị Hoa", "--item", "vneid_level2:done", "--at", "20/11/2026")
    assert bad_date.exit_code == 2
    assert "--at" in bad_date.stderr
    no_item = dxkit(filled_dir, "visits", "add", "--household", "MH-001", "--member", "Hoa")
    assert no_item.exit_code == 2
    assert counts(filled_dir) == before


def test_list_filters(filled_dir: Path, dxkit: Invoke):
    dxkit(filled_dir, "visits", "add", "--household", "K3-001", "--member", "Phạm Văn Tâm",
          "--item", "citizen_app:done", "--at", earlier(days=2))
    everything = as_json(dxkit(filled_dir, "visits", "list", "--json"))
    assert [v["household_code"] for v in everything] == ["K3-001", "MH-001"]  # newest first
    by_household = as_json(dxkit(filled_dir, "visits", "list", "--household", "mh-001",
                                 "--json"))
    assert [v["household_code"] for v in by_household] == ["MH-001"]
    by_hamlet = as_json(dxkit(filled_dir, "visits", "list", "--hamlet", "Khóm 3", "--json"))
    assert [v["household_code"] for v in by_hamlet] == ["K3-001"]
    by_member = as_json(dxkit(filled_dir, "visits", "list", "--member", "Lê Thị Hoa", "--json"))
    assert [v["household_code"] for v in by_member] == ["MH-001"]
    today = real_now().date()
    since = as_json(dxkit(filled_dir, "visits", "list", "--since",
                          (today - dt.timedelta(days=5)).isoformat(), "--json"))
    assert [v["household_code"] for v in since] == ["K3-001"]
    until = as_json(dxkit(filled_dir, "visits", "list", "--until",
                          (today - dt.timedelta(days=5)).isoformat(), "--json"))
    assert [v["household_code"] for v in until] == ["MH-001"]
    text = dxkit(filled_dir, "visits", "list")
    assert text.exit_code == 0
    assert "K3-001" in text.stdout and "Phạm Văn Tâm" in text.stdout


def test_list_with_a_bad_date_is_a_usage_error(filled_dir: Path, dxkit: Invoke):
    result = dxkit(filled_dir, "visits", "list", "--since", "yesterday")
    assert result.exit_code == 2
    assert "--since" in result.stderr and "YYYY-MM-DD" in result.stderr


def test_void_keeps_history_and_hides_the_visit(filled_dir: Path, dxkit: Invoke):
    visit_id = as_json(dxkit(filled_dir, "visits", "list", "--json"))[0]["id"]
    refused = dxkit(filled_dir, "visits", "void", visit_id, "--reason", " ")
    assert refused.exit_code == 1
    missing_reason = dxkit(filled_dir, "visits", "void", visit_id)
    assert missing_reason.exit_code == 2
    result = dxkit(filled_dir, "visits", "void", visit_id, "--reason", "Ghi nhầm hộ")
    assert result.exit_code == 0, result.output
    assert as_json(dxkit(filled_dir, "visits", "list", "--json")) == []
    history = as_json(dxkit(filled_dir, "households", "show", "MH-001", "--json"))["visits"]
    assert sorted(v["kind"] for v in history) == ["visit", "void"]
    twice = dxkit(filled_dir, "visits", "void", visit_id, "--reason", "again")
    assert twice.exit_code == 1
    unknown = dxkit(filled_dir, "visits", "void", "no-such-visit", "--reason", "x")
    assert unknown.exit_code == 1 and "no-such-visit" in unknown.stderr


def test_followups_json_and_text_group_by_hamlet_and_mark_overdue(filled_dir: Path,
                                                                  dxkit: Invoke):
    with Workspace.open(filled_dir) as ws:
        # A follow-up due in 4 days in another hamlet.
        from dxkit.households.visits import VisitItem

        household = ws.households.by_code("K3-001")
        tam = ws.catalog.member("Phạm Văn Tâm")
        ws.visits.add(household.id, [VisitItem("smartphone_basics", "partly")],
                      visited_at=real_now() - dt.timedelta(days=1), member_ids=[tam.id],
                      follow_up_on=real_now().date() + dt.timedelta(days=4))
    due = as_json(dxkit(filled_dir, "followups", "--json"))
    assert [(f["code"], f["overdue"], f["overdue_days"]) for f in due] == [
        ("MH-001", True, 3), ("K3-001", False, -4)]
    assert as_json(dxkit(filled_dir, "followups", "--within", "2", "--json"))[0]["code"] == \
        "MH-001"
    assert len(as_json(dxkit(filled_dir, "followups", "--within", "2", "--json"))) == 1
    only_k3 = as_json(dxkit(filled_dir, "followups", "--hamlet", "khom 3", "--json"))
    assert [f["code"] for f in only_k3] == ["K3-001"]
    by_hoa = as_json(dxkit(filled_dir, "followups", "--member", "Lê Thị Hoa", "--json"))
    assert [f["code"] for f in by_hoa] == ["MH-001"]
    text = dxkit(filled_dir, "followups").stdout.splitlines()
    assert text[0] == "Ấp Mỹ Hưng"
    assert "MH-001" in text[1] and "QUÁ HẠN" in text[1]
    assert text[2] == "Khóm 3"
    assert "K3-001" in text[3] and "QUÁ HẠN" not in text[3]


def test_followups_when_none_are_due(team_dir: Path, dxkit: Invoke):
    assert as_json(dxkit(team_dir, "followups", "--json")) == []
    result = dxkit(team_dir, "followups")
    assert result.exit_code == 0 and "7" in result.stdout
    bad = dxkit(team_dir, "followups", "--within", "-1")
    assert bad.exit_code == 2


def test_text_lists_name_support_items_not_their_codes(filled_dir: Path, dxkit: Invoke):
    listed = dxkit(filled_dir, "visits", "list").stdout
    shown = dxkit(filled_dir, "households", "show", "MH-001").stdout
    for text in (listed, shown):
        assert "vneid_level2" not in text
        assert "Kích hoạt định danh điện tử mức 2: đã xong" in text
