"""The paper class register: every learner on it with correct diacritics, sessions as columns."""

from __future__ import annotations

import datetime as dt

import pypdfium2

from dxkit.core.i18n import set_language
from dxkit.lessons.register_pdf import ClassRegister, RegisterLearner, render_register

NAMES = ["Nguyễn Thị Thu Hằng", "Trương Văn Lực", "Lâm Ngọc Ánh", "Đoàn Minh Quân"]


def register(learners: int) -> ClassRegister:
    return ClassRegister(
        "Lớp kỹ năng số ấp Mỹ Hưng", "Kỹ năng số cơ bản", "Tổ công nghệ số cộng đồng xã Mỹ Hưng",
        "Nhà văn hóa ấp", ("Lê Thị Lan",),
        [RegisterLearner(i + 1, f"{NAMES[i % 4]} {i + 1}", f"MH-{i:03d}")
         for i in range(learners)],
        [dt.date(2026, 12, 1), dt.date(2026, 12, 8), None])


def text_of(pdf: bytes) -> str:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def test_every_learner_and_session_is_on_the_register() -> None:
    set_language("vi")
    pdf, pages = render_register(register(40))
    text = text_of(pdf)
    assert pages == len(pypdfium2.PdfDocument(pdf)) >= 2  # 40 rows do not fit one page
    for i in range(40):
        assert f"{NAMES[i % 4]} {i + 1}" in text
    assert "SỔ ĐIỂM DANH LỚP HỌC" in text and "01/12" in text and "08/12" in text
    assert "Trang 1/" in text or "trang 1" in text.lower()


def test_a_register_with_no_learner_yet_still_prints_rows_to_write_in() -> None:
    pdf, pages = render_register(register(0))
    assert pages == 1 and "Lớp kỹ năng số ấp Mỹ Hưng" in text_of(pdf)
