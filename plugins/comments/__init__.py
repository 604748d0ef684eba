"""Static, threaded, sanitised comments under each article."""

from .comments import METADATA_FIELDS, register

__all__ = ["METADATA_FIELDS", "register"]
