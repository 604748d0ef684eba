"""Live reload for ``make serve``: every open page reloads after a rebuild.

The builder of ``make serve`` rewrites a marker file (a build id) after each
rebuild. ``make_livereload(marker)`` serves two things, relative to its mount
(``/_livereload`` in ``site_app``):

- ``script.js``: a few lines of plain JavaScript that listen to ``events`` and
  reload the page on a ``reload`` event;
- ``events``: a Server-Sent Events stream that sends ``reload`` each time the
  marker's content changes.

Our own few lines, not a third-party live reload script (livereload.js and the
like): the pages load no code from elsewhere, not even in development, and
Server-Sent Events need nothing but the browser and one long HTTP response. It is
for development only: the builder of ``make serve`` alone sets
``DEV_LIVE_RELOAD_SCRIPT``, so a normal or published build has no script, and only
the development server mounts this app.

Each open page holds one stream, and so one server thread. The stream ends when
a write fails (the page is gone) and after ``max_seconds`` in any case, so no
thread outlives its page by long; ``EventSource`` reconnects by itself.
"""

import json
import time
from pathlib import Path

from werkzeug.wrappers import Request, Response

# ``since``: when the page began to load; a rebuild after that may have missed it.
SCRIPT = """(function () {
  if (!("EventSource" in window)) { return; }
  var since = Math.floor((window.performance && performance.timeOrigin) || Date.now());
  new EventSource(%s + "?since=" + since)
    .addEventListener("reload", function () { location.reload(); });
}());
"""
NO_CACHE = {"Cache-Control": "no-cache"}


def make_livereload(marker: Path, poll_seconds: float = 0.2, keepalive_seconds: float = 15.0,
                    max_seconds: float = 3600.0):
    """The WSGI app serving ``script.js`` and the ``events`` stream for ``marker``."""
    marker = Path(marker)

    @Request.application
    def livereload(request: Request) -> Response:
        if request.path == "/script.js":
            # EventSource resolves a relative URL against the page, not this script.
            body = SCRIPT % json.dumps(request.script_root + "/events")
            return Response(body, content_type="text/javascript; charset=utf-8",
                            headers=NO_CACHE)
        if request.path == "/events":
            # The baseline is taken now, before the response starts: a page that got
            # its headers misses no rebuild after that. A rebuild between the page's
            # start and now (or while EventSource reconnected) reloads it at once.
            seen = read_marker(marker)
            if changed_since(marker, request.args.get("since", "")):
                seen = None
            stream = events(marker, seen, poll_seconds, keepalive_seconds, max_seconds)
            return Response(stream, content_type="text/event-stream", headers=NO_CACHE)
        return Response("Niet gevonden\n", status=404, mimetype="text/plain")

    return livereload


def read_marker(marker: Path) -> str:
    """The build id in ``marker``; a missing or unreadable file counts as empty."""
    try:
        return marker.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def changed_since(marker: Path, since: str) -> bool:
    """Whether ``marker`` was written after ``since`` (milliseconds since the epoch)."""
    if not since.isdigit():
        return False
    try:
        return marker.stat().st_mtime_ns // 1_000_000 > int(since)
    except OSError:
        return False


def events(marker: Path, seen: str | None, poll_seconds: float, keepalive_seconds: float,
           max_seconds: float):
    """The SSE stream: ``reload`` on each change of ``marker``, comments to keep it open."""
    # A first comment sends the headers at once, so the browser opens the stream now
    # and not at the first keepalive.
    yield ": connected\n\n"
    started = written = time.monotonic()
    if seen is None:
        seen = read_marker(marker)
        yield f"event: reload\ndata: {seen.splitlines()[0] if seen else ''}\n\n"
    # A write to a page that is gone raises inside the server, which closes this
    # generator at its yield: nothing runs on after that.
    while time.monotonic() - started < max_seconds:
        time.sleep(poll_seconds)
        current = read_marker(marker)
        if current != seen:
            seen = current
            data = "".join(f"data: {line}\n" for line in current.splitlines() or [""])
            yield f"event: reload\n{data}\n"
            written = time.monotonic()
        elif time.monotonic() - written >= keepalive_seconds:
            yield ": keepalive\n\n"
            written = time.monotonic()
