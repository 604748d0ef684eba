"""Search in Debian's Chromium: typing on /zoeken/, filters, drafts, no JavaScript, weight.

The expectations come from the sample content's Markdown, read independently of
Pelican and Pagefind: which articles hold a word, which series they are in.
"""

import datetime
import re
import shutil
from urllib.parse import parse_qs, urlsplit

import pytest
from babel.dates import format_date

from tests import test_browser
from tests.support import build_site, sample_articles, write_file
from tests.test_axe import WIDTHS, axe_violations
from tests.test_browser import serve_folder

pytestmark = pytest.mark.browser

site_url = test_browser.site_url
WORD = re.compile(r"\w+")
RESULTS = ".search-result"
STATUS = "[data-search-status]"


def searchable_words(article: dict) -> set[str]:
    """The words of what the index is said to hold: title, summary, text, names, tags."""
    fields = [article.get(key, "") for key in
              ("title", "summary", "body", "category", "series", "tags", "author")]
    return {word.casefold() for word in WORD.findall(" ".join(map(str, fields)))}


@pytest.fixture(scope="module")
def articles(dev_site):
    """The published sample articles, each with the path of its page on the site."""
    by_title = {}
    for path in dev_site.html_pages():
        relative = path.relative_to(dev_site.output)
        if relative.parts[0].isdigit():
            by_title[dev_site.soup(str(relative)).h1.get_text()] = f"/{relative.parent}/"
    found = []
    for article in sample_articles("published"):
        found.append({**article, "url": by_title[article["title"]],
                      "words": searchable_words(article)})
    return found


def open_search(browser, url, viewport="desktop", **options):
    context = browser.new_context(viewport=WIDTHS[viewport], **options)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    return context, page, errors


def type_and_wait(page, text: str) -> str:
    """Type like a reader, then wait until the status speaks of this search."""
    field = page.locator("#zoekterm")
    field.fill("")
    field.press_sequentially(text, delay=40)
    page.wait_for_function(
        "([selector, term]) => document.querySelector(selector).textContent.includes(term)",
        arg=[STATUS, f"„{text}”"])
    return page.locator(STATUS).inner_text()


def result_paths(page) -> list[str]:
    return [urlsplit(href).path for href in
            page.locator(f"{RESULTS} h2 a").evaluate_all("links => links.map(a => a.href)")]


def test_typing_klanten_finds_the_columns_about_klantgerichtheid(browser, site_url, articles):
    context, page, errors = open_search(browser, site_url + "/zoeken/")
    status = type_and_wait(page, "klanten")
    expected = {a["url"] for a in articles if any(w.startswith("klant") for w in a["words"])}
    about = {a["url"] for a in articles if a.get("category") == "Klantgerichtheid"}
    assert about and about <= expected
    found = result_paths(page)
    assert set(found) == expected and len(found) == len(expected)
    assert status == f"{len(expected)} resultaten voor „klanten”"
    by_url = {a["url"]: a for a in articles}
    for item in page.locator(RESULTS).all():
        path = urlsplit(item.locator("h2 a").evaluate("a => a.href")).path
        article = by_url[path]
        assert item.locator("h2 a").inner_text() == article["title"]
        day = datetime.date.fromisoformat(article["date"][:10])
        written = format_date(day, "long", locale="nl")
        assert item.locator("time").inner_text() == written
        marks = item.locator(".search-result__excerpt mark").all_inner_texts()
        assert marks and all(m.casefold().startswith("klant") for m in marks), marks
    assert parse_qs(urlsplit(page.url).query) == {"q": ["klanten"]}
    assert errors == []
    context.close()


def test_a_word_is_found_in_its_other_forms(browser, site_url, articles):
    only_singular = {a["url"] for a in articles
                     if "vergadering" in a["words"] and "vergaderingen" not in a["words"]}
    assert only_singular, "no sample article has only 'vergadering'; the test proves nothing"
    context, page, _ = open_search(browser, site_url + "/zoeken/")
    type_and_wait(page, "vergaderingen")
    assert only_singular <= set(result_paths(page))
    context.close()


def test_a_series_filter_narrows_the_results(browser, site_url, articles):
    context, page, errors = open_search(browser, site_url + "/zoeken/?q=klanten")
    page.wait_for_selector(RESULTS)
    options = page.locator("#filter-serie option").all_inner_texts()[1:]
    series = next(name for name in options
                  if any(a.get("series") == name for a in articles))
    before = page.locator(STATUS).inner_text()
    page.locator("#filter-serie").select_option(label=series)
    page.wait_for_function("([selector, before]) => document.querySelector(selector)"
                           ".textContent !== before", arg=[STATUS, before])
    expected = {a["url"] for a in articles if a.get("series") == series
                and any(w.startswith("klant") for w in a["words"])}
    assert expected and set(result_paths(page)) == expected
    assert len(expected) < len({a["url"] for a in articles
                                if any(w.startswith("klant") for w in a["words"])})
    series_slug = page.locator("#filter-serie").input_value()
    assert parse_qs(urlsplit(page.url).query) == {"q": ["klanten"], "serie": [series_slug]}
    # Without a word, the filter alone lists the whole series.
    page.locator("#zoekterm").fill("")
    page.locator("#zoekterm").press("Enter")
    page.wait_for_function("selector => document.querySelector(selector).textContent"
                           ".includes('in deze selectie')", arg=STATUS)
    in_series = sorted((a for a in articles if a.get("series") == series),
                       key=lambda a: a["date"], reverse=True)
    assert result_paths(page) == [a["url"] for a in in_series], "newest first"
    assert errors == []
    context.close()


def test_a_word_only_a_draft_holds_finds_nothing(browser, site_url, dev_site, articles):
    drafts = sample_articles("draft")
    assert drafts, "the sample site has no draft"
    published_words = set().union(*(a["words"] for a in articles))
    # Pagefind stems and completes the last word, and splits a word it does not know
    # into words it does ("aantekeningen" finds "aan"). So no published word may share
    # the draft word's first letters, or be part of it.
    unique = sorted(w for w in searchable_words(drafts[0]) if len(w) > 6 and w.isalpha()
                    and not any(p.startswith(w[:5]) or len(p) > 1 and p in w
                                for p in published_words))
    assert unique, "the draft has no word of its own"
    draft_pages = [p for p in dev_site.html_pages() if "drafts" in p.parts
                   and unique[0] in p.read_text(encoding="utf-8").casefold()]
    assert draft_pages, "the development site does not show the draft"
    context, page, _ = open_search(browser, site_url + "/zoeken/")
    status = type_and_wait(page, unique[0])
    assert status.startswith(f"Geen resultaten voor „{unique[0]}”")
    assert page.locator(RESULTS).count() == 0
    context.close()


def test_the_search_is_used_from_the_keyboard_without_reloading(browser, site_url):
    context, page, _ = open_search(browser, site_url + "/zoeken/")
    page.evaluate("window.notReloaded = true")
    page.keyboard.press("Tab")  # the skip link comes first
    page.keyboard.press("Enter")
    for _ in range(12):
        if page.evaluate("document.activeElement.id") == "zoekterm":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "zoekterm"
    page.keyboard.type("feedback")
    page.keyboard.press("Enter")
    page.wait_for_selector(RESULTS)
    assert page.evaluate("window.notReloaded") is True
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Zoeken"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "filter-categorie"
    context.close()


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_axe_finds_no_violations_on_the_search_page_with_results(browser, site_url, viewport):
    context, page, _ = open_search(browser, site_url + "/zoeken/?q=klanten", viewport)
    page.wait_for_selector(RESULTS)
    violations = axe_violations(page)
    context.close()
    assert violations == [], "\n".join(violations)


def test_without_javascript_the_search_page_leads_to_the_archive(browser, site_url, articles):
    context, page, _ = open_search(browser, site_url + articles[0]["url"],
                                   java_script_enabled=False)
    page.locator(".site-header input[name=q]").fill("klanten")
    page.locator(".site-header input[name=q]").press("Enter")
    page.wait_for_url("**/zoeken/?q=klanten")
    assert not page.locator("form.search-form").is_visible()
    fallback = page.locator(".search-fallback")
    assert fallback.is_visible() and "JavaScript" in fallback.inner_text()
    fallback.get_by_role("link", name="het archief, op datum").click()
    page.wait_for_url("**/archief/")
    assert page.locator("h1").inner_text() == "Archief"
    context.close()


@pytest.mark.parametrize("viewport, field_shown", [("phone", False), ("small-phone", False),
                                                   ("tablet", True), ("desktop", True)])
def test_the_header_has_a_field_on_wide_screens_and_a_link_on_narrow_ones(
        browser, site_url, articles, viewport, field_shown):
    context, page, _ = open_search(browser, site_url + articles[0]["url"], viewport)
    assert page.locator(".site-header form[role=search]").is_visible() is field_shown
    link = page.locator(".site-header .menu__search a")
    assert link.is_visible() is not field_shown
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[viewport]["width"]
    if field_shown:
        page.locator(".site-header input[name=q]").fill("feedback")
        page.locator(".site-header button[type=submit]").click()
    else:
        link.click()
        page.locator("#zoekterm").fill("feedback")
        page.locator("#zoekterm").press("Enter")
    page.wait_for_selector(RESULTS)
    assert page.locator("#zoekterm").input_value() == "feedback"
    assert page.evaluate("document.activeElement.id") == "zoekterm"
    current = page.locator(".site-header .menu__search a[aria-current=page]")
    assert current.is_visible(), "the menu marks the search page at every width"
    assert not page.locator(".site-header form[role=search]").count()
    context.close()


def test_an_article_page_requests_no_search_asset(browser, site_url, articles):
    context = browser.new_context(viewport=WIDTHS["desktop"])
    page = context.new_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    for article in articles:
        page.goto(site_url + article["url"], wait_until="networkidle")
    page.goto(site_url + "/", wait_until="networkidle")
    assert len(requested) >= len(articles) + 1
    assert [u for u in requested if "pagefind" in u or "search" in u] == []
    # The search page does load them: the check above looks at the right names.
    page.goto(site_url + "/zoeken/?q=klanten", wait_until="networkidle")
    page.wait_for_selector(RESULTS)
    assert any("/pagefind/pagefind.js" in u for u in requested)
    assert any(u.endswith("/theme/js/search.js") for u in requested)
    context.close()


def test_without_an_index_the_search_page_says_so_and_offers_the_archive(
        browser, dev_site, tmp_path):
    site = shutil.copytree(dev_site.output, tmp_path / "site")
    shutil.rmtree(site / "pagefind")
    with serve_folder(site) as url:
        context, page, _ = open_search(browser, url + "/zoeken/?q=klanten")
        notice = page.locator("[data-search-unavailable]")
        notice.wait_for(state="visible")
        assert "Zoeken lukt nu even niet" in notice.inner_text()
        assert notice.get_by_role("link").all_inner_texts() == [
            "het archief, op datum", "de categorieën", "de tags"]
        assert not page.locator("form.search-form").is_visible()
        context.close()


def test_a_selection_without_columns_says_so(browser, site_url, articles):
    context, page, _ = open_search(browser, site_url + "/zoeken/")
    series = page.locator("#filter-serie option").nth(1)
    in_series = {a.get("category") for a in articles if a.get("series") == series.inner_text()}
    other = next(o for o in page.locator("#filter-categorie option").all()[1:]
                 if o.inner_text() not in in_series)
    page.locator("#filter-serie").select_option(series.get_attribute("value"))
    page.locator("#filter-categorie").select_option(other.get_attribute("value"))
    page.wait_for_function("selector => document.querySelector(selector).textContent"
                           " === 'Geen columns in deze selectie.'", arg=STATUS)
    assert page.locator(RESULTS).count() == 0
    context.close()


def test_an_unknown_filter_in_the_address_is_dropped(browser, site_url):
    context, page, _ = open_search(browser, site_url + "/zoeken/?q=feedback&categorie=onbekend")
    page.wait_for_selector(RESULTS)
    assert page.locator("#filter-categorie").input_value() == ""
    assert page.locator("#filter-categorie option:checked").inner_text() == "Alle categorieën"
    assert parse_qs(urlsplit(page.url).query) == {"q": ["feedback"]}
    page.goto(site_url + "/zoeken/?categorie=Onbekend")
    page.wait_for_function("() => !location.search")
    assert page.locator("#filter-categorie").input_value() == ""
    context.close()


@pytest.fixture(scope="module")
def many_matches(tmp_path_factory):
    """25 columns that all hold one word: more than one page of results."""
    content = tmp_path_factory.mktemp("many") / "content"
    write_file(content / "authors" / "anna-jansen.md", "Name: Anna Jansen\n\nSchrijft.\n")
    for number in range(25):
        write_file(content / "articles" / f"stuk-{number:02}.md",
                   f"Title: Overleg nummer {number}\nDate: 2024-01-{number + 1:02} 09:00\n"
                   f"Author: anna-jansen\nCategory: Samenwerken\n\n"
                   f"Over het werkoverleg van week {number}.\n")
    return build_site("pelicanconf.py", content.parent / "output", PATH=str(content))


def test_more_results_come_once_each_however_fast_one_clicks(browser, many_matches):
    with serve_folder(many_matches.output) as url:
        context, page, errors = open_search(browser, url + "/zoeken/")
        status = type_and_wait(page, "werkoverleg")
        assert status == "25 resultaten voor „werkoverleg”"
        assert page.locator(RESULTS).count() == 10
        page.locator("[data-search-more]").dblclick()
        page.wait_for_function("n => document.querySelectorAll('.search-result').length >= n",
                               arg=20)
        page.wait_for_timeout(300)
        if page.locator("[data-search-more]").is_visible():
            page.locator("[data-search-more]").click()
        page.wait_for_function("n => document.querySelectorAll('.search-result').length >= n",
                               arg=25)
        paths = result_paths(page)
        assert len(paths) == len(set(paths)) == 25
        assert not page.locator("[data-search-more]").is_visible()
        # Back from the 21st result shows all 25 again, not the first 10.
        page.locator(RESULTS).nth(20).locator("h2 a").click()
        page.wait_for_url(f"**{paths[20]}")
        page.go_back()
        page.wait_for_function("n => document.querySelectorAll('.search-result').length >= n",
                               arg=25)
        assert result_paths(page) == paths
        assert errors == []
        context.close()


@pytest.fixture(scope="module")
def published_url(published_site):
    with serve_folder(published_site.output) as url:
        yield url


def test_the_published_build_searches_on_a_host_other_than_its_siteurl(
        browser, published_url, published_site):
    """www or not, http or https: the page loads its script and index from where it is."""
    assert not published_url.startswith(published_site.settings["SITEURL"])
    context, page, errors = open_search(browser, published_url + "/zoeken/")
    type_and_wait(page, "feedback")
    links = page.locator(f"{RESULTS} h2 a").evaluate_all("links => links.map(a => a.href)")
    assert links and all(link.startswith(published_url + "/") for link in links)
    assert errors == []
    context.close()
