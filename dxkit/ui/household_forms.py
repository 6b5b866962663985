"""Forms to add or edit a household or a person. Errors appear under the field they concern."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from dxkit.core.errors import ValidationError
from dxkit.core.i18n import _, format_coordinate
from dxkit.core.progress import Progress
from dxkit.core.synced import OpResult
from dxkit.households.fields import HOUSEHOLD, PERSON, Field
from dxkit.households.roster import RELATIONSHIPS, Household, Person
from dxkit.ui.appearance import HINT_STYLE
from dxkit.ui.context import AppContext
from dxkit.ui.fitting import DIALOGS, fit_to_screen, scrolled_body
from dxkit.ui.operations import Op, Query
from dxkit.ui.widgets import FieldErrors, FieldWithError, save_cancel_buttons
from dxkit.workspace import Workspace

Work = Callable[[Progress], OpResult[Any]]
SAVED_STYLE = "background: #e3f1e3; color: #14521a; padding: 4px;"  # 8.6:1


class _Form(QDialog):
    """A QFormLayout dialog with Save/Cancel: Enter saves, Esc cancels."""

    def __init__(self, ctx: AppContext, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.errors = FieldErrors(QLabel())
        self.buttons = save_cancel_buttons(self)
        body = scrolled_body(self, self.buttons)  # Save and Cancel stay in view
        body.addLayout(self.form)
        body.addWidget(self.errors.general)
        self.saving = False

    def field(self, spec: Field, editor: QWidget) -> FieldWithError:
        """A form row named as everywhere else (households/fields.py); its errors show below."""
        wrapped = self.errors.add(spec.key, FieldWithError(editor))
        self.form.addRow(_(spec.label), wrapped)
        return wrapped

    def save(self) -> None:
        self._operation_with(self._saved)

    def operation(self) -> Work:  # pragma: no cover - subclasses return the save callable
        raise NotImplementedError

    def _set_saving(self, saving: bool) -> None:
        self.saving = saving
        self.buttons.setEnabled(not saving)

    def _saved(self, result: Any) -> None:
        self.result_value = result.value
        self.accept()

    def _operation_with(self, after: Callable[[Any], None]) -> None:
        """Save on the database thread, then `after(result)` (close, or start afresh)."""
        if self.saving:
            return
        self.errors.clear()
        (Op(self.ctx, self, self.operation())
         .while_running(self._set_saving)
         .success(after)
         .invalid(self._invalid)
         .run())

    def _invalid(self, error: ValidationError) -> None:
        self.errors.show(error.fields)


def _line(text: str = "", placeholder: str = "") -> QLineEdit:
    edit = QLineEdit(text)
    edit.setPlaceholderText(placeholder)
    return edit


def _notes(text: str) -> QPlainTextEdit:
    edit = QPlainTextEdit(text)
    edit.setTabChangesFocus(True)
    edit.setFixedHeight(60)
    return edit


class HouseholdForm(_Form):
    def __init__(self, ctx: AppContext, household: Household | None = None,
                 hamlet_id: str | None = None, parent: QWidget | None = None):
        super().__init__(ctx, _("Edit household") if household else _("Add household"), parent)
        self.household = household
        h = household
        self.code = _line(h.code if h else "", _("e.g. MH-0123"))
        self.head_name = _line(h.head_name if h else "")
        self.hamlet = QComboBox()
        self.hamlet.addItem(_("— choose a hamlet —"), "")
        for hamlet in ctx.ws.catalog.hamlets():
            self.hamlet.addItem(hamlet.name, hamlet.id)
        wanted = h.hamlet_id if h else hamlet_id
        if wanted:
            self.hamlet.setCurrentIndex(max(0, self.hamlet.findData(wanted)))
        self.address = _line(h.address if h else "")
        self.phone = _line(h.phone if h else "", _("e.g. 0912 345 678"))
        self.latitude = _line(_coordinate(h.latitude if h else None), _("e.g. 10.3600"))
        self.longitude = _line(_coordinate(h.longitude if h else None), _("e.g. 106.3650"))
        self.notes = _notes(h.notes if h else "")
        self.field(HOUSEHOLD["code"], self.code)
        self.field(HOUSEHOLD["head_name"], self.head_name)
        # A team whose list is empty or lacks a hamlet adds it here, without leaving the form.
        self.new_hamlet_button = QPushButton(_("New hamlet…"))
        self.new_hamlet_button.setAutoDefault(False)
        self.new_hamlet_button.clicked.connect(lambda: self.add_hamlet())
        hamlet_row = QWidget()
        row = QHBoxLayout(hamlet_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.hamlet, 1)
        row.addWidget(self.new_hamlet_button)
        self.field(HOUSEHOLD["hamlet"], hamlet_row)
        self.field(HOUSEHOLD["address"], self.address)
        self.field(HOUSEHOLD["phone"], self.phone)
        self.field(HOUSEHOLD["latitude"], self.latitude)
        self.field(HOUSEHOLD["longitude"], self.longitude)
        self.field(HOUSEHOLD["notes"], self.notes)
        self.suggested_code = ""
        if household is None:
            self.code.setToolTip(_("Suggested: the next free code of this hamlet's "
                                   "numbering. Type over it to use another."))
            self.hamlet.currentIndexChanged.connect(lambda _index: self.suggest_code())
            self.suggest_code()
        self.code.setFocus()
        fit_to_screen(self)

    def add_hamlet(self, name: str | None = None) -> None:
        """Ask for a hamlet's name, add it to the team's list and choose it."""
        if name is None:
            name, ok = QInputDialog.getText(self, _("New hamlet"),
                                            _("Name of a new hamlet, e.g. Ấp Mỹ Hưng"))
            if not ok or not name.strip():
                return
        catalog = self.ctx.ws.catalog
        (Op(self.ctx, self, lambda _progress: catalog.add_hamlet(name))
         .success(self._hamlet_added)
         .invalid(lambda error: self.errors.show({"hamlet": " ".join(error.fields.values())}))
         .run())

    def _hamlet_added(self, result: Any) -> None:
        hamlet = result.value
        self.hamlet.addItem(hamlet.name, hamlet.id)
        self.hamlet.setCurrentIndex(self.hamlet.count() - 1)
        self.errors.clear()

    def suggest_code(self) -> None:
        """Fill in the next free code of the chosen hamlet (or of the team), unless the user
        has written one of their own."""
        households, hamlet_id = self.ctx.ws.households, self.hamlet.currentData() or None
        (Query(self.ctx, self, lambda _progress: households.suggest_code(hamlet_id), "code")
         .success(self._show_suggestion)
         .run())

    def _show_suggestion(self, code: str) -> None:
        if self.code.text().strip() not in ("", self.suggested_code):
            return  # typed by the user: theirs stands
        self.suggested_code = code
        self.code.setText(code)
        self.code.selectAll()  # typing replaces it

    def values(self) -> dict[str, Any]:
        return {
            "code": self.code.text(), "head_name": self.head_name.text(),
            "hamlet": self.hamlet.currentData() or "", "address": self.address.text(),
            "phone": self.phone.text(), "latitude": self.latitude.text(),
            "longitude": self.longitude.text(), "notes": self.notes.toPlainText(),
        }

    def _invalid(self, error: ValidationError) -> None:
        fields = dict(error.fields)
        if "hamlet" in fields and not self.hamlet.currentData():
            fields["hamlet"] = _("Choose the hamlet this household belongs to.")
        self.errors.show(fields)

    def operation(self) -> Work:
        values, ws = self.values(), self.ctx.ws
        if self.household is None:
            return lambda _progress: ws.households.add(**values)
        household_id = self.household.id
        return lambda _progress: ws.households.update(household_id, **values)


def _coordinate(value: float | None) -> str:
    return "" if value is None else format_coordinate(value)


def relationship_choices() -> list[str]:
    # Stored words, not labels: the record must not depend on the language of the screen.
    return list(RELATIONSHIPS)


class PersonForm(_Form):
    def __init__(self, ctx: AppContext, household_id: str, person: Person | None = None,
                 parent: QWidget | None = None):
        super().__init__(ctx, _("Edit person") if person else _("Add person"), parent)
        self.household_id = household_id
        self.person = person
        p = person
        self.full_name = _line(p.full_name if p else "")
        self.sex = QComboBox()
        self.sex.addItem("", "")
        self.sex.addItem(_("Male"), "M")
        self.sex.addItem(_("Female"), "F")
        if p and p.sex:
            self.sex.setCurrentIndex(self.sex.findData(p.sex))
        birth = ""
        if p and p.birth_date:
            birth = p.birth_date.strftime("%d/%m/%Y")  # the form parse_birth reads back
        elif p and p.birth_year:
            birth = str(p.birth_year)
        self.birth = _line(birth, _("dd/mm/yyyy, or only the year"))
        self.relationship = QComboBox()
        self.relationship.setEditable(True)
        self.relationship.addItems(relationship_choices())
        self.relationship.setCurrentText(p.relationship if p else "")
        self.phone = _line(p.phone if p else "", _("e.g. 0912 345 678"))
        self.consent = QCheckBox(_("This person agrees that their personal data is stored"))
        self.consent.setChecked(bool(p and p.consent))  # never pre-ticked for a new person
        consent_help = QLabel(_(
            "Under the Personal Data Protection Law (2025), ask the person first. Without "
            "consent, the citizen ID cannot be stored; the person can ask at any time to see, "
            "correct or delete their data."))
        consent_help.setWordWrap(True)
        consent_help.setStyleSheet(HINT_STYLE)
        self.cccd = _line(p.cccd if p else "", _("12 digits"))
        self.cccd.setMaxLength(12)
        self.notes = _notes(p.notes if p else "")
        self.field(PERSON["full_name"], self.full_name)
        self.field(PERSON["sex"], self.sex)
        self.field(PERSON["birth"], self.birth)
        self.field(PERSON["relationship"], self.relationship)
        self.field(PERSON["phone"], self.phone)
        self.field(PERSON["consent"], self.consent)
        self.form.addRow("", consent_help)
        self.field(PERSON["cccd"], self.cccd)
        self.field(PERSON["notes"], self.notes)
        self.consent.toggled.connect(self._consent_toggled)
        self._consent_toggled(self.consent.isChecked())
        self.added: list[Person] = []  # people saved with "Save and add another person"
        self.added_label = QLabel()
        self.added_label.setWordWrap(True)
        self.added_label.setStyleSheet(SAVED_STYLE)
        self.added_label.hide()
        self.form.insertRow(0, self.added_label)
        if person is None:
            self._add_another_button()
        self.full_name.setFocus()
        fit_to_screen(self)

    def _add_another_button(self) -> None:
        self.add_another = self.buttons.addButton(_("Save and add another person"),
                                                  QDialogButtonBox.ButtonRole.ActionRole)
        self.add_another.setToolTip(_("Ctrl+Enter: save this person and start on the next"))
        self.add_another.setAutoDefault(False)
        self.add_another.clicked.connect(self.save_and_add_another)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.save_and_add_another)

    def save_and_add_another(self) -> None:
        self._operation_with(self._saved_another)

    def _saved_another(self, result: OpResult[Person]) -> None:
        """An empty form for the next person, saying who was saved (the list behind
        shows them already)."""
        self.show_added(result.value)
        for edit in (self.full_name, self.birth, self.phone, self.cccd):
            edit.clear()
        self.sex.setCurrentIndex(0)
        self.relationship.setCurrentText("")
        self.consent.setChecked(False)
        self.notes.clear()
        self.full_name.setFocus()

    def show_added(self, person: Person) -> None:
        self.added.append(person)
        self.added_label.setText(_("Saved: {names}. Next person:").format(
            names=", ".join(p.full_name for p in self.added)))
        self.added_label.show()

    def _consent_toggled(self, checked: bool) -> None:
        # The ID is sensitive: it may be typed only once the person has agreed.
        self.cccd.setEnabled(checked)
        if not checked:
            self.cccd.clear()

    def values(self) -> dict[str, Any]:
        return {
            "full_name": self.full_name.text(),
            "sex": self.sex.currentData() or "",
            "birth_date": self.birth.text().strip(), "birth_year": "",
            "relationship": self.relationship.currentText(), "phone": self.phone.text(),
            "consent": self.consent.isChecked(),
            "cccd": self.cccd.text() if self.consent.isChecked() else "",
            "notes": self.notes.toPlainText(),
        }

    def operation(self) -> Work:
        values, ws = self.values(), self.ctx.ws
        if self.person is None:
            household_id = self.household_id
            return lambda _progress: ws.people.add(household_id, **values)
        person_id = self.person.id
        return lambda _progress: ws.people.update(person_id, **values)


def fullest_household(ws: Workspace) -> Household:
    """The household with the most people: its screens are the fullest (demo samples)."""
    return max(ws.households.list(), key=lambda h: len(ws.people.in_household(h.id)))


@DIALOGS.register("household form")
def _sample_household_form(ctx: AppContext, parent: QWidget) -> QDialog:
    return HouseholdForm(ctx, fullest_household(ctx.ws), parent=parent)


@DIALOGS.register("new household form")
def _sample_new_household_form(ctx: AppContext, parent: QWidget) -> QDialog:
    """Adding a household to the first hamlet: its next code is suggested."""
    return HouseholdForm(ctx, hamlet_id=ctx.ws.catalog.hamlets()[0].id, parent=parent)


@DIALOGS.register("new person form")
def _sample_new_person_form(ctx: AppContext, parent: QWidget) -> QDialog:
    """Adding people one after another: one was saved, the next is on its way."""
    household = fullest_household(ctx.ws)
    form = PersonForm(ctx, household.id, parent=parent)
    form.show_added(ctx.ws.people.in_household(household.id)[-1])
    return form


@DIALOGS.register("person form")
def _sample_person_form(ctx: AppContext, parent: QWidget) -> QDialog:
    household = fullest_household(ctx.ws)
    person = ctx.ws.people.in_household(household.id)[0]
    return PersonForm(ctx, household.id, person, parent=parent)
