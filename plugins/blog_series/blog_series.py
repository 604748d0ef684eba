"""Series as a build-time feature: parts, planned parts and teasers that resolve.

Metadata follows the pelican-series plugin (``Series``, ``Series_index``), so sites
migrate unchanged; ``Next`` is the teaser for the next part. An optional
``content/series/<slug>.md`` gives the series a title, an intro (its body), an
image and planned parts, one ``Planned: <index> | <title> [| YYYY-MM]`` line each.

Only published parts are ever linked or listed as parts. A draft, hidden or
future-dated part shows as "binnenkort" when the series file plans its index, and
not at all otherwise. A teaser becomes a link once the part with the next index
is published. The model lives on the build's generator context, never in module
globals, so ``make serve`` rebuilds give the same result.
"""

import datetime
import logging
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field

from markupsafe import Markup
from pelican import signals
from pelican.generators import Generator
from pelican.readers import MarkdownReader
from pelican.utils import slugify

from adviesblog_common.feeds import FeedCollection, offer_feed
from adviesblog_common.sanitize import FORBIDDEN_CHARACTERS
from adviesblog_common.settings import apply_defaults, require_plugins
from adviesblog_common.slugs import slug_problem

logger = logging.getLogger(__name__)

DEFAULTS = {
    # Folder under PATH with one optional file per series.
    "SERIES_PATH": "series",
    "SERIES_URL": "serie/{slug}/",
    "SERIES_SAVE_AS": "serie/{slug}/index.html",
    "SERIES_INDEX_URL": "serie/",
    "SERIES_INDEX_SAVE_AS": "serie/index.html",
}
_CONTEXT_KEY = "series_list"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass
class Entry:
    """One place in a series: a published part, or a part announced as coming."""

    index: int
    title: str
    article: object = None
    month: datetime.date | None = None

    @property
    def published(self) -> bool:
        return self.article is not None


@dataclass
class Series:
    name: str
    slug: str
    url: str
    title: str = ""
    intro: str = ""
    image: str = ""
    entries: list[Entry] = field(default_factory=list)
    # Drafts and hidden articles of this series: they may preview it, never appear in it.
    previews: list = field(default_factory=list)

    @property
    def parts(self) -> list:
        """Published parts in series order."""
        return [entry.article for entry in self.entries if entry.published]

    @property
    def total(self) -> int:
        return len(self.entries)

    @property
    def series(self) -> str:
        """The name, so that the follow form can scope to a series page like to a part."""
        return self.name

    @property
    def series_info(self) -> "Series":
        """Itself, as on a part, so that a series page is treated like a part of it."""
        return self


def set_defaults(pelican):
    # The series templates show months with site_nl's Babel filters.
    require_plugins(pelican.settings, "blog_series", "site_nl")
    apply_defaults(pelican.settings, "SERIES_", DEFAULTS)


def series_slug(name: str, settings) -> str:
    return slugify(name, regex_subs=settings["SLUG_REGEX_SUBSTITUTIONS"])


def check_series_index(value, settings=None) -> str | None:
    """The article's ``Series_index`` field: what is wrong with it, or None."""
    if str(value).isdigit() and int(value) >= 1:
        return None
    return "expected a whole number from 1, e.g. 'Series_index: 2'"


def check_series_name(value, settings) -> str | None:
    """The article's ``Series`` field: its slug names the series page and feeds, or None.

    A name without letters or digits would make ``serie//``, the address of the list of
    series, and a very long one a file name the file system refuses.
    """
    problem = slug_problem(series_slug(value, settings)) if value else None
    if problem:
        return f"the name {problem}; rename it, e.g. 'Series: Interne klantgerichtheid'"
    return None


# The article fields this plugin reads, for the content checks: name -> check(value, settings).
METADATA_FIELDS = {"series": check_series_name, "series_index": check_series_index, "next": None}


def read_series_file(path: str, settings) -> dict:
    """Title, intro, image and planned parts from ``content/series/<slug>.md``."""
    intro, meta = MarkdownReader(settings).read(path)
    if FORBIDDEN_CHARACTERS.search(str(meta.get("title", ""))):
        raise ValueError("field 'Title' holds a control character")
    planned = {}
    lines = meta.get("planned", [])
    for line in lines if isinstance(lines, list) else [lines]:
        parts = [part.strip() for part in line.split("|")]
        if not (parts[0].isascii() and parts[0].isdigit()) or int(parts[0]) < 1 or len(parts) < 2 or not parts[1]:
            logger.error("%s: field 'Planned' is %r; expected '<part number> | <title>' with an "
                         "optional '| YYYY-MM', e.g. 'Planned: 3 | Managen en leidinggeven | "
                         "2027-01'", os.path.relpath(path), line)
            continue
        month = None
        if len(parts) > 2 and parts[2]:
            if _MONTH.match(parts[2]):
                month = datetime.date.fromisoformat(parts[2] + "-01")
            else:
                logger.error("%s: field 'Planned' gives month %r for part %s; expected YYYY-MM",
                             os.path.relpath(path), parts[2], parts[0])
        planned[int(parts[0])] = (parts[1], month)
    # The intro is Markdown output, which the build made: the one place it is marked safe.
    return {"title": meta.get("title", ""), "intro": Markup(intro), "image": meta.get("image", ""),
            "planned": planned}


def load_series_files(settings) -> dict[str, tuple[str, dict]]:
    folder = os.path.join(settings["PATH"], settings["SERIES_PATH"])
    files = {}
    if os.path.isdir(folder):
        for name in sorted(os.listdir(folder)):
            if name.endswith(".md"):
                path = os.path.join(folder, name)
                try:
                    files[name[:-3]] = (path, read_series_file(path, settings))
                except (UnicodeDecodeError, ValueError, RecursionError) as error:
                    logger.error("%s: cannot be read (%s); expected UTF-8 'Title: …' and "
                                 "'Planned: …' lines and a Markdown intro",
                                 os.path.relpath(path), error)
    return files


def _index(article) -> int | None:
    value = getattr(article, "series_index", None)
    return int(value) if value is not None and str(value).isdigit() else None


def canonical_names(articles, settings) -> dict:
    """Map each Series value to the first spelling seen; report near-duplicates.

    Two spellings are one series when they differ only in case and spacing, or give
    the same slug (the same page and feeds): "Mijn serie" and "Mijn Serie!".
    """
    first_spelling = {}
    canonical = {}
    for article in sorted(articles, key=lambda a: (a.date, a.source_path)):
        name = article.series
        known = first_spelling.setdefault(series_slug(name, settings), (name, article))
        if known[0] != name:
            logger.error("%s: field 'Series' is %r; did you mean %r (as in %s)?",
                         os.path.relpath(article.source_path), name, known[0],
                         os.path.relpath(known[1].source_path))
        canonical[name] = known[0]
    return canonical


def build_series(published, unpublished, settings) -> list[Series]:
    """The site's series, from its published and its unpublished articles."""
    in_series = [a for a in published + unpublished if getattr(a, "series", None)]
    canonical = canonical_names(in_series, settings)
    files = load_series_files(settings)
    grouped = defaultdict(lambda: {"published": [], "unpublished": []})
    published_ids = {id(article) for article in published}
    for article in in_series:
        bucket = "published" if id(article) in published_ids else "unpublished"
        grouped[canonical[article.series]][bucket].append(article)
    slugs = {series_slug(name, settings) for name in grouped}
    for slug, (path, _data) in files.items():
        if slug not in slugs:
            logger.warning("%s: no article has a Series whose slug is %r; known series: %s",
                           os.path.relpath(path), slug, ", ".join(sorted(slugs)) or "none")
    return [
        _series(name, grouped[name]["published"], grouped[name]["unpublished"],
                files.get(series_slug(name, settings), (None, {}))[1], settings)
        for name in sorted(grouped)
    ]


def _series(name, published, unpublished, data, settings) -> Series:
    slug = series_slug(name, settings)
    series = Series(name=name, slug=slug, url=settings["SERIES_URL"].format(slug=slug),
                    title=data.get("title") or name, intro=data.get("intro", ""),
                    image=data.get("image", ""), previews=list(unpublished))
    by_index = defaultdict(list)
    for article in published:
        by_index[_index(article)].append(article)
    for index, same in sorted((i, s) for i, s in by_index.items() if i is not None):
        if len(same) > 1:
            paths = sorted(os.path.relpath(a.source_path) for a in same)
            logger.error("%s: field 'Series_index' is %d, which %s uses too in series %r; "
                         "give each part its own number", paths[0], index, ", ".join(paths[1:]),
                         name)
    indexed = {i: sorted(s, key=lambda a: a.date)[0] for i, s in by_index.items() if i is not None}
    planned = data.get("planned", {})
    entries = []
    for index in sorted(set(indexed) | set(planned)):
        if index in indexed:
            entries.append(Entry(index, str(indexed[index].title), indexed[index]))
        else:
            title, month = planned[index]
            entries.append(Entry(index, title, None, month))
    next_index = max((e.index for e in entries), default=0)
    for article in sorted(by_index.get(None, []), key=lambda a: a.date):
        next_index += 1
        entries.append(Entry(next_index, str(article.title), article))
    series.entries = entries
    return series


def attach(series) -> None:
    """Give each part its place: position, neighbours and the part its teaser names."""
    for position, entry in enumerate(series.entries):
        if not entry.published:
            continue
        article = entry.article
        article.series_info = series
        article.series_entry = entry
        article.series_position = position + 1
        earlier = [e.article for e in series.entries[:position] if e.published]
        later = [e.article for e in series.entries[position + 1:] if e.published]
        article.series_previous = earlier[-1] if earlier else None
        article.series_following = later[0] if later else None
        following = next((e for e in series.entries if e.index == entry.index + 1), None)
        article.series_next_part = following.article if following else None
    for article in series.previews:
        # Previews of drafts see the series, but no published page links to them.
        article.series_info = series
        article.series_next_part = None


def collect(generator):
    """After the articles are read: build the series and attach them to the parts."""
    unpublished = list(generator.drafts) + list(generator.hidden_articles)
    series_list = build_series(list(generator.articles), unpublished, generator.settings)
    for series in series_list:
        attach(series)
        if series.parts:
            newest_first = sorted(series.parts, key=lambda a: a.date, reverse=True)
            offer_feed(generator.context, FeedCollection(
                kind="series", slug=series.slug, name=series.title, page_path=series.url,
                articles=newest_first, oldest_first=True))
    generator.context[_CONTEXT_KEY] = series_list


class SeriesGenerator(Generator):
    """Writes /serie/<slug>/ and /serie/; the feeds plugin writes the series' feeds."""

    def generate_output(self, writer):
        series_list = self.context.get(_CONTEXT_KEY, [])
        if not series_list:
            return
        settings = self.settings
        for series in series_list:
            writer.write_file(settings["SERIES_SAVE_AS"].format(slug=series.slug),
                              self.get_template("series"), self.context, series=series,
                              page_name=series.url.rstrip("/"),
                              relative_urls=settings["RELATIVE_URLS"])
        writer.write_file(settings["SERIES_INDEX_SAVE_AS"], self.get_template("series_index"),
                          self.context, page_name="serie",
                          relative_urls=settings["RELATIVE_URLS"])


def get_generators(pelican):
    return SeriesGenerator


def register():
    signals.initialized.connect(set_defaults)
    signals.article_generator_finalized.connect(collect)
    signals.get_generators.connect(get_generators)
