"""The households table model stays lazy: it holds keys and fetches rows a block at a time."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from dxkit.core.text import folded_key
from dxkit.ui.households_model import BLOCK_SIZE, HouseholdsTableModel
from dxkit.ui.households_page import HouseholdsPage

# 100k rows take ~9 s to insert through Tx (outbox, audit, search index); 20k show the same
# laziness (100 blocks) in a fraction of the time. benchmarks/ runs the full size.
ROWS = 20_000


def fill(ws, count: int) -> None:
    hamlets = [h.id for h in ws.catalog.hamlets()]
    with ws.transaction() as tx:
        for i in range(count):
            code, name = f"MH-{i:06d}", f"Nguyễn Văn Số {i}"
            tx.insert("households", {
                "code": code, "code_key": folded_key(code), "head_name": name,
                "head_key": folded_key(name), "hamlet_id": hamlets[i % 3], "address": "",
                "phone": "0912345678", "notes": "", "latitude": None, "longitude": None})


def test_a_large_list_fetches_only_the_blocks_it_shows(ctx, qtbot, ws):
    fill(ws, ROWS)
    page = HouseholdsPage(ctx)
    qtbot.addWidget(page)
    page.resize(1000, 700)
    page.show()
    QApplication.processEvents()
    model = page.model
    assert model.rowCount() == ROWS
    assert 1 <= model.blocks_fetched <= 2

    page.table.scrollToBottom()
    QApplication.processEvents()
    assert model.household_at(ROWS - 1).code == f"MH-{ROWS - 1:06d}"
    assert model.blocks_fetched <= 4
    assert len(model._blocks) <= 4  # nothing in between was read


def test_model_columns_and_masked_phone(ws):
    ws.households.add(code="MH-001", head_name="Nguyễn Văn Bình", hamlet="Ấp Mỹ Hưng",
                      address="Số 8", phone="0912345678")
    model = HouseholdsTableModel(ws)
    assert model.column_titles() == ["Mã hộ", "Chủ hộ", "Ấp/khóm", "Địa chỉ", "SĐT"]
    assert [model.data(model.index(0, c)) for c in range(5)] == [
        "MH-001", "Nguyễn Văn Bình", "Ấp Mỹ Hưng", "Số 8", "0912•••678"]


def test_refresh_only_reloads_on_household_changes(ws):
    first = ws.households.add(code="MH-001", head_name="Nguyễn Văn Bình",
                              hamlet="Ấp Mỹ Hưng").value
    model = HouseholdsTableModel(ws)
    model.household_at(0)
    fetched = model.blocks_fetched
    model.refresh(ws.catalog.add_member("Võ Văn Ba").changes)
    model.household_at(0)
    assert model.blocks_fetched == fetched  # an unrelated table costs nothing

    renamed = ws.households.update(first.id, head_name="Nguyễn Văn Bính")
    model.refresh(renamed.changes)
    assert model.household_at(0).head_name == "Nguyễn Văn Bính"
    added = ws.households.add(code="MH-000", head_name="Lê Văn Tám", hamlet="Khóm 3")
    model.refresh(added.changes)
    assert [model.household_at(r).code for r in range(2)] == ["MH-000", "MH-001"]
    assert model.row_of(first.id) == 1


def test_search_lists_best_matches_first(ws):
    ws.households.add(code="MH-001", head_name="Trần Văn Minh", hamlet="Ấp Mỹ Hưng")
    ws.households.add(code="MH-002", head_name="Minh Thị Lan", hamlet="Ấp Mỹ Hưng")
    model = HouseholdsTableModel(ws)
    model.set_query("minh")
    assert [model.household_at(r).code for r in range(model.rowCount())] == [
        "MH-002", "MH-001"]  # head-name prefix ranks above a word inside the name
    assert BLOCK_SIZE >= 100
