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
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".dxkit-installed"
# Compiled Python files of the test runs live here, out of the source tree (PYTHONPYCACHEPREFIX):
# the tests start dozens of `dxkit` processes, each would otherwise compile dxkit anew.
PYCACHE = VENV / "pycache"
STILL_RUNNING_EVERY = 20  # seconds between two "still running" lines of a silent step
# Shared libraries Qt's wheels expect from the system on Linux, and the Debian packages with them.
QT_SYSTEM_LIBS = {"EGL": "libegl1", "GL": "libgl1", "xkbcommon": "libxkbcommon0",
                  "fontconfig": "libfontconfig1", "dbus-1": "libdbus-1-3",
                  "glib-2.0": "libglib2.0-0"}


STARTED = time.monotonic()


def say(message: str) -> None:
    elapsed = int(time.monotonic() - STARTED)
    print(f"[dxkit {elapsed // 60}:{elapsed % 60:02d}] {message}", flush=True)


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(*args: str | Path, env: dict[str, str] | None = None, label: str | None = None) -> int:
    """Run a command in the project folder; with `label`, say every STILL_RUNNING_EVERY
    seconds that it is still running (CI logs must not fall silent for long)."""
    started = time.monotonic()
    process = subprocess.Popen([str(a) for a in args], cwd=ROOT, env=env)
    while True:
        try:
            return process.wait(timeout=STILL_RUNNING_EVERY if label else None)
        except subprocess.TimeoutExpired:
            say(f"{label}: still running ({int(time.monotonic() - started)} s)")
        except BaseException:
            process.kill()
            process.wait()
            raise


def check_run(*args: str | Path, label: str, env: dict[str, str] | None = None) -> None:
    rc = run(*args, env=env, label=label)
    if rc:
        raise subprocess.CalledProcessError(rc, [str(a) for a in args])


def apt_install(packages: list[str], why: str) -> None:
    """Install Debian packages when we may (root with apt-get); otherwise say how."""
    command = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        say(f"installing {why}: " + " ".join(packages))
        check_run("apt-get", "update", "-q", label="apt-get update")
        check_run(*command, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
                  label="apt-get install")
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
        # Not -q: pip's lines (and ours while it unpacks in silence) show it is working.
        check_run(python, "-m", "pip", "install", "--progress-bar", "off", "--upgrade", "pip",
                  label="pip install --upgrade pip")
        check_run(python, "-m", "pip", "install", "--progress-bar", "off", "-e", ".[dev]",
                  label="pip install -e .[dev]")
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


def parallel_options(extra: list[str]) -> list[str]:
    """pytest-xdist on every core (at most 4: the sync tests also run a hub process and
    PostgreSQL), whole files per worker so a module's shared hub starts once; none when the
    caller chose (-n, -p no:xdist), debugs (--pdb, --trace) or runs tests by name (::)."""
    chosen = any(arg.startswith(("-n", "--numprocesses", "--dist", "--pdb", "--trace"))
                 or "xdist" in arg or "::" in arg for arg in extra)
    if chosen:
        return []
    workers = max(1, min(os.cpu_count() or 1, 4))
    return ["-n", str(workers), "--dist", "loadfile", "--no-loadscope-reorder"]


def test(extra: list[str]) -> int:
    python = ensure_environment()
    ensure_test_servers()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPYCACHEPREFIX": str(PYCACHE),
           "PYTHONUNBUFFERED": "1"}  # progress shows as it happens, also through a pipe
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the cache above must be written to help
    steps = [
        ("ruff", [python, "-m", "ruff", "check", "."]),
        ("layer contracts", [VENV / ("Scripts" if os.name == "nt" else "bin") / "lint-imports",
                             "--no-cache"]),
        ("type checker", [python, "-m", "mypy"]),
        ("translations", [python, "scripts/i18n.py", "check"]),
        # pytest prints a line at least every 20 s itself (tests/support/heartbeat.py).
        ("tests", [python, "-m", "pytest", *parallel_options(extra), *extra]),
    ]
    for name, command in steps:
        say(f"{name}: {' '.join(str(c) for c in command[1:])}")
        rc = run(*command, env=env, label=None if name == "tests" else name)
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
