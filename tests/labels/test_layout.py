"""Nothing overflows: very long Vietnamese text at every template size, checked on the layout
boxes and on the glyph boxes PDFium finds in the rendered PDF; codes too big are refused."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pytest
from reportlab.pdfbase.pdfmetrics import stringWidth

from dxkit.core import i18n
from dxkit.labels import (
    BUILTIN_TEMPLATES,
    LabelError,
    Template,
    custom_template,
    label_lines,
    page_texts,
    render_labels,
    template_named,
)
from dxkit.labels.content import qr_caption
from dxkit.labels.fonts import BOLD, REGULAR
from dxkit.labels.layout import (
    CAP_HEIGHT_EM,
    ELLIPSIS,
    MIN_CAP_DOTS,
    MIN_SIZE,
    PT_PER_MM,
    QUIET_MODULES,
    LabelLayout,
    fit_text,
    label_layout,
    min_text_size,
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
        # The over-long name is shown whole, or cut short with "…", never silently.
        product = " ".join(p.text for p in placed if p.text.rstrip(ELLIPSIS) in LONG["product"])
        assert product == LONG["product"] or product.endswith(ELLIPSIS), template.name
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


# -- legible on a thermal roll, names whole, a caption under the code ---------------------------
# A real cooperative's and product's names, long but not absurd: they must be shown whole.
NAMES = dict(product="Xoài cát Hòa Lộc loại 1 xuất khẩu Nhật Bản",
             cooperative="Hợp tác xã Dịch vụ Nông nghiệp Tổng hợp Mỹ Xương Đồng Tháp")


def test_the_thermal_minimum_is_derived_from_the_printer_dots() -> None:
    for name in ("thermal-50x30", "thermal-40x30"):
        template = template_named(name)
        size = min_text_size(template)
        cap_dots = size * CAP_HEIGHT_EM / PT_PER_MM / (25.4 / template.dpi)
        assert cap_dots >= MIN_CAP_DOTS >= 12 and size == 6.0
    assert min_text_size(template_named("a4-3x7")) == MIN_SIZE == 5.5
    finer = custom_template("t300", "300 dpi", 50, 30, 50, 30, 0, 0, kind="thermal", dpi=300)
    assert min_text_size(finer) == MIN_SIZE  # 12 dots at 300 dpi are smaller than that


@pytest.mark.parametrize("language", ["vi", "en"])
def test_no_text_is_too_small_or_leaves_its_box_on_any_template(language: str,
                                                                  tmp_path: Path) -> None:
    i18n.set_language(language)
    for template in all_templates(tmp_path):
        for content in (sample_content(2, **NAMES), sample_content(4, **LONG)):
            layout = label_layout(template, encode(content.qr_payload).size,
                                  label_lines(content), qr_caption(content))
            assert layout.lines, template.name
            x, y, width, height = text_area(template, layout.qr, _below(layout, template))
            boxes = [(line, (x, y, width, height)) for line in layout.lines]
            boxes += [(line, _caption_box(layout, template)) for line in layout.caption]
            for line, (bx, by, bw, bh) in boxes:
                assert line.size >= min_text_size(template), (template.name, line)
                drawn = stringWidth(line.text, BOLD if line.bold else REGULAR,
                                    line.size) / PT_PER_MM
                assert bx - EPSILON <= line.x and line.x + drawn <= bx + bw + EPSILON, (
                    template.name, line.text)
                assert by - EPSILON <= line.top and line.bottom <= by + bh + EPSILON, (
                    template.name, line.text)
            if template.kind == "thermal":
                assert min(line.size for line in layout.texts) >= 6.0


def _below(layout: LabelLayout, template: Template) -> float:
    rows = layout.caption
    return 0.0 if not rows or template.label_width >= template.label_height else \
        rows[-1].bottom - rows[0].top


def _caption_box(layout: LabelLayout, template: Template) -> tuple[float, float, float, float]:
    """Under the code's quiet zone, as wide as the code's column, down to the padding."""
    box, quiet = layout.qr, QUIET_MODULES * layout.qr.module
    top = box.y + box.side + quiet
    if template.label_width >= template.label_height:
        left = max(template.padding, box.x - quiet)
        width = box.x + box.side + quiet - left
    else:
        left, width = template.padding, template.label_width - 2 * template.padding
    return left, top, width, template.label_height - template.padding - top


@pytest.mark.parametrize("name", list(BUILTIN_TEMPLATES))
def test_names_wrap_by_words_and_lesser_lines_go_first(name: str) -> None:
    """A product's and a cooperative's names are shown whole, broken between words; when
    room runs out it is the least important lines that are left out."""
    template = BUILTIN_TEMPLATES[name]
    content = sample_content(2, **NAMES)
    lines = label_lines(content)
    layout = label_layout(template, encode(content.qr_payload).size, lines, qr_caption(content))
    rows: dict[str, list[str]] = {}
    for line in lines:
        for placed in layout.lines:
            if placed.text and placed.text in line.text:
                rows.setdefault(line.text, []).append(placed.text)
    for whole_name in (NAMES["product"], NAMES["cooperative"]):
        assert " ".join(rows[whole_name]) == whole_name, (name, rows.get(whole_name))
    shown = [line for line in lines if line.text in rows]
    left_out = [line for line in lines if line.text not in rows]
    assert all(gone.priority > kept.priority for gone in left_out for kept in shown)
    assert ELLIPSIS not in "".join(p.text for p in layout.lines)


def test_a_name_is_cut_only_when_it_alone_does_not_fit() -> None:
    template = template_named("thermal-40x30")
    area = (0.0, 0.0, 20.0, 8.0)  # three rows of 6 pt
    lines = label_lines(sample_content(2, **LONG))
    placed = fit_text(lines, area, min_text_size(template))
    assert [p.text.rstrip(ELLIPSIS) in LONG["product"] for p in placed] == [True] * 3
    assert placed[-1].text.endswith(ELLIPSIS) and min(p.size for p in placed) == 6.0


@pytest.mark.parametrize("name", list(BUILTIN_TEMPLATES))
def test_every_builtin_template_says_what_its_code_is_for(name: str) -> None:
    template = BUILTIN_TEMPLATES[name]
    content = sample_content(1)
    layout = label_layout(template, encode(content.qr_payload).size, label_lines(content),
                          qr_caption(content))
    assert " ".join(row.text for row in layout.caption) == "Quét để xem nguồn gốc"
    quiet_bottom = layout.qr.y + layout.qr.side + QUIET_MODULES * layout.qr.module
    assert layout.caption[0].top >= quiet_bottom - EPSILON  # the quiet zone stays blank
    # The code is as it was, or gave up at most 15% of its module size for the caption.
    bare = qr_box(template, encode(content.qr_payload).size)
    assert layout.qr.module >= 0.85 * bare.module
    pdf = render_labels(template, [content], copies=template.per_page)
    assert " ".join(page_texts(pdf)[0].split()).count("Quét để xem nguồn gốc") == \
        template.per_page
    i18n.set_language("en")
    english = label_layout(template, encode(content.qr_payload).size, label_lines(content),
                           qr_caption(content))
    assert " ".join(row.text for row in english.caption) == "Scan to see the origin"


def test_no_caption_where_it_would_cost_the_code_its_size() -> None:
    low = custom_template("low", "70×20", 210, 297, 70, 20, 0, 0)
    content = sample_content(1, qr_payload="https://tx.vn/t/TMX-1")
    modules = encode(content.qr_payload).size
    layout = label_layout(low, modules, label_lines(content), qr_caption(content))
    assert layout.caption == () and layout.qr == qr_box(low, modules)
    assert label_layout(template_named("a4-3x7"), modules, label_lines(content), "").caption == ()
