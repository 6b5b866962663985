"""A lesson on the projector: slides by ## heading, images only from the pack, no HTML,
zoom, and reading aloud only where there is a voice."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSize, Qt, QUrl
from PySide6.QtGui import QImage, QTextDocument

import dxkit
from dxkit.core.i18n import _
from dxkit.lessons.packs import read_pack
from dxkit.ui.lessons.presentation import (
    MARKDOWN,
    PresentationWindow,
    SlideDocument,
    lesson_images,
    pack_path,
    split_slides,
    text_size,
)
from dxkit.ui.lessons.speech import ReadAloud, VoiceLookup, find_voice

COURSE = Path(dxkit.__file__).parent / "resources" / "courses" / "vn.dxkit.ky-nang-so-co-ban"
LESSON = "vneid-muc-2"  # its Markdown shows images/vneid-muc-2.png
IMAGE = "images/vneid-muc-2.png"


@pytest.fixture(scope="module")
def pack():
    return read_pack(COURSE)


def no_voice(language, parent):
    return VoiceLookup(None, "There is no voice here (test).")


class RecordingVoice(ReadAloud):
    """Stands in for the operating system's voice: remembers what it was asked to read."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.said: list[str] = []
        self.stopped = 0

    def say(self, text):
        self.said.append(text)
        self.speaking_changed.emit(True)

    def stop(self):
        self.stopped += 1
        self.speaking_changed.emit(False)


def open_window(qtbot, pack, lesson_id=LESSON, language="vi", voices=no_voice):
    window = PresentationWindow(pack, lesson_id, language, voices=voices)
    qtbot.addWidget(window)
    window.resize(1024, 600)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_the_markdown_is_cut_before_each_level_two_heading():
    text = ("# Bài 1\n\nMở đầu.\n\n## Một\n\nA\n\n### Nhỏ hơn\n\nB\n\n```\n## not a slide\n```\n"
            "\n## Hai ##\n\nC\n")
    slides = split_slides(text, "Bài 1. Điện thoại")
    assert [s.title for s in slides] == ["Bài 1. Điện thoại", "Một", "Hai"]
    assert slides[0].markdown.startswith("# Bài 1") and "## Một" not in slides[0].markdown
    assert "### Nhỏ hơn" in slides[1].markdown and "## not a slide" in slides[1].markdown
    assert slides[2].markdown == "## Hai ##\n\nC\n"
    assert split_slides("## Only\n\ntext", "T")[0].title == "Only"


def test_the_shipped_lesson_becomes_one_slide_per_heading(qtbot, pack):
    lesson = pack.lesson(LESSON)
    headings = [line[3:] for line in lesson.content.get("vi").split("\n")
                if line.startswith("## ")]
    window = open_window(qtbot, pack)
    assert [s.title for s in window.slides] == [lesson.title.get("vi"), *headings]
    assert window.counter.text() == f"1 / {len(headings) + 1}"
    assert window.document is not None
    assert window.document.toPlainText().startswith("Bài 2. VNeID")


def test_keys_move_through_every_slide_and_scroll_a_long_one(qtbot, pack):
    window = open_window(qtbot, pack)
    count = len(window.slides)
    seen = [0]
    scrolled = False
    for _press in range(200):
        bar = window.view.verticalScrollBar()
        before = (window.index, bar.value())
        qtbot.keyClick(window, Qt.Key.Key_PageDown)
        if window.index == before[0]:
            if bar.value() == before[1]:
                break  # the end of the last slide
            scrolled = True
        else:
            assert window.index == before[0] + 1
            assert window.view.verticalScrollBar().value() == 0
            seen.append(window.index)
    assert seen == list(range(count))
    assert scrolled  # at 1024×600 some slide of this lesson is taller than the screen
    assert not window.next_button.isEnabled()
    qtbot.keyClick(window, Qt.Key.Key_Home)
    assert window.index == 0 and window.counter.text() == f"1 / {count}"
    qtbot.keyClick(window, Qt.Key.Key_Left)
    assert window.index == 0
    qtbot.keyClick(window, Qt.Key.Key_End)
    assert window.index == count - 1
    window.view.verticalScrollBar().setValue(0)
    qtbot.keyClick(window, Qt.Key.Key_PageUp)
    assert window.index == count - 2
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert window.index == count - 1 or window.view.verticalScrollBar().value() > 0
    assert window.counter.text().endswith(f" / {count}")


def test_images_come_from_the_pack_and_nowhere_else(qtbot, pack, tmp_path):
    window = open_window(qtbot, pack)
    assert set(window.images) == {IMAGE}
    with_image = next(i for i, s in enumerate(window.slides) if "![" in s.markdown)
    window.show_slide(with_image)
    document = window.document
    image = document.resource(QTextDocument.ResourceType.ImageResource.value,
                              QUrl("../images/vneid-muc-2.png"))
    assert isinstance(image, QImage) and not image.isNull()
    expected = next(f for f in pack.files if f.path == IMAGE)
    assert (image.width(), image.height()) == (expected.width, expected.height)

    # A real image on the disk, named by its path, or a path leaving the pack: never loaded.
    on_disk = tmp_path / "photo.png"
    on_disk.write_bytes((COURSE / IMAGE).read_bytes())
    for name in (str(on_disk), on_disk.as_uri(), "../../../" + IMAGE, "../course.json",
                 "https://example.com/a.png"):
        assert document.loadResource(QTextDocument.ResourceType.ImageResource.value,
                                     QUrl(name)) is None
    assert pack_path("lessons", "../images/a.png") == "images/a.png"
    assert pack_path("lessons", "../../etc/passwd") is None
    assert pack_path("lessons", "/etc/passwd") is None


def test_an_image_changed_after_the_pack_was_read_is_not_shown(pack, tmp_path):
    copy = tmp_path / "course"
    shutil.copytree(COURSE, copy)
    copied = read_pack(copy)
    (copy / IMAGE).write_bytes((COURSE / "images" / "thanh-toan-qr.png").read_bytes())
    assert lesson_images(copied, copied.lesson(LESSON), "vi") == {}
    assert set(lesson_images(pack, pack.lesson(LESSON), "vi")) == {IMAGE}


def test_html_in_the_markdown_stays_text(qtbot, tmp_path):
    on_disk = tmp_path / "x.png"
    on_disk.write_bytes((COURSE / IMAGE).read_bytes())
    document = SlideDocument({}, "lessons")
    document.setMarkdown(f'Chữ <b>đậm</b> <img src="{on_disk}"> <script>alert(1)</script>',
                         MARKDOWN)
    text = document.toPlainText()
    assert "<b>đậm</b>" in text and "<script>alert(1)</script>" in text
    assert "\ufffc" not in text  # no image object
    block = document.begin()
    assert all(not item.fragment().charFormat().font().bold() for item in block)


def test_the_type_suits_the_screen_and_zooms(qtbot, pack):
    assert text_size(QSize(1024, 600)) == 30
    assert text_size(QSize(1920, 1080)) == 54
    window = open_window(qtbot, pack)
    base = window.body_pixels()
    assert window.document.defaultFont().pixelSize() == base == 30
    ctrl = Qt.KeyboardModifier.ControlModifier
    qtbot.keyClick(window, Qt.Key.Key_Equal, ctrl)
    qtbot.keyClick(window, Qt.Key.Key_Plus, ctrl)
    assert window.body_pixels() > base
    assert window.document.defaultFont().pixelSize() == window.body_pixels()
    for _press in range(20):
        qtbot.keyClick(window, Qt.Key.Key_Minus, ctrl)
    smallest = window.body_pixels()
    assert smallest < base and not window.zoom_out_button.isEnabled()
    qtbot.keyClick(window, Qt.Key.Key_0, ctrl)
    assert window.body_pixels() == base
    window.resize(1920, 1080)
    assert window.body_pixels() == 54
    assert window.document.defaultFont().pixelSize() == 54


def test_reading_aloud_is_hidden_without_a_voice(qtbot, pack):
    window = open_window(qtbot, pack)
    assert window.read_button.isHidden()
    assert not window.no_voice.isHidden()
    assert window.no_voice.toolTip() == "There is no voice here (test)."
    window.toggle_reading()  # nothing to do, nothing breaks


def test_reading_aloud_reads_the_current_slide(qtbot, pack):
    voices: list[RecordingVoice] = []

    def finder(language, parent):
        assert language == "en"
        voices.append(RecordingVoice(parent))
        return VoiceLookup(voices[-1])

    window = open_window(qtbot, pack, language="en", voices=finder)
    assert not window.read_button.isHidden() and window.no_voice.isHidden()
    window.show_slide(1)
    qtbot.mouseClick(window.read_button, Qt.MouseButton.LeftButton)
    voice = voices[0]
    assert voice.said[0].startswith(window.slides[1].title)
    assert window.read_button.text() == _("Stop reading")
    window.next_slide()  # a new slide stops the voice
    assert voice.stopped == 1 and window.read_button.text() == _("Read aloud")


def test_without_qt_text_to_speech_there_is_no_voice_and_a_reason(monkeypatch):
    monkeypatch.setitem(sys.modules, "PySide6.QtTextToSpeech", None)  # import fails
    lookup = find_voice("vi")
    assert lookup.voice is None and "PySide6-Addons" in lookup.reason


def test_escape_leaves(qtbot, pack):
    window = open_window(qtbot, pack)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.isVisible()


# Looking for a voice loads every engine plug-in: those this machine lacks libraries for complain.
@pytest.mark.qt_log_ignore(".*pipewire.*", ".*text-to-speech plug-in.*")
def test_qt_s_silent_test_engine_is_never_taken_for_a_voice(qapp):
    from PySide6.QtTextToSpeech import QTextToSpeech

    assert "mock" in QTextToSpeech.availableEngines()  # it answers for every language
    lookup = find_voice("en")
    if lookup.voice is not None:  # a real engine with an English voice on this machine
        assert lookup.voice.speech.engine() != "mock"  # type: ignore[attr-defined]
