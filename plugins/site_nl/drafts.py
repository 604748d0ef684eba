"""Create a new draft article with the metadata template (``invoke new``)."""

import datetime
import os
import tempfile
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

from pelican.settings import DEFAULT_CONFIG
from pelican.utils import slugify

TEMPLATE = """\
Title: {title}
Date: {date}
Id: {article_id}
{author_line}Category: {category}
Tags:
Summary: Schrijf hier in een of twee zinnen waar het artikel over gaat.
Status: draft

Begin hier met je tekst.
"""


def dutch_slug(title: str) -> str:
    """The slug Pelican itself would make: accents dropped (é → e), lower case."""
    return slugify(title, regex_subs=DEFAULT_CONFIG["SLUG_REGEX_SUBSTITUTIONS"])


def new_article(
    title: str,
    articles_root: Path,
    author: str = "",
    category: str = "Algemeen",
    now: datetime.datetime | None = None,
    timezone: str = "Europe/Amsterdam",
) -> Path:
    """Write ``<articles_root>/<year>/<slug>.md`` as a draft and return its path.

    Refuses to overwrite an existing article; the file appears whole or not at all.
    """
    title = title.strip()
    slug = dutch_slug(title)
    if not title or not slug:
        raise ValueError(f"title {title!r} gives no usable slug; use letters or digits")
    now = now or datetime.datetime.now(ZoneInfo(timezone))
    target = Path(articles_root) / f"{now:%Y}" / f"{slug}.md"
    # A slug names one article across all years: the URL and comments depend on it.
    existing = sorted(Path(articles_root).rglob(f"{slug}.md"))
    if existing:
        raise FileExistsError(
            f"{existing[0]} already uses the slug {slug!r}; choose another title"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    text = TEMPLATE.format(
        title=title,
        date=f"{now:%Y-%m-%d %H:%M}",
        # Feed readers and the newsletter know the article by it, whatever happens
        # to its title, slug or date later.
        article_id=uuid.uuid4(),
        author_line=f"Author: {author}\n" if author else "",
        category=category,
    )
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as draft:
            draft.write(text)
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide the draft from co-authors
        # link() fails if the target appeared meanwhile: never clobber an article.
        os.link(temporary, target)
    finally:
        os.unlink(temporary)
    return target
