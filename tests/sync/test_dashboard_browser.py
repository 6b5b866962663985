"""The officials' dashboard in a real headless Chromium (tests/farm/headless.py), served by a
real hub process holding the demo's data: log in through the form, then every page at a
laptop's width (1366 CSS px) and a phone's (360 CSS px, mobile emulation): no script error or
logged error, nothing makes the page scroll sideways (tables scroll in their own box), the
charts are there. One browser and one hub for the module.

With DXKIT_SCREENSHOT_DIR set, the overview and the trend at 1366 px (Vietnamese) are saved
there as dashboard-overview.png and dashboard-trend.png (the README's screenshots)."""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dxkit.sync.hub.officials import add_official
from dxkit.sync.hub.store import HubStore
from tests.farm.headless import Chromium
from tests.support.hub_process import HubServer, start_hub
from tests.support.tools import require_tool
from tests.sync.test_hub_dashboard import DemoHub, build_demo_hub

PASSWORD = "mật-khẩu-trình-duyệt-2026"
LAPTOP, PHONE = (1366, 800), (360, 740)
MEASURE = """JSON.stringify({
  scrollWidth: document.scrollingElement.scrollWidth,
  innerWidth: window.innerWidth,
  charts: document.querySelectorAll('svg.chart').length,
  tables: document.querySelectorAll('table').length,
  path: location.pathname,
  title: document.title,
  lang: document.documentElement.lang
})"""
# (address, charts it must show)
PAGES = (("/dashboard", 1), ("/dashboard/trend", 2), ("/dashboard/activity", 1),
         ("/dashboard/classes", 0), ("/dashboard/farm", 0), ("/dashboard/sync", 0))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubServer, DemoHub]]:
    folder = tmp_path_factory.mktemp("dashboard_browser")
    demo_hub = build_demo_hub(folder)
    store = HubStore(demo_hub.db)
    try:
        add_official(store, "tinh", "province", None, PASSWORD)
        add_official(store, "xa.mot", "commune", str(demo_hub.communes[0]), PASSWORD)
    finally:
        store.close()
    server = start_hub(demo_hub.db, folder / "hub-browser.log")
    try:
        yield server, demo_hub
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    executable = shutil.which("chromium")
    require_tool(executable is not None, "Chromium")
    assert executable is not None
    chromium = Chromium(executable, tmp_path_factory.mktemp("profile"))
    try:
        yield chromium
    finally:
        chromium.close()


class Tab:
    """One tab of the browser at a given viewport."""

    def __init__(self, browser: Chromium, width: int, height: int, mobile: bool):
        self.browser = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send("Target.attachToTarget",
                                    {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
            browser.send(domain, session=self.session)
        browser.send("Emulation.setDeviceMetricsOverride",
                     {"width": width, "height": height, "deviceScaleFactor": 1,
                      "mobile": mobile}, session=self.session)

    def open(self, url: str) -> dict[str, Any]:
        navigation = self.browser.send("Page.navigate", {"url": url}, session=self.session)
        assert not navigation.get("errorText"), navigation
        self.browser.wait_for("Page.loadEventFired", self.session)
        return self.measure()

    def measure(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.browser.evaluate(self.session, MEASURE))
        return found

    def submit_login(self, username: str) -> dict[str, Any]:
        self.browser.evaluate(self.session, (
            "document.querySelector('input[name=username]').value = "
            f"{json.dumps(username)}; document.querySelector('input[name=password]').value = "
            f"{json.dumps(PASSWORD)}; document.querySelector('form').submit(); true"))
        self.browser.wait_for("Page.loadEventFired", self.session)
        return self.measure()

    def problems(self) -> list[str]:
        return self.browser.problems(self.session)

    def screenshot(self, path: Path) -> None:
        shot = self.browser.send("Page.captureScreenshot",
                                 {"format": "png", "captureBeyondViewport": True},
                                 session=self.session)
        path.write_bytes(base64.b64decode(shot["data"]))


@pytest.fixture(scope="module")
def logged_in(browser: Chromium, served: tuple[HubServer, DemoHub]) -> Tab:
    """A tab at 1366 px whose browser logged in as the province official through the form
    (the session cookie then serves every tab of this browser)."""
    server, _demo = served
    tab = Tab(browser, *LAPTOP, mobile=False)
    login = tab.open(f"{server.url}/login")
    assert login["path"] == "/login"
    landed = tab.submit_login("tinh")
    assert landed["path"] == "/dashboard", landed
    assert tab.problems() == []
    return tab


@pytest.mark.parametrize(("width", "height", "mobile"), [(*LAPTOP, False), (*PHONE, True)],
                         ids=["1366px", "360px"])
def test_every_page_fits_and_runs_clean(browser: Chromium, served, logged_in: Tab,
                                        width: int, height: int, mobile: bool,
                                        tmp_path: Path) -> None:
    server, demo_hub = served
    tab = Tab(browser, width, height, mobile)
    hamlet_page = f"/dashboard/area?commune={demo_hub.communes[0]}"
    for address, charts in (*PAGES, (hamlet_page, 1)):
        found = tab.open(server.url + address)
        assert found["path"] == address.split("?")[0], found  # not sent to /login
        assert found["lang"] == "vi"
        assert found["innerWidth"] == width
        assert found["scrollWidth"] <= found["innerWidth"], (address, found)
        assert found["charts"] >= charts, (address, found)
        assert found["tables"] >= 1, (address, found)
    assert tab.problems() == []
    # One hamlet (a drill-down link of the commune's page) and the English pages too.
    hamlet = tab.browser.evaluate(tab.session, "document.querySelector("
                                  "'a[href*=\"hamlet=\"]').getAttribute('href')")
    found = tab.open(server.url + hamlet)
    assert found["charts"] >= 1 and found["scrollWidth"] <= found["innerWidth"], found
    english = tab.open(f"{server.url}/dashboard/trend?lang=en")
    assert english["lang"] == "en" and english["scrollWidth"] <= english["innerWidth"]
    tab.open(f"{server.url}/dashboard?lang=vi")  # back to Vietnamese for the other tests
    assert tab.problems() == []


def test_screenshots_of_the_overview_and_the_trend(logged_in: Tab, served,
                                                   tmp_path: Path) -> None:
    server, _demo = served
    folder = Path(os.environ.get("DXKIT_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    for name, address in (("overview", "/dashboard"), ("trend", "/dashboard/trend")):
        found = logged_in.open(server.url + address + "?lang=vi")
        assert found["lang"] == "vi" and found["charts"] >= 1
        logged_in.screenshot(folder / f"dashboard-{name}.png")
        assert (folder / f"dashboard-{name}.png").read_bytes().startswith(b"\x89PNG")
    assert logged_in.problems() == []
    phone = Tab(logged_in.browser, *PHONE, mobile=True)
    found = phone.open(f"{server.url}/dashboard?lang=vi")
    assert found["scrollWidth"] <= found["innerWidth"]
    phone.screenshot(folder / "dashboard-overview-phone.png")
    assert phone.problems() == []


def test_a_commune_official_in_the_browser_sees_their_commune_only(browser: Chromium,
                                                                   served) -> None:
    server, demo_hub = served
    # A second browser profile would mean a second browser: log out, then in as xa.mot.
    tab = Tab(browser, *PHONE, mobile=True)
    landed = tab.open(f"{server.url}/dashboard")
    if landed["path"] == "/login":  # the browser is logged in only if another test ran first
        landed = tab.submit_login("tinh")
    assert landed["path"] == "/dashboard"
    tab.browser.evaluate(tab.session, "document.querySelector("
                         "'form[action=\"/logout\"]').submit(); true")
    tab.browser.wait_for("Page.loadEventFired", tab.session)
    assert tab.measure()["path"] == "/login"
    assert tab.submit_login("xa.mot")["path"] == "/dashboard"
    refused = tab.open(f"{server.url}/dashboard?commune={demo_hub.communes[1]}")
    assert "Không phải xã của bạn" in refused["title"]
    text = tab.browser.evaluate(tab.session, "document.body.innerText")
    assert "chỉ được xem" in text
    found = tab.open(f"{server.url}/dashboard")
    assert found["scrollWidth"] <= found["innerWidth"]
    # A 403 is logged by the browser as a failed load; only that one.
    problems = tab.problems()
    assert all("403" in problem for problem in problems), problems
