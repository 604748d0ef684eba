"""Comments: threaded, sanitised, status-aware, counted, and never personal data."""

import json
from pathlib import Path

import pytest

from adviesblog_common.sanitize import clean_user_html
from tests.support import PUBLISH_SITEURL, publish_site, write_file

FIXTURE = Path(__file__).parent / "test_data" / "commented_articles"
ARTICLE = "2024/met-reacties/"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return publish_site(tmp_path_factory.mktemp("comments") / "output", PATH=str(FIXTURE))


def comments(site, page=ARTICLE):
    return site.soup(page).select("ol.comment-list > li")


def test_heading_counts_the_approved_comments(site):
    assert site.soup(ARTICLE).select_one("#reacties h2").get_text() == "Reacties (6)"


def test_replies_are_threaded_and_capped_at_four_levels(site):
    threaded = [(li["id"], li["class"][1]) for li in comments(site)]
    assert threaded == [
        ("reactie-wxr-1", "comment--depth-1"), ("reactie-wxr-2", "comment--depth-2"),
        ("reactie-wxr-3", "comment--depth-3"), ("reactie-wxr-4", "comment--depth-4"),
        ("reactie-wxr-5", "comment--depth-4"), ("reactie-xss-1", "comment--depth-1"),
    ]
    fifth = comments(site)[4]
    assert fifth.select_one(".comment__reply-to").get_text() == "reactie op Dirk"
    assert comments(site)[3].select_one(".comment__reply-to") is None


def test_each_comment_has_an_anchor_a_dutch_date_and_a_nofollow_author(site):
    first = comments(site)[0]
    assert first.find("a", href="#reactie-wxr-1").time.get_text() == "11 maart 2024"
    author = first.find("a", href="https://bram.example/")
    assert author.get_text() == "Bram de Vries" and author["rel"] == ["nofollow", "ugc"]
    body = first.select_one(".comment__body")
    assert body.em.get_text() == "nadruk"
    assert body.a["href"] == "https://bron.example/pad"


def test_pending_and_spam_stay_out_and_pingbacks_are_mentions(site):
    text = site.soup(ARTICLE).get_text()
    assert "Nog niet goedgekeurd" not in text and "Koop nu" not in text
    mentions = site.soup(ARTICLE).select(".mention-list li")
    assert [m.a.get_text() for m in mentions] == ["Een ander blog"]
    assert site.soup(ARTICLE).find("h3").get_text() == "Vermeldingen"


def test_hostile_comment_html_comes_out_inert(site):
    soup = site.soup(ARTICLE)
    hostile = soup.find("li", id="reactie-xss-1")
    assert hostile.find_all(["script", "img", "svg", "iframe", "style"]) == []
    for tag in hostile.find_all(True):
        assert not [a for a in tag.attrs if a.startswith("on") or a == "style"], tag
        for attribute in ("href", "src"):
            assert not str(tag.get(attribute, "")).lower().startswith("javascript:"), tag
    assert "<script>alert(1)</script>Mallory" in hostile.select_one(".comment__meta").get_text()
    assert hostile.select_one(".comment__meta a[rel]") is None  # its javascript: URL was dropped
    scripts = [s for s in soup.find_all("script") if s.get("type") != "application/ld+json"]
    assert scripts == []
    assert any("author_url" in m and "xss-1.md" in m for m in site.messages())


def test_closed_keeps_old_comments_without_an_invitation_and_hidden_shows_nothing(site):
    closed = site.soup("2024/gesloten/")
    assert [li["id"] for li in closed.select("ol.comment-list > li")] == ["reactie-wxr-20"]
    assert closed.select_one(".comment-invite") is None
    assert closed.find(id="reacties").find("form") is None
    assert closed.select_one(".comments__closed").get_text() == "Reageren is gesloten."
    hidden = site.soup("2024/verborgen/")
    assert hidden.find(id="reacties") is None
    assert "Niet tonen" not in hidden.get_text()


def test_article_without_comments_invites_a_reaction_through_the_form(site):
    # With REACTIONS_ENDPOINT = "" it is a mailto: link (test_reaction_pages.py).
    section = site.soup("2024/zonder-reacties/").find(id="reacties")
    assert section.h2.get_text() == "Er zijn nog geen reacties"
    assert section.h3.get_text() == "Reageer"
    assert section.find("form")["action"] == f"{PUBLISH_SITEURL}/reactie/"
    assert section.select_one(".comment-invite") is None


def test_count_on_cards_and_in_json_ld(site):
    card = next(c for c in site.soup("index.html").select(".card")
                if c.h2.get_text(strip=True) == "Met reacties")
    assert card.find("a", href=f"{PUBLISH_SITEURL}/{ARTICLE}#reacties").get_text() == "6 reacties"
    ld = json.loads(site.soup(ARTICLE).find("script", type="application/ld+json").string)
    assert ld["commentCount"] == 6


def article_with_comments(tmp_path, comments: dict[str, str]) -> Path:
    """An article "Stuk" by Anna Jansen with these comment files, by file name."""
    content = tmp_path / "content"
    write_file(content / "authors" / "anna-jansen.md", "Name: Anna Jansen\n\nBio.\n")
    write_file(content / "articles" / "stuk.md",
               "Title: Stuk\nDate: 2024-01-01\nAuthor: anna-jansen\n\nTekst.\n")
    for name, text in comments.items():
        write_file(content / "comments" / "stuk" / name, text)
    return content


def test_a_file_with_personal_data_or_a_bad_date_is_an_error(tmp_path):
    content = article_with_comments(tmp_path, {
        "a.md": "id: a\nauthor: Piet\nemail: piet@voorbeeld.example\ndate: 2024-01-02\n\nHoi.\n",
        "b.md": "id: b\nauthor: Kees\ndate: gisteren\n\nHoi.\n",
    })
    site = publish_site(tmp_path / "output", PATH=str(content))
    messages = site.messages()
    assert any("a.md, line 3: field 'email' holds personal data" in m for m in messages)
    assert any("b.md: field 'date' is 'gisteren'" in m for m in messages)
    page = (site.output / "2024" / "stuk" / "index.html").read_text(encoding="utf-8")
    assert "piet@voorbeeld.example" not in page and "Hoi." not in page


def test_control_characters_never_reach_the_page_from_a_body_or_a_name(tmp_path):
    # Found by tests/test_hostile_input_property.py: nh3 writes &#x1b; as the character.
    content = article_with_comments(tmp_path, {
        "a.md": "id: a\nauthor: Piet\ndate: 2024-01-02\n\nVoor &#x1b; en &#1; na.\n",
        "b.md": "id: b\nauthor: Kees \ufffe\ndate: 2024-01-02\n\nHoi.\n",
    })
    site = publish_site(tmp_path / "output", PATH=str(content))
    page = (site.output / "2024" / "stuk" / "index.html").read_text(encoding="utf-8")
    assert "Voor  en  na." in page and "\x1b" not in page and "\x01" not in page
    assert "Kees" not in page
    assert any("b.md: field 'author' holds a control character (U+FFFE)" in m
               for m in site.messages())


def test_a_body_of_deeply_nested_lists_is_an_error_not_a_crash(tmp_path):
    # Found by tests/test_hostile_input_property.py: Python-Markdown recursed past
    # Python's stack on "+ + + …" and the RecursionError stopped the whole build.
    content = article_with_comments(tmp_path, {
        "diep.md": "id: diep\nauthor: Piet\ndate: 2024-01-02\n\n" + "+ " * 600 + "\n",
        "antwoord.md": "id: antwoord\nparent: diep\nauthor: Kees\ndate: 2024-01-03\n\nHoi.\n",
    })
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert any("diep.md: the body nests lists or quotes too deeply" in m
               for m in site.messages()), site.messages()
    page = site.soup("2024/stuk/")
    assert [li["id"] for li in page.select("ol.comment-list > li")] == ["reactie-antwoord"]


@pytest.mark.parametrize("payload, survivor", [
    ("<script>alert(1)</script>tekst", "tekst"),
    ('<img src=x onerror="alert(1)">', ""),
    ('<svg onload="alert(1)"><circle/></svg>', ""),
    ('<a href="javascript:alert(1)">klik</a>', '<a rel="nofollow ugc noopener">klik</a>'),
    ('<p style="color:red">rood</p>', "<p>rood</p>"),
    ('<a href="https://ok.example" onclick="x()">ok</a>',
     '<a href="https://ok.example" rel="nofollow ugc noopener">ok</a>'),
])
def test_sanitise_keeps_only_the_allow_list(payload, survivor):
    assert clean_user_html(payload) == survivor
