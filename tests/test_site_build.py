"""The sample site, built for real, read back as HTML."""

import json
import math
import re
from urllib.parse import urlsplit

import pytest
from lxml import etree

from content_checks.linkcheck import check_output
from tests.support import PUBLISH_SITEURL, ROOT, read_source, sample_articles

# Written out here rather than taken from Babel, so the test checks Babel's output.
DUTCH_MONTHS = [
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
]
ENGLISH_UI = [
    "Read more", "Skip to", "Archive", "Categories", "Category", "Authors", "Author",
    "Newer", "Older", "minute", "Next time", "About the", "Updated", "Browse",
    "Main menu", "Feed of", "No cookies", "Page not found", "Home", "Posted", "by",
]


def article_url(article: dict) -> str:
    slug = re.sub(r"\.md$", "", article["path"].name)
    return f"{article['date'][:4]}/{slug}/"


def dutch_date(iso: str) -> str:
    year, month, day = iso[:10].split("-")
    return f"{int(day)} {DUTCH_MONTHS[int(month) - 1]} {year}"


def visible_text(soup) -> str:
    for hidden in soup(["script", "style"]):
        hidden.decompose()
    return soup.get_text(" ", strip=True)


def test_sample_site_builds_without_warnings(dev_site, published_site):
    assert dev_site.messages() == []
    assert published_site.messages() == []


def test_sample_content_has_enough_original_articles():
    published = sample_articles()
    assert len(published) >= 8
    authors = {a.get("author") or a.get("authors") for a in published}
    assert len({name.strip() for entry in authors for name in entry.split(",")}) == 3
    assert 2 <= len({a["category"] for a in published}) <= 3


def test_every_page_is_dutch_with_landmarks_and_skip_link(dev_site):
    pages = dev_site.html_pages()
    assert len(pages) > 30
    for page in pages:
        soup = dev_site.soup(str(page.relative_to(dev_site.output)))
        assert soup.html["lang"] == "nl", page
        skip = soup.find("a", class_="skip-link")
        assert skip and skip["href"] == "#inhoud", page
        assert soup.find(id="inhoud").name == "main", page
        for landmark in ("header", "nav", "main", "footer"):
            assert soup.find(landmark), f"{page} lacks <{landmark}>"
        for image in soup.find_all("img"):
            assert image.has_attr("alt"), f"{page}: {image}"
        for nav in soup.find_all("nav"):
            label = nav.get("aria-label") or ""
            if nav.get("aria-labelledby"):
                named_by = soup.find(id=nav["aria-labelledby"])
                label = named_by.get_text(strip=True) if named_by else ""
            assert label, f"{page}: navigation without an accessible name"


@pytest.mark.parametrize("article", sample_articles(), ids=lambda a: a["path"].stem)
def test_article_shows_dutch_date_reading_time_and_author_box(dev_site, article):
    soup = dev_site.soup(article_url(article))
    time = soup.select_one("header .byline time")
    assert time.get_text() == dutch_date(article["date"])
    assert time["datetime"].startswith(article["date"][:10])

    words = len(re.findall(r"\w+", soup.select_one("div.prose").get_text(" ")))
    minutes = max(1, math.ceil(words / 200))
    unit = "minuut" if minutes == 1 else "minuten"
    byline = soup.select_one("header .byline").get_text(" ", strip=True)
    count = len(soup.select("ol.comment-list > li"))
    comments = f" · {count} {'reactie' if count == 1 else 'reacties'}" if count else ""
    assert byline.endswith(f"{minutes} {unit} leestijd{comments}"), byline

    slugs = [s.strip() for s in (article.get("author") or article["authors"]).split(",")]
    boxes = soup.select("section.author-box")
    assert len(boxes) == len(slugs)
    for slug, box in zip(slugs, boxes, strict=True):
        profile = read_source(ROOT / "content" / "authors" / f"{slug}.md")
        assert box.h2.get_text(" ", strip=True).startswith("Over de auteur")
        assert profile["name"] in box.h2.get_text()
        assert box.select_one(".author-box__role").get_text() == profile["role"]
        first_bio_words = " ".join(profile["body"].split()[:5])
        assert first_bio_words in " ".join(box.get_text().split())
        assert box.a["href"].endswith(f"auteur/{slug}/")


def test_multi_author_article_names_every_author(dev_site):
    article = next(a for a in sample_articles() if "authors" in a)
    soup = dev_site.soup(article_url(article))
    names = [a.get_text() for a in soup.select("header .byline a[rel=author]")]
    expected = [
        read_source(ROOT / "content" / "authors" / f"{slug.strip()}.md")["name"]
        for slug in article["authors"].split(",")
    ]
    assert names == expected
    assert " en " in soup.select_one("header .byline").get_text()


def test_author_page_has_bio_and_only_their_articles(dev_site):
    for profile_path in sorted((ROOT / "content" / "authors").glob("*.md")):
        profile = read_source(profile_path)
        soup = dev_site.soup(f"auteur/{profile_path.stem}/")
        assert soup.h1.get_text() == profile["name"]
        assert soup.find("img", alt=profile["photo_alt"])
        written = {
            a["title"] for a in sample_articles()
            if profile_path.stem in (a.get("author") or a.get("authors"))
        }
        listed = {h.get_text(strip=True) for h in soup.select(".card__title")}
        assert listed == written
        ld = json.loads(soup.find("script", type="application/ld+json").string)
        assert ld["@type"] == "Person" and ld["name"] == profile["name"]


def test_no_english_ui_words_on_any_page(dev_site):
    for page in dev_site.html_pages():
        text = visible_text(dev_site.soup(str(page.relative_to(dev_site.output))))
        found = [word for word in ENGLISH_UI if re.search(rf"\b{re.escape(word)}\b", text)]
        assert not found, f"{page.relative_to(dev_site.output)}: {found}"


def test_home_page_is_paginated_newest_first(dev_site):
    published = sorted(sample_articles(), key=lambda a: a["date"], reverse=True)
    first = dev_site.soup("index.html")
    second = dev_site.soup("pagina/2/")
    titles = [h.get_text(strip=True) for h in first.select(".card__title")]
    titles += [h.get_text(strip=True) for h in second.select(".card__title")]
    assert titles == [a["title"] for a in published]
    assert first.find("a", rel="next")["href"].endswith("pagina/2/")
    assert "Pagina 1 van 2" in first.select_one("nav.pagination").get_text()


def test_archive_lists_years_and_dutch_month_pages(dev_site):
    archive = dev_site.soup("archief/")
    years = sorted({a["date"][:4] for a in sample_articles()}, reverse=True)
    assert [h.get_text(strip=True) for h in archive.select("main h2")] == years
    for article in sample_articles():
        year, month = article["date"][:4], article["date"][5:7]
        month_page = dev_site.soup(f"archief/{year}/{month}/")
        assert month_page.h1.get_text() == f"Archief {DUTCH_MONTHS[int(month) - 1]} {year}"
        assert article["title"] in month_page.get_text()


def test_category_tag_and_page_templates(dev_site):
    categories = {a["category"] for a in sample_articles()}
    listing = dev_site.soup("categorieen/").get_text()
    for category in categories:
        assert category in listing
        page = dev_site.soup(f"categorie/{category.lower()}/")
        assert page.h1.get_text() == f"Categorie {category}"
    tag_page = dev_site.soup("tag/interne-klantgerichtheid/")
    assert tag_page.h1.get_text() == "Tag interne klantgerichtheid"
    for slug in ("over-ons", "contact", "privacy"):
        page = dev_site.soup(f"{slug}/")
        assert page.h1.get_text() == read_source(ROOT / "content" / "pages" / f"{slug}.md")["title"]
    not_found = dev_site.soup("404.html")
    assert not_found.h1.get_text() == "Pagina niet gevonden"


def test_drafts_are_previewed_in_dev_and_absent_when_published(dev_site, published_site):
    drafts = sample_articles("draft")
    assert drafts, "the sample site keeps part 3 of the series as a draft"
    for draft in drafts:
        slug = draft["path"].stem
        assert (dev_site.output / "drafts" / slug / "index.html").exists()
        assert not list(published_site.output.rglob(f"*{slug}*"))
        for page in published_site.html_pages():
            assert slug not in page.read_text(encoding="utf-8"), page
        assert slug not in (published_site.output / "sitemap.xml").read_text()


def test_series_teaser_is_plain_text_while_next_part_is_a_draft(dev_site):
    part_two = next(a for a in sample_articles() if a.get("series_index") == "2")
    teaser = dev_site.soup(article_url(part_two)).select_one("p.teaser")
    assert teaser.get_text(" ", strip=True) == f"Volgende keer: {part_two['next']}"
    assert teaser.find("a") is None


def test_every_internal_link_and_image_resolves(dev_site, published_site):
    service = (dev_site.settings["FOLLOW_ENDPOINT"], dev_site.settings["REACTIONS_ENDPOINT"])
    assert check_output(dev_site.output, "", service) == []
    assert check_output(published_site.output, PUBLISH_SITEURL, service) == []


def test_publish_build_uses_absolute_urls_for_seo(published_site):
    for article in sample_articles():
        url = f"{PUBLISH_SITEURL}/{article_url(article)}"
        soup = published_site.soup(article_url(article))
        assert soup.find("link", rel="canonical")["href"] == url
        assert soup.find("meta", property="og:url")["content"] == url
        assert soup.find("meta", property="og:type")["content"] == "article"
        assert soup.find("meta", property="og:title")["content"] == article["title"]
        ld = json.loads(soup.find("script", type="application/ld+json").string)
        assert ld["@type"] == "Article"
        assert ld["headline"] == article["title"]
        assert ld["url"] == url
        assert ld["datePublished"].startswith(article["date"][:10])
        assert all(p["url"].startswith(f"{PUBLISH_SITEURL}/auteur/") for p in ld["author"])
        for tag in soup.find_all(["link", "img", "script"]):
            address = tag.get("href") or tag.get("src")
            if address:
                assert address.startswith(PUBLISH_SITEURL), f"{url}: {address}"


def test_sitemap_and_robots_point_at_published_pages(published_site):
    sitemap = etree.parse(str(published_site.output / "sitemap.xml"))
    namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locations = [loc.text for loc in sitemap.findall(".//s:loc", namespace)]
    for article in sample_articles():
        assert f"{PUBLISH_SITEURL}/{article_url(article)}" in locations
    for location in locations:
        assert location.startswith(PUBLISH_SITEURL + "/")
        path = urlsplit(location).path.lstrip("/")
        target = published_site.output / path
        assert target.is_file() or (target / "index.html").is_file(), location
    robots = (published_site.output / "robots.txt").read_text()
    assert f"Sitemap: {PUBLISH_SITEURL}/sitemap.xml" in robots.splitlines()


def test_pages_make_no_third_party_requests_and_need_no_javascript(published_site):
    """Scripts: JSON-LD only, but on the search page, which loads the site's own one."""
    search_page = published_site.output / "zoeken" / "index.html"
    for page in published_site.html_pages():
        soup = published_site.soup(str(page.relative_to(published_site.output)))
        for script in soup.find_all("script"):
            if page == search_page and script.get("type") in ("module", "application/json"):
                assert urlsplit(script.get("src", "")).netloc in ("", urlsplit(
                    PUBLISH_SITEURL).netloc)
                continue
            assert script.get("type") == "application/ld+json", page
            assert not script.get("src"), page
        for tag in soup.find_all(["link", "img", "iframe", "source"]):
            address = tag.get("href") or tag.get("src") or ""
            host = urlsplit(address).netloc
            assert host in ("", urlsplit(PUBLISH_SITEURL).netloc), f"{page}: {address}"


def test_article_page_weighs_under_30_kb_with_its_css(published_site):
    css = sum(p.stat().st_size for p in (published_site.output / "theme" / "css").glob("*.css"))
    heaviest = max(
        (published_site.output / article_url(a) / "index.html").stat().st_size
        for a in sample_articles()
    )
    assert heaviest + css < 30 * 1024, f"{heaviest} B HTML + {css} B CSS"


def test_menu_follows_the_configured_order_and_footer_links_privacy(dev_site):
    soup = dev_site.soup("over-ons/")
    menu = [a.get_text() for a in soup.select("header nav .menu a")]
    assert menu == ["Over ons", "Contact", "Auteurs", "Archief", "Zoeken"]
    assert soup.select_one("header nav a[aria-current=page]").get_text() == "Over ons"
    assert "Privacyverklaring" in [a.get_text() for a in soup.select("footer a")]


def test_paginated_list_pages_are_their_own_canonical(published_site):
    second = published_site.soup("pagina/2/")
    assert second.find("link", rel="canonical")["href"] == f"{PUBLISH_SITEURL}/pagina/2/"
    category = published_site.soup("categorie/klantgerichtheid/")
    assert category.find("link", rel="canonical")["href"] == (
        f"{PUBLISH_SITEURL}/categorie/klantgerichtheid/"
    )
    tags = published_site.soup("tags/")
    assert tags.find("link", rel="canonical")["href"] == f"{PUBLISH_SITEURL}/tags/"
    assert tags.h1.get_text() == "Tags"
    assert len(tags.select(".term-list li")) == len(
        {t.strip() for a in sample_articles() for t in a["tags"].split(",")}
    )
