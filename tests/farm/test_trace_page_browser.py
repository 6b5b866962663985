"""The trace page in a real headless Chromium at a phone's viewport (360×740 CSS px, device
scale factor 2, mobile emulation so the viewport meta applies): the lot's data is rendered,
nothing scrolls sideways, and no script error or logged error occurs.

Two control pages prove the measurements can fail: one too wide for a phone, one with a
script error."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from dxkit.farm.trace_html import not_found_page, write_trace_page
from dxkit.farm.trace_record import TraceRecord
from tests.farm.headless import Chromium
from tests.farm.trace_samples import failed_lot, hostile_lot, rice_lot
from tests.support.tools import require_tool

PHONE_WIDTH = 360
MEASURE = """JSON.stringify({
  scrollWidth: document.documentElement.scrollWidth,
  bodyScrollWidth: document.body.scrollWidth,
  innerWidth: window.innerWidth,
  devicePixelRatio: window.devicePixelRatio,
  widest: Math.max(...[...document.querySelectorAll('body *')]
                   .map(el => el.getBoundingClientRect().right)),
  text: document.body.innerText,
  lang: document.documentElement.lang
})"""


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Chromium]:
    executable = shutil.which("chromium")
    require_tool(executable is not None, "Chromium")
    assert executable is not None
    chromium = Chromium(executable, tmp_path / "profile")
    try:
        yield chromium
    finally:
        chromium.close()


def measure(browser: Chromium, page: Path) -> tuple[dict, list[str]]:
    import json

    session = browser.open_phone_page(page.as_uri())
    return json.loads(browser.evaluate(session, MEASURE)), browser.problems(session)


def assert_fits_a_phone(found: dict) -> None:
    assert found["innerWidth"] == PHONE_WIDTH
    assert found["devicePixelRatio"] == 2
    assert found["scrollWidth"] <= found["innerWidth"], found
    assert found["bodyScrollWidth"] <= found["innerWidth"], found
    assert found["widest"] <= found["innerWidth"], found


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(("record", "lang", "expected"), [
    (rice_lot(), "vi", ["Gạo ST25", "MD-261120-007-0", "HTX Nông nghiệp Mỹ Đông", "VN-DTOR-0123",
                        "10/11/2026", "VietGAP", "Phun thuốc bảo vệ thực vật", "Đạt yêu cầu"]),
    (rice_lot(), "en", ["Gạo ST25", "MD-261120-007-0", "HTX Nông nghiệp Mỹ Đông",
                        "Nov 10, 2026", "Pesticide spraying", "Compliant"]),
    (failed_lot(), "vi", ["Xoài cát Hòa Lộc", "HA-261119-003-0", "HTX Xoài Hòa An",
                          "Không đạt yêu cầu", "chưa đủ thời gian cách ly 14 ngày"]),
], ids=["rice-vi", "rice-en", "failed-vi"])
def test_the_trace_page_on_a_phone(browser: Chromium, tmp_path: Path, record: TraceRecord,
                                   lang: str, expected: list[str]):
    page = write_trace_page(record, tmp_path / "trace.html", lang)  # type: ignore[arg-type]
    found, problems = measure(browser, page)
    assert problems == []
    assert found["lang"] == lang
    assert_fits_a_phone(found)
    for text in expected:
        assert text in one_line(found["text"]), text


def test_hostile_values_stay_text_and_run_nothing(browser: Chromium, tmp_path: Path):
    page = write_trace_page(hostile_lot(), tmp_path / "trace.html")
    found, problems = measure(browser, page)
    assert problems == []  # an alert() would have needed a script to run
    assert '<script>alert("x")</script>' in found["text"]
    assert_fits_a_phone(found)


def test_a_long_unbroken_code_still_wraps(browser: Chromium, tmp_path: Path):
    import dataclasses

    record = dataclasses.replace(rice_lot(), product="Gạo" + "X" * 120,
                                 cooperative_address="https://" + "a" * 150 + ".vn")
    page = write_trace_page(record, tmp_path / "trace.html")
    found, problems = measure(browser, page)
    assert problems == []
    assert_fits_a_phone(found)


def test_the_not_found_page_on_a_phone(browser: Chromium, tmp_path: Path):
    page = tmp_path / "missing.html"
    page.write_text(not_found_page("MD-261120-999-X"), encoding="utf-8")
    found, problems = measure(browser, page)
    assert problems == []
    assert_fits_a_phone(found)
    assert "No trace record is published" in found["text"]


# -- the harness can fail ----------------------------------------------------------------------
def test_control_a_page_too_wide_is_caught(browser: Chromium, tmp_path: Path):
    page = tmp_path / "wide.html"
    page.write_text('<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">'
                    '<meta name="viewport" content="width=device-width, initial-scale=1">'
                    '</head><body><table><tr><td style="white-space:nowrap">'
                    + "VN-DTOR-0123-" * 12 + "</td></tr></table></body></html>",
                    encoding="utf-8")
    found, problems = measure(browser, page)
    assert problems == []
    with pytest.raises(AssertionError):
        assert_fits_a_phone(found)


def test_control_a_script_error_is_caught(browser: Chromium, tmp_path: Path):
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
                    "<p>Lô hàng</p><script>console.error('hỏng'); undefinedFunction();"
                    "</script></body></html>", encoding="utf-8")
    _found, problems = measure(browser, page)
    assert any(problem.startswith("exception:") for problem in problems), problems
    assert any(problem.startswith("console.error") for problem in problems), problems
