#!/usr/bin/env python3
"""dxkit's two commands. Needs only Python 3.11+; everything else it installs itself.

    python3 quickstart.py app    set up, fill a demo workspace (first time), open the app
    python3 quickstart.py test   set up, run ruff, the layer contracts and the whole test suite

On Windows type `py quickstart.py app` / `py quickstart.py test`. Both are idempotent: the
virtual environment in .venv is reused and reinstalled only when pyproject.toml changes.
"""

from __future__ import annotations

import ctypes.util
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".dxkit-installed"
# Shared libraries Qt's wheels expect from the system on Linux, and the Debian packages with them.
QT_SYSTEM_LIBS = {"EGL": "libegl1", "GL": "libgl1", "xkbcommon": "libxkbcommon0",
                  "fontconfig": "libfontconfig1", "dbus-1": "libdbus-1-3",
                  "glib-2.0": "libglib2.0-0"}


def say(message: str) -> None:
    print(f"[dxkit] {message}", flush=True)


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(*args: str | Path, env: dict[str, str] | None = None) -> int:
    return subprocess.call([str(a) for a in args], cwd=ROOT, env=env)


def apt_install(packages: list[str], why: str) -> None:
    """Install Debian packages when we may (root with apt-get); otherwise say how."""
    command = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        say(f"installing {why}: " + " ".join(packages))
        subprocess.check_call(["apt-get", "update", "-q"])
        subprocess.check_call(command, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    else:
        say(f"{why}; install them with: sudo " + " ".join(command))


def ensure_system_libraries() -> None:
    if not sys.platform.startswith("linux"):
        return
    missing = sorted({pkg for lib, pkg in QT_SYSTEM_LIBS.items()
                      if not ctypes.util.find_library(lib)})
    if missing:
        apt_install([*missing, "fonts-dejavu-core"], "system libraries Qt needs")


def ensure_test_servers() -> None:
    """The tests run the hub on PostgreSQL too and open the trace page in a real browser: both
    come from Debian. Without them those tests skip locally and fail under CI=true."""
    if not sys.platform.startswith("linux"):
        return
    missing = []
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        missing.append("postgresql")
    if not shutil.which("chromium"):
        missing.append("chromium")
    if missing:
        apt_install(missing, "the PostgreSQL server and the browser the tests use")


def ensure_environment() -> Path:
    if sys.version_info < (3, 11):  # noqa: UP036 - this file must run on old Pythons to say so
        sys.exit("dxkit needs Python 3.11 or newer; this is " + sys.version.split()[0])
    python = venv_python()
    if not python.exists():
        say(f"creating the virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True, clear=VENV.exists()).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        say("installing dxkit and its dependencies (first run takes a few minutes)")
        subprocess.check_call([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"])
        subprocess.check_call([str(python), "-m", "pip", "install", "-q", "-e", ".[dev]"],
                              cwd=ROOT)
        STAMP.write_text(wanted)
    ensure_system_libraries()
    return python


def app(extra: list[str]) -> int:
    python = ensure_environment()
    demo = subprocess.check_output(
        [str(python), "-c", "from dxkit.core.workspace import demo_path; print(demo_path())"],
        cwd=ROOT, text=True).strip()
    say(f"demo workspace: {demo}")
    rc = run(python, "-m", "dxkit.ui.entry", "--data-dir", demo, "demo", "--if-empty")
    if rc:
        return rc
    return run(python, "-m", "dxkit.ui.entry", "--data-dir", demo, *extra)


def test(extra: list[str]) -> int:
    python = ensure_environment()
    ensure_test_servers()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONDONTWRITEBYTECODE": "1"}
    steps = [
        ("ruff", [python, "-m", "ruff", "check", "."]),
        ("layer contracts", [VENV / ("Scripts" if os.name == "nt" else "bin") / "lint-imports",
                             "--no-cache"]),
        ("type checker", [python, "-m", "mypy"]),
        ("translations", [python, "scripts/i18n.py", "check"]),
        ("tests", [python, "-m", "pytest", *extra]),
    ]
    for name, command in steps:
        say(f"{name}: {' '.join(str(c) for c in command[1:])}")
        rc = run(*command, env=env)
        if rc == 5 and name == "tests":
            say("pytest collected no tests: that is a failure, not a pass")
            return 1
        if rc:
            say(f"{name} failed (exit {rc})")
            return rc
    say("all checks passed")
    return 0


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("app", "test"):
        print(__doc__)
        return 2
    command, extra = sys.argv[1], sys.argv[2:]
    return app(extra) if command == "app" else test(extra)


if __name__ == "__main__":
    sys.exit(main())
