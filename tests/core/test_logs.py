"""The log file: crashes land in it with their traceback, and no phone number or citizen ID
reaches it, whatever an exception's message carries."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dxkit.core import logs

ROOT = Path(__file__).resolve().parents[2]
PHONE, CCCD = "0912345678", "087068012345"

# A process that sets the log up like the app, then crashes in a thread and in the main thread
# with personal data in the exception messages.
CRASHING = textwrap.dedent("""
    import sys, threading
    from pathlib import Path
    from dxkit.core import logs

    logs.setup(Path(sys.argv[1]))
    logs.install_crash_hooks()

    def import_row():
        raise ValueError("bad row: phone 0912 345 678, CCCD 087068012345")

    worker = threading.Thread(target=import_row, name="import-worker")
    worker.start()
    worker.join()

    def save_household():
        raise RuntimeError("could not save Nguyễn Văn Đồng, 0912345678, +84 912 345 678")

    save_household()
""")


def test_a_crash_lands_in_the_log_with_its_traceback_and_without_personal_data(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    crashed = subprocess.run([sys.executable, "-c", CRASHING, str(tmp_path)], env=env,
                             capture_output=True, text=True, encoding="utf-8", timeout=120,
                             check=False)
    assert crashed.returncode == 1
    assert "RuntimeError" in crashed.stderr  # a console, when there is one, still shows it

    text = (tmp_path / "logs" / "dxkit.log").read_text(encoding="utf-8")
    assert "CRITICAL dxkit.crash" in text
    assert "uncaught ValueError in thread import-worker" in text
    assert "uncaught RuntimeError" in text
    assert text.count("Traceback (most recent call last)") == 2
    assert 'in save_household' in text and 'in import_row' in text
    for value in (PHONE, CCCD, "0912 345 678", "912 345 678", "345 678"):
        assert value not in text
    assert "bad row: phone […], CCCD […]" in text


@pytest.mark.parametrize(("text", "expected"), [
    ("phone 0912345678", "phone […]"),
    ("phone 0912.345.678 or 0912-345-678", "phone […] or […]"),
    ("phone +84 912 345 678", "phone […]"),
    ("cccd=087068012345;", "cccd=[…];"),
    ("cmnd 123456789 and 087 068 012 345", "cmnd […] and […]"),
    ("mail an.nguyen@example.vn", "mail […]"),
])
def test_redaction_removes_phones_ids_and_mail(text, expected):
    assert logs.redact(text) == expected


@pytest.mark.parametrize("kept", [
    "household 0193c2a4-7b1e-7cc3-9a0b-1d2e3f405162",
    "device 5f3c1a2b3c4d5e6f",
    "2026-11-20 09:30:00 pushed 1234 of 56789 records",
    "line 123 in apply_page, table households",
    "hlc 0193c2a47b1e-0003-5f3c1a2b3c4d5e6f",
])
def test_redaction_keeps_ids_counts_and_times(kept):
    assert logs.redact(kept) == kept


def test_redaction_hides_the_home_folder(monkeypatch, tmp_path):
    home = tmp_path / "Nguyen Van Dong"
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: home))
    assert logs.redact(f'File "{home}/dxkit/core/store.py", line 3') == (
        'File "~/dxkit/core/store.py", line 3')


def test_a_logged_message_and_its_arguments_are_redacted(tmp_path):
    path = logs.setup(tmp_path)
    log = logging.getLogger("dxkit.test")
    try:
        log.info("sync refused for %s", "0987654321")
        try:
            raise KeyError(f"person {CCCD}")
        except KeyError:
            log.exception("lookup failed")
    finally:
        logs.setup(tmp_path / "elsewhere")  # closes the handler on our file
    text = path.read_text(encoding="utf-8")
    assert "sync refused for […]" in text and "lookup failed" in text
    assert "KeyError: 'person […]'" in text
    assert "0987654321" not in text and CCCD not in text


def test_the_log_rotates_at_a_megabyte_and_keeps_five_files(tmp_path):
    path = logs.setup(tmp_path)
    log = logging.getLogger("dxkit.test")
    try:
        for n in range(1500):
            log.info("batch %d applied: %s", n, "x" * 4000)
    finally:
        logs.setup(tmp_path / "elsewhere")
    files = logs.log_files(tmp_path)
    assert [p.name for p in files] == ["dxkit.log", *(f"dxkit.log.{n}" for n in range(1, 6))]
    assert all(p.stat().st_size <= logs.MAX_BYTES for p in files)
    assert path == files[0]
