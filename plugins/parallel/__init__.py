"""Parallel build: Markdown converted in worker processes, article pages rendered by two."""

from .parallel import register

__all__ = ["register"]
