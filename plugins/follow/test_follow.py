"""The follow form: works without JavaScript, honest consent, provider presets."""

import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from follow.follow import consent_version
from tests.support import PUBLISH_SITEURL, ROOT, BuiltSite, publish_site, sample_articles
from tests.tools import CHROMIUM_ARGS, chromium

SERIES_PART = "2023/vragen-stellen-in-plaats-van-vertellen/"
FIXTURE_CONTENT = Path(__file__).parent / "test_data" / "content"
# Pelican's signals outlive a build: in this process the receivers of every plugin an
# earlier test loaded are still connected. A build with fewer plugins needs its own.
BUILD_WITH_PLUGINS = """
import json, logging, sys
from pathlib import Path
from tests.support import publish_site
site = publish_site(Path(sys.argv[1]), PATH=sys.argv[2], PLUGINS=sys.argv[3:])
print(json.dumps(site.messages(logging.ERROR)))
"""


def publish_with_plugins(output: Path, content: Path, plugins: list[str]) -> tuple[BuiltSite, list]:
    """Build in a fresh interpreter with only ``plugins``; the site and its errors."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "plugins"), str(ROOT)]))
    result = subprocess.run([sys.executable, "-c", BUILD_WITH_PLUGINS, str(output), str(content),
                             *plugins], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    return BuiltSite(output=output, settings={}), json.loads(result.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return publish_site(tmp_path_factory.mktemp("follow") / "output")


class RecordingServer(ThreadingHTTPServer):
    """Serves the built site and records every POST to /volg/."""

    def __init__(self, directory):
        self.directory = str(directory)
        self.posts = []
        super().__init__(("127.0.0.1", 0), RecordingHandler)


class RecordingHandler(SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=args[2].directory, **kwargs)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length).decode("utf-8")
        self.server.posts.append((self.path, self.headers.get("Content-Type"), parse_qs(
            body, keep_blank_values=True)))
        reply = "<!DOCTYPE html><html lang=nl><title>Bedankt</title><p>Bedankt</p></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(reply.encode("utf-8"))

    def log_message(self, *args):
        pass


@pytest.mark.browser
def test_form_posts_to_the_endpoint_without_javascript(tmp_path):
    executable = chromium()
    output = tmp_path / "output"
    output.mkdir()
    server = RecordingServer(output)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site_url = f"http://127.0.0.1:{server.server_port}"
    try:
        site = publish_site(output, SITEURL=site_url)
        version = site.soup(SERIES_PART).select_one("#volg input[type=checkbox]")["value"]
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            page = browser.new_context(java_script_enabled=False).new_page()
            page.goto(f"{site_url}/{SERIES_PART}")
            page.get_by_label("Je e-mailadres").fill("lezer@voorbeeld.example")
            page.get_by_label("Alleen de serie Interne klantgerichtheid").check()
            page.locator("#volg input[type=checkbox]").check()
            page.locator("#volg button[type=submit]").click()
            page.wait_for_load_state()
            assert page.locator("p").inner_text() == "Bedankt"
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    assert len(server.posts) == 1
    path, content_type, fields = server.posts[0]
    assert path == "/volg/"
    assert content_type == "application/x-www-form-urlencoded"
    assert fields == {
        "email": ["lezer@voorbeeld.example"],
        "scope": ["series:interne-klantgerichtheid"],
        "consent": [version],
        "website": [""],
    }


def test_every_article_and_the_home_page_offer_the_follow_block(sample):
    pages = [f"{a['date'][:4]}/{a['path'].stem}/" for a in sample_articles()] + ["index.html"]
    for page in pages:
        block = sample.soup(page).find("section", id="volg")
        assert block is not None, page
        assert block.form["method"] == "post"
        assert block.form["action"] == f"{PUBLISH_SITEURL}/volg/"
        assert block.find("a", href=f"{PUBLISH_SITEURL}/feeds/alle.rss.xml")
    for page in sample.html_pages():
        button = sample.soup(str(page.relative_to(sample.output))).find("a", class_="follow-button")
        assert button and button["href"].endswith("#volg"), page


def test_form_has_a_visible_label_consent_and_only_a_honeypot_hidden(sample):
    soup = sample.soup(SERIES_PART)
    form = soup.select_one("#volg form")
    email = form.find("input", type="email")
    assert form.find("label", attrs={"for": email["id"]}).get_text() == "Je e-mailadres"
    assert email.has_attr("required")
    consent = form.select_one(".follow__consent").get_text(" ", strip=True)
    for promise in ("Ruimte & Richting stuurt je een e-mail", "hooguit één keer per week",
                    "met één klik afmeldt", "Privacyverklaring"):
        assert promise in consent
    checkbox = form.find("input", type="checkbox")
    assert f"versie {checkbox['value']}" in consent
    assert checkbox.has_attr("required")
    assert form.find_all("input", type="hidden") == []
    hidden = [p for p in form.find_all(attrs={"aria-hidden": "true"})]
    assert [h.input["name"] for h in hidden] == ["website"]
    scopes = [r["value"] for r in form.find_all("input", type="radio")]
    assert scopes == ["site", "series:interne-klantgerichtheid", "category:klantgerichtheid"]
    assert soup.find_all("script", src=True) == []


def test_series_page_offers_its_series_chosen(sample):
    form = sample.soup("serie/interne-klantgerichtheid/").select_one("#volg form")
    radios = form.find_all("input", type="radio")
    assert [r["value"] for r in radios] == ["site", "series:interne-klantgerichtheid"]
    assert [r["value"] for r in radios if r.has_attr("checked")] == [
        "series:interne-klantgerichtheid"]


def test_follow_works_without_the_feeds_and_series_plugins(tmp_path):
    content = shutil.copytree(FIXTURE_CONTENT, tmp_path / "content")
    site, errors = publish_with_plugins(tmp_path / "output", content, ["site_nl", "follow"])
    assert errors == []
    # Without the series plugin a "Series:" field has no slug to subscribe to.
    form = site.soup("2024/samen-plannen/").select_one("#volg form")
    assert [r["value"] for r in form.find_all("input", type="radio")] == [
        "site", "category:samenwerken"]
    assert form.find("input", type="checkbox")["value"]
    data = json.loads((site.output / "nieuwsbrief" / "editions.json").read_text(encoding="utf-8"))
    editions = {e["title"]: e for e in data["editions"]}
    assert sorted(editions) == ["Kort overleg", "Samen plannen"]
    assert (editions["Samen plannen"]["series"], editions["Samen plannen"]["series_slug"]) == (
        "Beter plannen", None)
    for edition in editions.values():
        edition_page = site.soup(edition["html"])
        assert edition_page.h1.get_text() == edition["title"]
        assert (site.output / edition["text"]).is_file()
    index = site.soup("nieuwsbrief/index.html")
    assert {a.get_text() for a in index.select("main li a")} >= set(editions)


def test_home_page_offers_only_the_whole_site(sample):
    form = sample.soup("index.html").select_one("#volg form")
    assert form.find_all("input", type="radio") == []


def test_consent_version_follows_the_text(sample, tmp_path):
    shown = sample.soup(SERIES_PART).select_one("#volg input[type=checkbox]")["value"]
    other = publish_site(tmp_path / "output", FOLLOW_FREQUENCY="elke maandag")
    changed = other.soup(SERIES_PART).select_one("#volg input[type=checkbox]")["value"]
    assert shown != changed
    assert consent_version("Een  tekst\n") == consent_version("Een tekst")


@pytest.mark.parametrize("preset, endpoint, overrides, expected", [
    ("mailchimp", "https://voorbeeld.us1.list-manage.com/subscribe/post?u=1&id=2",
     {"honeypot": "b_1_2"}, {"email": "EMAIL", "honeypot": "b_1_2", "scopes": []}),
    ("buttondown", "https://buttondown.com/api/emails/embed-subscribe/voorbeeld", {},
     {"email": "email", "honeypot": None,
      "scopes": ["site", "series:interne-klantgerichtheid", "category:klantgerichtheid"]}),
])
def test_presets_post_the_providers_field_names(preset, endpoint, overrides, expected, tmp_path):
    site = publish_site(tmp_path / "output", FOLLOW_PRESET=preset, FOLLOW_ENDPOINT=endpoint,
                   FOLLOW_FIELDS=overrides)
    form = site.soup(SERIES_PART).select_one("#volg form")
    assert form["action"] == endpoint
    assert form.find("input", type="email")["name"] == expected["email"]
    trap = form.select_one(".follow__trap input")
    assert (trap["name"] if trap else None) == expected["honeypot"]
    assert [r["value"] for r in form.find_all("input", type="radio")] == expected["scopes"]
    assert not form.find("input", type="checkbox").has_attr("name")


def test_without_endpoint_readers_get_feeds_and_a_mailto(tmp_path):
    site = publish_site(tmp_path / "output", FOLLOW_ENDPOINT="")
    block = site.soup(SERIES_PART).find("section", id="volg")
    assert block.find("form") is None
    mailto = block.find("a", href=lambda h: h and h.startswith("mailto:"))
    assert mailto["href"].startswith("mailto:info@ruimte-en-richting.example?subject=Aanmelden")
    assert block.find("a", href=f"{PUBLISH_SITEURL}/feeds/alle.atom.xml")


def test_bad_follow_settings_are_reported(tmp_path):
    site = publish_site(tmp_path / "output", FOLLOW_PRESET="sendgrid", FOLLOW_FIELDS={"naam": "x"})
    messages = " ".join(site.messages())
    assert "FOLLOW_PRESET is 'sendgrid'" in messages
    assert "FOLLOW_FIELDS has unknown fields naam" in messages
