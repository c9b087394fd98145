"""Run the app under gunicorn: index first if needed, jieba loaded once before forking.

Each worker opens its own searcher after the fork (sharing Whoosh's open files across
processes would share their read offsets) and warms it with one query, so the first real
request is fast. The searcher follows rebuilds by itself (see ``handle.IndexHandle``). The
handles: the app owns one (``create_app``); the master checks the index with a handle of its
own that it drops, so the workers' copies of the app open their searchers after the fork.

The defaults (``config.SETTINGS``, read into ``ServeSettings``) are chosen for a public
server on a small machine, and measured (README, "Production"): 2 worker processes, each
answering one request at a time (the searcher, its caches and Whoosh's readers are per
process; with more threads a worker still reads its index one request at a time, see
``handle.IndexHandle``), with request heads read by the event loop
(``workers.BufferedThreadWorker``) so idle and slow clients hold no worker; a request must
arrive whole within 10 s; idle kept-alive connections close after 5 s; each worker is
replaced after 10,000 requests plus up to 1,000 more at random (``max_requests`` with
jitter, a backstop against slow memory growth that never restarts both workers at once).
SIGHUP to the master (``systemctl reload``) replaces the workers gracefully: the new ones
start, the old ones finish what they are answering.
"""

from __future__ import annotations

import atexit
import errno
import gc
import logging
import os
import shutil
import socket
import sys
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path

import click
from gunicorn.app.base import BaseApplication

from searchapp import config
from searchapp.analysis import analyze
from searchapp.handle import IndexHandle
from searchapp.indexing import build_index
from searchapp.ops.logs import ACCESS_LOG_FORMAT, SearchappLogger, configure_app_logging
from searchapp.searching import search
from searchapp.store import current_build
from searchapp.web import create_app
from searchapp.workers import BufferedThreadWorker

log = logging.getLogger(__name__)

#: The garbage collector's thresholds in the server (see ``SearchApplication.load``).
WORKER_GC_THRESHOLDS = (10_000, 20, 20)

WORKER_CLASSES = {
    "buffered": "searchapp.workers.BufferedThreadWorker",
    "gthread": "gthread",
    "sync": "sync",
}


@dataclass
class ServeSettings:
    """The gunicorn and operations part of the configuration (``searchapp.config``).

    No defaults here: they are the settings table's (``config.SETTINGS``), read by
    ``from_config``, so each is written once.
    """

    workers: int
    worker_class: str
    threads: int
    max_connections: int
    timeout: int
    header_timeout: int
    keepalive: int
    max_requests: int
    max_requests_jitter: int
    proxies: int
    access_log: bool
    log_format: str
    metrics: bool
    query_log: bool

    @classmethod
    def from_config(cls, conf: config.Config | None = None) -> ServeSettings:
        """Each setting from ``conf`` (default: the effective configuration).

        Raises ``config.ConfigError`` for an unusable value.
        """
        conf = conf if conf is not None else config.load()
        return cls(**{f.name: conf[f.name] for f in fields(cls)})


class SearchApplication(BaseApplication):
    """gunicorn's application interface around ``create_app``."""

    def __init__(self, index_dir: Path, options: dict, app_config: dict | None = None):
        self.index_dir = Path(index_dir)
        self.options = options
        self.app_config = app_config or {}
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key.lower(), value)

    def load(self):
        analyze("预热 jieba warm-up", mode="index")  # load the dictionary once, before forking
        app = create_app({**self.app_config, "INDEX_DIR": str(self.index_dir)})
        app.debug = False  # never, whatever FLASK_DEBUG says: a debugger is remote code execution
        compile_templates(app)
        # Everything loaded so far (jieba's dictionary above all) is shared with the workers
        # until written to; the garbage collector writes to every object it examines, which
        # would give each worker its own copy. Frozen objects are never examined.
        gc.freeze()
        # A request makes thousands of objects, nearly all freed by reference counting: at
        # Python's default (a young collection every 700 allocations) a search ran about ten,
        # 2-3% of its CPU (scripts/profile_requests.py). Cycles are still found, less often.
        gc.set_threshold(*WORKER_GC_THRESHOLDS)
        return app


def compile_templates(app) -> None:
    """Compile every page template once, before forking: each worker compiled them on its
    first page (~75 ms at the first results page), and the compiled code is shared."""
    env = app.jinja_env
    for name in env.list_templates(extensions=("html", "xml")):
        env.get_template(name)


def _warm_up(worker) -> None:
    """Open the worker's searcher and answer one query before the first real request."""
    app = getattr(worker, "wsgi", None)
    if app is None or not hasattr(app, "extensions"):
        return
    try:
        search(app.extensions["searchapp.index"], "warm up 中文", per_page=1)
    except Exception as exc:  # the first request will report it properly
        log.warning("warm-up query failed: %s", exc)
    if app.config.get("METRICS"):  # every live worker shows its memory, asked or not
        from searchapp.ops import metrics

        metrics.update_worker_memory(every=0)


def _worker_exited(server, worker) -> None:
    from searchapp.ops import metrics

    metrics.worker_exited(worker.pid)


def _master_ready(server) -> None:
    """The master loaded the app (and made its metrics) but answers nothing: drop its own
    live gauges, or every scrape would show a worker with no memory."""
    from searchapp.ops import metrics

    metrics.worker_exited(os.getpid())


def ensure_index(index_dir: Path, sources: Path | list[Path], synonyms=None) -> None:
    """Build the index from ``sources`` when ``index_dir`` has none; check it opens."""
    sources = [sources] if isinstance(sources, str | Path) else list(sources)
    if current_build(index_dir) is None:
        shown = ", ".join(str(s) for s in sources)
        click.echo(f"No index in {index_dir}: indexing {shown} ...", err=True)
        report = build_index(sources, index_dir, synonyms=synonyms)
        click.echo(report.summary(), err=True)
    IndexHandle(index_dir).open()  # raises IndexUnavailable with a clear message if damaged


def check_address(host: str, port: int) -> None:
    """Fail at once, clearly, when the address cannot be listened on (gunicorn retries 5 s)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {exc.strerror}"
            + ("; choose another port with --port" if exc.errno == errno.EADDRINUSE else "")
        ) from exc


def metrics_dir() -> Path:
    """An empty folder for prometheus-client's per-worker files, for this server start.

    ``$PROMETHEUS_MULTIPROC_DIR`` when set (emptied of an earlier start's files), else a new
    temporary folder removed at exit. Must run before prometheus-client is imported.
    """
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink(missing_ok=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="searchapp-metrics-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    return folder


def gunicorn_options(host: str, port: int, settings: ServeSettings) -> dict:
    """gunicorn's settings for ``settings`` (see the module docstring for the choices)."""
    options = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": settings.workers,
        "worker_class": WORKER_CLASSES[settings.worker_class],
        "threads": settings.threads,
        "worker_connections": settings.max_connections,
        "preload_app": True,
        "timeout": settings.timeout,
        "graceful_timeout": 10,
        "keepalive": settings.keepalive,
        "max_requests": settings.max_requests,
        "max_requests_jitter": settings.max_requests_jitter,
        "limit_request_line": 8190,
        "post_worker_init": _warm_up,
        # gunicorn 27's control socket (~/.gunicorn/gunicorn.ctl) would be shared by every
        # server on the machine; searchapp does not use it.
        "control_socket_disable": True,
        "proc_name": "searchapp",
        "errorlog": "-",
        "loglevel": "info",
        "logger_class": SearchappLogger,
        "accesslog": "-" if settings.access_log else None,
        "access_log_format": ACCESS_LOG_FORMAT,
        # X-Forwarded-* are trusted by the app's ProxyFix alone (``--proxies``), never by
        # gunicorn for whoever connects from 127.0.0.1.
        "forwarded_allow_ips": "",
    }
    if settings.metrics:
        options["child_exit"] = _worker_exited
        options["when_ready"] = _master_ready
    return options


def serve(
    index_dir: Path,
    sources: Path | list[Path],
    host: str,
    port: int,
    settings: ServeSettings | None = None,
    app_config: dict | None = None,
    synonyms=None,
) -> None:
    """Serve until interrupted. Never in debug mode. ``app_config``: see ``create_app``."""
    settings = settings or ServeSettings.from_config()
    check_address(host, port)
    ensure_index(index_dir, sources, synonyms=synonyms)
    os.environ["SEARCHAPP_LOG_FORMAT"] = settings.log_format  # read by SearchappLogger
    configure_app_logging(settings.log_format)
    if settings.metrics:
        metrics_dir()
    BufferedThreadWorker.header_timeout = float(settings.header_timeout)
    app_config = {
        **(app_config or {}),
        "PROXIES": settings.proxies,
        "METRICS": settings.metrics,
        "QUERY_LOG": settings.query_log,
    }
    click.echo(f"searchapp serving {index_dir} on http://{host}:{port}/", err=True)
    sys.stderr.flush()
    SearchApplication(index_dir, gunicorn_options(host, port, settings), app_config).run()
