"""The generated export is a valid WXR whose comments all land where they should."""

from collections import Counter

from lxml import etree

from bench.wxr_export import generate
from migrate import import_wordpress
from tests.support import comment_files, private_data_in


def test_generated_export_imports_completely(tmp_path):
    export = generate(tmp_path / "export.xml", comments=400, comments_per_post=40)
    statuses = Counter(e.text for e in etree.parse(str(export)).iter("{*}comment_approved"))
    report, _ = import_wordpress(export, tmp_path / "content")
    files = comment_files(tmp_path / "content")
    assert Counter(f["status"] for f in files.values()) == {
        "approved": statuses["1"], "pending": statuses["0"]}
    assert report.counts["skipped: spam comments"] == statuses["spam"]
    assert report.counts["skipped: trashed comments"] == statuses["trash"]
    assert report.counts["posts"] == 10
    assert private_data_in(tmp_path / "content") == []


def test_the_same_seed_gives_the_same_file(tmp_path):
    first = generate(tmp_path / "a.xml", comments=100).read_bytes()
    assert generate(tmp_path / "b.xml", comments=100).read_bytes() == first
