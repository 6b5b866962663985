"""The households table: holds only ordered keys and fetches rows in blocks as they are shown.

At 100k households the model keeps a list of integers; rows come from
`ws.households.by_local_ids` one block at a time and a few blocks stay cached.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from dxkit.core.errors import NotFound
from dxkit.core.i18n import _
from dxkit.core.phones import mask_phone
from dxkit.core.synced import Changes
from dxkit.households.fields import HOUSEHOLD
from dxkit.households.roster import Household
from dxkit.workspace import Workspace

BLOCK_SIZE = 200
CACHED_BLOCKS = 16
SEARCH_LIMIT = 500

_Index = QModelIndex | QPersistentModelIndex


class HouseholdsTableModel(QAbstractTableModel):
    COLUMNS = ("code", "head_name", "hamlet", "address", "phone")

    def __init__(self, ws: Workspace, parent: QObject | None = None):
        super().__init__(parent)
        self.ws = ws
        self.hamlet_id: str | None = None
        self.query = ""
        self._keys: list[int] = []
        self._blocks: OrderedDict[int, dict[int, Household]] = OrderedDict()
        self.blocks_fetched = 0  # how many block reads happened (tests and benchmarks)
        self._load_keys()

    # -- Qt model -----------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._keys)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.column_titles()[section]
        return str(section + 1)

    @staticmethod
    def column_titles() -> list[str]:
        return [_(HOUSEHOLD[key].label) for key in HouseholdsTableModel.COLUMNS]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole,
                                               Qt.ItemDataRole.ToolTipRole):
            return None
        household = self.household_at(index.row())
        if household is None:
            return None
        column = self.COLUMNS[index.column()]
        if column == "phone":
            return mask_phone(household.phone)
        return getattr(household, column)

    # -- rows ---------------------------------------------------------------------------
    def household_at(self, row: int) -> Household | None:
        if not 0 <= row < len(self._keys):
            return None
        block = self._block(row // BLOCK_SIZE)
        return block.get(self._keys[row])

    def _block(self, number: int) -> dict[int, Household]:
        cached = self._blocks.get(number)
        if cached is not None:
            self._blocks.move_to_end(number)
            return cached
        keys = self._keys[number * BLOCK_SIZE:(number + 1) * BLOCK_SIZE]
        fetched = {h.local_id: h for h in self.ws.households.by_local_ids(keys)}
        self.blocks_fetched += 1
        self._blocks[number] = fetched
        while len(self._blocks) > CACHED_BLOCKS:
            self._blocks.popitem(last=False)
        return fetched

    def row_of(self, household_id: str) -> int | None:
        """The row showing a household, or None when the current list does not hold it."""
        try:
            local_id = self.ws.households.get(household_id).local_id
            return self._keys.index(local_id)
        except (NotFound, ValueError):
            return None

    # -- filtering ----------------------------------------------------------------------
    def set_filter(self, hamlet_id: str | None) -> None:
        if hamlet_id != self.hamlet_id:
            self.hamlet_id = hamlet_id
            self._reset()

    def set_query(self, text: str) -> None:
        text = text.strip()
        if text != self.query:
            self.query = text
            self._reset()

    def refresh(self, changes: Changes) -> None:
        """Reload what a change could have altered; untouched tables cost nothing."""
        structural = bool(changes.created.get("households")
                          or changes.deleted.get("households"))
        names_changed = changes.touched("people") and bool(self.query)
        if structural or names_changed:
            self._reset()
        elif changes.touched("households") or changes.touched("hamlets"):
            if self.hamlet_id and changes.touched("households"):
                self._reset()  # a household may have moved to another hamlet
                return
            self._blocks.clear()
            if self._keys:
                self.dataChanged.emit(self.index(0, 0),
                                      self.index(len(self._keys) - 1, len(self.COLUMNS) - 1))

    def _reset(self) -> None:
        self.beginResetModel()
        self._load_keys()
        self.endResetModel()

    def _load_keys(self) -> None:
        self._blocks.clear()
        if self.query:
            self._keys = self.ws.households.search_keys(self.query, SEARCH_LIMIT, self.hamlet_id)
        else:
            self._keys = self.ws.households.local_ids(self.hamlet_id)
