"""Body and text conversion: what the old site showed is what the new site shows.

Each test imports a small export named after its case and renders the written
Markdown the way the build does (the site's MARKDOWN settings), then reads the HTML.
"""

import time
from collections import Counter
from pathlib import Path

import lxml.etree
import markdown
import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrate import import_wordpress
from pelicanconf import MARKDOWN
from tests.support import comment_files, in_ci, publish_site, read_source

SHARED_WORDPRESS = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "wordpress"


def render(text: str) -> BeautifulSoup:
    """``text`` as the build renders it, parsed."""
    configs = MARKDOWN["extension_configs"]
    html = markdown.Markdown(extensions=list(configs), extension_configs=configs,
                             output_format=MARKDOWN["output_format"]).convert(text)
    return BeautifulSoup(f"<div>{html}</div>", "html.parser").div


def texts(root, selector: str) -> list[str]:
    return [" ".join(e.get_text().split()) for e in root.select(selector)]


def tags(root) -> list[str]:
    return [root.name] + [e.name for e in root.find_all(True)]


def list_depth(root) -> int:
    return max((1 + len(e.find_parents(["ul", "ol"])) for e in root.find_all(["ul", "ol"])),
               default=0)


def imported(data, tmp_path, name: str) -> tuple[Path, object, dict]:
    content = tmp_path / "content"
    report, _ = import_wordpress(data(name), content)
    articles = {p.stem: read_source(p) for p in (content / "articles").rglob("*.md")}
    return content, report, articles


def shared_export(name: str) -> Path:
    path = SHARED_WORDPRESS / name
    if not path.exists():
        if in_ci():
            pytest.fail(f"{path} is missing; CI needs the shared fixtures")
        pytest.skip(f"{path} is not here (the shared fixtures are not checked out)")
    return path


# --- Finding 1: nested lists ---

def test_nested_lists_keep_their_three_levels(tmp_path, data):
    _, _, articles = imported(data, tmp_path, "body_nested_lists.xml")
    body = render(articles["een-plan-in-lagen"]["body"])
    assert list_depth(body) == 3
    assert texts(body, "ul > li > ul > li > ol > li") == ["Minder overleg", "Meer focus"]
    assert [li.find(string=True).strip() for li in body.select("div > ul > li > ul > li")] == [
        "Voor het team", "Voor de klant"]


@pytest.mark.parametrize("export, title", [("theme-preview.xml", "HTML"),
                                            ("64-block-test-data.xml", "List")])
def test_nested_lists_of_real_exports_keep_their_depth(tmp_path, export, title):
    path = shared_export(export)
    source = lxml.etree.parse(str(path))
    bodies = [item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded")
              for item in source.iter("item") if item.findtext("title") == title]
    expected = list_depth(BeautifulSoup(bodies[0], "html.parser"))
    assert expected >= 2
    content = tmp_path / "content"
    import_wordpress(path, content)
    written = [read_source(p) for p in (content / "articles").rglob("*.md")]
    body = next(a["body"] for a in written if a["title"] == title)
    assert list_depth(render(body)) == expected


# --- Finding 2: WordPress's paragraphs (wpautop) ---

def test_classic_text_gets_wordpress_paragraphs_even_next_to_a_p(tmp_path, data):
    content, _, articles = imported(data, tmp_path, "body_classic_paragraphs.xml")
    body = render(articles["alineas-zonder-tags"]["body"])
    paragraphs = body.find_all("p", recursive=False)
    assert [" ".join(p.get_text().split()) for p in paragraphs] == [
        "De inleiding staat in een echte alinea.",
        "Hier begint de tweede alinea. Deze regel staat eronder, in dezelfde alinea.",
        "De derde alinea volgt na een lege regel.",
        "De vierde alinea heeft een vet woord.",
        "De vijfde alinea staat na de code.",
    ]
    assert paragraphs[1].find("br") is not None  # a single newline is a line break
    assert paragraphs[2].find("img") is not None and paragraphs[2].find("br") is not None
    assert body.pre.get_text().strip() == "regel een\n\nregel drie"
    comment = render(comment_files(content)["wxr-41"]["body"])
    assert texts(comment, "p") == ["Goed stuk.", "Mijn tweede alinea.", "Mijn derde alinea."]


def test_the_built_site_shows_the_paragraphs_and_the_nested_list(tmp_path, data):
    content = tmp_path / "content"
    import_wordpress(data("body_classic_paragraphs.xml"), content)
    import_wordpress(data("body_nested_lists.xml"), content)
    site = publish_site(tmp_path / "output", PATH=str(content))
    prose = site.soup("2016/alineas-zonder-tags/").select_one(".prose")
    assert len(prose.find_all("p", recursive=False)) == 5
    plan = site.soup("2017/een-plan-in-lagen/").select_one(".prose")
    assert [li.get_text(strip=True) for li in plan.select("ul ul ol li")] == [
        "Minder overleg", "Meer focus"]


# --- Finding 3: text that looks like Markdown ---

def test_text_that_looks_like_markdown_stays_text(tmp_path, data):
    _, _, articles = imported(data, tmp_path, "body_text_like_markdown.xml")
    article = articles["tekens"]
    body = render(article["body"])
    assert body.select("h1, h2, ol, ul, blockquote, code, a, hr") == []
    assert texts(body, "p") == [
        "#dowork",
        "1984. Dat jaar begon alles.",
        "- geen opsomming, maar een gedachtestreep",
        "> geen citaat",
        "Typ `<br>` voor een nieuwe regel.",
        "Dit is \\[geen](https://oud-adviesblog.example/) link.",
        "Een titel ===",
    ]
    summary = render(article["summary"])
    assert tags(summary) == ["div", "p"]
    assert summary.get_text() == (
        "Waarom *x* geen nadruk is en \\[dit](https://oud-adviesblog.example/) geen link.")


# --- Finding 4: blocks the allow-list removes ---

def test_removed_blocks_keep_their_words_apart(tmp_path, data):
    content, _, articles = imported(data, tmp_path, "body_removed_blocks.xml")
    body = render(articles["vestigingen"]["body"])
    words = body.get_text().split()
    for word in ("Staten", "Ankertekst", "Utrecht", "Zwolle", "Kop", "deel"):
        assert word in words
    assert {"Verenigde Staten", "Ankertekst", "Utrecht", "Zwolle"} <= set(texts(body, "p"))
    assert texts(body, "h2") == ["Kop deel"]  # the only heading level becomes h2
    comment = render(comment_files(content)["wxr-71"]["body"])
    assert texts(comment, "p") == ["Vraag", "Komt er een vestiging in Groningen?"]


# --- Finding 5: a title and an excerpt that show markup ---

def test_escaped_markup_in_title_and_excerpt_stays_text(tmp_path, data):
    _, _, articles = imported(data, tmp_path, "body_escaped_title.xml")
    article = articles["uitleg"]
    assert article["title"] == "Uitleg over <script> en *sterren*"
    summary = render(article["summary"])
    assert tags(summary) == ["div", "p"]
    assert summary.get_text() == "Uitleg over <script> en *sterren*"


# --- Finding 6: deep nesting ---

@pytest.mark.parametrize("nesting", [
    "<blockquote>" * 5000 + "Diep citaat." + "</blockquote>" * 5000,
    "<ul><li>Punt" * 3000 + "</li></ul>" * 3000,
    "<div>" * 5000 + "Diep blok." + "</div>" * 5000,
])
def test_deep_nesting_is_flattened_in_bounded_work(tmp_path, data, nesting):
    template = data("body_deep_nesting.xml").read_text(encoding="utf-8")
    export = tmp_path / "body_deep_nesting.xml"
    export.write_text(template.replace("NESTING", nesting), encoding="utf-8")
    content = tmp_path / "content"
    started = time.perf_counter()
    report, _ = import_wordpress(export, content)
    assert time.perf_counter() - started < 20
    body = read_source(content / "articles" / "2012" / "citaat-in-citaat.md")["body"]
    rendered = render(body)  # the build's Markdown, without a RecursionError
    words = rendered.get_text().split()
    assert words[:3] == ["Voor", "het", "citaat."] and words[-3:] == ["Na", "het", "citaat."]
    inner = nesting[nesting.rindex(">", 0, nesting.index("</")) + 1:nesting.index("</")]
    assert inner.split()[-1] in words
    assert sum(n for reason, n in report.removed.items() if "nest" in reason) > 0


# --- Finding 7: addresses split by markup; a name with brackets ---

def test_split_email_addresses_are_removed_and_names_keep_their_brackets(tmp_path, data):
    content, report, articles = imported(data, tmp_path, "body_split_email.xml")
    body = render(articles["contact"]["body"])
    text = body.get_text()
    for leftover in ("voorbeeld.nl", "@"):
        assert leftover not in text
    assert text.count("[e-mailadres verwijderd]") == 3
    assert report.removed["email addresses"] >= 3
    assert body.a["href"] == "https://oud-adviesblog.example/team/"
    assert comment_files(content)["wxr-111"]["author"] == "alert(2)"


# --- Finding 8: a body over the limit ---

def test_a_body_just_over_the_limit_is_refused_fast_by_name(tmp_path, data):
    from migrate import text

    limit = getattr(text, "MAX_BODY_CHARACTERS", 2_000_000)
    template = data("body_too_large.xml").read_text(encoding="utf-8")
    export = tmp_path / "body_too_large.xml"
    export.write_text(template.replace("BODY", "<p>Lang verhaal.</p>\n\n" * (limit // 21 + 1)),
                      encoding="utf-8")
    content = tmp_path / "content"
    started = time.perf_counter()
    _, report_text = import_wordpress(export, content)
    assert time.perf_counter() - started < 3
    assert not list(content.rglob("te-lange-tekst.md"))
    assert "Een te lange tekst" in report_text or "121" in report_text


# --- Properties: any text stays the same text ---

PROSE = st.text(alphabet=st.sampled_from(list("abc XYZ019.-+*_#>=~:|`[]()!\\&<{};'\"é")),
                min_size=1, max_size=40)


def same_text(text: str) -> str:
    return " ".join(text.split())


@settings(max_examples=100, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(PROSE)
def test_markdown_text_renders_as_exactly_its_text(text):
    from migrate.text import markdown_text

    rendered = render(markdown_text(text))
    assert tags(rendered) in (["div"], ["div", "p"])
    assert same_text(rendered.get_text()) == same_text(text)


@settings(max_examples=100, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PROSE.filter(str.strip), min_size=4, max_size=4))
def test_every_text_node_of_a_body_survives_as_the_same_text(pieces):
    from html import escape

    from migrate.text import article_markdown

    first, second, third, fourth = (escape(piece) for piece in pieces)
    body = (f"<h2>{first}</h2><p>{second} <em>{third}</em> {fourth}</p>"
            f"<ul><li>{first}</li></ul><blockquote><p>{third}</p></blockquote>")
    rendered = render(article_markdown(body, Counter(), wordpress=False))
    assert texts(rendered, "h2") == [same_text(pieces[0])]
    assert texts(rendered, "p em") == [same_text(pieces[2])]
    assert texts(rendered, "li") == [same_text(pieces[0])]
    assert texts(rendered, "blockquote") == [same_text(pieces[2])]
    assert texts(rendered, "div > p") == [same_text(" ".join(pieces[1:]))]
