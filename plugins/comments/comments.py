"""Comments: ``content/comments/<article-slug>/<id>.md`` rendered under the article.

One file per comment: ``Key: value`` lines (id, parent, author, author_url, date,
type, status, source, source_id), a blank line, then a Markdown body. Only
``status: approved`` is published. Pingbacks and trackbacks become "Vermeldingen".
Replies are indented up to ``COMMENTS_MAX_DEPTH`` levels; deeper ones stay at that
level and say whom they answer.

Comment files are untrusted input: they come from imports and, later, from a
public form. Each file is checked on its own. A bad one is left out with one error
that names the file, the field and what was expected, and the build goes on
(``make publish`` then stops, ``make serve`` keeps rebuilding). Threads are checked
as a whole: two files with one id, a reply to itself and a cycle of replies are
errors too, but those comments are still shown, at the top level, so none is lost.
Threading walks the replies with a stack, so a chain of any depth is safe.

The body is rendered and then cleaned with the shared allow-list at every build,
so a hand-edited file cannot inject anything either; a body that Markdown cannot
render (lists nested hundreds deep) is an error, and that comment is left out.
Email and IP addresses are never published: a file with an ``email`` or ``ip``
field is an error, and an address in the body is replaced.
"""

import dataclasses
import datetime
import difflib
import logging
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import markdown
from markupsafe import Markup, escape
from pelican import signals

from adviesblog_common.headers import split_header
from adviesblog_common.links import inner_html, parse_fragment
from adviesblog_common.sanitize import (
    FORBIDDEN_CHARACTERS,
    SAFE_ID,
    clean_user_html,
    has_private_data,
    remove_private_data,
)
from adviesblog_common.settings import apply_defaults

from . import reactions

logger = logging.getLogger(__name__)

DEFAULTS = {
    # Folder under PATH with one folder of comment files per article slug.
    "COMMENTS_PATH": "comments",
    # Replies deeper than this are shown at this level, with "reactie op <naam>".
    "COMMENTS_MAX_DEPTH": 4,
    # Where "Reageer" sends a reaction when REACTIONS_ENDPOINT is empty; empty: SITE_CONTACT's.
    "COMMENTS_MAILTO": "",
}
FIELDS = {"id", "parent", "author", "author_url", "date", "type", "status", "source",
          "source_id", "author_hash"}
REQUIRED = ("id", "author", "date")
TYPES = ("comment", "pingback", "trackback")
STATUSES = ("approved", "pending", "spam")
PRIVATE_FIELDS = {"email", "author_email", "ip", "author_ip"}
MODES = ("open", "closed", "hidden")
MAX_NAME_LENGTH = 200
ONE_LINE_BREAKERS = re.compile(r"[\t\r]")
ID_EXPECTED = "1 to 64 letters, digits, '-' or '_', e.g. 'wxr-1234'"


class CommentFileError(ValueError):
    """What is wrong with one comment file, worded for the person who fixes it."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line

    def where(self, path: str) -> str:
        return f"{path}, line {self.line}" if self.line else path


@dataclass
class Comment:
    """One valid comment file; threading fills in its place and its HTML."""

    path: str
    id: str
    parent: str
    author: str
    author_url: str
    date: datetime.datetime
    type: str
    status: str
    body: str
    html: Markup = Markup("")
    depth: int = 1
    reply_to: str = ""

    @property
    def anchor(self) -> str:
        return f"reactie-{self.id}"


def set_defaults(pelican):
    apply_defaults(pelican.settings, "COMMENTS_", DEFAULTS)


def check_mode(value, settings=None) -> str | None:
    """The article's ``Comments`` field: what is wrong with it, or None."""
    return None if value in MODES else f"expected one of {', '.join(MODES)}"


# The article fields this plugin reads, for the content checks: name -> check(value, settings).
METADATA_FIELDS = {"comments": check_mode}


def render_body(text: str) -> Markup:
    """The body as HTML that only holds what the allow-list allows; raises CommentFileError."""
    try:
        # nl2br: a single newline in a comment is a line break, as it was in WordPress.
        html = markdown.markdown(text, extensions=["nl2br"], output_format="html")
    except RecursionError as error:
        # Python-Markdown parses a list inside a list by recursion: "+ + + …" a few
        # hundred levels deep exhausts Python's stack.
        raise CommentFileError("the body nests lists or quotes too deeply to be rendered; "
                               "expected at most a few levels") from error
    html = without_addresses(clean_user_html(html))
    return Markup(html)  # nh3 made it safe: the one place comment HTML is marked so


def without_addresses(html: str) -> str:
    """``html`` without an email or IP address in what the reader sees.

    The source was already filtered, but an address can be written so that it only
    appears once rendered: ``jan&#64;voorbeeld.nl``, ``jan@voorbeeld\\.nl``, or split
    by an element. The rendered text is checked; if an address is still there after
    each text is filtered, the body is shown as plain text, filtered as a whole.
    """
    if not html or not has_private_data(Markup(html).striptags()):
        return html
    root = parse_fragment(html)
    for element in root.iter():
        element.text = remove_private_data(element.text) if element.text else element.text
        if element is not root and element.tail:
            element.tail = remove_private_data(element.tail)
    if has_private_data(root.text_content()):
        return f"<p>{escape(remove_private_data(root.text_content()))}</p>"
    return inner_html(root)


def rendered(records: list[Comment]) -> list[Comment]:
    """Each comment with its body as HTML; one that cannot be rendered is left out."""
    shown = []
    for record in records:
        try:
            shown.append(dataclasses.replace(record, html=render_body(record.body)))
        except CommentFileError as error:
            logger.error("%s: %s; the comment is left out", record.path, error)
    return shown


# No comment on the web is older, and a year near 9999 cannot be shown in any time zone.
YEARS = range(1970, 3000)


def parse_date(value: str) -> datetime.datetime:
    """An ISO 8601 moment in UTC; a date without a zone is taken to be UTC."""
    try:
        moment = datetime.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
        moment = moment.astimezone(datetime.UTC)
        if moment.year not in YEARS:
            raise ValueError(f"the year is not between {YEARS.start} and {YEARS.stop - 1}")
        return moment
    except (ValueError, OverflowError) as error:
        raise CommentFileError(
            f"field 'date' is {value!r} ({error}); expected ISO 8601, "
            "e.g. 2017-06-29T14:05:00Z") from error


def _text_field(fields: dict, key: str) -> str:
    value = fields.get(key, "")
    # Nor a tab or a carriage return: a name or a link is one line of plain text.
    found = FORBIDDEN_CHARACTERS.search(value) or ONE_LINE_BREAKERS.search(value)
    if found:
        raise CommentFileError(f"field {key!r} holds a control character "
                               f"(U+{ord(found.group()):04X}); expected plain text")
    return value


def parse_comment(path: str, data: bytes) -> Comment:
    """One comment file, checked field by field; raises CommentFileError."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CommentFileError(
            f"byte {data[error.start]:#04x} at position {error.start} is not UTF-8; "
            "save the file as UTF-8") from error
    header, body = split_header(text.removeprefix("\ufeff"))
    if header.malformed:
        number, line = header.malformed[0]
        raise CommentFileError(f"expected 'key: value', got {line!r}", number)
    if header.repeated:
        number, key = header.repeated[0]
        raise CommentFileError(f"field {key!r} is given twice; keep one", number)
    fields = header.fields
    for key in fields:
        if key in PRIVATE_FIELDS:
            raise CommentFileError(f"field {key!r} holds personal data, which is never "
                                   "published; remove the line", header.lines[key])
        if key not in FIELDS:
            raise CommentFileError(f"unknown field {key!r}; known: {', '.join(sorted(FIELDS))}",
                                   header.lines[key])
    for key in REQUIRED:
        if not fields.get(key):
            raise CommentFileError(f"field {key!r} is missing")
    for key in ("id", "parent"):
        if fields.get(key) and not SAFE_ID.fullmatch(fields[key]):
            raise CommentFileError(f"field {key!r} is {fields[key]!r}; expected {ID_EXPECTED}")
    author = _text_field(fields, "author")
    if len(author) > MAX_NAME_LENGTH:
        raise CommentFileError(f"field 'author' is {len(author)} characters long; expected at "
                               f"most {MAX_NAME_LENGTH}")
    url = _text_field(fields, "author_url")
    if url and not url.lower().startswith(("https://", "http://")):
        logger.warning("%s: field 'author_url' is %r; only http(s) links are published, "
                       "so it is left out", path, url)
        url = ""
    elif has_private_data(url):
        logger.warning("%s: field 'author_url' holds an email or IP address, which is "
                       "never published, so it is left out", path)
        url = ""
    kind, status = fields.get("type", "comment"), fields.get("status", "approved")
    for key, value, allowed in (("type", kind, TYPES), ("status", status, STATUSES)):
        if value not in allowed:
            raise CommentFileError(f"field {key!r} is {value!r}; expected one of "
                                   f"{', '.join(allowed)}")
    removed = Counter()
    body = remove_private_data(body, removed)
    if removed.total():
        logger.warning("%s: the body holds %s, which is not published; the site shows "
                       "'[e-mailadres verwijderd]' or '[IP-adres verwijderd]' instead", path,
                       " and ".join(f"{what} ({n})" for what, n in sorted(removed.items()) if n))
    return Comment(path=path, id=fields["id"], parent=fields.get("parent", ""),
                   author=remove_private_data(author), author_url=url,
                   date=parse_date(fields["date"]), type=kind, status=status, body=body)


def read_comment_folder(folder: str) -> list[Comment]:
    """Every valid comment file in ``folder``; each bad one is reported and left out."""
    records = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".md"):
            continue
        path = os.path.join(folder, name)
        shown = os.path.relpath(path)
        if os.path.islink(path) or not os.path.isfile(path):
            # A link may lead out of content/, and a pipe would never end the read.
            logger.error("%s: is not a plain file; the comment is left out", shown)
            continue
        try:
            with open(path, "rb") as handle:
                records.append(parse_comment(shown, handle.read()))
        except CommentFileError as error:
            logger.error("%s: %s; the comment is left out", error.where(shown), error)
        except OSError as error:
            logger.error("%s: cannot be read (%s); the comment is left out", shown,
                         error.strerror)
    return records


def unique_ids(records: list[Comment]) -> list[Comment]:
    """The records with distinct ids; a second file with an id is reported and left out."""
    first = {}
    for record in records:
        if record.id in first:
            logger.error("%s: field 'id' is %r, which %s uses too; give each comment its own id; "
                         "the comment is left out", record.path, record.id, first[record.id].path)
        else:
            first[record.id] = record
    return list(first.values())


def thread_parents(records: list[Comment]) -> dict[str, str]:
    """Each record's parent in the thread, or "" for the top level.

    A reply to a comment that is not shown (pending, spam, removed) moves to the top
    level. A reply to itself, and every comment in a cycle of replies, is reported
    and moves there too, so that no comment is lost.
    """
    by_id = {record.id: record for record in records}
    parent = {}
    for record in records:
        if record.parent == record.id:
            logger.error("%s: field 'parent' is its own id %r; expected the id of the comment "
                         "it answers, or no parent; shown at the top level",
                         record.path, record.id)
            parent[record.id] = ""
        else:
            parent[record.id] = record.parent if record.parent in by_id else ""
    done = set()
    for start in parent:
        path, position = [], {}
        node = start
        while node and node not in done and node not in position:
            position[node] = len(path)
            path.append(node)
            node = parent[node]
        if node and node in position:
            cycle = path[position[node]:]
            files = ", ".join(by_id[member].path for member in cycle)
            for member in cycle:
                logger.error("%s: field 'parent' makes a cycle of replies (%s); expected each "
                             "reply to answer an earlier comment; shown at the top level",
                             by_id[member].path, files)
                parent[member] = ""
        done.update(path)
    return parent


def thread(records: list[Comment], max_depth: int) -> list[Comment]:
    """Comments in reading order, each with its depth and whom it answers."""
    parent = thread_parents(records)
    children = defaultdict(list)
    for record in records:
        children[parent[record.id]].append(record)
    for siblings in children.values():
        siblings.sort(key=lambda r: (r.date, r.id), reverse=True)
    ordered = []
    # (record, depth, the author it answers): a stack, newest sibling at the bottom.
    stack = [(record, 1, "") for record in children[""]]
    while stack:
        record, depth, parent_author = stack.pop()
        ordered.append(dataclasses.replace(
            record, depth=min(depth, max_depth),
            reply_to=parent_author if depth > max_depth else ""))
        stack.extend((child, depth + 1, record.author) for child in children[record.id])
    return ordered


def report_missing_parents(records: list[Comment]) -> None:
    """A ``parent`` that names no comment at all is likely a typo: say so."""
    ids = {record.id for record in records}
    for record in records:
        if record.parent and record.parent not in ids:
            logger.warning("%s: field 'parent' is %r, which no comment of this article has; "
                           "shown as a reply to the article", record.path, record.parent)


def load_comments(article, settings) -> None:
    folder = os.path.join(settings["PATH"], settings["COMMENTS_PATH"], article.slug)
    records = unique_ids(read_comment_folder(folder)) if os.path.isdir(folder) else []
    report_missing_parents(records)
    # Shown in the site's time zone, as the articles' dates are.
    site_zone = ZoneInfo(settings["TIMEZONE"])
    approved = [dataclasses.replace(r, date=r.date.astimezone(site_zone))
                for r in records if r.status == "approved"]
    mode = getattr(article, "comments", "open")
    article.comments_mode = mode
    if mode == "hidden":
        article.comment_list, article.mentions = [], []
    else:
        # Only shown comments are rendered; a reply to one that cannot be moves up.
        comments = rendered([r for r in approved if r.type == "comment"])
        article.comment_list = thread(comments, settings["COMMENTS_MAX_DEPTH"])
        # A mention shows who mentioned the article, never a body.
        article.mentions = thread([r for r in approved if r.type != "comment"], 1)
    article.comment_count = len(article.comment_list)


def report_orphan_folders(settings, slugs: set[str]) -> None:
    """A folder of comments that no article has the slug of: its comments show nowhere."""
    root = os.path.join(settings["PATH"], settings["COMMENTS_PATH"])
    folders = sorted(os.listdir(root)) if os.path.isdir(root) else []
    for name in folders:
        if name in slugs or not os.path.isdir(os.path.join(root, name)):
            continue
        close = difflib.get_close_matches(name, slugs, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        logger.error("%s: no article has the slug %r, so these comments are shown nowhere%s",
                     os.path.relpath(os.path.join(root, name)), name, hint)


def attach_comments(generator):
    settings = generator.settings
    articles = (list(generator.articles) + list(generator.hidden_articles)
                + list(generator.drafts))
    for article in articles:
        load_comments(article, settings)
    report_orphan_folders(settings, {article.slug for article in articles})


def register():
    signals.initialized.connect(set_defaults)
    signals.initialized.connect(reactions.set_defaults)
    signals.generator_init.connect(reactions.add_template_helpers)
    signals.get_generators.connect(reactions.get_generators)
    signals.article_generator_finalized.connect(attach_comments)
