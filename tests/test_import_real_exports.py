"""The two real WordPress exports in ../shared/fixtures: counts, threads, privacy, re-runs.

Expected values are read from the export with lxml, independently of the importer.
"""

import logging
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from migrate import import_wordpress
from tests.support import ROOT, comment_files, private_data_in, publish_site, read_source, snapshot
from tests.tools import vnu_errors

FIXTURES = ROOT.parent / "shared" / "fixtures" / "wordpress"
EXPORTS = ["theme-preview.xml", "64-block-test-data.xml"]

pytestmark = pytest.mark.skipif(
    not FIXTURES.is_dir(),
    reason=f"the real WordPress exports are not at {FIXTURES}; put ../shared beside the project",
)


def local(element) -> str:
    return etree.QName(element).localname


def expected_comments(export: Path) -> tuple[Counter, list[tuple[str, str]]]:
    """Approved comments per post title, and every (comment id, parent id) reply."""
    per_title, replies = Counter(), []
    for item in etree.parse(str(export)).iter("item"):
        fields = {local(child): (child.text or "").strip() for child in item}
        if fields.get("post_type", "post") != "post":
            continue
        for comment in (c for c in item if local(c) == "comment"):
            values = {local(part): (part.text or "").strip() for part in comment}
            if values.get("comment_approved") == "1" and values.get("comment_type", "") in ("", "comment"):
                per_title[fields["title"]] += 1
            if values.get("comment_parent", "0") != "0":
                replies.append((values["comment_id"], values["comment_parent"]))
    return per_title, replies


@pytest.fixture(scope="module", params=EXPORTS)
def imported(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(Path(request.param).stem)
    content = folder / "content"
    report, _ = import_wordpress(FIXTURES / request.param, content)
    return FIXTURES / request.param, content, report, folder


def test_comment_counts_per_post_match_the_export(imported):
    export, content, _, _ = imported
    per_title, _ = expected_comments(export)
    titles = {p.stem: read_source(p)["title"] for p in (content / "articles").rglob("*.md")}
    found = Counter(titles[f["path"].parent.name] for f in comment_files(content).values()
                    if f["status"] == "approved" and f["type"] == "comment")
    assert found == per_title and sum(per_title.values()) >= 2


def test_threads_are_kept(imported):
    export, content, _, _ = imported
    _, replies = expected_comments(export)
    files = comment_files(content)
    assert [(cid, files[f"wxr-{cid}"].get("parent")) for cid, _ in replies] == [
        (cid, f"wxr-{parent}") for cid, parent in replies]


def test_no_email_or_ip_address_anywhere_under_content(imported):
    export, content = imported[0], imported[1]
    assert "@" in export.read_text(encoding="utf-8")  # the export has them
    assert private_data_in(content) == []


def test_a_second_import_changes_nothing(imported):
    export, content = imported[0], imported[1]
    before = snapshot(content)
    report, _ = import_wordpress(export, content)
    assert snapshot(content) == before
    assert set(report.files) == {"unchanged"}


def test_the_imported_site_builds_and_shows_the_comments(imported):
    export, content, _, folder = imported
    site = publish_site(folder / "output", PATH=str(content))
    assert site.messages(logging.ERROR) == []
    articles = [read_source(p) for p in (content / "articles").rglob("*.md")]
    page_of = {a["slug"]: f"{a['path'].parent.name}/{a['slug']}/" for a in articles}
    per_title, replies = expected_comments(export)
    for article in articles:
        if per_title[article["title"]]:
            heading = site.soup(page_of[article["slug"]]).select_one("#reacties h2")
            assert heading.get_text() == f"Reacties ({per_title[article['title']]})"
    files = comment_files(content)
    for comment_id, _ in replies:
        soup = site.soup(page_of[files[f"wxr-{comment_id}"]["path"].parent.name])
        assert soup.find("li", id=f"reactie-wxr-{comment_id}")["class"][1] == "comment--depth-2"


@pytest.mark.validator
def test_the_imported_site_is_valid_html5(imported):
    export, content, _, folder = imported
    output = folder / "output-vnu"
    publish_site(output, PATH=str(content))
    assert vnu_errors(output) == []
