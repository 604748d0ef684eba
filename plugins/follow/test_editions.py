"""Email editions: email-safe HTML, readable text, and editions.json for the sender."""

import json
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from lxml import etree
from pelican.settings import read_settings

from follow.digest import DigestRenderer, render_digest
from follow.editions import email_images
from tests.support import PUBLISH_SITEURL, ROOT, publish_site, sample_articles, write_file

FORBIDDEN_CSS = re.compile(r"(?:^|[;\s{])(?:display\s*:\s*(?:flex|grid|inline-flex)|float\s*:|"
                           r"position\s*:|grid-|flex-)", re.IGNORECASE)
PLACEHOLDER = f"{PUBLISH_SITEURL}/volg/afmelden/"
FIXTURE_CONTENT = Path(__file__).parent / "test_data" / "content"
GMAIL_CLIP_BYTES = 100 * 1024


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return publish_site(tmp_path_factory.mktemp("editions") / "output")


def manifest(site):
    return json.loads((site.output / "nieuwsbrief" / "editions.json").read_text(encoding="utf-8"))


def editions_of(site):
    return [e for e in manifest(site)["editions"] if e["kind"] == "article"]


def fixture_content(tmp_path, **articles) -> Path:
    """A copy of the small fixture site in ``test_data``, plus ``articles`` (stem: text)."""
    content = shutil.copytree(FIXTURE_CONTENT, tmp_path / "content")
    for stem, text in articles.items():
        write_file(content / "articles" / f"{stem}.md", text)
    return content


def errors(site):
    return site.messages(logging.ERROR)


def test_every_published_article_and_nothing_else_has_an_edition(sample):
    published = sorted(sample_articles(), key=lambda a: a["date"], reverse=True)
    editions = editions_of(sample)
    assert [e["title"] for e in editions] == [a["title"] for a in published]
    for edition in editions:
        assert (sample.output / edition["html"]).is_file()
        assert (sample.output / edition["text"]).is_file()
    for draft in sample_articles("draft"):
        assert not (sample.output / "nieuwsbrief" / draft["path"].stem).exists()


def test_html_editions_survive_real_email_clients(sample):
    for edition in editions_of(sample):
        raw = (sample.output / edition["html"]).read_bytes()
        assert len(raw) < 100 * 1024, edition["html"]
        soup = BeautifulSoup(raw, "html.parser")
        assert soup.html["lang"] == "nl"
        assert soup.find_all(["script", "form", "input", "iframe"]) == []
        assert soup.find_all("style") == [], "CSS must be inlined"
        container = soup.select_one("table.container")
        assert "max-width: 600px" in container["style"].replace(":600px", ": 600px")
        assert len(soup.select("table.container")) == 1
        for tag in soup.find_all(style=True):
            assert not FORBIDDEN_CSS.search(tag["style"]), f"{edition['html']}: {tag['style']}"
        for image in soup.find_all("img"):
            assert image.has_attr("alt"), edition["html"]
        for tag in soup.find_all(href=True) + soup.find_all(src=True):
            url = tag.get("href") or tag.get("src")
            assert urlsplit(url).scheme in ("https", "mailto"), f"{edition['html']}: {url}"
        browser = soup.find("a", string="Bekijk in je browser")
        assert browser["href"] == edition["browser_url"]
        assert browser["href"] == f"{PUBLISH_SITEURL}/{edition['html'].removesuffix('index.html')}"
        assert soup.find("a", href=PLACEHOLDER).get_text() == "Met één klik afmelden"
        assert soup.h1.get_text() == edition["title"]


def test_text_editions_are_readable_on_their_own(sample):
    for edition in editions_of(sample):
        text = (sample.output / edition["text"]).read_text(encoding="utf-8")
        assert not re.search(r"<[a-zA-Z/!]", text), edition["text"]
        assert "&amp;" not in text and "&lt;" not in text
        lines = text.splitlines()
        title_line = lines.index(edition["title"])
        assert lines[title_line + 1] == "=" * len(edition["title"])
        assert f"Bekijk in je browser: {edition['browser_url']}" in text
        assert f"Lees op de site: {edition['url']}" in text
        assert f"Met één klik afmelden: {PLACEHOLDER}" in text
        # A URL is never broken across lines; everything else wraps at 72.
        assert max(len(line) for line in lines if "https://" not in line) <= 72
        markers = [int(n) for n in re.findall(r" \[(\d+)\]", text.split("\nLinks:\n")[0])]
        if markers:
            notes = text.split("\nLinks:\n")[1]
            assert markers == list(range(1, len(markers) + 1))
            for number in markers:
                assert re.search(rf"^\[{number}\] https://", notes, re.MULTILINE)


def test_series_part_edition_has_the_series_line_and_teaser(sample):
    part = next(a for a in sample_articles() if a.get("series_index") == "2")
    edition = next(e for e in editions_of(sample) if e["title"] == part["title"])
    assert edition["series"] == part["series"]
    assert edition["series_slug"] == "interne-klantgerichtheid"
    soup = BeautifulSoup((sample.output / edition["html"]).read_text(encoding="utf-8"),
                         "html.parser")
    assert soup.select_one("p.series").get_text() == f"Deel 2 van 3 in de serie {part['series']}"
    assert soup.select_one("p.teaser").get_text(" ", strip=True) == f"Volgende keer: {part['next']}"
    text = (sample.output / edition["text"]).read_text(encoding="utf-8")
    assert f"Volgende keer: {part['next']}" in text


def test_editions_json_gives_the_sender_what_it_needs(sample):
    data = manifest(sample)
    assert data["format"] == 1
    assert data["placeholders"] == {"unsubscribe_url": PLACEHOLDER}
    assert data["site"] == {"name": "Ruimte & Richting", "url": PUBLISH_SITEURL}
    # The sender's cadence, from the same setting as the consent text (see test_follow).
    assert data["frequency"] == {"key": "weekly", "days": 7, "text": "hooguit één keer per week"}
    feed = etree.parse(str(sample.output / "feeds" / "alle.atom.xml")).getroot()
    feed_ids = [e.findtext("{http://www.w3.org/2005/Atom}id")
                for e in feed.findall("{http://www.w3.org/2005/Atom}entry")]
    editions = editions_of(sample)
    assert [e["id"] for e in editions] == feed_ids
    for edition in editions:
        source = next(a for a in sample_articles() if a["title"] == edition["title"])
        assert edition["date"].startswith(source["date"][:10])
        assert edition["category"] == source["category"]
        assert edition["url"].startswith(PUBLISH_SITEURL + "/")
        assert len(edition["authors"]) == len((source.get("author") or source["authors"]).split(","))
        summary = BeautifulSoup(edition["summary_html"], "html.parser")
        assert summary.get_text(" ", strip=True).startswith(" ".join(source["summary"].split()[:4]))
        assert " ".join(edition["summary_text"].split()) == summary.get_text(" ", strip=True)


def test_editions_are_byte_identical_between_builds(sample, tmp_path):
    again = publish_site(tmp_path / "again")
    for path in (sample.output / "nieuwsbrief").rglob("*"):
        if path.is_file():
            assert (again.output / path.relative_to(sample.output)).read_bytes() == path.read_bytes()


def test_editor_index_lists_every_edition(sample):
    soup = BeautifulSoup((sample.output / "nieuwsbrief" / "index.html").read_text(encoding="utf-8"),
                         "html.parser")
    assert soup.find("meta", attrs={"name": "robots"})["content"] == "noindex"
    linked = {a["href"] for a in soup.select("main a")}
    for edition in editions_of(sample):
        assert f"{PUBLISH_SITEURL}/{edition['html']}" in linked
        assert f"{PUBLISH_SITEURL}/{edition['text']}" in linked


def test_digest_covers_the_articles_since_a_date(tmp_path):
    site = publish_site(tmp_path / "output", FOLLOW_DIGEST_SINCE="2024-06-01")
    digest = manifest(site)["editions"][0]
    expected = sorted((a for a in sample_articles() if a["date"] >= "2024-06-01"),
                      key=lambda a: a["date"], reverse=True)
    assert digest["kind"] == "digest"
    assert digest["title"] == "Artikelen van 1 juni 2024 tot en met 17 juni 2025"
    soup = BeautifulSoup((site.output / digest["html"]).read_text(encoding="utf-8"), "html.parser")
    assert [h.get_text() for h in soup.select(".digest-item h2")] == [a["title"] for a in expected]
    assert len(digest["articles"]) == len(expected)
    text = (site.output / digest["text"]).read_text(encoding="utf-8")
    assert all(a["title"] in text for a in expected)
    assert not re.search(r"<[a-zA-Z/!]", text)


def test_invoke_edition_renders_a_digest(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", str(ROOT), "edition",
         "--since", "2025-01-01"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "output" / "nieuwsbrief" / "editions.json").read_text())
    assert data["editions"][0]["kind"] == "digest"
    assert (tmp_path / "output" / "nieuwsbrief" / "overzicht-2025-01-01" / "index.txt").is_file()


def test_bad_digest_date_is_reported(tmp_path):
    site = publish_site(tmp_path / "output", FOLLOW_DIGEST_SINCE="vorige week")
    assert any("FOLLOW_DIGEST_SINCE is 'vorige week'" in m for m in site.messages())


def test_images_without_alt_get_an_empty_alt(tmp_path):
    content = fixture_content(tmp_path, **{"zonder-alt": (
        "Title: Zonder alt\nDate: 2024-01-01\nAuthor: anna-jansen\n\n"
        '<p><img src="/images/x.svg"></p>\n')})
    write_file(content / "images" / "x.svg", '<svg xmlns="http://www.w3.org/2000/svg"/>')
    site = publish_site(tmp_path / "output", PATH=str(content))
    soup = BeautifulSoup((site.output / "nieuwsbrief" / "zonder-alt" / "index.html").read_text(
        encoding="utf-8"), "html.parser")
    assert [img.get("alt") for img in soup.find_all("img")] == [""]


def test_image_whose_url_holds_alt_equals_still_gets_an_alt(tmp_path):
    # Firebase Storage and other image hosts put "?alt=media" in their URLs.
    url = "https://firebasestorage.googleapis.com/v0/b/demo/o/team.jpg?alt=media"
    content = fixture_content(tmp_path, **{"foto-van-het-team": (
        "Title: Foto van het team\nDate: 2024-01-01\nAuthor: anna-jansen\n\n"
        f'<p><img src="{url}"></p>\n')})
    site = publish_site(tmp_path / "output", PATH=str(content))
    soup = BeautifulSoup((site.output / "nieuwsbrief" / "foto-van-het-team" / "index.html")
                         .read_text(encoding="utf-8"), "html.parser")
    assert [(img["src"], img.get("alt")) for img in soup.find_all("img")] == [(url, "")]


def test_code_examples_stay_text_in_both_editions(tmp_path):
    examples = ['<a href="/contact/">', 'src="foto.jpg"', '<img src="foto.jpg">']
    block = '<p><img src="/images/x.svg"></p>\n<a href="/contact/">Contact</a>'
    content = fixture_content(tmp_path, **{"html-uitgelegd": (
        "Title: HTML uitgelegd\nDate: 2024-01-01\nAuthor: anna-jansen\n\n"
        + "".join(f"Schrijf `{example}` in de pagina.\n\n" for example in examples)
        + "".join(f"    {line}\n" for line in block.splitlines()))})
    site = publish_site(tmp_path / "output", PATH=str(content))
    folder = site.output / "nieuwsbrief" / "html-uitgelegd"
    soup = BeautifulSoup((folder / "index.html").read_text(encoding="utf-8"), "html.parser")
    article = soup.select_one("td.content")
    assert [code.get_text() for code in article.select("p code")] == examples
    assert article.pre.get_text() == block + "\n"
    assert article.find_all("img") == []
    assert [a["href"] for a in article.find_all("a")] == [f"{PUBLISH_SITEURL}/2024/html-uitgelegd/"]
    text = (folder / "index.txt").read_text(encoding="utf-8")
    for example in examples:
        assert f"Schrijf {example} in de pagina." in text
    assert block in text


def long_article(paragraphs: int = 150) -> str:
    """A column of 13,500 words, in chapters: far over Gmail's limit as one email."""
    words = ["klantgerichtheid", "samenwerkingsafspraken", "verantwoordelijkheid",
             "leidinggevende", "teamoverleg", "organisatieontwikkeling", "vertrouwen"]
    blocks = []
    for number in range(1, paragraphs + 1):
        if number % 30 == 1:
            blocks.append(f"## Hoofdstuk {number // 30 + 1}")
        blocks.append(f"Alinea {number}: " + " ".join(words[(number + i) % len(words)]
                                                      for i in range(88)))
    return "\n\n".join(blocks)


def test_long_article_edition_is_cut_to_fit_gmail_and_links_to_the_rest(tmp_path):
    body = long_article()
    assert len(body.split()) > 13_500 and len(body.encode()) > 2 * GMAIL_CLIP_BYTES
    content = fixture_content(tmp_path, **{"heel-lang": (
        "Title: Heel lang\nDate: 2024-01-02\nAuthor: anna-jansen\n\n" + body + "\n")})
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert errors(site) == []
    url = f"{PUBLISH_SITEURL}/2024/heel-lang/"
    edition = next(e for e in editions_of(site) if e["url"] == url)
    raw = (site.output / edition["html"]).read_bytes()
    assert len(raw) < GMAIL_CLIP_BYTES
    soup = BeautifulSoup(raw, "html.parser")
    kept = [int(p.get_text().split(":")[0].removeprefix("Alinea "))
            for p in soup.find_all("p", string=re.compile(r"^Alinea \d+:"))]
    assert kept == list(range(1, len(kept) + 1)) and 50 < len(kept) < 150
    read_on = soup.find_all("a", string="Lees verder op de site")
    assert [a["href"] for a in read_on] == [url]
    # The link follows the last whole paragraph that fits.
    assert read_on[0].find_parent("p").find_previous_sibling().get_text().startswith(
        f"Alinea {kept[-1]}: ")
    text = (site.output / edition["text"]).read_text(encoding="utf-8")
    assert re.findall(r"^Alinea (\d+):", text, re.MULTILINE) == [str(n) for n in kept]
    blocks = text.split("\n-- \n")[0].strip().split("\n\n")
    assert blocks[-2].startswith(f"Alinea {kept[-1]}: ")
    assert blocks[-1] == f"Lees verder op de site: {url}"


def test_digest_covers_an_article_without_author(tmp_path):
    content = fixture_content(tmp_path, **{"zonder-auteur": (
        "Title: Zonder auteur\nDate: 2024-05-01\n\nEen artikel van de redactie.\n")})
    site = publish_site(tmp_path / "output", PATH=str(content), FOLLOW_DIGEST_SINCE="2024-01-01")
    digest = manifest(site)["editions"][0]
    assert digest["kind"] == "digest"
    assert digest["authors"] == ["Anna Jansen"]
    soup = BeautifulSoup((site.output / digest["html"]).read_text(encoding="utf-8"), "html.parser")
    assert [h.get_text() for h in soup.select(".digest-item h2")] == [
        "Zonder auteur", "Kort overleg", "Samen plannen"]
    unsigned = soup.select(".digest-item")[0].select_one("p.meta").get_text()
    assert unsigned == "1 mei 2024"


TRICKY_TITLE = 'Uitleg over <script> en "quotes" & meer'
TRICKY_NAME = "Jan <img src=x onerror=alert(2)>"


def test_title_and_author_name_with_markup_are_text_escaped_once(tmp_path):
    content = fixture_content(tmp_path, **{"uitleg": (
        f"Title: {TRICKY_TITLE}\nSlug: uitleg\nDate: 2024-05-01\nAuthor: jan\n"
        "Summary: Over *tekens* die HTML kunnen zijn.\n\nEen uitleg.\n")})
    write_file(content / "authors" / "jan.md", f"Name: {TRICKY_NAME}\n\nJan schrijft.\n")
    site = publish_site(tmp_path / "output", PATH=str(content), FOLLOW_DIGEST_SINCE="2024-01-01")
    edition = next(e for e in editions_of(site) if e["url"].endswith("/uitleg/"))
    assert (edition["title"], edition["subject"]) == (TRICKY_TITLE, TRICKY_TITLE)
    assert edition["authors"] == [TRICKY_NAME]
    digest = manifest(site)["editions"][0]
    assert TRICKY_NAME in digest["authors"]

    pages = {name: (site.output / path).read_text(encoding="utf-8") for name, path in (
        ("edition", edition["html"]), ("digest", digest["html"]),
        ("index", "nieuwsbrief/index.html"))}
    for name, page in pages.items():
        assert "&amp;amp;" not in page and "&amp;lt;" not in page, name
        soup = BeautifulSoup(page, "html.parser")
        assert soup.find_all("script") == [], name
        assert soup.find_all(attrs={"onerror": True}) == [], name
    soup = BeautifulSoup(pages["edition"], "html.parser")
    assert soup.title.get_text() == TRICKY_TITLE
    assert soup.h1.get_text() == TRICKY_TITLE
    assert f"door {TRICKY_NAME}" in soup.select_one("p.meta").get_text()
    soup = BeautifulSoup(pages["digest"], "html.parser")
    item = soup.select(".digest-item")[0]
    assert item.h2.get_text() == TRICKY_TITLE
    assert f"door {TRICKY_NAME}" in item.select_one("p.meta").get_text()
    # The summary is HTML the build made: shown as HTML, not as its source.
    assert item.find("em").get_text() == "tekens"
    assert item.find_all("span")[-1].get_text() == f" – {TRICKY_TITLE}"
    soup = BeautifulSoup(pages["index"], "html.parser")
    assert TRICKY_TITLE in [a.get_text() for a in soup.select("main a")]

    text = (site.output / edition["text"]).read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[lines.index(TRICKY_TITLE) + 1] == "=" * len(TRICKY_TITLE)
    assert f"door {TRICKY_NAME}" in text
    digest_text = (site.output / digest["text"]).read_text(encoding="utf-8")
    assert TRICKY_TITLE in digest_text.splitlines()
    assert "&amp;" not in text + digest_text and "&lt;" not in text + digest_text


def test_editions_can_be_limited_to_the_newest_articles(tmp_path):
    site = publish_site(tmp_path / "output", FOLLOW_EDITIONS_MAX=2)
    newest = sorted(sample_articles(), key=lambda a: a["date"], reverse=True)[:2]
    assert [e["title"] for e in editions_of(site)] == [a["title"] for a in newest]
    assert len([p for p in (site.output / "nieuwsbrief").iterdir() if p.is_dir()]) == 2


def test_summaries_in_editions_json_are_email_ready(tmp_path):
    content = fixture_content(tmp_path, **{"met-beeld": (
        "Title: Met beeld\nDate: 2024-01-01\nAuthor: anna-jansen\n\n"
        '<p><img src="/images/x.svg"> Zie ook <a href="/2024/samen-plannen/">samen plannen</a>.'
        "</p>\n")})
    write_file(content / "images" / "x.svg", '<svg xmlns="http://www.w3.org/2000/svg"/>')
    site = publish_site(tmp_path / "output", PATH=str(content))
    edition = next(e for e in editions_of(site) if e["title"] == "Met beeld")
    summary = BeautifulSoup(edition["summary_html"], "html.parser")
    assert [(img["src"], img["alt"]) for img in summary.find_all("img")] == [
        (f"{PUBLISH_SITEURL}/images/x.svg", "")]
    assert [a["href"] for a in summary.find_all("a")] == [f"{PUBLISH_SITEURL}/2024/samen-plannen/"]
    assert edition["summary_text"].startswith("Zie ook samen plannen [1].")
    assert f"[1] {PUBLISH_SITEURL}/2024/samen-plannen/" in edition["summary_text"]


# --- Digests rendered by the sender, without a build ----------------------------------

@pytest.fixture(scope="module")
def digest_site(tmp_path_factory):
    return publish_site(tmp_path_factory.mktemp("digest") / "output",
                        FOLLOW_DIGEST_SINCE="2024-01-01")


def project_settings():
    return read_settings(str(ROOT / "publishconf.py"), override={"SITEURL": PUBLISH_SITEURL})


def test_sender_digest_equals_the_builds_digest(digest_site):
    data = manifest(digest_site)
    digest = data["editions"][0]
    assert digest["kind"] == "digest"
    rendered = render_digest(project_settings(), data, digest["articles"], since=digest["since"],
                             browser_url=digest["browser_url"])
    assert rendered == (digest["subject"],
                        (digest_site.output / digest["html"]).read_text(encoding="utf-8"),
                        (digest_site.output / digest["text"]).read_text(encoding="utf-8"))


def test_sender_digest_is_dutch_with_absolute_links_and_one_placeholder(digest_site):
    data = manifest(digest_site)
    chosen = [e for e in editions_of(digest_site)
              if e["date"][:10] in ("2024-03-05", "2025-02-04")]
    subject, html, text = render_digest(project_settings(), data,
                                        [e["id"] for e in reversed(chosen)])
    assert subject == "Artikelen van 5 maart 2024 tot en met 4 februari 2025"
    for part in (html, text):
        assert part.count(PLACEHOLDER) == 1
    soup = BeautifulSoup(html, "html.parser")
    assert soup.html["lang"] == "nl"
    assert soup.find_all("style") == []
    assert soup.h1.get_text() == subject
    assert [h.get_text() for h in soup.select(".digest-item h2")] == [e["title"] for e in chosen]
    assert [p.get_text() for p in soup.select(".digest-item p.meta")] == [
        "4 februari 2025 · door Sanne Brouwer", "5 maart 2024 · door Joost de Wit"]
    # No web copy of a digest the sender made: no "Bekijk in je browser".
    assert soup.find("a", string="Bekijk in je browser") is None
    assert "Bekijk in je browser" not in text
    for tag in soup.find_all(href=True) + soup.find_all(src=True):
        assert urlsplit(tag.get("href") or tag.get("src")).scheme in ("https", "mailto"), tag
    assert soup.find("a", href=PLACEHOLDER).get_text() == "Met één klik afmelden"
    for edition in chosen:
        assert f"Lees verder: {edition['url']}" in text
    assert "5 maart 2024" in text and "Lees verder" in text
    assert not re.search(r"<[a-zA-Z/!]", text)


def test_sender_digest_needs_no_build_in_its_process(digest_site, tmp_path):
    data = manifest(digest_site)
    ids = [e["id"] for e in editions_of(digest_site)][:2]
    (tmp_path / "editions.json").write_text(json.dumps(data), encoding="utf-8")
    script = (
        "import json, sys\n"
        "from pelican.settings import read_settings\n"
        "from follow.digest import render_digest\n"
        f"settings = read_settings({str(ROOT / 'publishconf.py')!r})\n"
        f"data = json.load(open({str(tmp_path / 'editions.json')!r}, encoding='utf-8'))\n"
        f"print(json.dumps(render_digest(settings, data, {ids!r})))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=tmp_path, timeout=120,
                            env={"PATH": "/usr/bin:/bin",
                                 "PYTHONPATH": f"{ROOT / 'plugins'}:{ROOT}"})
    assert result.returncode == 0, result.stderr
    subject, html, text = json.loads(result.stdout)
    assert subject == "Artikelen van 4 februari 2025 tot en met 17 juni 2025"
    assert "Samen beslissen zonder eindeloos overleg" in text and "Lees verder" in html


def test_sender_digest_of_an_unknown_edition_names_it(digest_site):
    renderer = DigestRenderer(project_settings(), manifest(digest_site))
    with pytest.raises(ValueError, match="no article edition with id tag:elders"):
        renderer.render(["tag:elders,2024:x"])
    digest_id = manifest(digest_site)["editions"][0]["id"]
    with pytest.raises(ValueError, match="no article edition"):
        renderer.render([digest_id])


def test_email_images_are_one_img_each_no_wider_than_the_column():
    html = ('<p><picture><source type="image/webp" srcset="https://x.example/a-480w.webp 480w">'
            '<img src="https://x.example/a.jpg" srcset="https://x.example/a-480w.jpg 480w, '
            'https://x.example/a-600w.jpg 600w, https://x.example/a-1200w.jpg 1200w" '
            'sizes="50vw" width="1600" height="1000" alt="A" loading="lazy"></picture> na</p>'
            '<p><img src="https://x.example/b.png" width="1000" height="500" alt="B"></p>'
            '<p><img src="https://x.example/c.png" width="300" height="100" alt="C"></p>'
            '<pre><code>&lt;picture&gt;&lt;img srcset="x 1w"&gt;</code></pre>')
    soup = BeautifulSoup(email_images(html), "html.parser")
    assert not soup.find_all(["picture", "source"])
    assert [(img["src"], img["width"], img["height"]) for img in soup.find_all("img")] == [
        ("https://x.example/a-600w.jpg", "600", "375"),
        ("https://x.example/b.png", "600", "300"),
        ("https://x.example/c.png", "300", "100")]
    assert not soup.find("img", srcset=True) and not soup.find("img", loading=True)
    assert soup.p.get_text() == " na"
    assert soup.code.get_text() == '<picture><img srcset="x 1w">'
