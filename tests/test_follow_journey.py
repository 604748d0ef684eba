"""The whole "volgen" journey, in Chromium with JavaScript off, on the published sample site.

A reader follows the site from an article, confirms from the caught mail, gets the
next article by email, leaves with the one-click link, and gets nothing after that.
Everything is real: the publish build, the site and service on one HTTP server (the
composition ``make serve`` uses), SQLite, an SMTP server, the outbox worker, the
newsletter sender and Chromium.
"""

import datetime
import email
import email.policy
import re
import threading
import time
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pelican.settings import read_settings
from werkzeug.serving import make_server

from service.config import ServiceConfig
from service.devserver import site_app
from service.mailer import SmtpSettings
from service.newsletter import load_manifest, send
from service.outbox import start_outbox_worker
from service.smtp_sink import start_sink
from service.store import open_store
from tests.support import ROOT, copy_content, publish_site, write_file

pytestmark = pytest.mark.browser

READER = "lezer@voorbeeld.nl"
ARTICLE = "2023/je-collega-als-klant/"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def wait_for(condition, seconds=15.0, what="condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"waited {seconds} s for {what}")


def caught(maildir: Path) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(maildir.glob("*.eml"))]


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def new_article(content: Path, slug: str, title: str) -> None:
    # Now, to the second: the publish build leaves future-dated articles out.
    moment = datetime.datetime.now(AMSTERDAM)
    write_file(content / "articles" / "2026" / f"{slug}.md", (
        f"Title: {title}\nDate: {moment:%Y-%m-%d %H:%M:%S}\nAuthor: marloes-verhagen\n"
        f"Category: Klantgerichtheid\nId: reis-{slug}\n"
        f"Summary: Een nieuw stuk over {title.lower()}.\n\n"
        "Wie een collega als klant ziet, stelt eerst een vraag en geeft daarna pas een "
        "antwoord. Dat kost een minuut en scheelt een week.\n"))


class Journey:
    """The site, the service, the mail server and the sender of one test."""

    def __init__(self, folder: Path, **overrides):
        self.content = copy_content(folder / "content")
        self.output = folder / "output"
        self.maildir = folder / "mail"
        self.sink = start_sink("127.0.0.1", 0, maildir=self.maildir)
        self.server = make_server("127.0.0.1", 0, None, threaded=True)
        self.site_url = f"http://127.0.0.1:{self.server.server_port}"
        self.config = ServiceConfig.for_tests(
            folder, site_url=self.site_url, output_path=self.output,
            smtp=SmtpSettings(port=self.sink.port, timeout=10, retries=1, backoff=0.1),
            **{"min_form_seconds": 0, **overrides})
        self.store = open_store(self.config.database_url)
        self.stop = threading.Event()
        self.worker = start_outbox_worker(self.config, self.store, self.stop)
        self.server.app = site_app(self.config, self.store, on_mail_queued=self.worker.wake)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def publish(self):
        site = publish_site(self.output, SITEURL=self.site_url, PATH=str(self.content))
        assert not site.messages(), site.messages()
        return site

    def send_newsletter(self):
        settings = read_settings(str(ROOT / "publishconf.py"),
                                 override={"PATH": str(self.content),
                                           "OUTPUT_PATH": str(self.output)})
        manifest = load_manifest(self.output / "nieuwsbrief" / "editions.json", self.config)
        return send(self.store, self.config, manifest, settings,
                    datetime.datetime.now(datetime.UTC))

    def close(self):
        self.stop.set()
        self.worker.join(5)
        self.server.shutdown()
        self.server.server_close()
        self.sink.stop()
        self.store.close()


@pytest.fixture
def journey(tmp_path):
    started = Journey(tmp_path)
    started.publish()
    started.thread.start()
    yield started
    started.close()


def test_a_reader_follows_confirms_receives_and_leaves(journey, browser):
    page = browser.new_context(java_script_enabled=False).new_page()

    # Follow from an article, as the theme's form posts it.
    page.goto(f"{journey.site_url}/{ARTICLE}")
    page.fill("#volg-email", READER)
    page.locator(".follow__consent input[type=checkbox]").check()
    page.locator(".follow__form button[type=submit]").click()
    assert "Bijna klaar" in page.locator("h1").inner_text()

    # The confirmation mail reaches the mail server; its link shows a button.
    [confirmation] = wait_for(lambda: caught(journey.maildir), what="the confirmation mail")
    assert confirmation["To"] == READER
    link = re.search(r"https?://\S+/volg/bevestig/\S+/", text_of(confirmation)).group(0)
    assert link.startswith(journey.site_url)
    page.goto(link)
    assert journey.store.stats()["subscriptions_confirmed"] == 0, "opening the link confirms"
    page.locator("main form button").click()
    assert journey.store.stats()["subscriptions_confirmed"] == 1
    [record] = journey.store.subscription_records()
    assert (record.email, record.scope, record.state) == (READER, "site", "confirmed")

    # Articles from before the confirmation are not mailed; a new one is.
    time.sleep(2)  # the new article's date, to the second, comes after the confirmation
    new_article(journey.content, "de-vraag-achter-de-vraag", "De vraag achter de vraag")
    journey.publish()
    report = journey.send_newsletter()
    assert report.sent == 1, report.lines()
    edition = wait_for(lambda: caught(journey.maildir)[1:], what="the edition")[0]
    assert edition["Subject"] == "De vraag achter de vraag"
    assert edition["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = re.search(r"<(https?://[^>]+)>", edition["List-Unsubscribe"]).group(1)
    assert one_click in text_of(edition)

    # RFC 8058: a POST from the mail client, answered 200, no redirect, no cookie.
    request = urllib.request.Request(one_click, data=b"List-Unsubscribe=One-Click",
                                     method="POST")
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200
        assert answer.url == one_click
        assert answer.headers.get("Set-Cookie") is None
    assert {r.state for r in journey.store.subscription_records()} == {"unsubscribed"}

    # Published again: nothing more for the reader who left.
    new_article(journey.content, "luisteren-zonder-oplossing", "Luisteren zonder oplossing")
    journey.publish()
    assert journey.send_newsletter().sent == 0
    time.sleep(0.5)
    assert len(caught(journey.maildir)) == 2
