"""Settings: language, who is recording, team members, hamlets, and the team's place."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dxkit.core import i18n
from dxkit.core.errors import ValidationError
from dxkit.core.i18n import _
from dxkit.core.synced import Changes
from dxkit.ui.context import AppContext
from dxkit.ui.widgets import ERROR_STYLE, run_operation

# Each language is named in itself, so a user who cannot read the current one still finds it.
LANGUAGE_NAMES = (("vi", "Tiếng Việt"), ("en", "English"))


class SettingsPage(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self._build()
        self._fill_members()
        self._fill_hamlets()
        ctx.changed.connect(self._on_changed)

    def _build(self) -> None:
        ws = self.ctx.ws
        self.language_combo = QComboBox()
        for code, name in LANGUAGE_NAMES:
            self.language_combo.addItem(name, code)
        self.language_combo.setCurrentIndex(
            max(0, self.language_combo.findData(i18n.language())))
        self.language_combo.currentIndexChanged.connect(self._language_chosen)

        self.member_combo = QComboBox()
        self.member_combo.currentIndexChanged.connect(self._member_chosen)
        self.new_member = QLineEdit()
        self.new_member.setPlaceholderText(_("Full name of a new team member"))
        self.new_member.returnPressed.connect(self.add_member)
        self.add_member_button = QPushButton(_("Add team member"))
        self.add_member_button.clicked.connect(self.add_member)
        self.member_error = _error_label()
        member_row = QHBoxLayout()
        member_row.addWidget(self.new_member, 1)
        member_row.addWidget(self.add_member_button)

        province, commune = ws.team_place()
        place = ", ".join(p for p in (commune, province) if p) or _("not configured yet")
        self.place_label = QLabel(place)
        self.admin_data_label = QLabel(ws.meta().get("admin_data", ""))

        general = QGroupBox(_("General"))
        form = QFormLayout(general)
        form.addRow(_("Language"), self.language_combo)
        form.addRow(_("Recorded by"), self.member_combo)
        form.addRow(_("New team member"), member_row)
        form.addRow("", self.member_error)
        form.addRow(_("Commune / ward"), self.place_label)
        form.addRow(_("Administrative data version"), self.admin_data_label)

        self.hamlet_list = QListWidget()
        self.new_hamlet = QLineEdit()
        self.new_hamlet.setPlaceholderText(_("Name of a new hamlet, e.g. Ấp Mỹ Hưng"))
        self.new_hamlet.returnPressed.connect(self.add_hamlet)
        self.add_hamlet_button = QPushButton(_("Add hamlet"))
        self.add_hamlet_button.clicked.connect(self.add_hamlet)
        self.rename_hamlet_button = QPushButton(_("Rename…"))
        self.rename_hamlet_button.clicked.connect(self.rename_selected_hamlet)
        self.hamlet_error = _error_label()
        hamlet_row = QHBoxLayout()
        hamlet_row.addWidget(self.new_hamlet, 1)
        hamlet_row.addWidget(self.add_hamlet_button)
        hamlet_row.addWidget(self.rename_hamlet_button)
        hamlets = QGroupBox(_("Hamlets"))
        hamlet_layout = QVBoxLayout(hamlets)
        hamlet_layout.addWidget(self.hamlet_list)
        hamlet_layout.addLayout(hamlet_row)
        hamlet_layout.addWidget(self.hamlet_error)

        layout = QVBoxLayout(self)
        layout.addWidget(general)
        layout.addWidget(hamlets, 1)

    # -- language and recorder ----------------------------------------------------------
    def _language_chosen(self, _index: int) -> None:
        code = self.language_combo.currentData()
        if code == i18n.language():
            return
        self.ctx.ws.settings.set("language", code)
        i18n.set_language(code)
        self.ctx.language_changed.emit(code)

    def _fill_members(self) -> None:
        current = self.ctx.ws.settings.get("current_member_id")
        combo = self.member_combo
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(_("— not chosen —"), None)
        for member in self.ctx.ws.catalog.members():
            combo.addItem(member.name, member.id)
        combo.setCurrentIndex(max(0, combo.findData(current)) if current else 0)
        combo.blockSignals(False)

    def _member_chosen(self, _index: int) -> None:
        self.ctx.ws.settings.set("current_member_id", self.member_combo.currentData())

    def add_member(self) -> None:
        name = self.new_member.text()
        self.member_error.hide()
        run_operation(self.ctx, lambda: self.ctx.ws.catalog.add_member(name), parent=self,
                      on_success=lambda _r: self.new_member.clear(),
                      on_invalid=lambda e: _show(self.member_error, e))

    # -- hamlets ------------------------------------------------------------------------
    def _fill_hamlets(self) -> None:
        self.hamlet_list.clear()
        for hamlet in self.ctx.ws.catalog.hamlets():
            item = QListWidgetItem(hamlet.name, self.hamlet_list)
            item.setData(Qt.ItemDataRole.UserRole, hamlet.id)
        self.rename_hamlet_button.setEnabled(self.hamlet_list.count() > 0)

    def add_hamlet(self) -> None:
        name = self.new_hamlet.text()
        self.hamlet_error.hide()
        run_operation(self.ctx, lambda: self.ctx.ws.catalog.add_hamlet(name), parent=self,
                      on_success=lambda _r: self.new_hamlet.clear(),
                      on_invalid=lambda e: _show(self.hamlet_error, e))

    def rename_selected_hamlet(self, new_name: str | None = None) -> None:
        item = self.hamlet_list.currentItem()
        if item is None:
            return
        if new_name is None:
            new_name, ok = QInputDialog.getText(self, _("Rename hamlet"), _("New name"),
                                                text=item.text())
            if not ok:
                return
        hamlet_id = item.data(Qt.ItemDataRole.UserRole)
        self.hamlet_error.hide()
        run_operation(self.ctx, lambda: self.ctx.ws.catalog.rename_hamlet(hamlet_id, new_name),
                      parent=self, on_success=lambda _r: None,
                      on_invalid=lambda e: _show(self.hamlet_error, e))

    def _on_changed(self, changes: Changes) -> None:
        if changes.touched("hamlets"):
            self._fill_hamlets()
        if changes.touched("team_members"):
            self._fill_members()


def _error_label() -> QLabel:
    label = QLabel()
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


def _show(label: QLabel, error: ValidationError) -> None:
    label.setText(" ".join(error.fields.values()))
    label.show()
