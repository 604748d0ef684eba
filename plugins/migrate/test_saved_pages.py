"""The saved-page importer: the article without the theme around it, and its comments."""

import datetime
import hashlib
import os
import shutil
import socket

import markdown
import pytest
from bs4 import BeautifulSoup

from migrate import import_saved_pages
from migrate.saved_pages import parse_date
from tests.support import comment_files, private_data_in, publish_site, read_source, snapshot

FURNITURE = ("Scroll naar boven", "Bel ons", "98 76 54 32", "Deel dit", "Facebook",
             "Copyright", "Alle rechten voorbehouden", "Geef een reactie", "Leave a Reply",
             "Geplaatst in", "Beantwoorden", "tracker.example", "color: red")


@pytest.fixture
def imported(tmp_path, data):
    content = tmp_path / "content"
    report, text = import_saved_pages([data("saved_pages")], content)
    return content, report, text


def test_title_date_author_and_body_are_extracted(imported):
    content = imported[0]
    article = read_source(content / "articles" / "2017" / "je-collega-als-klant.md")
    assert article["title"] == "Je collega als klant"
    assert article["date"] == "2017-06-29T08:15:00Z"
    assert article["author"] == "ineke-smit"
    assert read_source(content / "authors" / "ineke-smit.md")["name"] == "Ineke Smit"
    assert "## Drie vragen voor morgen" in article["body"]
    assert "- Wie wacht er op mij?" in article["body"]
    assert "Je collega als klant" not in article["body"]  # the title is not repeated


def test_page_furniture_is_stripped(imported):
    for path in (imported[0] / "articles").rglob("*.md"):
        body = read_source(path)["body"]
        for furniture in FURNITURE:
            assert furniture not in body, f"{path.name}: {furniture}"


def test_a_classic_theme_with_a_written_dutch_date(imported):
    content = imported[0]
    article = read_source(content / "articles" / "2014" / "vergaderen-kan-korter.md")
    assert article["date"] == "2014-03-03T00:00:00Z" and article["author"] == "joost-bakker"
    assert article["body"].strip().startswith("Een overleg van een uur")
    comment = comment_files(content)["html-3"]
    assert comment["author"] == "Marieke" and comment["date"] == "2014-03-04T08:30:00Z"
    assert comment["body"].strip() == "Wij zijn gestopt met staand vergaderen. Het werkte niet voor iedereen."


def test_comments_keep_their_thread_type_and_lose_their_markup(imported):
    comments = comment_files(imported[0])
    assert comments["html-13"]["parent"] == "html-12"
    assert comments["html-12"]["author_url"] == "https://pieter.example/"
    assert comments["html-14"]["type"] == "pingback"
    body = comments["html-12"]["body"]
    assert "**herkennen**" in body and "alert" not in body and "javascript" not in body
    assert any("comment 14" in w and "article's date" in w for w in imported[1].warnings)


def test_a_page_without_a_date_becomes_a_draft_not_a_refusal(imported):
    content, report = imported[:2]
    drafts = [read_source(path) for path in (content / "articles").rglob("*.md")
              if read_source(path).get("status") == "draft"]
    assert {draft["title"] for draft in drafts} == {"Over ons", "Onze werkwijze"}
    assert any("page_without_date.html: no date found; imported as a draft" in w
               for w in report.warnings)


def test_no_address_and_nothing_changes_on_a_second_run(imported, data):
    content = imported[0]
    assert private_data_in(content) == []
    before = snapshot(content)
    report, _ = import_saved_pages([data("saved_pages")], content)
    assert snapshot(content) == before and set(report.files) == {"unchanged"}


def test_the_imported_page_builds_with_its_comments(imported, tmp_path):
    site = publish_site(tmp_path / "output", PATH=str(imported[0]))
    soup = site.soup("2017/je-collega-als-klant/")
    assert soup.select_one("#reacties h2").get_text() == "Reacties (2)"
    assert soup.find("li", id="reactie-html-13")["class"][1] == "comment--depth-2"


@pytest.mark.parametrize(("written", "expected"), [
    ("29 juni 2017 om 10:49", "2017-06-29 10:49"),
    ("3 mrt. 2014", "2014-03-03 00:00"),
    ("June 29, 2017 at 3:05 pm", "2017-06-29 15:05"),
    ("2017-06-30T09:12:00+02:00", "2017-06-30 09:12"),
    ("March 11th, 2015", "2015-03-11 00:00"),
    ("December 24, 2020 at 12:05 am", "2020-12-24 00:05"),
    ("op 2de mei 2019 om 12:30", "2019-05-02 12:30"),
])
def test_written_dates_in_dutch_and_english(written, expected):
    assert f"{parse_date(written):%Y-%m-%d %H:%M}" == expected


def rendered(article: dict) -> BeautifulSoup:
    return BeautifulSoup(markdown.markdown(article["body"], extensions=["extra"]), "html.parser")


def article_titled(content, title: str) -> dict:
    found = [read_source(path) for path in (content / "articles").rglob("*.md")]
    return next(article for article in found if article["title"] == title)


@pytest.mark.parametrize(("title", "date"), [
    # datePublished, not dateModified, of the article in the JSON-LD graph
    ("Werkoverleg zonder agenda", "2015-03-11T08:30:00Z"),
    ("De kracht van een korte mail", "2016-09-05T12:20:00Z"),  # microdata
    ("Plannen in blokken", "2013-11-04T00:00:00Z"),  # /2013/11/04/ in the canonical URL
    ("Nee zeggen zonder ruzie", "2015-03-11T00:00:00Z"),  # "Door Anna de Wit, 11 maart 2015"
])
def test_the_date_is_found_where_the_page_has_it(imported, title, date):
    article = article_titled(imported[0], title)
    assert article["date"] == date and "status" not in article
    assert rendered(article).find("p") is not None


def test_no_date_becomes_a_draft_dated_by_the_file(tmp_path, data):
    pages = tmp_path / "pages"
    pages.mkdir()
    page = pages / "no_date_becomes_draft.html"
    shutil.copy(data("saved_pages/no_date_becomes_draft.html"), page)
    saved = datetime.datetime(2021, 6, 1, 12, 30, tzinfo=datetime.UTC)
    os.utime(page, (saved.timestamp(), saved.timestamp()))
    report, _ = import_saved_pages([pages], tmp_path / "content")
    article = read_source(tmp_path / "content" / "articles" / "2021" / "onze-werkwijze.md")
    # Not 1998-01-01 from the copyright line: the editor sets the date.
    assert article["status"] == "draft" and article["date"] == "2021-06-01T12:30:00Z"
    assert "kennismaking van een uur" in rendered(article).get_text()
    warning, = [w for w in report.warnings if "no_date_becomes_draft.html" in w]
    assert "draft" in warning and "modification time 2021-06-01T12:30:00Z" in warning


def test_a_comment_marked_up_as_an_entry_is_not_the_article(imported):
    content, report = imported[:2]
    article = read_source(content / "articles" / "2015" / "een-nieuw-rooster-voor-het-hele-team.md")
    text = rendered(article).get_text(" ")
    for sentence in ("Vorig najaar besloot ons team", "Wat we leerden", "Ruilen mag altijd",
                     "zich serieuzer genomen voelen"):
        assert sentence in text
    assert "planner doet alles" not in text and "dezelfde ruil" not in text
    comments = comment_files(content)
    assert comments["html-41"]["author"] == "Sanne"
    assert comments["html-41"]["body"].strip().startswith("Bij ons werkt het precies andersom")
    assert not any("een-nieuw-rooster" in w or "comment_list_with_entry_title" in w
                   for w in report.warnings)


def test_a_short_body_on_a_long_page_is_reported(imported):
    article = article_titled(imported[0], "Kort bericht")
    assert rendered(article).get_text().strip() == "Het kantoor is maandag gesloten."
    warning, = [w for w in imported[1].warnings if "short_body_on_a_long_page.html" in w]
    assert "check the article: it has 5 of the page's" in warning


def test_player_labels_teasers_and_empty_layout_tables_are_dropped(imported):
    article = article_titled(imported[0], "Presenteren zonder dia's")
    html = rendered(article)
    paragraphs = [p.get_text() for p in html.find_all("p")]
    assert len(paragraphs) == 3 and paragraphs[0].startswith("Een presentatie zonder dia's")
    assert paragraphs[2].startswith("Oefen hardop")
    assert html.find("table") is None and "|" not in article["body"]
    for furniture in ("Afspelen", "00:00", "Dempen", "Volledig scherm", "Lees ook",
                      "Spreken voor een volle zaal", "Gerelateerde artikelen", "Korter vergaderen",
                      "Meer van Oud Adviesbureau", "De korte mail"):
        assert furniture not in article["body"], furniture


def test_comment_dates_with_ordinals_and_a_time_after_at(imported):
    comments = comment_files(imported[0])
    assert comments["html-7"]["date"] == "2015-03-11T00:00:00Z"  # "March 11th, 2015"
    # <time datetime="2020-12-24">December 24, 2020 at 3:53 am</time>: the text has the time
    assert comments["html-8"]["date"] == "2020-12-24T03:53:00Z"
    assert not any("comment 7 " in w or "comment 8 " in w for w in imported[1].warnings)


def test_a_comment_body_does_not_repeat_its_author(imported):
    comments = comment_files(imported[0])
    fatima = comments["html-31"]
    assert fatima["body"].strip().startswith("Een kamerscherm deed bij ons wonderen.")
    # The line that went held the date: "Fatima schreef op 12 mei 2016 om 14:05:".
    assert fatima["author"] == "Fatima" and fatima["date"] == "2016-05-12T14:05:00Z"
    # Only a line that names the author alone goes: text that starts with the name stays.
    assert comments["html-32"]["body"].strip() == "Kees van hiernaast heeft hetzelfde gedaan, met een boekenkast."


def test_every_article_has_an_id_from_its_source(imported):
    content = imported[0]
    def expected(source_id):
        return "html-" + hashlib.sha1(source_id.encode()).hexdigest()[:12]
    column = read_source(content / "articles" / "2017" / "je-collega-als-klant.md")
    assert column["id"] == expected("oud-adviesbureau.example/2017/06/29/je-collega-als-klant")
    classic = read_source(content / "articles" / "2014" / "vergaderen-kan-korter.md")
    # A page without its URL is known by its title and date, not by the file's name.
    assert classic["id"] == expected(f"vergaderen-kan-korter/{classic['date'][:10]}")
    ids = [read_source(path)["id"] for path in (content / "articles").rglob("*.md")]
    assert len(ids) == len(set(ids)) == 13


def test_a_page_too_large_or_unreadable_is_an_error_and_the_import_goes_on(tmp_path, data,
                                                                          monkeypatch):
    monkeypatch.setattr("migrate.text.MAX_BODY_CHARACTERS", 5_000)
    pages = tmp_path / "pages"
    pages.mkdir()
    shutil.copy(data("saved_pages/date_in_url.html"), pages)
    paragraphs = "".join(f"<p>Alinea {n} van een veel te lang verslag.</p>" for n in range(400))
    (pages / "te-lang.html").write_text(
        f"<html><head><title>Te lang</title></head><body><article><h1>Te lang</h1>{paragraphs}"
        "</article></body></html>", encoding="utf-8")
    (pages / "kapot.html").mkdir()  # a page that cannot be read at all
    report, text = import_saved_pages([pages], tmp_path / "content")
    assert len(report.errors) == 2
    assert any("te-lang.html" in e and "over the limit" in e for e in report.errors)
    assert any("kapot.html" in e and "not imported" in e for e in report.errors)
    assert report.counts["articles"] == 1 and "Errors (not imported): 2" in text
    assert (tmp_path / "content" / "articles" / "2013" / "plannen-in-blokken.md").exists()


def test_nothing_is_fetched(tmp_path, data, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the importer tried to connect")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    pages = tmp_path / "pages"
    shutil.copytree(data("saved_pages"), pages)
    # Text that libraries would take for an address to download.
    (pages / "alleen-een-adres.html").write_text("https://tracker.example/pagina", encoding="utf-8")
    report, _ = import_saved_pages([pages], tmp_path / "content")
    assert report.counts["articles"] == 14 and not report.errors


def test_pages_of_a_mirror_all_named_index_html_stay_apart_and_are_found_again(tmp_path, data):
    mirror = tmp_path / "mirror"
    for folder, page in (("2016/byline", "date_in_byline.html"),
                         ("2016/json-ld", "date_in_json_ld.html"),
                         ("2017/classic", "classic_theme_commentlist.html")):
        (mirror / folder).mkdir(parents=True)
        shutil.copy(data(f"saved_pages/{page}"), mirror / folder / "index.html")
    content = tmp_path / "content"
    report, _ = import_saved_pages([mirror], content)
    titles = {read_source(p)["title"] for p in (content / "articles").rglob("*.md")}
    assert len(titles) == report.counts["articles"] == 3
    before = snapshot(content)
    # The same pages again, named from another folder: the same articles.
    again, _ = import_saved_pages([mirror / "2016", mirror / "2017" / "classic" / "index.html"],
                                  content)
    assert snapshot(content) == before and set(again.files) == {"unchanged"}


def test_two_pages_with_one_canonical_url_are_both_kept_with_a_warning(tmp_path, data):
    pages = tmp_path / "pages"
    pages.mkdir()
    # A theme whose canonical link points at the home page, on every page.
    for page in ("date_in_byline.html", "date_in_json_ld.html"):
        html = data(f"saved_pages/{page}").read_text(encoding="utf-8")
        (pages / page).write_text(html.replace(
            "<head>", '<head><link rel="canonical" href="https://oud-adviesbureau.example/">', 1),
            encoding="utf-8")
    content = tmp_path / "content"
    report, _ = import_saved_pages([pages], content)
    written = [read_source(p) for p in (content / "articles").rglob("*.md")]
    assert len(written) == len({a["id"] for a in written}) == 2
    assert any("date_in_json_ld.html" in w and "date_in_byline.html" in w for w in report.warnings)
