"""The reaction form under open articles, and what the build writes for the reaction service."""

import json
import re
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from comments.reactions import MARKERS, MESSAGE_KEYS, PAGE_KEYS
from tests.support import PRIVATE_DATA, PUBLISH_SITEURL, build_site, publish_site, write_file
from tests.test_browser import serve_folder

ACTION = f"{PUBLISH_SITEURL}/reactie/"
OPEN = "2024/open-stuk/"
FORM_FIELDS = ["artikel", "ouder", "naam", "site", "reactie", "email", "melding", "toestemming",
               "website"]


def comment(comment_id: str, body: str, **fields) -> str:
    fields = {"id": comment_id, "author": "Bram", "date": "2024-03-02T10:00:00Z", **fields}
    return "".join(f"{key}: {value}\n" for key, value in fields.items()) + f"\n{body}\n"


def small_site(root: Path) -> Path:
    """Articles with every comments mode and status, a draft, a hidden one and a privacy page."""
    content = root / "content"
    write_file(content / "authors" / "anna-jansen.md", "Name: Anna Jansen\n\nBio.\n")
    write_file(content / "pages" / "privacy.md", "Title: Privacyverklaring\nSlug: privacy\n\nTekst.\n")
    articles = {
        "open-stuk": "Title: Open stuk & co\nSlug: open-stuk\nDate: 2024-03-01 09:00\n",
        "dicht-stuk": "Title: Dicht stuk\nDate: 2024-03-02 09:00\nComments: closed\n",
        "stil-stuk": "Title: Stil stuk\nDate: 2024-03-03 09:00\nComments: hidden\n",
        "concept": "Title: Concept\nDate: 2024-03-04 09:00\nStatus: draft\n",
        "verstopt": "Title: Verstopt\nDate: 2024-03-05 09:00\nStatus: hidden\n",
    }
    for slug, header in articles.items():
        write_file(content / "articles" / f"{slug}.md",
                   f"{header}Author: anna-jansen\n\nTekst van {slug}.\n")
    comments = {
        "open-stuk": {
            "a1.md": comment("a1", "Eerste *reactie*. Mail me op piet@voorbeeld.example.",
                             author_url="https://bram.example/"),
            "a2.md": comment("a2", "Een antwoord.", parent="a1", author="Anna Jansen",
                             date="2024-03-03T10:00:00+01:00"),
            "wacht.md": comment("wacht", "Nog niet goedgekeurd.", status="pending"),
            "spam.md": comment("spam", "Koop nu.", status="spam"),
            "ping.md": comment("ping", "[…] over dit stuk […]", type="pingback",
                               author="Een ander blog", author_url="https://blog.example/"),
        },
        "dicht-stuk": {"d1.md": comment("d1", "Oude reactie.")},
        "stil-stuk": {"s1.md": comment("s1", "Verborgen reactie.")},
        "concept": {"c1.md": comment("c1", "Reactie op een concept.")},
        "verstopt": {"v1.md": comment("v1", "Reactie op een verstopt stuk.")},
    }
    for slug, files in comments.items():
        for name, text in files.items():
            write_file(content / "comments" / slug / name, text)
    return content


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("reacties")
    return publish_site(root / "output", PATH=str(small_site(root)))


@pytest.fixture(scope="module")
def without_service(tmp_path_factory):
    """REACTIONS_ENDPOINT = "", with a typo in another REACTIONS_ setting."""
    root = tmp_path_factory.mktemp("zonder-dienst")
    return publish_site(root / "output", PATH=str(small_site(root)), REACTIONS_ENDPOINT="",
                        REACTIONS_MAX_LINK=2)


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    root = tmp_path_factory.mktemp("dev")
    return build_site("pelicanconf.py", root / "output", PATH=str(small_site(root)))


def reactions_data(built) -> dict:
    return json.loads((built.output / "reactie" / "reacties.json").read_text(encoding="utf-8"))


def service_page(built, key: str) -> BeautifulSoup:
    return built.soup(f"reactie/pagina/{key}.html")


def service_forms(page: BeautifulSoup) -> list:
    """The page's forms but the header's search field, which every page has."""
    return [form for form in page.find_all("form") if form.get("role") != "search"]


def form_fields(form) -> dict:
    return {field["name"]: field for field in form.find_all(["input", "textarea"])}


def label_of(soup, field) -> str:
    label = soup.find("label", attrs={"for": field["id"]}) if field.get("id") else None
    label = label or field.find_parent("label")
    return " ".join(label.get_text(" ", strip=True).split())


# --- The article page ------------------------------------------------------------------

def test_open_article_has_the_reaction_form_with_every_field_labelled(site):
    page = site.soup(OPEN)
    section = page.find(id="reacties")
    assert section.find(id="reageer").get_text() == "Reageer"
    form = section.find("form")
    assert form["method"] == "post" and form["action"] == ACTION
    fields = form_fields(form)
    assert list(fields) == FORM_FIELDS, "no t: a static page cannot know when it was opened"
    assert fields["artikel"]["type"] == "hidden" and fields["artikel"]["value"] == "open-stuk"
    assert fields["ouder"]["type"] == "hidden" and fields["ouder"]["value"] == ""
    assert fields["naam"].has_attr("required") and fields["naam"]["maxlength"] == "80"
    assert fields["naam"]["autocomplete"] == "name"
    assert fields["site"]["type"] == "url" and fields["site"]["autocomplete"] == "url"
    assert not fields["site"].has_attr("required")
    assert fields["reactie"].name == "textarea" and fields["reactie"]["maxlength"] == "4000"
    assert fields["reactie"].has_attr("required")
    assert fields["email"]["type"] == "email" and not fields["email"].has_attr("required")
    assert fields["melding"]["type"] == "checkbox" and fields["melding"]["value"] == "ja"
    assert fields["toestemming"].has_attr("required")
    assert fields["toestemming"]["value"] == reactions_data(site)["consent"]["version"]
    labels = {name: label_of(page, field) for name, field in fields.items()
              if field.get("type") != "hidden" and name != "website"}
    assert labels == {
        "naam": "Naam", "site": "Website (niet verplicht)", "reactie": "Je reactie",
        "email": "E-mailadres (niet verplicht)", "melding": "Laat me weten als iemand reageert",
        "toestemming": reactions_data(site)["consent"]["text"],
    }
    help_text = page.find(id=fields["email"]["aria-describedby"]).get_text()
    assert "melding" in help_text and "nooit" in help_text
    assert form.find("button").get_text() == "Verstuur"


def test_consent_line_links_the_privacy_page_and_the_honeypot_is_hidden(site):
    form = site.soup(OPEN).find("form", class_="reaction-form")
    consent = form_fields(form)["toestemming"].find_parent("p")
    assert consent.find("a", href=f"{PUBLISH_SITEURL}/privacy/").get_text() == "Privacyverklaring"
    trap = form_fields(form)["website"]
    assert trap["tabindex"] == "-1" and trap.find_parent("p")["aria-hidden"] == "true"
    assert trap.find_parent("p")["class"] == ["follow__trap"]


def test_each_shown_comment_of_an_open_article_gets_an_answer_link(site):
    page = site.soup(OPEN)
    links = {li["id"]: li.select_one(".comment__reply a")
             for li in page.select("ol.comment-list > li")}
    assert list(links) == ["reactie-a1", "reactie-a2"]
    for comment_id, link in links.items():
        assert link.get_text() == "Beantwoorden"
        assert link["href"] == f"{ACTION}antwoord/open-stuk/{comment_id.removeprefix('reactie-')}/"
    assert page.select(".mention-list a[href*='antwoord']") == []


def test_closed_article_says_so_and_hidden_shows_nothing(site):
    closed = site.soup("2024/dicht-stuk/").find(id="reacties")
    assert closed.select_one(".comments__closed").get_text() == "Reageren is gesloten."
    assert closed.find("form") is None and closed.select(".comment__reply") == []
    assert [li["id"] for li in closed.select("ol.comment-list > li")] == ["reactie-d1"]
    hidden = site.soup("2024/stil-stuk/")
    assert hidden.find(id="reacties") is None and hidden.find("form", class_="reaction-form") is None


def test_an_article_the_service_does_not_know_gets_no_form(site):
    # Status: hidden is published at its URL, but reacties.json lists published articles only.
    section = site.soup("2024/verstopt/").find(id="reacties")
    assert [li["id"] for li in section.select("ol.comment-list > li")] == ["reactie-v1"]
    assert section.find("form") is None and section.select(".comment__reply") == []
    assert section.select(".comment-invite, .comments__closed") == []


def test_without_an_endpoint_the_invitation_is_a_mailto_link(without_service):
    page = without_service.soup(OPEN)
    section = page.find(id="reacties")
    assert section.find("form") is None and section.select(".comment__reply") == []
    mailto = section.select_one(".comment-invite a")["href"]
    assert mailto.startswith("mailto:info@ruimte-en-richting.example?subject=Reactie%20op%3A%20")
    assert not (without_service.output / "reactie").exists()


def test_an_unknown_reactions_setting_is_reported_with_a_suggestion(without_service):
    assert any("unknown setting REACTIONS_MAX_LINK." in m and "Did you mean REACTIONS_MAX_LINKS?"
               in m for m in without_service.messages())


def test_development_links_start_at_the_site_root(dev):
    page = dev.soup(OPEN)
    assert page.find("form", class_="reaction-form")["action"] == "/reactie/"
    assert page.select_one(".comment__reply a")["href"] == "/reactie/antwoord/open-stuk/a1/"
    assert reactions_data(dev)["articles"]["open-stuk"]["url"] == "/2024/open-stuk/"
    form = service_page(dev, "formulier").find("form", class_="reaction-form")
    assert form["action"] == "/reactie/"


# --- The service's pages -----------------------------------------------------------------

def test_a_page_for_every_key_none_indexed(site):
    written = sorted(p.stem for p in (site.output / "reactie" / "pagina").glob("*.html"))
    assert written == sorted(PAGE_KEYS)
    assert reactions_data(site)["pages"] == list(PAGE_KEYS)
    for key in PAGE_KEYS:
        page = service_page(site, key)
        assert page.find("meta", attrs={"name": "robots"})["content"] == "noindex", key
        assert page.h1.get_text().strip(), key
        assert page.find("a", href=f"{PUBLISH_SITEURL}/"), key
    assert "/reactie/" not in (site.output / "sitemap.xml").read_text(encoding="utf-8")


def test_thank_you_pages_say_what_the_spec_says(site):
    assert "Bedankt! Je reactie verschijnt na moderatie." in service_page(site, "bedankt").text
    both = service_page(site, "bedankt-melding").get_text(" ")
    assert "Bedankt! Je reactie verschijnt na moderatie." in both
    assert "Bevestig in de e-mail die we je stuurden dat je meldingen wilt." in both


@pytest.mark.parametrize("key, button", [("melding-bevestigen", "Bevestigen"),
                                         ("melding-stoppen", "Meldingen stoppen")])
def test_notification_pages_post_one_button_to_their_own_address(site, key, button):
    forms = service_forms(service_page(site, key))
    assert len(forms) == 1 and forms[0]["method"] == "post" and not forms[0].has_attr("action")
    assert forms[0].find_all("input") == [] and forms[0].button.get_text() == button


def test_form_page_holds_every_marker_where_the_service_expects_it(site):
    raw = (site.output / "reactie" / "pagina" / "formulier.html").read_text(encoding="utf-8")
    for marker in MARKERS.values():
        assert marker in raw, marker
    page = service_page(site, "formulier")
    assert page.h1.get_text() == "Reageer op „__REACTIE_TITEL__”"
    assert "__REACTIE_TITEL__" in page.title.get_text()
    form = page.find("form", class_="reaction-form")
    assert form["action"] == ACTION
    fields = form_fields(form)
    assert list(fields) == ["artikel", "ouder", "t", *FORM_FIELDS[2:]]
    assert {name: fields[name].get("value") for name in ("artikel", "ouder", "t", "naam", "site",
                                                         "email")} == {
        "artikel": "__REACTIE_ARTIKEL__", "ouder": "__REACTIE_OUDER__",
        "t": "__FORMULIER_TIJD__", "naam": "__REACTIE_NAAM__", "site": "__REACTIE_SITE__",
        "email": "__REACTIE_EMAIL__"}
    assert fields["reactie"].get_text() == "__REACTIE_TEKST__"
    assert re.search(r'<input type="checkbox" name="melding" value="ja"[^>]* '
                     r'__REACTIE_MELDING_AAN__>', raw)
    assert re.search(r'<input type="checkbox" name="toestemming" value="[0-9a-f]{12}" required '
                     r'__REACTIE_TOESTEMMING_AAN__>', raw)
    assert fields["toestemming"]["value"] == reactions_data(site)["consent"]["version"]
    assert form.find("button").get_text() == "Plaats reactie"
    # The messages, the comment answered and the preview come before the form.
    order = [raw.index(m) for m in ("__REACTIE_BERICHT_HTML__", "__REACTIE_CITAAT_HTML__",
                                    "__REACTIE_VOORBEELD_HTML__", '<form class="reaction-form"')]
    assert order == sorted(order)
    assert page.find("a", href="__REACTIE_URL__").get_text() == "Terug naar het artikel"


def test_article_form_and_service_form_are_the_same_macro(site):
    article = site.soup(OPEN).find("form", class_="reaction-form")
    service = service_page(site, "formulier").find("form", class_="reaction-form")
    assert [n for n in form_fields(service) if n != "t"] == list(form_fields(article))
    labels = [label.get_text(" ", strip=True) for label in article.find_all("label")]
    assert [label.get_text(" ", strip=True) for label in service.find_all("label")] == labels


# --- reacties.json ---------------------------------------------------------------------

def test_reactions_data_lists_published_articles_with_their_known_comments(site):
    data = reactions_data(site)
    assert data["format"] == 1 and data["endpoint"] == "/reactie/"
    assert data["site"] == {"name": "Ruimte & Richting", "url": PUBLISH_SITEURL}
    assert data["limits"] == {"name": 80, "text": 4000, "links": 3}
    articles = data["articles"]
    assert sorted(articles) == ["dicht-stuk", "open-stuk", "stil-stuk"]  # no draft, no hidden
    assert articles["open-stuk"]["title"] == "Open stuk & co"
    assert articles["open-stuk"]["url"] == f"{PUBLISH_SITEURL}/{OPEN}"
    assert [articles[s]["comments"] for s in ("open-stuk", "dicht-stuk", "stil-stuk")] == [
        "open", "closed", "closed"]
    assert articles["dicht-stuk"]["known"] == {} and articles["stil-stuk"]["known"] == {}
    known = articles["open-stuk"]["known"]
    assert sorted(known) == ["a1", "a2"]  # no pending, no spam, no pingback
    assert known["a2"] == {"author": "Anna Jansen", "date": "2024-03-03T10:00:00+01:00",
                           "date_text": "3 maart 2024", "html": "<p>Een antwoord.</p>"}
    shown = site.soup(OPEN).select_one("#reactie-a1 .comment__body").decode_contents()
    assert known["a1"]["html"] == shown
    assert "<em>reactie</em>" in shown and "[e-mailadres verwijderd]" in shown


def test_reactions_data_holds_no_personal_data(site):
    text = (site.output / "reactie" / "reacties.json").read_text(encoding="utf-8")
    assert PRIVATE_DATA.findall(text) == []
    for article in reactions_data(site)["articles"].values():
        for known in article["known"].values():
            assert sorted(known) == ["author", "date", "date_text", "html"]


def test_consent_texts_and_their_versions(site):
    data = reactions_data(site)
    assert data["consent"]["text"] == ("Ruimte & Richting mag mijn naam, mijn website en mijn "
                                       "reactie bewaren en bij het artikel publiceren.")
    notify = data["notify_consent"]
    assert notify["text"].startswith("Laat me weten als iemand reageert. ")
    for consent in (data["consent"], notify):
        assert re.fullmatch(r"[0-9a-f]{12}", consent["version"])
    assert data["consent"]["version"] != notify["version"]


def test_messages_and_mails_are_dutch_with_the_service_placeholders(site):
    data = reactions_data(site)
    messages = data["messages"]
    assert sorted(messages) == sorted(MESSAGE_KEYS)
    assert messages["controleer"] == "Controleer je reactie en klik op Plaats reactie."
    assert messages["beantwoorden"] == "Je reageert op {author}."
    assert "{max}" in messages["te-lang"] and "{max}" in messages["naam-te-lang"]
    mails = data["mails"]
    placeholders = {"moderator": ("{author}", "{title}", "{url}", "{text}", "{commands}"),
                    "notify_confirm": ("{title}", "{link}"),
                    "notification": ("{author}", "{title}", "{url}", "{text}", "{stop_link}")}
    for kind, names in placeholders.items():
        assert mails[kind]["subject"] and "\n" not in mails[kind]["subject"], kind
        for name in names:
            assert name in mails[kind]["text"], (kind, name)
        assert mails[kind]["text"].startswith("Hallo,"), kind
        assert "&amp;" not in mails[kind]["text"] and "Ruimte & Richting" in mails[kind]["text"]
    assert "{title}" in mails["moderator"]["subject"]
    assert "{title}" in mails["notification"]["subject"]


# --- HTML5 and WCAG, filled in as the service serves it ------------------------------------

def filled_in(built, message_class="reaction-message") -> str:
    """The form page with the markers replaced, as the service does, by a reply's values."""
    raw = (built.output / "reactie" / "pagina" / "formulier.html").read_text(encoding="utf-8")
    values = dict.fromkeys(MARKERS.values(), "")
    values.update({
        "__REACTIE_TITEL__": "Open stuk &amp; co", "__REACTIE_URL__": "/2024/open-stuk/",
        "__REACTIE_SITE__": "https://bram.example/", "__REACTIE_MELDING_AAN__": "checked",
        "__REACTIE_BERICHT_HTML__": f'<p class="{message_class}" role="alert">Vul je naam in.</p>',
        "__REACTIE_CITAAT_HTML__": '<blockquote class="reaction-quote"><p class="comment__meta">'
        '<strong>Bram</strong> · <time datetime="2024-03-02T11:00:00+01:00">2 maart 2024</time>'
        '</p><div class="comment__body"><p>Hoi.</p></div></blockquote>',
        "__REACTIE_VOORBEELD_HTML__": '<section class="reaction-preview" aria-labelledby='
        '"voorbeeld-titel"><h2 id="voorbeeld-titel">Zo ziet je reactie eruit</h2><p class='
        '"comment__meta"><strong>Bram</strong></p><div class="comment__body"><p>Eens.</p></div>'
        '</section>'})
    filled = re.sub(r"__(?:REACTIE_[A-Z_]+|FORMULIER_TIJD)__", lambda m: values[m.group()], raw)
    assert not re.search(r"__(?:REACTIE|FORMULIER)", filled)
    return filled


@pytest.mark.validator
def test_form_page_is_valid_html5_once_the_service_fills_it_in(site, tmp_path):
    from tests.tools import vnu_errors

    (tmp_path / "formulier.html").write_text(filled_in(site), encoding="utf-8")
    shutil.copy(site.output / OPEN / "index.html", tmp_path / "artikel.html")
    assert vnu_errors(tmp_path) == []


@pytest.mark.browser
def test_axe_finds_no_violations_on_the_form_and_the_service_pages(dev, tmp_path):
    from tests.test_axe import axe_violations
    from tests.tools import CHROMIUM_ARGS, chromium

    output = tmp_path / "output"
    shutil.copytree(dev.output, output)
    for name, kind in (("fout", "reaction-message reaction-message--error"),
                       ("goed", "reaction-message")):
        write_file(output / "reactie" / f"{name}.html", filled_in(dev, kind))
    from playwright.sync_api import sync_playwright

    found = {}
    with serve_folder(output) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        for path in ("/2024/open-stuk/", "/2024/dicht-stuk/", "/reactie/fout.html",
                     "/reactie/goed.html", "/reactie/pagina/bedankt.html",
                     "/reactie/pagina/melding-stoppen.html"):
            page.goto(url + path)
            found[path] = axe_violations(page)
        browser.close()
    assert found == {path: [] for path in found}
