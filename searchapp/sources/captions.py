"""Photo captions: who took the picture and when, in the conventions newsrooms write them.

Shared by every reader. Xinhua's (``(Photo by Name/Xinhua)``, ``(Xinhua/Name)``,
``新华社记者张三摄``), the agencies' (``(Name/Reuters)``, ``(AP Photo/Name)``), and the usual
credit lines (``Photo: Name / Paper``, ``Photograph: Name/Agency``, ``本报记者李伟摄``,
``（陈美玲 摄）``, ``（图：陈美玲）``, ``記者林家豪攝``).

Every pattern here runs in time linear in the text (issue 13.6: a lazy group between two
``\\s*`` made "(Photo by x" plus 2,000 spaces take 11 s): quantifiers are bounded or possessive,
parentheses are found once by a scan that never re-reads, and callers only look at blocks up to
``MAX_CAPTION_CHARS`` long.
"""

from __future__ import annotations

import datetime as dt
import re

#: A caption is never longer than this; longer blocks are not examined for captions at all.
MAX_CAPTION_CHARS = 1500

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}
_EN_DATE_RE = re.compile(
    r"\b(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?\s{1,3}(\d{1,2})"
    r"(?:st|nd|rd|th)?,?\s{1,3}(\d{4})\b",
    re.IGNORECASE,
)
_ZH_DATE_RE = re.compile(
    r"(\d{4})\s{0,2}年\s{0,2}(\d{1,2})\s{0,2}月\s{0,2}(\d{1,2})\s{0,2}[日号號]"
)

# One parenthesised group (half- or full-width), at most 300 characters, never nested.
_PAREN_RE = re.compile(r"[(（]([^()（）]{1,300}+)[)）]")

_TAKEN_ON_RE = re.compile(r"\b(?:taken|photographed|shot)\s{1,3}on\b", re.I)
_PHOTO_TAKEN_ON_RE = re.compile(r"\bphoto\s{1,3}taken\s{1,3}on\s{1,3}", re.I)
_ZH_TAKEN_RE = re.compile(
    r"(\d{4}\s{0,2}年\s{0,2}\d{1,2}\s{0,2}月\s{0,2}\d{1,2}\s{0,2}日)\s{0,3}(?:拍摄|拍攝|摄|攝)"
)

_SP = r"[\s\u3000]"
_CJK_NAME = r"[\u4e00-\u9fff·•]{2,12}+"
# An English name: up to six capitalised words ("Li Wei", "Wong Siu-ming", "Zhang and Li").
_NAME = r"[A-Z][\w'.\-]{0,30}+(?:\s{1,3}(?:and\s{1,3})?[A-Z][\w'.\-]{0,30}+){0,5}"

AGENCIES = (
    "xinhua",
    "reuters",
    "ap",
    "afp",
    "epa",
    "epa-efe",
    "getty images",
    "afp via getty images",
    "bloomberg",
    "cns",
    "vcg",
    "ic photo",
    "kyodo",
    "yonhap",
    "dpa",
    "anadolu",
)

_XINHUA_REPORTER_RE = re.compile(
    rf"photo\s{{1,3}}by\s{{1,3}}xinhua\s{{1,3}}(?:news\s{{1,3}}agency\s{{1,3}})?reporters?\s{{1,3}}"
    rf"({_NAME})",
    re.I,
)
# Inside one parenthesis (the group is already cut out, so anchors are cheap).
_PAREN_PHOTO_BY_RE = re.compile(r"^\s{0,3}photo(?:graph)?s?\s{0,3}(?:by\b|[:：])\s{0,3}(.+)$", re.I)
_PAREN_AGENCY_FIRST_RE = re.compile(
    r"^\s{0,3}(?:xinhua|ap|afp|reuters|epa|[a-z][\w ]{0,30}\s{1,3}photo)\s{0,3}/\s{0,3}(.+)$",
    re.I,
)
_PAREN_NAME_AGENCY_RE = re.compile(r"^\s{0,3}([^/]{2,60})/\s{0,3}([^/]{2,40})$")
_PAREN_ZH_TAKEN_BY_RE = re.compile(
    rf"^{_SP}{{0,3}}(?:新华社发|新華社發|本报记者|本報記者|新华社记者|新華社記者|记者|記者)?"
    rf"{_SP}{{0,3}}([^\s\u3000].{{0,40}}?){_SP}{{0,3}}[摄攝](?:影)?{_SP}{{0,3}}$"
)
_PAREN_ZH_PICTURE_RE = re.compile(
    rf"^{_SP}{{0,3}}[图圖]{_SP}{{0,2}}[:：/／]{_SP}{{0,2}}(.{{1,40}})$"
)

_PHOTO_BY_RE = re.compile(rf"\bphoto\s{{1,3}}by\s{{1,3}}(?!xinhua\b)({_NAME})", re.I)
_PHOTO_COLON_RE = re.compile(
    rf"\bphoto(?:graph)?s?\s{{0,3}}[:：]\s{{0,3}}({_NAME}|{_CJK_NAME})", re.I
)
_ZH_REPORTER_RE = re.compile(
    rf"(?:新华社记者|新華社記者|本报记者|本報記者|记者|記者){_SP}{{0,3}}"
    rf"([\u4e00-\u9fff·、]{{2,20}}?){_SP}{{0,3}}[摄攝]"
)
_ZH_XINHUA_SENT_RE = re.compile(
    rf"新华社发{_SP}{{0,3}}[（(]?{_SP}{{0,3}}([\u4e00-\u9fff·、]{{2,12}}){_SP}{{0,3}}摄"
)
_ZH_TRAILING_RE = re.compile(rf"([\u4e00-\u9fff·]{{2,4}}){_SP}{{0,3}}[摄攝]{_SP}{{0,3}}$")

_HINT_RE = re.compile(
    r"\bdrone\s{1,3}photo\b|\bphoto\s{1,3}taken\s{1,3}on\b|\bphoto(?:graph)?s?\s{0,3}(?:by\b|[:：])"
    r"|新华社记者|新華社記者|本报记者|本報記者|新华社发|拍摄的|拍攝的|[摄攝]\s{0,3}[）)]|[摄攝]\s{0,3}$",
    re.I,
)


def is_caption(block: str) -> bool:
    """Whether a block of running text reads as a photo caption (a credit and a name or date)."""
    if len(block) > MAX_CAPTION_CHARS:
        return False
    if not _has_hint(block):
        return False
    return bool(photographer(block) or photo_date(block))


def caption_details(block: str) -> tuple[str | None, str | None]:
    """(photographer, ISO photo date) as far as the caption gives them."""
    if len(block) > MAX_CAPTION_CHARS:
        return None, None
    return photographer(block), photo_date(block)


def _has_hint(block: str) -> bool:
    if _HINT_RE.search(block):
        return True
    for content in _parens(block):
        if _TAKEN_ON_RE.search(content) or _paren_photographer(content):
            return True
    return False


def _parens(block: str) -> list[str]:
    return [m.group(1) for m in _PAREN_RE.finditer(block)]


def photographer(block: str) -> str | None:
    """The photographer's name, by the first convention that matches, or None."""
    match = _XINHUA_REPORTER_RE.search(block)
    if match:
        return _clean_name(match.group(1))
    for content in reversed(_parens(block)):  # the credit closes the caption
        name = _paren_photographer(content)
        if name:
            return name
    for pattern in (
        _PHOTO_BY_RE,
        _PHOTO_COLON_RE,
        _ZH_REPORTER_RE,
        _ZH_XINHUA_SENT_RE,
        _ZH_TRAILING_RE,
    ):
        match = pattern.search(block)
        if match:
            name = _clean_name(match.group(1))
            if name:
                return name
    return None


def _paren_photographer(content: str) -> str | None:
    """The name in one parenthesis: ``Photo by X/Xinhua``, ``Xinhua/X``, ``X/Reuters``, ``X摄``."""
    match = _PAREN_PHOTO_BY_RE.match(content)
    if match:
        return _clean_name(match.group(1).split("/")[0])
    match = _PAREN_AGENCY_FIRST_RE.match(content)
    if match and not _TAKEN_ON_RE.search(content):
        return _clean_name(match.group(1))
    match = _PAREN_NAME_AGENCY_RE.match(content)
    if match and match.group(2).strip().lower() in AGENCIES:
        return _clean_name(match.group(1))
    match = _PAREN_ZH_TAKEN_BY_RE.match(content)
    if match:
        return _clean_name(match.group(1))
    match = _PAREN_ZH_PICTURE_RE.match(content)
    if match:
        return _clean_name(match.group(1).split("/")[0])
    return None


def _clean_name(name: str) -> str | None:
    name = " ".join(name.split()).strip(" 　、,，.。:：")
    if not name or len(name) > 60 or "<" in name or len(name.split()) > 6:
        return None
    return name


def photo_date(block: str) -> str | None:
    """The date the photo was taken (ISO), else the first date the caption gives, or None."""
    for content in _parens(block):
        match = _TAKEN_ON_RE.search(content)
        if match:
            date = first_date(content[match.end() :])
            if date:
                return date
    match = _PHOTO_TAKEN_ON_RE.search(block)
    if match:
        date = first_date(block[match.end() : match.end() + 40])
        if date:
            return date
    match = _ZH_TAKEN_RE.search(block)
    if match:
        date = first_date(match.group(1))
        if date:
            return date
    return first_date(block)


def first_date(text: str) -> str | None:
    """The first English or Chinese calendar date in ``text``, as ISO, or None."""
    match = _EN_DATE_RE.search(text)
    if match:
        month = _MONTHS.get(match.group(1).lower().rstrip("."))
        if month:
            return valid_iso_date(f"{match.group(3)}-{month:02d}-{int(match.group(2)):02d}")
    match = _ZH_DATE_RE.search(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return valid_iso_date(f"{year:04d}-{month:02d}-{day:02d}")
    return None


def valid_iso_date(value: str) -> str | None:
    """``value`` if it is a real ``YYYY-MM-DD`` date, else None."""
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        return None
