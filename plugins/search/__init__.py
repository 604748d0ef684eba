"""Site search: a Pagefind index of the published articles and the page /zoeken/."""

from .search import register

__all__ = ["register"]
