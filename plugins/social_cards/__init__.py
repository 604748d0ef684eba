"""Social cards: a 1200×630 Open Graph image for every article and series page."""

from .social_cards import register

__all__ = ["register"]
