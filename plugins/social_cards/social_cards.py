"""Social cards: a 1200×630 PNG Open Graph image for every article and series page.

A card shows the title, the authors and the site's name in the site's brand colours
(``THEME_COLORS``), set in Atkinson Hyperlegible, a font made for legibility that
ships in a pinned package (Pillow's own default font has no "é"). Cards are drawn
once: each is cached under the SHA-256 of everything drawn on it (text, colours,
size, font, renderer), so an unchanged article costs a stat and a hard link. An
article's or series' own ``Image`` wins (unless it is an SVG, which social sites
do not show); then no card is made for it.

The cards are chosen once every generator is final (``all_generators_finalized``,
when blog_series has built its series) and put in the output by a generator of
their own, in Pelican's process, so the forked page rendering of ``parallel``
never sees them.
"""

import functools
import hashlib
import io
import json
import logging
import multiprocessing
import os
from dataclasses import dataclass
from importlib.metadata import version
from importlib.resources import files
from urllib.parse import urlsplit

import PIL
from pelican import signals
from pelican.generators import ArticlesGenerator, Generator
from PIL import Image, ImageDraw, ImageFont

from adviesblog_common.files import place_cached, write_atomically
from adviesblog_common.settings import apply_defaults, plugin_enabled

logger = logging.getLogger(__name__)

DEFAULTS = {
    # Folder in the output for the cards; a card's name follows its page's URL.
    "SOCIAL_CARDS_PATH": "kaarten",
    # Where drawn cards are kept between builds; "" is CACHE_PATH/social-cards.
    "SOCIAL_CARDS_CACHE_PATH": "",
    # THEME_COLORS keys (or "#rrggbb") for the card's background, text and accent bar.
    "SOCIAL_CARDS_COLORS": {"background": "brand", "text": "background", "accent": "accent"},
}
CARD_SIZE = (1200, 630)
# Raise when the drawing changes, so that every cached card is drawn again.
RENDERER_VERSION = 1
# WCAG 2.x AA for normal text; the card's smallest text is large, but keep the margin.
MINIMUM_CONTRAST = 4.5
_FONT_PACKAGE = "fontpkg_atkinson_hyperlegible"
_BOLD_FONT = "AtkinsonHyperlegible-Bold.ttf"
_REGULAR_FONT = "AtkinsonHyperlegible-Regular.ttf"
_CONTEXT_KEY = "social_cards"

# Layout, in pixels of the 1200×630 card.
_MARGIN = 80
_ACCENT_HEIGHT = 18
_SITE_NAME_SIZE = 36
_BYLINE_SIZE = 36
_TITLE_TOP, _TITLE_BOTTOM = 150, 470
# Largest first; the first size at which the whole title fits is used, and at the
# smallest size a title that still does not fit ends in an ellipsis.
_TITLE_SIZES = (76, 68, 60, 52, 46)
_LINE_HEIGHT = 1.18
_ELLIPSIS = "…"
# The font has no glyph for the Dutch ligature "ĳ"; it is drawn as the two letters.
_SPELLED_OUT = str.maketrans({"ĳ": "ij", "Ĳ": "IJ"})
# Below this many cards to draw, starting processes costs more than it saves.
_FEWEST_CARDS_TO_FORK = 20


@dataclass(frozen=True)
class CardText:
    """Everything that is drawn on one card; its digest names the cached PNG."""

    title: str
    authors: tuple[str, ...]
    site_name: str
    colors: tuple[str, str, str]  # background, text, accent as "#rrggbb"

    def digest(self) -> str:
        fields = {
            "renderer": RENDERER_VERSION, "pillow": PIL.__version__, "size": CARD_SIZE,
            "font": _font_version(), "title": self.title, "authors": self.authors,
            "site": self.site_name, "colors": self.colors,
        }
        return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class SocialCard:
    """A card as the templates see it: ``path`` under the output, its size and alt text."""

    path: str
    cache_file: str
    text: CardText
    width: int = CARD_SIZE[0]
    height: int = CARD_SIZE[1]

    @property
    def alt(self) -> str:
        return self.text.title

    @property
    def authors(self) -> str:
        return ", ".join(self.text.authors)


def set_defaults(pelican):
    apply_defaults(pelican.settings, "SOCIAL_CARDS_", DEFAULTS)
    settings = pelican.settings
    colors = card_colors(settings)
    ratio = contrast_ratio(colors[1], colors[0])
    if ratio < MINIMUM_CONTRAST:
        logger.error("social_cards: SOCIAL_CARDS_COLORS puts text %s on background %s, a "
                     "contrast of %.2f:1; WCAG AA needs %.1f:1, choose two colours further apart", colors[1], colors[0], ratio, MINIMUM_CONTRAST)


# --- Colours -------------------------------------------------------------------------

def resolve_color(value: str, theme_colors: dict) -> str:
    """A THEME_COLORS key or a "#rrggbb" colour, as "#rrggbb"."""
    color = theme_colors.get(value, value)
    if not (isinstance(color, str) and len(color) == 7 and color.startswith("#")
            and all(c in "0123456789abcdefABCDEF" for c in color[1:])):
        raise ValueError(f"social_cards: SOCIAL_CARDS_COLORS names {value!r}, which is neither "
                         f"a THEME_COLORS key ({', '.join(theme_colors)}) nor a '#rrggbb' colour")
    return color.lower()


def card_colors(settings) -> tuple[str, str, str]:
    theme_colors = settings.get("THEME_COLORS") or {}
    chosen = settings["SOCIAL_CARDS_COLORS"]
    return tuple(resolve_color(chosen[role], theme_colors)
                 for role in ("background", "text", "accent"))


def _rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))


def relative_luminance(color: str) -> float:
    """WCAG 2.x relative luminance of "#rrggbb"."""
    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4
    red, green, blue = (linear(c) for c in _rgb(color))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)),
                             reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


# --- Drawing -------------------------------------------------------------------------

def _font_file(name: str) -> str:
    return str(files(_FONT_PACKAGE) / "files" / name)


@functools.cache
def _font_version() -> str:
    # Asked once a process: looking up a distribution reads the site-packages folder.
    return version(_FONT_PACKAGE.replace("_", "-"))


class Fonts:
    """The card's fonts at the sizes it uses, loaded once a build."""

    def __init__(self):
        self._loaded = {}

    def get(self, name: str, size: int) -> ImageFont.FreeTypeFont:
        key = (name, size)
        if key not in self._loaded:
            self._loaded[key] = ImageFont.truetype(_font_file(name), size)
        return self._loaded[key]


def _split_long_word(word: str, font, width: int) -> list[str]:
    """A word wider than a line, in pieces that fit (a very long Dutch compound)."""
    pieces, piece = [], ""
    for character in word:
        if piece and font.getlength(piece + character) > width:
            pieces.append(piece)
            piece = ""
        piece += character
    return pieces + [piece] if piece else pieces


def wrap(text: str, font, width: int) -> list[str]:
    """Greedy word wrap of ``text`` into lines no wider than ``width`` pixels."""
    lines, line = [], ""
    for word in text.split():
        parts = [word] if font.getlength(word) <= width else _split_long_word(word, font, width)
        for part in parts:
            candidate = f"{line} {part}" if line else part
            if font.getlength(candidate) <= width:
                line = candidate
            else:
                if line:
                    lines.append(line)
                line = part
    return lines + [line] if line else lines


def ellipsize(text: str, font, width: int) -> str:
    """``text`` cut at a word (or, failing that, a character) to fit with "…"."""
    if font.getlength(text) <= width:
        return text
    words = text.split()
    while len(words) > 1 and font.getlength(" ".join(words) + _ELLIPSIS) > width:
        words.pop()
    shortened = " ".join(words)
    while shortened and font.getlength(shortened + _ELLIPSIS) > width:
        shortened = shortened[:-1]
    return shortened.rstrip(" ,.;:–-") + _ELLIPSIS


def fit_title(title: str, fonts: Fonts, width: int, height: int) -> tuple[object, list[str]]:
    """The largest title size at which every line fits; at the smallest, an ellipsis."""
    for size in _TITLE_SIZES:
        font = fonts.get(_BOLD_FONT, size)
        most_lines = max(1, int(height // (size * _LINE_HEIGHT)))
        lines = wrap(title, font, width)
        if len(lines) <= most_lines:
            return font, lines
    shown = lines[:most_lines]
    rest = " ".join([shown[-1], *lines[most_lines:]])
    shown[-1] = ellipsize(rest, font, width)
    return font, shown


@functools.cache
def card_palette(colors: tuple[str, str, str]) -> tuple[int, ...]:
    """255 steps from background to text colour, then the accent: 256 RGB entries."""
    background, foreground, accent = (_rgb(color) for color in colors)
    palette = []
    for entry in range(255):
        palette.extend(round(b + (f - b) * entry / 254) for b, f in zip(background, foreground, strict=True))
    return (*palette, *accent)


def draw_card(text: CardText, fonts: Fonts) -> bytes:
    """The card as PNG bytes.

    All text is one colour on one background, so the text is drawn as a grey mask
    and the mask's 255 levels become a palette from background to text colour, with
    one more entry for the accent bar: no quantising, and 15-30 KB a card. zlib's
    fastest level takes a third of the time of its default, for a file twice as big.
    """
    width, height = CARD_SIZE
    line_width = width - 2 * _MARGIN
    mask = Image.new("L", CARD_SIZE, 0)
    draw = ImageDraw.Draw(mask)
    site_font = fonts.get(_REGULAR_FONT, _SITE_NAME_SIZE)
    text = CardText(title=text.title.translate(_SPELLED_OUT),
                    authors=tuple(name.translate(_SPELLED_OUT) for name in text.authors),
                    site_name=text.site_name.translate(_SPELLED_OUT), colors=text.colors)
    draw.text((_MARGIN, _MARGIN), ellipsize(text.site_name, site_font, line_width),
              font=site_font, fill=255, anchor="lt")
    title_font, lines = fit_title(text.title, fonts, line_width, _TITLE_BOTTOM - _TITLE_TOP)
    line_height = round(title_font.size * _LINE_HEIGHT)
    block_height = line_height * len(lines)
    # Centre the title's lines in their band; the first baseline sits one ascent down.
    ascent, _descent = title_font.getmetrics()
    top = _TITLE_TOP + (_TITLE_BOTTOM - _TITLE_TOP - block_height) // 2
    for number, line in enumerate(lines):
        baseline = top + number * line_height + ascent - (line_height - title_font.size) // 2
        draw.text((_MARGIN, baseline), line, font=title_font, fill=255, anchor="ls")
    if text.authors:
        byline_font = fonts.get(_REGULAR_FONT, _BYLINE_SIZE)
        draw.text((_MARGIN, height - _MARGIN - _ACCENT_HEIGHT),
                  ellipsize(", ".join(text.authors), byline_font, line_width),
                  font=byline_font, fill=255, anchor="ls")
    # Levels 0..255 of the mask become palette entries 0..254; entry 255 is the accent.
    card = mask.point([level * 254 // 255 for level in range(256)])
    card.putpalette(card_palette(text.colors))
    card.paste(255, (0, height - _ACCENT_HEIGHT, width, height))
    buffer = io.BytesIO()
    card.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


# --- Which cards a build needs -------------------------------------------------------

def cache_folder(settings) -> str:
    return settings["SOCIAL_CARDS_CACHE_PATH"] or os.path.join(settings["CACHE_PATH"],
                                                                "social-cards")


def card_path(settings, page_url: str) -> str:
    """``kaarten/2024/slug.png`` for the page at ``2024/slug/``."""
    name = page_url.strip("/") or "index"
    if name.endswith(".html"):
        name = name[:-len(".html")]
    return f"{settings['SOCIAL_CARDS_PATH'].strip('/')}/{name}.png"


def make_card(settings, page_url: str, title: str, authors) -> SocialCard:
    text = CardText(title=str(title), authors=tuple(str(a) for a in authors),
                    site_name=str(settings["SITENAME"]), colors=card_colors(settings))
    cache_file = os.path.join(cache_folder(settings), f"{text.digest()}.png")
    return SocialCard(path=card_path(settings, page_url), cache_file=cache_file, text=text)


def shareable_image(image) -> bool:
    """Whether a page's own ``Image`` can be its sharing image.

    Facebook, LinkedIn and X show no SVG, so a page whose image is one gets a card.
    """
    return bool(image) and not urlsplit(str(image)).path.lower().endswith((".svg", ".svgz"))


def series_authors(series) -> list[str]:
    """The authors of a series' published parts, in order of first appearance."""
    names = {}
    for article in series.parts:
        for author in getattr(article, "authors", None) or ():
            names.setdefault(str(author), None)
    return list(names)


def assign_cards(generators):
    """Give a card to every published article, translation and series without an image
    that social sites show."""
    cards = []
    for generator in generators:
        if not isinstance(generator, ArticlesGenerator):
            continue
        settings = generator.settings
        for article in [*generator.articles, *generator.translations]:
            if shareable_image(getattr(article, "image", None)):
                continue
            article.social_card = make_card(settings, article.url, article.title,
                                            getattr(article, "authors", None) or ())
            cards.append(article.social_card)
        # blog_series puts its series in the shared context; without it there are none.
        for series in generator.context.get("series_list") or ():
            if shareable_image(series.image):
                continue
            series.social_card = make_card(settings, series.url, series.title,
                                           series_authors(series))
            cards.append(series.social_card)
        generator.context[_CONTEXT_KEY] = cards


def draw_missing(cards, fonts: Fonts | None = None) -> None:
    fonts = fonts or Fonts()
    for card in cards:
        write_atomically(card.cache_file, draw_card(card.text, fonts))


def missing_cards(cards) -> list[SocialCard]:
    """The cards the cache lacks, each once (two pages may show the same card)."""
    wanted = {}
    for card in cards:
        if card.cache_file not in wanted and not os.path.exists(card.cache_file):
            wanted[card.cache_file] = card
    return list(wanted.values())


def drawing_processes(settings, cards: int) -> int:
    """How many processes draw: the parallel plugin's, when it is on and it pays."""
    if not plugin_enabled(settings, "parallel") or cards < _FEWEST_CARDS_TO_FORK:
        return 1
    from parallel.forking import forking_is_safe  # only with the parallel plugin
    if "fork" not in multiprocessing.get_all_start_methods() or not forking_is_safe():
        return 1
    return settings.get("PARALLEL_PROCESSES") or os.cpu_count() or 1


def ensure_cached(cards, settings) -> int:
    """Draw every card that is not in the cache yet; return how many were drawn.

    With more than one process, forked children each draw their share straight into
    the cache. A child that fails or has something to log leaves its cards
    undrawn, and this process draws them, so every message is logged here once.
    """
    missing = missing_cards(cards)
    processes = min(drawing_processes(settings, len(missing)), len(missing))
    children = []
    if processes > 1:
        from parallel.forking import settle_child
        parent = os.getpid()
        for share in range(1, processes):
            child = os.fork()
            if child == 0:
                status = 1
                try:
                    child_log = settle_child(parent)
                    draw_missing(missing[share::processes])
                    status = 1 if child_log.warned else 0
                finally:
                    os._exit(status)
            children.append(child)
    try:
        draw_missing(missing[0::processes] if processes > 1 else missing)
    finally:
        for child in children:
            os.waitpid(child, 0)
    draw_missing(missing_cards(missing))
    return len(missing)


class SocialCardsGenerator(Generator):
    """Draws the cards the cache lacks and puts every card in the output."""

    def generate_output(self, writer):
        cards = self.context.get(_CONTEXT_KEY) or []
        if not cards:
            return
        drawn = ensure_cached(cards, self.settings)
        output = self.settings["OUTPUT_PATH"]
        for card in cards:
            place_cached(card.cache_file, os.path.join(output, card.path))
        logger.debug("social_cards: %d cards, %d drawn, %d from %s", len(cards), drawn,
                     len(cards) - drawn, cache_folder(self.settings))


def get_generators(pelican):
    return SocialCardsGenerator


def register():
    signals.initialized.connect(set_defaults)
    signals.all_generators_finalized.connect(assign_cards)
    signals.get_generators.connect(get_generators)
