"""Related articles and the share links under each article, in a real publish build."""

from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from related.related import choose_related
from tests.support import PUBLISH_SITEURL, publish_site, write_file


def article(folder, slug, date, category, tags, series=None, index=None):
    lines = [f"Title: Artikel {slug}", f"Date: {date}", f"Slug: {slug}",
             f"Category: {category}", f"Tags: {', '.join(tags)}"]
    if series:
        lines += [f"Series: {series}", f"Series_index: {index}"]
    write_file(folder / f"{slug}.md", "\n".join(lines) + "\n\nEen korte tekst over het werk.\n")


@pytest.fixture(scope="module")
def related_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("related")
    content = root / "content" / "articles"
    article(content, "basis", "2024-05-01", "Leiderschap", ["feedback", "teams", "vertrouwen"])
    # Two shared tags and the category: the most in common, though the oldest.
    article(content, "veel-gedeeld", "2020-01-01", "Leiderschap", ["feedback", "teams"])
    # One tag and the category each: tied, so the newer comes first.
    article(content, "gelijk-oud", "2021-01-01", "Leiderschap", ["vertrouwen"])
    article(content, "gelijk-nieuw", "2023-01-01", "Leiderschap", ["feedback"])
    # Only the category: fourth, so not listed.
    article(content, "alleen-categorie", "2025-01-01", "Leiderschap", ["planning"])
    # Shares nothing at all.
    article(content, "niets-gedeeld", "2025-02-01", "Verkoop", ["offertes"])
    # Parts of one series share everything, and are still never each other's related.
    article(content, "serie-een", "2024-06-01", "Leiderschap", ["feedback", "teams"],
            series="Leren leiden", index=1)
    article(content, "serie-twee", "2024-07-01", "Leiderschap", ["feedback", "teams"],
            series="Leren leiden", index=2)
    return publish_site(root / "output", PATH=str(root / "content"))


def related_slugs(site, slug, year):
    nav = site.soup(f"{year}/{slug}/").find("nav", class_="related")
    if nav is None:
        return []
    return [urlsplit(a["href"]).path.strip("/").split("/")[-1] for a in nav.find_all("a")]


def test_most_shared_first_then_newer_and_at_most_three(related_site):
    # serie-een and serie-twee share all three terms with basis; then veel-gedeeld (3).
    assert related_slugs(related_site, "basis", 2024) == ["serie-twee", "serie-een",
                                                           "veel-gedeeld"]
    assert related_slugs(related_site, "gelijk-nieuw", 2023)[:1] == ["serie-twee"]


def test_ties_go_to_the_newer_article():
    holders = {"a": {0, 1, 2}, "b": {2, 3}}
    # 2 shares both terms; 0 and 1 tie on one, and 0 is the newer.
    assert choose_related(["a", "b"], holders, excluded={3}, limit=3) == [2, 0, 1]


def test_parts_of_the_same_series_are_left_out(related_site):
    chosen = related_slugs(related_site, "serie-een", 2024)
    assert "serie-twee" not in chosen and "serie-een" not in chosen
    assert chosen[0] == "basis"


def test_an_article_sharing_nothing_gets_no_list(related_site):
    assert related_slugs(related_site, "niets-gedeeld", 2025) == []
    heading = related_site.soup("2024/basis/").find("nav", class_="related").find("h2")
    assert heading.get_text() == "Lees ook"


def test_the_choice_is_the_same_in_every_build(related_site, tmp_path):
    again = publish_site(tmp_path / "again", PATH=str(related_site.settings["PATH"]))
    for slug, year in (("basis", 2024), ("gelijk-oud", 2021), ("serie-twee", 2024)):
        assert related_slugs(again, slug, year) == related_slugs(related_site, slug, year)


def test_share_links_are_plain_links_with_the_absolute_url_and_no_tracking(related_site):
    soup = related_site.soup("2024/basis/")
    share = soup.find("nav", class_="share")
    assert share.find("h2").get_text() == "Deel dit artikel"
    links = {a.get_text(): a["href"] for a in share.find_all("a")}
    page_url = f"{PUBLISH_SITEURL}/2024/basis/"
    title = "Artikel basis"

    linkedin = urlsplit(links["LinkedIn"])
    assert (linkedin.scheme, linkedin.netloc) == ("https", "www.linkedin.com")
    assert parse_qs(linkedin.query) == {"url": [page_url]}

    mail = urlsplit(links["E-mail"])
    assert mail.scheme == "mailto" and mail.path == ""
    # RFC 6068: a space is %20 in a mailto URL, never "+".
    assert "+" not in mail.query
    fields = {k: unquote(v) for k, v in (pair.split("=", 1) for pair in mail.query.split("&"))}
    assert fields == {"subject": title, "body": page_url}

    whatsapp = urlsplit(links["WhatsApp"])
    assert (whatsapp.scheme, whatsapp.netloc) == ("https", "wa.me")
    assert parse_qs(whatsapp.query) == {"text": [f"{title} {page_url}"]}

    for href in links.values():
        assert "utm_" not in href
    # Nothing is fetched from the networks before a click: no script, image or frame.
    for tag in soup.find_all(["script", "img", "iframe", "link", "source"]):
        address = tag.get("src") or tag.get("href") or ""
        assert not any(host in address for host in ("linkedin", "wa.me", "whatsapp"))
