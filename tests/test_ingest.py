"""Indexing real content: a mixed folder, metadata end to end, links, and the safety rules.

Issue 9: every format in one run; each article carries its metadata into the index, the API and
the pages; a mistake never empties a working index; bad files are skipped and named.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from searchapp.article_pages import get_article
from searchapp.cli import check_serve_source, main
from searchapp.config import BUNDLED_CORPUS
from searchapp.indexing import (
    IndexingError,
    SourcesChanged,
    build_index,
    current_build,
    read_manifest,
)
from searchapp.searching import search
from searchapp.sources.records import MAX_CHUNKS_PER_ARTICLE
from searchapp.web import create_app
from tests.conftest import FIXTURES, SEED, assert_error_shape

NEWSROOM = FIXTURES / "newsroom"
SEED_ID = "2022-09-26-xinhua-major-country-diplomacy"
TYPHOON = "site/en/2024/07/typhoon-gaemi"

#: A sentence of each article's body -> (article id, its canonical URL).
BODY_QUERIES = {
    '"torrential rain and gusts"': (TYPHOON, "https://news.example.com/2024/07/typhoon-gaemi"),
    "桥吊": ("site/zh-hans/2024/08/port-record", "https://zh.news.example.com/2024/08/port-record"),
    "雞排攤": (
        "site/zh-hant/2024/09/night-market",
        "https://tw.news.example.com/2024/09/night-market",
    ),
    '"Cheung Chau to Mui Wo"': (
        "blog/harbour-ferries",
        "https://blog.example.com/2024/10/harbour-ferries/",
    ),
    "祠堂": ("blog/river-festival", "https://blog.example.com/zh/2024/06/dragon-boat/"),
    '"salaries tax rebate"': ("cms/2024/11/budget", "https://news.example.com/2024/11/budget"),
    "復刻版電車": ("cms/2024/11/tram", "https://tw.news.example.com/2024/11/tram"),
    '"warmer seas"': ("cms/2024/12/typhoon-recap", "https://news.example.com/2024/12/recap"),
    "Gwadar": (SEED_ID, None),
}


def mixed_folder(dest: Path) -> Path:
    """The bundled .txt article, HTML pages in subfolders, Markdown and a JSONL export."""
    shutil.copytree(NEWSROOM, dest)
    shutil.copy(SEED, dest / SEED.name)
    return dest


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    root = tmp_path_factory.mktemp("mixed")
    source = mixed_folder(root / "src")
    index = root / "index"
    report = build_index([source], index)
    return source, index, report


@pytest.fixture()
def client(mixed):
    return create_app(
        {"INDEX_DIR": str(mixed[1]), "TESTING": True, "LINKS": "source"}
    ).test_client()


def test_mixed_folder_indexes_in_one_run(mixed):
    _, index, report = mixed
    assert report.skipped == [] and report.articles == 9
    manifest = read_manifest(current_build(index))
    assert sorted(manifest["articles"]) == sorted(a for a, _ in BODY_QUERIES.values())


@pytest.mark.parametrize("query", BODY_QUERIES)
def test_body_text_finds_each_article_with_its_source_url(mixed, query):
    article_id, url = BODY_QUERIES[query]
    result = search(mixed[1], query)
    assert result["hits"], query
    hit = result["hits"][0]
    assert hit["article_id"] == article_id and hit["source_url"] == url


def test_every_article_carries_its_metadata(mixed):
    index = mixed[1]
    for article_id, url in BODY_QUERIES.values():
        article = get_article(index, article_id)
        assert article["url"] == url
        assert article["title"] and article["date"] and article["lang"] in ("en", "zh")
        if url:
            assert article["authors"], article_id
    typhoon = get_article(index, TYPHOON)
    assert typhoon["title"] == "Typhoon Gaemi: Signal No. 8 raised"
    assert typhoon["authors"] == ["Li Wei", "Sarah Lam"]
    assert typhoon["tags"] == ["typhoon", "weather", "Hong Kong"]
    assert typhoon["image"] == "https://news.example.com/img/gaemi.jpg"
    assert typhoon["lang"] == "en" and typhoon["date"] == "2024-07-24"
    seed = get_article(index, SEED_ID)
    assert seed["url"] is None and seed["authors"] == [] and seed["tags"] == []


def test_authors_and_tags_are_indexed_keyword_fields(mixed):
    from whoosh import query

    from searchapp.handle import IndexHandle

    searcher = IndexHandle(mixed[1]).open().searcher
    by_author = {d["article_id"] for d in searcher.documents(authors="Sarah Lam")}
    assert by_author == {TYPHOON, "cms/2024/11/budget"}
    tagged = searcher.search(query.Term("tags", "龙舟"), limit=None)
    assert {h["article_id"] for h in tagged} == {"blog/river-festival"}


def test_api_article_returns_metadata_and_accepts_slashes(client):
    body = client.get(f"/api/articles/{TYPHOON}").get_json()
    assert body["id"] == TYPHOON and body["url"].startswith("https://news.example.com/")
    assert body["authors"] == ["Li Wei", "Sarah Lam"] and body["tags"][0] == "typhoon"
    assert body["lang"] == "en" and body["page"] == 1 and body["pages"] == 1
    assert client.get("/api/articles/site/en/2024/07/TYPHOON-gaemi").status_code == 404
    assert_error_shape(client.get("/api/articles/site/../../etc/passwd"), 404, "not_found")
    assert_error_shape(client.get(f"/api/articles/{TYPHOON}?page=2"), 400, "invalid_page")


@pytest.mark.parametrize(
    "article_id, headings, captions",
    [
        (TYPHOON, ["Flights cancelled", "Clean-up begins"], ["Chan Ka-ho", "2024-07-24"]),
        ("blog/harbour-ferries", ["Fares and timetables"], ["Chan Ka-ho", "2024-10-03"]),
        ("blog/river-festival", ["传统与创新：年轻人“接棒”"], ["陈美玲", "2024-06-10"]),
        (SEED_ID, ["Compose an era of open cooperation"], ["Ahmed Kamal", "2018-01-29"]),
    ],
)
def test_article_page_shows_sections_and_captions(client, article_id, headings, captions):
    page = client.get(f"/articles/{article_id}").get_data(as_text=True)
    found = re.findall(r'<h2 id="chunk-\d+" class="chunk chunk-heading"[^>]*>(.*?)</h2>', page)
    for heading in headings:
        assert heading in found
    for value in captions:
        # a photo date is shown in the reader's language; its datetime attribute stays ISO
        shown = rf'>{re.escape(value)}<|datetime="{re.escape(value)}"'
        assert re.search(rf'class="(photographer|photo-date)"[^>]*({shown})', page), value


def test_article_page_links_to_the_original(client):
    page = client.get(f"/articles/{TYPHOON}").get_data(as_text=True)
    assert 'href="https://news.example.com/2024/07/typhoon-gaemi"' in page
    assert "Read the original" in page and "Li Wei" in page and "Hong Kong" in page
    seed = client.get(f"/articles/{SEED_ID}").get_data(as_text=True)
    assert "Read the original" not in seed


def test_links_setting_chooses_original_or_local_page(mixed):
    for links, expected, other in (
        ("source", 'href="https://news.example.com/2024/07/typhoon-gaemi"', "Archive copy"),
        ("local", f'href="/articles/{TYPHOON}?q=seawall#chunk-4"', "Original"),
    ):
        app = create_app({"INDEX_DIR": str(mixed[1]), "TESTING": True, "LINKS": links})
        page = app.test_client().get("/search?q=seawall").get_data(as_text=True)
        link = re.search(r'<a class="hit-link" (href="[^"]*")', page).group(1)
        assert link == expected.replace("&", "&amp;")
        assert other in page
        script = app.test_client().get("/embed.js").get_data(as_text=True)
        assert f"var LINKS = {json.dumps(links)};" in script
    # without a url, the local page whatever the setting
    app = create_app({"INDEX_DIR": str(mixed[1]), "TESTING": True, "LINKS": "source"})
    page = app.test_client().get("/search?q=Gwadar").get_data(as_text=True)
    assert f'href="/articles/{SEED_ID}?q=Gwadar#chunk-' in page


def test_links_setting_from_the_environment(mixed, monkeypatch):
    monkeypatch.setenv("SEARCHAPP_LINKS", "local")
    assert create_app({"INDEX_DIR": str(mixed[1])}).config["LINKS"] == "local"
    monkeypatch.setenv("SEARCHAPP_LINKS", "elsewhere")
    with pytest.raises(ValueError, match="SEARCHAPP_LINKS"):
        create_app({"INDEX_DIR": str(mixed[1])})


# --- mistakes never empty a working index -------------------------------------------------


def cli(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env or {"SEARCHAPP_SOURCE": ""})


@pytest.fixture()
def user_index(tmp_path):
    """A user's own archive (not the bundled article), indexed."""
    source = mixed_folder(tmp_path / "archive")
    index = tmp_path / "index"
    build_index([source], index)
    return source, index


def test_source_without_indexable_files_fails_and_leaves_the_index(user_index, tmp_path):
    _, index = user_index
    before = current_build(index)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.png").write_bytes(b"\x89PNG")
    (junk / "b.png").write_bytes(b"\x89PNG")
    (junk / "c.pdf").write_bytes(b"%PDF")
    result = cli("index", "--source", str(junk), "--index", str(index))
    assert result.exit_code == 1
    assert "no .html/.json/.jsonl/.md/.txt files in" in result.output
    assert "2 .png, 1 .pdf" in result.output
    assert current_build(index) == before
    with pytest.raises(IndexingError, match="no files at all"):
        build_index([_empty(tmp_path)], index)
    assert current_build(index) == before


def _empty(tmp_path: Path) -> Path:
    empty = tmp_path / "empty"
    empty.mkdir()
    return empty


def test_index_without_source_reuses_the_index_folders(user_index):
    """Before: `searchapp index` fell back to the bundled article and wiped the archive."""
    source, index = user_index
    result = cli("index", "--index", str(index))
    assert result.exit_code == 0, result.output
    assert "nothing changed" in result.output and str(source.resolve()) in result.output
    assert read_manifest(current_build(index))["stats"]["articles"] == 9
    (source / "blog" / "harbour-ferries.md").unlink()
    result = cli("index", "--index", str(index))
    assert result.exit_code == 0 and "8 articles" in result.output


def test_other_folders_need_rebuild_and_say_what_would_go(user_index):
    _, index = user_index
    before = current_build(index)
    with pytest.raises(SourcesChanged, match="would remove 8 of its 9 articles"):
        build_index([BUNDLED_CORPUS], index)
    assert current_build(index) == before
    result = cli("index", "--source", str(BUNDLED_CORPUS), "--index", str(index))
    assert result.exit_code == 1 and "--rebuild" in result.output
    result = cli("index", "--source", str(BUNDLED_CORPUS), "--index", str(index), "--rebuild")
    assert result.exit_code == 0 and "1 articles" in result.output


def test_a_moved_archive_is_recognised_file_by_file(user_index, tmp_path):
    source, index = user_index
    moved = tmp_path / "moved"
    source.rename(moved)
    report = build_index([moved], index)
    assert not report.changed and report.articles == 9
    assert any("source folders changed" in note for note in report.notes)


def test_serve_source_on_an_index_of_other_folders_says_so(user_index, tmp_path):
    source, index = user_index
    check_serve_source(index, source)  # the same folder: fine
    check_serve_source(tmp_path / "no-index-yet", BUNDLED_CORPUS)  # no index: it builds one
    with pytest.raises(click.ClickException, match="was built from"):
        check_serve_source(index, BUNDLED_CORPUS)
    result = cli("serve", "--index", str(index), "--source", str(BUNDLED_CORPUS), "--port", "0")
    assert result.exit_code == 1 and "was built from" in result.output


# --- bad files -----------------------------------------------------------------------------


def test_bad_files_are_skipped_named_and_keep_what_they_gave(user_index):
    source, index = user_index
    typhoon = source / "site/en/2024/07/typhoon-gaemi.html"
    typhoon.write_bytes(bytes(range(256)) * 100)  # a good page turns binary
    (source / "blog" / "empty.md").write_text("\n\n", "utf-8")
    with open(source / "site" / "huge.html", "wb") as fh:
        fh.truncate(30 * 1024 * 1024)
    jsonl = source / "cms" / "export.jsonl"
    lines = jsonl.read_text("utf-8").splitlines()
    lines.insert(1, '{"id": "broken", "title": ')
    lines.append('{"id": "cms/new", "title": "New", "text": "A brand new zebracorn story."}')
    jsonl.write_text("\n".join(lines) + "\n", "utf-8")
    report = build_index([source], index)
    reasons = {}
    for path, reason in report.skipped:
        reasons.setdefault(Path(path).relative_to(source.resolve()).as_posix(), []).append(reason)
    assert "binary" in reasons["site/en/2024/07/typhoon-gaemi.html"][0]
    assert "empty Markdown" in reasons["blog/empty.md"][0]
    assert "over the" in reasons["site/huge.html"][0]
    assert reasons["cms/export.jsonl"][0].startswith("line 2: not valid JSON")
    assert search(index, "zebracorn")["total"] == 1  # the other lines are indexed
    assert search(index, "cheung chau")["total"] > 0
    hit = search(index, '"torrential rain and gusts"')["hits"][0]  # kept from before
    assert hit["article_id"] == TYPHOON and hit["source_url"]


def test_a_file_that_vanishes_mid_run_is_skipped_and_kept(user_index, monkeypatch):
    from searchapp import indexing

    source, index = user_index
    victim = source / "blog" / "river-festival.md"
    victim.write_text(victim.read_text("utf-8") + "\n更多内容。\n", "utf-8")
    real_read = indexing.read_source

    def read_after_deleting(found):
        if Path(found.path) == victim.resolve():
            victim.unlink()
        return real_read(found)

    monkeypatch.setattr(indexing, "read_source", read_after_deleting)
    report = build_index([source], index)
    assert any("disappeared" in reason for path, reason in report.skipped)
    assert search(index, "祠堂")["hits"][0]["article_id"] == "blog/river-festival"


def test_same_id_from_two_files_is_skipped_with_a_message(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "story.md").write_text("# Story\n\nMarkdown body.\n", "utf-8")
    (source / "feed.jsonl").write_text(
        '{"id": "story", "title": "Dup", "text": "JSON."}\n', "utf-8"
    )
    report = build_index([source], tmp_path / "index")
    assert report.articles == 1
    assert any("already given by" in reason for _, reason in report.skipped)


def test_hostile_symlinks_are_not_indexed_or_served(tmp_path):
    """Issue 13.5: links to system files or ../outside/secret.conf are not published."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.conf.txt").write_text("password=hunter2\n", "utf-8")
    source = tmp_path / "src"
    source.mkdir()
    shutil.copy(SEED, source)
    (source / "secret.txt").symlink_to(outside / "secret.conf.txt")
    (source / "release.txt").symlink_to("/etc/os-release")
    index = tmp_path / "index"
    report = build_index([source], index)
    assert report.articles == 1
    skipped = {Path(p).name: r for p, r in report.skipped}
    assert "outside the source folder" in skipped["secret.txt"]
    assert "outside the source folder" in skipped["release.txt"]
    client = create_app({"INDEX_DIR": str(index), "TESTING": True}).test_client()
    assert client.get("/api/articles/secret").status_code == 404
    assert client.get("/api/articles/release").status_code == 404
    assert search(index, "hunter2")["total"] == 0


def test_tiny_blocks_file_gives_bounded_index_and_pages(tmp_path):
    """Issue 13.6: 100,000 tiny blocks made a 6.9 MB article page built on every request."""
    source = tmp_path / "src"
    source.mkdir()
    blocks = "\n\n".join(f"w{n}" for n in range(100_000))
    (source / "tiny.txt").write_text(f"date 2024-01-01 X:Tiny\n\n{blocks}\n", "utf-8")
    index = tmp_path / "index"
    report = build_index([source], index)
    assert report.chunks <= MAX_CHUNKS_PER_ARTICLE
    assert any("merged" in warning for _, warning in report.warnings)
    client = create_app({"INDEX_DIR": str(index), "TESTING": True}).test_client()
    page = client.get("/articles/tiny")
    assert page.status_code == 200 and len(page.data) < 1_000_000
    body = client.get("/api/articles/tiny").get_json()
    assert len(body["chunks"]) <= 200 and body["total_chunks"] == report.chunks
    assert search(index, "w99999")["total"] == 1
