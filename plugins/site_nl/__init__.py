"""Dutch site basics: gettext catalogue, Babel dates and reading time."""

from .site_nl import register

__all__ = ["register"]
