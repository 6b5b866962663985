"""The standalone trace page and the trace JSON."""

from __future__ import annotations

import dataclasses
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dxkit.core import i18n
from dxkit.farm.trace_html import (
    TRACE_JSON_VERSION,
    not_found_page,
    step_kind_label,
    trace_json,
    trace_page,
    write_trace_page,
)
from dxkit.farm.trace_record import TraceRecord
from tests.farm.trace_samples import failed_lot, hostile_lot, mango_lot, rice_lot

STEP_KINDS = ("land_preparation", "seed", "sowing", "fertiliser", "pesticide", "irrigation",
              "observation", "harvest", "packing")
PAGE_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "header", "section",
             "footer", "h1", "h2", "p", "span", "strong", "dl", "dt", "dd", "ul", "ol", "li",
             "time", "a"}


class Page(HTMLParser):
    """What a browser would see: the tags with their attributes, and the body text."""

    def __init__(self, markup: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.headings: list[str] = []
        self._in: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta",):
            self._in.append(tag)

    def handle_endtag(self, tag):
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data):
        if "style" in self._in or "title" in self._in:
            return
        self.text.append(data)
        if self._in and self._in[-1] == "h2":
            self.headings.append(data)

    @property
    def body_text(self) -> str:
        return " ".join(self.text)

    def attrs(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def page(record: TraceRecord, lang: str = "vi") -> Page:
    return Page(trace_page(record, lang=lang))


def test_a_standalone_mobile_page():
    markup = trace_page(rice_lot())
    assert markup.startswith("<!DOCTYPE html>")
    parsed = Page(markup)
    assert parsed.attrs("html") == [{"lang": "vi"}]
    metas = parsed.attrs("meta")
    assert {"charset": "utf-8"} in metas
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in metas
    assert {tag for tag, _attrs in parsed.tags} <= PAGE_TAGS  # no script, img, link, iframe
    assert "url(" not in markup and "@import" not in markup  # nothing fetched by the CSS
    assert "overflow-wrap:anywhere" in markup
    assert "max-width" in markup


def test_vietnamese_page_shows_what_a_buyer_expects():
    parsed = page(rice_lot())
    text = parsed.body_text
    for expected in ("Gạo ST25", "MD-261120-007-0", "HTX Nông nghiệp Mỹ Đông",
                     "Ấp Mỹ Hưng, Xã Mỹ Đông, Tỉnh Đồng Tháp", "VN-DTOR-0123", "VN-DTOR-0124",
                     "Ruộng Bờ Đông", "2,5 ha", "10/11/2026", "12/11/2026", "20/11/2026",
                     "VietGAP", "Hè Thu 2026", "28.000 kg", "08938500000010",
                     "Tilt Super 300EC", "Difenoconazole 150 g/l, Propiconazole 150 g/l",
                     "0,3 l/ha", "Phun thuốc bảo vệ thực vật", "Bón phân", "Thu hoạch",
                     "Đạt yêu cầu", "Mã số vùng trồng", "Nhật ký canh tác"):
        assert expected in text, expected
    assert parsed.headings == ["Sản phẩm", "Hợp tác xã", "Vùng trồng", "Ngày tháng",
                               "Chứng nhận", "Tuân thủ quy định", "Nhật ký canh tác"]
    assert "Lý do:" not in text


def test_english_page():
    parsed = page(rice_lot(), "en")
    text = parsed.body_text
    assert parsed.attrs("html") == [{"lang": "en"}]
    for expected in ("Gạo ST25", "Nov 10, 2026", "Nov 20, 2026", "28,000 kg", "2.5 ha",
                     "Pesticide spraying", "Growing area code", "Compliant", "Farm diary"):
        assert expected in text, expected
    assert "Phun thuốc bảo vệ thực vật" not in text
    assert parsed.headings == ["Product", "Cooperative", "Growing areas", "Dates",
                               "Certification", "Compliance", "Farm diary"]


def test_steps_are_listed_oldest_first_with_their_dates():
    markup = trace_page(rice_lot())
    days = [attrs["datetime"] for attrs in Page(markup).attrs("time")]
    step_days = days[-len(rice_lot().steps):]
    assert step_days == [step.on.isoformat() for step in rice_lot().steps]


def test_a_non_compliant_lot_shows_its_reasons():
    text = page(failed_lot()).body_text
    assert "Không đạt yêu cầu" in text
    assert "Lý do:" in text
    assert failed_lot().reasons[0] in text
    assert "Chứng nhận Không có" in " ".join(text.split())
    english = page(failed_lot(), "en").body_text
    assert "Not compliant" in english and "Reasons:" in english


def test_every_value_is_escaped():
    markup = trace_page(hostile_lot())
    parsed = Page(markup)
    assert {tag for tag, _attrs in parsed.tags} <= PAGE_TAGS
    assert "<script" not in markup and "<img" not in markup and "<b>" not in markup
    assert '<script>alert("x")</script><img src=x onerror=alert(1)>' in parsed.body_text
    assert 'HTX "Mỹ" & <b>Đông</b>' in parsed.body_text
    links = parsed.attrs("a")
    assert links == [{"href": 'https://example.vn/t/X"><script>alert(3)</script>'}]


def test_a_trace_url_that_is_not_a_web_address_is_not_a_link():
    record = dataclasses.replace(rice_lot(), trace_url="javascript:alert(1)")
    parsed = page(record)
    assert parsed.attrs("a") == []
    assert "javascript:alert(1)" in parsed.body_text


def test_rendering_leaves_the_app_language_alone():
    i18n.set_language("en")
    trace_page(rice_lot(), lang="vi")
    assert i18n.language() == "en"
    i18n.set_language("vi")
    trace_page(rice_lot(), lang="en")
    assert i18n.language() == "vi"
    with pytest.raises(ValueError):
        trace_page(rice_lot(), lang="fr")  # type: ignore[arg-type]
    assert i18n.language() == "vi"


def test_every_step_kind_is_translated():
    i18n.set_language("vi")
    vietnamese = [step_kind_label(kind) for kind in STEP_KINDS]
    i18n.set_language("en")
    english = [step_kind_label(kind) for kind in STEP_KINDS]
    assert all(vi != en for vi, en in zip(vietnamese, english, strict=True))
    assert len(set(vietnamese)) == len(vietnamese)
    assert step_kind_label("grafting") == "grafting"  # a kind added later still shows


def test_a_lot_with_no_plot_and_no_step():
    bare = dataclasses.replace(mango_lot(), plots=(), steps=(), certification="", gtin=None)
    text = page(bare).body_text
    assert "Chưa ghi thửa đất nào." in text
    assert "Chưa ghi bước nhật ký nào." in text


def test_language_switch_link_only_when_asked():
    assert Page(trace_page(rice_lot())).attrs("a")[:-1] == []
    switched = Page(trace_page(rice_lot(), lang="vi", alternate_url="?lang=en"))
    assert switched.attrs("a")[0] == {"href": "?lang=en", "hreflang": "en", "lang": "en"}


def test_write_trace_page(tmp_path: Path):
    path = write_trace_page(mango_lot(), tmp_path / "trace.html", "en")
    text = path.read_text(encoding="utf-8")
    assert 'lang="en"' in text and "Xoài cát Hòa Lộc" in text


def test_trace_json_is_the_record_plus_a_version():
    data = trace_json(rice_lot())
    assert data["version"] == TRACE_JSON_VERSION
    restored = json.loads(json.dumps(data, ensure_ascii=False))
    del restored["version"]
    assert TraceRecord.from_dict(restored) == rice_lot()
    assert restored["steps"][4]["active_ingredients"] == ["Difenoconazole 150 g/l",
                                                         "Propiconazole 150 g/l"]


def test_not_found_page_speaks_both_languages():
    parsed = Page(not_found_page("MD-261120-999-X"))
    text = parsed.body_text
    assert "Chưa có thông tin truy xuất nguồn gốc" in text
    assert "No trace record is published for lot MD-261120-999-X." in text
    assert {tag for tag, _attrs in parsed.tags} <= PAGE_TAGS
    assert i18n.language() == "vi"
