"""What every screen gets: the workspace, the task manager, and change notifications."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from dxkit.core.synced import Changes
from dxkit.ui.taskman import TaskManager
from dxkit.workspace import Workspace


class AppContext(QObject):
    """Screens call `notify(result.changes)` after an operation; every screen listens to
    `changed` and refreshes only if a table it shows was touched."""

    changed = Signal(object)  # Changes
    language_changed = Signal(str)
    appearance_changed = Signal()  # the text size changed: pages are built again
    team_place_changed = Signal()  # the team's province/commune was set (the title shows it)
    notice = Signal(str)  # what was just done ("Visit to MH-0123 saved…"): the status bar shows it

    def __init__(self, ws: Workspace, parent: QObject | None = None):
        super().__init__(parent)
        self.ws = ws
        self.tasks = TaskManager(self)

    def notify(self, changes: Changes) -> None:
        if changes:
            self.changed.emit(changes)
