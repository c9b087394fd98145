"""Sample a server's workers with py-spy during the load run and say where the time goes.

``py-spy record --subprocesses --format raw`` writes collapsed stacks; we sum them by the frame
that was running (self time) and by source file anywhere on the stack (inclusive time).
py-spy is optional (``pip install py-spy``); without it the profile is skipped with a note.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from harness.server import Server

_FRAME_RE = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]+)(?::\d+)?\)$")


@dataclass
class Recording:
    """A running py-spy and where it writes."""

    proc: subprocess.Popen | None
    out: Path
    note: str = ""


def start(server: Server, seconds: float, out_dir: Path) -> Recording:
    """Start py-spy on the server's process tree for ``seconds``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{server.name}.collapsed.txt"
    exe = shutil.which("py-spy")
    if not exe:
        return Recording(None, out, "py-spy not installed (pip install py-spy)")
    cmd = [
        exe, "record", "--subprocesses", "--pid", str(server.process.pid), "--duration",
        str(int(max(1, seconds))), "--rate", "200", "--format", "raw", "--output", str(out),
        "--nonblocking",
    ]  # fmt: skip
    log = open(out_dir / f"{server.name}.py-spy.log", "wb")  # noqa: SIM115 - closed in finish
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    return Recording(proc, out)


def _short(path: str) -> str:
    for marker in ("site-packages/", "/lib/python3", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return path


def finish(rec: Recording, timeout: float = 120.0) -> dict:
    """Wait for py-spy and summarise its samples."""
    if rec.proc is None:
        return {"note": rec.note}
    try:
        rec.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        rec.proc.kill()
        rec.proc.wait(timeout=10)
        return {"note": "py-spy did not finish in time"}
    if not rec.out.exists():
        return {"note": f"py-spy wrote nothing (see {rec.out.parent})"}
    self_time: Counter[str] = Counter()
    files: Counter[str] = Counter()
    funcs: Counter[str] = Counter()
    total = 0
    for line in rec.out.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [m for f in stack.split(";") if (m := _FRAME_RE.match(f.strip()))]
        if not frames:
            continue
        leaf = frames[-1]
        self_time[f"{leaf['func']} ({_short(leaf['file'])})"] += n
        for name in {_short(m["file"]) for m in frames}:
            files[name] += n
        for name in {f"{m['func']} ({_short(m['file'])})" for m in frames}:
            funcs[name] += n
    if not total:
        return {"note": "py-spy took no samples"}

    def top(counter: Counter[str], n: int) -> list[list]:
        # frames on (nearly) every stack are the server loop: they say nothing
        rows = [[k, round(100 * v / total, 1)] for k, v in counter.most_common()]
        return [r for r in rows if r[1] < 85][:n]

    return {
        "samples": total,
        "file": str(rec.out),
        "self": top(self_time, 15),
        "inclusive_files": top(files, 20),
        "inclusive_functions": top(funcs, 30),
    }


def render(prof: dict, title: str = "profile of searchapp workers under load") -> str:
    """The profile summary as text."""
    if "note" in prof:
        return f"profile: {prof['note']}"
    lines = [f"{title}: {prof['samples']} samples ({prof['file']})"]
    lines.append("  self time (running frame):")
    lines += [f"    {pct:5.1f}%  {name}" for name, pct in prof["self"]]
    lines.append("  inclusive, by source file on the stack:")
    lines += [f"    {pct:5.1f}%  {name}" for name, pct in prof["inclusive_files"]]
    lines.append("  inclusive, by function on the stack:")
    lines += [f"    {pct:5.1f}%  {name}" for name, pct in prof.get("inclusive_functions", [])]
    return "\n".join(lines)
