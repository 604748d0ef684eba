"""What is already in ``content/``: the slugs of articles and pages, read cheaply."""

from pathlib import Path

from adviesblog_common.headers import split_header


def read_header(path: Path) -> dict[str, str]:
    """The ``Key: value`` lines at the top of a Markdown file, keys in lower case.

    Only the lines up to the first blank one are read: bodies can be long.
    """
    lines = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.strip():
                break
            lines.append(line)
    return split_header("".join(lines))[0].fields


# File names are limited to 255 bytes; a slug leaves room for "-<source id>" (ids
# are at most 64 characters) and ".md". WordPress itself allows 200.
MAX_SLUG_BYTES = 180


def capped_slug(slug: str, limit: int = MAX_SLUG_BYTES) -> str:
    """``slug`` cut to ``limit`` UTF-8 bytes, at a word boundary where there is one."""
    if len(slug.encode("utf-8")) <= limit:
        return slug
    cut = slug.encode("utf-8")[:limit].decode("utf-8", errors="ignore")
    if slug[len(cut)] != "-" and "-" in cut:
        cut = cut.rsplit("-", 1)[0]  # the last word was cut short
    return cut.strip("-")


def content_headers(content_dir: Path, folders=("articles", "pages")):
    """``(path relative to content_dir, header)`` of every article and page file."""
    for folder in folders:
        for path in sorted((Path(content_dir) / folder).rglob("*.md")):
            yield path.relative_to(content_dir).as_posix(), read_header(path)


def content_slugs(content_dir: Path, folders=("articles", "pages")) -> dict[str, str]:
    """``slug → path relative to content_dir`` for every article and page file."""
    slugs = {}
    for relative, header in content_headers(content_dir, folders):
        slugs.setdefault(header.get("slug") or Path(relative).stem, relative)
    return slugs


class SlugAllocator:
    """Gives each imported post a slug no other file in ``content/`` uses.

    Slugs an earlier run of this importer wrote stay with their post; every other
    existing file keeps its slug, and a newcomer with the same slug gets its source
    id appended. A file with the post's ``Id`` that no run recorded is the post's own:
    a run was stopped between writing it and recording it.
    """

    def __init__(self, content_dir: Path, own_paths: dict[str, str]):
        own = {path: key for key, path in own_paths.items()}
        self.taken: dict[str, str] = {}
        self.unrecorded: dict[str, tuple[str, str]] = {}  # Id → slug, path
        for relative, header in content_headers(content_dir):
            slug = header.get("slug") or Path(relative).stem
            if slug in self.taken:
                continue
            self.taken[slug] = own.get(relative, "")
            if relative not in own and header.get("id"):
                self.unrecorded.setdefault(header["id"], (slug, relative))

    def allocate(self, key: str, wanted: str, source_id: str) -> str:
        slug = capped_slug(wanted)
        if self.taken.get(slug, key) != key:
            slug = f"{slug}-{source_id}"
        self.taken[slug] = key
        return slug

    def reclaim(self, key: str, identity: str) -> tuple[str, str] | None:
        """The slug and path of an unrecorded file with this ``Id``, now ``key``'s."""
        found = self.unrecorded.pop(identity, None)
        if found:
            self.taken[found[0]] = key
        return found
