"""Highlighting's own escaping and marking, compared with what it replaced."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape as markupsafe_escape

from searchapp.highlighting import escape, mark, merge_spans, snippet

TRICKY = ['<a href="x">it\'s & </a>', "&amp; &#39; &lt;", "", "plain", "\"'<>&" * 50, "中老<铁路>"]


@given(st.text(alphabet=st.sampled_from("<>&\"'a中 \x00;#"), max_size=60))
def test_escape_is_markupsafes(text):
    assert escape(text) == str(markupsafe_escape(text))


def test_escape_of_tricky_strings_is_markupsafes():
    for text in TRICKY:
        assert escape(text) == str(markupsafe_escape(text))


def test_mark_escapes_everything_but_its_own_tags():
    text = '<b>Gwadar</b> & "port" it\'s'
    assert mark(text, [(3, 9), (17, 21)]) == (
        "&lt;b&gt;<mark>Gwadar</mark>&lt;/b&gt; &amp; &#34;<mark>port</mark>&#34; it&#39;s"
    )
    long = "x " * 200 + "<port>" + " y" * 200
    assert "&lt;<mark>port</mark>&gt;" in snippet(long, [(401, 405)])


# --- snippet: compared with the version before spans were merged once ----------------------


def _former_mark(text: str, spans: list[tuple[int, int]]) -> str:
    out: list[str] = []
    at = 0
    for start, end in merge_spans(spans):
        start, end = max(start, at), min(end, len(text))
        if start >= end:
            continue
        out.append(escape(text[at:start]))
        out.append("<mark>" + escape(text[start:end]) + "</mark>")
        at = end
    out.append(escape(text[at:]))
    return "".join(out)


def _former_snippet(text: str, spans: list[tuple[int, int]], maxchars: int = 220) -> str:
    """``snippet`` as it was: the spans merged again for each mark, the densest window
    counted span by span."""
    spans = merge_spans(spans)
    if len(text) <= maxchars:
        return _former_mark(text, spans)
    if not spans:
        return _former_clip(text, 0, maxchars, [])
    best_start, best_count = spans[0][0], 0
    for i, (start, _) in enumerate(spans[:200]):
        count = sum(1 for s, e in spans[i : i + 50] if e <= start + maxchars)
        if count > best_count:
            best_start, best_count = start, count
    begin = max(0, best_start - maxchars // 5)
    return _former_clip(text, begin, begin + maxchars, spans)


def _former_clip(text: str, begin: int, end: int, spans: list[tuple[int, int]]) -> str:
    end = min(len(text), end)
    if end - begin < len(text) and end < len(text):
        space = text.rfind(" ", begin + (end - begin) // 2, end)
        end = space if space > 0 else end
    if begin > 0:
        space = text.find(" ", begin, begin + 20)
        begin = space + 1 if space >= 0 else begin
    window = [
        (max(s, begin) - begin, min(e, end) - begin) for s, e in spans if e > begin and s < end
    ]
    body = _former_mark(text[begin:end], window)
    return ("… " if begin > 0 else "") + body + (" …" if end < len(text) else "")


@st.composite
def _texts_and_spans(draw, max_size: int = 700):
    text = draw(st.text(alphabet=st.sampled_from("ab <>&'\"中 "), max_size=max_size))
    bound = len(text) + 5
    spans = draw(
        st.lists(
            st.tuples(st.integers(0, bound), st.integers(0, 12)).map(lambda s: (s[0], s[0] + s[1])),
            max_size=80,
        )
    )
    return text, spans


@settings(max_examples=400, deadline=None)
@given(_texts_and_spans(), st.sampled_from([220, 40, 7]))
def test_snippet_is_the_former_snippet(text_spans, maxchars):
    text, spans = text_spans
    assert snippet(text, spans, maxchars) == _former_snippet(text, spans, maxchars)
    assert mark(text, spans) == _former_mark(text, spans)


def test_snippet_of_many_matches_is_the_former_snippet():
    """Hundreds of matches: the densest window is found by bisection over their ends."""
    text = " ".join(("port" if i % 3 else "rail") + " x" * (i % 7) for i in range(900))
    for word in ("port", "rail", "x"):
        spans = [(i, i + len(word)) for i in range(len(text)) if text.startswith(word, i)]
        assert len(spans) > 250
        for maxchars in (220, 60, 1000):
            assert snippet(text, spans, maxchars) == _former_snippet(text, spans, maxchars)
