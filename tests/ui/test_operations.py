"""The op builders: writes (`Op`) and reads (`Query`) run on the task manager, their outcome
comes back to the callbacks the chain gave, and only while the parent widget lives.

No timing here: the database thread is held on a gate when a test needs work still queued,
and results are awaited, never timed."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest
import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget

from dxkit.core.errors import Cancelled, DxError, ValidationError
from dxkit.core.progress import Progress
from dxkit.core.synced import Changes
from dxkit.ui.context import AppContext
from dxkit.ui.operations import Op, Query
from dxkit.ui.page import Page
from dxkit.ui.taskman import describe_error
from dxkit.ui.widgets import is_alive
from tests.ui.conftest import settle


def hold_database(ctx) -> threading.Event:
    """Keep the database thread busy until the returned event is set."""
    gate = threading.Event()
    ctx.tasks.run(lambda _progress: gate.wait(10), cancellable=False)
    return gate


def answered(qtbot, ctx) -> None:
    """Wait until every task reported back (its callbacks ran in the same slot)."""
    settle(qtbot, ctx, lambda: not ctx.tasks.active)


def message_boxes(parent: QWidget | None = None) -> list[QMessageBox]:
    if parent is not None:
        return parent.findChildren(QMessageBox)
    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox) and w.parent() is None and is_alive(w)]


def close_all(boxes: list[QMessageBox]) -> None:
    for box in boxes:
        box.close()  # they delete themselves on close


@pytest.fixture
def owner(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


# -- writes ---------------------------------------------------------------------------------
def test_success_gets_the_result_after_its_changes_were_announced(ctx, qtbot, ws, owner):
    events = []
    ctx.changed.connect(lambda changes: events.append(("announced", changes.touched("hamlets"))))
    task = (Op(ctx, owner, lambda _progress: ws.catalog.add_hamlet("Ấp Mới"))
            .while_running(lambda running: events.append(("running", running)))
            .success(lambda result: events.append(("success", result.value.name)))
            .run())
    assert events == [("running", True)] and task.label == ""  # a quick save: no status bar
    answered(qtbot, ctx)
    assert events == [("running", True), ("announced", True), ("running", False),
                      ("success", "Ấp Mới")]


def test_a_failure_shows_its_sentence_over_the_parent(ctx, qtbot, owner):
    def work(_progress: Progress) -> None:
        raise DxError("Không mở được tệp này.")

    Op(ctx, owner, work).success(lambda _result: pytest.fail("no success")).run()
    answered(qtbot, ctx)
    boxes = message_boxes(owner)
    assert [box.text() for box in boxes] == ["Không mở được tệp này."]
    assert boxes[0].icon() == QMessageBox.Icon.Warning
    close_all(boxes)


def test_an_unexpected_error_is_a_sentence_too(ctx, qtbot, owner):
    def work(_progress: Progress) -> None:
        raise KeyError("hamlet")

    Op(ctx, owner, work).run()
    answered(qtbot, ctx)
    boxes = message_boxes(owner)
    assert [box.text() for box in boxes] == [describe_error(KeyError("hamlet"))]
    assert boxes[0].text().startswith("Đã xảy ra lỗi")
    close_all(boxes)


def test_invalid_input_goes_to_the_form_and_a_failure_handler_replaces_the_box(
        ctx, qtbot, ws, owner):
    invalid, failed = [], []
    Op(ctx, owner, lambda _progress: ws.catalog.add_hamlet("")).invalid(invalid.append).run()

    def broken(_progress: Progress) -> None:
        raise DxError("Hỏng.")

    Op(ctx, owner, broken).failure(failed.append).run()
    answered(qtbot, ctx)
    assert isinstance(invalid[0], ValidationError) and invalid[0].fields
    assert [e.message for e in failed] == ["Hỏng."]
    assert message_boxes(owner) == []


def test_without_an_invalid_handler_a_validation_error_is_a_failure(ctx, qtbot, ws, owner):
    failed = []
    Op(ctx, owner, lambda _progress: ws.catalog.add_hamlet("")).failure(failed.append).run()
    answered(qtbot, ctx)
    assert isinstance(failed[0], ValidationError)


def test_cancel_stops_the_work_and_only_the_cancelled_callback_runs(ctx, qtbot, owner):
    outcome, started = [], []
    gate = hold_database(ctx)

    def work(progress: Progress) -> str:
        started.append(True)
        progress.update(0, 10, "bước 1")  # a checkpoint: raises once cancelled
        return "xong"

    task = (Op(ctx, owner, work)
            .with_progress("Đang làm", cancellable=True)
            .success(outcome.append)
            .failure(outcome.append)
            .cancelled(lambda error: outcome.append(("cancelled", error)))
            .run())
    assert task.label == "Đang làm" and task.cancellable
    task.cancel()
    gate.set()
    answered(qtbot, ctx)
    assert started == [True]
    assert len(outcome) == 1 and outcome[0][0] == "cancelled"
    assert isinstance(outcome[0][1], Cancelled)
    assert message_boxes(owner) == []  # cancelling is no error


def test_a_cancel_without_a_handler_is_silent(ctx, qtbot, owner):
    gate = hold_database(ctx)
    task = Op(ctx, owner, lambda progress: progress.check()).with_progress("Đang làm").run()
    task.cancel()
    gate.set()
    answered(qtbot, ctx)
    assert message_boxes(owner) == []


def test_progress_updates_reach_the_screen_in_order_before_the_result(ctx, qtbot, owner):
    events = []

    def work(progress: Progress) -> str:
        for step in range(1, 4):
            progress.update(step, 3, f"bước {step}")
        return "xong"

    (Op(ctx, owner, work)
     .with_progress("Đang làm")
     .progress(lambda value, maximum, label: events.append((value, maximum, label)))
     .success(events.append)
     .run())
    answered(qtbot, ctx)
    assert events == [(1, 3, "bước 1"), (2, 3, "bước 2"), (3, 3, "bước 3"), "xong"]


def test_the_status_bar_still_hears_of_labelled_work(ctx, qtbot, owner):
    seen = []
    ctx.tasks.progressed.connect(lambda task, value, maximum, label: seen.append(label))
    Op(ctx, owner, lambda progress: progress.update(1, 2, "nửa đường")).with_progress(
        "Đang làm").run()
    answered(qtbot, ctx)
    assert seen == ["nửa đường"]


def test_a_result_after_the_dialog_closed_does_nothing_but_its_changes_are_announced(
        ctx, qtbot, ws):
    dialog = QDialog()
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    seen, called = [], []
    ctx.changed.connect(seen.append)
    gate = hold_database(ctx)
    (Op(ctx, dialog, lambda _progress: ws.catalog.add_hamlet("Ấp Mới"))
     .while_running(lambda running: called.append(("running", running)))
     .success(called.append)
     .run())
    dialog.close()
    qtbot.waitUntil(lambda: not is_alive(dialog))  # deleted by the event loop
    gate.set()
    settle(qtbot, ctx, lambda: bool(seen))
    answered(qtbot, ctx)
    assert called == [("running", True)]  # nothing after the dialog went away
    assert seen[0].touched("hamlets")
    assert "Ấp Mới" in [h.name for h in ws.catalog.hamlets()]


def test_announce_runs_even_when_the_parent_is_gone(ctx, qtbot, ws):
    parent = QWidget()
    news, called = [], []
    gate = hold_database(ctx)
    (Op(ctx, parent, lambda _progress: ws.catalog.add_hamlet("Ấp Mới"))
     .announce(lambda result: news.append(result.value.name))
     .success(called.append)
     .run())
    shiboken6.delete(parent)
    gate.set()
    answered(qtbot, ctx)
    assert news == ["Ấp Mới"] and called == []


def test_an_error_whose_screen_is_gone_is_still_shown_without_a_parent(ctx, qtbot):
    parent = QWidget()
    failed = []
    gate = hold_database(ctx)

    def work(_progress: Progress) -> None:
        raise DxError("Không lưu được.")

    Op(ctx, parent, work).failure(failed.append).run()
    shiboken6.delete(parent)
    gate.set()
    answered(qtbot, ctx)
    assert failed == []  # the screen's handler went with the screen
    boxes = message_boxes()
    assert [box.text() for box in boxes] == ["Không lưu được."]
    close_all(boxes)


def test_a_changes_result_is_announced_as_it_is(ctx, qtbot, owner):
    seen = []
    ctx.changed.connect(seen.append)
    changes = Changes()
    changes.updated["hamlets"].add("h1")
    Op(ctx, owner, lambda _progress: changes).run()
    answered(qtbot, ctx)
    assert seen == [changes]


def test_an_operation_runs_once(ctx, qtbot, owner):
    op = Op(ctx, owner, lambda _progress: None)
    op.run()
    with pytest.raises(RuntimeError):
        op.run()
    answered(qtbot, ctx)


def test_work_without_the_database_runs_on_the_pool(ctx, qtbot, owner):
    threads = []
    work = Op(ctx, owner, lambda _progress: threads.append(threading.current_thread().name))
    work.without_database().run()
    answered(qtbot, ctx)
    assert threads[0].startswith("dxkit-io")


def test_once_the_outcome_is_in_nothing_of_the_task_holds_the_screen(ws, qtbot):
    """A task's future and progress refer to each other; only the garbage collector frees
    such cycles, and it may run on a worker thread. A screen (or a context) they held would be
    destroyed there: a QObject with an active timer warns, and Qt objects must die on their own
    thread. So once a task reported, its cycles hold none of its callbacks: the parent and the
    context go as soon as their last reference does, on the main thread."""
    context = AppContext(ws)
    timer = QTimer(context)  # the context's children live with it (a sync timer, say)
    timer.start(60_000)
    parent = QObject()
    answers = []
    gate = hold_database(context)
    Op(context, parent, lambda _progress: "xong").success(answers.append).run()
    Query(context, parent, lambda _progress: "cũ").success(answers.append).run()
    Query(context, parent, lambda _progress: "mới").success(answers.append).run()
    gate.set()
    answered(qtbot, context)
    assert answers == ["xong", "mới"]
    context.tasks.shutdown()
    gone = [weakref.ref(parent), weakref.ref(context)]
    gc.disable()  # only reference counting may free them now
    try:
        del parent, timer, context
        assert [ref() for ref in gone] == [None, None]
    finally:
        gc.enable()


# -- reads ----------------------------------------------------------------------------------
def test_only_the_latest_query_answers(ctx, qtbot, owner):
    answers, ran = [], []
    gate = hold_database(ctx)

    def work(word: str):
        def read(progress: Progress) -> str:
            progress.check()  # a superseded query is asked to stop here
            ran.append(word)
            return word

        return read

    old = Query(ctx, owner, work("cũ")).success(answers.append).run()
    Query(ctx, owner, work("mới")).success(answers.append).run()
    assert old.progress is not None and old.progress.cancelled
    gate.set()
    answered(qtbot, ctx)
    assert answers == ["mới"] and ran == ["mới"]


def test_a_stale_answer_is_dropped_even_if_the_work_ignored_the_cancel(ctx, qtbot, owner):
    answers = []
    gate = hold_database(ctx)
    Query(ctx, owner, lambda _progress: "cũ").success(answers.append).run()
    Query(ctx, owner, lambda _progress: "mới").success(answers.append).run()
    gate.set()
    answered(qtbot, ctx)
    assert answers == ["mới"]


def test_a_stale_failure_is_dropped_too(ctx, qtbot, owner):
    answers = []
    gate = hold_database(ctx)

    def broken(_progress: Progress) -> str:
        raise DxError("Hỏng.")

    Query(ctx, owner, broken).success(answers.append).run()
    Query(ctx, owner, lambda _progress: "mới").success(answers.append).run()
    gate.set()
    answered(qtbot, ctx)
    assert answers == ["mới"] and message_boxes(owner) == []


def test_queries_with_other_keys_or_parents_do_not_supersede_each_other(ctx, qtbot, owner):
    other = QWidget()
    qtbot.addWidget(other)
    answers = []
    Query(ctx, owner, lambda _progress: "danh sách", "rows").success(answers.append).run()
    Query(ctx, owner, lambda _progress: "chi tiết", "detail").success(answers.append).run()
    Query(ctx, other, lambda _progress: "trang khác", "rows").success(answers.append).run()
    answered(qtbot, ctx)
    assert sorted(answers) == ["chi tiết", "danh sách", "trang khác"]


def test_a_query_whose_parent_was_closed_answers_nothing(ctx, qtbot):
    dialog = QDialog()
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    outcome = []
    gate = hold_database(ctx)

    def broken(_progress: Progress) -> str:
        raise DxError("Hỏng.")

    Query(ctx, dialog, lambda _progress: "kết quả", "a").success(outcome.append).run()
    Query(ctx, dialog, broken, "b").success(outcome.append).run()
    dialog.close()
    qtbot.waitUntil(lambda: not is_alive(dialog))
    gate.set()
    answered(qtbot, ctx)
    assert outcome == [] and message_boxes() == []  # a read has nobody left to tell


def test_a_failed_query_shows_its_sentence(ctx, qtbot, owner):
    def broken(_progress: Progress) -> str:
        raise DxError("Không đọc được.")

    Query(ctx, owner, broken).run()
    answered(qtbot, ctx)
    boxes = message_boxes(owner)
    assert [box.text() for box in boxes] == ["Không đọc được."]
    close_all(boxes)


# -- the page base class ----------------------------------------------------------------------
class HamletsPage(Page):
    WATCHED = ("hamlets",)

    def __init__(self, ctx, parent=None):
        super().__init__(ctx, parent)
        self.names: list[str] = []
        self.refreshes = 0
        self.retranslated = 0
        self.refresh()

    def refresh(self) -> None:
        self.refreshes += 1
        catalog = self.ws.catalog
        self.query(lambda _progress: [h.name for h in catalog.hamlets()]).success(
            self._show).run()

    def _show(self, names: list[str]) -> None:
        self.names = names

    def retranslate(self) -> None:
        self.retranslated += 1


def test_a_page_refreshes_when_a_table_it_watches_changes(ctx, qtbot, ws):
    page = HamletsPage(ctx)
    qtbot.addWidget(page)
    answered(qtbot, ctx)
    assert sorted(page.names) == sorted(["Ấp Mỹ Hưng", "Khóm 3", "Ấp Đông Hòa"])
    other = Changes()
    other.updated["visits"].add("v1")
    ctx.notify(other)
    assert page.refreshes == 1  # a table it does not show
    page.op(lambda _progress: ws.catalog.add_hamlet("Ấp Mới")).run()
    settle(qtbot, ctx, lambda: "Ấp Mới" in page.names)
    assert page.refreshes == 2


def test_a_page_is_busy_while_its_operations_run(ctx, qtbot, ws):
    page = HamletsPage(ctx)
    qtbot.addWidget(page)
    states = []
    page.busy_changed.connect(states.append)
    gate = hold_database(ctx)
    page.op(lambda _progress: ws.catalog.add_hamlet("Ấp Một")).run()
    page.op(lambda _progress: ws.catalog.add_hamlet("Ấp Hai")).run()
    assert page.busy
    gate.set()
    answered(qtbot, ctx)
    assert not page.busy and states == [True, False]


def test_a_page_retranslates_on_a_language_switch(ctx, qtbot):
    page = HamletsPage(ctx)
    qtbot.addWidget(page)
    ctx.language_changed.emit("en")
    assert page.retranslated == 1
