"""Shared widgets. (How screens run work is tested with the op builders, in
test_operations.py.)"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from dxkit.ui.widgets import error_label


def test_error_label_is_red_wrapping_and_hidden(qapp):
    label = error_label()
    assert isinstance(label, QLabel) and label.isHidden() and label.wordWrap()
    assert "color" in label.styleSheet()
