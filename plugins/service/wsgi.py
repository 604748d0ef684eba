"""The follow service for a production WSGI server: ``service.wsgi:application``.

For example, from the site's folder (with ``plugins`` on the Python path)::

    waitress-serve --listen=127.0.0.1:8080 --call service.wsgi:make_application
    gunicorn --workers 2 --bind 127.0.0.1:8080 service.wsgi:application

The settings file is ``$ADVIESBLOG_SETTINGS``, by default ``publishconf.py`` in the
current folder; secrets come from the environment (see ``service.config``).

The configuration and the database are checked when the module is imported, so a
wrong setting stops the server at once instead of at the first reader. The outbox
worker thread starts with the first request of each process: a server that forks
its workers after importing the app (gunicorn ``--preload``) would otherwise lose
the thread, and a database connection must not cross a fork either.
"""

import logging
import os
import threading

from .app import create_app
from .config import ServiceConfig, load
from .logs import service_logger
from .outbox import OutboxWorker, start_outbox_worker
from .store import Store, open_store

logger = service_logger(__name__)

DEFAULT_SETTINGS = "publishconf.py"


class ServiceApplication:
    """The WSGI app of one service: starts the outbox worker once in each process."""

    def __init__(self, config: ServiceConfig, store: Store):
        self.config = config
        self.store = store
        self.stop_event = threading.Event()
        self._worker: OutboxWorker | None = None
        self._worker_pid: int | None = None
        self._lock = threading.Lock()
        self._app = create_app(config, store, on_mail_queued=self.wake_worker)

    def wake_worker(self) -> None:
        if self._worker is not None:
            self._worker.wake()

    def _ensure_worker(self) -> None:
        if self._worker_pid == os.getpid():
            return
        with self._lock:
            if self._worker_pid != os.getpid():
                self._worker = start_outbox_worker(self.config, self.store, self.stop_event)
                self._worker_pid = os.getpid()
                logger.info("service: outbox worker started in process %d", os.getpid())

    def __call__(self, environ, start_response):
        self._ensure_worker()
        return self._app(environ, start_response)

    def close(self) -> None:
        """Stop the outbox worker and close the database connections."""
        self.stop_event.set()
        if self._worker is not None:
            self._worker.stop()
            self._worker.join()
        self.store.close()


def log_to_stderr() -> None:
    """Show the service's own INFO lines (refusals, confirmations) under any WSGI server.

    waitress and gunicorn set up logging at WARNING or not at all; the service's log is
    the operator's record of what it refused and why, with no addresses in it.
    """
    service_log = logging.getLogger("service")
    if not service_log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        service_log.addHandler(handler)
        service_log.setLevel(logging.INFO)
        service_log.propagate = False


def make_application(settings_file: str | os.PathLike | None = None) -> ServiceApplication:
    """The service configured by ``settings_file`` (default: ``$ADVIESBLOG_SETTINGS``)."""
    settings_file = settings_file or os.environ.get("ADVIESBLOG_SETTINGS") or DEFAULT_SETTINGS
    log_to_stderr()
    config = load(settings_file)
    store = open_store(config.database_url)  # migrates, or refuses a newer schema
    # Connections are made again where they are used: in the serving process's threads.
    store.close()
    logger.info("service: %s at %s, database %s", config.site_name, config.url(""),
                config.database_url.split("://", 1)[0])
    return ServiceApplication(config, store)


def __getattr__(name: str):
    # Built on first access, so importing the module for make_application reads nothing.
    if name == "application":
        application = make_application()
        globals()["application"] = application
        return application
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
