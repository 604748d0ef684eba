"""Content checks: every error names the file, the field and what was expected.

Pelican's own messages for bad metadata are terse ("Could not process x.md") or
only warnings (a broken ``{filename}`` link). This plugin reports them as errors,
so ``pelican --fatal errors`` (``make publish``) stops, while ``make serve`` keeps
running and shows the message.

* ``CheckedMarkdownReader`` replaces the Markdown reader: unparseable dates, a
  missing title or date, unknown fields, control characters, slugs (the article's,
  its category's, tags' and authors') that are empty, too long for a file name or
  hold a path, and the values of fields the enabled plugins declare
  (``METADATA_FIELDS`` on a plugin's package: name -> check(value, settings)). The
  file is skipped, with one clear error, instead of half-built.
* Duplicate slugs, reported before Pelican files the articles, keeping the first.
* After all generators ran: ``{filename}`` links to missing or draft content, and
  images that do not exist.
"""

import difflib
import logging
import os
import posixpath
import re
from collections import defaultdict

from pelican import signals
from pelican.readers import _DISCARD as DISCARDED  # an empty value; pelican's minor is pinned
from pelican.readers import MarkdownReader
from pelican.urlwrappers import URLWrapper
from pelican.utils import slugify

from adviesblog_common.identity import check_article_id
from adviesblog_common.links import iter_links
from adviesblog_common.sanitize import FORBIDDEN_CHARACTERS, clean_user_html
from adviesblog_common.settings import apply_defaults, loaded_plugins
from adviesblog_common.slugs import shortened, slug_problem

logger = logging.getLogger(__name__)

# Save_as, Url and Template are left out: they can write over another page or name a
# template that does not exist. A site that needs them lists them in
# CONTENT_CHECKS_EXTRA_FIELDS.
PELICAN_FIELDS = {
    "title", "date", "modified", "slug", "summary", "status", "category", "tags",
    "author", "authors", "lang", "translation",
}
# Fields the theme itself shows. Plugins declare their own fields in a
# ``METADATA_FIELDS`` mapping on their package: name -> None, or a check(value,
# settings) that returns what is wrong, worded to follow "field 'X' is <value>; ".
THEME_FIELDS = {"image", "image_alt"}
# A language tag (BCP 47 in short): it becomes part of file names and the search index.
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


def check_language(value, settings) -> str | None:
    if not _LANGUAGE_TAG.fullmatch(str(value)):
        return "expected a language code such as 'nl', 'en' or 'nl-BE'"
    return None


# Fields of the site as a whole, with their checks.
SITE_FIELDS = {"id": check_article_id, "lang": check_language}
# Fields whose continuation lines are items of a list, not one wrapped value.
LIST_FIELDS = {"tags", "authors"}
DEFAULTS = {
    # Extra metadata fields that a site's own plugins understand.
    "CONTENT_CHECKS_EXTRA_FIELDS": [],
}

DATE_EXAMPLE = "'2024-03-18' or '2024-03-18 09:30'"
SLUG_EXAMPLE = "'je-collega-als-klant'"
_PLACEHOLDER = re.compile(r"^(?:\{(?P<brace>\w+)\}|\|(?P<pipe>\w+)\|)(?P<path>.*)$")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//|^#")
# A slug names a folder of the output: letters, digits, "-" and "_" only, so it can
# never climb out of its folder or into another article's.
_SLUG = re.compile(r"[\w-]+")


def set_defaults(pelican):
    apply_defaults(pelican.settings, "CONTENT_CHECKS_", DEFAULTS)


def shown_path(path: str) -> str:
    """A path as the author typed it in the shell: relative to the working folder."""
    return os.path.relpath(path)


def _under(relative_path: str, folders) -> bool:
    return any(
        folder in ("", ".") or relative_path.startswith(folder.rstrip("/") + "/")
        for folder in folders
    )


def is_article_path(settings, source_path: str) -> bool:
    relative = os.path.relpath(source_path, settings["PATH"]).replace(os.sep, "/")
    return _under(relative, settings["ARTICLE_PATHS"]) and not _under(
        relative, settings["PAGE_PATHS"]
    )


def static_file_exists(settings, source_path: str, target: str) -> bool:
    """Resolve ``target`` as Pelican does: ``/x`` from PATH, ``x`` from the file."""
    target = target.split("#", 1)[0].split("?", 1)[0]
    if target.startswith("/"):
        candidate = os.path.join(settings["PATH"], target.lstrip("/"))
    else:
        candidate = os.path.join(os.path.dirname(source_path), target)
    return os.path.isfile(candidate)


def plugin_fields(settings) -> dict:
    """``name -> check`` of every metadata field the enabled plugins declare."""
    fields = {}
    for module in loaded_plugins(settings):
        fields.update(getattr(module, "METADATA_FIELDS", {}))
    return fields


def control_character(value) -> str:
    """The first control character in ``value`` (a string or a list of them), or ""."""
    for text in value if isinstance(value, list) else [value]:
        found = FORBIDDEN_CHARACTERS.search(text) if isinstance(text, str) else None
        if found:
            return f"U+{ord(found.group()):04X}"
    return ""


class CheckedMarkdownReader(MarkdownReader):
    """Pelican's Markdown reader, with errors that name the file and the field."""

    def __init__(self, settings):
        super().__init__(settings)
        self._problems = []
        self._slugs = {}
        # A site may take slugs from file names; then the title does not make one.
        self._slug_from_path = any("(?P<slug>" in (settings.get(key) or "")
                                   for key in ("FILENAME_METADATA", "PATH_METADATA"))
        self.field_checks = SITE_FIELDS | plugin_fields(settings)
        self.known_fields = PELICAN_FIELDS | THEME_FIELDS | set(self.field_checks) | {
            field.lower() for field in settings.get("CONTENT_CHECKS_EXTRA_FIELDS", [])
        }

    def read(self, source_path):
        self._problems = []
        self._title_slug = ""
        try:
            content, metadata = super().read(source_path)
        except UnicodeDecodeError as error:
            content, metadata = "", {}
            self._problems.append(f"byte {error.object[error.start]:#04x} at position "
                                  f"{error.start} is not UTF-8; save the file as UTF-8")
        except RecursionError:
            # Python-Markdown parses a list inside a list by recursion: "+ + + …" a few
            # hundred levels deep exhausts Python's stack.
            content, metadata = "", {}
            self._problems.append("the text or the Summary nests lists or quotes too deeply "
                                  "to be rendered; expected at most a few levels")
        else:
            # Pelican marks an empty Slug, Status, Category, Tags or Author to be dropped
            # after the reader; check what it will keep.
            self._check_fields(source_path, content, {
                name: value for name, value in metadata.items() if value is not DISCARDED})
        if self._problems:
            for problem in self._problems:
                logger.error("%s: %s", shown_path(source_path), problem)
            # Skip the file rather than publish it half-built; the error above
            # is what the author needs to see.
            metadata["status"] = "skip"
        elif metadata.get("summary"):
            # A summary is Markdown, and Markdown passes raw HTML through: keep only
            # what the allow-list allows, as for comments.
            metadata["summary"] = clean_user_html(metadata["summary"], link_rel=None)
        if self._title_slug and not self._problems:
            # The slug Pelican would make from the title, checked above: made once.
            metadata["slug"] = self._title_slug
        return content, metadata

    def process_metadata(self, name, value):
        if isinstance(value, list) and name not in LIST_FIELDS:
            # A value continued on an indented line is one value, wrapped.
            value = " ".join(part.strip() for part in value)
        problem = control_character(value)
        if problem:
            self._problems.append(f"field {name.capitalize()!r} holds a control character "
                                  f"({problem}); remove it")
            return value
        try:
            value = super().process_metadata(name, value)
        except (ValueError, OverflowError) as error:
            expected = f"; expected {DATE_EXAMPLE}" if name in ("date", "modified") else ""
            self._problems.append(f"field {name.capitalize()!r}: {error}{expected}")
            return value
        for term in value if isinstance(value, list) else [value]:
            if isinstance(term, URLWrapper):
                self._give_slug(term)
        return value

    def _give_slug(self, term) -> None:
        """The slug Pelican would make for ``term``, made once per name in a build.

        A tag on a thousand articles is a thousand Tag objects, each slugifying
        the same name. Only a slug that came out non-empty is kept: Pelican warns
        about an empty one itself, per object.
        """
        key = (type(term), term.name)
        slug = self._slugs.get(key)
        if slug is None:
            self._slugs[key] = term.slug
        elif slug and term._slug is None:
            term._slug = slug  # what the property would compute; the name still decides

    def _check_fields(self, source_path, content, metadata):
        for name in sorted(set(metadata) - self.known_fields):
            close = difflib.get_close_matches(name, self.known_fields, n=1)
            hint = f"; did you mean {close[0].capitalize()!r}?" if close else ""
            self._problems.append(f"unknown field {name.capitalize()!r}{hint}")
        character = control_character(content)
        if character:
            self._problems.append(f"the text holds a control character ({character}); remove it")
        if not metadata.get("title"):
            self._problems.append(
                "field 'Title' is missing; expected a first line like 'Title: Je collega als klant'"
            )
        if is_article_path(self.settings, source_path) and "date" not in metadata:
            self._problems.append(f"field 'Date' is missing; expected {DATE_EXAMPLE}")
        self._check_slugs(source_path, metadata)
        for name, check in sorted(self.field_checks.items()):
            problem = check(metadata[name], self.settings) if check and name in metadata else None
            if problem:
                self._problems.append(f"field {name.capitalize()!r} is "
                                      f"{shortened(metadata[name])}; {problem}")
        image = metadata.get("image")
        # An imported article keeps its old image URL until the image is fetched.
        if image and not image.startswith(("https://", "http://")):
            # Image is a path under content/, whatever folder the article is in.
            target = "/" + _PLACEHOLDER.sub(r"\g<path>", image).lstrip("/")
            if not static_file_exists(self.settings, source_path, target):
                self._problems.append(f"field 'Image': {image!r} does not exist")

    def _check_slugs(self, source_path, metadata):
        """Every slug names a folder of the output: none may be empty, too long or hold a path."""
        slug = metadata.get("slug")
        if slug is not None and not _SLUG.fullmatch(slug):
            self._problems.append(f"field 'Slug' is {shortened(slug)}; expected letters, digits "
                                  f"and hyphens only, e.g. {SLUG_EXAMPLE}")
        elif slug is not None and (problem := slug_problem(slug)):
            self._problems.append(f"field 'Slug' is {shortened(slug)}, which {problem}; "
                                  f"shorten it")
        elif slug is None and metadata.get("title") and not self._slug_from_path:
            title_slug = self._title_slug = self._slug_of(source_path, metadata)
            if not title_slug:
                self._problems.append(f"field 'Title' is {shortened(metadata['title'])}, which "
                                      f"gives an empty slug; add a line like "
                                      f"'Slug: {SLUG_EXAMPLE[1:-1]}'")
            elif problem := slug_problem(title_slug):
                self._problems.append(f"field 'Title' is {shortened(metadata['title'])}, which "
                                      f"{problem}; add a line like "
                                      f"'Slug: {SLUG_EXAMPLE[1:-1]}'")
        terms = []
        for field, name in (("Category", "category"), ("Tags", "tags"), ("Author", "author"),
                            ("Authors", "authors")):
            value = metadata.get(name)
            terms += [(field, term) for term in (value if isinstance(value, list) else [value])]
        for field, term in terms:
            # A value with a control character stays raw text, and is reported already.
            problem = slug_problem(term.slug) if hasattr(term, "slug") else None
            if problem:
                self._problems.append(f"field {field!r} names {shortened(term)}, which {problem}; "
                                      "rename it")

    def _slug_of(self, source_path, metadata) -> str:
        settings = self.settings
        source = (os.path.splitext(os.path.basename(source_path))[0]
                  if settings["SLUGIFY_SOURCE"] == "basename" else str(metadata["title"]))
        return slugify(source, regex_subs=settings["SLUG_REGEX_SUBSTITUTIONS"],
                       preserve_case=settings["SLUGIFY_PRESERVE_CASE"],
                       use_unicode=settings["SLUGIFY_USE_UNICODE"])


def use_checked_reader(readers):
    for extension in MarkdownReader.file_extensions:
        readers.reader_classes[extension] = CheckedMarkdownReader


def _all_content(article_generator, page_generator):
    published = list(article_generator.articles) + list(article_generator.hidden_articles)
    published += list(article_generator.translations)
    pages = list(page_generator.pages) + list(page_generator.hidden_pages)
    drafts = list(article_generator.drafts) + list(page_generator.draft_pages)
    return published, pages, drafts


def find_duplicate_slugs(contents) -> list[list]:
    """Groups of content that share a slug and language, each sorted by path."""
    by_slug = defaultdict(list)
    for content in contents:
        by_slug[(content.slug, getattr(content, "lang", None))].append(content)
    return [
        sorted(same, key=lambda c: c.source_path)
        for _key, same in sorted(by_slug.items())
        if len(same) > 1
    ]


def drop_duplicate_slugs(content_lists, kind: str) -> None:
    """Report every slug clash and keep only the first file of each.

    Pelican would otherwise stop with FileOverwriteFailedError when it writes
    the second page, which would end ``make serve``.
    """
    for group in find_duplicate_slugs(c for contents in content_lists for c in contents):
        paths = [shown_path(c.source_path) for c in group]
        logger.error(
            "%s: field 'Slug' is %r, which %s %s uses too; give each %s its own Slug",
            paths[0], group[0].slug, kind, ", ".join(paths[1:]), kind,
        )
        for duplicate in group[1:]:
            for contents in content_lists:
                if duplicate in contents:
                    contents.remove(duplicate)


def check_article_slugs(article_generator):
    drop_duplicate_slugs(
        [article_generator.articles, article_generator.hidden_articles, article_generator.drafts],
        "article",
    )


def site_folders(settings) -> set[str]:
    """The top folders the build writes besides pages: archives, feeds, editions..."""
    paths = [value for key, value in settings.items()
             if key.endswith("_SAVE_AS") and isinstance(value, str)]
    paths += list((settings.get("FEEDS_PATHS") or {}).values())
    paths += [settings.get("FOLLOW_EDITIONS_PATH") or "", settings.get("THEME_STATIC_DIR") or "",
              settings.get("SOCIAL_CARDS_PATH") or ""]
    paths += [pattern for _number, pattern, _save_as in settings.get("PAGINATION_PATTERNS", ())]
    folders = set()
    for path in paths:
        first = path.replace("{base_name}/", "").strip("/").split("/", 1)[0]
        if first and "{" not in first and "." not in first:
            folders.add(first)
    return folders


def check_page_slugs(page_generator):
    lists = [page_generator.pages, page_generator.hidden_pages, page_generator.draft_pages]
    drop_duplicate_slugs(lists, "page")
    taken = site_folders(page_generator.settings)
    for pages in lists:
        for page in [p for p in pages if p.save_as.split("/", 1)[0] in taken]:
            logger.error("%s: field 'Slug' is %r, the folder of the site's own %s/ pages; "
                         "give the page another Slug", shown_path(page.source_path), page.slug,
                         page.save_as.split("/", 1)[0])
            pages.remove(page)


def check_links(content, generated_content, settings) -> list[str]:
    """Problems with ``{filename}``/``{static}`` links and images in one file.

    The HTML is read with a parser, so a link or an image written as an example in
    a code span or block is not taken for a real one.
    """
    problems = []
    source = content.source_path
    where = shown_path(source)
    for _tag, attribute, url in iter_links(content._content or ""):
        placeholder = _PLACEHOLDER.match(url)
        if placeholder:
            kind = placeholder.group("brace") or placeholder.group("pipe")
            target = placeholder.group("path")
            if kind == "filename":
                problems.extend(_check_internal_link(content, target, generated_content))
            elif kind in ("static", "attach") and not static_file_exists(settings, source, target):
                problems.append(f"{where}: {{{kind}}}{target} does not exist under content/")
        elif attribute == "src" and not _SCHEME.match(url) and not url.startswith("data:"):
            if not static_file_exists(settings, source, url):
                problems.append(
                    f"{where}: image {url!r} does not exist; write it as "
                    "![beschrijving]({static}/images/naam.jpg)"
                )
    return problems


def _check_internal_link(content, target, generated_content) -> list[str]:
    where = shown_path(content.source_path)
    relative_source = content.relative_source_path
    path = target.split("#", 1)[0].split("?", 1)[0]
    if path.startswith("/"):
        key = path.lstrip("/")
    else:
        key = posixpath.normpath(posixpath.join(posixpath.dirname(relative_source), path))
    linked = generated_content.get(key)
    if linked is None:
        return [f"{where}: link {{filename}}{target} points to no article or page ({key})"]
    if getattr(linked, "status", "published") == "draft" and content.status != "draft":
        return [f"{where}: link {{filename}}{target} points to a draft, which is not published"]
    return []


def check_site(generators):
    """Cross-file checks, once every generator has read its content."""
    by_name = {type(generator).__name__: generator for generator in generators}
    article_generator = by_name.get("ArticlesGenerator")
    page_generator = by_name.get("PagesGenerator")
    if article_generator is None or page_generator is None:
        return
    published, pages, drafts = _all_content(article_generator, page_generator)
    settings = article_generator.settings
    generated = article_generator.context["generated_content"]
    problems = []
    for content in published + pages:
        problems.extend(check_links(content, generated, settings))
    for problem in problems:
        logger.error("%s", problem)
    for content in drafts:
        for problem in check_links(content, generated, settings):
            logger.warning("%s (draft)", problem)


def register():
    signals.initialized.connect(set_defaults)
    signals.readers_init.connect(use_checked_reader)
    signals.article_generator_pretaxonomy.connect(check_article_slugs)
    signals.page_generator_finalized.connect(check_page_slugs)
    signals.all_generators_finalized.connect(check_site)
