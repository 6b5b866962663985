"""Shared widgets, and run_operation: the old spelling of `Op` the farm screens still use. The
work runs on the database thread; its changes are always announced, but the callbacks of a
screen deleted meanwhile (a language switch rebuilds every page) are not."""

from __future__ import annotations

import threading

import shiboken6
from PySide6.QtWidgets import QLabel, QWidget

from dxkit.ui.widgets import error_label, run_operation
from tests.ui.conftest import settle


def hold_database(ctx) -> threading.Event:
    """Keep the database thread busy until the returned event is set."""
    gate = threading.Event()
    ctx.tasks.run(lambda _progress: gate.wait(10), cancellable=False)
    return gate


def test_callbacks_run_while_the_owner_lives(ctx, qtbot, ws):
    owner = QWidget()
    qtbot.addWidget(owner)
    called = []
    run_operation(ctx, lambda: ws.catalog.add_hamlet("Ấp Mới"), parent=owner, owner=owner,
                  on_success=lambda result: called.append(result.value.name),
                  on_done=lambda: called.append("done"))
    settle(qtbot, ctx, lambda: len(called) == 2)
    assert called == ["done", "Ấp Mới"]


def test_a_deleted_owner_gets_no_callback_but_the_changes_are_announced(ctx, qtbot, ws):
    owner = QWidget()
    seen, called = [], []
    ctx.changed.connect(seen.append)
    gate = hold_database(ctx)
    run_operation(ctx, lambda: ws.catalog.add_hamlet("Ấp Mới"), parent=None, owner=owner,
                  on_success=called.append, on_done=lambda: called.append("done"))
    shiboken6.delete(owner)  # the page goes away before the result comes back
    gate.set()
    settle(qtbot, ctx, lambda: bool(seen))
    assert called == []
    assert seen[0].touched("hamlets")
    assert "Ấp Mới" in [h.name for h in ws.catalog.hamlets()]


def test_invalid_input_goes_to_the_form_while_it_lives(ctx, qtbot, ws):
    owner = QWidget()
    qtbot.addWidget(owner)
    invalid = []
    run_operation(ctx, lambda: ws.catalog.add_hamlet(""), parent=owner,
                  on_success=lambda _result: None, on_invalid=invalid.append)
    settle(qtbot, ctx, lambda: bool(invalid))
    assert invalid[0].fields


def test_error_label_is_red_wrapping_and_hidden():
    label = error_label()
    assert isinstance(label, QLabel) and label.isHidden() and label.wordWrap()
    assert "color" in label.styleSheet()
