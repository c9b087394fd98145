"""Fixes for bugs in whoosh-reloaded 2.7.5 that change results, applied on import.

``AndNotMatcher._find_first`` only skips the excluded matcher forward when both sit on the
same document, so when the first excluded document comes *before* the first wanted one, the
wanted one is never checked: ``Gwadar -Pakistan`` counted the Gwadar caption (which says
Pakistan) in totals and facets, though scoring dropped it. ``_find_next`` already handles
that case, so the fix is to always call it. Tested in tests/test_api.py::test_exclusion.
"""

from __future__ import annotations

from whoosh.matching.binary import AndNotMatcher


def _find_first(self) -> None:
    if self.a.is_active() and self.b.is_active():
        self._find_next()


AndNotMatcher._find_first = _find_first
