"""The suggested code of a new household continues the hamlet's or the team's numbering."""

from __future__ import annotations

from dxkit.households.codes import hamlet_initials, next_code, runs

NAMES = {"mh": "Ấp Mỹ Hưng", "dh": "Ấp Đông Hòa", "k3": "Khóm 3"}


def test_the_hamlets_own_run_goes_on_with_its_width():
    codes = {"mh": ["MH-0121", "MH-0123", "MH-0122"], "k3": ["3-001"]}
    assert next_code("mh", codes, NAMES) == "MH-0124"
    assert next_code("k3", codes, NAMES) == "3-002"


def test_a_taken_code_is_skipped_wherever_it_is_used():
    codes = {"mh": ["MH-0123"], "dh": ["mh-0124"]}  # typed by hand in another hamlet
    assert next_code("mh", codes, NAMES) == "MH-0125"


def test_a_new_hamlet_starts_its_own_run_when_runs_are_named_after_hamlets():
    codes = {"mh": ["MH-0001", "MH-0002"]}
    assert next_code("dh", codes, NAMES) == "DH-0001"


def test_a_commune_wide_run_goes_on_in_any_hamlet():
    codes = {"mh": ["HGD-041", "HGD-042"], "k3": ["HGD-040"]}
    assert next_code("dh", codes, NAMES) == "HGD-043"


def test_without_any_code_the_hamlets_initials_start_a_run():
    assert next_code("dh", {}, NAMES) == "DH-001"
    assert next_code("", {}, NAMES) == ""


def test_runs_and_initials():
    assert [r.prefix for r in runs(["A-1", "B-7", "B-2", "no number"])] == ["B-", "A-"]
    assert hamlet_initials("Ấp Mỹ Hưng") == "MH"
    assert hamlet_initials("Khóm 3") == "3"
    assert hamlet_initials("Thôn Đông Hòa") == "DH"


def test_the_service_reads_live_codes(ws):
    ws.households.add(code="MH-0123", head_name="Nguyễn Văn An", hamlet="Ấp Mỹ Hưng")
    gone = ws.households.add(code="MH-0200", head_name="Lê Văn Tám", hamlet="Ấp Mỹ Hưng").value
    with ws.transaction() as tx:
        tx.delete("households", gone.id)
    mh = ws.catalog.hamlet("Ấp Mỹ Hưng").id
    assert ws.households.suggest_code(mh) == "MH-0124"
    assert ws.households.suggest_code(ws.catalog.hamlet("Ấp Đông Hòa").id) == "DH-0001"
