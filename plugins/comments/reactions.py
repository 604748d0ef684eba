"""Reactions through the site: the settings that the build and the service share.

The comments plugin writes the reaction form under each open article, the service's
pages and ``reacties.json``; the service (``service.reactions``) takes the form,
keeps reactions for moderation and writes approved ones as comment files. Both read
these settings from the same settings file.

When ``REACTIONS_ENDPOINT`` is a path on this site (``/reactie/``), the build writes
what the service answers with, in the site's look and language:

* ``<endpoint>/pagina/<key>.html`` for each key of ``PAGE_KEYS``, from the theme's
  ``reaction_service.html``. ``formulier`` holds the markers of ``MARKERS``, which the
  service fills in (the article, the comment answered, the reader's values, a preview);
* ``<endpoint>/reacties.json``: the consent texts and their versions, the limits, the
  Dutch messages and mails (``email/reaction_mails.txt``), and per published article
  its title, URL, whether it takes reactions and the comments a reply can answer.

Like the follow service's pages, these are written directly, not through Pelican's
writer: they are no pages of the site (no sitemap, no listing, ``noindex``), and their
links are absolute (publish build) or start at the site's root (development). The
comments' HTML is the one the comments plugin rendered for the article pages.
"""

import functools
import json
import logging
import os

from jinja2 import Undefined
from markupsafe import Markup, escape
from pelican.generators import Generator

from adviesblog_common.files import write_atomically
from adviesblog_common.identity import site_base_url
from adviesblog_common.service_endpoints import (
    consent_version,
    endpoint_folder,
    form_action,
    rootless_endpoint_problem,
    write_service_pages,
)
from adviesblog_common.settings import apply_defaults

logger = logging.getLogger(__name__)

DEFAULTS = {
    # Where the reaction form posts: a path of this site that the service answers.
    # Empty: no form; "Reageer" stays a mailto: link (COMMENTS_MAILTO or SITE_CONTACT).
    "REACTIONS_ENDPOINT": "/reactie/",
    # Who gets the moderation mail; empty: SITE_CONTACT's email.
    "REACTIONS_MODERATOR": "",
    # Run after an approval (no shell; split like a command line), e.g. "make publish".
    "REACTIONS_REBUILD_COMMAND": "",
    "REACTIONS_MAX_NAME_LENGTH": 80,
    "REACTIONS_MAX_TEXT_LENGTH": 4000,
    # Links (http://, https://, www.) one reaction may hold.
    "REACTIONS_MAX_LINKS": 3,
    # Reactions stored per IP address an hour.
    "REACTIONS_PER_IP_PER_HOUR": 5,
}

REACTIONS_FORMAT = 1
# The pages the service shows, with the HTTP status it answers them with.
PAGE_STATUS = {
    "index": 200, "formulier": 200, "bedankt": 200, "bedankt-melding": 200,
    "melding-bevestigen": 200, "melding-bevestigd": 200, "link-verlopen": 400,
    "melding-stoppen": 200, "melding-gestopt": 200, "gesloten": 403,
    "onbekend-artikel": 404, "onbekende-reactie": 404, "al-ontvangen": 409,
    "geweigerd": 400, "te-vaak": 429, "storing": 503, "niet-gevonden": 404,
}
PAGE_KEYS = tuple(PAGE_STATUS)
# The texts the service shows in a paragraph on the form page ({max}, {author} filled in).
MESSAGE_KEYS = (
    "controleer", "voorbeeld", "beantwoorden", "leeg", "te-lang", "te-veel-links", "naam-leeg",
    "naam-te-lang", "naam-is-link", "ongeldige-site", "ongeldig-adres",
    "melding-zonder-adres", "geen-toestemming", "te-snel", "formulier-verlopen", "te-vaak",
    "verouderd-formulier",
    "ongeldige-invoer",
)
# What the service puts in place of each marker of pagina/formulier.html. It escapes
# every value, except the *_HTML ones, whose HTML it makes and cleans itself.
MARKERS = {
    "titel": "__REACTIE_TITEL__", "url": "__REACTIE_URL__",
    "artikel": "__REACTIE_ARTIKEL__", "ouder": "__REACTIE_OUDER__",
    "naam": "__REACTIE_NAAM__", "site": "__REACTIE_SITE__", "email": "__REACTIE_EMAIL__",
    "tekst": "__REACTIE_TEKST__",
    # "checked" or "", as an attribute of the checkbox.
    "melding_aan": "__REACTIE_MELDING_AAN__", "toestemming_aan": "__REACTIE_TOESTEMMING_AAN__",
    "tijd": "__FORMULIER_TIJD__",
    "bericht": "__REACTIE_BERICHT_HTML__", "citaat": "__REACTIE_CITAAT_HTML__",
    "voorbeeld": "__REACTIE_VOORBEELD_HTML__",
}
# What the service fills into the mails' texts.
MAIL_PLACEHOLDERS = {name: f"{{{name}}}" for name in
                     ("author", "title", "url", "text", "commands", "link", "stop_link")}
FORM_TEMPLATE = "partials/reaction_form.html"
MAILS_TEMPLATE = "email/reaction_mails.txt"


def set_defaults(pelican):
    settings = pelican.settings
    apply_defaults(settings, "REACTIONS_", DEFAULTS)
    problem = rootless_endpoint_problem("REACTIONS_ENDPOINT", settings["REACTIONS_ENDPOINT"],
                                        "/reactie/")
    if problem:
        logger.error("reactions: %s", problem)


def plain(html) -> str:
    """Text of a macro's output, with its escaping undone and its spacing normalised."""
    return " ".join(Markup(html).unescape().split())


def form_settings(settings) -> dict:
    """What the reaction form and the "Beantwoorden" links need, from the settings."""
    action = form_action(settings, settings["REACTIONS_ENDPOINT"])
    return {
        "action": action,
        # {reply}<slug>/<comment id>/ opens the service's form as a reply to that comment.
        "reply": (action if action.endswith("/") else action + "/") + "antwoord/" if action else "",
        "limits": {"name": settings["REACTIONS_MAX_NAME_LENGTH"],
                   "text": settings["REACTIONS_MAX_TEXT_LENGTH"],
                   "links": settings["REACTIONS_MAX_LINKS"]},
        "privacy": settings.get("FOLLOW_PRIVACY_PAGE", "privacy"),
    }


def consent_promise(settings, env) -> tuple[Markup, str]:
    """The consent line's text as HTML, and its version: a hash of the text the reader sees."""
    text = Markup(env.get_template(FORM_TEMPLATE).module.consent_text(settings["SITENAME"]))
    return text, consent_version(text.unescape())


def notify_promise(env) -> dict:
    """What a commenter agrees to with "Laat me weten als iemand reageert", as text."""
    form = env.get_template(FORM_TEMPLATE).module
    text = f"{plain(form.notify_label())}. {plain(form.notify_explanation())}"
    return {"version": consent_version(text), "text": text}


# Stands for the article's slug in the form rendered once per build (see article_form).
SLUG_MARKER = "__REACTIE_ARTIKEL_SLUG__"


def article_form(settings, env):
    """``form(slug, privacy, site_url)``: the form under an article, as Markup.

    Every article's form is the same but for its slug, so the macro runs once per privacy
    page and site URL, and each article gets a copy with its slug in it: on a build of a
    thousand articles that saves a macro call each.
    """
    rendered = {}

    def form(slug: str, privacy, site_url: str) -> Markup:
        if isinstance(privacy, Undefined):
            privacy = None  # a site without a privacy page
        key = (getattr(privacy, "url", None), getattr(privacy, "title", None), site_url)
        if key not in rendered:
            settings_form = form_settings(settings)
            rendered[key] = str(env.get_template(FORM_TEMPLATE).module.form(
                settings_form["action"], SLUG_MARKER, "", settings_form["limits"],
                env.globals["reaction_consent"](), privacy, site_url))
        # The slug is text in an attribute; Pelican's slugs hold nothing to escape, but
        # a slug set in an article's metadata could.
        return Markup(rendered[key].replace(SLUG_MARKER, str(escape(slug))))

    return form


def add_template_helpers(generator):
    env = getattr(generator, "env", None)
    if env is None:
        return
    settings = generator.settings
    env.globals["reaction_form"] = form_settings(settings)
    # The same on every page; rendered and hashed once per build.
    env.globals["reaction_consent"] = functools.cache(lambda: consent_promise(settings, env))
    env.globals["reaction_form_for"] = article_form(settings, env)


class ReactionPagesGenerator(Generator):
    """Writes ``<endpoint>/pagina/<key>.html`` and ``<endpoint>/reacties.json``."""

    def generate_output(self, writer):
        folder = endpoint_folder(self.settings["REACTIONS_ENDPOINT"])
        if folder is None:
            return
        endpoint = f"/{folder}/"
        service = {"action": form_action(self.settings, endpoint), "markers": MARKERS}
        output = write_service_pages(self, folder, "reaction_service", "reaction_page",
                                     PAGE_KEYS, reaction_service=service)
        self.write_reactions_data(output, endpoint)

    def write_reactions_data(self, output: str, endpoint: str) -> None:
        settings = self.settings
        consent_text, version = self.env.globals["reaction_consent"]()
        limits = form_settings(settings)["limits"]
        data = {
            "format": REACTIONS_FORMAT,
            "endpoint": endpoint,
            "site": {"name": settings["SITENAME"], "url": site_base_url(settings)},
            "consent": {"version": version, "text": plain(consent_text)},
            "notify_consent": notify_promise(self.env),
            "pages": list(PAGE_KEYS),
            "limits": limits,
            "messages": self.messages(),
            "mails": self.mails(),
            "articles": self.articles(),
        }
        write_atomically(os.path.join(output, "reacties.json"),
                         (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
                         .encode("utf-8"))

    def messages(self) -> dict:
        form = self.env.get_template(FORM_TEMPLATE).module
        return {key: plain(form.message(key, "{max}", "{author}")) for key in MESSAGE_KEYS}

    def mails(self) -> dict:
        """Subject and text of the moderator's mail and the reply notifications' mails."""
        mails = self.env.get_template(MAILS_TEMPLATE).module
        site, site_url = self.settings["SITENAME"], site_base_url(self.settings)
        p = MAIL_PLACEHOLDERS
        return {
            "moderator": {
                "subject": str(mails.moderator_subject(site, p["title"])),
                "text": str(mails.moderator_text(site, site_url, p["author"], p["title"],
                                                 p["url"], p["text"], p["commands"]))},
            "notify_confirm": {
                "subject": str(mails.notify_confirm_subject(site)),
                "text": str(mails.notify_confirm_text(site, site_url, p["title"], p["link"]))},
            "notification": {
                "subject": str(mails.notification_subject(site, p["title"])),
                "text": str(mails.notification_text(site, site_url, p["author"], p["title"],
                                                    p["url"], p["text"], p["stop_link"]))},
        }

    def articles(self) -> dict:
        """Each published article: title, URL, mode, and the comments a reply can answer."""
        base = self.settings.get("SITEURL", "").rstrip("/")
        datum = self.env.filters.get("datum", lambda moment: moment.date().isoformat())
        found = {}
        for article in self.context.get("articles", ()):
            mode = "open" if getattr(article, "comments_mode", "open") == "open" else "closed"
            comments = getattr(article, "comment_list", []) if mode == "open" else []
            found[article.slug] = {
                "title": str(article.title),
                "url": f"{base}/{article.url}",
                "comments": mode,
                "known": {comment.id: {"author": comment.author,
                                       "date": comment.date.isoformat(),
                                       "date_text": datum(comment.date),
                                       "html": str(comment.html)}
                          for comment in comments},
            }
        return found


def get_generators(pelican):
    return [ReactionPagesGenerator]
