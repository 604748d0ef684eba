"""Series of articles: parts, planned parts, self-resolving teasers, pages and feeds."""

from .blog_series import register

__all__ = ["register"]
