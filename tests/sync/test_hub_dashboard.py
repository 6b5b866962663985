"""The officials' dashboard (hub/dashboard.py, issue 13 §2) on a hub holding the demo's data:
two laptops (two communes) made the demo workspace and synced it to a real hub process; the
pages are then read through the app as a province official and as each commune official.

- every page and every download answers, and none holds a name, phone, ID number or address
  of anyone in the demo (people, household heads, team members, learners);
- small counts show "<5" on the pages and in the files, and the files hold the page's rows;
- a commune official sees only their commune: another commune's code typed into the address
  is refused (403), another commune's hamlet is not found (404), downloads likewise; and the
  province official sees both;
- no session: every address sends to /login; logout is a POST with the CSRF token;
- the charts (hub/svg_charts.py) and the files (hub/exports.py) on their own.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from openpyxl import load_workbook

with warnings.catch_warnings():  # starlette asks for httpx2; the suite has httpx
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from dxkit import demo
from dxkit.sync import engine
from dxkit.sync.hub import exports, svg_charts
from dxkit.sync.hub.app import create_app
from dxkit.sync.hub.limits import Limits
from dxkit.sync.hub.officials import add_official
from dxkit.workspace import Workspace
from tests.support.hub_process import start_hub
from tests.support.places import unique_commune

PASSWORD = "mật-khẩu-bảng-số-liệu-2026"
NOW = dt.datetime(2026, 11, 20, 9, 30)
PAGES = ("/dashboard", "/dashboard/trend", "/dashboard/activity", "/dashboard/classes",
         "/dashboard/farm", "/dashboard/sync")
PERSONAL_SQL = (
    "SELECT full_name, phone, cccd FROM people",
    "SELECT head_name, phone, address FROM households",
    "SELECT name, phone FROM team_members",
    "SELECT name, '' FROM farm_org_members",
    "SELECT display_name, '' FROM certificates",
)


@dataclass(frozen=True)
class DemoHub:
    db: str
    communes: tuple[int, int]
    personal: frozenset[str]  # every name, phone, ID number and address of the demo


def personal_values(ws: Workspace) -> set[str]:
    found: set[str] = set()
    for sql in PERSONAL_SQL:
        for row in ws.conn.execute(sql).fetchall():
            found.update(str(value).strip() for value in row
                         if value is not None and len(str(value).strip()) >= 6)
    return found


def build_demo_hub(folder: Path, households: tuple[int, int] = (40, 12),
                   db: str | None = None) -> DemoHub:
    """A hub database (`db`, by default a SQLite file in `folder`) holding two communes' demo
    data, synced from two real laptops through a real hub process (stopped again before
    returning)."""
    db = db or str(folder / "hub.sqlite")
    server = start_hub(db, folder / "hub.log")
    opened: list[Workspace] = []
    try:
        communes: list[int] = []
        personal: set[str] = set()
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DXKIT_TOKEN_STORE", "file")
            for number, size in enumerate(households):
                province, commune = unique_commune()
                communes.append(int(commune))
                team = server.admin("team", "add", "--province", province, "--commune",
                                    commune)["team_id"]
                ws = Workspace.open(folder / f"laptop{number}")
                opened.append(ws)
                ws.freeze_time(NOW)
                engine.enroll(ws, server.url, server.admin("enroll-code", "--team", team)["code"],
                              device_name=f"laptop{number}")
                demo.generate(ws, seed=number + 1, households=size)
                report = engine.sync(ws)
                assert report.quarantined == 0
                personal |= personal_values(ws)
    finally:
        for ws in opened:
            ws.close()
        server.stop()
    assert len(personal) > 100
    return DemoHub(db, (communes[0], communes[1]), frozenset(personal))


@pytest.fixture(scope="module")
def demo_hub(tmp_path_factory: pytest.TempPathFactory) -> DemoHub:
    return build_demo_hub(tmp_path_factory.mktemp("dashboard"))


def dashboard_app(demo_hub: DemoHub) -> Any:
    """The hub app on the demo's database with three officials: `tinh` (province), `xa.mot`
    and `xa.hai` (one for each commune). Their passwords are hashed with small argon2id
    costs: the same code path, a fraction of the time. The suite's many requests come from
    one address: the address limits are lifted."""
    from argon2 import PasswordHasher

    from dxkit.sync.hub import officials

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(officials, "HASHER",
                      PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        hub = create_app(demo_hub.db, limits=Limits(address_rate=100000, address_burst=100000))
        store = hub.state.store
        add_official(store, "tinh", "province", None, PASSWORD)
        add_official(store, "xa.mot", "commune", str(demo_hub.communes[0]), PASSWORD)
        add_official(store, "xa.hai", "commune", str(demo_hub.communes[1]), PASSWORD)
    return hub


@pytest.fixture(scope="module")
def app(demo_hub: DemoHub) -> Iterator[Any]:
    hub = dashboard_app(demo_hub)
    yield hub
    hub.state.store.close()


def form_token(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def logged_in(app: Any, username: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    client.__enter__()
    page = client.get("/login")
    answer = client.post("/login", data={"csrf": form_token(page.text), "username": username,
                                         "password": PASSWORD})
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard"
    return client


@pytest.fixture(scope="module")
def clients(app: Any) -> Iterator[dict[str, TestClient]]:
    opened = {name: logged_in(app, name) for name in ("tinh", "xa.mot", "xa.hai")}
    yield opened
    for client in opened.values():
        client.__exit__(None, None, None)


def links_of(page: str) -> list[str]:
    return [href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)"', page)]


def visit_all(client: TestClient, start: str = "/dashboard", limit: int = 120
              ) -> dict[str, Any]:
    """Every dashboard address reachable from `start` by its links (pages, drill-downs and
    downloads): address -> answer."""
    seen: dict[str, Any] = {}
    queue = [start]
    while queue and len(seen) < limit:
        address = queue.pop(0)
        if address in seen:
            continue
        answer = client.get(address)
        seen[address] = answer
        if answer.headers.get("content-type", "").startswith("text/html"):
            for href in links_of(answer.text):
                if href.startswith("?"):
                    href = urlsplit(address).path + href
                if href.startswith("/dashboard") and "lang=" not in href and href not in seen:
                    queue.append(href)
    return seen


def answer_text(answer: Any) -> str:
    kind = answer.headers.get("content-type", "")
    if "spreadsheetml" in kind:
        return "\n".join(xlsx_rows_text(answer.content))
    return str(answer.content.decode("utf-8"))


def xlsx_rows(content: bytes) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(content))
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def xlsx_rows_text(content: bytes) -> list[str]:
    return [" ".join("" if v is None else str(v) for v in row) for row in xlsx_rows(content)]


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


# -- privacy -----------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["tinh", "xa.mot", "xa.hai"])
def test_no_page_or_download_holds_a_persons_data(clients, demo_hub, who):
    answers = visit_all(clients[who])
    pages = [a for a in answers if "download=" not in a]
    downloads = [a for a in answers if "download=csv" in a or "download=xlsx" in a]
    assert {urlsplit(p).path for p in pages} >= set(PAGES) | {"/dashboard/area"}
    assert len(downloads) >= 2 * 8, downloads
    for address, answer in answers.items():
        assert answer.status_code == 200, (address, answer.text[:500])
        text = answer_text(answer)
        leaked = [value for value in demo_hub.personal if value in text]
        assert leaked == [], (address, leaked[:5])
        # No ten-digit phone number, no twelve-digit ID number, in any form.
        assert re.search(r"(?<!\d)0\d{9}(?!\d)", text) is None, address
        assert re.search(r"(?<!\d)\d{12}(?!\d)", text) is None, address


def test_privacy_and_scope_on_postgresql(postgres_cluster, tmp_path):
    """The same pages on a PostgreSQL hub (a smaller demo): no personal value anywhere, and
    a commune official is refused the other commune."""
    name = postgres_cluster.create_database("dashboard")
    try:
        small = build_demo_hub(tmp_path, (12, 6), db=postgres_cluster.url(name))
        hub = dashboard_app(small)
        try:
            for who in ("tinh", "xa.mot"):
                client = logged_in(hub, who)
                try:
                    answers = visit_all(client)
                    assert len(answers) > 30
                    for address, answer in answers.items():
                        assert answer.status_code == 200, address
                        text = answer_text(answer)
                        assert not [v for v in small.personal if v in text], address
                    if who == "xa.mot":
                        assert client.get("/dashboard", params={
                            "commune": str(small.communes[1])}).status_code == 403
                finally:
                    client.__exit__(None, None, None)
        finally:
            hub.state.store.close()
    finally:
        postgres_cluster.drop_database(name)


def test_the_scan_would_find_a_name_if_one_were_shown(demo_hub):
    """Control: the personal values are real strings of the demo (a name with diacritics, a
    phone) and the scan finds them in a text that holds one."""
    name = next(v for v in sorted(demo_hub.personal) if " " in v and not v[0].isdigit())
    phone = next(v for v in sorted(demo_hub.personal) if re.fullmatch(r"0\d{9}", v))
    text = f"<td>{name}</td><td>{phone}</td>"
    assert [v for v in (name, phone) if v in text] == [name, phone]
    assert re.search(r"(?<!\d)0\d{9}(?!\d)", text)


def small_cells(table_html: str) -> list[str]:
    return re.findall(r'<td class="n">&lt;5</td>', table_html)


def test_small_counts_show_as_under_five_on_pages_and_in_files(clients):
    client = clients["tinh"]
    page = client.get("/dashboard/activity")
    assert page.status_code == 200
    # The demo's second commune has few households: some of its counts are under 5.
    assert small_cells(page.text), page.text
    numbers = re.findall(r'<td class="n">([^<]*)</td>', page.text)
    for text in numbers:
        assert text not in {"0", "1", "2", "3", "4"}, numbers
    query = dict(parse_qsl(urlsplit(next(h for h in links_of(page.text)
                                         if "download=csv" in h and "table=items" in h)
                                    ).query))
    csv_answer = client.get("/dashboard/activity", params=query)
    rows = csv_rows(csv_answer.content)
    assert "<5" in {cell for row in rows for cell in row}
    assert not {"0", "1", "2", "3", "4"} & {cell for row in rows[1:] for cell in row[1:]}
    xlsx_answer = client.get("/dashboard/activity", params={**query, "download": "xlsx"})
    sheet = xlsx_rows(xlsx_answer.content)
    # The same rows as the CSV: numbers as numbers, "<5" as text.
    assert len(sheet) == len(rows)
    for got, want in zip(sheet[1:], rows[1:], strict=True):
        for value, text in zip(got[1:], want[1:], strict=True):
            if text == "<5":
                assert value == "<5"
            elif text:
                assert isinstance(value, int) and str(value) == text


def test_a_share_of_a_small_count_is_withheld(clients):
    rows = csv_rows(clients["xa.hai"].get("/dashboard", params={
        "download": "csv", "table": "indicators"}).content)
    header, body = rows[0], rows[1:]
    reached, counted = header.index("Đã đạt"), header.index("Số người tính")
    share, met = header.index("Tỷ lệ (%)"), header.index("Đạt mục tiêu")
    small = [row for row in body if "<5" in (row[reached], row[counted])]
    assert small, body  # the small commune has some
    assert all(row[share] == "" and row[met] == "" for row in small), small
    shown = [row for row in body if "<5" not in (row[reached], row[counted])]
    for row in shown:
        assert float(row[share]) == pytest.approx(
            100 * int(row[reached]) / int(row[counted]), abs=0.06)


def test_an_empty_hub_shows_every_page(tmp_path):
    empty = DemoHub(str(tmp_path / "empty.sqlite"), (28249, 28315), frozenset())
    hub = dashboard_app(empty)
    client = logged_in(hub, "tinh")
    try:
        for page in PAGES:
            answer = client.get(page)
            assert answer.status_code == 200, page
            assert "Chưa có số liệu cho lựa chọn này." in answer.text or page in (
                "/dashboard/sync",), page
    finally:
        client.__exit__(None, None, None)
        hub.state.store.close()


def test_downloads_hold_the_pages_rows(clients):
    client = clients["xa.mot"]
    page = client.get("/dashboard")
    names = re.findall(r"<tr><td[^>]*><a [^>]*>([^<]+)</a></td>", page.text)
    assert names
    for table in ("areas", "indicators"):
        rows = csv_rows(client.get("/dashboard", params={"download": "csv",
                                                         "table": table}).content)
        sheet = xlsx_rows(client.get("/dashboard", params={"download": "xlsx",
                                                           "table": table}).content)
        assert [r[0] for r in rows[1:]] == [r[0] for r in sheet[1:]]
        assert {r[0] for r in rows[1:]} <= {n.replace("&amp;", "&") for n in names}
    shares = client.get("/dashboard", params={"download": "xlsx", "table": "indicators"})
    header, *body = xlsx_rows(shares.content)
    share_column = header.index("Tỷ lệ") if "Tỷ lệ" in header else 4
    assert any(isinstance(r[share_column], float) for r in body)


# -- scope -------------------------------------------------------------------------------------
def test_a_commune_official_sees_only_their_commune(clients, demo_hub):
    mine, other = demo_hub.communes
    client = clients["xa.mot"]
    overview = client.get("/dashboard")
    assert overview.status_code == 200
    other_hamlets = hamlet_ids(clients["xa.hai"].get("/dashboard").text)
    my_hamlets = hamlet_ids(overview.text)
    assert my_hamlets and other_hamlets and not my_hamlets & other_hamlets
    for page in (*PAGES, "/dashboard/area"):
        refused = client.get(page, params={"commune": str(other)})
        assert refused.status_code == 403, page
        assert "chỉ được xem" in refused.text
        download = client.get(page, params={"commune": str(other), "download": "csv",
                                            "table": "areas"})
        assert download.status_code == 403
    for hamlet in other_hamlets:
        for page in ("/dashboard/area", "/dashboard/trend", "/dashboard/activity"):
            answer = client.get(page, params={"hamlet": hamlet})
            assert answer.status_code == 404, (page, answer.status_code)
            assert "Không có ấp" in answer.text
    # Their own commune by its code is fine, and every page names no other commune's hamlet.
    assert client.get("/dashboard/area", params={"commune": str(mine)}).status_code == 200
    for address, answer in visit_all(client).items():
        assert not any(h in answer_text(answer) for h in other_hamlets), address


def hamlet_ids(page: str) -> set[str]:
    return {value for href in links_of(page)
            for key, value in parse_qsl(urlsplit(href).query) if key == "hamlet"}


def test_the_province_official_sees_every_commune_and_drills_down(clients, demo_hub):
    client = clients["tinh"]
    overview = client.get("/dashboard")
    communes = {value for href in links_of(overview.text)
                for key, value in parse_qsl(urlsplit(href).query) if key == "commune"}
    assert {str(c) for c in demo_hub.communes} <= communes
    commune = client.get("/dashboard/area", params={"commune": str(demo_hub.communes[0])})
    assert commune.status_code == 200
    hamlets = hamlet_ids(commune.text)
    assert len(hamlets) == len(demo.HAMLETS)
    one = client.get("/dashboard/area", params={"hamlet": sorted(hamlets)[0]})
    assert one.status_code == 200 and "<svg" in one.text
    assert client.get("/dashboard/area", params={"commune": "99999"}).status_code == 404
    assert client.get("/dashboard/area", params={"hamlet": "nope"}).status_code == 404


def test_bad_choices_get_a_sentence(clients):
    client = clients["tinh"]
    for page, params, status in [("/dashboard", {"month": "2026-13"}, 400),
                                 ("/dashboard/activity", {"month": "0000-05"}, 400),
                                 ("/dashboard/sync", {"days": "abc"}, 400),
                                 ("/dashboard/sync", {"days": "0"}, 400),
                                 ("/dashboard/trend", {"months": "-1"}, 400),
                                 ("/dashboard", {"download": "pdf", "table": "areas"}, 400),
                                 ("/dashboard", {"download": "csv", "table": "nope"}, 404)]:
        answer = client.get(page, params=params)
        assert answer.status_code == status, (page, params)
        assert '<p class="notice" role="alert">' in answer.text
        assert "Traceback" not in answer.text


# -- sessions, language, headers ----------------------------------------------------------------
def test_every_address_needs_a_session(app):
    with TestClient(app, follow_redirects=False) as anonymous:
        for page in (*PAGES, "/dashboard/area"):
            answer = anonymous.get(page, params={"download": "csv", "table": "areas"})
            assert answer.status_code == 303 and answer.headers["location"] == "/login"


def test_pages_are_self_contained_and_vietnamese_first(clients):
    client = clients["xa.mot"]
    page = client.get("/dashboard")
    assert page.headers["content-language"] == "vi"
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "<script" not in page.text
    assert not re.search(r'(src|href)="(https?:)?//', page.text)
    assert "Đăng xuất" in page.text and "xa.mot" in page.text
    english = client.get("/dashboard/trend", params={"lang": "en"})
    assert english.headers["content-language"] == "en" and "Log out" in english.text
    # The choice is kept: the next page without ?lang= is English too.
    assert client.get("/dashboard/sync").headers["content-language"] == "en"
    assert client.get("/dashboard", params={"lang": "vi"}).headers["content-language"] == "vi"


TEAM_ROW = '<tr><td class="t">'  # a row of a table whose first cell is text (a team's name)


def test_the_sync_page_lists_teams_silent_for_n_days(clients, app, demo_hub):
    client = clients["tinh"]
    # The laptops synced minutes ago: no team is silent for 7 days (the default).
    default = client.get("/dashboard/sync")
    assert default.status_code == 200 and default.text.count(TEAM_ROW) == 0
    # One commune's devices last seen 30 days ago: listed for 14 days, not for 60.
    store = app.state.store
    team = store.conn.execute("SELECT id FROM teams WHERE commune_code = ?",
                              (demo_hub.communes[1],)).fetchone()["id"]
    month_ago = (store.now() - dt.timedelta(days=30)).isoformat(timespec="seconds")
    with store.database.write() as conn:
        conn.execute("UPDATE devices SET last_seen_at = ? WHERE team_id = ?", (month_ago, team))
    listed = client.get("/dashboard/sync", params={"days": "14"})
    assert listed.text.count(TEAM_ROW) == 1 and ">30<" in listed.text
    assert client.get("/dashboard/sync", params={"days": "60"}).text.count(TEAM_ROW) == 0
    rows = csv_rows(client.get("/dashboard/sync", params={"days": "14", "download": "csv",
                                                          "table": "sync"}).content)
    assert len(rows) == 2 and rows[1][3] == "30"
    # A commune official of the other commune does not see it.
    assert clients["xa.mot"].get("/dashboard/sync", params={"days": "14"}
                                 ).text.count(TEAM_ROW) == 0


def test_logout_is_a_post_with_the_csrf_token(app):
    client = logged_in(app, "xa.hai")
    try:
        page = client.get("/dashboard")
        assert '<form method="post" action="/logout">' in page.text
        assert client.get("/logout").status_code in (404, 405)
        out = client.post("/logout", data={"csrf": form_token(page.text)})
        assert out.status_code == 303
        assert client.get("/dashboard").headers["location"] == "/login"
    finally:
        client.__exit__(None, None, None)


# -- charts and files on their own ------------------------------------------------------------
def test_a_bar_chart_has_titles_axes_and_hides_small_values():
    chart = svg_charts.bar_chart(
        "Lượt thăm", ["10/2026", "11/2026"],
        [svg_charts.Series("Lượt thăm", (12.0, None)),
         svg_charts.Series("Hộ", (7.0, 30.0))],
        number=lambda v: f"{v:g}", x_title="Tháng", y_title="Số", ident="c1")
    assert chart.startswith('<svg class="chart" role="img"')
    assert '<title id="c1-t">Lượt thăm</title>' in chart
    assert chart.count("<rect") == 3 + 1 + 2  # three bars, the "<5" stub, two legend keys
    assert "Lượt thăm, 11/2026: &lt;5" in chart
    assert ">Tháng<" in chart and ">Số<" in chart and ">30<" in chart


def test_a_line_chart_breaks_at_a_withheld_value():
    chart = svg_charts.line_chart(
        "Tỷ lệ", ["1", "2", "3", "4"], [svg_charts.Series("A", (0.5, 0.6, None, 0.7))],
        number=lambda v: f"{v:.0%}", x_title="Tháng", y_title="Tỷ lệ", ident="c2", top=1.0)
    assert chart.count("<polyline") == 1  # 1–2 joined; 4 alone
    assert chart.count("<circle") == 3
    assert ">100%<" in chart


def test_svg_text_is_escaped():
    chart = svg_charts.hbar_chart("<b>", ['Ấp "X" <script>'], [5.0], number=str, ident="c3")
    assert "<script>" not in chart and "&lt;script&gt;" in chart


def test_nice_ticks():
    assert svg_charts.nice_ticks(37) == [0, 10, 20, 30, 40]
    assert svg_charts.nice_ticks(1.0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert svg_charts.nice_ticks(0) == [0.0, 1.0]


def test_files_keep_numbers_as_numbers_and_formulas_as_text():
    table = exports.Table("t", "Bảng: thử", (
        exports.Column("Ấp", "text"), exports.Column("Lượt thăm"),
        exports.Column("Tỷ lệ", "share")), (
        ("=HYPERLINK(\"x\")", 12, 0.4567), ("Ấp Mỹ Hưng", "<5", None)))
    rows = csv_rows(exports.to_csv(table))
    assert rows == [["Ấp", "Lượt thăm", "Tỷ lệ (%)"], ["'=HYPERLINK(\"x\")", "12", "45.7"],
                    ["Ấp Mỹ Hưng", "<5", ""]]
    book = load_workbook(io.BytesIO(exports.to_xlsx(table)))
    sheet = book.worksheets[0]
    assert sheet.title == "Bảng- thử"
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == "=HYPERLINK(\"x\")"
    assert sheet["B2"].value == 12 and sheet["C2"].value == pytest.approx(0.4567)
    assert sheet["C2"].number_format == "0.0%"
    assert sheet["B3"].value == "<5" and sheet["C3"].value is None
    with pytest.raises(ValueError):
        exports.Table("bad", "x", (exports.Column("a"),), ((1, 2),))


def test_names_from_devices_stay_text_on_the_page():
    from dxkit.sync.hub.dashboard_html import Frame, Tr, page_html, table_html

    hostile = '<script>alert("x")</script>'
    table = exports.Table("t", hostile, (exports.Column(hostile, "text"),
                                         exports.Column("n")),
                          ((exports.Link(hostile, '/dashboard?x="><script>'), 7),
                           (exports.Flag(hostile, True), "<5")))
    tr = Tr("vi")
    frame = Frame(tr, hostile, hostile, '"><script>', "/dashboard",
                  (("/dashboard", hostile),), '/dashboard?lang="><script>')
    page = page_html(frame, hostile, table_html(table, tr, {"q": hostile}))
    assert "<script" not in page
    assert page.count("&lt;script&gt;") >= 6
