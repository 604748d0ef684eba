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
from migrate.text import article_markdown
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


# --- New-user test: an address in a paragraph with markup ---

def test_an_address_in_a_paragraph_keeps_its_links_images_and_emphasis(tmp_path, data):
    content, report, articles = imported(data, tmp_path, "body_email_in_formatted_paragraph.xml")
    body = render(articles["bereikbaarheid"]["body"])
    first, second = body.find_all("p", recursive=False)
    assert first.a["href"] == "https://oud-adviesblog.example/contact/"
    assert first.a.get_text() == "onze contactpagina"
    assert first.strong.get_text() == "gerust"
    assert second.img["src"].endswith("/wp-content/uploads/2018/05/balie.jpg")
    assert second.img["alt"] == "De balie"
    assert "@" not in body.get_text() and body.get_text().count("[e-mailadres verwijderd]") == 2
    assert report.removed["email addresses"] == 2


# --- New-user test: relative links and images ---

def test_relative_links_and_images_point_at_the_old_site_and_the_site_publishes(tmp_path, data):
    content, _, articles = imported(data, tmp_path, "body_relative_urls.xml")
    body = render(articles["verhuizing"]["body"])
    assert body.img["src"] == ("https://oud-adviesblog.example/wp-content/uploads/2019/03/"
                               "nieuw-pand.jpg")
    assert [a["href"] for a in body.find_all("a")] == [
        "https://oud-adviesblog.example/2019/02/plannen/",
        "https://oud-adviesblog.example/2019/03/routebeschrijving/",
        "https://kaart.example/zwolle",
        "#adres",
    ]
    images = (content / ".migrate" / "images-wordpress.tsv").read_text(encoding="utf-8")
    assert "https://oud-adviesblog.example/wp-content/uploads/2019/03/nieuw-pand.jpg" in images
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert [m for m in site.messages() if "does not exist" in m] == []
    prose = site.soup("2019/verhuizing/").select_one(".prose")
    assert prose.img["src"].startswith("https://oud-adviesblog.example/wp-content/uploads/")


# --- New-user test: galleries, audio, video, captions and footnotes ---

def test_gallery_audio_video_and_an_old_caption_are_kept(tmp_path, data):
    content, _, articles = imported(data, tmp_path, "body_wordpress_media.xml")
    body = render(articles["terugblik-heidag"]["body"])
    uploads = "https://oud-adviesblog.example/wp-content/uploads/2020/06/"
    assert [(img["src"], img["alt"]) for img in body.find_all("img")] == [
        (uploads + "heidag-1.jpg", "Het team op de hei"),
        (uploads + "heidag-2.jpg", "Lunch in de schuur"),
        (uploads + "schuur.jpg", "Schuur"),
    ]
    assert [a["href"] for a in body.find_all("a")] == [uploads + "gesprek.mp3",
                                                        uploads + "heidag.mp4"]
    assert "De schuur waar we aten" in texts(body, "p")
    assert body.find("em").get_text() == "aten"
    images = (content / ".migrate" / "images-wordpress.tsv").read_text(encoding="utf-8")
    assert uploads + "heidag-2.jpg" in images


def test_block_editor_footnotes_keep_their_notes(tmp_path, data):
    content, _, articles = imported(data, tmp_path, "body_wordpress_media.xml")
    written = articles["bronnen"]["body"]
    body = render(written)
    references = body.select("p sup a")
    assert [a.get_text() for a in references] == ["1", "2"]
    notes = body.select("div.footnote li")
    assert [" ".join(li.get_text().replace("\u21a9", "").split()) for li in notes] == [
        "Onderzoek naar thuiswerken, 2019.", "Zie de praktijkverhalen."]
    assert [a["href"] for a in references] == ["#" + li["id"] for li in notes]
    assert notes[1].a["href"] == "https://oud-adviesblog.example/praktijk/"
    assert "<" not in written  # plain Markdown footnotes, not the HTML fallback
    site = publish_site(tmp_path / "output", PATH=str(content))
    prose = site.soup("2021/bronnen/").select_one(".prose")
    assert [" ".join(li.get_text().replace("\u21a9", "").split())
            for li in prose.select(".footnote li")] == [
        "Onderzoek naar thuiswerken, 2019.", "Zie de praktijkverhalen."]


def test_footnotes_of_the_real_block_test_data_are_kept(tmp_path):
    path = shared_export("64-block-test-data.xml")
    content = tmp_path / "content"
    import_wordpress(path, content)
    written = [read_source(p) for p in (content / "articles").rglob("*.md")]
    footnoted = [a for a in written if "[^1]" in a["body"]]
    assert footnoted
    assert "A note" in render(footnoted[0]["body"]).select_one("div.footnote").get_text()


# --- New-user test: lists and tables ---

def test_lists_in_a_row_start_numbers_footers_and_headerless_tables_keep_their_shape(
        tmp_path, data):
    content, _, articles = imported(data, tmp_path, "body_lists_and_tables.xml")
    body = render(articles["stappenplan"]["body"])
    lists = body.find_all("ol", recursive=False)
    assert [[li.get_text() for li in ol.find_all("li")] for ol in lists] == [
        ["Kennismaken", "Analyseren"], ["Eerste advies"], ["Uitvoeren", "Evalueren"]]
    assert lists[2]["start"] == "4"
    with_footer, without_header = body.find_all("table")
    assert texts(with_footer, "thead th") == ["Fase", "Weken"]
    assert texts(with_footer, "tfoot td") == ["Totaal", "3"]
    assert "---" not in with_footer.get_text()
    assert without_header.find("th") is None
    assert texts(without_header, "td") == ["Utrecht", "maandag", "Zwolle", "dinsdag"]
    site = publish_site(tmp_path / "output", PATH=str(content))
    prose = site.soup("2022/stappenplan/").select_one(".prose")
    assert len(prose.find_all("ol", recursive=False)) == 3
    assert prose.select("table")[1].find("th") is None
    assert texts(prose, "tfoot td") == ["Totaal", "3"]


@pytest.mark.parametrize("html, shown", [
    ("<pre>```python\nprint('hallo')\n```</pre><p>Daarna &lt;b&gt;vet&lt;/b&gt;.</p>",
     ["```python\nprint('hallo')\n```", "Daarna <b>vet</b>."]),
    ("<pre>een ```` regel</pre>", ["een ```` regel"]),
])
def test_a_code_block_holding_a_fence_stays_one_block(html, shown):
    soup = render(article_markdown(html, Counter(), wordpress=False))
    assert [block.get_text().strip() for block in soup.find_all(["pre", "p"])] == shown


def test_an_image_whose_address_was_removed_is_left_out(tmp_path):
    markdown_body = article_markdown(
        '<p><img src="data:image/png;base64,AAAA" alt="Schermafbeelding *oud*"> van de site</p>',
        Counter(), wordpress=False)
    soup = render(markdown_body)
    assert soup.find("img") is None
    assert soup.get_text().strip() == "van de site"


@pytest.mark.parametrize("stored", ['{"niet": "een lijst"}', "[" * 100_000 + "]" * 100_000])
def test_footnotes_that_are_not_the_block_editors_json_are_a_warning(tmp_path, data, stored):
    export = tmp_path / "body_wordpress_media.xml"
    source = data("body_wordpress_media.xml").read_text(encoding="utf-8")
    start = source.index("<wp:meta_value><![CDATA[[{", source.index("[footnotes]"))
    end = source.index("]]></wp:meta_value>", start)
    export.write_text(source[:start] + f"<wp:meta_value><![CDATA[{stored}" + source[end:],
                      encoding="utf-8")
    report, _ = import_wordpress(export, tmp_path / "content")
    assert any("footnotes are not the block editor's JSON" in w for w in report.warnings)
    assert report.counts["posts"] >= 1
