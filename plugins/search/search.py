"""Site search with Pagefind: an index of the published articles, and the page /zoeken/.

Pagefind indexes what this plugin hands it, not the pages readers see: one small
source document per published article (``source_document``) with its title, summary,
text, authors, category, series and tags, plus the filters and the result data the
search page shows. Navigation, comments, the follow block and the author box are
therefore never in the index, and drafts, hidden and future-dated articles never
reach it.

Pagefind is the binary from the pinned ``pagefind-bin`` wheel. It starts in a child
process as soon as the articles are final (``all_generators_finalized``) and runs on
the second core while Pelican writes the site. The search page's generator, last of
the plugins' generators, waits for it and swaps the new bundle into the output.
"""

import logging
import os
import posixpath
import shutil
import signal
import subprocess
import tempfile
import time
import weakref
from pathlib import Path, PurePosixPath

from markupsafe import escape
from pelican import signals
from pelican.generators import ArticlesGenerator, Generator, PagesGenerator

from adviesblog_common.contents import generator_contents
from adviesblog_common.links import inner_html, parse_fragment
from adviesblog_common.settings import apply_defaults, require_plugins

logger = logging.getLogger(__name__)

DEFAULTS = {
    "SEARCH_URL": "zoeken/",
    "SEARCH_SAVE_AS": "zoeken/index.html",
    # Folder of Pagefind's bundle (its script, WebAssembly and index) in the output.
    "SEARCH_BUNDLE_PATH": "pagefind",
}
_CONTEXT_KEY = "_search_indexing"
_IN_THE_WAY_KEY = "_search_folder_in_use"
PAGE_TEMPLATE = "search"
# Working folders are ".search-<pid>-<random>" in the output.
WORK_PREFIX = ".search-"
# In the working folder: the pid of its Pagefind, for the next build to stop and reap.
PID_FILE = "pagefind.pid"
# The file every Pagefind bundle has; a folder without it is not an index to replace.
BUNDLE_ENTRY = "pagefind-entry.json"
# Pagefind indexes about a thousand articles a second on one core.
PAGEFIND_TIMEOUT_SECONDS = 600
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
    # Static files are copied after the index is in place, into these folders.
    static = [PurePosixPath(folder) for folder in
              [settings["THEME_STATIC_DIR"], *settings.get("STATIC_PATHS", [])]]
    overlaps = any(bundle == folder or folder in bundle.parents or bundle in folder.parents
                   for folder in static)
    if not bundle.parts or bundle.is_absolute() or ".." in bundle.parts or overlaps:
        logger.error("search: SEARCH_BUNDLE_PATH must be a folder inside the output of its "
                     "own, not one of the static files (THEME_STATIC_DIR, STATIC_PATHS), such "
                     "as %r; %r is not, so %r is used", DEFAULTS["SEARCH_BUNDLE_PATH"],
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


def without_pagefind_attributes(html: str) -> str:
    """The article's HTML without ``data-pagefind-*``: only ``source_document`` sets those.

    Imported or pasted HTML could otherwise set a result's title or date, or a filter.
    """
    if "data-pagefind" not in html.lower():
        return html
    root = parse_fragment(html)
    for element in root.iter():
        for name in [n for n in element.attrib if n.lower().startswith("data-pagefind")]:
            del element.attrib[name]
    return inner_html(root)


def _stop(processes: list, work: str) -> None:
    """Whatever happens to the build: no Pagefind left running, no working folder left over."""
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()
    shutil.rmtree(work, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_work(output_path: str) -> None:
    """Working folders of runs that never finished: killed, or failed in this process.

    A folder of another process that still runs is another build's, and stays. A
    failed build of this process (``make serve`` goes on after one) may have left its
    Pagefind running or unreaped, whatever still refers to that build: the folder
    names its pid, and it is stopped and reaped here.
    """
    for folder in Path(output_path).glob(f"{WORK_PREFIX}*"):
        pid = folder.name[len(WORK_PREFIX):].split("-", 1)[0]
        if not pid.isdigit():
            continue
        if int(pid) == os.getpid():
            stop_child((folder / PID_FILE).read_text() if (folder / PID_FILE).is_file() else "")
        elif _running(int(pid)):
            continue
        shutil.rmtree(folder, ignore_errors=True)


def stop_child(pid: str) -> None:
    if not pid.strip().isdigit():
        return
    try:
        os.kill(int(pid), signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(int(pid), 0)
    except ChildProcessError:  # reaped already, or not ours
        pass


def yield_to_the_build():
    """In Pagefind's process: run when Pelican's processes leave a core idle.

    They use every core while they render the articles; after that, Pelican writes
    the listings and feeds on one core, which is when Pagefind then mostly runs.
    """
    os.nice(10)


class Indexing:
    """One Pagefind run over one build's source documents, in a child process.

    The working folder sits inside the output, so the finished bundle moves into
    place with a rename. If the build fails before ``finish``, the finalizer stops
    Pagefind and removes the folder when the build's context goes, or at exit; a
    folder left by a killed build is removed by the next (``remove_stale_work``).
    """

    def __init__(self, output_path: str, documents, language: str):
        os.makedirs(output_path, exist_ok=True)
        self.work = Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-",
                                          dir=output_path))
        self.count = 0
        processes = []
        self._cleanup = weakref.finalize(self, _stop, processes, str(self.work))
        try:
            for save_as, html in documents:
                source = self.work / "sources" / save_as
                source.parent.mkdir(parents=True, exist_ok=True)
                source.write_text(html, encoding="utf-8")
                self.count += 1
            # Pagefind reads pagefind.yml and PAGEFIND_* from where it runs; the site's
            # settings alone decide here. Pelican works on one core, so Pagefind gets
            # the others: on two cores, it would otherwise slow the build it runs beside.
            environment = {k: v for k, v in os.environ.items()
                           if not k.startswith("PAGEFIND_")}
            environment["RAYON_NUM_THREADS"] = str(max(1, (os.cpu_count() or 2) - 1))
            self.log = self.work / "pagefind.log"
            self.started = time.perf_counter()
            # One index in the site's language: the search page loads only the index of
            # its own language, so a translation would otherwise never be found.
            command = [pagefind_executable(), "--site", "sources", "--output-path", "bundle",
                       "--force-language", language, "--quiet"]
            with open(self.log, "wb") as log:
                self.process = subprocess.Popen(
                    command, cwd=self.work, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, env=environment,
                    preexec_fn=yield_to_the_build if hasattr(os, "nice") else None)
            processes.append(self.process)
            (self.work / PID_FILE).write_text(str(self.process.pid))
        except BaseException:
            self._cleanup()
            raise

    def finish(self, bundle: Path) -> None:
        """Wait for Pagefind, then put its bundle at ``bundle``, replacing the old one."""
        try:
            waited = time.perf_counter()
            try:
                code = self.process.wait(timeout=PAGEFIND_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired as error:
                raise SearchIndexError(
                    f"search: Pagefind did not finish within {PAGEFIND_TIMEOUT_SECONDS} s; "
                    "the index was not updated") from error
            finished = time.perf_counter()
            report = self.log.read_text(encoding="utf-8", errors="replace").strip()
            built = self.work / "bundle"
            if code != 0 or not (built / BUNDLE_ENTRY).is_file():
                articles = f"{self.count} article{'' if self.count == 1 else 's'}"
                raise SearchIndexError(
                    f"search: Pagefind could not index {articles} "
                    f"(exit status {code}): {report or 'no message'}")
            for line in report.splitlines():
                logger.warning("search: Pagefind: %s", line)
            for name in UNUSED_BUNDLE_FILES:
                (built / name).unlink(missing_ok=True)
            replace_bundle(built, bundle)
            logger.debug("search: indexed %d articles in %.2f s, of which the build waited "
                         "%.2f s", self.count, finished - self.started, finished - waited)
        finally:
            self._cleanup()


def is_bundle(folder: Path) -> bool:
    """A bundle an earlier build put there: a real folder with Pagefind's entry file."""
    return not folder.is_symlink() and (folder / BUNDLE_ENTRY).is_file()


def replace_bundle(new: Path, live: Path) -> None:
    """Swap ``new`` in at ``live``, which holds nothing or an earlier build's bundle.

    Anything else at ``live`` (a page, a symlink) is never replaced or deleted.
    """
    if (live.exists() or live.is_symlink()) and not is_bundle(live):
        raise SearchIndexError(
            f"search: {live} is not a search index of an earlier build, so it is left as it "
            "is and the new index is not written there; set SEARCH_BUNDLE_PATH to a folder "
            "nothing else uses")
    live.parent.mkdir(parents=True, exist_ok=True)
    previous = live.with_name(f".{live.name}.previous-{os.getpid()}")
    shutil.rmtree(previous, ignore_errors=True)
    if live.exists():
        live.rename(previous)
    new.rename(live)
    shutil.rmtree(previous, ignore_errors=True)


def indexed_articles(articles_generator) -> list:
    """Published articles and their translations: what Pelican gives a page of its own."""
    return [*articles_generator.articles, *articles_generator.translations]


def written_into(folder: str, generators) -> list[str]:
    """``source: save_as`` of every article or page Pelican would write inside ``folder``."""
    found = []
    for generator in generators:
        if not isinstance(generator, (ArticlesGenerator, PagesGenerator)):
            continue
        for content in generator_contents(generator):
            save_as = content.save_as or ""
            if save_as.startswith(f"{folder}/"):
                found.append(f"{content.relative_source_path}: {save_as}")
    return found


def source_document(article, names: dict, long_date) -> str:
    """What Pagefind indexes of one article; never published.

    The title, the written-out summary, the text, and the authors, category, series
    and tags as the site names them. The meta (title, date) is what a result shows, the
    filters are by slug (``SearchGenerator.filter_options``), the sort is by date. Built
    here, not from a theme template: it is not a page, and what the index holds does
    not depend on the theme.
    """
    e = escape
    head = [f'<meta data-pagefind-meta="date[content]" content="{e(long_date(article.date))}">',
            f'<meta data-pagefind-meta="iso[content]" content="{article.date.date().isoformat()}">',
            f'<meta data-pagefind-sort="datum[content]" content="{article.date.isoformat()}">']
    category = getattr(article, "category", None)
    if category:
        head.append(f'<meta data-pagefind-filter="categorie[content]" content="{e(category.slug)}">')
    for author in getattr(article, "authors", []):
        head.append(f'<meta data-pagefind-filter="auteur[content]" content="{e(author.slug)}">')
    series = getattr(article, "series_info", None)
    if series:
        head.append(f'<meta data-pagefind-filter="serie[content]" content="{e(series.slug)}">')
    summary = (f"<p>{e(article.summary_text)}</p>\n"
               if article.metadata.get("summary") else "")
    return (f'<!DOCTYPE html>\n<html lang="{e(article.lang)}">\n'
            f'<head><meta charset="utf-8"><title>{e(article.title)}</title></head>\n'
            f'<body data-pagefind-body>\n' + "\n".join(head) + "\n"
            f"<h1>{e(article.title)}</h1>\n{summary}"
            f"{without_pagefind_attributes(article.content)}\n"
            f"<p>{e(' · '.join(article_labels(article, names)))}</p>\n</body>\n</html>\n")


def article_labels(article, names: dict) -> list[str]:
    """Authors, category, series and tags of ``article``, as the site names them."""
    labels = [names["auteur"].get(a.slug, a.name) for a in getattr(article, "authors", [])]
    category = getattr(article, "category", None)
    if category:
        labels.append(names["categorie"].get(category.slug, category.name))
    series = getattr(article, "series_info", None)
    if series:
        labels.append(series.title)
    tags = getattr(article, "tags", None)
    if tags:
        labels.append(", ".join(tag.name for tag in tags))
    return labels


class SearchGenerator(Generator):
    """Starts the indexing, writes /zoeken/, and puts the finished index in place."""

    def start_indexing(self, articles) -> None:
        remove_stale_work(self.output_path)
        names = self.canonical_names()
        long_date = self.env.filters["datum"]
        documents = ((article.save_as, source_document(article, names, long_date))
                     for article in articles if article.save_as)
        self.context[_CONTEXT_KEY] = Indexing(self.output_path, documents,
                                              self.settings["DEFAULT_LANG"])

    def canonical_names(self) -> dict:
        """Name by slug, as the category, author and series pages show them.

        Pelican merges "Samenwerken" and "samenwerken" into one category; the filters
        use the slug, and the index shows the name the site uses.
        """
        context = self.context
        return {
            "categorie": {c.slug: c.name for c, _ in context.get("categories", [])},
            "auteur": {a.slug: a.name for a, _ in context.get("authors", [])},
            "serie": {s.slug: s.title for s in context.get("series_list", []) if s.parts},
        }

    def generate_output(self, writer):
        settings = self.settings
        if not settings["SEARCH_SAVE_AS"]:
            return
        indexing = self.context.pop(_CONTEXT_KEY, None)
        has_articles = bool(self.context.get("articles"))
        # The script and the index load from the page's own host, whatever SITEURL says
        # (www or not, http or https): a module script from another host is blocked.
        page_folder = posixpath.dirname(settings["SEARCH_SAVE_AS"]) or "."
        writer.write_file(settings["SEARCH_SAVE_AS"], self.get_template(PAGE_TEMPLATE),
                          self.context, page_name=settings["SEARCH_URL"].rstrip("/"),
                          search_filters=self.filter_options(),
                          search_has_index=has_articles,
                          search_root=posixpath.relpath(".", page_folder),
                          relative_urls=settings["RELATIVE_URLS"])
        bundle = Path(self.output_path) / settings["SEARCH_BUNDLE_PATH"]
        if not has_articles and is_bundle(bundle) and not self.context.get(_IN_THE_WAY_KEY):
            # An old index must not keep finding articles that are gone.
            shutil.rmtree(bundle)
        if indexing is None:
            return
        try:
            indexing.finish(bundle)
        except SearchIndexError as error:
            logger.error("%s", error)
        except OSError as error:
            logger.error("search: the new index could not be put in place at %s: %s",
                         bundle, error)

    def filter_options(self) -> dict:
        """Per filter, ``(slug, name)`` of each value, in the order of the names."""
        return {filter_name: sorted(names.items(), key=lambda item: item[1].casefold())
                for filter_name, names in self.canonical_names().items()}


def start_indexing(generators):
    search = next((g for g in generators if isinstance(g, SearchGenerator)), None)
    articles = next((g for g in generators if isinstance(g, ArticlesGenerator)), None)
    if search is None or articles is None or not search.settings["SEARCH_SAVE_AS"]:
        return
    folder = search.settings["SEARCH_BUNDLE_PATH"].strip("/")
    in_the_way = written_into(folder, generators)
    if in_the_way:
        # Nothing of the folder is touched in this build, not even an old index.
        search.context[_IN_THE_WAY_KEY] = True
        logger.error("search: these would be written into the search index's folder %s/ "
                     "(SEARCH_BUNDLE_PATH), which each build replaces; give them another "
                     "Slug or Save_as, or choose another folder: %s", folder,
                     "; ".join(in_the_way))
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
