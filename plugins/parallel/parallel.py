"""A full build on every core: Markdown converted by worker processes, the article
generator's pages rendered by two.

Pelican builds on one core. Converting Markdown is about half of a serial build and
rendering the article generator's pages (articles, lists, archives) most of the
rest, and both are the same work whichever process does it. This plugin moves them
to forked processes (``markdown_pool.py``, ``split_writing.py``) and leaves
everything else, and every object the plugins and templates see, in Pelican's own
process; the output is byte for byte that of a serial build (``test_parallel.py``).

``PARALLEL_PROCESSES = 1`` builds serially; ``ADVIESBLOG_SERIAL=1`` in the
environment sets it, and turns the caches off, for debugging (see pelicanconf.py).
Only a process without other threads (``forking.py``) forks: forking one that has
threads can deadlock the child, so such a process (a test run with a server in it)
builds serially.
"""

import logging
import multiprocessing
import os

from pelican import signals
from pelican.readers import MarkdownReader

from adviesblog_common.settings import apply_defaults

from .forking import forking_is_safe
from .markdown_pool import (
    Conversions,
    MarkdownPool,
    PrefetchingMarkdownReader,
    digest_of,
    prefetching,
)
from .split_writing import CONTEXT_KEY, SplitWriter, WritingSplit, write_pages

logger = logging.getLogger(__name__)

DEFAULTS = {
    # Processes for Markdown and article pages; 0 is one per core, 1 builds serially.
    "PARALLEL_PROCESSES": 0,
    # Below this many files (or article pages) starting processes costs more than it saves.
    "PARALLEL_MIN_FILES": 50,
    # Markdown conversions kept between builds, by file: make serve's builder sets a
    # dict here, so a rebuild converts only the files that changed.
    "PARALLEL_CONVERSIONS": None,
}


def set_defaults(pelican):
    apply_defaults(pelican.settings, "PARALLEL_", DEFAULTS)


def processes(settings) -> int:
    """How many processes may work at once; 1 when forking is not possible or wanted."""
    wanted = settings["PARALLEL_PROCESSES"] or os.cpu_count() or 1
    if wanted < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if not forking_is_safe():
        logger.debug("parallel: this process has other threads; building serially")
        return 1
    return wanted


def use_prefetching_reader(readers):
    for extension in MarkdownReader.file_extensions:
        reader_class = readers.reader_classes.get(extension)
        if reader_class and issubclass(reader_class, MarkdownReader):
            readers.reader_classes[extension] = prefetching(reader_class)


def files_to_read(generator, paths_key: str, excludes_key: str) -> list:
    """The Markdown files ``generator`` will read and cannot take from its cache."""
    readers = generator.readers
    # Asking the cache costs a stat() per file; without a cache, nothing is in it.
    cached = generator.settings["LOAD_CONTENT_CACHE"] and generator.settings["CACHE_CONTENT"]
    wanted = []
    for relative in generator.get_files(generator.settings[paths_key],
                                        exclude=generator.settings[excludes_key]):
        reader = readers.readers.get(relative.rpartition(".")[2])
        path = os.path.abspath(os.path.join(generator.path, relative))
        if (isinstance(reader, PrefetchingMarkdownReader)
                and not (cached and readers.get_cached_data(path, None) is not None)):
            wanted.append(path)
    return wanted


def start_conversions(generator, paths_key: str, excludes_key: str):
    """Give the generator's Markdown reader its conversions, before it reads."""
    settings = generator.settings
    remembered = settings["PARALLEL_CONVERSIONS"]
    workers = processes(settings)
    if workers < 2 and remembered is None:
        return
    paths = files_to_read(generator, paths_key, excludes_key)
    digests = {path: digest_of(path) for path in paths} if remembered is not None else {}
    to_convert = [path for path in paths if remembered is None or digests[path] is None
                  or remembered.get(path, (None,))[0] != digests[path]]
    pool = None
    if workers > 1 and len(to_convert) >= settings["PARALLEL_MIN_FILES"]:
        pool = MarkdownPool(multiprocessing.get_context("fork"), to_convert,
                            settings["MARKDOWN"], settings["FORMATTED_FIELDS"], workers)
        logger.info("parallel: converting %d Markdown files in %d processes",
                    len(to_convert), workers)
    if pool is None and remembered is None:
        return
    conversions = Conversions(remembered, digests, pool, settings["MARKDOWN"],
                              settings["FORMATTED_FIELDS"])
    for reader in generator.readers.readers.values():
        if isinstance(reader, PrefetchingMarkdownReader):
            reader.conversions = conversions


def start_article_reading(generator):
    start_conversions(generator, "ARTICLE_PATHS", "ARTICLE_EXCLUDES")


def start_page_reading(generator):
    start_conversions(generator, "PAGE_PATHS", "PAGE_EXCLUDES")


def share_writing(generator):
    """Let the article generator write its pages with a forked child's help."""
    write_output = generator.generate_output

    def generate_output(writer):
        split = None
        if generator.settings["PARALLEL_MIN_FILES"] <= len(generator.articles) + \
                len(generator.translations) + len(generator.hidden_articles) + \
                len(generator.hidden_translations) and processes(generator.settings) > 1:
            split = generator.context[CONTEXT_KEY] = WritingSplit()
            logger.info("parallel: rendering the article generator's pages in 2 processes")
        try:
            write_pages(generator, writer, split, write_output)
        finally:
            generator.context.pop(CONTEXT_KEY, None)

    generator.generate_output = generate_output


def forget_conversions(generator):
    # They belong to this build's reading: a later read (make serve's preview of a
    # saved file) must convert the file as it is now.
    for reader in generator.readers.readers.values():
        if isinstance(reader, PrefetchingMarkdownReader):
            reader.conversions = None


def get_writer(pelican):
    return SplitWriter


def register():
    signals.initialized.connect(set_defaults)
    signals.readers_init.connect(use_prefetching_reader)
    signals.article_generator_init.connect(start_article_reading)
    signals.page_generator_init.connect(start_page_reading)
    signals.article_generator_finalized.connect(forget_conversions)
    signals.page_generator_finalized.connect(forget_conversions)
    signals.article_generator_finalized.connect(share_writing)
    signals.get_writer.connect(get_writer)
