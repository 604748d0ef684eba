"""The follow form ("volgknop") and the email editions of every article."""

from .follow import register

__all__ = ["register"]
