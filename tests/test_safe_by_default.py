"""Safe by default: each case an attacker or a careless editor found, built for real.

Every test writes a tiny site into a temp folder, builds it with the project's
settings in this process, and parses what was written.
"""

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import feedparser
import lxml.etree
import lxml.html
import pytest
from bs4 import BeautifulSoup

from migrate import import_wordpress
from tests.support import ROOT, build_site, publish_site, write_file

AUTHOR = "Name: Anna Jansen\n\nAdviseur.\n"
ARTICLE = "Title: Met reacties\nDate: 2024-03-01 09:00\nAuthor: anna-jansen\n\nTekst.\n"
ARTICLE_PAGE = "2024/met-reacties/"


def small_site(tmp_path: Path, article: str = ARTICLE, slug: str = "met-reacties") -> Path:
    content = tmp_path / "content"
    write_file(content / "authors" / "anna-jansen.md", AUTHOR)
    write_file(content / "articles" / f"{slug}.md", article)
    return content


def comment(content: Path, name: str, text: str | bytes, article: str = "met-reacties") -> Path:
    path = content / "comments" / article / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def comment_text(comment_id: str, parent: str = "", date: str = "2024-03-02T10:00:00Z",
                 author: str = "Piet") -> str:
    parent_line = f"parent: {parent}\n" if parent else ""
    return f"id: {comment_id}\n{parent_line}author: {author}\ndate: {date}\n\nReactie {comment_id}.\n"


def errors(site) -> list[str]:
    return site.messages(logging.ERROR)


def shown_ids(site, page: str = ARTICLE_PAGE) -> list[str]:
    return [li["id"] for li in site.soup(page).select("ol.comment-list > li")]


def live_scripts(soup: BeautifulSoup) -> list:
    """Scripts but JSON-LD, and but the search page's own two (its code and its texts)."""
    theirs = []
    if soup.select_one("[data-search]"):
        theirs = [soup.select_one('script[type=module][src$="/theme/js/search.js"]'),
                  soup.select_one("script#search-messages[type='application/json']")]
    return [s for s in soup.find_all("script")
            if s.get("type") != "application/ld+json" and s not in theirs]


def event_handlers(soup: BeautifulSoup) -> list:
    return [(tag.name, name) for tag in soup.find_all(True) for name in tag.attrs
            if name.lower().startswith("on")]


# --- Stored XSS through a comment file's id ------------------------------------------

@pytest.mark.parametrize("hostile_id", [
    'q"><script>alert(1)</script><b x="',
    'x" onmouseover="alert(1)" a="',
])
def test_comment_id_that_breaks_out_of_its_attribute_is_refused(tmp_path, hostile_id):
    content = small_site(tmp_path)
    comment(content, "kwaad.md", comment_text(hostile_id))
    comment(content, "goed.md", comment_text("goed-1"))
    site = publish_site(tmp_path / "output", PATH=str(content))
    soup = site.soup(ARTICLE_PAGE)
    assert live_scripts(soup) == [] and event_handlers(soup) == []
    assert shown_ids(site) == ["reactie-goed-1"]
    assert any("kwaad.md" in m and "field 'id'" in m and "expected 1 to 64 letters" in m
               for m in errors(site)), errors(site)


# --- Stored XSS through imported names, titles and excerpts ---------------------------

@pytest.fixture(scope="module")
def imported_escaped_markup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("escaped-markup")
    content = folder / "content"
    import_wordpress(Path(__file__).parent / "test_data" /
                     "wxr_escaped_markup_in_names_titles_excerpts.xml", content)
    return publish_site(folder / "output", PATH=str(content), DEFAULT_PAGINATION=1)


IMPORTED_TITLE = "Uitleg over <script> en *sterren*"
IMPORTED_PAGES = ["2021/uitleg-over-script/", "categorie/teamwerk/", "pagina/2/",
                  "auteur/jan/"]


@pytest.mark.parametrize("page", IMPORTED_PAGES)
def test_imported_name_title_and_excerpt_with_escaped_markup_stay_text(imported_escaped_markup,
                                                                       page):
    soup = imported_escaped_markup.soup(page)
    assert live_scripts(soup) == [] and event_handlers(soup) == []
    assert soup.find("img", src="x") is None
    author_links = [a.get_text() for a in soup.select("a[rel=author]")]
    assert author_links and all(name == "Jan <img src=x onerror=alert(2)>"
                                for name in author_links)


def test_imported_title_with_escaped_markup_keeps_every_character(imported_escaped_markup):
    soup = imported_escaped_markup.soup("2021/uitleg-over-script/")
    assert soup.select_one("main h1").get_text() == IMPORTED_TITLE
    assert soup.title.get_text().startswith(IMPORTED_TITLE)
    jsonld = json.loads(soup.find("script", type="application/ld+json").string)
    assert jsonld["headline"] == IMPORTED_TITLE
    box = soup.select_one(".author-box h2 a")
    assert box.get_text().startswith("Jan <img") and box.find("img") is None


@pytest.mark.parametrize("feed", ["feeds/alle.atom.xml", "feeds/alle.rss.xml"])
def test_imported_excerpt_with_escaped_markup_stays_text_in_the_feeds(imported_escaped_markup,
                                                                      feed):
    parsed = feedparser.parse((imported_escaped_markup.output / feed).read_bytes())
    assert not parsed.bozo, parsed.bozo_exception
    entry = next(e for e in parsed.entries if e.link.endswith("/2021/uitleg-over-script/"))
    assert entry.title == IMPORTED_TITLE
    summary = lxml.html.fragment_fromstring(entry.summary, create_parent="div")
    assert summary.xpath("//img") == []
    assert "Wat <img src=x onerror=alert(1)> doet" in summary.text_content()


def test_imported_author_name_stays_text_in_the_email_edition(imported_escaped_markup):
    edition = imported_escaped_markup.soup("nieuwsbrief/uitleg-over-script/")
    assert live_scripts(edition) == [] and event_handlers(edition) == []
    assert edition.find("img", src="x") is None
    assert "Jan <img src=x onerror=alert(2" in edition.get_text()
    assert edition.h1.get_text() == IMPORTED_TITLE


def test_imported_text_that_breaks_out_of_markdown_stays_inert(tmp_path):
    content = tmp_path / "content"
    report, _ = import_wordpress(Path(__file__).parent / "test_data" /
                                 "wxr_markdown_breakouts_in_code_alt_and_links.xml", content)
    site = publish_site(tmp_path / "output", PATH=str(content))
    for page in site.html_pages(emails=True):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        assert live_scripts(soup) == [] and event_handlers(soup) == [], page
        assert soup.find(["svg", "iframe"]) is None, page
    article = site.soup("2020/markdown-uitgelegd/")
    assert "onerror=alert(1)" in article.select_one("main pre").get_text()
    assert report.removed["bodies kept as cleaned HTML"] == 1


# --- One bad comment file never stops the build ---------------------------------------

def test_naive_and_aware_comment_dates_side_by_side_both_show(tmp_path):
    content = small_site(tmp_path)
    comment(content, "a.md", comment_text("a", date="2024-03-02 10:00"))
    comment(content, "b.md", comment_text("b", date="2024-03-02T09:00:00+02:00"))
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert errors(site) == []
    # 09:00+02:00 is 07:00 UTC: it came first.
    assert shown_ids(site) == ["reactie-b", "reactie-a"]


@pytest.mark.parametrize("name, data, expected", [
    ("zone-buiten-bereik.md", comment_text("z", date="2024-03-02T10:00:00+25:00"),
     "field 'date' is '2024-03-02T10:00:00+25:00'"),
    ("latin1.md", comment_text("l", author="Jos\xe9").encode("latin-1"),
     "byte 0xe9 at position"),
    ("jaar-nul.md", comment_text("j", date="0001-01-01T00:00:00+01:00"),
     "field 'date' is '0001-01-01T00:00:00+01:00'"),
])
def test_bad_comment_file_is_left_out_with_an_error_that_names_it(tmp_path, name, data,
                                                                  expected):
    content = small_site(tmp_path)
    comment(content, name, data)
    comment(content, "goed.md", comment_text("goed"))
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert shown_ids(site) == ["reactie-goed"]
    assert any(name in m and expected in m for m in errors(site)), errors(site)


def test_reply_chain_1200_deep_is_threaded_without_recursion(tmp_path):
    content = small_site(tmp_path)
    for number in range(1200):
        parent = f"c{number - 1}" if number else ""
        comment(content, f"c{number}.md",
                comment_text(f"c{number}", parent=parent,
                             date=f"2024-03-02T10:{number // 60 % 60:02d}:{number % 60:02d}Z"))
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert errors(site) == []
    items = site.soup(ARTICLE_PAGE).select("ol.comment-list > li")
    assert len(items) == 1200
    assert [li["class"][1] for li in items[:5]] == [
        "comment--depth-1", "comment--depth-2", "comment--depth-3", "comment--depth-4",
        "comment--depth-4"]


def test_a_bad_comment_file_does_not_stop_the_next_rebuild(tmp_path):
    """``make serve`` rebuilds in one process; a bad file must not end that loop."""
    content = small_site(tmp_path)
    comment(content, "kapot.md", comment_text("k", date="2024-03-02T10:00:00+25:00"))
    first = build_site("pelicanconf.py", tmp_path / "output", PATH=str(content))
    comment(content, "kapot.md", comment_text("k"))
    second = build_site("pelicanconf.py", tmp_path / "output", PATH=str(content))
    assert any("kapot.md" in m for m in errors(first))
    assert errors(second) == [] and shown_ids(second) == ["reactie-k"]


# --- Comments are never lost or doubled in silence --------------------------------------

def test_parent_cycle_is_reported_and_both_comments_still_show(tmp_path):
    content = small_site(tmp_path)
    comment(content, "a.md", comment_text("a", parent="b"))
    comment(content, "b.md", comment_text("b", parent="a", date="2024-03-02T11:00:00Z"))
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert shown_ids(site) == ["reactie-a", "reactie-b"]
    cycle = [m for m in errors(site) if "cycle of replies" in m]
    assert len(cycle) == 2 and all("a.md" in m and "b.md" in m for m in cycle)


def test_self_parent_is_reported_and_the_comment_still_shows(tmp_path):
    content = small_site(tmp_path)
    comment(content, "a.md", comment_text("a", parent="a"))
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert shown_ids(site) == ["reactie-a"]
    assert any("a.md" in m and "field 'parent' is its own id" in m for m in errors(site))


def test_two_files_with_one_id_show_one_comment_and_one_reply(tmp_path):
    content = small_site(tmp_path)
    comment(content, "a.md", comment_text("a"))
    comment(content, "a-kopie.md", comment_text("a", date="2024-03-02T12:00:00Z"))
    comment(content, "kind.md", comment_text("kind", parent="a", date="2024-03-03T10:00:00Z"))
    site = publish_site(tmp_path / "output", PATH=str(content))
    soup = site.soup(ARTICLE_PAGE)
    assert shown_ids(site) == ["reactie-a", "reactie-kind"]
    ids = [tag["id"] for tag in soup.find_all(id=True)]
    assert len(ids) == len(set(ids))
    assert soup.select_one("#reacties h2").get_text() == "Reacties (2)"
    assert any("a.md" in m and "a-kopie.md" in m and "field 'id'" in m for m in errors(site))


def test_address_in_a_comment_body_is_not_published(tmp_path):
    content = small_site(tmp_path)
    comment(content, "a.md", comment_text("a").replace(
        "Reactie a.", "Mail me: piet@voorbeeld.example of [hier](mailto:piet@voorbeeld.example)."))
    site = publish_site(tmp_path / "output", PATH=str(content))
    page = (site.output / ARTICLE_PAGE / "index.html").read_text(encoding="utf-8")
    assert "piet@voorbeeld.example" not in page and "mailto:piet" not in page
    assert "[e-mailadres verwijderd]" in site.soup(ARTICLE_PAGE).select_one(
        "#reactie-a .comment__body").get_text()


def test_comments_in_a_folder_no_article_has_are_an_error_with_a_suggestion(tmp_path):
    content = small_site(tmp_path)
    comment(content, "a.md", comment_text("a"), article="met-reactis")
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert any("met-reactis" in m and "no article has the slug" in m
               and "did you mean 'met-reacties'" in m for m in errors(site)), errors(site)


def test_reply_to_a_parent_no_file_has_is_shown_with_a_warning(tmp_path):
    content = small_site(tmp_path)
    comment(content, "a.md", comment_text("a", parent="bestaat-niet"))
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert shown_ids(site) == ["reactie-a"]
    assert any("a.md" in m and "'bestaat-niet', which no comment of this article has" in m
               for m in site.messages(logging.WARNING)), site.messages()


def test_comment_dates_are_shown_in_the_sites_time_zone(tmp_path):
    content = small_site(tmp_path)
    comment(content, "laat.md", comment_text("laat", date="2024-03-11T23:30:00Z"))
    site = publish_site(tmp_path / "output", PATH=str(content))
    time = site.soup(ARTICLE_PAGE).select_one("#reactie-laat time")
    assert time.get_text() == "12 maart 2024"  # 00:30 in Amsterdam
    assert time["datetime"] == "2024-03-12T00:30:00+01:00"


@pytest.mark.parametrize("written", ["jan&#64;voorbeeld.example", "jan@voorbeeld\\.example",
                                     "jan@voorbeeld<em>.</em>example", "10&#46;0.0.1"])
def test_address_that_only_appears_once_rendered_is_not_published(tmp_path, written):
    content = small_site(tmp_path)
    comment(content, "a.md", comment_text("a").replace("Reactie a.", f"Schrijf naar {written}."))
    site = publish_site(tmp_path / "output", PATH=str(content))
    text = site.soup(ARTICLE_PAGE).select_one("#reactie-a .comment__body").get_text()
    assert "jan@voorbeeld.example" not in text and "10.0.0.1" not in text
    assert "verwijderd]" in text


def test_comment_from_the_year_9999_is_an_error_not_a_crash(tmp_path):
    content = small_site(tmp_path)
    comment(content, "ver.md", comment_text("ver", date="9999-12-31T23:30:00Z"))
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert shown_ids(site) == []
    assert any("ver.md" in m and "the year is not between" in m for m in errors(site))


def test_address_in_a_commenters_link_is_not_published(tmp_path):
    content = small_site(tmp_path)
    comment(content, "a.md", comment_text("a").replace(
        "date:", "author_url: https://x.example/?mail=jan@voorbeeld.example\ndate:"))
    site = publish_site(tmp_path / "output", PATH=str(content))
    page = (site.output / ARTICLE_PAGE / "index.html").read_text(encoding="utf-8")
    assert "jan@voorbeeld.example" not in page and shown_ids(site) == ["reactie-a"]


def test_a_symlinked_comment_file_is_not_followed(tmp_path):
    content = small_site(tmp_path)
    outside = write_file(tmp_path / "buiten.md", comment_text("buiten"))
    (content / "comments" / "met-reacties").mkdir(parents=True)
    (content / "comments" / "met-reacties" / "buiten.md").symlink_to(outside)
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert shown_ids(site) == []
    assert any("buiten.md" in m and "not a plain file" in m for m in errors(site))


def test_reply_link_subject_carries_the_title_escaped_once(tmp_path):
    content = small_site(tmp_path, ARTICLE.replace("Met reacties", "Tom & Jerry"),
                         slug="tom-jerry")
    # The mailto: invite is there without a reaction service.
    site = publish_site(tmp_path / "output", PATH=str(content), REACTIONS_ENDPOINT="")
    invite = site.soup("2024/tom-jerry/").select_one(".comment-invite a")["href"]
    assert "subject=Reactie%20op%3A%20Tom%20%26%20Jerry" in invite, invite


# --- Content errors name the file --------------------------------------------------------

@pytest.mark.parametrize("name, field, error", [
    ("indringer", "Slug: ../2024/met-reacties", "field 'Slug' is '../2024/met-reacties'"),
    ("kaper", "Save_as: 2024/met-reacties/index.html", "unknown field 'Save_as'"),
])
def test_a_slug_or_save_as_cannot_write_over_another_page(tmp_path, name, field, error):
    content = small_site(tmp_path)
    write_file(content / "articles" / f"{name}.md",
               f"Title: {name.capitalize()}\nDate: 2024-04-01\nAuthor: anna-jansen\n"
               f"{field}\n\nNiet mijn pagina.\n")
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert site.soup(ARTICLE_PAGE).select_one("main h1").get_text() == "Met reacties"
    assert any(f"{name}.md" in m and error in m for m in errors(site)), errors(site)


def test_title_continued_on_a_second_line_reads_as_one_title(tmp_path):
    content = small_site(tmp_path, ARTICLE.replace("Title: Met reacties\n",
                                                   "Title: Eerste regel\n    tweede regel\n"),
                         slug="eerste-regel-tweede-regel")
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert errors(site) == []
    assert site.soup("2024/eerste-regel-tweede-regel/").select_one(
        "main h1").get_text() == "Eerste regel tweede regel"


@pytest.mark.parametrize("tag", ["</script>", "🎉"])
def test_tag_without_letters_or_digits_is_an_error_not_a_link_to_tag_slash_slash(tmp_path, tag):
    content = small_site(tmp_path, ARTICLE.replace("Author:", f"Tags: werk, {tag}\nAuthor:"))
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert not (site.output / "tag" / "index.html").exists()
    for page in site.html_pages():
        assert 'tag//' not in page.read_text(encoding="utf-8"), page
    assert any("met-reacties.md" in m and "field 'Tags'" in m for m in errors(site)), errors(site)


def test_title_without_letters_or_digits_is_an_error_that_asks_for_a_slug(tmp_path):
    content = small_site(tmp_path, ARTICLE.replace("Title: Met reacties", "Title: 🎉"))
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert any("met-reacties.md" in m and "gives an empty slug" in m and "Slug:" in m
               for m in errors(site)), errors(site)


def test_publish_stops_on_a_content_error_and_names_the_file(tmp_path):
    content = small_site(tmp_path, ARTICLE.replace("Author:", "Tags: </script>\nAuthor:"))
    result = subprocess.run(
        [sys.executable, "-m", "pelican", "-s", str(ROOT / "publishconf.py"), "--fatal",
         "errors", "-e", f'PATH="{content}"', "-o", str(tmp_path / "output")],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "met-reacties.md" in result.stdout + result.stderr


@pytest.mark.parametrize("slug", ["auteurs", "archief", "nieuwsbrief", "feeds"])
def test_page_named_after_a_folder_of_the_site_is_an_error_not_a_crash(tmp_path, slug):
    content = small_site(tmp_path)
    write_file(content / "pages" / f"{slug}.md", f"Title: Onze {slug}\nSlug: {slug}\n\nTekst.\n")
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert any(f"{slug}.md" in m and "the folder of the site's own" in m for m in errors(site))
    index = site.output / slug / "index.html"
    assert not index.exists() or "Onze" not in index.read_text(encoding="utf-8")



def test_two_spellings_of_one_series_slug_are_one_series_with_an_error(tmp_path):
    content = small_site(tmp_path, ARTICLE.replace("Author:", "Series: Mijn serie\nAuthor:"))
    write_file(content / "articles" / "twee.md",
               "Title: Twee\nDate: 2024-04-01\nAuthor: anna-jansen\nSeries: Mijn Serie!\n\nT.\n")
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert (site.output / "serie" / "mijn-serie" / "index.html").exists()
    assert any("twee.md" in m and "did you mean 'Mijn serie'" in m for m in errors(site))


@pytest.mark.parametrize("folder, text", [
    ("authors/anna-jansen.md", "Name: Anna \x01Jansen\n\nBio.\n"),
    ("series/mijn-serie.md", "Title: Mijn \x01serie\nPlanned: ² | Later\n\nIntro.\n"),
])
def test_bad_author_or_series_file_is_an_error_not_a_crash(tmp_path, folder, text):
    content = small_site(tmp_path, ARTICLE.replace("Author:", "Series: Mijn serie\nAuthor:"))
    write_file(content / folder, text)
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert any(folder.split("/")[1] in m for m in errors(site)), errors(site)
    for feed in (site.output / "feeds").rglob("*.xml"):
        lxml.etree.parse(str(feed))


# --- A code example is never rewritten -------------------------------------------------------

CODE_EXAMPLE = ("Title: Codevoorbeeld\nDate: 2024-05-01\nAuthor: anna-jansen\n\n"
                "Schrijf `<a href=\"/contact/\">` voor een link en `<img src=\"foto.jpg\">` "
                "voor een foto.\n\n    <a href=\"/over-ons/\">blok</a>\n")


def test_code_example_with_a_link_and_an_image_is_no_error_and_stays_as_written(tmp_path):
    content = small_site(tmp_path, CODE_EXAMPLE, slug="codevoorbeeld")
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert errors(site) == []
    for feed in ("feeds/alle.atom.xml", "feeds/alle.rss.xml"):
        root = lxml.etree.parse(str(site.output / feed))
        html = "".join(root.xpath("//*[local-name()='content' or local-name()='encoded']/text()"))
        fragment = lxml.html.fragment_fromstring(html, create_parent="div")
        codes = [code.text_content() for code in fragment.iter("code")]
        assert '<a href="/contact/">' in codes and '<img src="foto.jpg">' in codes, codes
        assert '<a href="/over-ons/">blok</a>' in "".join(codes)


# --- Plugins stand alone ------------------------------------------------------------------------

ALL_PLUGINS = ["site_nl", "authors", "content_checks", "comments", "feeds", "blog_series",
               "follow", "pelican.plugins.sitemap"]
# The theme formats dates and translates with site_nl, so every valid subset holds it.
SUBSETS = [[p for p in ALL_PLUGINS if p != left_out] for left_out in ALL_PLUGINS[1:]]
SUBSETS += [["site_nl"]]
# Fields of the sample content that only a left-out plugin knows.
FIELDS_OF = {"blog_series": ("Series", "Series_index", "Next"), "comments": ("Comments",)}


def pelican_command(output: Path, *settings: str) -> list[str]:
    overrides = [part for setting in settings for part in ("-e", setting)]
    return [sys.executable, "-m", "pelican", "-s", str(ROOT / "pelicanconf.py"), *overrides,
            "-o", str(output)]


@pytest.fixture(scope="module")
def subset_builds(tmp_path_factory):
    """Each subset built in its own process: Pelican's signals outlive a build in-process."""
    folder = tmp_path_factory.mktemp("subsets")
    running = {}
    for number, plugins in enumerate(SUBSETS):
        command = pelican_command(folder / str(number), f"PLUGINS={json.dumps(plugins)}")
        running[tuple(plugins)] = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "COLUMNS": "1000"})
        if len(running) % 2 == 0:  # two at a time: this machine has two cores
            for process in running.values():
                process.wait()
    return {plugins: (process.communicate(timeout=300)[0], process.returncode,
                      folder / str(number))
            for number, (plugins, process) in enumerate(running.items())}


@pytest.mark.parametrize("plugins", SUBSETS, ids=["+".join(s) for s in SUBSETS])
def test_the_sample_site_builds_with_every_valid_subset_of_plugins(subset_builds, plugins):
    output, code, folder = subset_builds[tuple(plugins)]
    assert code == 0 and "Traceback" not in output, output
    assert (folder / "index.html").exists() and (folder / "2025").is_dir()
    left_out = [name for name in FIELDS_OF if name not in plugins]
    expected = [f"unknown field '{field}'" for name in left_out for field in FIELDS_OF[name]]
    for line in output.splitlines():
        if re.search(r"\b(ERROR|CRITICAL)\b", line):
            assert "content_checks" in plugins and any(e in line for e in expected), line


def test_a_plugin_without_a_plugin_it_needs_stops_with_one_clear_error(tmp_path):
    result = subprocess.run(pelican_command(tmp_path / "output", 'PLUGINS=["blog_series"]'),
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    # Pelican prints the traceback of what stopped it; the message is the one line above it.
    assert output.count("blog_series: needs the site_nl plugin") == 1
    assert output.count("CRITICAL") == 1 and "ERROR" not in output
