"""Serving the app on a loopback port for tests that need a real HTTP client.

Werkzeug's development server closes a response's iterator only after it has drained the
client's socket; when a browser drops the connection first (a page closed, a print dialog,
a cached favicon answered 304), draining raises and the iterator of ``send_file`` is never
closed, so its file is left for the garbage collector, whose ``ResourceWarning`` then fails
an unrelated test. ``closing_first`` reads each response into memory and closes it before
the server writes a byte: test responses are small, and nothing can be left open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

WSGIApp = Callable[[dict[str, Any], Any], Iterable[bytes]]


def closing_first(app: WSGIApp) -> WSGIApp:
    """``app`` whose every response is read whole and closed before it is sent."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return wsgi
