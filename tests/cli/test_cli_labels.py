"""`dxkit labels verify` and `dxkit labels templates`."""

from __future__ import annotations

from pathlib import Path

from dxkit.labels import render_labels, template_named
from tests.cli.conftest import Invoke, as_json
from tests.labels.conftest import sample_content


def write_sheet(tmp_path: Path, name: str = "a4-2x7", count: int = 3,
                start: int = 2) -> tuple[Path, list]:
    contents = [sample_content(i) for i in range(count)]
    path = tmp_path / "labels.pdf"
    path.write_bytes(render_labels(template_named(name), contents, start_position=start))
    return path, contents


def test_verify_json_reports_every_code(dxkit: Invoke, tmp_path: Path) -> None:
    path, contents = write_sheet(tmp_path)
    data = as_json(dxkit(tmp_path, "labels", "verify", str(path), "--json"))
    assert data["count"] == 3 and data["pages"] == 1
    assert [c["payload"] for c in data["codes"]] == [c.qr_payload for c in contents]
    template = template_named("a4-2x7")
    for code, position in zip(data["codes"], (2, 3, 4), strict=True):
        assert set(code) >= {"payload", "page", "module_mm", "x_mm", "y_mm", "size_mm"}
        assert code["page"] == 1 and code["module_mm"] >= 0.4
        left, top = template.cell(position)
        assert left < code["x_mm"] < left + template.label_width
        assert top < code["y_mm"] < top + template.label_height


def test_verify_text_and_expected_count(dxkit: Invoke, tmp_path: Path) -> None:
    path, contents = write_sheet(tmp_path, "thermal-50x30", 2, start=1)
    result = dxkit(tmp_path, "--lang", "en", "labels", "verify", str(path), "--dpi", "203")
    assert result.exit_code == 0, result.output
    assert "QR codes read: 2, on 2 pages." in result.stdout
    assert contents[1].qr_payload in result.stdout
    wrong = dxkit(tmp_path, "--lang", "en", "labels", "verify", str(path), "--expect", "3")
    assert wrong.exit_code == 1
    assert "2 QR codes were read" in wrong.stderr


def test_verify_refuses_what_is_not_a_readable_pdf(dxkit: Invoke, tmp_path: Path) -> None:
    notes = tmp_path / "notes.pdf"
    notes.write_text("hello", encoding="utf-8")
    for target in (notes, tmp_path / "missing.pdf"):
        result = dxkit(tmp_path, "labels", "verify", str(target), "--json")
        assert result.exit_code == 1
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1
        assert str(target) in result.stderr


def test_templates_lists_the_builtin_stock(dxkit: Invoke, tmp_path: Path) -> None:
    data = as_json(dxkit(tmp_path, "labels", "templates", "--json"))
    assert [t["name"] for t in data] == ["a4-3x7", "a4-3x8", "a4-2x7", "thermal-50x30",
                                         "thermal-40x30"]
    assert data[0]["title"].startswith("Tờ A4 3×7")
    text = dxkit(tmp_path, "--lang", "en", "labels", "templates")
    assert "thermal-40x30" in text.stdout and "roll, 203 dpi" in text.stdout
