"""Email editions: email-safe HTML, readable text, and editions.json for the sender."""

import json
import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from lxml import etree

from tests.support import PUBLISH_SITEURL, ROOT, publish_site, sample_articles, write_file

FORBIDDEN_CSS = re.compile(r"(?:^|[;\s{])(?:display\s*:\s*(?:flex|grid|inline-flex)|float\s*:|"
                           r"position\s*:|grid-|flex-)", re.IGNORECASE)
PLACEHOLDER = f"{PUBLISH_SITEURL}/volg/afmelden/"



@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return publish_site(tmp_path_factory.mktemp("editions") / "output")


def manifest(site):
    return json.loads((site.output / "nieuwsbrief" / "editions.json").read_text(encoding="utf-8"))


def editions_of(site):
    return [e for e in manifest(site)["editions"] if e["kind"] == "article"]


def test_every_published_article_and_nothing_else_has_an_edition(sample):
    published = sorted(sample_articles(), key=lambda a: a["date"], reverse=True)
    editions = editions_of(sample)
    assert [e["title"] for e in editions] == [a["title"] for a in published]
    for edition in editions:
        assert (sample.output / edition["html"]).is_file()
        assert (sample.output / edition["text"]).is_file()
    for draft in sample_articles("draft"):
        assert not (sample.output / "nieuwsbrief" / draft["path"].stem).exists()


def test_html_editions_survive_real_email_clients(sample):
    for edition in editions_of(sample):
        raw = (sample.output / edition["html"]).read_bytes()
        assert len(raw) < 100 * 1024, edition["html"]
        soup = BeautifulSoup(raw, "html.parser")
        assert soup.html["lang"] == "nl"
        assert soup.find_all(["script", "form", "input", "iframe"]) == []
        assert soup.find_all("style") == [], "CSS must be inlined"
        container = soup.select_one("table.container")
        assert "max-width: 600px" in container["style"].replace(":600px", ": 600px")
        assert len(soup.select("table.container")) == 1
        for tag in soup.find_all(style=True):
            assert not FORBIDDEN_CSS.search(tag["style"]), f"{edition['html']}: {tag['style']}"
        for image in soup.find_all("img"):
            assert image.has_attr("alt"), edition["html"]
        for tag in soup.find_all(href=True) + soup.find_all(src=True):
            url = tag.get("href") or tag.get("src")
            assert urlsplit(url).scheme in ("https", "mailto"), f"{edition['html']}: {url}"
        browser = soup.find("a", string="Bekijk in je browser")
        assert browser["href"] == edition["browser_url"]
        assert browser["href"] == f"{PUBLISH_SITEURL}/{edition['html'].removesuffix('index.html')}"
        assert soup.find("a", href=PLACEHOLDER).get_text() == "Met één klik afmelden"
        assert soup.h1.get_text() == edition["title"]


def test_text_editions_are_readable_on_their_own(sample):
    for edition in editions_of(sample):
        text = (sample.output / edition["text"]).read_text(encoding="utf-8")
        assert not re.search(r"<[a-zA-Z/!]", text), edition["text"]
        assert "&amp;" not in text and "&lt;" not in text
        lines = text.splitlines()
        title_line = lines.index(edition["title"])
        assert lines[title_line + 1] == "=" * len(edition["title"])
        assert f"Bekijk in je browser: {edition['browser_url']}" in text
        assert f"Lees op de site: {edition['url']}" in text
        assert f"Met één klik afmelden: {PLACEHOLDER}" in text
        # A URL is never broken across lines; everything else wraps at 72.
        assert max(len(line) for line in lines if "https://" not in line) <= 72
        markers = [int(n) for n in re.findall(r" \[(\d+)\]", text.split("\nLinks:\n")[0])]
        if markers:
            notes = text.split("\nLinks:\n")[1]
            assert markers == list(range(1, len(markers) + 1))
            for number in markers:
                assert re.search(rf"^\[{number}\] https://", notes, re.MULTILINE)


def test_series_part_edition_has_the_series_line_and_teaser(sample):
    part = next(a for a in sample_articles() if a.get("series_index") == "2")
    edition = next(e for e in editions_of(sample) if e["title"] == part["title"])
    assert edition["series"] == part["series"]
    assert edition["series_slug"] == "interne-klantgerichtheid"
    soup = BeautifulSoup((sample.output / edition["html"]).read_text(encoding="utf-8"),
                         "html.parser")
    assert soup.select_one("p.series").get_text() == f"Deel 2 van 3 in de serie {part['series']}"
    assert soup.select_one("p.teaser").get_text(" ", strip=True) == f"Volgende keer: {part['next']}"
    text = (sample.output / edition["text"]).read_text(encoding="utf-8")
    assert f"Volgende keer: {part['next']}" in text


def test_editions_json_gives_the_sender_what_it_needs(sample):
    data = manifest(sample)
    assert data["format"] == 1
    assert data["placeholders"] == {"unsubscribe_url": PLACEHOLDER}
    assert data["site"] == {"name": "Ruimte & Richting", "url": PUBLISH_SITEURL}
    feed = etree.parse(str(sample.output / "feeds" / "alle.atom.xml")).getroot()
    feed_ids = [e.findtext("{http://www.w3.org/2005/Atom}id")
                for e in feed.findall("{http://www.w3.org/2005/Atom}entry")]
    editions = editions_of(sample)
    assert [e["id"] for e in editions] == feed_ids
    for edition in editions:
        source = next(a for a in sample_articles() if a["title"] == edition["title"])
        assert edition["date"].startswith(source["date"][:10])
        assert edition["category"] == source["category"]
        assert edition["url"].startswith(PUBLISH_SITEURL + "/")
        assert len(edition["authors"]) == len((source.get("author") or source["authors"]).split(","))


def test_editions_are_byte_identical_between_builds(sample, tmp_path):
    again = publish_site(tmp_path / "again")
    for path in (sample.output / "nieuwsbrief").rglob("*"):
        if path.is_file():
            assert (again.output / path.relative_to(sample.output)).read_bytes() == path.read_bytes()


def test_editor_index_lists_every_edition(sample):
    soup = BeautifulSoup((sample.output / "nieuwsbrief" / "index.html").read_text(encoding="utf-8"),
                         "html.parser")
    assert soup.find("meta", attrs={"name": "robots"})["content"] == "noindex"
    linked = {a["href"] for a in soup.select("main a")}
    for edition in editions_of(sample):
        assert f"{PUBLISH_SITEURL}/{edition['html']}" in linked
        assert f"{PUBLISH_SITEURL}/{edition['text']}" in linked


def test_digest_covers_the_articles_since_a_date(tmp_path):
    site = publish_site(tmp_path / "output", FOLLOW_DIGEST_SINCE="2024-06-01")
    digest = manifest(site)["editions"][0]
    expected = sorted((a for a in sample_articles() if a["date"] >= "2024-06-01"),
                      key=lambda a: a["date"], reverse=True)
    assert digest["kind"] == "digest"
    assert digest["title"] == "Artikelen van 1 juni 2024 tot en met 17 juni 2025"
    soup = BeautifulSoup((site.output / digest["html"]).read_text(encoding="utf-8"), "html.parser")
    assert [h.get_text() for h in soup.select(".digest-item h2")] == [a["title"] for a in expected]
    assert len(digest["articles"]) == len(expected)
    text = (site.output / digest["text"]).read_text(encoding="utf-8")
    assert all(a["title"] in text for a in expected)
    assert not re.search(r"<[a-zA-Z/!]", text)


def test_invoke_edition_renders_a_digest(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", str(ROOT), "edition",
         "--since", "2025-01-01"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "output" / "nieuwsbrief" / "editions.json").read_text())
    assert data["editions"][0]["kind"] == "digest"
    assert (tmp_path / "output" / "nieuwsbrief" / "overzicht-2025-01-01" / "index.txt").is_file()


def test_bad_digest_date_is_reported(tmp_path):
    site = publish_site(tmp_path / "output", FOLLOW_DIGEST_SINCE="vorige week")
    assert any("FOLLOW_DIGEST_SINCE is 'vorige week'" in m for m in site.messages())


def test_images_without_alt_and_oversized_editions(tmp_path):
    content = tmp_path / "content"
    write_file(content / "authors" / "anna-jansen.md", "Name: Anna Jansen\n\nBio.\n")
    write_file(content / "images" / "x.svg", '<svg xmlns="http://www.w3.org/2000/svg"/>')
    write_file(content / "articles" / "zonder-alt.md",
               "Title: Zonder alt\nDate: 2024-01-01\nAuthor: anna-jansen\n\n"
               '<p><img src="/images/x.svg"></p>\n')
    long_text = "\n\n".join(f"Alinea {n}: " + "woord " * 120 for n in range(200))
    write_file(content / "articles" / "heel-lang.md",
               f"Title: Heel lang\nDate: 2024-01-02\nAuthor: anna-jansen\n\n{long_text}\n")
    site = publish_site(tmp_path / "output", PATH=str(content))
    soup = BeautifulSoup((site.output / "nieuwsbrief" / "zonder-alt" / "index.html").read_text(
        encoding="utf-8"), "html.parser")
    assert [img.get("alt") for img in soup.find_all("img")] == [""]
    errors = [m for m in site.messages() if "Gmail clips" in m]
    assert len(errors) == 1 and "heel-lang.md" in errors[0]


def test_editions_can_be_limited_to_the_newest_articles(tmp_path):
    site = publish_site(tmp_path / "output", FOLLOW_EDITIONS_MAX=2)
    newest = sorted(sample_articles(), key=lambda a: a["date"], reverse=True)[:2]
    assert [e["title"] for e in editions_of(site)] == [a["title"] for a in newest]
    assert len([p for p in (site.output / "nieuwsbrief").iterdir() if p.is_dir()]) == 2
