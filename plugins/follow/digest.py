"""Digest editions: several articles in one email, rendered by the build or by the sender.

A digest is rendered from article records as ``editions.json`` holds them (title,
url, date, authors, ``summary_html``, ``summary_text``), never from Pelican's
article objects. So ``invoke edition --since`` (the build, ``FOLLOW_DIGEST_SINCE``)
and the newsletter sender, which groups the articles due to a subscriber into one
digest when the promised frequency allows no more mails, render the same email
with the same code. The sender does that without a build::

    renderer = DigestRenderer(read_settings("publishconf.py"), manifest)
    subject, html, text = renderer.render(["tag:…", "tag:…"])

Both parts hold ``manifest["placeholders"]["unsubscribe_url"]`` once, for the sender
to replace with the subscriber's own link, as in every other edition.
"""

import datetime
import os
from collections.abc import Iterable, Mapping
from types import SimpleNamespace
from typing import Any

import css_inline
import jinja2
from markupsafe import Markup

# The settings the email templates read; passing only these keeps rendering cheap.
TEMPLATE_SETTINGS = ("SITENAME", "SITE_CONTACT", "THEME_COLORS", "DEFAULT_LANG")


def new_inliner() -> css_inline.CSSInliner:
    """Moves the email's style block onto its elements; email clients drop style blocks."""
    return css_inline.CSSInliner(keep_style_tags=False)


def render_email(env: jinja2.Environment, inliner: css_inline.CSSInliner, name: str,
                 context: dict) -> tuple[str, str]:
    """``email/<name>.html`` with its CSS inlined, and ``email/<name>.txt``."""
    html_part = inliner.inline(env.get_template(f"email/{name}.html").render(context))
    return html_part, env.get_template(f"email/{name}.txt").render(context)


def digest_items(records: Iterable[Mapping[str, Any]]) -> list[dict]:
    """What ``email/digest.*`` shows of each article record of ``editions.json``."""
    return [{
        "title": record["title"],
        "url": record["url"],
        "date": datetime.datetime.fromisoformat(record["date"]),
        "authors": list(record["authors"]),
        # Written by the build from the article's Markdown summary (absolute URLs,
        # every image with an alt): HTML the build made, so it is shown as HTML.
        "summary": Markup(record["summary_html"]),
        "summary_text": record["summary_text"],
    } for record in records]


def render_digest_parts(env: jinja2.Environment, inliner: css_inline.CSSInliner, context: dict,
                        records: list[Mapping[str, Any]],
                        since: datetime.date) -> tuple[str, str, str]:
    """Title, HTML and text of a digest of ``records`` (newest first) from ``since`` on.

    ``context`` holds the settings of TEMPLATE_SETTINGS, ``site_url``,
    ``unsubscribe_url`` and ``browser_url`` (empty: the digest has no web copy).
    """
    items = digest_items(records)
    newest = max(item["date"] for item in items).date()
    # The macro renders HTML; the title itself is text, escaped where HTML is written.
    title = Markup(env.get_template("titles.html").module.digest_title(since, newest)).unescape()
    html_part, text_part = render_email(env, inliner, "digest",
                                        dict(context, items=items, digest_title=title))
    return title, html_part, text_part


def email_environment(settings: Mapping[str, Any]) -> jinja2.Environment:
    """A Jinja environment for the email templates outside a build, set up as a build's.

    The theme's templates (after THEME_TEMPLATES_OVERRIDES), the JINJA_ENVIRONMENT
    options (autoescape), the JINJA_* filters, globals and tests, and site_nl's
    catalogue and date filters, installed by site_nl itself. ``settings`` is what
    ``pelican.settings.read_settings`` gives for the project's settings file.
    """
    # The follow plugin needs site_nl in every build; outside one, no signal installs it.
    from site_nl import site_nl

    settings = dict(settings)
    site_nl.set_defaults(SimpleNamespace(settings=settings))
    folders = [*settings.get("THEME_TEMPLATES_OVERRIDES", ()),
               os.path.join(os.path.expanduser(settings["THEME"]), "templates")]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(folders),
                             **settings.get("JINJA_ENVIRONMENT", {}))
    env.filters.update(settings.get("JINJA_FILTERS", {}))
    env.globals.update(settings.get("JINJA_GLOBALS", {}))
    env.tests.update(settings.get("JINJA_TESTS", {}))
    site_nl.install_i18n(SimpleNamespace(env=env, settings=settings, context={}))
    return env


class DigestRenderer:
    """Renders digests of the article editions of one ``editions.json``.

    Set up once (the catalogue is compiled, the templates loaded) and used for
    every digest of a send run.
    """

    def __init__(self, project_settings: Mapping[str, Any], manifest: Mapping[str, Any]):
        self.env = email_environment(project_settings)
        self.inliner = new_inliner()
        self.context = {key: project_settings[key] for key in TEMPLATE_SETTINGS}
        self.context.update(site_url=manifest["site"]["url"],
                            unsubscribe_url=manifest["placeholders"]["unsubscribe_url"])
        # editions.json lists the editions newest first; a digest keeps that order.
        self.articles = {edition["id"]: edition for edition in manifest["editions"]
                         if edition.get("kind") == "article"}

    def records(self, edition_ids: Iterable[str]) -> list[Mapping[str, Any]]:
        wanted = set(edition_ids)
        unknown = sorted(wanted - set(self.articles))
        if unknown:
            raise ValueError(f"editions.json has no article edition with id {', '.join(unknown)}")
        if not wanted:
            raise ValueError("a digest needs at least one article edition")
        records = [record for record in self.articles.values() if record["id"] in wanted]
        old = [record["id"] for record in records if "summary_html" not in record]
        if old:
            raise ValueError(f"editions.json has no summary_html for {', '.join(old)}; "
                             "it was written by an older build: publish the site again")
        return records

    def render(self, edition_ids: Iterable[str], since: datetime.date | str | None = None,
               browser_url: str = "") -> tuple[str, str, str]:
        """Subject, HTML (CSS inlined) and text of a digest of ``edition_ids``.

        ``since`` is the first day the title names: by default the oldest article's
        day. ``browser_url`` links a web copy when there is one.
        """
        records = self.records(edition_ids)
        if since is None:
            since = min(datetime.datetime.fromisoformat(r["date"]) for r in records).date()
        elif isinstance(since, str):
            since = datetime.date.fromisoformat(since)
        return render_digest_parts(self.env, self.inliner, dict(self.context,
                                                                browser_url=browser_url),
                                   records, since)


def render_digest(project_settings: Mapping[str, Any], manifest: Mapping[str, Any],
                  edition_ids: Iterable[str], since: datetime.date | str | None = None,
                  browser_url: str = "") -> tuple[str, str, str]:
    """Subject, HTML and text of one digest; see ``DigestRenderer`` to render many."""
    return DigestRenderer(project_settings, manifest).render(edition_ids, since, browser_url)
