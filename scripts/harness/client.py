"""One GET on a kept ``http.client`` connection, the request every load generator sends.

``http.client`` reopens the connection by itself after a server closes it (gunicorn's sync
workers do after every response); on an error the connection is closed and the error raised,
so the caller counts it and the next request starts afresh.
"""

from __future__ import annotations

import http.client


def fetch(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    """(status, body) of ``GET path`` on ``conn``."""
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        conn.close()
        raise
