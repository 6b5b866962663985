"""Small shared widgets and helpers for the screens."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import Any

import shiboken6
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.errors import ValidationError
from dxkit.core.i18n import _
from dxkit.ui.taskman import describe_error

ERROR_STYLE = "color: #b00020;"
RECORD_VISIT_KEYS = "Ctrl+R"  # the main window's and the household page's shortcut


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


def show_invalid(label: QLabel, error: ValidationError) -> None:
    """A validation error's sentences in an error_label."""
    label.setText(" ".join(error.fields.values()))
    label.show()


def error_label() -> QLabel:
    """A red, wrapping message line, hidden until there is something to say."""
    label = QLabel()
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


def is_alive(widget: QObject | None) -> bool:
    """False once Qt deleted the widget (e.g. a language switch rebuilt its page)."""
    return widget is not None and shiboken6.isValid(widget)


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


def show_error(parent: QWidget | None, error: BaseException) -> QMessageBox:
    return show_message(parent, describe_error(error), QMessageBox.Icon.Warning)


def show_message(parent: QWidget | None, text: str,
                 icon: QMessageBox.Icon = QMessageBox.Icon.Information) -> QMessageBox:
    """A window-modal message that does not block the caller (results arrive by signal)."""
    box = QMessageBox(icon, _("dxkit"), text, QMessageBox.StandardButton.Ok, parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if parent is None:
        # Nothing else holds a parentless box: without this Python would delete it (and the
        # message with it) as soon as the caller drops it.
        _UNPARENTED_BOXES.add(box)
        box.finished.connect(lambda _result: _UNPARENTED_BOXES.discard(box))
    box.open()
    return box


_UNPARENTED_BOXES: set[QMessageBox] = set()


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
