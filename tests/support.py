"""Helpers shared by the test suite: real builds into temp folders, log capture."""

import datetime
import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from bs4 import BeautifulSoup
from pelican import Pelican
from pelican.settings import read_settings

from adviesblog_common.headers import split_header

ROOT = Path(__file__).resolve().parent.parent
PUBLISH_SITEURL = "https://www.ruimte-en-richting.example"


@dataclass
class BuiltSite:
    output: Path
    settings: dict
    records: list[logging.LogRecord] = field(default_factory=list)

    def messages(self, level=logging.WARNING) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= level]

    def html_pages(self, emails: bool = False) -> list[Path]:
        """The site's HTML pages; the email editions only when asked for."""
        pages = sorted(self.output.rglob("*.html"))
        if emails:
            return pages
        editions = self.output / self.settings.get("FOLLOW_EDITIONS_PATH", "nieuwsbrief")
        return [p for p in pages if p.parent == editions or editions not in p.parents]

    def soup(self, relative: str) -> BeautifulSoup:
        path = self.output / relative
        if path.is_dir() or relative.endswith("/"):
            path = path / "index.html"
        return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


class _Collector(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def build_site(settings_file: str, output: Path, **overrides) -> BuiltSite:
    """Build with one of the project's settings files, in this process."""
    settings = read_settings(
        str(ROOT / settings_file),
        override={"OUTPUT_PATH": str(output), "CACHE_CONTENT": False, **overrides},
    )
    collector = _Collector()
    root_logger = logging.getLogger()
    root_logger.addHandler(collector)
    try:
        Pelican(settings).run()
    finally:
        root_logger.removeHandler(collector)
    return BuiltSite(output=output, settings=settings, records=collector.records)


def publish_site(output: Path, **overrides) -> BuiltSite:
    """Build with the publish settings at PUBLISH_SITEURL (or the given SITEURL)."""
    overrides.setdefault("SITEURL", PUBLISH_SITEURL)
    overrides.setdefault("FEED_DOMAIN", overrides["SITEURL"])
    return build_site("publishconf.py", output, **overrides)


def copy_content(target: Path) -> Path:
    """A private copy of the sample content, for tests that edit it."""
    shutil.copytree(ROOT / "content", target)
    return target


def write_file(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def read_source(path: Path) -> dict:
    """Metadata and body of a content file, parsed independently of Pelican."""
    header, body = split_header(path.read_text(encoding="utf-8"))
    metadata = dict(header.fields, body=body)
    metadata["path"] = path
    return metadata


def sample_articles(status: str | None = "published") -> list[dict]:
    articles = [read_source(p) for p in sorted((ROOT / "content" / "articles").rglob("*.md"))]
    if status is None:
        return articles
    return [a for a in articles if a.get("status", "published") == status]


# Independent of the importers' own patterns: any "@" between word characters, any
# dotted quad, any IPv6 with a "::" or seven colons.
PRIVATE_DATA = re.compile(r"\w@\w|\b\d{1,3}(?:\.\d{1,3}){3}\b|\b[0-9a-f]{1,4}::[0-9a-f]{0,4}\b"
                          r"|\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b", re.IGNORECASE)


def comment_files(content: Path) -> dict[str, dict]:
    """Every comment file under ``content/comments``, by its ``id`` field."""
    found = {}
    for path in sorted((content / "comments").rglob("*.md")):
        fields = read_source(path)
        found[fields["id"]] = fields
    return found


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes: two equal snapshots mean nothing changed."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def private_data_in(folder: Path) -> list[str]:
    """``path: match`` for every email- or IP-like string in any file under ``folder``."""
    return [f"{path}: {match}" for path, data in snapshot(folder).items()
            for match in PRIVATE_DATA.findall(data.decode("utf-8", "replace"))]


# What differs between two builds of the same site anyway: the sitemap gives listings
# the build's time, and Pagefind names its filter and metadata files after hashes that
# change from run to run (https://github.com/Pagefind/pagefind/issues/638). Its
# fragments, one per article, are stable and compared.
BUILD_TIME = re.compile(rb"<lastmod>" + datetime.date.today().isoformat().encode()
                        + rb"T[^<]*</lastmod>")
UNSTABLE_PAGEFIND = re.compile(r"^pagefind/(filter/|index/|pagefind\.[^/]*\.pf_meta$"
                               r"|pagefind-entry\.json$)")


def comparable_files(output: Path) -> dict[str, bytes]:
    """Every file of a built site, with what differs between any two builds masked."""
    files = {}
    for path in sorted(output.rglob("*")):
        relative = path.relative_to(output).as_posix()
        if not path.is_file():
            continue
        if UNSTABLE_PAGEFIND.match(relative):
            # Compared by name pattern only: one per filter or index chunk.
            relative = re.sub(r"[0-9a-f]{7,}", "#", relative)
            files[relative] = files.get(relative, b"") + b"+"
            continue
        data = path.read_bytes()
        files[relative] = BUILD_TIME.sub(b"<lastmod>(build time)</lastmod>", data) \
            if relative == "sitemap.xml" else data
    return files


def without_related(page: Path) -> str:
    """A page's HTML without its "Lees ook" list, which a newly published article may join."""
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    for related in soup.select("nav.related"):
        related.decompose()
    return str(soup)


def assert_same_site(expected_output: Path, output: Path) -> None:
    expected, built = comparable_files(expected_output), comparable_files(output)
    assert sorted(built) == sorted(expected)
    differing = [name for name in expected if built[name] != expected[name]]
    assert differing == [], differing


def child_processes(pid: int) -> list[int]:
    """The live or unreaped child processes of ``pid`` (Linux /proc)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(child) for child in children.read().split()]
    except OSError:
        return []


def process_exists(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()
