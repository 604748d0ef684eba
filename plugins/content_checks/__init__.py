"""Metadata and link checks that name the file and the field."""

from .content_checks import register

__all__ = ["register"]
