"""An article's identity and the absolute base of the site's links.

The entry id is shared by the feeds (Atom ``id``, RSS ``guid``) and the email
editions (the newsletter sender's journal key), so both must make it the same way.
"""

import logging
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


def entry_id(article, authority: str) -> str:
    """A tag URI (RFC 4151) from the domain and the moment of first publication."""
    return f"tag:{authority},{article.date:%Y-%m-%d}:artikel-{article.date:%H%M%S}"
