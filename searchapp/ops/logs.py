"""Log lines for production: one line per record, as text or as JSON.

gunicorn writes the access log (stdout) and its own messages (stderr); the app logs through
the ``searchapp`` logger (stderr). ``SearchappLogger`` makes all of them use one formatter,
so a traceback stays on its record's line (``\\n`` escaped in text, a string in JSON) and a
log collector never has to stitch lines together.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time

from gunicorn.glogging import Logger as GunicornLogger

#: The "combined" log format and the request's duration in milliseconds.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)s'

#: Access log atoms a JSON line carries (gunicorn's names -> ours).
ACCESS_FIELDS = {
    "h": "client",
    "m": "method",
    "U": "path",
    "q": "query_string",
    "H": "protocol",
    "s": "status",
    "B": "bytes",
    "f": "referer",
    "a": "user_agent",
    "M": "duration_ms",
}


class OneLineFormatter(logging.Formatter):
    """The usual text format, with a traceback folded into the same line."""

    def __init__(self) -> None:
        super().__init__("[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if record.name == "gunicorn.access":
            return record.getMessage()
        return super().format(record).replace("\r", "").replace("\n", "\\n")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, pid, message (and traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
        }
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            data["type"] = "access"
            for atom, name in ACCESS_FIELDS.items():
                value = record.args.get(atom)
                data[name] = None if value in (None, "-") else value
            for name in ("status", "bytes", "duration_ms"):
                data[name] = _int_or_none(data[name])
        else:
            data["message"] = record.getMessage()
        if record.exc_info:
            data["traceback"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of ``text`` or ``json`` lines."""
    return JsonFormatter() if log_format == "json" else OneLineFormatter()


class _AppHandler(logging.StreamHandler):
    """The handler ``configure_app_logging`` adds (so a second call replaces it)."""


def configure_app_logging(log_format: str) -> None:
    """Send the ``searchapp`` loggers (app, Flask app logger) to stderr, one line each."""
    logger = logging.getLogger("searchapp")
    for handler in list(logger.handlers):
        if isinstance(handler, _AppHandler):
            logger.removeHandler(handler)
    handler = _AppHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


class SearchappLogger(GunicornLogger):
    """gunicorn's logger with searchapp's formatter on every handler (``text`` or ``json``).

    The format comes from the ``SEARCHAPP_LOG_FORMAT`` variable that ``serve`` sets before
    starting gunicorn (gunicorn builds this class itself, from its config alone).
    """

    def setup(self, cfg) -> None:
        super().setup(cfg)
        chosen = formatter(os.environ.get("SEARCHAPP_LOG_FORMAT", "text"))
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(chosen)

    def atoms(self, resp, req, environ, request_time) -> dict:
        """The atoms searchapp's access line uses (``ACCESS_LOG_FORMAT``, ``ACCESS_FIELDS``),
        as gunicorn computes them; gunicorn's own also copies every request header, response
        header and WSGI variable into the dict (and its wrapper escapes each), for formats
        that name them: half of an access line's cost, for every request."""
        if self.cfg.access_log_format != ACCESS_LOG_FORMAT:
            return super().atoms(resp, req, environ, request_time)
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        milliseconds = request_time.seconds * 1000 + int(request_time.microseconds / 1000)
        return {
            "h": environ.get("REMOTE_ADDR", "-"),
            "l": "-",
            "u": self._get_user(environ) or "-",
            "t": self.now(),
            "r": f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}",
            "s": status,
            "m": environ.get("REQUEST_METHOD"),
            "U": environ.get("PATH_INFO"),
            "q": environ.get("QUERY_STRING"),
            "H": environ.get("SERVER_PROTOCOL"),
            "b": sent is not None and str(sent) or "-",
            "B": sent,
            "f": environ.get("HTTP_REFERER", "-"),
            "a": environ.get("HTTP_USER_AGENT", "-"),
            "M": milliseconds,
        }
