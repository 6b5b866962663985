"""`dxkit sync repair-clock` from the command line: what it changed, in JSON or sentences, and a
refusal in one sentence when the computer's date cannot judge the clocks."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import as_json
from tests.core.test_clock_repair import poison
from tests.support.workspace_file import open_file


def household_of(folder: Path) -> tuple[str, str]:
    conn = open_file(folder)
    row_id, device = conn.execute(
        "SELECT households.id, meta.value FROM households, meta "
        "WHERE meta.key = 'device_id' LIMIT 1").fetchone()
    conn.close()
    return row_id, device


def test_repair_clock_says_what_it_changed_and_then_that_nothing_is_left(filled_dir, dxkit):
    row_id, device = household_of(filled_dir)
    poison(filled_dir, row_id, device)
    told = as_json(dxkit(filled_dir, "sync", "repair-clock", "--json"))
    assert told["at_open"]["clock_reset"] is True
    assert told["at_open"]["restamped"] == {"households": 1}
    assert told["at_open"]["demoted"] == {"households": 1}
    assert told["pull_again"] == ["households"] and told["changed"] is True
    again = dxkit(filled_dir, "--lang", "en", "sync", "repair-clock")
    assert again.exit_code == 0
    assert again.stdout.strip() == ("Every clock of this workspace can be believed; nothing "
                                    "was changed.")


def test_repair_clock_refuses_to_judge_by_a_date_that_went_back(filled_dir, dxkit):
    conn = open_file(filled_dir)
    conn.execute("INSERT INTO audit_log (at, hlc, device_id, actor, table_name, row_id, "
                 "action, fields) VALUES ('2099-01-01T00:00:00+00:00', "
                 "'000000000001-0000-aaaa', 'aaaa', 'x', 'households', 'x', 'update', '[]')")
    conn.commit()
    conn.close()
    refused = dxkit(filled_dir, "sync", "repair-clock")
    assert refused.exit_code == 1 and refused.stdout == ""
    assert refused.stderr.strip().startswith("Ngày giờ của máy này sớm hơn")
    assert len(refused.stderr.strip().splitlines()) == 1
