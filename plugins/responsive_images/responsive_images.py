"""Responsive images: each photo under content/images/ in a few widths, also as WebP.

Once every generator has read its files (``all_generators_finalized``), each
``<img src="{static}/images/...">`` of an article or page whose file is a JPEG,
PNG or WebP photo becomes a ``<picture>``: a WebP ``<source>`` and the ``<img>``
itself, both with ``srcset`` and ``sizes``, and the image's ``width`` and
``height`` so that nothing moves while it loads. The first image of an article
is loaded at once; later ones, and every body image under an ``Image`` at the
top, get ``loading="lazy"``. The ``Image`` field is shown the same way, through
the ``responsive_image`` global of the theme.

The rewrite is spliced into the article's Markdown output at the positions of the
``<img>`` tags, found with Python's HTML parser: the rest of the text stays byte
for byte as Markdown made it, and an image in a code example stays text. ``src``
keeps its ``{static}`` link (Pelican resolves it, ``content_checks`` checks it);
``srcset`` URLs are relative to the page, as Pelican resolves links only in
``src`` and ``href``. Feeds and email editions make them absolute.

The variants are made in ``cache/images`` (see ``variants``), by one thread per
core (Pillow lets go of the GIL while it decodes and encodes; the threads have
ended before the build forks to write), and put into the output by
``ResponsiveImagesGenerator``. A photo that does not decode is an error that
names the file that shows it; a missing one is ``content_checks``' error (ours
when that plugin is not enabled).
"""

import logging
import os
import posixpath
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser

from jinja2 import pass_context
from markupsafe import Markup
from pelican import signals
from pelican.contents import Content
from pelican.generators import ArticlesGenerator, Generator, PagesGenerator

from adviesblog_common.contents import generator_contents
from adviesblog_common.files import place_cached
from adviesblog_common.settings import apply_defaults, plugin_enabled

from .variants import (
    EXTENSIONS,
    RASTER_SUFFIXES,
    SourceImage,
    UnreadableImage,
    Variant,
    VariantCache,
)

logger = logging.getLogger(__name__)

DEFAULTS = {
    # Folders under PATH whose photos get variants; anything else is left as it is.
    "RESPONSIVE_IMAGES_PATHS": ["images"],
    # Widths (px) of the variants; a photo is never made wider than it is.
    "RESPONSIVE_IMAGES_WIDTHS": [480, 800, 1200],
    # The email editions' column: a variant this wide is always made.
    "RESPONSIVE_IMAGES_EMAIL_WIDTH": 600,
    # How wide the image is shown: the theme's column (.wrap: 46rem less 2 x 1.25rem).
    "RESPONSIVE_IMAGES_SIZES": "(min-width: 46rem) 43.5rem, calc(100vw - 2.5rem)",
    "RESPONSIVE_IMAGES_JPEG_QUALITY": 82,
    "RESPONSIVE_IMAGES_WEBP_QUALITY": 80,
    # Where variants are kept between builds; "" is CACHE_PATH/images.
    "RESPONSIVE_IMAGES_CACHE_PATH": "",
}
CONTEXT_KEY = "_responsive_images"
_STATIC_LINK = re.compile(r"^(?:\{static\}|\|static\|)(?P<path>.+)$")
# Attributes the rewrite sets; the author's own others (alt, title, class) are kept.
_SET_HERE = frozenset({"src", "srcset", "sizes", "width", "height", "loading", "decoding",
                       "fetchpriority"})


def set_defaults(pelican):
    apply_defaults(pelican.settings, "RESPONSIVE_IMAGES_", DEFAULTS)


@dataclass
class Picture:
    """One photo of the site and what the build made of it."""

    path: str  # under PATH, with "/" ("images/artikelen/foto.jpg")
    source: SourceImage | None = None
    variants: tuple[Variant, ...] = ()
    problem: str = ""

    def variant_path(self, variant: Variant) -> str:
        """Where ``variant`` goes in the output: beside the photo, ``foto-800w.jpg``."""
        stem = posixpath.splitext(self.path)[0]
        return f"{stem}-{variant.width}w{EXTENSIONS[variant.format]}"

    def srcset(self, base: str, image_format: str) -> str:
        return ", ".join(f"{base}{self.variant_path(v)} {v.width}w"
                         for v in self.variants if v.format == image_format)


class ImageRegistry:
    """The photos of one build, kept on the generators' shared context."""

    def __init__(self, settings):
        self.settings = settings
        self.content_root = os.path.abspath(settings["PATH"])
        self.folders = [folder.strip("/") for folder in settings["RESPONSIVE_IMAGES_PATHS"]]
        self.widths = sorted(set(settings["RESPONSIVE_IMAGES_WIDTHS"])
                             | {settings["RESPONSIVE_IMAGES_EMAIL_WIDTH"]})
        folder = settings["RESPONSIVE_IMAGES_CACHE_PATH"] or os.path.join(
            settings["CACHE_PATH"], "images")
        self.cache = VariantCache(folder, settings["RESPONSIVE_IMAGES_JPEG_QUALITY"],
                                  settings["RESPONSIVE_IMAGES_WEBP_QUALITY"])
        self.pictures: dict[str, Picture] = {}

    def path_of(self, link: str, source_path: str) -> str | None:
        """The photo's path under PATH that a link points to, if it is one of ours.

        ``/images/x.jpg`` is from PATH, ``../images/x.jpg`` from the file's folder,
        as Pelican reads ``{static}``; a query or fragment is not part of the file.
        """
        target = link.split("#", 1)[0].split("?", 1)[0].replace("%20", " ")
        if not target.lower().endswith(RASTER_SUFFIXES):
            return None
        if target.startswith("/"):
            absolute = os.path.join(self.content_root, target.lstrip("/"))
        else:
            absolute = os.path.join(os.path.dirname(os.path.abspath(source_path)), target)
        relative = os.path.relpath(os.path.normpath(absolute), self.content_root)
        relative = relative.replace(os.sep, "/")
        if any(relative.startswith(folder + "/") for folder in self.folders):
            return relative
        return None

    def picture(self, path: str) -> Picture:
        picture = self.pictures.get(path)
        if picture is None:
            picture = self.pictures[path] = Picture(path)
        return picture

    def make_variants(self) -> None:
        """Inspect every photo and make its missing variants, on every core."""
        waiting = [p for p in self.pictures.values() if p.source is None and not p.problem]
        if not waiting:
            return
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            list(pool.map(self._make, waiting))
        logger.debug("responsive_images: %d photos, %d variants encoded", len(waiting),
                     self.cache.encoded)

    def _make(self, picture: Picture) -> None:
        absolute = os.path.join(self.content_root, picture.path)
        if not os.path.isfile(absolute):
            picture.problem = "missing"
            return
        try:
            source = self.cache.inspect(absolute)
            variants = self.cache.plan(source, self.widths)
            self.cache.make(source, variants)
        except UnreadableImage as error:
            picture.problem = f"cannot be read as an image ({error})"
            return
        picture.source, picture.variants = source, tuple(variants)


def registry(context) -> ImageRegistry | None:
    return context.get(CONTEXT_KEY)


def _attribute(value: str) -> str:
    """An attribute value between double quotes: only ``&``, ``<``, ``>`` and ``"`` escaped."""
    return escape(value, quote=False).replace('"', "&quot;")


def picture_markup(picture: Picture, src: str, base: str, attributes: list, sizes: str,
                   lazy: bool) -> str:
    """``<picture>`` with a WebP source and the ``<img>``; ``base`` prefixes variant paths."""
    source = picture.source
    kept = "".join(f' {name}="{_attribute(value or "")}"'
                   for name, value in attributes if name not in _SET_HERE)
    loading = ' loading="lazy"' if lazy else ' fetchpriority="high"'
    sizes = _attribute(sizes)
    webp = ""
    if source.format != "WEBP":
        webp = (f'<source type="image/webp" srcset="{_attribute(picture.srcset(base, "WEBP"))}" '
                f'sizes="{sizes}">')
    return (f'<picture>{webp}<img src="{_attribute(src)}" '
            f'srcset="{_attribute(picture.srcset(base, source.format))}" sizes="{sizes}" '
            f'width="{source.width}" height="{source.height}"{kept}{loading} '
            f'decoding="async"></picture>')


class _ImageTags(HTMLParser):
    """Where each ``<img>`` outside ``<code>``, ``<pre>`` and ``<picture>`` starts, as parsed."""

    OUTSIDE = frozenset({"code", "pre", "picture"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.images = []  # (line, column, tag text, attributes)
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.OUTSIDE:
            self.depth += 1
        elif tag == "img" and not self.depth:
            line, column = self.getpos()
            self.images.append((line, column, self.get_starttag_text(), attrs))

    def handle_startendtag(self, tag, attrs):
        if tag == "img":
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in self.OUTSIDE and self.depth:
            self.depth -= 1


def image_tags(html: str) -> list[tuple[int, str, list]]:
    """``(offset, tag text, attributes)`` of every image the rewrite may change."""
    parser = _ImageTags()
    parser.feed(html)
    parser.close()
    # The parser counts lines by "\n" only; str.splitlines would also split at U+2028.
    line_starts = [0]
    for line in html.split("\n"):
        line_starts.append(line_starts[-1] + len(line) + 1)
    found = []
    for line, column, text, attributes in parser.images:
        offset = line_starts[line - 1] + column
        if html.startswith(text, offset):  # always, unless the parser's count were off
            found.append((offset, text, attributes))
    return found


def static_target(attributes: list) -> str | None:
    """The path of an ``{static}`` ``src``, for an image the author did not make responsive."""
    values = dict(attributes)
    if "srcset" in values:
        return None
    match = _STATIC_LINK.match((values.get("src") or "").strip())
    return match.group("path") if match else None


def page_base(content) -> str:
    """From the content's page to the site's root, for the ``srcset`` URLs: ``../../``."""
    folder = posixpath.dirname(content.url)
    return "" if not folder else posixpath.relpath(".", folder) + "/"


def hero_path(registry_, content) -> str | None:
    image = getattr(content, "image", None)
    if not image or "://" in image:
        return None
    match = _STATIC_LINK.match(image)
    target = "/" + (match.group("path") if match else image).lstrip("/")
    return registry_.path_of(target, content.source_path)


def collect(registry_: ImageRegistry, contents) -> list:
    """Every content object with photos, with its images; registers the photos."""
    found = []
    for content in contents:
        html = content._content or ""
        tags = []
        if "<img" in html:
            for offset, text, attributes in image_tags(html):
                target = static_target(attributes)
                path = registry_.path_of(target, content.source_path) if target else None
                if path:
                    tags.append((offset, text, attributes, registry_.picture(path)))
        hero = hero_path(registry_, content)
        if hero:
            registry_.picture(hero)
        if tags or hero:
            found.append((content, tags, hero))
    return found


def report(content, picture: Picture, settings) -> None:
    if picture.problem == "missing" and plugin_enabled(settings, "content_checks"):
        return  # content_checks names the file and the missing image already
    problem = "does not exist" if picture.problem == "missing" else picture.problem
    message = (f"{os.path.relpath(content.source_path)}: image {picture.path} {problem}; "
               "replace the file or remove the image")
    if getattr(content, "status", "published") == "draft":
        logger.warning("%s (draft)", message)
    else:
        logger.error("%s", message)


def rewrite(content, tags, has_hero: bool, settings) -> bool:
    """Splice a ``<picture>`` in for each photo of ``content``; True if anything changed."""
    html = content._content
    base = page_base(content)
    sizes = settings["RESPONSIVE_IMAGES_SIZES"]
    first = not has_hero
    pieces, end = [], 0
    for offset, text, attributes, picture in tags:
        if picture.source is None:
            continue
        src = dict(attributes)["src"]
        pieces += [html[end:offset],
                   picture_markup(picture, src, base, attributes, sizes, lazy=not first)]
        end = offset + len(text)
        first = False
    if not pieces:
        return False
    content._content = "".join(pieces) + html[end:]
    return True


def forget_memoized(contents: set) -> None:
    """Drop Pelican's memoized HTML of ``contents``: it was made from the text before."""
    for method in ("get_content", "get_summary"):
        cache = getattr(vars(Content).get(method), "cache", None)
        if isinstance(cache, dict):
            for key in [key for key in cache if key and key[0] in contents]:
                del cache[key]


def make_responsive(generators) -> None:
    """Make the variants of every photo the articles and pages show, and use them."""
    content_generators = [g for g in generators
                          if isinstance(g, (ArticlesGenerator, PagesGenerator))]
    if not content_generators:
        return
    settings = content_generators[0].settings
    registry_ = ImageRegistry(settings)
    content_generators[0].context[CONTEXT_KEY] = registry_
    contents = [c for g in content_generators for c in generator_contents(g)]
    found = collect(registry_, contents)
    registry_.make_variants()
    changed = set()
    for content, tags, hero in found:
        pictures = [picture for *_tag, picture in tags]
        if hero:
            pictures.insert(0, registry_.picture(hero))
        for picture in _unique(pictures):
            if picture.problem:
                report(content, picture, settings)
        if tags and rewrite(content, tags, hero is not None, settings):
            changed.add(content)
    forget_memoized(changed)


def _unique(pictures):
    """Each photo once, in order: a file showing a broken photo twice gets one error."""
    seen = set()
    for picture in pictures:
        if id(picture) not in seen:
            seen.add(id(picture))
            yield picture


def install_global(generator) -> None:
    """``responsive_image(path, alt, class)`` for the theme: the ``Image`` field's picture."""
    env = getattr(generator, "env", None)
    if env is None:
        return
    context = generator.context

    @pass_context
    def responsive_image(template_context, path, alt="", class_name=""):
        registry_ = registry(context)
        if registry_ is None or not path or "://" in path:
            return ""
        match = _STATIC_LINK.match(path)
        relative = "/" + (match.group("path") if match else path).lstrip("/")
        picture = registry_.pictures.get(relative.lstrip("/"))
        if picture is None or picture.source is None:
            return ""
        base = f"{template_context.get('SITEURL', '')}/"
        attributes = [("alt", alt)] + ([("class", class_name)] if class_name else [])
        # The first thing under the title: loaded at once, never lazily.
        return Markup(picture_markup(picture, f"{base}{picture.path}", base, attributes,
                                     generator.settings["RESPONSIVE_IMAGES_SIZES"],
                                     lazy=False))

    env.globals["responsive_image"] = responsive_image


class ResponsiveImagesGenerator(Generator):
    """Puts each variant the pages use into the output, from the cache."""

    def generate_output(self, writer):
        registry_ = registry(self.context)
        if registry_ is None:
            return
        for picture in registry_.pictures.values():
            for variant in picture.variants:
                place_cached(variant.cache_file, os.path.join(self.output_path,
                                                       picture.variant_path(variant)))


def get_generators(pelican):
    return ResponsiveImagesGenerator


def register():
    signals.initialized.connect(set_defaults)
    signals.generator_init.connect(install_global)
    signals.all_generators_finalized.connect(make_responsive)
    signals.get_generators.connect(get_generators)
