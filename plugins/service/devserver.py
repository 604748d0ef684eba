"""``make serve``: the site, the service (follow and reactions) and a mail catcher on one port.

The builder (``rebuild.py``) rebuilds ``output/`` on every save in a child
process, and open pages reload by themselves (``livereload.py``). This process serves the built files, passes the follow
endpoint to the service, and catches every mail the service sends with a local
SMTP server, readable at ``/_mail/``. So a new user can follow the sample site and
click the confirmation link without any mail server.

The same composition (``site_app``) is what the journey test serves, so the test
exercises the routing a user gets.
"""

import mimetypes
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.security import safe_join
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from .app import create_app
from .config import ServiceConfig, load
from .livereload import make_livereload
from .mailcatcher import make_mailcatcher
from .outbox import start_outbox_worker
from .smtp_sink import start_sink
from .store import open_store

MAIL_PATH = "/_mail"
LIVE_RELOAD_PATH = "/_livereload"
NOT_FOUND_PAGE = "404.html"


def static_site(output: Path):
    """Serve the built site as a static host would: ``/x/`` is ``x/index.html``."""

    @Request.application
    def serve_file(request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response("Deze pagina neemt geen formulieren aan.\n", status=405,
                            headers={"Allow": "GET, HEAD"}, mimetype="text/plain")
        relative = request.path.lstrip("/")
        if relative == "" or relative.endswith("/"):
            relative += "index.html"
        path = safe_join(str(output), relative)
        if path is not None and os.path.isdir(path):
            return Response(status=301, headers={"Location": request.path + "/"})
        if path is None or not os.path.isfile(path):
            page = output / NOT_FOUND_PAGE
            body = page.read_bytes() if page.is_file() else b"Niet gevonden\n"
            # The development build links relative to each page ("./theme/…"), and this
            # page is served at any address (say an article's old one, after its title
            # changed and the page reloaded): its links are made to start at the root.
            return Response(body.replace(b'="./', b'="/'), status=404, mimetype="text/html")
        mimetype = mimetypes.guess_type(path)[0] or "application/octet-stream"
        with open(path, "rb") as handle:
            return Response(handle.read(), mimetype=mimetype,
                            headers={"Cache-Control": "no-cache"})

    return serve_file


def site_app(config: ServiceConfig, store, maildir: Path | None = None, on_mail_queued=None,
             reload_marker: Path | None = None):
    """The built site with the service at its endpoint and, in development, the mail catcher.

    With ``reload_marker``, open pages reload each time its content changes (a rebuild).
    """
    service = create_app(config, store, on_mail_queued=on_mail_queued)
    mounts = {config.endpoint.rstrip("/"): service}
    if config.reactions_endpoint:
        mounts[config.reactions_endpoint.rstrip("/")] = service
    if maildir is not None:
        mounts[MAIL_PATH] = make_mailcatcher(maildir, prefix=f"{MAIL_PATH}/")
    if reload_marker is not None:
        mounts[LIVE_RELOAD_PATH] = make_livereload(reload_marker)
    return DispatcherMiddleware(static_site(config.output_path), mounts)


def start_builder(settings_file: Path, output: Path, marker: Path) -> subprocess.Popen:
    """The builder (rebuild.py) in a child process: this one serves with threads,
    and the builder forks to build on every core, which is only safe without them."""
    plugins = str(Path(__file__).resolve().parent.parent)
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [plugins, os.environ.get("PYTHONPATH")])))
    return subprocess.Popen([sys.executable, "-m", "service.rebuild", "--settings",
                             str(settings_file), "--output", str(output), "--marker",
                             str(marker)], env=environment)


def stop_on_terminate(signum, frame):
    # `kill` must stop the rebuilding child too, as Ctrl-C does.
    raise KeyboardInterrupt


def serve(settings_file: str, host: str, port: int, smtp_port: int) -> None:
    """Run everything until Ctrl-C or SIGTERM."""
    signal.signal(signal.SIGTERM, stop_on_terminate)
    site_url = f"http://{host}:{port}"
    environment = dict(os.environ, ADVIESBLOG_SMTP_HOST=host,
                       ADVIESBLOG_SMTP_PORT=str(smtp_port), ADVIESBLOG_SERVICE_URL=site_url)
    config = load(settings_file, environment)
    maildir = config.data_path / "mail"
    sink = start_sink(host, smtp_port, maildir=maildir)
    store = open_store(config.database_url)
    stop = threading.Event()
    worker = start_outbox_worker(config, store, stop)
    # The port first: if it is taken, nothing is left running.
    marker = config.data_path / "last-build"
    server = make_server(host, port, site_app(config, store, maildir, worker.wake,
                                              reload_marker=marker), threaded=True)
    builder = start_builder(Path(settings_file), config.output_path, marker)
    print(f"Site:          {site_url}/\n"
          f"Mail catcher:  {site_url}{MAIL_PATH}/  (every mail the service sends lands here)\n"
          f"Data:          {config.data_path} (database, caught mail; not in git)\n"
          "Ctrl-C stops.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
        builder.terminate()
        builder.wait(timeout=10)
        sink.stop()
        store.close()
