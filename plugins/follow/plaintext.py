"""HTML to plain text for the text part of an email edition.

Readable on its own: headings underlined, paragraphs wrapped, lists and quotes
kept, links numbered as footnotes listed at the end, no markup left. The
maintained converters do not fit: html2text writes Markdown (and is GPL), and
inscriptis keeps links inline rather than as footnotes.
"""

import textwrap

import lxml.html

# Stands for <br> while source whitespace (soft line breaks included) is folded.
LINE_BREAK = "\x00"
HEADING_RULES = {"h1": "=", "h2": "=", "h3": "-", "h4": "-", "h5": "-", "h6": "-"}
BLOCKS = {"p", "div", "section", "article", "header", "footer", "figure", "figcaption",
          "table", "tr", "td", "th", "tbody", "thead", "main", "center"}


class _Renderer:
    def __init__(self, width: int, link_label: str):
        self.width = width
        self.link_label = link_label
        self.links: list[str] = []
        self.blocks: list[str] = []

    def inline(self, element) -> str:
        """The running text of ``element``, with links turned into [n] markers."""
        parts = [element.text or ""]
        for child in element:
            if not isinstance(child.tag, str):
                parts.append(child.tail or "")
                continue
            tag = child.tag.lower()
            if tag == "br":
                parts.append(LINE_BREAK)
            elif tag == "img":
                alt = (child.get("alt") or "").strip()
                parts.append(f"[{alt}]" if alt else "")
            elif tag == "a" and child.get("href"):
                text = self.inline(child)
                href = child.get("href")
                if href.startswith("mailto:") and text.strip() == href[7:]:
                    parts.append(text)
                else:
                    self.links.append(href)
                    parts.append(f"{text} [{len(self.links)}]")
            elif tag in ("script", "style"):
                pass
            else:
                parts.append(self.inline(child))
            parts.append(child.tail or "")
        return "".join(parts)

    def wrap(self, text: str, first: str = "", rest: str = "") -> str:
        lines = []
        for number, line in enumerate(text.split(LINE_BREAK)):
            words = " ".join(line.split())
            if not words:
                continue
            # A word longer than the line (a URL) stands on a line of its own, whole.
            lines.append(textwrap.fill(words, self.width, break_long_words=False,
                                       break_on_hyphens=False,
                                       initial_indent=first if number == 0 else rest,
                                       subsequent_indent=rest))
        return "\n".join(lines)

    def block(self, element, prefix: str = "") -> None:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if tag in HEADING_RULES:
            title = " ".join(self.inline(element).split())
            if title:
                self.blocks.append(f"{title}\n{HEADING_RULES[tag] * len(title)}")
        elif tag in ("ul", "ol"):
            items = [li for li in element if isinstance(li.tag, str) and li.tag.lower() == "li"]
            lines = []
            for number, item in enumerate(items, start=1):
                marker = f"{number}. " if tag == "ol" else "- "
                lines.append(self.wrap(self.inline(item), prefix + marker,
                                       prefix + " " * len(marker)))
            self.blocks.append("\n".join(lines))
        elif tag == "blockquote":
            inner = _Renderer(self.width - 2, self.link_label)
            inner.links = self.links
            inner.children(element)
            quoted = "\n\n".join(inner.blocks)
            self.blocks.append("\n".join(f"> {line}".rstrip() for line in quoted.split("\n")))
        elif tag == "pre":
            self.blocks.append(element.text_content().rstrip())
        elif tag == "hr":
            self.blocks.append("-" * min(self.width, 40))
        elif tag in ("script", "style", "head", "title"):
            return
        elif tag in BLOCKS and any(isinstance(c.tag, str) and c.tag.lower() not in
                                   ("a", "em", "strong", "b", "i", "code", "span", "br", "img", "small")
                                   for c in element):
            self.children(element)
        else:
            text = self.wrap(self.inline(element), prefix, prefix)
            if text:
                self.blocks.append(text)

    def children(self, element) -> None:
        loose = (element.text or "").strip()
        if loose:
            self.blocks.append(self.wrap(loose))
        for child in element:
            if isinstance(child.tag, str):
                self.block(child)
            if (child.tail or "").strip():
                self.blocks.append(self.wrap(child.tail))


def html_to_text(html: str, width: int = 72, link_label: str = "Links") -> str:
    """Plain text of an HTML fragment, links as numbered footnotes."""
    if not (html or "").strip():
        return ""
    renderer = _Renderer(width, link_label)
    renderer.children(lxml.html.fragment_fromstring(html, create_parent="div"))
    text = "\n\n".join(block for block in renderer.blocks if block.strip())
    if renderer.links:
        notes = "\n".join(f"[{n}] {url}" for n, url in enumerate(renderer.links, start=1))
        text += f"\n\n{link_label}:\n{notes}"
    return text + "\n"
