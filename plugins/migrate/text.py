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
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlsplit

import ftfy
import lxml.etree
import lxml.html
import markdown
import nh3
from markdownify import MarkdownConverter, abstract_inline_conversion

from adviesblog_common.sanitize import (
    EMAIL_PLACEHOLDER,
    FORBIDDEN_CHARACTERS,
    IP_PLACEHOLDER,
    USER_TAGS,
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
# An <ol>'s start is kept, so that a list continued after a paragraph keeps its numbers.
ARTICLE_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
IMPORT_URL_SCHEMES = {"http", "https"}


def is_web_url(url: str) -> bool:
    try:
        return urlsplit(url.strip()).scheme.lower() in IMPORT_URL_SCHEMES
    except ValueError:  # "http://[": not a URL
        return False

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
_ENCLOSING = re.compile(
    rf"\[(?P<name>{_SHORTCODE_NAME})\b(?P<attributes>[^\]]*)\](?P<inner>.*?)\[/(?P=name)\]", re.DOTALL)
_SINGLE = re.compile(rf"\[(?P<end>/?)(?P<name>{_SHORTCODE_NAME})\b(?P<attributes>[^\]]*)\]")
_SHORTCODE_ATTRIBUTE = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+))""")
# The attributes [audio] and [video] name their file with, besides src.
_MEDIA_SOURCES = ("src", "mp3", "m4a", "ogg", "oga", "wav", "wma", "mp4", "m4v", "webm", "ogv",
                  "wmv", "flv", "mov")
# A block-editor footnote reference: <sup data-fn="<id>" class="fn"><a …>1</a></sup>.
_FOOTNOTE_REFERENCE = re.compile(r"""<sup\b[^>]*\bdata-fn=["']([^"']+)["'][^>]*>.*?</sup>""",
                                 re.DOTALL | re.I)
_EMPTY_PARAGRAPH = re.compile(r"<p(?:\s[^>]*)?>(?:\s|&nbsp;|&#160;|\xa0|<br\s*/?>)*</p>", re.I)
# A list without items shows nothing; left in, it would count as a list next to another.
_EMPTY_LIST = re.compile(r"<([ou]l)(?:\s[^>]*)?>\s*</\1>")
_HEADING = re.compile(r"<h([1-6])[\s>]", re.I)
_HEADING_TAG = re.compile(r"<(/?)h([1-6])(?=[\s>])", re.I)

# How deep elements may nest in an imported body. Real posts stay well below it (a link
# in a list in a table cell is 7 deep). Deeper elements are unwrapped and their text
# kept, so that converting the body, and rendering it at every build, works in
# bounded recursion; the report counts them as NESTING_FLATTENED.
MAX_NESTING = 32
NESTING_FLATTENED = f"elements nested over {MAX_NESTING} deep (flattened, text kept)"

# Where a browser starts a new block of text: WordPress's list for wpautop, with
# HTML5's main and the old center.
BLOCK_TAGS = frozenset({
    "address", "area", "article", "aside", "blockquote", "caption", "center", "col",
    "colgroup", "dd", "details", "div", "dl", "dt", "fieldset", "figcaption", "figure",
    "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "li",
    "main", "map", "menu", "nav", "ol", "p", "pre", "section", "style", "summary", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})
# Blocks that hold blocks, not text: whitespace in them is layout.
_STRUCTURE_TAGS = frozenset({"area", "col", "colgroup", "dl", "hr", "map", "menu", "ol",
                             "table", "tbody", "tfoot", "thead", "tr", "ul"})
# Text that is shown as it stands, or not at all: no paragraphs are made in it.
_VERBATIM_TAGS = frozenset({"math", "pre", "script", "style", "svg", "textarea", "xmp"})
# Kept blocks that may hold paragraphs in the Markdown.
_PARAGRAPH_HOLDERS = frozenset({"blockquote", "dd", "figure", "li", "td", "th"})
# A browser hides what these enclose. Without an end tag, "<script>" in a title is an
# old export's "&lt;script&gt;", decoded once by the XML parser: text, not a tag that
# would hide the rest of the title.
_HIDING_TAGS = ("iframe", "noembed", "noframes", "noscript", "plaintext", "script", "style",
                "textarea", "title", "xmp")
_VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                        "meta", "source", "track", "wbr"})
_SPACES = re.compile(r"[ \t]{2,}")
_NEWLINES = re.compile(r"([ \t]*\n[ \t\n]*)")
# A line break in a run of inline content, while it is cut into paragraphs.
_BREAK = "\n<br>\n"


def repair(text: str | None) -> str:
    """``text`` with broken encodings repaired ("Iâ€™ve" → "I’ve"); nothing else changed."""
    return ftfy.fix_text(text, config=_ENCODING_FIXES) if text else ""


def single_line(text: str) -> str:
    """Whitespace collapsed, for metadata values that must fit on one line."""
    return " ".join(text.split())


def plain_text(markup: str) -> str:
    """The visible text of an HTML fragment on one line (titles, summaries, names)."""
    markup = repair(markup)
    lowered = markup.lower()
    for tag in _HIDING_TAGS:
        if lowered.count(f"<{tag}") > lowered.count(f"</{tag}"):
            markup = re.sub(f"<(?={tag})", "&lt;", markup, flags=re.I)
    if lowered.count("<!--") > lowered.count("-->"):
        markup = markup.replace("<!--", "&lt;!--")
    cleaned = nh3.clean(markup, tags=set())
    return single_line(FORBIDDEN_CHARACTERS.sub("", html.unescape(cleaned)))


def _shortcode_attributes(text: str) -> dict[str, str]:
    return {m[1].lower(): next(value for value in m.groups()[1:] if value is not None)
            for m in _SHORTCODE_ATTRIBUTE.finditer(html.unescape(text))}


def _link_paragraph(url: str) -> str:
    return f'<p><a href="{html.escape(url)}">{html.escape(url)}</a></p>'


def _shown_by_shortcode(name: str, attributes: dict[str, str],
                        attachments: Mapping[str, tuple[str, str]]) -> str:
    """What WordPress showed for a shortcode that names its content: a gallery's
    images, an audio or video file (kept as a link to it); "" for any other."""
    if name == "gallery":
        images = [attachments[number.strip()] for number in attributes.get("ids", "").split(",")
                  if number.strip() in attachments]
        shown = "\n".join(f'<img src="{html.escape(url)}" alt="{html.escape(alt)}">'
                          for url, alt in images)
        return f"<p>{shown}</p>" if shown else ""
    if name in ("audio", "video"):
        url = next((attributes[key].strip() for key in _MEDIA_SOURCES if attributes.get(key)), "")
        return _link_paragraph(url) if url else ""
    return ""


def strip_wordpress_markup(content: str, removed: Counter,
                           attachments: Mapping[str, tuple[str, str]] | None = None) -> str:
    """Block-editor comments and shortcodes out; what the author wrote stays.

    ``attachments`` (id → url, alt) are the export's, for the images of a [gallery].
    """
    content = _BLOCK_COMMENT.sub("", content)
    attachments = attachments or {}

    def enclosing(match):
        name, attributes = match["name"], _shortcode_attributes(match["attributes"])
        removed[f"shortcode [{name}]"] += 1
        if name not in KEEP_INNER:
            return _shown_by_shortcode(name, attributes, attachments)
        inner = match["inner"].strip()
        if name == "embed" and re.fullmatch(r"https?://\S+", inner):
            return _link_paragraph(inner)
        if attributes.get("caption"):  # the old form: the caption's HTML in an attribute
            return f"{inner}<br>{attributes['caption']}"
        return inner

    def single(match):
        removed[f"shortcode [{match['name']}]"] += 1
        if match["end"]:  # a closing tag left over
            return ""
        return _shown_by_shortcode(match["name"], _shortcode_attributes(match["attributes"]),
                                   attachments)

    content = _ENCLOSING.sub(enclosing, content)
    return _SINGLE.sub(single, content)


# --- The HTML as a tree: bounded nesting, WordPress's paragraphs, blocks kept apart ---

def _fragment(markup: str, removed: Counter):
    """``markup`` parsed into a <div>, its elements nested at most MAX_NESTING deep."""
    parser = lxml.html.HTMLParser()
    root = lxml.html.fragment_fromstring(markup, create_parent="div", parser=parser)
    if any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log):
        # libxml2 stops reading at 256 levels and drops the rest. Python's parser has
        # no such limit: flattened there first, the whole body reaches the tree.
        root = lxml.html.fragment_fromstring(flattened(markup, removed), create_parent="div")
    _limit_nesting(root, removed)
    return root


class _Flattener(HTMLParser):
    """HTML re-written without the tags nested over ``limit`` deep; their text stays.

    Linear in the input: an end tag is looked for among the innermost open tags only.
    """

    def __init__(self, limit: int):
        super().__init__(convert_charrefs=False)
        self.limit = limit
        self.parts, self.open, self.dropped = [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag in _VOID_TAGS:
            self.handle_startendtag(tag, attrs)
            return
        self.open.append(tag)
        if len(self.open) > self.limit:
            self.dropped += 1
            self.parts.append(" " if tag in BLOCK_TAGS else "")
        else:
            self.parts.append(self.get_starttag_text())

    def handle_startendtag(self, tag, attrs):
        if len(self.open) < self.limit:
            self.parts.append(self.get_starttag_text())

    def handle_endtag(self, tag):
        innermost = self.open[-2 * self.limit:]
        if tag not in innermost:
            return
        depth = len(self.open) - innermost[::-1].index(tag)
        del self.open[depth - 1:]
        self.parts.append(f"</{tag}>" if depth <= self.limit else " " if tag in BLOCK_TAGS else "")

    def handle_data(self, data):
        if not (len(self.open) > self.limit and self.open[-1] in _VERBATIM_TAGS):
            self.parts.append(data)

    def handle_entityref(self, name):
        self.parts.append(f"&{name};")

    def handle_charref(self, name):
        self.parts.append(f"&#{name};")


def flattened(markup: str, removed: Counter, limit: int = MAX_NESTING) -> str:
    """``markup`` without the tags nested over ``limit`` deep, in one linear pass."""
    flattener = _Flattener(limit)
    flattener.feed(markup)
    flattener.close()
    removed[NESTING_FLATTENED] += flattener.dropped
    return "".join(flattener.parts)


def _limit_nesting(root, removed: Counter) -> None:
    too_deep = []
    pending = [(root, 0)]
    while pending:
        element, depth = pending.pop()
        for child in element.iterchildren(lxml.etree.Element):
            if depth + 1 > MAX_NESTING:
                too_deep.extend(child.iter(lxml.etree.Element))
            else:
                pending.append((child, depth + 1))
    for element in reversed(too_deep):  # innermost first
        if element.tag in BLOCK_TAGS:  # a space keeps the words of two blocks apart
            element.text = " " + (element.text or "")
            element.tail = " " + (element.tail or "")
        element.drop_tag()
    if too_deep:
        removed[NESTING_FLATTENED] += len(too_deep)


def _is_element(item) -> bool:
    return not isinstance(item, str) and isinstance(item.tag, str)


def _is_block(item) -> bool:
    return _is_element(item) and item.tag in BLOCK_TAGS


def _take_content(container) -> list:
    """The container's text and children, in order, as separate items; it is left empty."""
    items = [container.text] if container.text else []
    container.text = None
    for child in list(container):
        tail, child.tail = child.tail, None
        container.remove(child)
        items.append(child)
        if tail:
            items.append(tail)
    return items


def _append(target, item) -> None:
    if item is _BREAK:
        target.append(target.makeelement("br"))
    elif isinstance(item, str):
        last = next(target.iterchildren(reversed=True), None)  # len() would count them all
        if last is not None:
            last.tail = (last.tail or "") + item
        else:
            target.text = (target.text or "") + item
    else:
        target.append(item)


def _has_content(chunk: list) -> bool:
    return any(_is_element(item) if not isinstance(item, str) else
               item is not _BREAK and item.strip() for item in chunk)


def _trimmed(chunk: list) -> list:
    """A paragraph's pieces without the line breaks and whitespace at its ends."""
    while chunk and isinstance(chunk[0], str) and (chunk[0] is _BREAK or not chunk[0].strip()):
        chunk.pop(0)
    while chunk and isinstance(chunk[-1], str) and (chunk[-1] is _BREAK or not chunk[-1].strip()):
        chunk.pop()
    return chunk


def _split_lines(text: str) -> list[str]:
    return _NEWLINES.split(text)[::2]


def _line_breaks_inside(element) -> None:
    """Newlines in an inline element's text as <br> (a blank line as one, too)."""
    pending = [element]
    while pending:
        node = pending.pop()
        if node.tag in _VERBATIM_TAGS:
            continue
        if node.text and "\n" in node.text:
            node.text, *lines = _split_lines(node.text)
            for line in reversed(lines):
                line_break = node.makeelement("br")
                line_break.tail = line
                node.insert(0, line_break)
        for child in list(node):
            tail = child.tail or ""
            if child.tag == "br":  # "<br />\n" is one line break
                tail = re.sub(r"^[ \t]*\n", "", tail)
            if "\n" in tail:
                child.tail, *lines = _split_lines(tail)
                anchor = child
                for line in lines:
                    line_break = node.makeelement("br")
                    line_break.tail = line
                    anchor.addnext(line_break)
                    anchor = line_break
            if _is_element(child):
                pending.append(child)


def _chunks(run: list) -> list[list]:
    """A run of inline content cut where wpautop cuts it: at a blank line or a double
    <br>; every other newline becomes a line break."""
    chunks, current = [], []
    after_break_tag = False
    for item in run:
        if isinstance(item, str):
            for number, piece in enumerate(_NEWLINES.split(item)):
                if number % 2 == 0:
                    if piece:
                        current.append(piece)
                        after_break_tag = after_break_tag and not piece.strip()
                elif piece.count("\n") > 1:
                    chunks.append(current)
                    current, after_break_tag = [], False
                elif not after_break_tag:  # "<br />\n" is one line break
                    current.append(_BREAK)
        elif _is_element(item) and item.tag == "br":
            if after_break_tag:
                chunks.append(current)
                current, after_break_tag = [], False
            else:
                current.append(_BREAK)
                after_break_tag = True
        else:
            if _is_element(item):
                _line_breaks_inside(item)
                after_break_tag = False
            current.append(item)
    chunks.append(current)
    return [_trimmed(chunk) for chunk in chunks if _has_content(chunk)]


def _arrange(container, paragraphs: str, line_breaks: bool) -> None:
    """The runs of inline content between the container's blocks, as paragraphs.

    ``paragraphs`` is "always" (each run is one or more <p>), "when cut" (only a run
    that a blank line cuts) or "never" (the pieces are joined by a line break).
    """
    run = []
    for item in [*_take_content(container), None]:
        if item is not None and not _is_block(item):
            run.append(item)
            continue
        if line_breaks:
            chunks = _chunks(run)
        else:
            chunks = [run] if _has_content(run) else []
        wrap = paragraphs == "always" or (paragraphs == "when cut" and len(chunks) > 1)
        for number, chunk in enumerate(chunks):
            target = container
            if wrap:
                target = container.makeelement("p")
                container.append(target)
            elif number:
                _append(container, _BREAK)
            for piece in chunk:
                _append(target, piece)
        if item is not None:
            container.append(item)
        run = []


def _holds_paragraphs(element, root, kept_tags) -> bool:
    """Whether a block that the allow-list removes can leave paragraphs where it was."""
    for ancestor in element.iterancestors():
        if ancestor is root:
            return True
        if ancestor.tag in kept_tags:
            return ancestor.tag in _PARAGRAPH_HOLDERS
    return True


def _arrange_blocks(root, kept_tags, line_breaks: bool) -> None:
    """Paragraphs and line breaks made explicit, before the allow-list drops tags.

    With ``line_breaks``, this is WordPress's wpautop: a blank line (or a double <br>)
    between inline content starts a paragraph, a single newline is a line break, and
    <pre> is left alone. Either way, a block the allow-list removes (a <div>, or a
    heading in a comment) leaves its text as paragraphs, or inside a line of text
    with a space around it, so that its words do not run into the next block's.
    """
    for element in list(root.iter(lxml.etree.Element)):
        if element is root:
            if line_breaks:
                _arrange(element, "always", line_breaks)
            continue
        if (element.tag not in BLOCK_TAGS or element.tag in _STRUCTURE_TAGS
                or element.tag in _VERBATIM_TAGS
                or any(a.tag in _VERBATIM_TAGS for a in element.iterancestors())):
            continue
        if element.tag not in kept_tags:
            if _holds_paragraphs(element, root, kept_tags):
                _arrange(element, "always", line_breaks)
            else:
                element.text = " " + (element.text or "")
                element.tail = " " + (element.tail or "")
        elif not line_breaks:
            continue
        elif element.tag == "p":
            _arrange(element, "when cut", line_breaks)
            if len(element) and element[0].tag == "p":
                element.drop_tag()  # cut by a blank line: its paragraphs take its place
        elif element.tag == "blockquote":
            _arrange(element, "always", line_breaks)
        else:
            _arrange(element, "when cut" if element.tag in _PARAGRAPH_HOLDERS else "never",
                     line_breaks)


def _visible_text(item, each_text=str) -> str:
    """The text ``item`` shows; ``each_text`` is applied to each of its text nodes."""
    if isinstance(item, str):
        return each_text(item)
    if not _is_element(item) or item.tag in ("script", "style"):
        return ""
    if item.tag == "br":
        return "\n"
    return each_text(item.text or "") + "".join(
        _visible_text(child, each_text) + each_text(child.tail or "") for child in item)


def _shows_split_address(run: list) -> bool:
    """Whether the run shows an address that no single text node of it holds."""
    if not has_private_data("".join(_visible_text(piece) for piece in run)):
        return False
    return has_private_data("".join(_visible_text(piece, remove_private_data) for piece in run))


def _remove_split_addresses(root, removed: Counter) -> None:
    """Addresses that only show once inline tags are read through ("jan<em>@</em>…").

    An address in one piece of text is replaced after the allow-list, with the links,
    images and emphasis around it kept; a split one is not, so the run of text that
    shows it is kept as plain text, the address out.
    """
    if not has_private_data(root.text_content()):
        return
    for container in [root, *(e for e in root.iter(lxml.etree.Element) if e.tag in BLOCK_TAGS)]:
        run = []
        for item in [*_take_content(container), None]:
            if item is not None and not _is_block(item):
                run.append(item)
                continue
            if _shows_split_address(run):
                run = [remove_private_data("".join(_visible_text(piece) for piece in run), removed)]
            for piece in run:
                _append(container, piece)
            if item is not None:
                container.append(item)
            run = []


def _collapse_spaces(root) -> None:
    # A browser shows a run of spaces as one; markdownify reads a long run in
    # quadratic time.
    for node in root.iter():
        verbatim = any(a.tag in ("pre", "textarea") for a in node.iterancestors())
        if node.text and "  " in node.text and not verbatim and node.tag not in ("pre", "textarea"):
            node.text = _SPACES.sub(" ", node.text)
        if node.tail and "  " in node.tail and not verbatim:
            node.tail = _SPACES.sub(" ", node.tail)


def _make_links_absolute(root, base_url: str) -> None:
    """Relative links and images pointed at the old site they were written for: on
    the new one, "/wp-content/uploads/…" would point nowhere. A "#part" link stays."""

    def absolute(link: str) -> str:
        if not link or link.startswith("#"):
            return link
        try:
            return urljoin(base_url, link)
        except ValueError:  # not a URL ("http://["): left for the allow-list to drop
            return link

    root.rewrite_links(absolute, resolve_base_href=False)


def _arranged_html(markup: str, removed: Counter, kept_tags, line_breaks: bool,
                   base_url: str = "") -> str:
    markup = FORBIDDEN_CHARACTERS.sub("", markup).replace("\r\n", "\n").replace("\r", "\n")
    if not markup.strip():
        return ""
    root = _fragment(markup, removed)
    if base_url:
        _make_links_absolute(root, base_url)
    _collapse_spaces(root)
    _arrange_blocks(root, kept_tags, line_breaks)
    _remove_split_addresses(root, removed)
    return lxml.html.tostring(root, encoding="unicode")[len("<div>"):-len("</div>")]


# --- Markdown ---

# Markdown wherever it stands: these are backslash-escaped.
_MARKDOWN_CHARACTERS = re.compile(r"[\\`*_{\[#|]")
# Markdown at the start of a line (a text may start one): a quote, a list, a rule, a
# setext underline, a fence, a definition. Python-Markdown cannot backslash-escape
# "=", "~" or ":", so those are written as character references.
_LINE_START = re.compile(r"^([ \t]*)(?:([>+-])|([=~:])|(\d+)(?=[.)]))", re.M)
# Python-Markdown's meta extension reads "Key: value" at the start of a document.
_META_KEY = re.compile(r"^([ \t]*[A-Za-z0-9_-]+):")


def _escape_line_start(match) -> str:
    indent, backslashed, referenced, number = match.groups()
    if backslashed:
        return f"{indent}\\{backslashed}"
    if referenced:
        return f"{indent}&#{ord(referenced)};"
    return f"{indent}{number}\\"


def escape_markdown(text: str, *, in_link: bool = False) -> str:
    """``text`` written so that Python-Markdown, with the site's extensions, shows it
    as the same text: no element, entity, link or line structure comes out of it."""
    text = _MARKDOWN_CHARACTERS.sub(r"\\\g<0>", text)
    if in_link:  # a "]" would end the link's text
        text = text.replace("]", "\\]")
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return _LINE_START.sub(_escape_line_start, text)


def _inline_html(tag: str):
    # Markdown has no syntax for these; Python-Markdown keeps them as inline HTML.
    return abstract_inline_conversion(lambda self: f"<{tag}>")


class _Converter(MarkdownConverter):
    """markdownify, with text that stays text, lists that Python-Markdown reads, and a
    line break of our choice."""

    def __init__(self, line_break: str, **options):
        super().__init__(heading_style="ATX", bullets="-", escape_misc=False,
                         sub_symbol="<sub>", sup_symbol="<sup>", **options)
        self.line_break = line_break

    def escape(self, text, parent_tags):
        return escape_markdown(text, in_link="a" in parent_tags)

    def convert_br(self, el, text, parent_tags):
        if "_inline" in parent_tags:
            return text + " " if text else " "
        return self.line_break + text

    def convert_code(self, el, text, parent_tags):
        if "_noformat" not in parent_tags:  # a code span cannot cross a line
            text = text.replace("\n", " ")
        return super().convert_code(el, text, parent_tags)

    def convert_li(self, el, text, parent_tags):
        # Python-Markdown reads a nested list, or a second paragraph, only when it is
        # indented by four spaces, whatever the width of the bullet.
        text = (text or "").strip()
        if not text:
            return "\n"
        bullet = "- "
        if el.parent is not None and el.parent.name == "ol":
            # Counted on from the previous item, so that a long list stays linear.
            previous = el.find_previous_sibling("li")
            if previous is not None and hasattr(previous, "item_number"):
                el.item_number = previous.item_number + 1
            else:
                start = str(el.parent.get("start", ""))
                el.item_number = int(start) if start.isdigit() else 1
            bullet = f"{el.item_number}. "
        first, *rest = text.split("\n")
        return bullet + first + "".join(f"\n    {line}" if line else "\n" for line in rest) + "\n"

    def convert_pre(self, el, text, parent_tags):
        if "pre" in parent_tags:
            return text  # a <pre> in a <pre> (extractors write them) is one block
        # A fence longer than any run of backticks in the code: a ``` line in an old
        # post's code block must not end the block.
        longest = max((len(run) for run in re.findall(r"`+", text or "")), default=0)
        fence = "`" * max(3, longest + 1)
        opening, _, rest = super().convert_pre(el, text, parent_tags).partition("```")
        code, _, closing = rest.rpartition("```")
        return f"{opening}{fence}{code}{fence}{closing}" if code else opening

    def convert_img(self, el, text, parent_tags):
        if not el.attrs.get("src"):
            # The allow-list removed a data: or script URL: an image with no address
            # would show nothing and stop the build.
            return ""
        return super().convert_img(el, text, parent_tags)

    convert_del = _inline_html("del")
    convert_s = _inline_html("s")
    convert_ins = _inline_html("ins")
    convert_u = _inline_html("u")


_ARTICLE_CONVERTER = _Converter(line_break="  \n")
# Comment bodies are rendered with nl2br: a single newline is a line break there.
_COMMENT_CONVERTER = _Converter(line_break="\n")
_BANG_BEFORE_LINK = re.compile(r"(?<!\\)!\[")


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


def _cleaned_article_html(markup: str, removed: Counter, line_breaks: bool,
                          base_url: str = "") -> str:
    arranged = _arranged_html(markup, removed, ARTICLE_TAGS, line_breaks, base_url)
    cleaned = nh3.clean(arranged, tags=ARTICLE_TAGS, attributes=ARTICLE_ATTRIBUTES,
                        url_schemes=IMPORT_URL_SCHEMES, link_rel=None)
    return _EMPTY_LIST.sub("", _EMPTY_PARAGRAPH.sub("", remove_private_data(cleaned, removed)))


# A footnote reference as the body's conversion writes it: only real markup can make
# it, as text has its "<" and "[" escaped.
_CONVERTED_REFERENCE = re.compile(r"<sup>\[(\d+)\]\(#fn:\1\)</sup>")
_LISTS_IN_A_ROW = re.compile(r"</[ou]l>\s*<[ou]l[\s>]")
_LIST_START = re.compile(r'<ol start="([^"]*)"')


def _footnote_definitions(footnotes: Sequence[tuple[str, str]], removed: Counter,
                          base_url: str) -> str:
    """The notes as Markdown footnote definitions ``[^1]: …``, numbered in order."""
    definitions = []
    for number, (_, note) in enumerate(footnotes, 1):
        text = _to_markdown(_ARTICLE_CONVERTER, _cleaned_article_html(note, removed, False, base_url))
        if not renders_within_allow_list(text):
            text = escape_markdown(remove_private_data(plain_text(note), removed))
        definitions.append(f"[^{number}]: " + text.strip().replace("\n", "\n    "))
    return "\n\n".join(definitions)


def _markdown_cannot_show(cleaned: str) -> bool:
    """Whether Python-Markdown would change the structure of ``cleaned``: it merges
    lists that follow each other into one, numbers every list from 1, and has no
    table without a header row, nor a table footer."""
    if _LISTS_IN_A_ROW.search(cleaned) or "<tfoot" in cleaned:
        return True
    if any(start.strip() not in ("", "1") for start in _LIST_START.findall(cleaned)):
        return True
    if "<table" not in cleaned:
        return False
    tables = lxml.html.fragment_fromstring(cleaned, create_parent="div").iter("table")
    return any(table.xpath("(.//tr)[1]/td") for table in tables)


def article_markdown(content: str, removed: Counter, *, wordpress: bool = True,
                     base_url: str = "", attachments: Mapping[str, tuple[str, str]] | None = None,
                     footnotes: Sequence[tuple[str, str]] = ()) -> str:
    """An old article's HTML as safe Markdown; BodyTooLarge over the limit.

    ``base_url`` is the address the article had: relative links and images are made
    absolute against it. ``attachments`` (id → url, alt) show a WordPress gallery;
    ``footnotes`` are the block editor's (id, note HTML), in order.
    """
    check_body_size(content)
    content = repair(content)
    base_url = base_url.strip() if is_web_url(base_url) else ""
    line_breaks = False
    if wordpress:
        # WordPress shows classic-editor text through wpautop; block-editor content
        # is stored as the HTML it shows.
        line_breaks = "<!-- wp:" not in content
        content = strip_wordpress_markup(content, removed, attachments)
    numbers = {note_id: number for number, (note_id, _) in enumerate(footnotes, 1)}
    if numbers:  # a reference becomes a link to its note, which Markdown then numbers
        content = _FOOTNOTE_REFERENCE.sub(
            lambda m: (f'<sup><a href="#fn:{numbers[m[1]]}">{numbers[m[1]]}</a></sup>'
                       if m[1] in numbers else m[0]), content)
    cleaned = normalise_headings(_cleaned_article_html(content, removed, line_breaks, base_url))
    notes = _footnote_definitions(footnotes, removed, base_url) if footnotes else ""
    converted = _to_markdown(_ARTICLE_CONVERTER, cleaned)
    if notes:
        converted = _CONVERTED_REFERENCE.sub(
            lambda m: f"[^{m[1]}]" if int(m[1]) <= len(footnotes) else m[0], converted)
        converted += f"\n{notes}\n"
    if not _markdown_cannot_show(cleaned) and renders_within_allow_list(converted):
        return converted
    # The conversion can be broken out of (a ``` line in a code block, a bracket in
    # alt text or a link), or loses structure: the build trusts an article body, so
    # keep the cleaned HTML itself, which Markdown passes through as it is. The notes
    # follow it, where its links to "#fn:1" find them.
    removed["bodies kept as cleaned HTML"] += 1
    return cleaned.strip() + "\n" + (f"\n{notes}\n" if notes else "")


# What Markdown may make of an imported body: the allow-list plus the tags, the
# heading ids and the footnotes that Markdown itself writes.
_RENDERED_TAGS = ARTICLE_TAGS | {"div"}
_RENDERED_ATTRIBUTES = {"href", "src", "alt", "title", "id"}
_FOOTNOTE_CLASSES = {("a", "footnote-ref"), ("a", "footnote-backref"), ("div", "footnote")}


def renders_within_allow_list(markdown_text: str) -> bool:
    """Whether the build would render ``markdown_text`` to allow-listed HTML only."""
    rendered = markdown.markdown(markdown_text, extensions=["extra"], output_format="html")
    if not rendered.strip():
        return True
    for element in lxml.html.fragment_fromstring(rendered, create_parent="div").iter():
        if not isinstance(element.tag, str):
            return False  # a comment or processing instruction came from the source
        if element.tag not in _RENDERED_TAGS or set(element.attrib) - _RENDERED_ATTRIBUTES - {"class"}:
            return False
        if "class" in element.attrib and (element.tag, element.get("class")) not in _FOOTNOTE_CLASSES:
            return False
        for attribute in ("href", "src"):
            url = "".join(element.get(attribute, "").split()).lower()
            if url.startswith("#"):  # a footnote's "#fn:1": a place in the page itself
                continue
            if ":" in url.split("/", 1)[0] and not url.startswith(("http:", "https:")):
                return False
    return True


def markdown_text(text: str) -> str:
    """Plain text for a field Pelican renders as Markdown (Summary), on one line, that
    renders as exactly this text.

    An excerpt that *showed* ``<img onerror=…>`` or ``*sterren*`` must not become
    an element or emphasis.
    """
    text = single_line(FORBIDDEN_CHARACTERS.sub("", text or ""))
    return _META_KEY.sub(r"\1&#58;", escape_markdown(text))


def comment_markdown(content: str, removed: Counter) -> str:
    """An old comment's text or HTML as safe Markdown (single newline = line break).

    WordPress shows every comment through wpautop, whatever it holds.
    """
    check_body_size(content)
    arranged = _arranged_html(repair(content), removed, USER_TAGS, line_breaks=True)
    cleaned = remove_private_data(clean_user_html(arranged, link_rel=None), removed)
    markdown_text = _to_markdown(_COMMENT_CONVERTER, _EMPTY_PARAGRAPH.sub("", cleaned))
    # Comments are rendered without the tables extension, where "\|" is no escape and
    # shows its backslash; a comment has no images, so "![" is a "!" before a link.
    return _BANG_BEFORE_LINK.sub(r"\\![", markdown_text.replace("\\|", "&#124;"))


# What enclosed a removed address ("Jan <jan@…>", "Jan (10.0.0.1)") goes with it.
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|<\s*>|\[\s*\]")


def person_name(raw: str, removed: Counter, fallback: str = "Anoniem") -> str:
    """A commenter's or author's display name, without an address in it."""
    name = remove_private_data(plain_text(raw), removed)
    for placeholder in (EMAIL_PLACEHOLDER, IP_PLACEHOLDER):
        name = name.replace(placeholder, "")
    return single_line(_EMPTY_BRACKETS.sub("", name)).strip(" -") or fallback


def public_url(raw: str, removed: Counter) -> str:
    """An http(s) link that holds no address, or ""."""
    url = repair(raw).strip()
    if not url.lower().startswith(("http://", "https://")) or any(c.isspace() for c in url):
        return ""
    # "%40" is an "@" to whoever follows the link.
    if has_private_data(unquote(url)):
        remove_private_data(unquote(url), removed)
        return ""
    return url


def image_urls(markdown_text: str) -> list[str]:
    """Every remote image a converted body shows, in order."""
    return re.findall(r"!\[[^\]]*\]\((https?://[^)\s]+)", markdown_text)
