"""Label samples: Vietnamese content, a measured custom sheet and a gLabels template file."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from dxkit.labels import LabelContent, Template, custom_template, load_glabels

PRODUCTS = ("Xoài cát Hòa Lộc", "Bưởi da xanh", "Quýt hồng Lai Vung")
COOPERATIVE = "Hợp tác xã Mỹ Đông"
AREA = "VN-ĐT-CL-0012"  # growing-area codes carry the province's letters, Đ included

# Avery 5160 (US Letter, inches), a round label (skipped) and a two-layout sheet (skipped).
GLABELS_XML = """<?xml version="1.0"?>
<Glabels-templates>
  <Template brand="Avery" part="5160" size="US-Letter" description="Address Labels">
    <Meta category="label"/>
    <Label-rectangle id="0" width="2.625in" height="1in" round="0.0625in" x_waste="0in">
      <Markup-margin size="0.0625in"/>
      <Layout nx="3" ny="10" x0="0.1875in" y0="0.5in" dx="2.75in" dy="1in"/>
    </Label-rectangle>
  </Template>
  <Template brand="Sample" part="R40" size="A4" description="Round stickers">
    <Label-round id="0" radius="20mm">
      <Layout nx="4" ny="6" x0="10mm" y0="10mm" dx="48mm" dy="46mm"/>
    </Label-round>
  </Template>
  <Template brand="Sample" part="MIX" size="Other" width="400pt" height="600pt">
    <Label-rectangle id="0" width="100pt" height="50pt">
      <Layout nx="2" ny="2" x0="10pt" y0="10pt" dx="120pt" dy="60pt"/>
      <Layout nx="1" ny="1" x0="10pt" y0="300pt" dx="0pt" dy="0pt"/>
    </Label-rectangle>
  </Template>
</Glabels-templates>
"""


def sample_content(index: int, *, nfd: bool = False, **changes: str) -> LabelContent:
    """A serialised label; with `nfd`, its text arrives decomposed (as from a Mac keyboard)."""
    values = dict(
        product=PRODUCTS[index % len(PRODUCTS)], cooperative=COOPERATIVE, growing_area=AREA,
        harvest_date="20/11/2026", pack_date="21/11/2026", lot_code=f"ĐT-2611-{index:03d}",
        certification="VietGAP",
        qr_payload=f"https://truyxuat.dongthap.gov.vn/01/08935000000017/10/DT2611/21/{index}",
        serial=f"{index:05d}")
    values.update(changes)
    if nfd:
        values = {k: unicodedata.normalize("NFD", v) for k, v in values.items()}
    return LabelContent(**values)


def custom_sheet() -> Template:
    """A sheet measured with a ruler: A4, 4 × 10 labels of 48.5 × 25.4 mm, touching."""
    return custom_template("my-4x10", "Measured 4×10", 210, 297, 48.5, 25.4, 8.0, 21.5,
                           columns=4, rows=10)


@pytest.fixture
def glabels_path(tmp_path: Path) -> Path:
    path = tmp_path / "sample.template"
    path.write_text(GLABELS_XML, encoding="utf-8")
    return path


def imported_sheet(tmp_path: Path) -> Template:
    path = tmp_path / "sample.template"
    path.write_text(GLABELS_XML, encoding="utf-8")
    return load_glabels(path)[0]
