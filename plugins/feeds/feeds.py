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

Other plugins offer feeds without importing this one: each puts a
``FeedCollection`` in the build context with ``adviesblog_common.feeds.offer_feed``,
and this plugin writes those it has a path for in FEEDS_PATHS. Without this
plugin, nothing is written and no page links a feed.
"""

import functools
import logging
import os

from feedgen.feed import FeedGenerator
from markupsafe import Markup
from pelican import signals
from pelican.generators import Generator

from adviesblog_common.feeds import offered_feeds
from adviesblog_common.files import write_atomically
from adviesblog_common.identity import assign_entry_ids, entry_id, id_authority, site_base_url
from adviesblog_common.links import absolute_urls
from adviesblog_common.settings import apply_defaults

logger = logging.getLogger(__name__)

DEFAULTS = {
    # Site-relative paths of the feeds; {slug} and {format} ("atom" or "rss") are filled in.
    "FEEDS_PATHS": {
        "all": "feeds/alle.{format}.xml",
        "category": "feeds/categorie/{slug}.{format}.xml",
        "author": "feeds/auteur/{slug}.{format}.xml",
        "tag": "feeds/tag/{slug}.{format}.xml",
        "series": "feeds/serie/{slug}.{format}.xml",
    },
    # Publish a feed per tag as well.
    "FEEDS_TAGS": True,
    # Pinned so that feeds are byte-stable; no version number that changes them.
    "FEEDS_GENERATOR": "adviesblog",
}
FORMATS = ("atom", "rss")
# Settings that other names replaced: old name -> new name.
RENAMED = {"FEEDS_ID_AUTHORITY": "ARTICLE_ID_AUTHORITY"}


def set_defaults(pelican):
    settings = pelican.settings
    for old, new in RENAMED.items():
        if old in settings:
            logger.warning("feeds: %s is now called %s; rename it in pelicanconf.py", old, new)
            settings.setdefault(new, settings.pop(old))
    apply_defaults(settings, "FEEDS_", DEFAULTS)
    for key in ("FEED_ALL_ATOM", "FEED_ALL_RSS", "CATEGORY_FEED_ATOM", "CATEGORY_FEED_RSS",
                "AUTHOR_FEED_ATOM", "AUTHOR_FEED_RSS", "TAG_FEED_ATOM", "TAG_FEED_RSS",
                "FEED_ATOM", "FEED_RSS", "TRANSLATION_FEED_ATOM", "TRANSLATION_FEED_RSS"):
        if pelican.settings.get(key):
            logger.error(
                "feeds: %s is set, so Pelican would write a second feed; set it to None "
                "(the feeds plugin writes all feeds)", key,
            )


def feed_path(settings, kind: str, slug: str = "", fmt: str = "atom") -> str:
    """Site-relative path of a feed, e.g. ``feeds/categorie/leiderschap.atom.xml``.

    Empty for a kind that has no path in FEEDS_PATHS, so templates never link to a
    missing feed.
    """
    pattern = settings["FEEDS_PATHS"].get(kind)
    if not pattern or (kind == "tag" and not settings["FEEDS_TAGS"]):
        return ""
    return pattern.format(slug=slug, format=fmt)


def build_feed(settings, articles, *, title: str, page_path: str, feed_paths: dict,
               description: str = "", html_cache: dict | None = None) -> FeedGenerator:
    """One feedgen feed of ``articles``, in the order given.

    ``html_cache`` keeps each article's summary and content with absolute URLs for
    the next feed it is in (the site's, its category's, its tags'...).
    """
    base = site_base_url(settings)
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
        add_entry(feed, article, base, authority,
                  {} if html_cache is None else html_cache)
    return feed


def link_feed(feed, base: str, self_path: str, page_path: str) -> None:
    """Set the feed's self link (its own file) and its alternate link (the page).

    feedgen gives RSS's <link> the last link added, so the page goes last.
    """
    feed.link([{"href": f"{base}/{self_path}", "rel": "self"},
               {"href": f"{base}/{page_path}", "rel": "alternate"}], replace=True)


def entry_html(article, base: str) -> tuple[str, str]:
    """The article's summary and content, with every URL absolute."""
    url = f"{base}/{article.url}"
    site_url = f"{base}/"
    return (absolute_urls(article.get_summary(site_url), url),
            absolute_urls(article.get_content(site_url), url))


def add_entry(feed, article, base: str, authority: str, html_cache: dict) -> None:
    url = f"{base}/{article.url}"
    entry = feed.add_entry(order="append")
    entry.id(entry_id(article, authority))
    entry.guid(entry_id(article, authority), permalink=False)
    entry.title(article.title)
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
    summary, content = html_cache.get(id(article)) or html_cache.setdefault(
        id(article), entry_html(article, base))
    entry.summary(summary, type="html")
    entry.content(content, type="html")


def write_feeds(output_path: str, settings, articles, *, kind: str, slug: str = "",
                title: str, page_path: str, description: str = "",
                oldest_first: bool = False, html_cache: dict | None = None) -> dict:
    """Write the Atom and RSS feed of ``articles``; return their site-relative paths.

    ``articles`` are taken newest first (as Pelican orders them), cut to
    FEED_MAX_ITEMS; ``oldest_first`` then lists them in publication order.
    """
    paths = {fmt: feed_path(settings, kind, slug, fmt) for fmt in FORMATS}
    selected = list(articles)[: settings.get("FEED_MAX_ITEMS") or None]
    if oldest_first:
        selected.reverse()
    feed = build_feed(settings, selected, title=title, page_path=page_path,
                      feed_paths=paths, description=description, html_cache=html_cache)
    write_atomically(os.path.join(output_path, paths["atom"]), feed.atom_str(pretty=True))
    # Each format's self link names its own file, as the W3C validator expects.
    link_feed(feed, site_base_url(settings), paths["rss"], page_path)
    write_atomically(os.path.join(output_path, paths["rss"]), feed.rss_str(pretty=True))
    return paths


class FeedsGenerator(Generator):
    """Writes the site's feeds once every article is final."""

    def generate_output(self, writer):
        settings, output = self.settings, self.output_path
        site = settings["SITENAME"]
        html_cache = {}

        def write(kind, articles, *, slug="", name="", page_path="", oldest_first=False):
            # Feed titles are text: the template macro's escaping is undone for feedgen,
            # which escapes them itself.
            title = self.env.globals["feed_title"](kind, site, name).unescape()
            write_feeds(output, settings, articles, kind=kind, slug=slug, title=title,
                        page_path=page_path, oldest_first=oldest_first, html_cache=html_cache)

        write("all", self.context.get("articles", []))
        for kind, groups in (("category", "categories"), ("author", "authors"), ("tag", "tags")):
            if not feed_path(settings, kind, "x"):
                continue
            entries = self.context.get(groups, [])
            for term, term_articles in (entries.items() if isinstance(entries, dict) else entries):
                write(kind, term_articles, slug=term.slug, name=term.name, page_path=term.url)
        for collection in offered_feeds(self.context):
            if feed_path(settings, collection.kind, collection.slug) and collection.articles:
                write(collection.kind, collection.articles, slug=collection.slug,
                      name=collection.name, page_path=collection.page_path,
                      oldest_first=collection.oldest_first)


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

    # Every page names the same few feeds; render each title once per build. The
    # result is Markup (escaped HTML) for the templates.
    @functools.cache
    def feed_title(kind: str, site: str, name: str = "") -> Markup:
        return Markup(env.get_template("titles.html").module.feed_title(kind, site, name))

    env.globals["feed_title"] = feed_title


def register():
    signals.initialized.connect(set_defaults)
    signals.get_generators.connect(get_generators)
    signals.generator_init.connect(add_template_helpers)
    signals.article_generator_finalized.connect(assign_entry_ids)
