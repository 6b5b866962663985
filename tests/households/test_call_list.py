"""The day's call list (households/call_list.py): an A4 PDF of the follow-ups due and overdue,
by hamlet, in the bundled font, read back with PDFium as a reader or a search would."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pypdfium2 as pdfium
import pytest

from dxkit.core.i18n import set_language
from dxkit.households.call_list import call_list, render, write_call_list
from dxkit.households.visits import VisitItem
from dxkit.labels.verify import page_texts

TODAY = dt.date(2026, 11, 20)


def add(ws, code, hamlet, head, due, *, phone="", item="payment_account", outcome="partly"):
    household = ws.households.add(code=code, head_name=head, hamlet=hamlet, phone=phone,
                                  address=f"Số {code[-2:]}, đường Nguyễn Huệ").value
    person = ws.people.add(household.id, full_name=head, birth_year=1958,
                           relationship="Chủ hộ").value
    visit = ws.visits.add(household.id, [VisitItem(item, outcome, person.id, "Chưa xong")],
                          visited_at=dt.datetime.combine(due, dt.time(8)) - dt.timedelta(days=7),
                          member_ids=[ws.catalog.member("Lê Thị Hoa").id],
                          follow_up_on=due).value
    return household, person, visit


@pytest.fixture
def day_list(ws):
    """Two hamlets; one household due today, two overdue, one due tomorrow, one closed."""
    add(ws, "MH-001", "Ấp Mỹ Hưng", "Nguyễn Thị Ánh Tuyết", TODAY, phone="0912345678")
    add(ws, "MH-002", "Ấp Mỹ Hưng", "Trần Văn Đức", TODAY - dt.timedelta(days=167),
        item="vneid_level2", outcome="not_done")
    add(ws, "K3-001", "Khóm 3", "Huỳnh Thị Bích Ngọc", TODAY - dt.timedelta(days=3),
        phone="0398765432")
    add(ws, "K3-002", "Khóm 3", "Lý Văn Tâm", TODAY + dt.timedelta(days=1))
    _h, _p, closed = add(ws, "DH-001", "Ấp Đông Hòa", "Phạm Thị Hồng", TODAY - dt.timedelta(
        days=9))
    ws.visits.close_follow_up(closed.id, "moved_away")
    return ws


def test_the_list_holds_the_due_and_overdue_ones_by_hamlet(day_list):
    calls = call_list(day_list)
    assert calls.day == TODAY and calls.place == "Phường Mỹ Tho, Đồng Tháp"
    assert [(hamlet, [f.household_code for f in rows]) for hamlet, rows in calls.by_hamlet()] \
        == [("Ấp Mỹ Hưng", ["MH-002", "MH-001"]), ("Khóm 3", ["K3-001"])]
    assert calls.overdue == 2


def test_the_pdf_says_it_all_in_vietnamese(day_list, tmp_path):
    written = write_call_list(day_list, tmp_path / "goi.pdf")
    assert (written.households, written.pages) == (3, 1)
    [text] = page_texts(written.path)
    text = unicodedata.normalize("NFC", text)
    for expected in ("DANH SÁCH GỌI HẸN QUAY LẠI",
                     "Tổ Công nghệ số cộng đồng Phường Mỹ Tho, Đồng Tháp", "Ngày 20/11/2026",
                     "Cần gọi: 3 hộ, 2 quá hạn, 1 đến hạn hôm nay", "Ấp Mỹ Hưng — 2 hộ",
                     "Khóm 3 — 1 hộ", "Nguyễn Thị Ánh Tuyết", "Huỳnh Thị Bích Ngọc",
                     "Trần Văn Đức", "0912 345 678", "0398 765 432", "quá hạn 167 ngày",
                     "quá hạn 3 ngày", "đến hạn hôm nay", "Mở tài khoản ngân hàng / ví điện tử",
                     "Kích hoạt định danh điện tử mức 2", "Kết quả gọi, ghi chú",
                     "Số 01, đường Nguyễn Huệ", "Trang 1/1"):
        assert expected in text, expected
    # Not due yet, closed, or what the list must never carry.
    for absent in ("K3-002", "Lý Văn Tâm", "DH-001", "Phạm Thị Hồng", "payment_account",
                   "Chưa xong"):
        assert absent not in text, absent
    pdf = pdfium.PdfDocument(written.path)
    width, height = pdf[0].get_size()
    assert (round(width), round(height)) == (842, 595)  # A4, landscape, in points
    assert b"DejaVuSansCondensed" in written.path.read_bytes()  # the bundled font, embedded
    pdf.close()


def test_a_long_list_repeats_its_hamlet_and_headings_on_every_page(ws, tmp_path):
    for number in range(1, 46):
        add(ws, f"MH-{number:03d}", "Ấp Mỹ Hưng", f"Nguyễn Văn Số {number}",
            TODAY - dt.timedelta(days=number), phone=f"09123456{number:02d}")
    written = write_call_list(ws, tmp_path / "dai.pdf")
    assert written.households == 45 and written.pages >= 3
    texts = page_texts(written.path)
    assert len(texts) == written.pages
    for number, text in enumerate(texts, start=1):
        assert "Ấp Mỹ Hưng — 45 hộ" in text and "Việc còn dở" in text, number
        assert f"Trang {number}/{written.pages}" in text
        assert "MH-" in text  # no page holds only headings
    assert all(f"MH-{n:03d}" in "".join(texts) for n in range(1, 46))
    assert "DANH SÁCH GỌI HẸN QUAY LẠI" in texts[0] and "DANH SÁCH GỌI" not in texts[1]


def test_one_hamlet_or_member_another_day_and_english(day_list, tmp_path):
    hamlet = day_list.catalog.hamlet("Khóm 3")
    calls = call_list(day_list, day=TODAY + dt.timedelta(days=1), hamlet_id=hamlet.id)
    assert [f.household_code for f in calls.follow_ups] == ["K3-001", "K3-002"]
    set_language("en")
    pdf, pages = render(calls)
    [text] = page_texts(pdf)
    assert pages == 1
    assert "FOLLOW-UP CALL LIST" in text and "Khóm 3" in text and "Nov 21, 2026" in text
    assert "4 days overdue" in text and "due today" in text and "Ấp Mỹ Hưng" not in text


def test_an_empty_day_says_so(ws, tmp_path):
    written = write_call_list(ws, tmp_path / "trong.pdf")
    assert (written.households, written.pages) == (0, 1)
    [text] = page_texts(written.path)
    assert "Không có hẹn quay lại nào đến hạn hoặc quá hạn vào ngày này." in text


def test_an_erased_head_leaves_no_trace_on_the_list(day_list, tmp_path):
    household = day_list.households.by_code("K3-001")
    head = day_list.people.in_household(household.id)[0]
    day_list.people.delete(head.id)
    written = write_call_list(day_list, tmp_path / "goi.pdf")
    [text] = page_texts(written.path)
    assert "K3-001" in text  # the household still needs its visit
    assert "Huỳnh Thị Bích Ngọc" not in text and "0398 765 432" not in text
