"""Every content error names the file and the field; publish stops, serve goes on."""

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest
from pelican.settings import read_settings

from content_checks.content_checks import CheckedMarkdownReader, find_duplicate_slugs
from tests.support import ROOT, BuiltSite, build_site, publish_site, write_file

TEST_DATA = Path(__file__).parent / "test_data"

# case folder -> (file named in the error, words the error must contain)
CASES = {
    "bad_date": ("onleesbare-datum.md", ["field 'Date'", "volgende dinsdag", "expected"]),
    "missing_title": ("zonder-titel.md", ["field 'Title' is missing", "expected"]),
    "missing_date": ("zonder-datum.md", ["field 'Date' is missing", "expected"]),
    "unknown_author": ("onbekende-auteur.md", ["field 'Author'", "Piet Puk", "anna-jansen"]),
    "duplicate_slug": ("eerste.md", ["field 'Slug'", "dezelfde-slug", "tweede.md"]),
    "broken_filename_link": ("kapotte-link.md", ["{filename}bestaat-niet.md", "no article"]),
    "link_to_draft": ("link-naar-concept.md", ["{filename}concept.md", "draft"]),
    "missing_image": ("ontbrekende-afbeelding.md", ["{static}/images/weg.png", "does not exist"]),
    "missing_image_field": ("ontbrekende-hoofdafbeelding.md", ["field 'Image'", "does not exist"]),
    "unknown_field": ("tikfout-in-veld.md", ["unknown field 'Catgeory'", "did you mean 'Category'"]),
    "bad_series_index": ("deel-twee.md", ["field 'Series_index'", "'twee'", "whole number"]),
    "bad_comments_value": ("reacties.md", ["field 'Comments'", "misschien", "open, closed"]),
    "bad_language": ("taal-als-pad.md", ["field 'Lang'", "../../elders", "'nl-BE'"]),
}


def case_content(case: str, target: Path) -> Path:
    shutil.copytree(TEST_DATA / "common", target)
    shutil.copytree(TEST_DATA / case, target, dirs_exist_ok=True)
    return target


@pytest.mark.parametrize("case", sorted(CASES))
def test_dev_build_reports_file_and_field_and_keeps_going(case, tmp_path):
    content = case_content(case, tmp_path / "content")
    site = build_site("pelicanconf.py", tmp_path / "output", PATH=str(content))
    file_name, words = CASES[case]
    errors = [m for m in site.messages() if file_name in m]
    assert errors, f"no message names {file_name}: {site.messages()}"
    assert any(all(word in message for word in words) for message in errors), errors
    # The rest of the site is still built, so `make serve` keeps previewing.
    assert (tmp_path / "output" / "2024" / "een-goed-artikel" / "index.html").exists()


@pytest.mark.parametrize("case", sorted(CASES))
def test_publish_build_fails_and_names_the_file(case, tmp_path):
    content = case_content(case, tmp_path / "content")
    result = subprocess.run(
        [sys.executable, "-m", "pelican", "-s", str(ROOT / "publishconf.py"),
         "--fatal", "errors", "-o", str(tmp_path / "output"),
         "-e", f'PATH="{content}"'],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "COLUMNS": "400"},
    )
    assert result.returncode != 0
    assert CASES[case][0] in result.stdout + result.stderr


def test_clean_content_builds_without_any_message(tmp_path):
    shutil.copytree(TEST_DATA / "common", tmp_path / "content")
    site = build_site("pelicanconf.py", tmp_path / "output", PATH=str(tmp_path / "content"))
    assert site.messages() == []


def test_reader_keeps_the_article_out_instead_of_half_building_it(tmp_path):
    content = case_content("bad_date", tmp_path / "c")
    settings = read_settings(str(ROOT / "pelicanconf.py"), override={"PATH": str(content)})
    reader = CheckedMarkdownReader(settings)
    _content, metadata = reader.read(str(tmp_path / "c" / "articles" / "onleesbare-datum.md"))
    assert metadata["status"] == "skip"


def test_duplicate_slug_check_accepts_translations_of_one_slug():
    class Stub:
        def __init__(self, slug, lang, path):
            self.slug, self.lang, self.source_path = slug, lang, path

    same_slug_other_language = [Stub("a", "nl", "/x/a.md"), Stub("a", "en", "/x/a-en.md")]
    assert find_duplicate_slugs(same_slug_other_language) == []
    clash = [Stub("a", "nl", "/x/b.md"), Stub("a", "nl", "/x/a.md")]
    assert [[c.source_path for c in group] for group in find_duplicate_slugs(clash)] == [
        ["/x/a.md", "/x/b.md"]
    ]


# Regressions found by tests/test_hostile_input_property.py: each crashed the whole build.

def build_one_article(tmp_path, header: str, body: str = "Tekst.") -> BuiltSite:
    content = tmp_path / "content"
    write_file(content / "authors" / "anna-jansen.md", "Name: Anna Jansen\n\nBio.\n")
    write_file(content / "articles" / "stuk.md",
               f"Title: Werk\nDate: 2024-03-01 10:00\nAuthor: anna-jansen\n{header}\n\n{body}\n")
    return publish_site(tmp_path / "output", PATH=str(content), DEBUG=True)


def tracebacks(site) -> list[str]:
    return [r.getMessage() for r in site.records
            if r.exc_info or "Could not process" in r.getMessage()]


def test_an_empty_slug_is_dropped_as_pelican_does_instead_of_crashing_the_reader(tmp_path):
    site = build_one_article(tmp_path, "Slug: ")
    assert tracebacks(site) == [] and site.messages() == []
    assert (site.output / "2024" / "werk" / "index.html").exists()


@pytest.mark.parametrize("header, field", [
    ("Title: " + "Werk " * 100, "field 'Title'"),
    ("Slug: " + "w" * 300, "field 'Slug'"),
    ("Tags: " + "w" * 300, "field 'Tags'"),
    ("Category: " + "c" * 300, "field 'Category'"),
])
def test_a_slug_too_long_for_a_file_name_is_an_error_not_a_crash(tmp_path, header, field):
    site = build_one_article(tmp_path, header)
    errors = site.messages(logging.ERROR)
    assert any("stuk.md" in m and field in m and "expected at most 200" in m for m in errors), \
        errors
    assert not (site.output / "2024").exists()


def test_a_non_character_in_a_title_is_an_error_not_a_feed_that_cannot_be_written(tmp_path):
    site = build_one_article(tmp_path, "Title: Werk \ufffe")
    assert any("stuk.md" in m and "field 'Title'" in m and "U+FFFE" in m
               for m in site.messages(logging.ERROR))
    assert tracebacks(site) == []


def test_a_control_character_reference_in_a_summary_gives_feeds_that_parse(tmp_path):
    site = build_one_article(tmp_path, "Summary: vooraf &#x1b; &#xfffe; en &#1; daarna")
    assert site.messages() == []
    for feed in (site.output / "feeds").rglob("*.xml"):
        assert not feedparser.parse(feed.read_bytes()).bozo, feed
    summary = feedparser.parse((site.output / "feeds" / "alle.atom.xml").read_bytes())
    assert summary.entries[0].summary == "<p>vooraf   en  daarna</p>"


@pytest.mark.parametrize("header, body", [("Summary: " + "+ " * 600, "Tekst."),
                                          ("", "1. " * 1200)])
def test_deeply_nested_lists_are_an_error_that_names_the_file_not_a_traceback(tmp_path, header,
                                                                             body):
    site = build_one_article(tmp_path, header, body)
    assert tracebacks(site) == []
    assert any("stuk.md: the text or the Summary nests lists or quotes too deeply" in m
               for m in site.messages(logging.ERROR)), site.messages()
