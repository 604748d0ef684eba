"""The WXR importer: statuses, comments, threads, dates, markup clean-up and hostile XML."""

import pytest

from migrate import SourceError, import_wordpress
from tests.support import comment_files, private_data_in, publish_site, read_source, snapshot


@pytest.fixture
def comment_rules(tmp_path, data):
    content = tmp_path / "content"
    report, text = import_wordpress(data("wxr_comment_rules.xml"), content,
                                    report_path=tmp_path / "report.txt")
    return content, report, text


def test_only_approved_and_pending_comments_are_written_with_their_status(comment_rules):
    content, report, _ = comment_rules
    files = comment_files(content)
    status = {cid: f["status"] for cid, f in files.items()}
    assert status == {
        "wxr-101": "approved", "wxr-102": "pending", "wxr-104": "approved",
        "wxr-106": "approved", "wxr-107": "approved", "wxr-108": "approved",
        "wxr-109": "approved", "wxr-110": "approved",
    }
    assert report.counts["skipped: spam comments"] == 1
    assert report.counts["skipped: trashed comments"] == 1
    assert report.counts["comments imported (pending)"] == 1
    assert all(f["path"].parent.name == "feedback-geven" for f in files.values())


def test_pingbacks_and_trackbacks_keep_their_type(comment_rules):
    files = comment_files(comment_rules[0])
    assert files["wxr-107"]["type"] == "pingback"
    assert files["wxr-108"]["type"] == "trackback"
    assert {files[c]["type"] for c in ("wxr-101", "wxr-104")} == {"comment"}
    assert comment_rules[1].counts["pingbacks"] == comment_rules[1].counts["trackbacks"] == 1


def test_threads_follow_comment_parent_whatever_the_export_order(comment_rules):
    files = comment_files(comment_rules[0])
    # 104 answers 101 but comes first in the export; 109 answers 104.
    assert files["wxr-104"]["parent"] == "wxr-101"
    assert files["wxr-109"]["parent"] == "wxr-104"
    assert "parent" not in files["wxr-101"]


def test_dates_are_gmt_and_a_zero_gmt_date_falls_back_with_a_warning(comment_rules):
    files = comment_files(comment_rules[0])
    assert files["wxr-101"]["date"] == "2016-03-14T19:15:00Z"  # comment_date is 20:15
    assert files["wxr-109"]["date"] == "2016-03-18T14:45:00Z"
    warnings = [w for w in comment_rules[1].warnings if "comment 109" in w]
    assert warnings and "0000-00-00" in warnings[0]


def test_no_email_or_ip_address_is_written(comment_rules):
    content, report, _ = comment_rules
    assert private_data_in(content) == []
    files = comment_files(content)
    assert "[e-mailadres verwijderd]" in files["wxr-101"]["body"]
    assert files["wxr-101"]["body"].count("[IP-adres verwijderd]") == 2
    # A name that is an address, and a mailto: "website", are both dropped.
    assert files["wxr-110"]["author"] == "Anoniem" and "author_url" not in files["wxr-110"]
    assert report.removed["email addresses"] >= 2


def test_orphans_are_reported_with_their_ids_and_urls(comment_rules):
    content, report, text = comment_rules
    orphans = {o.source_id: o for o in report.orphans}
    assert set(orphans) == {"wxr comment 106", "wxr comment 120"}
    assert orphans["wxr comment 106"].url.endswith("/2016/03/14/feedback-geven/#comment-106")
    assert "103" in orphans["wxr comment 106"].reason
    assert orphans["wxr comment 120"].url.endswith("?attachment_id=77")
    assert "wxr comment 120" in text
    assert (content.parent / "report.txt").read_text(encoding="utf-8") == text


def test_the_built_article_shows_threads_line_breaks_and_mentions(comment_rules, tmp_path):
    site = publish_site(tmp_path / "output", PATH=str(comment_rules[0]))
    soup = site.soup("2016/feedback-geven/")
    assert soup.select_one("#reacties h2").get_text() == "Reacties (5)"
    thread = [(li["id"], li["class"][1]) for li in soup.select("ol.comment-list > li")]
    assert thread[:3] == [("reactie-wxr-101", "comment--depth-1"),
                          ("reactie-wxr-104", "comment--depth-2"),
                          ("reactie-wxr-109", "comment--depth-3")]
    first = soup.find("li", id="reactie-wxr-101").select_one(".comment__body p")
    assert first.find("br") is not None
    assert [t.strip() for t in first.strings if t.strip()] == ["Herkenbaar!", "Bij ons gaat het net zo."]
    assert [a.get_text() for a in soup.select(".mention-list li a")] == [
        "Collega-blog", "Ander weblog"]
    assert "wacht op moderatie" not in soup.get_text()


def test_every_status_becomes_a_draft_or_is_reported(tmp_path, data):
    content = tmp_path / "content"
    report, _ = import_wordpress(data("wxr_post_statuses.xml"), content)
    articles = {p.stem: read_source(p) for p in (content / "articles").rglob("*.md")}
    assert {slug: a.get("status", "published") for slug, a in articles.items()} == {
        "werken-in-teams": "published", "een-concept": "draft", "ter-beoordeling": "draft",
        "ingepland": "draft", "alleen-voor-ons": "draft",
    }
    assert articles["een-concept"]["date"] == "2018-06-01 10:00"  # draft: no GMT date yet
    assert articles["ingepland"]["date"] == "2030-01-06T08:00:00Z"
    assert report.counts["skipped: post with status 'trash'"] == 1
    assert report.counts["skipped: post with status 'auto-draft'"] == 1
    assert any("'Weggegooid'" in w for w in report.warnings)
    assert report.counts["skipped: nav_menu_item"] == 1
    assert read_source(content / "pages" / "over-ons.md")["title"] == "Over ons"


def test_post_metadata_is_kept(tmp_path, data):
    content = tmp_path / "content"
    import_wordpress(data("wxr_post_statuses.xml"), content)
    post = read_source(content / "articles" / "2018" / "werken-in-teams.md")
    assert post["slug"] == "werken-in-teams"
    assert post["date"] == "2018-04-03T08:00:00Z" and post["modified"] == "2018-05-01T08:00:00Z"
    assert post["author"] == "sanne-brouwer"
    assert read_source(content / "authors" / "sanne-brouwer.md")["name"] == "Sanne Brouwer"
    assert post["category"] == "Teams"  # WordPress's "Uncategorized" is left to Pelican
    assert post["tags"] == "op afstand, afspraken"
    assert post["summary"] == "Over afspraken in teams op afstand."
    assert post["image"] == "https://oud-adviesblog.example/wp-content/uploads/2018/04/overleg.jpg"
    assert post["image_alt"] == "Een overleg op afstand"
    assert post["comments"] == "closed"


def test_attachments_and_remote_images_are_listed(tmp_path, data):
    content = tmp_path / "content"
    import_wordpress(data("wxr_post_statuses.xml"), content)
    images = (content / ".migrate" / "images-wordpress.tsv").read_text().splitlines()
    assert images == [
        "url\tused_in\texport",
        "https://oud-adviesblog.example/wp-content/uploads/2018/04/overleg.jpg"
        "\tarticles/2018/werken-in-teams.md\twxr_post_statuses.xml",
    ]
    attachments = (content / ".migrate" / "attachments-wordpress.tsv").read_text().splitlines()
    assert attachments[1].split("\t") == [
        "11", "https://oud-adviesblog.example/wp-content/uploads/2018/04/overleg.jpg", "overleg", "10",
        "wxr_post_statuses.xml"]


def test_block_comments_shortcodes_and_empty_paragraphs_are_cleaned_out(tmp_path, data):
    content = tmp_path / "content"
    report, _ = import_wordpress(data("wxr_post_statuses.xml"), content)
    body = read_source(content / "articles" / "2018" / "werken-in-teams.md")["body"]
    for leftover in ("wp:", "[gallery", "[caption", "[/caption]", "[contact-form-7", "&nbsp;"):
        assert leftover not in body
    assert "Overleg op afstand" in body  # a caption's text is the author's
    assert "## Wat werkt" in body and "### Wat niet werkt" in body  # h4 after h2: no gap
    assert "\\[sic]" in body and "\\[1]" in body  # prose in brackets is not a shortcode
    assert {k for k in report.removed if k.startswith("shortcode")} == {
        "shortcode [gallery]", "shortcode [caption]", "shortcode [contact-form-7]"}
    site = publish_site(tmp_path / "output", PATH=str(content))
    paragraphs = site.soup("2018/werken-in-teams/").select(".prose p")
    assert paragraphs and all(p.get_text(strip=True) or p.find("img") for p in paragraphs)


def test_wxr_1_0_classic_text_and_mojibake(tmp_path, data):
    content = tmp_path / "content"
    import_wordpress(data("wxr_1_0_mojibake_classic_editor.xml"), content)
    post = read_source(content / "articles" / "2009" / "ive-een-cafe-gezien.md")
    assert post["title"] == "I’ve een café gezien"
    assert post["category"] == "Klantgerichtheid" and post["tags"] == "koffie"
    assert "Eerste regel  \ntweede regel" in post["body"]  # a hard line break
    assert "over het café." in post["body"]
    comment = comment_files(content)["wxr-3"]
    assert comment["author"] == "Renée" and comment["body"].strip() == "I’ve dat café ook bezocht."


@pytest.mark.parametrize("name", ["wxr_entity_bomb.xml", "wxr_external_entity.xml"])
def test_entity_declarations_are_refused_with_a_clear_error(tmp_path, data, name):
    with pytest.raises(SourceError) as refused:
        import_wordpress(data(name), tmp_path / "content")
    assert name in str(refused.value) and "entity" in str(refused.value).lower()
    assert not (tmp_path / "content").exists()


def test_broken_xml_names_the_file_and_line(tmp_path, data):
    with pytest.raises(SourceError, match=r"wxr_not_well_formed\.xml, line 5: not well-formed"):
        import_wordpress(data("wxr_not_well_formed.xml"), tmp_path / "content")


def test_a_second_run_changes_nothing(comment_rules, data, tmp_path):
    content = comment_rules[0]
    before = snapshot(content)
    report, _ = import_wordpress(data("wxr_comment_rules.xml"), content)
    assert snapshot(content) == before
    assert set(report.files) == {"unchanged"}
