"""The builder behind ``make serve``: rebuild on every save, in one process.

A save is handled in two steps:

1. **The saved article's page**, in a few hundredths of a second. The file is read
   again and its page rendered with the rest of the site as the last build left
   it, then written in place of the old one. This is a preview: what the page shows
   of other articles (the series box) is as it was until step 2.
2. **The whole site**, built afresh into a folder beside the output that then takes
   its place. Every page that shows the article (lists, archives, feeds, series,
   search) is then exactly what a full build makes, and a renamed or removed
   article leaves no page behind (``test_rebuild.py``). Only the saved files are
   converted again: the parallel plugin keeps the other conversions in this
   process (``PARALLEL_CONVERSIONS``).

After each step the builder rewrites the marker file, and every open page in the
browser reloads (``livereload.py``). The terminal says when each step is done, or
which file failed and why; the site then stays as the last good build left it.

``ADVIESBLOG_SERIAL=1`` builds serially and keeps nothing between builds.
"""

import argparse
import logging
import multiprocessing
import os
import signal
import time
from multiprocessing.connection import Pipe
from pathlib import Path

from pelican import Pelican, signals
from pelican.contents import Article, Content
from pelican.log import init as init_logging
from pelican.readers import MarkdownReader
from pelican.settings import read_settings
from pelican.utils import FileChangeFilter, get_relative_path, path_to_url, sanitised_join

from adviesblog_common.contents import generator_contents
from adviesblog_common.files import build_beside, write_atomically
from parallel.forking import die_with_parent
from search.search import remove_stale_work
from site_nl.site_nl import freeze

logger = logging.getLogger(__name__)

LIVE_RELOAD_SCRIPT = "/_livereload/script.js"
# The attributes a build gives an article after reading it, the preview takes from the
# article's last build, except these: site_nl's ``freeze`` makes them from the saved file.
FROZEN = {"override_url", "override_save_as", "summary_text"}
TEMPLATE_SUFFIXES = (".html", ".xml", ".txt")
# How often the settings file is looked at.
SETTINGS_LOOK_SECONDS = 0.5
WATCHER_START_SECONDS = 10
MARKDOWN_SUFFIXES = tuple(f".{extension}" for extension in MarkdownReader.file_extensions)


class ErrorCount(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.count = 0

    def emit(self, record):
        self.count += 1


def render_article(generator, article) -> str:
    """The article's page as Pelican's writer renders it (``Writer.write_file``).

    Without the writer, because the writer tells the plugins a page was written
    (the sitemap would list it twice); the full build that follows does that.
    """
    context = generator.context.copy()
    context["localsiteurl"] = context.get("localsiteurl")
    if generator.settings["RELATIVE_URLS"]:
        relative = path_to_url(get_relative_path(article.save_as))
        context["SITEURL"] = context["localsiteurl"] = relative
        # Content objects make their links relative with the generator's context.
        generator.context["localsiteurl"] = relative
    context.update(output_file=article.save_as, article=article,
                   category=getattr(article, "category", None), url=article.url, blog=True)
    return generator.get_template(article.template).render(context)


class Builder:
    """One site, built again on every change, in this process."""

    def __init__(self, settings_file: str, output: str | os.PathLike,
                 marker: str | os.PathLike | None = None, serial: bool | None = None,
                 content: str | os.PathLike | None = None):
        self.settings_file = os.path.abspath(settings_file)
        self.output = Path(output).resolve()
        self.marker = Path(marker) if marker else None
        if serial is None:
            serial = os.environ.get("ADVIESBLOG_SERIAL", "") not in ("", "0")
        self.overrides = {"DEV_LIVE_RELOAD_SCRIPT": LIVE_RELOAD_SCRIPT}
        if content:
            self.overrides["PATH"] = str(Path(content).resolve())
        if not serial:
            self.overrides["PARALLEL_CONVERSIONS"] = {}
        self.builds = 0
        self.articles = None  # the article generator of the last good build
        self._articles_of_build = None
        self.settings = None  # None while the settings file cannot be read
        signals.article_generator_finalized.connect(self._keep_articles)
        self.load_settings()

    def load_settings(self) -> bool:
        self.articles = None
        if "PARALLEL_CONVERSIONS" in self.overrides:
            # Conversions made with other settings (Markdown extensions) are not kept.
            self.overrides["PARALLEL_CONVERSIONS"] = {}
        try:
            self.settings = read_settings(self.settings_file, override={
                "OUTPUT_PATH": str(self.output), **self.overrides})
        except Exception as error:
            self.settings = None
            self.say(f"{describe(error)}. Nothing is built until the settings file is "
                     "fixed and saved.")
            return False
        return True

    def _keep_articles(self, generator):
        self._articles_of_build = generator

    # --- the whole site ------------------------------------------------------------
    def build(self) -> bool:
        """Build the whole site afresh and put it in place; whether it went without errors."""
        if self.settings is None:
            return False
        started = time.perf_counter()
        errors = ErrorCount()
        logging.getLogger().addHandler(errors)
        self._articles_of_build = None
        failure = None
        try:
            build_beside(self.output, self._build_into)
        except Exception as error:  # Pelican's own autoreload keeps going, as this does
            failure = describe(error)
        finally:
            logging.getLogger().removeHandler(errors)
        forget_memoized_content()
        if failure is not None:
            self.say(f"The build failed: {failure}. The site is as the last good build "
                     "left it; fix it and save again.")
            return False
        self.articles = self._articles_of_build
        self.builds += 1
        self.mark("site")
        seconds = time.perf_counter() - started
        if errors.count:
            self.say(f"Built the site in {seconds:.1f} s with {errors.count} error"
                     f"{'s' if errors.count > 1 else ''}: the messages above name the file "
                     "and say why.")
        else:
            self.say(f"Built the site in {seconds:.1f} s.")
        return not errors.count

    def _build_into(self, fresh: Path):
        self.settings["OUTPUT_PATH"] = str(fresh)
        try:
            Pelican(self.settings).run()
        except BaseException:
            # A build that failed after Pagefind started leaves it running in its
            # working folder here; the search plugin stops and reaps it by the pid
            # there, before the folder goes.
            remove_stale_work(str(fresh))
            raise
        finally:
            self.settings["OUTPUT_PATH"] = str(self.output)

    # --- the saved article's page ------------------------------------------------------
    def preview(self, path: str) -> str | None:
        """Render the article in ``path`` again with the last build's site; its output file."""
        generator = self.articles
        if generator is None or not path.endswith(MARKDOWN_SUFFIXES) or not os.path.isfile(path):
            return None
        relative = os.path.relpath(path, generator.path)
        settings = generator.settings
        if relative.startswith(os.pardir) or not under(relative, settings["ARTICLE_PATHS"]) \
                or under(relative, settings["ARTICLE_EXCLUDES"]):
            return None
        article = generator.readers.read_file(
            base_path=generator.path, path=relative, content_class=Article,
            context=generator.context, preread_signal=signals.article_generator_preread,
            preread_sender=generator, context_signal=signals.article_generator_context,
            context_sender=generator)
        # A file with a content error comes back as Pelican's stub for a skipped file.
        if not isinstance(article, Article) or not article.save_as or \
                article.status not in ("published", "hidden", "draft"):
            return None
        earlier = next((known for known in generator_contents(generator)
                        if known.source_path == article.source_path), None)
        for name, value in (vars(earlier) if earlier else {}).items():
            if name not in vars(article) and name not in FROZEN:
                setattr(article, name, value)
        freeze(article)
        # Pelican's own check: a page is written inside the output, or not at all.
        write_atomically(sanitised_join(str(self.output), article.save_as),
                         render_article(generator, article))
        self.mark("page")
        return article.save_as

    # --- watching --------------------------------------------------------------------
    def changed(self, paths: set[str]) -> None:
        """Bring the site up to date with the saved ``paths``."""
        if self.settings_file in paths:
            self.say("The settings changed; building the whole site again.")
            if not self.load_settings():
                return
        elif self.settings is None:
            return
        else:
            for path in sorted(paths):
                self.show_preview(path)
        self.build()

    def show_preview(self, path: str) -> None:
        """The preview, quietly: what is wrong with the file, the full build says next."""
        started = time.perf_counter()
        logging.disable(logging.CRITICAL)
        try:
            page = self.preview(path)
        except Exception as error:
            logger.debug("no preview of %s: %s", path, describe(error))
            return
        finally:
            logging.disable(logging.NOTSET)
        if page:
            self.say(f"Updated {page} in {time.perf_counter() - started:.2f} s; "
                     "now the rest of the site.")

    def watched_paths(self) -> list[str]:
        settings = self.settings or {}
        candidates = [settings.get("THEME"), settings.get("PATH")]
        return [os.path.abspath(path) for path in candidates if path and os.path.exists(path)]

    def watch(self) -> None:
        """Build, then rebuild on every change until interrupted."""
        built = False
        while True:
            paths = self.watched_paths() or [os.path.dirname(self.settings_file)]
            # Watching first: a save during the build is not missed.
            watcher, changes = start_watcher(
                paths, (self.settings or {}).get("IGNORE_FILES", []))
            try:
                if not built:
                    built = True
                    self.build()
                self._follow(changes, paths)
            finally:
                watcher.terminate()
                watcher.join()

    def _follow(self, changes, paths: list) -> None:
        # The settings file is not watched but looked at: an editor that saves by
        # renaming would leave a watch on the old file, and changes unseen.
        settings_stamp = file_stamp(self.settings_file)
        while True:
            changed = set()
            try:
                while changes.poll(0 if changed else SETTINGS_LOOK_SECONDS):
                    changed.update(changes.recv())
            except EOFError:
                return  # the watcher is gone: start another
            if file_stamp(self.settings_file) != settings_stamp:
                settings_stamp = file_stamp(self.settings_file)
                changed.add(self.settings_file)
            if changed:
                self.changed(changed)
            if (self.watched_paths() or paths) != paths:
                return

    # --- telling the author and the browser --------------------------------------------
    def mark(self, step: str) -> None:
        if self.marker is not None:
            write_atomically(self.marker, f"{step} {self.builds} {time.time_ns()}\n")

    @staticmethod
    def say(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def start_watcher(paths: list, ignore_patterns) -> tuple:
    """watchfiles in a child process; batches of changed paths come through the pipe.

    Its native thread then never runs in the builder, which forks to build. Returns
    once the watcher watches.
    """
    receiving, sending = Pipe(duplex=False)
    watcher = multiprocessing.get_context("fork").Process(
        target=send_changes, args=(os.getpid(), paths, list(ignore_patterns), sending, receiving),
        daemon=True, name="adviesblog-watcher")
    watcher.start()
    sending.close()
    if receiving.poll(WATCHER_START_SECONDS):
        receiving.recv()
    return watcher, receiving


def send_changes(builder: int, paths: list, ignore_patterns: list, connection,
                 builders_end) -> None:
    import watchfiles

    # Only the builder reads: with this end closed here, a send fails once it is gone.
    builders_end.close()
    die_with_parent(builder)
    watching = False
    # Its first (empty) batch tells that the watches are in place.
    for batch in watchfiles.watch(*paths, step=20, rust_timeout=50, yield_on_timeout=True,
                                  watch_filter=FileChangeFilter(ignore_patterns)):
        if batch or not watching:
            watching = True
            connection.send(sorted({os.path.abspath(path) for _, path in batch}))


def file_stamp(path: str):
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_ino, stat.st_size


def under(relative: str, folders) -> bool:
    """Whether ``relative`` (to the content folder) is in one of ``folders``, as Pelican reads them."""
    for folder in folders:
        folder = folder.strip("/")
        if folder in ("", ".") or relative == folder or relative.startswith(folder + os.sep):
            return True
    return False


def describe(error: BaseException) -> str:
    """What went wrong, and where: the file and line (of a template, as Jinja shows them
    in its tracebacks), relative to the current folder."""
    where, line = getattr(error, "filename", None), getattr(error, "lineno", None)
    if not where:
        traceback = error.__traceback__
        while traceback is not None:
            name = traceback.tb_frame.f_code.co_filename
            if name.endswith(TEMPLATE_SUFFIXES) and os.path.isfile(name):
                where, line = name, traceback.tb_lineno
            traceback = traceback.tb_next
    place = ""
    if where:
        place = f"{os.path.relpath(where)}, line {line}: " if line else f"{os.path.relpath(where)}: "
    return f"{place}{type(error).__name__}: {str(error).rstrip('.')}"


def forget_memoized_content() -> None:
    """Empty Pelican's caches of each content object's HTML.

    ``Content.get_content`` and ``get_summary`` are memoized in caches that live as
    long as the process, keyed by the content object: in a process that builds again
    and again, every build's articles would stay in memory.
    """
    for method in ("get_content", "get_summary"):
        cache = getattr(vars(Content).get(method), "cache", None)
        if isinstance(cache, dict):
            cache.clear()


def stop_on_terminate(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--marker", help="file rewritten after every build, for the browser")
    parser.add_argument("--content", help="content folder instead of the settings' PATH")
    arguments = parser.parse_args(argv)
    init_logging(level=logging.WARNING)
    # Stopped by make serve (SIGTERM) as by Ctrl-C: the watcher is stopped on the way out.
    signal.signal(signal.SIGTERM, stop_on_terminate)
    try:
        Builder(arguments.settings, arguments.output, arguments.marker,
                content=arguments.content).watch()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
