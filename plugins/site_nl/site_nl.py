"""Dutch site basics for adviesblog.

* Installs the theme's gettext catalogue (``theme/translations/<lang>/LC_MESSAGES/
  messages.po``) into Jinja. The catalogue is compiled in memory at every build, so
  there is no ``.mo`` file to forget to rebuild and none to track in git.
* Adds Jinja filters that format dates with Babel. The machines that build the site
  have no OS ``nl_NL`` locale, and Babel ships the CLDR data itself.
* Sets ``word_count`` and ``reading_minutes`` on every article.
"""

import datetime
import functools
import io
import logging
import math
import os
import re
from html import unescape

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import pass_context, pass_eval_context
from markupsafe import Markup
from pelican import signals
from pelican.contents import Article
from pelican.generators import ArticlesGenerator, PagesGenerator

from adviesblog_common.contents import generator_contents
from adviesblog_common.settings import apply_defaults

logger = logging.getLogger(__name__)

DEFAULTS = {
    # Babel locale for dates and the catalogue folder under theme/translations.
    "SITE_NL_LOCALE": "nl",
    # Silent reading speed of Dutch prose; 200 words a minute is the usual figure.
    "SITE_NL_WORDS_PER_MINUTE": 200,
}

_TRANSLATIONS_KEY = "_site_nl_translations"
_DATE_FILTERS_KEY = "_site_nl_date_filters"
# Lists of content on Pelican's ArticlesGenerator and PagesGenerator.
_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"\w+")


def set_defaults(pelican):
    apply_defaults(pelican.settings, "SITE_NL_", DEFAULTS)


def catalogue_path(theme_path: str, locale: str) -> str:
    return os.path.join(
        theme_path, "translations", locale, "LC_MESSAGES", "messages.po"
    )


def load_translations(po_path: str, locale: str) -> NullTranslations:
    """Compile a ``.po`` file in memory; fall back to the English msgids."""
    if not os.path.exists(po_path):
        logger.error(
            "site_nl: no catalogue for locale %r at %s; the site will show English",
            locale,
            po_path,
        )
        return NullTranslations()
    with open(po_path, "rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def word_count(html: str) -> int:
    """Words in ``html``, markup left out."""
    return len(_WORD.findall(unescape(_TAG.sub(" ", html or ""))))


def reading_minutes(words: int, words_per_minute: int) -> int:
    """Whole minutes needed to read ``words``; never less than one."""
    return max(1, math.ceil(words / words_per_minute))


def _as_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    return value


def make_date_filters(locale: str) -> dict:
    """Jinja filters: ``datum`` (29 juni 2017), ``maand`` (juni) and ``iso``."""

    # Each article's date appears on about six pages (lists, archives, the article);
    # the cache lives in this closure, which is made anew for every build.
    @functools.cache
    def long_date(day: datetime.date) -> str:
        return format_date(day, "long", locale=locale)

    def datum(value):
        return long_date(_as_date(value))

    def maand(month_number):
        return format_date(datetime.date(2000, int(month_number), 1), "LLLL", locale=locale)

    def iso(value):
        return value.isoformat()

    return {"datum": datum, "maand": maand, "iso": iso}


def plain_gettext(translations: NullTranslations):
    """Jinja's newstyle ``_``: the catalogue's text, with its variables escaped in HTML.

    The catalogue is ours and trusted; the variables (titles, names) are text. In an
    autoescaped template the message is Markup, so ``%`` escapes each variable once;
    in a text template (the plain email) nothing is escaped.
    """
    lookup = translations.gettext

    # A page asks for about sixty messages, most of them without variables.
    @functools.cache
    def markup_message(message: str) -> Markup:
        return Markup(lookup(message))

    @pass_eval_context
    def gettext(eval_context, message: str, **variables) -> str:
        if eval_context.autoescape:
            template = markup_message(message)
            return template % variables if variables else template
        return lookup(message) % variables

    return gettext


def install_i18n(generator):
    """Give every generator's Jinja environment the catalogue and the date filters."""
    env = getattr(generator, "env", None)
    if env is None:
        return
    locale = generator.settings["SITE_NL_LOCALE"]
    # The context is shared by all generators of one build and is new for the
    # next build, so the catalogue is compiled once a build and never goes stale.
    translations = generator.context.get(_TRANSLATIONS_KEY)
    if translations is None:
        po_path = catalogue_path(generator.settings["THEME"], locale)
        translations = load_translations(po_path, locale)
        generator.context[_TRANSLATIONS_KEY] = translations
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_translations(translations, newstyle=True)
    # Jinja's own `_` reaches the catalogue through two context-aware calls; a page
    # makes about 60 of them. A function with the same "newstyle" meaning (always
    # %-formatted, variables escaped where the template autoescapes) costs less.
    env.globals["_"] = plain_gettext(translations)
    # One set of date filters for all generators of a build: each article's date is
    # formatted once, however many generators show it.
    date_filters = generator.context.get(_DATE_FILTERS_KEY)
    if date_filters is None:
        date_filters = generator.context[_DATE_FILTERS_KEY] = make_date_filters(locale)
    env.filters.update(date_filters)
    env.globals["render_once"] = make_render_once()


def make_render_once():
    """A Jinja global that renders a macro once per content object and site URL.

    An article's card is the same on the home page, its category, its tags and its
    author's page; with autoescaping, rendering it again each time is most of what
    a list page costs. The cache lives in the environment of one generator of one
    build, so nothing outlives the build.
    """
    rendered = {}

    @pass_context
    def render_once(context, macro, content):
        key = (macro.name, id(content), context.get("SITEURL"))
        html = rendered.get(key)
        if html is None:
            html = rendered[key] = macro(content)
        return html

    return render_once


def add_reading_time(content):
    if not isinstance(content, Article):
        return
    content.word_count = word_count(content._content)
    content.reading_minutes = reading_minutes(
        content.word_count, content.settings["SITE_NL_WORDS_PER_MINUTE"]
    )


def freeze_urls(generator):
    """Each article's or page's URL and file, computed once its metadata is final.

    Pelican formats ``content.url`` and ``content.save_as`` from the settings on
    every access (a relpath, a strftime and a format); a page of cards, archives
    and the sitemap read the URL about ten times per article. ``override_url``
    and ``override_save_as`` are Pelican's own hooks for a fixed URL and file (the
    ``URL`` and ``Save_as`` metadata fields use them), so the values are the same.
    """
    for content in generator_contents(generator):
        freeze_url(content)


def write_out_summaries(generators):
    """``summary_text`` of every article and page: the summary without its markup.

    The description, Open Graph, JSON-LD and every card show it. It waits until
    every generator has read its files, pages and static files too: Pelican
    memoizes a text with its ``{filename}`` and ``{static}`` links resolved, and a
    link to a page or an image made before those are known would stay unresolved.
    """
    for generator in generators:
        if isinstance(generator, (ArticlesGenerator, PagesGenerator)):
            for content in generator_contents(generator):
                summarize(content)


def freeze_url(content) -> None:
    content.override_url = content.url
    content.override_save_as = content.save_as


def summarize(content) -> None:
    content.summary_text = Markup(content.summary or "").striptags()


def freeze(content) -> None:
    freeze_url(content)
    summarize(content)


def register():
    signals.initialized.connect(set_defaults)
    signals.generator_init.connect(install_i18n)
    signals.content_object_init.connect(add_reading_time)
    signals.article_generator_finalized.connect(freeze_urls)
    signals.page_generator_finalized.connect(freeze_urls)
    signals.all_generators_finalized.connect(write_out_summaries)
