"""Nothing overflows: very long Vietnamese text at every template size, checked on the layout
boxes and on the glyph boxes PDFium finds in the rendered PDF; codes too big are refused."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pytest

from dxkit.labels import (
    BUILTIN_TEMPLATES,
    LabelError,
    Template,
    custom_template,
    label_lines,
    render_labels,
    template_named,
)
from dxkit.labels.layout import (
    ELLIPSIS,
    MIN_SIZE,
    PT_PER_MM,
    QUIET_MODULES,
    fit_text,
    qr_box,
    text_area,
)
from dxkit.labels.qr import encode
from tests.labels.conftest import custom_sheet, imported_sheet, sample_content

LONG = dict(
    product="Xoài cát Hòa Lộc loại đặc biệt xuất khẩu sang thị trường Nhật Bản và Hàn Quốc "
            "vụ Đông Xuân năm hai nghìn không trăm hai mươi sáu",
    cooperative="Hợp tác xã Nông nghiệp Dịch vụ Thương mại Mỹ Đông huyện Tháp Mười tỉnh "
                "Đồng Tháp",
    growing_area="VN-ĐỒNGTHÁP-CAOLÃNH-MỸXƯƠNG-0012-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    certification="VietGAP, GlobalG.A.P., Hữu cơ TCVN 11041-2:2017, Rainforest Alliance",
    lot_code="ĐT-2611-HÒALỘC-THÁPMƯỜI-0001-ĐẶCBIỆT",
)
EPSILON = 0.05  # mm


def tall_sheet() -> Template:
    """Labels taller than wide: the code goes above the text."""
    return custom_template("tall", "Tall 38×60", 210, 297, 38, 60, 10, 10, 40, 62, 5, 4)


def all_templates(tmp_path: Path) -> list[Template]:
    return [*BUILTIN_TEMPLATES.values(), custom_sheet(), imported_sheet(tmp_path), tall_sheet()]


def test_long_text_stays_inside_its_box_on_every_template(tmp_path: Path) -> None:
    for template in all_templates(tmp_path):
        content = sample_content(7, **LONG)
        box = qr_box(template, encode(content.qr_payload).size)
        area = text_area(template, box)
        x, y, width, height = area
        placed = fit_text(label_lines(content), area)
        assert placed, template.name
        assert any(ELLIPSIS in line.text for line in placed), template.name
        for line in placed:
            assert line.size >= MIN_SIZE
            assert x - EPSILON <= line.x and line.x + line.width <= x + width + EPSILON
            assert y - EPSILON <= line.top and line.bottom <= y + height + EPSILON
        # The text never reaches into the code's quiet zone.
        quiet = QUIET_MODULES * box.module
        assert x >= box.x + box.side + quiet - EPSILON or y >= box.y + box.side + quiet - EPSILON


def test_short_text_is_never_cut() -> None:
    for template in BUILTIN_TEMPLATES.values():
        content = sample_content(3)
        area = text_area(template, qr_box(template, encode(content.qr_payload).size))
        shown = " ".join(line.text for line in fit_text(label_lines(content), area))
        assert ELLIPSIS not in shown, template.name
        for line in label_lines(content):
            assert all(word in shown for word in line.text.split()), (template.name, line)


def test_dates_and_codes_are_shown_whole_or_not_at_all() -> None:
    """A date cut to "20/1…" would mislead; whole lines are never ellipsised."""
    for template in BUILTIN_TEMPLATES.values():
        content = sample_content(5, **LONG)
        area = text_area(template, qr_box(template, encode(content.qr_payload).size))
        lines = label_lines(content)
        placed = fit_text(lines, area)
        shown = "".join("".join(p.text.split()) for p in placed)  # rows may split a code
        for line in lines:
            if line.whole:
                assert "".join(line.text.split()) in shown or \
                    line.text.split()[-1][:4] not in shown, (template.name, line.text)
        assert ELLIPSIS not in "".join(p.text for p in placed if p.text.startswith("Lô"))


@pytest.mark.parametrize("name", [*BUILTIN_TEMPLATES, "custom", "glabels", "tall"])
def test_rendered_glyphs_lie_inside_their_label(name: str, tmp_path: Path) -> None:
    """Ask PDFium where every glyph of a full sheet of long labels was drawn."""
    template = {"custom": custom_sheet, "glabels": lambda: imported_sheet(tmp_path),
                "tall": tall_sheet}.get(name, lambda: BUILTIN_TEMPLATES[name])()
    count = template.per_page
    pdf = pdfium.PdfDocument(render_labels(template, [sample_content(i, **LONG)
                                                      for i in range(count)]))
    try:
        text = pdf[0].get_textpage()
        glyphs = 0
        for index in range(text.count_chars()):
            left, bottom, right, top = text.get_charbox(index)
            if right - left <= 0:  # spaces and line ends have no ink
                continue
            glyphs += 1
            x0, x1 = left / PT_PER_MM, right / PT_PER_MM
            y0 = template.page_height - top / PT_PER_MM
            y1 = template.page_height - bottom / PT_PER_MM
            cell = _cell_of((x0 + x1) / 2, (y0 + y1) / 2, template)
            assert cell is not None, (index, x0, y0)
            cell_x, cell_y = cell
            assert cell_x - EPSILON <= x0 and x1 <= cell_x + template.label_width + EPSILON
            assert cell_y - EPSILON <= y0 and y1 <= cell_y + template.label_height + EPSILON
        assert glyphs > 30 * count
    finally:
        pdf.close()


def _cell_of(x: float, y: float, template: Template) -> tuple[float, float] | None:
    for position in range(1, template.per_page + 1):
        left, top = template.cell(position)
        if left <= x <= left + template.label_width and top <= y <= top + template.label_height:
            return left, top
    return None


def test_a_payload_too_long_for_a_small_label_is_refused() -> None:
    long_payload = "https://truyxuat.dongthap.gov.vn/lot/" + "ĐT2611" * 60
    with pytest.raises(LabelError) as refused:
        render_labels(template_named("thermal-40x30"),
                      [sample_content(1, qr_payload=long_payload)])
    assert "3 điểm" in refused.value.message and "Cuộn tem nhiệt 40×30" in refused.value.message
    with pytest.raises(LabelError) as refused:
        render_labels(template_named("a4-3x7"), [sample_content(1, qr_payload="x" * 900)])
    assert "0.4 mm" in refused.value.message
    with pytest.raises(LabelError, match="quá dài"):
        render_labels(template_named("a4-2x7"), [sample_content(1, qr_payload="x" * 3000)])
    # The same payload that a small label refuses prints on a larger one.
    medium = "https://truyxuat.dongthap.gov.vn/lot/" + "DT2611" * 25
    with pytest.raises(LabelError):
        render_labels(template_named("thermal-40x30"), [sample_content(1, qr_payload=medium)])
    assert render_labels(template_named("a4-2x7"), [sample_content(1, qr_payload=medium)])


def test_thermal_codes_sit_on_the_printer_dot_grid() -> None:
    for name in ("thermal-50x30", "thermal-40x30"):
        template = template_named(name)
        dot = 25.4 / 203
        for version in range(1, 9):
            box = qr_box(template, 17 + 4 * version)
            for value in (box.x, box.y, box.module):
                assert value / dot == pytest.approx(round(value / dot), abs=1e-6)
            assert round(box.module / dot) >= 3


def test_empty_fields_leave_no_caption_behind() -> None:
    content = sample_content(1, certification="", growing_area="  ", serial=None)
    texts = [line.text for line in label_lines(content)]
    assert not any(t.startswith(("Chứng nhận", "Mã vùng trồng", "Số:")) for t in texts)
    assert texts == [content.product, content.cooperative, "Ngày thu hoạch: 20/11/2026",
                     "Ngày đóng gói: 21/11/2026", "Lô: ĐT-2611-001"]
