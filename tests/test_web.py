"""The web page and JSON API (``goalsearch serve``, ``goalsearch.web``).

The JSON API and the pages through the ASGI test client: the same answers as the Python API, errors in
the CLI's words, bounds, headers, and an index rebuilt under the server. The page in a real browser:
Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them) through Selenium, headless:
search, a facet, a project, a chart drawn, the downloads read back, and a hostile document shown as text.
"""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

import form_renderings as fr
from goalsearch.cli import cli
from goalsearch.indexer import Record, index_paths
from goalsearch.search import GoalSearch, Hit, UsageError
from goalsearch.web import create_app
from goalsearch.web import downloads
from goalsearch.web.params import limit_of, query_text
from goalsearch.web.views import BY, projected, runs

HOSTILE_NAME = ('<script>window.__pwned=1</script>政务云<img src=x onerror="window.__pwned=2;alert(2)">运维'
                '<a href="javascript:window.__pwned=3">点这里</a>项目')
HOSTILE_GOAL = '=HYPERLINK("http://evil.example","点")保障政务云<script>window.__pwned=4</script>平台稳定运行'
HOSTILE_ACTUAL = '完成<img src=x onerror="window.__pwned=6;alert(6)">'


def hostile_document(folder: Path) -> Path:
    """A self-evaluation form whose name, goal, indicator and account of what was done hold markup and a formula."""
    indicator = fr.IndicatorSpec("产出指标", "数量指标", "云主机台数<b>粗</b>", "≥10台",
                                 actual="12台<script>window.__pwned=5</script>")
    spec = fr.FormSpec("self_evaluation", 2025, HOSTILE_NAME, "广州市信息中心", "广州市政务服务数据管理局", 120.0,
                       HOSTILE_GOAL, [indicator], budget=120.0, executed=100.0, actual=HOSTILE_ACTUAL)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "hostile.txt"
    path.write_text(fr.cells(fr.grid(spec)), "utf-8")
    return path


@pytest.fixture(scope="module")
def hostile_index(sample_index_dir, tmp_path_factory) -> Path:
    """The sample index with the hostile form added (a copy: the session's index stays as it was)."""
    folder = tmp_path_factory.mktemp("web")
    shutil.copytree(sample_index_dir, folder / "index")
    index_paths([hostile_document(folder / "docs")], folder / "index")
    return folder / "index"


@pytest.fixture(scope="module")
def client(hostile_index) -> TestClient:
    with TestClient(create_app(hostile_index), base_url="http://127.0.0.1") as test_client:
        yield test_client


@pytest.fixture(scope="module")
def hostile_id(hostile_index) -> str:
    with GoalSearch.open(hostile_index) as index:  # (find() by this name fails: it drops the name's spaces)
        return next(r.id for r in index.records if r.name == HOSTILE_NAME)


# -- without an index -------------------------------------------------------------------
def test_bounds_are_the_cli_and_search_layers():
    with pytest.raises(UsageError, match=r"Invalid value for 'limit': 1001 is not in the range 1<=x<=1000"):
        limit_of("1001")
    with pytest.raises(UsageError, match="not a valid integer"):
        limit_of("ten")
    with pytest.raises(UsageError, match="at most 2,000"):
        query_text("运维" * 1001)
    assert limit_of("") == 20 and query_text("  运维 ") == "运维"


def test_highlight_runs_cover_the_text_once():
    assert runs("政务云运维服务", [(3, 5), (0, 2), (1, 3)]) == [("政务", True), ("云", True), ("运维", True), ("服务", False)]


def test_downloads_keep_formulas_as_text():
    record = Record(id="a" * 16, name="=1+1", goal="@SUM(A1)", city="广州", province=None, year=2025,
                    department="部门", unit="单位", amount=3.5)
    text = downloads.csv_bytes([Hit(record, 1.0, 1)]).decode("utf-8-sig")
    row = list(csv.reader(io.StringIO(text)))[1]
    assert "'=1+1" in row and "'@SUM(A1)" in row and "3.5" in row
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(downloads.xlsx_bytes([Hit(record, 1.0, 1)]))).active
    cells = {c.value: c.data_type for c in sheet[2]}
    assert cells["=1+1"] == "s" and cells["@SUM(A1)"] == "s" and cells[3.5] == "n"


def test_a_text_longer_than_a_workbook_cell_is_cut_with_a_mark():
    """Excel holds at most 32,767 characters in a cell and reports a file with more as damaged; a 40,000-character
    goal is cut, and says so with a closing …, rather than spoiling the whole download."""
    from openpyxl import load_workbook

    record = Record(id="b" * 16, name="项目", goal="运维" * 20_000, city="广州", province=None, year=2025,
                    department="部门", unit="单位", amount=1.0)
    sheet = load_workbook(io.BytesIO(downloads.xlsx_bytes([Hit(record, 1.0, 1)]))).active
    longest = max((c.value for c in sheet[2] if isinstance(c.value, str)), key=len)
    assert len(longest) == downloads.CELL_CHARS and longest.endswith("…") and longest.startswith("运维运维")


def test_no_index_is_one_line_of_json(tmp_path):
    with TestClient(create_app(tmp_path / "none"), base_url="http://127.0.0.1") as test_client:
        response = test_client.get("/api/stats")
    assert response.status_code == 503
    assert response.json() == {"error": f"no index at {tmp_path / 'none'}; create one with `goalsearch index PATH`"}


def test_read_only_and_no_files_from_urls(tmp_path):
    with TestClient(create_app(tmp_path / "none"), base_url="http://127.0.0.1") as test_client:
        assert test_client.post("/api/search", json={}).json()["error"].startswith("method not allowed")
        for path in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py", "/static/vendor/../../app.py"):
            response = test_client.get(path)
            assert response.status_code == 404 and b"create_app" not in response.content
        assert test_client.get("/static/vendor/echarts.min.js").status_code == 200


def test_serve_refuses_a_missing_index_in_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["serve", "--index-dir", str(tmp_path / "none")])
    assert result.exit_code == 1 and result.output.strip().splitlines() == [
        f"Error: no index at {tmp_path / 'none'}; create one with `goalsearch index PATH`"]


# -- the JSON API ------------------------------------------------------------------------
def as_json(data):
    """What ``data`` reads as after JSON (tuples become lists)."""
    return json.loads(json.dumps(data))


def test_api_search_is_the_python_api(client, hostile_index):
    found = client.get("/api/search", params={"q": "政务云运维", "limit": 5, "city": "广州"}).json()
    with GoalSearch.open(hostile_index) as index:
        expected = [h.to_dict() for h in index.search("政务云运维", city=["广州"], limit=5)]
    assert [h["id"] for h in found["hits"]] == [h["id"] for h in expected] and found["hits"] == as_json(expected)


def test_api_verbs_are_the_python_api(client, hostile_index):
    with GoalSearch.open(hostile_index) as index:
        record = index.search("社保卡制发管理服务经费", mode="bm25", limit=1)[0].record
        assert client.get(f"/api/show/{record.id}").json() == as_json(record.to_dict())
        assert client.get(f"/api/family/{record.id}").json() == as_json(index.family(record.id).to_dict())
        assert client.get("/api/families", params={"limit": 3}).json() == as_json([f.to_dict() for f in index.families(limit=3)])
        assert client.get("/api/duplicates", params={"limit": 3}).json() == as_json(index.duplicates(limit=3).to_dict())
        similar = client.get("/api/similar", params={"id": record.id, "other_cities": "1", "limit": 3}).json()
        assert [h["id"] for h in similar["hits"]] == [h.record.id for h in index.similar(record.id, other_cities=True, limit=3)]
        totals = client.get("/api/totals", params={"q": "运维", "by": ["year", "city"]}).json()
        assert totals == as_json(index.totals("运维", by=("year", "city")).to_dict())
        assert client.get("/api/stats").json()["records"] == len(index.store)


@pytest.mark.parametrize("args, params", [
    (["search", "运维", "--city", "北京"], {"q": "运维", "city": "北京"}),
    (["search", "运维", "--years", "2026-2023"], {"q": "运维", "years": "2026-2023"}),
    (["show", "abc"], None),
])
def test_api_errors_are_the_cli_lines(client, hostile_index, args, params):
    result = CliRunner().invoke(cli, [*args, "--index-dir", str(hostile_index)])
    response = client.get(f"/api/{args[0]}", params=params) if params else client.get(f"/api/show/{args[1]}")
    assert response.status_code in (400, 404) and result.exit_code in (1, 2)
    assert response.json()["error"] in result.output  # the CLI adds only "Error: " and its "(see … -h)"


def test_a_note_from_search_and_total_is_shown_once(client):
    """The page runs a search and a total of one query; the note on an unknown word is the same from both."""
    page = client.get("/", params={"q": "kubernetes"}).text
    assert page.count("no project mentions kubernetes") == 1


def test_api_bounds_and_ambiguity(client, hostile_index):
    assert client.get("/api/search", params={"q": "x" * 2001}).status_code == 400
    assert client.get("/api/search", params={"q": "运维", "limit": 1001}).json()["error"].startswith("Invalid value for 'limit'")
    with GoalSearch.open(hostile_index) as index:
        shared = next(n for n in (r.name for r in index.records) if sum(r.name == n for r in index.records) > 1)
    response = client.get(f"/api/show/{shared}")
    assert response.status_code == 409 and len(response.json()["candidates"]) > 1


@pytest.mark.parametrize("query", ["运维", "社保卡", "", "为12345热线提供话务场地和坐席服务"])
def test_one_totals_projected_is_the_totals_by_fewer_dimensions(sample_index, query):
    every = sample_index.totals(query, by=BY, city=["广州"] if query == "运维" else None)
    for dimensions in [("year", "city")] + [(d,) for d in BY]:
        alone = {g.key: (g.count, g.unpriced, g.amount) for g in sample_index.totals(
            query, by=dimensions, city=["广州"] if query == "运维" else None).groups}
        summed = {g.key: (g.count, g.unpriced, g.amount) for g in projected(every, dimensions)}
        assert summed.keys() == alone.keys(), dimensions
        assert all(summed[k][:2] == alone[k][:2] and summed[k][2] == pytest.approx(alone[k][2], abs=0.05) for k in alone)


def test_every_page_forbids_inline_script(client, hostile_id):
    for path in ("/", "/?q=运维", f"/project/{hostile_id}", "/families", "/duplicates", "/project/nothing", "/api/docs"):
        response = client.get(path)
        assert "script-src 'self'" in response.headers["content-security-policy"]
        scripts = re.findall(r"<script\b([^>]*)>", response.text)
        assert scripts and all('src="/static/' in attrs for attrs in scripts), path  # none inline, none elsewhere


def test_hostile_document_is_escaped_in_every_page(client, hostile_id):
    pages = [client.get("/", params={"q": "点这里", "mode": "bm25"}).text, client.get(f"/project/{hostile_id}").text]
    for html in pages:
        assert "&lt;script&gt;window.__pwned" in html
        assert "<script>window" not in html and "<img src=x" not in html and 'href="javascript:' not in html
    assert "&lt;b&gt;粗&lt;/b&gt;" in pages[1] and "完成&lt;img" in pages[1]


def test_a_rebuilt_index_is_served_without_restart_or_failure(sample_index_dir, tmp_path):
    copy = tmp_path / "index"
    shutil.copytree(sample_index_dir, copy)
    failures, done = [], threading.Event()
    with TestClient(create_app(copy), base_url="http://127.0.0.1") as test_client:
        before = test_client.get("/api/stats").json()

        def hammer():
            while not done.is_set():
                response = test_client.get("/api/search", params={"q": "运维", "mode": "bm25", "limit": 5})
                if response.status_code != 200:
                    failures.append(response.text)

        thread = threading.Thread(target=hammer)
        thread.start()
        try:
            index_paths([hostile_document(tmp_path / "docs")], copy)
        finally:
            done.set()
            thread.join()
        after = test_client.get("/api/stats").json()
        found = test_client.get("/api/search", params={"q": "云主机台数", "mode": "bm25"}).json()["hits"]
    assert failures == []
    assert after["generation"] != before["generation"] and after["records"] == before["records"] + 1
    assert HOSTILE_NAME in [h["name"] for h in found]


# -- the page in a browser ---------------------------------------------------------------
@pytest.fixture(scope="module")
def server(hostile_index):
    """The application on a free loopback port, in a thread of this process."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    uvicorn_server = uvicorn.Server(uvicorn.Config(create_app(hostile_index), log_level="warning"))
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if uvicorn_server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    uvicorn_server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Debian's headless Chromium driven by its chromedriver (Selenium); downloads go to ``browser.downloads``."""
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        pytest.skip("needs Debian's chromium and chromium-driver: apt-get install chromium chromium-driver (.ci/run does)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    folder = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(folder),
                                              "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})
    driver.downloads = folder
    yield driver
    driver.quit()


def wait_for(predicate, seconds: float = 30.0):
    """The first true value of ``predicate()`` within ``seconds`` (a bound for a slow machine, not a timing test)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {predicate}")


def downloaded(folder: Path, name: str) -> Path:
    return wait_for(lambda: (folder / name) if (folder / name).exists() and (folder / name).stat().st_size else None)


def chart_drawn(driver) -> int:
    """How many shapes the page's first chart drew (ECharts' SVG renderer)."""
    return driver.execute_script("var c = document.querySelector('[data-drawn] svg');"
                                 "return c ? c.querySelectorAll('path, rect').length : 0;")


@pytest.mark.slow
def test_search_facet_project_chart_and_downloads_in_a_browser(server, browser):
    from openpyxl import load_workbook
    from selenium.webdriver.common.by import By

    browser.get(server + "/")
    box = browser.find_element(By.ID, "q")
    box.send_keys("运维")
    box.submit()
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "li.hit"))
    assert wait_for(lambda: chart_drawn(browser)) > 1
    browser.find_element(By.CSS_SELECTOR, "section[data-facet=city] a").click()
    wait_for(lambda: "city=" in browser.current_url)
    chosen = browser.find_element(By.CSS_SELECTOR, "section[data-facet=city] li.selected a").text
    metas = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "li.hit .meta")]
    assert metas and all(m.startswith(chosen) for m in metas)
    shown = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "li.hit h3 a")]

    browser.find_element(By.ID, "download-csv").click()
    rows = list(csv.reader(io.StringIO(downloaded(browser.downloads, "goalsearch.csv").read_text("utf-8-sig"))))
    assert [r[3] for r in rows[1:]] == shown and rows[0][:4] == ["排名", "相关度", "编号", "项目名称"]
    browser.find_element(By.ID, "download-xlsx").click()
    sheet = load_workbook(downloaded(browser.downloads, "goalsearch.xlsx")).active
    assert [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)] == shown

    browser.find_element(By.CSS_SELECTOR, "li.hit h3 a").click()
    wait_for(lambda: "/project/" in browser.current_url)
    assert browser.find_element(By.ID, "project-name").text == shown[0]
    assert wait_for(lambda: chart_drawn(browser)) > 0


@pytest.mark.slow
def test_a_hostile_document_shows_as_text_and_runs_nothing(server, browser, hostile_id):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    for path in ("/?q=点这里&mode=bm25", f"/project/{hostile_id}"):
        browser.get(server + path)
        wait_for(lambda: chart_drawn(browser))
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text
        assert browser.execute_script("return window.__pwned") is None
        assert browser.find_elements(By.CSS_SELECTOR, "img, a[href^='javascript:'], b") == []
        assert "<script>window.__pwned=1</script>" in browser.find_element(By.TAG_NAME, "body").text
    assert browser.find_element(By.ID, "project-name").text == HOSTILE_NAME
    logs = [entry["message"] for entry in browser.get_log("browser")]
    assert not [m for m in logs if "Content Security Policy" in m]  # nothing even tried to run


# -- found by the attack on the page (round one) ---------------------------------------------------------
def test_a_request_addressed_to_another_host_is_refused(client):
    """DNS rebinding: a page of evil.example whose name now points at 127.0.0.1 read /api/stats (200)."""
    for host in ("evil.example", "evil.example:8000", "127.0.0.1.evil.example"):
        response = client.get("/api/stats", headers={"host": host})
        assert response.status_code == 421 and "127.0.0.1" in response.json()["error"], host
        assert "script-src 'self'" in response.headers["content-security-policy"]
    for host in ("127.0.0.1:8000", "localhost", "LOCALHOST:1", "[::1]:8000"):
        assert client.get("/api/stats", headers={"host": host}).status_code == 200, host
    assert client.get("/", headers={"host": "evil.example"}).status_code == 421


def test_names_given_with_allow_host_are_answered(hostile_index, monkeypatch):
    from goalsearch.web.app import HOSTS_ENV, app_from_environment, INDEX_ENV

    monkeypatch.setenv(INDEX_ENV, str(hostile_index))
    monkeypatch.setenv(HOSTS_ENV, "budgets.example.org")
    with TestClient(app_from_environment(), base_url="http://budgets.example.org") as test_client:
        assert test_client.get("/api/stats").status_code == 200
        assert test_client.get("/api/stats", headers={"host": "evil.example"}).status_code == 421


def test_a_crash_is_one_line_with_the_security_headers(hostile_index, monkeypatch):
    """An index deleted under the server made its pages crash (FileNotFoundError) with a 500 that lacked the
    CSP: an error no handler expected passed by the middleware that adds the headers."""
    def crash(*args, **kwargs):
        raise FileNotFoundError(2, "No such file or directory", "records.db")

    monkeypatch.setattr(GoalSearch, "stats", crash)
    monkeypatch.setattr(GoalSearch, "search", crash)
    with TestClient(create_app(hostile_index), base_url="http://127.0.0.1", raise_server_exceptions=False) as test_client:
        for path in ("/api/stats", "/api/search?q=x", "/?q=x"):
            response = test_client.get(path)
            assert response.status_code == 503, (path, response.status_code)
            assert "script-src 'self'" in response.headers.get("content-security-policy", ""), path
            assert "Traceback" not in response.text and "records.db" not in response.text
        assert test_client.get("/api/stats").json() == {
            "error": "internal error (FileNotFoundError); see the server's log"}


def test_serve_refuses_a_damaged_index_in_one_line(hostile_index, tmp_path):
    copy = tmp_path / "index"
    shutil.copytree(hostile_index, copy)
    current = (copy / "CURRENT").read_text("utf-8").strip()  # the copy holds older generations too
    vectors = copy / current / "vectors.npy"
    vectors.write_bytes(vectors.read_bytes()[:500])
    with socket.socket() as free:  # a port nobody holds: the index must be refused before the port is looked at
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    result = CliRunner().invoke(cli, ["serve", "--index-dir", str(copy), "--port", str(port)])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output
    assert "vectors.npy" in result.output


def test_serve_on_a_port_in_use_is_one_line(hostile_index):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--index-dir", str(hostile_index), "--port", str(port)])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert f"port {port} is in use" in result.output


def test_a_name_with_spaces_is_found_by_its_exact_name(hostile_index):
    """find() took every space out of the name asked for, so a stored name with spaces was never found."""
    with GoalSearch.open(hostile_index) as index:
        assert index.find(HOSTILE_NAME).name == HOSTILE_NAME
        assert index.find(f"  {HOSTILE_NAME} ").name == HOSTILE_NAME


def test_a_name_holding_a_slash_is_found_by_url(client):
    """``%2F`` is decoded before routing: a name with "/" (``</script>``) answered 404 "no such page"."""
    from urllib.parse import quote

    for prefix in ("/api/show/", "/project/"):
        response = client.get(prefix + quote(HOSTILE_NAME, safe=""))
        assert response.status_code == 200, (prefix, response.text[:200])
    assert client.get("/api/show/" + quote(HOSTILE_NAME, safe="")).json()["name"] == HOSTILE_NAME
    assert client.get("/api/show/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_head_is_answered_as_get_without_a_body(server, tmp_path):
    """A monitor or a proxy's health check asks HEAD: it gets GET's status and headers, and no body (was 405)."""
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(server)
    for path in ("/", "/api/stats", "/api/search?q=%E8%BF%90%E7%BB%B4", "/static/style.css", "/no-such-page"):
        connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
        connection.request("HEAD", path)
        head = connection.getresponse()
        body = head.read()
        connection.close()
        connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
        connection.request("GET", path)
        get = connection.getresponse()
        get.read()
        connection.close()
        assert (head.status, head.getheader("content-type")) == (get.status, get.getheader("content-type")), path
        assert body == b"" and head.getheader("content-security-policy"), path
    with TestClient(create_app(tmp_path / "none"), base_url="http://127.0.0.1") as test_client:
        assert test_client.request("HEAD", "/api/stats").status_code != 405  # no index: 503, as GET


def test_the_readmes_curl_examples_send_no_raw_chinese_in_a_url():
    """curl sends a URL as typed; uvicorn refuses raw Chinese in the request line (400 before goalsearch sees it),
    so the README's examples pass the query with --data-urlencode (a newcomer's run of the old examples failed)."""
    readme = (Path(__file__).parent.parent / "README.md").read_text("utf-8")
    lines = [line for block in re.findall(r"```sh\n(.*?)```", readme, re.S) for line in block.splitlines()
             if line.strip().startswith("curl ")]
    assert lines
    for line in lines:
        assert not re.search(r"https?://[^\s']*[^\x00-\x7f]", line), line
