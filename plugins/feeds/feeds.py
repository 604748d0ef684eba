"""Atom and RSS 2.0 feeds built with feedgen; Pelican's own feed writer is off.

Feeds for the whole site, each category, each author and (``FEEDS_TAGS``) each
tag. Other plugins call ``write_feeds`` to publish a feed of any list of articles
(a series, say) and ``feed_path`` to link to it.

What feed readers and RSS-to-email services need, and what the W3C validator
checks: every entry carries the full content and the summary with absolute URLs,
the authors, the category and tags, published and updated dates, and an id that
is a tag URI made of the site's domain and the article's first publication, so
it survives a change of title or slug. Feeds are byte-identical between two
builds of the same content: the generator string, ``updated`` and the order of
the entries come from the content, never from the clock.
"""

import functools
import logging
import os
import re
from collections import defaultdict
from urllib.parse import urljoin, urlsplit

from feedgen.feed import FeedGenerator
from markupsafe import Markup
from pelican import signals
from pelican.generators import Generator

from plugin_settings import apply_defaults

logger = logging.getLogger(__name__)

DEFAULTS = {
    # Site-relative paths of the feeds; {slug} and {format} ("atom" or "rss") are filled in.
    "FEEDS_PATHS": {
        "all": "feeds/alle.{format}.xml",
        "category": "feeds/categorie/{slug}.{format}.xml",
        "author": "feeds/auteur/{slug}.{format}.xml",
        "tag": "feeds/tag/{slug}.{format}.xml",
    },
    # Publish a feed per tag as well.
    "FEEDS_TAGS": True,
    # The authority of the entries' tag URIs; empty means the host of SITEURL.
    # Set it once and never change it: feed readers identify entries by it.
    "FEEDS_ID_AUTHORITY": "",
    # Pinned so that feeds are byte-stable; no version number that changes them.
    "FEEDS_GENERATOR": "adviesblog",
}
FORMATS = ("atom", "rss")
_URL_ATTRIBUTE = re.compile(r"""(?P<attr>\b(?:href|src))=(?P<quote>["'])(?P<url>.*?)(?P=quote)""")
_SRCSET = re.compile(r"""\bsrcset=(?P<quote>["'])(?P<value>.*?)(?P=quote)""")


def set_defaults(pelican):
    apply_defaults(pelican.settings, "FEEDS_", DEFAULTS)
    for key in ("FEED_ALL_ATOM", "FEED_ALL_RSS", "CATEGORY_FEED_ATOM", "CATEGORY_FEED_RSS",
                "AUTHOR_FEED_ATOM", "AUTHOR_FEED_RSS", "TAG_FEED_ATOM", "TAG_FEED_RSS",
                "FEED_ATOM", "FEED_RSS", "TRANSLATION_FEED_ATOM", "TRANSLATION_FEED_RSS"):
        if pelican.settings.get(key):
            logger.error(
                "feeds: %s is set, so Pelican would write a second feed; set it to None "
                "(the feeds plugin writes all feeds)", key,
            )


def feed_base_url(settings) -> str:
    """Absolute URL that feed links start with: FEED_DOMAIN, else SITEURL."""
    return (settings.get("FEED_DOMAIN") or settings.get("SITEURL") or "").rstrip("/")


def feed_path(settings, kind: str, slug: str = "", fmt: str = "atom") -> str:
    """Site-relative path of a feed, e.g. ``feeds/categorie/leiderschap.atom.xml``.

    Empty for a kind that no plugin writes, so templates never link to a missing
    feed; a plugin adds its kind to FEEDS_PATHS before it calls ``write_feeds``.
    """
    pattern = settings["FEEDS_PATHS"].get(kind)
    if not pattern or (kind == "tag" and not settings["FEEDS_TAGS"]):
        return ""
    return pattern.format(slug=slug, format=fmt)


def id_authority(settings) -> str:
    configured = settings["FEEDS_ID_AUTHORITY"]
    return configured or urlsplit(settings.get("SITEURL") or "").hostname or "localhost"


def entry_id(article, authority: str) -> str:
    """A tag URI (RFC 4151) from the domain and the moment of first publication."""
    return f"tag:{authority},{article.date:%Y-%m-%d}:artikel-{article.date:%H%M%S}"


def absolute_urls(html: str, base: str) -> str:
    """Make every href, src and srcset URL in ``html`` absolute against ``base``."""

    def attribute(match):
        url = urljoin(base, match.group("url"))
        return f'{match.group("attr")}={match.group("quote")}{url}{match.group("quote")}'

    def srcset(match):
        candidates = []
        for candidate in match.group("value").split(","):
            url, _, descriptor = candidate.strip().partition(" ")
            candidates.append(f"{urljoin(base, url)} {descriptor}".strip())
        return f'srcset={match.group("quote")}{", ".join(candidates)}{match.group("quote")}'

    return _SRCSET.sub(srcset, _URL_ATTRIBUTE.sub(attribute, html or ""))


def _plain(text) -> str:
    return Markup(text).striptags()


def build_feed(settings, articles, *, title: str, page_path: str, feed_paths: dict,
               description: str = "") -> FeedGenerator:
    """One feedgen feed of ``articles``, in the order given."""
    base = feed_base_url(settings)
    authority = id_authority(settings)
    feed = FeedGenerator()
    feed.load_extension("dc", atom=False, rss=True)
    feed.id(f"{base}/{feed_paths['atom']}")
    feed.title(title)
    feed.subtitle(description or settings.get("SITESUBTITLE") or title)
    link_feed(feed, base, feed_paths["atom"], page_path)
    feed.language(settings.get("DEFAULT_LANG", "nl"))
    feed.author({"name": settings["SITENAME"]})
    feed.generator(settings["FEEDS_GENERATOR"])
    feed.docs("https://www.rssboard.org/rss-specification")
    newest = max((getattr(a, "modified", None) or a.date for a in articles), default=None)
    if newest is not None:
        feed.updated(newest)
    for article in articles:
        add_entry(feed, article, base, authority)
    return feed


def link_feed(feed, base: str, self_path: str, page_path: str) -> None:
    """Set the feed's self link (its own file) and its alternate link (the page).

    feedgen gives RSS's <link> the last link added, so the page goes last.
    """
    feed.link([{"href": f"{base}/{self_path}", "rel": "self"},
               {"href": f"{base}/{page_path}", "rel": "alternate"}], replace=True)


def add_entry(feed, article, base: str, authority: str) -> None:
    url = f"{base}/{article.url}"
    entry = feed.add_entry(order="append")
    entry.id(entry_id(article, authority))
    entry.guid(entry_id(article, authority), permalink=False)
    entry.title(_plain(article.title))
    entry.link(href=url, rel="alternate")
    entry.published(article.date)
    entry.updated(getattr(article, "modified", None) or article.date)
    for author in getattr(article, "authors", []):
        entry.author({"name": author.name, "uri": f"{base}/{author.url}"})
        entry.dc.dc_creator(author.name)
    terms = []
    if getattr(article, "category", None):
        terms.append({"term": article.category.name, "scheme": f"{base}/{article.category.url}"})
    terms += [{"term": tag.name, "scheme": f"{base}/{tag.url}"} for tag in getattr(article, "tags", [])]
    if terms:
        entry.category(terms)
    site_url = f"{base}/"
    entry.summary(absolute_urls(article.get_summary(site_url), url), type="html")
    entry.content(absolute_urls(article.get_content(site_url), url), type="html")


def write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    Readers of ``path`` (a web server, the newsletter sender) see the old file or
    the new one, never half of one. The build owns the output folder, so a fixed
    temporary name next to the target is enough.
    """
    temporary = f"{path}.tmp"
    try:
        target = open(temporary, "wb")
    except FileNotFoundError:  # the folder is new; rarer than an existing one
        os.makedirs(os.path.dirname(path), exist_ok=True)
        target = open(temporary, "wb")
    with target:
        target.write(data)
    os.replace(temporary, path)


def write_feeds(output_path: str, settings, articles, *, kind: str, slug: str = "",
                title: str, page_path: str, description: str = "",
                oldest_first: bool = False) -> dict:
    """Write the Atom and RSS feed of ``articles``; return their site-relative paths.

    ``articles`` are taken newest first (as Pelican orders them), cut to
    FEED_MAX_ITEMS; ``oldest_first`` then lists them in publication order.
    """
    paths = {fmt: feed_path(settings, kind, slug, fmt) for fmt in FORMATS}
    selected = list(articles)[: settings.get("FEED_MAX_ITEMS") or None]
    if oldest_first:
        selected.reverse()
    feed = build_feed(settings, selected, title=title, page_path=page_path,
                      feed_paths=paths, description=description)
    write_atomically(os.path.join(output_path, paths["atom"]), feed.atom_str(pretty=True))
    # Each format's self link names its own file, as the W3C validator expects.
    link_feed(feed, feed_base_url(settings), paths["rss"], page_path)
    write_atomically(os.path.join(output_path, paths["rss"]), feed.rss_str(pretty=True))
    return paths


def check_unique_ids(articles, authority: str) -> None:
    by_id = defaultdict(list)
    for article in articles:
        by_id[entry_id(article, authority)].append(os.path.relpath(article.source_path))
    for feed_id, paths in sorted(by_id.items()):
        if len(paths) > 1:
            logger.error(
                "%s: field 'Date' is the same moment as in %s, so both would get feed id %s; "
                "move one Date by a minute", paths[0], ", ".join(paths[1:]), feed_id,
            )


class FeedsGenerator(Generator):
    """Writes the site's feeds once every article is final."""

    def generate_context(self):
        check_unique_ids(self.context.get("articles", []), id_authority(self.settings))

    def generate_output(self, writer):
        settings, output = self.settings, self.output_path
        feed_title = self.env.globals["feed_title"]
        site = settings["SITENAME"]
        articles = self.context.get("articles", [])
        write_feeds(output, settings, articles, kind="all",
                    title=feed_title("all", site), page_path="")
        for kind, groups in (("category", "categories"), ("author", "authors"), ("tag", "tags")):
            if not feed_path(settings, kind, "x"):
                continue
            entries = self.context.get(groups, [])
            for term, term_articles in (entries.items() if isinstance(entries, dict) else entries):
                write_feeds(output, settings, term_articles, kind=kind, slug=term.slug,
                            title=feed_title(kind, site, term.name),
                            page_path=term.url)


def get_generators(pelican):
    return FeedsGenerator


def add_template_helpers(generator):
    env = getattr(generator, "env", None)
    if env is None:
        return
    settings = generator.settings
    env.globals["feed_url"] = lambda kind, slug="", fmt="atom": feed_path(
        settings, kind, slug, fmt
    )

    # Every page names the same few feeds; render each title once per build.
    @functools.cache
    def feed_title(kind: str, site: str, name: str = "") -> str:
        return str(env.get_template("titles.html").module.feed_title(kind, site, name))

    env.globals["feed_title"] = feed_title


def register():
    signals.initialized.connect(set_defaults)
    signals.get_generators.connect(get_generators)
    signals.generator_init.connect(add_template_helpers)
