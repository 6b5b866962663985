"""`dxkit followups close|reopen|print`: working the follow-ups list from the command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dxkit.households.visits import VisitItem
from dxkit.labels.verify import page_texts
from dxkit.workspace import Workspace
from tests.cli.conftest import Invoke, as_json, counts, real_now


def add_overdue(folder: Path, code: str, hamlet: str, head: str, days: int,
                phone: str = "") -> None:
    with Workspace.open(folder) as ws:
        household = ws.households.add(code=code, head_name=head, hamlet=hamlet,
                                      phone=phone, address=f"Số {days}, {hamlet}").value
        person = ws.people.add(household.id, full_name=head, birth_date="1960").value
        ws.visits.add(household.id, [VisitItem("payment_account", "not_done", person.id,
                                               "Chưa mang thẻ căn cước")],
                      visited_at=real_now() - dt.timedelta(days=days + 5),
                      member_ids=[ws.catalog.member("Phạm Văn Tâm").id],
                      follow_up_on=(real_now() - dt.timedelta(days=days)).date())


def test_the_list_shows_the_phone_and_what_is_pending(filled_dir: Path, dxkit: Invoke):
    add_overdue(filled_dir, "K3-009", "Khóm 3", "Đặng Thị Thu", 20, "0398765432")
    [k3, mh] = sorted(as_json(dxkit(filled_dir, "followups", "--json")),
                      key=lambda f: f["code"])
    assert (mh["code"], mh["phone"], mh["pending"]) == ("MH-001", "0912345678", [])
    assert (k3["phone"], k3["pending"]) == ("0398765432", ["Mở tài khoản ngân hàng / ví điện tử"])
    assert k3["closed"] is None
    text = dxkit(filled_dir, "followups").stdout
    assert "0398 765 432" in text and "Mở tài khoản ngân hàng / ví điện tử" in text
    assert "payment_account" not in text


def test_close_by_household_code_then_reopen(filled_dir: Path, dxkit: Invoke):
    closed = dxkit(filled_dir, "followups", "close", "mh-001", "--reason", "moved_away")
    assert closed.exit_code == 0, closed.output
    assert closed.stdout.startswith("Đã đóng hẹn quay lại của hộ MH-001")
    assert "Hộ đã chuyển đi" in closed.stdout
    assert as_json(dxkit(filled_dir, "followups", "--json")) == []
    [shown] = as_json(dxkit(filled_dir, "followups", "--closed", "--json"))
    assert shown["closed"]["reason"] == "moved_away" and shown["closed"]["kind"] == "close"
    [line] = [line for line in dxkit(filled_dir, "followups", "--closed").stdout.splitlines()
              if "MH-001" in line]
    assert line.strip().startswith("[đã đóng: Hộ đã chuyển đi]") and "QUÁ HẠN" not in line

    again = dxkit(filled_dir, "followups", "close", "MH-001", "--reason", "not_needed")
    assert again.exit_code == 1 and again.stderr.strip() == "Hẹn quay lại này đã được đóng."
    reopened = as_json(dxkit(filled_dir, "followups", "reopen", shown["visit_id"], "--json"))
    assert reopened["closed"] is None and reopened["code"] == "MH-001"
    assert [f["code"] for f in as_json(dxkit(filled_dir, "followups", "--json"))] == ["MH-001"]


def test_close_with_a_note_as_json_and_in_english(filled_dir: Path, dxkit: Invoke):
    result = as_json(dxkit(filled_dir, "--lang", "en", "followups", "close", "MH-001",
                           "--reason", "other", "--note", "Con gái đã hỗ trợ",
                           "--member", "Lê Thị Hoa", "--json"))
    assert result["closed"]["reason_text"] == "Other: Con gái đã hỗ trợ"
    assert result["closed"]["member_id"]


def test_bad_input_is_one_sentence_and_writes_nothing(filled_dir: Path, dxkit: Invoke):
    before = counts(filled_dir)
    for args, code, words in (
            (("--reason", "maybe"), 2, "--reason"),
            (("--reason", "other"), 1, "ghi chú"),
            (("--reason", "called_done", "--member", "Ai Đó"), 1, "Ai Đó"),
            ((), 2, "--reason")):
        result = dxkit(filled_dir, "followups", "close", "MH-001", *args)
        assert result.exit_code == code, (args, result.output)
        assert len(result.stderr.strip().splitlines()) == 1 and words in result.stderr
    nobody = dxkit(filled_dir, "followups", "close", "XX-404", "--reason", "not_needed")
    assert nobody.exit_code == 1 and "XX-404" in nobody.stderr
    no_follow_up = dxkit(filled_dir, "followups", "close", "MH-002", "--reason", "not_needed")
    assert no_follow_up.exit_code == 1 and "MH-002" in no_follow_up.stderr
    not_closed = dxkit(filled_dir, "followups", "reopen", "MH-001")
    assert not_closed.exit_code == 1 and "chưa được đóng" in not_closed.stderr
    assert counts(filled_dir) == before


def test_print_writes_the_days_call_list(filled_dir: Path, dxkit: Invoke, tmp_path: Path):
    add_overdue(filled_dir, "K3-009", "Khóm 3", "Đặng Thị Thu", 20, "0398765432")
    with Workspace.open(filled_dir) as ws:  # due in three days: not on today's list
        household = ws.households.by_code("MH-002")
        ws.visits.add(household.id, [VisitItem("online_safety", "partly")],
                      visited_at=real_now() - dt.timedelta(days=1),
                      member_ids=[ws.catalog.member("Lê Thị Hoa").id],
                      follow_up_on=real_now().date() + dt.timedelta(days=3))
    out = tmp_path / "goi.pdf"
    written = as_json(dxkit(filled_dir, "followups", "print", "--out", str(out), "--json"))
    assert written == {"path": str(out), "households": 2, "pages": 1}
    [page] = page_texts(out)
    for text in ("DANH SÁCH GỌI HẸN QUAY LẠI", "Phường Mỹ Tho, Đồng Tháp", "Ấp Mỹ Hưng",
                 "Khóm 3", "Nguyễn Văn Đồng", "Đặng Thị Thu", "0398 765 432",
                 "Mở tài khoản ngân hàng / ví điện tử", "quá hạn 20 ngày", "12 Đường Lê Lợi",
                 "Trang 1/1"):
        assert text in page, text
    assert "MH-002" not in page and "Trần Thị Nguyệt" not in page
    assert "payment_account" not in page
    # A later day: MH-002 is due then; a hamlet alone.
    later = (real_now().date() + dt.timedelta(days=3)).isoformat()
    text = dxkit(filled_dir, "followups", "print", "--out", str(out), "--date", later,
                 "--hamlet", "Ấp Mỹ Hưng")
    assert text.exit_code == 0 and str(out) in text.stdout
    [page] = page_texts(out)
    assert "MH-002" in page and "K3-009" not in page and "Ấp Mỹ Hưng" in page
    bad = dxkit(filled_dir, "followups", "print", "--out", str(out), "--date", "mai")
    assert bad.exit_code == 2 and "--date" in bad.stderr
