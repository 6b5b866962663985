"""USB bundles: the same merge as the network, verified before anything is applied."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from dxkit.cli import cli
from dxkit.core.errors import Cancelled
from dxkit.core.progress import Progress
from dxkit.core.synced import dependency_order, record_of
from dxkit.households.search import search
from dxkit.households.visits import VisitItem
from dxkit.sync.bundle import BundleError, export_bundle, import_bundle
from dxkit.sync.engine import META_TEAM
from dxkit.sync.seal import SealedWriter, opened, read_header
from dxkit.sync.teamkey import save_team_key, team_key
from dxkit.workspace import Workspace
from tests.support.places import unique_commune
from tests.support.workspace_file import open_copy

TEAM = "team-hamlet-my-hung"


def join_team(ws: Workspace, team_id: str = TEAM) -> bytes:
    """What enrollment leaves on a laptop for bundles: the team's id and the team's key."""
    with ws.transaction():
        ws.set_meta(META_TEAM, team_id)
    if team_key(team_id) is None:
        save_team_key(team_id, base64.urlsafe_b64encode(os.urandom(32)).decode())
    key = team_key(team_id)
    assert key is not None
    return key


def records(ws: Workspace) -> dict[tuple[str, str], dict]:
    """Every synced row except the shipped catalogue, as records."""
    found = {}
    for table in dependency_order():
        for (row_id,) in ws.conn.execute(
                f"SELECT id FROM {table} WHERE device_id != 'shipped'"):
            found[(table, row_id)] = record_of(ws.conn, table, row_id)
    return found


def counts(ws: Workspace) -> dict[str, int]:
    tables = [*dependency_order(), "outbox", "sync_conflicts", "sync_quarantine", "audit_log"]
    return {t: ws.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


@pytest.fixture
def laptops(tmp_path: Path):
    a, b = Workspace.open(tmp_path / "a"), Workspace.open(tmp_path / "b")
    join_team(a)
    join_team(b)
    a.catalog.add_hamlet("Ấp Mỹ Hưng")
    member = a.catalog.add_member("Lê Thị Hoa").value
    household = a.households.add(code="MH-001", head_name="Nguyễn Văn Đồng",
                                 hamlet="Ấp Mỹ Hưng", phone="0912345678").value
    person = a.people.add(household.id, full_name="Trần Thị Hương", birth_year=1968,
                          consent=True).value
    a.visits.add(household.id, [VisitItem("vneid_level2", "done", person.id)],
                 member_ids=[member.id], follow_up_on=a.today())
    a.indicators.answer(person.id, "smartphone", True)
    yield a, b, household, person
    a.close()
    b.close()


def test_a_bundle_carries_every_row_and_the_derived_state(laptops, tmp_path):
    a, b, household, person = laptops
    exported = export_bundle(a, tmp_path / "a.bundle")
    report = import_bundle(b, tmp_path / "a.bundle")
    assert exported.records == len(records(a)) == report.received == report.applied
    assert records(b) == records(a)
    hits = search(b.conn, "nguyen van dong")
    assert [h.id for h in b.households.by_local_ids([h.local_id for h in hits])] == [household.id]
    assert [f.household_id for f in b.visits.follow_ups()] == [household.id]
    assert {i.code for i in b.indicators.for_person(person.id)} == \
        {i.code for i in a.indicators.for_person(person.id)} != set()
    assert b.pending_changes() == 0  # learned from a bundle: not sent on by this laptop


def test_a_bundle_is_applied_after_a_backup_of_the_workspace_as_it_was(laptops, tmp_path):
    a, b, household, _person = laptops
    export_bundle(a, tmp_path / "a.bundle")
    import_bundle(b, tmp_path / "a.bundle")
    made = {x.reason: x for x in b.backups()}
    assert "before-bundle" in made
    copy = open_copy(made["before-bundle"].path, b.path)
    try:
        assert copy.execute("SELECT count(*) FROM households WHERE id = ?",
                            (household.id,)).fetchone()[0] == 0
    finally:
        copy.close()


def test_importing_the_same_bundle_twice_changes_nothing(laptops, tmp_path):
    a, b, _household, _person = laptops
    export_bundle(a, tmp_path / "a.bundle")
    import_bundle(b, tmp_path / "a.bundle")
    before = counts(b)
    again = import_bundle(b, tmp_path / "a.bundle")
    assert (again.applied, again.conflicts, again.quarantined) == (0, 0, 0)
    assert again.duplicate == again.received == len(records(a))
    assert counts(b) == before


def test_edits_on_both_sides_merge_per_field_and_list_the_same_field_pair(laptops, tmp_path):
    a, b, household, _person = laptops
    export_bundle(a, tmp_path / "a.bundle")
    import_bundle(b, tmp_path / "a.bundle")
    a.conn.execute("DELETE FROM outbox")  # as after a's push: only new edits are unsent
    a.households.update(household.id, phone="0987654321", notes="Có con đi học xa")
    b.households.update(household.id, phone="0911111111", address="Số 7, Ấp Mỹ Hưng")
    export_bundle(a, tmp_path / "a2.bundle")
    export_bundle(b, tmp_path / "b.bundle")
    to_b = import_bundle(b, tmp_path / "a2.bundle")
    to_a = import_bundle(a, tmp_path / "b.bundle")
    for ws in (a, b):
        merged = ws.households.get(household.id)
        assert (merged.notes, merged.address) == ("Có con đi học xa", "Số 7, Ấp Mỹ Hưng")
        assert merged.phone == "0911111111"  # b's edit is the later one
    assert records(a) == records(b)
    assert (to_a.conflicts, to_b.conflicts) == (1, 1)
    for ws in (a, b):
        pairs = ws.conn.execute("SELECT field, local_value, remote_value FROM sync_conflicts")
        assert [(f, *sorted((json.loads(x), json.loads(y)))) for f, x, y in pairs] == \
            [("phone", "0911111111", "0987654321")]


def _header_and_body(path: Path) -> tuple[dict, bytes]:
    """The sealed header line and body, opened with the team's key."""
    with path.open("rb") as raw:
        outer, line = read_header(raw)
        plain = opened(raw, team_key(outer["team_id"]), outer, line).read()
    header, body = plain.split(b"\n", 1)
    return json.loads(header), body


def _write(path: Path, header: dict, body: bytes) -> Path:
    """A bundle written by a team member's own tool: sealed with the team's key."""
    out = io.BytesIO()
    sealed = SealedWriter(out, team_key(header["team_id"]),
                          {"format": "dxkit-bundle", "version": 2, "team_id": header["team_id"]})
    sealed.write(json.dumps(header).encode() + b"\n" + body)
    sealed.close()
    path.write_bytes(out.getvalue())
    return path


def _truncated(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    return path


def _flipped(path: Path) -> Path:
    data = bytearray(path.read_bytes())
    data[len(data) - 60] ^= 0x01
    path.write_bytes(bytes(data))
    return path


def _claims_other_counts(path: Path) -> Path:
    header, body = _header_and_body(path)
    header["tables"]["households"] += 1
    header["records"] += 1
    return _write(path, header, body)


def _other_body(path: Path) -> Path:
    """A body edited and re-zipped, with the header's size but not its digest updated."""
    header, body = _header_and_body(path)
    lines = gzip.decompress(body).replace("Nguyễn Văn Đồng".encode(), b"Someone Else")
    edited = gzip.compress(lines)
    header["body_bytes"] = len(edited)
    return _write(path, header, edited)


def _not_a_bundle(path: Path) -> Path:
    path.write_text("Mã hộ;Chủ hộ\nMH-001;Nguyễn Văn Đồng\n", encoding="utf-8")
    return path


def _cut_at_a_frame(path: Path) -> Path:
    """Only whole frames, the last one left out (a copy stopped between two frames)."""
    data = path.read_bytes()
    ends = [data.index(b"\n") + 1]
    while ends[-1] < len(data):
        ends.append(ends[-1] + 4 + int.from_bytes(data[ends[-1]:ends[-1] + 4], "big"))
    assert len(ends) > 3  # several frames: the ones left open, the last one is missing
    path.write_bytes(data[:ends[-2]])
    return path


def _with_a_bytes_appended(path: Path) -> Path:
    path.write_bytes(path.read_bytes() + b"\x00\x00\x00\x20" + bytes(32))
    return path


def _header_edited(path: Path) -> Path:
    """The clear header changed (here: another salt), the frames left as they were."""
    line, frames = path.read_bytes().split(b"\n", 1)
    header = json.loads(line)
    header["salt"] = base64.urlsafe_b64encode(os.urandom(16)).decode()
    path.write_bytes(json.dumps(header).encode() + b"\n" + frames)
    return path


def _unsealed_forgery(path: Path) -> Path:
    """A bundle of the old, unsealed layout that anyone could have written."""
    header, body = _header_and_body(path)
    header["version"] = 1
    path.write_bytes(json.dumps(header).encode() + b"\n" + body)
    return path


@pytest.fixture(autouse=True)
def _small_frames(monkeypatch):
    """Frames of 512 bytes, so that a test bundle has several."""
    monkeypatch.setattr("dxkit.sync.seal.CHUNK", 512)


@pytest.mark.parametrize("spoil", [_truncated, _flipped, _claims_other_counts, _other_body,
                                   _not_a_bundle, _cut_at_a_frame, _with_a_bytes_appended,
                                   _header_edited, _unsealed_forgery])
def test_a_spoiled_file_is_refused_with_nothing_applied(laptops, tmp_path, spoil):
    a, b, _household, _person = laptops
    export_bundle(a, tmp_path / "a.bundle")
    before = counts(b)
    with pytest.raises(BundleError) as refused:
        import_bundle(b, spoil(tmp_path / "a.bundle"))
    assert "a.bundle" in refused.value.message
    assert "Không có gì được nhập" in refused.value.message
    assert counts(b) == before


def test_a_bundle_of_another_team_is_refused(laptops, tmp_path):
    a, b, _household, _person = laptops
    join_team(a, "team-hamlet-a")
    join_team(b, "team-hamlet-b")
    export_bundle(a, tmp_path / "a.bundle")
    before = counts(b)
    with pytest.raises(BundleError, match="tổ khác"):
        import_bundle(b, tmp_path / "a.bundle")
    assert counts(b) == before


def test_a_bad_record_is_quarantined_and_the_rest_apply(laptops, tmp_path):
    a, b, _household, _person = laptops
    export_bundle(a, tmp_path / "a.bundle")
    header, body = _header_and_body(tmp_path / "a.bundle")
    lines = gzip.decompress(body).splitlines()
    position = next(i for i, line in enumerate(lines)
                    if json.loads(line)["table"] == "team_members")
    bad = json.loads(lines[position])
    del bad["fields"]["name"]  # a record this version cannot store
    lines[position] = json.dumps(bad).encode()
    edited = gzip.compress(b"\n".join(lines) + b"\n")
    header.update(body_bytes=len(edited), body_sha256=hashlib.sha256(edited).hexdigest())
    report = import_bundle(b, _write(tmp_path / "a.bundle", header, edited))
    assert (report.quarantined, report.applied) == (1, report.received - 1)
    assert [tuple(r) for r in b.conn.execute(
        "SELECT table_name, row_id, direction FROM sync_quarantine")] == \
        [("team_members", bad["id"], "pull")]
    assert b.conn.execute("SELECT count(*) FROM team_members").fetchone()[0] == 0
    assert b.conn.execute("SELECT count(*) FROM visits").fetchone()[0] == 1


def test_values_outside_their_types_are_quarantined_one_by_one(laptops, tmp_path):
    """A bundle from a laptop that stored such values before types were checked: each such
    record is held back with its field's reason; an integer sqlite3 cannot bind (it raised
    OverflowError, which stopped the whole import) is one of them."""
    a, b, _household, _person = laptops
    export_bundle(a, tmp_path / "a.bundle")
    header, body = _header_and_body(tmp_path / "a.bundle")
    lines = [json.loads(line) for line in gzip.decompress(body).splitlines()]
    spoil = {"indicator_answers": ("value", 2**64), "visit_items": ("outcome", "maybe"),
             "team_members": ("name", "Lê Thị \ud800")}
    for record in lines:
        if record["table"] in spoil:
            name, value = spoil[record["table"]]
            record["fields"][name] = value
    edited = gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in lines))
    header.update(body_bytes=len(edited), body_sha256=hashlib.sha256(edited).hexdigest())
    report = import_bundle(b, _write(tmp_path / "a.bundle", header, edited))
    assert (report.quarantined, report.applied) == (3, report.received - 3)
    assert {tuple(r) for r in b.conn.execute(
        "SELECT table_name, reason FROM sync_quarantine")} == {
        ("indicator_answers", "out_of_range:value"), ("visit_items", "unknown_value:outcome"),
        ("team_members", "bad_text:name")}
    assert b.conn.execute("SELECT count(*) FROM people").fetchone()[0] == 1


def test_cancel_leaves_nothing_applied(laptops, tmp_path, monkeypatch):
    a, b, _household, _person = laptops
    monkeypatch.setattr("dxkit.sync.bundle.CHECKPOINT_EVERY", 2)
    export_bundle(a, tmp_path / "a.bundle")
    before = counts(b)
    progress = Progress()
    seen: list[str] = []

    def cancel_while_importing(_value: int, _maximum: int, label: str) -> None:
        seen.append(label)
        if label == "Đang nhập gói" and len(seen) > 3:
            progress.cancel()

    progress._on_change = cancel_while_importing
    with pytest.raises(Cancelled):
        import_bundle(b, tmp_path / "a.bundle", progress=progress)
    assert counts(b) == before
    assert "Đang nhập gói" in seen


def test_a_cancelled_export_leaves_no_file(laptops, tmp_path):
    a, _b, _household, _person = laptops
    progress = Progress()
    progress.cancel()
    with pytest.raises(Cancelled):
        export_bundle(a, tmp_path / "a.bundle", progress=progress)
    assert list(tmp_path.glob("*bundle*")) == []


def test_the_cli_exports_and_imports(laptops, tmp_path):
    a, b, _household, _person = laptops
    file = str(tmp_path / "a.bundle")
    runner = CliRunner()
    out = runner.invoke(cli, ["--data-dir", str(a.path), "sync", "export-bundle", file,
                              "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["records"] == len(records(a))
    b.close()  # one writer per workspace: the command takes b's lock
    text = runner.invoke(cli, ["--data-dir", str(b.path), "sync", "import-bundle", file])
    assert text.exit_code == 0, text.output
    assert f"{len(records(a))} bản ghi" in text.output
    again = runner.invoke(cli, ["--data-dir", str(b.path), "sync", "import-bundle", file,
                                "--json"])
    assert json.loads(again.output)["duplicate"] == len(records(a))
    assert json.loads(again.output)["applied"] == 0


def test_the_cli_refuses_a_damaged_bundle_in_one_sentence(laptops, tmp_path):
    a, b, _household, _person = laptops
    export_bundle(a, tmp_path / "a.bundle")
    _truncated(tmp_path / "a.bundle")
    b.close()  # one writer per workspace: the command takes b's lock
    out = CliRunner().invoke(cli, ["--data-dir", str(b.path), "sync", "import-bundle",
                                   str(tmp_path / "a.bundle")])
    assert out.exit_code == 1
    assert "không qua được bước kiểm tra tính xác thực" in out.output
    assert len(out.output.strip().splitlines()) == 1
    assert "Traceback" not in out.output


# -- sealed for the team --------------------------------------------------------------------------
def test_a_bundle_found_on_a_stick_reveals_no_personal_data(laptops, tmp_path):
    a, _b, _household, _person = laptops
    a.people.add(_household.id, full_name="Võ Thị Sáu", sex="Nữ", birth_date="05/09/1968",
                 cccd="087168012345", phone="0323456789", consent=True)
    export_bundle(a, tmp_path / "a.bundle")
    data = (tmp_path / "a.bundle").read_bytes()
    for secret in ("087168012345", "0323456789", "Võ Thị Sáu", "Nguyễn Văn Đồng", "MH-001",
                   "Ấp Mỹ Hưng"):
        assert secret.encode() not in data, secret
    _header, body = _header_and_body(tmp_path / "a.bundle")  # the team's key opens it
    assert b"087168012345" in gzip.decompress(body)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "a.bundle", "b"]  # no temp


def test_a_tampered_frame_is_refused_in_one_sentence(laptops, tmp_path):
    a, b, _household, _person = laptops
    export_bundle(a, tmp_path / "a.bundle")
    data = bytearray((tmp_path / "a.bundle").read_bytes())
    data[data.index(b"\n") + 40] ^= 0x01  # inside the first frame's ciphertext
    (tmp_path / "a.bundle").write_bytes(bytes(data))
    before = counts(b)
    with pytest.raises(BundleError) as refused:
        import_bundle(b, tmp_path / "a.bundle")
    assert refused.value.message.startswith("Gói dữ liệu")
    assert "xác thực" in refused.value.message and "Không có gì được nhập" in \
        refused.value.message
    assert counts(b) == before


def test_a_laptop_outside_any_team_cannot_write_or_read_bundles(laptops, tmp_path):
    a, _b, _household, _person = laptops
    export_bundle(a, tmp_path / "a.bundle")
    c = Workspace.open(tmp_path / "c")
    with pytest.raises(BundleError, match="dxkit enroll"):
        export_bundle(c, tmp_path / "c.bundle")
    with pytest.raises(BundleError, match="dxkit enroll"):
        import_bundle(c, tmp_path / "a.bundle")
    assert not (tmp_path / "c.bundle").exists()
    c.close()


def test_without_the_team_key_nothing_is_imported(laptops, tmp_path, memory_keyring):
    a, b, _household, _person = laptops
    export_bundle(a, tmp_path / "a.bundle")
    memory_keyring.secrets = {k: v for k, v in memory_keyring.secrets.items()
                              if k[0] != "dxkit-team-key"}
    before = counts(b)
    with pytest.raises(BundleError, match="đồng bộ với máy chủ"):
        import_bundle(b, tmp_path / "a.bundle")
    assert counts(b) == before


def test_two_laptops_enrolled_on_a_hub_exchange_sealed_bundles(module_hub, tmp_path):
    from dxkit.sync import engine

    province, commune = unique_commune()
    team = module_hub.admin("team", "add", "--province", province, "--commune", commune,
                            "--hamlet", "Ấp Mỹ Hưng")
    a, b = Workspace.open(tmp_path / "hub-a"), Workspace.open(tmp_path / "hub-b")
    for ws in (a, b):
        code = module_hub.admin("enroll-code", "--team", str(team["team_id"]))["code"]
        engine.enroll(ws, module_hub.url, code)  # each gets the team's hamlet
    a.households.add(code="MH-077", head_name="Đặng Thị Hạnh", hamlet="Ấp Mỹ Hưng")
    export_bundle(a, tmp_path / "a.bundle")
    assert "Đặng Thị Hạnh".encode() not in (tmp_path / "a.bundle").read_bytes()
    assert import_bundle(b, tmp_path / "a.bundle").applied >= 1  # (b has the hamlet)
    assert [h.code for h in b.households.list()] == ["MH-077"]
    a.close()
    b.close()
