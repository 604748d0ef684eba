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


def content_slugs(content_dir: Path, folders=("articles", "pages")) -> dict[str, str]:
    """``slug → path relative to content_dir`` for every article and page file."""
    slugs = {}
    for folder in folders:
        for path in sorted((Path(content_dir) / folder).rglob("*.md")):
            slug = read_header(path).get("slug") or path.stem
            slugs.setdefault(slug, path.relative_to(content_dir).as_posix())
    return slugs


class SlugAllocator:
    """Gives each imported post a slug no other file in ``content/`` uses.

    Slugs an earlier run of this importer wrote stay with their post; every other
    existing file keeps its slug, and a newcomer with the same slug gets its source
    id appended.
    """

    def __init__(self, content_dir: Path, own_paths: dict[str, str]):
        own = {path: key for key, path in own_paths.items()}
        self.taken = {slug: own.get(path, "") for slug, path in content_slugs(content_dir).items()}

    def allocate(self, key: str, wanted: str, source_id: str) -> str:
        slug = wanted
        if self.taken.get(slug, key) != key:
            slug = f"{wanted}-{source_id}"
        self.taken[slug] = key
        return slug
