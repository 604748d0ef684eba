"""Hardened, streaming XML reading for the WXR and Disqus importers.

defusedxml refuses entity declarations (the "billion laughs" bomb) and external
entities (reading local files or URLs). Records are yielded one at a time and
detached from the tree once used, so memory stays bounded by the largest single
record, not by the size of the export.
"""

from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.ElementTree import iterparse


class SourceError(ValueError):
    """An input file that cannot be imported; the message names the file."""


# What a file is, by its root element: for the message when the wrong one is given.
KINDS = {
    "rss": "a WordPress export (WXR) or an RSS feed; import a WXR with 'invoke import-wordpress'",
    "disqus": "a Disqus export; import it with 'invoke import-disqus'",
    "html": "an HTML page; import saved pages with 'invoke import-html'",
    "feed": ("an Atom feed, which holds too little to import; export a WXR from WordPress "
             "and import it with 'invoke import-wordpress'"),
}


def wrong_kind(path: Path, expected: str, found: str) -> SourceError:
    looks_like = KINDS.get(found, f"an XML file with the root element <{found}>")
    return SourceError(f"{path}: refused: expected {expected}, but this file looks like "
                       f"{looks_like}")


def local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def namespace(tag: str) -> str:
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def text_of(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def records(path: Path, depth: int, root: tuple[str, str] | None = None) -> Iterator[Element]:
    """Yield every complete element ``depth`` levels below the root, then free it.

    ``root`` is the local name the root element must have and what the file is
    called, e.g. ``("disqus", "a Disqus export")``; any other kind is refused before
    a record is read.
    """
    open_elements: list[Element] = []
    try:
        for event, element in iterparse(str(path), events=("start", "end"),
                                        forbid_dtd=False, forbid_entities=True,
                                        forbid_external=True):
            if event == "start":
                if root and not open_elements and local_name(element.tag) != root[0]:
                    raise wrong_kind(path, root[1], local_name(element.tag))
                open_elements.append(element)
                continue
            open_elements.pop()
            if len(open_elements) == depth:
                yield element
                element.clear()
                open_elements[-1].remove(element)
    except EntitiesForbidden as error:
        raise SourceError(
            f"{path}: refused: the file declares the XML entity {error.name!r}. Entity "
            "declarations are refused because they allow entity bombs and reading local "
            "files or URLs (external entities); a real WordPress or Disqus export has none."
        ) from error
    except DTDForbidden as error:
        raise SourceError(f"{path}: refused: the file has a document type declaration") from error
    except DefusedXmlException as error:
        raise SourceError(f"{path}: refused: {error}") from error
    except ParseError as error:
        raise SourceError(f"{path}, line {error.position[0]}: not well-formed XML "
                          f"({error})") from error
    except FileNotFoundError as error:
        raise SourceError(f"{path}: no such file") from error
