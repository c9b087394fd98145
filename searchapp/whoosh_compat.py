"""The one module that touches Whoosh's private names, for the releases it was checked against.

searchapp reads posting blocks and length columns straight from whoosh-reloaded 2.7's
internals (numpy scoring), joins segments written by separate processes (parallel builds),
bounds query expansions, and patches two per-posting hot spots of the writer. None of these
names is an API: another release may rename them, and a quiet fallback would change scores with
no error (every field length 0). So the installed version is checked at import, the names are
checked to exist, and every accessor raises ``WhooshIncompatible`` rather than degrade.
"""

from __future__ import annotations

import bisect
import io
import itertools
import logging
import mmap
import os
import pickle
import re
import struct
import weakref
import zlib
from array import array
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

import numpy as np
from whoosh import formats, query
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    STORED_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3FieldWriter,
    W3LeafMatcher,
    W3PerDocReader,
    W3PerDocWriter,
    W3PostingsWriter,
    W3TermInfo,
    _lenfield,
)
from whoosh.columns import CompressedBytesColumn, NumericColumn, PickleColumn, VarBytesColumn
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import OrderedHashReader, md5_hash
from whoosh.filedb.structfile import BufferFile
from whoosh.index import TOC, FileIndex
from whoosh.matching import ListMatcher
from whoosh.query.terms import MultiTerm
from whoosh.reading import ReaderClosed, SegmentReader, TermNotFound
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from searchapp import budget
from searchapp.positions import POSITIONS_EXT, PositionArrays, PositionsWriter, positions_in
from searchapp.pread import pread_exact
from searchapp.term_directory import (
    DIRECTORY_EXT,
    DirectoryFormatError,
    TermDirectory,
    TermDirectoryWriter,
)

log = logging.getLogger(__name__)

#: whoosh-reloaded releases whose internals this module was checked against: [low, high).
SUPPORTED = ((2, 7, 5), (2, 8))
DISTRIBUTION = "whoosh-reloaded"


class WhooshIncompatible(RuntimeError):
    """The installed Whoosh is not one whose private names searchapp knows."""


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version.split("+")[0])[:3])


def check_version(version: str | None = None) -> str:
    """The installed whoosh-reloaded version; raises ``WhooshIncompatible`` outside SUPPORTED."""
    if version is None:
        try:
            version = metadata.version(DISTRIBUTION)
        except metadata.PackageNotFoundError:
            raise WhooshIncompatible(
                f"{DISTRIBUTION} is not installed (another Whoosh fork is?): "
                f"pip install '{DISTRIBUTION}>=2.7.5,<2.8'"
            ) from None
    low, high = SUPPORTED
    if not low <= _version_tuple(version) < high:
        raise WhooshIncompatible(
            f"searchapp uses private parts of {DISTRIBUTION} checked on >=2.7.5,<2.8; "
            f"{version} is installed: pip install '{DISTRIBUTION}>=2.7.5,<2.8'"
        )
    return version


_REQUIRED = [
    (W3LeafMatcher, ("_read_ids", "_read_weights", "_read_values", "_next_block")),
    (W3PerDocReader, ("_cached_reader", "doc_field_length", "stored_fields")),
    (W3PerDocWriter, ("finish_doc", "add_column_value")),
    (FileIndex, ("_segments",)),
    (MultiTerm, ("_btexts",)),
    (query.Wildcard, ("_find_prefix",)),
    (BufferFile, ("get", "subset", "get_array")),
    (W3FieldWriter, ("add_postings", "start_field", "start_term", "finish_term", "finish_field")),
    (W3PostingsWriter, ("_write_block", "_new_block", "finish_postings")),
    (W3TermInfo, ("_struct", "to_bytes")),
    (SegmentWriter, ("_check_state", "_doc_boost", "_field_boost", "_check_fields")),
    (SegmentReader, ("stored_fields",)),
]


def _check_names() -> None:
    missing = [
        f"{cls.__name__}.{n}" for cls, names in _REQUIRED for n in names if not hasattr(cls, n)
    ]
    if missing:
        raise WhooshIncompatible(f"{DISTRIBUTION} lacks {', '.join(missing)}")


# -- query expansion -----------------------------------------------------------------------


class LimitedExpansion:
    """Mixin for Whoosh's prefix, wildcard and fuzzy queries: expansions worked out once per
    reader and passed through ``limit_expansions`` (which subclasses define).

    Within one search (``budget.memo()``), equal queries share their expansion: the strict,
    corrected and relaxed passes parse the query again, and a fuzzy term's scan of the
    vocabulary (``candidate_terms``) is the costly part.
    """

    def prepare_expansion(self) -> None:
        """Called before expanding: clamp the query's own settings here."""

    def limit_expansions(self, reader, btexts: Iterable[bytes]) -> list[bytes]:
        raise NotImplementedError

    def candidate_terms(self, ixreader) -> Iterable[bytes | str]:
        """The terms to limit: Whoosh's own expansion unless a subclass scans differently."""
        return super()._btexts(ixreader)

    def _btexts(self, ixreader):
        cached = getattr(self, "_limited_expansions", None)
        if cached is None or cached[0] is not ixreader:
            self.prepare_expansion()
            memo = budget.memo()
            key = (
                "expansion",
                id(ixreader),
                type(self).__name__,
                self.fieldname,
                self.text,
                getattr(self, "maxdist", None),
                getattr(self, "prefixlength", None),
            )
            terms = memo.get(key) if memo is not None else None
            if terms is None:
                terms = self.limit_expansions(ixreader, self.candidate_terms(ixreader))
                if memo is not None:
                    memo[key] = terms
            cached = (ixreader, terms)
            self._limited_expansions = cached
        return cached[1]


def expansions(q: MultiTerm, reader) -> list[bytes]:
    """The index terms a prefix, wildcard or fuzzy query stands for."""
    return list(q._btexts(reader))


def is_null_query(q) -> bool:
    """True for Whoosh's ``NullQuery`` (a query that matches nothing)."""
    return isinstance(q, query.qcore._NullQuery)


def wildcard_has_literal_prefix(fieldname: str, text: str) -> bool:
    """True when a wildcard starts with literal characters (so it scans part of the terms)."""
    return bool(query.Wildcard(fieldname, text)._find_prefix(text))


#: Small random reads (a term's entry in the term index, a hit's stored fields, a common
#: term's impacts) by ``os.pread`` rather than through the memory map (see ``pread_source``;
#: False: through the map, the reference the tests compare with).
USE_PREAD = hasattr(os, "pread")


def pread_source(storage, segment, name: str) -> tuple[int, int] | None:
    """(file descriptor, offset) of the sub-file ``name`` of ``segment``'s compound file, to
    read it with ``os.pread``; None when it is not a memory-mapped compound file in a folder.

    Why not the memory map: a page read through the map is mapped into the worker, counts in
    its memory (PSS) and is dropped again every ``handle.RELEASE_EVERY`` reads, and mapping it
    again is a page fault that maps 16 pages around it. A search's small reads at random
    places (term index probes, a hit's stored fields, a common term's postings) faulted ~22
    times a request at 150,000 chunks, ~10 us each with the release; ``os.pread`` copies the
    bytes from the page cache instead (~1 us) and maps nothing.

    The file is opened once per segment storage and closed when that storage is collected (as
    its memory map is, with the reader that holds it)."""
    compound = getattr(storage, "a", storage)
    folder = getattr(getattr(storage, "b", None), "folder", None)
    entry = getattr(compound, "_dir", {}).get(name)
    if getattr(compound, "_source", None) is None or entry is None or folder is None:
        return None
    opened = compound.__dict__.get(_SEGMENT_FILE)
    if opened is None:
        try:
            opened = open(os.path.join(folder, segment.make_filename(".seg")), "rb", buffering=0)
        except OSError:
            return None
        compound.__dict__[_SEGMENT_FILE] = opened
        weakref.finalize(compound, opened.close)
    return opened.fileno(), entry["offset"]


_SEGMENT_FILE = "_searchapp_segment_file"


# -- reading postings and lengths ----------------------------------------------------------


def read_postings(matcher, ids_dtype, weights_dtype) -> tuple[np.ndarray, np.ndarray]:
    """(ids, weights) of a whole posting list, decoded a block at a time.

    A term in one document has its posting inlined in the term info (a ``ListMatcher``):
    walked one posting at a time, which for one posting is as fast.
    """
    if isinstance(matcher, ListMatcher):
        ids, weights = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        return np.array(ids, dtype=ids_dtype), np.array(weights, dtype=weights_dtype)
    if not isinstance(matcher, W3LeafMatcher):
        raise WhooshIncompatible(f"unexpected posting matcher {type(matcher).__name__}")
    id_parts: list[np.ndarray] = []
    weight_parts: list[np.ndarray] = []
    while matcher.is_active():
        budget.check()  # a long posting list is where a query's time goes
        if matcher._ids is None:
            matcher._read_ids()
        if matcher._weights is None:
            matcher._read_weights()
        start = matcher._i
        id_parts.append(np.asarray(matcher._ids[start:], dtype=ids_dtype))
        weight_parts.append(np.asarray(matcher._weights[start:], dtype=weights_dtype))
        matcher._i = matcher._blocklength
        matcher._next_block()
    if not id_parts:
        return np.empty(0, ids_dtype), np.empty(0, weights_dtype)
    return np.concatenate(id_parts), np.concatenate(weight_parts)


#: ``term_postings`` and ``term_positions`` look the term up themselves.
_LOOK_UP = object()


def term_postings(
    segment_reader,
    fieldname: str,
    btext: bytes,
    impacts: Impacts | None,
    ids_dtype,
    weights_dtype,
    info=_LOOK_UP,
) -> tuple[int, np.ndarray, np.ndarray] | None:
    """(document frequency, ids, weights) of a term in one segment (None: not there), from its
    impacts when it has them, else decoded from Whoosh's blocks. One term-index lookup (or
    none, given the term's ``term_info``): the reader's ``postings`` and ``doc_frequency``
    would look the term up again each."""
    if info is _LOOK_UP:
        info = term_info(segment_reader, fieldname, btext)
    if info is None:
        return None
    found = impacts.postings(info, ids_dtype, weights_dtype) if impacts is not None else None
    if found is None and not info.is_inlined():
        source = _postings_source(segment_reader)
        if source is not None:
            found = _pread_postings(source, info, ids_dtype, weights_dtype)
    if found is None:
        matcher = _leaf_matcher(segment_reader, fieldname, btext, info)
        found = read_postings(matcher, ids_dtype, weights_dtype)
    return info.doc_frequency(), found[0], found[1]


_POSTINGS_SOURCE = "_searchapp_postings_source"
_BLOCK_LENGTH = struct.Struct("!i")


def _postings_source(segment_reader) -> tuple[int, int] | None:
    """Where the segment's postings file lies, for ``os.pread`` (None: read the usual way)."""
    terms = segment_reader._terms
    name = getattr(getattr(terms, "_postfile", None), "_name", None)
    if type(terms._codec).__name__ != "W3Codec":
        name = None
    return _reader_source(segment_reader, _POSTINGS_SOURCE, name)


def _reader_source(segment_reader, attr: str, name: str | None) -> tuple[int, int] | None:
    """``pread_source`` of a segment's sub-file ``name``, worked out once per reader (kept in
    its ``attr``); None without a name or ``USE_PREAD``."""
    source = segment_reader.__dict__.get(attr, _UNKNOWN_LAYOUT)
    if source is _UNKNOWN_LAYOUT:
        source = None
        if USE_PREAD and name:
            source = pread_source(segment_reader._storage, segment_reader.segment(), name)
        segment_reader.__dict__[attr] = source
    return source


def _pread_postings(source, info, ids_dtype, weights_dtype):
    """(ids, weights) of a term's posting list read in one ``os.pread`` and decoded block by
    block as ``W3LeafMatcher`` decodes it (a block: its length, a pickled info tuple, the
    pickled and maybe zlib-compressed data: delta-coded ids, weights, values). The matcher
    takes a dozen calls and seeks per block, and maps the postings' pages (see
    ``pread_source``). None when the bytes are not what it expects (read the usual way)."""
    fd, base = source
    offset, length = info.extent()
    if isinstance(length, tuple):  # W3TermInfo.from_bytes keeps struct.unpack's tuple
        length = length[0]
    data = os.pread(fd, length, base + offset)
    if data[:4] != WHOOSH3_HEADER_MAGIC:
        return None
    stream = io.BytesIO(data)
    position = 4
    id_parts: list[np.ndarray] = []
    weight_parts: list[np.ndarray] = []
    while True:
        budget.check()  # a long posting list is where a query's time goes
        (size,) = _BLOCK_LENGTH.unpack_from(data, position)
        last, size = size < 0, abs(size)
        following = position + _BLOCK_LENGTH.size + size
        stream.seek(position + _BLOCK_LENGTH.size)
        count, _maxid, _maxweight, compressed, _minlength, _maxlength = pickle.load(stream)
        block = data[stream.tell() : following]
        fields = pickle.loads(zlib.decompress(block) if compressed else block)
        id_parts.append(np.asarray(fields[0], dtype=ids_dtype).cumsum(dtype=ids_dtype))
        weights = fields[1]
        if weights is None or isinstance(weights, float):
            weight_parts.append(np.full(count, 1.0 if weights is None else weights, weights_dtype))
        else:
            weight_parts.append(np.asarray(weights, dtype=weights_dtype))
        if last or following >= len(data):
            break
        position = following
    if len(id_parts) == 1:
        return id_parts[0], weight_parts[0]
    return np.concatenate(id_parts), np.concatenate(weight_parts)


def term_info(segment_reader, fieldname: str, btext: bytes):
    """The term's ``TermInfo`` in one segment, or None when the segment lacks it."""
    if USE_DIRECT_LOOKUP:
        found = _direct_term_info(segment_reader, fieldname, btext)
        if found is not _UNKNOWN_LAYOUT:
            return found
    try:
        return segment_reader.term_info(fieldname, btext)
    except TermNotFound:
        return None


#: Terms are looked up in the term index's hash table read in place (False: through
#: Whoosh's reader, the reference tests/test_whoosh_compat.py compares with).
USE_DIRECT_LOOKUP = True
_UNKNOWN_LAYOUT = object()
_SLOT = struct.Struct("!Iq")  # a hash table slot: the key's hash, where the key is
_LENGTHS = struct.Struct("!ii")  # before a key: its length and its value's


def _direct_term_info(segment_reader, fieldname: str, btext: bytes):
    """``segment_reader.term_info``, probing the term index's hash table with
    ``struct.unpack_from`` on the segment's buffer: Whoosh's ``HashReader`` goes through four
    generators and copies each slot and key into new bytes (6.5 -> 2.5 us a lookup; a query
    looks up each word in two fields of each segment). ``_UNKNOWN_LAYOUT`` for a term index
    this does not know (not in a buffer, another hash), left to Whoosh."""
    try:
        terms = segment_reader._terms
        tindex = terms._tindex
        buf = tindex.dbfile._buf
        fieldnum = terms._fieldmap.get(fieldname, 65535)
    except AttributeError:
        return _UNKNOWN_LAYOUT
    if tindex.hashfn is not md5_hash or type(tindex) is not OrderedHashReader:
        return _UNKNOWN_LAYOUT
    if segment_reader.is_closed:
        raise ReaderClosed
    key = pack_ushort(fieldnum) + btext
    keyhash = md5_hash(key)
    tablestart, numslots = tindex.tables[keyhash & 255]
    if not numslots:
        return None
    source = _reader_source(segment_reader, _TERMS_SOURCE, getattr(tindex.dbfile, "_name", None))
    if source is not None:
        fd, base = source

        def read(position: int, size: int):
            return os.pread(fd, size, base + position)

    else:

        def read(position: int, size: int):
            return buf[position : position + size]

    return _probe_term_info(read, tablestart, numslots, keyhash, key)


_TERMS_SOURCE = "_searchapp_terms_source"
_IMPACTS_SOURCE = "_searchapp_impacts_source"
#: Bytes read past a key on the chance that its term info fits (most do: one read per probe).
_INFO_GUESS = 64


def _probe_term_info(read, tablestart: int, numslots: int, keyhash: int, key: bytes):
    """``_direct_term_info``'s probe of one hash table, ``read(position, size)`` giving the
    term index's bytes (``os.pread``, see ``USE_PREAD``, or slices of its memory map)."""
    tableend = tablestart + numslots * _SLOT.size
    slotpos = tablestart + ((keyhash >> 8) % numslots) * _SLOT.size
    for _ in range(numslots):
        slothash, itempos = _SLOT.unpack(read(slotpos, _SLOT.size))
        if not itempos:
            return None
        if slothash == keyhash:
            item = read(itempos, _LENGTHS.size + len(key) + _INFO_GUESS)
            keylen, datalen = _LENGTHS.unpack_from(item, 0)
            keystart = _LENGTHS.size
            if keylen == len(key) and item[keystart : keystart + keylen] == key:
                datastart = keystart + keylen
                data = item[datastart : datastart + datalen]
                if len(data) < datalen:
                    data = read(itempos + datastart, datalen)
                return W3TermInfo.from_bytes(bytes(data))
        slotpos += _SLOT.size
        if slotpos == tableend:
            slotpos = tablestart
    return None


def field_frequencies(segment_reader, fieldname: str) -> tuple[list[bytes], np.ndarray]:
    """Each term of ``fieldname`` in one segment, in order, and its document frequency: what
    ``segment_reader.iter_field(fieldname)`` gives (terms and ``doc_frequency()``), read from
    the term index in place instead of decoding a ``TermInfo`` per term through four
    generators (64,000 terms: 0.35 s).

    The term index keeps an array of its records' positions in key order; a record is the
    key's and the value's lengths, the key (the field's number, then the term), the value (a
    term info whose third value is the frequency). The field's records are found in that array
    by their keys' first two bytes, and lengths and frequencies gathered with numpy; only the
    terms are sliced one by one. Whoosh's walk for a term index laid out otherwise."""
    try:
        terms = segment_reader._terms
        tindex = terms._tindex
        buf = tindex.dbfile._buf
        fieldnum = terms._fieldmap[fieldname]
        index_type = _POSITION_TYPES[tindex.extras["indextype"]]
        base, count = tindex.indexbase, tindex.indexlen
    except (AttributeError, KeyError, TypeError):
        buf = None
    if buf is None or type(tindex) is not OrderedHashReader or not USE_DIRECT_LOOKUP:
        if fieldname not in segment_reader.indexed_field_names():
            return [], np.empty(0, dtype=np.int64)
        found = [(t, i.doc_frequency()) for t, i in segment_reader.iter_field(fieldname)]
        return [t for t, _f in found], np.array([f for _t, f in found], dtype=np.int64)
    raw = np.frombuffer(buf, dtype=np.uint8)
    positions = np.frombuffer(buf, dtype=index_type, count=count, offset=base).astype(np.int64)
    fields = _big_endian(raw, positions + _LENGTHS.size, 2)  # keys start with the field number
    lo, hi = fields.searchsorted([fieldnum, fieldnum + 1])
    positions = positions[lo:hi]
    if not len(positions):
        return [], np.empty(0, dtype=np.int64)
    key_ends = positions + _LENGTHS.size + _big_endian(raw, positions, 4)
    frequencies = _big_endian(raw, key_ends + _FREQUENCY_AT, 4)
    first = int(positions[0])
    region = bytes(buf[first : int(key_ends[-1])])  # the field's records are consecutive
    starts = (positions + (_LENGTHS.size + 2 - first)).tolist()
    words = [region[a:b] for a, b in zip(starts, (key_ends - first).tolist(), strict=True)]
    return words, frequencies


def _big_endian(raw: np.ndarray, at: np.ndarray, size: int) -> np.ndarray:
    """The unsigned big-endian integers of ``size`` bytes at each of ``at`` in ``raw``."""
    value = np.zeros(len(at), dtype=np.int64)
    for i in range(size):
        value = (value << 8) | raw[at + i]
    return value


#: The term index's position array types (``OrderedHashWriter``'s ``indextype``), big-endian.
_POSITION_TYPES = {"B": ">u1", "H": ">u2", "i": ">i4", "I": ">u4", "q": ">i8"}
#: Where a term info's document frequency is: after its flags byte and its float weight.
_FREQUENCY_AT = 5


def _leaf_matcher(segment_reader, fieldname: str, btext: bytes, info):
    terms = segment_reader._terms
    fmt = segment_reader.schema[fieldname].format
    return terms._codec.postings_reader(
        terms._postfile, info, fmt, term=(fieldname, btext), scorer=None
    )


def read_positions(matcher, wanted: list[int], fmt) -> dict[int, list[int]]:
    """The positions of a term in each of ``wanted`` (sorted document numbers of one segment)
    that holds it, decoding only the blocks that hold one of them (a phrase's candidates are
    usually few: most blocks of a common word are skipped by their last id, undecoded)."""
    found: dict[int, list[int]] = {}
    if not wanted:
        return found
    wanted_set = set(wanted)
    if isinstance(matcher, ListMatcher):
        while matcher.is_active():
            if matcher.id() in wanted_set:
                found[matcher.id()] = fmt.decode_positions(matcher.value())
            matcher.next()
        return found
    if not isinstance(matcher, W3LeafMatcher):
        raise WhooshIncompatible(f"unexpected posting matcher {type(matcher).__name__}")
    decode = fmt.decode_positions
    low = 0  # every id of the current block is at least this
    while matcher.is_active():
        high = matcher._maxid
        i = bisect.bisect_left(wanted, low)
        if i == len(wanted):
            break
        if wanted[i] <= high:
            budget.check()
            if matcher._ids is None:
                matcher._read_ids()
            if matcher._values is None:
                matcher._read_values()
            values = matcher._values
            for j, doc in enumerate(matcher._ids):
                if doc in wanted_set:
                    found[doc] = decode(values[j])
        low = high + 1
        matcher._i = matcher._blocklength
        matcher._next_block()
    return found


def length_column(segment_reader, fieldname: str):
    """The column of one-byte field lengths of a segment, or None for a field without lengths."""
    try:
        perdoc = segment_reader._perdoc
    except AttributeError:
        raise WhooshIncompatible(
            f"{type(segment_reader).__name__} has no per-document reader"
        ) from None
    return perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)


def length_bytes(segment_reader, fieldname: str) -> np.ndarray:
    """Each document's length byte of ``fieldname`` in one segment (0: none), as an array.

    Whoosh's length column is one byte a document from its start (documents past its end have
    none): read in one slice, not one ``__getitem__`` a document (0.5 s at 500,000 chunks, for
    each of three fields, in every worker's first search after each build).
    """
    count = segment_reader.doc_count_all()
    column = length_column(segment_reader, fieldname)
    if column is None:
        return np.zeros(count, dtype=np.uint8)
    if not (isinstance(column, NumericColumn.Reader) and column._typecode == "B"):
        return np.fromiter(column, dtype=np.uint8, count=count)
    found = np.zeros(count, dtype=np.uint8)
    stored = min(column._count, count)
    raw = column._dbfile.get(column._basepos, stored)
    found[:stored] = np.frombuffer(raw, dtype=np.uint8, count=stored)
    return found


def column_bytes(segment_reader, fieldname: str) -> list[bytes] | None:
    """Each document's value in ``fieldname``'s column in one segment (b"": none), sliced from
    the column's data in one read; None when the field has no variable-bytes column.

    The faceted fields (kind, section, language) are sortable, so they have one: reading it
    beats walking their terms when values are many and scattered (82,000 sections at 500,000
    chunks: 4.8 s through the posting lists, in every worker's first search after a build).
    """
    if not segment_reader.has_column(fieldname):
        return None
    column = segment_reader.column_reader(fieldname, translate=False)
    if not isinstance(column, VarBytesColumn.Reader):
        return None
    count = segment_reader.doc_count_all()
    lengths = np.frombuffer(column._lengths, dtype=np.dtype(column._lengths.typecode))[:count]
    offsets = np.frombuffer(column._offsets, dtype=np.dtype(column._offsets.typecode))[:count]
    if not len(lengths):
        return [b""] * count
    data = column._dbfile.get(column._basepos, int((offsets + lengths).max()))
    values = [data[o : o + n] for o, n in zip(offsets.tolist(), lengths.tolist(), strict=True)]
    return values + [b""] * (count - len(values))


#: Field length of each length byte, as Whoosh decodes it (0 for none).
BYTE_TO_LENGTH = np.array([byte_to_length(i) if i else 0 for i in range(256)], dtype=np.float64)


# -- joining segments written by separate processes ---------------------------------------


def join_segments(target: Path, schema, part_dirs: list[Path]) -> None:
    """Move each part index's segment files into ``target`` and write one table of contents."""
    segments = []
    for part_dir in part_dirs:
        part_ix = whoosh_index.open_dir(str(part_dir))
        part_segments = part_ix._segments()
        part_ix.close()
        for segment in part_segments:
            prefix = segment.segment_id() + "."
            for name in [n for n in part_dir.iterdir() if n.name.startswith(prefix)]:
                name.rename(target / name.name)
        segments.extend(part_segments)
    TOC(schema, segments, 1).write(FileStorage(str(target)), "MAIN")


# -- patches to the writer's per-posting hot spots -----------------------------------------


def _cached_reader(self, fieldname, column):
    """Cache the absence of a length column too (the original asks the file system again for
    every posting of a field without lengths: a stat() per posting, ~10% of a build)."""
    try:
        return self._readers[fieldname]
    except KeyError:
        pass
    reader = self.column_reader(fieldname, column) if self.has_column(fieldname) else None
    self._readers[fieldname] = reader
    return reader


_LENGTHS_ATTR = "_searchapp_lengths"
_DECODED_LENGTHS = [byte_to_length(b) if b else None for b in range(256)]


def _doc_field_length(self, docnum, fieldname, default=0):
    """Read each length column once into a list (the original reads and decodes one byte per
    call, once per posting while a segment is written: ~9% of a build). Same answers."""
    if docnum > self._doccount:
        raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
    cache = self.__dict__.setdefault(_LENGTHS_ATTR, {})
    lengths = cache.get(fieldname)
    if lengths is None:
        reader = self._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        lengths = default if reader is None else [_DECODED_LENGTHS[b] for b in reader]
        cache[fieldname] = lengths
    if not isinstance(lengths, list):
        return lengths
    return lengths[docnum]


#: Whoosh's own, kept for the test that compares.
whoosh_stored_fields = SegmentReader.stored_fields

#: The column of the stored fields of the segments searchapp writes: each document's dict
#: pickled, not compressed. Whoosh's ``_stored`` column zlib-compresses each one, and a hit's
#: ``zlib.decompress`` is mostly the decompressor's set-up: ~5 of a hit's ~12 us, 8% of a
#: search's CPU for the ~300 bytes of a chunk. Uncompressed they take more room (150,000
#: chunks: 238 -> 264 MB, the build's time unchanged). A segment written before keeps its
#: ``_stored`` column, read as before.
PLAIN_STORED = "_stored_plain"
PLAIN_STORED_COLUMN = PickleColumn(VarBytesColumn())
_whoosh_perdoc_stored_fields = W3PerDocReader.stored_fields
#: Whoosh's own, for the test that writes a segment as searchapp did before ``PLAIN_STORED``.
whoosh_finish_doc = W3PerDocWriter.finish_doc


def _finish_doc(self) -> None:
    """``W3PerDocWriter.finish_doc`` writing the document's stored fields to
    ``PLAIN_STORED`` instead of Whoosh's compressed ``_stored`` column (which stays, empty)."""
    stored = self._storedfields
    if stored:
        self.add_column_value(PLAIN_STORED, PLAIN_STORED_COLUMN, stored)  # pickled here
        stored.clear()
    self._indoc = False


def _perdoc_stored_fields(self, docnum):
    """``W3PerDocReader.stored_fields`` from ``PLAIN_STORED`` when the segment has it."""
    reader = self._cached_reader(PLAIN_STORED, PLAIN_STORED_COLUMN)
    if reader is None:
        return _whoosh_perdoc_stored_fields(self, docnum)
    found = reader[docnum]
    return {} if found is None else found


def _stored_fields(self, docnum):
    """``SegmentReader.stored_fields`` through ``StoredColumn`` (when the segment's column is
    Whoosh's own), and checking the stored names against the schema's dict of fields, not
    with ``name in schema`` (two Python calls a name, a KeyError for a removed one): the same
    dict, read for every hit of every search."""
    if self.is_closed:
        raise ReaderClosed
    assert docnum >= 0
    schema = self.schema
    column = self.__dict__.get(_STORED_ATTR)
    if column is None:
        column = self.__dict__[_STORED_ATTR] = StoredColumn.of(self._perdoc)
    stored = column.read(docnum) if column else self._perdoc.stored_fields(docnum)
    if schema._dyn_fields:
        return {name: value for name, value in stored.items() if name in schema}
    fields = schema._fields
    if stored.keys() <= fields.keys():
        return stored  # unpickled for this call: nobody else holds it
    return {name: value for name, value in stored.items() if name in fields}


_STORED_ATTR = "_searchapp_stored"


class StoredColumn:
    """A segment's stored-fields column read in one step: the bytes at the document's offset,
    ``zlib.decompress`` (Whoosh's ``_stored`` column; not ``PLAIN_STORED``), ``pickle.loads``.
    Whoosh's own read passes through five calls for it (the per-document reader, its cache of
    column readers, the pickle, compressed-bytes and variable-bytes column readers); the
    offsets and lengths are the arrays its variable-bytes reader read once when the column was
    opened. Same bytes, same dict."""

    __slots__ = ("_get", "_base", "_offsets", "_lengths", "_fd", "_compressed")

    def __init__(self, column, source: tuple[int, int] | None = None, compressed: bool = True):
        self._get = column._dbfile.get
        self._base = column._basepos
        self._offsets = column._offsets
        self._lengths = column._lengths
        self._fd = None
        self._compressed = compressed
        if source is not None:
            self._fd, self._base = source[0], source[1] + column._basepos

    @classmethod
    def of(cls, perdoc) -> StoredColumn | bool:
        """The stored column of ``perdoc`` (a ``W3PerDocReader``): ``PLAIN_STORED`` or else
        Whoosh's ``_stored``; ``False`` when it has neither as Whoosh 2.7 writes them (read the
        usual way then)."""
        reader = perdoc._cached_reader(PLAIN_STORED, PLAIN_STORED_COLUMN)
        compressed = reader is None
        if compressed:
            reader = perdoc._cached_reader("_stored", STORED_COLUMN)
        child = getattr(reader, "_child", None)
        if compressed:
            known = type(child) is CompressedBytesColumn.Reader
            known = known and child._decompress is zlib.decompress
        else:
            known = type(child) is VarBytesColumn.Reader
        if type(reader) is not PickleColumn.Reader or not known:
            return False
        name = getattr(child._dbfile, "_name", None)
        source = None
        if USE_PREAD and name:
            source = pread_source(perdoc._storage, perdoc._segment, name)
        return cls(child, source, compressed)

    def read(self, docnum: int) -> dict:
        """The stored fields of ``docnum``, as ``W3PerDocReader.stored_fields`` gives them
        (``{}`` for a document stored without any: no bytes, or a compressed empty string)."""
        length = self._lengths[docnum]
        if not length:
            return {}
        at = self._base + self._offsets[docnum]
        data = self._get(at, length) if self._fd is None else os.pread(self._fd, length, at)
        if self._compressed:
            data = zlib.decompress(data)
        return pickle.loads(data) if data else {}


# -- reading compound segments without copying them ---------------------------------------


class ViewFile:
    """A read-only, seekable file over a buffer (a slice of the segment's memory map).

    Whoosh's ``BufferFile`` wraps each sub-file of a compound segment in ``BytesIO(buffer)``,
    which copies the whole sub-file into the process's private memory when the index is opened:
    the postings, the term index and the columns, 70 MB per worker at 55,000 chunks and growing
    with the archive. This reads the memory map in place: pages come from the page cache, are
    loaded when touched and shared by every worker (and every process that opens the index).
    """

    def __init__(self, buf):
        self._view = memoryview(buf).cast("B")
        self._pos = 0

    def read(self, size: int | None = -1) -> bytes:
        start = self._pos
        end = len(self._view) if size is None or size < 0 else min(len(self._view), start + size)
        self._pos = max(start, end)
        return self._view[start:end].tobytes()

    def peek(self, size: int = 0) -> memoryview:
        """The bytes ahead, without moving (a view, not a copy; may be more or fewer than
        ``size``, as ``BufferedReader.peek`` may). ``pickle.load`` prefetches with it: a posting
        block's header is one read instead of five calls into this class."""
        return self._view[self._pos : self._pos + max(size, 1)]

    def readinto(self, target) -> int:
        data = self.read(len(memoryview(target).cast("B")))
        memoryview(target).cast("B")[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        limit = (
            len(self._view) if size is None or size < 0 else min(len(self._view), self._pos + size)
        )
        end = self._pos
        while end < limit:
            chunk = self._view[end : min(limit, end + 4096)].tobytes()
            found = chunk.find(b"\n")
            if found >= 0:
                end += found + 1
                break
            end += len(chunk)
        return self.read(end - self._pos)

    def __iter__(self):
        while line := self.readline():
            yield line

    def seek(self, pos: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._view)}[whence]
        if base + pos < 0:
            raise ValueError("negative seek position")
        self._pos = base + pos
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        self._view.release()


def segment_maps(segment_readers) -> list[mmap.mmap]:
    """The memory maps of the compound segment files of ``segment_readers`` (Whoosh maps each
    ``.seg`` file whole; a segment that is not compound has none)."""
    found = []
    for reader in segment_readers:
        storage = getattr(reader, "_storage", None)
        compound = getattr(storage, "a", storage)  # an OverlayStorage puts the compound first
        source = getattr(compound, "_source", None)
        if isinstance(source, mmap.mmap):
            found.append(source)
    return found


def release_pages(maps: list[mmap.mmap]) -> None:
    """Drop this process's mappings of the pages it touched in ``maps``; the pages stay in
    the page cache and the next read maps them again (a minor fault, no disk read).

    A worker's PSS counts its share of every page of the index it has mapped: after a few
    thousand queries, most of the postings, term index and stored fields it ever read (at
    150,000 chunks about 100 MB per worker, growing with the archive), though the machine
    holds them once, in its page cache. Dropped after each read of the index, only the pages
    of the request being answered count. The maps are read-only and shared (Python maps
    ``ACCESS_READ`` with ``MAP_SHARED``), so ``MADV_DONTNEED`` loses nothing: the same bytes
    come back from the file.
    """
    for source in maps:
        if not source.closed:
            source.madvise(mmap.MADV_DONTNEED)


def _buffer_file_init(self, buf, name=None, onclose=None):
    """``BufferFile.__init__`` reading ``buf`` in place (see :class:`ViewFile`)."""
    self._buf = buf
    self._name = name
    self.file = ViewFile(buf)
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


# -- a posting pool grouped by term ---------------------------------------------------------


class TermPool:
    """The postings of one segment being written, grouped by term as documents are added.

    Replaces the writer's ``PostingPool``, which keeps one tuple per posting (about 150 bytes),
    sorts them all at commit, spills sorted runs to disk past ``limitmb`` and merges them back
    one posting at a time in Python, then hands them to the codec one method call per posting:
    together about 40% of a build. Here a posting is four array slots (term number, document,
    weight, value), the sort is one ``numpy.lexsort`` over term ranks and documents, and
    :func:`_add_grouped_postings` writes each term's blocks with the codec's encoding. Readers
    see the same terms, statistics and postings (``tests/test_whoosh_compat.py`` compares).
    Held in memory: ``nbytes`` estimates it, for callers that bound a segment's size.
    """

    def __init__(self):
        self._term_numbers: dict[tuple[str, bytes], int] = {}
        self._terms = array("i")
        self._docs = array("q")
        self._weights = array("d")
        self._values: list[bytes | None] = []
        self._value_bytes = 0
        self._value_count = 0
        self.fieldnames: set[str] = set()

    def add(self, item) -> None:
        """One posting ``(fieldname, btext, docnum, weight, vbytes)`` (Whoosh's merges)."""
        fieldname, btext, docnum, weight, vbytes = item
        self.add_field(fieldname, docnum, [(btext, 0, weight, vbytes)], 1.0)

    def add_field(self, fieldname: str, docnum: int, items, boost: float) -> int:
        """Add one document's postings of one field (``(btext, freq, weight, vbytes)``, as
        ``field.index`` gives them), weights times ``boost``; returns the summed frequency."""
        numbers = self._term_numbers
        terms, docs, weights, values = self._terms, self._docs, self._weights, self._values
        length = 0
        for btext, freq, weight, vbytes in items:
            key = (fieldname, btext)
            number = numbers.get(key)
            if number is None:
                number = numbers[key] = len(numbers)
                self.fieldnames.add(fieldname)
            terms.append(number)
            docs.append(docnum)
            weights.append(weight * boost)
            values.append(vbytes)
            if vbytes:
                self._value_bytes += len(vbytes)
                self._value_count += 1
            length += freq
        return length

    def __len__(self) -> int:
        return len(self._docs)

    @property
    def nbytes(self) -> int:
        """About what the pool holds in memory: 28 bytes a posting, its value (a bytes object:
        33 bytes and its length) and 250 bytes a term (dict slot, key tuple, bytes)."""
        return (
            len(self._docs) * 28
            + self._value_count * 33
            + self._value_bytes
            + len(self._term_numbers) * 250
        )

    def iter_postings(self) -> TermPool:
        return self  # W3FieldWriter.add_postings (patched) reads the groups itself

    def groups(self):
        """(fieldname, btext, docnums, weights, values) per term, in Whoosh's order."""
        if not self._docs:
            return
        keys = sorted(self._term_numbers)
        rank = np.empty(len(keys), dtype=np.int64)
        rank[[self._term_numbers[k] for k in keys]] = np.arange(len(keys))
        term_rank = rank[np.frombuffer(self._terms, dtype=np.int32)]
        docs = np.frombuffer(self._docs, dtype=np.int64)
        order = np.lexsort((docs, term_rank))
        sorted_rank = term_rank[order]
        sorted_docs = docs[order]
        same_term = sorted_rank[1:] == sorted_rank[:-1]
        if np.any(same_term & (sorted_docs[1:] <= sorted_docs[:-1])):
            yield from self._groups_with_repeats()
            return
        starts = np.flatnonzero(np.concatenate(([True], ~same_term))).tolist()
        ends = [*starts[1:], len(order)]
        order_list = order.tolist()
        doc_list = sorted_docs.tolist()
        weight_list = np.frombuffer(self._weights, dtype=np.float64)[order].tolist()
        values = self._values
        value_list = [values[i] for i in order_list]
        ranks = sorted_rank.tolist()
        for start, end in zip(starts, ends, strict=True):
            fieldname, btext = keys[ranks[start]]
            yield (
                fieldname,
                btext,
                doc_list[start:end],
                weight_list[start:end],
                value_list[start:end],
            )

    def _groups_with_repeats(self):
        """A document posted twice under one term (Whoosh's separate spelling words, docnum
        0): sort whole postings like Whoosh's pool, so ties fall the same way."""
        numbers = {n: k for k, n in self._term_numbers.items()}
        items = sorted(
            (*numbers[t], d, w, v)
            for t, d, w, v in zip(self._terms, self._docs, self._weights, self._values, strict=True)
        )
        start = 0
        while start < len(items):
            end = start
            while end < len(items) and items[end][:2] == items[start][:2]:
                end += 1
            group = items[start:end]
            yield (
                group[0][0],
                group[0][1],
                [g[2] for g in group],
                [g[3] for g in group],
                [g[4] for g in group],
            )
            start = end

    def save(self) -> None:
        pass

    def cleanup(self) -> None:
        self._term_numbers.clear()
        self._terms = array("i")
        self._docs = array("q")
        self._weights = array("d")
        self._values = []
        self._value_bytes = self._value_count = 0


_original_add_postings = W3FieldWriter.add_postings


def _add_postings(self, schema, lengths, items):
    """``W3FieldWriter.add_postings`` taking a :class:`TermPool`'s groups whole."""
    if not isinstance(items, TermPool):
        return _original_add_postings(self, schema, lengths, items)
    _add_grouped_postings(self, schema, lengths, items)


def _add_grouped_postings(writer, schema, lengths, pool: TermPool) -> None:
    """Write each term's postings with the codec's encoding, minus its per-posting calls.

    The same bytes Whoosh's ``FieldWriter.add_postings`` writes. A term of one block (up to
    128 postings: nearly all of them) is encoded here in one go (:func:`_one_block_term`);
    longer ones fill the codec's block buffers from lists and let ``_write_block`` and
    ``finish_term`` encode them.
    """
    last_field = None
    field_lengths = None
    offset = None  # where the next term's postings start in the postings file
    impacts = _ImpactsWriter()
    positions = PositionsWriter(formats.Positions().decode_positions)
    directory = TermDirectoryWriter()
    for fieldname, btext, docs, weights, values in pool.groups():
        if fieldname != last_field:
            if last_field is not None:
                writer.finish_field()
            writer.start_field(fieldname, schema[fieldname])
            last_field = fieldname
            field_lengths = _lengths_list(lengths, fieldname)
            fixed_size = schema[fieldname].format.fixed_value_size()
            has_positions = type(schema[fieldname].format) is formats.Positions
        if docs[0] == -1:  # Whoosh's marker for spelling-graph words: not postings
            keep = [i for i, d in enumerate(docs) if d != -1]
            if not keep:
                continue
            docs = [docs[i] for i in keep]
            weights = [weights[i] for i in keep]
            values = [values[i] for i in keep]
        postings = writer._postwriter
        if len(docs) <= postings._blocklimit:
            if offset is None:
                offset = postings._postfile.tell()
            kept = impacts.add(offset, docs, weights)
            directory.add(fieldname, btext, docs, weights, kept, offset)
            if has_positions and len(docs) >= IMPACT_MIN_POSTINGS:
                positions.add(offset, values)
            offset += _one_block_term(
                writer, postings, btext, docs, weights, values, field_lengths, fixed_size, offset
            )
            continue
        offset = None
        writer.start_term(btext)
        kept = impacts.add(postings._startoffset, docs, weights)
        directory.add(fieldname, btext, docs, weights, kept, postings._startoffset)
        if has_positions and len(docs) >= IMPACT_MIN_POSTINGS:
            positions.add(postings._startoffset, values)
        limit = postings._blocklimit
        for start in range(0, len(docs), limit):
            if start:
                postings._write_block()
                postings._new_block()
            end = start + limit
            block_docs = docs[start:end]
            block_weights = weights[start:end]
            postings._ids = array("I", block_docs)
            postings._weights = array("f", block_weights)
            postings._values = [v for v in values[start:end] if v]
            postings._maxweight = max(0, max(block_weights))
            postings._minlength, postings._maxlength = _min_max_length(field_lengths, block_docs)
        writer.finish_term()
    if last_field is not None:
        writer.finish_field()
    impacts.write(writer._create_file(IMPACTS_EXT))
    positions.write(writer._create_file(POSITIONS_EXT))
    directory.write(writer._create_file(DIRECTORY_EXT))


_BLOCK_MAGIC = WHOOSH3_HEADER_MAGIC
#: Blocks smaller than this are written uncompressed (the block's info says so, and Whoosh's
#: reader then skips ``zlib.decompress``): most terms have a posting or two, their pickled
#: block is 60-120 bytes that zlib does not shrink (61 -> 64 bytes), and each
#: ``zlib.compress`` call sets up a 256 KB compressor: 20-90 us, a few percent of a build.
COMPRESS_FROM_BYTES = 128


def _one_block_term(
    writer, postings, btext, docs, weights, values, field_lengths, fixed_size, offset
) -> int:
    """Encode a term of one block as ``W3PostingsWriter`` and ``W3TermInfo`` do (start,
    ``add_posting`` per posting, ``_write_block(last=True)``, ``finish_term``); return the
    bytes written to the postings file."""
    floats = array("f", weights)
    if all(w == 1.0 for w in floats):
        mini_weights = None
    elif all(w == floats[0] for w in floats):
        mini_weights = floats[0]
    else:
        mini_weights = tuple(floats)
    kept = [v for v in values if v]
    if fixed_size is None or fixed_size < 0:
        mini_values = tuple(kept)
    elif fixed_size == 0:
        mini_values = None
    else:
        mini_values = b"".join(kept)
    deltas = [docs[0]]
    deltas += [b - a for a, b in zip(docs, docs[1:], strict=False)]
    data = pickle.dumps((tuple(deltas), mini_weights, mini_values), 2)
    compression = postings._compression if len(data) >= COMPRESS_FROM_BYTES else 0
    if compression:
        data = zlib.compress(data, compression)
    max_weight = max(0, max(weights))
    min_length, max_length = _min_max_length(field_lengths, docs)
    min_byte, max_byte = length_to_byte(min_length), length_to_byte(max_length)
    info = pickle.dumps((len(docs), docs[-1], max_weight, compression, min_byte, max_byte), 2)
    block = _BLOCK_MAGIC + pack_int(-(len(info) + len(data))) + info + data
    postings._postfile.write(block)
    terminfo = W3TermInfo._struct.pack(
        False,
        0 + sum(floats),
        len(docs),
        0 if min_length is None else min_byte,
        max_byte,
        max_weight,
        docs[0],
        docs[-1],
    )
    terminfo += pack_long(offset) + pack_int(len(block))
    writer._tindex.add(pack_ushort(writer._fieldid) + btext, terminfo)
    return len(block)


def _min_max_length(field_lengths: list | None, docs: list[int]) -> tuple[int | None, int]:
    """A block's smallest and largest field length, skipping unknown (0/None) ones."""
    if field_lengths is None:
        return None, 0
    found = [n for n in (field_lengths[d] for d in docs) if n]
    return (min(found), max(found)) if found else (None, 0)


# -- precomputed impacts: posting lists as arrays beside the segment ---------------------

#: The segment file (inside the compound file) of ``Impacts``.
IMPACTS_EXT = ".imp"
_IMPACTS_MAGIC = b"SAIMPv01"
#: Terms with fewer postings are decoded from Whoosh's blocks (one short block is cheap);
#: the others are also written as plain arrays, and their positions too in a field with
#: positions (``searchapp/positions.py``).
IMPACT_MIN_POSTINGS = 32


class _ImpactsWriter:
    """Collects the posting lists of a segment's common terms while they are written."""

    def __init__(self):
        self.keys: list[int] = []
        self.lengths: list[int] = []
        self.ids = array("I")
        self.weights = array("f")

    def add(self, offset: int, docs: list[int], weights: list[float]) -> int | None:
        """Keep a term's postings if it has enough; where they start in the arrays (None:
        not kept)."""
        if len(docs) < IMPACT_MIN_POSTINGS:
            return None
        start = len(self.ids)
        self.keys.append(offset)
        self.lengths.append(len(docs))
        self.ids.extend(docs)
        self.weights.extend(weights)  # rounded to float32 as Whoosh's blocks store them
        return start

    def write(self, out) -> None:
        starts = np.zeros(len(self.keys) + 1, dtype="<i8")
        np.cumsum(self.lengths, out=starts[1:])
        out.write(_IMPACTS_MAGIC + np.array([len(self.keys)], dtype="<i8").tobytes())
        out.write(np.array(self.keys, dtype="<i8").tobytes())
        out.write(starts.tobytes())
        out.write(np.frombuffer(self.ids, dtype=np.uint32).astype("<u4").tobytes())
        out.write(np.frombuffer(self.weights, dtype=np.float32).astype("<f4").tobytes())
        out.close()


class Impacts:
    """A segment's common terms' postings as arrays (document numbers, weights), read in place
    from the segment's memory map: what ``read_postings`` decodes block by block (zlib,
    pickle, positions and all), found by the term's postings offset with a binary search.

    Written by :func:`_add_grouped_postings`: segments written by Whoosh's own writer have
    none, and are decoded as before.
    """

    def __init__(self, buf, source: tuple[int, int] | None = None):
        view = memoryview(buf).cast("B")
        if bytes(view[:8]) != _IMPACTS_MAGIC:
            raise WhooshIncompatible("unknown impacts file")
        count = int(np.frombuffer(view, dtype="<i8", count=1, offset=8)[0])
        at = 16
        self.keys = np.frombuffer(view, dtype="<i8", count=count, offset=at)
        at += 8 * count
        self.starts = np.frombuffer(view, dtype="<i8", count=count + 1, offset=at)
        at += 8 * (count + 1)
        total = int(self.starts[-1])
        self.ids = np.frombuffer(view, dtype="<u4", count=total, offset=at)
        self.weights = np.frombuffer(view, dtype="<f4", count=total, offset=at + 4 * total)
        self._fd = None
        if source is not None:
            # the directory searched by every term in private memory (16 bytes a common
            # term), the postings read with os.pread (see USE_PREAD)
            self.keys, self.starts = self.keys.copy(), self.starts.copy()
            self._fd, self._ids_at = source[0], source[1] + at
            self._weights_at = self._ids_at + 4 * total

    @classmethod
    def of(cls, segment_reader) -> Impacts | None:
        """The impacts of a segment, or None if it has none."""
        buf = _segment_file(segment_reader, IMPACTS_EXT)
        if buf is None:
            return None
        name = segment_reader.segment().make_filename(IMPACTS_EXT)
        return cls(buf, _reader_source(segment_reader, _IMPACTS_SOURCE, name))

    def postings(self, info, ids_dtype, weights_dtype):
        """(ids, weights) of a term (its ``TermInfo``), or None when it is not kept here."""
        if info.doc_frequency() < IMPACT_MIN_POSTINGS:
            return None
        found = self._slice(info)
        if found is None:
            return None
        start, end = found
        return self.read(start, end - start, ids_dtype, weights_dtype)

    def read(self, start: int, count: int, ids_dtype, weights_dtype):
        """(ids, weights) of the ``count`` postings from the ``start``-th (a term's: where
        ``postings`` finds them, or the term directory files them)."""
        ids = self.read_ids(start, count).astype(ids_dtype)
        if self._fd is not None:
            at = self._weights_at + 4 * start
            weights = np.frombuffer(pread_exact(self._fd, 4 * count, at), "<f4")
        else:
            weights = self.weights[start : start + count]
        return ids, weights.astype(weights_dtype)

    def read_ids(self, start: int, count: int) -> np.ndarray:
        """The document numbers of ``count`` postings from the ``start``-th."""
        if self._fd is not None:
            return np.frombuffer(pread_exact(self._fd, 4 * count, self._ids_at + 4 * start), "<u4")
        return self.ids[start : start + count]

    def term_ids(self, info) -> np.ndarray | None:
        """A term's document numbers (a view of the file), or None when it is not kept here."""
        found = self._slice(info)
        return None if found is None else self.ids[found[0] : found[1]]

    def _slice(self, info) -> tuple[int, int] | None:
        if info.is_inlined():
            return None
        offset = info._offset
        i = int(self.keys.searchsorted(offset))
        if i == len(self.keys) or self.keys[i] != offset:
            return None
        return int(self.starts[i]), int(self.starts[i + 1])


def _segment_file(segment_reader, ext: str):
    """A sub-file of a segment as a buffer (in place, from the memory map of a compound
    segment), or None when the segment has none."""
    storage, segment = segment_reader.storage(), segment_reader.segment()
    if not storage.file_exists(segment.make_filename(ext)):
        return None
    handle = segment.open_file(storage, ext)
    buf = getattr(handle, "_buf", None)
    if buf is not None:
        return buf
    try:  # a segment that is not compound: its own file, read whole
        return handle.read()
    finally:
        handle.close()


def position_arrays(segment_reader) -> PositionArrays | None:
    """A segment's common terms' positions as arrays, or None if it has none (written before
    them, or by Whoosh's own writer)."""
    buf = _segment_file(segment_reader, POSITIONS_EXT)
    return None if buf is None else PositionArrays(buf)


def term_directory(segment_reader) -> TermDirectory | None:
    """A segment's term directory, or None if it has none (written before them, or by
    Whoosh's own writer) or it is damaged (a warning; Whoosh's term index answers)."""
    buf = _segment_file(segment_reader, DIRECTORY_EXT)
    if buf is None:
        return None
    name = segment_reader.segment().make_filename(DIRECTORY_EXT)
    try:
        return TermDirectory(buf, _reader_source(segment_reader, _DIRECTORY_SOURCE, name))
    except DirectoryFormatError as exc:
        log.warning("ignoring the term directory of segment %s: %s", name, exc)
        return None


_DIRECTORY_SOURCE = "_searchapp_directory_source"


def term_positions(
    segment_reader,
    fieldname: str,
    btext: bytes,
    wanted: np.ndarray,
    impacts: Impacts | None,
    arrays: PositionArrays | None,
    info=_LOOK_UP,
) -> tuple[np.ndarray, np.ndarray] | None:
    """A term's positions in each of ``wanted`` (sorted document numbers of one segment):
    (how many in each document, 0 for one without the term; all of them, concatenated in
    document order). None: the segment lacks the term. ``info``: its ``term_info``, when the
    caller has it.

    Gathered from the segment's position arrays when it keeps the term there, else decoded
    from Whoosh's blocks by :func:`read_positions`."""
    if info is _LOOK_UP:
        info = term_info(segment_reader, fieldname, btext)
    if info is None:
        return None
    ids = impacts.term_ids(info) if impacts is not None and arrays is not None else None
    kept = arrays.term(info._offset) if ids is not None else None
    if kept is not None and kept[1] - kept[0] == len(ids) and len(ids):
        return positions_in(ids, kept[0], arrays, wanted)
    matcher = _leaf_matcher(segment_reader, fieldname, btext, info)
    fmt = segment_reader.schema[fieldname].format
    decoded = read_positions(matcher, wanted.tolist(), fmt)
    lists = [decoded.get(doc, ()) for doc in wanted.tolist()]
    counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    flat = itertools.chain.from_iterable(lists)
    return counts, np.fromiter(flat, dtype=np.int64, count=int(counts.sum()))


def kept_positions(
    impacts: Impacts | None, arrays: PositionArrays | None, located: tuple[int, int, int], wanted
) -> tuple[np.ndarray, np.ndarray] | None:
    """``term_positions`` of a term its segment's term directory located among the impacts
    (``located``: its count, -1 - its first posting there, its postings offset), from the
    position arrays without a term-index lookup; None when they do not keep it."""
    count, start, offset = located
    kept = None
    if impacts is not None and arrays is not None and start < 0:
        kept = arrays.term(offset)
    if kept is None or kept[1] - kept[0] != count or not count:
        return None
    return positions_in(impacts.read_ids(-1 - start, count), kept[0], arrays, wanted)


def _lengths_list(lengths, fieldname: str) -> list | None:
    """Each document's decoded length of ``fieldname`` (None: the field keeps no lengths)."""
    if lengths is None:
        return None
    if not isinstance(lengths, W3PerDocReader):
        raise WhooshIncompatible(f"unexpected per-document reader {type(lengths).__name__}")
    _doc_field_length(lengths, 0, fieldname)  # fills the cache (see below)
    found = lengths.__dict__[_LENGTHS_ATTR][fieldname]
    return found if isinstance(found, list) else None


_original_add_document = SegmentWriter.add_document


def _add_document(self, **fields):
    """``SegmentWriter.add_document`` (same checks, same per-document writes) handing each
    field's postings to a :class:`TermPool` whole, and indexing position fields with
    :func:`_positions_postings`. Other pools get Whoosh's own method."""
    pool = self.pool
    if not isinstance(pool, TermPool):
        return _original_add_document(self, **fields)
    self._check_state()
    perdocwriter = self.perdocwriter
    schema = self.schema
    docnum = self.docnum
    docboost = self._doc_boost(fields)
    fieldnames = sorted(name for name in fields if not name.startswith("_"))
    self._check_fields(schema, fieldnames)
    perdocwriter.start_doc(docnum)
    try:
        for fieldname in fieldnames:
            value = fields.get(fieldname)
            if value is None:
                continue
            field = schema[fieldname]
            length = 0
            if field.indexed:
                fieldboost = self._field_boost(fields, fieldname, docboost)
                if type(field.format) is formats.Positions and isinstance(value, str):
                    items = _positions_postings(field, value)
                else:
                    items = field.index(value)
                summed = pool.add_field(fieldname, docnum, items, fieldboost)
                if field.scorable:
                    length = summed
            if field.separate_spelling() or field.vector:
                raise WhooshIncompatible(
                    f"field {fieldname!r}: spelling words or vectors need Whoosh's own writer"
                )
            customval = fields.get(f"_stored_{fieldname}", value)
            perdocwriter.add_field(fieldname, field, customval if field.stored else None, length)
            column = field.column_type
            if column and customval is not None:
                perdocwriter.add_column_value(fieldname, column, field.to_column_value(customval))
    except Exception:
        perdocwriter.cancel_doc()
        raise
    perdocwriter.finish_doc()
    self._added = True
    self.docnum += 1


#: Encoded single positions (most postings: a word once in a chunk), by position.
_ONE_POSITION: dict[int, bytes] = {}


def _positions_postings(field, value: str) -> list[tuple[bytes, int, float, bytes]]:
    """``field.index(value)`` for a ``Positions`` field: the same (btext, frequency, weight,
    encoded positions) in the same order, without its three layers of generators, and a
    word's single position encoded once per process."""
    poses: dict[str, list[int]] = {}
    boosts: dict[str, float] = {}
    for token in field.analyzer(value, mode="index", positions=True, boosts=True):
        if token.stopped:
            continue
        text = token.text
        found = poses.get(text)
        if found is None:
            poses[text] = [token.pos]
            boosts[text] = 0.0 + token.boost
        else:
            found.append(token.pos)
            boosts[text] += token.boost
    field_boost = field.format.field_boost
    encode = field.format.encode
    items = []
    for text, positions in poses.items():
        if len(positions) == 1:
            pos = positions[0]
            encoded = _ONE_POSITION.get(pos)
            if encoded is None:
                encoded = encode(positions)
                if len(_ONE_POSITION) < 100_000:
                    _ONE_POSITION[pos] = encoded
        else:
            encoded = encode(positions)
        items.append((text.encode("utf-8"), len(positions), boosts[text] * field_boost, encoded))
    return items


def use_term_pool(writer) -> TermPool:
    """Give a fresh ``SegmentWriter`` a :class:`TermPool` (before any document is added)."""
    if len(writer.pool.current) or writer.pool.runs:
        raise WhooshIncompatible("the writer's pool already holds postings")
    writer.pool.cleanup()
    writer.pool = TermPool()
    return writer.pool


check_version()
_check_names()
W3FieldWriter.add_postings = _add_postings
SegmentWriter.add_document = _add_document
BufferFile.__init__ = _buffer_file_init
W3PerDocReader._cached_reader = _cached_reader
W3PerDocReader.doc_field_length = _doc_field_length
W3PerDocReader.stored_fields = _perdoc_stored_fields
W3PerDocWriter.finish_doc = _finish_doc
SegmentReader.stored_fields = _stored_fields
