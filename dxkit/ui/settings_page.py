"""Settings: language, who is recording, team members, hamlets, the team's place, sync,
farm units, and backups (with diagnostics).

A new workspace does not know where its team works yet: until it does, the page offers a
province then commune/ward choice (type-ahead, diacritics optional)."""

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
from dxkit.ui import appearance
from dxkit.ui.backup_ui import BackupsBox
from dxkit.ui.context import AppContext
from dxkit.ui.operations import Op
from dxkit.ui.page import Page
from dxkit.ui.place_picker import PlacePicker
from dxkit.ui.sync_ui import SyncSettingsBox
from dxkit.ui.taskman import describe_error
from dxkit.ui.widgets import error_label, fill_choices, show_invalid

# Each language is named in itself, so a user who cannot read the current one still finds it.
LANGUAGE_NAMES = (("vi", "Tiếng Việt"), ("en", "English"))


class SettingsPage(Page):
    WATCHED = ("hamlets", "team_members")

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self._build()
        self._fill_members()
        self._fill_hamlets()
        self._show_place()
        ctx.team_place_changed.connect(self._show_place)

    def _build(self) -> None:
        ws = self.ctx.ws
        self.language_combo = QComboBox()
        for code, name in LANGUAGE_NAMES:
            self.language_combo.addItem(name, code)
        self.language_combo.setCurrentIndex(
            max(0, self.language_combo.findData(i18n.language())))
        self.language_combo.currentIndexChanged.connect(self._language_chosen)

        self.text_size_combo = QComboBox()
        for size in appearance.TEXT_SIZES:
            self.text_size_combo.addItem(_("{percent}%").format(percent=size), size)
        self.text_size_combo.setCurrentIndex(
            max(0, self.text_size_combo.findData(appearance.text_size(ws))))
        self.text_size_combo.currentIndexChanged.connect(self._text_size_chosen)

        self.member_combo = QComboBox()
        self.member_combo.currentIndexChanged.connect(self._member_chosen)
        self.new_member = QLineEdit()
        self.new_member.setPlaceholderText(_("Full name of a new team member"))
        self.new_member.returnPressed.connect(self.add_member)
        self.add_member_button = QPushButton(_("Add team member"))
        self.add_member_button.clicked.connect(self.add_member)
        self.member_error = error_label()
        member_row = QHBoxLayout()
        member_row.addWidget(self.new_member, 1)
        member_row.addWidget(self.add_member_button)

        self.place_label = QLabel()
        self.admin_data_label = QLabel(ws.meta().get("admin_data", ""))

        general = QGroupBox(_("General"))
        form = QFormLayout(general)
        form.addRow(_("Language"), self.language_combo)
        form.addRow(_("Text size"), self.text_size_combo)
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
        self.hamlet_error = error_label()
        hamlet_row = QHBoxLayout()
        hamlet_row.addWidget(self.new_hamlet, 1)
        hamlet_row.addWidget(self.add_hamlet_button)
        hamlet_row.addWidget(self.rename_hamlet_button)
        hamlets = QGroupBox(_("Hamlets"))
        hamlet_layout = QVBoxLayout(hamlets)
        hamlet_layout.addWidget(self.hamlet_list)
        hamlet_layout.addLayout(hamlet_row)
        hamlet_layout.addWidget(self.hamlet_error)

        self.sync_box = SyncSettingsBox(self.ctx)
        self.farm_box = FarmSettingsBox(self.ctx)
        self.backups_box = BackupsBox(self.ctx)
        layout = QVBoxLayout(self)  # the main window scrolls it (Section.scrolls)
        layout.addWidget(self._build_place_box())
        layout.addWidget(general)
        layout.addWidget(self.sync_box)
        layout.addWidget(self.farm_box)
        layout.addWidget(hamlets, 1)
        layout.addWidget(self.backups_box)

    # -- the team's place ---------------------------------------------------------------
    def _build_place_box(self) -> QGroupBox:
        self.place_picker = PlacePicker()
        self.province_combo = self.place_picker.province_combo
        self.commune_combo = self.place_picker.commune_combo
        self.save_place_button = QPushButton(_("Save the team's place"))
        self.save_place_button.clicked.connect(self.save_place)
        self.place_error = error_label()

        self.place_box = QGroupBox(_("Where does the team work?"))
        intro = QLabel(_("Choose the province, then the commune or ward after the 2025 "
                         "reorganisation. You can type without diacritics."))
        intro.setWordWrap(True)
        form = QFormLayout(self.place_box)
        form.addRow(intro)
        form.addRow(self.place_picker)
        form.addRow("", self.save_place_button)
        form.addRow("", self.place_error)
        return self.place_box

    def _show_place(self) -> None:
        province, commune = self.ctx.ws.team_place()
        place = ", ".join(p for p in (commune, province) if p)
        self.place_label.setText(place or _("not configured yet"))
        self.place_box.setVisible(not (province and commune))

    def save_place(self) -> None:
        chosen = self.place_picker.complete(self.place_error)
        if chosen is None:
            return
        province, commune = chosen
        ctx, ws = self.ctx, self.ws
        # The title and every page follow the place, even if a language switch rebuilt (and
        # deleted) this page meanwhile; only this page's own widgets need it alive.
        (self.op(lambda _progress: ws.configure_team(province, commune))
         .while_running(lambda saving: self.save_place_button.setEnabled(not saving))
         .announce(lambda _units: ctx.team_place_changed.emit())
         .failure(self._place_failed)
         .run())

    def _place_failed(self, error: BaseException) -> None:
        self.place_error.setText(describe_error(error))
        self.place_error.show()

    # -- language and recorder ----------------------------------------------------------
    def _language_chosen(self, _index: int) -> None:
        code = self.language_combo.currentData()
        if code == i18n.language():
            return
        self.ctx.ws.settings.set("language", code)
        i18n.set_language(code)
        self.ctx.language_changed.emit(code)

    def _text_size_chosen(self, _index: int) -> None:
        size = self.text_size_combo.currentData()
        if size == appearance.text_size(self.ctx.ws):
            return
        self.ctx.ws.settings.set(appearance.SETTING, str(size))
        appearance.apply(self.ctx.ws)
        self.ctx.appearance_changed.emit()

    def _fill_members(self) -> None:
        fill_choices(self.member_combo, _("— not chosen —"),
                     [(m.id, m.name) for m in self.ctx.ws.catalog.members()],
                     chosen=self.ctx.ws.settings.get("current_member_id") or "")

    def _member_chosen(self, _index: int) -> None:
        self.ctx.ws.settings.set("current_member_id", self.member_combo.currentData())

    def add_member(self) -> None:
        name, catalog = self.new_member.text(), self.ctx.ws.catalog
        self.member_error.hide()
        (self.op(lambda _progress: catalog.add_member(name))
         .success(lambda _result: self.new_member.clear())
         .invalid(lambda error: show_invalid(self.member_error, error))
         .run())

    # -- hamlets ------------------------------------------------------------------------
    def _fill_hamlets(self) -> None:
        self.hamlet_list.clear()
        for hamlet in self.ctx.ws.catalog.hamlets():
            item = QListWidgetItem(hamlet.name, self.hamlet_list)
            item.setData(Qt.ItemDataRole.UserRole, hamlet.id)
        self.rename_hamlet_button.setEnabled(self.hamlet_list.count() > 0)

    def add_hamlet(self) -> None:
        name, catalog = self.new_hamlet.text(), self.ctx.ws.catalog
        self.hamlet_error.hide()
        (self.op(lambda _progress: catalog.add_hamlet(name))
         .success(lambda _result: self.new_hamlet.clear())
         .invalid(lambda error: show_invalid(self.hamlet_error, error))
         .run())

    def rename_selected_hamlet(self, new_name: str | None = None) -> None:
        item = self.hamlet_list.currentItem()
        if item is None:
            return
        if new_name is None:
            new_name, ok = QInputDialog.getText(self, _("Rename hamlet"), _("New name"),
                                                text=item.text())
            if not ok:
                return
        hamlet_id, catalog = item.data(Qt.ItemDataRole.UserRole), self.ctx.ws.catalog
        self.hamlet_error.hide()
        (self.op(lambda _progress: catalog.rename_hamlet(hamlet_id, new_name))
         .invalid(lambda error: show_invalid(self.hamlet_error, error))
         .run())

    def on_changed(self, changes: Changes) -> None:
        if changes.touched("hamlets"):
            self._fill_hamlets()
        if changes.touched("team_members"):
            self._fill_members()


class FarmSettingsBox(QGroupBox):
    """The province's trace address (what lot QR codes hold), the GS1 resolver and the size
    of one công; saved together, each error next to its field."""

    FIELDS = ("trace_base_url", "gs1_resolver", "cong_m2")

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(_("Traceability labels and farm units"), parent)
        self.ctx = ctx
        self.edits = {name: QLineEdit() for name in self.FIELDS}
        self._show_saved()
        self.errors = {name: error_label() for name in self.FIELDS}
        self.save_button = QPushButton(_("Save"))
        self.save_button.clicked.connect(self.save)
        form = QFormLayout(self)
        titles = (_("Trace address in QR codes"), _("GS1 Digital Link resolver"),
                  _("Square metres in one công"))
        for name, title in zip(self.FIELDS, titles, strict=True):
            form.addRow(title, self.edits[name])
            form.addRow("", self.errors[name])
        form.addRow("", self.save_button)

    def save(self) -> None:
        values = {name: edit.text() for name, edit in self.edits.items()}
        for label in self.errors.values():
            label.clear()
            label.hide()
        farm = self.ctx.ws.farm
        (Op(self.ctx, self, lambda _progress: farm.configure(**values))
         .success(lambda _result: self._show_saved())
         .invalid(self._invalid)
         .run())

    def _show_saved(self) -> None:
        """What was set, with the value in effect as the placeholder of an empty field."""
        farm = self.ctx.ws.farm
        configured, effective = farm.configured_settings(), farm.settings()
        for name, edit in self.edits.items():
            edit.setText(str(configured[name]))
            edit.setPlaceholderText(str(effective[name]))

    def _invalid(self, error: ValidationError) -> None:
        for name, message in error.fields.items():
            if name in self.errors:
                self.errors[name].setText(message)
                self.errors[name].show()


