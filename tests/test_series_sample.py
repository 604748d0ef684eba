"""The sample series 'Interne klantgerichtheid', before and after part 3 is published."""

import feedparser

from tests.support import (
    PUBLISH_SITEURL,
    copy_content,
    publish_site,
    sample_articles,
    without_related,
)

PART_TWO = "2023/vragen-stellen-in-plaats-van-vertellen/"
SERIES_PAGE = "serie/interne-klantgerichtheid/"
SERIES_FEED = "feeds/serie/interne-klantgerichtheid.atom.xml"


def series_parts(site):
    return [" ".join(li.get_text(" ").split()) for li in site.soup(SERIES_PAGE).select(".series-parts h2")]


def feed_titles(site):
    return [e.title for e in feedparser.parse((site.output / SERIES_FEED).read_bytes()).entries]


def test_sample_series_before_and_after_part_three_is_published(published_site, tmp_path):
    before = published_site
    page = before.soup(SERIES_PAGE)
    assert [a.get_text() for a in page.select(".series-parts h2 a")] == [
        "Je collega als klant", "Vragen stellen in plaats van vertellen"]
    assert "Managen en leidinggeven binnenkort, januari 2027" in " ".join(
        page.select(".series-parts > li")[2].get_text(" ").split())
    teaser = before.soup(PART_TWO).select_one("p.teaser")
    assert teaser.find("a") is None
    assert " ".join(teaser.get_text(" ").split()) == "Volgende keer: Managen en leidinggeven"
    assert feed_titles(before) == ["Je collega als klant", "Vragen stellen in plaats van vertellen"]

    content = copy_content(tmp_path / "content")
    part_three = content / "articles" / "2023" / "managen-en-leidinggeven.md"
    part_three.write_text(part_three.read_text(encoding="utf-8").replace("Status: draft\n", ""),
                          encoding="utf-8")
    after = publish_site(tmp_path / "output", PATH=str(content))
    assert after.messages() == []

    link = after.soup(PART_TWO).select_one("p.teaser a")
    assert link["href"] == f"{PUBLISH_SITEURL}/2023/managen-en-leidinggeven/"
    assert link.get_text() == "Managen en leidinggeven"
    assert series_parts(after) == ["Je collega als klant", "Vragen stellen in plaats van vertellen",
                                   "Managen en leidinggeven"]
    assert feed_titles(after)[-1] == "Managen en leidinggeven"

    # Nothing else changes: every article outside the series is identical but for its
    # "Lees ook" list, which the new part may join, and every page is identical.
    outside = [a for a in sample_articles() if "series" not in a]
    assert outside
    for article in outside:
        page = f"{article['date'][:4]}/{article['path'].stem}/index.html"
        assert without_related(after.output / page) == without_related(before.output / page), page
    for page in ("over-ons/index.html", "contact/index.html", "privacy/index.html"):
        assert (after.output / page).read_bytes() == (before.output / page).read_bytes(), page
