"""Reactions through the site, at REACTIONS_ENDPOINT ("/reactie/"): the form, moderation's inbox.

A reader's way through it:

1. The form under an article is a static page, so it cannot carry a form time. Its
   post is checked in full, then answered with the service's own form page: the
   reaction as it will look, a signed form time and nonce, and "Plaats reactie".
   Nothing is stored yet.
2. That page's post must be signed, older than SERVICE_MIN_FORM_SECONDS, younger than
   a day, and its nonce must be new (a replayed form is refused). Then the reaction is
   stored as pending, the moderator gets a mail, and a commenter who asked for reply
   notifications gets a confirmation link (double opt-in).

"Beantwoorden" under a comment opens the form page answering that comment. A
problem the reader can fix (an empty text, a name that is a link) shows the form
again with their text in it and a message; abuse (honeypot, too many reactions,
a replayed form, a closed or unknown article) gets a page of its own. Every page
comes from the build (``output/reactie/pagina/<key>.html``); the form page has
markers that this module fills in one pass, escaping every value.

The reader's text is plain text: it is escaped, split into paragraphs, links become
``<a>`` (linkify-it-py) and the result is cleaned by the same allow-list as
imported comments (``clean_user_html``), at storage and again at every build.
Email and IP addresses in the text or the name never get that far: they are
replaced before storage, as the importers do.
"""

import dataclasses
import datetime
import html
import re
import secrets
import unicodedata
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from linkify_it import LinkifyIt
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from adviesblog_common.sanitize import (
    FORBIDDEN_CHARACTERS,
    SAFE_ID,
    clean_user_html,
    has_private_data,
    remove_private_data,
)
from migrate.text import public_url, single_line

from .app import (
    FORM_TIME_MARKER,
    FORM_TIME_MAX_AGE,
    RATE_WINDOW,
    BuildOutput,
    CannotMail,
    Refused,
    SiteNotBuilt,
    keyed_hash,
    new_token,
    read_json,
    same_secret,
    sign,
    signed_value,
    timestamp,
    token_hash,
)
from .logs import service_logger
from .mailer import transactional_message
from .store import CONFIRMED, PENDING, REPLY_PREFIX, NewReaction, NotifyRequest

logger = service_logger(__name__)

MANIFEST_FILE = "reacties.json"
# The settings file the moderation commands read unless told otherwise.
DEFAULT_SETTINGS = "publishconf.py"
MANIFEST_FORMAT = 1
# Every page key with its HTTP status (see the build's reaction pages).
PAGE_STATUS = {
    "index": 200, "formulier": 200, "bedankt": 200, "bedankt-melding": 200,
    "melding-bevestigen": 200, "melding-bevestigd": 200, "link-verlopen": 400,
    "melding-stoppen": 200, "melding-gestopt": 200, "gesloten": 403, "onbekend-artikel": 404,
    "onbekende-reactie": 404, "al-ontvangen": 409, "geweigerd": 400, "te-vaak": 429,
    "storing": 503, "niet-gevonden": 404,
}
FIELDS = ("artikel", "ouder", "naam", "site", "reactie", "email", "melding", "toestemming",
          "website", "t")
# Generous bounds for reading the form; the settings' limits are checked after, with
# a message the reader can act on.
FIELD_LENGTHS = {"artikel": 200, "ouder": 64, "naam": 1000, "site": 1000, "reactie": 60_000,
                 "email": 254, "melding": 10, "toestemming": 64, "website": 254, "t": 120}
NOTIFY_YES = "ja"
MAX_URL_LENGTH = 200
ID_PREFIX = "site-"
ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
ID_LENGTH = 10
MARKER = re.compile(r"__(?:REACTIE_[A-Z_]+|FORMULIER_TIJD)__")
# A name that is a web address: a scheme, "www.", a known domain anywhere ("Koop op
# pillen.nl"), or one word that ends like a domain ("casino.example"). Initials ("J.P.")
# and names with spaces pass.
NAME_AS_LINK = re.compile(
    r"://|(?:^|\s)www\.|\b[\w-]+(?:\.[\w-]+)*\.(?:nl|be|com|net|org|eu|de|info|biz|io|co|"
    r"shop|online|site|xyz|top|ru|cn|app|dev)\b(?!\.)|^[^\s@]+\.[^\W\d_]{2,24}(?:/\S*)?$",
    re.IGNORECASE)
# Any word that ends like a domain ("goedkoop.shop!", "bit.ly/abc"), after NFKC folded
# look-alikes ("ｇｏｅｄｋｏｏｐ.ｓｈｏｐ", "goedkoop。shop"); "J.P." and "Co." pass.
NAME_DOMAIN = re.compile(r"(?<![\w.])[\w-]{2,}(?:\.[\w-]+)*\.[^\W\d_]{2,24}(?![\w-])")
# C1 controls and the bidirectional overrides and isolates: a name must read as written,
# in a terminal (the moderator's commands) as on the page.
INVISIBLE_CONTROLS = re.compile("[\x80-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
STOP_PURPOSE = "reaction-stop"
FORM_PURPOSE = "reaction-form"


class ReactionSite:
    """What ``reacties.json`` of the last build says: consent, texts and the articles."""

    def __init__(self, data, path: Path):
        def wrong(what: str) -> SiteNotBuilt:
            return SiteNotBuilt(f"{path}: {what}; rebuild the site with this adviesblog version")

        if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
            raise wrong(f"expected an object with \"format\": {MANIFEST_FORMAT}")
        for key in ("consent", "notify_consent"):
            consent = data.get(key)
            if not (isinstance(consent, dict) and isinstance(consent.get("version"), str)
                    and consent["version"] and isinstance(consent.get("text"), str)
                    and consent["text"]):
                raise wrong(f"\"{key}\" needs a \"version\" and a \"text\"")
        for key in ("messages", "mails", "articles"):
            if not isinstance(data.get(key), dict):
                raise wrong(f"\"{key}\" is missing")
        self.path = path
        self.consent_version = data["consent"]["version"]
        self.consent_text = data["consent"]["text"]
        self.notify_version = data["notify_consent"]["version"]
        self.notify_text = data["notify_consent"]["text"]
        self.messages: dict = data["messages"]
        self.mails: dict = data["mails"]
        self.articles: dict = data["articles"]

    def article(self, slug: str) -> dict | None:
        article = self.articles.get(slug)
        return article if isinstance(article, dict) else None

    def message(self, key: str, **values) -> str:
        text = self.messages.get(key)
        if not isinstance(text, str):
            raise SiteNotBuilt(f"{self.path} has no message {key!r}; rebuild the site with "
                               "this adviesblog version")
        for name, value in values.items():
            text = text.replace(f"{{{name}}}", str(value))
        return text

    def mail(self, kind: str, **values) -> tuple[str, str]:
        """Subject and text of the mail ``kind`` with ``values`` filled in."""
        mail = self.mails.get(kind)
        if not (isinstance(mail, dict) and isinstance(mail.get("subject"), str)
                and isinstance(mail.get("text"), str) and mail["subject"]):
            raise CannotMail(f"{self.path} has no mails.{kind} with a subject and a text; the "
                             "build of this adviesblog version writes it")

        def fill(template: str) -> str:
            # One pass: a value that holds "{link}" is not filled in again.
            return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), m.group(0))),
                          template)

        return fill(mail["subject"]), fill(mail["text"])


def load_site(path: Path) -> ReactionSite:
    return ReactionSite(read_json(path), path)


# --- the reader's text ------------------------------------------------------------

@dataclasses.dataclass
class Draft:
    """The form's values as the reader typed them, to show again."""

    article: str = ""
    parent: str = ""
    name: str = ""
    url: str = ""
    text: str = ""
    email: str = ""
    notify: bool = False
    consent: str = ""

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> "Draft":
        return cls(article=fields.get("artikel", ""), parent=fields.get("ouder", ""),
                   name=fields.get("naam", ""), url=fields.get("site", ""),
                   text=fields.get("reactie", ""), email=fields.get("email", ""),
                   notify=fields.get("melding", "") == NOTIFY_YES,
                   consent=fields.get("toestemming", ""))


def new_reaction_id() -> str:
    return ID_PREFIX + "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


def plain_text(text: str) -> str:
    """The text with Unix line ends, no control characters and no trailing blanks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = INVISIBLE_CONTROLS.sub("", FORBIDDEN_CHARACTERS.sub("", text))
    return "\n".join(line.rstrip() for line in text.strip().split("\n"))


def one_line(name: str) -> str:
    """A name on one line, without control characters."""
    return single_line(INVISIBLE_CONTROLS.sub("", FORBIDDEN_CHARACTERS.sub("", name)))


def folded(text: str) -> str:
    """``text`` with look-alike characters folded (full-width "＠" is "@", "。" is ".")."""
    return unicodedata.normalize("NFKC", text).replace("\u3002", ".")


def name_is_address(linkify: LinkifyIt, name: str) -> bool:
    """Whether a name is, or holds, a web or email address, in plain or look-alike letters."""
    name = folded(name)
    return bool(NAME_AS_LINK.search(name) or NAME_DOMAIN.search(name)
                or web_links(linkify, name) or has_private_data(name))


def without_private_data(text: str) -> str:
    """``text`` with email and IP addresses replaced, also those in look-alike characters."""
    if has_private_data(folded(text)) and not has_private_data(text):
        text = folded(text)
    return remove_private_data(text)


def web_links(linkify: LinkifyIt, text: str) -> list:
    """The http(s) links linkify finds in ``text`` (bare domains and www. included)."""
    return [match for match in linkify.match(text) or ()
            if match.url.lower().startswith(("http://", "https://"))
            # Markdown would read a backtick in the stored link as code.
            and "`" not in match.url]


def reaction_html(linkify: LinkifyIt, text: str) -> str:
    """Plain text as allow-listed HTML: paragraphs, line breaks and clickable links."""
    paragraphs = []
    for paragraph in PARAGRAPH_BREAK.split(text):
        lines = []
        for line in paragraph.split("\n"):
            pieces, position = [], 0
            for match in web_links(linkify, line):
                pieces.append(html.escape(line[position:match.index]))
                pieces.append(f'<a href="{html.escape(match.url)}">'
                              f'{html.escape(match.text)}</a>')
                position = match.last_index
            pieces.append(html.escape(line[position:]))
            lines.append("".join(pieces))
        paragraphs.append("<p>" + "<br>\n".join(lines) + "</p>")
    return clean_user_html("\n".join(paragraphs))


def checked_url(value: str) -> str | None:
    """The commenter's website as a public http(s) address, "" for none, None if unusable."""
    url = value.strip()
    if not url:
        return ""
    if url.lower().startswith("www."):
        url = "https://" + url
    # The importers' rule for an author link (http(s), no blanks, no address, also not
    # percent-encoded), and what a reader can type besides: quotes, brackets, controls.
    if (public_url(url, Counter()) != url or len(url) > MAX_URL_LENGTH
            or any(character in "\"'<>`\\" for character in url)
            or FORBIDDEN_CHARACTERS.search(url)
            or "." not in url.split("://", 1)[1].split("/", 1)[0]):
        return None
    return url


def absolute_url(url: str, base: str) -> str:
    """``url`` with ``base`` before it when it starts at the site's root ("/2024/x/")."""
    return base.rstrip("/") + url if url.startswith("/") else url


def stop_token(config, reaction_id: str) -> str:
    """The secret of a reaction's stop link: only its mails hold it, nothing stores it."""
    return keyed_hash(config.secret_key, STOP_PURPOSE, reaction_id)[:40]


def stop_url(config, reaction_id: str, base: str) -> str:
    """The stop link of a reaction's notifications, at the service ``base``."""
    return (f"{base.rstrip('/')}{config.reactions_endpoint}stop/{reaction_id}/"
            f"{stop_token(config, reaction_id)}/")


def quoted(text: str) -> str:
    """A reader's text in a mail, every line marked, so it cannot pass for the mail's own
    lines (a fake command, a fake stop link, a fake signature)."""
    return "\n".join(f"> {line}".rstrip() for line in text.split("\n"))


def message(config, recipient: str, subject: str, text: str, **headers) -> bytes:
    """A single plain-text mail of the reaction service."""
    try:
        return transactional_message(
            mail_from=config.mail_from, recipient=recipient, subject=subject, text=text,
            message_id_domain=config.host, dkim=config.dkim, **headers)
    except ValueError as error:
        raise CannotMail(f"a reaction mail cannot be made ({error}); check "
                         "SERVICE_MAIL_FROM and REACTIONS_MODERATOR") from error


# --- the web side ---------------------------------------------------------------------

class ReactionDesk:
    """The reaction routes of the service app (``FollowService``), which it shares.

    It uses the app's form reading, client hashing, rate limits and page answers,
    with its own pages and ``reacties.json`` from ``output/<endpoint>/``.
    """

    def __init__(self, service):
        self.service = service
        self.config = service.config
        self.store = service.store
        self.clock = service.clock
        self.endpoint = self.config.reactions_endpoint
        self.output = BuildOutput(self.config.reaction_pages_path, PAGE_STATUS)
        self.linkify = LinkifyIt()

    def rules(self, endpoint: str) -> list[Rule]:
        return [
            Rule(endpoint, endpoint=self.react, methods=["GET", "POST"]),
            Rule(f"{endpoint}antwoord/<slug>/<comment_id>/", endpoint=self.reply_form,
                 methods=["GET"]),
            Rule(f"{endpoint}melding/<token>/", endpoint=self.confirm_notifications,
                 methods=["GET", "POST"]),
            Rule(f"{endpoint}stop/<reaction_id>/<token>/", endpoint=self.stop_notifications,
                 methods=["GET", "POST"]),
        ]

    def owns(self, request: Request) -> bool:
        path = request.root_path + request.path
        return (path + "/").startswith(self.endpoint)

    def site(self) -> ReactionSite:
        return self.output.data(MANIFEST_FILE, self._load_site)

    def _load_site(self, path: Path) -> ReactionSite:
        site = load_site(path)
        # Remember every consent text a build offered, so a reaction's proof holds the
        # text its writer saw, even after the text changed.
        for version, text in ((site.consent_version, site.consent_text),
                              (site.notify_version, site.notify_text)):
            self.store.remember_consent_text(version, text, self.clock())
        return site

    def refuse(self, key: str, reason: str) -> Refused:
        return Refused(key, reason, self.output)

    # --- signing ---------------------------------------------------------------------

    def sign_form(self, moment: datetime.datetime) -> str:
        """The form page's ``t``: when it was served and a nonce, signed."""
        return sign(self.config.secret_key, FORM_PURPOSE,
                    f"{int(moment.timestamp())}.{secrets.token_urlsafe(12)}")

    def read_form_time(self, value: str) -> tuple[datetime.datetime, str] | None:
        """(served at, nonce) of a ``t`` this service signed, else None."""
        signed = signed_value(self.config.secret_key, FORM_PURPOSE, value)
        stamp, _, nonce = (signed or "").partition(".")
        served = timestamp(stamp)
        return (served, nonce) if served and nonce else None

    # --- the form page -----------------------------------------------------------------

    def form_page(self, request: Request, site: ReactionSite, article: dict, draft: Draft, *,
                  message: str = "", error: bool = False, preview: str = "",
                  status: int = 200) -> Response:
        quote = ""
        if draft.parent:
            quote = self.quote(article, draft.parent)
        values = {
            "__REACTIE_TITEL__": html.escape(str(article.get("title", ""))),
            "__REACTIE_URL__": html.escape(str(article.get("url", ""))),
            "__REACTIE_ARTIKEL__": html.escape(draft.article),
            "__REACTIE_OUDER__": html.escape(draft.parent),
            "__REACTIE_NAAM__": html.escape(draft.name),
            "__REACTIE_SITE__": html.escape(draft.url),
            "__REACTIE_EMAIL__": html.escape(draft.email),
            "__REACTIE_TEKST__": html.escape(draft.text),
            "__REACTIE_MELDING_AAN__": "checked" if draft.notify else "",
            "__REACTIE_TOESTEMMING_AAN__": "checked" if draft.consent else "",
            FORM_TIME_MARKER: self.sign_form(self.clock()),
            "__REACTIE_BERICHT_HTML__": self.message_html(message, error),
            "__REACTIE_CITAAT_HTML__": quote,
            "__REACTIE_VOORBEELD_HTML__": self.preview_html(site, draft, preview),
        }

        def fill(page: str) -> str:
            return MARKER.sub(lambda match: values.get(match.group(), ""), page)

        return self.service.answer(request, "formulier", self.output, status=status, fill=fill)

    @staticmethod
    def message_html(message: str, error: bool) -> str:
        if not message:
            return ""
        if error:
            return (f'<p class="reaction-message reaction-message--error" role="alert">'
                    f"{html.escape(message)}</p>")
        return f'<p class="reaction-message" role="status">{html.escape(message)}</p>'

    @staticmethod
    def quote(article: dict, comment_id: str) -> str:
        comment = (article.get("known") or {}).get(comment_id)
        if not isinstance(comment, dict):
            return ""
        return ('<blockquote class="reaction-quote"><p class="comment__meta"><strong>'
                f'{html.escape(str(comment.get("author", "")))}</strong> · <time datetime="'
                f'{html.escape(str(comment.get("date", "")))}">'
                f'{html.escape(str(comment.get("date_text", "")))}</time></p>'
                # Made by the build from a cleaned comment; cleaned once more, as it is read
                # from a file.
                f'<div class="comment__body">{clean_user_html(str(comment.get("html", "")))}'
                "</div></blockquote>")

    def preview_html(self, site: ReactionSite, draft: Draft, body_html: str) -> str:
        if not body_html:
            return ""
        title = html.escape(site.message("voorbeeld"))
        name = html.escape(one_line(draft.name))
        return ('<section class="reaction-preview" aria-labelledby="voorbeeld-titel">'
                f'<h2 id="voorbeeld-titel">{title}</h2><p class="comment__meta"><strong>{name}'
                f'</strong></p><div class="comment__body">{body_html}</div></section>')

    # --- routes ------------------------------------------------------------------------

    def react(self, request: Request) -> Response:
        if request.method != "POST":  # GET or HEAD
            return self.service.answer(request, "index", self.output)
        now = self.clock()
        site = self.site()
        fields = self.service.fields(request, FIELDS, FIELD_LENGTHS, self.output, "geweigerd")
        if fields.get("website", "").strip():
            raise self.refuse("geweigerd", "honeypot filled in")
        if request.headers.get("Sec-Fetch-Site") == "cross-site":
            # Another site's page posting through its visitors: their addresses would
            # each get a fresh allowance.
            raise self.refuse("geweigerd", "posted from another site (Sec-Fetch-Site)")
        draft = Draft.from_fields(fields)
        article = self.open_article(site, draft)
        checked = self.check(request, site, draft, fields.get("t"), now)
        if isinstance(checked, Response):
            return checked
        body_html, form_time = checked
        if form_time is None:
            # The static form of an article: show the reaction as it will look, with a
            # signed form time; only that page's post is stored.
            return self.form_page(request, site, article, draft,
                                  message=site.message("controleer"), preview=body_html)
        return self.store_reaction(request, site, article, draft, body_html, form_time[1], now)

    def open_article(self, site: ReactionSite, draft: Draft) -> dict:
        """The article reacted on, if it takes reactions, and the comment answered exists."""
        article = site.article(draft.article)
        if article is None:
            raise self.refuse("onbekend-artikel", "no published article with this slug")
        if article.get("comments") != "open":
            raise self.refuse("gesloten", "comments are closed")
        if draft.parent and not (
                SAFE_ID.fullmatch(draft.parent)
                and (draft.parent in (article.get("known") or {})
                     or self.store.reaction_known(draft.article, draft.parent))):
            raise self.refuse("onbekende-reactie", "the parent is no comment of this article")
        return article

    def check(self, request: Request, site: ReactionSite, draft: Draft, signed: str | None,
              now: datetime.datetime):
        """(body HTML, (served at, nonce) or None), or the form again with what to fix."""

        def again(key: str, **values) -> Response:
            return self.form_page(request, site, site.article(draft.article), draft,
                                  message=site.message(key, **values), error=True, status=400)

        form_time = None
        if signed is not None:
            form_time = self.read_form_time(signed)
            age = now - form_time[0] if form_time else None
            if age is None or age > FORM_TIME_MAX_AGE:
                logger.info("service: reaction form time %s", "not signed by this service"
                            if age is None else "older than a day")
                return again("formulier-verlopen")
            if age < datetime.timedelta(seconds=self.config.min_form_seconds):
                logger.info("service: reaction posted %.1f s after its form was served",
                            age.total_seconds())
                return again("te-snel")
        name = one_line(draft.name)
        if not name:
            return again("naam-leeg")
        if len(name) > self.config.max_name_length:
            return again("naam-te-lang", max=self.config.max_name_length)
        if name_is_address(self.linkify, name):
            return again("naam-is-link")
        if checked_url(draft.url) is None:
            return again("ongeldige-site")
        text = plain_text(draft.text)
        if not text:
            return again("leeg")
        if len(text) > self.config.max_text_length:
            return again("te-lang", max=self.config.max_text_length)
        if len(web_links(self.linkify, text)) > self.config.max_links:
            return again("te-veel-links", max=self.config.max_links)
        if draft.notify and not draft.email.strip():
            return again("melding-zonder-adres")
        if draft.notify:
            try:
                self.service.address({"email": draft.email})
            except Refused:
                return again("ongeldig-adres")
        if not draft.consent:
            return again("geen-toestemming")
        if draft.consent != site.consent_version and self.store.consent_text(draft.consent) is None:
            draft.consent = ""
            return again("verouderd-formulier")
        return reaction_html(self.linkify, without_private_data(text)), form_time

    def store_reaction(self, request: Request, site: ReactionSite, article: dict, draft: Draft,
                       body_html: str, nonce: str, now: datetime.datetime) -> Response:
        nonce_hash = token_hash(nonce)
        if self.store.form_used(nonce_hash):
            raise self.refuse("al-ontvangen", "form posted before (nonce used)")
        client = self.service.client(request)
        address = self.service.address({"email": draft.email}) if draft.notify else ""
        limits = [("reaction-ip", client.ip_hash, self.config.reactions_per_ip_per_hour)]
        if address:
            limits.append(("reaction-address", keyed_hash(self.config.secret_key, "email",
                                                          address),
                           self.config.signups_per_address_per_hour))
        used_up = self.store.take_allowance(limits, now - RATE_WINDOW, now)
        if used_up is not None:
            logger.info("service: reaction refused (te-vaak): more than the hourly limit (%s), "
                        "client %s", used_up, client.tag)
            # The form again, with the text in it: the reader can send it later.
            return self.form_page(request, site, article, draft, error=True, status=429,
                                  message=site.message("te-vaak"))
        consent_text = (site.consent_text if draft.consent == site.consent_version
                        else self.store.consent_text(draft.consent))
        name = one_line(draft.name)
        text = without_private_data(plain_text(draft.text))
        reaction = NewReaction(
            id=new_reaction_id(), article=draft.article, parent=draft.parent, author=name,
            author_url=checked_url(draft.url) or "", text=text, html=body_html,
            consent_version=draft.consent, consent_text=consent_text, ip_hash=client.ip_hash,
            user_agent_hash=client.user_agent_hash, form_nonce=nonce_hash,
            service_url=self.config.site_url)
        notify = None
        if address:
            token = new_token()
            subject, body = site.mail("notify_confirm", title=article.get("title", ""),
                                      link=self.config.reaction_url(f"melding/{token}/"))
            notify = NotifyRequest(
                email=address, consent_version=site.notify_version,
                consent_text=site.notify_text, token_hash=token_hash(token),
                expires_at=now + datetime.timedelta(hours=self.config.confirm_hours),
                new_unsubscribe_token=new_token(),
                confirmation_mail=message(self.config, address, subject, body))
        moderator_mails = [(self.config.moderator, self.moderator_mail(site, article, reaction))]
        if not self.store.add_reaction(reaction, now, moderator_mails, notify):
            raise self.refuse("al-ontvangen", "form posted before (nonce used)")
        self.service.on_mail_queued()
        logger.info("service: reaction %s on %s stored for moderation, client %s", reaction.id,
                    reaction.article, client.tag)
        return self.service.answer(request, "bedankt-melding" if notify else "bedankt",
                                   self.output)

    def moderator_mail(self, site: ReactionSite, article: dict, reaction: NewReaction) -> bytes:
        settings = self.config.settings_file
        # The commands must reach this service's database, whatever settings it runs with.
        option = (f" --settings {settings.name}"
                  if settings and settings.name != DEFAULT_SETTINGS else "")
        commands = "\n".join(f"  .venv/bin/invoke reactions {action} -r {reaction.id}{option}"
                             for action in ("show", "approve", "reject", "spam"))
        url = absolute_url(str(article.get("url", "")), self.config.site_url)
        website = f" <{reaction.author_url}>" if reaction.author_url else ""
        subject, text = site.mail(
            "moderator", author=f"{reaction.author}{website}",
            title=article.get("title", ""), url=url, text=quoted(reaction.text),
            commands=commands)
        return message(self.config, self.config.moderator, subject, text)

    def reply_form(self, request: Request, slug: str, comment_id: str) -> Response:
        site = self.site()
        draft = Draft(article=slug, parent=comment_id)
        article = self.open_article(site, draft)
        known = (article.get("known") or {}).get(comment_id) or {}
        return self.form_page(request, site, article, draft, message=site.message(
            "beantwoorden", author=known.get("author", "")))

    def confirm_notifications(self, request: Request, token: str) -> Response:
        hashed = token_hash(token) if len(token) <= 100 else None
        found = hashed and self.store.confirmation(hashed)
        if not (found and found.scope.startswith(REPLY_PREFIX)):
            return self.service.answer(request, "link-verlopen", self.output)
        now = self.clock()
        if request.method != "POST":  # GET or HEAD: mail scanners open links
            if found.state == CONFIRMED:
                return self.service.answer(request, "melding-bevestigd", self.output)
            if found.state == PENDING and found.expires_at and found.expires_at >= now:
                return self.service.answer(request, "melding-bevestigen", self.output)
            return self.service.answer(request, "link-verlopen", self.output)
        if self.store.confirm(hashed, now) in ("confirmed", "already"):
            logger.info("service: reply notifications confirmed")
            return self.service.answer(request, "melding-bevestigd", self.output)
        return self.service.answer(request, "link-verlopen", self.output)

    def stop_notifications(self, request: Request, reaction_id: str, token: str) -> Response:
        if request.method != "POST":  # GET or HEAD
            return self.service.answer(request, "melding-stoppen", self.output)
        # The button and RFC 8058's one-click POST both end here, with the same answer
        # whether or not the link was valid.
        if SAFE_ID.fullmatch(reaction_id) and same_secret(
                token, stop_token(self.config, reaction_id)):
            if self.store.stop_notifications(reaction_id):
                logger.info("service: reply notifications of %s stopped", reaction_id)
        return self.service.answer(request, "melding-gestopt", self.output)

