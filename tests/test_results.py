"""Result shaping on its own: per-document field values, grouping, date order, facet units."""

from __future__ import annotations

import numpy as np
import pytest

from searchapp.handle import IndexHandle
from searchapp.indexing import build_index
from searchapp.results import (
    FieldValues,
    code_counts,
    facet_counts,
    most_frequent,
    page_articles,
    page_passages,
)
from searchapp.scoring import FACET_LIMIT, Matches
from searchapp.searching import search
from tests.conftest import FIXTURE_ARTICLES, SEED, copy_sources


def test_field_values_match_stored_fields_after_incremental_updates(tmp_path):
    """Values read from the terms agree with each live document's stored fields, also when
    updates left deleted documents and several segments behind."""
    src = copy_sources(tmp_path / "src", SEED, FIXTURE_ARTICLES)
    index = tmp_path / "index"
    build_index([src], index)
    changed = src / "2024-05-20-xinhua-en-green-energy.txt"
    changed.write_text(changed.read_text("utf-8") + "\n\nOne more paragraph, about quokkas.\n")
    (src / "2024-01-15-mixed-bilingual.txt").unlink()
    build_index([src], index)
    opened = IndexHandle(index).open()
    evaluator, values = opened.evaluator, FieldValues(opened.evaluator)
    assert len(evaluator.segments) > 1 or not evaluator.live.all()
    for field in ("article_id", "date", "kind", "lang"):
        codes, labels = values.single(field)
        for doc in np.flatnonzero(evaluator.live).tolist():
            stored = opened.searcher.stored_fields(doc).get(field)
            assert (labels[codes[doc]] if codes[doc] >= 0 else None) == stored, (field, doc)
    body = search(index, "quokkas", group="article")
    assert [a["article_id"] for a in body["hits"]] == ["2024-05-20-xinhua-en-green-energy"]


def test_grouping_by_hand(index_dir):
    """page_articles against a straightforward grouping of the same matches."""
    opened = IndexHandle(index_dir).open()
    values = FieldValues(opened.evaluator)
    everything = (
        opened.evaluator.evaluate_all() if hasattr(opened.evaluator, "evaluate_all") else None
    )
    assert everything is None  # (no such helper: build the matches by hand below)
    ids = np.flatnonzero(opened.evaluator.live).astype(np.int64)
    rng = np.random.default_rng(7)
    found = Matches(ids, rng.random(len(ids)))
    articles, labels = values.single("article_id")
    best: dict[str, float] = {}
    count: dict[str, int] = {}
    for doc, score in zip(found.ids.tolist(), found.scores.tolist(), strict=True):
        name = labels[articles[doc]]
        best[name] = max(best.get(name, 0.0), score)
        count[name] = count.get(name, 0) + 1
    page = page_articles(values, found, "relevance", 0, 10)
    assert page.total == len(best) == 4
    shown = [labels[articles[doc]] for doc, _ in page.rows]
    expected = sorted(best, key=lambda a: -best[a] * (1 + 0.05 * np.log2(count[a])))
    assert shown == expected
    assert page.matched == [count[a] for a in shown]
    # the passages of each article are its best, best first, never its headline
    kinds, kind_labels = values.single("kind")
    for passages in page.passages:
        scores = [s for _, s in passages]
        assert scores == sorted(scores, reverse=True) and len(passages) == 3
        assert all(kind_labels[kinds[d]] != "title" for d, _ in passages)
    # paging: two pages of two articles are the first page of four
    first, second = (page_articles(values, found, "relevance", o, 2) for o in (0, 2))
    assert [r[0] for r in first.rows + second.rows] == [r[0] for r in page.rows]
    # newest first: by date, whatever the scores
    dates, date_labels = values.single("date")
    newest = page_articles(values, found, "newest", 0, 10)
    order = [date_labels[dates[d]] for d, _ in newest.rows]
    assert order == sorted(order, reverse=True)
    oldest = page_passages(opened.evaluator, values, found, "oldest", 0, 50)
    order = [date_labels[dates[d]] for d, _ in oldest.rows]
    assert order == sorted(order) and len(oldest.rows) == 50


def test_facet_units(index_dir):
    opened = IndexHandle(index_dir).open()
    values = FieldValues(opened.evaluator)
    ids = np.flatnonzero(opened.evaluator.live).astype(np.int64)
    found = Matches(ids, np.ones(len(ids)))
    by_passage = facet_counts(values, found, ("kind", "year", "nonexistent"), "passages")
    by_article = facet_counts(values, found, ("kind", "year"), "articles")
    assert "nonexistent" not in by_passage
    assert sum(by_passage["kind"].values()) == len(ids)
    assert by_article["kind"]["title"] == 4 and by_article["kind"]["paragraph"] == 4
    assert sum(by_article["year"].values()) == 4 and list(by_article["year"]) == sorted(
        by_article["year"], reverse=True
    )


def test_article_metadata_facets_and_filters(tmp_path):
    """Authors, tags, the original URL and the image come from the ingested metadata; the
    author and tag facets count articles and filter on exact values, in the API and the page."""
    from searchapp.web import create_app
    from tests.conftest import FIXTURES

    index = tmp_path / "index"
    build_index([FIXTURES / "newsroom"], index)
    body = search(index, "", group="article", per_page=20)
    assert body["total"] == 8 and body["facets_count"] == "articles"
    assert body["facets"]["authors"]["Sarah Lam"] == 2 and body["facets"]["tags"]["budget"] == 1
    budget = next(a for a in body["hits"] if a["article_id"] == "cms/2024/11/budget")
    assert budget["authors"] == ["Sarah Lam", "Li Wei"] and budget["tags"] == ["budget", "economy"]
    assert budget["source_url"] == "https://news.example.com/2024/11/budget"
    assert budget["image"] == "https://news.example.com/img/budget.jpg"
    by_author = search(index, "", group="article", author="Sarah Lam")
    assert {a["article_id"] for a in by_author["hits"]} == {
        "cms/2024/11/budget",
        "site/en/2024/07/typhoon-gaemi",
    }
    assert search(index, "", group="article", tag="電車")["total"] == 1
    assert search(index, "", group="article", author="sarah lam")["total"] == 0  # exact

    client = create_app({"INDEX_DIR": str(index), "TESTING": True, "LINKS": "local"}).test_client()
    html = client.get("/search?q=typhoon").get_data(as_text=True)
    assert "facet-authors" in html and "facet-tags" in html
    assert "/search?q=typhoon&amp;author=Sarah+Lam" in html
    filtered = client.get("/search?q=typhoon&author=Sarah+Lam").get_data(as_text=True)
    assert 'aria-label="Remove filter Author: Sarah Lam"' in filtered
    assert filtered.count('<li class="hit ') == 1
    assert 'class="hit-authors">Li Wei, Sarah Lam</span>' in filtered
    assert "<img" not in filtered  # another origin's image is not shown (the page's CSP)


# The reference the product's facet counting is checked against, written its own way (a mask
# of the whole archive, every label sorted, the FACET_LIMIT cut by slicing).
def _facets_by_mask(values, found, fields, unit):
    """The reference: every field counted over a mask of all documents, every label sorted
    (how facets were counted before per-document codes; O(archive) per query)."""
    from searchapp.scoring import FACET_LIMIT

    in_found = np.zeros(values.evaluator.doc_count, dtype=bool)
    in_found[found.ids] = True
    articles = values.single("article_id")[0] if unit == "articles" else None
    facets = {}
    for name in fields:
        if name != "year" and not values.has(name):
            continue
        field = values.years() if name == "year" else values.values(name)
        if not field.labels:
            facets[name] = {}
            continue
        keep = in_found[field.docs]
        codes = field.codes[keep]
        if articles is not None:
            pairs = np.unique(articles[field.docs[keep]] * len(field.labels) + codes)
            codes = pairs % len(field.labels)
        counts = np.bincount(codes, minlength=len(field.labels))
        if name == "year":
            order = np.arange(len(field.labels))[::-1]
        else:
            order = np.lexsort((np.arange(len(field.labels)), -counts))
        present = [i for i in order.tolist() if counts[i]]  # by count: zeros come last
        labelled = [i for i in present if field.labels[i]][:FACET_LIMIT]
        facets[name] = {field.labels[i]: int(counts[i]) for i in labelled}
    return facets


@pytest.mark.parametrize("small", [0, 256])
@pytest.mark.parametrize("few", [0, 10, 10**9])
def test_facets_from_per_document_codes_equal_the_mask_count(
    index_dir, tmp_path, few, small, monkeypatch
):
    """Facets counted over the matches only (per-document codes) equal those counted over a
    mask of the whole archive: random match sets, both units, single- and multi-valued
    fields (the newsroom fixtures have authors and tags); counted with numpy, in Python
    (few matches), and each above and below the line; fields of few values by their own
    count (``SMALL_FACET``) or the general one."""
    from searchapp import results
    from tests.conftest import FIXTURES

    monkeypatch.setattr(results, "FEW_MATCHES", few)
    monkeypatch.setattr(results, "SMALL_FACET", small)
    rng = np.random.default_rng(7)
    newsroom = tmp_path / "newsroom"
    build_index([FIXTURES / "newsroom"], newsroom)
    fields = ("kind", "section", "lang", "year", "authors", "tags")
    incomplete = set()
    for index in (index_dir, newsroom):
        opened = IndexHandle(index).open()
        values = FieldValues(opened.evaluator)
        live = np.flatnonzero(opened.evaluator.live).astype(np.int64)
        for size in (0, 1, 3, 12, 40, len(live) // 2, len(live)):
            ids = np.sort(rng.choice(live, size=min(size, len(live)), replace=False))
            found = Matches(ids, np.ones(len(ids)))
            for unit in ("passages", "articles"):
                got = facet_counts(values, found, fields, unit)
                want = _facets_by_mask(values, found, fields, unit)
                assert got == want
                assert [list(v) for v in got.values()] == [list(v) for v in want.values()]
        assert values.per_document("kind")[1] is not None
        # both ways of reading codes were counted: fields every chunk has, and others
        complete = {f for f in fields if values.complete(f)}
        incomplete.update({f for f in fields if values.per_document(f)[1] is not None} - complete)
        assert {"kind", "lang"} <= complete and not complete & {"authors", "tags"}
    assert incomplete  # some one-valued field some chunks lack: its codes were masked
    assert FieldValues(IndexHandle(newsroom).open().evaluator).per_document("tags")[1] is None


@pytest.mark.parametrize("dense", [0, 1 << 23])
def test_per_article_codes_equal_the_unique_pairs(monkeypatch, dense):
    """The codes of the distinct (article, code) pairs, as ``np.unique`` of every pair gives
    them: random matches with runs (an article's chunks, a section's), marked in an array of
    every pair or sorted."""
    from searchapp import results

    monkeypatch.setattr(results, "DENSE_PAIRS", dense)
    rng = np.random.default_rng(5)
    for n_articles, n_labels, size in [
        (1, 1, 0),
        (1, 1, 5),
        (7, 3, 40),
        (50, 6, 2000),
        (300, 900, 5000),
    ]:
        for sort in (np.sort, rng.permutation):  # in document order, or any
            articles = sort(rng.integers(0, n_articles, size)).astype(np.int32)
            codes = rng.integers(0, n_labels, size).astype(np.int32)
            codes[1::3] = codes[:-1:3][: len(codes[1::3])]  # runs of a value
            want = np.unique(articles.astype(np.int64) * n_labels + codes) % n_labels
            got = results.per_article_codes(articles, codes, n_labels, n_articles)
            assert got.tolist() == want.tolist()


def test_code_counts_sorted_or_binned_equal_a_bincount():
    """Few codes among many labels are counted by sorting them, many by binning: both give
    the present codes in order and their counts, as a bincount over every label does."""
    rng = np.random.default_rng(11)
    for n_labels in (1, 3, 40, 38_578):
        for size in (0, 1, 5, n_labels // 3, n_labels // 2, n_labels, 3 * n_labels):
            codes = rng.integers(0, n_labels, size).astype(np.int32)
            want = np.bincount(codes, minlength=n_labels)
            present, counts = code_counts(codes, n_labels)
            assert present.tolist() == np.flatnonzero(want).tolist()
            assert counts.tolist() == want[want > 0].tolist()


def testmost_frequent_is_the_head_of_the_full_sort():
    """The most frequent codes picked by partition are the first of a full (count, code)
    sort, ties (many equal counts) included."""
    rng = np.random.default_rng(5)
    for n_labels in (3, 30, 38_578):
        for size in (0, 1, 10, 200, 5_000):
            codes = rng.integers(0, n_labels, size) // 7 * 7 % n_labels
            present, counts = code_counts(codes, n_labels)
            full = np.lexsort((present, -counts))[: FACET_LIMIT + 1]
            assert most_frequent(present, counts, n_labels).tolist() == full.tolist()


def test_codes_per_document_are_as_narrow_as_their_labels_allow(tmp_path):
    """A field of a few values takes a byte a document; 300 articles need two. The narrow codes
    give the same values, grouping, date order and facets as the stored fields say."""
    from searchapp.results import code_type

    assert [code_type(["x"] * n) for n in (0, 127, 128, 32767, 32768)] == [
        np.int8,
        np.int8,
        np.int16,
        np.int16,
        np.int32,
    ]
    src = tmp_path / "src"
    src.mkdir()
    for n in range(300):
        day = f"2020-{1 + n % 12:02d}-{1 + n % 28:02d}"
        (src / f"story-{n}.md").write_text(
            f"---\ntitle: Story {n} of the quokka wire\ndate: {day}\n---\n\n"
            f"Quokkas were counted again, census number {n}.\n",
            encoding="utf-8",
        )
    index = tmp_path / "index"
    build_index([src], index)
    opened = IndexHandle(index).open()
    values = FieldValues(opened.evaluator)
    articles, labels = values.single("article_id")
    assert len(labels) == 300 and articles.dtype == np.int16
    assert values.single("kind")[0].dtype == np.int8
    stored = [opened.searcher.stored_fields(d) for d in range(opened.evaluator.doc_count)]
    assert [labels[c] for c in articles.tolist()] == [f["article_id"] for f in stored]
    body = search(index, "quokkas", group="article", sort="newest", per_page=50)
    assert body["total"] == 300
    dates = [hit["date"] for hit in body["hits"]]
    newest = sorted({f["article_id"]: f["date"] for f in stored}.values(), reverse=True)
    assert dates == newest[:50]
    years = {}
    for article in {f["article_id"]: f["date"][:4] for f in stored}.values():
        years[article] = years.get(article, 0) + 1
    assert body["facets"]["year"] == years


def test_values_from_columns_equal_values_from_terms(index_dir, tmp_path, monkeypatch):
    """Sortable fields read from their columns give the codes and labels the term walk gives:
    on the test corpus, the newsroom fixtures (sections, captions) and an index updated in
    place (several segments, deleted documents)."""
    import searchapp.results as results
    from tests.conftest import FIXTURES

    newsroom = tmp_path / "newsroom"
    build_index([FIXTURES / "newsroom"], newsroom)
    src = copy_sources(tmp_path / "src", SEED, FIXTURE_ARTICLES)
    updated = tmp_path / "updated"
    build_index([src], updated)
    (src / "2024-01-15-mixed-bilingual.txt").unlink()
    changed = src / "2024-05-20-xinhua-en-green-energy.txt"
    changed.write_text(changed.read_text("utf-8") + "\n\n## Quokkas\n\nA new section.\n")
    build_index([src], updated)
    for index in (index_dir, newsroom, updated):
        evaluator = IndexHandle(index).open().evaluator
        found = {}
        for use_columns in (True, False):
            monkeypatch.setattr(results, "USE_COLUMNS", use_columns)
            values = FieldValues(evaluator)
            found[use_columns] = {
                f: (values.single(f)[0].tolist(), values.single(f)[1])
                for f in ("kind", "section", "lang")
            }
        assert found[True] == found[False], index
        assert len(found[True]["section"][1]) > 1
    assert not IndexHandle(updated).open().evaluator.live.all()


def test_labels_behave_as_the_sorted_list_they_replace():
    """``Labels`` (one buffer and offsets) answers as the list of strings it was made from."""
    import sys

    from searchapp.results import Labels

    words = sorted({"", "title", "caption", "paragraph", "港口", "瓜达尔港", "Überblick", "a b"})
    labels = Labels(words)
    assert labels == words and list(labels) == words and len(labels) == len(words)
    assert [labels[i] for i in range(-len(words), len(words))] == words + words
    assert labels[1:3] == words[1:3]
    for word in words:
        assert word in labels and labels.index(word) == words.index(word)
    for missing in ("titles", "港", "zzz", 3):
        assert missing not in labels
    with pytest.raises(ValueError):
        labels.index("港")
    with pytest.raises(IndexError):
        labels[len(words)]
    assert not Labels([]) and Labels([]) == []
    many = [f"section {n:05d} of the manual" for n in range(5000)]
    assert Labels(many) == many
    assert sys.getsizeof(Labels(many)._data) < sum(map(sys.getsizeof, many)) / 2


def test_labels_keep_a_bounded_number_decoded(monkeypatch):
    from searchapp import results

    monkeypatch.setattr(results, "DECODED_LABELS", 3)
    words = [f"label {n}" for n in range(10)]
    labels = results.Labels(words)
    for _ in range(3):
        assert [labels[i] for i in (0, 1, 0, 9, -1, 5, 2, 7, 0)] == [
            words[i] for i in (0, 1, 0, 9, -1, 5, 2, 7, 0)
        ]
        assert len(labels._decoded) <= 3
    assert labels.index("label 7") == 7 and labels == words


def test_facets_of_many_matches_are_counted_once_per_build(index_dir, monkeypatch):
    """Another page or sort order of a search with many matches takes its facets from the
    build's facet cache: counted once, equal to counting them again, and each response's
    facets its own to change."""
    from searchapp import searching

    handle = IndexHandle(index_dir)
    requests = [
        {"q": "", "page": 1},
        {"q": "", "page": 2, "sort": "oldest"},
        {"q": "", "page": 1, "group": "article"},
        {"q": "", "page": 2, "group": "article"},
        {"q": "the railway", "page": 1},
    ]
    monkeypatch.setattr(searching, "FACET_CACHE_FROM", 10**9)
    expected = [search(IndexHandle(index_dir), **r)["facets"] for r in requests]
    monkeypatch.setattr(searching, "FACET_CACHE_FROM", 1)
    counted = []
    real = searching.facet_counts
    monkeypatch.setattr(searching, "facet_counts", lambda *a: counted.append(a[3]) or real(*a))
    got = [search(handle, **r)["facets"] for r in requests]
    assert got == expected
    assert counted == ["passages", "articles", "passages"]
    got[0]["kind"].clear()
    assert search(handle, q="", page=3)["facets"] == expected[0]
