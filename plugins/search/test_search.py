"""Search: what Pagefind indexes, where its bundle goes, and what the other pages load."""

import gc
import gzip
import json
import logging
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from search.search import Indexing, SearchIndexError, without_pagefind_attributes
from tests.support import ROOT, build_site, publish_site, sample_articles, write_file

TEST_DATA = Path(__file__).parent / "test_data"
ONLY_PUBLISHED = TEST_DATA / "only_published"
PUBLISHED_URL = "/2024/sparen-voor-de-kwartaalcijfers/"
# One word each, found nowhere but in what must stay out of the index.
NOT_INDEXED = {
    "zeppelinbouwer": "a draft",
    "kameleonvel": "a hidden article",
    "tijdmachinist": "a future-dated article",
    "dakgoot": "a page, named in the main menu",
    "paddenstoelsoep": "a comment",
    "fluitketel": "the author box",
}
FRAGMENT_SIGNATURE = b"pagefind_dcd"
WORD = re.compile(r"\w+")


def index_records(output: Path) -> dict[str, dict]:
    """What Pagefind stored per page: its fragments are gzipped JSON behind a signature."""
    records = {}
    for fragment in (output / "pagefind" / "fragment").iterdir():
        data = gzip.decompress(fragment.read_bytes())
        assert data.startswith(FRAGMENT_SIGNATURE), fragment
        record = json.loads(data[len(FRAGMENT_SIGNATURE):])
        records[record["url"]] = record
    return records


def page_count(output: Path) -> int:
    entry = json.loads((output / "pagefind" / "pagefind-entry.json").read_text())
    return sum(language["page_count"] for language in entry["languages"].values())


def words(text: str) -> set[str]:
    return {word.casefold() for word in WORD.findall(text)}


def leftovers(output: Path) -> list[str]:
    """Working folders of the indexing, or a bundle that was swapped out."""
    return sorted(p.name for p in output.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def only_published(tmp_path_factory):
    """The development build: drafts and future articles get pages of their own there."""
    return build_site("pelicanconf.py", tmp_path_factory.mktemp("search") / "output",
                      PATH=str(ONLY_PUBLISHED))


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return publish_site(tmp_path_factory.mktemp("search-sample") / "output")


def test_each_published_article_is_indexed_with_its_fields(only_published):
    records = index_records(only_published.output)
    assert list(records) == [PUBLISHED_URL]
    assert page_count(only_published.output) == 1
    record = records[PUBLISHED_URL]
    page = only_published.soup(PUBLISHED_URL.strip("/"))
    assert record["meta"]["title"] == page.h1.get_text() == "Sparen voor de kwartaalcijfers"
    assert record["meta"]["date"] == page.select_one(".byline time").get_text() == "12 maart 2024"
    assert record["meta"]["iso"] == "2024-03-12"
    assert record["filters"] == {"auteur": ["anna-jansen"], "categorie": ["samenwerken"],
                                 "serie": ["proefserie"]}
    content = record["content"]
    for field in ("Sparen voor de kwartaalcijfers", "samenvattingsbrug",
                  "Wie de kwartaalcijfers op een vaste plek bewaart", "Anna Jansen",
                  "Samenwerken", "Proefserie", "planning", "cijfers"):
        assert field in content, field
    assert [anchor["id"] for anchor in record["anchors"]] == ["een-vaste-plek"]
    assert only_published.messages() == []
    bundle = sorted(p.name for p in (only_published.output / "pagefind").iterdir())
    assert "pagefind.js" in bundle and not [name for name in bundle if "ui" in name], bundle


def test_only_the_article_s_own_fields_reach_the_index(only_published):
    """Navigation, the follow block, the series box, comments and the author box stay out."""
    page = only_published.soup(PUBLISHED_URL.strip("/"))
    own = " ".join(page.select_one(selector).get_text(" ")
                   for selector in ("h1", ".prose", ".tags", ".article__category", ".byline"))
    own += " samenvattingsbrug " + " ".join(
        part for part in ("Een samenvatting met het woord", "dat alleen hier staat", "Proefserie"))
    around = " ".join(page.select_one(selector).get_text(" ") for selector in (
        ".site-header", ".follow", ".author-box", ".comments", "nav.series", ".site-footer"))
    record = index_records(only_published.output)[PUBLISHED_URL]
    assert words(record["content"]) - words(own) == set()
    only_around = words(around) - words(own)
    assert len(only_around) > 40, "the article page has too little around its text to test"
    assert words(record["content"]) & only_around == set()


@pytest.mark.parametrize("word", sorted(NOT_INDEXED))
def test_what_is_not_a_published_article_is_never_indexed(only_published, word):
    shown_on = [p for p in only_published.html_pages()
                if "pagefind" not in p.parts and word in p.read_text(encoding="utf-8")]
    assert shown_on, f"the site does not show {NOT_INDEXED[word]}, so the test proves nothing"
    for record in index_records(only_published.output).values():
        assert word not in words(record["content"]), f"{NOT_INDEXED[word]} is in the index"
        assert word not in json.dumps(record, ensure_ascii=False)


def test_the_sample_site_indexes_exactly_its_published_articles(sample):
    published = sample_articles("published")
    records = index_records(sample.output)
    assert page_count(sample.output) == len(records) == len(published)
    titles = {record["meta"]["title"] for record in records.values()}
    assert titles == {article["title"] for article in published}
    for url in records:
        assert (sample.output / url.strip("/") / "index.html").is_file(), url
    assert leftovers(sample.output) == []


def test_no_page_but_the_search_page_loads_a_script_or_a_search_asset(sample):
    search_page = sample.output / "zoeken" / "index.html"
    checked = 0
    for path in sample.html_pages(emails=True):
        if "pagefind" in path.relative_to(sample.output).parts:
            continue
        soup = sample.soup(str(path.relative_to(sample.output)))
        loaded = [tag.get("src") or tag.get("href") for tag in soup.find_all(["script", "link"])
                  if tag.get("src") or tag.name == "link" and tag.get("href")]
        scripts = [tag for tag in soup.find_all("script")
                   if tag.get("type") not in ("application/ld+json", "application/json")]
        if path == search_page:
            assert [tag["src"] for tag in scripts] == ["../theme/js/search.js"]
            assert soup.select_one("[data-search]")["data-site"] == ".."
            continue
        assert scripts == [], path
        assert [url for url in loaded if "pagefind" in url or "search" in url] == [], path
        checked += 1
    assert checked > 20


def test_every_page_sends_a_search_to_the_search_page(sample):
    siteurl = sample.settings["SITEURL"]
    pages = [p for p in sample.html_pages() if p.parts[-2] != "pagina"
             and "pagefind" not in p.relative_to(sample.output).parts]
    assert len(pages) > 20
    for path in pages:
        relative = str(path.relative_to(sample.output))
        soup = sample.soup(relative)
        link = soup.select_one(".site-header .menu__search a")
        assert link and link["href"] == f"{siteurl}/zoeken/", relative
        form = soup.select_one(".site-header form[role=search]")
        if relative == "zoeken/index.html":
            assert form is None, "the search page has its own field"
            assert link.get("aria-current") == "page"
            continue
        assert form["action"] == f"{siteurl}/zoeken/" and form["method"] == "get", relative
        field = form.select_one("input[name=q]")
        assert field["type"] == "search"
        label = form.select_one(f"label[for={field['id']}]")
        assert label.get_text(strip=True) == "Zoek in alle columns"


def test_the_search_page_works_without_script_as_a_way_to_the_archive(sample):
    soup = sample.soup("zoeken/")
    assert soup.html["lang"] == "nl"
    hidden_without_script = soup.select_one("head noscript style").string
    assert ".search-form" in hidden_without_script and ".search-output" in hidden_without_script
    fallback = soup.select_one("noscript .search-fallback")
    assert "JavaScript" in fallback.p.get_text()
    targets = [urlsplit(a["href"]).path for a in fallback.select("a")]
    assert targets == ["/archief/", "/categorieen/", "/tags/"]
    for target in targets:
        assert (sample.output / target.strip("/") / "index.html").is_file()
    field = soup.select_one("#zoekterm")
    assert soup.select_one("label[for=zoekterm]").get_text(strip=True) == "Zoek in alle columns"
    assert field["name"] == "q"
    assert soup.select_one("[data-search-status]")["role"] == "status"


def test_the_filters_offer_what_the_index_holds(sample):
    soup = sample.soup("zoeken/")
    offered = {select["name"]: [o["value"] for o in select.select("option")[1:]]
               for select in soup.select(".search-filters select")}
    held = {}
    for record in index_records(sample.output).values():
        for name, values in record["filters"].items():
            held.setdefault(name, set()).update(values)
    assert {name: set(values) for name, values in offered.items()} == held
    assert set(held) == {"categorie", "auteur", "serie"}
    categories = {o.get_text() for o in soup.select("#filter-categorie option")[1:]}
    assert categories == {a["category"] for a in sample_articles("published")}
    for select in soup.select(".search-filters select"):
        assert soup.select_one(f"label[for={select['id']}]").get_text(strip=True)
    messages = json.loads(soup.select_one("#search-messages").string)
    assert messages["results"]["one"] == "{count} resultaat voor „{term}”"
    assert messages["results"]["other"] == "{count} resultaten voor „{term}”"


def test_a_rebuild_replaces_the_index_and_an_empty_site_removes_it(tmp_path):
    content = shutil.copytree(ONLY_PUBLISHED, tmp_path / "content")
    output = tmp_path / "output"
    build_site("pelicanconf.py", output, PATH=str(content))
    (content / "articles" / "concept.md").write_text(
        (content / "articles" / "concept.md").read_text().replace("Status: draft\n", ""))
    build_site("pelicanconf.py", output, PATH=str(content))
    assert sorted(index_records(output)) == ["/2024/een-concept-over-de-zeppelinbouwer/",
                                             PUBLISHED_URL]
    assert page_count(output) == 2
    assert leftovers(output) == []
    for article in ("concept.md", "sparen-voor-de-kwartaalcijfers.md"):
        (content / "articles" / article).unlink()
    build_site("pelicanconf.py", output, PATH=str(content))
    assert not (output / "pagefind").exists(), "an index of articles that are gone"
    assert leftovers(output) == []


def test_a_build_that_fails_leaves_no_pagefind_running_and_no_working_folder(tmp_path):
    indexing = Indexing(str(tmp_path), [("a/index.html", "<html lang=nl><body>tekst</body>")],
                        "nl")
    process, work = indexing.process, indexing.work
    assert work.is_dir() and work.parent == tmp_path
    del indexing
    gc.collect()
    assert process.poll() is not None
    assert not work.exists()


def test_pagefind_failing_is_reported_with_its_message(tmp_path):
    # No source documents at all: Pagefind finds no site to index and says so.
    indexing = Indexing(str(tmp_path), [], "nl")
    with pytest.raises(SearchIndexError) as failure:
        indexing.finish(tmp_path / "pagefind")
    message = str(failure.value)
    assert message.startswith("search: Pagefind could not index 0 articles (exit status ")
    assert len(message) > len("search: Pagefind could not index 0 articles (exit status 1): ")
    assert not indexing.work.exists()
    assert not (tmp_path / "pagefind").exists()


def test_a_bundle_path_outside_the_output_is_refused(tmp_path):
    site = build_site("pelicanconf.py", tmp_path / "output", PATH=str(ONLY_PUBLISHED),
                      SEARCH_BUNDLE_PATH="../elders")
    assert any("SEARCH_BUNDLE_PATH must be a folder inside the output" in m
               for m in site.messages())
    assert not (tmp_path / "elders").exists()
    assert page_count(site.output) == 1


def test_the_search_page_and_bundle_follow_the_settings(tmp_path):
    site = build_site("pelicanconf.py", tmp_path / "output", PATH=str(ONLY_PUBLISHED),
                      SEARCH_URL="vinden/", SEARCH_SAVE_AS="vinden/index.html",
                      SEARCH_BUNDLE_PATH="zoekindex")
    soup = site.soup("vinden/")
    assert soup.select_one("[data-search]")["data-bundle"] == "zoekindex"
    assert (site.output / "zoekindex" / "pagefind.js").is_file()
    assert not (site.output / "pagefind").exists()
    home = site.soup("index.html")
    action = home.select_one(".site-header form[role=search]")["action"]
    assert urljoin("https://site.example/", action) == "https://site.example/vinden/"


def test_pagefind_is_the_pinned_binary_from_the_wheel():
    import pagefind_bin

    binary = pagefind_bin.get_executable()
    assert binary.parent == Path(pagefind_bin.__file__).parent
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    pinned = re.search(r"^pagefind-bin==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M)
    assert version.stdout.split() == ["pagefind", pinned.group(1)]


def article(title: str, body: str, **fields) -> str:
    header = {"Title": title, "Date": "2024-05-01 09:00", "Author": "anna-jansen",
              "Category": "Samenwerken", **fields}
    return "".join(f"{key}: {value}\n" for key, value in header.items()) + "\n" + body + "\n"


@pytest.fixture
def content(tmp_path):
    """A private copy of the only_published content, to add cases to."""
    return shutil.copytree(ONLY_PUBLISHED, tmp_path / "content")


def test_a_translation_is_found_from_the_search_page_too(content, tmp_path):
    write_file(content / "articles" / "vertaling.md", article(
        "Saving for the quarterly figures", "Every quarter the unicornword team looks again.",
        Slug="sparen-voor-de-kwartaalcijfers", Lang="en"))
    site = build_site("pelicanconf.py", tmp_path / "output", PATH=str(content))
    entry = json.loads((site.output / "pagefind" / "pagefind-entry.json").read_text())
    assert list(entry["languages"]) == ["nl"], "the search page loads only its language's index"
    assert page_count(site.output) == 2
    assert any("unicornword" in r["content"] for r in index_records(site.output).values())


def test_content_written_into_the_index_folder_is_an_error_and_is_kept(content, tmp_path):
    write_file(content / "pages" / "pagefind.md",
               "Title: Pagefind uitgelegd\nSlug: pagefind\n\nOver de zoekmachine.\n")
    output = tmp_path / "output"
    build_site("pelicanconf.py", output, PATH=str(ONLY_PUBLISHED))  # an index is there
    site = build_site("pelicanconf.py", output, PATH=str(content))
    assert any("pages/pagefind.md: pagefind/index.html" in m and "SEARCH_BUNDLE_PATH" in m
               for m in site.messages(logging.ERROR)), site.messages()
    assert site.soup("pagefind/").h1.get_text() == "Pagefind uitgelegd"


def test_content_in_the_index_folder_is_kept_when_the_site_has_no_articles(tmp_path):
    output = tmp_path / "output"
    build_site("pelicanconf.py", output, PATH=str(ONLY_PUBLISHED))  # an index is there
    content = tmp_path / "content"
    shutil.copytree(ONLY_PUBLISHED / "authors", content / "authors")
    write_file(content / "pages" / "pagefind.md",
               "Title: Pagefind uitgelegd\nSlug: pagefind\n\nOver de zoekmachine.\n")
    site = build_site("pelicanconf.py", output, PATH=str(content))
    assert any("SEARCH_BUNDLE_PATH" in m for m in site.messages(logging.ERROR))
    assert site.soup("pagefind/").h1.get_text() == "Pagefind uitgelegd"


@pytest.mark.parametrize("folder", ["theme", "images", "images/zoek", "theme/css"])
def test_the_index_never_shares_a_folder_with_static_files(tmp_path, folder):
    site = build_site("pelicanconf.py", tmp_path / "output", PATH=str(ONLY_PUBLISHED),
                      SEARCH_BUNDLE_PATH=folder)
    assert any("not one of the static files" in m for m in site.messages(logging.ERROR))
    assert page_count(site.output) == 1  # in the default folder
    assert (site.output / "theme" / "css" / "site.css").is_file()


@pytest.mark.parametrize("case", ["a folder of pages", "a symlink"])
def test_a_folder_that_is_not_an_index_is_never_replaced(tmp_path, case):
    output = tmp_path / "output"
    elsewhere = tmp_path / "elsewhere"
    write_file(elsewhere / "bewaren.txt", "niet weggooien")
    settings = {"PATH": str(ONLY_PUBLISHED)}
    if case == "a symlink":
        output.mkdir()
        (output / "pagefind").symlink_to(elsewhere, target_is_directory=True)
        kept = elsewhere / "bewaren.txt"
    else:
        settings["SEARCH_BUNDLE_PATH"] = "categorie"
        kept = output / "categorie" / "samenwerken" / "index.html"
    site = build_site("pelicanconf.py", output, **settings)
    assert any("is not a search index of an earlier build" in m
               for m in site.messages(logging.ERROR)), site.messages()
    assert kept.is_file()
    assert leftovers(output) == []


def test_working_folders_of_runs_that_never_finished_are_removed(tmp_path):
    output = tmp_path / "output"
    killed = output / ".search-999999999-abc"  # no such process
    failed_here = output / f".search-{os.getpid()}-def"
    for folder in (killed, failed_here):
        write_file(folder / "sources" / "a" / "index.html", "<p>oud</p>")
    # The failed build's Pagefind, still running and still referred to.
    left_running = subprocess.Popen(["sleep", "60"])
    write_file(failed_here / "pagefind.pid", str(left_running.pid))
    build_site("pelicanconf.py", output, PATH=str(ONLY_PUBLISHED))
    assert leftovers(output) == []
    assert page_count(output) == 1
    with pytest.raises(ProcessLookupError):  # stopped, and reaped: no zombie
        os.kill(left_running.pid, 0)


def test_pagefind_attributes_in_an_article_cannot_change_its_result(content, tmp_path):
    write_file(content / "articles" / "geplakt.md", article(
        "Geplakte tekst", '<div data-pagefind-meta="title:Nep titel" '
        'DATA-PAGEFIND-FILTER="auteur:Nep auteur">Tekst uit een oude site.</div>\n\n'
        '<span data-pagefind-meta="date:1 januari 1900">datum</span> <b>vet</b> en meer.'))
    site = build_site("pelicanconf.py", tmp_path / "output", PATH=str(content))
    record = index_records(site.output)["/2024/geplakte-tekst/"]
    assert record["meta"]["title"] == "Geplakte tekst"
    assert record["meta"]["date"] == "1 mei 2024"
    assert record["filters"]["auteur"] == ["anna-jansen"]
    assert "Tekst uit een oude site. datum vet en meer." in record["content"]


def test_without_pagefind_attributes_keeps_everything_else():
    html = 'voor <p class="x" data-pagefind-weight="9">een <em>b</em></p> na'
    assert without_pagefind_attributes(html) == 'voor <p class="x">een <em>b</em></p> na'
    assert without_pagefind_attributes("<p>gewoon</p>") == "<p>gewoon</p>"
    # Text before the first element stays text.
    assert without_pagefind_attributes('a &lt; b <p data-pagefind-ignore>c</p>') == (
        "a &lt; b <p>c</p>")


def test_one_category_spelled_two_ways_is_one_filter(content, tmp_path):
    write_file(content / "articles" / "klein.md", article(
        "Met een kleine letter", "Samen werken.", Category="samenwerken"))
    site = build_site("pelicanconf.py", tmp_path / "output", PATH=str(content))
    records = index_records(site.output)
    assert {r["filters"]["categorie"][0] for r in records.values()} == {"samenwerken"}
    options = site.soup("zoeken/").select("#filter-categorie option")[1:]
    shown = site.soup("categorieen/").select_one("a[href$='categorie/samenwerken/']")
    assert [(o["value"], o.get_text()) for o in options] == [("samenwerken", shown.get_text())]


def test_a_site_without_articles_says_there_is_nothing_to_search(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ONLY_PUBLISHED / "authors", content / "authors")
    site = build_site("pelicanconf.py", tmp_path / "output", PATH=str(content))
    page = site.soup("zoeken/")
    assert page.select_one("main p").get_text() == "Er zijn nog geen columns om in te zoeken."
    assert page.find("script", src=True) is None and page.select_one("form.search-form") is None
    assert not (site.output / "pagefind").exists()


def test_search_without_a_page_is_off(tmp_path):
    site = build_site("pelicanconf.py", tmp_path / "output", PATH=str(ONLY_PUBLISHED),
                      SEARCH_SAVE_AS="")
    assert not (site.output / "zoeken").exists() and not (site.output / "pagefind").exists()
    home = site.soup("index.html")
    assert home.select_one(".site-search, .menu__search") is None
