"""Time the desktop app's start: process start -> main window shown -> first household rows.

    .venv/bin/python benchmarks/ui_open.py [--workspace DIR] [--runs 3]

Each run is a fresh process with QT_QPA_PLATFORM=offscreen. Without --workspace a demo
workspace (600 households) is generated in a temporary folder; pass the benchmark's
OUT/workspace to time the app over 100,000 households. Prints the figures (no pass/fail).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def child(workspace: str, spawned_at: float) -> None:
    """Runs in the measured process: everything from here on counts."""
    from PySide6.QtWidgets import QApplication

    from dxkit.ui import app as app_module
    from dxkit.workspace import Workspace

    imported = time.time()
    qt_app = QApplication.instance() or QApplication([])
    ws = Workspace.open(workspace)
    opened = time.time()
    app_module.apply_language(ws)
    make_window = next(getattr(app_module, name) for name in (
        "create_main_window", "build_main_window", "create_app_window")
        if hasattr(app_module, name))
    window = make_window(ws)
    window.show()
    shown = time.time()  # show() returned; the rows appear once events are processed
    page = window.pages.get("households") if hasattr(window, "pages") else None
    model = getattr(page, "model", None)
    first_rows = None
    deadline = time.time() + 30
    while model is not None and time.time() < deadline:
        qt_app.processEvents()
        if model.rowCount() == 0 or getattr(model, "blocks_fetched", 1):
            first_rows = time.time()
            break
    rows = model.rowCount() if model is not None else 0
    window.close()
    if hasattr(window, "ctx"):
        window.ctx.tasks.shutdown()
    ws.close()
    print(json.dumps({
        "imports_s": imported - spawned_at, "workspace_open_s": opened - imported,
        "window_shown_s": shown - spawned_at,
        "first_rows_s": (first_rows - spawned_at) if first_rows else None, "rows": rows}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE.parent))
    with tempfile.TemporaryDirectory() as scratch:
        workspace = args.workspace
        if workspace is None:
            from dxkit.demo import fill
            workspace = Path(scratch) / "demo"
            fill(workspace)
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(HERE.parent)}
        runs = []
        for _run in range(args.runs):
            spawned = time.time()
            out = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--child", str(workspace),
                 repr(spawned)], check=True, capture_output=True, text=True, env=env)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"== dxkit app start ({args.runs} runs, offscreen, {runs[0]['rows']:,} households) ==")
    for key, title in (("imports_s", "process start -> Qt and dxkit imported"),
                       ("workspace_open_s", "Workspace.open"),
                       ("window_shown_s", "process start -> main window shown"),
                       ("first_rows_s", "process start -> first household rows")):
        values = [r[key] for r in runs if r[key] is not None]
        if values:
            print(f"{title}: median {statistics.median(values) * 1000:.0f} ms "
                  f"(runs: {', '.join(f'{v * 1000:.0f}' for v in values)} ms)")
        else:
            print(f"{title}: not measured")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], float(sys.argv[3]))
    else:
        main()
