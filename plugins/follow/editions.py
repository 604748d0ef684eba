"""Email editions: each published article as email-safe HTML and plain text.

Written under ``output/<FOLLOW_EDITIONS_PATH>/<slug>/`` as ``index.html`` and
``index.txt``, with ``editions.json`` (the newsletter sender's input, described
in the README) and an ``index.html`` that lists the editions for the editor.

The HTML is one 600px table column whose CSS is inlined by css-inline; it has
absolute URLs, ``alt`` on every image, each image once and at most 600px wide, no script or forms, and stays under the
size at which Gmail clips a message: an article too long for that is cut after
the last whole top-level block that fits, and ends with a link to read on at the
site. Its unsubscribe link is the service's generic page (see ``unsubscribe_url``);
the sender replaces that exact string with each subscriber's one-click link, as
``editions.json`` says. Each article's record there also holds its summary, from
which the build (``FOLLOW_DIGEST_SINCE``) and the sender render digests (``digest``).
"""

import bisect
import datetime
import functools
import json
import logging
import os

from markupsafe import Markup
from pelican.generators import Generator

from adviesblog_common.files import write_atomically
from adviesblog_common.identity import entry_id, id_authority, site_base_url
from adviesblog_common.links import (
    absolute_urls,
    inner_html,
    leading_html,
    outer_html,
    parse_fragment,
)

from .digest import TEMPLATE_SETTINGS, new_inliner, render_digest_parts, render_email
from .plaintext import html_to_text

logger = logging.getLogger(__name__)

GMAIL_CLIP_BYTES = 100 * 1024
# The editions' one column (templates/email/base.html); no image is wider.
EMAIL_COLUMN_PX = 600
# What a browser reads to choose or load an image, and mail clients do not.
_BROWSER_IMAGE_ATTRIBUTES = ("srcset", "sizes", "loading", "decoding", "fetchpriority")
# Format 1 gained keys (frequency; summary_html and summary_text per article) that a
# reader of the first version can ignore, so it is still format 1.
EDITIONS_FORMAT = 1


def unsubscribe_url(settings, site_url: str) -> str:
    """The generic unsubscribe link of the editions; a working page on its own.

    The sender swaps exactly this string for a subscriber's one-click link, so a
    reader of the browser view still finds a page where they can unsubscribe.
    """
    if settings["FOLLOW_UNSUBSCRIBE_URL"]:
        return settings["FOLLOW_UNSUBSCRIBE_URL"]
    endpoint = settings["FOLLOW_ENDPOINT"] or ""
    if endpoint.startswith("/"):
        return f"{site_url}{endpoint.rstrip('/')}/afmelden/"
    return f"{site_url}/#volg"


def article_series_slug(article) -> str | None:
    """The slug of the article's series, from the series plugin when it is enabled."""
    series = getattr(article, "series_info", None)
    return series.slug if series is not None else None


def with_alt_text(markup: str) -> str:
    """Give every image an ``alt``; one the author left out is decorative.

    Read with a parser: an ``alt=`` in an image's URL is no alt text, and an image
    in a code example is text, not an element, so it is left as it is.
    """
    if "<img" not in markup.lower():
        return markup
    root = parse_fragment(markup)
    bare = [image for image in root.iter("img") if image.get("alt") is None]
    for image in bare:
        image.set("alt", "")
    return inner_html(root) if bare else markup


def _width_candidates(srcset: str) -> list[tuple[int, str]]:
    """``(width, url)`` of each ``url 800w`` candidate of a ``srcset``, narrowest first."""
    candidates = []
    for candidate in srcset.split(","):
        url, _, descriptor = candidate.strip().partition(" ")
        descriptor = descriptor.strip()
        if url and descriptor.endswith("w") and descriptor[:-1].isdigit():
            candidates.append((int(descriptor[:-1]), url))
    return sorted(candidates)


def _number(value) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def email_images(markup: str, column: int = EMAIL_COLUMN_PX) -> str:
    """Each image as one plain ``<img>`` no wider than the mail's column.

    Mail clients know neither ``<picture>`` nor ``srcset``, and many show an image at
    its own size: a ``<picture>`` becomes its ``<img>`` (its WebP sources go, JPEG
    and PNG are what every client shows), whose ``src`` becomes the widest
    candidate of its ``srcset`` that fits the column, with ``width`` and ``height``
    to match. Read with a parser: an image in a code example is text.
    """
    if "<img" not in markup.lower():
        return markup
    root = parse_fragment(markup)
    for picture in list(root.iter("picture")):
        image = next(picture.iter("img"), None)
        if image is None:
            picture.drop_tree()
            continue
        image.tail = picture.tail
        picture.getparent().replace(picture, image)
    for image in root.iter("img"):
        width, height = _number(image.get("width")), _number(image.get("height"))
        candidates = _width_candidates(image.get("srcset") or "")
        fitting = [c for c in candidates if c[0] <= column] or candidates[:1]
        if fitting:
            shown, url = fitting[-1]
            image.set("src", url)
        else:
            shown = width
        for attribute in _BROWSER_IMAGE_ATTRIBUTES:
            image.attrib.pop(attribute, None)
        if shown and width:
            shown = min(shown, column)
            if height:
                image.set("height", str(max(1, round(height * shown / width))))
            image.set("width", str(shown))
    return inner_html(root)


def top_level_blocks(markup: str) -> list[str]:
    """The top-level elements of ``markup`` as HTML, each with the text after it."""
    root = parse_fragment(markup)
    blocks = [outer_html(child) for child in root]
    if (root.text or "").strip():
        blocks.insert(0, leading_html(root))
    return blocks


def fits_in_gmail(markup: str) -> bool:
    return len(markup.encode("utf-8")) < GMAIL_CLIP_BYTES


def article_summary(article, base: str) -> tuple[Markup, str]:
    """The article's summary as email HTML (absolute URLs, every image with an alt) and text."""
    # The build made the summary (Markdown output): safe to show.
    summary = Markup(email_images(with_alt_text(absolute_urls(
        article.get_summary(f"{base}/"), f"{base}/{article.url}"))))
    return summary, html_to_text(summary).strip()


class EditionsGenerator(Generator):
    """Renders the email editions once every article is final."""

    def generate_output(self, writer):
        settings = self.settings
        self.base = site_base_url(settings)
        self.folder = settings["FOLLOW_EDITIONS_PATH"].strip("/")
        self.inliner = new_inliner()
        self.unsubscribe_url = unsubscribe_url(settings, self.base)
        self.template_settings = {key: settings[key] for key in TEMPLATE_SETTINGS}
        self.authority = id_authority(settings)
        self.records = {}
        articles = self.context.get("articles", [])
        limit = settings["FOLLOW_EDITIONS_MAX"]
        editions = [self.write_article_edition(article)
                    for article in (articles if limit is None else articles[:limit])]
        since = settings.get("FOLLOW_DIGEST_SINCE")
        if since:
            digest = self.write_digest(since)
            if digest:
                editions.insert(0, digest)
        self.write_index(editions)

    def browser_url(self, slug: str) -> str:
        return f"{self.base}/{self.folder}/{slug}/"

    def edition_context(self, slug: str, **values) -> dict:
        """What the ``email/*`` templates of the edition ``slug`` read."""
        return dict(self.template_settings, browser_url=self.browser_url(slug),
                    unsubscribe_url=self.unsubscribe_url, site_url=self.base, **values)

    def render(self, name: str, context: dict) -> tuple[str, str]:
        return render_email(self.env, self.inliner, name, context)

    def write_parts(self, slug: str, html_part: str, text_part: str, source: str) -> dict:
        """Write both parts of an edition; return their paths and its browser URL."""
        paths = {"html": f"{self.folder}/{slug}/index.html",
                 "text": f"{self.folder}/{slug}/index.txt"}
        if not fits_in_gmail(html_part):
            logger.error("%s: email edition is %d KB; Gmail clips messages over 100 KB, "
                         "so shorten it or split it", source,
                         len(html_part.encode("utf-8")) // 1024)
        for kind, part in (("html", html_part), ("text", text_part)):
            write_atomically(os.path.join(self.output_path, paths[kind]), part.encode("utf-8"))
        return dict(paths, browser_url=self.browser_url(slug))

    def render_article(self, context: dict, content: Markup,
                       shortened: bool = False) -> tuple[str, str]:
        return self.render("edition", dict(context, content=content, shortened=shortened,
                                           content_text=html_to_text(content)))

    def render_shortened(self, context: dict, content: Markup, source: str) -> tuple[str, str]:
        """The edition with as many whole top-level blocks as fit under Gmail's limit."""
        blocks = top_level_blocks(content)

        @functools.cache
        def render(count: int) -> tuple[str, str]:
            # The blocks are HTML the build made, cut between elements by the parser.
            return self.render_article(context, Markup("".join(blocks[:count])), True)

        # Each block kept makes the edition longer, so bisect for the last one that fits.
        keep = bisect.bisect_left(range(1, len(blocks) + 1), True,
                                  key=lambda count: not fits_in_gmail(render(count)[0]))
        logger.info("%s: the email edition holds the first %d of %d blocks, to stay under "
                    "Gmail's 100 KB clipping limit; it links to the rest", source, keep,
                    len(blocks))
        return render(keep)

    def article_record(self, article) -> dict:
        """What editions.json says of an article, but for its parts; made once a build."""
        record = self.records.get(id(article))
        if record is None:
            category = getattr(article, "category", None)
            summary_html, summary_text = article_summary(article, self.base)
            record = self.records[id(article)] = {
                "id": entry_id(article, self.authority),
                "kind": "article",
                "title": str(article.title),
                "subject": str(article.title),
                "url": f"{self.base}/{article.url}",
                "date": article.date.isoformat(),
                "series": getattr(article, "series", None),
                "series_slug": article_series_slug(article),
                "category": category.name if category else None,
                "category_slug": category.slug if category else None,
                "authors": [author.name for author in getattr(article, "authors", [])],
                "summary_html": str(summary_html),
                "summary_text": summary_text,
            }
        return record

    def write_article_edition(self, article) -> dict:
        record = self.article_record(article)
        article_url = record["url"]
        # The build made this HTML (Markdown output with absolute URLs): safe to show.
        content = Markup(email_images(with_alt_text(absolute_urls(
            article.get_content(f"{self.base}/"), article_url))))
        source = os.path.relpath(article.source_path)
        context = self.edition_context(article.slug, article=article, article_url=article_url,
                                       title=record["title"])
        html_part, text_part = self.render_article(context, content)
        if not fits_in_gmail(html_part):
            html_part, text_part = self.render_shortened(context, content, source)
        parts = self.write_parts(article.slug, html_part, text_part, source)
        return dict(record, html=parts["html"], text=parts["text"],
                    browser_url=parts["browser_url"])

    def write_digest(self, since: str) -> dict | None:
        try:
            start = datetime.date.fromisoformat(str(since))
        except ValueError:
            logger.error("follow: FOLLOW_DIGEST_SINCE is %r; expected a date like 2024-06-01",
                         since)
            return None
        articles = [a for a in self.context.get("articles", []) if a.date.date() >= start]
        if not articles:
            logger.warning("follow: no articles published since %s; no digest written", start)
            return None
        records = [self.article_record(article) for article in articles]
        newest = max(a.date for a in articles)
        slug = f"overzicht-{start.isoformat()}"
        title, html_part, text_part = render_digest_parts(
            self.env, self.inliner, self.edition_context(slug), records, start)
        parts = self.write_parts(slug, html_part, text_part, source=slug)
        return {
            "id": f"tag:{self.authority},{start.isoformat()}:overzicht-tot-"
                  f"{newest.date().isoformat()}",
            "kind": "digest", "title": title, "subject": title,
            "url": parts["browser_url"], "date": newest.isoformat(),
            "since": start.isoformat(), "series": None, "series_slug": None,
            "category": None, "category_slug": None,
            # An article need not have an author: Pelican sets none without AUTHOR.
            "authors": sorted({name for record in records for name in record["authors"]}),
            "articles": [record["id"] for record in records],
            "html": parts["html"], "text": parts["text"], "browser_url": parts["browser_url"],
        }

    def write_index(self, editions: list[dict]) -> None:
        manifest = {
            "format": EDITIONS_FORMAT,
            "site": {"name": self.settings["SITENAME"], "url": self.base},
            "placeholders": {"unsubscribe_url": self.unsubscribe_url},
            "frequency": self.env.globals["follow_frequency"](),
            "editions": editions,
        }
        data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        write_atomically(os.path.join(self.output_path, self.folder, "editions.json"),
                         data.encode("utf-8"))
        page = self.env.get_template("editions.html").render(
            dict(self.context, editions=editions, SITEURL=self.base, page_name="editions"))
        write_atomically(os.path.join(self.output_path, self.folder, "index.html"),
                         page.encode("utf-8"))
