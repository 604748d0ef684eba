"""Responsive images: variants, markup, email editions, cache and errors, in real builds."""

import logging
import os
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from PIL import Image

from responsive_images.responsive_images import Picture, image_tags, report
from responsive_images.variants import VariantCache
from tests.support import PUBLISH_SITEURL, publish_site, sample_articles, write_file

WIDTHS = [480, 600, 800, 1200]


def draw_photo(path: Path, size: tuple[int, int], image_format: str = "JPEG") -> Path:
    """A small gradient with a shape, enough for the encoders to have something to do."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "RGBA" if image_format == "PNG" else "RGB"
    image = Image.linear_gradient("L").resize(size).convert(mode)
    Image.Image.paste(image, (29, 78, 90) if mode == "RGB" else (29, 78, 90, 200),
                      (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    image.save(path, image_format)
    return path


def article(content: Path, slug: str, body: str, **fields) -> None:
    header = [f"Title: Artikel {slug}", "Date: 2024-05-01 09:00", f"Slug: {slug}"]
    header += [f"{key.capitalize()}: {value}" for key, value in fields.items()]
    write_file(content / "articles" / f"{slug}.md", "\n".join(header) + "\n\n" + body)


def photo_content(root: Path) -> Path:
    content = root / "content"
    draw_photo(content / "images" / "tafel.jpg", (1300, 800))
    draw_photo(content / "images" / "schema.png", (1300, 800), "PNG")
    draw_photo(content / "images" / "klein.jpg", (300, 200))
    article(content, "met-fotos", (
        "Een eerste alinea.\n\n"
        "![Een tafel met stoelen]({static}/images/tafel.jpg)\n\n"
        "Zo schrijf je een foto: `<img src=\"{static}/images/tafel.jpg\">`.\n\n"
        "![Een schema]({static}/images/schema.png)\n"))
    article(content, "met-kop", "Tekst.\n\n![Een kleine foto]({static}/images/klein.jpg)\n",
            image="images/tafel.jpg", image_alt="Een tafel")
    return content


@pytest.fixture(scope="module")
def photo_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    content = photo_content(root)
    return publish_site(root / "output", PATH=str(content),
                        RESPONSIVE_IMAGES_CACHE_PATH=str(root / "cache"))


def page(site, slug):
    return site.soup(f"2024/{slug}/")


def widths_of(srcset: str) -> list[int]:
    return [int(candidate.split()[1][:-1]) for candidate in srcset.split(",")]


def test_photos_become_pictures_with_webp_srcset_sizes_and_their_size(photo_site):
    pictures = page(photo_site, "met-fotos").find("div", class_="prose").find_all("picture")
    assert len(pictures) == 2
    for picture, original in zip(pictures, ("jpg", "png"), strict=True):
        source, image = picture.find("source"), picture.find("img")
        assert source["type"] == "image/webp"
        assert widths_of(source["srcset"]) == WIDTHS == widths_of(image["srcset"])
        assert all(url.split()[0].endswith(".webp") for url in source["srcset"].split(","))
        assert all(url.split()[0].endswith(f".{original}") for url in image["srcset"].split(","))
        assert source["sizes"] == image["sizes"] and "43.5rem" in image["sizes"]
        assert (image["width"], image["height"]) == ("1300", "800")
        assert image["decoding"] == "async"
    first, second = (picture.find("img") for picture in pictures)
    assert first["alt"] == "Een tafel met stoelen"
    assert "loading" not in first.attrs and first["fetchpriority"] == "high"
    assert second["loading"] == "lazy" and "fetchpriority" not in second.attrs


def test_variants_exist_in_their_format_and_width_next_to_the_photo(photo_site):
    folder = photo_site.output / "images"
    for stem, original in (("tafel", "JPEG"), ("schema", "PNG")):
        for width in WIDTHS:
            for image_format, suffix in ((original, ".jpg" if original == "JPEG" else ".png"),
                                         ("WEBP", ".webp")):
                with Image.open(folder / f"{stem}-{width}w{suffix}") as image:
                    assert (image.format, image.width) == (image_format, width)
                    assert image.height == round(800 * width / 1300)


def test_srcset_urls_resolve_to_the_variants_from_the_page(photo_site):
    image = page(photo_site, "met-fotos").find("picture").find("img")
    page_folder = photo_site.output / "2024" / "met-fotos"
    for candidate in image["srcset"].split(","):
        assert (page_folder / candidate.split()[0]).resolve().is_file()
    assert image["src"] == f"{PUBLISH_SITEURL}/images/tafel.jpg"


def test_a_small_photo_is_never_made_wider_than_it_is(photo_site):
    image = page(photo_site, "met-kop").find("div", class_="prose").find("img")
    assert widths_of(image["srcset"]) == [300]
    assert (image["width"], image["height"]) == ("300", "200")
    assert sorted(p.name for p in (photo_site.output / "images").glob("klein-*")) == [
        "klein-300w.jpg", "klein-300w.webp"]


def test_image_field_is_the_first_picture_and_body_photos_then_wait(photo_site):
    soup = page(photo_site, "met-kop")
    hero = soup.find("img", class_="article__image")
    assert hero.parent.name == "picture" and hero["alt"] == "Een tafel"
    assert "loading" not in hero.attrs and hero["fetchpriority"] == "high"
    assert (hero["width"], hero["height"]) == ("1300", "800")
    assert hero.find_previous_sibling("source")["srcset"].startswith(
        f"{PUBLISH_SITEURL}/images/tafel-480w.webp 480w")
    assert soup.find("div", class_="prose").find("img")["loading"] == "lazy"


def test_image_in_a_code_example_stays_text(photo_site):
    code = page(photo_site, "met-fotos").find("code")
    assert code.get_text() == '<img src="{static}/images/tafel.jpg">'


def test_email_edition_has_each_photo_once_at_most_600_px_with_an_absolute_url(photo_site):
    html = (photo_site.output / "nieuwsbrief" / "met-fotos" / "index.html").read_text(
        encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find_all(["picture", "source"])
    images = soup.find_all("img")
    assert [urlsplit(img["src"]).path for img in images] == [
        "/images/tafel-600w.jpg", "/images/schema-600w.png"]
    for image in images:
        assert image["src"].startswith(f"{PUBLISH_SITEURL}/")
        assert (image["width"], image["height"]) == ("600", "369")
        assert not {"srcset", "sizes", "loading"} & set(image.attrs)


def test_feed_entries_carry_absolute_srcset_urls(photo_site):
    feed = (photo_site.output / "feeds" / "alle.atom.xml").read_text(encoding="utf-8")
    assert f"{PUBLISH_SITEURL}/images/tafel-480w.webp 480w" in feed
    assert "../../images/" not in feed


def test_an_unchanged_photo_is_not_encoded_again(tmp_path, monkeypatch):
    content = photo_content(tmp_path)
    cache = tmp_path / "cache"
    publish_site(tmp_path / "first", PATH=str(content), RESPONSIVE_IMAGES_CACHE_PATH=str(cache))
    cached = {path: (path.stat().st_ino, path.stat().st_mtime_ns)
              for path in cache.rglob("*") if path.is_file()}
    assert len([p for p in cached if p.suffix != ".json"]) == 2 * 4 + 2 * 4 + 2
    encodes = []
    original_encode = VariantCache.encode
    monkeypatch.setattr(VariantCache, "encode", lambda self, image, image_format: (
        encodes.append(image_format) or original_encode(self, image, image_format)))
    second = publish_site(tmp_path / "second", PATH=str(content),
                          RESPONSIVE_IMAGES_CACHE_PATH=str(cache))
    assert encodes == []
    assert {path: (path.stat().st_ino, path.stat().st_mtime_ns)
            for path in cache.rglob("*") if path.is_file()} == cached
    with Image.open(second.output / "images" / "tafel-800w.webp") as image:
        assert image.width == 800
    # A changed photo is a new source: its variants are made again, the others are not.
    draw_photo(content / "images" / "klein.jpg", (320, 200))
    publish_site(tmp_path / "third", PATH=str(content), RESPONSIVE_IMAGES_CACHE_PATH=str(cache))
    assert sorted(encodes) == ["JPEG", "WEBP"]


def errors(site) -> list[str]:
    return site.messages(logging.ERROR)


def test_corrupt_and_truncated_photos_are_errors_naming_the_article_and_the_image(tmp_path):
    content = tmp_path / "content"
    write_file(content / "images" / "kapot.jpg", "dit is geen foto")
    good = draw_photo(tmp_path / "goed.jpg", (1300, 800)).read_bytes()
    (content / "images" / "half.jpg").write_bytes(good[: len(good) // 2])
    article(content, "kapotte-foto", "![Kapot]({static}/images/kapot.jpg)\n\n"
            "![Half]({static}/images/half.jpg)\n")
    site = publish_site(tmp_path / "output", PATH=str(content),
                        RESPONSIVE_IMAGES_CACHE_PATH=str(tmp_path / "cache"))
    messages = [m for m in errors(site) if "kapotte-foto.md" in m]
    assert len(messages) == 2
    assert "image images/kapot.jpg cannot be read as an image" in messages[0]
    assert "image images/half.jpg cannot be read as an image" in messages[1]
    images = page(site, "kapotte-foto").find("div", class_="prose").find_all("img")
    assert [img.get("srcset") for img in images] == [None, None]


def test_missing_photo_is_reported_once(tmp_path):
    content = tmp_path / "content"
    article(content, "zonder-foto", "![Weg]({static}/images/weg.jpg)\n")
    site = publish_site(tmp_path / "output", PATH=str(content),
                        RESPONSIVE_IMAGES_CACHE_PATH=str(tmp_path / "cache"))
    about_it = [m for m in errors(site) if "weg.jpg" in m]
    assert len(about_it) == 1 and "zonder-foto.md" in about_it[0]


def test_missing_photo_is_our_error_when_content_checks_is_not_enabled(caplog):
    content = SimpleNamespace(source_path=os.path.abspath("content/articles/x.md"),
                              status="published")
    with caplog.at_level(logging.ERROR):
        report(content, Picture("images/weg.jpg", problem="missing"), {"PLUGINS": []})
    assert caplog.messages == [
        "content/articles/x.md: image images/weg.jpg does not exist; replace the file or "
        "remove the image"]


def test_image_tags_are_found_where_they_are_and_not_in_code():
    html = ('<p>a</p>\n<p><img alt="x" src="{static}/a.jpg"></p>\n<pre><code>'
            '<img src="{static}/b.jpg"></code></pre>\n<picture><img src="c.jpg"></picture>'
            '<p>\u2028\n<img src="{static}/d.jpg" /></p>')
    found = image_tags(html)
    assert [text for _offset, text, _attributes in found] == [
        '<img alt="x" src="{static}/a.jpg">', '<img src="{static}/d.jpg" />']
    assert all(html[offset:].startswith(text) for offset, text, _attributes in found)


def test_sample_articles_with_a_photo_have_srcset(tmp_path):
    site = publish_site(tmp_path / "output")
    with_photos = [a for a in sample_articles()
                   if ".jpg" in a["body"] or a.get("image", "").endswith(".jpg")]
    assert len(with_photos) == 2
    for source in with_photos:
        slug = source["path"].stem
        year = str(source["date"])[:4]
        image = site.soup(f"{year}/{slug}/").find("picture").find("img")
        assert widths_of(image["srcset"]) == WIDTHS
        assert image["alt"] and image["width"] == "1600"
    assert not [m for m in errors(site) if "image" in m]
