"""The label round trip: render a full sheet, rasterise it, decode every QR with zxing-cpp,
and compare payloads, positions and module sizes; extract the text and compare it with NFC."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from dxkit.labels import (
    BUILTIN_TEMPLATES,
    Template,
    VerifyReport,
    label_lines,
    page_texts,
    render_labels,
    verify_pdf,
)
from dxkit.labels.content import qr_caption
from dxkit.labels.layout import MIN_DOTS, MIN_MODULE_MM, label_layout
from dxkit.labels.qr import encode
from tests.labels.conftest import custom_sheet, imported_sheet, sample_content

TEMPLATE_IDS = [*BUILTIN_TEMPLATES, "custom", "glabels"]


def template_for(name: str, tmp_path: Path) -> Template:
    if name == "custom":
        return custom_sheet()
    if name == "glabels":
        return imported_sheet(tmp_path)
    return BUILTIN_TEMPLATES[name]


def resolutions(template: Template) -> tuple[int, ...]:
    """300 dpi for everything; thermal labels also at their printer's own resolution."""
    return (300, template.dpi) if template.kind == "thermal" and template.dpi else (300,)


def full_run(template: Template) -> int:
    """A whole sheet, or three labels on a roll (three pages)."""
    return template.per_page if template.kind == "sheet" else 3


def inside(x: float, y: float, template: Template, position: int) -> bool:
    left, top = template.cell(position)
    return left <= x <= left + template.label_width and top <= y <= top + template.label_height


@pytest.mark.parametrize("name", TEMPLATE_IDS)
def test_every_code_decodes_in_its_cell_at_a_scannable_size(name: str, tmp_path: Path) -> None:
    template = template_for(name, tmp_path)
    contents = [sample_content(i) for i in range(full_run(template))]
    pdf = render_labels(template, contents)
    for dpi in resolutions(template):
        check_codes(template, contents, verify_pdf(pdf, dpi), dpi)


def check_codes(template: Template, contents: list, report: VerifyReport, dpi: int) -> None:
    assert report.count == len(contents)
    assert [c.payload for c in report.codes] == [c.qr_payload for c in contents]
    pixel = 25.4 / dpi
    for index, (code, content) in enumerate(zip(report.codes, contents, strict=True)):
        position = 1 if template.kind == "thermal" else index + 1
        assert code.page == (index + 1 if template.kind == "thermal" else 1)
        box = label_layout(template, encode(content.qr_payload).size, label_lines(content),
                           qr_caption(content)).qr
        left, top = template.cell(position)
        # The decoded symbol sits where the layout put it, to within a pixel or so ...
        assert code.x_mm == pytest.approx(left + box.x + box.side / 2, abs=2 * pixel)
        assert code.y_mm == pytest.approx(top + box.y + box.side / 2, abs=2 * pixel)
        # ... and the whole symbol lies inside its own label.
        half = code.size_mm / 2
        for dx in (-half, half):
            for dy in (-half, half):
                assert inside(code.x_mm + dx, code.y_mm + dy, template, position)
        assert code.module_mm == pytest.approx(box.module, abs=pixel / 10)
        assert code.ec_level in ("M", "Q", "H")
        if template.kind == "thermal":
            dots = box.module * template.dpi / 25.4
            assert dots == pytest.approx(round(dots)) and round(dots) >= MIN_DOTS
        else:
            assert box.module >= MIN_MODULE_MM


@pytest.mark.parametrize("name", ["a4-3x7", "thermal-40x30"])
def test_extracted_text_is_the_nfc_source(name: str) -> None:
    """Decomposed input comes out precomposed, with every diacritic in place."""
    template = BUILTIN_TEMPLATES[name]
    contents = [sample_content(i, nfd=True) for i in range(3)]
    texts = page_texts(render_labels(template, contents))
    extracted = " ".join(texts)
    assert extracted == unicodedata.normalize("NFC", extracted)
    words = " ".join(re.split(r"\s+", extracted))
    for content in contents:
        lines = label_lines(content)
        for line in lines:
            assert line.text == unicodedata.normalize("NFC", line.text)
        # On the small roll the least important lines may be left out, never another.
        missing = [line for line in lines if line.text not in words]
        shown = [line for line in lines if line.text in words]
        assert not missing or name == "thermal-40x30", missing
        assert all(m.priority > s.priority for m in missing for s in shown), missing
    for expected in ("Xoài cát Hòa Lộc", "Hợp tác xã Mỹ Đông", "Bưởi da xanh",
                     "Quýt hồng Lai Vung", "Mã vùng trồng: VN-ĐT-CL-0012", "Lô: ĐT-2611-001",
                     "Ngày thu hoạch: 20/11/2026", "Ngày đóng gói: 21/11/2026"):
        assert expected in words


def test_start_position_fills_a_partly_used_sheet_then_continues() -> None:
    template = BUILTIN_TEMPLATES["a4-3x7"]
    contents = [sample_content(i) for i in range(4)]
    report = verify_pdf(render_labels(template, contents, start_position=20))
    assert [(c.page, c.payload) for c in report.codes] == [
        (1, contents[0].qr_payload), (1, contents[1].qr_payload),
        (2, contents[2].qr_payload), (2, contents[3].qr_payload)]
    for code, position in zip(report.codes, (20, 21, 1, 2), strict=True):
        assert inside(code.x_mm, code.y_mm, template, position)


def test_copies_repeat_each_label_in_a_row() -> None:
    template = BUILTIN_TEMPLATES["a4-2x7"]
    contents = [sample_content(1), sample_content(2)]
    report = verify_pdf(render_labels(template, contents, copies=3, start_position=5))
    assert [c.payload for c in report.codes] == [contents[0].qr_payload] * 3 + \
        [contents[1].qr_payload] * 3
    assert [c.page for c in report.codes] == [1, 1, 1, 1, 1, 1]
    for code, position in zip(report.codes, range(5, 11), strict=True):
        assert inside(code.x_mm, code.y_mm, template, position)
