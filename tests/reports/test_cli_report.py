"""`dxkit report monthly` through click: the JSON contract, the XLSX tables, bad input."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook

from dxkit import demo
from dxkit.cli import cli
from dxkit.workspace import Workspace
from tests.reports.tally import compare, tally

KEYS = {"period", "hamlet", "visits", "households_reached", "people_helped", "items",
        "indicators", "followups_overdue", "learners_completed", "lots", "labels_printed",
        "farm_scope", "hamlets", "corrections", "issuer", "classes", "diary_entries"}
INDICATOR_KEYS = {"code", "name", "reached", "counted", "share", "target", "met", "start",
                  "change", "official"}


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    demo.fill(folder, households=120)
    return folder


def run(folder: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--lang", "en", "--data-dir", str(folder), *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert "Traceback" not in result.output
    return result


def test_json_contract(demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "november.json"
    result = run(demo_dir, "report", "monthly", "--month", "2026-11", "--format", "json",
                 "--out", str(out))
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data) == KEYS
    assert data["period"] == {"from": "2026-11-01", "to": "2026-11-30"}
    assert all(isinstance(data[k], int) for k in ("visits", "households_reached",
                                                  "people_helped", "followups_overdue",
                                                  "learners_completed", "labels_printed"))
    assert data["items"] and all(set(i) == {"code", "name", "done", "partly", "not_done"}
                                 for i in data["items"])
    assert data["indicators"] and all(
        set(i) == INDICATOR_KEYS for i in data["indicators"])
    assert set(data["lots"]) == {"compliant", "refused"}
    assert set(data["corrections"]) == {"visits", "now"}
    ws = Workspace.open(demo_dir, readonly=True)
    try:
        compare(data, tally(ws.conn, dt.date(2026, 11, 1), dt.date(2026, 11, 30)))
        hamlet = ws.catalog.hamlets()[0]
        one = tmp_path / "one.json"
        result = run(demo_dir, "report", "monthly", "--from", "2026-11-01", "--to",
                     "2026-11-30", "--hamlet", hamlet.name, "--format", "json", "--out",
                     str(one))
        assert result.exit_code == 0, result.output
        mine = json.loads(one.read_text(encoding="utf-8"))
        assert mine["hamlet"] == hamlet.name
        compare(mine, tally(ws.conn, dt.date(2026, 11, 1), dt.date(2026, 11, 30), hamlet.id))
    finally:
        ws.close()


def test_xlsx_holds_the_same_numbers_as_numbers(demo_dir: Path, tmp_path: Path) -> None:
    out, data_file = tmp_path / "november.xlsx", tmp_path / "november.json"
    for fmt, path in (("xlsx", out), ("json", data_file)):
        assert run(demo_dir, "report", "monthly", "--month", "2026-11", "--format", fmt,
                   "--out", str(path)).exit_code == 0
    data = json.loads(data_file.read_text(encoding="utf-8"))
    book = load_workbook(out, read_only=True)
    assert book.sheetnames == ["Summary", "Support items", "Indicators", "Hamlets",
                               "Indicators by hamlet", "Corrections"]
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Visits"] == data["visits"] and isinstance(summary["Visits"], int)
    assert summary["Households reached"] == data["households_reached"]
    assert summary["People helped"] == data["people_helped"]
    assert summary["Follow-ups overdue"] == data["followups_overdue"]
    items = [list(r) for r in book["Support items"].iter_rows(min_row=2, values_only=True)]
    assert items == [[i["code"], i["name"], i["done"], i["partly"], i["not_done"]]
                     for i in data["items"]]
    indicators = [list(r)[:6] for r in book["Indicators"].iter_rows(min_row=2,
                                                                   values_only=True)]
    assert [[r[0], r[2], r[3]] for r in indicators] == [
        [i["code"], i["reached"], i["counted"]] for i in data["indicators"]]
    assert all(isinstance(r[4], float | int) for r in indicators)
    for name, key in (("Class sessions held", "sessions"),
                      ("Learners who attended", "learners_attended"),
                      ("Certificates issued", "certificates_issued")):
        assert summary[name] == data["classes"][key] and isinstance(summary[name], int)
    assert summary["Diary entries"] == data["diary_entries"]
    assert summary["Commune"] == data["issuer"]["commune"]
    rows = [list(r) for r in book["Indicators"].iter_rows(min_row=2, values_only=True)]
    assert [r[4:] for r in rows] == [
        [i["share"], i["target"], None if i["met"] is None else ("yes" if i["met"] else "no"),
         i["start"]["reached"], i["start"]["counted"], i["start"]["share"],
         i["change"]["reached"], i["change"]["share"],
         "adults" if i["official"]["basis"] == "adults" else "aged 15 and over",
         i["official"]["population"], i["official"]["share"],
         ", ".join(i["official"]["missing"]) or None] for i in data["indicators"]]
    by_hamlet = [list(r) for r in book["Indicators by hamlet"].iter_rows(min_row=2,
                                                                          values_only=True)]
    assert [(r[0], r[1], r[3], r[8], r[14]) for r in by_hamlet] == [
        (h["name"], i["code"], i["reached"], i["start"]["reached"], i["official"]["population"])
        for h in data["hamlets"] for i in h["indicators"]]
    book.close()


@pytest.mark.parametrize(("args", "words"), [
    (["--month", "2026-13"], "YYYY-MM"),
    (["--month", "nov"], "YYYY-MM"),
    (["--from", "2026-11-30", "--to", "2026-11-01"], "after it ends"),
    (["--from", "2026-11-01"], "--from and --to"),
    (["--month", "2026-11", "--from", "2026-11-01", "--to", "2026-11-02"], "not both"),
    (["--month", "2026-11", "--hamlet", "Ấp Không Có"], "Unknown hamlet"),
    (["--from", "2026-11-31", "--to", "2026-12-01"], "YYYY-MM-DD"),
])
def test_bad_input_is_one_sentence_and_writes_nothing(demo_dir: Path, tmp_path: Path,
                                                      args: list[str], words: str) -> None:
    out = tmp_path / "report.json"
    result = run(demo_dir, "report", "monthly", *args, "--format", "json", "--out", str(out))
    assert result.exit_code != 0
    assert words in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1
    assert not out.exists()


def test_an_unknown_format_is_refused(demo_dir: Path, tmp_path: Path) -> None:
    result = run(demo_dir, "report", "monthly", "--month", "2026-11", "--format", "docx",
                 "--out", str(tmp_path / "r.docx"))
    assert result.exit_code != 0 and "pdf, xlsx, json" in result.output
    assert not (tmp_path / "r.docx").exists()
