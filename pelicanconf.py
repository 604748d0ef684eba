"""Development settings: relative URLs, drafts previewed under /drafts/."""

import os
import sys
from pathlib import Path

from jinja2 import FileSystemBytecodeCache, select_autoescape

PROJECT_ROOT = Path(__file__).resolve().parent
# Pelican loads PLUGIN_PATHS without putting them on sys.path; our plugins share
# the small `adviesblog_common` library, so the folder must be importable.
if str(PROJECT_ROOT / "plugins") not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT / "plugins"))

from adviesblog_common.templates import jinja_cache_folder  # noqa: E402 (needs the path)

# --- Identity -----------------------------------------------------------------
SITENAME = "Ruimte & Richting"
SITESUBTITLE = "Columns over samenwerken, klantgerichtheid en leidinggeven"
SITE_DESCRIPTION = (
    "Adviseurs van Ruimte & Richting schrijven over interne klantgerichtheid, "
    "samenwerken en leidinggeven in kleine en middelgrote organisaties."
)
SITE_CONTACT = {
    "email": "info@ruimte-en-richting.example",
    "phone": "030 123 45 67",
    "city": "Utrecht",
}
# Colours of the firm; the test suite checks WCAG AA contrast of each pair.
THEME_COLORS = {
    "brand": "#1d4e5a",  # header, links
    "accent": "#a63d17",  # highlights, hover
    "text": "#1f2328",
    "muted": "#4f5a64",
    "background": "#ffffff",
    "surface": "#f3f6f6",
}
SITEURL = ""
RELATIVE_URLS = True

# --- Language and time ----------------------------------------------------------
DEFAULT_LANG = "nl"
SITE_NL_LOCALE = "nl"
TIMEZONE = "Europe/Amsterdam"
DEFAULT_DATE_FORMAT = "%Y-%m-%d"  # templates format dates with Babel instead
WITH_FUTURE_DATES = False  # future-dated articles wait as drafts

# --- Content ----------------------------------------------------------------------
PATH = "content"
ARTICLE_PATHS = ["articles"]
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["images", "extra"]
ARTICLE_EXCLUDES = ["authors", "series", "comments"]
PAGE_EXCLUDES = ["authors", "series", "comments"]
DEFAULT_PAGINATION = 6
SUMMARY_MAX_LENGTH = 45
DEFAULT_CATEGORY = "Algemeen"
# Articles live in year folders; a year is not a category.
USE_FOLDER_AS_CATEGORY = False
CACHE_CONTENT = False
# Photos resized and encoded once, kept between builds (plugins/responsive_images).
RESPONSIVE_IMAGES_CACHE_PATH = str(PROJECT_ROOT / "cache" / "images")
# Markdown's "smarty" extension would double the Markdown time of a build (see
# bench/); authors type Dutch quotes („…” and ‘…’) themselves.
MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.extra": {},
        "markdown.extensions.meta": {},
        "markdown.extensions.toc": {"permalink": False},
    },
    "output_format": "html5",
}

# --- URLs: readable Dutch paths ----------------------------------------------------
ARTICLE_URL = "{date:%Y}/{slug}/"
ARTICLE_SAVE_AS = "{date:%Y}/{slug}/index.html"
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
CATEGORY_URL = "categorie/{slug}/"
CATEGORY_SAVE_AS = "categorie/{slug}/index.html"
CATEGORIES_URL = "categorieen/"
CATEGORIES_SAVE_AS = "categorieen/index.html"
TAG_URL = "tag/{slug}/"
TAG_SAVE_AS = "tag/{slug}/index.html"
TAGS_URL = "tags/"
TAGS_SAVE_AS = "tags/index.html"
AUTHOR_URL = "auteur/{slug}/"
AUTHOR_SAVE_AS = "auteur/{slug}/index.html"
AUTHORS_URL = "auteurs/"
AUTHORS_SAVE_AS = "auteurs/index.html"
ARCHIVES_URL = "archief/"
ARCHIVES_SAVE_AS = "archief/index.html"
YEAR_ARCHIVE_URL = "archief/{date:%Y}/"
YEAR_ARCHIVE_SAVE_AS = "archief/{date:%Y}/index.html"
MONTH_ARCHIVE_URL = "archief/{date:%Y}/{date:%m}/"
MONTH_ARCHIVE_SAVE_AS = "archief/{date:%Y}/{date:%m}/index.html"
DRAFT_URL = "drafts/{slug}/"
DRAFT_SAVE_AS = "drafts/{slug}/index.html"
DRAFT_PAGE_URL = "drafts/pagina/{slug}/"
DRAFT_PAGE_SAVE_AS = "drafts/pagina/{slug}/index.html"
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/pagina/{number}/", "{base_name}/pagina/{number}/index.html"),
)
# "notfound" and "robots" are theme templates written as 404.html and robots.txt.
DIRECT_TEMPLATES = ["index", "tags", "categories", "authors", "archives", "notfound", "robots"]
NOTFOUND_SAVE_AS = "404.html"
ROBOTS_SAVE_AS = "robots.txt"

# --- Feeds: written by the feeds plugin (feedgen); Pelican's own writer is off ---------
# Feed links must be absolute; in development they point at `make serve`.
FEED_DOMAIN = "http://127.0.0.1:8000"
FEED_ALL_ATOM = None
CATEGORY_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
FEED_MAX_ITEMS = 20
# Entry ids are tag URIs under this domain; never change it once the site is live.
ARTICLE_ID_AUTHORITY = "ruimte-en-richting.example"

# --- Following by email ---------------------------------------------------------------
# The follow plugin renders an email edition of every article by default. A sender only
# mails new articles, so this site renders the newest 100: on a long archive that keeps
# the build within 1.3x of plain Pelican (see README, Benchmark).
FOLLOW_EDITIONS_MAX = 100

# --- Build ----------------------------------------------------------------------------
# The parallel plugin converts Markdown and renders pages on every core. One switch,
# for debugging: ADVIESBLOG_SERIAL=1 in the environment builds in one process and
# without caches (compiled templates, the rebuild cache of `make serve`).
SERIAL_BUILD = os.environ.get("ADVIESBLOG_SERIAL", "") not in ("", "0")
PARALLEL_PROCESSES = 1 if SERIAL_BUILD else 0

# --- Theme and plugins -------------------------------------------------------------
THEME = str(PROJECT_ROOT / "theme")
# Pelican's Jinja options plus no freshness check per template lookup: each build
# makes a new environment anyway, and the check is a stat() per include or import.
# Autoescape every HTML and XML template: a value is text unless the build itself made
# it HTML (Markdown output, nh3-cleaned comments), which is Markup where it is made.
# The plain-text emails (*.txt) are not escaped.
JINJA_ENVIRONMENT = {
    "trim_blocks": True, "lstrip_blocks": True, "extensions": [], "auto_reload": False,
    "autoescape": select_autoescape(("html", "xml"), default_for_string=True, default=False),
}
# Compiled templates are kept between builds in cache/ (not in git): compiling the theme
# is about a tenth of a build. Jinja checks each against the checksum of its source; the
# folder's name holds what else changes the compiled code (Jinja's version and the
# options above), so a change of either starts a fresh cache.
if not SERIAL_BUILD:
    JINJA_ENVIRONMENT["bytecode_cache"] = FileSystemBytecodeCache(str(jinja_cache_folder(
        PROJECT_ROOT / "cache", JINJA_ENVIRONMENT, "html+xml autoescaped")))
# Pages in the main menu, in this order, by slug; the footer links the privacy page.
MENU_PAGES = ["over-ons", "contact"]
FOOTER_PAGES = ["privacy"]
DISPLAY_CATEGORIES_ON_MENU = False
PLUGIN_PATHS = [str(PROJECT_ROOT / "plugins")]
PLUGINS = [
    "site_nl", "authors", "content_checks", "parallel", "comments", "feeds", "blog_series",
    "related",
    # After blog_series: series pages get a card too.
    "social_cards",
    # Before "search": the articles' images are rewritten before Pagefind reads them.
    "responsive_images",
    "follow",
    "pelican.plugins.sitemap",
    # Last: its generator waits for the index, which Pagefind builds meanwhile.
    "search",
]
SITEMAP = {
    "format": "xml",
    "exclude": ["^drafts/", "^404\\.html$", "^tag/", "^archief/\\d"],
    "priorities": {"articles": 0.8, "indexes": 0.6, "pages": 0.5},
    "changefreqs": {"articles": "monthly", "indexes": "daily", "pages": "monthly"},
}
