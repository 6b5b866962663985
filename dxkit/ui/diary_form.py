"""The diary's quick-add form: kind, date and the fields that kind takes. The product picker
offers each kind its own names (a pesticide from the registry; a fertiliser or seed never from
it) and shows, as a pesticide is chosen, its active ingredients, its pre-harvest interval for
the plot's crop and, in a loud red banner, any ingredient banned on the chosen day. A pesticide
outside the registry is recorded with the active ingredients typed beside it, and the banner
checks those the same way. Ctrl+Enter saves.

The same form corrects an entry (`load` an entry, give a reason): the correction is a new
event that amends the old one."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.errors import NotFound, ValidationError
from dxkit.core.i18n import _
from dxkit.core.progress import Progress
from dxkit.farm.model import ENTRY_KINDS, DiaryEntry, Plot, Season, kind_label
from dxkit.farm.pesticides import typed_ingredients
from dxkit.farm.units import UNITS, Dose, format_amount
from dxkit.ui.context import AppContext
from dxkit.ui.farm_forms import date_edit, from_qdate, to_qdate
from dxkit.ui.fitting import scrolled_body
from dxkit.ui.operations import Op, Query
from dxkit.ui.widgets import FieldErrors, FieldWithError

BANNER_STYLE = ("background: #b3261e; color: white; font-weight: 700; padding: 6px; "
                "border-radius: 3px;")
QUANTITY_UNITS = ("kg", "tan", "ta", "yen", "g", "l", "ml")
DOSE_UNITS = ("l/ha", "ml/ha", "kg/ha", "g/ha", "l/công", "ml/công", "kg/công", "g/công")
TEXT_FIELDS = ("target", "method", "source", "pest", "severity", "hours", "applied_by",
               "equipment", "notes")
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "land_preparation": ("method", "equipment", "notes"),
    "seed": ("product", "source", "quantity", "notes"),
    "sowing": ("method", "quantity", "notes"),
    "fertiliser": ("product", "dose", "area", "applied_by", "equipment", "notes"),
    "pesticide": ("product", "ingredients", "target", "dose", "area", "applied_by", "equipment",
                  "notes"),
    "irrigation": ("method", "hours", "equipment", "notes"),
    "observation": ("pest", "severity", "notes"),
    "harvest": ("quantity", "equipment", "notes"),
}


# The product field's caption and hint for each kind that has one (translated when shown).
PRODUCT_LABELS = {"pesticide": lambda: _("Pesticide:"), "fertiliser": lambda: _("Fertiliser:"),
                  "seed": lambda: _("Seed or seedlings:")}
PRODUCT_HINTS = {"pesticide": lambda: _("Type a few letters of the product name"),
                 "fertiliser": lambda: _("For example NPK 20-20-15 or Urê"),
                 "seed": lambda: _("Variety, for example OM18")}


def _unit_combo(codes: tuple[str, ...]) -> QComboBox:
    combo = QComboBox()
    for code in codes:
        combo.addItem(UNITS[code].symbol, code)
    return combo


def _pair(first: QWidget, second: QWidget) -> QWidget:
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(first, 1)
    row.addWidget(second)
    return box


class DiaryEntryForm(QWidget):
    """Records (or, after `load`, corrects) one diary entry on the chosen plot and season."""

    saved = Signal(object)  # the RecordResult

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx, self.farm = ctx, ctx.ws.farm
        self.plot: Plot | None = None
        self.season: Season | None = None
        self.amending: DiaryEntry | None = None
        self.warning: Any = None  # the ProductWarning shown under the picker
        self.registry_product: Any = None  # the registry's pesticide the picker holds
        self.saving = False
        self._build()
        self.show_kind()

    # -- construction -------------------------------------------------------------------
    def _build(self) -> None:
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.save_button = QPushButton(_("Save (Ctrl+Enter)"))
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.save_button)
        # The fields scroll (a pesticide takes eight of them); Save stays in view.
        layout = scrolled_body(self, buttons)
        general = QLabel()
        layout.addWidget(general)
        self.errors = FieldErrors(general)
        self.form = QFormLayout()
        self.kind = QComboBox()
        for kind in ENTRY_KINDS:
            self.kind.addItem(kind_label(kind), kind)
        self.kind.currentIndexChanged.connect(lambda _i: self.show_kind())
        self.on = date_edit(self.ctx.ws.today())
        self.on.dateChanged.connect(lambda _d: self.check_product())
        self.product = QLineEdit()
        self.products_model = QStringListModel(self)
        completer = QCompleter(self.products_model, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.product.setCompleter(completer)
        self.product.textChanged.connect(lambda _t: self.check_product())
        self.product_info = QLabel()
        self.product_info.setWordWrap(True)
        self.ban_banner = QLabel()
        self.ban_banner.setWordWrap(True)
        self.ban_banner.setStyleSheet(BANNER_STYLE)
        self.ban_banner.hide()
        picker = QWidget()
        picker_layout = QVBoxLayout(picker)
        picker_layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.product, self.product_info, self.ban_banner):
            picker_layout.addWidget(widget)
        self.ingredients = QLineEdit()
        self.ingredients.setPlaceholderText(_("For a product not in the registry, for example "
                                              "Abamectin + Matrine"))
        self.ingredients.textChanged.connect(lambda _t: self.check_product())
        self.dose = QLineEdit()
        self.dose_unit = QComboBox()
        self.dose_unit.addItems(list(DOSE_UNITS))
        self.quantity = QLineEdit()
        self.quantity_unit = _unit_combo(QUANTITY_UNITS)
        self.area = QLineEdit()
        self.texts = {key: QLineEdit() for key in TEXT_FIELDS}
        self.reason = QLineEdit()
        self.reason.setPlaceholderText(_("Required: what was wrong in the earlier entry"))
        self.rows: dict[str, FieldWithError] = {}
        self._row("kind", _("Kind:"), self.kind)
        self._row("on", _("Date:"), self.on)
        self.rows["product"] = self.errors.add("product", FieldWithError(picker))
        self.rows["product"].setFocusProxy(self.product)
        self.form.addRow(_("Product:"), self.rows["product"])
        self._row("ingredients", _("Active ingredients:"), self.ingredients)
        self._row("target", _("Against:"), self.texts["target"])
        self._row("dose", _("Dose:"), _pair(self.dose, self.dose_unit))
        self._row("area", _("Area treated:"), self.area)
        self._row("quantity", _("Quantity:"), _pair(self.quantity, self.quantity_unit))
        labels = {"method": _("How:"), "source": _("Source:"), "pest": _("What was seen:"),
                  "severity": _("Severity:"), "hours": _("Hours:"),
                  "applied_by": _("Applied by:"), "equipment": _("Equipment:"),
                  "notes": _("Notes:")}
        for key, label in labels.items():
            self._row(key, label, self.texts[key])
        self._row("reason", _("Reason for the correction:"), self.reason)
        layout.addLayout(self.form)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self, self.save)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _row(self, key: str, label: str, editor: QWidget) -> None:
        self.rows[key] = self.errors.add(key, FieldWithError(editor))
        self.form.addRow(label, self.rows[key])

    def _load_products(self) -> None:
        """The names the picker offers for the kind shown (on the database thread)."""
        diary, kind = self.farm.diary, self.current_kind()

        def shown(names: list[str]) -> None:
            if self.current_kind() == kind:
                self.products_model.setStringList(names)

        self.products_model.setStringList([])  # never another kind's names meanwhile
        (Query(self.ctx, self, lambda _progress: diary.product_suggestions(kind),
               key="products")
         .success(shown)
         .run())

    # -- state --------------------------------------------------------------------------
    def set_target(self, plot: Plot | None, season: Season | None) -> None:
        self.plot, self.season = plot, season
        self.setEnabled(plot is not None and season is not None)
        if plot is not None:
            area = format_amount(plot.area_ha) if plot.area_ha else "?"
            self.area.setPlaceholderText(_("the whole plot ({area} ha); or for example 3 công"
                                           ).format(area=area))
        self.check_product()

    def current_kind(self) -> str:
        return self.kind.currentData()

    def set_kind(self, kind: str) -> None:
        self.kind.setCurrentIndex(self.kind.findData(kind))

    def show_kind(self) -> None:
        visible = set(KIND_FIELDS[self.current_kind()]) | {"kind", "on"}
        if self.amending is not None:
            visible.add("reason")
        for key, row in self.rows.items():
            self.form.setRowVisible(row, key in visible)
        kind = self.current_kind()
        label = self.form.labelForField(self.rows["product"])
        if isinstance(label, QLabel):
            label.setText(PRODUCT_LABELS.get(kind, lambda: _("Product:"))())
        self.product.setPlaceholderText(PRODUCT_HINTS.get(kind, lambda: "")())
        self.errors.clear()
        self._load_products()
        self.check_product()

    # -- the product picker -------------------------------------------------------------
    def check_product(self) -> None:
        """Ask for the chosen pesticide's PHI and bans, or for a product outside the registry
        the bans of the ingredients typed with it (on the database thread)."""
        name, plot = self.product.text().strip(), self.plot
        if self.current_kind() != "pesticide" or not name or plot is None:
            self._show_warning(None)
            # A lookup still on its way for what the picker held before must not show: a
            # newer query of the same key supersedes it (this one needs no database).
            Query(self.ctx, self, lambda _progress: None, key="warnings").without_database().run()
            return
        farm, day = self.farm, from_qdate(self.on.date())
        typed = [] if self.registry_product is not None else typed_ingredients(
            self.ingredients.text())

        def work(_progress: Progress) -> tuple[Any, Any]:
            try:
                product = farm.registry.product(name)
            except NotFound:
                return None, farm.registry.ingredient_warnings(name, typed, plot.crop, day)
            return product, farm.registry.product_warnings(product, plot.crop, day)

        # Only the answer for what the picker holds now is shown.
        Query(self.ctx, self, work, key="warnings").success(self._show_warning).run()

    def _show_warning(self, found: tuple[Any, Any] | None) -> None:
        """A registry pesticide: its ingredients (not to be typed), PHI and bans. A product
        outside the registry: the ingredients field opens, and the bans of what was typed
        there show as they would be recorded."""
        product, warning = found if found is not None else (None, None)
        self._set_registry_product(product)
        self.warning = warning
        if warning is None:
            self.product_info.setText("")
            self.ban_banner.hide()
            return
        bans = warning.messages[:len(warning.banned)]  # the ban sentences come first
        if product is not None:
            lines = [_("Active ingredients: {names}").format(
                names=", ".join(product.active_ingredients)), *warning.messages[len(bans):]]
        else:
            lines = [_("Not in the registry: give its active ingredients below.")
                     if not self.ingredients.text().strip() else "",
                     *warning.messages[len(bans):]]
        self.product_info.setText("\n".join(line for line in lines if line))
        self.ban_banner.setText("⚠ " + _("BANNED: {messages} Recording it marks the entry "
                                         "non-compliant.").format(messages=" ".join(bans)))
        self.ban_banner.setVisible(bool(bans))

    def _set_registry_product(self, product: Any) -> None:
        """The ingredients field shows a registry product's own ingredients, greyed out; for
        anything else it is the user's to fill."""
        was = self.registry_product
        self.registry_product = product
        if product is not None:
            self.ingredients.blockSignals(True)
            self.ingredients.setText(" + ".join(product.active_ingredients))
            self.ingredients.blockSignals(False)
            self.ingredients.setEnabled(False)
        elif was is not None:
            self.ingredients.blockSignals(True)
            self.ingredients.clear()
            self.ingredients.blockSignals(False)
            self.ingredients.setEnabled(True)

    # -- values -------------------------------------------------------------------------
    def details(self) -> dict[str, Any]:
        """The visible fields that hold something, as record() takes them."""
        shown = KIND_FIELDS[self.current_kind()]
        out: dict[str, Any] = {key: self.texts[key].text().strip() for key in TEXT_FIELDS
                               if key in shown and self.texts[key].text().strip()}
        if "product" in shown and self.product.text().strip():
            out["product"] = self.product.text().strip()
        if "ingredients" in shown and self.registry_product is None and \
                typed_ingredients(self.ingredients.text()):
            out["active_ingredients"] = typed_ingredients(self.ingredients.text())
        if "dose" in shown and self.dose.text().strip():
            out["dose"] = f"{self.dose.text().strip()} {self.dose_unit.currentText()}"
        if "area" in shown and self.area.text().strip():
            out["area"] = self.area.text().strip()
        if "quantity" in shown and self.quantity.text().strip():
            out.update(quantity=self.quantity.text().strip(),
                       unit=self.quantity_unit.currentData())
        return out

    def load(self, entry: DiaryEntry) -> None:
        """Fill the form from an entry, to correct it."""
        self.amending = entry
        self.set_kind(entry.kind)
        self.kind.setEnabled(False)
        self.on.setDate(to_qdate(entry.on))
        self.product.setText(entry.product_name)
        if entry.kind == "pesticide" and not entry.product_id:
            self.ingredients.setText(" + ".join(entry.active_ingredients))
        for key, edit in self.texts.items():
            edit.setText(str(entry.details.get(key, "")))
        dose = entry.details.get("dose")
        if dose:
            text = Dose(dose["amount"], dose["unit"], dose["per"]).format()
            amount, _space, unit = text.partition(" ")
            self.dose.setText(amount)
            self.dose_unit.setCurrentText(unit)
        if entry.quantity is not None:
            self.quantity.setText(format_amount(entry.quantity))
            self.quantity_unit.setCurrentIndex(max(0, self.quantity_unit.findData(entry.unit)))
        area = entry.details.get("area")
        if area:
            self.area.setText(f"{format_amount(area['value'])} {UNITS[area['unit']].symbol}")
        self.save_button.setText(_("Save the correction (Ctrl+Enter)"))
        self.show_kind()

    def clear_values(self) -> None:
        for edit in (self.product, self.ingredients, self.dose, self.quantity, self.area,
                     self.reason, *(self.texts[k] for k in TEXT_FIELDS if k != "applied_by")):
            edit.clear()

    # -- saving -------------------------------------------------------------------------
    def save(self) -> bool:
        if self.saving or self.plot is None or self.season is None:
            return False
        self.errors.clear()
        farm, details = self.farm, self.details()
        day = from_qdate(self.on.date())
        if self.amending is not None:
            entry_id, reason = self.amending.id, self.reason.text().strip()

            def work(_progress: Progress) -> Any:
                return farm.diary.amend(entry_id, reason=reason, on=day, **details)
        else:
            plot_id, season_id, kind = self.plot.id, self.season.id, self.current_kind()

            def work(_progress: Progress) -> Any:
                return farm.diary.record(plot_id, season_id, kind, day, **details)

        (Op(self.ctx, self, work)
         .while_running(self._set_saving)
         .success(self._saved)
         .invalid(self.show_invalid)
         .run())
        return True

    def _set_saving(self, saving: bool) -> None:
        self.saving = saving
        self.save_button.setEnabled(not saving)

    def show_invalid(self, error: ValidationError) -> None:
        self.errors.show(error.fields)

    def _saved(self, result: Any) -> None:
        if self.amending is None:
            self.clear_values()
            self._load_products()  # a new fertiliser or seed name is offered next time
        self.saved.emit(result)
