"""Feeds: well-formed, valid by the W3C validator's rules, absolute, stable."""

import shutil
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import lxml.html
import pytest
from lxml import etree

from tests.support import PUBLISH_SITEURL, publish_site

TEST_DATA = Path(__file__).parent / "test_data"
ATOM = "{http://www.w3.org/2005/Atom}"
NS = {"a": "http://www.w3.org/2005/Atom", "content": "http://purl.org/rss/1.0/modules/content/",
      "dc": "http://purl.org/dc/elements/1.1/", "atom": "http://www.w3.org/2005/Atom"}



@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return publish_site(tmp_path_factory.mktemp("feeds") / "output")


@pytest.fixture(scope="module")
def relative_links(tmp_path_factory):
    return publish_site(tmp_path_factory.mktemp("rel") / "output",
                   PATH=str(TEST_DATA / "relative_links"))


def feed_files(site):
    return sorted((site.output / "feeds").rglob("*.xml"))


def is_absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "mailto") and (parts.netloc or parts.scheme == "mailto")


def urls_in_html(html: str) -> list[str]:
    if not html.strip():
        return []
    tree = lxml.html.fragment_fromstring(html, create_parent="div")
    urls = [e.get("href") for e in tree.iter("a") if e.get("href")]
    urls += [e.get("src") for e in tree.iter("img")]
    for image in tree.iter("img"):
        urls += [part.split()[0] for part in (image.get("srcset") or "").split(",") if part.strip()]
    return urls


def own_url(site, path: Path) -> str:
    return f"{PUBLISH_SITEURL}/{path.relative_to(site.output).as_posix()}"


def test_every_kind_of_feed_exists_in_both_formats(sample):
    names = {p.relative_to(sample.output).as_posix() for p in feed_files(sample)}
    for expected in ("feeds/alle.atom.xml", "feeds/alle.rss.xml",
                     "feeds/categorie/klantgerichtheid.atom.xml",
                     "feeds/auteur/marloes-verhagen.rss.xml",
                     "feeds/tag/interne-klantgerichtheid.atom.xml"):
        assert expected in names
    tags = len(list((sample.output / "tag").iterdir()))
    series = len(list((sample.output / "serie").glob("*/")))
    assert len(names) == 2 * (1 + 3 + 3 + tags + series)


def test_feeds_parse_with_lxml_and_feedparser_without_bozo(sample, relative_links):
    for site in (sample, relative_links):
        for path in feed_files(site):
            etree.parse(str(path))
            parsed = feedparser.parse(path.read_bytes())
            assert parsed.bozo == 0, f"{path}: {parsed.get('bozo_exception')}"
            assert parsed.version == ("atom10" if path.name.endswith(".atom.xml") else "rss20")
            assert parsed.entries


def test_atom_feeds_follow_the_validator_rules(sample, relative_links):
    for site in (sample, relative_links):
        for path in (p for p in feed_files(site) if p.name.endswith(".atom.xml")):
            feed = etree.parse(str(path)).getroot()
            assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "nl"
            assert urlsplit(feed.findtext(f"{ATOM}id")).scheme in ("https", "tag")
            assert feed.find("a:link[@rel='self']", NS).get("href") == own_url(site, path)
            assert feed.findtext(f"{ATOM}updated")
            for entry in feed.findall(f"{ATOM}entry"):
                entry_id = entry.findtext(f"{ATOM}id")
                assert entry_id.startswith("tag:ruimte-en-richting.example,20"), entry_id
                for date in ("published", "updated"):
                    assert etree.fromstring(f"<d>{entry.findtext(ATOM + date)}</d>").text[10] == "T"
                assert is_absolute(entry.find(f"{ATOM}link").get("href"))
                assert entry.findall(f"{ATOM}author/{ATOM}name")
                assert entry.find(f"{ATOM}content").get("type") == "html"
                for part in ("content", "summary"):
                    for url in urls_in_html(entry.findtext(ATOM + part)):
                        assert is_absolute(url), f"{path.name} {entry_id} {part}: {url}"


def test_rss_feeds_follow_the_validator_rules(sample, relative_links):
    for site in (sample, relative_links):
        for path in (p for p in feed_files(site) if p.name.endswith(".rss.xml")):
            channel = etree.parse(str(path)).getroot().find("channel")
            assert is_absolute(channel.findtext("link"))
            assert channel.find("atom:link[@rel='self']", NS).get("href") == own_url(site, path)
            assert parsedate_to_datetime(channel.findtext("lastBuildDate")).tzinfo
            for item in channel.findall("item"):
                guid = item.find("guid")
                assert guid.get("isPermaLink") == "false" and guid.text.startswith("tag:")
                assert parsedate_to_datetime(item.findtext("pubDate")).tzinfo
                assert is_absolute(item.findtext("link"))
                assert item.findall("dc:creator", NS)
                assert item.findtext("description")
                content = item.findtext("content:encoded", namespaces=NS)
                for url in urls_in_html(content) + urls_in_html(item.findtext("description")):
                    assert is_absolute(url), f"{path.name}: {url}"


def test_entries_carry_full_content_summary_authors_and_terms(sample):
    entries = {e.title: e for e in feedparser.parse(
        (sample.output / "feeds" / "alle.atom.xml").read_bytes()).entries}
    page = sample.soup("2025/samen-beslissen-zonder-eindeloos-overleg/")
    entry = entries[page.h1.get_text()]
    article_text = " ".join(page.select_one("div.prose").get_text(" ").split())
    content_text = " ".join(lxml.html.fromstring(entry.content[0].value).text_content().split())
    assert content_text.split()[-6:] == article_text.split()[-6:]
    assert len(content_text) >= 0.95 * len(article_text)
    assert entry.summary.startswith("<p>Iedereen wil meepraten")
    assert [a.name for a in entry.authors] == ["Sanne Brouwer", "Joost de Wit"]
    assert {t.term for t in entry.tags} == {"Samenwerken", "overleg", "beslissen", "samenwerken"}
    assert entry.published.startswith("2025-06-17T09:00:00")


def test_relative_links_and_images_become_absolute(relative_links):
    # Read the raw XML: feedparser sanitises content and would drop srcset.
    feed = etree.parse(str(relative_links.output / "feeds" / "alle.atom.xml")).getroot()
    entry = feed.find(f"{ATOM}entry")
    urls = urls_in_html(entry.findtext(f"{ATOM}content"))
    article = f"{PUBLISH_SITEURL}/2024/relatieve-links/"
    assert f"{PUBLISH_SITEURL}/2024/eerste-artikel/" in urls
    assert f"{PUBLISH_SITEURL}/2024/buren/" in urls
    assert f"{article}#slot" in urls
    assert urls.count(f"{PUBLISH_SITEURL}/images/grafiek.svg") == 4
    assert "https://elders.example/pad" in urls
    assert urls_in_html(entry.findtext(f"{ATOM}summary")) == [
        f"{PUBLISH_SITEURL}/2024/eerste-artikel/"]
    assert entry.findtext(f"{ATOM}updated").startswith("2024-03-01T12:00:00")


def test_feeds_are_byte_identical_between_builds(sample, tmp_path):
    again = publish_site(tmp_path / "again")
    for path in feed_files(sample):
        twin = again.output / path.relative_to(sample.output)
        assert twin.read_bytes() == path.read_bytes(), path.name


def test_entry_id_survives_a_new_title_and_slug(relative_links, tmp_path):
    content = shutil.copytree(TEST_DATA / "relative_links", tmp_path / "content")
    article = content / "articles" / "relatieve-links.md"
    article.write_text(article.read_text(encoding="utf-8").replace(
        "Title: Relatieve links", "Title: Links die werken\nSlug: links-die-werken"),
        encoding="utf-8")
    renamed = publish_site(tmp_path / "output", PATH=str(content))

    def ids_by_link(site):
        parsed = feedparser.parse((site.output / "feeds" / "alle.atom.xml").read_bytes())
        return {e.link.rsplit("/", 2)[-2]: e.id for e in parsed.entries}

    before, after = ids_by_link(relative_links), ids_by_link(renamed)
    assert after["links-die-werken"] == before["relatieve-links"]
    assert after["eerste-artikel"] == before["eerste-artikel"]


def test_feed_max_items_keeps_the_newest(tmp_path):
    site = publish_site(tmp_path / "output", FEED_MAX_ITEMS=3)
    parsed = feedparser.parse((site.output / "feeds" / "alle.rss.xml").read_bytes())
    assert [e.published_parsed[:3] for e in parsed.entries] == [
        (2025, 6, 17), (2025, 2, 4), (2024, 9, 10)]


def test_pages_link_the_feeds_that_match_them(sample):
    def alternates(page):
        return [link["href"] for link in sample.soup(page).find_all("link", rel="alternate")]

    base = f"{PUBLISH_SITEURL}/feeds"
    assert alternates("index.html") == [f"{base}/alle.atom.xml", f"{base}/alle.rss.xml"]
    assert f"{base}/categorie/leiderschap.rss.xml" in alternates("categorie/leiderschap/")
    assert f"{base}/auteur/joost-de-wit.atom.xml" in alternates("auteur/joost-de-wit/")
    assert f"{base}/tag/overleg.atom.xml" in alternates("tag/overleg/")
    article = alternates("2024/leidinggeven-op-afstand/")
    assert len(article) == len(set(article)) == 6
    for href in article:
        assert (sample.output / href.removeprefix(PUBLISH_SITEURL + "/")).is_file()


def test_pelicans_own_feed_settings_are_reported(tmp_path):
    site = publish_site(tmp_path / "output", FEED_ALL_ATOM="feeds/oud.atom.xml")
    assert any("FEED_ALL_ATOM is set" in m for m in site.messages())


def test_two_articles_published_at_the_same_moment_get_distinct_ids(tmp_path):
    content = shutil.copytree(TEST_DATA / "relative_links", tmp_path / "content")
    (content / "articles" / "tweeling.md").write_text(
        "Title: Tweeling\nDate: 2024-01-10 09:00\nAuthor: anna-jansen\n\nTekst.\n",
        encoding="utf-8")
    site = publish_site(tmp_path / "output", PATH=str(content))
    ids = [e.id for e in feedparser.parse((site.output / "feeds" / "alle.atom.xml").read_bytes()).entries]
    assert len(ids) == len(set(ids)) == 3
    warning = next(m for m in site.messages() if "same second" in m)
    assert "eerste.md" in warning and "tweeling.md" in warning


def test_fixtures_build_without_messages(sample, relative_links):
    assert sample.messages() == []
    assert relative_links.messages() == []


def test_a_control_character_reference_in_an_article_with_a_link_gives_feeds_that_parse(
        tmp_path):
    # Found by tests/test_hostile_input_property.py: making the links absolute wrote
    # &#x1b; as the character itself, which XML refuses, and the build stopped.
    content = shutil.copytree(TEST_DATA / "relative_links", tmp_path / "content")
    (content / "articles" / "teken.md").write_text(
        "Title: Teken\nDate: 2024-05-10 09:00\nAuthor: anna-jansen\n\n"
        "Voor &#x1b; en &#xfffe; na, met [een link](https://voorbeeld.example/).\n",
        encoding="utf-8")
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert site.messages() == []
    for feed in feed_files(site):
        etree.parse(str(feed))
        assert not feedparser.parse(feed.read_bytes()).bozo, feed
