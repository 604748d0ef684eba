"""Author profiles from ``content/authors/<slug>.md``."""

from .authors import register

__all__ = ["register"]
