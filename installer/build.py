"""Build the desktop app into dist/dxkit/ with PyInstaller, then smoke-test the frozen build.

    python installer/build.py              install PyInstaller if missing, build, smoke-test
    python installer/build.py --no-build   smoke-test the existing dist/dxkit/ only
    python installer/build.py --no-smoke   build only

Runs PyInstaller with the project's .venv (the one quickstart.py creates), so the bundle holds
exactly the pinned dependencies. Exit status 0 only if the build and every check pass.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WINDOWS = os.name == "nt"
VENV_PYTHON = ROOT / ".venv" / ("Scripts/python.exe" if WINDOWS else "bin/python")
SPEC = ROOT / "installer" / "dxkit.spec"
DIST = ROOT / "dist"
APP_DIR = DIST / "dxkit"
EXE_SUFFIX = ".exe" if WINDOWS else ""
PYINSTALLER_REQUIREMENT = "pyinstaller>=6.10"
GUI_SECONDS = 6  # how long the app must stay up in the offscreen smoke test


class SmokeFailure(Exception):
    pass


# -- building ----------------------------------------------------------------------------------
def project_python() -> Path:
    if not VENV_PYTHON.exists():
        sys.exit(f"No virtual environment at {VENV_PYTHON.parent.parent}; "
                 "run `python quickstart.py` first to create it.")
    return VENV_PYTHON


def ensure_pyinstaller(python: Path) -> None:
    probe = subprocess.run(
        [str(python), "-c", "import PyInstaller; print(PyInstaller.__version__)"],
        capture_output=True, text=True)
    if probe.returncode == 0:
        print(f"PyInstaller {probe.stdout.strip()} is installed.")
        return
    print(f"Installing {PYINSTALLER_REQUIREMENT} into {python.parent.parent} ...")
    subprocess.run([str(python), "-m", "pip", "install", PYINSTALLER_REQUIREMENT], check=True)


def build(python: Path) -> float:
    started = time.monotonic()
    subprocess.run([str(python), "-m", "PyInstaller", "--noconfirm", "--clean",
                    "--distpath", str(DIST), "--workpath", str(ROOT / "build"), str(SPEC)],
                   check=True, cwd=ROOT)
    return time.monotonic() - started


def write_installer_version() -> None:
    """dxkit.iss includes this, so the installer's version always matches the build's."""
    (DIST / "dxkit-version.isi").write_text(f'#define AppVersion "{source_version()}"\n',
                                            encoding="utf-8")


def folder_size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files), len(files)


# -- smoke test --------------------------------------------------------------------------------
def executable(name: str) -> Path:
    path = APP_DIR / f"{name}{EXE_SUFFIX}"
    if not path.exists():
        raise SmokeFailure(f"{path} is missing; build first")
    return path


def frozen_env() -> dict[str, str]:
    """A clean environment: no dxkit settings leaking in from the developer's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DXKIT_", "PYTHON"))}
    env["PYTHONIOENCODING"] = "utf-8"  # the console exe reads this too
    return env


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [str(executable("dxkit-cli")), *args]
    print("  $", " ".join(["dxkit-cli", *args]))
    return subprocess.run(command, capture_output=True, text=True, encoding="utf-8",
                          env=frozen_env(), timeout=300)


def expect_success(result: subprocess.CompletedProcess[str]) -> str:
    if result.returncode != 0:
        raise SmokeFailure(f"exit {result.returncode}\n{result.stdout}{result.stderr}")
    if "Traceback" in result.stderr:
        raise SmokeFailure(f"traceback on stderr:\n{result.stderr}")
    return result.stdout


def has_vietnamese_letters(text: str) -> bool:
    """True if the text holds a letter with a Vietnamese diacritic (precomposed or combining)."""
    return any(unicodedata.decomposition(ch) or ch in "đĐ" for ch in text if ord(ch) > 127)


def source_version() -> str:
    init = (ROOT / "dxkit" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'__version__ = "([^"]+)"', init)
    if not match:
        raise SmokeFailure("no __version__ in dxkit/__init__.py")
    return match.group(1)


def check_version(tmp: Path) -> str:
    out = expect_success(run_cli("--version")).strip()
    if source_version() not in out:
        raise SmokeFailure(f"--version printed {out!r}, expected {source_version()}")
    return out


def check_demo(tmp: Path) -> str:
    out = expect_success(run_cli("--data-dir", str(tmp / "ws"), "demo", "--households", "50"))
    if not (tmp / "ws" / "dxkit.sqlite").exists():
        raise SmokeFailure("demo did not create dxkit.sqlite")
    return out.strip()


def check_encrypted(tmp: Path) -> str:
    """The bundled sqlcipher3 encrypts, and keyring found a backend or the key file."""
    header = (tmp / "ws" / "dxkit.sqlite").read_bytes()[:16]
    if header.startswith(b"SQLite format 3"):
        raise SmokeFailure("the demo workspace is not encrypted")
    status = json.loads(expect_success(run_cli("--data-dir", str(tmp / "ws"), "key", "status",
                                               "--json")))
    return f"not readable as SQLite; key kept in: {status['key_store']}"


def check_search(tmp: Path) -> str:
    out = expect_success(run_cli("--data-dir", str(tmp / "ws"), "households", "search", "nguyen",
                                 "--json"))
    hits = json.loads(out)
    if not hits:
        raise SmokeFailure("searching 'nguyen' in the demo found nothing")
    names = [str(hit.get("head_name", "")) for hit in hits]
    if not any(has_vietnamese_letters(name) for name in names):
        raise SmokeFailure(f"no Vietnamese diacritics in the hits: {names[:5]}")
    return f"{len(hits)} hits, first: {names[0]}"


def check_labels(tmp: Path) -> str:
    """Labels of a compliant demo lot print (embedded font) and every QR decodes (PDFium and
    zxing-cpp were bundled)."""
    folder = ("--data-dir", str(tmp / "ws"))
    lots = json.loads(expect_success(run_cli(*folder, "farm", "lots", "list", "--json")))
    good = next((lot for lot in lots if lot["compliant"]), None)
    if good is None:
        raise SmokeFailure(f"no compliant lot in the demo: {lots}")
    pdf = tmp / "labels.pdf"
    expect_success(run_cli(*folder, "labels", "print", "--lot", good["code"], "--template",
                           "a4-3x7", "--copies", "21", "--serials", "--out", str(pdf)))
    report = json.loads(expect_success(run_cli("labels", "verify", str(pdf), "--json")))
    if report["count"] != 21:
        raise SmokeFailure(f"verify read {report['count']} codes of 21")
    return f"21 labels of {good['code']}, {pdf.stat().st_size:,} bytes, all codes read"


def check_dates(tmp: Path) -> str:
    """Dates in both languages: the trimmed babel locale data still has what the app needs."""
    listing = ("--data-dir", str(tmp / "ws"), "visits", "list")
    vietnamese = expect_success(run_cli("--lang", "vi", *listing)).splitlines()
    english = expect_success(run_cli("--lang", "en", *listing)).splitlines()
    if not vietnamese or not re.match(r"\d{1,2}:\d{2} \d{2}/\d{2}/\d{4}", vietnamese[0]):
        raise SmokeFailure(f"no Vietnamese date in {vietnamese[:1]}")
    if not english or not re.match(r"[A-Z][a-z]{2} \d{1,2}, \d{4}", english[0]):
        raise SmokeFailure(f"no English date in {english[:1]}")
    return f"{vietnamese[0][:16]} | {english[0][:24]}"


def check_translations(tmp: Path) -> str:
    """A Vietnamese error sentence proves the .po catalogs were bundled and are found."""
    args = ("--data-dir", str(tmp / "ws"), "households", "add", "--code", "X",
            "--head-name", "Y", "--hamlet", "khong co")
    vietnamese = run_cli("--lang", "vi", *args)
    english = run_cli("--lang", "en", *args)
    for result in (vietnamese, english):
        if result.returncode != 1:
            raise SmokeFailure(f"expected exit 1, got {result.returncode}:\n{result.stderr}")
        if "Traceback" in result.stderr:
            raise SmokeFailure(f"traceback on stderr:\n{result.stderr}")
    message = vietnamese.stderr.strip()
    if message == english.stderr.strip() or not has_vietnamese_letters(message):
        raise SmokeFailure(f"the message is not in Vietnamese: {message!r}")
    return message


def check_gui(tmp: Path) -> str:
    """The app starts offscreen on a fresh workspace and stays up; no traceback."""
    data_dir = tmp / "gui-ws"
    env = frozen_env() | {"QT_QPA_PLATFORM": "offscreen"}
    print(f"  $ QT_QPA_PLATFORM=offscreen dxkit --data-dir ... (for {GUI_SECONDS} s)")
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen([str(executable("dxkit")), "--data-dir", str(data_dir)],
                                   stdout=subprocess.DEVNULL, stderr=stderr, env=env)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=GUI_SECONDS)  # an early exit is a failure, reported below
        exited = process.poll()
        if exited is None:
            process.kill()
            process.wait()
        stderr.seek(0)
        errors = stderr.read().decode("utf-8", "replace")
    if exited is not None:
        raise SmokeFailure(f"the app exited with {exited} within {GUI_SECONDS} s:\n{errors}")
    if "Traceback" in errors:
        raise SmokeFailure(f"traceback on stderr:\n{errors}")
    # Stays up could also mean an error box; the new workspace shows it got past opening it.
    if not (data_dir / "dxkit.sqlite").exists():
        raise SmokeFailure("the app did not create its workspace")
    noise = f"; stderr: {errors.strip()[:300]}" if errors.strip() else ""
    return f"up for {GUI_SECONDS} s, workspace created, killed{noise}"


CHECKS: list[tuple[str, Callable[[Path], str]]] = [
    ("version", check_version),
    ("demo workspace", check_demo),
    ("workspace encrypted", check_encrypted),
    ("search with diacritics", check_search),
    ("labels print and verify", check_labels),
    ("dates in vi and en", check_dates),
    ("Vietnamese catalogs", check_translations),
    ("desktop app starts", check_gui),
]


def smoke_test() -> bool:
    print(f"\nSmoke test of {APP_DIR}")
    failures = 0
    with tempfile.TemporaryDirectory(prefix="dxkit-smoke-") as tmp:
        for label, check in CHECKS:
            try:
                detail = check(Path(tmp))
            except (SmokeFailure, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
                failures += 1
                print(f"FAIL {label}: {exc}")
            else:
                print(f"ok   {label}: {detail}")
    print("Smoke test passed." if not failures else f"Smoke test: {failures} check(s) failed.")
    return failures == 0


# -- main --------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-build", action="store_true", help="smoke-test dist/dxkit only")
    parser.add_argument("--no-smoke", action="store_true", help="build without the smoke test")
    options = parser.parse_args()
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8", errors="replace")  # Vietnamese on cp1252
    if not options.no_build:
        python = project_python()
        ensure_pyinstaller(python)
        if APP_DIR.exists():
            shutil.rmtree(APP_DIR)
        seconds = build(python)
        write_installer_version()
        size, count = folder_size(APP_DIR)
        print(f"\nBuilt {APP_DIR} in {seconds:.0f} s: {size / 2**20:.0f} MB in {count} files.")
    passed = options.no_smoke or smoke_test()
    if passed and WINDOWS and not options.no_build:
        print("Next: compile installer\\dxkit.iss with Inno Setup 6 (ISCC installer\\dxkit.iss).")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
