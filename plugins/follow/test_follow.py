"""The follow form: works without JavaScript, honest consent, provider presets; and the
follow service's pages and formulier.json, which the build writes for the service."""

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from bs4 import BeautifulSoup
from pelican.settings import read_settings

from follow.consent import FREQUENCY_DAYS, consent_version, frequency_promise
from follow.digest import email_environment
from follow.service_pages import FORM_TIME_MARKER, PAGE_KEYS
from tests.support import (
    PUBLISH_SITEURL,
    ROOT,
    BuiltSite,
    build_site,
    publish_site,
    sample_articles,
)
from tests.tools import CHROMIUM_ARGS, axe_script, chromium, vnu_errors

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
    other = publish_site(tmp_path / "output", FOLLOW_FREQUENCY="monthly")
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
    # An outside list provider has its own pages: the build writes none for it.
    assert not (site.output / "volg").exists()
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
    assert not (site.output / "volg").exists()


def test_bad_follow_settings_are_reported(tmp_path):
    site = publish_site(tmp_path / "output", FOLLOW_PRESET="sendgrid", FOLLOW_FIELDS={"naam": "x"})
    messages = " ".join(site.messages())
    assert "FOLLOW_PRESET is 'sendgrid'" in messages
    assert "FOLLOW_FIELDS has unknown fields naam" in messages


# --- The follow service's pages and formulier.json -------------------------------------

SERVICE = "volg"
BUTTON_PAGES = ("bevestigen", "afmelden-knop")
TIMED_PAGES = ("index", "afmelden")


def service_page(site, key: str) -> BeautifulSoup:
    return site.soup(f"{SERVICE}/pagina/{key}.html")


def service_forms(page: BeautifulSoup) -> list:
    """The page's forms but the header's search field, which every page has."""
    return [form for form in page.find_all("form") if form.get("role") != "search"]


def form_data(site) -> dict:
    return json.loads((site.output / SERVICE / "formulier.json").read_text(encoding="utf-8"))


def article_pages() -> list[str]:
    return [f"{a['date'][:4]}/{a['path'].stem}/" for a in sample_articles()]


def test_every_service_page_is_written_in_the_sites_look(sample):
    written = sorted(p.stem for p in (sample.output / SERVICE / "pagina").iterdir())
    assert written == sorted(PAGE_KEYS)
    assert form_data(sample)["pages"] == list(PAGE_KEYS)
    for key in PAGE_KEYS:
        soup = service_page(sample, key)
        assert soup.html["lang"] == "nl", key
        assert soup.find("meta", attrs={"name": "robots"})["content"] == "noindex", key
        assert soup.find("link", rel="canonical") is None, key
        assert len(soup.find_all("h1")) == 1, key
        assert soup.h1.get_text(strip=True) and soup.select_one("main p").get_text(strip=True)
        for landmark in ("header", "nav", "main", "footer"):
            assert soup.find(landmark), f"{key} lacks <{landmark}>"
        assert soup.select_one(f"main a[href='{PUBLISH_SITEURL}/']").get_text() == \
            "Naar de voorpagina", key
        assert soup.find("link", rel="stylesheet")["href"] == f"{PUBLISH_SITEURL}/theme/css/site.css"
    headings = {key: service_page(sample, key).h1.get_text() for key in PAGE_KEYS}
    assert headings["bijna-klaar"] == "Bijna klaar"
    assert headings["niet-gevonden"] == "Pagina niet gevonden"
    assert len(set(headings.values())) == len(PAGE_KEYS)
    assert "Bevestig je aanmelding in de e-mail die we je stuurden." in \
        service_page(sample, "bijna-klaar").main.get_text()
    assert "Als dit adres bij ons bekend is, ontvang je een e-mail met een afmeldlink." in \
        service_page(sample, "afmelden-verstuurd").main.get_text()
    assert "herlaad de pagina" in service_page(sample, "verouderd-formulier").main.get_text().lower()


def test_service_pages_are_in_no_sitemap_or_listing(sample):
    sitemap = (sample.output / "sitemap.xml").read_text(encoding="utf-8")
    assert f"/{SERVICE}/" not in sitemap
    for page in sample.html_pages(emails=True):
        if SERVICE not in page.relative_to(sample.output).parts:
            soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
            assert soup.select(f"[href*='/{SERVICE}/pagina/']") == [], page


def test_sign_up_page_offers_every_scope_with_the_time_marker(sample):
    form = service_page(sample, "index").select_one("main form")
    assert (form["method"], form["action"]) == ("post", f"{PUBLISH_SITEURL}/volg/")
    assert [(i["name"], i["value"]) for i in form.find_all("input", type="hidden")] == [
        ("t", FORM_TIME_MARKER)]
    assert form.find("input", type="email")["name"] == "email"
    assert form.find("input", type="checkbox")["name"] == "consent"
    assert form.select_one(".follow__trap input")["name"] == "website"
    radios = form.find_all("input", type="radio")
    assert [r["value"] for r in radios] == [s["scope"] for s in form_data(sample)["scopes"]]
    assert [r["value"] for r in radios if r.has_attr("checked")] == ["site"]
    # Every scope a form of the site posts is offered here and named in formulier.json.
    posted = set()
    for page in article_pages() + ["serie/interne-klantgerichtheid/"]:
        posted |= {r["value"] for r in sample.soup(page).select("#volg input[type=radio]")}
    assert posted == {r["value"] for r in radios}
    for radio in radios:
        scope = next(s for s in form_data(sample)["scopes"] if s["scope"] == radio["value"])
        assert radio.parent.get_text(strip=True) == scope["name"]


def test_unsubscribe_page_asks_only_for_the_address(sample):
    form = service_page(sample, "afmelden").select_one("main form")
    assert (form["method"], form["action"]) == ("post", f"{PUBLISH_SITEURL}/volg/afmelden/")
    assert [(i["name"], i["type"]) for i in form.find_all("input")] == [
        ("t", "hidden"), ("email", "email"), ("website", "text")]
    assert form.select_one(".follow__trap input")["name"] == "website"
    assert form.find("input", type="hidden")["value"] == FORM_TIME_MARKER
    email = form.find("input", type="email")
    assert form.find("label", attrs={"for": email["id"]}).get_text() == "Je e-mailadres"
    assert len(form.find_all("button")) == 1


def test_button_pages_post_to_their_own_address(sample):
    for key in BUTTON_PAGES:
        forms = service_forms(service_page(sample, key))
        assert len(forms) == 1, key
        assert forms[0]["method"] == "post" and not forms[0].has_attr("action"), key
        assert forms[0].find_all("input") == [], key
        assert [b.get_text() for b in forms[0].find_all("button")] == [
            {"bevestigen": "Bevestigen", "afmelden-knop": "Afmelden"}[key]]
    raw = (sample.output / SERVICE / "pagina" / "bevestigen.html").read_text(encoding="utf-8")
    assert '<form class="follow__form" method="post">' in raw


def test_the_time_marker_is_only_on_the_services_own_forms(sample):
    for key in PAGE_KEYS:
        raw = (sample.output / SERVICE / "pagina" / f"{key}.html").read_text(encoding="utf-8")
        assert (f'value="{FORM_TIME_MARKER}"' in raw) == (key in TIMED_PAGES), key
        assert raw.count(FORM_TIME_MARKER) == (key in TIMED_PAGES), key
        if key not in TIMED_PAGES + BUTTON_PAGES:
            assert service_forms(service_page(sample, key)) == [], key
    # The reaction service's form page (reactie/pagina/formulier.html) has one too.
    for page in sample.html_pages(emails=True):
        if not {SERVICE, "reactie"} & set(page.relative_to(sample.output).parts):
            assert FORM_TIME_MARKER not in page.read_text(encoding="utf-8"), page


def test_formulier_json_says_what_the_forms_show(sample):
    data = form_data(sample)
    assert data["format"] == 1
    assert data["site"] == {"name": "Ruimte & Richting", "url": PUBLISH_SITEURL}
    assert data["endpoint"] == "/volg/"
    assert data["frequency"] == {"key": "weekly", "days": 7, "text": "hooguit één keer per week"}
    consent = data["consent"]
    assert consent_version(consent["text"]) == consent["version"]
    assert "hooguit één keer per week" in consent["text"]
    for page in article_pages() + ["index.html", "volg/pagina/index.html"]:
        label = sample.soup(page).select_one("form .follow__consent label")
        assert label.input["value"] == consent["version"], page
        assert " ".join(label.get_text().split()) == consent["text"], page
    assert data["scopes"][0] == {"scope": "site", "name": "Elk nieuw artikel"}
    assert {"scope": "series:interne-klantgerichtheid",
            "name": "Alleen de serie Interne klantgerichtheid"} in data["scopes"]
    assert {"scope": "category:samenwerken", "name": "Alleen de categorie Samenwerken"} in \
        data["scopes"]


def test_formulier_json_holds_the_services_mails_in_dutch(sample):
    mails = form_data(sample)["mails"]
    confirm, unsubscribe = mails["confirm"], mails["unsubscribe"]
    assert confirm["subject"] == "Bevestig je aanmelding bij Ruimte & Richting"
    assert unsubscribe["subject"] == "Afmelden voor Ruimte & Richting"
    lines = confirm["text"].splitlines()
    assert lines[0] == "Hallo,"
    # The service fills in the link and the scope's name, each on a line of its own.
    assert "{link}" in lines and "Je keuze: {scope_name}" in lines
    assert "hooguit één keer per week" in " ".join(lines)
    assert "{link}" in unsubscribe["text"].splitlines()
    assert "{scope_name}" not in unsubscribe["text"]
    for mail in (confirm, unsubscribe):
        assert max(len(line) for line in mail["text"].splitlines()) <= 72
        assert mail["text"].endswith(f"\n-- \nRuimte & Richting\n{PUBLISH_SITEURL}/")
        assert "&amp;" not in mail["text"] + mail["subject"]


def test_service_pages_link_from_the_site_root_in_development(tmp_path):
    # The service shows them at /volg/bevestig/<token>/ too: a relative link would break.
    dev = build_site("pelicanconf.py", tmp_path / "output")
    for key in PAGE_KEYS:
        soup = service_page(dev, key)
        for tag in soup.find_all(["a", "link", "img", "form"]):
            url = tag.get("href") or tag.get("src") or tag.get("action")
            if url is not None:
                assert url.startswith(("/", "#", "mailto:", "tel:")), f"{key}: {url}"
    assert service_page(dev, "index").select_one("main form")["action"] == "/volg/"
    assert form_data(dev)["site"]["url"] == "http://127.0.0.1:8000"


@pytest.mark.validator
def test_service_pages_are_valid_html5(sample):
    assert vnu_errors(sample.output / SERVICE) == []


AXE_VIOLATIONS = """axe.run(document).then(result => result.violations.map(
  v => `${v.id}: ${v.nodes.map(node => node.target.join(" ")).join(", ")}`))"""


@pytest.mark.browser
def test_service_pages_have_no_axe_violations(tmp_path):
    executable, script = chromium(), axe_script()
    output = tmp_path / "output"
    output.mkdir()
    server = RecordingServer(output)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site_url = f"http://127.0.0.1:{server.server_port}"
    found = {}
    try:
        publish_site(output, SITEURL=site_url)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 390, "height": 844})
            for key in PAGE_KEYS:
                page.goto(f"{site_url}/{SERVICE}/pagina/{key}.html")
                page.add_script_tag(path=str(script))
                found[key] = page.evaluate(AXE_VIOLATIONS)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    assert found == {key: [] for key in PAGE_KEYS}


def test_frequency_key_drives_consent_pages_and_both_manifests(tmp_path):
    site = publish_site(tmp_path / "output", FOLLOW_FREQUENCY="monthly")
    expected = {"key": "monthly", "days": 30, "text": "hooguit één keer per maand"}
    assert form_data(site)["frequency"] == expected
    editions = json.loads((site.output / "nieuwsbrief" / "editions.json").read_text("utf-8"))
    assert editions["frequency"] == expected
    consent = site.soup(SERIES_PART).select_one("#volg .follow__consent").get_text(" ")
    assert "hooguit één keer per maand" in consent
    assert form_data(site)["consent"]["text"] in " ".join(consent.split())
    assert "hooguit één keer per maand" in service_page(site, "bevestigd").main.get_text()


def test_every_frequency_key_has_its_own_dutch_text():
    settings = read_settings(str(ROOT / "publishconf.py"))
    env = email_environment(settings)
    promises = {key: frequency_promise(dict(settings, FOLLOW_FREQUENCY=key), env)
                for key in FREQUENCY_DAYS}
    assert {key: (p["days"], p["text"]) for key, p in promises.items()} == {
        "every-article": (0, "één e-mail per artikel"),
        "daily": (1, "hooguit één keer per dag"),
        "weekly": (7, "hooguit één keer per week"),
        "monthly": (30, "hooguit één keer per maand"),
    }


def test_unknown_frequency_is_an_error_naming_the_setting_and_the_keys(tmp_path):
    site = publish_site(tmp_path / "output", FOLLOW_FREQUENCY="hooguit één keer per week")
    errors = [m for m in site.messages(logging.ERROR) if "FOLLOW_FREQUENCY" in m]
    assert len(errors) == 1
    for key in FREQUENCY_DAYS:
        assert repr(key) in errors[0]
    # The development build goes on, promising the default everywhere.
    assert form_data(site)["frequency"]["key"] == "weekly"


def test_publish_stops_on_an_unknown_frequency(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pelican", "-s", str(ROOT / "publishconf.py"), "--fatal",
         "errors", "-e", 'FOLLOW_FREQUENCY="wekelijks"', "-o", str(tmp_path / "output")],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "FOLLOW_FREQUENCY is 'wekelijks'" in result.stdout + result.stderr
    assert not (tmp_path / "output" / "index.html").exists()
