"""Qt's own texts (buttons, menus, message-box details, the print preview, calendar names)
follow the app's language."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QLocale
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLineEdit, QMessageBox, QTextEdit

from dxkit.core import i18n
from dxkit.ui import qt_language

# Texts Qt asks for that read the same in Vietnamese: key names, paper sizes, numbers.
SAME_IN_VIETNAMESE = {"QShortcut", "QPageSize", "QProgressBar"}


@pytest.fixture
def language(qapp: QApplication) -> Iterator[None]:
    before = i18n.language()
    yield
    i18n.set_language(before)
    qt_language.follow_language()


def _use(language: str) -> None:
    i18n.set_language(language)
    qt_language.follow_language()


def test_standard_buttons_and_menus_are_vietnamese(language: None):
    _use("vi")
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                           | QDialogButtonBox.StandardButton.Cancel)
    assert sorted(b.text() for b in box.buttons()) == ["Hủy", "Đồng ý"]
    field = QLineEdit("chữ")
    menu = field.createStandardContextMenu()
    assert any(a.text().startswith("&Dán") for a in menu.actions())
    assert QLocale().monthName(11) == "tháng 11"
    assert QLocale().toString(1234.5) == "1.234,5"


def test_english_keeps_qts_english(language: None):
    _use("en")
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
    assert [b.text() for b in box.buttons()] == ["Cancel"]
    assert QLocale().monthName(11) == "November"


class _Recorder(qt_language.CatalogTranslator):
    def __init__(self) -> None:
        super().__init__()
        self.asked: set[tuple[str, str]] = set()

    def translate(self, context: str, source: str, disambiguation: str | None = None,
                  n: int = -1) -> str:
        self.asked.add((context, source))
        return super().translate(context, source, disambiguation, n)


def test_every_text_of_qts_dialogs_we_use_has_a_vietnamese_translation(language: None,
                                                                        qapp: QApplication):
    _use("vi")
    recorder = _Recorder()
    qapp.installTranslator(recorder)
    try:
        preview = QPrintPreviewDialog(QPrinter())
        box = QMessageBox(QMessageBox.Icon.Question, "?", "?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
                          | QMessageBox.StandardButton.Cancel)
        box.setDetailedText("…")
        box.show()
        QTextEdit("chữ").createStandardContextMenu()
        QLineEdit("chữ").createStandardContextMenu()
        QApplication.processEvents()
        box.close()
        preview.close()
    finally:
        qapp.removeTranslator(recorder)
    asked = {(c, s) for c, s in recorder.asked if c not in SAME_IN_VIETNAMESE and s != "%1%"}
    assert asked, "Qt asked for no text: the recorder is not installed"
    missing = sorted((c, s) for c, s in asked if i18n.pgettext(c, s) == s)
    assert not missing
