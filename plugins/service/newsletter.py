"""``invoke newsletter``: which subscriber gets which edition, and sending each exactly once.

The input is ``editions.json`` of the publish build (see the README). For every
confirmed subscriber, one at a time, the articles due are the article editions
that match one of their scopes, were published after they confirmed that scope,
and are not yet in the journal for them. The promised frequency
(``editions.json``'s ``frequency``, from ``FOLLOW_FREQUENCY``) decides how they go:
with 0 days each article is its own email; otherwise a subscriber who had an email
less than that many days ago waits, one due article goes as its edition, and more
go as one digest of exactly those articles.

Never twice, never skipped: each message is journaled as "sending" (with its
articles) in a commit made just before the SMTP server is given the final ".",
and as "sent" after its reply. A run that is killed, or that loses the server,
is resumed by running it again; the journal skips what went out. A message
still "sending" after a crash may or may not have arrived: it is reported as
uncertain and only sent again on request (``--resend-uncertain``).

Memory does not grow with the number of subscribers: subscribers are read a page
at a time and each message is rendered, sent and dropped. Only the rendered
editions (one per article, one per distinct set of articles in a digest) are kept.
"""

import argparse
import collections
import dataclasses
import datetime
import hashlib
import hmac
import itertools
import json
import logging
import sys
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .config import ConfigError, ServiceConfig
from .logs import service_logger
from .mailer import (
    EditionMessage,
    MailError,
    PermanentFailure,
    SmtpSession,
    TemporaryFailure,
    UncertainDelivery,
    checked_address,
)
from .store import SENDING, SENT, UNCERTAIN, Delivery, Store, StoreError, open_store

logger = service_logger(__name__)

MANIFEST_FORMAT = 1
MANIFEST_NAME = "editions.json"
# FOLLOW_EDITIONS_PATH's default (follow plugin); the settings file may set another.
DEFAULT_EDITIONS_PATH = "nieuwsbrief"
DIGEST_PREFIX = "digest:"
# Rendered editions kept at once: one per article plus the distinct digests a run
# meets; most subscribers share a handful, so a small cache renders each once.
EDITION_CACHE_SIZE = 64
# Failures and uncertain deliveries listed by name in the output; the rest are counted.
LISTED = 20
DIGEST_TITLES_SHOWN = 3
EXIT_OK, EXIT_ERROR = 0, 1


# The build keeps an edition under 100 KB; a part ten times that size is no edition of ours.
MAX_PART_BYTES = 1024 * 1024


class NewsletterError(Exception):
    """The sender cannot go on; the message says why, for the operator."""


class SmtpUnavailable(NewsletterError):
    """The SMTP server stayed unreachable; ``report`` says what went out before that."""

    def __init__(self, message: str, report: "Report"):
        super().__init__(message)
        self.report = report


class _AlreadyJournaled(Exception):
    """The journal already holds this message or one of its articles: do not send it."""


# --- editions.json ---------------------------------------------------------------


def manifest_path(config: ServiceConfig, project_settings: Mapping[str, Any]) -> Path:
    """Where the publish build wrote editions.json."""
    folder = str(project_settings.get("FOLLOW_EDITIONS_PATH") or DEFAULT_EDITIONS_PATH)
    return config.output_path / folder.strip("/") / MANIFEST_NAME


def _require(condition: bool, path: Path, problem: str) -> None:
    if not condition:
        raise NewsletterError(f"{path}: {problem}; publish the site again (invoke publish) "
                              "and check that this is its editions.json")


def _is_text(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _parse_date(value, path: Path, where: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        moment = None
    _require(moment is not None and moment.tzinfo is not None, path,
             f"{where} has date {value!r}; expected an ISO date with a time zone")
    return moment


ARTICLE_KEYS = ("id", "title", "subject", "url", "date", "series_slug", "category_slug",
                "authors", "html", "text", "summary_html", "summary_text")


def _check_article(edition: dict, index: int, path: Path, output: Path) -> None:
    where = f"edition {index + 1} ({edition.get('id', 'without id')})"
    missing = [key for key in ARTICLE_KEYS if key not in edition]
    _require(not missing, path, f"{where} has no {', '.join(missing)}")
    for key in ("id", "subject", "html", "text"):
        _require(_is_text(edition[key]), path, f"{where}: {key!r} is not a text")
    for key in ("series_slug", "category_slug"):
        _require(edition[key] is None or _is_text(edition[key]), path,
                 f"{where}: {key!r} is not a text or null")
    _require(isinstance(edition["authors"], list)
             and all(isinstance(name, str) for name in edition["authors"]), path,
             f"{where}: 'authors' is not a list of names")
    _parse_date(edition["date"], path, where)
    root = output.resolve()
    for key in ("html", "text"):
        part = (output / edition[key]).resolve()
        _require(part.is_relative_to(root), path,
                 f"{where}: {key!r} is {edition[key]!r}, which is outside {output}")
        _require(part.is_file(), path,
                 f"{where}: its {key} part {output / edition[key]} does not exist")
        size = part.stat().st_size
        _require(size <= MAX_PART_BYTES, path,
                 f"{where}: its {key} part is {size // 1024:,} KB; the build keeps editions "
                 f"under Gmail's 100 KB, and the sender refuses parts over "
                 f"{MAX_PART_BYTES // 1024:,} KB")


def load_manifest(path: str | Path, config: ServiceConfig) -> dict:
    """Read and check editions.json; any problem is a NewsletterError naming the file.

    The ``html`` and ``text`` parts are paths under ``config.output_path``; they are
    checked to exist here and read only when an edition is sent.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NewsletterError(f"{path}: not found; publish the site first (invoke publish), "
                              "the newsletter is sent from its email editions") from None
    except OSError as error:
        raise NewsletterError(f"{path}: cannot be read: {error.strerror}") from None
    try:
        manifest = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NewsletterError(f"{path}: not valid JSON ({error}); publish the site again "
                              "(invoke publish)") from None
    _require(isinstance(manifest, dict), path, "the file holds no JSON object")
    _require(manifest.get("format") == MANIFEST_FORMAT, path,
             f"format is {manifest.get('format')!r}; this sender reads format {MANIFEST_FORMAT}")
    site = manifest.get("site")
    _require(isinstance(site, dict) and isinstance(site.get("url"), str), path,
             "'site.url' is missing")
    site_url = site["url"].rstrip("/")
    if site_url != config.site_url.rstrip("/"):
        raise NewsletterError(
            f"{path}: is from another site ({site_url or 'a build without SITEURL'}), while "
            f"the service sends for {config.site_url}; publish this site (invoke publish) "
            "or set SERVICE_SITE_URL")
    placeholders = manifest.get("placeholders")
    _require(isinstance(placeholders, dict) and _is_text(placeholders.get("unsubscribe_url")),
             path, "'placeholders.unsubscribe_url' is missing")
    frequency = manifest.get("frequency")
    _require(isinstance(frequency, dict) and _is_text(frequency.get("key"))
             and isinstance(frequency.get("text"), str)
             and type(frequency.get("days")) is int and frequency["days"] >= 0, path,
             "'frequency' is missing or incomplete (expected key, days and text); it was "
             "written by an older build")
    editions = manifest.get("editions")
    _require(isinstance(editions, list), path, "'editions' is missing or not a list")
    seen = set()
    for index, edition in enumerate(editions):
        _require(isinstance(edition, dict) and edition.get("kind") in ("article", "digest"),
                 path, f"edition {index + 1} has no kind 'article' or 'digest'")
        if edition["kind"] == "article":
            _check_article(edition, index, path, config.output_path)
            _require(edition["id"] not in seen, path,
                     f"edition id {edition['id']!r} occurs twice")
            seen.add(edition["id"])
    return manifest


# --- who gets what ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Article:
    """An article edition of editions.json, as the planner needs it."""

    id: str
    title: str
    date: datetime.datetime
    series_slug: str | None
    category_slug: str | None

    def matches(self, scope: str) -> bool:
        kind, _, slug = scope.partition(":")
        if kind == "site":
            return True
        if kind == "series":
            return slug == self.series_slug
        if kind == "category":
            return slug == self.category_slug
        return False


def articles_of(manifest: Mapping[str, Any]) -> list[Article]:
    """The article editions, newest first (the digests of the build are not sent)."""
    articles = [Article(edition["id"], edition["title"],
                        datetime.datetime.fromisoformat(edition["date"]),
                        edition["series_slug"], edition["category_slug"])
                for edition in manifest["editions"] if edition["kind"] == "article"]
    return sorted(articles, key=lambda article: article.date, reverse=True)


def digest_id(article_ids) -> str:
    """The journal key of a digest: the same set of articles always gives the same id."""
    digest = hashlib.sha256("\n".join(sorted(article_ids)).encode("utf-8")).hexdigest()
    return f"{DIGEST_PREFIX}{digest[:32]}"


@dataclasses.dataclass(frozen=True)
class Message:
    """One email to one subscriber; made, sent and dropped one at a time."""

    subscriber_id: int
    email: str
    unsubscribe_token: str
    edition_id: str
    article_ids: tuple[str, ...]


@dataclasses.dataclass
class PlannedEdition:
    edition_id: str
    article_ids: tuple[str, ...]
    recipients: int = 0


@dataclasses.dataclass
class Plan:
    """What a run sends: counts per edition, never a list of messages."""

    frequency: dict
    articles: dict[str, Article]
    editions: dict[str, PlannedEdition] = dataclasses.field(default_factory=dict)
    subscribers: int = 0
    deferred: int = 0
    deferred_from: datetime.datetime | None = None
    deferred_until: datetime.datetime | None = None
    refused_before: int = 0
    uncertain: list[Delivery] = dataclasses.field(default_factory=list)

    @property
    def messages(self) -> int:
        return sum(edition.recipients for edition in self.editions.values())

    def count(self, message: Message) -> None:
        planned = self.editions.get(message.edition_id)
        if planned is None:
            planned = self.editions[message.edition_id] = PlannedEdition(
                message.edition_id, message.article_ids)
        planned.recipients += 1

    def defer(self, due_at: datetime.datetime) -> None:
        self.deferred += 1
        self.deferred_from = min(self.deferred_from or due_at, due_at)
        self.deferred_until = max(self.deferred_until or due_at, due_at)

    def title(self, planned: PlannedEdition) -> str:
        if not planned.edition_id.startswith(DIGEST_PREFIX):
            return self.articles[planned.edition_id].title
        titles = [self.articles[article_id].title for article_id in planned.article_ids]
        if len(titles) > DIGEST_TITLES_SHOWN:
            titles[DIGEST_TITLES_SHOWN:] = [f"and {len(titles) - DIGEST_TITLES_SHOWN} more"]
        return f"digest of {len(planned.article_ids)} articles: {'; '.join(titles)}"

    def edition_lines(self, counts: Mapping[str, int] | None = None) -> list[str]:
        """A line per edition: its recipients (or ``counts`` of it), title and id."""
        if counts is None:
            counts = {edition_id: planned.recipients
                      for edition_id, planned in self.editions.items()}
        return [f"  {count:>7,}  {self.title(self.editions[edition_id])}  [{edition_id}]"
                for edition_id, count in counts.items()]

    def deferred_lines(self) -> list[str]:
        if not self.deferred:
            return []
        window = _when(self.deferred_from)
        if self.deferred_until != self.deferred_from:
            window = f"{window} to {_when(self.deferred_until)}"
        return [f"Deferred by the frequency ({self.frequency['key']}: at most one email per "
                f"{self.frequency['days']} days): {self.deferred:,} subscribers, due from "
                f"{window}"]

    def lines(self) -> list[str]:
        """The dry run's output."""
        lines = [f"Confirmed subscribers: {self.subscribers:,}"]
        if self.editions:
            lines.append(f"Would send {self.messages:,} messages:")
            lines += self.edition_lines()
        else:
            lines.append("Nothing to send now.")
        lines += self.deferred_lines()
        if self.refused_before:
            lines.append(f"Refused for good by the mail server in an earlier run (not sent "
                         f"again): {self.refused_before:,}")
        lines += uncertain_lines(self.uncertain, "from an interrupted run")
        lines.append("Dry run: nothing was sent. Send with: invoke newsletter --send")
        return lines


def _when(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def uncertain_lines(deliveries: list[Delivery], origin: str, total: int | None = None) -> list:
    total = len(deliveries) if total is None else total
    if not total:
        return []
    lines = [f"Uncertain {origin}: {total:,} (the connection broke after the message was "
             "handed over; it may have arrived, so it is not sent again unless you run "
             "invoke newsletter --send --resend-uncertain):"]
    lines += [f"  {delivery.email}  [{delivery.edition_id}]  {_when(delivery.started_at)}"
              for delivery in deliveries[:LISTED]]
    if total > LISTED:
        lines.append(f"  ... and {total - LISTED:,} more")
    return lines


class Planner:
    """Works out each subscriber's messages from the journal, one subscriber at a time."""

    def __init__(self, store: Store, manifest: Mapping[str, Any], now: datetime.datetime):
        self.store = store
        self.now = now
        # An article dated after now is not published yet (a build with future dates).
        self.articles = [article for article in articles_of(manifest) if article.date <= now]
        self.days = manifest["frequency"]["days"]
        self.cadence = datetime.timedelta(days=self.days)
        self.by_scope: dict[str, list[Article]] = {}

    def new_plan(self, manifest: Mapping[str, Any]) -> Plan:
        return Plan(frequency=dict(manifest["frequency"]),
                    articles={article.id: article for article in articles_of(manifest)})

    def scope_articles(self, scope: str) -> list[Article]:
        """The articles of a scope, newest first; worked out once per scope."""
        articles = self.by_scope.get(scope)
        if articles is None:
            articles = self.by_scope[scope] = [article for article in self.articles
                                               if article.matches(scope)]
        return articles

    def due_articles(self, subscriptions) -> list[Article]:
        """Articles of the subscriber's scopes published after that scope was confirmed."""
        due = {}
        for subscription in subscriptions:
            for article in self.scope_articles(subscription.scope):
                if article.date <= subscription.confirmed_at:
                    break  # newest first: the rest is older still
                due[article.id] = article
        if len(subscriptions) == 1:
            return list(due.values())
        return sorted(due.values(), key=lambda article: article.date, reverse=True)

    def messages(self, plan: Plan) -> Iterator[Message]:
        """Every message due now, counted into ``plan`` as it is made."""
        by_subscriber = itertools.groupby(self.store.confirmed_subscriptions(),
                                          key=lambda subscription: subscription.subscriber_id)
        for subscriber_id, group in by_subscriber:
            subscriptions = list(group)
            plan.subscribers += 1
            due = self.due_articles(subscriptions)
            if not due:
                continue
            history = self.store.send_history(subscriber_id)
            due = [article for article in due if article.id not in history.delivered_articles]
            if not due:
                continue
            last = history.last_delivery_at
            if self.days and last is not None and self.now - last < self.cadence:
                plan.defer(last + self.cadence)
                continue
            if self.days == 0 or len(due) == 1:
                # Oldest first, so that the articles arrive in the order they appeared.
                editions = [(article.id, (article.id,)) for article in reversed(due)]
            else:
                ids = tuple(article.id for article in due)
                editions = [(digest_id(ids), ids)]
            first = subscriptions[0]
            for edition_id, article_ids in editions:
                if edition_id in history.refused_editions:
                    # The server refused this very message for good in an earlier run.
                    plan.refused_before += 1
                    continue
                message = Message(subscriber_id, first.email, first.unsubscribe_token,
                                  edition_id, article_ids)
                plan.count(message)
                yield message


def plan(store: Store, manifest: Mapping[str, Any], now: datetime.datetime) -> Plan:
    """What ``send`` would send now; reads only."""
    planner = Planner(store, manifest, now)
    result = planner.new_plan(manifest)
    for _message in planner.messages(result):
        pass
    result.uncertain = store.deliveries([SENDING, UNCERTAIN])
    return result


# --- the messages ------------------------------------------------------------------


def author_addresses(project_settings: Mapping[str, Any]) -> dict[str, str]:
    """Author name (as editions.json gives it) -> address, from the profiles' mailto links.

    Read with the authors plugin's own reader, so a profile means the same here as
    on the site.
    """
    if not project_settings.get("PATH"):
        return {}
    from authors.authors import DEFAULTS as AUTHOR_DEFAULTS
    from authors.authors import load_profiles

    settings = dict(project_settings)
    for key, value in AUTHOR_DEFAULTS.items():
        settings.setdefault(key, value)
    addresses = {}
    for profile in load_profiles(settings).values():
        for _label, url in profile.links:
            if not url.lower().startswith("mailto:"):
                continue
            address = urllib.parse.unquote(url[len("mailto:"):].partition("?")[0]).strip()
            try:
                checked_address("Reply-To", address)
            except ValueError:
                logger.warning("%s: the link %s is no plain email address; its articles go "
                               "out without Reply-To", profile.source_path, url)
                continue
            name = " ".join(profile.name.split())
            # The mailer quotes or encodes the name; one it cannot parse back stays out.
            plain = name and not any(character in name for character in '<>"')
            addresses[profile.name] = f"{name} <{address}>" if plain else address
            break
    return addresses


class Editions:
    """The pre-rendered messages of a run: one ``EditionMessage`` per edition, cached."""

    def __init__(self, config: ServiceConfig, manifest: Mapping[str, Any],
                 project_settings: Mapping[str, Any]):
        self.config = config
        self.manifest = manifest
        self.project_settings = project_settings
        self.records = {edition["id"]: edition for edition in manifest["editions"]
                        if edition["kind"] == "article"}
        self.placeholder = manifest["placeholders"]["unsubscribe_url"]
        self.addresses = author_addresses(project_settings)
        self.domain = config.envelope_from.rpartition("@")[2] or config.host
        self.cache: collections.OrderedDict[str, EditionMessage] = collections.OrderedDict()
        self.digests = None

    def author_address(self, article_id: str) -> str | None:
        """The first of the article's authors whose profile gives an address."""
        return next((self.addresses[name] for name in self.records[article_id]["authors"]
                     if name in self.addresses), None)

    def reply_to(self, article_ids) -> str | None:
        """The author's address, when every article of the message has the same one."""
        found = {self.author_address(article_id) for article_id in article_ids}
        return found.pop() if len(found) == 1 else None

    def parts(self, edition_id: str, article_ids) -> tuple[str, str, str]:
        if not edition_id.startswith(DIGEST_PREFIX):
            record = self.records[edition_id]
            output = self.config.output_path
            return (record["subject"], (output / record["html"]).read_text(encoding="utf-8"),
                    (output / record["text"]).read_text(encoding="utf-8"))
        if self.digests is None:
            from follow.digest import DigestRenderer

            self.digests = DigestRenderer(self.project_settings, self.manifest)
        try:
            return self.digests.render(article_ids)
        except (ValueError, KeyError) as error:
            raise NewsletterError(f"the digest of {', '.join(article_ids)} cannot be made: "
                                  f"{error}") from error

    def message(self, edition_id: str, article_ids) -> EditionMessage:
        cached = self.cache.get(edition_id)
        if cached is not None:
            self.cache.move_to_end(edition_id)
            return cached
        try:
            subject, html, text = self.parts(edition_id, article_ids)
        except OSError as error:
            raise NewsletterError(f"edition {edition_id}: {error.filename}: "
                                  f"{error.strerror}") from error
        try:
            message = EditionMessage(
                mail_from=self.config.mail_from, subject=subject, text=text, html=html,
                placeholder=self.placeholder, list_id=self.config.list_id,
                unsubscribe_mailto=self.config.unsubscribe_mailto,
                reply_to=self.reply_to(article_ids), dkim=self.config.dkim,
                message_id_domain=self.domain)
        except ValueError as error:
            # A part without the unsubscribe link is refused: every newsletter must let its
            # reader leave (Telecommunicatiewet 11.7). Anything else is a header setting.
            hint = ("publish the site again with the theme's email templates"
                    if "placeholder" in str(error) else
                    "check SERVICE_MAIL_FROM, SERVICE_LIST_ID and SERVICE_UNSUBSCRIBE_MAILTO")
            raise NewsletterError(f"edition {edition_id} cannot be sent: {error}; {hint}") \
                from error
        self.cache[edition_id] = message
        if len(self.cache) > EDITION_CACHE_SIZE:
            self.cache.popitem(last=False)
        return message

    def message_id(self, edition_id: str, subscriber_id: int) -> str:
        """The same for every attempt at one message, so a resent copy can be recognised."""
        digest = hmac.new(self.config.secret_key, f"{edition_id}\n{subscriber_id}".encode(),
                          hashlib.sha256).hexdigest()
        return f"<{digest[:32]}@{self.domain}>"


# --- sending -------------------------------------------------------------------------


@dataclasses.dataclass
class Report:
    """What a send run did."""

    plan: Plan | None = None
    sent: int = 0
    sent_by_edition: dict[str, int] = dataclasses.field(default_factory=dict)
    refused: int = 0
    refused_listed: list[str] = dataclasses.field(default_factory=list)
    uncertain: int = 0
    uncertain_listed: list[Delivery] = dataclasses.field(default_factory=list)
    uncertain_before: list[Delivery] = dataclasses.field(default_factory=list)
    released: int = 0
    already_journaled: int = 0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        rate = f" ({self.sent / self.seconds:,.0f}/s)" if self.sent and self.seconds else ""
        lines = [f"Sent {self.sent:,} messages in {self.seconds:.1f} s{rate}"
                 f"{':' if self.sent_by_edition else '.'}"]
        if self.plan is not None:
            lines.insert(0, f"Confirmed subscribers: {self.plan.subscribers:,}")
            lines += self.plan.edition_lines(self.sent_by_edition)
            lines += self.plan.deferred_lines()
        if self.released:
            lines.append(f"Uncertain deliveries of earlier runs sent again on request: "
                         f"{self.released:,}")
        lines += uncertain_lines(self.uncertain_before, "from an interrupted run")
        if self.refused:
            lines.append(f"Refused for good by the mail server: {self.refused:,} (journaled; "
                         "not sent again):")
            lines += [f"  {line}" for line in self.refused_listed]
            if self.refused > LISTED:
                lines.append(f"  ... and {self.refused - LISTED:,} more")
        lines += uncertain_lines(self.uncertain_listed, "in this run", self.uncertain)
        if self.already_journaled:
            lines.append(f"Skipped, already in the journal: {self.already_journaled:,}")
        return lines


class _Claim:
    """``before_commit`` of one message: journal it as "sending", once, or refuse it."""

    def __init__(self, store: Store, message: Message, now: datetime.datetime):
        self.store, self.message, self.now = store, message, now
        self.claimed = False

    def __call__(self) -> bool:
        if not self.claimed:
            message = self.message
            if not self.store.begin_delivery(message.edition_id, message.subscriber_id,
                                             message.article_ids, self.now):
                raise _AlreadyJournaled()
            self.claimed = True
        return True


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A message rendered for its subscriber, ready to go out."""

    message: Message
    raw: bytes
    message_id: str


def prepared(planner: Planner, plan: Plan, editions: Editions, config: ServiceConfig,
             now: datetime.datetime) -> Iterator[Prepared]:
    """Each due message, rendered for its subscriber, one at a time."""
    for message in planner.messages(plan):
        edition = editions.message(message.edition_id, message.article_ids)
        message_id = editions.message_id(message.edition_id, message.subscriber_id)
        raw = edition.render(message.email,
                             config.url(f"afmelden/{message.unsubscribe_token}/"),
                             message_id=message_id, date=now)
        yield Prepared(message, raw, message_id)


def _deliver(store: Store, session: SmtpSession, config: ServiceConfig, item: Prepared,
             now: datetime.datetime, report: Report) -> None:
    message, message_id = item.message, item.message_id
    claim = _Claim(store, message, now)
    try:
        session.send(config.envelope_from, message.email, item.raw, before_commit=claim)
    except _AlreadyJournaled:
        report.already_journaled += 1
    except PermanentFailure as error:
        # record_failure also frees the articles if the refusal came after the claim.
        store.record_failure(message.edition_id, message.subscriber_id, now, str(error))
        report.refused += 1
        if len(report.refused_listed) < LISTED:
            report.refused_listed.append(f"{message.email}  [{message.edition_id}]  {error}")
    except UncertainDelivery as error:
        store.finish_delivery(message.edition_id, message.subscriber_id, UNCERTAIN, now,
                              message_id=message_id, error=str(error))
        report.uncertain += 1
        if len(report.uncertain_listed) < LISTED:
            report.uncertain_listed.append(Delivery(
                message.edition_id, message.subscriber_id, message.email, UNCERTAIN, now,
                message_id, str(error)))
    except TemporaryFailure:
        if claim.claimed:
            # The server answered the final "." with a temporary error: not delivered.
            store.release_delivery(message.edition_id, message.subscriber_id)
        raise
    else:
        store.finish_delivery(message.edition_id, message.subscriber_id, SENT, now,
                              message_id=message_id)
        report.sent += 1
        report.sent_by_edition[message.edition_id] = \
            report.sent_by_edition.get(message.edition_id, 0) + 1


def send(store: Store, config: ServiceConfig, manifest: Mapping[str, Any],
         project_settings: Mapping[str, Any], now: datetime.datetime,
         resend_uncertain: bool = False) -> Report:
    """Send every due message once; see the module's docstring for the guarantees.

    Raises SenderBusy when another sender runs on the same database, and
    SmtpUnavailable (with the report so far) when the SMTP server stays away.
    """
    report = Report()
    started = time.monotonic()
    with store.sender_lock():
        store.mark_uncertain()
        uncertain = store.deliveries([UNCERTAIN])
        if resend_uncertain:
            for delivery in uncertain:
                store.release_delivery(delivery.edition_id, delivery.subscriber_id)
            report.released = len(uncertain)
        else:
            report.uncertain_before = uncertain
        planner = Planner(store, manifest, now)
        report.plan = planner.new_plan(manifest)
        editions = Editions(config, manifest, project_settings)
        try:
            with SmtpSession(config.smtp) as session:
                for item in prepared(planner, report.plan, editions, config, now):
                    _deliver(store, session, config, item, now, report)
        except TemporaryFailure as error:
            report.seconds = time.monotonic() - started
            raise SmtpUnavailable(
                f"the SMTP server {config.smtp.host}:{config.smtp.port} is unavailable "
                f"({error}); stopped after {report.sent:,} messages. Everything sent is in "
                "the journal: run invoke newsletter --send again when the server is back",
                report) from error
    report.seconds = time.monotonic() - started
    return report


# --- the command -------------------------------------------------------------------------


def run(settings_file: str = "publishconf.py", editions: str | None = None, send: bool = False,
        resend_uncertain: bool = False) -> int:
    """``invoke newsletter``: print the plan, or send with ``send``; return the exit status."""
    return _run(settings_file, editions, sending=send, resend_uncertain=resend_uncertain)


def _run(settings_file, editions, sending: bool, resend_uncertain: bool) -> int:
    from .config import from_project_settings, read_project_settings

    try:
        if resend_uncertain and not sending:
            raise NewsletterError("--resend-uncertain only makes sense with --send")
        try:
            project_settings = read_project_settings(settings_file)
        except FileNotFoundError:
            raise NewsletterError(f"{settings_file}: settings file not found") from None
        config = from_project_settings(project_settings)
        path = Path(editions) if editions else manifest_path(config, project_settings)
        manifest = load_manifest(path, config)
        now = datetime.datetime.now(datetime.UTC)
        print(f"Editions: {path} ({len(articles_of(manifest)):,} articles; frequency "
              f"{manifest['frequency']['key']})", flush=True)
        store = open_store(config.database_url, create=False)
        try:
            if sending:
                report = send(store, config, manifest, project_settings, now,
                              resend_uncertain=resend_uncertain)
                lines = report.lines()
            else:
                lines = plan(store, manifest, now).lines()
        finally:
            store.close()
    except SmtpUnavailable as error:
        print("\n".join(error.report.lines()), flush=True)
        print(f"newsletter: error: {error}", file=sys.stderr, flush=True)
        return EXIT_ERROR
    except (NewsletterError, StoreError, MailError, ConfigError) as error:
        # SenderBusy is a StoreError: "another newsletter sender is running ...".
        print(f"newsletter: error: {error}", file=sys.stderr, flush=True)
        return EXIT_ERROR
    print("\n".join(lines), flush=True)
    return EXIT_OK


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.newsletter",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--settings", default="publishconf.py",
                        help="the Pelican settings file of the publish build")
    parser.add_argument("--editions", help="editions.json (default: the build's own)")
    parser.add_argument("--send", action="store_true", help="send; without it: a dry run")
    parser.add_argument("--resend-uncertain", action="store_true",
                        help="also send again what an interrupted run left uncertain")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    return run(arguments.settings, arguments.editions, send=arguments.send,
               resend_uncertain=arguments.resend_uncertain)


if __name__ == "__main__":
    sys.exit(main())
