"""The app's sync settings and plain http beyond the local network: refused next to the
address with the sentence that says what to do; with "Allow plain http" ticked the
enrollment goes through, and the controller's automatic probe and sync honour the choice.
The "public" hub is the real hub on loopback behind a test network map (tests/sync/hostile)."""

from __future__ import annotations

import pytest

from dxkit.ui.sync_ui import SyncController, SyncSettingsBox
from tests.sync.conftest import hub_server  # noqa: F401  (the real hub fixture)
from tests.sync.hostile import PUBLIC_IP, Network
from tests.ui.conftest import settle
from tests.ui.test_sync_ui import enrollment_code


@pytest.fixture(autouse=True)
def file_tokens(monkeypatch):
    monkeypatch.setenv("DXKIT_TOKEN_STORE", "file")


def test_plain_http_to_a_public_address_is_refused_unless_ticked(ctx, ws, qtbot, hub_server,
                                                                 monkeypatch):
    code = enrollment_code(hub_server)
    network = Network().install(monkeypatch)
    public_url = f"http://{PUBLIC_IP}:{hub_server.url.rsplit(':', 1)[1]}"
    box = SyncSettingsBox(ctx)
    qtbot.addWidget(box)
    assert not box.insecure_check.isChecked()  # never allowed by default

    box.server_edit.setText(public_url)
    box.code_edit.setText(code)
    box.enroll()
    settle(qtbot, ctx, lambda: box.server_field.error_text() != "")
    assert "https://" in box.server_field.error_text()
    assert "Cho phép http thường" in box.server_field.error_text()
    assert network.dialed == [] and "sync_server" not in ws.meta()

    network.routes.add(PUBLIC_IP)
    box.insecure_check.setChecked(True)
    box.enroll()
    controller: SyncController = box.controller
    settle(qtbot, ctx, lambda: controller.enrolled)
    assert controller.status["allow_insecure_http"] is True
    controller.attempt()  # the automatic probe, then a sync
    settle(qtbot, ctx, lambda: controller.online is True and not controller.busy)
    assert controller.message.startswith("Đã gửi") and set(network.dialed) == {PUBLIC_IP}
