"""Real text this machine has without the internet.

* English: Debian package descriptions (``apt-cache dumpavail`` for sections, the
  ``Translation-en`` list for long descriptions).
* Chinese: the ``Translation-zh_CN`` list and the manual pages of the ``manpages-zh`` package
  (simplified ``zh_CN`` and traditional ``zh_TW``).

Apt's translation lists exist only after ``apt-get -o Acquire::Languages=en,zh_CN update``, and
the next plain ``apt-get update`` deletes them again, so the first time they are found they are
copied, decompressed, into ``bench-data/sources/``.
"""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

APT_LISTS = Path("/var/lib/apt/lists")
APT_HELPER = "/usr/lib/apt/apt-helper"
MAN_ROOT = Path("/usr/share/man")
FETCH_COMMAND = ["apt-get", "-o", "Acquire::Languages=en,zh_CN", "update"]
INSTALL_COMMAND = ["apt-get", "install", "-y", "--no-install-recommends", "manpages-zh"]

_CJK = "\u2e80-\u2fff\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_RE = re.compile(f"[{_CJK}]")
_SPACES_RE = re.compile(r"\s+")


class SourceMissing(RuntimeError):
    """A text source is not on this machine; the message says how to get it."""


@dataclass
class Package:
    """One package description: paragraphs[0] is the one-line summary."""

    name: str
    section: str
    paragraphs: list[str]


@dataclass
class ManPage:
    """One manual page as blocks: ``("heading"|"paragraph", text)``."""

    name: str
    locale: str
    section: str
    title: str
    blocks: list[tuple[str, str]]


def join_lines(lines: list[str]) -> str:
    """Join wrapped lines with spaces, but not between two Chinese characters."""
    out = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if out and not (_CJK_RE.match(out[-1]) and _CJK_RE.match(line[0])):
            out += " "
        out += line
    return _SPACES_RE.sub(" ", out).strip()


def cache_sources(dest: Path, fetch: bool = False) -> dict[str, Path]:
    """Copy Packages, Translation-en and Translation-zh_CN into ``dest`` (once) and return paths.

    With ``fetch`` a missing translation list is fetched with ``apt-get update`` first.
    """
    dest.mkdir(parents=True, exist_ok=True)
    paths = {
        "packages": dest / "Packages.txt",
        "en": dest / "Translation-en.txt",
        "zh_CN": dest / "Translation-zh_CN.txt",
    }
    if not paths["packages"].exists():
        with open(paths["packages"].with_suffix(".tmp"), "wb") as out:
            subprocess.run(["apt-cache", "dumpavail"], stdout=out, check=True, timeout=300)
        paths["packages"].with_suffix(".tmp").rename(paths["packages"])
    for lang in ("en", "zh_CN"):
        if paths[lang].exists():
            continue
        lists = _translation_lists(lang)
        if not lists and fetch:
            subprocess.run(FETCH_COMMAND, check=True, timeout=600)
            lists = _translation_lists(lang)
        if not lists:
            raise SourceMissing(
                f"no apt Translation-{lang} list; run `{' '.join(FETCH_COMMAND)}` "
                "or pass --fetch-sources"
            )
        tmp = paths[lang].with_suffix(".tmp")
        with open(tmp, "wb") as out:
            for lst in lists:
                out.write(_decompress(lst))
                out.write(b"\n")
        tmp.rename(paths[lang])
    return paths


def manpages_installed() -> bool:
    """Whether dpkg has ``manpages-zh`` installed (without dpkg: its ``ab.1`` page is there)."""
    if shutil.which("dpkg-query"):
        done = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", "manpages-zh"],
            capture_output=True,
            text=True,
            check=False,
        )
        return done.returncode == 0 and done.stdout.endswith(" installed")
    return (MAN_ROOT / "zh_CN" / "man1" / "ab.1.gz").exists()


def ensure_manpages(install: bool = False) -> None:
    """Make sure ``manpages-zh`` is installed (installing it with apt when asked).

    Asked of dpkg, not of ``/usr/share/man/zh_CN``: man-db, login and passwd put 17 Chinese
    pages there too, and a corpus built from those alone is 2% Chinese instead of 25%."""
    if manpages_installed():
        return
    if install and shutil.which("apt-get"):
        subprocess.run(INSTALL_COMMAND, check=True, timeout=600)
        return
    raise SourceMissing(
        f"Chinese man pages missing; run `{' '.join(INSTALL_COMMAND)}` or pass --fetch-sources"
    )


def _translation_lists(lang: str) -> list[Path]:
    return sorted(p for p in APT_LISTS.glob(f"*_i18n_Translation-{lang.replace('_', '%5f')}*"))


def _decompress(path: Path) -> bytes:
    if Path(APT_HELPER).exists():
        done = subprocess.run(
            [APT_HELPER, "cat-file", str(path)], capture_output=True, check=True, timeout=300
        )
        return done.stdout
    if path.suffix == ".gz":
        return gzip.decompress(path.read_bytes())
    return path.read_bytes()


def deb822(path: Path) -> Iterator[dict[str, str]]:
    """Stanzas of a Debian control-style file; continuation lines keep their newline."""
    stanza: dict[str, str] = {}
    key = ""
    with open(path, encoding="utf-8", errors="replace") as handle:
        for raw in handle:
            line = raw.rstrip("\n")
            if not line.strip():
                if stanza:
                    yield stanza
                stanza, key = {}, ""
            elif line[0] in " \t" and key:
                stanza[key] += "\n" + line[1:]
            elif ":" in line:
                key, _, value = line.partition(":")
                stanza[key] = value.strip()
    if stanza:
        yield stanza


def description_paragraphs(text: str) -> list[str]:
    """Split a Debian description (summary line, then `` .``-separated paragraphs)."""
    lines = text.split("\n")
    paragraphs = [join_lines([lines[0]])]
    current: list[str] = []
    for line in lines[1:]:
        if line.strip() == ".":
            if current:
                paragraphs.append(join_lines(current))
            current = []
        else:
            current.append(line)
    if current:
        paragraphs.append(join_lines(current))
    return [p for p in paragraphs if p]


def load_packages(paths: dict[str, Path], lang: str) -> list[Package]:
    """Packages with a description in ``lang`` (``en`` or ``zh_CN``), sorted by name."""
    sections: dict[str, str] = {}
    for stanza in deb822(paths["packages"]):
        name = stanza.get("Package", "")
        if name and name not in sections:
            sections[name] = stanza.get("Section", "misc").split("/")[-1] or "misc"
    field = f"Description-{lang}"
    found: dict[str, Package] = {}
    for stanza in deb822(paths[lang]):
        name = stanza.get("Package", "")
        if not name or name in found or field not in stanza:
            continue
        paragraphs = description_paragraphs(stanza[field])
        if paragraphs:
            found[name] = Package(name, sections.get(name, "misc"), paragraphs)
    return [found[name] for name in sorted(found)]


# --- manual pages -------------------------------------------------------------------------

_BREAK_REQUESTS = {
    "PP", "LP", "P", "sp", "IP", "TP", "HP", "RS", "RE", "Sp", "Ip", "Pp", "It", "Bl", "El",
    "Vb", "Ve", "nf", "fi", "bp", "Dl", "Bd", "Ed", "TQ", "CS", "CE", "PD", "ti", "in", "br",
}  # fmt: skip
_HEADING_REQUESTS = {"SH", "SS", "Sh", "Ss"}
_TEXT_REQUESTS = {
    "B", "I", "SM", "SB", "BR", "RB", "IR", "RI", "BI", "IB", "Nm", "Nd", "Ar", "Fl", "Op",
    "Xr", "Pa", "Ic", "Ql", "Dq", "Pq", "Sq", "Tn", "Em", "Cm", "Va", "Ev", "Li", "Sy", "Dv",
    "Fn", "Ft", "Fa", "Ad", "An", "Cd", "Er", "Ux", "Bx", "At", "Ox", "Nx", "Fx",
}  # fmt: skip
_ALTERNATING = {"BR", "RB", "IR", "RI", "BI", "IB"}

_ESCAPES = [
    (re.compile(r"\\\".*$"), ""),  # comment to end of line
    (re.compile(r"\\f(?:\(..|\[[^\]]*\]|.)"), ""),  # font changes
    (re.compile(r"\\s[+-]?\d+"), ""),  # size changes
    (re.compile(r"\\\*(?:\(..|\[[^\]]*\]|.)"), ""),  # string references
    (re.compile(r"\\[nw]\(..|\\[nw].|\\[hvwlLxoDbZ]'[^']*'"), ""),  # registers, motions
]
_NAMED_CHARS = {
    "em": "—", "en": "–", "bu": "•", "lq": "“", "rq": "”", "oq": "‘", "cq": "’", "co": "©",
    "rg": "®", "tm": "™", "aq": "'", "dq": '"', "hy": "-", "mi": "-", "pl": "+", "mu": "×",
    "<=": "≤", ">=": "≥", "->": "→", "<-": "←", "de": "°", "ga": "`", "aa": "´", "ti": "~",
    "ha": "^", "rs": "\\", "ba": "|", "sl": "/", "eq": "=", "fm": "′", "Do": "$", "at": "@",
}  # fmt: skip
_NAMED_RE = re.compile(r"\\\((..)|\\\[([^\]]*)\]")
_SIMPLE_ESCAPES = {"-": "-", "e": "\\", "\\": "\\", " ": " ", "~": " ", "0": " ", "&": "",
                   "|": "", "^": "", "c": "", "%": "", ":": "", "/": "", ",": "", "'": "'",
                   "`": "`", ".": ".", "t": " ", "{": "", "}": ""}  # fmt: skip
_SIMPLE_RE = re.compile(r"\\(.)")


def troff_text(line: str) -> str:
    """Plain text of one troff line: escapes resolved, fonts and sizes dropped."""
    for pattern, repl in _ESCAPES:
        line = pattern.sub(repl, line)
    line = _NAMED_RE.sub(lambda m: _NAMED_CHARS.get(m.group(1) or m.group(2), ""), line)
    return _SIMPLE_RE.sub(lambda m: _SIMPLE_ESCAPES.get(m.group(1), m.group(1)), line)


def _macro_args(rest: str) -> list[str]:
    return [a[1:-1] if a.startswith('"') else a for a in re.findall(r'"[^"]*"?|\S+', rest)]


def parse_manpage(path: Path, locale: str) -> ManPage | None:
    """Parse a gzipped troff/mdoc manual page into headings and paragraphs."""
    data = gzip.decompress(path.read_bytes())
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("gb18030" if locale == "zh_CN" else "big5", errors="replace")
    name, _, section = path.name.removesuffix(".gz").rpartition(".")
    blocks: list[tuple[str, str]] = []
    current: list[str] = []
    in_macro = False
    current_heading = ""
    summary = ""

    def flush() -> None:
        nonlocal summary
        if current:
            para = join_lines(current)
            current.clear()
            if len(para) >= 8:
                if current_heading.upper().startswith("NAME") or current_heading in (
                    "名称",
                    "名稱",
                ):
                    summary = summary or para
                blocks.append(("paragraph", para))

    for raw in text.splitlines():
        if in_macro:
            in_macro = raw.strip() != ".."
            continue
        if raw.startswith(('.\\"', "'\\\"", '.\\"', "'.\\\"")) or raw.strip() in (".", "'"):
            continue
        if raw.startswith((".", "'")):
            request, _, rest = raw[1:].strip().partition(" ")
            if request in ("de", "de1", "am", "ig"):
                in_macro = True
                continue
            if request in _HEADING_REQUESTS:
                flush()
                heading = join_lines([troff_text(" ".join(_macro_args(rest)))])
                if heading:
                    current_heading = heading
                    blocks.append(("heading", heading[:100]))
            elif request in _BREAK_REQUESTS:
                flush()
                if request in ("IP", "Ip", "It") and rest:
                    args = _macro_args(rest)
                    tag = troff_text(args[0]) if args else ""
                    if tag and tag not in ("•", "-", "*", "o"):
                        current.append(tag)
            elif request in _TEXT_REQUESTS:
                args = _macro_args(troff_text(rest) if request not in _ALTERNATING else rest)
                if request in _ALTERNATING:
                    current.append("".join(troff_text(a) for a in args))
                else:
                    current.append(" ".join(args))
            continue
        current.append(troff_text(raw))
    flush()
    if not any(kind == "paragraph" for kind, _ in blocks):
        return None
    title = summary or name
    title = title.replace(" - ", " — ", 1) if " - " in title else title
    return ManPage(name=name, locale=locale, section=section, title=title[:160], blocks=blocks)


def load_manpages(locale: str) -> list[ManPage]:
    """All parseable man pages of one locale (``zh_CN`` or ``zh_TW``), sorted by path."""
    pages = []
    for path in sorted(MAN_ROOT.glob(f"{locale}/man*/*.gz")):
        try:
            page = parse_manpage(path, locale)
        except (OSError, EOFError, gzip.BadGzipFile):
            continue
        if page is not None:
            pages.append(page)
    return pages
