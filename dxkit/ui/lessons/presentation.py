"""A lesson on the projector: its Markdown in very large type, one "slide" per ## heading.

The content is rendered by Qt's Markdown reader with HTML switched off (a tag shows as the text
it is, never as markup), and a slide's document loads images only from the course pack, never
from the file system or the network. Keys: → PageDown Space next slide, ← PageUp previous,
Home End first and last, ↑ ↓ scroll a long slide, Ctrl+= Ctrl+- Ctrl+0 zoom, Esc leaves.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from PySide6.QtCore import QObject, QSize, Qt, QUrl
from PySide6.QtGui import (
    QCloseEvent,
    QFont,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QResizeEvent,
    QScreen,
    QTextBlockFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.errors import DxError
from dxkit.core.i18n import _
from dxkit.lessons import pack_markdown
from dxkit.lessons.packs import CoursePack, Lesson
from dxkit.ui.lessons.speech import ReadAloud, VoiceFinder, find_voice

MARKDOWN = (QTextDocument.MarkdownFeature.MarkdownDialectGitHub
            | QTextDocument.MarkdownFeature.MarkdownNoHTML)
ZOOM_STEP = 1.15
ZOOM_RANGE = (-6, 8)  # steps out and in from the size that suits the screen
IMAGE_SHARE_OF_HEIGHT = 0.8  # an image never takes more of the slide's height than this
OBJECT_REPLACEMENT = "\ufffc"  # where an image sits in a document's plain text

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SLIDE_HEADING = re.compile(r"^ {0,3}##(?:[ \t]+(.*?))?$")
_CLOSING_HASHES = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")


@dataclass(frozen=True)
class Slide:
    """One screenful of a lesson: its heading (the lesson's title for the first) and Markdown."""

    title: str
    markdown: str


def split_slides(markdown: str, title: str) -> list[Slide]:
    """The lesson's Markdown cut before each level-2 heading (not inside a fenced code block);
    what comes before the first one is the first slide, under the lesson's title."""
    slides: list[Slide] = []
    lines: list[str] = []
    heading = title
    fence = ""
    for line in markdown.split("\n"):
        opened = _FENCE.match(line)
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = ""
        elif opened:
            fence = opened.group(1)
        else:
            found = _SLIDE_HEADING.match(line)
            if found:
                if "\n".join(lines).strip():
                    slides.append(Slide(heading, "\n".join(lines).strip() + "\n"))
                heading = _CLOSING_HASHES.sub("", found.group(1) or "").strip()
                lines = []
        lines.append(line)
    if "\n".join(lines).strip():
        slides.append(Slide(heading, "\n".join(lines).strip() + "\n"))
    return slides or [Slide(title, "")]


def lesson_images(pack: CoursePack, lesson: Lesson, language: str) -> dict[str, QImage]:
    """The images the lesson's Markdown shows, by their path inside the pack, read from the
    pack (checked against its digest). An image the pack no longer gives is left out."""
    wanted = {file.path for file in pack.files if file.kind == "image"}
    found: dict[str, QImage] = {}
    references, _findings = pack_markdown.scan(lesson.content.get(language))
    folder = posixpath.dirname(lesson.content_files.get(language))
    for reference in references:
        path = pack_path(folder, reference.target)
        if reference.kind != "image" or path not in wanted or path in found:
            continue
        try:
            image = QImage.fromData(pack.read_file(path))
        except (DxError, KeyError):
            continue
        if not image.isNull():
            found[path] = image
    return found


def pack_path(folder: str, target: str) -> str | None:
    """Where a relative image reference of a Markdown file in `folder` points inside the
    pack; None for anything else (a URL, an absolute path, a path that leaves the pack)."""
    if pack_markdown.scheme(target) is not None or target.startswith(("/", "\\")):
        return None
    path = posixpath.normpath(posixpath.join(folder, target))
    if path.startswith("../") or path in {".", ".."}:
        return None
    return path


class SlideDocument(QTextDocument):
    """A slide's text. Images come from `images` (pack path to image) and nowhere else."""

    def __init__(self, images: Mapping[str, QImage], folder: str,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.images = images
        self.folder = folder

    def image_for(self, name: str) -> QImage | None:
        path = pack_path(self.folder, unquote(name))
        return self.images.get(path) if path is not None else None

    def loadResource(self, type: int, name: QUrl | str) -> Any:
        if type == QTextDocument.ResourceType.ImageResource.value:
            image = self.image_for(name.toString() if isinstance(name, QUrl) else name)
            if image is not None:
                return image
        return None  # never the file system, never the network

    def space_blocks(self, pixels: int) -> None:
        """Room after each paragraph, list item and heading, and lines a little apart."""
        cursor = QTextCursor(self)
        cursor.select(QTextCursor.SelectionType.Document)
        spacing = QTextBlockFormat()
        spacing.setBottomMargin(pixels)
        spacing.setLineHeight(112, QTextBlockFormat.LineHeightTypes.ProportionalHeight.value)
        cursor.mergeBlockFormat(spacing)

    def fit_images(self, width: float, height: float, zoom: float) -> None:
        """Each image at its own size times `zoom`, shrunk to fit width × height."""
        block = self.begin()
        while block.isValid():
            for item in block:
                fragment = item.fragment()
                char_format = fragment.charFormat()
                if not char_format.isImageFormat():
                    continue
                image_format = char_format.toImageFormat()
                image = self.image_for(image_format.name())
                if image is None:
                    continue
                scale = min(zoom, width / image.width(), height / image.height())
                image_format.setWidth(image.width() * scale)
                image_format.setHeight(image.height() * scale)
                cursor = QTextCursor(self)
                cursor.setPosition(fragment.position())
                cursor.setPosition(fragment.position() + fragment.length(),
                                   QTextCursor.MoveMode.KeepAnchor)
                cursor.setCharFormat(image_format)
            block = block.next()


def text_size(size: QSize) -> int:
    """Pixels of body text that suit a window of `size` with no zoom: 30 on 1024×600, 54 on
    1920×1080 (about 14 lines of text and 50 characters a line)."""
    return max(16, round(min(size.height() / 20, size.width() / 34)))


class PresentationWindow(QWidget):
    """A lesson's content on the whole screen, for a projector. `present()` shows it full
    screen (on a second screen when there is one); Esc or the Leave button closes it."""

    def __init__(self, pack: CoursePack, lesson_id: str, language: str,
                 parent: QWidget | None = None, *,
                 voices: VoiceFinder = find_voice) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.pack = pack
        self.lesson = pack.lesson(lesson_id)
        self.language = language
        self.slides = split_slides(self.lesson.content.get(language),
                                   self.lesson.title.get(language))
        self.index = 0
        self.zoom_steps = 0
        self.images = lesson_images(pack, self.lesson, language)
        self.folder = posixpath.dirname(self.lesson.content_files.get(language))
        self.document: SlideDocument | None = None
        self.setWindowTitle(self.lesson.title.get(language))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setStyleSheet("PresentationWindow { background: white; }")

        self.view = QTextEdit()
        self.view.setReadOnly(True)
        self.view.setFrameShape(QFrame.Shape.NoFrame)
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.view.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setStyleSheet("QTextEdit { background: white; color: #111; }")

        self.view.verticalScrollBar().valueChanged.connect(self._update_buttons)
        self.view.verticalScrollBar().rangeChanged.connect(self._update_buttons)
        self.previous_button = self._button("◀ " + _("Back"), self.back)
        self.next_button = self._button(_("Next") + " ▶", self.forward)
        self.counter = QLabel()
        self.counter.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.counter.setContentsMargins(8, 0, 8, 0)
        self.zoom_out_button = self._button("A−", self.zoom_out)
        self.zoom_out_button.setToolTip(_("Smaller text (Ctrl+-)"))
        self.zoom_in_button = self._button("A+", self.zoom_in)
        self.zoom_in_button.setToolTip(_("Larger text (Ctrl+=)"))
        self.read_button = self._button(_("Read aloud"), self.toggle_reading)
        self.no_voice = QLabel(_("No reading aloud"))
        self.no_voice.setStyleSheet("color: #555;")
        self.leave_button = self._button(_("Leave") + " (Esc)", self.close)

        lookup = voices(language, self)
        self.voice: ReadAloud | None = lookup.voice
        self.speaking = False
        if self.voice is None:
            self.read_button.hide()
            self.no_voice.setToolTip(lookup.reason)
            self.no_voice.setAccessibleDescription(lookup.reason)
        else:
            self.no_voice.hide()
            self.read_button.setToolTip(_("Reads this slide aloud"))
            self.voice.speaking_changed.connect(self._speaking_changed)

        bar = QHBoxLayout()
        bar.setContentsMargins(12, 6, 12, 6)
        bar.setSpacing(10)
        for widget in (self.previous_button, self.counter, self.next_button):
            bar.addWidget(widget)
        bar.addStretch(1)
        for widget in (self.read_button, self.no_voice, self.zoom_out_button,
                       self.zoom_in_button, self.leave_button):
            bar.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.view, 1)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setStyleSheet("color: #ccc;")
        layout.addWidget(line)
        layout.addLayout(bar)
        self.resize(1024, 600)
        self.show_slide(0)

    def _button(self, text: str, slot: Any) -> QPushButton:
        button = QPushButton(text)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(slot)
        return button

    # --- showing ---------------------------------------------------------------------------

    def present(self, screen: QScreen | None = None) -> None:
        """Full screen on `screen`, or on the projector: the screen that is not the
        primary one when there are two."""
        if screen is None:
            primary = QGuiApplication.primaryScreen()
            others = [s for s in QGuiApplication.screens() if s is not primary]
            screen = others[0] if others else primary
        if screen is not None:
            self.setGeometry(screen.geometry())
        self.showFullScreen()
        self.activateWindow()
        self.setFocus()

    def body_pixels(self) -> int:
        """The body text's size in pixels, zoom included."""
        return max(10, round(text_size(self.size()) * ZOOM_STEP ** self.zoom_steps))

    def show_slide(self, index: int) -> None:
        self.stop_reading()
        self.index = max(0, min(index, len(self.slides) - 1))
        old = self.document
        self.document = SlideDocument(self.images, self.folder, self.view)
        self.document.setMarkdown(self.slides[self.index].markdown, MARKDOWN)
        self.view.setDocument(self.document)
        if old is not None:
            old.deleteLater()
        self._apply_size()
        self.view.verticalScrollBar().setValue(0)
        self.counter.setText(f"{self.index + 1} / {len(self.slides)}")
        self._update_buttons()

    def _update_buttons(self) -> None:
        bar = self.view.verticalScrollBar()
        self.previous_button.setEnabled(self.index > 0 or bar.value() > bar.minimum())
        self.next_button.setEnabled(self.index < len(self.slides) - 1
                                    or bar.value() < bar.maximum())

    def _apply_size(self) -> None:
        if self.document is None:
            return
        pixels = self.body_pixels()
        font = QFont(QApplication.font())
        font.setPixelSize(pixels)
        self.document.setDefaultFont(font)
        self.document.setDocumentMargin(max(8, round(pixels * 0.8)))
        self.document.space_blocks(round(pixels * 0.4))
        margin = 2 * self.document.documentMargin()
        viewport = self.view.viewport().size()
        self.document.fit_images(max(50, viewport.width() - margin),
                                 max(50, viewport.height() * IMAGE_SHARE_OF_HEIGHT - margin),
                                 ZOOM_STEP ** self.zoom_steps * pixels / 30)
        bar_font = QFont(QApplication.font())
        bar_font.setPixelSize(max(13, round(text_size(self.size()) * 0.55)))
        for widget in (self.previous_button, self.next_button, self.counter,
                       self.zoom_out_button, self.zoom_in_button, self.read_button,
                       self.no_voice, self.leave_button):
            widget.setFont(bar_font)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._apply_size()

    # --- moving and zooming ----------------------------------------------------------------

    def forward(self) -> None:
        """The rest of a slide taller than the screen, a screenful at a time, then the next
        slide: a presenter's clicker (PageDown) shows everything."""
        bar = self.view.verticalScrollBar()
        if bar.value() < bar.maximum():
            bar.setValue(bar.value() + self._screenful())
        else:
            self.next_slide()

    def back(self) -> None:
        bar = self.view.verticalScrollBar()
        if bar.value() > bar.minimum():
            bar.setValue(bar.value() - self._screenful())
        else:
            self.previous_slide()

    def _screenful(self) -> int:
        """A viewport's height less two lines, so the reader keeps their place."""
        return max(1, self.view.viewport().height() - 2 * round(self.body_pixels() * 1.3))

    def next_slide(self) -> None:
        self.show_slide(self.index + 1)

    def previous_slide(self) -> None:
        self.show_slide(self.index - 1)

    def zoom_in(self) -> None:
        self._zoom(self.zoom_steps + 1)

    def zoom_out(self) -> None:
        self._zoom(self.zoom_steps - 1)

    def zoom_reset(self) -> None:
        self._zoom(0)

    def _zoom(self, steps: int) -> None:
        self.zoom_steps = max(ZOOM_RANGE[0], min(steps, ZOOM_RANGE[1]))
        self.zoom_out_button.setEnabled(self.zoom_steps > ZOOM_RANGE[0])
        self.zoom_in_button.setEnabled(self.zoom_steps < ZOOM_RANGE[1])
        self._apply_size()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = Qt.Key(event.key())
        control = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        bar = self.view.verticalScrollBar()
        if control and key in (Qt.Key.Key_Equal, Qt.Key.Key_Plus):
            self.zoom_in()
        elif control and key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom_out()
        elif control and key == Qt.Key.Key_0:
            self.zoom_reset()
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_PageDown, Qt.Key.Key_Space):
            self.forward()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_PageUp, Qt.Key.Key_Backspace):
            self.back()
        elif key == Qt.Key.Key_Home:
            self.show_slide(0)
        elif key == Qt.Key.Key_End:
            self.show_slide(len(self.slides) - 1)
        elif key == Qt.Key.Key_Down:
            bar.setValue(bar.value() + bar.singleStep() * 3)
        elif key == Qt.Key.Key_Up:
            bar.setValue(bar.value() - bar.singleStep() * 3)
        elif key == Qt.Key.Key_Escape:
            self.close()
        else:
            super().keyPressEvent(event)

    # --- reading aloud ---------------------------------------------------------------------

    def slide_text(self) -> str:
        """The current slide as plain text, for the voice."""
        if self.document is None:
            return ""
        return self.document.toPlainText().replace(OBJECT_REPLACEMENT, " ").strip()

    def toggle_reading(self) -> None:
        if self.voice is None:
            return
        if self.speaking:
            self.stop_reading()
        else:
            self.voice.say(self.slide_text())

    def stop_reading(self) -> None:
        if self.voice is not None and self.speaking:
            self.voice.stop()

    def _speaking_changed(self, speaking: bool) -> None:
        self.speaking = speaking
        self.read_button.setText(_("Stop reading") if speaking else _("Read aloud"))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.stop_reading()
        super().closeEvent(event)
