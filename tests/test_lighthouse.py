"""Lighthouse in Debian's Chromium: the search page scores what an article page scores.

Both pages come from the development build served locally, so both miss the same
SEO point (a relative canonical link); the comparison is between equals.
"""

import json
import subprocess

import pytest

from tests import test_browser
from tests.tools import CHROMIUM_ARGS, chromium, node_and_lighthouse

pytestmark = pytest.mark.browser

site_url = test_browser.site_url
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def lighthouse_scores(url: str, report) -> dict[str, float]:
    node, cli = node_and_lighthouse()
    flags = " ".join(["--headless=new", *CHROMIUM_ARGS])
    subprocess.run(
        [node, str(cli), url, f"--chrome-path={chromium()}", f"--chrome-flags={flags}",
         "--output=json", f"--output-path={report}", "--quiet",
         f"--only-categories={','.join(CATEGORIES)}"],
        check=True, timeout=300)
    result = json.loads(report.read_text())
    assert result.get("runtimeError") is None, result["runtimeError"]
    return {name: result["categories"][name]["score"] for name in CATEGORIES}


@pytest.fixture(scope="module")
def scores(site_url, dev_site, tmp_path_factory):
    article = next(p for p in dev_site.html_pages()
                   if p.relative_to(dev_site.output).parts[0].isdigit())
    folder = tmp_path_factory.mktemp("lighthouse")
    pages = {"article": "/" + article.parent.relative_to(dev_site.output).as_posix() + "/",
             "search": "/zoeken/?q=klanten"}
    return {name: lighthouse_scores(site_url + path, folder / f"{name}.json")
            for name, path in pages.items()}


def test_the_article_page_keeps_full_marks_for_accessibility_and_practice(scores):
    assert scores["article"]["accessibility"] == 1
    assert scores["article"]["best-practices"] == 1
    assert scores["article"]["performance"] >= 0.95


def test_the_search_page_with_results_scores_as_the_article_page_does(scores):
    for category in CATEGORIES:
        assert scores["search"][category] >= scores["article"][category] - 0.02, (
            category, scores)
    assert scores["search"]["accessibility"] == scores["search"]["best-practices"] == 1
