"""Import saved pages of an old site (a web archive, "Save page as…").

Each page gives one article. Its comments are read first, from WordPress comment
markup (``.comment-list`` / ``.commentlist``, threads from how the items nest);
then every comment area is taken out of the page, so that neither the title nor the
body can come from a reader's comment. Title, author and date come from the page's
metadata and theme markup (Open Graph, JSON-LD, microdata, ``time``, the byline, in
Dutch or English), then from htmldate with its guessing switched off. A page without
any date becomes a draft dated by the file's modification time.

The body is chosen among up to three extractions of the page without its furniture:
trafilatura, the theme's article container (``.entry-content`` and the like) and
readability's scoring. The one that agrees most with the others wins, so that one
extractor that goes astray (half an article, a block of teasers) is outvoted.
Furniture is removed before and after: share buttons, player labels, related-article
teasers, empty layout tables, "Scroll naar boven", phone numbers, copyright lines.

Nothing is fetched: the libraries get parsed pages, never a URL.
"""

import codecs
import datetime
import hashlib
import json
import re
import warnings
from collections import Counter, deque
from pathlib import Path

import lxml.html
import trafilatura
from babel.dates import get_month_names
from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, NavigableString, Tag
from bs4.builder import ParserRejectedMarkup
from htmldate import find_date
from trafilatura.readability_lxml import Document

from adviesblog_common.headers import format_header
from site_nl.drafts import dutch_slug

from .content_index import SlugAllocator
from .store import ContentStore, Report, finish, plausible, safe_id, utc_iso
from .text import (
    MAX_NESTING,
    BodyTooLarge,
    article_markdown,
    check_body_size,
    comment_markdown,
    flattened,
    markdown_text,
    person_name,
    plain_text,
    public_url,
    remove_private_data,
)
from .wordpress import normalised_url
from .xmlstream import KINDS

SOURCE = "html"
PAGE_SUFFIXES = (".html", ".htm")
# trafilatura's own limit for a page; a page saved with its images inline stays
# below it, and a bigger file would hold the import for minutes.
MAX_PAGE_BYTES = 20_000_000
# Real pages nest some 30 elements deep. A deeper one is broken or hostile, and each
# level costs every step that looks at an element's text or ancestors: it is flattened
# at this depth, its text kept, before anything else reads it.
PAGE_NESTING = 2 * MAX_NESTING
# Exports that end up among saved pages are known by the root element of their XML.
_XML_ROOT = re.compile(rb"\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*<([\w:-]+)",
                       re.DOTALL | re.IGNORECASE)

# Theme containers of the article body. Generic ones (article, main, body) are left
# to the extractors, which weigh what is in them.
BODY_SELECTORS = (".entry-content", ".post-content", ".article-content", "article .content",
                  ".post .entry", ".storycontent", ".post-body", "[itemprop=articleBody]")
TITLE_SELECTORS = ("h1.entry-title", ".entry-title", "article h1", "h1")
AUTHOR_SELECTORS = (".entry-meta .author .fn", ".byline .author", ".author.vcard .fn",
                    "a[rel=author]", ".author-name", ".entry-author")
DATE_SELECTORS = ("article time[datetime], .entry-meta time[datetime], time.entry-date, "
                  ".entry-date, .posted-on, .entry-meta, .postmetadata, .post-meta, .post-date, "
                  ".byline, .dateline, .published, .date")
COMMENT_LISTS = (".comment-list", ".commentlist", "ol.comments", "#comment-list", "#comments ol")
# Where readers write; none of it is the article, even where a theme marks a comment
# up as an article (``.entry-title``, ``.entry-content``).
COMMENT_AREAS = ("#comments", ".comments-area", "#respond", ".comment-respond",
                 "#disqus_thread", *COMMENT_LISTS, "li.comment", "li.pingback", "li.trackback",
                 "[id^=comment-]", "[id^=li-comment-]")
COMMENT_CONTENT = ".comment-content, .comment-text, .comment-body, .entry-content"
COMMENT_AUTHOR = (".comment-author .fn", ".comment-author cite", ".fn", ".comment-author")
COMMENT_DATE = (".comment-metadata, .commentmetadata, .comment-meta, .comment-date, "
                ".entry-posted, .published")
COMMENT_EXTRAS = (".comment-author, .comment-meta, .comment-metadata, .commentmetadata, "
                  ".comment-date, .reply, .comment-reply-link, .children, footer")
# Parts of a theme, not of the article, wherever they are in the page.
PAGE_FURNITURE = (
    "script", "style", "noscript", "template", "iframe", "svg", "button", "select", "video",
    "audio", "[role=button]", "[role=toolbar]", ".entry-meta", ".postmetadata", ".post-meta",
    ".sharedaddy", ".sd-sharing", ".share", ".sharing", ".social", ".social-share",
    ".jp-relatedposts", ".related", ".related-posts", ".related-articles", ".yarpp-related",
    ".crp_related", ".post-navigation", ".nav-links", ".navigation", ".entry-footer",
    ".author-bio", ".author-box", ".screen-reader-text", ".wp-block-buttons",
    ".back-to-top", ".scroll-to-top", "#scroll-to-top", ".mejs-controls", ".vjs-control-bar",
    ".jw-controls",
)
# Layout, removed from a theme's article container only: the extractors weigh it
# across the page themselves, some sites wrap the whole page in a form, and Blogger
# puts the posts in a widget.
CONTAINER_FURNITURE = ("form", "nav", "aside", "footer", "header", ".widget")
_TEASER_LABEL = (r"lees ook|lees meer|meer lezen|zie ook|gerelateerde? (?:artikelen|berichten)|"
                 r"meer over dit onderwerp|related(?: articles| posts| stories)?|read more|"
                 r"read also|also read|more stories|you might also like")
FURNITURE_TEXT = re.compile(
    r"^(?:scroll naar boven|naar boven|back to top|scroll to top|leave a reply|"
    r"leave a comment|geef een reactie|laat een reactie achter|plaats een reactie|"
    r"er zijn nog geen reacties(?: geplaatst)?|no comments yet|be the first to comment|"
    r"deel dit(?: artikel)?|share this|delen|like this|vind ik leuk|"
    r"vul uw e-?mailadres in als u op de hoogte gehouden wilt worden.*|"
    # Media players' controls, as saved with the page.
    r"(?:video )?afspelen|pauzeren|pauze|dempen|geluid (?:aan|uit)|volledig scherm|"
    r"play(?: video)?|pause|mute|unmute|full ?screen|now playing|replay|"
    r"\d{1,2}:\d{2}(?:\s*/\s*\d{1,2}:\d{2})?|"
    rf"(?:{_TEASER_LABEL})(?:\s*:.*)?|"
    r"(?:©|\(c\)|copyright).*|.*alle rechten voorbehouden.*|.*all rights reserved.*)[.:!]?$",
    re.IGNORECASE)
_TEASER_HEADING = re.compile(rf"^(?:{_TEASER_LABEL})\s*:?$", re.IGNORECASE)
_PHONE = re.compile(r"(?:\+31|0031|\b0)[\s\-()]*(?:\d[\s\-()]*){8,10}\b")
FURNITURE_MAX_LENGTH = 160
# When the candidates' agreement scores are this close, the earlier candidate wins.
AGREEMENT_TIE = 0.02
# A body with fewer words than this share of the page's text, or that no other
# extractor agrees with this much, is reported for a look.
DOUBTFUL_SHARE = 0.1
DOUBTFUL_AGREEMENT = 0.5
_HEADING_BLOCKS = ("p", "div", "header", "h2", "h3", "h4", "h5", "h6", "dt")
_WORD = re.compile(r"\w+")
_LINK = re.compile(r"(?:https?://|www\.)\S+")
# English and Dutch month names from the CLDR (via Babel), for dates written out.
_MONTHS = {name.lower().rstrip("."): number
           for locale in ("nl", "en") for width in ("wide", "abbreviated")
           for number, name in get_month_names(width, locale=locale).items()}
_ORDINAL = r"(?:st|nd|rd|th|ste|de|e)?"
_WRITTEN_DATE = re.compile(
    rf"(?:(?P<day>\d{{1,2}}){_ORDINAL}\s+(?P<month>[a-z]+)\.?,?\s+(?P<year>\d{{4}})"
    rf"|(?P<month2>[a-z]+)\.?\s+(?P<day2>\d{{1,2}}){_ORDINAL},?\s+(?P<year2>\d{{4}}))"
    r"(?:\D{1,8}?(?P<hour>\d{1,2})[:.](?P<minute>\d{2})\s*(?P<ampm>am|pm)?)?",
    re.IGNORECASE)
_URL_DATE = re.compile(r"/((?:19|20)\d{2})/(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])/")


def page_files(paths: list[Path]) -> list[Path]:
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix.lower() in PAGE_SUFFIXES)
        else:
            found.append(path)
    return found


def parse_date(text: str) -> datetime.datetime | None:
    """ISO 8601, or a written date such as "29 juni 2017 om 10:49" or "March 11th, 2015"."""
    text = (text or "").strip()
    try:
        moment = datetime.datetime.fromisoformat(text)
        return plausible(moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC))
    except ValueError:
        pass
    found = _WRITTEN_DATE.search(text)
    if not found:
        return None
    month = _MONTHS.get((found["month"] or found["month2"]).lower())
    if not month:
        return None
    hour, minute = int(found["hour"] or 0), int(found["minute"] or 0)
    if found["ampm"]:
        hour = hour % 12 + (12 if found["ampm"].lower() == "pm" else 0)
    try:
        return plausible(datetime.datetime(int(found["year"] or found["year2"]), month,
                                           int(found["day"] or found["day2"]), hour, minute,
                                           tzinfo=datetime.UTC))
    except ValueError:
        return None


def most_precise(texts) -> datetime.datetime | None:
    """The first date in ``texts``, with its time from a later one if it has none.

    Themes write ``<time datetime="2020-12-24">December 24, 2020 at 3:53 am</time>``:
    the attribute is the machine's version, the text the more precise one.
    """
    moments = [moment for moment in map(parse_date, filter(None, texts)) if moment]
    if not moments:
        return None
    first = moments[0]
    return next((moment for moment in moments
                 if moment.date() == first.date() and moment.time() != datetime.time()), first)


def json_ld_dates(soup: Tag) -> list[str]:
    """``datePublished`` of the page's JSON-LD objects, comments and reviews excepted."""
    found = []
    for script in soup.find_all("script", type="application/ld+json"):
        try:
            data = json.loads(script.string or "")
        except (ValueError, RecursionError):
            continue
        # Breadth first, so that the page's own object comes before those inside it.
        stack = deque([data])
        while stack:
            item = stack.popleft()
            if isinstance(item, list):
                stack += item
            elif isinstance(item, dict) and item.get("@type") not in ("Comment", "Review"):
                if isinstance(item.get("datePublished"), str):
                    found.append(item["datePublished"])
                stack += [value for value in item.values() if isinstance(value, list | dict)]
    return found


def article_date(soup: Tag, url: str) -> datetime.datetime | None:
    """The publication date from metadata, the byline, htmldate or the URL.

    htmldate runs without its extensive search, which guesses from any year in the
    page (a copyright line makes 1998-01-01 of an undated page).
    """
    microdata = soup.select_one("[itemprop=datePublished]")
    time_tag = soup.select_one(DATE_SELECTORS)
    sources = (
        [meta_content(soup, "article:published_time", "og:published_time", "datePublished")],
        json_ld_dates(soup),
        [microdata.get("content") or microdata.get("datetime") or microdata.get_text(" ")]
        if microdata else [],
        [time_tag.get("datetime", ""), time_tag.get_text(" ")] if time_tag else [],
    )
    for texts in sources:
        if found := most_precise(texts):
            return found
    try:
        found = find_date(lxml.html.fromstring(str(soup)), extensive_search=False,
                          original_date=True, outputformat="%Y-%m-%dT%H:%M:%S", url=url or None)
    except (ValueError, OverflowError):  # a time zone such as +99:00 in the page's metadata
        found = None
    if found and (moment := parse_date(found)):
        return moment
    in_url = _URL_DATE.search(url)
    return datetime.datetime(*map(int, in_url.groups()), tzinfo=datetime.UTC) if in_url else None


def first(soup: Tag, selectors) -> Tag | None:
    for selector in selectors:
        found = soup.select_one(selector)
        if found is not None:
            return found
    return None


def meta_content(soup: Tag, *names: str) -> str:
    for name in names:
        tag = (soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
               or soup.find("meta", attrs={"itemprop": name}))
        if tag and tag.get("content"):
            return tag["content"]
    return ""


def is_furniture(text: str | None) -> bool:
    """Whether an element with this text (from short_texts) is furniture."""
    if not text:
        return False
    if FURNITURE_TEXT.match(text):
        return True
    # A short block that is mostly a phone number ("Bel ons: 0318 - 12 34 56").
    phone = _PHONE.search(text)
    return bool(phone) and len(phone[0]) >= len(text) / 2


def strip_furniture(body: Tag, removed: Counter, selectors=PAGE_FURNITURE) -> None:
    # Furniture is a small part of a page; a match that holds most of its text is a
    # theme using the class name for something else.
    most = len(body.get_text()) / 2
    for element in body.select(", ".join(selectors)):
        if not decomposed(element) and len(element.get_text()) <= most:
            element.decompose()
    # Taken before any block goes: a block is looked at before what is inside it, and
    # what goes is never inside a block still to be looked at, so the texts stay true.
    texts = short_texts(body)
    for element in body.find_all(["p", "div", "span", "li", "a", "h2", "h3", "h4", "small"]):
        text = texts.get(id(element))
        if decomposed(element) or not is_furniture(text):
            continue
        removed["page furniture"] += 1
        if _TEASER_HEADING.match(text):
            # "Lees ook" above a list of links: the list is the teaser.
            teasers = element.find_next_sibling()
            if teasers is not None and teasers.name in ("ul", "ol") and is_all_links(teasers):
                teasers.decompose()
        element.decompose()
    for table in body.find_all("table"):
        # Layout tables that held spacers or scripts leave only empty cells behind.
        if not decomposed(table) and not table.get_text(strip=True) and table.find("img") is None:
            table.decompose()


def decomposed(element: Tag) -> bool:
    # bs4's own ``decomposed`` looks up an attribute a live tag lacks, which Tag.__getattr__
    # turns into a search of the element's whole subtree.
    return vars(element).get("_decomposed", False)


def short_texts(body: Tag) -> dict[int, str]:
    """The text of each element of ``body``, whitespace collapsed, by id(); None when
    longer than FURNITURE_MAX_LENGTH.

    Built from the innermost elements out, so that the page is read once rather than
    once for every element around each word.
    """
    parts: dict[int, list[str] | None] = {}
    texts = {}
    for node in reversed(list(body.descendants)):  # everything inside an element comes first
        if isinstance(node, Tag):
            inner = parts.pop(id(node), [])
            text = None if inner is None else " ".join(reversed(inner))
        elif type(node) is NavigableString:  # as get_text: no comments, no scripts
            text = " ".join(node.split())
        else:
            continue
        if text is not None and len(text) > FURNITURE_MAX_LENGTH:
            text = None
        if isinstance(node, Tag):
            texts[id(node)] = text
        siblings = parts.setdefault(id(node.parent), [])
        if text is None:
            parts[id(node.parent)] = None
        elif text and siblings is not None:
            siblings.append(text)
    return texts


def is_all_links(element: Tag) -> bool:
    text = "".join(element.get_text().split())
    return bool(text) and text == "".join("".join(a.get_text() for a in element.find_all("a")).split())


def words(html: str) -> Counter:
    text = lxml.html.fromstring(html).text_content() if html and html.strip() else ""
    return Counter(_WORD.findall(text.lower()))


def agreement(some: Counter, other: Counter) -> float:
    """Token F1 of two texts: 1 when they hold the same words."""
    common = sum((some & other).values())
    return 2 * common / (some.total() + other.total()) if common else 0.0


def most_agreed(candidates: dict[str, str]) -> tuple[str, float]:
    """The candidate that agrees most with the others, and its best agreement."""
    counted = {name: words(html) for name, html in candidates.items() if html}
    counted = {name: found for name, found in counted.items() if found}
    if not counted:
        return "", 0.0
    agreements = {name: [agreement(found, other) for other_name, other in counted.items()
                         if other_name != name] for name, found in counted.items()}
    best = max(map(sum, agreements.values()))
    name = next(name for name, scores in agreements.items() if sum(scores) >= best - AGREEMENT_TIE)
    return name, max(agreements[name], default=1.0)


# Elements a code block cannot stand in: text runs on around them.
_INLINE_PARENTS = {"a", "b", "em", "i", "li", "p", "span", "strong", "td", "th"}


def inline_code_as_code(extracted: str | None) -> str | None:
    """trafilatura writes every ``<code>`` as ``<pre>``, also one inside a sentence or
    a link; there it is inline code again, or the sentence and the link break apart."""
    if not extracted or "<pre" not in extracted:
        return extracted
    tree = lxml.html.fragment_fromstring(extracted, create_parent="div")
    for pre in tree.iter("pre"):
        parent = pre.getparent()
        if parent is not None and parent.tag in _INLINE_PARENTS and not pre.findall(".//br") \
                and "\n" not in pre.text_content().strip():
            pre.tag = "code"
    return lxml.html.tostring(tree, encoding="unicode")


def body_candidates(page_html: str, soup: Tag, removed: Counter) -> dict[str, str]:
    """The article body as trafilatura, the theme and readability see it, best first."""
    candidates = {"trafilatura": inline_code_as_code(trafilatura.extract(
        page_html, output_format="html", fast=True, with_metadata=False, include_comments=False,
        include_tables=True, include_formatting=True, include_links=True, include_images=True))}
    container = first(soup, BODY_SELECTORS)
    if container is not None:
        strip_furniture(container, removed, CONTAINER_FURNITURE)
        candidates["theme"] = str(container)
    candidates["readability"] = Document(lxml.html.fromstring(page_html)).summary()
    return candidates


def article_id(source_id: str) -> str:
    return "html-" + hashlib.sha1(source_id.encode()).hexdigest()[:12]


class SavedPagesImport:
    def __init__(self, store: ContentStore):
        self.store = store
        self.report = store.report
        self.slugs = SlugAllocator(store.content_dir, store.recorded_articles(SOURCE))
        self.seen: dict[str, Path] = {}  # source id → the page of this run it came from

    def read(self, path: Path) -> BeautifulSoup | None:
        try:
            size = path.stat().st_size
            if size > MAX_PAGE_BYTES:
                self.report.error(f"{path}: {size:,} bytes is over the limit of "
                                  f"{MAX_PAGE_BYTES:,} for a page; not imported")
                return None
            data = path.read_bytes()
            root = _XML_ROOT.match(data[:4096].removeprefix(codecs.BOM_UTF8))
            root_name = root[1].decode("ascii", "replace").lower() if root else "html"
            if root_name != "html" and root_name in KINDS:
                self.report.error(f"{path}: this file looks like {KINDS[root_name]}; not "
                                  "imported as a saved page")
                return None
            with warnings.catch_warnings():
                # A page that only holds an address is still a page: nothing is fetched.
                warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
                soup = BeautifulSoup(data, "lxml")
                if nesting(soup) > PAGE_NESTING:
                    soup = BeautifulSoup(flattened(str(soup), self.report.removed, PAGE_NESTING), "lxml")
                return soup
        except (OSError, ParserRejectedMarkup, ValueError, RecursionError) as error:
            self.report.error(f"{path}: could not be read as an HTML page ({error}); not imported")
            return None

    def page(self, path: Path) -> None:
        report = self.report
        soup = self.read(path)
        if soup is None:
            return
        page_text = soup.get_text()
        if not page_text.strip():
            report.counts["skipped: pages without article text"] += 1
            report.warn(f"{path}: no text in the page; not imported")
            return
        # The body is part of the page's text: over the limit, the page is refused now
        # rather than after the extractors spent minutes on it.
        check_body_size(page_text)
        canonical = soup.find("link", rel="canonical")
        url = (canonical.get("href") if canonical else "") or meta_content(soup, "og:url")
        comments = self.read_comments(soup, path)
        for area in soup.select(", ".join(COMMENT_AREAS)):
            if not area.decomposed:
                area.decompose()
        date = article_date(soup, url)
        draft = date is None
        if draft:
            date = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.UTC).replace(
                microsecond=0)
        for comment in comments:
            if not comment["date"]:
                # Themes show no date on pingbacks; the article's date keeps the order.
                comment["date"] = utc_iso(date)
                report.warn(f"comment {comment['id'].removeprefix('html-')} on {path}: "
                            f"no date found; used the article's date {utc_iso(date)}")
        title_tag = first(soup, TITLE_SELECTORS)
        title = plain_text(str(title_tag)) if title_tag else plain_text(
            meta_content(soup, "og:title") or (soup.title.string if soup.title else ""))
        author_tag = first(soup, AUTHOR_SELECTORS)
        author_name = plain_text(str(author_tag)) if author_tag else meta_content(soup, "author")
        page_words = words(str(soup.body or soup)).total()
        strip_furniture(soup, report.removed)
        candidates = body_candidates(str(soup), soup, report.removed)
        extractor, agreed = most_agreed(candidates)
        body = BeautifulSoup(candidates.get(extractor, ""), "lxml")
        strip_furniture(body, report.removed)
        heading = body.find(["h1", "h2", "h3"])
        if heading is not None and title and plain_text(str(heading)) == title:
            heading.decompose()
        body_words = words(str(body)).total()
        if not body_words:
            report.counts["skipped: pages without article text"] += 1
            report.warn(f"{path}: no article text found; not imported")
            return
        if body_words < DOUBTFUL_SHARE * page_words or agreed < DOUBTFUL_AGREEMENT:
            report.warn(f"{path}: check the article: it has {body_words} of the page's "
                        f"{page_words} words (found by {extractor}; the other extractors agree "
                        f"{agreed:.0%})")
        if not title:
            title = path.stem.replace("-", " ").replace("_", " ")
            report.warn(f"{path}: no title found; used the file name {title!r}")
        if draft:
            report.counts["articles as draft (no date found)"] += 1
            report.warn(f"{path}: no date found; imported as a draft dated by the file's "
                        f"modification time {utc_iso(date)}: set the date before publishing")
        markdown = article_markdown(str(body.body or body), report.removed, wordpress=False,
                                    base_url=url)
        source_id = self.source_id(path, url, title, None if draft else date)
        key = ContentStore.key(SOURCE, "article", source_id)
        recorded = self.store.recorded_path(key)
        digest = hashlib.sha1(source_id.encode()).hexdigest()[:6]
        slug = dutch_slug(title)
        if not re.search(r"[^\W_]", slug):  # a title of emoji or dashes: "-" or nothing
            slug = f"pagina-{digest}"
        slug = self.slugs.allocate(key, Path(recorded).stem if recorded else slug, digest)
        metadata = {
            "Title": remove_private_data(title, report.removed),
            "Date": utc_iso(date),
            "Slug": slug,
            "Id": article_id(source_id),
            "Author": self.author(author_name) if author_name else "",
            "Summary": markdown_text(remove_private_data(
                plain_text(meta_content(soup, "description", "og:description")), report.removed)),
            "Status": "draft" if draft else "",
        }
        self.store.put(key, f"articles/{date:%Y}/{slug}.md", format_header(metadata, markdown))
        report.counts["articles"] += 1
        for comment in comments:
            comment["source_id"] = source_id + comment["source_id"]
            self.store.put(ContentStore.key(SOURCE, "comment", comment["source_id"]),
                           f"comments/{slug}/{comment['id']}.md",
                           format_header(comment, comment.pop("body")))

    def source_id(self, path: Path, url: str, title: str,
                  date: datetime.datetime | None) -> str:
        """What identifies the page's article on every run: its URL, else its title and date.

        Not the file's name or folder: a mirror names every page ``index.html``, and
        the same pages may be imported from another folder later. Two pages of one run
        that still come out the same (a theme whose canonical link is the home page)
        are kept apart in the order they are read, with a warning.
        """
        source_id = (normalised_url(url) if url else
                     f"{dutch_slug(title)}/{date:%Y-%m-%d}" if date else dutch_slug(title))
        first_path = self.seen.setdefault(source_id, path)
        if first_path != path:
            number = 2
            while f"{source_id}#{number}" in self.seen:
                number += 1
            derived = f"{source_id}#{number}"
            self.seen[derived] = path
            self.report.warn(f"{path}: its URL, or its title and date, are those of "
                             f"{first_path} too; imported as a separate article")
            return derived
        return source_id

    def author(self, raw_name: str) -> str:
        # A meta tag may name the author's site too ("Ans de Vries https://ans.example/").
        name = person_name(_LINK.sub("", raw_name), self.report.removed, fallback="")
        return self.store.put_author(ContentStore.key(SOURCE, "author", dutch_slug(name)), name)

    def read_comments(self, soup: BeautifulSoup, path: Path) -> list[dict]:
        """The page's comments; a comment without a date gets the article's later."""
        comment_list = first(soup, COMMENT_LISTS)
        if comment_list is None:
            return []
        report = self.report
        items = [li for li in comment_list.find_all(["li", "article"])
                 if any(c in ("comment", "pingback", "trackback") for c in li.get("class", []))
                 or (li.get("id") or "").startswith(("comment-", "li-comment-"))]
        item_ids = {id(item) for item in items}
        numbers: dict[int, str] = {}  # id() of an item → the number its comment got
        taken = set()
        found = []
        for item in items:
            number = re.sub(r"^(?:li-)?comment-", "", item.get("id", "")) or None
            # Classic themes put the text straight into the comment's own element.
            content = (item.select_one(COMMENT_CONTENT) or item.find(id=f"comment-{number}")
                       or item)
            author_tag = first(item, COMMENT_AUTHOR)
            link = author_tag.find("a") if author_tag else item.select_one("a.url")
            author = plain_text(str(author_tag or link)) if (author_tag or link) else ""
            time_tag = item.select_one("time, abbr.published")
            meta = item.select_one(COMMENT_DATE)
            date = most_precise([time_tag.get("datetime") or time_tag.get("title"),
                                 time_tag.get_text(" ")] if time_tag else []
                                + [meta.get_text(" ") if meta else ""])
            content = content.__copy__()
            for extra in content.select(COMMENT_EXTRAS):
                extra.decompose()
            heading = comment_heading(content, author)
            if heading is not None:
                # "Anna schreef op 3 maart 2014 om 10:12:" above the text itself.
                date = date or parse_date(heading.get_text(" "))
                heading.decompose()
            text = content.decode_contents()
            number = safe_id(number) if number else hashlib.sha1(text.encode()).hexdigest()[:10]
            if number in taken:
                # A theme or a saved copy that repeats an id: both comments are kept.
                repeated, count = number, 2
                while safe_id(f"{repeated}-{count}") in taken:
                    count += 1
                number = safe_id(f"{repeated}-{count}")
                report.warn(f"comment {repeated} on {path}: the page has this id more than "
                            f"once; imported this one as comment {number}")
            taken.add(number)
            numbers[id(item)] = number
            # By identity: bs4 compares tags by their whole content.
            parent_item = next((tag for tag in item.parents if id(tag) in item_ids), None)
            parent = numbers[id(parent_item)] if parent_item is not None else ""
            classes = item.get("class", [])
            kind = "pingback" if "pingback" in classes else "trackback" if "trackback" in classes else "comment"
            try:
                body = comment_markdown(text, report.removed)
            except BodyTooLarge as error:
                report.error(f"comment {number} on {path}: {error}")
                continue
            found.append({
                "id": f"html-{number}",
                "parent": f"html-{parent}" if parent else "",
                "author": person_name(author, report.removed),
                "author_url": public_url(link.get("href", "") if link else "", report.removed),
                "date": utc_iso(date) if date else "",
                "type": kind,
                "status": "approved",
                "source": SOURCE,
                # The article's source id goes in front once it is known.
                "source_id": f"#comment-{number}",
                "body": body,
            })
            report.counts["comments imported (approved)" if kind == "comment" else f"{kind}s"] += 1
        return found


def nesting(soup: Tag) -> int:
    """How deep the elements of ``soup`` nest."""
    depths = {id(soup): 0}
    for element in soup.descendants:
        if isinstance(element, Tag):
            depths[id(element)] = depths[id(element.parent)] + 1
    return max(depths.values())


def comment_heading(content: Tag, author: str) -> Tag | None:
    """The first block of a comment when it only names the author (and says when)."""
    block = next((child for child in content.children
                  if isinstance(child, Tag) and child.get_text(strip=True)), None)
    if block is not None and block.name not in _HEADING_BLOCKS:
        return None
    if block is None or not author:
        return None
    text = " ".join(block.get_text(" ").split())
    return block if text.startswith(author) and len(text) <= len(author) + 80 and (
        text == author or text.endswith(":") or parse_date(text)) else None


def import_saved_pages(paths: list[Path], content_dir: Path, *, dry_run: bool = False,
                       report_path: Path | None = None) -> tuple[Report, str]:
    """Import saved HTML pages (files or folders) into ``content_dir``."""
    files = page_files(paths)
    report = Report(source="saved HTML pages", input_path=", ".join(map(str, paths)), dry_run=dry_run)
    store = ContentStore(content_dir, report)
    importer = SavedPagesImport(store)
    for path in files:
        try:
            importer.page(path)
        except BodyTooLarge as error:
            report.error(f"{path}: {error}")
        except Exception as error:  # one page that breaks a library must not stop the others
            report.error(f"{path}: could not be imported ({type(error).__name__}: {error}); "
                         "not imported")
    return report, finish(store, report_path)
