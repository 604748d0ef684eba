"""The service tests' databases, and the service itself over real HTTP with a real SMTP server.

Databases: one throwaway PostgreSQL cluster, a fresh database per test.

`postgres_url` starts a PostgreSQL cluster from Debian's `postgresql` package once per test
session; `database_url` runs a test once on SQLite and once on PostgreSQL, each time with a new,
empty database, so the store passes the same tests on both.
"""

import email
import email.policy
import http.client
import json
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql
from werkzeug.serving import make_server

from service.app import create_app
from service.config import ServiceConfig
from service.mailer import SmtpSettings
from service.outbox import start_outbox_worker
from service.smtp_sink import start_sink
from service.store import Store, open_store
from tests.support import build_site

DEBIAN_POSTGRESQL_ROOT = Path("/usr/lib/postgresql")
CLUSTER_USER = "adviesblog"
SESSION_DATABASE = "volg"
# initdb and postgres refuse to run as root, so under root (as in CI) they run as the system
# user that Debian's postgresql package creates.
SYSTEM_USER = "postgres"
START_TIMEOUT_SECONDS = 60
PORT_ATTEMPTS = 3
LOG_TAIL_LINES = 20
INSTALL_HINT = "install Debian's postgresql package (apt-get install postgresql)"


class PostgresUnavailable(Exception):
    """PostgreSQL cannot run here; the message says what is missing or what went wrong."""


def give_up(message):
    """Fail in CI, where the PostgreSQL run is required; skip on a developer's machine."""
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _version_key(bin_dir):
    try:
        return tuple(int(part) for part in bin_dir.parent.name.split("."))
    except ValueError:
        return ()


def find_postgres_binaries(environ=os.environ, root=DEBIAN_POSTGRESQL_ROOT):
    """The folder holding `initdb` and `pg_ctl`: `$PG_BIN`, else Debian's newest version."""
    if environ.get("PG_BIN"):
        bin_dir = Path(environ["PG_BIN"])
        source = f"PG_BIN={bin_dir}"
    else:
        installed = sorted(
            (path.parent for path in root.glob("*/bin/initdb")), key=_version_key, reverse=True
        )
        if not installed:
            raise PostgresUnavailable(
                f"PostgreSQL tests need initdb and pg_ctl, but there is no {root}/<version>/bin/"
                f"initdb; {INSTALL_HINT}, or set PG_BIN to the folder holding them"
            )
        bin_dir = installed[0]
        source = str(bin_dir)
    missing = [name for name in ("initdb", "pg_ctl") if not (bin_dir / name).is_file()]
    if missing:
        raise PostgresUnavailable(
            f"PostgreSQL tests need {' and '.join(missing)} in {source}, which has no such "
            f"file; {INSTALL_HINT}, or set PG_BIN to the folder holding initdb and pg_ctl"
        )
    return bin_dir


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tail(path):
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as error:
        return f"(no server log: {error})"
    return "\n".join(lines[-LOG_TAIL_LINES:])


def _conf_string(value):
    return "'" + str(value).replace("'", "''") + "'"


class ThrowawayCluster:
    """A PostgreSQL cluster in a temporary folder, listening on 127.0.0.1 only."""

    def __init__(self, bin_dir):
        self.bin_dir = bin_dir
        self.as_system_user = os.geteuid() == 0
        self.folder = Path(tempfile.mkdtemp(prefix="adviesblog-postgres-"))
        self.data_dir = self.folder / "data"
        self.log_path = self.folder / "server.log"
        self.port = None
        if self.as_system_user:
            try:
                shutil.chown(self.folder, user=SYSTEM_USER, group=SYSTEM_USER)
            except LookupError as error:
                self.remove()
                raise PostgresUnavailable(
                    f"running as root, and initdb refuses root, but there is no "
                    f"{SYSTEM_USER!r} system user to run it as ({error}); {INSTALL_HINT}"
                ) from None

    def _run(self, *command):
        if self.as_system_user:
            command = ("runuser", "-u", SYSTEM_USER, "--", *command)
        # PG* variables from the caller's shell (PGPORT, PGDATA, ...) must not steer this cluster.
        environment = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        return subprocess.run(
            command,
            cwd=self.folder,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )

    def start(self):
        initdb = self._run(
            str(self.bin_dir / "initdb"),
            f"--pgdata={self.data_dir}",
            f"--username={CLUSTER_USER}",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            # A test cluster is thrown away afterwards, so losing data on a power failure does
            # not matter; skipping fsync makes initdb and every commit much faster.
            "--no-sync",
        )
        if initdb.returncode != 0:
            raise PostgresUnavailable(
                f"initdb failed with exit status {initdb.returncode}:\n"
                f"{(initdb.stdout + initdb.stderr).strip()}"
            )
        settings = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(self.folder),
            # Same reason as --no-sync: durability is worthless for a throwaway cluster.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        with open(self.data_dir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# adviesblog test cluster\n")
            conf.writelines(f"{name} = {_conf_string(value)}\n" for name, value in settings.items())
        for _attempt in range(PORT_ATTEMPTS):
            self.port = _free_port()
            started = self._run(
                str(self.bin_dir / "pg_ctl"),
                "start",
                f"--pgdata={self.data_dir}",
                f"--log={self.log_path}",
                f"--options=-p {self.port}",
                "--wait",
                f"--timeout={START_TIMEOUT_SECONDS}",
            )
            if started.returncode == 0:
                return
            # Another process may take the free port between the probe and the server's bind.
            if "Address already in use" not in _tail(self.log_path):
                break
        raise PostgresUnavailable(
            f"PostgreSQL did not start (pg_ctl exit status {started.returncode}): "
            f"{(started.stdout + started.stderr).strip()}\n"
            f"last lines of the server log:\n{_tail(self.log_path)}"
        )

    def stop(self):
        if (self.data_dir / "postmaster.pid").exists():
            self._run(
                str(self.bin_dir / "pg_ctl"),
                "stop",
                f"--pgdata={self.data_dir}",
                "--mode=immediate",
            )

    def remove(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database):
        return f"postgresql://{CLUSTER_USER}@127.0.0.1:{self.port}/{database}"


def database_in(url, database):
    """`url` with its database name replaced by `database`."""
    return urlsplit(url)._replace(path=f"/{database}").geturl()


def create_database(server_url, database):
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def drop_database(server_url, database):
    # FORCE ends connections a test left open, so one leak cannot break the other tests.
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )


def start_session_cluster():
    """A started cluster holding the session database; nothing is left behind on failure."""
    cluster = ThrowawayCluster(find_postgres_binaries())
    try:
        cluster.start()
        create_database(cluster.url("postgres"), SESSION_DATABASE)
    except psycopg.Error as error:
        log = _tail(cluster.log_path)
        cluster.stop()
        cluster.remove()
        raise PostgresUnavailable(
            f"PostgreSQL started but refused the test database: {error}\n"
            f"last lines of the server log:\n{log}"
        ) from None
    except PostgresUnavailable:
        cluster.stop()
        cluster.remove()
        raise
    return cluster


@pytest.fixture(scope="session")
def postgres_url():
    """URL of a database in a throwaway PostgreSQL cluster that lives for the test session."""
    try:
        cluster = start_session_cluster()
    except PostgresUnavailable as error:
        problem = str(error)
    else:
        problem = None
    if problem:
        # Outside the except block, so the report shows the message, not a chained traceback.
        give_up(problem)
    try:
        yield cluster.url(SESSION_DATABASE)
    finally:
        cluster.stop()
        cluster.remove()


@pytest.fixture
def make_postgres_database(postgres_url):
    """Creates new, empty databases in the session's cluster; returns each one's URL."""
    created = []

    def make():
        database = f"test_{uuid.uuid4().hex[:16]}"
        create_database(postgres_url, database)
        created.append(database)
        return database_in(postgres_url, database)

    yield make
    for database in created:
        drop_database(postgres_url, database)


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A new, empty database for this test: once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'volg.sqlite3'}"
    # Looked up only here, so the SQLite runs neither start PostgreSQL nor skip without it.
    return request.getfixturevalue("make_postgres_database")()


# --- the service over HTTP, on the sample site ---------------------------------------

MAIL_TIMEOUT_SECONDS = 10


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory):
    """The sample site, built once with the development settings."""
    return build_site("pelicanconf.py", tmp_path_factory.mktemp("volg") / "output")


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str

    def json(self):
        return json.loads(self.body)


class Mount:
    """Lets the server start (and pick its port) before the app that needs its URL exists."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@dataclass
class Service:
    config: ServiceConfig
    store: Store
    sink: object
    maildir: Path
    host: str
    port: int

    def request(self, method: str, path: str, fields=None, headers=None,
                body: bytes | None = None) -> Answer:
        headers = dict(headers or {})
        if fields is not None:
            body = urllib.parse.urlencode(fields).encode("ascii")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return Answer(response.status, response.headers,
                          response.read().decode("utf-8"))
        finally:
            connection.close()

    def get(self, path: str, **options) -> Answer:
        return self.request("GET", path, **options)

    def post(self, path: str, fields=None, **options) -> Answer:
        return self.request("POST", path, fields=fields, **options)

    def page(self, key: str) -> str:
        return (self.config.pages_path / "pagina" / f"{key}.html").read_text(encoding="utf-8")

    def mails(self, count: int, timeout: float = MAIL_TIMEOUT_SECONDS) -> list:
        """Wait until the SMTP server holds ``count`` mails; return them, oldest first."""
        deadline = time.monotonic() + timeout
        while True:
            files = sorted(self.maildir.glob("*.eml"))
            if len(files) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert len(files) == count, f"expected {count} mails, the server has {len(files)}"
        return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                for path in files]

    def caught(self) -> int:
        return len(list(self.maildir.glob("*.eml")))


@pytest.fixture
def make_service(database_url, sample_site, tmp_path):
    """Starts the service on the sample site; options change its config or its store."""
    started = []

    def start(output_path: Path | None = None, busy_timeout: float | None = None,
              **overrides) -> Service:
        maildir = tmp_path / f"mail-{len(started)}"
        sink = start_sink("127.0.0.1", 0, maildir=maildir)
        mount = Mount()
        server = make_server("127.0.0.1", 0, mount, threaded=True)
        host, port = server.server_address[:2]
        config = ServiceConfig.for_tests(
            tmp_path, output_path=output_path or sample_site.output, database_url=database_url,
            site_url=f"http://{host}:{port}",
            smtp=SmtpSettings(host="127.0.0.1", port=sink.port, timeout=5, retries=0),
            **overrides)
        store = open_store(database_url)
        if busy_timeout is not None:
            store.close()
            store = Store(database_url, busy_timeout=busy_timeout)
        stop = threading.Event()
        worker = start_outbox_worker(config, store, stop)
        mount.app = create_app(config, store, on_mail_queued=worker.wake)
        serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                                   daemon=True)
        serving.start()
        started.append((server, serving, worker, store, sink))
        return Service(config, store, sink, maildir, host, port)

    yield start
    for server, serving, worker, store, sink in started:
        server.shutdown()
        serving.join()
        server.server_close()
        worker.stop()
        worker.join()
        store.close()
        sink.stop()


@pytest.fixture
def service(make_service):
    return make_service()


@pytest.fixture
def service_log(caplog):
    caplog.set_level(logging.INFO, logger="service")
    return caplog
