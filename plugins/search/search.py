"""Site search with Pagefind: an index of the published articles, and the page /zoeken/.

Pagefind indexes what this plugin hands it, not the pages readers see: one small
source document per published article (template ``search_source.html``) with its
title, summary, text, authors, category, series and tags, plus the filters and the
result data the search page shows. Navigation, comments, the follow block and the
author box are therefore never in the index, and drafts, hidden and future-dated
articles never reach it.

Pagefind is the binary from the pinned ``pagefind-bin`` wheel. It starts in a child
process as soon as the articles are final (``all_generators_finalized``) and runs on
the second core while Pelican writes the site. The search page's generator, last of
the plugins' generators, waits for it and swaps the new bundle into the output.
"""

import logging
import os
import shutil
import subprocess
import tempfile
import time
import weakref
from pathlib import Path, PurePosixPath

from pelican import signals
from pelican.generators import ArticlesGenerator, Generator

from adviesblog_common.settings import apply_defaults, require_plugins

logger = logging.getLogger(__name__)

DEFAULTS = {
    "SEARCH_URL": "zoeken/",
    "SEARCH_SAVE_AS": "zoeken/index.html",
    # Folder of Pagefind's bundle (its script, WebAssembly and index) in the output.
    "SEARCH_BUNDLE_PATH": "pagefind",
}
_CONTEXT_KEY = "_search_indexing"
SOURCE_TEMPLATE = "search_source"
PAGE_TEMPLATE = "search"
# Pagefind's ready-made interfaces; the site has its own (theme/static/js/search.js).
UNUSED_BUNDLE_FILES = (
    "pagefind-ui.js", "pagefind-ui.css", "pagefind-modular-ui.js", "pagefind-modular-ui.css",
    "pagefind-component-ui.js", "pagefind-component-ui.css", "pagefind-highlight.js",
)


class SearchIndexError(RuntimeError):
    """Pagefind is missing or could not build the index."""


def set_defaults(pelican):
    # The source documents carry dates in Dutch (site_nl) and series names (blog_series).
    settings = pelican.settings
    require_plugins(settings, "search", "site_nl", "blog_series")
    apply_defaults(settings, "SEARCH_", DEFAULTS)
    bundle = PurePosixPath(settings["SEARCH_BUNDLE_PATH"])
    if not bundle.parts or bundle.is_absolute() or ".." in bundle.parts:
        logger.error("search: SEARCH_BUNDLE_PATH must be a folder inside the output, such as "
                     "%r; %r is not, so %r is used", DEFAULTS["SEARCH_BUNDLE_PATH"],
                     settings["SEARCH_BUNDLE_PATH"], DEFAULTS["SEARCH_BUNDLE_PATH"])
        settings["SEARCH_BUNDLE_PATH"] = DEFAULTS["SEARCH_BUNDLE_PATH"]


def pagefind_executable() -> str:
    try:
        from pagefind_bin import get_executable
    except ImportError as error:
        raise SearchIndexError(
            "search: Pagefind is not installed; `make build` installs it from "
            "requirements.txt (pagefind-bin)") from error
    return str(get_executable())


def _stop(process: subprocess.Popen, work: str) -> None:
    """Whatever happens to the build: no Pagefind left running, no working folder left over."""
    if process.poll() is None:
        process.kill()
        process.wait()
    shutil.rmtree(work, ignore_errors=True)


class Indexing:
    """One Pagefind run over one build's source documents, in a child process.

    The working folder sits inside the output, so the finished bundle moves into
    place with a rename. If the build fails before ``finish``, the finalizer stops
    Pagefind and removes the folder when the build's context goes, or at exit.
    """

    def __init__(self, output_path: str, documents):
        os.makedirs(output_path, exist_ok=True)
        self.work = Path(tempfile.mkdtemp(prefix=".search-", dir=output_path))
        self.count = 0
        try:
            for save_as, html in documents:
                source = self.work / "sources" / save_as
                source.parent.mkdir(parents=True, exist_ok=True)
                source.write_text(html, encoding="utf-8")
                self.count += 1
        except BaseException:
            shutil.rmtree(self.work, ignore_errors=True)
            raise
        # Pagefind reads pagefind.yml and PAGEFIND_* from where it runs; the site's
        # settings alone decide here. Pelican works on one core, so Pagefind gets the
        # others: on two cores, it would otherwise slow the build it runs beside.
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PAGEFIND_")}
        environment["RAYON_NUM_THREADS"] = str(max(1, (os.cpu_count() or 2) - 1))
        self.log = self.work / "pagefind.log"
        self.started = time.perf_counter()
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [pagefind_executable(), "--site", "sources", "--output-path", "bundle", "--quiet"],
                cwd=self.work, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=environment)
        self._cleanup = weakref.finalize(self, _stop, self.process, str(self.work))

    def finish(self, bundle: Path) -> None:
        """Wait for Pagefind, then put its bundle at ``bundle``, replacing the old one."""
        try:
            waited = time.perf_counter()
            code = self.process.wait()
            finished = time.perf_counter()
            report = self.log.read_text(encoding="utf-8", errors="replace").strip()
            built = self.work / "bundle"
            if code != 0 or not (built / "pagefind.js").is_file():
                articles = f"{self.count} article{'' if self.count == 1 else 's'}"
                raise SearchIndexError(
                    f"search: Pagefind could not index {articles} "
                    f"(exit status {code}): {report or 'no message'}")
            for line in report.splitlines():
                logger.warning("search: Pagefind: %s", line)
            for name in UNUSED_BUNDLE_FILES:
                (built / name).unlink(missing_ok=True)
            replace_folder(built, bundle)
            logger.debug("search: indexed %d articles in %.2f s, of which the build waited "
                         "%.2f s", self.count, finished - self.started, finished - waited)
        finally:
            self._cleanup()


def replace_folder(new: Path, live: Path) -> None:
    """Swap ``new`` in at ``live``: a reader of the output finds one bundle or the other."""
    live.parent.mkdir(parents=True, exist_ok=True)
    previous = live.with_name(f".{live.name}.previous-{os.getpid()}")
    if live.exists():
        live.rename(previous)
    new.rename(live)
    shutil.rmtree(previous, ignore_errors=True)


def indexed_articles(articles_generator) -> list:
    """Published articles and their translations: what Pelican gives a page of its own."""
    return [*articles_generator.articles, *articles_generator.translations]


class SearchGenerator(Generator):
    """Starts the indexing, writes /zoeken/, and puts the finished index in place."""

    def start_indexing(self, articles) -> None:
        template = self.get_template(SOURCE_TEMPLATE)
        # The source documents need nothing of the site's context but the article.
        documents = ((article.save_as, template.render(article=article))
                     for article in articles if article.save_as)
        self.context[_CONTEXT_KEY] = Indexing(self.output_path, documents)

    def generate_output(self, writer):
        settings = self.settings
        writer.write_file(settings["SEARCH_SAVE_AS"], self.get_template(PAGE_TEMPLATE),
                          self.context, page_name=settings["SEARCH_URL"].rstrip("/"),
                          search_filters=self.filter_options(),
                          relative_urls=settings["RELATIVE_URLS"])
        indexing = self.context.pop(_CONTEXT_KEY, None)
        bundle = Path(self.output_path) / settings["SEARCH_BUNDLE_PATH"]
        if indexing is None:
            # No articles: an old index must not keep finding them.
            shutil.rmtree(bundle, ignore_errors=True)
            return
        try:
            indexing.finish(bundle)
        except SearchIndexError as error:
            logger.error("%s", error)

    def filter_options(self) -> dict:
        """The values each filter can take, as the source documents name them."""
        context = self.context
        series = [s.title for s in context.get("series_list", []) if s.parts]
        return {
            "categorie": sorted((c.name for c, _ in context.get("categories", [])), key=str.casefold),
            "auteur": sorted((a.name for a, _ in context.get("authors", [])), key=str.casefold),
            "serie": sorted(series, key=str.casefold),
        }


def start_indexing(generators):
    search = next((g for g in generators if isinstance(g, SearchGenerator)), None)
    articles = next((g for g in generators if isinstance(g, ArticlesGenerator)), None)
    if search is None or articles is None:
        return
    published = indexed_articles(articles)
    if not published:
        return
    try:
        search.start_indexing(published)
    except (SearchIndexError, OSError) as error:
        logger.error("search: the index was not started: %s", error)


def get_generators(pelican):
    return SearchGenerator


def register():
    signals.initialized.connect(set_defaults)
    signals.get_generators.connect(get_generators)
    signals.all_generators_finalized.connect(start_indexing)
