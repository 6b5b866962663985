"""Rendering plumbing: arguments, progress and cancelling, previews, unreadable files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from reportlab.pdfgen.canvas import Canvas

from dxkit.core.errors import Cancelled
from dxkit.core.progress import Progress
from dxkit.core.resources import shipped
from dxkit.labels import (
    LabelError,
    page_texts,
    preview_pages,
    render_labels,
    template_named,
    verify_pdf,
)
from dxkit.labels.verify import DecodedCode, _reading_order
from tests.labels.conftest import sample_content


def test_fonts_and_licence_ship_with_the_code() -> None:
    assert shipped("fonts", "DejaVuSansCondensed.ttf").is_file()
    assert shipped("fonts", "DejaVuSansCondensed-Bold.ttf").is_file()
    assert "Bitstream" in shipped("fonts", "LICENSE-DejaVu.txt").read_text(encoding="utf-8")


def test_arguments_are_checked_with_sentences() -> None:
    sheet = template_named("a4-3x7")
    with pytest.raises(LabelError, match="1 đến 21"):
        render_labels(sheet, [sample_content(1)], start_position=22)
    with pytest.raises(LabelError):
        render_labels(template_named("thermal-50x30"), [sample_content(1)], start_position=2)
    with pytest.raises(LabelError):
        render_labels(sheet, [sample_content(1)], copies=0)
    with pytest.raises(LabelError, match="L"):
        render_labels(sheet, [sample_content(1)], ec_level="L")
    with pytest.raises(LabelError):
        render_labels(sheet, [])


def test_progress_reaches_the_total_and_cancel_stops_the_run() -> None:
    seen: list[tuple[int, int]] = []
    progress = Progress(on_change=lambda value, maximum, _label: seen.append((value, maximum)))
    render_labels(template_named("a4-3x8"), [sample_content(i) for i in range(30)],
                  progress=progress)
    assert seen[0] == (0, 30) and seen[-1] == (30, 30)

    stopping = Progress(on_change=lambda value, _m, _l: stopping.cancel() if value else None)
    with pytest.raises(Cancelled):
        render_labels(template_named("a4-3x8"), [sample_content(i) for i in range(60)],
                      progress=stopping)


def test_pages_and_previews() -> None:
    pdf = render_labels(template_named("thermal-50x30"), [sample_content(1), sample_content(2)],
                        copies=2)
    assert pdf.startswith(b"%PDF")
    images = preview_pages(pdf, dpi=203)
    assert len(images) == 4
    assert images[0].size == (round(50 / 25.4 * 203), round(30 / 25.4 * 203))
    assert images[0].mode == "RGB"
    assert len(preview_pages(pdf, 72, pages=range(1, 2))) == 1
    assert len(page_texts(pdf)) == 4


def test_unreadable_files_give_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(LabelError, match="Không có tệp"):
        verify_pdf(tmp_path / "missing.pdf")
    text = tmp_path / "notes.pdf"
    text.write_text("not a pdf", encoding="utf-8")
    with pytest.raises(LabelError, match="không phải tệp PDF"):
        verify_pdf(text)
    with pytest.raises(LabelError):
        verify_pdf(b"%PDF-1.4 broken")


def test_a_pdf_without_codes_reports_none() -> None:
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(100, 700, "no codes here")
    canvas.save()
    report = verify_pdf(buffer.getvalue(), dpi=100)
    assert report.count == 0 and report.pages == 1 and report.codes == ()


def test_codes_are_reported_in_reading_order_even_when_rows_wobble() -> None:
    def code(x: float, y: float) -> DecodedCode:
        return DecodedCode(f"{x},{y}", 1, x, y, 20, 0.5, 4, "M")

    found = [code(150, 34.6), code(20, 72.3), code(85, 34.4), code(20, 34.5)]
    assert [c.payload for c in _reading_order(found)] == [
        "20,34.5", "85,34.4", "150,34.6", "20,72.3"]


def test_an_offset_moves_everything_drawn() -> None:
    """A printer that prints 2 mm too far left and 1.5 mm too low is made up for by moving
    the drawing 2 mm right and 1.5 mm up: codes and text move by exactly that."""
    for name in ("a4-3x7", "thermal-50x30"):
        template = template_named(name)
        contents = [sample_content(1)]
        plain = verify_pdf(render_labels(template, contents), 600).codes[0]
        moved_pdf = render_labels(template, contents, offset=(2.0, -1.5))
        moved = verify_pdf(moved_pdf, 600).codes[0]
        if template.kind == "thermal":  # whole printer dots: 16 and -12 dots at 203 dpi
            dx, dy = 16 * 25.4 / 203, -12 * 25.4 / 203
        else:
            dx, dy = 2.0, -1.5
        assert moved.x_mm - plain.x_mm == pytest.approx(dx, abs=0.1)
        assert moved.y_mm - plain.y_mm == pytest.approx(dy, abs=0.1)
        before, after = _first_glyph(render_labels(template, contents)), _first_glyph(moved_pdf)
        assert after[0] - before[0] == pytest.approx(dx, abs=0.01)
        assert after[1] - before[1] == pytest.approx(dy, abs=0.01)
    with pytest.raises(LabelError, match="10"):
        render_labels(template_named("a4-3x7"), [sample_content(1)], offset=(11.0, 0.0))


def _first_glyph(pdf: bytes) -> tuple[float, float]:
    """Left and top (mm from the page's top-left) of the first glyph PDFium finds."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        page = document[0]
        left, _bottom, _right, top = page.get_textpage().get_charbox(0)
        return left * 25.4 / 72, (page.get_height() - top) * 25.4 / 72
    finally:
        document.close()
