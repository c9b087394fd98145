#!/usr/bin/env python3
"""How often the ``.txt`` heading rules file a chunk under the right section, on real pages.

Issue 11.4: headings ending in a closing bracket or quote, and long headings, were read as
paragraphs, so their text went under the previous section. HTML pages say which blocks are
headings (``<h2>``-``<h6>``); this script writes each page's blocks as a plain ``.txt`` article
(a header line, then the blocks separated by blank lines, without any marker) and parses it
back with the ``.txt`` rules, then prints the share of chunks whose section is the heading
above them, and the headings it missed or invented.

    python scripts/section_check.py bench-data/html/gimp-help-en/usr/share/gimp/2.0/help/en
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from searchapp.sources import read_source, walk_sources
from searchapp.sources.errors import UnreadableArticle
from searchapp.sources.txt import parse_text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="folders of HTML pages")
    parser.add_argument("--examples", type=int, default=8, help="misses to print")
    args = parser.parse_args(argv)
    right = total = 0
    missed: Counter[str] = Counter()
    invented: Counter[str] = Counter()
    walk = walk_sources(args.folders)
    for source in walk.files.values():
        if source.format != "html":
            continue
        try:
            articles = read_source(source).articles
        except UnreadableArticle:
            continue
        for article in articles:
            body = [c for c in article.chunks if c.kind != "title"]
            text = f"date 2024-01-01 Check:{article.title}\n\n" + "\n\n".join(c.text for c in body)
            parsed = parse_text(text, article.id)
            if len(parsed.chunks) != len(article.chunks):
                continue  # a block split differently: not comparable chunk by chunk
            for want, got in zip(article.chunks[1:], parsed.chunks[1:], strict=True):
                total += 1
                right += want.section == got.section
                if want.kind == "heading" and got.kind != "heading":
                    missed[want.text] += 1
                elif got.kind == "heading" and want.kind != "heading":
                    invented[got.text] += 1
    if not total:
        print("no comparable HTML pages found", file=sys.stderr)
        return 1
    print(f"{right:,} of {total:,} chunks ({right / total:.1%}) under the heading above them")
    print(
        f"headings read as text: {sum(missed.values()):,}; text read as headings: "
        f"{sum(invented.values()):,}"
    )
    for label, found in (("missed", missed), ("invented", invented)):
        for text, _ in found.most_common(args.examples):
            print(f"  {label}: {text[:100]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
