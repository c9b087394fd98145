"""Highlighting's own escaping and marking, compared with what it replaced."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape as markupsafe_escape

from searchapp.highlighting import escape, mark, snippet

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
