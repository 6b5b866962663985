"""An ordinary (non-editable) install carries its resources: the wheel the installer and pip
use is built, installed into a fresh virtual environment, and run from outside the source
tree. The Vietnamese catalogs and the label font come from the installed package; a missing
one is an error that says so, never a silent fallback to English or another font."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow

LABEL_PDF = """
import sys
from dxkit.labels import LabelContent, render_labels, template_named
pdf = render_labels(template_named("a4-3x7"), [LabelContent(
    product="Xoài cát Hòa Lộc", cooperative="HTX Mỹ Đông", growing_area="VN-DT-001",
    harvest_date="02/12/2026", pack_date="03/12/2026", lot_code="MD-2026-001",
    certification="VietGAP", qr_payload="https://example.vn/t/MD-2026-001")])
sys.stdout.buffer.write(pdf)
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed by pip. Third-party packages come
    from the test environment through a .pth line (a plain path: the editable dxkit's own .pth
    there is not run), so nothing is downloaded."""
    where = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(where / "dist"), str(ROOT)], check=True, cwd=where)
    (wheel,) = (where / "dist").glob("dxkit-*.whl")
    env_dir = where / "env"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, cwd=where)
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def run(python: Path, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DXKIT_LANG")}
    return subprocess.run([str(python), *args], capture_output=True, cwd=python.parents[2],
                          env={**clean, **env}, timeout=120, check=False)


def package_dir(python: Path) -> Path:
    done = run(python, "-c", "import dxkit, os; print(os.path.dirname(dxkit.__file__))")
    return Path(done.stdout.decode().strip())


def test_the_installed_package_is_not_the_source_tree(installed: Path) -> None:
    folder = package_dir(installed)
    assert folder.is_dir() and ROOT not in folder.parents


def test_the_cli_speaks_vietnamese_from_the_installed_catalogs(installed: Path) -> None:
    done = run(installed, "-m", "dxkit.ui.entry", "--help", DXKIT_LANG="vi")
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode("utf-8")
    assert "Thư mục kho dữ liệu" in text and "Tổ công nghệ số cộng đồng" in text


def test_a_label_pdf_embeds_the_bundled_font(installed: Path) -> None:
    done = run(installed, "-c", LABEL_PDF)
    assert done.returncode == 0, done.stderr
    pdf = done.stdout
    assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf  # an embedded TrueType font
    assert b"DejaVuSansCondensed" in pdf


def test_a_missing_resource_is_an_error_that_says_so(installed: Path) -> None:
    fonts = package_dir(installed) / "resources" / "fonts"
    font = fonts / "DejaVuSansCondensed.ttf"
    font.rename(fonts / "moved.ttf")
    try:
        done = run(installed, "-c", LABEL_PDF)
    finally:
        (fonts / "moved.ttf").rename(font)
    assert done.returncode != 0
    message = done.stderr.decode("utf-8")
    assert "MissingResource" in message and "resources/fonts/DejaVuSansCondensed.ttf" in message
    assert b"%PDF" not in done.stdout

    catalogs = package_dir(installed) / "resources" / "translations"
    catalogs.rename(catalogs.with_name("moved"))
    try:
        done = run(installed, "-m", "dxkit.ui.entry", "--help", DXKIT_LANG="vi")
    finally:
        catalogs.with_name("moved").rename(catalogs)
    assert done.returncode != 0
    assert "translations/vi" in done.stderr.decode("utf-8") + done.stdout.decode("utf-8")


def test_the_course_pack_schema_comes_from_the_installed_package(installed: Path) -> None:
    done = run(installed, "-c", "import dxkit.lessons.packs as p; s = p.pack_schema(); "
               "print(s['$id'], s['properties']['format']['const'] == p.FORMAT)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().split() == ["urn:dxkit:course-pack:1", "True"]
