"""A source folder of the files the security review used to stall the indexer or leak files.

- caption and header lines padded with thousands of spaces (the old photographer and header
  regexes were cubic on them: 11 s to over 25 s a line; finding 6);
- a 1.2 MB file of 100,000 tiny blocks (a 93 MB index and a 6.9 MB article page; finding 6);
- links to a file outside the folder holding a password, and to ``/etc/os-release``
  (published as articles; finding 5);
- the hostile fixture files (binary, GBK, empty, no header).

``make_hostile_source`` writes it next to (not inside) ``outside/``; ``check_served`` asks a
server of its index what the links and the big file became.
"""

from __future__ import annotations

import http.client
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "hostile"
SECRET = "hunter2-5ecret"
#: An article page over this many bytes counts as bloated.
PAGE_LIMIT = 1_000_000
PADDED_LINES = {
    "photo-by": "(Photo by x" + " " * 2000,
    "xinhua-slash": "(Xinhua/" + " " * 4000,
    "photo-taken": "(photo taken on" + " " * 3000 + "x",
    "photo-colon": "Photo: " + "A " * 3000,
    "chinese-credit": "新华社记者" + " " * 3000 + "摄",
    "parentheses": "(" * 3000 + "Photo by x" + ")" * 10,
}


def make_hostile_source(folder: Path) -> Path:
    """Write the hostile source folder ``folder/src`` (and ``folder/outside``); return src."""
    source, outside = folder / "src", folder / "outside"
    source.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    for name, line in PADDED_LINES.items():
        body = f"{line}\n\n{line}\n\nA paragraph after the padded lines.\n"
        (source / f"2024-03-01-padded-{name}.txt").write_text(
            f"date 2024-03-01 X:Padded {name}\n\n{body}", "utf-8"
        )
    blocks = "\n\n".join(f"w{n}" for n in range(100_000))
    (source / "2024-03-02-tiny-blocks.txt").write_text(
        f"date 2024-03-02 X:Tiny blocks\n\n{blocks}\n", "utf-8"
    )
    (outside / "secret.conf.txt").write_text(f"password={SECRET}\n", "utf-8")
    (source / "secret.txt").symlink_to(Path("..") / "outside" / "secret.conf.txt")
    if Path("/etc/os-release").exists():
        (source / "release.txt").symlink_to("/etc/os-release")
    for fixture in FIXTURES.iterdir():
        shutil.copy(fixture, source / fixture.name)
    return source


@dataclass
class ServedCheck:
    """What a server of the hostile index answered about the links and the big file."""

    problems: list[str] = field(default_factory=list)
    tiny_page_bytes: int = 0
    tiny_api_bytes: int = 0


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def check_served(port: int) -> ServedCheck:
    """The links are not articles, the secret is not found, the big file's pages are capped."""
    check = ServedCheck()
    for name in ("secret", "release"):
        for path in (f"/api/articles/{name}", f"/articles/{name}"):
            status, body = _get(port, path)
            if status != 404:
                check.problems.append(f"{path} answered {status}")
    status, body = _get(port, f"/api/search?q={SECRET}")
    if status != 200 or json.loads(body)["total"] != 0:
        check.problems.append(f"the secret behind a link was found ({status})")
    status, body = _get(port, "/articles/2024-03-02-tiny-blocks")
    check.tiny_page_bytes = len(body)
    if status != 200 or len(body) > PAGE_LIMIT:
        check.problems.append(f"tiny-blocks page: {status}, {len(body):,} bytes")
    status, body = _get(port, "/api/articles/2024-03-02-tiny-blocks")
    check.tiny_api_bytes = len(body)
    if status != 200 or len(body) > PAGE_LIMIT:
        check.problems.append(f"tiny-blocks API: {status}, {len(body):,} bytes")
    return check
