"""Markdown conversion of a generator's files in worker processes, before Pelican asks.

Pelican reads one file after another, and converting the Markdown is most of that
work. When a generator is made, ``MarkdownPool`` hands the paths it is about to read
to forked workers; the reader (``PrefetchingMarkdownReader``) then takes each file's
HTML from them instead of converting it itself. Everything after the conversion
(metadata, checks, content objects) stays in Pelican's process, so the objects are
the ones a serial build makes.

A worker converts a file exactly as ``MarkdownReader.read`` does: the text, then each
formatted field (``Summary``) with the ``meta`` preprocessor off. It keeps one
Markdown instance for the text and one for the fields and resets them between files,
which is what Python-Markdown offers for converting many documents; making one per
file, as Pelican does, is a sixth of the conversion time. A file a worker cannot
convert, or that makes Markdown log a warning, is read by Pelican itself, so its
error or warning reads as in a serial build.

``Conversions`` is what the reader asks. In ``make serve``'s builder it also
remembers each file's conversion by the file's digest, so a rebuild converts only
the files that changed.
"""

import hashlib
import io
import logging
import os
import re
import weakref
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from markdown import Markdown
from pelican.readers import MarkdownReader
from pelican.utils import SafeDatetime

from .forking import settle_child

logger = logging.getLogger(__name__)

# "2017-06-29" or "2017-06-29 10:30(:00)": what authors write, read without dateutil.
PLAIN_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?")

def file_digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def digest_of(path: str) -> bytes | None:
    """The digest of the file's bytes now; None if it cannot be read (Pelican says why)."""
    try:
        with open(path, "rb") as source:
            return file_digest(source.read())
    except OSError:
        return None


class MarkdownConverter:
    """Converts files as ``MarkdownReader.read`` does, reusing two Markdown instances."""

    def __init__(self, markdown_settings: dict, formatted_fields):
        self._formatted_fields = frozenset(formatted_fields)
        self._text = Markdown(**markdown_settings)
        self._fields = Markdown(**markdown_settings)
        # As Pelican does for formatted fields: a Summary's first line is no metadata.
        self._fields.preprocessors.deregister("meta")

    def convert(self, path: str) -> tuple:
        """``(digest, (content, meta, fields))`` of the bytes converted; the conversion is
        None for Pelican to read the file itself."""
        try:
            with open(path, "rb") as source:
                data = source.read()
        except OSError:
            return None, None
        try:
            # Decoded as pelican_open reads it: UTF-8, a BOM dropped, newlines unified.
            text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig").read()
            self._text.reset()
            content = self._text.convert(text)
            meta = getattr(self._text, "Meta", None)
            fields = {}
            for name, value in (meta or {}).items():
                if name.lower() in self._formatted_fields:
                    source = "\n".join(value)
                    self._fields.reset()
                    fields[source] = self._fields.convert(source)
        except (Exception, RecursionError):
            # Pelican reads this file itself and reports what is wrong with it.
            return None, None
        return file_digest(data), (content, meta, fields)


# A worker process's converter; a worker lives for one build.
_worker = {}


def start_worker(parent: int, markdown_settings: dict, formatted_fields) -> None:
    _worker["log"] = settle_child(parent)
    try:
        _worker["converter"] = MarkdownConverter(markdown_settings, formatted_fields)
    except Exception:
        # Settings Markdown cannot work with (an extension that is not there): Pelican
        # reads every file itself, and reports it as a serial build does.
        _worker["converter"] = None


def convert_in_worker(path: str) -> tuple:
    converter = _worker["converter"]
    digest, converted = converter.convert(path) if converter else (None, None)
    if _worker["log"].warned:
        # Pelican converts this file itself, and logs what Markdown had to say.
        _worker["log"].warned = False
        converted = None
    return path, digest, converted


class ConvertedFields:
    """Stands in for the Markdown instance while Pelican parses converted metadata.

    ``MarkdownReader._parse_metadata`` converts each formatted field with
    ``self._md``; this returns what the worker made of the same text.
    """

    class _NoPreprocessors:
        def deregister(self, name):
            pass

    preprocessors = _NoPreprocessors()

    def __init__(self, fields: dict):
        self._fields = fields

    def reset(self):
        pass

    def convert(self, source: str) -> str:
        return self._fields[source]


class MarkdownPool:
    """Workers converting ``paths`` in order; ``take(path)`` waits for one file's result.

    If a worker dies (killed, out of memory), the pool is broken: every file not yet
    converted is then read by Pelican itself, as in a serial build.
    """

    def __init__(self, context, paths: list, markdown_settings: dict, formatted_fields,
                 processes: int):
        self._waiting = set(paths)
        self._ready = {}
        self._pool = ProcessPoolExecutor(processes, mp_context=context, initializer=start_worker,
                                         initargs=(os.getpid(), markdown_settings,
                                                   formatted_fields))
        # A build that stops halfway must not leave workers behind.
        self._stop = weakref.finalize(self, self._pool.shutdown, wait=False,
                                      cancel_futures=True)
        chunk = max(1, min(16, len(paths) // (processes * 8)))
        self._results = self._pool.map(convert_in_worker, paths, chunksize=chunk)

    def take(self, path: str) -> tuple:
        """``(digest, conversion)`` of ``path``; the conversion is None to read it here."""
        if path not in self._waiting:
            return None, None
        while path not in self._ready:
            try:
                done, digest, converted = next(self._results)
            except BrokenProcessPool:
                logger.debug("parallel: a Markdown worker died; reading the rest serially")
                self.close()
                return None, None
            self._ready[done] = (digest, converted)
        self._waiting.discard(path)
        result = self._ready.pop(path)
        if not self._waiting:
            self.close()
        return result

    def close(self):
        self._waiting.clear()
        self._ready.clear()
        self._stop.detach()
        self._pool.shutdown(wait=True, cancel_futures=True)


class Conversions:
    """Where the reader takes a file's conversion from, first to last: what ``make
    serve``'s builder remembers of earlier builds (``remembered``: path -> (digest,
    conversion)), the worker pool, or, for the builder, a conversion made here.
    A conversion is remembered with the digest of the bytes it was made from.
    """

    def __init__(self, remembered: dict | None, digests: dict, pool: MarkdownPool | None,
                 markdown_settings: dict, formatted_fields):
        self._remembered, self._digests, self._pool = remembered, digests, pool
        self._converter_settings = (markdown_settings, formatted_fields)
        self._converter = None

    def take(self, path: str):
        """The converted ``(content, meta, fields)`` of ``path``, or None to read it here."""
        if self._remembered is not None:
            known_digest, converted = self._remembered.get(path, (None, None))
            if known_digest is not None and known_digest == self._digests.get(path):
                return converted
        digest, converted = self._pool.take(path) if self._pool else (None, None)
        if self._remembered is None:
            return converted
        if converted is None:
            if self._converter is None:
                try:
                    self._converter = MarkdownConverter(*self._converter_settings)
                except Exception:
                    return None
            digest, converted = self._converter.convert(path)
        if converted is not None:
            self._remembered[path] = (digest, converted)
        return converted


class PrefetchingMarkdownReader(MarkdownReader):
    """Pelican's Markdown reader, taking conversions from ``Conversions`` when it has them."""

    conversions = None

    def read(self, source_path):
        converted = self.conversions.take(source_path) if self.conversions else None
        if converted is None:
            return super().read(source_path)
        content, meta, fields = converted
        # What MarkdownReader.read does after converting.
        self._source_path = source_path
        self._md = ConvertedFields(fields)
        metadata = self._parse_metadata(meta) if meta is not None else {}
        return content, metadata

    def process_metadata(self, name, value):
        # dateutil's parser is a third of Pelican's own work per file; a plain date
        # gives the same SafeDatetime directly, anything else (or an impossible
        # date, for dateutil's error message) goes to the parser.
        if name in ("date", "modified") and isinstance(value, str):
            plain = PLAIN_DATE.fullmatch(value.strip())
            if plain:
                try:
                    return SafeDatetime(*(int(part or 0) for part in plain.groups()))
                except ValueError:
                    pass
        return super().process_metadata(name, value)


def prefetching(reader_class: type) -> type:
    """``reader_class`` with conversions from the pool: its own read() runs on top."""
    if issubclass(reader_class, PrefetchingMarkdownReader):
        return reader_class
    return type(f"Prefetching{reader_class.__name__}",
                (reader_class, PrefetchingMarkdownReader), {})
