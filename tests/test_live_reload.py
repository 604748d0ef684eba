"""Live reload for ``make serve``: the builder rewrites the marker, every open page reloads.

Everything is real: werkzeug's server on a port the OS picks, the event stream read
over HTTP, the marker written as the builder writes it, Debian's Chromium, and
in-process builds of the sample site.
"""

import contextlib
import http.client
import os
import threading
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from service.config import ServiceConfig
from service.devserver import LIVE_RELOAD_PATH, site_app, static_site
from service.livereload import make_livereload
from service.store import open_store
from tests.support import build_site, write_file

SCRIPT_URL = f"{LIVE_RELOAD_PATH}/script.js"
EVENTS_URL = f"{LIVE_RELOAD_PATH}/events"
PAGE = ("<!DOCTYPE html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>Live</title>"
        "<link rel=\"icon\" href=\"data:,\">"
        f"<script src=\"{SCRIPT_URL}\" defer></script></head><body><p>Hallo</p></body></html>")


def write_marker(marker: Path, build_id: str) -> None:
    # As the builder does: a whole new file in one step, never a half-written one.
    temporary = marker.with_name(marker.name + ".tmp")
    temporary.write_text(build_id, encoding="utf-8")
    os.replace(temporary, marker)


@contextlib.contextmanager
def serving(app):
    """``app`` on a real threaded werkzeug server; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def site_with_live_reload(folder: Path, marker: Path, **options):
    """A static folder with live reload at its mount, composed as ``site_app`` does."""
    return DispatcherMiddleware(static_site(folder),
                                {LIVE_RELOAD_PATH: make_livereload(marker, **options)})


class Stream:
    """The ``events`` stream, read message by message as EventSource parses it."""

    def __init__(self, url: str, path: str = EVENTS_URL):
        host, port = url.removeprefix("http://").split(":")
        # The timeout only ends a test that would hang; every wait below is shorter.
        self.connection = http.client.HTTPConnection(host, int(port), timeout=10)
        self.connection.request("GET", path)
        self.response = self.connection.getresponse()

    def next(self) -> dict | None:
        """The next event as its fields, ``{"comment": ...}``, or None at the end."""
        fields: dict[str, list[str]] = {}
        while True:
            raw = self.response.readline()
            if not raw:
                return None
            line = raw.decode("utf-8").rstrip("\r\n")
            if line.startswith(":"):
                return {"comment": line[1:].strip()}
            if line:
                name, _, value = line.partition(":")
                fields.setdefault(name, []).append(value.removeprefix(" "))
            elif fields:
                return {name: "\n".join(values) for name, values in fields.items()}

    def close(self):
        self.response.close()
        self.connection.close()


@pytest.fixture
def marker(tmp_path):
    return tmp_path / "build-id"


@pytest.fixture
def site_folder(tmp_path):
    folder = tmp_path / "site"
    write_file(folder / "index.html", PAGE)
    return folder


def test_a_changed_marker_sends_one_reload_event(site_folder, marker):
    # Keepalives every second mark the silence: a keepalive next means nothing else came.
    app = site_with_live_reload(site_folder, marker, poll_seconds=0.05, keepalive_seconds=1.0)
    with serving(app) as url:
        stream = Stream(url)
        assert stream.response.status == 200
        assert stream.response.headers["Content-Type"] == "text/event-stream"
        assert stream.response.headers["Cache-Control"] == "no-cache"
        assert stream.next() == {"comment": "connected"}

        write_marker(marker, "")  # no file and an empty one are the same build
        assert stream.next() == {"comment": "keepalive"}

        write_marker(marker, "20250101-1")
        written = time.monotonic()
        assert stream.next() == {"event": "reload", "data": "20250101-1"}
        assert time.monotonic() - written < 2

        write_marker(marker, "20250101-1\n")  # rewritten, same build: no reload
        assert stream.next() == {"comment": "keepalive"}

        write_marker(marker, "20250101-2")
        assert stream.next() == {"event": "reload", "data": "20250101-2"}
        stream.close()


def test_the_marker_at_connect_is_the_baseline(site_folder, marker):
    write_marker(marker, "7")
    app = site_with_live_reload(site_folder, marker, poll_seconds=0.05, keepalive_seconds=0.5)
    with serving(app) as url:
        stream = Stream(url)
        assert stream.next() == {"comment": "connected"}
        assert stream.next() == {"comment": "keepalive"}
        write_marker(marker, "8")
        assert stream.next() == {"event": "reload", "data": "8"}
        stream.close()


def test_the_stream_ends_when_the_page_is_gone(site_folder, marker):
    app = site_with_live_reload(site_folder, marker, poll_seconds=0.02, keepalive_seconds=0.05)
    with serving(app) as url:
        before = set(threading.enumerate())
        stream = Stream(url)
        assert stream.next() == {"comment": "connected"}
        handlers = [t for t in threading.enumerate() if t not in before]
        assert handlers, "the stream has no server thread of its own"
        stream.close()
        deadline = time.monotonic() + 3
        while any(t.is_alive() for t in handlers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(t.is_alive() for t in handlers), "the stream outlived its client"


def test_the_stream_ends_after_its_lifetime(site_folder, marker):
    app = site_with_live_reload(site_folder, marker, poll_seconds=0.02, keepalive_seconds=60,
                                max_seconds=0.3)
    with serving(app) as url:
        stream = Stream(url)
        started = time.monotonic()
        assert stream.next() == {"comment": "connected"}
        assert stream.next() is None
        assert time.monotonic() - started < 3
        stream.close()


def test_make_serve_composition_serves_the_script_and_the_stream(tmp_path, site_folder, marker):
    config = ServiceConfig.for_tests(tmp_path, output_path=site_folder)
    store = open_store(config.database_url)
    try:
        with serving(site_app(config, store, reload_marker=marker)) as url:
            connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=10)
            connection.request("GET", SCRIPT_URL)
            script = connection.getresponse()
            body = script.read()
            assert script.status == 200
            assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
            assert script.headers["Cache-Control"] == "no-cache"
            assert len(body) < 1024
            assert f'new EventSource("{EVENTS_URL}" + "?since=" + since)' in body.decode("utf-8")
            assert b"location.reload()" in body
            connection.close()

            for path in (f"{LIVE_RELOAD_PATH}/", f"{LIVE_RELOAD_PATH}/other.js"):
                connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=10)
                connection.request("GET", path)
                assert connection.getresponse().status == 404, path
                connection.close()

            stream = Stream(url)
            assert stream.next() == {"comment": "connected"}
            write_marker(marker, "1")
            assert stream.next() == {"event": "reload", "data": "1"}
            stream.close()

        with serving(site_app(config, store)) as url:
            connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=10)
            connection.request("GET", SCRIPT_URL)
            assert connection.getresponse().status == 404
            connection.close()
    finally:
        store.close()


@pytest.mark.browser
def test_an_open_page_reloads_once_when_the_marker_changes(browser, site_folder, marker):
    write_marker(marker, "1")
    app = site_with_live_reload(site_folder, marker, keepalive_seconds=0.5)
    with serving(app) as url:
        context = browser.new_context()
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))

        def stream_opened():
            return page.expect_response(lambda r: r.url.startswith(url + EVENTS_URL + "?since="))

        # The stream's headers come after the server read the marker: from then on no
        # rebuild is missed.
        with stream_opened():
            page.goto(url + "/")
        page.evaluate("window.__kept = 1")
        with page.expect_event("load", timeout=5000), stream_opened():
            write_marker(marker, "2")
        assert page.evaluate("window.__kept") is None

        # The reloaded page's stream starts from build 2: it does not reload again.
        page.evaluate("window.__kept = 2")
        page.wait_for_timeout(1000)
        assert page.evaluate("window.__kept") == 2
        assert errors == []
        context.close()


@pytest.mark.browser
def test_without_event_source_the_script_does_nothing(browser, site_folder, marker):
    with serving(site_with_live_reload(site_folder, marker)) as url:
        context = browser.new_context()
        context.add_init_script("delete window.EventSource;")
        page = context.new_page()
        errors, requested = [], []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda r: requested.append(r.url))
        page.goto(url + "/")
        page.wait_for_load_state("load")
        assert page.evaluate("'EventSource' in window") is False
        assert url + SCRIPT_URL in requested
        assert not [address for address in requested if address.startswith(url + EVENTS_URL)]
        assert errors == []
        context.close()


def live_reload_scripts(page) -> list:
    return page.find_all("script", src=lambda src: src and "_livereload" in src)


def test_only_the_make_serve_build_has_the_script(dev_site, tmp_path):
    pages = dev_site.html_pages(emails=True)
    assert pages
    assert [p for p in pages if "_livereload" in p.read_text(encoding="utf-8")] == []

    site = build_site("pelicanconf.py", tmp_path / "out2", DEV_LIVE_RELOAD_SCRIPT=SCRIPT_URL)
    assert not site.messages(), site.messages()
    articles = [p for p in site.html_pages()
                if p.relative_to(site.output).parts[0].isdigit()]
    assert len(articles) >= 2
    for path in articles:
        scripts = live_reload_scripts(site.soup(str(path.relative_to(site.output))))
        assert len(scripts) == 1, path
        assert scripts[0]["src"] == SCRIPT_URL and scripts[0].has_attr("defer"), path


def test_the_not_found_page_at_any_address_links_from_the_root(dev_site):
    # After a title change the open page reloads at an address that no longer exists.
    with serving(static_site(dev_site.output)) as base:
        connection = http.client.HTTPConnection(base.removeprefix("http://"), timeout=5)
        connection.request("GET", "/2024/een-oude-titel/")
        response = connection.getresponse()
        body = response.read().decode("utf-8")
    assert response.status == 404
    soup = BeautifulSoup(body, "html.parser")
    stylesheet = soup.find("link", rel="stylesheet")["href"]
    assert stylesheet.startswith("/theme/"), stylesheet
    assert all(not link["href"].startswith("./") for link in soup.find_all("a", href=True))


def test_a_rebuild_between_page_load_and_stream_reloads_at_once(site_folder, marker):
    write_marker(marker, "site 1")
    written_ms = marker.stat().st_mtime_ns // 1_000_000
    with serving(site_with_live_reload(site_folder, marker)) as url:
        # The page began to load before the marker was written: reload straight away.
        early = Stream(url, f"{EVENTS_URL}?since={written_ms - 1000}")
        try:
            assert early.next() == {"comment": "connected"}
            assert early.next() == {"event": "reload", "data": "site 1"}
        finally:
            early.close()
        # A page that began after it waits for the next rebuild.
        late = Stream(url, f"{EVENTS_URL}?since={written_ms + 1000}")
        try:
            assert late.next() == {"comment": "connected"}
            write_marker(marker, "site 2")
            assert late.next() == {"event": "reload", "data": "site 2"}
        finally:
            late.close()
