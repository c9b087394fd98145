"""Where a process's PSS goes: anonymous memory, and file mappings by file and by the sub-files
of a compound Whoosh segment.

``/proc/<pid>/smaps_rollup`` (``procs.pss_bytes``) gives one number. To know what to shrink,
this splits it: anonymous memory (the heap: Python objects, numpy arrays, caches), into what is
private to the process and what it still shares with the parent it was forked from (jieba's
dictionary, loaded before the fork); and file-backed memory by file, a segment file (``.seg``:
one memory map holding the postings ``.pst``, the term index ``.trm``, the impacts ``.imp``,
the columns ``.col`` ...) by sub-file, read from the segment's own directory.

Each page's share comes from ``/proc/<pid>/pagemap`` (present, file or anonymous, frame
number) and ``/proc/kpagecount`` (how many mappings the frame has): needs root. Within each
mapping the shares are scaled to the kernel's ``Pss`` of that mapping, so the parts always add
up to what ``smaps`` reports. Nothing here imports searchapp or Whoosh.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import re
import struct
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_PAGE = os.sysconf("SC_PAGE_SIZE")
_HEADER = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) \S+ (\d+)\s*(.*)$")
_PRESENT = np.uint64(1 << 63)
_FILE_PAGE = np.uint64(1 << 61)
_PFN = np.uint64((1 << 55) - 1)


@dataclass
class Mapping:
    """One line of ``/proc/<pid>/smaps`` and its counters (kB)."""

    start: int
    end: int
    offset: int
    path: str
    kb: dict[str, int] = field(default_factory=dict)


def mappings(pid: int) -> list[Mapping]:
    """Every mapping of ``pid`` with its ``Rss``, ``Pss``, ``Private_*`` ... counters."""
    found: list[Mapping] = []
    with open(f"/proc/{pid}/smaps", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            header = _HEADER.match(line)
            if header:
                start, end, _perms, offset, _inode, path = header.groups()
                found.append(Mapping(int(start, 16), int(end, 16), int(offset, 16), path))
                continue
            name, _, rest = line.partition(":")
            parts = rest.split()
            if found and len(parts) == 2 and parts[1] == "kB":
                found[-1].kb[name] = int(parts[0])
    return found


def rollup(pid: int) -> dict[str, int]:
    """``/proc/<pid>/smaps_rollup`` (kB): Rss, Pss, Pss_Anon, Pss_File, Pss_Shmem ..."""
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as handle:
        for line in handle:
            name, _, rest = line.partition(":")
            parts = rest.split()
            if len(parts) == 2 and parts[1] == "kB":
                values[name] = int(parts[0])
    return values


def segment_parts(path: str | Path) -> list[tuple[str, int, int]]:
    """(sub-file extension, offset, length) of each sub-file of a compound Whoosh segment,
    from the directory it ends with (as ``whoosh.filedb.compound.CompoundStorage`` reads it:
    a big-endian long and int at the start say where the pickled directory is)."""
    with open(path, "rb") as handle:
        diroffset = struct.unpack("!q", handle.read(8))[0]
        handle.seek(diroffset)
        directory = pickle.load(handle)  # noqa: S301 - the index is our own file
    return sorted(
        (Path(name).suffix or name, info["offset"], info["length"])
        for name, info in directory.items()
    )


def _page_weights(pid: int, mapping: Mapping, counts) -> tuple[np.ndarray, np.ndarray]:
    """Per page of ``mapping``: its share (1 / mappings of its frame, 0 when absent) and
    whether it is a file page."""
    pages = (mapping.end - mapping.start) // _PAGE
    with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        pagemap.seek(mapping.start // _PAGE * 8)
        entries = np.frombuffer(pagemap.read(pages * 8), dtype="<u8")
    present = (entries & _PRESENT) != 0
    weights = np.zeros(len(entries), dtype=np.float64)
    for i in np.flatnonzero(present).tolist():
        pfn = int(entries[i] & _PFN)
        counts.seek(pfn * 8)
        mapcount = struct.unpack("<Q", counts.read(8))[0]
        weights[i] = 1.0 / mapcount if mapcount else 1.0
    return weights, (entries & _FILE_PAGE) != 0


def _label(path: str) -> str:
    if not path or path.startswith("[anon") or path in ("[heap]", "[stack]"):
        return "anonymous"
    if path.startswith("["):
        return path
    name = Path(path).name
    if ".so" in name or name.startswith("python"):
        return "libraries and python"
    return name


def breakdown(pid: int) -> dict:
    """PSS of ``pid`` (kB) split into anonymous (private / shared with the parent) and file
    parts: ``files`` by file name, ``segments`` by sub-file extension over all ``.seg`` files."""
    anon = {"pss": 0.0, "private": 0, "shared": 0}
    files: dict[str, float] = defaultdict(float)
    segments: dict[str, float] = defaultdict(float)
    parts_cache: dict[str, list[tuple[str, int, int]]] = {}
    with open("/proc/kpagecount", "rb") as counts:
        for m in mappings(pid):
            pss = m.kb.get("Pss", 0)
            if not m.kb.get("Rss", 0):
                continue
            anon_kb = m.kb.get("Anonymous", 0)
            label = _label(m.path)
            if label == "anonymous" or anon_kb:
                private = m.kb.get("Private_Dirty", 0) + m.kb.get("Private_Clean", 0)
                shared = m.kb.get("Shared_Dirty", 0) + m.kb.get("Shared_Clean", 0)
                if label == "anonymous":
                    anon["pss"] += pss
                    anon["private"] += private
                    anon["shared"] += shared
                    continue
            weights, is_file = _page_weights(pid, m, counts)
            total = weights.sum()
            scale = pss / total if total else 0.0
            anon["pss"] += weights[~is_file].sum() * scale
            anon["private"] += int((~is_file & (weights == 1.0)).sum()) * _PAGE // 1024
            anon["shared"] += int((~is_file & (weights > 0) & (weights < 1.0)).sum()) * (
                _PAGE // 1024
            )
            file_weights = np.where(is_file, weights, 0.0) * scale
            if not m.path.endswith(".seg"):
                files[label] += file_weights.sum()
                continue
            if m.path not in parts_cache:
                parts_cache[m.path] = []
                with contextlib.suppress(OSError, ValueError, pickle.UnpicklingError, EOFError):
                    parts_cache[m.path] = segment_parts(m.path)
            claimed = 0.0
            for ext, offset, length in parts_cache[m.path]:
                lo = max(0, (offset - m.offset) // _PAGE)
                hi = max(lo, min(len(file_weights), -(-(offset + length - m.offset) // _PAGE)))
                part = file_weights[lo:hi].sum()
                segments[ext] += part
                claimed += part
            # pages shared by two sub-files are counted in both: the rest is the directory
            segments["(directory)"] += max(0.0, file_weights.sum() - claimed)
    index_kb = sum(segments.values())
    return {
        "pid": pid,
        "pss_kb": sum(m.kb.get("Pss", 0) for m in mappings(pid)),
        "rollup_kb": {k: v for k, v in rollup(pid).items() if k.startswith("Pss")},
        "anonymous_kb": {k: round(v) for k, v in anon.items()},
        "index_kb": round(index_kb),
        "segments_kb": {k: round(v) for k, v in sorted(segments.items(), key=lambda i: -i[1])},
        "files_kb": {k: round(v) for k, v in sorted(files.items(), key=lambda i: -i[1]) if v},
    }


def format_breakdown(found: dict, top: int = 6) -> str:
    """A few lines of MB for a report."""
    mb = 1024

    def row(label: str, kb: float) -> str:
        return f"  {label:<42} {kb / mb:8.1f} MB"

    anon = found["anonymous_kb"]
    lines = [
        f"worker {found['pid']}: PSS {found['pss_kb'] / mb:.1f} MB "
        f"(smaps_rollup: {', '.join(f'{k} {v / mb:.1f}' for k, v in found['rollup_kb'].items())})",
        row("anonymous (heap, arrays, caches)", anon["pss"]),
        row("  of which private to the worker (resident)", anon["private"]),
        row("  of which still shared with the master", anon["shared"]),
        row("index segments (.seg, memory-mapped)", found["index_kb"]),
    ]
    lines += [row(f"  {ext}", kb) for ext, kb in found["segments_kb"].items() if kb >= 1]
    for name, kb in list(found["files_kb"].items())[:top]:
        lines.append(row(name, kb))
    return "\n".join(lines)
