"""`dxkit farm`, `dxkit labels print` and `dxkit trace export` in the contract's forms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dxkit.farm.demo_farm import fill_farm_demo
from dxkit.labels.verify import page_texts, verify_pdf
from dxkit.workspace import Workspace
from tests.cli.conftest import Invoke, as_json, real_now


@pytest.fixture
def farm_dir(ws: Workspace) -> Path:
    """The demo cooperative: a compliant rice lot, a non-compliant one, a mango lot."""
    ws.freeze_time(None)
    fill_farm_demo(ws, now=real_now())
    path = ws.path
    ws.close()
    return path


def lots_by_compliance(dxkit: Invoke, folder: Path) -> tuple[dict, dict]:
    lots = as_json(dxkit(folder, "farm", "lots", "list", "--json"))
    good = next(lot for lot in lots if lot["compliant"])
    bad = next(lot for lot in lots if not lot["compliant"])
    return good, bad


def test_lots_list_json_has_the_contract_keys(dxkit: Invoke, farm_dir: Path):
    lots = as_json(dxkit(farm_dir, "farm", "lots", "list", "--json"))
    assert len(lots) == 3
    for lot in lots:
        assert {"code", "product", "compliant", "reasons"} <= set(lot)
        assert isinstance(lot["compliant"], bool)
        assert lot["compliant"] == (lot["reasons"] == [])
    bad = [lot for lot in lots if not lot["compliant"]]
    assert len(bad) == 1 and "cách ly" in bad[0]["reasons"][0]


def test_labels_print_writes_a_pdf_whose_codes_decode(dxkit: Invoke, farm_dir: Path,
                                                      tmp_path: Path):
    good, _bad = lots_by_compliance(dxkit, farm_dir)
    out = tmp_path / "nhan.pdf"
    result = dxkit(farm_dir, "labels", "print", "--lot", good["code"], "--template", "a4-3x7",
                   "--copies", "5", "--serials", "--start", "4", "--out", str(out))
    assert result.exit_code == 0, result.output
    report = verify_pdf(out)
    assert report.count == 5
    payloads = [code.payload for code in report.codes]
    assert len(set(payloads)) == 5  # one serial each
    assert all(good["code"] in payload for payload in payloads)
    assert good["product"] in page_texts(out.read_bytes())[0]
    shown = as_json(dxkit(farm_dir, "farm", "lots", "show", good["code"], "--json"))
    assert shown["print_runs"][-1]["copies"] == 5


def test_a_non_compliant_lot_is_refused_with_the_reason(dxkit: Invoke, farm_dir: Path,
                                                        tmp_path: Path):
    _good, bad = lots_by_compliance(dxkit, farm_dir)
    out = tmp_path / "nhan.pdf"
    result = dxkit(farm_dir, "labels", "print", "--lot", bad["code"], "--template", "a4-3x7",
                   "--out", str(out))
    assert result.exit_code != 0
    assert bad["reasons"][0] in result.stderr
    assert not out.exists()
    shown = as_json(dxkit(farm_dir, "farm", "lots", "show", bad["code"], "--json"))
    assert shown["print_runs"] == []


def test_an_unknown_template_prints_nothing_and_records_nothing(dxkit: Invoke, farm_dir: Path,
                                                                tmp_path: Path):
    good, _bad = lots_by_compliance(dxkit, farm_dir)
    before = as_json(dxkit(farm_dir, "farm", "lots", "show", good["code"], "--json"))
    result = dxkit(farm_dir, "labels", "print", "--lot", good["code"], "--template", "a5-9x9",
                   "--out", str(tmp_path / "x.pdf"))
    assert result.exit_code != 0 and "a4-3x7" in result.stderr
    after = as_json(dxkit(farm_dir, "farm", "lots", "show", good["code"], "--json"))
    assert after["print_runs"] == before["print_runs"]


@pytest.mark.parametrize("form", ["epcis", "html", "json"])
def test_trace_export(dxkit: Invoke, farm_dir: Path, tmp_path: Path, form: str):
    good, _bad = lots_by_compliance(dxkit, farm_dir)
    out = tmp_path / f"trace.{form}"
    result = dxkit(farm_dir, "trace", "export", "--lot", good["code"], "--format", form,
                   "--out", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert good["code"] in text
    if form == "html":
        assert "Tân Mỹ Xanh" in text and "<html" in text
    else:
        json.loads(text)


def test_recording_a_banned_ingredient_warns_loudly(dxkit: Invoke, farm_dir: Path):
    plots = as_json(dxkit(farm_dir, "farm", "plots", "list", "--json"))
    seasons = as_json(dxkit(farm_dir, "farm", "seasons", "list", "--json"))
    plot = next(p for p in plots if p["crop"] == "rice")
    result = dxkit(farm_dir, "farm", "entries", "add", "--plot", plot["name"], "--season",
                   seasons[0]["name"], "--kind", "pesticide", "--on", "2025-12-01",
                   "--product", "Thuốc tự pha", "--ingredient", "Fipronil", "--dose", "1 l/ha",
                   "--applied-by", "Nguyễn Văn Sáu", "--json")
    assert result.exit_code == 0, result.output
    assert "KHÔNG ĐẠT" in result.stderr.upper() and "fipronil" in result.stderr.lower()
    entry = json.loads(result.stdout)
    assert entry["compliant"] is False


def test_bad_entry_input_is_one_sentence_and_nothing_written(dxkit: Invoke, farm_dir: Path):
    plots = as_json(dxkit(farm_dir, "farm", "plots", "list", "--json"))
    seasons = as_json(dxkit(farm_dir, "farm", "seasons", "list", "--json"))
    before = as_json(dxkit(farm_dir, "farm", "entries", "list", "--json"))
    result = dxkit(farm_dir, "farm", "entries", "add", "--plot", plots[0]["name"], "--season",
                   seasons[0]["name"], "--kind", "harvest", "--on", "2026-01-01")
    assert result.exit_code != 0
    assert "Traceback" not in result.output and result.stderr.strip()
    assert as_json(dxkit(farm_dir, "farm", "entries", "list", "--json")) == before


def test_an_option_that_does_not_fit_the_kind_is_named(dxkit: Invoke, farm_dir: Path):
    plots = as_json(dxkit(farm_dir, "farm", "plots", "list", "--json"))
    seasons = as_json(dxkit(farm_dir, "farm", "seasons", "list", "--json"))
    result = dxkit(farm_dir, "farm", "entries", "add", "--plot", plots[0]["name"], "--season",
                   seasons[0]["name"], "--kind", "harvest", "--on", "2026-01-01",
                   "--quantity", "3 tấn", "--dose", "1 l/ha")
    assert result.exit_code != 0 and "--dose" in result.stderr


def test_farm_settings_change_the_qr_payload(dxkit: Invoke, farm_dir: Path, tmp_path: Path):
    bad = dxkit(farm_dir, "farm", "settings", "--trace-base-url", "truyxuat", "--cong-m2", "5")
    assert bad.exit_code != 0 and "https://" in bad.stderr and "công" in bad.stderr
    shown = as_json(dxkit(farm_dir, "farm", "settings", "--trace-base-url",
                          "https://tx.example.vn/lo/", "--cong-m2", "1296", "--json"))
    assert shown == {"trace_base_url": "https://tx.example.vn/lo/",
                     "trace_base_url_confirmed": True,
                     "gs1_resolver": "https://tx.example.vn", "cong_m2": 1296.0}
    good, _bad = lots_by_compliance(dxkit, farm_dir)
    out = tmp_path / "nhan.pdf"
    assert dxkit(farm_dir, "labels", "print", "--lot", good["code"], "--template",
                 "thermal-50x30", "--out", str(out)).exit_code == 0
    assert verify_pdf(out, dpi=203).codes[0].payload.startswith("https://tx.example.vn/lo/")


def test_text_lists_name_crops_and_entry_kinds(dxkit: Invoke, farm_dir: Path):
    plots = dxkit(farm_dir, "farm", "plots", "list").stdout
    entries = dxkit(farm_dir, "farm", "entries", "list").stdout
    products = dxkit(farm_dir, "farm", "products", "list", "--crop", "rice").stdout
    assert "Lúa" in plots and "rice" not in plots
    assert "Làm đất" in entries or "Bón phân" in entries or "Phun thuốc" in entries
    assert not any(kind in entries for kind in ("land_preparation", "pesticide", "harvest"))
    assert "Lúa" in products and "rice" not in products and "ngày" in products


# -- issue 10 §7: a full sheet, a confirmed trace address, a printing offset -------------------
def test_labels_fill_the_sheet_unless_told_otherwise(dxkit: Invoke, farm_dir: Path,
                                                     tmp_path: Path):
    good, _bad = lots_by_compliance(dxkit, farm_dir)
    out = tmp_path / "to.pdf"
    printed = as_json(dxkit(farm_dir, "labels", "print", "--lot", good["code"], "--template",
                            "a4-3x7", "--out", str(out), "--json"))
    assert printed["labels"] == 21 and verify_pdf(out).count == 21
    rest = as_json(dxkit(farm_dir, "labels", "print", "--lot", good["code"], "--template",
                         "a4-3x7", "--start", "5", "--serials", "--out", str(out), "--json"))
    assert rest["labels"] == 17 and verify_pdf(out).count == 17  # the rest of a used sheet
    roll = as_json(dxkit(farm_dir, "labels", "print", "--lot", good["code"], "--template",
                         "thermal-50x30", "--out", str(out), "--json"))
    assert roll["labels"] == 1
    assert "21" in dxkit(farm_dir, "labels", "print", "--help").stdout


def test_labels_wait_for_the_trace_address_to_be_confirmed(dxkit: Invoke, farm_dir: Path,
                                                            tmp_path: Path):
    ws = Workspace.open(farm_dir)
    ws.settings.set("farm.trace_base_url_confirmed", None)  # as in a new workspace
    ws.close()
    good, _bad = lots_by_compliance(dxkit, farm_dir)
    runs = as_json(dxkit(farm_dir, "farm", "lots", "show", good["code"], "--json"))["print_runs"]
    out = tmp_path / "tem.pdf"
    refused = dxkit(farm_dir, "labels", "print", "--lot", good["code"], "--template", "a4-3x7",
                    "--out", str(out))
    assert refused.exit_code == 1 and not out.exists()
    sentence = refused.stderr.strip()
    assert sentence.count(". ") == 0 and "\n" not in sentence  # one sentence
    assert "https://truyxuat.dongthap.gov.vn/t/" in sentence
    assert "--confirm-trace-base-url" in sentence and "--trace-base-url URL" in sentence
    assert as_json(dxkit(farm_dir, "farm", "lots", "show", good["code"], "--json")
                   )["print_runs"] == runs
    shown = as_json(dxkit(farm_dir, "farm", "settings", "--json"))
    assert shown["trace_base_url_confirmed"] is False
    confirmed = as_json(dxkit(farm_dir, "farm", "settings", "--confirm-trace-base-url",
                              "--json"))
    assert confirmed["trace_base_url_confirmed"] is True
    assert dxkit(farm_dir, "labels", "print", "--lot", good["code"], "--template", "a4-3x7",
                 "--out", str(out)).exit_code == 0
    # Another address typed on the command line is confirmed by typing it.
    assert as_json(dxkit(farm_dir, "farm", "settings", "--trace-base-url",
                         "https://tx.example.vn/t/", "--json"))["trace_base_url_confirmed"]
    # Read by people: named settings, "có" not True, 1.000 not 1000.
    assert dxkit(farm_dir, "farm", "settings").stdout.splitlines() == [
        "Địa chỉ truy xuất trong mã QR: https://tx.example.vn/t/",
        "Đã xác nhận địa chỉ truy xuất: có",
        "Máy phân giải GS1 Digital Link: https://tx.example.vn",
        "Số mét vuông của một công: 1.000"]


def test_a_printing_offset_is_saved_per_stock_and_moves_the_codes(dxkit: Invoke,
                                                                  farm_dir: Path,
                                                                  tmp_path: Path):
    good, _bad = lots_by_compliance(dxkit, farm_dir)
    plain, moved, once = (tmp_path / f"{name}.pdf" for name in ("plain", "moved", "once"))
    args = ("labels", "print", "--lot", good["code"], "--template", "a4-3x7", "--copies", "1")
    assert dxkit(farm_dir, *args, "--out", str(plain)).exit_code == 0
    saved = as_json(dxkit(farm_dir, "labels", "offset", "a4-3x7", "--x", "-1,5", "--y", "2",
                          "--json"))
    assert saved == {"template": "a4-3x7", "x_mm": -1.5, "y_mm": 2.0}
    assert as_json(dxkit(farm_dir, "labels", "offset", "A4-3x7", "--json")) == saved
    assert as_json(dxkit(farm_dir, "labels", "offset", "a4-3x8", "--json"))["x_mm"] == 0.0
    assert dxkit(farm_dir, *args, "--out", str(moved)).exit_code == 0
    before, after = verify_pdf(plain).codes[0], verify_pdf(moved).codes[0]
    assert (after.x_mm - before.x_mm, after.y_mm - before.y_mm) == (
        pytest.approx(-1.5, abs=0.1), pytest.approx(2.0, abs=0.1))
    # For one run only: the saved offset stays as it was.
    assert dxkit(farm_dir, *args, "--offset-x", "0", "--out", str(once)).exit_code == 0
    assert verify_pdf(once).codes[0].x_mm == pytest.approx(before.x_mm, abs=0.1)
    assert verify_pdf(once).codes[0].y_mm == pytest.approx(after.y_mm, abs=0.1)
    assert as_json(dxkit(farm_dir, "labels", "offset", "a4-3x7", "--json")) == saved
    too_far = dxkit(farm_dir, "labels", "offset", "a4-3x7", "--y", "25")
    assert too_far.exit_code == 1 and "--y" in too_far.stderr and "10" in too_far.stderr
    assert as_json(dxkit(farm_dir, "labels", "offset", "a4-3x7", "--json")) == saved
