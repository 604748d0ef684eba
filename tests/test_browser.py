"""Smoke test in Debian's Chromium: home → article → author, on phone and desktop."""

import contextlib
import functools
import struct
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytestmark = pytest.mark.browser

VIEWPORTS = {"mobiel": (375, 812), "desktop": (1280, 800)}


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_folder(folder):
    """A static HTTP server for ``folder`` on 127.0.0.1; yields its base URL."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def site_url(dev_site):
    with serve_folder(dev_site.output) as url:
        yield url


def png_size(path) -> tuple[int, int]:
    with open(path, "rb") as image:
        header = image.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_reader_goes_from_home_to_article_to_author(browser, site_url, viewport, tmp_path):
    width, height = VIEWPORTS[viewport]
    page = browser.new_page(viewport={"width": width, "height": height})
    console_errors, foreign_requests = [], []
    page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    page.on("request", lambda r: r.url.startswith(site_url) or foreign_requests.append(r.url))

    page.goto(f"{site_url}/")
    assert page.locator("html").get_attribute("lang") == "nl"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Naar de inhoud"

    first_card = page.locator(".card__title a").first
    title = first_card.inner_text()
    first_card.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == title
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    article_shot = tmp_path / f"artikel-{viewport}.png"
    page.screenshot(path=str(article_shot), full_page=True)
    assert png_size(article_shot)[0] == width

    author_link = page.locator("header .byline a[rel=author]").first
    author = author_link.inner_text()
    author_link.click()
    page.wait_for_load_state()
    assert "/auteur/" in page.url
    assert page.locator("h1").inner_text() == author
    assert page.locator(".card__title a", has_text=title).count() == 1
    page.screenshot(path=str(tmp_path / f"auteur-{viewport}.png"), full_page=True)

    assert console_errors == []
    assert foreign_requests == []
    page.close()
