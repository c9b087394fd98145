"""A real HTML corpus for the build benchmark: Debian's GIMP manual in English and Chinese.

``gimp-help-en`` and ``gimp-help-zh-cn`` are DocBook HTML (sections, figures with titles), about
700 pages each. They are fetched with ``apt-get download`` and unpacked with ``dpkg-deb -x``
into ``bench-data/html/`` (git-ignored, never committed), then indexed by ``searchapp index``
like any folder of pages: the build rate is pages per second, extraction included.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

PACKAGES = ("gimp-help-en", "gimp-help-zh-cn")
#: Where each package keeps its pages once unpacked.
PAGE_DIRS = {
    "gimp-help-en": "usr/share/gimp/2.0/help/en",
    "gimp-help-zh-cn": "usr/share/gimp/2.0/help/zh_CN",
}


class HtmlMissing(RuntimeError):
    """The packages could not be fetched (no network, no apt)."""


def ensure_html(data: Path) -> list[Path]:
    """One folder holding the GIMP manuals' pages (``en/``, ``zh_CN/``), fetched on first use.

    One source folder, not two: the manuals use the same file names, and article ids are
    paths inside a source folder (``en/gimp-tool-crop``, ``zh_CN/gimp-tool-crop``).
    """
    root = data / "html"
    (root / "pages").mkdir(parents=True, exist_ok=True)
    for package in PACKAGES:
        unpacked = root / package
        final = root / "pages" / Path(PAGE_DIRS[package]).name
        if final.is_dir():
            continue
        pages = unpacked / PAGE_DIRS[package]
        if not pages.is_dir():
            debs = sorted(root.glob(f"{package}_*.deb"))
            if not debs:
                done = subprocess.run(
                    ["apt-get", "download", package], cwd=root, capture_output=True, text=True
                )
                debs = sorted(root.glob(f"{package}_*.deb"))
                if done.returncode != 0 or not debs:
                    raise HtmlMissing(f"apt-get download {package} failed: {done.stderr[-500:]}")
            subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(unpacked)], check=True)
        if not pages.is_dir():
            raise HtmlMissing(f"{package} has no pages in {PAGE_DIRS[package]}")
        pages.rename(final)
        shutil.rmtree(unpacked)
    return [root / "pages"]


def count_pages(folders: list[Path]) -> int:
    """HTML pages under the folders (what ``searchapp index`` reads from them)."""
    return sum(1 for folder in folders for p in folder.rglob("*") if p.suffix in (".html", ".htm"))
