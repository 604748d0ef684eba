"""Import a WordPress export (WXR 1.0–1.2): posts, pages, authors and comments.

The export is read twice, streaming. The first pass indexes what later items refer
to (attachments for featured images, authors, each post's slug); the second writes
the files. Elements are matched by local name, because the WXR namespace differs
between versions and exporters (``http://wordpress.org/export/1.2/`` or ``https://``).
"""

import datetime
import email.utils
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from adviesblog_common.headers import format_header
from site_nl.drafts import dutch_slug

from .content_index import SlugAllocator
from .store import ContentStore, Orphan, Report, finish, plausible, safe_id, utc_iso
from .text import (
    BodyTooLarge,
    article_markdown,
    comment_markdown,
    has_private_data,
    image_urls,
    is_web_url,
    markdown_text,
    person_name,
    plain_text,
    public_url,
    remove_private_data,
)
from .xmlstream import SourceError, local_name, namespace, records, text_of

SOURCE = "wxr"
# WordPress status → Pelican status. Private posts become drafts, not "hidden":
# Pelican publishes hidden content at its URL, and a private post must stay private.
STATUS_MAP = {"publish": "published", "draft": "draft", "pending": "draft",
              "future": "draft", "private": "draft"}
COMMENT_TYPES = {"": "comment", "comment": "comment", "pingback": "pingback",
                 "trackback": "trackback"}
# WordPress's own default category in English and Dutch; Pelican's DEFAULT_CATEGORY
# stands in for it.
DEFAULT_CATEGORIES = {"uncategorized", "geen categorie", "ongecategoriseerd"}
_POST_ID_IN_URL = re.compile(r"[?&](?:p|page_id|attachment_id)=(\d+)")
WXR = ("rss", "a WordPress export (WXR)")
_FOUR_DIGIT_YEAR = re.compile(r"\d\s+[A-Za-z]{3}\s+\d{4}\s")


def qualified(tag: str) -> str:
    """``wp:post_id``, ``content:encoded``, ``excerpt:encoded``, ``dc:creator`` or ``title``."""
    uri, name = namespace(tag), local_name(tag)
    if "wordpress.org/export" in uri:
        return f"{'excerpt' if uri.rstrip('/').endswith('excerpt') else 'wp'}:{name}"
    if "purl.org/rss/1.0/modules/content" in uri:
        return f"content:{name}"
    if "purl.org/dc/elements" in uri:
        return f"dc:{name}"
    return name


@dataclass
class Item:
    fields: dict[str, str] = field(default_factory=dict)
    categories: list[tuple[str, str]] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    comments: list[dict[str, str]] = field(default_factory=list)
    # post_id, or for a repeated one a derived id (UniqueIds): what the import uses.
    id: str = ""

    @classmethod
    def read(cls, element, *, with_comments: bool = True) -> "Item":
        item = cls()
        for child in element:
            key = qualified(child.tag)
            if key == "category":
                item.categories.append((child.get("domain", ""), text_of(child)))
            elif key == "wp:postmeta":
                values = {qualified(part.tag): text_of(part) for part in child}
                item.meta[values.get("wp:meta_key", "")] = values.get("wp:meta_value", "")
            elif key == "wp:comment":
                if not with_comments:
                    continue
                item.comments.append({qualified(part.tag): text_of(part) for part in child
                                      if qualified(part.tag) != "wp:commentmeta"})
            else:
                item.fields.setdefault(key, text_of(child))
        return item

    @property
    def kind(self) -> str:
        return self.fields.get("wp:post_type") or "post"

    @property
    def attachment_url(self) -> str:
        return self.fields.get("wp:attachment_url") or self.fields.get("guid", "")

    @property
    def link(self) -> str:
        return self.fields.get("link") or self.fields.get("guid", "")

    @property
    def post_id(self) -> str:
        """The WordPress id; older or hand-made exports only carry it in the guid."""
        if self.fields.get("wp:post_id"):
            return safe_id(self.fields["wp:post_id"])
        for url in (self.fields.get("guid", ""), self.fields.get("link", "")):
            found = _POST_ID_IN_URL.search(url)
            if found:
                return found[1]
        return safe_id("t-" + dutch_slug(self.fields.get("title", ""))[:40])


class UniqueIds:
    """Ids that stay apart: a repeat of one gets ``-2``, ``-3``… in the order met.

    The export's order is the same on every run, so the derived ids are too.
    """

    def __init__(self):
        self.used: set[str] = set()

    def assign(self, source_id: str) -> str:
        derived, number = source_id, 1
        while derived in self.used:
            number += 1
            derived = f"{source_id}-{number}"
        self.used.add(derived)
        return derived


def channel(path: Path, *, with_comments: bool = True) -> Iterator[tuple[str, object]]:
    """``(name, element)`` of the channel's children; an ``item`` comes as an Item.

    A file that is not a WordPress export is refused before its first item is
    used: every export WordPress has made since 2009 has ``wp:wxr_version``
    before its items.
    """
    ids, versioned = UniqueIds(), False
    for element in records(path, depth=2, root=WXR):
        name = qualified(element.tag)
        if name == "wp:wxr_version":
            versioned = True
        elif name == "item":
            if not versioned:
                break
            item = Item.read(element, with_comments=with_comments)
            item.id = ids.assign(item.post_id)
            yield name, item
            continue
        yield name, element
    if not versioned:
        raise SourceError(f"{path}: refused: an RSS feed without <wp:wxr_version>, not a "
                          "WordPress export (WXR); make one in WordPress under Tools → Export")


def parse_wp_date(value: str, *, utc: bool) -> datetime.datetime | None:
    """A WXR ``YYYY-MM-DD HH:MM:SS``; None for empty or WordPress's ``0000-00-00``."""
    if not value or value.startswith("0000"):
        return None
    try:
        moment = datetime.datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return plausible(moment.replace(tzinfo=datetime.UTC) if utc else moment)


def metadata_date(moment: datetime.datetime) -> str:
    """UTC times carry their zone; local times stay as written (the site's time zone)."""
    return utc_iso(moment) if moment.tzinfo else f"{moment:%Y-%m-%d %H:%M}"


def normalised_url(url: str) -> str:
    """An old URL reduced to what identifies a page: host without www, path, post id."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    host = host[4:] if host.startswith("www.") else host
    path = re.sub(r"/(?:index\.(?:html?|php))?$", "", parts.path)
    query = parse_qs(parts.query)
    for name in ("p", "page_id"):
        if name in query:
            return f"{host}/?{name}={query[name][0]}"
    return f"{host}{unquote(path)}"


@dataclass
class Index:
    """What the first pass learns: everything an item may point to."""

    slugs: dict[str, str] = field(default_factory=dict)           # post id → slug
    # post id → path of a file an earlier, stopped run wrote but did not record
    reclaimed: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)           # normalised link → slug
    attachments: dict[str, tuple[str, str]] = field(default_factory=dict)  # id → url, alt
    authors: dict[str, str] = field(default_factory=dict)         # login → display name
    channel_date: datetime.datetime | None = None  # when the export was made
    # The old site's host: ids are unique per WordPress site, not across sites.
    site: str = ""
    base_url: str = ""  # the old site's address, for relative links in a post without its own

    def key(self, kind: str, source_id: str) -> str:
        return ContentStore.key(SOURCE, f"{self.site}:{kind}", source_id)

    def identity(self, item: Item) -> str:
        """The ``Id`` of the written file: it names the post whatever its slug or date.

        Post ids are unique per site only, and two old blogs can be merged into one,
        so the site's host is part of it: ``wp-oud-advies.nl-156``.
        """
        site = re.sub(r"[^A-Za-z0-9.]+", "-", self.site).strip("-.")[:60] or "site"
        return f"wp-{site}-{item.id}"


def build_index(path: Path, store: ContentStore) -> Index:
    index = Index()
    slugs = SlugAllocator(store.content_dir, store.recorded_articles(SOURCE))
    for name, element in channel(path, with_comments=False):  # the index needs no comments
        if name in ("wp:base_site_url", "link") and not index.site:
            index.site = normalised_url(text_of(element)) or "site"
            index.base_url = text_of(element).strip()
        elif name == "wp:author":
            values = {qualified(part.tag): text_of(part) for part in element}
            login = values.get("wp:author_login", "")
            display = values.get("wp:author_display_name") or " ".join(
                filter(None, (values.get("wp:author_first_name"), values.get("wp:author_last_name"))))
            index.authors[login] = display or login
        elif name == "pubDate":
            index.channel_date = _rfc822(text_of(element))
        elif name == "item":
            item = element
            if item.kind == "attachment":
                index.attachments[item.id] = (item.attachment_url,
                                              item.meta.get("_wp_attachment_image_alt", ""))
            elif item.kind in ("post", "page") and item.fields.get("wp:status", "publish") in STATUS_MAP:
                key = index.key(item.kind, item.id)
                recorded = store.recorded_path(key)
                reclaimed = None if recorded else slugs.reclaim(key, index.identity(item))
                if reclaimed:
                    slug, path_on_disk = reclaimed
                    index.reclaimed[item.id] = path_on_disk
                else:
                    wanted = (Path(recorded).stem if recorded else
                              dutch_slug(unquote(item.fields.get("wp:post_name", "")))
                              or dutch_slug(remove_private_data(plain_text(item.fields.get("title", ""))))
                              or f"{item.kind}-{item.id}")
                    slug = slugs.allocate(key, wanted, item.id)
                index.slugs[item.id] = slug
                for url in (item.fields.get("link", ""), item.fields.get("guid", "")):
                    if url:
                        index.links.setdefault(normalised_url(url), slug)
    return index


def _rfc822(value: str) -> datetime.datetime | None:
    """An RSS date; None for a placeholder such as WordPress's ``30 Nov -0001``."""
    if not _FOUR_DIGIT_YEAR.search(value or ""):
        return None  # email.utils reads "-0001" as the year 2000
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return plausible(moment)


class WordPressImport:
    def __init__(self, path: Path, store: ContentStore, index: Index):
        self.path = path
        self.store = store
        self.report = store.report
        self.index = index
        self.images: set[tuple[str, str]] = set()
        self.attachments: list[list[str]] = []
        # Comment ids are unique per site; an export that repeats one gets it derived.
        self.comment_ids = UniqueIds()

    def run(self) -> None:
        for name, item in channel(self.path):
            if name == "item":
                self.item(item)
        self.store.write_manifest("images-wordpress.tsv", ["url", "used_in"],
                                  sorted(map(list, self.images)), export=self.path.name)
        self.store.write_manifest("attachments-wordpress.tsv", ["id", "url", "title", "parent_id"],
                                  self.attachments, export=self.path.name)

    def item(self, item: Item) -> None:
        kind, status = item.kind, item.fields.get("wp:status", "publish")
        title = plain_text(item.fields.get("title", "")) or f"(zonder titel {item.id})"
        what = f"{kind} {item.id} {title!r}"
        if item.id != item.post_id:
            self.report.warn(f"{what}: another item in the export has the id {item.post_id} "
                             f"too; imported as {item.id}")
        if kind == "attachment":
            self.attachments.append([item.id, item.attachment_url, title,
                                     item.fields.get("wp:post_parent", "")])
            self.report.counts["attachments listed"] += 1
            self.orphan_comments(item, f"comment on attachment {item.id}")
            return
        if kind not in ("post", "page") or status not in STATUS_MAP:
            skipped = kind if kind not in ("post", "page") else f"{kind} with status {status!r}"
            self.report.counts[f"skipped: {skipped}"] += 1
            if kind in ("post", "page"):
                self.report.warn(f"{what}: status {status!r} is not imported (WordPress trash "
                                 "or an unsaved auto-draft)")
            self.orphan_comments(item, f"its {skipped} {item.id} is not imported")
            return
        slug = self.index.slugs[item.id]
        try:
            written_date = self.write_post(item, kind, slug, title, what)
        except BodyTooLarge as error:
            self.report.error(f"{what}: {error}")
            self.orphan_comments(item, f"its {kind} {item.id} is not imported")
            return
        if kind == "page" and item.comments:
            # Kept, so nothing is lost, though the theme shows comments on articles only.
            self.report.counts["comments on pages (kept, not shown)"] += sum(
                1 for c in item.comments if c.get("wp:comment_approved") in ("0", "1"))
        self.write_comments(item, slug, written_date)

    def post_date(self, item: Item, what: str) -> datetime.datetime | None:
        fields = item.fields
        moment = parse_wp_date(fields.get("wp:post_date_gmt", ""), utc=True)
        if moment is None:
            moment = parse_wp_date(fields.get("wp:post_date", ""), utc=False)
            if moment is None:
                # WordPress writes the post date here too; hand-made exports may only have this.
                moment = _rfc822(fields.get("pubDate", ""))
                if moment:
                    self.report.warn(f"{what}: no post date; used its pubDate {moment}")
        return moment

    def undated(self, what: str) -> datetime.datetime:
        """A date for a post that has none: when the export was made, so never 1970."""
        moment = self.index.channel_date
        if moment is None:
            moment = datetime.datetime.fromtimestamp(
                self.path.stat().st_mtime, datetime.UTC).replace(microsecond=0)
        self.report.warn(f"{what}: no date in the export; imported as a draft dated "
                         f"{utc_iso(moment)}, when the export was made. Set its Date before "
                         "publishing it")
        return moment

    def write_post(self, item: Item, kind: str, slug: str, title: str, what: str):
        fields, removed = item.fields, self.report.removed
        body = article_markdown(
            fields.get("content:encoded", ""), removed,
            base_url=item.link if is_web_url(item.link) else self.index.base_url,
            attachments=self.index.attachments, footnotes=self.footnotes(item, what))
        date = self.post_date(item, what)
        draft_because = ("" if STATUS_MAP[fields.get("wp:status", "publish")] == "published"
                         else f"WordPress: {fields.get('wp:status')}")
        if fields.get("wp:post_password"):
            # WordPress only showed it to readers with the password; Pelican has none.
            self.report.warn(f"{what}: protected by a password in WordPress; imported as a "
                             "draft, with its comments, so that it is not published openly")
            draft_because = draft_because or "password protected"
        if date is None:
            date = self.undated(what)
            draft_because = draft_because or "no date"
        modified = parse_wp_date(fields.get("wp:post_modified_gmt", ""), utc=True)
        category, tags = self.terms(item)
        image, image_alt = self.index.attachments.get(item.meta.get("_thumbnail_id", ""), ("", ""))
        metadata = {
            "Title": remove_private_data(title, removed),
            "Date": metadata_date(date),
            "Modified": metadata_date(modified) if modified and date.tzinfo and modified > date else "",
            "Slug": slug,
            "Id": self.index.identity(item),
            "Author": self.author(fields.get("dc:creator", "")),
            "Category": category if kind == "post" else "",
            "Tags": ", ".join(tags) if kind == "post" else "",
            "Summary": markdown_text(remove_private_data(
                plain_text(fields.get("excerpt:encoded", "")), removed)),
            "Image": public_url(image, removed),
            "Image_alt": remove_private_data(plain_text(image_alt), removed) if image else "",
            "Status": "draft" if draft_because else "",
            "Comments": "closed" if fields.get("wp:comment_status") == "closed" and kind == "post" else "",
        }
        if draft_because:
            self.report.counts[f"{kind}s as draft ({draft_because})"] += 1
        self.report.counts[f"{kind}s"] += 1
        folder = f"articles/{date:%Y}" if kind == "post" else "pages"
        relative = self.index.reclaimed.get(item.id) or f"{folder}/{slug}.md"
        self.store.put(self.index.key(kind, item.id), relative, format_header(metadata, body))
        for url in image_urls(body) + ([metadata["Image"]] if metadata["Image"] else []):
            self.images.add((url, relative))
        return date

    def footnotes(self, item: Item, what: str) -> list[tuple[str, str]]:
        """The block editor's footnotes, (id, note HTML), which it keeps in the post's
        ``footnotes`` meta as JSON: ``[{"id": …, "content": …}, …]``."""
        stored = item.meta.get("footnotes", "")
        if not stored.strip():
            return []
        try:
            notes = json.loads(stored)
        except (ValueError, RecursionError):
            notes = None
        if not isinstance(notes, list) or not all(
                isinstance(n, dict) and isinstance(n.get("id"), str) for n in notes):
            self.report.warn(f"{what}: its footnotes are not the block editor's JSON; "
                             "imported without them")
            return []
        return [(note["id"], str(note.get("content") or "")) for note in notes]

    def terms(self, item: Item) -> tuple[str, list[str]]:
        """Pelican has one category: the first becomes it, later ones become tags.

        WXR 1.0 lists every term twice (once without a domain), and Pelican makes
        one tag of names that differ only in case, so each name counts once.
        """
        categories, tags = {}, {}
        for domain, name in item.categories:
            name = plain_text(name).replace(",", " ")
            if has_private_data(name):
                # A term names a page and a feed of its own: one holding an address
                # is left out rather than published as "[e-mailadres verwijderd]".
                remove_private_data(name, self.report.removed)
                continue
            if domain in ("", "category") and name:
                categories.setdefault(name.casefold(), name)
            elif domain in ("post_tag", "tag") and name:
                tags.setdefault(name.casefold(), name)
        for default in DEFAULT_CATEGORIES:
            categories.pop(default, None)
        category = next(iter(categories.values()), "")
        for folded, name in list(categories.items())[1:]:
            tags.setdefault(folded, name)
        return category, list(tags.values())

    def author(self, login: str) -> str:
        """The author's slug; their profile is written once, with no address in it."""
        login = plain_text(login)
        if not login:
            return ""
        # A login can be an email address; the profile then gets a neutral name.
        name = person_name(self.index.authors.get(login) or login, self.report.removed,
                           fallback="Redactie")
        return self.store.put_author(self.index.key("author", login), name)

    def orphan_comments(self, item: Item, reason: str) -> None:
        for comment in item.comments:
            self.report.orphans.append(Orphan(
                f"wxr comment {comment.get('wp:comment_id', '?')}", item.link, reason))

    def write_comments(self, item: Item, slug: str, post_date: datetime.datetime) -> None:
        report = self.report
        kept = []
        ids = {}  # the export's comment id → the id it is imported with, in this post
        for comment in item.comments:
            approved = comment.get("wp:comment_approved", "")
            kind = COMMENT_TYPES.get(comment.get("wp:comment_type", ""))
            if approved == "spam":
                report.counts["skipped: spam comments"] += 1
            elif approved in ("trash", "post-trashed"):
                report.counts["skipped: trashed comments"] += 1
            elif approved not in ("0", "1"):
                report.counts[f"skipped: comments with status {approved!r}"] += 1
            elif kind is None:
                report.counts[f"skipped: comments of type {comment['wp:comment_type']!r}"] += 1
            else:
                source_id = comment.get("wp:comment_id", "")
                # The hash of an odd id is stable, so it also serves as the source id.
                comment_id = self.comment_ids.assign(safe_id(source_id))
                if comment_id != safe_id(source_id):
                    report.warn(f"comment {source_id} on {item.link}: another comment in the "
                                f"export has this id too; imported as {comment_id}")
                ids.setdefault(source_id, comment_id)
                kept.append((comment_id, comment, kind))
        for comment_id, comment, kind in kept:
            parent = comment.get("wp:comment_parent", "0")
            if parent not in ("", "0") and parent not in ids:
                report.orphans.append(Orphan(
                    f"wxr comment {comment_id}", f"{item.link}#comment-{comment_id}",
                    f"its parent comment {parent} is not imported (spam, trash or absent); "
                    "shown as a top-level comment"))
            status = "approved" if comment["wp:comment_approved"] == "1" else "pending"
            what = f"comment {comment_id} on {item.link}"
            date = parse_wp_date(comment.get("wp:comment_date_gmt", ""), utc=True)
            if date is None:
                # The blog's time zone is not in the export; the local time is the
                # closest there is, and the post's date the last resort.
                local = parse_wp_date(comment.get("wp:comment_date", ""), utc=True)
                date = local or post_date
                report.warn(f"{what}: comment_date_gmt is "
                            f"{comment.get('wp:comment_date_gmt') or 'empty'!r}; used "
                            f"{'comment_date' if local else 'the post date'} {utc_iso(date)}")
            fields = {
                "id": f"wxr-{comment_id}",
                "parent": f"wxr-{ids[parent]}" if parent in ids else "",
                "author": person_name(comment.get("wp:comment_author", ""), report.removed),
                "author_url": public_url(comment.get("wp:comment_author_url", ""), report.removed),
                "date": utc_iso(date),
                "type": kind,
                "status": status,
                "source": SOURCE,
                "source_id": comment_id,
            }
            try:
                body = comment_markdown(comment.get("wp:comment_content", ""), report.removed)
            except BodyTooLarge as error:
                report.error(f"{what} by {fields['author']!r}: {error}")
                continue
            self.store.put(self.index.key("comment", comment_id),
                           f"comments/{slug}/wxr-{comment_id}.md", format_header(fields, body))
            counter = (f"{kind}s" if kind != "comment" else
                       f"comments imported ({status})")
            report.counts[counter] += 1


def import_wordpress(path: Path, content_dir: Path, *, dry_run: bool = False,
                     report_path: Path | None = None) -> tuple[Report, str]:
    """Import one WXR file into ``content_dir``; return the report and its text."""
    report = Report(source="WordPress (WXR)", input_path=str(path), dry_run=dry_run)
    store = ContentStore(content_dir, report)
    index = build_index(Path(path), store)
    WordPressImport(Path(path), store, index).run()
    return report, finish(store, report_path)
