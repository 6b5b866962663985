"""The learner's quiz: full screen, one question at a time, very large type, big buttons.

A learner answers with a tap (or the keys 1–6; Enter goes on), sees at once whether it was
right and why, and at the end how many were right; the window then hands a `QuizResult` to
its caller, who records it as an attempt.

No way out for the learner: the window is modal over the whole app, and closing it (Esc,
Alt+F4, the window's close button, the Close button at the end) asks for the trainer. The
trainer types a 4-digit number the dialog shows, different each time. That is not a lock (a
learner who reads it could type it too) but it keeps anyone from leaving by accident, and
digits need no Vietnamese keyboard (Telex, VNI) and read the same in both languages.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QRegularExpression, Qt
from PySide6.QtGui import (
    QCloseEvent,
    QFont,
    QKeyEvent,
    QRegularExpressionValidator,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.i18n import _, format_number
from dxkit.lessons.packs import Lesson, QuizItem
from dxkit.ui.fitting import ElidedLabel

RIGHT_COLOUR = "#1b7f3b"
WRONG_COLOUR = "#b00020"
ACCENT = "#1d4ed8"
MIN_UNIT = 14  # the smallest answer text, in pixels, before the screen scrolls instead
KEYS = {getattr(Qt.Key, f"Key_{n}"): n - 1 for n in range(1, 7)}
ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


@dataclass(frozen=True)
class QuizResponse:
    """What the learner answered to one item: the chosen choice ids (single, multiple) or
    True / False (true_false), and whether that was right."""

    item_id: str
    response: frozenset[str] | bool
    right: bool


@dataclass(frozen=True)
class QuizResult:
    """One attempt at a lesson's quiz: every item asked, in the pack's order."""

    lesson_id: str
    asked: int
    right: int
    responses: tuple[QuizResponse, ...]


def trainer_code() -> str:
    """A 4-digit number, 1000–9999, different each time."""
    return str(1000 + secrets.randbelow(9000))


class TrainerCheckDialog(QDialog):
    """Asks the trainer to type the number it shows before the learner's window closes."""

    def __init__(self, parent: QWidget, code: str) -> None:
        super().__init__(parent)
        self.code = code
        self.setWindowTitle(_("For the trainer"))
        self.setMinimumWidth(420)
        message = QLabel(_("Only for the trainer: to leave the quiz, type {code} and press "
                           "Leave.").format(code=code))
        message.setWordWrap(True)
        number = QLabel(code)
        number.setAlignment(Qt.AlignmentFlag.AlignCenter)
        big = QFont(number.font())
        big.setPixelSize(max(28, big.pixelSize() * 2, round(big.pointSizeF() * 2.6)))
        big.setBold(True)
        number.setFont(big)
        self.entry = QLineEdit()
        self.entry.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,4}"),
                                                            self.entry))
        self.entry.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.entry.setFont(big)
        self.buttons = QDialogButtonBox()
        self.stay_button = self.buttons.addButton(_("Keep going"),
                                                  QDialogButtonBox.ButtonRole.RejectRole)
        self.leave_button = self.buttons.addButton(_("Leave"),
                                                   QDialogButtonBox.ButtonRole.AcceptRole)
        self.leave_button.setEnabled(False)
        self.stay_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.entry.textChanged.connect(self._typed)
        layout = QVBoxLayout(self)
        layout.addWidget(message)
        layout.addWidget(number)
        layout.addWidget(self.entry)
        layout.addWidget(self.buttons)
        self.entry.setFocus()

    def _typed(self, text: str) -> None:
        matches = text == self.code
        self.leave_button.setEnabled(matches)
        self.leave_button.setDefault(matches)
        self.stay_button.setDefault(not matches)

    def accept(self) -> None:
        if self.entry.text() == self.code:
            super().accept()


class AnswerButton(QPushButton):
    """A big button whose text wraps: its number (the key that chooses it) and the choice."""

    def __init__(self, number: int, text: str, checkable: bool = False) -> None:
        super().__init__()
        self.setCheckable(checkable)
        self.setAccessibleName(text)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.badge = QLabel(str(number))
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.badge.setStyleSheet(f"background: {ACCENT}; color: white; border-radius: 6px;")
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.label.setStyleSheet("background: transparent; color: #111;")
        self.tick = QLabel()
        for label in (self.badge, self.label, self.tick):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout = QHBoxLayout(self)
        layout.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.label, 1)
        if checkable:
            layout.addWidget(self.tick, 0, Qt.AlignmentFlag.AlignVCenter)
            self.toggled.connect(self._show_tick)
            self._show_tick(False)
        self.setStyleSheet(
            "AnswerButton { background: #fff; border: 3px solid #8a99ad; border-radius: 14px; }"
            "AnswerButton:hover { border-color: " + ACCENT + "; }"
            "AnswerButton:pressed { background: #e8eefc; }"
            "AnswerButton:checked { background: #dbe6ff; border-color: " + ACCENT + "; }")

    def _show_tick(self, checked: bool) -> None:
        self.tick.setText("☑" if checked else "☐")

    def set_unit(self, pixels: int) -> None:
        font = QFont(QApplication.font())
        font.setPixelSize(pixels)
        self.label.setFont(font)
        self.tick.setFont(font)
        badge = QFont(font)
        badge.setBold(True)
        self.badge.setFont(badge)
        self.badge.setFixedSize(round(pixels * 1.6), round(pixels * 1.6))
        pad = max(6, pixels // 2)
        self.layout().setContentsMargins(pad, pad, pad, pad)
        self.layout().setSpacing(pad)


class _Screen(QWidget):
    """One screen of the quiz: its labels and buttons with the size each takes relative to
    the answer text, so the whole screen can be fitted to the window."""

    def __init__(self) -> None:
        super().__init__()
        self.column = QVBoxLayout(self)
        self.sized: list[tuple[QWidget, float, bool]] = []

    def label(self, text: str, scale: float, bold: bool = False, colour: str = "#111",
              centre: bool = False) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setStyleSheet(f"color: {colour};")
        if centre:
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.sized.append((label, scale, bold))
        return label

    def button(self, text: str, scale: float = 1.1) -> QPushButton:
        button = QPushButton(text)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setStyleSheet(
            f"QPushButton {{ background: {ACCENT}; color: white; border-radius: 14px; "
            "padding: 0.4em 1.6em; }"
            "QPushButton:disabled { background: #9aa5b8; }"
            "QPushButton:pressed { background: #163a9e; }")
        self.sized.append((button, scale, True))
        return button

    def apply(self, unit: int) -> None:
        for widget, scale, bold in self.sized:
            if isinstance(widget, AnswerButton):
                widget.set_unit(round(unit * scale))
                continue
            font = QFont(QApplication.font())
            font.setPixelSize(max(10, round(unit * scale)))
            font.setBold(bold)
            widget.setFont(font)
        gap = max(6, unit // 2)
        self.column.setSpacing(gap)
        self.column.setContentsMargins(2 * gap, gap, 2 * gap, 2 * gap)

    def needed_height(self, width: int) -> int:
        layout = self.layout()
        layout.activate()
        if layout.hasHeightForWidth():
            return layout.totalHeightForWidth(width)
        return layout.totalSizeHint().height()


class LearnerQuizWindow(QWidget):
    """A lesson's quiz for one learner. `present()` shows it full screen; when the last
    question is answered the score is shown and `on_finished(QuizResult)` is called, once.
    Leaving earlier, with the trainer's number, reports nothing."""

    def __init__(self, lesson: Lesson, language: str,
                 on_finished: Callable[[QuizResult], None],
                 parent: QWidget | None = None, *,
                 code: Callable[[], str] = trainer_code) -> None:
        if not lesson.quiz:
            raise ValueError(f"lesson {lesson.id} has no quiz")
        super().__init__(parent, Qt.WindowType.Window)
        self.lesson = lesson
        self.language = language
        self.on_finished = on_finished
        self.make_code = code
        self.items: Sequence[QuizItem] = lesson.quiz
        self.position = 0
        self.responses: list[QuizResponse] = []
        self.selected: set[str] = set()
        self.stage = "question"  # "question", "feedback", "done"
        self.result: QuizResult | None = None
        self.trainer_allowed = False
        self.check: TrainerCheckDialog | None = None
        self.answer_buttons: list[AnswerButton] = []
        self.done_button: QPushButton | None = None
        self.next_button: QPushButton | None = None
        self.close_button: QPushButton | None = None
        self.screen_widget: _Screen | None = None
        self.unit = MIN_UNIT

        self.setWindowTitle(lesson.title.get(language))
        self.setWindowModality(Qt.WindowModality.ApplicationModal)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setObjectName("learner")
        self.setStyleSheet("#learner { background: #f4f6fa; }")
        self.header = ElidedLabel()
        self.header.setStyleSheet("color: #444;")
        self.counter = QLabel()
        self.counter.setStyleSheet("color: #444;")
        top = QHBoxLayout()
        top.addWidget(self.header, 1)
        top.addWidget(self.counter)
        self.body = QVBoxLayout()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addLayout(self.body, 1)
        self.top = top
        self.resize(1024, 600)
        self.show_question()

    # --- showing ---------------------------------------------------------------------------

    def present(self) -> None:
        self.showFullScreen()
        self.activateWindow()
        self.setFocus()

    @property
    def item(self) -> QuizItem:
        return self.items[self.position]

    def _text(self, item: QuizItem, choice_id: str) -> str:
        return next(c.text.get(self.language) for c in item.choices if c.id == choice_id)

    def _replace(self, screen: _Screen) -> None:
        if self.screen_widget is not None:
            self.body.removeWidget(self.screen_widget)
            self.screen_widget.hide()
            self.screen_widget.deleteLater()
        self.screen_widget = screen
        self.body.addWidget(screen)
        screen.show()
        self.header.setText(self.lesson.title.get(self.language))
        self.counter.setText(_("Question {number} of {count}").format(
            number=format_number(self.position + 1), count=format_number(len(self.items))))
        self.counter.setVisible(self.stage != "done")
        self.fit()
        self.setFocus()

    def show_question(self) -> None:
        self.stage = "question"
        item = self.item
        screen = _Screen()
        screen.column.addWidget(screen.label(item.prompt.get(self.language), 1.3, bold=True))
        hints = {"single": _("Tap the right answer."),
                 "multiple": _("Tap every right answer, then Done."),
                 "true_false": _("True or false?")}
        screen.column.addWidget(screen.label(hints[item.type], 0.75, colour="#444"))
        self.answer_buttons = []
        self.selected = set()
        self.done_button = None
        if item.type == "true_false":
            row = QHBoxLayout()
            for number, text in ((1, _("True")), (2, _("False"))):
                button = AnswerButton(number, text)
                button.clicked.connect(lambda _c=False, v=(number == 1): self.answer(v))
                screen.sized.append((button, 1.5, False))
                self.answer_buttons.append(button)
                row.addWidget(button)
            screen.column.addLayout(row)
        else:
            grid = QGridLayout()
            for number, choice in enumerate(item.choices, start=1):
                button = AnswerButton(number, choice.text.get(self.language),
                                      checkable=item.type == "multiple")
                button.clicked.connect(lambda _c=False, i=number - 1: self.choose(i))
                screen.sized.append((button, 1.0, False))
                self.answer_buttons.append(button)
                grid.addWidget(button, number - 1, 0)
            screen.column.addLayout(grid)
            if item.type == "multiple":
                self.done_button = screen.button(_("Done") + " ✓")
                self.done_button.setEnabled(False)
                self.done_button.clicked.connect(self.done)
                screen.column.addWidget(self.done_button, 0, Qt.AlignmentFlag.AlignRight)
        screen.column.addStretch(1)
        self._replace(screen)

    def choose(self, index: int) -> None:
        """Choice `index` (from 0) of the current single or multiple item: a single one is
        answered at once, a multiple one toggles until Done."""
        item = self.item
        if self.stage != "question" or index >= len(self.answer_buttons):
            return
        if item.type == "true_false":
            self.answer(index == 0)
            return
        choice_id = item.choices[index].id
        if item.type == "single":
            self.answer(frozenset({choice_id}))
            return
        self.selected ^= {choice_id}
        button = self.answer_buttons[index]
        button.setChecked(choice_id in self.selected)
        if self.done_button is not None:
            self.done_button.setEnabled(bool(self.selected))

    def done(self) -> None:
        if self.stage == "question" and self.item.type == "multiple" and self.selected:
            self.answer(frozenset(self.selected))

    def answer(self, response: frozenset[str] | bool) -> None:
        if self.stage != "question":
            return
        item = self.item
        right = item.is_right(response)
        self.responses.append(QuizResponse(item.id, response, right))
        self.show_feedback(item, right)

    def show_feedback(self, item: QuizItem, right: bool) -> None:
        self.stage = "feedback"
        screen = _Screen()
        if right:
            verdict = screen.label("✓ " + _("Right!"), 1.6, bold=True, colour=RIGHT_COLOUR)
        else:
            verdict = screen.label("✗ " + _("Not quite."), 1.6, bold=True, colour=WRONG_COLOUR)
        screen.column.addWidget(verdict)
        screen.column.addWidget(screen.label(item.prompt.get(self.language), 0.9,
                                             colour="#444"))
        if not right:
            if isinstance(item.answer, bool):
                answer = _("True") if item.answer else _("False")
                text = _("The answer: {answer}").format(answer=answer)
            else:
                answers = [self._text(item, c.id) for c in item.choices if c.id in item.answer]
                text = (_("The right answer:") + "\n" + "\n".join(f"• {a}" for a in answers))
            screen.column.addWidget(screen.label(text, 1.1, bold=True))
        if item.explanation is not None:
            screen.column.addWidget(screen.label(item.explanation.get(self.language), 1.0))
        last = self.position == len(self.items) - 1
        self.next_button = screen.button((_("See the result") if last else _("Next")) + " ▶",
                                         1.2)
        self.next_button.clicked.connect(self.next_question)
        screen.column.addStretch(1)
        screen.column.addWidget(self.next_button, 0, Qt.AlignmentFlag.AlignRight)
        self._replace(screen)

    def next_question(self) -> None:
        if self.stage != "feedback":
            return
        if self.position < len(self.items) - 1:
            self.position += 1
            self.show_question()
        else:
            self.finish()

    def finish(self) -> None:
        right = sum(1 for response in self.responses if response.right)
        self.result = QuizResult(self.lesson.id, len(self.responses), right,
                                 tuple(self.responses))
        self.stage = "done"
        self.show_score()
        self.on_finished(self.result)

    def show_score(self) -> None:
        assert self.result is not None
        asked, right = self.result.asked, self.result.right
        screen = _Screen()
        screen.column.addStretch(1)
        score = _("You got {right} of {count} right.").format(
            right=format_number(right), count=format_number(asked))
        screen.column.addWidget(screen.label(score, 1.8, bold=True, centre=True))
        if self.lesson.attempt_passes(asked, right):
            message, colour = _("Well done! You passed this lesson's questions."), RIGHT_COLOUR
        else:
            message, colour = (_("Not this time. Go over the lesson with the trainer and try "
                                 "again."), "#111")
        screen.column.addWidget(screen.label(message, 1.1, colour=colour, centre=True))
        screen.column.addWidget(screen.label(_("Please hand the computer back to the trainer."),
                                             1.0, colour="#444", centre=True))
        screen.column.addStretch(1)
        self.close_button = screen.button(_("Close"), 1.0)
        self.close_button.clicked.connect(self.close)
        screen.column.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignCenter)
        self._replace(screen)

    # --- fitting ---------------------------------------------------------------------------

    def largest_unit(self) -> int:
        """The answer text's size when everything has room: 30 pixels on 1024×600, 54 on
        1920×1080 (prompts are 1.3 times that)."""
        return max(MIN_UNIT, round(min(self.height() / 20, self.width() / 34)))

    def fit(self) -> None:
        """The largest text with which the current screen fits the window without scrolling,
        down to MIN_UNIT."""
        screen = self.screen_widget
        if screen is None:
            return
        header = QFont(QApplication.font())
        header.setPixelSize(max(12, round(self.largest_unit() * 0.6)))
        self.header.setFont(header)
        self.counter.setFont(header)
        pad = max(6, self.largest_unit() // 2)
        self.top.setContentsMargins(2 * pad, pad // 2, 2 * pad, 0)
        room = self.height() - self.top.sizeHint().height()
        unit = self.largest_unit()
        while True:
            screen.apply(unit)
            if unit <= MIN_UNIT or screen.needed_height(self.width()) <= room:
                break
            unit -= 1
        self.unit = unit

    def fits(self) -> bool:
        """Whether the current screen's content has the height it needs (for the tests and the
        screenshots)."""
        screen = self.screen_widget
        if screen is None:
            return False
        layout = self.layout()
        layout.activate()
        layout.setGeometry(self.rect())  # as the next event loop pass would
        return screen.needed_height(screen.width()) <= screen.height()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fit()

    # --- keys and leaving --------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = Qt.Key(event.key())
        if self.stage == "question" and key in KEYS:
            self.choose(KEYS[key])
        elif key in ENTER_KEYS and self.stage == "question":
            self.done()
        elif key in ENTER_KEYS and self.stage == "feedback":
            self.next_question()
        elif key == Qt.Key.Key_Escape:
            self.ask_trainer()
        else:
            super().keyPressEvent(event)

    def ask_trainer(self) -> None:
        """The trainer's check before the window closes (nothing happens for a learner who
        does not type the number)."""
        if self.check is not None:
            self.check.entry.setFocus()
            return
        self.check = TrainerCheckDialog(self, self.make_code())
        self.check.accepted.connect(self._trainer_said_leave)
        self.check.finished.connect(self._check_closed)
        self.check.open()

    def _check_closed(self) -> None:
        if self.check is not None:
            self.check.deleteLater()
        self.check = None
        self.setFocus()

    def _trainer_said_leave(self) -> None:
        self.leave()

    def leave(self) -> None:
        """Close without asking (the trainer said so, or the app is quitting)."""
        self.trainer_allowed = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.trainer_allowed:
            super().closeEvent(event)
            return
        event.ignore()
        self.ask_trainer()
