"""A field's words in sorted arrays beside the build: prefix ranges by binary search.

Autocomplete, spelling corrections, fuzzy terms and prefix queries walk the index's words
in order. Whoosh walks them through a chain of generators merging each segment's term index,
about 15 us a word: at 150,000 chunks a one-letter autocomplete took ~50 ms (it ranked 2,000
words by document frequency, another lookup each) and correcting a typo 30-85 ms (every word
sharing its first letter). Here the build writes, once, each searched field's words with
their document frequency and length, and a range of words costs two binary searches.

The words are Whoosh's own (every segment's, with terms whose documents were all deleted by
an incremental update, as Whoosh lists them until segments merge), in its order (bytes), and
the frequencies its ``doc_frequency`` (summed over segments), so each caller gives the same
answers as walking the reader (``tests/test_vocabulary.py`` compares). A build without the
files (made before them) is walked the old way: ``of`` returns None.

File ``vocabulary-<field>.bin`` in the build folder (little-endian)::

    magic "SAVOCv01" | word count n | blob bytes
    offsets      uint32[n + 1]   each word's start in the blob
    frequencies  uint32[n]       documents holding the word (deleted ones too, as Whoosh)
    lengths      uint16[n]       characters in the word (for edit-distance bounds)
    blob         the words, UTF-8, one after another
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from searchapp.whoosh_compat import field_frequencies

log = logging.getLogger(__name__)

#: The fields whose words are walked by prefix: ``spell`` (autocomplete, "did you mean"),
#: ``text`` (prefix queries, fuzzy terms) and ``cjk`` (a lone Chinese character: the bigrams
#: it starts).
VOCABULARY_FIELDS = ("spell", "text", "cjk")
_MAGIC = b"SAVOCv01"
_HEADER = 8 + 2 * 8
_ATTR = "_searchapp_vocabularies"
#: UTF-8 never has this byte: ``prefix + _AFTER`` sorts after every word starting with prefix.
_AFTER = b"\xff"


def file_name(fieldname: str) -> str:
    return f"vocabulary-{fieldname}.bin"


class VocabularyError(ValueError):
    """A vocabulary file this code cannot read."""


class Vocabulary:
    """One field's words, sorted as bytes, with their document frequency and length."""

    def __init__(
        self, blob: bytes, offsets: np.ndarray, frequencies: np.ndarray, lengths, base: int = 0
    ):
        self.blob = blob  # the words from ``base`` on (a file's bytes are kept whole, not copied)
        self.base = base
        self.offsets = offsets
        self.frequencies = frequencies
        self.lengths = lengths

    def __len__(self) -> int:
        return len(self.frequencies)

    # -- making and storing -------------------------------------------------------------

    @classmethod
    def from_reader(cls, reader, fieldname: str) -> Vocabulary:
        """The words of ``fieldname`` in every segment of ``reader``, frequencies summed."""
        parts = [field_frequencies(leaf, fieldname) for leaf, _offset in reader.leaf_readers()]
        parts = [(words, frequencies) for words, frequencies in parts if words]
        if len(parts) == 1:
            return cls.from_words(*parts[0])
        found: dict[bytes, int] = {}
        for words, frequencies in parts:
            for word, frequency in zip(words, frequencies.tolist(), strict=True):
                found[word] = found.get(word, 0) + frequency
        merged = sorted(found.items())
        return cls.from_words([w for w, _f in merged], [f for _w, f in merged])

    @classmethod
    def from_words(cls, words: list[bytes], frequencies) -> Vocabulary:
        """From words sorted as bytes and their frequencies."""
        offsets = np.zeros(len(words) + 1, dtype=np.int64)
        np.cumsum([len(w) for w in words], out=offsets[1:])
        blob = b"".join(words)
        # characters: the bytes that do not continue a UTF-8 sequence (0b10xxxxxx)
        starts = np.zeros(len(blob) + 1, dtype=np.int64)
        np.cumsum((np.frombuffer(blob, dtype=np.uint8) & 0xC0) != 0x80, out=starts[1:])
        lengths = starts[offsets[1:]] - starts[offsets[:-1]]
        return cls(blob, offsets, np.asarray(frequencies, dtype=np.int64), lengths)

    def write(self, path: Path) -> None:
        """Write to ``path`` through a new file: an incremental build's folder starts with hard
        links to the previous build's files, which must not change under its readers."""
        if self.base:
            raise VocabularyError("only a vocabulary made from words is written")
        if len(self.blob) >= 2**32 or (len(self) and int(self.frequencies.max()) >= 2**32):
            raise VocabularyError("vocabulary too large for its file format")
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as out:
            out.write(_MAGIC + np.array([len(self), len(self.blob)], dtype="<i8").tobytes())
            out.write(self.offsets.astype("<u4").tobytes())
            out.write(self.frequencies.astype("<u4").tobytes())
            out.write(np.minimum(self.lengths, 2**16 - 1).astype("<u2").tobytes())
            out.write(self.blob)
        os.replace(tmp, path)

    @classmethod
    def read(cls, path: Path) -> Vocabulary:
        """The vocabulary in ``path``; VocabularyError when it is not one (or cut short)."""
        data = path.read_bytes()
        if data[:8] != _MAGIC or len(data) < _HEADER:
            raise VocabularyError(f"{path.name}: not a vocabulary file")
        count, blob_size = (int(n) for n in np.frombuffer(data, "<i8", 2, 8))
        need = _HEADER + 4 * (count + 1) + 4 * count + 2 * count + blob_size
        if count < 0 or blob_size < 0 or len(data) != need:
            raise VocabularyError(f"{path.name}: {len(data)} bytes, expected {need}")
        at = _HEADER  # the arrays are views of the file's bytes: nothing is copied
        offsets = np.frombuffer(data, "<u4", count + 1, at)
        at += 4 * (count + 1)
        frequencies = np.frombuffer(data, "<u4", count, at)
        at += 4 * count
        lengths = np.frombuffer(data, "<u2", count, at)
        at += 2 * count
        if count and (
            offsets[0] != 0 or offsets[-1] != blob_size or np.any(offsets[1:] < offsets[:-1])
        ):
            raise VocabularyError(f"{path.name}: word offsets out of order")
        return cls(data, offsets, frequencies, lengths, base=at)

    # -- reading ------------------------------------------------------------------------

    def word(self, i: int) -> bytes:
        offset, base = self.offsets.item, self.base
        return self.blob[base + offset(i) : base + offset(i + 1)]

    def words(self, lo: int, hi: int) -> list[bytes]:
        """Words ``lo`` to ``hi`` (past the last), in order."""
        starts, blob, base = self.offsets[lo : hi + 1].tolist(), self.blob, self.base
        return [blob[base + a : base + b] for a, b in zip(starts, starts[1:], strict=False)]

    def word_lengths(self, lo: int, hi: int) -> np.ndarray:
        """The characters in words ``lo`` to ``hi``."""
        return self.lengths[lo:hi].astype(np.int64)

    def _bisect(self, key: bytes) -> int:
        """The first word not before ``key``."""
        lo, hi = 0, len(self)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.word(mid) < key:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def prefix_range(self, prefix: bytes) -> tuple[int, int]:
        """(first, past-last) index of the words starting with ``prefix``."""
        lo = self._bisect(prefix)
        return lo, self._bisect(prefix + _AFTER) if prefix else len(self)

    def frequency(self, word: bytes) -> int:
        """The document frequency of ``word`` (0: not in the vocabulary)."""
        i = self._bisect(word)
        return int(self.frequencies[i]) if i < len(self) and self.word(i) == word else 0

    def frequencies_of(self, words: list[bytes]) -> list[int]:
        """``frequency`` of each of ``words``. Words close together in the vocabulary (a
        prefix's expansions) are looked up in one slice of it: two binary searches in all,
        not one a word (600 expansions: ~1.8 ms -> ~0.1 ms)."""
        if not words:
            return []
        lo, hi = self._bisect(min(words)), self._bisect(max(words) + b"\0")
        if hi - lo > 4 * len(words) + 64:  # spread out (fuzzy terms): one search a word
            return [self.frequency(word) for word in words]
        known = dict(zip(self.words(lo, hi), self.frequencies[lo:hi].tolist(), strict=True))
        return [known.get(word, 0) for word in words]

    def by_frequency(self, lo: int, hi: int, limit: int | None = None) -> list[int]:
        """Indexes of words ``lo`` to ``hi``, most frequent first (equal ones in word order,
        as a stable sort of the words by frequency gives them), at most ``limit``."""
        order = np.argsort(-self.frequencies[lo:hi].astype(np.int64), kind="stable")
        if limit is not None:
            order = order[:limit]
        return (order + lo).tolist()


def write_vocabularies(build: Path, reader) -> None:
    """Write the vocabulary files of ``VOCABULARY_FIELDS`` for the index ``reader`` reads."""
    for fieldname in VOCABULARY_FIELDS:
        if fieldname in reader.schema:
            Vocabulary.from_reader(reader, fieldname).write(build / file_name(fieldname))


def attach(reader, build: Path) -> None:
    """Read the build's vocabulary files and keep them on its ``reader`` (for ``of``). A
    missing or unreadable file leaves that field to be walked the old way."""
    found: dict[str, Vocabulary] = {}
    for fieldname in VOCABULARY_FIELDS:
        path = build / file_name(fieldname)
        try:
            found[fieldname] = Vocabulary.read(path)
        except FileNotFoundError:
            continue
        except (OSError, VocabularyError) as exc:
            log.warning("vocabulary of %s not used: %s", fieldname, exc)
    reader.__dict__[_ATTR] = found


def of(reader, fieldname: str) -> Vocabulary | None:
    """The vocabulary of ``fieldname`` kept on ``reader`` (None: walk the reader)."""
    if not USE_VOCABULARY:
        return None
    return getattr(reader, "__dict__", {}).get(_ATTR, {}).get(fieldname)


#: Ranges of words come from the vocabulary files (False: from Whoosh's reader, the
#: reference tests/test_vocabulary.py compares with).
USE_VOCABULARY = True
