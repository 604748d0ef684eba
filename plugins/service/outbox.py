"""The outbox worker: sends single mails (confirmation links, moderation, reply notifications).

The web app only queues a mail (``Store.queue_mail``), in the same transaction as the
sign-up, so a request never waits for an SMTP server and takes as long for a known
address as for a new one. This worker sends what is due:

- each mail is claimed before it is sent (``Store.claim_mail``: one UPDATE moves it
  out of reach for a lease), so two service processes never send the same mail;
- a temporary failure is tried again later, with a back-off from a minute up to an
  hour, for a day; then the mail is dropped and logged (its link would have expired
  by the time it arrived anyway);
- a permanent refusal (5xx) drops the mail at once; an uncertain delivery (the
  connection was lost after the whole message went out) counts as sent, as the
  server almost always has it, and the reader can ask for a new link;
- just before the final "." the mail is marked in flight, so a sender that dies
  right then never sends it a second time (a reply notification goes out at most
  once; its journal entry says "uncertain").

Run it as a daemon thread beside the web app (``start_outbox_worker``) or once
(``send_due_mails``).
"""

import dataclasses
import datetime
import threading
import time
from collections.abc import Callable

from .config import ServiceConfig
from .logs import service_logger
from .mailer import (
    PermanentFailure,
    SmtpSession,
    SmtpSetupError,
    TemporaryFailure,
    UncertainDelivery,
)
from .store import UNKNOWN_ADDRESS, Store, StoreError, utcnow

logger = service_logger(__name__)

BATCH_SIZE = 50
# Longer than one send can take, so a slow send is not taken over by another process.
LEASE = datetime.timedelta(minutes=10)
FIRST_RETRY = datetime.timedelta(minutes=1)
LONGEST_RETRY = datetime.timedelta(hours=1)
GIVE_UP_AFTER = datetime.timedelta(days=1)
POLL_SECONDS = 2.0
# How soon the worker notices that its stop event was set.
STOP_CHECK_SECONDS = 0.5
# After the SMTP server failed, the worker rests this long before it tries any mail.
REST_AFTER_FAILURE_SECONDS = 30.0
# Rate-limit events older than this are no longer counted (the window is one hour).
EVENTS_KEPT = datetime.timedelta(hours=2)
PRUNE_EVERY = datetime.timedelta(minutes=10)
# A sign-up never confirmed is forgotten this long after its link expired.
UNCONFIRMED_KEPT = datetime.timedelta(days=1)
# The outbox retries by itself: one quick retry in the session, not minutes of them.
SESSION_RETRIES = 1


def retry_delay(attempts: int) -> datetime.timedelta:
    """The wait after the ``attempts + 1``-th failed attempt: doubling, at most an hour."""
    return min(FIRST_RETRY * 2 ** min(attempts, 16), LONGEST_RETRY)


def next_attempt_at(attempts: int, now: datetime.datetime) -> datetime.datetime | None:
    """When to try a mail again after ``attempts`` earlier failures and this one; None: give up.

    The time since the first attempt follows from the number of attempts, so the
    outbox needs no extra column to know when a day has passed.
    """
    waited = sum((retry_delay(number) for number in range(attempts + 1)), datetime.timedelta())
    if waited > GIVE_UP_AFTER:
        return None
    return now + retry_delay(attempts)


def session_settings(config: ServiceConfig):
    return dataclasses.replace(config.smtp, retries=min(config.smtp.retries, SESSION_RETRIES))


def send_due_mails(config: ServiceConfig, store: Store,
                   now: datetime.datetime | None = None) -> int:
    """Send every mail that is due at ``now``; return how many went out.

    SMTP trouble is recorded per mail (see the module docstring); a database that
    fails raises ``StoreError``.
    """
    return send_round(config, store, now or utcnow())[0]


def send_round(config: ServiceConfig, store: Store,
               now: datetime.datetime) -> tuple[int, str | None]:
    """Send the due mails: how many went out, and why the SMTP server failed, if it did."""
    sent = 0
    failure = None
    with SmtpSession(session_settings(config)) as session:
        for mail in store.due_mails(now, BATCH_SIZE):
            if not store.claim_mail(mail.id, now, now + LEASE):
                continue  # another process is sending it
            if mail.kind == UNKNOWN_ADDRESS:
                store.mail_sent(mail)  # written only to make the web answer take as long
                continue
            if failure is not None:
                # The server just failed; the rest of the batch waits its turn too.
                store.mail_failed(mail, next_attempt_at(mail.attempts, now), failure)
                continue
            try:
                session.send(config.envelope_from, mail.recipient, mail.message,
                             before_commit=lambda mail_id=mail.id: store.mail_in_flight(
                                 mail_id, now))
            except PermanentFailure as error:
                logger.error("service: outbox %s mail %d refused by the SMTP server, dropped: "
                             "%s", mail.kind, mail.id, error)
                store.mail_failed(mail, None, str(error))
                continue
            except (TemporaryFailure, SmtpSetupError) as error:
                failure = str(error)
                retry = next_attempt_at(mail.attempts, now)
                logger.warning("service: outbox %s mail %d not sent (%s); %s", mail.kind,
                               mail.id, error, f"next attempt at {retry:%Y-%m-%d %H:%M} UTC"
                               if retry else "giving up")
                store.mail_failed(mail, retry, failure)
                continue
            except UncertainDelivery as error:
                logger.warning("service: outbox %s mail %d may or may not have been "
                               "delivered; not sent again: %s", mail.kind, mail.id, error)
            store.mail_sent(mail)
            sent += 1
    return sent, failure


class OutboxWorker(threading.Thread):
    """A daemon thread that sends due mails until ``stop_event`` is set.

    It looks for due mails every POLL_SECONDS, and at once when ``wake`` is called
    (the web app does so when it queues a mail).
    """

    def __init__(self, config: ServiceConfig, store: Store, stop_event: threading.Event,
                 clock: Callable[[], datetime.datetime] = utcnow,
                 poll_seconds: float = POLL_SECONDS):
        super().__init__(name="adviesblog-outbox", daemon=True)
        self.config = config
        self.store = store
        self.stop_event = stop_event
        self.clock = clock
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._pruned_at: datetime.datetime | None = None

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self.stop_event.set()
        self._wake.set()

    def run(self) -> None:
        while not self.stop_event.is_set():
            pause = self.poll_seconds
            try:
                if not self.round():
                    pause = REST_AFTER_FAILURE_SECONDS
            except StoreError as error:
                logger.error("service: outbox worker: %s", error)
                pause = REST_AFTER_FAILURE_SECONDS
            except Exception:
                # The worker must outlive any one bad mail; the traceback is for the operator.
                logger.exception("service: outbox worker failed; trying again")
                pause = REST_AFTER_FAILURE_SECONDS
            self.pause(pause)

    def pause(self, seconds: float) -> None:
        """Wait until woken, stopped, or ``seconds`` have passed."""
        deadline = time.monotonic() + seconds
        while not self.stop_event.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._wake.wait(min(remaining, STOP_CHECK_SECONDS)):
                break
        self._wake.clear()

    def round(self) -> bool:
        """Send what is due; False when the SMTP server failed."""
        now = self.clock()
        if self._pruned_at is None or now - self._pruned_at > PRUNE_EVERY:
            self.store.prune_events(now - EVENTS_KEPT)
            self.store.prune_unconfirmed(now - UNCONFIRMED_KEPT)
            self.store.drop_stale_in_flight(now - LEASE)
            self._pruned_at = now
        sent, failure = send_round(self.config, self.store, now)
        if sent:
            logger.info("service: outbox sent %d mail%s", sent, "" if sent == 1 else "s")
        return failure is None


def start_outbox_worker(config: ServiceConfig, store: Store, stop_event: threading.Event,
                        **options) -> OutboxWorker:
    """Start the outbox worker as a daemon thread; set ``stop_event`` (or call stop) to end it."""
    worker = OutboxWorker(config, store, stop_event, **options)
    worker.start()
    return worker
