"""Social cards: og:image and twitter:card in the published pages, the PNGs, the cache."""

import logging
import os
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from pelican.settings import read_settings
from PIL import Image, ImageDraw

import parallel  # noqa: F401 (ensure_cached forks only when the parallel plugin is loaded)
import social_cards.social_cards as cards
from adviesblog_common.files import place_cached
from tests.support import PUBLISH_SITEURL, ROOT, publish_site, write_file

NON_ASCII_TITLE = "Één vraag over „klantgericht” werken met collega’s uit België"
ARTICLES = {
    "2024/een-vraag-over-klantgericht-werken": f"""\
Title: {NON_ASCII_TITLE}
Slug: een-vraag-over-klantgericht-werken
Date: 2024-03-01 09:00
Author: anne-de-vries
Category: Samenwerken
Series: Proefserie
Series_index: 1

Wie klantgericht wil werken, begint bij de collega.
""",
    "2024/tweede-deel": """\
Title: Het tweede deel
Slug: tweede-deel
Date: 2024-04-01 09:00
Author: anne-de-vries
Category: Samenwerken
Series: Proefserie
Series_index: 2

Het tweede deel van de proefserie.
""",
    "2024/met-eigen-beeld": """\
Title: Een artikel met een eigen beeld
Slug: met-eigen-beeld
Date: 2024-05-01 09:00
Author: anne-de-vries
Category: Samenwerken
Image: images/foto.png
Image_alt: Een foto van een vergadertafel

Dit artikel heeft een eigen afbeelding.
""",
    "2024/met-tekening": """\
Title: Een artikel met een tekening
Slug: met-tekening
Date: 2024-05-02 09:00
Author: anne-de-vries
Category: Samenwerken
Image: images/tekening.svg
Image_alt: Een tekening van een vergadertafel

Dit artikel heeft een tekening, die sociale media niet tonen.
""",
    "2024/concept": """\
Title: Een concept dat nog niet af is
Slug: concept
Date: 2024-06-01 09:00
Author: anne-de-vries
Category: Samenwerken
Status: draft

Nog niet af.
""",
}
CARD_PAGES = ["2024/een-vraag-over-klantgericht-werken/", "2024/tweede-deel/",
              "2024/met-tekening/", "serie/proefserie/"]


def write_content(folder: Path, titles: dict | None = None) -> Path:
    for name, text in ARTICLES.items():
        for old, new in (titles or {}).items():
            text = text.replace(old, new)
        write_file(folder / "articles" / f"{name}.md", text)
    write_file(folder / "authors" / "anne-de-vries.md", "Name: Anne de Vriës\n\nAdviseur.\n")
    (folder / "images").mkdir()
    Image.new("RGB", (1200, 630), "#336699").save(folder / "images" / "foto.png")
    write_file(folder / "images" / "tekening.svg",
               '<svg xmlns="http://www.w3.org/2000/svg" width="12" height="6"/>')
    return folder


def build(tmp_path: Path, name: str, content: Path, cache: Path):
    return publish_site(tmp_path / name, PATH=str(content), CACHE_PATH=str(cache))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("social-cards")
    return build(scratch, "output", write_content(scratch / "content"), scratch / "cache")


def meta(soup, key: str) -> str | None:
    tag = soup.find("meta", property=key) or soup.find("meta", attrs={"name": key})
    return tag["content"] if tag else None


def output_file(site, url: str) -> Path:
    assert url.startswith(PUBLISH_SITEURL + "/"), url
    return site.output / urlsplit(url).path.lstrip("/")


@pytest.mark.parametrize("page", CARD_PAGES)
def test_article_and_series_pages_link_their_card_by_absolute_url(site, page):
    soup = site.soup(page)
    image = meta(soup, "og:image")
    assert image == f"{PUBLISH_SITEURL}/kaarten/{page.rstrip('/')}.png"
    assert meta(soup, "twitter:card") == "summary_large_image"
    assert (meta(soup, "og:image:width"), meta(soup, "og:image:height")) == ("1200", "630")
    assert meta(soup, "og:image:type") == "image/png"
    assert meta(soup, "og:image:alt").endswith(" – door Anne de Vriës")
    with Image.open(output_file(site, image)) as card:
        assert card.format == "PNG"
        assert card.size == (1200, 630)
    assert site.messages() == []


def test_the_card_shows_the_title_in_brand_colours(site):
    soup = site.soup(CARD_PAGES[0])
    assert meta(soup, "og:image:alt") == f"{NON_ASCII_TITLE} – door Anne de Vriës"
    with Image.open(output_file(site, meta(soup, "og:image"))) as card:
        colours = {f"#{r:02x}{g:02x}{b:02x}" for _count, (r, g, b) in
                   card.convert("RGB").getcolors(maxcolors=1200 * 630)}
    theme = site.settings["THEME_COLORS"]
    assert {theme["brand"], theme["background"], theme["accent"]} <= colours
    # Antialiased text: the steps between background and text colour are there too.
    assert len(colours) > 20


def test_an_article_s_own_image_wins_over_the_card(site):
    soup = site.soup("2024/met-eigen-beeld/")
    assert meta(soup, "og:image") == f"{PUBLISH_SITEURL}/images/foto.png"
    assert output_file(site, meta(soup, "og:image")).is_file()
    assert meta(soup, "og:image:alt") == "Een foto van een vergadertafel"
    assert meta(soup, "twitter:card") == "summary_large_image"
    assert meta(soup, "og:image:width") is None
    assert not (site.output / "kaarten" / "2024" / "met-eigen-beeld.png").exists()


def test_an_svg_image_is_not_shared_so_the_card_is(site):
    """Facebook, LinkedIn and X show no SVG: the page keeps its drawing, shares its card."""
    soup = site.soup("2024/met-tekening/")
    assert meta(soup, "og:image") == f"{PUBLISH_SITEURL}/kaarten/2024/met-tekening.png"
    assert soup.select_one("img.article__image")["src"].endswith("/images/tekening.svg")
    assert cards.shareable_image("images/foto.png") and cards.shareable_image(
        "https://example.org/foto.JPG?maat=groot")
    assert not cards.shareable_image("images/tekening.SVG") and not cards.shareable_image("")


def test_only_published_articles_and_series_get_cards(site):
    made = sorted(p.relative_to(site.output / "kaarten").as_posix()
                  for p in (site.output / "kaarten").rglob("*.png"))
    assert made == ["2024/een-vraag-over-klantgericht-werken.png", "2024/met-tekening.png",
                    "2024/tweede-deel.png", "serie/proefserie.png"]
    assert not list(site.output.rglob("concept*"))


def test_an_unchanged_card_is_not_drawn_again(tmp_path, monkeypatch):
    drawn = []
    draw_card = cards.draw_card
    monkeypatch.setattr(cards, "draw_card", lambda text, fonts: drawn.append(text.title)
                        or draw_card(text, fonts))
    content, cache = write_content(tmp_path / "content"), tmp_path / "cache"
    build(tmp_path, "first", content, cache)
    assert sorted(drawn) == sorted([NON_ASCII_TITLE, "Het tweede deel", "Proefserie",
                                    "Een artikel met een tekening"])
    cached = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns)
              for p in (cache / "social-cards").iterdir()}
    assert len(cached) == 4

    drawn.clear()
    second = build(tmp_path, "second", content, cache)
    assert drawn == []
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in (cache / "social-cards").iterdir()} == cached
    assert sorted(p.name for p in (second.output / "kaarten" / "2024").iterdir()) == [
        "een-vraag-over-klantgericht-werken.png", "met-tekening.png", "tweede-deel.png"]

    # A new title is a new card; the other cards stay as they were.
    write_file(content / "articles" / "2024" / "tweede-deel.md",
               ARTICLES["2024/tweede-deel"].replace("Het tweede deel", "Het vernieuwde deel"))
    drawn.clear()
    build(tmp_path, "third", content, cache)
    assert drawn == ["Het vernieuwde deel"]


def test_the_same_text_gives_the_same_bytes_in_every_process(tmp_path):
    """Cards drawn by forked processes equal those drawn serially, byte for byte."""
    settings = {"PLUGINS": ["parallel"], "PARALLEL_PROCESSES": 2, "SITENAME": "Ruimte & Richting",
                "THEME_COLORS": {"brand": "#1d4e5a", "background": "#ffffff",
                                 "accent": "#a63d17"},
                "SOCIAL_CARDS_PATH": "kaarten", "SOCIAL_CARDS_COLORS": cards.DEFAULTS[
                    "SOCIAL_CARDS_COLORS"]}
    titles = [f"Artikel nummer {number} over samenwerken" for number in range(24)]

    def made(folder: str) -> dict:
        wanted = [cards.make_card({**settings, "SOCIAL_CARDS_CACHE_PATH": str(tmp_path / folder)},
                                  f"2024/artikel-{n}/", title, ["Anne de Vriës"])
                  for n, title in enumerate(titles)]
        return wanted

    forked, serial = made("forked"), made("serial")
    assert cards.drawing_processes(settings, len(forked)) == 2
    assert cards.ensure_cached(forked, settings) == 24
    cards.draw_missing(serial)
    for one, other in zip(forked, serial, strict=True):
        assert Path(one.cache_file).read_bytes() == Path(other.cache_file).read_bytes()
    assert cards.ensure_cached(forked, settings) == 0


def test_every_dutch_character_has_a_glyph():
    """Pillow's own default font has no "é"; the card's font has all of these."""
    font = cards.Fonts().get(cards._BOLD_FONT, 40)

    def rendered(text):
        image = Image.new("L", (120, 80))
        ImageDraw.Draw(image).text((10, 10), text, font=font, fill=255)
        return image.tobytes()

    missing_glyph = rendered("\ue000")  # a private-use character: no font has it
    assert rendered("中") == missing_glyph != rendered("e")  # the test tells them apart
    missing = [c for c in "éëèêïíóöôüúàáçñ’‘„”“…–—€·ÉËÏÖÜ" if rendered(c) == missing_glyph]
    assert missing == []
    # It lacks the ligature "ĳ", which the card spells out.
    assert rendered("ĳ") == missing_glyph

    def card(title):
        return cards.draw_card(cards.CardText(title, ("Anne",), "Site", ("#000000", "#ffffff",
                                                                          "#ff0000")), fonts)
    fonts = cards.Fonts()
    assert card("Ĳsselmeer en ĳs") == card("IJsselmeer en ijs") != card("Isselmeer en is")


def test_a_long_title_is_wrapped_within_the_card_and_cut_with_an_ellipsis():
    fonts = cards.Fonts()
    width, height = 1040, 320
    title = ("Waarom „klantgericht” werken bij de collega’s één verdieping lager begint, en "
             "wat een arbeidsongeschiktheidsverzekeringsmaatschappij daarvan kan leren")
    font, lines = cards.fit_title(title, fonts, width, height)
    # Every word is there; the one word wider than a line is broken.
    assert len(lines) > 1 and "".join(lines).replace(" ", "") == title.replace(" ", "")
    assert "arbeidsongeschiktheidsverzekeringsmaat" in lines
    assert all(font.getlength(line) <= width for line in lines)
    assert len(lines) * font.size * cards._LINE_HEIGHT <= height

    font, lines = cards.fit_title(title * 4, fonts, width, height)
    assert font.size == min(cards._TITLE_SIZES)
    assert lines[-1].endswith("…")
    assert all(font.getlength(line) <= width for line in lines)
    assert len(lines) * font.size * cards._LINE_HEIGHT <= height


def test_card_colours_of_the_site_pass_wcag_aa():
    assert cards.contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert cards.contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    settings = read_settings(str(ROOT / "pelicanconf.py"))
    cards.apply_defaults(settings, "SOCIAL_CARDS_", cards.DEFAULTS)
    background, text, _accent = cards.card_colors(settings)
    assert cards.contrast_ratio(text, background) >= 4.5


def test_card_colours_that_fail_wcag_aa_are_an_error(caplog):
    settings = {"THEME_COLORS": {"brand": "#1d4e5a", "muted": "#4f5a64", "accent": "#a63d17"},
                "SOCIAL_CARDS_COLORS": {"background": "brand", "text": "muted",
                                        "accent": "accent"}}
    with caplog.at_level(logging.ERROR):
        cards.set_defaults(SimpleNamespace(settings=settings))
    assert "WCAG AA needs 4.5:1" in caplog.text
    settings["SOCIAL_CARDS_COLORS"]["text"] = "tekst"
    with pytest.raises(ValueError, match="neither a THEME_COLORS key"):
        cards.set_defaults(SimpleNamespace(settings=settings))


def test_a_card_is_put_in_the_output_by_a_hard_link_or_a_copy(tmp_path):
    cache_file = tmp_path / "cache" / "kaart.png"
    write_file(cache_file, "png")
    target = tmp_path / "output" / "kaarten" / "2024" / "kaart.png"
    place_cached(str(cache_file), str(target))
    assert target.read_text() == "png"
    assert os.path.samefile(cache_file, target)
    place_cached(str(cache_file), str(target))  # again: nothing to do
    assert sorted(p.name for p in target.parent.iterdir()) == ["kaart.png"]
