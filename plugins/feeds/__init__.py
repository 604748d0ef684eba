"""Atom and RSS feeds with feedgen: site, category, author, tag, and any list of articles."""

from .feeds import feed_path, register, write_feeds

__all__ = ["feed_path", "register", "write_feeds"]
