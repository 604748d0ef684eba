"""The saved-page importer: the article without the theme around it, and its comments."""

import pytest

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


def test_a_page_without_a_date_is_reported_not_guessed(imported):
    report = imported[1]
    assert report.counts["skipped: pages without title or date"] == 1
    assert any("page_without_date.html: no date found" in w for w in report.warnings)


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
])
def test_written_dates_in_dutch_and_english(written, expected):
    assert f"{parse_date(written):%Y-%m-%d %H:%M}" == expected
