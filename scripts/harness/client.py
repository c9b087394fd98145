"""The HTTP side of every load generator: one GET on a kept ``http.client`` connection, and
client threads run together.

``http.client`` reopens the connection by itself after a server closes it (gunicorn's sync
workers do after every response); on an error the connection is closed and the error raised,
so the caller counts it and the next request starts afresh.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable


def fetch(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    """(status, body) of ``GET path`` on ``conn``."""
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        conn.close()
        raise


def run_clients(client: Callable[[], None], clients: int, timeout: float) -> None:
    """Run ``client`` in ``clients`` daemon threads at once and wait for them (each join
    bounded by ``timeout`` seconds, so a stuck request cannot hang the run)."""
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
