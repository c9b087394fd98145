"""Run the app under gunicorn: index first if needed, jieba loaded once before forking.

Each worker opens its own searcher after the fork (sharing Whoosh's open files across
processes would share their read offsets) and warms it with one query, so the first real
request is fast. The searcher follows rebuilds by itself (see ``searching.IndexHandle``).
"""

from __future__ import annotations

import errno
import gc
import logging
import socket
import sys
from pathlib import Path

import click
from gunicorn.app.base import BaseApplication

from searchapp.analysis import analyze
from searchapp.indexing import build_index
from searchapp.searching import handle_for, search
from searchapp.store import current_build
from searchapp.web import create_app

log = logging.getLogger(__name__)


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
        # Everything loaded so far (jieba's dictionary above all) is shared with the workers
        # until written to; the garbage collector writes to every object it examines, which
        # would give each worker its own copy. Frozen objects are never examined.
        gc.freeze()
        return app


def _warm_up(worker) -> None:
    """Open the worker's searcher and answer one query before the first real request."""
    app = getattr(worker, "wsgi", None)
    if app is None or not hasattr(app, "extensions"):
        return
    try:
        search(app.extensions["searchapp.index"], "warm up 中文", per_page=1)
    except Exception as exc:  # the first request will report it properly
        log.warning("warm-up query failed: %s", exc)


def ensure_index(index_dir: Path, sources: Path | list[Path], synonyms=None) -> None:
    """Build the index from ``sources`` when ``index_dir`` has none; check it opens."""
    sources = [sources] if isinstance(sources, str | Path) else list(sources)
    if current_build(index_dir) is None:
        shown = ", ".join(str(s) for s in sources)
        click.echo(f"No index in {index_dir}: indexing {shown} ...", err=True)
        report = build_index(sources, index_dir, synonyms=synonyms)
        click.echo(report.summary(), err=True)
    handle_for(index_dir).open()  # raises IndexUnavailable with a clear message if damaged


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


def serve(
    index_dir: Path,
    sources: Path | list[Path],
    host: str,
    port: int,
    workers: int,
    app_config: dict | None = None,
    synonyms=None,
) -> None:
    """Serve until interrupted. Never in debug mode. ``app_config``: see ``create_app``."""
    check_address(host, port)
    ensure_index(index_dir, sources, synonyms=synonyms)
    options = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "worker_class": "sync",
        "preload_app": True,
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 2,
        "limit_request_line": 8190,
        "post_worker_init": _warm_up,
        # gunicorn 27's control socket (~/.gunicorn/gunicorn.ctl) would be shared by every
        # server on the machine; searchapp does not use it.
        "control_socket_disable": True,
        "proc_name": "searchapp",
        "errorlog": "-",
        "loglevel": "info",
    }
    click.echo(f"searchapp serving {index_dir} on http://{host}:{port}/", err=True)
    sys.stderr.flush()
    SearchApplication(index_dir, options, app_config).run()
