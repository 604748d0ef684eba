"""The saved-page importer: the article without the theme around it, and its comments."""

import datetime
import hashlib
import os
import shutil
import socket
import time

import markdown
import pytest
from bs4 import BeautifulSoup

from migrate import import_saved_pages
from migrate.saved_pages import parse_date
from migrate.text import NESTING_FLATTENED
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


def saved_page(title: str, body: str, head: str = "", after: str = "") -> str:
    """A small saved page of a WordPress theme."""
    return (f"<html><head><title>{title}</title>{head}</head><body><article>"
            f'<h1 class="entry-title">{title}</h1><div class="entry-content">{body}</div>'
            f"</article>{after}</body></html>")


PARAGRAPH = ("<p>Een team dat samen plant, haalt vaker zijn doelen. "
             "Begin klein en houd het overleg kort.</p>")


def published(moment: str) -> str:
    return f'<meta property="article:published_time" content="{moment}">'


def test_a_page_nested_100000_deep_is_flattened_in_seconds(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    # Unclosed elements, as a broken editor saves them: each one inside the last.
    (pages / "diep.html").write_text(saved_page(
        "Diep genest", PARAGRAPH + "<div>" * 100_000 + "<p>Het einde van het verhaal.</p>",
        published("2016-02-09T10:00:00Z")), encoding="utf-8")
    started = time.monotonic()
    report, _ = import_saved_pages([pages], tmp_path / "content")
    assert time.monotonic() - started < 20
    article = read_source(tmp_path / "content" / "articles" / "2016" / "diep-genest.md")
    text = rendered(article).get_text(" ")
    assert "Begin klein" in text and "Het einde van het verhaal." in text
    assert report.removed[NESTING_FLATTENED] > 99_000 and not report.errors


@pytest.mark.parametrize("placeholder", [
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "2016-02-09T10:00:00+99:00",
    "0001-01-01T00:00:00", "1970-01-01T00:00:00Z", "31 februari 2016",
])
def test_a_placeholder_or_broken_date_counts_as_missing(tmp_path, placeholder):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "a-zonder-datum.html").write_text(
        saved_page("Zonder datum", PARAGRAPH, published(placeholder)), encoding="utf-8")
    # The next source of the date is read instead.
    (pages / "b-datum-in-de-byline.html").write_text(saved_page(
        "Datum in de byline", '<p class="byline">Door Anna, 11 maart 2015</p>' + PARAGRAPH,
        published(placeholder)), encoding="utf-8")
    (pages / "c-goede-datum.html").write_text(
        saved_page("Goede datum", PARAGRAPH, published("2016-02-09T10:00:00Z")), encoding="utf-8")
    report, _ = import_saved_pages([pages], tmp_path / "content")
    assert not report.errors and report.counts["articles"] == 3
    assert article_titled(tmp_path / "content", "Zonder datum")["status"] == "draft"
    assert article_titled(tmp_path / "content", "Datum in de byline")["date"] == "2015-03-11T00:00:00Z"
    assert article_titled(tmp_path / "content", "Goede datum")["date"] == "2016-02-09T10:00:00Z"


def test_a_page_that_fails_unexpectedly_is_an_error_and_the_rest_is_imported(tmp_path,
                                                                            monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("kapotte datum")
    monkeypatch.setattr("migrate.saved_pages.find_date", broken)
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "a-htmldate-faalt.html").write_text(saved_page("Faalt", PARAGRAPH), encoding="utf-8")
    (pages / "b-gewoon.html").write_text(
        saved_page("Gewoon", PARAGRAPH, published("2016-02-09T10:00:00Z")), encoding="utf-8")
    report, _ = import_saved_pages([pages], tmp_path / "content")
    error, = report.errors
    assert "a-htmldate-faalt.html" in error and "kapotte datum" in error
    assert report.counts["articles"] == 1 and article_titled(tmp_path / "content", "Gewoon")


def comment(number: str, author: str, text: str, replies: str = "") -> str:
    children = f'<ol class="children">{replies}</ol>' if replies else ""
    return (f'<li id="comment-{number}" class="comment"><div class="comment-author">'
            f'<cite class="fn">{author}</cite></div><div class="comment-content"><p>{text}</p>'
            f"</div>{children}</li>")


def comments_page(*items: str) -> str:
    return saved_page("Reacties", PARAGRAPH, published("2016-02-09T10:00:00Z"),
                      f'<div id="comments"><ol class="comment-list">{"".join(items)}</ol></div>')


def test_a_repeated_comment_id_keeps_both_comments(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "dubbel-id.html").write_text(comments_page(
        comment("5", "Anna", "Eerste reactie."),
        comment("5", "Bram", "Tweede reactie.", comment("6", "Cor", "Antwoord aan Bram."))),
        encoding="utf-8")
    report, _ = import_saved_pages([pages], tmp_path / "content")
    comments = comment_files(tmp_path / "content")
    assert comments["html-5"]["author"] == "Anna" and comments["html-5-2"]["author"] == "Bram"
    assert comments["html-6"]["parent"] == "html-5-2"
    assert any("comment 5 on" in w and "dubbel-id.html" in w and "5-2" in w
               for w in report.warnings)


def test_thousands_of_comments_are_threaded_in_linear_time(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "veel-reacties.html").write_text(comments_page(
        *(comment(str(n), f"Lezer {n}", f"Reactie {n}") for n in range(1, 3001)),
        comment("3001", "Lezer", "Laatste", comment("3002", "Antwoord", "Een antwoord"))),
        encoding="utf-8")
    started = time.monotonic()
    report, _ = import_saved_pages([pages], tmp_path / "content")
    assert time.monotonic() - started < 15
    comments = comment_files(tmp_path / "content")
    assert len(comments) == 3002 and comments["html-3002"]["parent"] == "html-3001"
    assert "parent" not in comments["html-3000"]


def test_a_page_with_too_much_text_is_refused_before_extraction(tmp_path, monkeypatch):
    def extractor(*args, **kwargs):
        raise AssertionError("the extractors ran on a page over the limit")
    monkeypatch.setattr("migrate.text.MAX_BODY_CHARACTERS", 5_000)
    monkeypatch.setattr("migrate.saved_pages.trafilatura.extract", extractor)
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "te-veel-tekst.html").write_text(saved_page("Te veel", PARAGRAPH * 100),
                                              encoding="utf-8")
    report, _ = import_saved_pages([pages], tmp_path / "content")
    error, = report.errors
    assert "te-veel-tekst.html" in error and "over the limit of 5,000" in error


@pytest.mark.parametrize("title", ["🙂🙂🙂", "———", "!!!"])
def test_a_title_without_letters_gets_a_slug_from_its_source(tmp_path, title):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "geen-letters.html").write_text(saved_page(title, PARAGRAPH, published(
        "2016-02-09T10:00:00Z") + '<link rel="canonical" href="https://oud.example/geen-letters/">'),
        encoding="utf-8")
    import_saved_pages([pages], tmp_path / "content")
    digest = hashlib.sha1(b"oud.example/geen-letters").hexdigest()[:6]
    article = read_source(tmp_path / "content" / "articles" / "2016" / f"pagina-{digest}.md")
    assert article["title"] == title and article["slug"] == f"pagina-{digest}"


@pytest.mark.parametrize(("export", "importer"), [
    ('<?xml version="1.0" encoding="UTF-8"?>\n<!-- export -->\n<rss version="2.0" '
     'xmlns:wp="http://wordpress.org/export/1.2/"><channel><title>Oud</title></channel></rss>',
     "import-wordpress"),
    ('\ufeff<?xml version="1.0"?><disqus xmlns="http://disqus.com"><thread dsq:id="1">'
     "<title>Oud</title></thread></disqus>", "import-disqus"),
    ('<feed xmlns="http://www.w3.org/2005/Atom"><title>Oud</title></feed>', "import-wordpress"),
])
def test_an_export_given_as_a_page_is_refused_with_the_importer_to_use(tmp_path, export,
                                                                       importer):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "export.html").write_text(export, encoding="utf-8")
    (pages / "pagina.html").write_text(
        saved_page("Gewoon", PARAGRAPH, published("2016-02-09T10:00:00Z")), encoding="utf-8")
    report, _ = import_saved_pages([pages], tmp_path / "content")
    error, = report.errors
    assert "export.html" in error and importer in error
    assert report.counts["articles"] == 1


def test_inline_code_stays_in_its_sentence_and_its_link(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    body = (PARAGRAPH + "<p>Draai eerst <code>make test</code> en lees dan "
            '<a href="https://voorbeeld.example/handleiding">de uitleg bij <code>invoke</code></a>'
            " voordat je publiceert.</p><pre><code>make publish\nmake serve</code></pre>" + PARAGRAPH)
    (pages / "inline-code.html").write_text(
        saved_page("Werken met de terminal", body, published("2019-04-01T08:00:00Z")),
        encoding="utf-8")
    content = tmp_path / "content"
    import_saved_pages([pages], content)
    (article,) = [read_source(p) for p in (content / "articles").rglob("*.md")]
    soup = rendered(article)
    sentence = next(p for p in soup.find_all("p") if "Draai eerst" in p.get_text())
    assert [code.get_text() for code in sentence.find_all("code")] == ["make test", "invoke"]
    assert sentence.find("a")["href"] == "https://voorbeeld.example/handleiding"
    assert [pre.get_text().strip() for pre in soup.find_all("pre")] == ["make publish\nmake serve"]
