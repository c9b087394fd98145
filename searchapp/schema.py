"""The Whoosh schema: one document per chunk.

``text`` is the chunk (stored, for snippets), ``heading`` repeats the section heading (for
``section:word`` queries), ``cjk`` holds Chinese character bigrams, ``spell`` the unstemmed
words of the whole article, on its title chunk only, for "did you mean" and autocomplete (once
per article keeps it small). Filtered fields are indexed IDs; the faceted ones (kind, section,
lang) are also sortable, so facets read their columns. Everything only shown is stored, not
indexed.

Changing anything here changes SCHEMA_VERSION, which makes the next ``index`` run rebuild.
"""

from __future__ import annotations

from whoosh.fields import ID, STORED, TEXT, Schema

from searchapp.analysis import bigram_analyzer, spelling_analyzer, text_analyzer

SCHEMA_VERSION = 8

FACET_FIELDS = ("kind", "section", "lang")


def build_schema() -> Schema:
    analyzer = text_analyzer()
    return Schema(
        # Looked up or filtered on: indexed. Faceted: sortable (a column per field).
        article_id=ID(stored=True),
        kind=ID(stored=True, sortable=True),
        section=ID(stored=True, sortable=True),
        lang=ID(stored=True, sortable=True),
        date=ID(stored=True),
        # Only shown: stored, not indexed (each indexed term costs build time).
        id=STORED(),
        position=STORED(),
        article_title=STORED(),
        source=STORED(),
        photo_date=STORED(),
        photographer=TEXT(analyzer=analyzer, stored=True, phrase=True),
        text=TEXT(analyzer=analyzer, stored=True, phrase=True),
        heading=TEXT(analyzer=analyzer, phrase=True),
        cjk=TEXT(analyzer=bigram_analyzer(), phrase=True),
        spell=TEXT(analyzer=spelling_analyzer(), phrase=False, spelling=True),
    )
