"""Responsive images: photos in a few widths and as WebP, with srcset, sizes and their size."""

from .responsive_images import register

__all__ = ["register"]
