"""Series of articles: parts, planned parts, self-resolving teasers, pages and feeds."""

from .blog_series import METADATA_FIELDS, register

__all__ = ["METADATA_FIELDS", "register"]
