"""Every article and page a Pelican generator holds, whatever its status."""

from collections.abc import Iterator

# The lists of ArticlesGenerator and PagesGenerator: published, hidden and draft
# content, and the translations of each.
CONTENT_LISTS = (
    "articles", "hidden_articles", "drafts", "drafts_translations",
    "pages", "hidden_pages", "draft_pages", "draft_translations",
    "translations", "hidden_translations",
)


def generator_contents(generator) -> Iterator:
    """The articles or pages of ``generator``, in every status, with their translations."""
    for name in CONTENT_LISTS:
        yield from getattr(generator, name, ())
