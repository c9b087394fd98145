"""Shared fixtures: indexes built in temporary folders, the Flask app, a real gunicorn server.

Nothing here touches the repository's own ``index/`` folder or the network beyond 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from harness.server import LiveServer

from searchapp.config import BUNDLED_CORPUS
from searchapp.indexing import build_index
from searchapp.web import create_app

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
FIXTURE_ARTICLES = FIXTURES / "articles"
HOSTILE = FIXTURES / "hostile"
SEED = BUNDLED_CORPUS / "2022-09-26-xinhua-major-country-diplomacy.txt"


def corpus_texts() -> list[str]:
    """The text of every test corpus file (articles, newsroom pages, the large sample) and of
    the bundled article, undecodable bytes dropped: the words a comparison with a reference
    (jieba, Whoosh's stemmer) is run over."""
    files = [SEED, *sorted(p for p in FIXTURES.rglob("*") if p.is_file())]
    return [path.read_bytes().decode("utf-8", errors="ignore") for path in files]


def copy_sources(dest: Path, *sources: Path) -> Path:
    """A fresh source folder holding copies of the given files or folders' .txt files."""
    dest.mkdir(parents=True, exist_ok=True)
    for source in sources:
        files = sorted(source.glob("*.txt")) if source.is_dir() else [source]
        for file in files:
            shutil.copy(file, dest / file.name)
    return dest


@pytest.fixture(autouse=True)
def _restore_environment():
    """Commands run in-process (``serve`` hands its options to the app through environment
    variables) must not leak settings into the next test."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(autouse=True)
def _responses_closed_as_servers_close_them(monkeypatch):
    """Flask's test client closes a response only when asked; gunicorn closes each one after
    sending it, and what runs after the response (``operations.after_response``: the query
    log, metrics) runs then. Here each response is read whole and closed before the client
    returns it, as a server's client would find it."""
    original = FlaskClient.open

    def open_closed(self, *args, buffered: bool = True, **kwargs):
        return original(self, *args, buffered=buffered, **kwargs)

    monkeypatch.setattr(FlaskClient, "open", open_closed)


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory) -> Path:
    """The bundled article plus the fixture articles (English, Chinese, mixed)."""
    sources = [BUNDLED_CORPUS]
    if FIXTURE_ARTICLES.is_dir():
        sources.append(FIXTURE_ARTICLES)
    return copy_sources(tmp_path_factory.mktemp("corpus"), *sources)


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory, corpus_dir) -> Path:
    """A built index of ``corpus_dir``, shared read-only by the tests of a session."""
    path = tmp_path_factory.mktemp("index")
    build_index([corpus_dir], path)
    return path


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> Path:
    """An index of the bundled article alone."""
    path = tmp_path_factory.mktemp("seed-index")
    build_index([BUNDLED_CORPUS], path)
    return path


@pytest.fixture()
def app(index_dir):
    return create_app({"INDEX_DIR": str(index_dir), "TESTING": True})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, corpus_dir):
    """A real gunicorn server (2 workers) over its own copy of the test corpus index."""
    index = tmp_path_factory.mktemp("live") / "index"
    build_index([corpus_dir], index)
    server = LiveServer(index)
    yield server
    server.stop()


def assert_error_shape(response, status: int, code: str | None = None) -> dict:
    """The one API error shape: ``{"error": {"code": str, "message": str}}``."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert set(body) == {"error"}
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    return body
