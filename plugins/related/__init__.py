"""Related articles: up to three others under each article, by shared tags and category."""

from .related import register

__all__ = ["register"]
