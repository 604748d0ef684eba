"""Import saved pages of an old site (a web archive, "Save page as…").

Each page gives one article: its title, date, author and body are found with
BeautifulSoup in the markup WordPress themes use (``.entry-title``, ``time``,
``.entry-content``, Open Graph tags), with plainer fallbacks. Page furniture is
removed first: share buttons, "Scroll naar boven", "Leave a Reply", phone numbers,
copyright lines. Comments are read from WordPress comment markup
(``.comment-list`` / ``.commentlist``), threads from how the list items nest.
"""

import datetime
import hashlib
import re
from pathlib import Path

from babel.dates import get_month_names
from bs4 import BeautifulSoup, Tag

from adviesblog_common.headers import format_header
from site_nl.drafts import dutch_slug

from .content_index import SlugAllocator
from .store import ContentStore, Report, finish, safe_id, utc_iso
from .text import (
    article_markdown,
    comment_markdown,
    markdown_text,
    person_name,
    plain_text,
    public_url,
    remove_private_data,
)
from .wordpress import normalised_url

SOURCE = "html"
PAGE_SUFFIXES = (".html", ".htm")

BODY_SELECTORS = (".entry-content", ".post-content", ".article-content", "article .content",
                  ".post .entry", ".storycontent", ".post-body",
                  "[itemprop=articleBody]", "article", "main", "#content", "body")
TITLE_SELECTORS = ("h1.entry-title", ".entry-title", "article h1", "h1")
AUTHOR_SELECTORS = (".entry-meta .author .fn", ".byline .author", ".author.vcard .fn",
                    "a[rel=author]", ".author-name", ".entry-author")
DATE_SELECTORS = ("article time[datetime], .entry-meta time[datetime], time.entry-date, "
                  ".entry-date, .posted-on, .entry-meta, .postmetadata, .post-meta, .post-date")
COMMENT_LISTS = (".comment-list", ".commentlist", "ol.comments", "#comments ol")
# Parts of a theme, not of the article.
FURNITURE_SELECTORS = (
    "script", "style", "noscript", "form", "iframe", "nav", "aside", "footer", "header",
    "#comments", ".comment-list", ".commentlist", "#respond", ".entry-meta", ".postmetadata",
    ".post-meta", ".comment-respond", ".comments-area", ".sharedaddy",
    ".sd-sharing", ".share", ".sharing", ".social", ".social-share", ".jp-relatedposts",
    ".post-navigation", ".nav-links", ".navigation", ".entry-footer", ".author-bio",
    ".author-box", ".widget", ".screen-reader-text", ".wp-block-buttons", ".back-to-top",
    ".scroll-to-top", "#scroll-to-top",
)
FURNITURE_TEXT = re.compile(
    r"^(?:scroll naar boven|naar boven|back to top|scroll to top|leave a reply|"
    r"leave a comment|geef een reactie|laat een reactie achter|plaats een reactie|"
    r"er zijn nog geen reacties(?: geplaatst)?|no comments yet|be the first to comment|"
    r"deel dit(?: artikel)?|share this|delen|like this|vind ik leuk|"
    r"vul uw e-?mailadres in als u op de hoogte gehouden wilt worden.*|"
    r"(?:©|\(c\)|copyright).*|.*alle rechten voorbehouden.*|.*all rights reserved.*)[.:!]?$",
    re.IGNORECASE)
_PHONE = re.compile(r"(?:\+31|0031|\b0)[\s\-()]*(?:\d[\s\-()]*){8,10}\b")
FURNITURE_MAX_LENGTH = 160
# English and Dutch month names from the CLDR (via Babel), for dates written out.
_MONTHS = {name.lower().rstrip("."): number
           for locale in ("nl", "en") for width in ("wide", "abbreviated")
           for number, name in get_month_names(width, locale=locale).items()}
_WRITTEN_DATE = re.compile(
    r"(?:(?P<day>\d{1,2})\s+(?P<month>[a-z]+)\.?,?\s+(?P<year>\d{4})"
    r"|(?P<month2>[a-z]+)\.?\s+(?P<day2>\d{1,2}),?\s+(?P<year2>\d{4}))"
    r"(?:\D{1,8}?(?P<hour>\d{1,2})[:.](?P<minute>\d{2})\s*(?P<ampm>am|pm)?)?",
    re.IGNORECASE)


def page_files(paths: list[Path]) -> list[Path]:
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix.lower() in PAGE_SUFFIXES)
        else:
            found.append(path)
    return found


def parse_date(text: str) -> datetime.datetime | None:
    """ISO 8601, or a written date such as "29 juni 2017 om 10:49" or "June 29, 2017"."""
    text = (text or "").strip()
    try:
        moment = datetime.datetime.fromisoformat(text)
        return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
    except ValueError:
        pass
    found = _WRITTEN_DATE.search(text)
    if not found:
        return None
    month = _MONTHS.get((found["month"] or found["month2"]).lower())
    if not month:
        return None
    hour, minute = int(found["hour"] or 0), int(found["minute"] or 0)
    if found["ampm"] and found["ampm"].lower() == "pm" and hour < 12:
        hour += 12
    try:
        return datetime.datetime(int(found["year"] or found["year2"]), month,
                                 int(found["day"] or found["day2"]), hour, minute,
                                 tzinfo=datetime.UTC)
    except ValueError:
        return None


def article_date(soup: Tag) -> datetime.datetime | None:
    """The publication date from metadata, a ``time`` element, or a written-out date."""
    time_tag = soup.select_one(DATE_SELECTORS)
    candidates = [meta_content(soup, "article:published_time")]
    if time_tag is not None:
        candidates += [time_tag.get("datetime", ""), time_tag.get_text(" ")]
    for found in filter(None, map(parse_date, filter(None, candidates))):
        return found
    return None


def first(soup: Tag, selectors) -> Tag | None:
    for selector in selectors:
        found = soup.select_one(selector)
        if found is not None:
            return found
    return None


def meta_content(soup: Tag, *names: str) -> str:
    for name in names:
        tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
        if tag and tag.get("content"):
            return tag["content"]
    return ""


def is_furniture(element: Tag) -> bool:
    text = " ".join(element.get_text(" ").split())
    if not text or len(text) > FURNITURE_MAX_LENGTH:
        return False
    if FURNITURE_TEXT.match(text):
        return True
    # A short block that is mostly a phone number ("Bel ons: 0318 - 12 34 56").
    phone = _PHONE.search(text)
    return bool(phone) and len(phone[0]) >= len(text) / 2


def strip_furniture(body: Tag, removed) -> None:
    for selector in FURNITURE_SELECTORS:
        for element in body.select(selector):
            element.decompose()
    for element in body.find_all(["p", "div", "span", "li", "a", "h2", "h3", "h4", "small"]):
        if element.decomposed:
            continue
        if is_furniture(element):
            removed["page furniture"] += 1
            element.decompose()


class SavedPagesImport:
    def __init__(self, store: ContentStore):
        self.store = store
        self.report = store.report
        self.slugs = SlugAllocator(store.content_dir, store.recorded_articles(SOURCE))

    def page(self, path: Path) -> None:
        report = self.report
        soup = BeautifulSoup(path.read_bytes(), "lxml")
        canonical = soup.find("link", rel="canonical")
        url = (canonical.get("href") if canonical else "") or meta_content(soup, "og:url")
        source_id = normalised_url(url) if url else path.name
        title_tag = first(soup, TITLE_SELECTORS)
        title = plain_text(str(title_tag)) if title_tag else plain_text(
            meta_content(soup, "og:title") or (soup.title.string if soup.title else ""))
        date = article_date(soup)
        if not title or date is None:
            missing = " and ".join(name for name, value in (("title", title), ("date", date)) if not value)
            report.counts["skipped: pages without title or date"] += 1
            report.warn(f"{path}: no {missing} found; not imported")
            return
        author_tag = first(soup, AUTHOR_SELECTORS)
        author_name = plain_text(str(author_tag)) if author_tag else meta_content(soup, "author")
        comments = self.read_comments(soup, source_id, url, date)
        body = first(soup, BODY_SELECTORS)
        strip_furniture(body, report.removed)
        if title_tag is not None and title_tag in body.descendants:
            title_tag.decompose()
        key = ContentStore.key(SOURCE, "article", source_id)
        recorded = self.store.recorded_path(key)
        slug = self.slugs.allocate(key, Path(recorded).stem if recorded else dutch_slug(title),
                                   hashlib.sha1(source_id.encode()).hexdigest()[:6])
        metadata = {
            "Title": remove_private_data(title, report.removed),
            "Date": utc_iso(date),
            "Slug": slug,
            "Author": self.author(author_name) if author_name else "",
            "Summary": markdown_text(remove_private_data(
                plain_text(meta_content(soup, "description", "og:description")), report.removed)),
        }
        markdown = article_markdown(str(body), report.removed, wordpress=False)
        self.store.put(key, f"articles/{date:%Y}/{slug}.md", format_header(metadata, markdown))
        report.counts["articles"] += 1
        for comment in comments:
            self.store.put(ContentStore.key(SOURCE, "comment", comment.pop("key")),
                           f"comments/{slug}/{comment['id']}.md",
                           format_header(comment, comment.pop("body")))

    def author(self, raw_name: str) -> str:
        name = person_name(raw_name, self.report.removed, fallback="")
        return self.store.put_author(ContentStore.key(SOURCE, "author", dutch_slug(name)), name)

    def read_comments(self, soup: BeautifulSoup, page_id: str, page_url: str,
                      article_date: datetime.datetime) -> list[dict]:
        comment_list = first(soup, COMMENT_LISTS)
        if comment_list is None:
            return []
        report = self.report
        items = [li for li in comment_list.find_all(["li", "article"])
                 if any(c in ("comment", "pingback", "trackback") for c in li.get("class", []))
                 or (li.get("id") or "").startswith(("comment-", "li-comment-"))]
        found = []
        for item in items:
            number = re.sub(r"^(?:li-)?comment-", "", item.get("id", "")) or None
            # Classic themes put the text straight into the comment's own element.
            content = (item.select_one(".comment-content, .comment-text, .comment-body")
                       or item.find(id=f"comment-{number}") or item)
            author_tag = item.select_one(".comment-author .fn, .comment-author cite, .fn")
            link = author_tag.find("a") if author_tag else item.select_one("a.url")
            author = (author_tag or link).get_text() if (author_tag or link) else ""
            time_tag = item.select_one("time")
            date = parse_date(time_tag.get("datetime") or time_tag.get_text()) if time_tag else None
            if date is None:
                meta = item.select_one(".comment-metadata, .commentmetadata, .comment-meta")
                date = parse_date(meta.get_text(" ") if meta else "")
            content = content.__copy__()
            for extra in content.select(".comment-author, .comment-meta, .comment-metadata, "
                                        ".commentmetadata, .reply, .comment-reply-link, .children, "
                                        "footer"):
                extra.decompose()
            text = content.decode_contents()
            number = safe_id(number) if number else hashlib.sha1(text.encode()).hexdigest()[:10]
            if date is None:
                # Themes show no date on pingbacks; the article's date keeps the order.
                date = article_date
                report.warn(f"comment {number} on {page_url or page_id}: no date found; "
                            f"used the article's date {utc_iso(date)}")
            parent_item = item.find_parent(lambda tag: tag in items)
            parent = re.sub(r"^(?:li-)?comment-", "", parent_item.get("id", "")) if parent_item else ""
            parent = safe_id(parent) if parent else ""
            classes = item.get("class", [])
            kind = "pingback" if "pingback" in classes else "trackback" if "trackback" in classes else "comment"
            found.append({
                "key": f"{page_id}#comment-{number}",
                "id": f"html-{number}",
                "parent": f"html-{parent}" if parent else "",
                "author": person_name(author, report.removed),
                "author_url": public_url(link.get("href", "") if link else "", report.removed),
                "date": utc_iso(date),
                "type": kind,
                "status": "approved",
                "source": SOURCE,
                "source_id": f"{page_id}#comment-{number}",
                "body": comment_markdown(text, report.removed),
            })
            report.counts["comments imported (approved)" if kind == "comment" else f"{kind}s"] += 1
        return found


def import_saved_pages(paths: list[Path], content_dir: Path, *, dry_run: bool = False,
                       report_path: Path | None = None) -> tuple[Report, str]:
    """Import saved HTML pages (files or folders) into ``content_dir``."""
    files = page_files(paths)
    report = Report(source="saved HTML pages", input_path=", ".join(map(str, paths)), dry_run=dry_run)
    store = ContentStore(content_dir, report)
    importer = SavedPagesImport(store)
    for path in files:
        importer.page(path)
    return report, finish(store, report_path)
