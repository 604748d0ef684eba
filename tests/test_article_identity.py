"""Article identity: feed entry ids and newsletter keys that never change or clash."""

import json
import logging
import re
import shutil
from pathlib import Path

import feedparser
import pytest

from site_nl.drafts import new_article
from tests.support import copy_content, publish_site, read_source, write_file

TEST_DATA = Path(__file__).parent / "test_data"
SAME_SECOND = TEST_DATA / "imported_in_the_same_second"


def feed_ids(site) -> dict[str, str]:
    """``slug → entry id`` of every entry in the site's main Atom feed."""
    parsed = feedparser.parse((site.output / "feeds" / "alle.atom.xml").read_bytes())
    return {entry.link.rstrip("/").rsplit("/", 1)[-1]: entry.id for entry in parsed.entries}


def errors(site) -> list[str]:
    return site.messages(logging.ERROR)


def strip_ids(content: Path) -> None:
    for path in (content / "articles").rglob("*.md"):
        path.write_text(re.sub(r"(?m)^Id: .*\n", "", path.read_text(encoding="utf-8")),
                        encoding="utf-8")


@pytest.fixture(scope="module")
def same_second(tmp_path_factory):
    return publish_site(tmp_path_factory.mktemp("same-second") / "output", PATH=str(SAME_SECOND))


def test_the_sample_sites_ids_are_the_ones_subscribers_already_hold(tmp_path):
    recorded = dict(line.split("\t") for line in
                    (TEST_DATA / "sample_site_entry_ids.tsv").read_text(encoding="utf-8").splitlines()
                    if line and not line.startswith("#"))
    site = publish_site(tmp_path / "output")
    ids = feed_ids(site)
    assert {slug: ids[slug] for slug in recorded} == recorded
    editions = json.loads((site.output / "nieuwsbrief" / "editions.json").read_text(encoding="utf-8"))
    by_url = {edition["url"].rstrip("/").rsplit("/", 1)[-1]: edition["id"]
              for edition in editions["editions"]}
    assert {slug: by_url[slug] for slug in recorded} == recorded


def test_imported_articles_of_the_same_second_publish_with_their_own_ids(same_second):
    assert errors(same_second) == []
    ids = feed_ids(same_second)
    sources = [read_source(p) for p in sorted((SAME_SECOND / "articles").rglob("*.md"))]
    assert len(sources) == 4 and len({s["date"] for s in sources}) == 1
    assert ids == {s["slug"]: f"tag:ruimte-en-richting.example,2000:{s['id']}" for s in sources}


def test_articles_without_an_id_in_the_same_second_still_get_distinct_ids(tmp_path):
    content = shutil.copytree(SAME_SECOND, tmp_path / "content")
    strip_ids(content)
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert errors(site) == []
    ids = feed_ids(site)
    assert len(ids) == len(set(ids.values())) == 4
    for slug, entry_id in ids.items():
        assert entry_id == f"tag:ruimte-en-richting.example,2016-03-01:artikel-100000-{slug}"
    warning = next(m for m in site.messages() if "same second" in m)
    assert "'Id" in warning and "articles/2016/" in warning


def test_the_id_survives_a_new_title_slug_and_date(same_second, tmp_path):
    content = shutil.copytree(SAME_SECOND, tmp_path / "content")
    article = content / "articles" / "2016" / "vergaderen-op-vrijdagmiddag.md"
    article.write_text(article.read_text(encoding="utf-8")
                       .replace("Title: Vergaderen op vrijdagmiddag", "Title: Nooit meer vergaderen")
                       .replace("Slug: vergaderen-op-vrijdagmiddag", "Slug: nooit-meer-vergaderen")
                       .replace("Date: 2016-03-01T10:00:00Z", "Date: 2016-04-11 08:15"),
                       encoding="utf-8")
    changed = publish_site(tmp_path / "output", PATH=str(content))
    assert errors(changed) == []
    assert feed_ids(changed)["nooit-meer-vergaderen"] == feed_ids(same_second)["vergaderen-op-vrijdagmiddag"]


def test_two_articles_with_the_same_id_are_an_error_naming_both(tmp_path):
    content = shutil.copytree(SAME_SECOND, tmp_path / "content")
    article = content / "articles" / "2016" / "koffie-met-inkoop.md"
    article.write_text(article.read_text(encoding="utf-8").replace("Id: wp-101", "Id: wp-102"),
                       encoding="utf-8")
    site = publish_site(tmp_path / "output", PATH=str(content))
    clash = [m for m in errors(site) if "field 'Id'" in m]
    assert len(clash) == 1
    assert "koffie-met-inkoop.md" in clash[0] and "een-klacht-is-een-cadeautje.md" in clash[0]


@pytest.mark.parametrize("value", ["wp 156", "../156", "<b>", "-begint-met-streep", "x" * 101])
def test_an_id_that_cannot_be_one_is_an_error_naming_the_file(tmp_path, value):
    content = shutil.copytree(SAME_SECOND, tmp_path / "content")
    article = content / "articles" / "2016" / "koffie-met-inkoop.md"
    article.write_text(article.read_text(encoding="utf-8").replace("Id: wp-101", f"Id: {value}"),
                       encoding="utf-8")
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert any("koffie-met-inkoop.md" in m and "field 'Id'" in m for m in errors(site))
    assert "koffie-met-inkoop" not in feed_ids(site)


def test_invoke_new_writes_a_fresh_id_the_build_accepts(tmp_path):
    content = copy_content(tmp_path / "content")
    made = [read_source(new_article(title, content / "articles"))
            for title in ("Luisteren zonder oordeel", "Een tweede concept")]
    assert made[0]["id"] != made[1]["id"]
    for draft in made:
        draft["path"].write_text(draft["path"].read_text(encoding="utf-8")
                                 .replace("Status: draft\n", ""), encoding="utf-8")
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert errors(site) == []
    ids = feed_ids(site)
    assert {ids[d["path"].stem] for d in made} == {
        f"tag:ruimte-en-richting.example,2000:{d['id']}" for d in made}


def test_article_id_since_sets_the_date_of_the_tag(tmp_path):
    site = publish_site(tmp_path / "output", PATH=str(SAME_SECOND), ARTICLE_ID_SINCE="2012")
    assert all(",2012:wp-10" in entry_id for entry_id in feed_ids(site).values())


def test_a_page_may_carry_an_id(tmp_path):
    content = shutil.copytree(SAME_SECOND, tmp_path / "content")
    write_file(content / "pages" / "over-ons.md", "Title: Over ons\nId: pagina-over-ons\n\nWie wij zijn.\n")
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert errors(site) == []
    assert site.soup("over-ons/").find("h1").get_text(strip=True) == "Over ons"


def test_an_explicit_id_keeps_its_entry_id_when_a_dated_one_equals_it(tmp_path):
    content = shutil.copytree(SAME_SECOND, tmp_path / "content")
    articles = content / "articles" / "2016"
    dated = articles / "koffie-met-inkoop.md"
    dated.write_text(dated.read_text(encoding="utf-8").replace("Id: wp-101\n", ""), encoding="utf-8")
    explicit = articles / "een-klacht-is-een-cadeautje.md"
    explicit.write_text(explicit.read_text(encoding="utf-8").replace(
        "Id: wp-102", "Id: artikel-100000"), encoding="utf-8")
    site = publish_site(tmp_path / "output", PATH=str(content), ARTICLE_ID_SINCE="2016-03-01")
    ids = feed_ids(site)
    assert ids["een-klacht-is-een-cadeautje"] == "tag:ruimte-en-richting.example,2016-03-01:artikel-100000"
    assert ids["koffie-met-inkoop"] == ids["een-klacht-is-een-cadeautje"] + "-koffie-met-inkoop"
    assert errors(site) == []
