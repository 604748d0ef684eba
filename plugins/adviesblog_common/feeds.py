"""Feeds that a plugin offers, for the feeds plugin to write if it is enabled.

A plugin that has a list of articles worth following (a series, say) adds a
``FeedCollection`` with ``offer_feed``; it never imports the feeds plugin. The
feeds plugin writes every collection whose kind has a path in FEEDS_PATHS.
"""

from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

CONTEXT_KEY = "feed_collections"


@dataclass(frozen=True)
class FeedCollection:
    kind: str  # a key of FEEDS_PATHS, e.g. "series"
    slug: str
    name: str  # shown in the feed's title
    page_path: str  # the site-relative page the feed belongs to
    articles: Sequence  # newest first, as Pelican orders them
    oldest_first: bool = False  # list the entries in publication order


def offer_feed(context: MutableMapping[str, Any], collection: FeedCollection) -> None:
    context.setdefault(CONTEXT_KEY, []).append(collection)


def offered_feeds(context: MutableMapping[str, Any]) -> list[FeedCollection]:
    return list(context.get(CONTEXT_KEY, []))
