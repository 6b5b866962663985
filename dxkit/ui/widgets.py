"""Small shared widgets and helpers for the screens."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from typing import Any

import shiboken6
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.errors import Cancelled, ValidationError
from dxkit.core.i18n import _
from dxkit.ui.context import AppContext
from dxkit.ui.taskman import Task, describe_error

ERROR_STYLE = "color: #b00020;"


def module_available(name: str) -> bool:
    """True when an optional module another part of the app provides is installed."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def save_cancel_buttons(dialog: QDialog, save_text: str | None = None) -> QDialogButtonBox:
    """Save (the default button, with `save_text` or "Save") and Cancel, translated, wired to
    the dialog's save() and reject()."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                               | QDialogButtonBox.StandardButton.Cancel)
    save = buttons.button(QDialogButtonBox.StandardButton.Save)
    save.setText(save_text or _("Save"))
    save.setDefault(True)
    buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Cancel"))
    buttons.accepted.connect(dialog.save)  # type: ignore[attr-defined]
    buttons.rejected.connect(dialog.reject)
    return buttons


def error_label() -> QLabel:
    """A red, wrapping message line, hidden until there is something to say."""
    label = QLabel()
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


def is_alive(widget: QWidget | None) -> bool:
    """False once Qt deleted the widget (e.g. a language switch rebuilt its page)."""
    return widget is not None and shiboken6.isValid(widget)


def while_alive(owner: QWidget, callback: Callable[[Any], None]) -> Callable[[Any], None]:
    """`callback`, skipped when it arrives after `owner` was deleted: background results can
    outlive the screen that asked for them."""

    def guarded(value: Any) -> None:
        if is_alive(owner):
            callback(value)

    return guarded


class FieldWithError(QWidget):
    """An editor with a red message line under it, hidden until a validation error."""

    def __init__(self, editor: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.editor = editor
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(editor)
        layout.addWidget(self.error)
        self.setFocusProxy(editor)

    def set_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def error_text(self) -> str:
        return "" if self.error.isHidden() else self.error.text()


class FieldErrors:
    """The fields of one form by validation key; shows a ValidationError next to its fields."""

    def __init__(self, general: QLabel):
        self.fields: dict[str, FieldWithError] = {}
        self.general = general  # messages for keys no field owns
        general.setStyleSheet(ERROR_STYLE)
        general.setWordWrap(True)
        general.hide()

    def add(self, key: str, field: FieldWithError) -> FieldWithError:
        self.fields[key] = field
        return field

    def clear(self) -> None:
        for field in self.fields.values():
            field.set_error("")
        self.general.clear()
        self.general.hide()

    def show(self, errors: Mapping[str, str]) -> None:
        """Show each message under its field and focus the first bad field in form order."""
        self.clear()
        leftovers = []
        for key, message in errors.items():
            if key in self.fields:
                self.fields[key].set_error(message)
            else:
                leftovers.append(message)
        if leftovers:
            self.general.setText(" ".join(leftovers))
            self.general.show()
        for key, field in self.fields.items():
            if key in errors:
                field.editor.setFocus()
                break


def run_operation(ctx: AppContext, work: Callable[[], Any], *, parent: QWidget | None,
                  on_success: Callable[[Any], None],
                  on_invalid: Callable[[ValidationError], None] | None = None,
                  on_done: Callable[[], None] | None = None,
                  owner: QWidget | None = None) -> Task:
    """Run a workspace operation on the database thread; notify its changes, then call back.

    A ValidationError goes to `on_invalid` (forms show it next to the fields); any other error
    is a sentence in a message box. The changes are always announced, but the callbacks are
    skipped once `owner` (by default `parent`) was deleted while the work ran (e.g. a language
    switch rebuilt the page); an error is then still shown, without a parent.
    """
    guard = owner if owner is not None else parent

    def alive() -> bool:
        return guard is None or is_alive(guard)

    def succeeded(result: Any) -> None:
        changes = getattr(result, "changes", None)
        if changes is not None:
            ctx.notify(changes)  # other screens must hear of it even if this one is gone
        if not alive():
            return
        if on_done:
            on_done()
        on_success(result)

    def failed(error: BaseException) -> None:
        if not alive():
            if not isinstance(error, Cancelled):
                show_error(None, error)
            return
        if on_done:
            on_done()
        if isinstance(error, ValidationError) and on_invalid is not None:
            on_invalid(error)
        elif not isinstance(error, Cancelled):
            show_error(parent if is_alive(parent) else None, error)

    return ctx.tasks.run(lambda _progress: work(), on_success=succeeded, on_failure=failed,
                         cancellable=False)


def show_error(parent: QWidget | None, error: BaseException) -> QMessageBox:
    return show_message(parent, describe_error(error), QMessageBox.Icon.Warning)


def show_message(parent: QWidget | None, text: str,
                 icon: QMessageBox.Icon = QMessageBox.Icon.Information) -> QMessageBox:
    """A window-modal message that does not block the caller (results arrive by signal)."""
    box = QMessageBox(icon, _("dxkit"), text, QMessageBox.StandardButton.Ok, parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


class RowsTableModel(QAbstractTableModel):
    """A read-only table over a list of rows: subclasses give `headers()` and `data()`."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Any] = []

    @staticmethod
    def headers() -> list[str]:
        raise NotImplementedError

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()  # noqa: B008
                 ) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex(  # noqa: B008
                    )) -> int:
        return 0 if parent.isValid() else len(self.headers())

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers()[section]
        return None


def fill_choices(combo: QComboBox, none_label: str, entries: list[tuple[Any, str]],
                 chosen: Any = None) -> None:
    """Refill a filter combo (a "none/all" entry, then `entries` as (key, label)) without
    firing its signals, keeping `chosen` (default: the current choice) if it still exists."""
    keep = combo.currentData() if chosen is None else chosen
    combo.blockSignals(True)
    combo.clear()
    combo.addItem(none_label, None)
    for key, label in entries:
        combo.addItem(label, key)
    combo.setCurrentIndex(max(combo.findData(keep), 0) if keep else 0)
    combo.blockSignals(False)


class LatestQuery:
    """Runs a read on the database thread and delivers only the newest question's answer,
    and only while `owner` exists (a slow answer to an old filter must not overwrite a new
    one)."""

    def __init__(self, ctx: AppContext, owner: QWidget):
        self.ctx, self.owner = ctx, owner
        self.number = 0

    def run(self, work: Callable[[], Any], on_answer: Callable[[Any], None]) -> Task:
        self.number += 1
        number = self.number

        def answered(result: Any) -> None:
            if number == self.number:
                on_answer(result)

        return self.ctx.tasks.run(lambda _progress: work(), cancellable=False,
                                  on_success=while_alive(self.owner, answered))

