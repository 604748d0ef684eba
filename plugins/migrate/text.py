"""Turning hostile, old HTML into clean Markdown, shared by every importer.

Every imported string passes through here: mojibake is repaired (ftfy), the HTML is
cut down to an allow-list (nh3), email and IP addresses are removed, and what is
left is converted to Markdown (markdownify). The order matters: sanitising before
converting means a ``javascript:`` link or an ``onerror`` attribute never reaches
the Markdown, and escaping ``<`` and ``&`` in text means that text which *shows*
markup in the old site cannot *become* markup in the new one.
"""

import html
import re
from collections import Counter

import ftfy
import lxml.html
import markdown
import nh3
from markdownify import MarkdownConverter

from adviesblog_common.sanitize import (
    EMAIL_PLACEHOLDER,
    IP_PLACEHOLDER,
    clean_user_html,
    has_private_data,
    remove_private_data,
)

# Encoding repairs only: ftfy's other fixes (straight quotes, unescaped entities)
# would change what the author wrote, and unescaping HTML would turn &lt;script&gt;
# in a comment into a real tag.
_ENCODING_FIXES = ftfy.TextFixerConfig(
    unescape_html=False, uncurl_quotes=False, fix_latin_ligatures=False,
    fix_character_width=False,
)

ARTICLE_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "cite", "code", "dd", "del", "dl", "dt", "em",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
    "li", "ol", "p", "pre", "q", "s", "strong", "sub", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "u", "ul",
}
ARTICLE_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}
IMPORT_URL_SCHEMES = {"http", "https"}

# The largest body (post, page or comment) an importer converts, in characters. A
# real post is far below it; a bigger one is refused by name rather than holding
# the import for minutes and gigabytes.
MAX_BODY_CHARACTERS = 2_000_000


class BodyTooLarge(ValueError):
    """A body over MAX_BODY_CHARACTERS; the importer names the post and goes on."""

    def __init__(self, size: int):
        super().__init__(f"body of {size:,} characters is over the limit of "
                         f"{MAX_BODY_CHARACTERS:,}; not imported")
        self.size = size


def check_body_size(content: str) -> None:
    if len(content) > MAX_BODY_CHARACTERS:
        raise BodyTooLarge(len(content))


_BLOCK_COMMENT = re.compile(r"<!--\s*/?wp:.*?-->", re.DOTALL)
# Shortcodes WordPress core and common plugins register. Prose such as "[sic]" or
# "[1]" is left alone: only these names are treated as shortcodes.
SHORTCODES = (
    "audio", "caption", "contact-field", "contact-form", "contact-form-7", "embed",
    "gallery", "googlemaps", "gravityform", "instagram", "jetpack_subscription_form",
    "mc4wp_form", "ninja_form", "playlist", "soundcloud", "tweet", "twitter", "video",
    "vimeo", "wp_caption", "wpforms", "youtube",
)
SHORTCODE_FAMILIES = ("av_", "et_pb_", "fusion_", "su_", "vc_")
# Enclosing shortcodes whose inner content is the author's (a caption's image and
# text, an embed's URL); every other shortcode is removed with what it encloses.
KEEP_INNER = {"caption", "wp_caption", "embed"}
# Longest first, so that "contact-form-7" is not read as "contact-form".
_SHORTCODE_NAME = "|".join(re.escape(name) for name in sorted(SHORTCODES, key=len, reverse=True)) + "|" + "|".join(
    rf"{re.escape(prefix)}[\w-]+" for prefix in SHORTCODE_FAMILIES)
_ENCLOSING = re.compile(rf"\[(?P<name>{_SHORTCODE_NAME})\b[^\]]*\](?P<inner>.*?)\[/(?P=name)\]",
                        re.DOTALL)
_SINGLE = re.compile(rf"\[/?(?P<name>{_SHORTCODE_NAME})\b[^\]]*\]")
_EMPTY_PARAGRAPH = re.compile(r"<p(?:\s[^>]*)?>(?:\s|&nbsp;|&#160;|\xa0|<br\s*/?>)*</p>", re.I)
_BLOCK_START = re.compile(
    r"^\s*<(?:p|div|h[1-6]|ul|ol|li|blockquote|pre|table|figure|hr|dl|address|form|section)\b",
    re.I)
_HAS_PARAGRAPHS = re.compile(r"<p[\s>]", re.I)
_HEADING = re.compile(r"<h([1-6])[\s>]", re.I)
_HEADING_TAG = re.compile(r"<(/?)h([1-6])(?=[\s>])", re.I)


def repair(text: str | None) -> str:
    """``text`` with broken encodings repaired ("Iâ€™ve" → "I’ve"); nothing else changed."""
    return ftfy.fix_text(text, config=_ENCODING_FIXES) if text else ""


def single_line(text: str) -> str:
    """Whitespace collapsed, for metadata values that must fit on one line."""
    return " ".join(text.split())


def plain_text(markup: str) -> str:
    """The visible text of an HTML fragment on one line (titles, summaries, names)."""
    cleaned = nh3.clean(repair(markup), tags=set())
    return single_line(html.unescape(cleaned))


def strip_wordpress_markup(content: str, removed: Counter) -> str:
    """Block-editor comments and shortcodes out; what the author wrote stays."""
    content = _BLOCK_COMMENT.sub("", content)

    def enclosing(match):
        name = match["name"]
        removed[f"shortcode [{name}]"] += 1
        if name not in KEEP_INNER:
            return ""
        inner = match["inner"].strip()
        if name == "embed" and re.fullmatch(r"https?://\S+", inner):
            return f'<p><a href="{html.escape(inner)}">{html.escape(inner)}</a></p>'
        return inner

    def single(match):
        removed[f"shortcode [{match['name']}]"] += 1
        return ""

    content = _ENCLOSING.sub(enclosing, content)
    return _SINGLE.sub(single, content)


def autop(text: str) -> str:
    """WordPress's display rule for text without paragraph tags.

    A blank line starts a paragraph and a single newline is a line break, as
    WordPress's ``wpautop`` shows classic posts and every comment.
    """
    if _HAS_PARAGRAPHS.search(text):
        return text
    blocks = []
    for chunk in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        if not chunk.strip():
            continue
        if _BLOCK_START.match(chunk):
            blocks.append(chunk)
        else:
            blocks.append("<p>" + "<br>".join(line.strip() for line in chunk.split("\n")) + "</p>")
    return "\n".join(blocks)


class _Converter(MarkdownConverter):
    """markdownify, with text that cannot turn into HTML or a line break of our choice."""

    def __init__(self, line_break: str, **options):
        super().__init__(heading_style="ATX", bullets="-", escape_misc=False, **options)
        self.line_break = line_break

    def escape(self, text, parent_tags):
        # Python-Markdown passes raw HTML and entities through and turns "[x](url)"
        # into a link; escaping them keeps "&lt;script&gt;" or a written-out
        # "[klik](javascript:…)" in an old text as text.
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace("[", "\\[")
        return super().escape(text, parent_tags)

    def convert_br(self, el, text, parent_tags):
        if "_inline" in parent_tags:
            return text + " " if text else " "
        return self.line_break + text


_ARTICLE_CONVERTER = _Converter(line_break="  \n")
# Comment bodies are rendered with nl2br: a single newline is a line break there.
_COMMENT_CONVERTER = _Converter(line_break="\n")


def _to_markdown(converter: _Converter, cleaned_html: str) -> str:
    markdown = converter.convert(cleaned_html)
    return re.sub(r"\n{3,}", "\n\n", markdown).strip() + "\n"


def normalise_headings(html_text: str) -> str:
    """Body headings from h2 down, without gaps: the page's title is the only h1.

    Old posts often start at h1 or h3, or jump from h2 to h4; screen-reader users
    navigate by these levels, so the distinct levels are renumbered 2, 3, 4…
    """
    levels = sorted({int(level) for level in _HEADING.findall(html_text)})
    new_level = {level: min(2 + rank, 6) for rank, level in enumerate(levels)}
    if all(new_level[level] == level for level in levels):
        return html_text
    return _HEADING_TAG.sub(lambda m: f"<{m[1]}h{new_level[int(m[2])]}", html_text)


def article_markdown(content: str, removed: Counter, *, wordpress: bool = True) -> str:
    """An old article's HTML as safe Markdown; BodyTooLarge over the limit."""
    check_body_size(content)
    content = repair(content)
    if wordpress:
        is_block_content = "<!-- wp:" in content
        content = strip_wordpress_markup(content, removed)
        if not is_block_content:
            content = autop(content)
    cleaned = nh3.clean(content, tags=ARTICLE_TAGS, attributes=ARTICLE_ATTRIBUTES,
                        url_schemes=IMPORT_URL_SCHEMES, link_rel=None)
    cleaned = normalise_headings(_EMPTY_PARAGRAPH.sub("", remove_private_data(cleaned, removed)))
    converted = _to_markdown(_ARTICLE_CONVERTER, cleaned)
    if renders_within_allow_list(converted):
        return converted
    # The conversion can be broken out of (a ``` line in a code block, a bracket in
    # alt text or a link): the build trusts an article body, so keep the cleaned HTML
    # itself, which Markdown passes through as it is.
    removed["bodies kept as cleaned HTML"] += 1
    return cleaned.strip() + "\n"


# What Markdown may make of an imported body: the allow-list plus the tags and the
# heading ids that Markdown itself writes.
_RENDERED_TAGS = ARTICLE_TAGS | {"div"}
_RENDERED_ATTRIBUTES = {"href", "src", "alt", "title", "id"}


def renders_within_allow_list(markdown_text: str) -> bool:
    """Whether the build would render ``markdown_text`` to allow-listed HTML only."""
    rendered = markdown.markdown(markdown_text, extensions=["extra"], output_format="html")
    if not rendered.strip():
        return True
    for element in lxml.html.fragment_fromstring(rendered, create_parent="div").iter():
        if not isinstance(element.tag, str):
            return False  # a comment or processing instruction came from the source
        if element.tag not in _RENDERED_TAGS or set(element.attrib) - _RENDERED_ATTRIBUTES:
            return False
        for attribute in ("href", "src"):
            url = "".join(element.get(attribute, "").split()).lower()
            if ":" in url.split("/", 1)[0] and not url.startswith(("http:", "https:")):
                return False
    return True


def markdown_text(text: str) -> str:
    """Plain text for a field Pelican renders as Markdown (Summary): it stays text.

    An excerpt that *showed* ``<img onerror=…>`` or ``*sterren*`` must not become
    an element or emphasis.
    """
    return _ARTICLE_CONVERTER.escape(text, set()) if text else ""


def comment_markdown(content: str, removed: Counter) -> str:
    """An old comment's text or HTML as safe Markdown (single newline = line break)."""
    check_body_size(content)
    cleaned = clean_user_html(autop(repair(content)), link_rel=None)
    cleaned = _EMPTY_PARAGRAPH.sub("", remove_private_data(cleaned, removed))
    return _to_markdown(_COMMENT_CONVERTER, cleaned)


def person_name(raw: str, removed: Counter, fallback: str = "Anoniem") -> str:
    """A commenter's or author's display name, without an address in it."""
    name = remove_private_data(plain_text(raw), removed)
    for placeholder in (EMAIL_PLACEHOLDER, IP_PLACEHOLDER):
        name = name.replace(placeholder, "")
    return single_line(name.strip(" -<>()")) or fallback


def public_url(raw: str, removed: Counter) -> str:
    """An http(s) link that holds no address, or ""."""
    url = repair(raw).strip()
    if not url.lower().startswith(("http://", "https://")) or any(c.isspace() for c in url):
        return ""
    if has_private_data(url):
        remove_private_data(url, removed)
        return ""
    return url


def image_urls(markdown_text: str) -> list[str]:
    """Every remote image a converted body shows, in order."""
    return re.findall(r"!\[[^\]]*\]\((https?://[^)\s]+)", markdown_text)
