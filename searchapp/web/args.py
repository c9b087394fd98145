"""The request class of the app: query parameters looked up without an exception per miss.

Werkzeug's ``MultiDict.get`` looks a key up with ``self[key]`` and catches the
``BadRequestKeyError`` a missing key raises: making, raising and catching an HTTP exception,
about 5 us each. A search request asks for a dozen parameters it does not have (its filters,
``hl`` at every link ``url_for`` makes, the page's controls): over 0.1 ms of a request's CPU.
"""

from __future__ import annotations

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict


class QueryArgs(ImmutableMultiDict):
    """``request.args``: ``get`` answers a missing key's default without raising; otherwise
    the same as Werkzeug's (``tests/test_api.py`` compares)."""

    def get(self, key, default=None, type=None):  # noqa: A002 (Werkzeug's signature)
        if key not in self:
            return default
        return super().get(key, default, type)


class SearchRequest(Request):
    """Flask's request, with ``QueryArgs`` for its query (and form) parameters."""

    parameter_storage_class = QueryArgs
