"""searchapp behind Debian's nginx under /search/, with the shipped deploy/nginx.conf.

The test config is deploy/nginx.conf with only its ports, host name and static folder
substituted (each substitution must match exactly once, so the file tested is the file
shipped), wrapped in the few lines an unprivileged nginx needs (pid, logs and temp paths in
a temporary folder). ``searchapp serve --proxies 1`` runs behind it. Through the proxy:
pages, static files, gzip, OpenSearch, the redirect, the live search and click reports in
Chromium, the widget on another site, limits, and that a spoofed X-Forwarded-For from
outside does not change the client the app logs.

Without nginx (Debian package ``nginx``) the module is skipped, except in CI (``CI=true``),
where that is a failure.
"""

from __future__ import annotations

import gzip
import http.client
import http.server
import os
import re
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from harness.server import LiveServer, free_port

from searchapp.config import BUNDLED_CORPUS
from searchapp.indexing import build_index
from tests.conftest import ROOT

NGINX = Path("/usr/sbin/nginx")
CHROMIUM = Path("/usr/bin/chromium")
SHIPPED = ROOT / "deploy" / "nginx.conf"
STATIC = ROOT / "searchapp" / "web" / "static"
SEED_ID = "2022-09-26-xinhua-major-country-diplomacy"


def require(path: Path, package: str) -> None:
    if path.exists():
        return
    message = f"{path} is missing: install Debian's {package}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def substitute(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"deploy/nginx.conf should contain {old!r} exactly once"
    return text.replace(old, new)


def nginx_config(folder: Path, port: int, app_port: int) -> Path:
    """deploy/nginx.conf made to run here, unprivileged, inside ``folder``."""
    site = SHIPPED.read_text("utf-8")
    site = substitute(site, "server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
    site = substitute(site, "listen 80 default_server;", f"listen 127.0.0.1:{port} default_server;")
    site = substitute(site, "listen 80;", f"listen 127.0.0.1:{port};")
    site = substitute(site, "server_name example.org;", "server_name 127.0.0.1;")
    site = substitute(site, "alias /srv/searchapp/static/;", f"alias {STATIC}/;")
    (folder / "searchapp.conf").write_text(site, "utf-8")
    temp = "\n".join(
        f"    {name}_temp_path {folder}/{name}_temp;"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = f"""{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {folder}/access.log;
{temp}
    include {folder}/searchapp.conf;
}}
"""
    path = folder / "nginx.conf"
    path.write_text(main, "utf-8")
    return path


class Nginx:
    def __init__(self, folder: Path, app_port: int):
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = nginx_config(folder, self.port, app_port)
        check = subprocess.run(
            [str(NGINX), "-t", "-p", str(folder), "-c", str(config), "-e", str(folder / "e.log")],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stderr
        self.process = subprocess.Popen(
            [
                str(NGINX),
                "-p",
                str(folder),
                "-c",
                str(config),
                "-e",
                str(folder / "e.log"),
                "-g",
                "daemon off;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError((folder / "error.log").read_text())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """(nginx, app): ``searchapp serve --proxies 1`` behind nginx at /search/."""
    yield from run_stack(tmp_path_factory)


def run_stack(tmp_path_factory):
    """The body of ``stack`` (the browser tests make their own from it)."""
    require(NGINX, "nginx")
    index = tmp_path_factory.mktemp("nginx-app") / "index"
    build_index([BUNDLED_CORPUS], index)
    app = LiveServer(index, workers=2, extra=("--proxies", "1"))
    try:
        proxy = Nginx(tmp_path_factory.mktemp("nginx"), app.port)
    except BaseException:
        app.stop()
        raise
    yield proxy, app
    proxy.stop()
    app.stop()


def get(url: str, **kwargs) -> requests.Response:
    return requests.get(url, timeout=10, allow_redirects=False, **kwargs)


def test_search_page_and_results_under_the_prefix(stack):
    proxy, _ = stack
    home = get(proxy.url + "/search/")
    assert home.status_code == 200
    html = home.text
    assert 'data-api-search="/search/api/search"' in html
    assert 'data-click-url="/search/api/click"' in html
    assert 'action="/search/search"' in html
    assert 'href="/search/opensearch.xml"' in html
    assert re.search(r'src="/search/static/app\.js\?v=[0-9a-f]{12}"', html)
    assert "Content-Security-Policy" in home.headers

    results = get(proxy.url + "/search/search", params={"q": "Gwadar"})
    assert results.status_code == 200
    links = re.findall(r'href="(/search/articles/[^"]+)"', results.text)
    assert links and all(SEED_ID in link for link in links)
    article = get(proxy.url + links[0].replace("&amp;", "&"))
    assert article.status_code == 200 and "<mark>Gwadar</mark>" in article.text
    assert 'href="/search/search?q=Gwadar"' in article.text  # back to the results

    api = get(proxy.url + "/search/api/search", params={"q": "Gwadar"}).json()
    assert api["total"] > 0


def test_responses_are_compressed(stack):
    proxy, _ = stack
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("GET", "/search/search?q=Gwadar", headers={"Accept-Encoding": "gzip"})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    assert response.getheader("Content-Encoding") == "gzip"
    assert "Gwadar" in gzip.decompress(body).decode("utf-8")


def test_static_files_are_served_by_nginx_with_long_cache(stack):
    proxy, app = stack
    html = get(proxy.url + "/search/").text
    for path in re.findall(r'(?:href|src)="(/search/static/[^"]+\?v=[0-9a-f]{12})"', html):
        response = get(proxy.url + path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    unversioned = get(proxy.url + "/search/static/favicon-32.png")
    assert unversioned.status_code == 200
    assert unversioned.headers["Cache-Control"] == "public, max-age=3600"
    reached_app = [x for x in app.log_text().splitlines() if '"GET /static/' in x]
    assert reached_app == [], "nginx should serve static files itself"


def test_opensearch_urls_point_under_the_prefix_and_work(stack):
    proxy, _ = stack
    xml = get(proxy.url + "/search/opensearch.xml").text
    templates = re.findall(r'template="([^"]+)"', xml)
    assert len(templates) == 4
    for template in templates:
        assert template.startswith(proxy.url + "/search/"), template
        url = (
            template.replace("&amp;", "&")
            .replace("{searchTerms}", "Gwadar")
            .replace("{startPage?}", "1")
            .replace("{count?}", "5")
        )
        assert get(url).status_code == 200, url
    assert f"<moz:SearchForm>{proxy.url}/search/</moz:SearchForm>" in xml


def test_redirects_stay_under_the_prefix(stack):
    proxy, _ = stack
    response = get(proxy.url + "/search")
    assert response.status_code == 301
    assert response.headers["Location"] in (proxy.url + "/search/", "/search/")
    assert get(proxy.url + "/search/no/such/page").status_code == 404
    assert get(proxy.url + "/search/metrics").status_code == 404  # only on the app's own port


def test_other_host_names_are_refused(stack):
    proxy, _ = stack
    with pytest.raises(requests.ConnectionError):
        get(proxy.url + "/search/", headers={"Host": "evil.example"})


def test_spoofed_forwarded_for_does_not_change_the_logged_client(stack):
    proxy, app = stack
    marker = "spoofcheck"
    response = get(
        proxy.url + f"/search/api/search?q={marker}",
        headers={"X-Forwarded-For": "203.0.113.66", "X-Real-IP": "203.0.113.67"},
    )
    assert response.status_code == 200
    deadline = time.monotonic() + 5
    line = None
    while line is None and time.monotonic() < deadline:
        line = next((x for x in app.log_text().splitlines() if f"q={marker}" in x), None)
        time.sleep(0.05)
    assert line is not None
    assert line.startswith("127.0.0.1 "), line  # the address nginx saw, not the spoofed one
    assert "203.0.113" not in app.log_text()


def test_request_and_connection_limits_answer_429(stack):
    """Last in the module: it uses up this client's request allowance for a moment."""
    proxy, _ = stack
    time.sleep(2.5)  # the earlier tests' requests used part of the allowance: let it refill
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(
            pool.map(lambda _: get(proxy.url + "/search/healthz").status_code, range(80))
        )
    assert statuses.count(429) > 0, statuses
    assert statuses.count(200) >= 20, statuses
    assert set(statuses) <= {200, 429}
    time.sleep(2.5)  # the allowance refills (10 a second)
    assert get(proxy.url + "/search/healthz").status_code == 200
