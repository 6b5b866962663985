"""Choosing the team's province and commune or ward (after the 2025 reorganisation): two
type-ahead lists where diacritics are optional ("dong thap" finds Đồng Tháp). Used by Settings
and the first-run assistant."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QComboBox, QCompleter, QFormLayout, QLabel, QWidget

from dxkit.core.i18n import _
from dxkit.core.places import AdminUnit, communes, find_commune, find_province, provinces
from dxkit.core.text import fold

FOLDED_ROLE = Qt.ItemDataRole.UserRole + 1  # a place name without case or diacritics


class FoldedCompleter(QCompleter):
    """Completes names typed with or without diacritics: "dong th" offers "Đồng Tháp".

    Matching runs on each item's folded name; the popup and the chosen text use the real one.
    """

    def __init__(self, combo: QComboBox):
        super().__init__(combo.model(), combo)
        self.setCompletionRole(FOLDED_ROLE)
        self.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterMode(Qt.MatchFlag.MatchContains)
        self.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)

    def splitPath(self, path: str) -> list[str]:
        return [fold(path)]

    def pathFromIndex(self, index: QModelIndex | QPersistentModelIndex) -> str:
        return index.data(Qt.ItemDataRole.DisplayRole) or ""


def place_combo() -> QComboBox:
    combo = QComboBox()
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.setMinimumWidth(240)
    combo.setCompleter(FoldedCompleter(combo))
    return combo


def fill_places(combo: QComboBox, units: tuple[AdminUnit, ...]) -> None:
    combo.blockSignals(True)
    combo.clear()
    for index, unit in enumerate(units):
        combo.addItem(unit.name, unit.code)
        combo.setItemData(index, fold(unit.name), FOLDED_ROLE)
    combo.setCurrentIndex(-1)
    combo.blockSignals(False)


def chosen_place(combo: QComboBox) -> str:
    """The chosen unit's code, or what was typed (configure_team resolves names itself)."""
    index = combo.currentIndex()
    if index >= 0 and combo.currentText() == combo.itemText(index):
        return str(combo.itemData(index))
    return combo.currentText().strip()


class PlacePicker(QWidget):
    """Province then commune or ward; `chosen()` gives what to hand to configure_team."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.province_combo = place_combo()
        self.province_combo.lineEdit().setPlaceholderText(_("Type or choose a province"))
        fill_places(self.province_combo, provinces())
        self.province_combo.currentIndexChanged.connect(self._province_chosen)
        self.province_combo.lineEdit().editingFinished.connect(self._resolve_province)
        self.commune_combo = place_combo()
        self.commune_combo.lineEdit().setPlaceholderText(_("Type or choose a commune or ward"))
        self.commune_combo.setEnabled(False)
        self.commune_combo.lineEdit().editingFinished.connect(self._resolve_commune)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(_("Province / city"), self.province_combo)
        form.addRow(_("Commune / ward"), self.commune_combo)

    def chosen(self) -> tuple[str, str]:
        return chosen_place(self.province_combo), chosen_place(self.commune_combo)

    def complete(self, error: QLabel) -> tuple[str, str] | None:
        """Both chosen, or None with the sentence shown in `error` (Settings, the assistant)."""
        province, commune = self.chosen()
        error.hide()
        if not province or not commune:
            error.setText(_("Choose the province and the commune or ward."))
            error.show()
            return None
        return province, commune

    def _province_chosen(self, index: int) -> None:
        code = self.province_combo.itemData(index) if index >= 0 else None
        fill_places(self.commune_combo, communes(code) if code is not None else ())
        self.commune_combo.setEnabled(code is not None)

    def _resolve_province(self) -> None:
        """Typed text that names one province ("dong thap") selects it."""
        combo = self.province_combo
        unit = find_province(combo.currentText()) if combo.currentText().strip() else None
        if unit is not None and combo.currentData() != unit.code:
            combo.setCurrentIndex(combo.findData(unit.code))

    def _resolve_commune(self) -> None:
        province_code = self.province_combo.currentData()
        combo = self.commune_combo
        if province_code is None or not combo.currentText().strip():
            return
        unit = find_commune(province_code, combo.currentText())
        if unit is not None and combo.currentData() != unit.code:
            combo.setCurrentIndex(combo.findData(unit.code))
