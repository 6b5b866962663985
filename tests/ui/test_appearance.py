"""One text size for the whole app, and hint colours people can read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from dxkit.ui import appearance
from dxkit.ui.settings_page import SettingsPage

UI_SOURCES = Path(appearance.__file__).parent


@pytest.fixture
def text_size_reset(ws):
    yield
    ws.settings.set(appearance.SETTING, "100")
    appearance.apply(ws)


def test_choosing_a_text_size_scales_the_whole_app_and_is_kept(window, ws, qtbot,
                                                                text_size_reset):
    base = QApplication.font().pointSizeF()
    settings: SettingsPage = window.pages["settings"]
    settings.text_size_combo.setCurrentIndex(settings.text_size_combo.findData(130))
    assert QApplication.font().pointSizeF() == pytest.approx(base * 1.3)
    assert ws.settings.get(appearance.SETTING) == "130"
    # Pages are built again with the new size; their headings are relative to it.
    households = window.pages["households"]
    assert households.font().pointSizeF() == pytest.approx(base * 1.3)
    heading = households.empty_heading.font().pointSizeF()
    assert heading == pytest.approx(base * 1.3 * 1.8)
    settings = window.pages["settings"]
    assert settings.text_size_combo.currentData() == 130


def test_the_text_size_is_applied_at_start(ws, qtbot, text_size_reset):
    appearance.apply(ws)
    base = QApplication.font().pointSizeF()
    ws.settings.set(appearance.SETTING, "150")
    appearance.apply(ws)
    assert QApplication.font().pointSizeF() == pytest.approx(base * 1.5)


def test_placeholders_are_readable(ws, qtbot):
    appearance.apply(ws)
    colour = QApplication.palette().color(QPalette.ColorRole.PlaceholderText)
    assert appearance.contrast(colour.name()) >= 4.5


def test_every_text_colour_of_the_screens_has_enough_contrast():
    """Every `color:` a screen sets reads at 4.5:1 or more on its style's own background, or
    on white."""
    colour = r"(#[0-9a-fA-F]{3,8}|[a-z]+)\b"
    found = []
    for source in UI_SOURCES.glob("*.py"):
        for style in re.findall(r'"([^"\n]*color:[^"\n]*)"', source.read_text(encoding="utf-8")):
            text = re.search(rf"(?<![-\w])color:\s*{colour}", style)
            background = re.search(rf"background(?:-color)?:\s*{colour}", style)
            if text:
                found.append((source.name, text.group(1),
                              background.group(1) if background else "#ffffff"))
    assert len(found) > 5
    weak = [item for item in found if appearance.contrast(item[1], item[2]) < 4.5]
    assert not weak


def test_no_screen_fixes_a_point_size_that_the_setting_would_not_change():
    fixed = [source.name for source in UI_SOURCES.glob("*.py")
             if re.search(r"font-size:\s*\d+(\.\d+)?pt|setPointSize\(\d", source.read_text(
                 encoding="utf-8"))]
    assert not fixed
