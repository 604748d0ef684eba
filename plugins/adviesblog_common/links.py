"""Links in HTML, read and changed with a parser, never with a regular expression.

A regular expression over serialised HTML cannot tell ``<a href="/x/">`` from the
same characters in a code example; a parser can. Nothing inside ``<code>`` or
``<pre>`` is ever read or changed: an example there stays as the author wrote it.
"""

from collections.abc import Iterator
from html import escape
from urllib.parse import urljoin

import lxml.html

from adviesblog_common.sanitize import FORBIDDEN_CHARACTERS

URL_ATTRIBUTES = ("href", "src")
UNTOUCHED = frozenset({"code", "pre"})


def parse_fragment(html: str):
    """An HTML fragment as an lxml element: a ``div`` around what ``html`` holds."""
    return lxml.html.fragment_fromstring(html, create_parent="div")


def outer_html(element) -> str:
    """``element`` (with the text after it) as HTML.

    lxml writes a character reference as the character itself: ``&#x1b;`` would
    become a control character that no feed can hold, so those are left out.
    """
    return FORBIDDEN_CHARACTERS.sub("", lxml.html.tostring(element, encoding="unicode"))


def leading_html(root) -> str:
    """The text before ``root``'s first element, as HTML.

    lxml gives it unescaped; it is text, so it is escaped.
    """
    return FORBIDDEN_CHARACTERS.sub("", escape(root.text or "", quote=False))


def inner_html(root) -> str:
    """What ``root`` holds, as HTML, without ``root``'s own tag."""
    return leading_html(root) + "".join(outer_html(child) for child in root)


def _outside_code(root) -> Iterator:
    """Every element below ``root`` that is not inside ``<code>`` or ``<pre>``."""
    stack = list(reversed(root))
    while stack:
        element = stack.pop()
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions
        if element.tag in UNTOUCHED:
            continue
        yield element
        stack.extend(reversed(element))


def iter_links(html: str) -> Iterator[tuple[str, str, str]]:
    """``(tag, attribute, url)`` for every href and src outside code examples."""
    if not html or not ("href" in html or "src" in html):
        return
    for element in _outside_code(parse_fragment(html)):
        for attribute in URL_ATTRIBUTES:
            url = element.get(attribute)
            if url is not None:
                yield element.tag, attribute, url


def absolute_urls(html: str, base: str) -> str:
    """``html`` with every href, src and srcset URL made absolute against ``base``."""
    if not html or not ("href" in html or "src" in html):
        return html or ""
    root = parse_fragment(html)
    for element in _outside_code(root):
        for attribute in URL_ATTRIBUTES:
            url = element.get(attribute)
            if url is not None:
                element.set(attribute, urljoin(base, url.strip()))
        srcset = element.get("srcset")
        if srcset is not None:
            candidates = []
            for candidate in srcset.split(","):
                url, _, descriptor = candidate.strip().partition(" ")
                candidates.append(f"{urljoin(base, url)} {descriptor.strip()}".strip())
            element.set("srcset", ", ".join(candidates))
    return inner_html(root)
