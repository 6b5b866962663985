"""Templates: built-in stock facts, measured custom sheets, JSON, and gLabels import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dxkit.core.errors import ValidationError
from dxkit.labels import (
    BUILTIN_TEMPLATES,
    LabelError,
    Template,
    custom_template,
    load_glabels,
    template_named,
)
from dxkit.labels.glabels import parse_length
from dxkit.labels.templates import template_problems
from tests.labels.conftest import custom_sheet


def test_builtin_templates_have_the_stock_geometry() -> None:
    assert list(BUILTIN_TEMPLATES) == ["a4-3x7", "a4-3x8", "a4-2x7", "thermal-50x30",
                                       "thermal-40x30"]
    expected = {"a4-3x7": (63.5, 38.1, 3, 7), "a4-3x8": (70, 37, 3, 8),
                "a4-2x7": (105, 42.3, 2, 7), "thermal-50x30": (50, 30, 1, 1),
                "thermal-40x30": (40, 30, 1, 1)}
    for name, (width, height, columns, rows) in expected.items():
        template = BUILTIN_TEMPLATES[name]
        assert (template.label_width, template.label_height) == (width, height)
        assert (template.columns, template.rows) == (columns, rows)
        assert template_problems(template) == {}
    avery = BUILTIN_TEMPLATES["a4-3x7"]
    assert (avery.left_margin, avery.top_margin, avery.pitch_x, avery.pitch_y) == \
        (7.2, 15.15, 66.04, 38.1)
    assert avery.cell(1) == (7.2, 15.15)
    assert avery.cell(5) == pytest.approx((7.2 + 66.04, 15.15 + 38.1))
    assert BUILTIN_TEMPLATES["thermal-40x30"].dpi == 203
    assert BUILTIN_TEMPLATES["thermal-40x30"].page_width == 40


def test_template_named_lists_the_names_when_unknown() -> None:
    assert template_named(" A4-3x7 ").name == "a4-3x7"
    mine = custom_sheet()
    assert template_named("my-4x10", {mine.name: mine}) is mine
    with pytest.raises(LabelError, match="a4-3x7, a4-3x8"):
        template_named("a4-9x9")


def test_custom_sheet_measurements_are_checked() -> None:
    sheet = custom_sheet()
    assert sheet.per_page == 40 and sheet.pitch_x == 48.5
    with pytest.raises(ValidationError) as overlapping:
        custom_template("x", "", 210, 297, 70, 37, 0, 0, pitch_x=60, columns=3, rows=8)
    assert set(overlapping.value.fields) == {"pitch"}
    with pytest.raises(ValidationError) as too_big:
        custom_template("x", "", 210, 297, 70, 37, 5, 0, columns=3, rows=8)
    assert "215 × 296 mm" in too_big.value.fields["margins"]
    with pytest.raises(ValidationError) as nonsense:
        custom_template("", "", 210, 297, 0, 37, -1, 0, columns=0)
    assert {"name", "label", "grid"} <= set(nonsense.value.fields)
    with pytest.raises(ValidationError) as thermal:
        custom_template("roll", "", 50, 30, 50, 30, 0, 0, kind="thermal")
    assert "dpi" in thermal.value.fields["kind"]


def test_templates_round_trip_through_json() -> None:
    for template in [*BUILTIN_TEMPLATES.values(), custom_sheet()]:
        stored = json.loads(json.dumps(template.to_dict()))
        assert Template.from_dict(stored) == template
    with pytest.raises(LabelError):
        Template.from_dict({"name": "half"})
    with pytest.raises(ValidationError):
        Template.from_dict({**custom_sheet().to_dict(), "rows": 30})


def test_glabels_file_imports_its_rectangular_single_layout_sheet(glabels_path: Path) -> None:
    found = load_glabels(glabels_path)
    assert [t.name for t in found] == ["avery-5160"]
    avery = found[0]
    assert avery.title == "Avery 5160 Address Labels"
    assert (avery.page_width, avery.page_height) == (215.9, 279.4)
    assert avery.label_width == pytest.approx(66.675)
    assert avery.label_height == pytest.approx(25.4)
    assert avery.left_margin == pytest.approx(4.7625)
    assert avery.pitch_x == pytest.approx(69.85)
    assert (avery.columns, avery.rows) == (3, 10)
    assert avery.corner_radius == pytest.approx(1.5875)


def test_glabels_lengths_and_errors(tmp_path: Path) -> None:
    assert parse_length("72pt") == pytest.approx(25.4)
    assert parse_length("1in") == 25.4 and parse_length("2cm") == 20
    assert parse_length("36") == pytest.approx(12.7)  # bare numbers are points
    with pytest.raises(LabelError, match=r"63\.5mm"):
        parse_length("3 furlongs")
    broken = tmp_path / "broken.template"
    broken.write_text("<Glabels-templates><Template", encoding="utf-8")
    with pytest.raises(LabelError, match="gLabels"):
        load_glabels(broken)
    empty = tmp_path / "empty.template"
    empty.write_text("<Glabels-templates/>", encoding="utf-8")
    with pytest.raises(LabelError):
        load_glabels(empty)
    odd = tmp_path / "odd.template"
    odd.write_text('<Glabels-templates><Template brand="B" part="1" size="B7">'
                   '<Label-rectangle width="10mm" height="10mm"><Layout nx="1" ny="1"/>'
                   '</Label-rectangle></Template></Glabels-templates>', encoding="utf-8")
    with pytest.raises(LabelError, match="B7"):
        load_glabels(odd)
