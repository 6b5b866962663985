"""Peak memory of the desktop app on a workspace: window shown, five searches typed into the
households list, the follow-ups page opened (its list loaded in the background).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/ui_memory.py WORKSPACE
"""

from __future__ import annotations

import os
import resource
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from dxkit.ui.app import create_main_window
from dxkit.workspace import Workspace

QUERIES = ("nguyen", "tran thi", "09", "my hung", "le van")


def main() -> None:
    app = QApplication([])
    ws = Workspace.open(sys.argv[1])
    window = create_main_window(ws)
    window.show()
    app.processEvents()
    households = window.pages["households"]
    for query in QUERIES:
        households.model.set_query(query)
        app.processEvents()
    window.show_section("followups")
    window.ctx.tasks.wait_idle()
    app.processEvents()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"app peak memory: {peak_mb:.0f} MB ({ws.households.count():,} households)")
    window.ctx.tasks.shutdown()


if __name__ == "__main__":
    main()
