"""The follow service's pages and form data, pre-rendered by the build.

When ``FOLLOW_ENDPOINT`` is a path on this site (``/volg/``), the service there
answers every request with a page the build wrote, in the site's look and language:
``output/volg/pagina/<key>.html`` for each key of ``PAGE_KEYS``, from the theme's
``follow_service.html``. Next to them, ``formulier.json`` tells the service what
the forms post: the consent version and the text it stands for, the scopes offered,
the promised frequency and the page keys (the README describes it), and the Dutch
texts of the service's own mails (``email/service_mails.txt``).

The pages are written directly, not through Pelican's writer: they are no pages of
the site, so they stay out of the sitemap and every listing, and each says
``noindex``. The service serves them at addresses of any depth, so their links
are absolute (publish build) or start at the site's root (development).
"""

import json
import os

from pelican.generators import Generator

from adviesblog_common.files import write_atomically
from adviesblog_common.identity import site_base_url
from adviesblog_common.service_endpoints import (
    endpoint_folder,
    form_action,
    write_service_pages,
)

from .consent import scope_name

FORMULIER_FORMAT = 1
# The pages the service shows, in the order of a reader's way through it.
PAGE_KEYS = (
    "index", "bijna-klaar", "bevestigen", "bevestigd", "link-verlopen",
    "afmelden", "afmelden-verstuurd", "afmelden-knop", "afgemeld",
    "ongeldig-adres", "ongeldige-invoer", "verouderd-formulier", "te-snel", "te-vaak",
    "geweigerd", "storing", "niet-gevonden",
)
# The hidden ``t`` field of the service's own forms holds this until the service
# replaces it with a signed time.
FORM_TIME_MARKER = "__FORMULIER_TIJD__"
# The service reads the form by these names, whichever preset the static pages use.
SERVICE_FIELDS = {"email": "email", "scope": "scope", "consent": "consent",
                  "honeypot": "website"}
# What the service puts into its mails' texts: the link with a token, the scope's name.
MAIL_PLACEHOLDERS = {"link": "{link}", "scope_name": "{scope_name}"}


def offered_scopes(context) -> list[tuple[str, str, str]]:
    """(kind, slug, name) of every scope a follow form of this site can post.

    The whole site, each series (with the series plugin, whose pages offer
    them) and each category of a published article, as ``follow_scopes`` gives
    them on the articles and the series pages.
    """
    scopes = [("site", "", context.get("SITENAME", ""))]
    scopes += [("series", series.slug, series.name) for series in context.get("series_list", [])]
    scopes += [("category", category.slug, category.name)
               for category, _articles in sorted(context.get("categories", []),
                                                 key=lambda pair: pair[0].slug)]
    return scopes


class ServicePagesGenerator(Generator):
    """Writes ``<endpoint>/pagina/<key>.html`` and ``<endpoint>/formulier.json``."""

    def generate_output(self, writer):
        folder = endpoint_folder(self.settings["FOLLOW_ENDPOINT"])
        if folder is None:
            return
        settings = self.settings
        endpoint = f"/{folder}/"
        action = form_action(settings, endpoint)
        scopes = offered_scopes(self.context)
        service = {
            "action": action,
            "unsubscribe_action": f"{action}afmelden/",
            "fields": SERVICE_FIELDS,
            "scopes": scopes,
            "time_marker": FORM_TIME_MARKER,
        }
        output = write_service_pages(self, folder, "follow_service", "follow_page", PAGE_KEYS,
                                     follow_service=service)
        self.write_form_data(output, endpoint, scopes)

    def write_form_data(self, output: str, endpoint: str, scopes) -> None:
        consent_text, version = self.env.globals["follow_consent"]()
        data = {
            "format": FORMULIER_FORMAT,
            "site": {"name": self.settings["SITENAME"], "url": site_base_url(self.settings)},
            "endpoint": endpoint,
            "consent": {"version": version, "text": " ".join(consent_text.unescape().split())},
            "scopes": [{"scope": f"{kind}:{slug}" if slug else kind,
                        "name": scope_name(self.env, kind, name)}
                       for kind, slug, name in scopes],
            "frequency": self.env.globals["follow_frequency"](),
            "pages": list(PAGE_KEYS),
            "mails": self.service_mails(),
        }
        write_atomically(os.path.join(output, "formulier.json"),
                         (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
                         .encode("utf-8"))

    def service_mails(self) -> dict:
        """Subject and text of the service's confirmation and unsubscribe mails."""
        mails = self.env.get_template("email/service_mails.txt").module
        site, site_url = self.settings["SITENAME"], site_base_url(self.settings)
        frequency = self.env.globals["follow_frequency"]()["text"]
        return {
            "confirm": {"subject": mails.confirm_subject(site),
                        "text": mails.confirm_text(site, site_url, frequency,
                                                   MAIL_PLACEHOLDERS["scope_name"],
                                                   MAIL_PLACEHOLDERS["link"])},
            "unsubscribe": {"subject": mails.unsubscribe_subject(site),
                            "text": mails.unsubscribe_text(site, site_url,
                                                           MAIL_PLACEHOLDERS["link"])},
        }
