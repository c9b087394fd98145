"""``searchapp serve`` as deployed: slow clients, graceful reload, worker recycling, logs.

Each test runs a real gunicorn server (``LiveServer``) over its own index of the bundled
article. The slow-client test is the regression test of issue 13, finding 2: with sync
workers, two idle connections stalled every request for 30 s.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sys
import threading
import time

import pytest
import requests
from harness.server import LiveServer
from stresslib.slow import SlowClients, timed_get

from searchapp.config import BUNDLED_CORPUS
from searchapp.indexing import build_index

ACCESS_LINE = re.compile(
    r'^(?P<client>\S+) - - \[[^\]]+\] "(?P<request>[^"]*)" (?P<status>\d{3}) (?P<bytes>\d+|-) '
    r'"(?P<referer>[^"]*)" "(?P<agent>[^"]*)" (?P<ms>\d+)$'
)


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One server for the tests that need only defaults (a short header timeout, to see
    slow clients cut off and reconnect within a test)."""
    index = tmp_path_factory.mktemp("serving") / "index"
    build_index([BUNDLED_CORPUS], index)
    server = LiveServer(index, workers=2, extra=("--header-timeout", "2"))
    yield server
    server.stop()


@pytest.fixture()
def serve(tmp_path):
    """Start ``searchapp serve`` with extra options: ``serve("--threads", "2")``."""
    servers = []

    def start(*extra: str, env: dict | None = None) -> LiveServer:
        index = tmp_path / f"index-{len(servers)}"
        build_index([BUNDLED_CORPUS], index)
        server = LiveServer(index, workers=2, extra=extra, env=env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def test_idle_and_slowloris_connections_do_not_stall_requests(shared):
    server = shared
    with SlowClients(server.port, idle=50, slowloris=50) as held:
        times = []
        for _ in range(12):  # over 3 s: the slow clients are cut off after 2 s and come back
            took, status = timed_get(server.port, timeout=30)
            assert status == 200
            times.append(took)
            time.sleep(0.25)
        assert len(held.idle) == 50 and len(held.slow) == 50
        assert held.reconnects >= 50
    assert max(times) < 1.0, times


def test_a_request_that_never_ends_its_head_is_cut_off(shared):
    server = shared
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    closed_after = None
    with sock:
        while time.monotonic() - started < 8:
            try:
                sock.sendall(b"a")
                sock.settimeout(0.5)
                if sock.recv(1024) == b"":
                    closed_after = time.monotonic() - started
                    break
            except TimeoutError:
                continue
            except OSError:
                closed_after = time.monotonic() - started
                break
    assert closed_after is not None and 1.5 < closed_after < 5, closed_after


def _reader_that_never_reads(port: int, path: str, requests: int) -> socket.socket:
    """A connection with a tiny receive buffer that asks for ``path`` ``requests`` times in a
    row (pipelined: megabytes of answers, more than the sockets' buffers) and reads nothing."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode() * requests)
    return sock


@pytest.mark.parametrize("threads", ["1", "2"])
def test_a_client_that_does_not_read_its_answers_is_cut_off(serve, threads):
    """A write that waits on a client that reads nothing gives up once it has waited the
    header timeout (the kernel still takes a trickle for a few seconds first): the connection
    is closed and the worker, answering in its event loop (one thread) or in its threads,
    serves others again. Without the send timeout the worker (or its thread) waited for ever."""
    server = serve("--workers", "1", "--threads", threads, "--header-timeout", "2")
    big = "/api/search?q=China%20OR%20Gwadar%20OR%20port&per_page=100"
    answer = requests.get(server.url + big, timeout=30)
    assert answer.status_code == 200 and len(answer.content) > 20_000
    pipelined = 20_000_000 // len(answer.content)
    with _reader_that_never_reads(server.port, big, pipelined) as stalled:
        time.sleep(0.5)
        took, status = timed_get(server.port, timeout=30)
        assert status == 200, "the worker did not come back"
        assert took < 20, took
        assert wait_for(lambda: "Socket error" in server.log_text(), timeout=30)  # cut off
        stalled.settimeout(10)
        received = 0
        try:
            while chunk := stalled.recv(1 << 20):
                received += len(chunk)
        except ConnectionResetError:
            pass
        assert received < pipelined * len(answer.content)  # cut off, not answered in full


class Load:
    """Clients sending searches (new connections and kept-alive ones) until stopped."""

    def __init__(self, url: str, clients: int = 4):
        self.url = url
        self.ok = 0
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._run, args=(i % 2 == 0,), daemon=True)
            for i in range(clients)
        ]

    def _run(self, keep_alive: bool) -> None:
        session = requests.Session() if keep_alive else None
        n = 0
        while not self.stop.is_set():
            n += 1
            url = f"{self.url}/api/search?q=Gwadar&page={n % 3 + 1}"
            try:
                response = (session or requests).get(url, timeout=10)
                if response.status_code == 200 and response.json()["total"] > 0:
                    self.ok += 1
                else:
                    self.failures.append(f"{response.status_code} {url}")
            except (requests.RequestException, ValueError) as exc:
                self.failures.append(f"{type(exc).__name__}: {exc}")

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=15)


def wait_for(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_sighup_replaces_the_workers_without_dropping_a_request(serve):
    server = serve()
    before = set(server.worker_pids())
    assert len(before) == 2
    with Load(server.url) as load:
        time.sleep(1.5)
        os.kill(server.process.pid, signal.SIGHUP)  # what `systemctl reload` sends
        replaced = wait_for(
            lambda: len(server.worker_pids()) == 2 and not set(server.worker_pids()) & before
        )
        time.sleep(1.5)
    assert replaced, (before, server.worker_pids())
    assert load.ok > 20
    assert load.failures == [], load.failures[:5]
    assert requests.get(server.url + "/healthz", timeout=5).status_code == 200


def test_workers_are_recycled_after_max_requests_with_jitter(serve):
    server = serve("--max-requests", "25", "--max-requests-jitter", "10")
    before = set(server.worker_pids())
    with Load(server.url, clients=2) as load:
        assert wait_for(lambda: load.ok >= 150, timeout=60)
    assert load.failures == [], load.failures[:5]
    assert wait_for(lambda: len(server.worker_pids()) == 2)  # none half-replaced
    assert set(server.worker_pids()) != before
    assert "Autorestarting worker" in server.log_text()


def test_access_log_is_combined_format_with_duration_on_by_default(shared):
    server = shared
    response = requests.get(
        server.url + "/api/search?q=Gwadar",
        headers={"X-Forwarded-For": "203.0.113.9", "User-Agent": "ops-test/1", "Referer": "r"},
        timeout=5,
    )
    assert response.status_code == 200
    assert wait_for(lambda: "ops-test/1" in server.log_text(), timeout=5)
    line = next(x for x in server.log_text().splitlines() if "ops-test/1" in x)
    match = ACCESS_LINE.match(line)
    assert match, line
    # no proxy is trusted by default: the spoofed X-Forwarded-For is not the logged client
    assert match["client"] == "127.0.0.1"
    assert match["request"] == "GET /api/search?q=Gwadar HTTP/1.1"
    assert match["status"] == "200" and match["referer"] == "r"
    assert "203.0.113.9" not in server.log_text()


def test_json_log_format_gives_one_json_object_a_line(serve):
    server = serve("--log-format", "json", "--proxies", "1")
    requests.get(
        server.url + "/api/search?q=Gwadar",
        headers={"User-Agent": "ops-json/1", "X-Forwarded-For": "198.51.100.7"},
        timeout=5,
    )
    assert wait_for(lambda: "ops-json/1" in server.log_text(), timeout=5)
    records = []
    for line in server.log_text().splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
        else:  # only the command's own start-up messages are plain text
            assert line.startswith(("searchapp serving", "No index", "Rebuilt index")), line
    access = [r for r in records if r.get("type") == "access"]
    assert any(r["logger"] == "gunicorn.error" for r in records)
    mine = next(r for r in access if r["user_agent"] == "ops-json/1")
    assert mine["method"] == "GET" and mine["path"] == "/api/search"
    assert mine["status"] == 200 and isinstance(mine["duration_ms"], int)
    # one trusted proxy: the address it reports is the client
    assert mine["client"] == "198.51.100.7"


def test_bad_environment_value_is_a_clear_error(tmp_path):
    import subprocess

    config_file = tmp_path / "searchapp.toml"
    config_file.write_text('[server]\nthreads = 2\nworker_class = "fast"\n')
    result = subprocess.run(
        [sys.executable, "-m", "searchapp.cli", "serve", "--config", str(config_file)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert f"{config_file}:3: server.worker_class must be buffered or gthread or sync" in (
        result.stderr
    )

    result = subprocess.run(
        [sys.executable, "-m", "searchapp.cli", "serve", "--index", str(tmp_path / "i")],
        env={**os.environ, "SEARCHAPP_THREADS": "many"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1  # like every bad setting (searchapp.config)
    assert "$SEARCHAPP_THREADS: server.threads must be a whole number" in result.stderr
    assert "Traceback" not in result.stderr


def test_metrics_are_summed_over_workers(serve):
    from prometheus_client.parser import text_string_to_metric_families

    server = serve("--metrics")

    def scrape() -> dict:
        text = requests.get(server.url + "/metrics", timeout=5).text
        samples: dict = {}
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                key = (s.name, tuple(sorted((k, v) for k, v in s.labels.items() if k != "pid")))
                samples.setdefault(key, []).append(s.value)
        return samples

    for n in range(40):  # new connections: both workers answer some
        requests.get(server.url + f"/api/search?q=Gwadar&page={n % 4 + 1}", timeout=5)
    samples = scrape()
    key = (
        "searchapp_http_requests_total",
        (("method", "GET"), ("route", "/api/search"), ("status", "200")),
    )
    assert samples[key] == [40.0]  # one series, summed over the workers

    # One per live worker, including one the kernel gave no request (each records its memory
    # once warmed up; the second may still be warming up when the first answers).
    def memory() -> list:
        return scrape()[("searchapp_worker_resident_memory_bytes", ())]

    assert wait_for(lambda: len(memory()) == 2)
    assert min(memory()) > 10_000_000
    assert samples[("searchapp_index_articles", ())] == [1.0]


@pytest.mark.parametrize(
    ("data", "complete"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n", False),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", True),
        (b"POST /api/click HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345", False),
        (b"POST /api/click HTTP/1.1\r\nContent-Length: 10\r\n\r\n1234567890", True),
        (b"POST /api/click HTTP/1.1\r\ncontent-length:3\r\nExpect: 100-continue\r\n\r\n", True),
        (b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", True),
        (b"GET /" + b"a" * 80_000, True),  # too long to wait for: the parser rejects it
    ],
)
def test_buffered_worker_waits_for_whole_small_requests(data, complete):
    from searchapp.workers import _complete

    assert _complete(bytearray(data)) is complete


class _RecordingSocket:
    """What a ``_HeadWithBody`` hands to the real socket."""

    def __init__(self):
        self.sent: list[bytes] = []
        self.asked: list[str] = []

    def sendall(self, data) -> None:
        self.sent.append(bytes(data))

    def fileno(self) -> int:
        self.asked.append("fileno")
        return 99


def test_an_answers_head_goes_out_with_its_body_in_one_send():
    from searchapp.workers import _HeadWithBody

    real = _RecordingSocket()
    sock = _HeadWithBody(real)
    sock.sendall(b"HTTP/1.1 200 OK\r\n\r\n")
    assert real.sent == []  # the head waits for the body
    sock.sendall(b"body")
    sock.sendall(b"more")
    sock.flush()
    assert real.sent == [b"HTTP/1.1 200 OK\r\n\r\nbody", b"more"]

    real = _RecordingSocket()  # no body (HEAD, 304): sent when the answer ends
    sock = _HeadWithBody(real)
    sock.sendall(b"HTTP/1.1 304 Not Modified\r\n\r\n")
    sock.flush()
    assert real.sent == [b"HTTP/1.1 304 Not Modified\r\n\r\n"]

    real = _RecordingSocket()  # sendfile asks for the descriptor: the head goes first
    sock = _HeadWithBody(real)
    sock.sendall(b"head")
    assert sock.fileno() == 99 and real.sent == [b"head"]

    real = _RecordingSocket()  # a large first write is not held
    sock = _HeadWithBody(real)
    sock.sendall(b"x" * (_HeadWithBody.HOLD + 1))
    assert len(real.sent) == 1


def _read_answer(sock: socket.socket, buffered: bytearray, method: str) -> tuple[bytes, bytes]:
    """One HTTP answer from a kept-alive connection: its head and its body."""
    while b"\r\n\r\n" not in buffered:
        buffered += sock.recv(65536)
    end = buffered.index(b"\r\n\r\n") + 4
    head = bytes(buffered[:end])
    length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    size = 0 if method == "HEAD" or length is None else int(length.group(1))
    while len(buffered) < end + size:
        buffered += sock.recv(65536)
    body = bytes(buffered[end : end + size])
    del buffered[: end + size]
    return head, body


def test_kept_alive_answers_are_whole_with_and_without_bodies(shared):
    """Searches, a HEAD (no body), a static file (sendfile) and an error, one after the
    other on one connection: each head and body as a fresh request gets them."""
    paths = [
        ("GET", "/api/search?q=Gwadar"),
        ("HEAD", "/"),
        ("GET", "/static/app.css"),
        ("GET", "/no-such-page"),
        ("GET", "/api/search?q=中老铁路"),
    ]
    buffered = bytearray()
    with socket.create_connection(("127.0.0.1", shared.port), timeout=10) as sock:
        for method, path in paths:
            target = requests.utils.requote_uri(path)
            sock.sendall(f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            head, body = _read_answer(sock, buffered, method)
            fresh = requests.request(method, shared.url + path, timeout=10)
            assert head.split(b"\r\n", 1)[0].split()[1] == str(fresh.status_code).encode()
            if method == "GET" and not path.startswith("/api/"):
                assert body == fresh.content
            elif method == "GET":
                assert json.loads(body)["total"] == fresh.json()["total"]
    assert buffered == b""


class _Answered:
    """What gunicorn's logger reads of an answer and its request."""

    status = "404 NOT FOUND"
    sent = 183
    headers = [("Content-Type", "application/json"), ("HOST", "127.0.0.1")]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_USER_AGENT": 'curl "quoted"', "HTTP_REFERER": "https://news.example/a?b=1"},
        {"HTTP_AUTHORIZATION": "Basic YW5hOnB3"},  # ana:pw
    ],
)
def test_access_lines_are_gunicorns_with_only_the_atoms_they_use(headers):
    """searchapp's logger computes only the atoms of its access format: the same text line,
    and the same JSON fields, as gunicorn's logger computing every atom; with another format,
    every atom as gunicorn computes them."""
    import datetime

    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    from searchapp.ops.logs import ACCESS_FIELDS, ACCESS_LOG_FORMAT, SearchappLogger

    cfg = Config()
    cfg.set("access_log_format", ACCESS_LOG_FORMAT)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/api/search?q=%22port%22",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/api/search",
        "QUERY_STRING": "q=%22port%22",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_HOST": "127.0.0.1",
        **headers,
    }
    took = datetime.timedelta(seconds=1, microseconds=2500)
    ours, theirs = SearchappLogger(cfg), Logger(cfg)
    ours.now = theirs.now = lambda: "[02/Dec/2026:10:00:00 +0000]"
    mine = ours.atoms_wrapper_class(ours.atoms(_Answered, _Answered, environ, took))
    full = theirs.atoms_wrapper_class(theirs.atoms(_Answered, _Answered, environ, took))
    assert ACCESS_LOG_FORMAT % mine == ACCESS_LOG_FORMAT % full
    assert all(mine[atom] == full[atom] for atom in ACCESS_FIELDS)
    assert "ana" in ACCESS_LOG_FORMAT % mine or "HTTP_AUTHORIZATION" not in environ
    cfg.set("access_log_format", '%(h)s "%({host}i)s"')
    assert ours.atoms(_Answered, _Answered, environ, took) == theirs.atoms(
        _Answered, _Answered, environ, took
    )
