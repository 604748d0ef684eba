"""Email editions: each published article as email-safe HTML and plain text.

Written under ``output/<FOLLOW_EDITIONS_PATH>/<slug>/`` as ``index.html`` and
``index.txt``, with ``editions.json`` (the newsletter sender's input, described
in the README) and an ``index.html`` that lists the editions for the editor.

The HTML is one 600px table column whose CSS is inlined by css-inline; it has
absolute URLs, ``alt`` on every image, no script or forms, and stays under the
size at which Gmail clips a message. Its unsubscribe link is the service's
generic page (see ``unsubscribe_url``); the sender replaces that exact string
with each subscriber's one-click link, as ``editions.json`` says.
"""

import datetime
import json
import logging
import os
import re

import css_inline
from pelican.generators import Generator

from blog_series.blog_series import series_slug
from feeds.feeds import absolute_urls, entry_id, feed_base_url, id_authority, write_atomically

from .plaintext import html_to_text

logger = logging.getLogger(__name__)

GMAIL_CLIP_BYTES = 100 * 1024
# The settings the email templates read; passing only these keeps rendering cheap.
TEMPLATE_SETTINGS = ("SITENAME", "SITE_CONTACT", "THEME_COLORS", "DEFAULT_LANG")
EDITIONS_FORMAT = 1
_IMG_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\balt=)", re.IGNORECASE)


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


def article_series_slug(article, settings) -> str | None:
    """The slug of the article's series, as the series plugin makes it."""
    series = getattr(article, "series", None)
    return series_slug(series, settings) if series else None


def with_alt_text(html: str) -> str:
    """Give every image an ``alt``; one the author left out is decorative."""
    return _IMG_WITHOUT_ALT.sub('<img alt=""', html)


class EditionsGenerator(Generator):
    """Renders the email editions once every article is final."""

    def generate_output(self, writer):
        settings = self.settings
        self.base = feed_base_url(settings)
        self.folder = settings["FOLLOW_EDITIONS_PATH"].strip("/")
        self.inliner = css_inline.CSSInliner(keep_style_tags=False)
        self.unsubscribe_url = unsubscribe_url(settings, self.base)
        self.template_settings = {key: settings[key] for key in TEMPLATE_SETTINGS}
        authority = id_authority(settings)
        articles = self.context.get("articles", [])
        limit = settings["FOLLOW_EDITIONS_MAX"]
        editions = [self.write_article_edition(article, authority)
                    for article in (articles if limit is None else articles[:limit])]
        since = settings.get("FOLLOW_DIGEST_SINCE")
        if since:
            digest = self.write_digest(since, authority)
            if digest:
                editions.insert(0, digest)
        self.write_index(editions)

    def render_parts(self, name: str, slug: str, **values) -> dict:
        """Render ``email/<name>.html`` and ``.txt``; write both; return their paths."""
        browser_url = f"{self.base}/{self.folder}/{slug}/"
        values.update(browser_url=browser_url, unsubscribe_url=self.unsubscribe_url,
                      site_url=self.base)
        context = dict(self.template_settings, **values)
        html = self.inliner.inline(self.env.get_template(f"email/{name}.html").render(context))
        text = self.env.get_template(f"email/{name}.txt").render(context)
        html_path = f"{self.folder}/{slug}/index.html"
        text_path = f"{self.folder}/{slug}/index.txt"
        size = len(html.encode("utf-8"))
        if size > GMAIL_CLIP_BYTES:
            logger.error("%s: email edition is %d KB; Gmail clips messages over 100 KB, "
                         "so shorten the article or split it", values.get("source", slug),
                         size // 1024)
        write_atomically(os.path.join(self.output_path, html_path), html.encode("utf-8"))
        write_atomically(os.path.join(self.output_path, text_path), text.encode("utf-8"))
        return {"html": html_path, "text": text_path, "browser_url": browser_url}

    def write_article_edition(self, article, authority: str) -> dict:
        article_url = f"{self.base}/{article.url}"
        content = with_alt_text(absolute_urls(article.get_content(f"{self.base}/"), article_url))
        parts = self.render_parts(
            "edition", article.slug, article=article, article_url=article_url,
            content=content, content_text=html_to_text(content, link_label="Links"),
            title=str(article.title), source=os.path.relpath(article.source_path),
        )
        return {
            "id": entry_id(article, authority),
            "kind": "article",
            "title": str(article.title),
            "subject": str(article.title),
            "url": article_url,
            "date": article.date.isoformat(),
            "series": getattr(article, "series", None),
            "series_slug": article_series_slug(article, self.settings),
            "category": article.category.name if getattr(article, "category", None) else None,
            "category_slug": article.category.slug if getattr(article, "category", None) else None,
            "authors": [author.name for author in getattr(article, "authors", [])],
            "html": parts["html"],
            "text": parts["text"],
            "browser_url": parts["browser_url"],
        }

    def write_digest(self, since: str, authority: str) -> dict | None:
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
        items = []
        for article in articles:
            url = f"{self.base}/{article.url}"
            summary = with_alt_text(absolute_urls(article.get_summary(f"{self.base}/"), url))
            items.append({"article": article, "url": url, "title": str(article.title),
                          "summary": summary, "summary_text": html_to_text(summary).strip()})
        newest = max(a.date for a in articles).date()
        title = self.env.get_template("titles.html").module.digest_title(start, newest)
        slug = f"overzicht-{start.isoformat()}"
        parts = self.render_parts("digest", slug, items=items, digest_title=str(title))
        return {
            "id": f"tag:{authority},{start.isoformat()}:overzicht-tot-{newest.isoformat()}",
            "kind": "digest", "title": str(title), "subject": str(title),
            "url": parts["browser_url"], "date": max(a.date for a in articles).isoformat(),
            "since": start.isoformat(), "series": None, "series_slug": None,
            "category": None, "category_slug": None,
            "authors": sorted({author.name for a in articles for author in a.authors}),
            "articles": [entry_id(a, authority) for a in articles],
            "html": parts["html"], "text": parts["text"], "browser_url": parts["browser_url"],
        }

    def write_index(self, editions: list[dict]) -> None:
        manifest = {
            "format": EDITIONS_FORMAT,
            "site": {"name": self.settings["SITENAME"], "url": self.base},
            "placeholders": {"unsubscribe_url": self.unsubscribe_url},
            "editions": editions,
        }
        data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        write_atomically(os.path.join(self.output_path, self.folder, "editions.json"),
                         data.encode("utf-8"))
        page = self.env.get_template("editions.html").render(
            dict(self.context, editions=editions, SITEURL=self.base, page_name="editions"))
        write_atomically(os.path.join(self.output_path, self.folder, "index.html"),
                         page.encode("utf-8"))
