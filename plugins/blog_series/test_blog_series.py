"""Series: places, planned parts, teasers that resolve, pages, feeds and errors."""

import shutil
from pathlib import Path

import feedparser
import pytest

from tests.support import PUBLISH_SITEURL, build_site, publish_site, without_related, write_file

TEST_DATA = Path(__file__).parent / "test_data"
FIXTURE = TEST_DATA / "series_with_planned_parts"
PART_TWO = "2024/deel-twee/"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return publish_site(tmp_path_factory.mktemp("series") / "output", PATH=str(FIXTURE))


def copy_fixture(tmp_path) -> Path:
    return shutil.copytree(FIXTURE, tmp_path / "content")


def entries(soup):
    return [" ".join(li.get_text(" ").split()) for li in soup.select("nav.series li")]


def test_fixture_builds_without_messages(site):
    assert site.messages() == []


def test_part_shows_its_place_all_parts_and_its_neighbours(site):
    soup = site.soup(PART_TWO)
    box = soup.select_one("nav.series")
    assert " ".join(box.p.get_text(" ").split()) == "Deel 2 van 5 in de serie Werken in teams"
    assert entries(soup) == ["Deel een", "Deel twee", "Het derde deel – binnenkort, mei 2030",
                             "Het slot – binnenkort", "Nabeschouwing"]
    current = box.select_one("[aria-current=page]")
    assert current.get_text() == "Deel twee" and current["href"].endswith(PART_TWO)
    assert box.find("a", rel="prev")["href"] == f"{PUBLISH_SITEURL}/2024/deel-een/"
    assert box.find("a", rel="next")["href"] == f"{PUBLISH_SITEURL}/2024/nabeschouwing/"


def test_teaser_stays_plain_text_while_the_next_part_is_a_draft(site):
    teaser = site.soup(PART_TWO).select_one("p.teaser")
    assert " ".join(teaser.get_text(" ").split()) == "Volgende keer: Het derde deel"
    assert teaser.find("a") is None
    for path in site.output.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".xml", ".json", ".txt"):
            text = path.read_text(encoding="utf-8")
            assert "deel-drie" not in text and "Deel drie heet anders" not in text, path


def test_publishing_the_next_part_turns_the_teaser_into_a_link(site, tmp_path):
    content = copy_fixture(tmp_path)
    draft = content / "articles" / "deel-drie.md"
    draft.write_text(draft.read_text(encoding="utf-8").replace("Status: draft\n", ""),
                     encoding="utf-8")
    after = publish_site(tmp_path / "output", PATH=str(content))
    assert after.messages() == []
    teaser = after.soup(PART_TWO).select_one("p.teaser")
    assert teaser.a["href"] == f"{PUBLISH_SITEURL}/2024/deel-drie-heet-anders/"
    assert teaser.a.get_text() == "Het derde deel"  # the teaser's words stay
    series_page = after.soup("serie/werken-in-teams/")
    linked = [a.get_text() for a in series_page.select(".series-parts h2 a")]
    assert linked == ["Deel een", "Deel twee", "Deel drie heet anders", "Nabeschouwing"]
    titles = [e.title for e in feedparser.parse(
        (after.output / "feeds" / "serie" / "werken-in-teams.atom.xml").read_bytes()).entries]
    assert titles == ["Deel een", "Deel twee", "Deel drie heet anders", "Nabeschouwing"]
    edition = after.output / "nieuwsbrief" / "deel-twee"
    assert f'href="{PUBLISH_SITEURL}/2024/deel-drie-heet-anders/"' in (edition / "index.html").read_text()
    assert (f"Volgende keer: Het derde deel ({PUBLISH_SITEURL}/2024/deel-drie-heet-anders/)"
            in (edition / "index.txt").read_text())
    before_edition = (site.output / "nieuwsbrief" / "deel-twee" / "index.txt").read_text()
    assert "Volgende keer: Het derde deel\n" in before_edition
    unrelated = "2024/los-artikel/index.html"
    assert without_related(after.output / unrelated) == without_related(site.output / unrelated)


def test_series_page_and_index(site):
    page = site.soup("serie/werken-in-teams/")
    assert page.h1.get_text() == "Werken in teams"
    assert "samen beter worden" in page.select_one(".prose").get_text()
    parts = [" ".join(li.get_text(" ").split()) for li in page.select(".series-parts > li")]
    assert parts[0].startswith("Deel een") and "Het begin van de serie." in parts[0]
    assert parts[2] == "Het derde deel binnenkort, mei 2030"
    assert page.find("link", rel="alternate", href=f"{PUBLISH_SITEURL}/feeds/serie/werken-in-teams.rss.xml")
    assert page.select_one("#volg input[value='series:werken-in-teams']").has_attr("checked")
    index = site.soup("serie/")
    assert " ".join(index.select_one(".term-list li").get_text(" ").split()) == (
        "Werken in teams (3 van 5 delen verschenen)")


def test_series_feed_lists_parts_in_publication_order(site):
    feed = feedparser.parse((site.output / "feeds" / "serie" / "werken-in-teams.rss.xml").read_bytes())
    assert feed.bozo == 0
    assert [e.title for e in feed.entries] == ["Deel een", "Deel twee", "Nabeschouwing"]


def test_hidden_and_future_parts_never_leak(tmp_path):
    content = copy_fixture(tmp_path)
    write_file(content / "articles" / "verborgen.md",
               "Title: Verborgen deel\nDate: 2024-02-20\nAuthor: anna-jansen\nSeries: Werken in teams\n"
               "Series_index: 4\nStatus: hidden\n\nVerborgen.\n")
    write_file(content / "articles" / "toekomst.md",
               "Title: Toekomstig deel\nDate: 2099-01-01\nAuthor: anna-jansen\n"
               "Series: Werken in teams\nSeries_index: 5\n\nLater.\n")
    site = publish_site(tmp_path / "output", PATH=str(content))
    listed = entries(site.soup(PART_TWO))
    assert "Het slot – binnenkort" in listed
    assert not any("Verborgen" in e or "Toekomstig" in e for e in listed)
    feed = (site.output / "feeds" / "serie" / "werken-in-teams.atom.xml").read_text()
    assert "Verborgen" not in feed and "Toekomstig" not in feed


def test_two_published_parts_with_one_index_are_an_error(tmp_path):
    content = copy_fixture(tmp_path)
    write_file(content / "articles" / "ook-twee.md",
               "Title: Ook twee\nDate: 2024-02-11\nAuthor: anna-jansen\nSeries: Werken in teams\n"
               "Series_index: 2\n\nDubbel.\n")
    messages = publish_site(tmp_path / "output", PATH=str(content)).messages()
    assert any("field 'Series_index' is 2" in m and "deel-twee.md" in m and "ook-twee.md" in m
               for m in messages), messages


def test_series_name_differing_in_case_or_spacing_gets_a_did_you_mean(tmp_path):
    content = copy_fixture(tmp_path)
    write_file(content / "articles" / "tikfout.md",
               "Title: Tikfout\nDate: 2024-06-01\nAuthor: anna-jansen\nSeries: werken in  Teams\n\nx\n")
    messages = publish_site(tmp_path / "output", PATH=str(content)).messages()
    assert any("tikfout.md" in m and "did you mean 'Werken in teams'" in m for m in messages)


def test_series_file_without_articles_is_a_warning(tmp_path):
    content = copy_fixture(tmp_path)
    write_file(content / "series" / "vergeten-serie.md", "Title: Vergeten\n\nNiemand.\n")
    messages = publish_site(tmp_path / "output", PATH=str(content)).messages()
    assert any("vergeten-serie.md" in m and "no article has a Series" in m for m in messages)


@pytest.mark.parametrize("name, expected", [
    ('"', "has no letters or digits"),  # would be serie//, the list of series: a crash
    ("w" * 300, "expected at most 200"),  # a file name the file system refuses: a crash
])
def test_a_series_name_that_gives_no_usable_address_is_an_error_not_a_crash(tmp_path, name,
                                                                            expected):
    content = copy_fixture(tmp_path)
    write_file(content / "articles" / "vreemde-serie.md",
               f"Title: Vreemde serie\nDate: 2024-06-01\nAuthor: anna-jansen\nSeries: {name}\n\nx\n")
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert any("vreemde-serie.md" in m and "field 'Series'" in m and expected in m
               for m in site.messages()), site.messages()
    assert (site.output / "serie" / "index.html").exists()
    assert not (site.output / "2024" / "vreemde-serie").exists()


def test_bad_planned_line_names_the_file_and_field(tmp_path):
    content = copy_fixture(tmp_path)
    write_file(content / "series" / "werken-in-teams.md",
               "Title: Werken in teams\nPlanned: drie | Fout\nPlanned: 3 | Goed | mei\n\nIntro.\n")
    messages = publish_site(tmp_path / "output", PATH=str(content)).messages()
    assert any("werken-in-teams.md: field 'Planned' is 'drie | Fout'" in m for m in messages)
    assert any("month 'mei' for part 3" in m for m in messages)


def test_repeated_builds_in_one_process_give_the_same_site(tmp_path):
    first = publish_site(tmp_path / "een", PATH=str(FIXTURE))
    second = publish_site(tmp_path / "twee", PATH=str(FIXTURE))
    # The sitemap stamps index pages with now. Pagefind writes its list of filters from a
    # hash map, so that list and the entry file naming it change; the index does not.
    changing = ("sitemap.xml", "pagefind-entry.json")
    for path in first.output.rglob("*"):
        if path.is_file() and path.name not in changing and path.suffix != ".pf_meta":
            twin = second.output / path.relative_to(first.output)
            assert twin.read_bytes() == path.read_bytes(), path


def test_links_are_relative_in_development(tmp_path):
    dev = build_site("pelicanconf.py", tmp_path / "output", PATH=str(FIXTURE))
    box = dev.soup(PART_TWO).select_one("nav.series")
    assert box.p.a["href"] == "../../serie/werken-in-teams/"
    assert box.find("a", rel="prev")["href"] == "../../2024/deel-een/"
    assert dev.soup("serie/werken-in-teams/").select_one(".series-parts a")["href"] == (
        "../../2024/deel-een/")
