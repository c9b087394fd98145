"""The Whoosh schema: one document per chunk.

``text`` is the chunk (stored, for snippets), ``heading`` repeats the section heading (for
``section:word`` queries), ``cjk`` holds Chinese character bigrams, ``spell`` the unstemmed
words of the whole article, on its title chunk only, for "did you mean" and autocomplete (once
per article keeps it small). ``authors`` and ``tags`` are comma-separated keyword lists on
every chunk, so results can be filtered and faceted by them; ``url`` is the article's canonical
URL (stored on every chunk, so a hit can link to the original). Filtered fields are indexed
IDs; the faceted ones (kind, section, lang) are also sortable, so facets read their columns.
Everything only shown is stored, not indexed.

Changing anything here changes SCHEMA_VERSION, which makes the next ``index`` run rebuild.
"""

from __future__ import annotations

from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema

from searchapp.analysis import bigram_analyzer, spelling_analyzer, text_analyzer

SCHEMA_VERSION = 9


def build_schema() -> Schema:
    analyzer = text_analyzer()
    return Schema(
        # Looked up or filtered on: indexed. Faceted: sortable (a column per field).
        article_id=ID(stored=True),
        kind=ID(stored=True, sortable=True),
        section=ID(stored=True, sortable=True),
        lang=ID(stored=True, sortable=True),
        date=ID(stored=True),
        # Article metadata on every chunk: filtered and faceted on (comma-separated lists).
        authors=KEYWORD(stored=True, commas=True, lowercase=False, scorable=False),
        tags=KEYWORD(stored=True, commas=True, lowercase=False, scorable=False),
        # Only shown: stored, not indexed (each indexed term costs build time).
        id=STORED(),
        position=STORED(),
        article_title=STORED(),
        source=STORED(),
        photo_date=STORED(),
        url=STORED(),  # the article's canonical URL (every chunk: hits link to it)
        image=STORED(),  # title chunk only
        article_lang=STORED(),  # title chunk only
        photographer=TEXT(analyzer=analyzer, stored=True, phrase=True),
        text=TEXT(analyzer=analyzer, stored=True, phrase=True),
        heading=TEXT(analyzer=analyzer, phrase=True),
        cjk=TEXT(analyzer=bigram_analyzer(), phrase=True),
        spell=TEXT(analyzer=spelling_analyzer(), phrase=False, spelling=True),
    )
