"""Import Disqus comments (the XML export) under the articles they belong to.

A Disqus export lists threads (one per page, with the page's old URL) and then
posts (comments) that point to a thread and maybe a parent post. The file is read
twice, streaming: first threads and which posts are kept, then the comments.
A thread is matched to an article by its normalised old URL: scheme, ``www.``, a
trailing slash, ``index.html`` and the query string do not matter; ``?p=<id>`` is
looked up in the WordPress export when one is given; and a date-based permalink
(``/2017/06/29/<slug>/``) matches the article with that slug.
"""

import datetime
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from adviesblog_common.headers import format_header

from .content_index import content_slugs
from .store import EARLIEST_DATE, ContentStore, Orphan, Report, finish, plausible, safe_id, utc_iso
from .text import BodyTooLarge, comment_markdown, person_name
from .wordpress import Index, UniqueIds, build_index, normalised_url
from .xmlstream import local_name, records, text_of

SOURCE = "disqus"
DISQUS = ("disqus", "a Disqus export")
_WXR_ID = re.compile(r"/\?(?:p|page_id)=(\d+)$")


def disqus_id(element) -> str:
    """The ``dsq:id`` attribute, whatever prefix the export gives its namespace."""
    for name, value in element.attrib.items():
        if local_name(name) == "id":
            return value
    return ""


def child(element, name: str):
    for part in element:
        if local_name(part.tag) == name:
            return part
    return None


def is_true(element, name: str) -> bool:
    return text_of(child(element, name)).lower() == "true"


def parse_iso(value: str) -> datetime.datetime | None:
    """A UTC moment; None for a missing, invalid or placeholder date."""
    try:
        moment = datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if plausible(moment) is None:
        return None
    return moment.astimezone(datetime.UTC) if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


@dataclass
class Thread:
    link: str
    identifier: str
    created: datetime.datetime | None
    slug: str | None = None


class ArticleMatcher:
    """Finds the article an old URL belonged to."""

    def __init__(self, content_dir: Path, wxr: Index | None):
        self.wxr = wxr or Index()
        # Articles in content/ and those the WordPress export will write, by slug.
        self.slugs = set(content_slugs(content_dir, folders=("articles",))) | set(self.wxr.links.values())

    def match(self, link: str, identifier: str = "") -> str | None:
        for url in filter(None, (link, identifier if "://" in identifier else "")):
            found = self._match_url(url)
            if found:
                return found
        leading_id = re.match(r"(\d+)\b", identifier)
        return self.wxr.slugs.get(leading_id[1]) if leading_id else None

    def _match_url(self, url: str) -> str | None:
        normalised = normalised_url(url)
        post_id = _WXR_ID.search(normalised)
        if post_id:
            return self.wxr.slugs.get(post_id[1])
        if normalised in self.wxr.links:
            return self.wxr.links[normalised]
        segments = [s for s in urlsplit(url.strip()).path.split("/") if s]
        if segments:
            last = re.sub(r"\.(?:html?|php)$", "", segments[-1])
            if last in self.slugs:
                return last
        return None


class DisqusImport:
    def __init__(self, path: Path, store: ContentStore, matcher: ArticleMatcher):
        self.path = path
        self.store = store
        self.report = store.report
        self.matcher = matcher
        self.threads: dict[str, Thread] = {}
        self.kept_posts: set[str] = set()
        # Disqus ids are unique in a real export; a repeated or missing one must not
        # let one comment overwrite another.
        self.post_ids = UniqueIds()

    def index(self) -> None:
        for element in records(self.path, depth=1, root=DISQUS):
            name = local_name(element.tag)
            if name == "thread":
                self.threads[disqus_id(element)] = Thread(
                    link=text_of(child(element, "link")),
                    identifier=text_of(child(element, "id")),
                    created=parse_iso(text_of(child(element, "createdAt"))),
                )
            elif name == "post" and not (is_true(element, "isSpam") or is_true(element, "isDeleted")):
                self.kept_posts.add(disqus_id(element))
        for thread in self.threads.values():
            thread.slug = self.matcher.match(thread.link, thread.identifier)
        self.report.counts["threads matched to an article"] = sum(
            1 for t in self.threads.values() if t.slug)

    def run(self) -> None:
        self.index()
        for element in records(self.path, depth=1, root=DISQUS):
            if local_name(element.tag) == "post":
                self.post(element)

    def post(self, element) -> None:
        report = self.report
        raw_id = disqus_id(element)
        post_id = self.post_ids.assign(safe_id(raw_id))
        if post_id != safe_id(raw_id):
            report.warn(f"disqus post {raw_id or '(without an id)'}: another post in the export "
                        f"has this id too; imported as {post_id}")
        if is_true(element, "isSpam"):
            report.counts["skipped: spam comments"] += 1
            return
        if is_true(element, "isDeleted"):
            report.counts["skipped: deleted comments"] += 1
            return
        thread = self.threads.get(disqus_id(child(element, "thread")) if child(element, "thread") is not None else "")
        if thread is None or thread.slug is None:
            report.orphans.append(Orphan(
                f"disqus post {post_id}", thread.link if thread else "",
                "no article matches its thread's URL" if thread else "its thread is not in the export"))
            return
        parent_element = child(element, "parent")
        parent = disqus_id(parent_element) if parent_element is not None else ""
        if parent and parent not in self.kept_posts:
            report.orphans.append(Orphan(
                f"disqus post {post_id}", f"{thread.link}#comment-{post_id}",
                f"its parent post {parent} is not imported (spam, deleted or absent); "
                "shown as a top-level comment"))
        date = parse_iso(text_of(child(element, "createdAt")))
        if date is None:
            # The export holds no date of its own; when the file was saved comes closest.
            date = thread.created or datetime.datetime.fromtimestamp(
                self.path.stat().st_mtime, datetime.UTC).replace(microsecond=0)
            report.warn(f"disqus post {post_id}: createdAt is missing, invalid or before "
                        f"{EARLIEST_DATE:%Y}; used {utc_iso(date)}")
        author = child(element, "author")
        name = text_of(child(author, "name")) or text_of(child(author, "username")) if author is not None else ""
        approved = text_of(child(element, "isApproved")).lower() != "false"
        status = "approved" if approved else "pending"
        fields = {
            "id": f"disqus-{post_id}",
            "parent": f"disqus-{safe_id(parent)}" if parent in self.kept_posts else "",
            "author": person_name(name, report.removed),
            "date": utc_iso(date),
            "type": "comment",
            "status": status,
            "source": SOURCE,
            "source_id": post_id,
        }
        try:
            body = comment_markdown(text_of(child(element, "message")), report.removed)
        except BodyTooLarge as error:
            report.error(f"disqus post {post_id} by {fields['author']!r} on {thread.link}: {error}")
            return
        self.store.put(ContentStore.key(SOURCE, "comment", post_id),
                       f"comments/{thread.slug}/disqus-{post_id}.md", format_header(fields, body))
        report.counts[f"comments imported ({status})"] += 1


def import_disqus(path: Path, content_dir: Path, *, wxr: Path | None = None,
                  dry_run: bool = False, report_path: Path | None = None) -> tuple[Report, str]:
    """Import one Disqus export into ``content_dir``; return the report and its text."""
    report = Report(source="Disqus", input_path=str(path), dry_run=dry_run)
    store = ContentStore(content_dir, report)
    wxr_index = build_index(Path(wxr), store) if wxr else None
    DisqusImport(Path(path), store, ArticleMatcher(content_dir, wxr_index)).run()
    return report, finish(store, report_path)
