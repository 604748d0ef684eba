"""The follow service's database: subscribers, consent proof, outbox and send journal.

One class, ``Store``, holds all SQL. It speaks SQLite (the embedded default, in WAL
mode) and PostgreSQL, chosen by the database URL, so a firm that outgrows SQLite
changes a setting, not code. The SQL is written once, with ``?`` placeholders, in the
subset both databases understand (``ON CONFLICT``, ``RETURNING``).

Times are aware UTC datetimes in Python and fixed-width ISO text in the database,
so they compare correctly as text in both.

Schema changes are numbered migrations; a database written by newer code is never
opened (``SchemaTooNew``), because older code could silently damage it.
"""

import contextlib
import datetime
import fcntl
import os
import sqlite3
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .logs import service_logger

logger = service_logger(__name__)

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# How long a writer waits for another one before giving up with a clear error.
BUSY_TIMEOUT_SECONDS = 10
PAGE_SIZE = 1000
# Delivery states in the journal. "sending" is written just before the message is
# committed at the SMTP server; a row still "sending" after a crash is uncertain.
SENDING, SENT, FAILED, UNCERTAIN = "sending", "sent", "failed", "uncertain"
CLAIMED_STATES = (SENDING, SENT, UNCERTAIN)
PENDING, CONFIRMED, UNSUBSCRIBED = "pending", "confirmed", "unsubscribed"
ERASED_COUNTER = "erased_subscribers"
# The outbox kind of an unsubscribe request for an address that subscribes to nothing:
# written like any other, so that both cost the same, and dropped unsent.
UNKNOWN_ADDRESS = "unknown-address"
# Reply notifications: the scope of a commenter's "let me know" is "reply:<reaction id>",
# and the journal entry of the notification about a reply is "reply:<reply id>".
REPLY_PREFIX = "reply:"
# The journal state of a notification queued in the outbox, before it is sent.
QUEUED = "queued"
# The event of a posted reaction form's nonce, and how long it is kept (a form lives a day).
USED_FORM = "reaction-form"
USED_FORMS_KEPT = datetime.timedelta(hours=25)
# What is forgotten of a reaction's writer when it is declined, or they are erased.
FORGET_WRITER = ("text = NULL, html = NULL, ip_hash = NULL, user_agent_hash = NULL, "
                 "notify_subscriber_id = NULL")
# A reaction's moderation states.
AWAITING, APPROVED, REJECTED, SPAM = "pending", "approved", "rejected", "spam"

MIGRATIONS = [
    # 1: subscribers with their consent proof per scope, outbox, send journal.
    [
        """CREATE TABLE subscribers (
            id {primary_key},
            email TEXT NOT NULL UNIQUE,
            unsubscribe_token TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            legacy INTEGER NOT NULL DEFAULT 0)""",
        """CREATE TABLE subscriptions (
            subscriber_id {reference} NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
            scope TEXT NOT NULL,
            state TEXT NOT NULL,
            consent_version TEXT,
            consent_text TEXT,
            consented_at TEXT,
            confirmed_at TEXT,
            unsubscribed_at TEXT,
            ip_hash TEXT,
            user_agent_hash TEXT,
            confirm_token_hash TEXT UNIQUE,
            confirm_expires_at TEXT,
            source TEXT NOT NULL,
            PRIMARY KEY (subscriber_id, scope))""",
        """CREATE TABLE consent_texts (
            version TEXT PRIMARY KEY,
            text TEXT NOT NULL,
            first_seen_at TEXT NOT NULL)""",
        """CREATE TABLE events (
            kind TEXT NOT NULL,
            key_hash TEXT NOT NULL,
            at TEXT NOT NULL)""",
        "CREATE INDEX events_by_key ON events (kind, key_hash, at)",
        """CREATE TABLE outbox (
            id {primary_key},
            kind TEXT NOT NULL,
            recipient TEXT NOT NULL,
            message {blob} NOT NULL,
            created_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            error TEXT)""",
        "CREATE INDEX outbox_due ON outbox (next_attempt_at)",
        """CREATE TABLE deliveries (
            edition_id TEXT NOT NULL,
            subscriber_id {reference} NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
            state TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            message_id TEXT,
            error TEXT,
            PRIMARY KEY (edition_id, subscriber_id))""",
        "CREATE INDEX deliveries_by_subscriber ON deliveries (subscriber_id, started_at)",
        "CREATE INDEX deliveries_by_state ON deliveries (state)",
        """CREATE TABLE delivered_articles (
            subscriber_id {reference} NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
            article_id TEXT NOT NULL,
            edition_id TEXT NOT NULL,
            PRIMARY KEY (subscriber_id, article_id))""",
        """CREATE TABLE counters (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL)""",
    ],
    # 2: reactions awaiting moderation; outbox mails that belong to a journal entry, and
    # the moment a mail's final "." went out (never sent again after that).
    [
        """CREATE TABLE reactions (
            id TEXT PRIMARY KEY,
            article TEXT NOT NULL,
            parent TEXT,
            author TEXT NOT NULL,
            author_url TEXT,
            text TEXT,
            html TEXT,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            decided_at TEXT,
            consent_version TEXT,
            consent_text TEXT,
            ip_hash TEXT,
            user_agent_hash TEXT,
            form_nonce TEXT UNIQUE,
            notify_subscriber_id {reference}
                REFERENCES subscribers (id) ON DELETE SET NULL,
            service_url TEXT,
            file TEXT)""",
        "CREATE INDEX reactions_by_status ON reactions (status, created_at)",
        "CREATE INDEX reactions_by_subscriber ON reactions (notify_subscriber_id)",
        "ALTER TABLE outbox ADD COLUMN edition_id TEXT",
        "ALTER TABLE outbox ADD COLUMN in_flight_at TEXT",
    ],
]
LATEST_VERSION = len(MIGRATIONS)
DIALECT_TYPES = {
    "sqlite": {"primary_key": "INTEGER PRIMARY KEY AUTOINCREMENT", "reference": "INTEGER",
               "blob": "BLOB"},
    "postgresql": {"primary_key": "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                   "reference": "BIGINT", "blob": "BYTEA"},
}


class StoreError(RuntimeError):
    """The database cannot do what was asked; the message says why, for the operator."""


class SchemaTooNew(StoreError):
    """The database was written by a newer version of adviesblog."""


class SenderBusy(StoreError):
    """Another newsletter sender is running on this database."""


def to_text(moment: datetime.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: the store keeps UTC times only")
    return moment.astimezone(datetime.UTC).strftime(TIME_FORMAT)


def from_text(value: str | None) -> datetime.datetime | None:
    if value is None:
        return None
    # fromisoformat reads TIME_FORMAT ("...Z" is UTC) forty times faster than strptime,
    # which counts when the sender reads 10,000 subscriptions.
    return datetime.datetime.fromisoformat(value)


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    unsubscribe_token: str


@dataclass(frozen=True)
class Confirmation:
    subscriber_id: int
    email: str
    scope: str
    state: str
    expires_at: datetime.datetime | None


@dataclass(frozen=True)
class OutboxMail:
    id: int
    kind: str
    recipient: str
    message: bytes
    attempts: int
    edition_id: str | None = None


@dataclass(frozen=True)
class Reaction:
    """A reaction sent through the site's form, as the moderator sees it."""

    id: str
    article: str
    parent: str
    author: str
    author_url: str
    text: str
    html: str
    status: str
    created_at: datetime.datetime
    decided_at: datetime.datetime | None
    notify: str  # "" (not asked, or stopped), "pending" or "confirmed"
    file: str
    # The address of the service that took it: the links of its mails go there.
    service_url: str = ""


@dataclass(frozen=True)
class NewReaction:
    """What the web app stores of an accepted form (the address goes with ``NotifyRequest``)."""

    id: str
    article: str
    parent: str
    author: str
    author_url: str
    text: str
    html: str
    consent_version: str
    consent_text: str
    ip_hash: str
    user_agent_hash: str
    form_nonce: str
    service_url: str


@dataclass(frozen=True)
class NotifyRequest:
    """A commenter's request for reply notifications, awaiting their confirmation."""

    email: str
    consent_version: str
    consent_text: str
    token_hash: str
    expires_at: datetime.datetime
    new_unsubscribe_token: str
    confirmation_mail: bytes


@dataclass(frozen=True)
class Subscription:
    """A confirmed subscription, as the newsletter sender reads it."""

    subscriber_id: int
    email: str
    unsubscribe_token: str
    scope: str
    confirmed_at: datetime.datetime


@dataclass(frozen=True)
class Delivery:
    edition_id: str
    subscriber_id: int
    email: str
    state: str
    started_at: datetime.datetime
    message_id: str | None
    error: str | None


@dataclass(frozen=True)
class SendHistory:
    """One subscriber's journal as the newsletter sender reads it."""

    delivered_articles: set[str]
    refused_editions: set[str]
    last_delivery_at: datetime.datetime | None


@dataclass(frozen=True)
class SubscriptionRecord:
    """One row of the subscriber list and of its CSV export: a scope with its consent proof."""

    email: str
    scope: str
    state: str
    consent_version: str | None
    consent_text: str | None
    consented_at: datetime.datetime | None
    confirmed_at: datetime.datetime | None
    unsubscribed_at: datetime.datetime | None
    ip_hash: str | None
    user_agent_hash: str | None
    source: str
    legacy: bool


def dialect_of(url: str) -> str:
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme == "sqlite":
        return "sqlite"
    if scheme in ("postgresql", "postgres"):
        return "postgresql"
    raise StoreError(f"database URL {redact(url)!r}: expected sqlite:///path or postgresql://...")


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return url


def sqlite_path(url: str) -> Path:
    # sqlite:///relative/or/absolute: what follows the third slash is the path.
    path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else ""
    if not path:
        raise StoreError(f"database URL {url!r}: expected sqlite:///path/to/file.sqlite3")
    return Path(urllib.parse.unquote(path))


def operator_message(error: Exception, url: str) -> str:
    text = str(error).strip() or type(error).__name__
    lowered = text.lower()
    where = redact(url)
    if "locked" in lowered or "busy" in lowered:
        return (f"{where}: the database is locked by another process (another sender or a "
                f"long write) and stayed locked for {BUSY_TIMEOUT_SECONDS} s; try again")
    if "disk" in lowered and "full" in lowered or "no space" in lowered:
        return f"{where}: the disk is full; nothing was written. Free space and run it again"
    if "readonly" in lowered or "read-only" in lowered:
        return f"{where}: the database is read-only for this user"
    return f"{where}: {text}"


class Store:
    """All reads and writes of the service, on SQLite or PostgreSQL."""

    def __init__(self, url: str, busy_timeout: float = BUSY_TIMEOUT_SECONDS):
        self.url = url
        # Seconds a statement waits for another writer's lock before it fails.
        self.busy_timeout = busy_timeout
        self.dialect = dialect_of(url)
        if self.dialect == "postgresql":
            try:
                import psycopg
            except ImportError as error:  # pragma: no cover - pinned in requirements.txt
                raise StoreError("PostgreSQL needs psycopg: pip install -r requirements.txt") \
                    from error
            self._driver_errors = (psycopg.Error,)
        else:
            self._driver_errors = (sqlite3.Error,)
        self._local = threading.local()
        # (thread, connection): a threaded server starts a thread per request, so the
        # connections of finished threads are closed when the next one is made.
        self._connections: list[tuple[threading.Thread, object]] = []
        self._connections_lock = threading.Lock()

    # --- connections and transactions ------------------------------------------

    def _connect(self):
        if self.dialect == "sqlite":
            path = sqlite_path(self.url)
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, timeout=self.busy_timeout,
                                         isolation_level=None, check_same_thread=False)
            # WAL lets the web app read while a sender writes; NORMAL keeps every commit
            # safe from a crashed process (not from a power cut) without an fsync each.
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA foreign_keys=ON")
            # An erased address must not linger in freed pages of the file.
            connection.execute("PRAGMA secure_delete=ON")
            return connection
        import psycopg

        connection = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        connection.execute(f"SET lock_timeout = '{int(self.busy_timeout * 1000)}ms'")
        return connection

    @property
    def connection(self):
        connection = getattr(self._local, "connection", None)
        if connection is None:
            try:
                connection = self._connect()
            except self._driver_errors as error:
                raise StoreError(operator_message(error, self.url)) from error
            except OSError as error:
                raise StoreError(operator_message(error, self.url)) from error
            self._local.connection = connection
            with self._connections_lock:
                finished = [pair for pair in self._connections if not pair[0].is_alive()]
                self._connections = [pair for pair in self._connections
                                     if pair[0].is_alive()]
                self._connections.append((threading.current_thread(), connection))
            for _thread, old in finished:
                with contextlib.suppress(Exception):
                    old.close()
        return connection

    def close(self) -> None:
        with self._connections_lock:
            for _thread, connection in self._connections:
                with contextlib.suppress(Exception):
                    connection.close()
            self._connections.clear()
        self._local = threading.local()

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.dialect == "postgresql" else statement

    def execute(self, statement: str, parameters=()):
        try:
            return self.connection.execute(self._sql(statement), parameters)
        except self._driver_errors as error:
            raise StoreError(operator_message(error, self.url)) from error

    @contextlib.contextmanager
    def transaction(self):
        """One atomic unit of work: all of it is written, or none of it."""
        connection = self.connection
        try:
            # IMMEDIATE takes SQLite's write lock at once, so two writers queue at
            # BEGIN instead of one of them failing half-way.
            connection.execute("BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN")
            yield self
            connection.execute("COMMIT")
        except self._driver_errors as error:
            self._rollback(connection)
            raise StoreError(operator_message(error, self.url)) from error
        except BaseException:
            self._rollback(connection)
            raise

    def _rollback(self, connection) -> None:
        with contextlib.suppress(Exception):
            connection.execute("ROLLBACK")

    def one(self, statement: str, parameters=()):
        return self.execute(statement, parameters).fetchone()

    def all(self, statement: str, parameters=()) -> list:
        return self.execute(statement, parameters).fetchall()

    # --- schema ------------------------------------------------------------------

    def schema_version(self) -> int:
        exists = self.one(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
            if self.dialect == "sqlite" else
            "SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_version' "
            "AND table_schema = current_schema()")
        if not exists:
            return 0
        row = self.one("SELECT version FROM schema_version")
        return row[0] if row else 0

    def exists(self) -> bool:
        """Whether this database already holds the service's tables."""
        if self.dialect == "sqlite" and not sqlite_path(self.url).exists():
            return False
        return self.schema_version() > 0

    def migrate(self) -> int:
        """Bring the schema up to date; return the version. Never opens a newer schema."""
        with self.transaction():
            version = self.schema_version()
            if version > LATEST_VERSION:
                raise SchemaTooNew(
                    f"{redact(self.url)}: the database has schema version {version}, written by "
                    f"a newer adviesblog; this one knows up to {LATEST_VERSION}. Update "
                    "adviesblog; do not use this version on that database")
            if version == 0:
                self.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
                self.execute("INSERT INTO schema_version (version) VALUES (0)")
            types = DIALECT_TYPES[self.dialect]
            for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in statements:
                    self.execute(statement.format(**types))
                self.execute("UPDATE schema_version SET version = ?", (number,))
                logger.info("service: database migrated to schema version %d", number)
        return LATEST_VERSION

    # --- consent texts and rate-limit events -------------------------------------

    def remember_consent_text(self, version: str, text: str, now=None) -> None:
        self.execute(
            "INSERT INTO consent_texts (version, text, first_seen_at) VALUES (?, ?, ?) "
            "ON CONFLICT (version) DO NOTHING",
            (version, text, to_text(now or utcnow())))

    def consent_text(self, version: str) -> str | None:
        row = self.one("SELECT text FROM consent_texts WHERE version = ?", (version,))
        return row[0] if row else None

    def count_events(self, kind: str, key_hash: str, since: datetime.datetime) -> int:
        row = self.one("SELECT COUNT(*) FROM events WHERE kind = ? AND key_hash = ? AND at >= ?",
                       (kind, key_hash, to_text(since)))
        return row[0]

    def add_event(self, kind: str, key_hash: str, at: datetime.datetime) -> None:
        self.execute("INSERT INTO events (kind, key_hash, at) VALUES (?, ?, ?)",
                     (kind, key_hash, to_text(at)))

    def take_allowance(self, limits, since: datetime.datetime,
                       now: datetime.datetime) -> str | None:
        """Count one request against every ``(kind, key_hash, limit)`` of ``limits``.

        Returns the kind whose limit is used up (and records nothing), or None. Counting
        and recording are one transaction, so parallel requests cannot all slip under
        a limit at once: SQLite's write lock serialises them, and on PostgreSQL a lock
        per key does.
        """
        with self.transaction():
            for kind, key_hash, limit in limits:
                if self.dialect == "postgresql":
                    self.execute("SELECT pg_advisory_xact_lock(hashtext(?))",
                                 (f"{kind}:{key_hash}",))
                if self.count_events(kind, key_hash, since) >= limit:
                    return kind
            for kind, key_hash, _limit in limits:
                self.add_event(kind, key_hash, now)
        return None

    def prune_events(self, before: datetime.datetime) -> int:
        """Forget rate-limit events older than ``before``; used forms after a day."""
        return self.execute(
            "DELETE FROM events WHERE (kind <> ? AND at < ?) OR at < ?",
            (USED_FORM, to_text(before), to_text(before - USED_FORMS_KEPT))
        ).rowcount

    def prune_unconfirmed(self, before: datetime.datetime) -> int:
        """Forget sign-ups whose link expired before ``before`` and were never confirmed.

        Without consent confirmed there is no ground to keep the address (AVG art. 5).
        """
        with self.transaction():
            removed = self.execute(
                "DELETE FROM subscriptions WHERE state = ? AND confirm_expires_at < ?",
                (PENDING, to_text(before))).rowcount
            self.execute(
                "DELETE FROM subscribers WHERE NOT EXISTS (SELECT 1 FROM subscriptions s "
                "WHERE s.subscriber_id = subscribers.id) AND NOT EXISTS (SELECT 1 FROM "
                "deliveries d WHERE d.subscriber_id = subscribers.id)")
        return removed

    # --- subscribing, confirming, unsubscribing ------------------------------------

    def _subscriber_id(self, email: str, new_token: str, now: datetime.datetime,
                       legacy: bool = False) -> int:
        self.execute(
            "INSERT INTO subscribers (email, unsubscribe_token, created_at, legacy) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (email) DO NOTHING",
            (email, new_token, to_text(now), int(legacy)))
        return self.one("SELECT id FROM subscribers WHERE email = ?", (email,))[0]

    def request_subscription(self, email: str, scope: str, consent_version: str,
                             consent_text: str, ip_hash: str, user_agent_hash: str,
                             token_hash: str, expires_at: datetime.datetime,
                             now: datetime.datetime, new_unsubscribe_token: str,
                             confirmation_mail: bytes | None = None) -> int:
        """Record a sign-up awaiting confirmation; return the subscriber's id.

        A scope already confirmed keeps its confirmed consent: a second sign-up only
        renews the confirmation link, so nobody can undo a subscription by signing up.
        ``confirmation_mail`` is queued in the outbox in the same transaction, so a
        sign-up is never stored without its mail, nor a mail sent without its sign-up.
        """
        with self.transaction():
            subscriber_id = self._request(email, scope, consent_version, consent_text, ip_hash,
                                          user_agent_hash, token_hash, expires_at, now,
                                          new_unsubscribe_token, "form")
            if confirmation_mail is not None:
                self.queue_mail("confirm", email, confirmation_mail, now)
        return subscriber_id

    def _request(self, email, scope, consent_version, consent_text, ip_hash, user_agent_hash,
                 token_hash, expires_at, now, new_unsubscribe_token, source) -> int:
        subscriber_id = self._subscriber_id(email, new_unsubscribe_token, now)
        self.execute(
            "INSERT INTO subscriptions (subscriber_id, scope, state, consent_version, "
            "consent_text, consented_at, ip_hash, user_agent_hash, confirm_token_hash, "
            "confirm_expires_at, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (subscriber_id, scope) DO UPDATE SET "
            "confirm_token_hash = excluded.confirm_token_hash, "
            "confirm_expires_at = excluded.confirm_expires_at, "
            "state = CASE WHEN subscriptions.state = 'confirmed' THEN 'confirmed' "
            "ELSE 'pending' END, "
            "consent_version = CASE WHEN subscriptions.state = 'confirmed' "
            "THEN subscriptions.consent_version ELSE excluded.consent_version END, "
            "consent_text = CASE WHEN subscriptions.state = 'confirmed' "
            "THEN subscriptions.consent_text ELSE excluded.consent_text END, "
            "consented_at = CASE WHEN subscriptions.state = 'confirmed' "
            "THEN subscriptions.consented_at ELSE excluded.consented_at END, "
            "ip_hash = CASE WHEN subscriptions.state = 'confirmed' "
            "THEN subscriptions.ip_hash ELSE excluded.ip_hash END, "
            "user_agent_hash = CASE WHEN subscriptions.state = 'confirmed' "
            "THEN subscriptions.user_agent_hash ELSE excluded.user_agent_hash END",
            (subscriber_id, scope, PENDING, consent_version, consent_text, to_text(now),
             ip_hash, user_agent_hash, token_hash, to_text(expires_at), source))
        return subscriber_id

    def confirmation(self, token_hash: str) -> Confirmation | None:
        row = self.one(
            "SELECT s.subscriber_id, p.email, s.scope, s.state, s.confirm_expires_at "
            "FROM subscriptions s JOIN subscribers p ON p.id = s.subscriber_id "
            "WHERE s.confirm_token_hash = ?", (token_hash,))
        if row is None:
            return None
        return Confirmation(row[0], row[1], row[2], row[3], from_text(row[4]))

    def confirm(self, token_hash: str, now: datetime.datetime) -> str:
        """Confirm the sign-up of this link: "confirmed", "already", "expired" or "unknown"."""
        with self.transaction():
            found = self.confirmation(token_hash)
            if found is None:
                return "unknown"
            if found.state == CONFIRMED:
                return "already"
            if found.expires_at is None or found.expires_at < now:
                return "expired"
            self.execute(
                "UPDATE subscriptions SET state = ?, confirmed_at = ?, unsubscribed_at = NULL "
                "WHERE confirm_token_hash = ?", (CONFIRMED, to_text(now), token_hash))
        return "confirmed"

    def _subscriber(self, where: str, value: str) -> Subscriber | None:
        row = self.one(f"SELECT id, email, unsubscribe_token FROM subscribers WHERE {where} = ?",
                       (value,))
        return Subscriber(*row) if row else None

    def subscriber_by_email(self, email: str) -> Subscriber | None:
        return self._subscriber("email", email)

    def subscriber_by_token(self, unsubscribe_token: str) -> Subscriber | None:
        return self._subscriber("unsubscribe_token", unsubscribe_token)

    def unsubscribe(self, unsubscribe_token: str, now: datetime.datetime) -> bool:
        """End every subscription of the token's subscriber; False for an unknown token."""
        with self.transaction():
            subscriber = self.subscriber_by_token(unsubscribe_token)
            if subscriber is None:
                return False
            self.execute(
                "UPDATE subscriptions SET state = ?, unsubscribed_at = ?, "
                "confirm_token_hash = NULL, confirm_expires_at = NULL "
                "WHERE subscriber_id = ? AND state <> ?",
                (UNSUBSCRIBED, to_text(now), subscriber.id, UNSUBSCRIBED))
        return True

    def is_subscribed(self, subscriber_id: int) -> bool:
        """Whether the subscriber has a subscription that is pending or confirmed."""
        return self.one("SELECT 1 FROM subscriptions WHERE subscriber_id = ? AND state <> ?",
                        (subscriber_id, UNSUBSCRIBED)) is not None

    # --- the outbox of single mails (confirmation links, unsubscribe links) ------

    def queue_mail(self, kind: str, recipient: str, message: bytes,
                   now: datetime.datetime, edition_id: str | None = None) -> int:
        """Queue a mail; ``edition_id`` ties it to its journal entry (reply notifications)."""
        row = self.one(
            "INSERT INTO outbox (kind, recipient, message, created_at, next_attempt_at, "
            "edition_id) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (kind, recipient, message, to_text(now), to_text(now), edition_id))
        return row[0]

    def due_mails(self, now: datetime.datetime, limit: int = 50) -> list[OutboxMail]:
        rows = self.all(
            "SELECT id, kind, recipient, message, attempts, edition_id FROM outbox "
            "WHERE next_attempt_at <= ? AND in_flight_at IS NULL "
            "ORDER BY next_attempt_at, id LIMIT ?", (to_text(now), limit))
        return [OutboxMail(row[0], row[1], row[2], bytes(row[3]), row[4], row[5])
                for row in rows]

    def mail_in_flight(self, mail_id: int, now: datetime.datetime) -> None:
        """Note that the final "." of a mail is about to go out: it is never sent again.

        A crash after this leaves the row in flight; ``drop_stale_in_flight`` logs it
        as uncertain later instead of sending it a second time.
        """
        self.execute("UPDATE outbox SET in_flight_at = ? WHERE id = ?", (to_text(now), mail_id))

    def drop_stale_in_flight(self, before: datetime.datetime) -> int:
        """Give up mails whose sender died between the final "." and its answer."""
        with self.transaction():
            rows = self.all("SELECT id, recipient, edition_id FROM outbox "
                            "WHERE in_flight_at IS NOT NULL AND in_flight_at < ?",
                            (to_text(before),))
            for mail_id, recipient, edition_id in rows:
                self._finish_journal(edition_id, recipient, UNCERTAIN)
                self.execute("DELETE FROM outbox WHERE id = ?", (mail_id,))
        for mail_id, _recipient, _edition in rows:
            logger.warning("service: outbox mail %d may or may not have been delivered (its "
                           "sender stopped while sending); not sent again", mail_id)
        return len(rows)

    def _finish_journal(self, edition_id: str | None, recipient: str, state: str) -> None:
        if edition_id:
            self.execute(
                "UPDATE deliveries SET state = ?, finished_at = ? WHERE edition_id = ? AND "
                "subscriber_id = (SELECT id FROM subscribers WHERE email = ?)",
                (state, to_text(utcnow()), edition_id, recipient))

    def claim_mail(self, mail_id: int, now: datetime.datetime,
                   lease_until: datetime.datetime) -> bool:
        """Take a due mail for sending until ``lease_until``; False if another sender has it.

        One UPDATE both checks that the mail is still due and moves it out of reach, so
        of two service processes only one sends it; a sender that dies while holding it
        leaves it to be sent again when the lease ends.
        """
        return self.execute(
            "UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND next_attempt_at <= ?",
            (to_text(lease_until), mail_id, to_text(now))).rowcount == 1

    def mail_sent(self, mail: OutboxMail) -> None:
        # A sent confirmation leaves nothing behind: the address is in subscribers.
        with self.transaction():
            self._finish_journal(mail.edition_id, mail.recipient, SENT)
            self.execute("DELETE FROM outbox WHERE id = ?", (mail.id,))

    def mail_failed(self, mail: OutboxMail, next_attempt_at: datetime.datetime | None,
                    error: str) -> None:
        """Try again at ``next_attempt_at``; None gives up and drops the mail."""
        if next_attempt_at is None:
            logger.error("service: outbox mail %d dropped after its last attempt: %s",
                         mail.id, error)
            with self.transaction():
                self._finish_journal(mail.edition_id, mail.recipient, FAILED)
                self.execute("DELETE FROM outbox WHERE id = ?", (mail.id,))
            return
        # The server refused the final "." (4xx): the message was not taken, so it may go again.
        self.execute("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, error = ?, "
                     "in_flight_at = NULL WHERE id = ?",
                     (to_text(next_attempt_at), error[:500], mail.id))

    # --- the newsletter sender ------------------------------------------------------

    def confirmed_subscriptions(self) -> Iterator[Subscription]:
        """Every confirmed subscription, by subscriber id, read a page at a time."""
        after = -1
        while True:
            rows = self.all(
                "SELECT p.id, p.email, p.unsubscribe_token, s.scope, s.confirmed_at "
                "FROM subscribers p JOIN subscriptions s ON s.subscriber_id = p.id "
                "WHERE s.state = ? AND p.id IN (SELECT id FROM subscribers "
                "WHERE id > ? ORDER BY id LIMIT ?) ORDER BY p.id, s.scope",
                (CONFIRMED, after, PAGE_SIZE))
            if not rows:
                return
            for row in rows:
                # A commenter's reply notifications are no newsletter subscription.
                if not row[3].startswith(REPLY_PREFIX):
                    yield Subscription(row[0], row[1], row[2], row[3], from_text(row[4]))
            after = rows[-1][0]

    def begin_delivery(self, edition_id: str, subscriber_id: int, article_ids,
                       now: datetime.datetime) -> bool:
        """Journal a message as being committed at the SMTP server, with its articles.

        False when the journal already holds it, or holds one of its articles for this
        subscriber: sending it would be a duplicate.
        """
        try:
            with self.transaction():
                self._claim(edition_id, subscriber_id, article_ids, now)
        except _Duplicate:
            return False
        return True

    def _claim(self, edition_id, subscriber_id, article_ids, now) -> None:
        inserted = self.one(
            "INSERT INTO deliveries (edition_id, subscriber_id, state, started_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (edition_id, subscriber_id) DO NOTHING "
            "RETURNING 1", (edition_id, subscriber_id, SENDING, to_text(now)))
        if inserted is None:
            raise _Duplicate()
        claimed = self.execute(
            "INSERT INTO delivered_articles (subscriber_id, article_id, edition_id) "
            "VALUES " + ", ".join(["(?, ?, ?)"] * len(article_ids)) +
            " ON CONFLICT (subscriber_id, article_id) DO NOTHING",
            [value for article in article_ids
             for value in (subscriber_id, article, edition_id)]).rowcount
        if claimed != len(article_ids):
            raise _Duplicate()

    def finish_delivery(self, edition_id: str, subscriber_id: int, state: str,
                        now: datetime.datetime, message_id: str | None = None,
                        error: str | None = None) -> None:
        self.execute(
            "UPDATE deliveries SET state = ?, finished_at = ?, message_id = ?, error = ? "
            "WHERE edition_id = ? AND subscriber_id = ?",
            (state, to_text(now), message_id, error and error[:500], edition_id,
             subscriber_id))

    def record_failure(self, edition_id: str, subscriber_id: int, now: datetime.datetime,
                       error: str) -> None:
        """Journal a message the server refused for good; its articles stay unsent.

        A refusal of the final "." comes after begin_delivery claimed the articles, so
        the claim is undone in the same transaction.
        """
        with self.transaction():
            self.execute(
                "INSERT INTO deliveries (edition_id, subscriber_id, state, started_at, "
                "finished_at, error) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (edition_id, "
                "subscriber_id) DO UPDATE SET state = excluded.state, "
                "finished_at = excluded.finished_at, error = excluded.error",
                (edition_id, subscriber_id, FAILED, to_text(now), to_text(now), error[:500]))
            self.execute("DELETE FROM delivered_articles WHERE edition_id = ? AND "
                         "subscriber_id = ?", (edition_id, subscriber_id))

    def send_history(self, subscriber_id: int) -> SendHistory:
        """What the sender needs of one subscriber's journal, in one query."""
        rows = self.all(
            "SELECT 'article', article_id FROM delivered_articles WHERE subscriber_id = ? "
            "UNION ALL SELECT 'refused', edition_id FROM deliveries WHERE subscriber_id = ? "
            "AND state = ? UNION ALL SELECT 'last', MAX(started_at) FROM deliveries "
            f"WHERE subscriber_id = ? AND state IN ({', '.join('?' * len(CLAIMED_STATES))}) "
            # A reply notification does not count towards the newsletter's cadence.
            "AND edition_id NOT LIKE ?",
            (subscriber_id, subscriber_id, FAILED, subscriber_id, *CLAIMED_STATES,
             f"{REPLY_PREFIX}%"))
        delivered, refused, last = set(), set(), None
        for kind, value in rows:
            if kind == "article":
                delivered.add(value)
            elif kind == "refused":
                refused.add(value)
            else:
                last = from_text(value)
        return SendHistory(delivered, refused, last)

    def release_delivery(self, edition_id: str, subscriber_id: int) -> None:
        """Forget a journal entry so that its message can be sent again (on request)."""
        with self.transaction():
            self.execute("DELETE FROM delivered_articles WHERE edition_id = ? AND "
                         "subscriber_id = ?", (edition_id, subscriber_id))
            self.execute("DELETE FROM deliveries WHERE edition_id = ? AND subscriber_id = ?",
                         (edition_id, subscriber_id))

    def deliveries(self, states) -> list[Delivery]:
        rows = self.all(
            "SELECT d.edition_id, d.subscriber_id, p.email, d.state, d.started_at, "
            "d.message_id, d.error FROM deliveries d JOIN subscribers p "
            "ON p.id = d.subscriber_id WHERE d.state IN "
            f"({', '.join('?' * len(states))}) ORDER BY d.started_at", tuple(states))
        return [Delivery(row[0], row[1], row[2], row[3], from_text(row[4]), row[5], row[6])
                for row in rows]

    def mark_uncertain(self) -> int:
        """Turn deliveries left "sending" by a crashed sender into "uncertain"."""
        return self.execute("UPDATE deliveries SET state = ? WHERE state = ?",
                            (UNCERTAIN, SENDING)).rowcount

    @contextlib.contextmanager
    def sender_lock(self):
        """Hold the one sender slot of this database for as long as the block runs.

        The lock dies with its process (a file lock for SQLite, a session advisory
        lock for PostgreSQL), so a killed sender never blocks the next run.
        """
        if self.dialect == "sqlite":
            lock_path = sqlite_path(self.url).with_suffix(".sender-lock")
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            with open(lock_path, "a") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError as error:
                    raise SenderBusy(f"another newsletter sender is running on "
                                     f"{redact(self.url)}; wait for it to finish") from error
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
            return
        import psycopg

        # A connection of its own: the lock must outlive the work connection's commits.
        with psycopg.connect(self.url, autocommit=True) as connection:
            held = connection.execute("SELECT pg_try_advisory_lock(hashtext('adviesblog-"
                                      "sender'))").fetchone()[0]
            if not held:
                raise SenderBusy(f"another newsletter sender is running on "
                                 f"{redact(self.url)}; wait for it to finish")
            try:
                yield
            finally:
                # Unlocked here, not by closing the connection: the server ends a closed
                # session a moment later, and a sender started right after this one would
                # still find the lock taken.
                with contextlib.suppress(psycopg.Error):
                    connection.execute("SELECT pg_advisory_unlock(hashtext('adviesblog-"
                                       "sender'))")

    # --- reactions ------------------------------------------------------------------

    def add_reaction(self, reaction: NewReaction, now: datetime.datetime,
                     moderator_mails=(), notify: "NotifyRequest | None" = None) -> bool:
        """Store a reaction awaiting moderation with its mails, all in one transaction.

        ``moderator_mails`` are (recipient, message); ``notify`` is the commenter's request
        for reply notifications, stored as the subscription ``reply:<id>`` awaiting
        confirmation. False when the form's nonce was used before (a replayed form):
        nothing is stored then.
        """
        try:
            with self.transaction():
                inserted = self.one(
                    "INSERT INTO reactions (id, article, parent, author, author_url, text, "
                    "html, status, created_at, consent_version, consent_text, ip_hash, "
                    "user_agent_hash, form_nonce, service_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                    "?, ?, ?, ?, ?, ?, ?) ON CONFLICT (form_nonce) DO NOTHING RETURNING 1",
                    (reaction.id, reaction.article, reaction.parent, reaction.author,
                     reaction.author_url, reaction.text, reaction.html, AWAITING, to_text(now),
                     reaction.consent_version, reaction.consent_text, reaction.ip_hash,
                     reaction.user_agent_hash, reaction.form_nonce, reaction.service_url))
                if inserted is None or self.form_used(reaction.form_nonce):
                    raise _Duplicate()
                # Kept apart from the reaction, which rejecting or erasing removes.
                self.add_event(USED_FORM, reaction.form_nonce, now)
                if notify is not None:
                    subscriber_id = self._request(
                        notify.email, REPLY_PREFIX + reaction.id, notify.consent_version,
                        notify.consent_text, reaction.ip_hash, reaction.user_agent_hash,
                        notify.token_hash, notify.expires_at, now,
                        notify.new_unsubscribe_token, "reaction")
                    self.execute("UPDATE reactions SET notify_subscriber_id = ? WHERE id = ?",
                                 (subscriber_id, reaction.id))
                    self.queue_mail("confirm", notify.email, notify.confirmation_mail, now)
                for recipient, message in moderator_mails:
                    self.queue_mail("moderation", recipient, message, now)
        except _Duplicate:
            return False
        return True

    _REACTION_COLUMNS = (
        "r.id, r.article, r.parent, r.author, r.author_url, r.text, r.html, r.status, "
        "r.created_at, r.decided_at, s.state, r.file, r.service_url FROM reactions r "
        "LEFT JOIN subscriptions s ON s.subscriber_id = r.notify_subscriber_id "
        f"AND s.scope = '{REPLY_PREFIX}' || r.id")

    @staticmethod
    def _reaction(row) -> Reaction:
        return Reaction(row[0], row[1], row[2] or "", row[3], row[4] or "", row[5] or "",
                        row[6] or "", row[7], from_text(row[8]), from_text(row[9]),
                        row[10] or "", row[11] or "", row[12] or "")

    def reaction(self, reaction_id: str) -> Reaction | None:
        row = self.one(f"SELECT {self._REACTION_COLUMNS} WHERE r.id = ?", (reaction_id,))
        return self._reaction(row) if row else None

    def reactions(self, status: str | None = None) -> list[Reaction]:
        """Reactions with ``status`` (every one when None), oldest first."""
        where, parameters = ("WHERE r.status = ?", (status,)) if status else ("", ())
        return [self._reaction(row) for row in self.all(
            f"SELECT {self._REACTION_COLUMNS} {where} ORDER BY r.created_at, r.id", parameters)]

    def form_used(self, nonce_hash: str) -> bool:
        """Whether a reaction form was posted before (also when its reaction is gone)."""
        return self.one("SELECT 1 FROM events WHERE kind = ? AND key_hash = ?",
                        (USED_FORM, nonce_hash)) is not None

    def reaction_known(self, article: str, reaction_id: str) -> bool:
        """Whether ``reaction_id`` is an approved reaction on ``article`` (perhaps not built yet)."""
        return self.one("SELECT 1 FROM reactions WHERE id = ? AND article = ? AND status = ?",
                        (reaction_id, article, APPROVED)) is not None

    def reply_watcher(self, reaction_id: str, reply_id: str) -> Subscriber | None:
        """Who confirmed they want to hear of replies to ``reaction_id``, if anyone.

        Nobody is told of their own reply: one whose writer confirmed the same address.
        An address typed into a reply but never confirmed proves nothing, so it cannot
        silence someone else's notifications.
        """
        row = self.one(
            "SELECT p.id, p.email, p.unsubscribe_token FROM reactions r "
            "JOIN subscribers p ON p.id = r.notify_subscriber_id "
            "JOIN subscriptions s ON s.subscriber_id = p.id AND s.scope = ? "
            "WHERE r.id = ? AND r.status = ? AND s.state = ? AND NOT EXISTS ("
            "SELECT 1 FROM subscriptions own WHERE own.subscriber_id = p.id "
            "AND own.scope = ? AND own.state = ?)",
            (REPLY_PREFIX + reaction_id, reaction_id, APPROVED, CONFIRMED,
             REPLY_PREFIX + reply_id, CONFIRMED))
        return Subscriber(*row) if row else None

    def approve_reaction(self, reaction_id: str, file: str, now: datetime.datetime) -> bool:
        """Mark a pending reaction approved; False when it is no longer pending."""
        return self.execute(
            "UPDATE reactions SET status = ?, decided_at = ?, file = ? WHERE id = ? AND status = ?",
            (APPROVED, to_text(now), file, reaction_id, AWAITING)).rowcount == 1

    def queue_notifications(self, reaction_id: str, notifications,
                            now: datetime.datetime) -> int:
        """Queue the reply notifications of an approved reaction; return how many are new.

        ``notifications`` are (subscriber, message). Each goes into the journal as
        ``reply:<reaction id>`` for its subscriber, and is queued in the same transaction
        only if it was not there yet: approving again (or twice at once) never mails
        anyone twice.
        """
        queued = 0
        with self.transaction():
            edition_id = REPLY_PREFIX + reaction_id
            for subscriber, message in notifications:
                journaled = self.one(
                    "INSERT INTO deliveries (edition_id, subscriber_id, state, started_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (edition_id, subscriber_id) DO NOTHING "
                    "RETURNING 1", (edition_id, subscriber.id, QUEUED, to_text(now)))
                if journaled is not None:
                    self.queue_mail("notification", subscriber.email, message, now,
                                    edition_id=edition_id)
                    queued += 1
        return queued

    def decline_reaction(self, reaction_id: str, status: str, now: datetime.datetime) -> bool:
        """Reject a pending reaction, or mark it spam: its text and its commenter are forgotten.

        Only the id, the article, the status and the times stay, for the moderator's counts.
        """
        with self.transaction():
            subscriber = self.one("SELECT notify_subscriber_id FROM reactions WHERE id = ? "
                                  "AND status = ?", (reaction_id, AWAITING))
            if subscriber is None:
                return False
            self.execute(
                f"UPDATE reactions SET status = ?, decided_at = ?, author = '', author_url = NULL, "
                f"{FORGET_WRITER} WHERE id = ?", (status, to_text(now), reaction_id))
            self._end_notifications(reaction_id, subscriber[0])
        return True

    def stop_notifications(self, reaction_id: str) -> bool:
        """End the reply notifications of ``reaction_id``; False if none were on."""
        with self.transaction():
            row = self.one("SELECT notify_subscriber_id FROM reactions WHERE id = ?",
                           (reaction_id,))
            if row is None or row[0] is None:
                return False
            self.execute("UPDATE reactions SET notify_subscriber_id = NULL WHERE id = ?",
                         (reaction_id,))
            self._end_notifications(reaction_id, row[0])
        return True

    def _end_notifications(self, reaction_id: str, subscriber_id: int | None) -> None:
        """Drop the ``reply:`` subscription, and the address once nothing else needs it."""
        if subscriber_id is None:
            return
        self.execute("DELETE FROM subscriptions WHERE subscriber_id = ? AND scope = ?",
                     (subscriber_id, REPLY_PREFIX + reaction_id))
        self.execute(
            "DELETE FROM subscribers WHERE id = ? AND NOT EXISTS (SELECT 1 FROM subscriptions "
            "WHERE subscriber_id = ?)", (subscriber_id, subscriber_id))

    def reaction_counts(self) -> dict[str, int]:
        return dict(self.all("SELECT status, COUNT(*) FROM reactions GROUP BY status"))

    # --- administration --------------------------------------------------------------

    def subscription_records(self) -> Iterator[SubscriptionRecord]:
        after = ("", "")
        while True:
            rows = self.all(
                "SELECT p.email, s.scope, s.state, s.consent_version, s.consent_text, "
                "s.consented_at, s.confirmed_at, s.unsubscribed_at, s.ip_hash, "
                "s.user_agent_hash, s.source, p.legacy FROM subscriptions s "
                "JOIN subscribers p ON p.id = s.subscriber_id "
                "WHERE p.email > ? OR (p.email = ? AND s.scope > ?) "
                "ORDER BY p.email, s.scope LIMIT ?", (after[0], after[0], after[1], PAGE_SIZE))
            if not rows:
                return
            for row in rows:
                yield SubscriptionRecord(row[0], row[1], row[2], row[3], row[4],
                                         from_text(row[5]), from_text(row[6]),
                                         from_text(row[7]), row[8], row[9], row[10],
                                         bool(row[11]))
            after = (rows[-1][0], rows[-1][1])

    def stats(self) -> dict:
        counts = {f"subscriptions_{state}": 0 for state in (PENDING, CONFIRMED, UNSUBSCRIBED)}
        for state, count in self.all("SELECT state, COUNT(*) FROM subscriptions GROUP BY state"):
            counts[f"subscriptions_{state}"] = count
        counts["subscribers"] = self.one("SELECT COUNT(*) FROM subscribers")[0]
        counts["subscribers_confirmed"] = self.one(
            "SELECT COUNT(DISTINCT subscriber_id) FROM subscriptions WHERE state = ?",
            (CONFIRMED,))[0]
        for state, count in self.all("SELECT state, COUNT(*) FROM deliveries GROUP BY state"):
            counts[f"deliveries_{state}"] = count
        counts["outbox"] = self.one("SELECT COUNT(*) FROM outbox")[0]
        row = self.one("SELECT value FROM counters WHERE name = ?", (ERASED_COUNTER,))
        counts["erased"] = row[0] if row else 0
        return counts

    def import_subscriptions(self, records, new_unsubscribe_token, now: datetime.datetime,
                             dry_run: bool = False) -> int:
        """Add imported subscriptions in one transaction; return how many were new.

        ``new_unsubscribe_token()`` gives the token of an address not yet known. An address
        that already has a scope keeps it unchanged, so running an import again adds
        nothing. With ``dry_run`` the transaction is rolled back: the count is what a real
        run would add.
        """
        added = 0
        try:
            with self.transaction():
                for record in records:
                    added += self._add_imported(record, new_unsubscribe_token(), now)
                if dry_run:
                    raise _RolledBack()
        except _RolledBack:
            pass
        return added

    def _add_imported(self, record, new_unsubscribe_token, now) -> bool:
        subscriber_id = self._subscriber_id(record.email, new_unsubscribe_token, now,
                                            legacy=record.legacy)
        inserted = self.one(
            "INSERT INTO subscriptions (subscriber_id, scope, state, consent_version, "
            "consent_text, consented_at, confirmed_at, unsubscribed_at, ip_hash, "
            "user_agent_hash, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (subscriber_id, scope) DO NOTHING RETURNING 1",
            (subscriber_id, record.scope, record.state, record.consent_version,
             record.consent_text, record.consented_at and to_text(record.consented_at),
             record.confirmed_at and to_text(record.confirmed_at),
             record.unsubscribed_at and to_text(record.unsubscribed_at), record.ip_hash,
             record.user_agent_hash, record.source))
        return inserted is not None

    def subscription_counts_by_scope(self) -> dict[str, dict[str, int]]:
        """{scope: {state: number of subscriptions}}."""
        counts: dict[str, dict[str, int]] = {}
        for scope, state, count in self.all(
                "SELECT scope, state, COUNT(*) FROM subscriptions GROUP BY scope, state"):
            counts.setdefault(scope, {})[state] = count
        return counts

    def matching_addresses(self, address: str) -> list[str]:
        """Stored addresses (subscribers, outbox) equal to ``address`` but for letter case."""
        rows = self.all(
            "SELECT email FROM subscribers WHERE lower(email) = lower(CAST(? AS TEXT)) "
            "UNION SELECT recipient FROM outbox "
            "WHERE lower(recipient) = lower(CAST(? AS TEXT)) ORDER BY 1", (address, address))
        return [row[0] for row in rows]

    def personal_data(self, email: str) -> dict[str, int]:
        """How many rows each table holds about this exact address: what erase removes."""
        subscriber = self.subscriber_by_email(email)
        held = {"subscriber": int(subscriber is not None)}
        for table in ("subscriptions", "deliveries", "delivered_articles"):
            held[table] = self.one(f"SELECT COUNT(*) FROM {table} WHERE subscriber_id = ?",
                                   (subscriber.id if subscriber else -1,))[0]
        held["outbox"] = self.one("SELECT COUNT(*) FROM outbox WHERE recipient = ?", (email,))[0]
        held["reactions"] = self.one("SELECT COUNT(*) FROM reactions WHERE notify_subscriber_id "
                                     "= ?", (subscriber.id if subscriber else -1,))[0]
        return held

    def published_reactions_of(self, email: str) -> list[Reaction]:
        """Approved reactions whose writer confirmed this address for notifications.

        Only a confirmed address proves who wrote a reaction; reactions without one
        (or whose notifications were stopped) cannot be linked to a person at all.
        """
        subscriber = self.subscriber_by_email(email)
        if subscriber is None:
            return []
        return [self._reaction(row) for row in self.all(
            f"SELECT {self._REACTION_COLUMNS} WHERE r.notify_subscriber_id = ? AND r.status = ? "
            "AND s.state = ? ORDER BY r.created_at", (subscriber.id, APPROVED, CONFIRMED))]

    def erase(self, email: str) -> bool:
        """Remove a person completely (AVG art. 17); only a count of erasures stays."""
        with self.transaction():
            subscriber = self.subscriber_by_email(email)
            self.execute("DELETE FROM outbox WHERE recipient = ?", (email,))
            if subscriber is None:
                return False
            for table in ("delivered_articles", "deliveries", "subscriptions"):
                self.execute(f"DELETE FROM {table} WHERE subscriber_id = ?", (subscriber.id,))
            # A commenter's reactions awaiting moderation go too; of a published one the
            # file in content/ is the public record, and the database keeps no text of it.
            self.execute("DELETE FROM reactions WHERE notify_subscriber_id = ? AND status <> ?",
                         (subscriber.id, APPROVED))
            self.execute(f"UPDATE reactions SET {FORGET_WRITER} WHERE notify_subscriber_id = ?",
                         (subscriber.id,))
            self.execute("DELETE FROM subscribers WHERE id = ?", (subscriber.id,))
            self.execute(
                "INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT (name) "
                "DO UPDATE SET value = counters.value + 1", (ERASED_COUNTER,))
        if self.dialect == "sqlite":
            # The write-ahead log still holds the erased rows until it is checkpointed.
            self.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return True


class _Duplicate(Exception):
    """Raised inside begin_delivery to roll its transaction back."""


class _RolledBack(Exception):
    """Raised inside a dry-run import to roll its transaction back."""


def open_store(url: str, create: bool = True) -> Store:
    """A store whose schema is up to date, ready for use.

    ``create=False`` is for the commands that only read or send (``invoke newsletter``,
    ``invoke subscribers``): a database that does not exist yet means a wrong URL or
    data folder, and sending to the nobody in a new empty one would hide that.
    """
    store = Store(url)
    try:
        if not create and not store.exists():
            raise StoreError(
                f"{redact(url)}: there is no subscriber database here yet. The follow service "
                "makes it when it starts; check $ADVIESBLOG_DATABASE_URL or SERVICE_DATA_PATH, "
                "and the folder the command runs in")
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store


def data_folder(path: Path) -> Path:
    """Make the data folder, readable by its owner only: it holds addresses and keys."""
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)
    return path
