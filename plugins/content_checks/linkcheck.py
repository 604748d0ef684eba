"""Check that every internal link, image and fragment in a built site resolves.

It reads ``output/`` only, so it catches what the content checks cannot see:
theme links, pagination, archive URLs and anchors such as the skip link. Links
that start with ``site_url`` are treated as internal, so the publish build with
absolute URLs is checked too.
"""

import os
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote, urldefrag, urlsplit

_LINK_ATTRIBUTES = {"a": "href", "link": "href", "img": "src", "script": "src", "source": "src"}


@dataclass(frozen=True)
class BrokenLink:
    page: str
    url: str
    reason: str

    def __str__(self):
        return f"{self.page}: {self.url} ({self.reason})"


class _PageScanner(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if tag == "a" and attributes.get("name"):
            self.ids.add(attributes["name"])
        wanted = _LINK_ATTRIBUTES.get(tag)
        if wanted and attributes.get(wanted):
            self.links.append(attributes[wanted])
        if tag == "img" and attributes.get("srcset"):
            self.links.extend(part.split()[0] for part in attributes["srcset"].split(","))


def _scan(path: str) -> _PageScanner:
    scanner = _PageScanner()
    with open(path, encoding="utf-8") as page:
        scanner.feed(page.read())
    return scanner


def _target_file(output: str, url_path: str) -> str:
    candidate = os.path.join(output, unquote(url_path).lstrip("/"))
    if url_path.endswith("/") or os.path.isdir(candidate):
        candidate = os.path.join(candidate, "index.html")
    return candidate


# A placeholder in a page of the service, such as ``__REACTIE_URL__``: no link yet.
SERVICE_MARKER = re.compile(r"__[A-Z_]+__")


def check_output(output: str, site_url: str = "", dynamic: tuple[str, ...] = ()) -> list[BrokenLink]:
    """Return every link in ``output``'s HTML pages that points nowhere.

    ``dynamic`` lists site paths served by the service rather than by files
    (``/volg/``); links below them are not checked.
    """
    output = os.path.abspath(output)
    site_url = site_url.rstrip("/")
    scanned: dict[str, _PageScanner] = {}

    def scanner_for(path):
        if path not in scanned:
            scanned[path] = _scan(path)
        return scanned[path]

    broken = []
    for folder, _dirs, files in os.walk(output):
        for name in sorted(files):
            if not name.endswith(".html"):
                continue
            page_path = os.path.join(folder, name)
            page_url = "/" + os.path.relpath(page_path, output).replace(os.sep, "/")
            for link in scanner_for(page_path).links:
                problem = _check_one(output, site_url, page_path, page_url, link, scanner_for,
                                     dynamic)
                if problem:
                    broken.append(BrokenLink(os.path.relpath(page_path, output), link, problem))
    return broken


def _check_one(output, site_url, page_path, page_url, link, scanner_for, dynamic):
    if site_url and link.startswith(site_url):
        link = link[len(site_url):] or "/"
    if link.startswith(tuple(prefix for prefix in dynamic if prefix)):
        return None
    if SERVICE_MARKER.fullmatch(link):
        return None  # the service fills it in (the article a reaction form page answers)
    parts = urlsplit(link)
    if parts.scheme or parts.netloc:
        return None  # external; this checker makes no network requests
    address, fragment = urldefrag(link)
    if not address:
        target = page_path
    else:
        base = page_url if address.startswith("/") else os.path.dirname(page_url) + "/"
        resolved = os.path.normpath(os.path.join(base, urlsplit(address).path))
        if address.endswith("/") and not resolved.endswith("/"):
            resolved += "/"
        target = _target_file(output, resolved)
        if not os.path.isfile(target):
            return "no such file"
    if fragment and target.endswith(".html") and fragment not in scanner_for(target).ids:
        return f"no element with id {fragment!r}"
    return None
