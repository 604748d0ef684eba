"""Comments: ``content/comments/<article-slug>/<id>.md`` rendered under the article.

One file per comment: ``Key: value`` lines (id, parent, author, author_url, date,
type, status, source, source_id), a blank line, then a Markdown body. Only
``status: approved`` is published. Pingbacks and trackbacks become "Vermeldingen".
Replies are indented up to ``COMMENTS_MAX_DEPTH`` levels; deeper ones stay at that
level and say whom they answer.

Comment HTML is hostile by default: the Markdown is rendered and then cleaned with
an nh3 allow-list at every build, so a hand-edited file cannot inject anything
either. Email and IP addresses are never published; a file that carries one is an
error.
"""

import datetime
import logging
import os
from collections import defaultdict
from dataclasses import dataclass

import markdown
import nh3
from pelican import signals
from pelican.utils import get_date

from plugin_settings import apply_defaults

logger = logging.getLogger(__name__)

DEFAULTS = {
    # Folder under PATH with one folder of comment files per article slug.
    "COMMENTS_PATH": "comments",
    # Replies deeper than this are shown at this level, with "reactie op <naam>".
    "COMMENTS_MAX_DEPTH": 4,
    # Where "Reageer" sends a reaction until the service takes them; empty: SITE_CONTACT's.
    "COMMENTS_MAILTO": "",
}
ALLOWED_TAGS = {"p", "br", "a", "em", "strong", "blockquote", "code", "pre", "ul", "ol", "li"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}
FIELDS = {"id", "parent", "author", "author_url", "date", "type", "status", "source",
          "source_id", "author_hash"}
TYPES = ("comment", "pingback", "trackback")
STATUSES = ("approved", "pending", "spam")
PRIVATE_FIELDS = {"email", "author_email", "ip", "author_ip"}


@dataclass
class Comment:
    id: str
    parent: str
    author: str
    author_url: str
    date: datetime.datetime
    type: str
    html: str
    depth: int = 1
    reply_to: str = ""

    @property
    def anchor(self) -> str:
        return f"reactie-{self.id}"


def set_defaults(pelican):
    apply_defaults(pelican.settings, "COMMENTS_", DEFAULTS)


def sanitise(html: str) -> str:
    """Keep only the allow-listed tags, attributes and URL schemes."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=URL_SCHEMES, link_rel="nofollow ugc noopener")


def render_body(text: str) -> str:
    # nl2br: a single newline in a comment is a line break, as it was in WordPress.
    return sanitise(markdown.markdown(text, extensions=["nl2br"], output_format="html"))


def parse_comment_file(path: str) -> dict | None:
    """The fields and body of one comment file; None, with an error, if it is unusable."""
    with open(path, encoding="utf-8") as handle:
        head, _, body = handle.read().partition("\n\n")
    fields = {}
    shown = os.path.relpath(path)
    for number, line in enumerate(head.splitlines(), start=1):
        key, separator, value = line.partition(":")
        key = key.strip().lower()
        if not separator:
            logger.error("%s, line %d: expected 'Key: value', got %r", shown, number, line)
            return None
        if key in PRIVATE_FIELDS:
            logger.error("%s, line %d: field %r holds personal data, which is never "
                         "published; remove the line", shown, number, key)
            return None
        if key not in FIELDS:
            logger.error("%s, line %d: unknown field %r; known: %s", shown, number, key,
                         ", ".join(sorted(FIELDS)))
            return None
        fields[key] = value.strip()
    for required in ("id", "author", "date"):
        if not fields.get(required):
            logger.error("%s: field %r is missing", shown, required)
            return None
    try:
        fields["date"] = get_date(fields["date"])
    except ValueError:
        logger.error("%s: field 'date' is %r; expected ISO 8601, e.g. 2017-06-29T14:05:00Z",
                     shown, fields["date"])
        return None
    url = fields.get("author_url", "")
    if url and not url.lower().startswith(("https://", "http://")):
        logger.warning("%s: field 'author_url' is %r; only http(s) links are published, "
                       "so it is left out", shown, url)
        fields["author_url"] = ""
    fields.setdefault("type", "comment")
    fields.setdefault("status", "approved")
    for key, allowed in (("type", TYPES), ("status", STATUSES)):
        if fields[key] not in allowed:
            logger.error("%s: field %r is %r; expected one of %s", shown, key, fields[key],
                         ", ".join(allowed))
            return None
    fields["body"] = body
    return fields


def thread(records: list[dict], max_depth: int) -> list[Comment]:
    """Approved comments in reading order, each with its depth and whom it answers."""
    by_id = {r["id"]: r for r in records}
    children = defaultdict(list)
    for record in records:
        parent = record.get("parent", "")
        children[parent if parent in by_id else ""].append(record)
    ordered = []

    def visit(record, depth, parent_author):
        ordered.append(Comment(
            id=record["id"], parent=record.get("parent", ""), author=record["author"],
            author_url=record.get("author_url", ""), date=record["date"], type=record["type"],
            html=render_body(record["body"]), depth=min(depth, max_depth),
            reply_to=parent_author if depth > max_depth else "",
        ))
        for child in sorted(children[record["id"]], key=lambda r: (r["date"], r["id"])):
            visit(child, depth + 1, record["author"])

    for root in sorted(children[""], key=lambda r: (r["date"], r["id"])):
        visit(root, 1, "")
    return ordered


def load_comments(article, settings) -> None:
    folder = os.path.join(settings["PATH"], settings["COMMENTS_PATH"], article.slug)
    records = []
    if os.path.isdir(folder):
        for name in sorted(os.listdir(folder)):
            if name.endswith(".md"):
                record = parse_comment_file(os.path.join(folder, name))
                if record and record["status"] == "approved":
                    records.append(record)
    mode = getattr(article, "comments", "open")
    discussion = [r for r in records if r["type"] == "comment"]
    mentions = [r for r in records if r["type"] != "comment"]
    article.comments_mode = mode
    article.comment_list = thread(discussion, settings["COMMENTS_MAX_DEPTH"]) if mode != "hidden" else []
    article.comment_count = len(article.comment_list)
    article.mentions = thread(mentions, 1) if mode != "hidden" else []


def attach_comments(generator):
    settings = generator.settings
    for article in list(generator.articles) + list(generator.hidden_articles) + list(generator.drafts):
        load_comments(article, settings)


def register():
    signals.initialized.connect(set_defaults)
    signals.article_generator_finalized.connect(attach_comments)
