"""The learner's quiz: one question at a time, every item type, the result handed back once,
no way out without the trainer's number, and the longest question fitting on 1024×600."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

import dxkit
from dxkit.core import i18n
from dxkit.lessons.packs import read_pack
from dxkit.ui.lessons.learner_mode import (
    MIN_UNIT,
    LearnerQuizWindow,
    QuizResponse,
    QuizResult,
    TrainerCheckDialog,
)

COURSE = Path(dxkit.__file__).parent / "resources" / "courses" / "vn.dxkit.ky-nang-so-co-ban"
CODES = iter(f"{n:04d}" for n in range(4321, 9999))


@pytest.fixture(scope="module")
def pack():
    return read_pack(COURSE)


def open_quiz(qtbot, lesson, results, language="vi", size=(1024, 600)):
    window = LearnerQuizWindow(lesson, language, results.append, code=lambda: next(CODES))
    qtbot.addWidget(window, before_close_func=lambda w: w.leave())
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    return window


def key(number: int) -> Qt.Key:
    return getattr(Qt.Key, f"Key_{number}")


def wrong_choice(item) -> str:
    return next(c.id for c in item.choices if c.id not in item.answer)


def test_a_whole_quiz_of_every_item_type_gives_its_result_once(qtbot, pack):
    lesson = pack.lesson("dien-thoai-an-toan")  # single, single, multiple, true/false ×2, single
    assert [q.type for q in lesson.quiz] == ["single", "single", "multiple", "true_false",
                                            "true_false", "single"]
    results: list[QuizResult] = []
    window = open_quiz(qtbot, lesson, results)
    single, single_2, multiple, true_false, true_false_2, single_3 = lesson.quiz

    # 1. single, right, by tapping its button
    assert window.counter.text() == "Câu 1 / 6"
    right = [c.id for c in single.choices].index(next(iter(single.answer)))
    qtbot.mouseClick(window.answer_buttons[right], Qt.MouseButton.LeftButton)
    assert window.stage == "feedback"
    qtbot.keyClick(window, Qt.Key.Key_Return)

    # 2. single, wrong, by its number key; the feedback names the right answer
    wrong = [c.id for c in single_2.choices].index(wrong_choice(single_2))
    qtbot.keyClick(window, key(wrong + 1))
    shown = " ".join(label.text() for label in window.screen_widget.findChildren(QLabel))
    right_text = next(c.text.get("vi") for c in single_2.choices if c.id in single_2.answer)
    assert right_text in shown and "Chưa đúng" in shown
    qtbot.mouseClick(window.next_button, Qt.MouseButton.LeftButton)

    # 3. multiple: toggled by keys and taps, an extra one on and off, then Done (Enter)
    assert window.done_button is not None and not window.done_button.isEnabled()
    ids = [c.id for c in multiple.choices]
    extra = ids.index(wrong_choice(multiple))
    qtbot.keyClick(window, key(extra + 1))
    assert window.answer_buttons[extra].isChecked() and window.done_button.isEnabled()
    qtbot.mouseClick(window.answer_buttons[extra], Qt.MouseButton.LeftButton)
    assert not window.answer_buttons[extra].isChecked()
    for choice_id in multiple.answer:
        qtbot.keyClick(window, key(ids.index(choice_id) + 1))
    assert window.stage == "question"  # nothing is sent before Done
    qtbot.keyClick(window, Qt.Key.Key_Enter)
    assert window.stage == "feedback"
    qtbot.keyClick(window, Qt.Key.Key_Return)

    # 4. true/false by the "Đúng"/"Sai" buttons: the right one; 5. the wrong one by key
    assert [b.accessibleName() for b in window.answer_buttons] == ["Đúng", "Sai"]
    qtbot.mouseClick(window.answer_buttons[0 if true_false.answer else 1],
                     Qt.MouseButton.LeftButton)
    qtbot.keyClick(window, Qt.Key.Key_Return)
    qtbot.keyClick(window, key(2 if true_false_2.answer else 1))
    qtbot.keyClick(window, Qt.Key.Key_Return)

    # 6. single, right; the last feedback leads to the result
    assert results == []
    qtbot.keyClick(window, key([c.id for c in single_3.choices].index(
        next(iter(single_3.answer))) + 1))
    assert window.next_button.text().startswith("Xem kết quả")
    qtbot.keyClick(window, Qt.Key.Key_Return)

    assert results == [QuizResult(
        lesson_id="dien-thoai-an-toan", asked=6, right=4, responses=(
            QuizResponse(single.id, single.answer, True),
            QuizResponse(single_2.id, frozenset({wrong_choice(single_2)}), False),
            QuizResponse(multiple.id, multiple.answer, True),
            QuizResponse(true_false.id, true_false.answer, True),
            QuizResponse(true_false_2.id, not true_false_2.answer, False),
            QuizResponse(single_3.id, single_3.answer, True)))]
    assert window.stage == "done"
    texts = [label.text() for label in window.screen_widget.findChildren(QLabel)]
    assert "Trả lời đúng 4 trên 6 câu." in texts
    qtbot.keyClick(window, Qt.Key.Key_Return)  # nothing more to do: still one result
    qtbot.keyClick(window, key(1))
    assert len(results) == 1


def test_keys_do_nothing_where_they_mean_nothing(qtbot, pack):
    lesson = pack.lesson("dien-thoai-an-toan")
    results: list[QuizResult] = []
    window = open_quiz(qtbot, lesson, results)
    qtbot.keyClick(window, Qt.Key.Key_Return)  # a single question waits for a choice
    qtbot.keyClick(window, key(6))  # there is no sixth choice
    assert window.stage == "question" and window.responses == []
    qtbot.keyClick(window, key(1))
    qtbot.keyClick(window, key(2))  # the answer is given; keys wait for "Tiếp"
    assert len(window.responses) == 1 and window.stage == "feedback"


def test_leaving_needs_the_trainers_number(qtbot, pack):
    results: list[QuizResult] = []
    window = open_quiz(qtbot, pack.lesson("vneid-muc-2"), results)
    for leave in (window.close, lambda: qtbot.keyClick(window, Qt.Key.Key_Escape)):
        leave()
        assert window.isVisible()
        check = window.check
        assert isinstance(check, TrainerCheckDialog) and check.isVisible()
        qtbot.keyClicks(check.entry, "1234" if check.code != "1234" else "4321")
        assert not check.leave_button.isEnabled()
        check.accept()  # Enter with the wrong number: still there
        assert check.isVisible()
        qtbot.mouseClick(check.stay_button, Qt.MouseButton.LeftButton)
        assert window.check is None and window.isVisible()

    window.close()
    check = window.check
    assert check is not None
    window.close()  # asked again while the check is open: the same check
    assert window.check is check
    qtbot.keyClicks(check.entry, check.code)
    assert check.leave_button.isEnabled()
    qtbot.mouseClick(check.leave_button, Qt.MouseButton.LeftButton)
    assert not window.isVisible()
    assert results == []  # left early: no attempt reported


def test_each_check_shows_a_new_number(qtbot, pack):
    window = open_quiz(qtbot, pack.lesson("vneid-muc-2"), [])
    codes = []
    for _ in range(3):
        window.ask_trainer()
        codes.append(window.check.code)
        window.check.reject()
    assert len(set(codes)) == 3 and all(len(c) == 4 and c.isdigit() for c in codes)


def test_the_result_screen_still_needs_the_trainer(qtbot, pack):
    lesson = pack.lesson("vneid-muc-2")
    results: list[QuizResult] = []
    window = open_quiz(qtbot, lesson, results)
    for item in lesson.quiz:
        window.answer(item.answer)
        window.next_question()
    assert results and results[0].right == results[0].asked == len(lesson.quiz)
    qtbot.mouseClick(window.close_button, Qt.MouseButton.LeftButton)
    assert window.isVisible() and window.check is not None


@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_question_of_the_course_fits_1024_by_600(qtbot, pack, language):
    """Every question and its answer screen, in large type, without scrolling."""
    i18n.set_language(language)
    smallest = {}
    for lesson in pack.lessons:
        window = open_quiz(qtbot, lesson, [], language=language)
        for item in lesson.quiz:
            assert window.fits(), (lesson.id, item.id)
            smallest[(lesson.id, item.id, "question")] = window.unit
            wrong = (not item.answer if isinstance(item.answer, bool)
                     else frozenset({wrong_choice(item)}))
            window.answer(wrong)  # the longer feedback: with the right answer spelled out
            assert window.fits(), (lesson.id, item.id, "feedback")
            smallest[(lesson.id, item.id, "feedback")] = window.unit
            window.next_question()
        assert window.fits()
        window.leave()
    assert min(smallest.values()) >= 22 > MIN_UNIT
    assert max(smallest.values()) == 30


def test_a_lesson_without_a_quiz_is_refused(pack):
    lesson = dataclasses.replace(pack.lesson("vneid-muc-2"), quiz=())
    with pytest.raises(ValueError):
        LearnerQuizWindow(lesson, "vi", lambda result: None)
