"""Follow the site by email: the sign-up form and, per article, an email edition.

The form is a plain HTML form: it works without JavaScript and posts to
``FOLLOW_ENDPOINT`` (by default the project's own service at ``/volg/``), or to an
external list provider whose field names come from a preset. With no endpoint the
form gives way to feed links and a ``mailto:`` sign-up.

The consent text says who sends, how often and what (Telecommunicatiewet 11.7,
AVG). Its version id is a hash of the rendered text, so any change to the text
gives a new id and a subscriber's consent always points at the text they saw.
How often is ``FOLLOW_FREQUENCY``, a key the sender reads too (see ``consent``).

When ``FOLLOW_ENDPOINT`` is a path on this site, the build also writes the pages
and ``formulier.json`` of the follow service there (see ``service_pages``).
"""

import functools
import logging

from pelican import signals

from adviesblog_common.identity import assign_entry_ids
from adviesblog_common.service_endpoints import form_action, rootless_endpoint_problem
from adviesblog_common.settings import apply_defaults, require_plugins

from .consent import (
    DEFAULT_FREQUENCY,
    consent_promise,
    frequency_problem,
    frequency_promise,
)
from .editions import EditionsGenerator
from .service_pages import ServicePagesGenerator

logger = logging.getLogger(__name__)

# Field names of the form per list provider; None leaves that field out.
PRESETS = {
    "adviesblog": {"email": "email", "scope": "scope", "consent": "consent", "honeypot": "website"},
    # Mailchimp's embed code: EMAIL, and a honeypot named b_<u>_<id> per list.
    "mailchimp": {"email": "EMAIL", "scope": None, "consent": None, "honeypot": None},
    # Buttondown's embed-subscribe endpoint: email, and an optional tag.
    "buttondown": {"email": "email", "scope": "tag", "consent": None, "honeypot": None},
    # Laposta: compare with the embed code of your own list before going live.
    "laposta": {"email": "email", "scope": None, "consent": None, "honeypot": None},
}
DEFAULTS = {
    # Where the form posts; "/..." is on this site. Empty: feed links and mailto instead.
    "FOLLOW_ENDPOINT": "/volg/",
    # Field names of the list provider: adviesblog, mailchimp, buttondown or laposta.
    "FOLLOW_PRESET": "adviesblog",
    # Per-field overrides of the preset, e.g. {"honeypot": "b_1234_5678"} for Mailchimp.
    "FOLLOW_FIELDS": {},
    # Address of the mailto sign-up when there is no endpoint; empty: SITE_CONTACT's email.
    "FOLLOW_MAILTO": "",
    # How often subscribers get mail at most: every-article, daily, weekly or monthly.
    # The consent text says it and the sender keeps to it.
    "FOLLOW_FREQUENCY": DEFAULT_FREQUENCY,
    # Slug of the privacy statement the consent text links to.
    "FOLLOW_PRIVACY_PAGE": "privacy",
    # Folder of the email editions and editions.json in the output.
    "FOLLOW_EDITIONS_PATH": "nieuwsbrief",
    # Render editions for the newest N articles only; None renders every article.
    # A sender only mails new articles, and each edition costs build time.
    "FOLLOW_EDITIONS_MAX": None,
    # Unsubscribe link in the email editions; the sender replaces it per subscriber.
    # Empty: the service's page at FOLLOW_ENDPOINT + "afmelden/".
    "FOLLOW_UNSUBSCRIBE_URL": "",
    # Set by `invoke edition --since YYYY-MM-DD`: also render a digest of that period.
    "FOLLOW_DIGEST_SINCE": "",
}


def set_defaults(pelican):
    settings = pelican.settings
    # The email editions show dates and Dutch text with site_nl's filters and catalogue.
    require_plugins(settings, "follow", "site_nl")
    apply_defaults(settings, "FOLLOW_", DEFAULTS)
    if settings["FOLLOW_PRESET"] not in PRESETS:
        logger.error("follow: FOLLOW_PRESET is %r; expected one of %s",
                     settings["FOLLOW_PRESET"], ", ".join(sorted(PRESETS)))
    unknown = set(settings["FOLLOW_FIELDS"]) - set(PRESETS["adviesblog"])
    if unknown:
        logger.error("follow: FOLLOW_FIELDS has unknown fields %s; known: %s",
                     ", ".join(sorted(unknown)), ", ".join(PRESETS["adviesblog"]))
    problem = frequency_problem(settings["FOLLOW_FREQUENCY"])
    if problem:
        logger.error("%s", problem)
        # A dev build goes on with the default, so every page still promises one thing.
        settings["FOLLOW_FREQUENCY"] = DEFAULT_FREQUENCY
    problem = rootless_endpoint_problem("FOLLOW_ENDPOINT", settings["FOLLOW_ENDPOINT"], "/volg/")
    if problem:
        logger.error("follow: %s", problem)


def form_settings(settings) -> dict:
    """Action URL and field names of the follow form, from the settings."""
    fields = dict(PRESETS.get(settings["FOLLOW_PRESET"], PRESETS["adviesblog"]))
    fields.update(settings["FOLLOW_FIELDS"])
    mailto = settings["FOLLOW_MAILTO"] or settings.get("SITE_CONTACT", {}).get("email", "")
    return {"action": form_action(settings, settings["FOLLOW_ENDPOINT"]), "fields": fields,
            "mailto": mailto}


def follow_scopes(content, settings) -> list[tuple[str, str, str]]:
    """(kind, slug, name) a reader of ``content`` can follow: site, series, category.

    ``content`` is an article, a series page's ``Series`` or None (the home page).
    A series is offered only with the series plugin, whose ``series_info`` holds
    the slug the sender matches; a bare ``Series:`` field has none.
    """
    scopes = [("site", "", settings.get("SITENAME", ""))]
    series = getattr(content, "series_info", None)
    if series is not None:
        scopes.append(("series", series.slug, series.name))
    category = getattr(content, "category", None)
    if category:
        scopes.append(("category", category.slug, category.name))
    return scopes


def add_template_helpers(generator):
    env = getattr(generator, "env", None)
    if env is None:
        return
    settings = generator.settings
    env.globals["follow_form"] = form_settings(settings)
    env.globals["follow_scopes"] = lambda content=None: follow_scopes(content, settings)

    # The consent text is the same on every page; render and hash it once per build.
    env.globals["follow_consent"] = functools.cache(lambda: consent_promise(settings, env))
    env.globals["follow_frequency"] = functools.cache(lambda: frequency_promise(settings, env))


def get_generators(pelican):
    return [EditionsGenerator, ServicePagesGenerator]


def register():
    signals.initialized.connect(set_defaults)
    signals.generator_init.connect(add_template_helpers)
    signals.get_generators.connect(get_generators)
    signals.article_generator_finalized.connect(assign_entry_ids)
