"""The interface language: English or Simplified Chinese, one gettext catalogue each.

The language of a request is ``?hl=`` if it names one we have, else the best of the
browser's ``Accept-Language``, else the site's configured ``language``. Links made with
``url_for`` keep an explicit ``hl``, so a reader who switched stays switched. Templates use
``_()``/``ngettext()`` (Flask-Babel); the scripts get their strings from here, translated on
the server, so every string lives in ``translations/<lang>/LC_MESSAGES/messages.po``.
Dates are shown in the reader's language with Babel (``July 12, 2024``, ``2024年7月12日``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Flask, current_app, has_app_context, has_request_context, request, url_for
from flask_babel import Babel, force_locale, format_date, get_locale, get_translations, gettext
from jinja2.ext import _make_new_gettext, _make_new_ngettext

LANGUAGES = ("en", "zh")
#: The ``lang`` attribute of pages in each language (zh-CN picks Simplified Chinese fonts).
HTML_LANG = {"en": "en", "zh": "zh-CN"}
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}
TRANSLATIONS = Path(__file__).parent / "translations"


def init_app(app: Flask) -> None:
    """Install Flask-Babel, the ``hl`` link default and the template helpers."""
    Babel(
        app, locale_selector=interface_language, default_translation_directories=str(TRANSLATIONS)
    )
    app.url_defaults(_keep_hl)
    app.jinja_env.filters["day"] = format_day
    app.context_processor(_template_helpers)


def chosen_language() -> str | None:
    """The request's ``?hl=`` when it names a language we have (an undecodable query string,
    which gets a 400 page, names none)."""
    if not has_request_context():
        return None
    try:
        hl = request.args.get("hl", "")
    except UnicodeDecodeError:
        return None
    return hl if hl in LANGUAGES else None


def interface_language() -> str:
    """``?hl=``, else ``Accept-Language``, else the configured language."""
    fallback = current_app.config.get("LANGUAGE") or "en"
    if not has_request_context():
        return fallback
    return chosen_language() or request.accept_languages.best_match(LANGUAGES) or fallback


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else "en"


def _keep_hl(endpoint: str, values: dict) -> None:
    """Links to pages carry the ``hl`` the reader chose (not API, static or embed URLs)."""
    if endpoint == "static" or not endpoint.startswith("pages."):
        return
    hl = chosen_language()
    if hl and endpoint not in ("pages.embed_js", "pages.site_logo"):
        values.setdefault("hl", hl)


#: Days kept formatted per app (a few hundred bytes each): an archive's dates, in two languages.
MAX_FORMATTED_DAYS = 4096


def format_day(value: str | None) -> str:
    """An ISO date (``2024-07-12``) in the reader's language; other text unchanged.

    Kept per app and locale (Flask-Babel's locale, date formats and Babel's patterns looked up
    at each call took ~4% of a results page's CPU, for ten dates or so); at most
    MAX_FORMATTED_DAYS, then started afresh."""
    if not value:
        return ""
    try:
        day = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    if not has_app_context():
        return format_date(day, format="long")
    made = current_app.extensions.setdefault("searchapp.days", {})
    key = (str(get_locale()), day)
    shown = made.get(key)
    if shown is None:
        if len(made) >= MAX_FORMATTED_DAYS:
            made.clear()
        shown = made[key] = format_date(day, format="long")
    return shown


def switch_url(language: str) -> str:
    """The current page in another language."""
    try:
        args = {k: v for k, v in request.args.items() if k != "hl"}
    except UnicodeDecodeError:
        args = {}
    args["hl"] = language
    endpoint = request.endpoint or "pages.home"
    if not endpoint.startswith("pages."):
        endpoint = "pages.home"
    return url_for(endpoint, **(request.view_args or {}), **args)


def _template_helpers() -> dict:
    language = current_language()
    translations = get_translations()
    return {
        "ui_lang": language,
        "html_lang": HTML_LANG[language],
        "language_names": LANGUAGE_NAMES,
        "languages": LANGUAGES,
        "switch_url": switch_url,
        "chosen_language": chosen_language(),
        # The template's _() and ngettext() bound to this render's catalogue, as Flask-Babel's
        # installs them (Jinja's newstyle wrappers) but without looking the request's domain,
        # locale and catalogue up again at each of a results page's ~60 strings (~9% of its
        # CPU). ``_`` resolves ``gettext`` from the context, so it takes this one too.
        "gettext": _make_new_gettext(translations.ugettext),
        "ngettext": _make_new_ngettext(translations.ungettext),
    }


def _n(singular: str, plural: str, n: int, **variables: str) -> str:
    """``ngettext`` whose ``num`` can be a placeholder (Flask-Babel's always formats ``n``)."""
    return get_translations().ungettext(singular, plural, n) % variables


def script_strings() -> dict[str, str]:
    """The strings ``app.js`` and ``embed.js`` show, in the current language (the results
    themselves are rendered by the server's templates, translated there): translated once
    per locale and app, as Flask-Babel loads each catalogue once per app (20 strings in every
    page took ~3% of a results page's CPU); a new dict."""
    if not has_app_context():
        return _script_strings()
    made = current_app.extensions.setdefault("searchapp.script_strings", {})
    locale = str(get_locale())
    if locale not in made:
        made[locale] = _script_strings()
    return dict(made[locale])


def _script_strings() -> dict[str, str]:
    """The script strings, translated now.

    ``{n}``, ``{q}``, ``{name}``, ``{date}`` ... are filled in by the scripts; ``*_one`` and
    ``*_other`` are the singular and plural forms (the same in Chinese), which ``embed.js``
    picks by name (``results_for_one`` ...).
    """
    return {
        "results_for_one": _n(
            "%(num)s result for %(q)s", "%(num)s results for %(q)s", 1, num="{n}", q="{q}"
        ),
        "results_for_other": _n(
            "%(num)s result for %(q)s", "%(num)s results for %(q)s", 2, num="{n}", q="{q}"
        ),
        "articles_for_one": _n(
            "%(num)s article for %(q)s", "%(num)s articles for %(q)s", 1, num="{n}", q="{q}"
        ),
        "articles_for_other": _n(
            "%(num)s article for %(q)s", "%(num)s articles for %(q)s", 2, num="{n}", q="{q}"
        ),
        "search_failed": gettext("Search failed."),
        "search_failed_because": gettext("Search failed: %(reason)s", reason="{reason}"),
        "unavailable": gettext(
            "Search is unavailable right now. Check your connection and try again."
        ),
        "no_results_for": gettext("No results for “%(q)s”.", q="{q}"),
        "no_results_try": gettext(
            "No results for “%(q)s”. Try “%(suggestion)s”.", q="{q}", suggestion="{suggestion}"
        ),  # fmt: skip
        "photo_by_taken": gettext(
            "Photo by %(name)s, taken %(date)s", name="{name}", date="{date}"
        ),
        "photo_by": gettext("Photo by %(name)s", name="{name}"),
        "photo_taken": gettext("Photo taken %(date)s", date="{date}"),
        "search_label": gettext("Search news articles"),
        "placeholder": gettext("Search news…"),
        "all_results": gettext("All %(num)s results →", num="{n}"),
        "all_articles": gettext("All %(num)s articles →", num="{n}"),
        "search_by": gettext("Search by"),
        "suggestions": gettext("Suggestions"),
    }


def script_strings_for(language: str) -> dict[str, str]:
    with force_locale(language):
        return script_strings()
