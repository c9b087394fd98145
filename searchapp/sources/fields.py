"""Article metadata from a mapping: a JSON object or Markdown front matter, one field table.

| field | also read from | becomes |
|---|---|---|
| ``id`` | | the article id (else the file's path, plus the object's number in a list) |
| ``title`` | ``headline`` | the title |
| ``url`` | ``permalink``, ``link``, ``canonical_url`` | the canonical URL (absolute http(s) only) |
| ``date`` | ``published``, ``published_at``, ``datePublished``, ``pubdate`` | ISO date |
| ``lang`` | ``language``, ``locale`` | ``en``/``zh`` (else detected from the text) |
| ``authors`` | ``author``, ``byline`` | a list (strings, ``{"name": ...}`` objects, or a, b) |
| ``tags`` | ``keywords``, ``categories`` | a list |
| ``image`` | ``cover``, ``featured_image`` | an absolute URL |
| ``summary`` | ``description``, ``excerpt`` | a first paragraph, unless the body starts with it |
| ``source`` | ``site``, ``publication`` | the source shown beside the date |
| ``html`` / ``markdown`` / ``text`` | ``body``, ``content`` (as text) | the body |

Unknown fields are ignored.
"""

from __future__ import annotations

from searchapp.sources.html import clean_url, iso_date, norm_space, normalise_lang, split_list

_ALIASES = {
    "id": ("id",),
    "title": ("title", "headline"),
    "url": ("url", "permalink", "link", "canonical_url", "canonical"),
    "date": ("date", "published", "published_at", "datePublished", "pubdate", "publishDate"),
    "lang": ("lang", "language", "locale"),
    "authors": ("authors", "author", "byline"),
    "tags": ("tags", "keywords", "categories"),
    "image": ("image", "cover", "featured_image"),
    "summary": ("summary", "description", "excerpt"),
    "source": ("source", "site", "publication"),
}


def pick(mapping: dict, name: str):
    """The first of ``name``'s aliases present (not None or empty) in ``mapping``."""
    for key in _ALIASES[name]:
        value = mapping.get(key)
        if value not in (None, "", [], {}):
            return value
    return None


def metadata(mapping: dict) -> dict:
    """Normalised metadata of a JSON object or front matter."""
    title = pick(mapping, "title")
    summary = pick(mapping, "summary")
    source = pick(mapping, "source")
    lang = pick(mapping, "lang")
    return {
        "title": norm_space(title)[:500] if isinstance(title, str) else "",
        "url": clean_url(pick(mapping, "url")),
        "date": iso_date(pick(mapping, "date")),
        "lang": normalise_lang(lang if isinstance(lang, str) else None),
        "authors": split_list(pick(mapping, "authors"), r"[;；]| and |、|,"),
        "tags": split_list(pick(mapping, "tags")),
        "image": clean_url(_image_url(pick(mapping, "image"))),
        "summary": summary.strip() if isinstance(summary, str) else "",
        "source": norm_space(source)[:200] if isinstance(source, str) else "",
    }


def _image_url(value):
    if isinstance(value, dict):
        return value.get("url") or value.get("src")
    if isinstance(value, list) and value:
        return _image_url(value[0])
    return value
