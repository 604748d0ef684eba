"""Static, threaded, sanitised comments under each article."""

from .comments import register

__all__ = ["register"]
