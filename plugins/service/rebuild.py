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
import os
import time
from pathlib import Path

from pelican import Pelican, signals
from pelican.contents import Article
from pelican.log import init as init_logging
from pelican.readers import MarkdownReader
from pelican.settings import read_settings
from pelican.utils import FileChangeFilter, get_relative_path, path_to_url, sanitised_join

from adviesblog_common.contents import generator_contents
from adviesblog_common.files import build_beside, write_atomically
from site_nl.site_nl import freeze

logger = logging.getLogger(__name__)

LIVE_RELOAD_SCRIPT = "/_livereload/script.js"
# The attributes a build gives an article after reading it, the preview takes from the
# article's last build, except these: site_nl's ``freeze`` makes them from the saved file.
FROZEN = {"override_url", "override_save_as", "summary_text"}
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
        signals.article_generator_finalized.connect(self._keep_articles)
        self.load_settings()

    def load_settings(self):
        self.settings = read_settings(self.settings_file, override={
            "OUTPUT_PATH": str(self.output), **self.overrides})
        self.articles = None

    def _keep_articles(self, generator):
        self._articles_of_build = generator

    # --- the whole site ------------------------------------------------------------
    def build(self) -> bool:
        """Build the whole site afresh and put it in place; whether it went without errors."""
        started = time.perf_counter()
        errors = ErrorCount()
        logging.getLogger().addHandler(errors)
        self._articles_of_build = None
        try:
            build_beside(self.output, self._build_into)
        except Exception as error:  # Pelican's own autoreload keeps going, as this does
            self.say(f"The build failed: {describe(error)}. The site is as the last "
                     "good build left it; fix it and save again.")
            return False
        finally:
            logging.getLogger().removeHandler(errors)
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
        if article.status not in ("published", "hidden", "draft") or not article.save_as:
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
            self.load_settings()
        else:
            for path in sorted(paths):
                started = time.perf_counter()
                try:
                    page = self.preview(path)
                except Exception as error:
                    self.say(f"{os.path.relpath(path)}: {describe(error)}")
                    continue
                if page:
                    self.say(f"Updated {page} in {time.perf_counter() - started:.2f} s; "
                             "now the rest of the site.")
        self.build()

    def watched_paths(self) -> list[str]:
        settings = self.settings
        candidates = [self.settings_file, settings["THEME"], settings["PATH"]]
        return [os.path.abspath(path) for path in candidates if os.path.exists(path)]

    def watch(self) -> None:
        import watchfiles

        self.build()
        changes = watchfiles.watch(
            *self.watched_paths(), step=20, rust_timeout=0,
            watch_filter=FileChangeFilter(self.settings.get("IGNORE_FILES", [])))
        for batch in changes:
            self.changed({os.path.abspath(path) for _, path in batch})

    # --- telling the author and the browser --------------------------------------------
    def mark(self, step: str) -> None:
        if self.marker is not None:
            write_atomically(self.marker, f"{step} {self.builds} {time.time_ns()}\n")

    @staticmethod
    def say(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def under(relative: str, folders) -> bool:
    """Whether ``relative`` (to the content folder) is in one of ``folders``, as Pelican reads them."""
    for folder in folders:
        folder = folder.strip("/")
        if folder in ("", ".") or relative == folder or relative.startswith(folder + os.sep):
            return True
    return False


def describe(error: BaseException) -> str:
    """What went wrong, with the template file and line when Jinja knows them."""
    where = getattr(error, "filename", None)
    line = getattr(error, "lineno", None)
    place = f"{where}, line {line}: " if where and line else f"{where}: " if where else ""
    return f"{place}{type(error).__name__}: {error}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--marker", help="file rewritten after every build, for the browser")
    parser.add_argument("--content", help="content folder instead of the settings' PATH")
    arguments = parser.parse_args(argv)
    init_logging(level=logging.WARNING)
    try:
        Builder(arguments.settings, arguments.output, arguments.marker,
                content=arguments.content).watch()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
