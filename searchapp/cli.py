"""The ``searchapp`` command: index, search, stats, serve, report, config.

Commands only parse options and print; the work is done by plain functions in the other
modules, which the tests call directly. User mistakes exit with a clear message, no traceback.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
from pathlib import Path

import click

from searchapp import config
from searchapp.articles import CONTROL_CHARS_RE, KINDS
from searchapp.budget import QueryTooExpensive
from searchapp.handle import IndexHandle
from searchapp.indexing import (
    IndexingError,
    NothingIndexed,
    build_index,
    indexed_sources,
    resolved_sources,
)
from searchapp.params import MAX_PER_PAGE, InvalidParameter
from searchapp.results import GROUPS, SORTS
from searchapp.searching import search
from searchapp.store import IndexUnavailable
from searchapp.synonyms import Synonyms

#: The gunicorn and operations settings ``serve`` takes as options (``serving.ServeSettings``).
SERVE_OPTIONS = (
    "worker_class",
    "threads",
    "max_connections",
    "timeout",
    "header_timeout",
    "keepalive",
    "max_requests",
    "max_requests_jitter",
    "proxies",
    "access_log",
    "log_format",
    "metrics",
    "query_log",
)


def _setting_options(*names: str):
    """Command line options made from the settings table (``config.SETTINGS``): its option
    name, type, range or choices, help and default, written once there."""

    def decorate(func):
        for name in reversed(names):
            setting = config.BY_NAME[name]
            default = setting.default_value()
            shown = ("on" if default else "off") if setting.kind == "bool" else default
            help_text = f"{setting.help} [{shown}]"
            if setting.kind == "bool":
                flag = f"{setting.option}/--no-{setting.option[2:]}"
                func = click.option(flag, name, default=None, help=help_text)(func)
                continue
            if setting.kind == "choice":
                kind = click.Choice(setting.choices)
            else:
                kind = click.IntRange(setting.low, setting.high)
            func = click.option(setting.option, name, type=kind, default=None, help=help_text)(func)
        return func

    return decorate


def _path_option(flag: str, name: str, help_text: str, **path):
    return click.option(
        flag, name, type=click.Path(path_type=Path, **path), default=None, help=help_text
    )


def _index_option(func):
    index = "Index folder [default: $SEARCHAPP_INDEX, the config file, or ./index]."
    func = _path_option("--index", "index_dir", index, file_okay=False)(func)
    return _config_option(func)


def _config_option(func):
    where = "Settings file [default: $SEARCHAPP_CONFIG, or searchapp.toml beside the index]."
    return _path_option("--config", "config_file", where, dir_okay=False)(func)


def settings(config_file: Path | None, **options) -> config.Config:
    """The effective configuration, or a clear message (exit 1) when the file is bad."""
    try:
        return config.load(options, config_file=config_file)
    except config.ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="searchapp")
def main() -> None:
    """Bilingual (English/Chinese) full-text search for news articles."""


@main.command("index")
@click.option(
    "--source",
    "source_dirs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Folder of articles: .txt, .html, .md, .json, .jsonl files, searched recursively "
    "(repeatable) [default: $SEARCHAPP_SOURCE, the config file's index.sources, else the "
    "folders the index was built from, else the bundled article].",
)
@_index_option
@click.option("--rebuild", is_flag=True, help="Re-index everything instead of only changes.")
@click.option(
    "--procs",
    type=click.IntRange(1, 16),
    default=None,
    help="Processes for a full build [default: the number of cores, at most 4].",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar, only the summary.")
def index_command(
    source_dirs: tuple[Path, ...],
    index_dir: Path | None,
    config_file: Path | None,
    rebuild: bool,
    procs: int | None,
    quiet: bool,
) -> None:
    """Build or update the index (incremental unless --rebuild)."""
    conf = settings(config_file, sources=list(source_dirs), index_dir=index_dir)
    index_dir = conf["index_dir"]
    sources, remembered = choose_sources(conf)
    if remembered:
        click.echo(f"note: indexing {', '.join(map(str, sources))} (as before)", err=True)
    report = run_index(
        sources,
        index_dir,
        rebuild=rebuild,
        procs=procs,
        quiet=quiet,
        synonyms=Synonyms(conf["synonyms"], conf["abbreviations"]),
    )
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    for path, reason in report.skipped:
        click.echo(f"skipped {path}: {reason}", err=True)
    for path, warning in report.warnings:
        click.echo(f"warning: {path}: {warning}", err=True)
    click.echo(report.summary())


def choose_sources(conf: config.Config) -> tuple[list[Path], bool]:
    """(source folders, whether they are the index's own): ``--source``, else
    ``$SEARCHAPP_SOURCE``, else the config file's ``index.sources``, else the folders the index
    was built from, else the bundled article.

    Without the index's memory, a plain ``searchapp index`` would index the bundled article
    and remove every article of a user's own archive.
    """
    if conf.origins["sources"] != "default":
        return conf["sources"], False
    remembered = indexed_sources(conf["index_dir"])
    if remembered:
        return [Path(s) for s in remembered], True
    return conf["sources"], False


def run_index(
    sources,
    index_dir: Path,
    rebuild: bool,
    procs: int | None = None,
    quiet: bool = False,
    synonyms: Synonyms | None = None,
):
    """Run an indexing pass with a progress bar on a terminal."""
    show_bar = not quiet and sys.stderr.isatty()
    bar = None

    def progress(done: int, total: int, name: str) -> None:
        nonlocal bar
        if not show_bar:
            return
        if bar is None:
            bar = click.progressbar(
                length=total, label="Indexing", file=sys.stderr, show_pos=True, show_eta=True
            )
            bar.__enter__()
        bar.update(1)

    try:
        return build_index(
            sources, index_dir, rebuild=rebuild, progress=progress, procs=procs, synonyms=synonyms
        )
    except NothingIndexed as exc:
        for path, reason in exc.skipped:
            click.echo(f"skipped {path}: {reason}", err=True)
        raise click.ClickException(str(exc)) from exc
    except IndexingError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


@main.command("search")
@click.argument("query")
@_index_option
@click.option("--kind", type=click.Choice(KINDS), help="Only chunks of this kind.")
@click.option("--lang", type=click.Choice(["en", "zh"]), help="Only chunks in this language.")
@click.option(
    "--sort",
    type=click.Choice(SORTS),
    default=None,
    help="Order: relevance [default with a query], newest [default without], oldest.",
)
@click.option(
    "--group",
    type=click.Choice(GROUPS),
    default="none",
    show_default=True,
    help="article: one hit per article with its best passages; none: one per passage.",
)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--per-page", type=click.IntRange(1, MAX_PER_PAGE), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON the web API returns.")
def search_command(
    query: str,
    index_dir: Path | None,
    config_file: Path | None,
    kind: str | None,
    lang: str | None,
    sort: str | None,
    group: str,
    page: int,
    per_page: int,
    as_json: bool,
) -> None:
    """Search the index and print ranked hits with highlighted snippets.

    An empty QUERY ("") lists the newest articles (with --kind/--lang: the newest matching).
    """
    conf = settings(config_file, index_dir=index_dir)
    # One search, with the configured time budget (a handle of its own: nothing is kept).
    handle = IndexHandle(conf["index_dir"], query_budget_ms=conf["query_budget_ms"])
    shape = {"page": page, "per_page": per_page, "group": group, "sort": sort}
    try:
        result = search(handle, query, **shape, kind=kind, lang=lang)
    except (IndexUnavailable, InvalidParameter, QueryTooExpensive) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(_as_api(result, conf["index_dir"]), ensure_ascii=False, indent=2))
        return
    click.echo(format_results(result, color=sys.stdout.isatty()))


def format_results(result: dict, color: bool) -> str:
    """Hits as terminal text; matches in bold yellow on a terminal, in [brackets] otherwise."""
    lines = []
    if result.get("showing_results_for"):
        lines.append(f"Showing results for: {result['showing_results_for']}")
    elif result.get("suggestion"):
        lines.append(f"Did you mean: {result['suggestion']}")
    if not result["hits"]:
        lines.append(f"No results for {result['query']!r}.")
        return "\n".join(lines)
    first = (result["page"] - 1) * result["per_page"] + 1
    if result.get("group") == "article":
        lines.append(
            f"{result['total']} articles, {result['total_passages']} passages "
            f"({result['took_ms']} ms)"
        )
        for n, article in enumerate(result["hits"], first):
            head = f"{n}. {article['title'][:80]}  {article['date'] or ''}"
            lines.append(click.style(head, bold=True) if color else head)
            for passage in article["passages"]:
                where = f"[{passage['kind']}] {passage['section'] or ''}".rstrip()
                lines.append(f"   {where}: " + _terminal_snippet(passage["snippet"], color))
                if passage["kind"] == "caption" and passage["photographer"]:
                    lines.append(f"      photo: {passage['photographer']}")
            lines.append(f"   {article['article_id']}")
        return "\n".join(lines)
    lines.append(f"{result['total']} results ({result['took_ms']} ms)")
    for n, hit in enumerate(result["hits"], first):
        where = " / ".join(x for x in (hit["section"], hit["article_title"][:60]) if x)
        head = f"{n}. [{hit['kind']}] {where}  (score {hit['score']})"
        lines.append(click.style(head, bold=True) if color else head)
        if hit["kind"] == "caption" and (hit["photographer"] or hit["photo_date"]):
            lines.append(f"   photo: {hit['photographer'] or '?'}, {hit['photo_date'] or '?'}")
        lines.append("   " + _terminal_snippet(hit["snippet"], color))
        lines.append(f"   {hit['id']}")
    return "\n".join(lines)


def _terminal_snippet(snippet: str, color: bool) -> str:
    start, end = ("\x1b[1;33m", "\x1b[0m") if color else ("[", "]")
    parts = re.split(r"(<mark>|</mark>)", snippet)
    out = []
    for part in parts:
        if part == "<mark>":
            out.append(start)
        elif part == "</mark>":
            out.append(end)
        else:
            out.append(CONTROL_CHARS_RE.sub("", html.unescape(part)).replace("\n", " "))
    return "".join(out)


def _as_api(result: dict, index_dir: Path) -> dict:
    """The response as the web API sends it, with the links the web layer adds."""
    from searchapp.web import create_app
    from searchapp.web.urls import with_urls

    with create_app({"INDEX_DIR": str(index_dir)}).test_request_context():
        return with_urls(result)


@main.command("stats")
@_index_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stats_command(index_dir: Path | None, config_file: Path | None, as_json: bool) -> None:
    """Print counts of articles and chunks, by kind and by language."""
    index_dir = settings(config_file, index_dir=index_dir)["index_dir"]
    try:
        stats = IndexHandle(index_dir).stats()
    except IndexUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    stats = {k: stats[k] for k in ("articles", "chunks", "by_kind", "by_language")}
    if as_json:
        click.echo(json.dumps(stats, ensure_ascii=False))
        return
    click.echo(f"{stats['articles']} articles, {stats['chunks']} chunks")
    click.echo("by kind: " + ", ".join(f"{k} {v}" for k, v in stats["by_kind"].items()))
    click.echo("by language: " + ", ".join(f"{k} {v}" for k, v in stats["by_language"].items()))


@main.command("serve")
@_index_option
@click.option(
    "--source",
    "source_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Articles to index if there is no index yet [default: the configured sources, or the "
    "bundled article]; an existing index must have been built from this folder.",
)
@click.option("--host", default=None, help="Address to listen on [default: 127.0.0.1].")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port [default: 8000].")
@click.option(
    "--workers", type=click.IntRange(1, 64), default=None, help="Worker processes [default: 2]."
)
@click.option(
    "--template-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Folder of templates that replace the built-in ones of the same name.",
)
@click.option(
    "--language",
    type=click.Choice(config.LANGUAGES),
    default=None,
    help="Interface language when the browser asks for neither [default: en].",
)
@_setting_options(*SERVE_OPTIONS)
@click.option(
    "--trusted-host",
    "trusted_hosts",
    multiple=True,
    help="A host name the server answers to (repeatable) [default: $SEARCHAPP_TRUSTED_HOSTS, "
    "the config file, else localhost, 127.0.0.1 and --host].",
)
@click.option(
    "--base-url",
    default=None,
    help="The site's public address for absolute links [default: $SEARCHAPP_BASE_URL, "
    "the config file].",
)
@click.option(
    "--rate-limit",
    default=None,
    help="Requests per client, like 60/minute [default: $SEARCHAPP_RATE_LIMIT, the config "
    "file, else none].",
)
def serve_command(
    index_dir: Path | None,
    config_file: Path | None,
    source_dir: Path | None,
    host: str | None,
    port: int | None,
    workers: int | None,
    template_dir: Path | None,
    language: str | None,
    trusted_hosts: tuple[str, ...],
    base_url: str | None,
    rate_limit: str | None,
    **serve_options,
) -> None:
    """Run the search app under gunicorn (builds the index first if there is none).

    Every option also comes from searchapp.toml or an environment variable (SEARCHAPP_WORKERS,
    SEARCHAPP_MAX_REQUESTS, ...: `searchapp config` lists them); the option wins.
    """
    from searchapp.serving import ServeSettings, serve

    conf = settings(
        config_file,
        index_dir=index_dir,
        sources=[source_dir] if source_dir else None,
        host=host,
        port=port,
        workers=workers,
        template_dir=template_dir,
        language=language,
        trusted_hosts=list(trusted_hosts),
        base_url=base_url,
        rate_limit=rate_limit,
        **serve_options,
    )
    app_config = _web_settings(conf)
    chosen = ServeSettings.from_config(conf)
    try:
        check_serve_source(conf["index_dir"], source_dir)
        serve(
            conf["index_dir"],
            conf["sources"],
            host=conf["host"],
            port=conf["port"],
            settings=chosen,
            app_config=app_config,
            synonyms=Synonyms(conf["synonyms"], conf["abbreviations"]),
        )
    except (IndexingError, IndexUnavailable) as exc:
        raise click.ClickException(str(exc)) from exc


def _web_settings(conf: config.Config) -> dict:
    """The app's settings for ``serve``, checked now (a bad value is a clear message here,
    not a traceback in a gunicorn worker). Without trusted hosts or a base URL, the server
    answers the loopback names and the address it is served on."""
    from searchapp.web import create_app
    from searchapp.web.security import LOCAL_HOSTS, ConfigurationError

    app_config = conf.app_config()
    host = conf["host"]
    if not app_config["TRUSTED_HOSTS"] and not app_config["BASE_URL"]:
        app_config["TRUSTED_HOSTS"] = LOCAL_HOSTS + (
            [host] if host not in ("0.0.0.0", "::", "") else []
        )
        if host in ("0.0.0.0", "::"):
            click.echo(
                "Only requests for localhost or 127.0.0.1 are answered; name the public host "
                "with --trusted-host or --base-url.",
                err=True,
            )
    try:
        # checks every setting; opens nothing (and loads no metrics: prometheus-client must
        # not be imported before serve picks PROMETHEUS_MULTIPROC_DIR, or worker sums break)
        create_app({**app_config, "INDEX_DIR": os.devnull, "METRICS": False, "QUERY_LOG": False})
    except (ConfigurationError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    return app_config


def check_serve_source(index_dir: Path, source_dir: Path | None) -> None:
    """``serve --source`` on an index built from other folders says so instead of ignoring it."""
    if source_dir is None:
        return
    remembered = indexed_sources(index_dir)
    if remembered is None:
        return
    if sorted(remembered) != sorted(resolved_sources([source_dir])):
        raise click.ClickException(
            f"the index in {index_dir} was built from {', '.join(remembered)}, not {source_dir}; "
            f"run `searchapp index --source {source_dir} --index {index_dir} --rebuild` first, "
            "or serve without --source"
        )


@main.command("report")
@_index_option
@click.option(
    "--since",
    default="7d",
    show_default=True,
    help="Only searches since: a duration (30m, 24h, 7d, 2w) or a date (2026-11-01).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def report_command(
    index_dir: Path | None, config_file: Path | None, since: str, as_json: bool
) -> None:
    """What readers searched for: top, zero-result, no-click and slow queries."""
    from searchapp.ops.report import build_report, format_text, parse_since, public

    index_dir = settings(config_file, index_dir=index_dir)["index_dir"]
    try:
        start = parse_since(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    report = build_report(index_dir, since=start)
    if as_json:
        click.echo(json.dumps(public(report), ensure_ascii=False, indent=2))
        return
    click.echo(format_text(report))


@main.command("config")
@_index_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON: values and where from.")
def config_command(index_dir: Path | None, config_file: Path | None, as_json: bool) -> None:
    """Print the effective configuration and where each value came from."""
    conf = settings(config_file, index_dir=index_dir)
    click.echo(format_config(conf, as_json))


def format_config(conf: config.Config, as_json: bool = False) -> str:
    """The configuration as `searchapp config` prints it."""
    if as_json:
        values = {
            s.key: {"value": _jsonable(s, conf[s.name]), "from": conf.origins[s.name]}
            for s in config.SETTINGS
        }
        return json.dumps(
            {"file": str(conf.file) if conf.file else None, "settings": values},
            ensure_ascii=False,
            indent=2,
        )
    lines = [
        f"config file: {conf.file} ({conf.file_reason})"
        if conf.file
        else f"config file: none (no --config, $SEARCHAPP_CONFIG or {config.CONFIG_NAME} "
        "beside the index folder)"
    ]
    rows = [("setting", "value", "from"), *conf.rows()]
    width_key = max(len(r[0]) for r in rows)
    width_value = min(48, max(len(r[1]) for r in rows))
    for key, value, origin in rows:
        if len(value) > width_value:
            value = value[: width_value - 1] + "…"
        lines.append(f"{key:<{width_key}}  {value:<{width_value}}  {origin}")
    return "\n".join(lines)


def _jsonable(setting: config.Setting | None, value):
    if setting is not None and setting.kind == "secret":
        return "(set)" if value else None  # never printed
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list):
        return [_jsonable(None, v) for v in value]
    return value


if __name__ == "__main__":
    main()
