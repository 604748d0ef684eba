"""What a WordPress export means beyond its text: passwords, repeated ids, missing
dates, WXR 1.0 terms, the wrong kind of file, split exports, identity and limits."""

import datetime
import email.utils
import os
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest

from migrate import SourceError, import_disqus, import_wordpress, text
from migrate.test_tasks import invoke
from migrate.wordpress import normalised_url
from site_nl.drafts import dutch_slug
from tests.support import (
    build_site,
    comment_files,
    publish_site,
    read_source,
    snapshot,
)

WP = "{http://wordpress.org/export/1.2/}"
# The host of the fixtures' old blog, part of every imported Id.
OLD_SITE = "oud-adviesblog.example"
# A body well over the documented limit (text.MAX_BODY_CHARACTERS, checked below).
TOO_LARGE = 3_000_000


def articles(content):
    """Every imported article by slug, parsed independently of the importer."""
    return {p.stem: read_source(p) for p in sorted((content / "articles").rglob("*.md"))}


def built_pages_containing(site, text):
    return [p for p in site.output.rglob("*") if p.is_file() and p.suffix in (".html", ".xml")
            and text in p.read_text(encoding="utf-8", errors="replace")]


def with_mtime(source, target, moment):
    """A copy of ``source`` saved at ``moment``: the export's file time."""
    shutil.copy(source, target)
    os.utime(target, (moment.timestamp(), moment.timestamp()))
    return target


# Password-protected posts

def test_a_password_protected_post_becomes_a_draft_with_a_warning(tmp_path, data):
    content = tmp_path / "content"
    report, _ = import_wordpress(data("wxr_password_protected.xml"), content)
    posts = articles(content)
    assert posts["salarisafspraken"]["status"] == "draft"
    assert "status" not in posts["open-overleg"]
    assert [w for w in report.warnings if "301" in w and "password" in w]
    assert report.counts["posts as draft (password protected)"] == 1
    # Its comment is kept, with the draft, so nothing is lost when it is published later.
    assert comment_files(content)["wxr-801"]["path"].parent.name == "salarisafspraken"


def test_a_password_protected_post_and_its_comments_are_not_published(tmp_path, data):
    content = tmp_path / "content"
    import_wordpress(data("wxr_password_protected.xml"), content)
    published = publish_site(tmp_path / "publish", PATH=str(content))
    assert published.messages() == []  # the draft's comment folder is not an orphan
    assert built_pages_containing(published, "kernteam") == []
    assert built_pages_containing(published, "stagiairs") == []
    assert built_pages_containing(published, "overleg kort en vaak")
    # The editor's preview build shows the draft with its comment.
    preview = build_site("pelicanconf.py", tmp_path / "preview", PATH=str(content))
    assert not [m for m in preview.messages() if "salarisafspraken" in m]
    draft = preview.soup("drafts/salarisafspraken/")
    assert "stagiairs" in draft.select_one("#reactie-wxr-801").get_text()


# Repeated ids

def test_posts_sharing_a_post_id_are_both_imported_under_a_derived_id(tmp_path, data):
    content = tmp_path / "content"
    report, _ = import_wordpress(data("wxr_duplicate_post_ids.xml"), content)
    posts = articles(content)
    assert {slug: post["id"] for slug, post in posts.items()} == {
        "eerste-bericht": f"wp-{OLD_SITE}-156", "tweede-bericht": f"wp-{OLD_SITE}-156-2"}
    assert "nieuwe database" in posts["tweede-bericht"]["body"]
    assert "oude database" in posts["eerste-bericht"]["body"]
    assert report.counts["posts"] == len(posts)
    assert [w for w in report.warnings if "156-2" in w and "Het tweede bericht" in w]


def test_comments_sharing_an_id_stay_under_their_own_post(tmp_path, data):
    content = tmp_path / "content"
    report, _ = import_wordpress(data("wxr_duplicate_post_ids.xml"), content)
    comments = comment_files(content)
    folders = {cid: c["path"].parent.name for cid, c in comments.items()}
    assert folders == {"wxr-7": "eerste-bericht", "wxr-7-2": "tweede-bericht",
                       "wxr-8": "tweede-bericht"}
    assert "eerste bericht" in comments["wxr-7"]["body"]
    assert "tweede bericht" in comments["wxr-7-2"]["body"]
    assert comments["wxr-8"]["parent"] == "wxr-7-2"  # the reply follows its own post's 7
    assert [w for w in report.warnings if "comment 7" in w and "7-2" in w]


def test_derived_ids_are_the_same_on_every_run(tmp_path, data):
    for run in ("een", "twee"):
        import_wordpress(data("wxr_duplicate_post_ids.xml"), tmp_path / run)
    assert snapshot(tmp_path / "een") == snapshot(tmp_path / "twee")


def test_each_post_keeps_its_own_feed_id(tmp_path, data):
    content = tmp_path / "content"
    import_wordpress(data("wxr_duplicate_post_ids.xml"), content)
    site = publish_site(tmp_path / "output", PATH=str(content))
    feed = ET.parse(site.output / "feeds" / "alle.atom.xml").getroot()
    ids = [e.findtext("{http://www.w3.org/2005/Atom}id")
           for e in feed.iter("{http://www.w3.org/2005/Atom}entry")]
    assert sorted(entry_id.rpartition(":")[2] for entry_id in ids) == [
        f"wp-{OLD_SITE}-156", f"wp-{OLD_SITE}-156-2"]


def test_every_post_and_page_carries_its_wordpress_id(tmp_path, data):
    export = data("wxr_post_statuses.xml")
    content = tmp_path / "content"
    import_wordpress(export, content)
    channel = ET.parse(export).getroot().find("channel")
    wp = "{http://wordpress.org/export/1.1/}"
    by_title = {item.findtext("title"): item.findtext(f"{wp}post_id")
                for item in channel.iter("item")}
    pages = [read_source(p) for p in sorted((content / "pages").glob("*.md"))]
    written = [*articles(content).values(), *pages]
    assert pages and len(written) > len(pages)
    site = normalised_url(channel.findtext(f"{wp}base_site_url") or channel.findtext("link"))
    assert all(f["id"] == f"wp-{site}-{by_title[f['title']]}" for f in written)


# Dates

def test_a_post_without_a_date_is_a_draft_dated_when_the_export_was_made(tmp_path, data):
    export = data("wxr_post_without_date.xml")
    exported = email.utils.parsedate_to_datetime(
        ET.parse(export).getroot().find("channel").findtext("pubDate"))
    content = tmp_path / "content"
    report, _ = import_wordpress(export, content)
    post = read_source(content / "articles" / f"{exported:%Y}" / "zonder-datum.md")
    assert post["status"] == "draft"
    assert post["date"] == exported.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [w for w in report.warnings if "77" in w and "Date" in w]


def test_without_an_export_date_the_file_time_dates_the_draft(tmp_path, data):
    saved = datetime.datetime(2023, 11, 5, 10, 20, 30, tzinfo=datetime.UTC)
    export = with_mtime(data("wxr_post_without_date_or_export_date.xml"),
                        tmp_path / "export.xml", saved)
    content = tmp_path / "content"
    import_wordpress(export, content)
    (post,) = articles(content).values()
    assert post["status"] == "draft" and post["path"].parent.name == f"{saved:%Y}"
    assert post["date"] == saved.strftime("%Y-%m-%dT%H:%M:%SZ")


# WXR 1.0 terms

def test_wxr_1_0_terms_listed_twice_count_once(tmp_path, data):
    content = tmp_path / "content"
    import_wordpress(data("wxr_1_0_doubled_categories.xml"), content)
    (post,) = articles(content).values()
    tags = post["tags"].split(", ")
    assert post["category"] == "Nieuws"
    assert sorted(tags) == ["Werkplaats", "gereedschap"]


# The wrong kind of file

@pytest.mark.parametrize(("task", "name", "looks_like"), [
    ("import-wordpress", "disqus_url_variants.xml", "a Disqus export"),
    ("import-disqus", "wxr_comment_rules.xml", "a WordPress export"),
    ("import-wordpress", "wxr_rss_feed_without_wxr_version.xml", "wxr_version"),
    ("import-wordpress", "wxr_wordpress_items_without_wxr_version.xml", "wxr_version"),
])
def test_a_file_of_the_wrong_kind_stops_the_import(tmp_path, data, task, name, looks_like):
    result = invoke(tmp_path, task, str(data(name)), "--content", str(tmp_path / "content"),
                    "--report", str(tmp_path / "rapport.txt"))
    assert result.returncode == 1
    assert f"{name}: refused" in result.stderr and looks_like in result.stderr
    assert snapshot(tmp_path) == {}


def test_the_wrong_kind_is_refused_by_the_importers_too(tmp_path, data):
    with pytest.raises(SourceError, match="looks like a Disqus export"):
        import_wordpress(data("disqus_url_variants.xml"), tmp_path / "content")
    with pytest.raises(SourceError, match="looks like a WordPress export"):
        import_disqus(data("wxr_comment_rules.xml"), tmp_path / "content")
    assert not (tmp_path / "content").exists()


# Manifests of a site exported in parts

def manifest(content, name):
    lines = (content / ".migrate" / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines[1:]]


def test_a_second_export_adds_to_the_image_and_attachment_lists(tmp_path, data):
    content = tmp_path / "content"
    for part in (1, 2):
        import_wordpress(data(f"wxr_split_export_part_{part}.xml"), content)
    images = manifest(content, "images-wordpress.tsv")
    assert sorted(row[0].rsplit("/", 3)[1] for row in images) == ["2017", "2018"]
    assert {row[1] for row in images} == {p.relative_to(content).as_posix()
                                          for p in (content / "articles").rglob("*.md")}
    assert sorted(row[0] for row in manifest(content, "attachments-wordpress.tsv")) == ["11", "21"]
    before = snapshot(content)
    report, _ = import_wordpress(data("wxr_split_export_part_1.xml"), content)
    assert snapshot(content) == before and set(report.files) == {"unchanged"}


def test_a_changed_export_replaces_only_its_own_rows(tmp_path, data):
    content = tmp_path / "content"
    first = shutil.copy(data("wxr_split_export_part_1.xml"), tmp_path / "deel-1.xml")
    import_wordpress(first, content)
    import_wordpress(data("wxr_split_export_part_2.xml"), content)
    text = first.read_text(encoding="utf-8")
    first.write_text(text.replace("2017/12/terugblik.jpg", "2017/12/vooruitblik.jpg"),
                     encoding="utf-8")
    import_wordpress(first, content)
    images = sorted(row[0].rpartition("/")[2] for row in manifest(content, "images-wordpress.tsv"))
    assert images == ["terugblik.jpg", "vooruitblik.jpg"]  # 2018's kept, 2017's replaced
    attachments = manifest(content, "attachments-wordpress.tsv")
    assert len(attachments) == len({tuple(row) for row in attachments}) == 2


# Limits

def test_a_10000_character_title_gives_a_file_name_the_system_accepts(tmp_path, data):
    export = data("wxr_10000_character_title.xml")
    content = tmp_path / "content"
    report, _ = import_wordpress(export, content)
    channel = ET.parse(export).getroot().find("channel")
    full_slugs = {item.findtext(f"{WP}post_id"): dutch_slug(
        unquote(item.findtext(f"{WP}post_name"))
        or item.findtext("title")) for item in channel.iter("item")}
    posts = articles(content)
    assert len(posts) == len(full_slugs) == report.counts["posts"]
    for post in posts.values():
        full = full_slugs[post["id"].removeprefix(f"wp-{OLD_SITE}-")]
        assert len(post["path"].name.encode("utf-8")) < 255 - len("-501")
        assert post["slug"] == post["path"].stem and full.startswith(post["slug"] + "-")
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert site.messages() == [] and len(built_pages_containing(site, "niet ophoudt")) >= 2


def big_export(path, body_characters):
    """An export with an ordinary post and one whose body (or a comment) is too large."""
    big = "Een zin die steeds terugkomt. " * (body_characters // 30 + 1)
    path.write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Oud Adviesblog</title><link>https://oud-adviesblog.example</link><wp:wxr_version>1.2</wp:wxr_version>
<item><title>Gewoon bericht</title><content:encoded><![CDATA[<p>Kort en goed.</p>]]></content:encoded>
<wp:post_id>1</wp:post_id><wp:post_date_gmt>2022-01-01 08:00:00</wp:post_date_gmt><wp:post_name>gewoon</wp:post_name>
<wp:status>publish</wp:status><wp:post_type>post</wp:post_type>
<wp:comment><wp:comment_id>11</wp:comment_id><wp:comment_author>Lotte</wp:comment_author><wp:comment_date_gmt>2022-01-01 09:00:00</wp:comment_date_gmt>
<wp:comment_content>Mooi kort.</wp:comment_content><wp:comment_approved>1</wp:comment_approved></wp:comment>
<wp:comment><wp:comment_id>12</wp:comment_id><wp:comment_author>Maarten</wp:comment_author><wp:comment_date_gmt>2022-01-01 10:00:00</wp:comment_date_gmt>
<wp:comment_content>{big}</wp:comment_content><wp:comment_approved>1</wp:comment_approved></wp:comment></item>
<item><title>Het eindeloze verslag</title><content:encoded><![CDATA[{big}]]></content:encoded>
<wp:post_id>2</wp:post_id><wp:post_date_gmt>2022-01-02 08:00:00</wp:post_date_gmt><wp:post_name>eindeloos</wp:post_name>
<wp:status>publish</wp:status><wp:post_type>post</wp:post_type>
<wp:comment><wp:comment_id>21</wp:comment_id><wp:comment_author>Nina</wp:comment_author><wp:comment_date_gmt>2022-01-02 09:00:00</wp:comment_date_gmt>
<wp:comment_content>Te lang om te lezen.</wp:comment_content><wp:comment_approved>1</wp:comment_approved></wp:comment></item>
</channel></rss>
""", encoding="utf-8")
    return path


def test_a_body_over_the_limit_is_named_not_imported_and_the_rest_is(tmp_path):
    export = big_export(tmp_path / "export.xml", TOO_LARGE)
    content = tmp_path / "content"
    result = invoke(tmp_path, "import-wordpress", str(export), "--content", str(content))
    assert result.returncode == 1
    assert "post 2 'Het eindeloze verslag'" in result.stdout
    assert "comment 12" in result.stdout and "Maarten" in result.stdout
    assert set(articles(content)) == {"gewoon"}
    assert set(comment_files(content)) == {"wxr-11"}
    assert "not imported" in result.stderr
    assert TOO_LARGE > text.MAX_BODY_CHARACTERS


def test_a_disqus_message_over_the_limit_is_named_and_skipped(tmp_path, data):
    content = tmp_path / "content"
    import_wordpress(data("wxr_comment_rules.xml"), content)
    big = "Nog een alinea. " * (TOO_LARGE // 16)
    export = tmp_path / "disqus.xml"
    export.write_text(f"""<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
<thread dsq:id="1"><link>https://oud-adviesblog.example/2016/03/14/feedback-geven/</link><createdAt>2016-03-14T08:00:00Z</createdAt></thread>
<post dsq:id="71"><message>Kort.</message><createdAt>2016-03-15T08:00:00Z</createdAt><author><name>Olga</name></author><thread dsq:id="1"/></post>
<post dsq:id="72"><message>{big}</message><createdAt>2016-03-16T08:00:00Z</createdAt><author><name>Pim</name></author><thread dsq:id="1"/></post>
</disqus>
""", encoding="utf-8")
    result = invoke(tmp_path, "import-disqus", str(export), "--content", str(content))
    assert result.returncode == 1 and "disqus post 72 by 'Pim'" in result.stdout
    disqus = {cid for cid in comment_files(content) if cid.startswith("disqus-")}
    assert disqus == {"disqus-71"}
    assert TOO_LARGE > text.MAX_BODY_CHARACTERS


# Disqus dates

def disqus_site(tmp_path, data):
    """The WordPress fixture's articles and one written by hand, for Disqus threads."""
    content = tmp_path / "content"
    import_wordpress(data("wxr_comment_rules.xml"), content)
    (content / "articles" / "2019").mkdir()
    (content / "articles" / "2019" / "werken-op-afstand.md").write_text(
        "Title: Werken op afstand\nDate: 2019-05-02 09:00\n\nTekst.\n", encoding="utf-8")
    return content


def test_a_disqus_date_in_year_1_is_treated_as_missing(tmp_path, data):
    content = disqus_site(tmp_path, data)
    saved = datetime.datetime(2024, 2, 3, 4, 5, 6, tzinfo=datetime.UTC)
    export = with_mtime(data("disqus_year_0001.xml"), tmp_path / "disqus.xml", saved)
    report, _ = import_disqus(export, content)
    comments = comment_files(content)
    thread_date = ET.parse(export).getroot().findall("{http://disqus.com}thread")[1].findtext(
        "{http://disqus.com}createdAt")
    # No thread date either: when the export was saved; else the thread's date.
    assert comments["disqus-6001"]["date"] == saved.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert comments["disqus-6002"]["date"] == thread_date
    assert len([w for w in report.warnings if "createdAt" in w]) == 2
    site = publish_site(tmp_path / "output", PATH=str(content))
    # wxr_comment_rules.xml has a reply whose parent is spam, reported on purpose.
    assert [m for m in site.messages() if "wxr-106.md" not in m] == []
    assert built_pages_containing(site, "het jaar één")


# Re-runs

NOT_IMPORTABLE = {"wxr_entity_bomb.xml", "wxr_external_entity.xml", "wxr_not_well_formed.xml",
                  "wxr_rss_feed_without_wxr_version.xml",
                  "wxr_wordpress_items_without_wxr_version.xml"}
# Every WordPress export among the fixtures, the body-conversion ones and the site
# tests' ones included (body_deep_nesting and body_too_large are filled in by their
# tests; as they stand they are small exports too).
IMPORTABLE_WXR = sorted(
    (p for folder in (Path(__file__).parent / "test_data",
                      Path(__file__).parents[2] / "tests" / "test_data")
     for pattern in ("wxr_*.xml", "body_*.xml") for p in folder.glob(pattern)
     if p.name not in NOT_IMPORTABLE), key=lambda p: p.name)


@pytest.mark.parametrize("export", IMPORTABLE_WXR, ids=lambda p: p.name)
def test_a_second_import_of_every_wordpress_fixture_changes_nothing(tmp_path, export):
    content = tmp_path / "content"
    import_wordpress(export, content)
    before = snapshot(content)
    report, _ = import_wordpress(export, content)
    assert snapshot(content) == before
    assert set(report.files) == {"unchanged"}


@pytest.mark.parametrize("name", ["disqus_url_variants.xml", "disqus_year_0001.xml"])
def test_a_second_import_of_every_disqus_fixture_changes_nothing(tmp_path, data, name):
    content = tmp_path / "content"
    import_wordpress(data("wxr_comment_rules.xml"), content)
    import_disqus(data(name), content, wxr=data("wxr_comment_rules.xml"))
    before = snapshot(content)
    report, _ = import_disqus(data(name), content, wxr=data("wxr_comment_rules.xml"))
    assert snapshot(content) == before
    assert set(report.files) == {"unchanged"}


def test_two_blogs_with_the_same_post_ids_get_their_own_ids(tmp_path, data):
    content = tmp_path / "content"
    import_wordpress(data("wxr_split_export_part_1.xml"), content)
    import_wordpress(data("wxr_second_blog_with_the_same_post_ids.xml"), content)
    ids = {slug: post["id"] for slug, post in articles(content).items()}
    assert ids == {"jaaroverzicht-2017": f"wp-{OLD_SITE}-10",
                   "een-jaar-in-zwolle": f"wp-zwolle.{OLD_SITE}-10"}
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert [m for m in site.messages() if "field 'Id'" in m] == []


def test_a_reply_to_a_comment_that_is_not_imported_is_shown_without_a_parent(tmp_path, data):
    content = tmp_path / "content"
    report, _ = import_wordpress(data("wxr_comment_rules.xml"), content)
    reply = next(c for c in comment_files(content).values()
                 if "Ik reageer op een spamreactie" in c["body"])
    assert reply.get("parent", "") == ""
    assert any(o.source_id == f"wxr comment {reply['source_id']}" for o in report.orphans)
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert [m for m in site.messages() if "parent" in m] == []


# Found by an attack on a fresh clone

def test_addresses_in_terms_alt_text_and_title_slugs_are_not_published(tmp_path, data):
    content = tmp_path / "content"
    report, _ = import_wordpress(data("wxr_addresses_in_terms_and_alt_text.xml"), content)
    (post,) = articles(content).values()
    assert post["category"] == "Teamwerk" and post["tags"] == "vragen"
    assert "@" not in post["image_alt"] and "10.9.8.7" not in post["image_alt"]
    assert "oud-adviesblog" not in post["slug"]
    assert report.removed["email addresses"] >= 2
    site = publish_site(tmp_path / "output", PATH=str(content))
    leaked = ("jan@", "ans@", "vragen@", "10.2.3.4", "10.9.8.7")
    assert [(path, address) for path, data in snapshot(site.output).items()
            for address in leaked if address.encode() in data] == []


def test_impossible_post_and_comment_dates_count_as_missing(tmp_path, data):
    content = tmp_path / "content"
    report, _ = import_wordpress(data("wxr_impossible_dates.xml"), content)
    posts = list(articles(content).values())
    assert [p["status"] for p in posts] == ["draft", "draft"]
    assert {p["date"] for p in posts} == {"2024-01-02T09:30:00Z"}
    dates = {c["author"]: c["date"] for c in comment_files(content).values()}
    assert dates == {"Ria": "2024-01-02T09:30:00Z", "Sem": "2024-01-02T09:30:00Z"}
    site = build_site("pelicanconf.py", tmp_path / "output", PATH=str(content))
    assert [m for m in site.messages() if "date" in m.lower()] == []


def test_repeated_and_missing_disqus_ids_overwrite_no_comment(tmp_path, data):
    content = disqus_site(tmp_path, data)
    export = data("disqus_repeated_and_missing_post_ids.xml")
    report, _ = import_disqus(export, content)
    by_author = {c["author"]: c["path"].parent.name for c in comment_files(content).values()
                 if c["source"] == "disqus"}
    assert by_author == {"Lotte": "feedback-geven", "Bert": "werken-op-afstand",
                         "Nina": "werken-op-afstand", "Omar": "werken-op-afstand"}
    assert len([w for w in report.warnings if "has this id too" in w]) == 2
    again, _ = import_disqus(export, content)
    assert set(again.files) == {"unchanged"}


def test_a_symlinked_folder_cannot_lead_a_write_outside_content(tmp_path, data):
    outside = tmp_path / "buiten"
    outside.mkdir()
    content = tmp_path / "content"
    (content / "articles").mkdir(parents=True)
    (content / "articles" / "2019").symlink_to(outside)
    with pytest.raises(ValueError, match="outside"):
        import_wordpress(data("wxr_duplicate_post_ids.xml"), content)
    assert list(outside.iterdir()) == []


def test_a_percent_encoded_address_in_an_author_link_is_not_published():
    removed = Counter()
    assert text.public_url("https://anna.example/?mail=anna%40voorbeeld.nl", removed) == ""
    assert removed["email addresses"] == 1
    assert text.public_url("https://anna.example/over%20mij", removed) == (
        "https://anna.example/over%20mij")
