"""An article's identity and the absolute base of the site's links.

The entry id is shared by the feeds (Atom ``id``, RSS ``guid``) and the email
editions (the newsletter sender's journal key), so both must make it the same way.
Feed readers and the newsletter journal recognise an article by it, so it must
never change once published:

* an article with an ``Id`` field (importers write ``wp-156``, ``invoke new`` a
  fresh one) is ``tag:<authority>,<ARTICLE_ID_SINCE>:<Id>``: title, slug and date
  can all change;
* an article without one keeps the id it has always had, from its first
  publication: ``tag:<authority>,<date>:artikel-<HHMMSS>``. Articles that share
  that second get their slug added, with a warning to give them an ``Id``.
"""

import logging
import os
import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)


def site_base_url(settings: Mapping[str, Any]) -> str:
    """Absolute URL that links outside the site's pages start with: FEED_DOMAIN, else SITEURL."""
    return (settings.get("FEED_DOMAIN") or settings.get("SITEURL") or "").rstrip("/")


def id_authority(settings: Mapping[str, Any]) -> str:
    """The domain in entry ids: ARTICLE_ID_AUTHORITY, else the host of SITEURL.

    Set it once and never change it: feed readers and the newsletter journal
    recognise an article by it.
    """
    configured = settings.get("ARTICLE_ID_AUTHORITY")
    return configured or urlsplit(settings.get("SITEURL") or "").hostname or "localhost"


# A tag URI's date says since when the site owned its domain (RFC 4151); any year
# will do, but changing it changes every id.
DEFAULT_ID_SINCE = "2000"
ARTICLE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_ID_SINCE = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?")


def check_article_id(value, settings) -> str | None:
    """What is wrong with an ``Id`` field, for the content checks."""
    if not ARTICLE_ID.fullmatch(str(value)):
        return ("expected letters, digits, '.', '_' and '-', at most 100, e.g. 'wp-156'; "
                "once published, never change it")
    return None


def tagging_entity(settings: Mapping[str, Any]) -> str:
    """``authority,date`` of the tag URIs of articles with an ``Id``."""
    since = str(settings.get("ARTICLE_ID_SINCE") or DEFAULT_ID_SINCE)
    if not _ID_SINCE.fullmatch(since):
        logger.error("ARTICLE_ID_SINCE is %r; expected a year such as '2010'", since)
        since = DEFAULT_ID_SINCE
    return f"{id_authority(settings)},{since}"


def _dated_id(article, authority: str) -> str:
    return f"tag:{authority},{article.date:%Y-%m-%d}:artikel-{article.date:%H%M%S}"


def assign_entry_ids(generator) -> None:
    """Give every article its ``entry_id``, once all articles are read.

    Explicit ``Id`` values must be unique: a clash is an error naming both files.
    Articles without one that share their second of publication (an import, a
    script) each get their slug added, so that no two entries are merged.
    """
    settings = generator.settings
    authority, entity = id_authority(settings), tagging_entity(settings)
    articles = list(generator.articles) + list(getattr(generator, "hidden_articles", []))
    by_id = defaultdict(list)
    for article in articles:
        explicit = getattr(article, "id", None)
        article.entry_id = (f"tag:{entity}:{explicit}" if explicit
                            else _dated_id(article, authority))
        by_id[article.entry_id].append(article)
    for same in by_id.values():
        if len(same) < 2:
            continue
        explicit = sorted(os.path.relpath(a.source_path) for a in same if getattr(a, "id", None))
        if len(explicit) > 1:
            logger.error("%s: field 'Id' is %r, as in %s; give each article its own Id",
                         explicit[0], next(a.id for a in same if getattr(a, "id", None)),
                         ", ".join(explicit[1:]))
        dated = [a for a in same if not getattr(a, "id", None)]
        if not dated:
            continue
        # An explicit Id keeps its entry id; the dated ones that clash get their slug.
        paths = sorted(os.path.relpath(article.source_path) for article in same)
        logger.warning("%s: published in the same second as %s; their feed ids now include "
                       "the slug. Give each an 'Id' line (e.g. 'Id: %s') to keep them fixed",
                       paths[0], ", ".join(paths[1:]), dated[0].slug)
        for article in dated:
            article.entry_id = f"{_dated_id(article, authority)}-{article.slug}"


def entry_id(article, authority: str) -> str:
    """The article's id as assign_entry_ids set it (feeds and editions share it)."""
    return getattr(article, "entry_id", None) or _dated_id(article, authority)
