"""The first-run assistant: a laptop that is not enrolled and does not know its team yet is
walked through place → hamlets → team members → "who am I", one step per screen, each saved
as it is left (closing half-way keeps what was done). A team whose hub gave it an enrollment
code enrolls on the first screen instead and only picks who is at this laptop.

Widgets only: every step calls the workspace's own operations."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.i18n import _
from dxkit.sync.apply import META_DEVICE, META_SERVER
from dxkit.ui.appearance import HINT_STYLE, scaled_font
from dxkit.ui.context import AppContext
from dxkit.ui.fitting import DIALOGS, FormScroll, fit_to_screen
from dxkit.ui.operations import Op
from dxkit.ui.place_picker import PlacePicker
from dxkit.ui.sync_ui import SyncSettingsBox, controller_for
from dxkit.ui.taskman import describe_error
from dxkit.ui.widgets import error_label, fill_choices, show_invalid

STEPS = ("welcome", "place", "hamlets", "members", "me")
DONE_SETTING = "first_run_done"  # "1" once finished or put off: never asked again
PREFERRED_SIZE = QSize(720, 520)


def first_run_due(ctx: AppContext) -> bool:
    """Not enrolled, never finished or put off, and something the assistant sets is missing."""
    ws = ctx.ws
    meta = ws.meta()
    # Read here, not from the sync controller: its status loads after the window opens.
    enrolled = bool(meta.get(META_SERVER) and meta.get(META_DEVICE))
    if ws.settings.get(DONE_SETTING) or enrolled or meta.get("demo") == "1":
        return False
    return _first_missing(ctx) != "me" or not ws.settings.get("current_member_id")


def _first_missing(ctx: AppContext) -> str:
    ws = ctx.ws
    if not all(ws.team_place()):
        return "place"
    if not ws.catalog.hamlets():
        return "hamlets"
    if not ws.catalog.members():
        return "members"
    return "me"


class FirstRunAssistant(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.ws = ctx.ws
        self.setWindowTitle(_("Getting started"))
        self.pages: dict[str, QWidget] = {}
        self.stack = QStackedWidget()
        for step in STEPS:
            page = getattr(self, f"_build_{step}")()
            self.pages[step] = page
            self.stack.addWidget(FormScroll(page))
        self.step_label = QLabel()
        self.step_label.setStyleSheet(HINT_STYLE)
        self.back_button = QPushButton(_("Back"))
        self.back_button.clicked.connect(self.back)
        self.later_button = QPushButton(_("Later"))
        self.later_button.setToolTip(_("Close; everything is also in Settings."))
        self.later_button.clicked.connect(self.put_off)
        self.next_button = QPushButton(_("Next"))
        self.next_button.setDefault(True)
        self.next_button.clicked.connect(self.next)
        buttons = QHBoxLayout()
        buttons.addWidget(self.step_label)
        buttons.addStretch(1)
        for button in (self.later_button, self.back_button, self.next_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack, 1)
        layout.addLayout(buttons)
        self.sync = controller_for(ctx)
        self.sync.changed.connect(self._enrollment_changed)
        ctx.changed.connect(lambda _changes: self._refresh_lists())
        self.show_step("welcome")
        fit_to_screen(self, PREFERRED_SIZE)

    # -- steps ----------------------------------------------------------------------------
    def _heading(self, text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        scaled_font(label, 1.3, bold=True)
        return label

    def _text(self, text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        return label

    def _build_welcome(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self._heading(_("Welcome to dxkit")))
        layout.addWidget(self._text(_(
            "A few steps tell this laptop where your team works, its hamlets, its members and "
            "who is using it. Each step is saved as you go.")))
        self.set_up_here = QRadioButton(_("Set up the team on this laptop"))
        self.set_up_here.setChecked(True)
        self.enroll_choice = QRadioButton(_("My team has an enrollment code from the hub"))
        self.enroll_box = SyncSettingsBox(self.ctx)
        self.enroll_box.setVisible(False)
        self.enroll_choice.toggled.connect(self.enroll_box.setVisible)
        self.enroll_choice.toggled.connect(lambda _on: self._update_buttons())
        for widget in (self.set_up_here, self.enroll_choice, self.enroll_box):
            layout.addWidget(widget)
        layout.addStretch(1)
        return page

    def _build_place(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self._heading(_("Where does the team work?")))
        layout.addWidget(self._text(_("Choose the province, then the commune or ward after the "
                                      "2025 reorganisation. You can type without diacritics.")))
        self.place_picker = PlacePicker()
        self.place_error = error_label()
        layout.addWidget(self.place_picker)
        layout.addWidget(self.place_error)
        layout.addStretch(1)
        return page

    def _build_hamlets(self) -> QWidget:
        page, self.hamlet_list, self.new_hamlet, self.hamlet_error = self._list_step(
            _("The team's hamlets"),
            _("Add each hamlet (ấp, khóm, thôn, tổ dân phố) the team visits."),
            _("Name of a new hamlet, e.g. Ấp Mỹ Hưng"), _("Add hamlet"), self.add_hamlet)
        return page

    def _build_members(self) -> QWidget:
        page, self.member_list, self.new_member, self.member_error = self._list_step(
            _("The team's members"),
            _("Add the people who visit households; visits record who went."),
            _("Full name of a new team member"), _("Add team member"), self.add_member)
        return page

    def _list_step(self, heading: str, text: str, placeholder: str, add_text: str,
                   add: object) -> tuple[QWidget, QListWidget, QLineEdit, QLabel]:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self._heading(heading))
        layout.addWidget(self._text(text))
        listed = QListWidget()
        listed.setMinimumHeight(90)
        edit = QLineEdit()
        edit.setPlaceholderText(placeholder)
        edit.returnPressed.connect(add)  # type: ignore[arg-type]
        button = QPushButton(add_text)
        button.setAutoDefault(False)
        button.clicked.connect(add)  # type: ignore[arg-type]
        row = QHBoxLayout()
        row.addWidget(edit, 1)
        row.addWidget(button)
        error = error_label()
        layout.addWidget(listed, 1)
        layout.addLayout(row)
        layout.addWidget(error)
        return page, listed, edit, error

    def _build_me(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self._heading(_("Who is using this laptop?")))
        layout.addWidget(self._text(_("Visits you record are signed with this name; you can "
                                      "change it any time in Settings.")))
        self.me_combo = QComboBox()
        self.me_error = error_label()
        layout.addWidget(self.me_combo)
        layout.addWidget(self.me_error)
        layout.addStretch(1)
        return page

    # -- moving -----------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter in a name field adds the name (the field already did) instead of moving on;
        Enter in an empty one moves on: type, Enter, type, Enter, Enter."""
        typing = self.focusWidget() in (self.new_hamlet, self.new_member)
        if typing and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if not self.focusWidget().text().strip():  # type: ignore[union-attr]
                self.next()
            return
        super().keyPressEvent(event)

    def current_step(self) -> str:
        return STEPS[self.stack.currentIndex()]

    def show_step(self, step: str) -> None:
        self.stack.setCurrentIndex(STEPS.index(step))
        self._refresh_lists()
        self._update_buttons()
        focus = {"hamlets": self.new_hamlet, "members": self.new_member,
                 "me": self.me_combo, "place": self.place_picker.province_combo}.get(step)
        if focus is not None:
            focus.setFocus()

    def _update_buttons(self) -> None:
        step = self.current_step()
        number = STEPS.index(step)
        self.step_label.setText(_("Step {number} of {count}").format(
            number=number + 1, count=len(STEPS)))
        self.back_button.setEnabled(number > 0)
        self.next_button.setText(_("Finish") if step == "me" else _("Next"))
        self.next_button.setEnabled(not (step == "welcome" and self.enroll_choice.isChecked()
                                         and not self.sync.enrolled))

    def back(self) -> None:
        number = STEPS.index(self.current_step())
        if number > 0:
            self.show_step(STEPS[number - 1])

    def next(self) -> None:
        step = self.current_step()
        if step == "welcome":
            self.show_step(_first_missing(self.ctx) if self.sync.enrolled else "place")
        elif step == "place":
            self.save_place()
        elif step == "hamlets":
            self._require(self.ws.catalog.hamlets(), self.hamlet_error,
                          _("Add at least one hamlet."), "members")
        elif step == "members":
            self._require(self.ws.catalog.members(), self.member_error,
                          _("Add at least one team member."), "me")
        else:
            self.finish()

    def _require(self, present: list, error: QLabel, sentence: str,  # type: ignore[type-arg]
                 then: str) -> None:
        if not present:
            error.setText(sentence)
            error.show()
            return
        error.hide()
        self.show_step(then)

    def _enrollment_changed(self) -> None:
        self._update_buttons()
        if self.sync.enrolled and self.current_step() == "welcome":
            self.show_step(_first_missing(self.ctx))

    # -- saving -----------------------------------------------------------------------------
    def save_place(self) -> None:
        chosen = self.place_picker.complete(self.place_error)
        if chosen is None:
            return
        province, commune = chosen
        ctx, ws = self.ctx, self.ws
        (Op(ctx, self, lambda _progress: ws.configure_team(province, commune))
         .while_running(lambda saving: self.next_button.setEnabled(not saving))
         .announce(lambda _units: ctx.team_place_changed.emit())
         .success(lambda _units: self.show_step("hamlets"))
         .failure(self._place_failed)
         .run())

    def _place_failed(self, error: BaseException) -> None:
        self.place_error.setText(describe_error(error))
        self.place_error.show()

    def add_hamlet(self) -> None:
        name, catalog = self.new_hamlet.text(), self.ws.catalog
        self.hamlet_error.hide()
        (Op(self.ctx, self, lambda _progress: catalog.add_hamlet(name))
         .success(lambda _result: self.new_hamlet.clear())
         .invalid(lambda error: show_invalid(self.hamlet_error, error))
         .run())

    def add_member(self) -> None:
        name, catalog = self.new_member.text(), self.ws.catalog
        self.member_error.hide()
        (Op(self.ctx, self, lambda _progress: catalog.add_member(name))
         .success(lambda _result: self.new_member.clear())
         .invalid(lambda error: show_invalid(self.member_error, error))
         .run())

    def _refresh_lists(self) -> None:
        catalog = self.ws.catalog
        self.hamlet_list.clear()
        self.hamlet_list.addItems([h.name for h in catalog.hamlets()])
        members = catalog.members()
        self.member_list.clear()
        self.member_list.addItems([m.name for m in members])
        chosen = self.ws.settings.get("current_member_id") or (
            members[0].id if len(members) == 1 else "")
        fill_choices(self.me_combo, _("— choose your name —"),
                     [(m.id, m.name) for m in members], chosen=chosen)

    def finish(self) -> None:
        member_id = self.me_combo.currentData()
        if not member_id:
            self.me_error.setText(_("Choose your name."))
            self.me_error.show()
            return
        self.ws.settings.set("current_member_id", member_id)
        self.ws.settings.set(DONE_SETTING, "1")
        self.accept()

    def put_off(self) -> None:
        self.ws.settings.set(DONE_SETTING, "1")
        self.reject()


@DIALOGS.register("first-run assistant")
def _sample_first_run(ctx: AppContext, parent: QWidget) -> QDialog:
    assistant = FirstRunAssistant(ctx, parent)
    assistant.show_step("hamlets")
    return assistant

