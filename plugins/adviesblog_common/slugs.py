"""Slugs name folders and files of the output, so each must be a name a file system takes.

An article's slug, a category's, a tag's, an author's and a series' all become a
folder (``tag/<slug>/``) and a file name (``feeds/tag/<slug>.atom.xml``). A slug
from a name with no letters or digits is empty, and would name the folder of the
list page above it; a slug from a very long title would exceed the 255 bytes a
file name may have, and the write would fail. ``shortened`` cuts such a value for
the error that names it.
"""

# 255 bytes is the longest file name; a feed adds ".atom.xml" to the slug, and an
# address of two hundred characters is already longer than anyone would type.
MAX_SLUG_LENGTH = 200


def slug_problem(slug: str) -> str | None:
    """Why ``slug`` cannot name a folder of the output (to follow "which"), or None."""
    if not slug:
        return "has no letters or digits for its address"
    length = len(slug.encode("utf-8"))
    if length > MAX_SLUG_LENGTH:
        return (f"gives an address of {length} characters; expected at most "
                f"{MAX_SLUG_LENGTH}")
    return None


def shortened(value: object, limit: int = 80) -> str:
    """``repr(value)``, cut for a log line when it is longer than ``limit`` characters."""
    text = str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text)} characters)"
