"""Unit tests of the Dutch basics: dates, reading time, catalogue, new drafts."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup
from pelican.settings import read_settings

from content_checks.content_checks import CheckedMarkdownReader
from site_nl.drafts import dutch_slug, new_article
from site_nl.site_nl import (
    catalogue_path,
    load_translations,
    make_date_filters,
    reading_minutes,
    word_count,
)
from tests.support import PUBLISH_SITEURL, ROOT, build_site, publish_site, write_file


def test_dates_are_dutch_without_an_os_locale():
    filters = make_date_filters("nl")
    assert filters["datum"](datetime.date(2017, 6, 29)) == "29 juni 2017"
    assert filters["datum"](datetime.datetime(2024, 3, 1, 23, 30)) == "1 maart 2024"
    assert [filters["maand"](m) for m in (1, 5, 12)] == ["januari", "mei", "december"]


def test_reading_time_counts_words_not_markup_or_entities():
    html = '<p class="x">Een &ldquo;twee&rdquo; <a href="https://voorbeeld.nl/pad">drie</a></p>'
    assert word_count(html) == 3
    assert reading_minutes(0, 200) == 1
    assert reading_minutes(200, 200) == 1
    assert reading_minutes(201, 200) == 2


def test_dutch_catalogue_compiles_in_memory():
    translations = load_translations(catalogue_path(str(ROOT / "theme"), "nl"), "nl")
    assert translations.gettext("About the author") == "Over de auteur"
    assert translations.ngettext("%(count)s minute read", "%(count)s minutes read", 4) % {
        "count": 4
    } == "4 minuten leestijd"


def test_missing_catalogue_falls_back_to_english(tmp_path, caplog):
    translations = load_translations(str(tmp_path / "nope.po"), "nl")
    assert translations.gettext("About the author") == "About the author"
    assert "no catalogue" in caplog.text


def test_slug_drops_dutch_accents():
    assert dutch_slug("Één team, één taal: ideeën") == "een-team-een-taal-ideeen"


def test_new_article_is_a_draft_that_the_checked_reader_accepts(tmp_path):
    moment = datetime.datetime(2026, 3, 9, 10, 15, tzinfo=ZoneInfo("Europe/Amsterdam"))
    path = new_article("Café-overleg: wat werkt?", tmp_path / "articles",
                       author="anna-jansen", category="Samenwerken", now=moment)
    assert path == tmp_path / "articles" / "2026" / "cafe-overleg-wat-werkt.md"
    settings = read_settings(str(ROOT / "pelicanconf.py"), override={"PATH": str(tmp_path)})
    _html, metadata = CheckedMarkdownReader(settings).read(str(path))
    assert metadata["status"] == "draft"
    assert metadata["title"] == "Café-overleg: wat werkt?"
    assert metadata["date"].strftime("%Y-%m-%d %H:%M") == "2026-03-09 10:15"
    assert str(metadata["author"]) == "anna-jansen"
    assert list((tmp_path / "articles" / "2026").iterdir()) == [path]


def test_new_article_never_overwrites(tmp_path):
    first = new_article("Zelfde titel", tmp_path)
    first.write_text("Eigen tekst van de auteur", encoding="utf-8")
    moment = datetime.datetime.now(ZoneInfo("Europe/Amsterdam"))
    with pytest.raises(FileExistsError, match="already uses the slug 'zelfde-titel'"):
        new_article("Zelfde titel", tmp_path, now=moment)
    next_year = moment.replace(year=moment.year + 1)
    with pytest.raises(FileExistsError, match="already uses the slug"):
        new_article("Zelfde  titel!", tmp_path, now=next_year)
    assert first.read_text(encoding="utf-8") == "Eigen tekst van de auteur"
    assert [p.name for p in tmp_path.rglob("*.md")] == ["zelfde-titel.md"]


def test_title_without_letters_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no usable slug"):
        new_article("?!", tmp_path)


def test_fresh_draft_builds_without_warnings_and_stays_unpublished(tmp_path):
    content = tmp_path / "content"
    write_file(content / "authors" / "anna-jansen.md", "Name: Anna Jansen\n\nBio.\n")
    draft = new_article("Nog een idee", content / "articles", author="anna-jansen")
    site = build_site("pelicanconf.py", tmp_path / "output", PATH=str(content))
    assert site.messages() == []
    assert (tmp_path / "output" / "drafts" / draft.stem / "index.html").is_file()
    assert draft.stem not in (tmp_path / "output" / "index.html").read_text(encoding="utf-8")


def test_links_to_pages_and_images_resolve_in_articles_and_their_summaries(tmp_path):
    # The summary is written out before the page is written, but only after every
    # generator has read its files: a page and an image are known later than articles.
    content = tmp_path / "content"
    write_file(content / "pages" / "werkwijze.md", "Title: Werkwijze\n\nZo werken wij.\n")
    write_file(content / "images" / "schets.svg",
               '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>\n')
    write_file(content / "articles" / "verwijzen.md", (
        "Title: Verwijzen naar een pagina\nDate: 2024-03-05\nCategory: Werkwijze\n\n"
        "Lees eerst [onze werkwijze]({filename}/pages/werkwijze.md) en kijk naar de schets.\n\n"
        "![Een schets]({static}/images/schets.svg)\n"))
    site = publish_site(tmp_path / "output", PATH=str(content))

    assert not [m for m in site.messages() if "Unable to find" in m]
    article = site.soup("2024/verwijzen-naar-een-pagina/")
    body = article.find("main")
    page_link = body.find("a", string="onze werkwijze")
    assert page_link["href"] == f"{PUBLISH_SITEURL}/werkwijze/"
    assert body.find("img", alt="Een schets")["src"] == f"{PUBLISH_SITEURL}/images/schets.svg"
    feed = BeautifulSoup((tmp_path / "output" / "feeds" / "alle.atom.xml").read_text(encoding="utf-8"),
                         "xml")
    entry_html = " ".join(part.text for part in feed.find("entry").find_all(["summary", "content"]))
    assert f'href="{PUBLISH_SITEURL}/werkwijze/"' in entry_html
    assert "{filename}" not in entry_html and "{static}" not in entry_html
