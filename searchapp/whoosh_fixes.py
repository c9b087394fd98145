"""Fixes for bugs in whoosh-reloaded 2.7.5, applied on import (indexing and searching import
this module).

``AndNotMatcher._find_first`` only skips the excluded matcher forward when both sit on the
same document, so when the first excluded document comes *before* the first wanted one, the
wanted one is never checked: ``Gwadar -Pakistan`` counted the Gwadar caption (which says
Pakistan) in totals and facets, though scoring dropped it. ``_find_next`` already handles
that case, so the fix is to always call it. Tested in tests/test_api.py::test_exclusion.
"""

from __future__ import annotations

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3PerDocReader, _lenfield
from whoosh.matching.binary import AndNotMatcher
from whoosh.util.numeric import byte_to_length


def _find_first(self) -> None:
    if self.a.is_active() and self.b.is_active():
        self._find_next()


AndNotMatcher._find_first = _find_first


# ``W3PerDocReader._cached_reader`` caches the length column of a field but not its absence,
# so every posting of a field without lengths (the ID fields) asks the file system again
# whether the column exists (a stat() per posting while a segment is written: about 10% of a
# build). Caching the absence too changes nothing else.
def _cached_reader(self, fieldname, column):
    try:
        return self._readers[fieldname]
    except KeyError:
        pass
    reader = self.column_reader(fieldname, column) if self.has_column(fieldname) else None
    self._readers[fieldname] = reader
    return reader


W3PerDocReader._cached_reader = _cached_reader


# While a segment is written, Whoosh asks for the field length of every posting's document,
# one column read (and byte decode) per call: about 9% of a build. Reading each length column
# once into a list gives the same answers (None for zero, as the original does).
_LENGTHS_ATTR = "_searchapp_lengths"


def _doc_field_length(self, docnum, fieldname, default=0):
    if docnum > self._doccount:
        raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
    cache = self.__dict__.setdefault(_LENGTHS_ATTR, {})
    lengths = cache.get(fieldname)
    if lengths is None:
        reader = self._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if reader is None:
            lengths = default
        else:
            decoded = [byte_to_length(b) if b else None for b in range(256)]
            lengths = [decoded[b] for b in reader]
        cache[fieldname] = lengths
    if not isinstance(lengths, list):
        return lengths
    return lengths[docnum]


W3PerDocReader.doc_field_length = _doc_field_length
