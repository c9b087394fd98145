"""The one exception every reader raises for a file it cannot index (kept apart to avoid cycles)."""


class UnreadableArticle(ValueError):
    """A file that cannot be indexed at all (not text, undecodable, too large, vanished)."""
