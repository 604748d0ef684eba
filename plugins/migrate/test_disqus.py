"""The Disqus importer: URL matching, spam and deleted posts, threads, privacy, re-runs."""

import pytest

from migrate import import_disqus, import_wordpress
from migrate.wordpress import normalised_url
from tests.support import comment_files, private_data_in, snapshot, write_file

ARTICLE_FROM_ANOTHER_SOURCE = "Title: Werken op afstand\nDate: 2019-05-02 09:00\n\nTekst.\n"


@pytest.fixture
def content(tmp_path, data):
    """A site that already has the WordPress posts and one hand-written article."""
    content = tmp_path / "content"
    import_wordpress(data("wxr_comment_rules.xml"), content)
    write_file(content / "articles" / "2019" / "werken-op-afstand.md", ARTICLE_FROM_ANOTHER_SOURCE)
    return content


def disqus_comments(content):
    return {cid: f for cid, f in comment_files(content).items() if cid.startswith("disqus-")}


@pytest.mark.parametrize("old_url", [
    "http://oud-adviesblog.example/2016/03/14/feedback-geven",
    "https://www.oud-adviesblog.example/2016/03/14/feedback-geven/",
    "https://WWW.oud-adviesblog.example/2016/03/14/feedback-geven/index.html",
    "https://oud-adviesblog.example/2016/03/14/feedback-geven/?utm_source=x#reacties",
])
def test_url_variants_normalise_to_one_key(old_url):
    assert normalised_url(old_url) == "oud-adviesblog.example/2016/03/14/feedback-geven"


def test_threads_are_matched_by_every_kind_of_old_url(content, data):
    report, _ = import_disqus(data("disqus_url_variants.xml"), content, wxr=data("wxr_comment_rules.xml"))
    folders = {cid: f["path"].parent.name for cid, f in disqus_comments(content).items()}
    assert folders == {
        "disqus-5001": "feedback-geven",      # http, no www, no trailing slash
        "disqus-5002": "feedback-geven",
        "disqus-5005": "feedback-geven",
        "disqus-5006": "feedback-geven",
        "disqus-5007": "feedback-geven",      # ?p=41 through the WordPress export
        "disqus-5008": "werken-op-afstand",   # a date permalink with a query and fragment
        "disqus-5010": "feedback-geven",      # the thread identifier "41 <guid>"
    }
    assert report.counts["threads matched to an article"] == 4


def test_spam_deleted_and_pending_posts(content, data):
    report, _ = import_disqus(data("disqus_url_variants.xml"), content, wxr=data("wxr_comment_rules.xml"))
    comments = disqus_comments(content)
    assert "disqus-5003" not in comments and "disqus-5004" not in comments
    assert report.counts["skipped: spam comments"] == report.counts["skipped: deleted comments"] == 1
    assert comments["disqus-5006"]["status"] == "pending"
    assert comments["disqus-5002"]["parent"] == "disqus-5001"
    assert comments["disqus-5001"]["date"] == "2016-03-14T10:00:00Z"
    assert "[dit artikel](https://voorbeeld.example/feedback)" in comments["disqus-5001"]["body"]


def test_unmatched_threads_and_lost_parents_are_orphans(content, data):
    report, text = import_disqus(data("disqus_url_variants.xml"), content, wxr=data("wxr_comment_rules.xml"))
    orphans = {o.source_id: o for o in report.orphans}
    assert set(orphans) == {"disqus post 5005", "disqus post 5009"}
    assert orphans["disqus post 5009"].url == "https://www.oud-adviesblog.example/pagina-die-niet-meer-bestaat/"
    assert "5004" in orphans["disqus post 5005"].reason
    assert "pagina-die-niet-meer-bestaat" in text


def test_without_the_wordpress_export_a_post_id_link_is_an_orphan(content, data):
    report, _ = import_disqus(data("disqus_url_variants.xml"), content)
    assert "disqus-5007" not in disqus_comments(content)
    assert "disqus post 5007" in {o.source_id for o in report.orphans}


def test_no_address_is_written_and_a_second_run_changes_nothing(content, data):
    import_disqus(data("disqus_url_variants.xml"), content, wxr=data("wxr_comment_rules.xml"))
    assert private_data_in(content) == []
    before = snapshot(content)
    report, _ = import_disqus(data("disqus_url_variants.xml"), content, wxr=data("wxr_comment_rules.xml"))
    assert snapshot(content) == before and set(report.files) == {"unchanged"}
